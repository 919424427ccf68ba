#include "mailsec/checks/mx.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <optional>

#include "checks/text_util.h"
#include "mailsec/base/text.h"

namespace mailsec::checks {
namespace {

using Dnssec = MxHostInput::Dnssec;
using internal::Quote;

// Longest address text worth handing to inet_pton: a full IPv6 with an embedded IPv4 is 45
// characters; anything longer is not an address.
constexpr size_t kMaxAddressText = 64;

// Rank for "the worst of several": a definite problem outranks "could not evaluate".
int Rank(CheckVerdict v) {
  switch (v) {
    case CheckVerdict::kPass:
      return 0;
    case CheckVerdict::kError:
      return 1;
    case CheckVerdict::kWarn:
      return 2;
    case CheckVerdict::kFail:
      return 3;
  }
  return 0;
}

// Collects per-item outcomes into one finding: the worst verdict, with the detail of the first
// item that had it.
class Worst {
 public:
  void Add(CheckVerdict v, std::string detail) {
    ++count_;
    if (!detail_ || Rank(v) > Rank(verdict_)) {
      verdict_ = v;
      detail_ = std::move(detail);
    }
  }
  bool empty() const { return count_ == 0; }
  // Appends the finding, with `pass_detail` when everything passed.
  void Emit(std::string_view id, std::string pass_detail, std::vector<Finding>* out) const {
    if (empty()) return;
    out->push_back(
        Finding{id, verdict_, verdict_ == CheckVerdict::kPass ? std::move(pass_detail) : *detail_});
  }

 private:
  size_t count_ = 0;
  CheckVerdict verdict_ = CheckVerdict::kPass;
  std::optional<std::string> detail_;
};

struct Ip {
  bool v6 = false;
  std::array<unsigned char, 16> b{};  // IPv4 uses the first 4 bytes
};

std::optional<Ip> ParseIp(std::string_view text) {
  if (text.empty() || text.size() > kMaxAddressText) return std::nullopt;
  std::string s(text);  // inet_pton wants a terminated string
  Ip ip;
  if (inet_pton(AF_INET, s.c_str(), ip.b.data()) == 1) return ip;
  if (inet_pton(AF_INET6, s.c_str(), ip.b.data()) == 1) {
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

bool UnroutableV4(const unsigned char* a) {
  return a[0] == 0 ||                                   // "this network" (RFC 791)
         a[0] == 127 ||                                 // loopback
         a[0] == 10 ||                                  // RFC 1918
         (a[0] == 172 && (a[1] & 0xf0) == 16) ||        // RFC 1918
         (a[0] == 192 && a[1] == 168) ||                // RFC 1918
         (a[0] == 100 && (a[1] & 0xc0) == 64) ||        // shared, RFC 6598
         (a[0] == 169 && a[1] == 254) ||                // link-local
         (a[0] == 192 && a[1] == 0 && a[2] == 2) ||     // TEST-NET-1
         (a[0] == 198 && a[1] == 51 && a[2] == 100) ||  // TEST-NET-2
         (a[0] == 203 && a[1] == 0 && a[2] == 113);     // TEST-NET-3
}

bool UnroutableV6(const std::array<unsigned char, 16>& b) {
  bool zero10 = std::all_of(b.begin(), b.begin() + 10, [](unsigned char c) { return c == 0; });
  if (zero10 && b[10] == 0xff && b[11] == 0xff) return UnroutableV4(b.data() + 12);  // mapped
  bool zero15 = std::all_of(b.begin(), b.begin() + 15, [](unsigned char c) { return c == 0; });
  if (zero15 && (b[15] == 0 || b[15] == 1)) return true;   // :: and ::1
  if ((b[0] & 0xfe) == 0xfc) return true;                  // ULA fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // link-local fe80::/10
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return true;  // 2001:db8::/32
  if (b[0] == 0x3f && (b[1] & 0xf0) == 0xf0) return true;  // 3fff::/20 (RFC 9637)
  return false;
}

// "" and "." are how a null MX exchange reaches us.
bool IsDotTarget(std::string_view name) { return name.empty() || name == "."; }

std::string Normalize(std::string_view name) { return internal::NormalizeName(TrimSpace(name)); }

std::string_view DnssecName(Dnssec d) {
  switch (d) {
    case Dnssec::kSecure:
      return "secure";
    case Dnssec::kInsecure:
      return "insecure";
    case Dnssec::kBogus:
      return "bogus";
    case Dnssec::kUnknown:
      return "unknown";
  }
  return "unknown";
}

// DNSSEC-01 / -03 for one zone state.
CheckVerdict SignedVerdict(Dnssec d) {
  switch (d) {
    case Dnssec::kSecure:
    case Dnssec::kBogus:  // signed but broken: graded by the "valid" check
      return CheckVerdict::kPass;
    case Dnssec::kInsecure:
      return CheckVerdict::kFail;
    case Dnssec::kUnknown:
      return CheckVerdict::kError;
  }
  return CheckVerdict::kError;
}

// DNSSEC-02 / -04 for one zone state; nullopt when unsigned (not applicable).
std::optional<CheckVerdict> ValidVerdict(Dnssec d) {
  switch (d) {
    case Dnssec::kSecure:
      return CheckVerdict::kPass;
    case Dnssec::kBogus:
      return CheckVerdict::kFail;
    case Dnssec::kInsecure:
      return std::nullopt;
    case Dnssec::kUnknown:
      return CheckVerdict::kError;
  }
  return CheckVerdict::kError;
}

void AssessDomainDnssec(const std::string& domain, Dnssec d, std::vector<Finding>* out) {
  const std::string state = domain + " is " + std::string(DnssecName(d));
  out->push_back(Finding{
      kDnssecSignedCheck, SignedVerdict(d),
      d == Dnssec::kUnknown ? "DNSSEC state of " + domain + " unknown (lookup failed)" : state});
  if (std::optional<CheckVerdict> v = ValidVerdict(d)) {
    out->push_back(Finding{
        kDnssecValidCheck, *v,
        d == Dnssec::kUnknown ? "DNSSEC state of " + domain + " unknown (lookup failed)" : state});
  }
}

void AssessPtrs(const std::vector<PtrInput>& ptrs, std::vector<Finding>* out) {
  Worst present, fcrdns;
  for (const PtrInput& p : ptrs) {
    const std::string who = p.ip + (p.host.empty() ? "" : " (" + p.host + ")");
    if (LookupFailed(p.ptr_status)) {
      present.Add(CheckVerdict::kError, "PTR lookup for " + who + " failed");
      fcrdns.Add(CheckVerdict::kError, "PTR lookup for " + who + " failed");
      continue;
    }
    if (p.ptr_status != LookupStatus::kOk || p.ptr_names.empty()) {
      present.Add(CheckVerdict::kWarn, "no PTR record for " + who);
      continue;  // nothing to confirm: ptr_present reports it
    }
    present.Add(CheckVerdict::kPass, "");
    if (p.forward_confirmed) {
      fcrdns.Add(CheckVerdict::kPass, "");
    } else {
      fcrdns.Add(CheckVerdict::kWarn, "PTR of " + who + " is " + Quote(p.ptr_names.front()) +
                                          ", whose A/AAAA records do not include " + p.ip);
    }
  }
  present.Emit(kPtrPresentCheck, "every MX address has a PTR record", out);
  fcrdns.Emit(kFcrdnsCheck, "every PTR name resolves back to its MX address", out);
}

}  // namespace

bool IsNullMx(std::string_view exchange, uint16_t preference) {
  return preference == 0 && IsDotTarget(exchange);
}

bool IsLocalhostName(std::string_view name) {
  std::string n = Normalize(name);
  constexpr std::string_view kLocal = "localhost";
  return n == kLocal || (n.size() > kLocal.size() + 1 && n.ends_with(".localhost"));
}

bool IsIpLiteral(std::string_view name) {
  name = TrimSpace(name);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // "192.0.2.1." from a zone
  return ParseIp(name).has_value();
}

std::string ReverseName(std::string_view ip) {
  std::optional<Ip> a = ParseIp(ip);
  if (!a) return "";
  std::string out;
  if (!a->v6) {
    for (int i = 3; i >= 0; --i) out += std::to_string(a->b[i]) + ".";
    return out + "in-addr.arpa";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out += kHex[a->b[i] & 0x0f];
    out += '.';
    out += kHex[a->b[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

bool IsUnroutable(std::string_view ip) {
  std::optional<Ip> a = ParseIp(ip);
  if (!a) return false;
  return a->v6 ? UnroutableV6(a->b) : UnroutableV4(a->b.data());
}

MxAssessment AssessMx(const MxInputs& in) {
  MxAssessment out;
  std::vector<Finding>& f = out.findings;
  const std::string domain = Normalize(in.domain);

  // MX-01 (part): the lookup itself.
  if (LookupFailed(in.mx_status)) {
    f.push_back(
        Finding{kMxPresentCheck, CheckVerdict::kError, "MX lookup for " + domain + " failed"});
    AssessDomainDnssec(domain, in.domain_dnssec, &f);
    return out;
  }
  const std::vector<MxHostInput> none;
  const std::vector<MxHostInput>& mx = in.mx_status == LookupStatus::kOk ? in.mx : none;

  // Sort the records out: null MX, unusable exchanges, the rest.
  std::vector<const MxHostInput*> dots, real;  // real: every exchange but "."
  for (const MxHostInput& h : mx) (IsDotTarget(TrimSpace(h.name)) ? dots : real).push_back(&h);
  std::vector<const MxHostInput*> usable;  // what senders can deliver to
  for (const MxHostInput* h : real) {
    if (!IsLocalhostName(h->name) && !IsIpLiteral(h->name)) usable.push_back(h);
  }
  std::stable_sort(usable.begin(), usable.end(), [](const MxHostInput* a, const MxHostInput* b) {
    return a->preference < b->preference;
  });
  std::vector<const MxHostInput*> unique_usable;  // first (lowest preference) record per name
  for (const MxHostInput* h : usable) {
    std::string n = Normalize(h->name);
    if (std::find(out.hosts.begin(), out.hosts.end(), n) != out.hosts.end()) continue;
    out.hosts.push_back(std::move(n));
    unique_usable.push_back(h);
  }

  // MX-02: null MX.
  if (!dots.empty()) {
    auto bad_pref = std::find_if(dots.begin(), dots.end(),
                                 [](const MxHostInput* h) { return h->preference != 0; });
    if (!real.empty()) {
      f.push_back(Finding{
          kNullMxCheck, CheckVerdict::kFail,
          "null MX next to " + std::to_string(real.size()) + " other MX record(s) (RFC 7505 §3)"});
    } else if (bad_pref != dots.end()) {
      out.null_mx = true;  // still no host to deliver to
      f.push_back(Finding{kNullMxCheck, CheckVerdict::kFail,
                          "null MX with preference " + std::to_string((*bad_pref)->preference) +
                              ", must be 0 (RFC 7505 §3)"});
    } else {
      out.null_mx = true;
      std::string detail = domain + " accepts no mail (RFC 7505)";
      if (in.apex_address_status == LookupStatus::kNxDomain ||
          in.apex_address_status == LookupStatus::kNoData ||
          (in.apex_address_status == LookupStatus::kOk && !in.apex_has_address)) {
        detail += "; unnecessary on a name without A/AAAA";  // INFO in CHECKS.md
      }
      f.push_back(Finding{kNullMxCheck, CheckVerdict::kPass, std::move(detail)});
    }
  }

  // MX-01: presence.
  if (!real.empty()) {
    if (!usable.empty()) {
      f.push_back(
          Finding{kMxPresentCheck, CheckVerdict::kPass,
                  std::to_string(out.hosts.size()) + " MX host(s), first " + out.hosts.front()});
    } else {
      f.push_back(Finding{kMxPresentCheck, CheckVerdict::kWarn,
                          "no usable MX: every exchange is localhost or an IP literal"});
    }
  } else if (dots.empty()) {
    if (LookupFailed(in.apex_address_status)) {
      f.push_back(Finding{kMxPresentCheck, CheckVerdict::kError,
                          "no MX for " + domain + " and its A/AAAA lookup failed"});
    } else if (in.apex_address_status == LookupStatus::kOk && in.apex_has_address) {
      out.implicit_mx = true;
      out.hosts.push_back(domain);
      f.push_back(Finding{kMxPresentCheck, CheckVerdict::kWarn,
                          "no MX: senders fall back to the A/AAAA of " + domain +
                              " (implicit MX, RFC 5321 §5.1); publish an MX or a null MX"});
    }
    // Neither MX nor A/AAAA: the domain receives no mail (INFO), no finding.
  }

  if (!real.empty()) {
    // MX-03: each exchange resolves to addresses, by name.
    Worst resolves;
    for (const MxHostInput* h : real) {
      const std::string n = Normalize(h->name);
      if (IsIpLiteral(h->name)) {
        resolves.Add(CheckVerdict::kFail, "MX target " + Quote(n) +
                                              " is an IP literal, not a host name (RFC 5321 §5.1)");
      } else if (h->addresses.empty() &&
                 (LookupFailed(h->a_status) || LookupFailed(h->aaaa_status))) {
        resolves.Add(CheckVerdict::kError, "address lookup for " + n + " failed");
      } else if (h->addresses.empty()) {
        resolves.Add(CheckVerdict::kFail, n + " has no A or AAAA record");
      } else if (h->is_cname) {
        resolves.Add(CheckVerdict::kWarn,
                     n + " is a CNAME; an MX must name a host (RFC 2181 §10.3)");
      } else {
        resolves.Add(CheckVerdict::kPass, "");
      }
    }
    resolves.Emit(kMxResolvesCheck, "every MX host has A/AAAA records", &f);

    // MX-04: duplicates.
    std::vector<std::string> seen, dups;
    for (const MxHostInput* h : real) {
      std::string n = Normalize(h->name);
      if (std::find(seen.begin(), seen.end(), n) == seen.end()) {
        seen.push_back(std::move(n));
      } else if (std::find(dups.begin(), dups.end(), n) == dups.end()) {
        dups.push_back(std::move(n));
      }
    }
    if (dups.empty()) {
      f.push_back(Finding{kMxDuplicateCheck, CheckVerdict::kPass, "no MX host listed twice"});
    } else {
      f.push_back(Finding{kMxDuplicateCheck, CheckVerdict::kWarn,
                          internal::Join(dups) + " listed in several MX records"});
    }

    // MX-05: loopback and unroutable targets.
    Worst routable;
    for (const MxHostInput* h : real) {
      const std::string n = Normalize(h->name);
      if (IsLocalhostName(n)) {
        routable.Add(CheckVerdict::kWarn, "MX target " + n + " is localhost");
      } else if (!h->addresses.empty()) {
        bool all_bad = std::all_of(h->addresses.begin(), h->addresses.end(),
                                   [](const std::string& a) { return IsUnroutable(a); });
        if (all_bad) {
          routable.Add(CheckVerdict::kWarn,
                       n + " has only unroutable addresses, first " + Quote(h->addresses.front()));
        } else {
          routable.Add(CheckVerdict::kPass, "");
        }
      }
      // No addresses: mx_resolves reports it.
    }
    routable.Emit(kMxRoutableCheck, "every MX host has a routable address", &f);
  }

  // PTR-01, PTR-02.
  AssessPtrs(in.ptrs, &f);

  // DNSSEC-01, -02: the domain.
  AssessDomainDnssec(domain, in.domain_dnssec, &f);

  // DNSSEC-03, -04: each MX host's zone (not for the implicit MX: that is the domain's).
  if (!out.implicit_mx) {
    Worst signed_, valid;
    for (const MxHostInput* h : unique_usable) {
      const std::string n = Normalize(h->name);
      const std::string state = n + " is " + std::string(DnssecName(h->dnssec));
      signed_.Add(SignedVerdict(h->dnssec),
                  h->dnssec == Dnssec::kUnknown
                      ? "DNSSEC state of " + n + " unknown (lookup failed)"
                      : state);
      if (std::optional<CheckVerdict> v = ValidVerdict(h->dnssec)) {
        valid.Add(*v, h->dnssec == Dnssec::kUnknown
                          ? "DNSSEC state of " + n + " unknown (lookup failed)"
                          : state);
      }
    }
    signed_.Emit(kDnssecMxSignedCheck, "every MX host zone is signed", &f);
    valid.Emit(kDnssecMxValidCheck, "every signed MX host zone validates", &f);
  }
  return out;
}

const std::vector<std::string_view>& MxCheckIds() {
  static const std::vector<std::string_view> kIds = {
      kMxPresentCheck,   kNullMxCheck,         kMxResolvesCheck,   kMxDuplicateCheck,
      kMxRoutableCheck,  kPtrPresentCheck,     kFcrdnsCheck,       kDnssecSignedCheck,
      kDnssecValidCheck, kDnssecMxSignedCheck, kDnssecMxValidCheck};
  return kIds;
}

}  // namespace mailsec::checks
