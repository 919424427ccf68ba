#include "mailsec/probe/domain_probe.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "mailsec/base/text.h"
#include "mailsec/checks/bimi.h"
#include "mailsec/checks/caa.h"
#include "mailsec/checks/dkim.h"
#include "mailsec/checks/dmarc.h"
#include "mailsec/checks/dns_outcome.h"
#include "mailsec/checks/mx.h"
#include "mailsec/checks/spf.h"
#include "mailsec/checks/srv.h"
#include "mailsec/checks/tlsrpt.h"
#include "mailsec/net/transport.h"

namespace mailsec::probe {
namespace {

using Steady = net::SteadyClock;
using checks::CheckVerdict;
using checks::Finding;
using checks::LookupStatus;

double ToUnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// DMARC report domains checked for MX, and external destinations asked for authorisation: a
// record lists one or two of each; more is abuse of our query budget.
constexpr size_t kMaxReportDomainsChecked = 4;
constexpr size_t kMaxExternalReportNames = 8;

LookupStatus ToLookupStatus(dns::Outcome o) {
  switch (o) {
    case dns::Outcome::kOk:
      return LookupStatus::kOk;
    case dns::Outcome::kNxDomain:
      return LookupStatus::kNxDomain;
    case dns::Outcome::kNoData:
      return LookupStatus::kNoData;
    default:
      return LookupStatus::kError;
  }
}

// The Status convention of the DMARC, MTA-STS, TLS-RPT and DKIM evaluators: ok (NODATA is ok
// without strings), NotFound for NXDOMAIN, anything else a DNS failure.
Status ToStatus(const dns::DnsAnswer& a, const std::string& name) {
  switch (a.outcome) {
    case dns::Outcome::kOk:
    case dns::Outcome::kNoData:
      return Status::Ok();
    case dns::Outcome::kNxDomain:
      return Status::NotFound(name + ": nxdomain");
    case dns::Outcome::kTimeout:
      return Status::Timeout(name + ": timeout");
    default:
      return Status::Unavailable(name + ": " + std::string(dns::OutcomeName(a.outcome)));
  }
}

std::vector<std::string> TxtStrings(const dns::DnsAnswer& a) {
  std::vector<std::string> out;
  for (const dns::Record& rr : a.records) {
    if (const auto* t = std::get_if<dns::TxtData>(&rr.data)) out.push_back(t->Joined());
  }
  return out;
}

std::vector<std::string> Addresses(const dns::DnsAnswer& a) {
  std::vector<std::string> out;
  for (const dns::Record& rr : a.records) {
    if (const auto* v4 = std::get_if<dns::AData>(&rr.data)) out.push_back(v4->ToString());
    if (const auto* v6 = std::get_if<dns::AaaaData>(&rr.data)) out.push_back(v6->ToString());
  }
  return out;
}

// A host name as the checks compare it: lower case, no trailing dot (the root stays ".").
std::string Lower(std::string_view s) {
  std::string out = AsciiLower(s);
  if (out.size() > 1 && out.back() == '.') out.pop_back();
  return out;
}

checks::SpfDnsAnswer::Kind SpfKind(dns::Outcome o) {
  using K = checks::SpfDnsAnswer::Kind;
  switch (o) {
    case dns::Outcome::kOk:
      return K::kOk;
    case dns::Outcome::kNxDomain:
      return K::kNxDomain;
    case dns::Outcome::kNoData:
      return K::kNoData;
    case dns::Outcome::kTimeout:
      return K::kTimeout;
    case dns::Outcome::kMalformed:
      return K::kMalformed;
    default:
      return K::kServFail;
  }
}

// Severity order for folding several findings of one check into one: fail, then error, then
// warn, then pass.
int Rank(CheckVerdict v) {
  switch (v) {
    case CheckVerdict::kFail:
      return 3;
    case CheckVerdict::kError:
      return 2;
    case CheckVerdict::kWarn:
      return 1;
    case CheckVerdict::kPass:
      return 0;
  }
  return 0;
}

// Adds `f` to `out`, or folds it into the finding of the same check already there (the worse
// verdict wins, its detail with it).
void AddWorst(std::vector<Finding>* out, Finding f) {
  for (Finding& have : *out) {
    if (have.check == f.check) {
      if (Rank(f.verdict) > Rank(have.verdict)) have = std::move(f);
      return;
    }
  }
  out->push_back(std::move(f));
}

class DomainRun {
 public:
  DomainRun(std::string domain, const DomainProbeOptions& o, DomainReport* r)
      : domain_(std::move(domain)), o_(o), r_(r) {
    // The DNS part has the probe timeout as its budget; the endpoint probes have their own.
    deadline_ = Steady::now() + o.endpoint.timeout;
  }

  asio::awaitable<void> Run() {
    co_await Soa();
    co_await Apex();
    co_await Mx();
    co_await Spf();
    co_await Dmarc();
    co_await Dkim();
    co_await MtaStsDns();
    co_await TlsRptDns();
    co_await Bimi();
    co_await Caa();
    co_await Srv();
  }

  // After the endpoint probes: everything that depends on what the MX endpoints served.
  void Finish(std::vector<EndpointReport>* endpoints) {
    MtaStsAssess(endpoints);
    TlsRptAssess(*endpoints);
  }

  const std::vector<std::string>& mx_hosts() const { return mx_hosts_; }
  const std::vector<checks::SrvTarget>& srv_targets() const { return srv_targets_; }
  asio::awaitable<void> FetchPolicy() { co_await MtaStsFetch(); }

 private:
  asio::awaitable<dns::DnsAnswer> Ask(const std::string& name, dns::RrType type) {
    ++r_->dns_queries;
    dns::DnsAnswer a;
    const auto now = Steady::now();
    if (o_.endpoint.resolver == nullptr) {
      a.outcome = dns::Outcome::kServFail;
      a.error = "no resolver configured";
    } else if (now >= deadline_) {
      a.outcome = dns::Outcome::kTimeout;
      a.error = "the domain probe's time budget is spent";
    } else {
      a = co_await o_.endpoint.resolver->Query(name, type,
                                               std::min(deadline_, now + o_.endpoint.dns_timeout));
    }
    switch (a.outcome) {
      case dns::Outcome::kOk:
      case dns::Outcome::kNxDomain:
      case dns::Outcome::kNoData:
        break;
      default:
        r_->dns_ok = false;
        if (r_->dns_errors.size() < 16) {
          r_->dns_errors.push_back(dns::RrTypeName(type) + " " + Printable(name, 120) + ": " +
                                   std::string(dns::OutcomeName(a.outcome)));
        }
    }
    co_return a;
  }

  void Add(std::vector<Finding> fs) {
    for (Finding& f : fs) r_->findings.push_back(std::move(f));
  }

  // ---- DNSSEC of the domain ----
  asio::awaitable<void> Soa() {
    dns::DnsAnswer a = co_await Ask(domain_, dns::RrType::kSoa);
    r_->dnssec_secure = a.outcome == dns::Outcome::kOk && a.authenticated_data;
    domain_dnssec_ = co_await Dnssec(a, domain_, dns::RrType::kSoa);
  }

  // The DNSSEC state of one answer. A validating resolver answers SERVFAIL both for bogus data
  // and for a broken zone or server; asking again with the CD bit tells them apart: an answer
  // without validation means the data is there but does not validate (bogus).
  asio::awaitable<checks::MxHostInput::Dnssec> Dnssec(const dns::DnsAnswer& a,
                                                      const std::string& name, dns::RrType type) {
    using D = checks::MxHostInput::Dnssec;
    switch (a.outcome) {
      case dns::Outcome::kOk:
      case dns::Outcome::kNxDomain:
      case dns::Outcome::kNoData:
        co_return a.authenticated_data ? D::kSecure : D::kInsecure;
      case dns::Outcome::kServFail:
        break;
      default:
        co_return D::kUnknown;
    }
    if (o_.endpoint.resolver == nullptr || Steady::now() >= deadline_) co_return D::kUnknown;
    ++r_->dns_queries;
    dns::DnsAnswer cd = co_await o_.endpoint.resolver->QueryUnvalidated(
        name, type, std::min(deadline_, Steady::now() + o_.endpoint.dns_timeout));
    switch (cd.outcome) {
      case dns::Outcome::kOk:
      case dns::Outcome::kNxDomain:
      case dns::Outcome::kNoData:
        co_return D::kBogus;
      default:
        co_return D::kUnknown;
    }
  }

  asio::awaitable<void> Apex() {
    dns::DnsAnswer a = co_await Ask(domain_, dns::RrType::kTxt);
    apex_status_ = ToStatus(a, domain_);
    apex_txts_ = TxtStrings(a);
  }

  // ---- MX, addresses, PTR ----
  asio::awaitable<void> Mx() {
    checks::MxInputs in;
    in.domain = domain_;
    in.domain_dnssec = domain_dnssec_;
    dns::DnsAnswer mx = co_await Ask(domain_, dns::RrType::kMx);
    in.mx_status = ToLookupStatus(mx.outcome);
    std::set<std::string> seen;
    for (const dns::Record& rr : mx.records) {
      const auto* m = std::get_if<dns::MxData>(&rr.data);
      if (m == nullptr) continue;
      checks::MxHostInput h;
      h.name = Lower(m->exchange);
      h.preference = m->preference;
      r_->mx.push_back({h.name.empty() ? std::string(".") : h.name, m->preference});
      if (h.name == "." || h.name.empty()) {
        h.name = ".";
        in.mx.push_back(std::move(h));
        continue;
      }
      const bool first = seen.insert(h.name).second;
      // Hosts beyond the limit are listed (mailsec_mx_info) but neither resolved nor judged.
      if (first && seen.size() > kMaxProbedMxHosts) continue;
      if (first) {
        dns::DnsAnswer a4 = co_await Ask(h.name, dns::RrType::kA);
        dns::DnsAnswer a6 = co_await Ask(h.name, dns::RrType::kAaaa);
        h.a_status = ToLookupStatus(a4.outcome);
        h.aaaa_status = ToLookupStatus(a6.outcome);
        h.is_cname =
            (a4.outcome == dns::Outcome::kOk && !dns::SameName(a4.canonical_name, h.name)) ||
            (a6.outcome == dns::Outcome::kOk && !dns::SameName(a6.canonical_name, h.name));
        for (auto& s : Addresses(a4)) h.addresses.push_back(s);
        for (auto& s : Addresses(a6)) h.addresses.push_back(s);
        if (a4.outcome == dns::Outcome::kOk || a6.outcome != dns::Outcome::kOk) {
          h.dnssec = co_await Dnssec(a4, h.name, dns::RrType::kA);
        } else {
          h.dnssec = co_await Dnssec(a6, h.name, dns::RrType::kAaaa);
        }
        host_addresses_.push_back({h.name, h.addresses});
      } else {
        // A repeated host (MX-04): same facts, no new lookups.
        for (const auto& [name, addrs] : host_addresses_) {
          if (name == h.name) h.addresses = addrs;
        }
        h.a_status = h.addresses.empty() ? LookupStatus::kNoData : LookupStatus::kOk;
        h.aaaa_status = h.a_status;
      }
      in.mx.push_back(std::move(h));
    }
    if (mx.outcome != dns::Outcome::kOk || mx.records.empty()) {
      // No MX: RFC 5321 §5.1 falls back to the domain's own address (MX-01 "implicit MX").
      dns::DnsAnswer a4 = co_await Ask(domain_, dns::RrType::kA);
      dns::DnsAnswer a6 = co_await Ask(domain_, dns::RrType::kAaaa);
      in.apex_address_status = a4.outcome == dns::Outcome::kOk || a6.outcome == dns::Outcome::kOk
                                   ? LookupStatus::kOk
                                   : ToLookupStatus(a4.outcome);
      in.apex_has_address = !Addresses(a4).empty() || !Addresses(a6).empty();
    }
    size_t ptr_budget = kMaxPtrAddresses;
    for (const auto& [host, addrs] : host_addresses_) {
      for (const std::string& ip : addrs) {
        if (ptr_budget == 0) break;
        --ptr_budget;
        in.ptrs.push_back(co_await Ptr(host, ip));
      }
    }
    checks::MxAssessment m = checks::AssessMx(in);
    r_->null_mx = m.null_mx;
    mx_hosts_ = m.hosts;
    if (mx_hosts_.size() > kMaxProbedMxHosts) mx_hosts_.resize(kMaxProbedMxHosts);
    for (const checks::PtrInput& p : in.ptrs) {
      r_->fcrdns.push_back({p.host, p.ip, p.forward_confirmed});
    }
    Add(std::move(m.findings));
  }

  asio::awaitable<checks::PtrInput> Ptr(const std::string& host, const std::string& ip) {
    checks::PtrInput p;
    p.host = host;
    p.ip = ip;
    const std::string rev = checks::ReverseName(ip);
    if (rev.empty()) {
      p.ptr_status = LookupStatus::kError;
      co_return p;
    }
    dns::DnsAnswer a = co_await Ask(rev, dns::RrType::kPtr);
    p.ptr_status = ToLookupStatus(a.outcome);
    for (const dns::Record& rr : a.records) {
      if (const auto* ptr = std::get_if<dns::PtrData>(&rr.data))
        p.ptr_names.push_back(Lower(ptr->name));
    }
    const bool v6 = ip.find(':') != std::string::npos;
    size_t followed = 0;
    for (const std::string& name : p.ptr_names) {
      if (followed++ == kMaxPtrNamesFollowed || p.forward_confirmed) break;
      dns::DnsAnswer back = co_await Ask(name, v6 ? dns::RrType::kAaaa : dns::RrType::kA);
      for (const std::string& addr : Addresses(back)) {
        if (addr == ip) p.forward_confirmed = true;
      }
    }
    co_return p;
  }

  // ---- SPF ----
  asio::awaitable<void> Spf() {
    checks::SpfWalk walk(domain_);
    // Bounded by the walk itself (kSpfMaxWalkQueries); the counter guards against a bug there.
    for (int i = 0; i <= checks::kSpfMaxWalkQueries + 1; ++i) {
      std::optional<checks::SpfQuery> q = walk.NextQuery();
      if (!q) break;
      checks::SpfDnsAnswer ans;
      switch (q->type) {
        case checks::SpfQueryType::kTxt: {
          dns::DnsAnswer a = co_await Ask(q->name, dns::RrType::kTxt);
          ans.kind = SpfKind(a.outcome);
          ans.records = TxtStrings(a);
          break;
        }
        case checks::SpfQueryType::kMx: {
          dns::DnsAnswer a = co_await Ask(q->name, dns::RrType::kMx);
          ans.kind = SpfKind(a.outcome);
          for (const dns::Record& rr : a.records) {
            if (const auto* m = std::get_if<dns::MxData>(&rr.data))
              ans.records.push_back(m->exchange);
          }
          break;
        }
        case checks::SpfQueryType::kAddress: {
          dns::DnsAnswer a4 = co_await Ask(q->name, dns::RrType::kA);
          dns::DnsAnswer a6 = co_await Ask(q->name, dns::RrType::kAaaa);
          if (a4.outcome == dns::Outcome::kOk || a6.outcome == dns::Outcome::kOk) {
            ans.kind = checks::SpfDnsAnswer::Kind::kOk;
          } else if (a4.outcome == dns::Outcome::kNxDomain || a4.outcome == dns::Outcome::kNoData) {
            ans.kind = SpfKind(a6.outcome == dns::Outcome::kNoData ? a6.outcome : a4.outcome);
          } else {
            ans.kind = SpfKind(a4.outcome);
          }
          ans.records = Addresses(a4);
          for (auto& s : Addresses(a6)) ans.records.push_back(std::move(s));
          break;
        }
        case checks::SpfQueryType::kA: {
          dns::DnsAnswer a = co_await Ask(q->name, dns::RrType::kA);
          ans.kind = SpfKind(a.outcome);
          ans.records = Addresses(a);
          break;
        }
      }
      walk.Feed(ans);
    }
    const checks::SpfResult& s = walk.result();
    r_->spf_present = s.present;
    r_->spf_valid = s.valid;
    r_->spf_dns_lookups = s.dns_lookups;
    r_->spf_all_qualifier = s.all_qualifier;
    spf_record_ = s.record;
    Add(s.findings);
  }

  // ---- DMARC ----
  asio::awaitable<checks::DmarcLookup> Txt(const std::string& name) {
    dns::DnsAnswer a = co_await Ask(name, dns::RrType::kTxt);
    checks::DmarcLookup l;
    l.status = ToStatus(a, name);
    l.txts = TxtStrings(a);
    co_return l;
  }

  asio::awaitable<void> Dmarc() {
    checks::DmarcInputs in;
    in.domain = domain_;
    std::vector<std::string> names = checks::DmarcLookupNames(domain_);
    if (names.empty()) co_return;
    in.at_domain = co_await Txt(names[0]);
    const bool failed =
        !in.at_domain.status.ok() && in.at_domain.status.code() != Status::Code::kNotFound;
    if (names.size() > 1 && !failed &&
        checks::SelectDmarcRecord(in.at_domain.txts).count ==
            checks::DmarcSelection::Count::kNone) {
      in.at_org = co_await Txt(names[1]);
    }
    in.apex = checks::DmarcLookup{apex_status_, apex_txts_};
    checks::DmarcAssessment first = checks::AssessDmarc(in);
    if (first.record) {
      std::vector<checks::DmarcReportUri> uris = first.record->rua;
      uris.insert(uris.end(), first.record->ruf.begin(), first.record->ruf.end());
      std::vector<std::string> ext = checks::ExternalReportNames(first.policy_domain, uris);
      if (ext.size() > kMaxExternalReportNames) ext.resize(kMaxExternalReportNames);
      for (const std::string& name : ext) in.external.push_back({name, co_await Txt(name)});
      std::set<std::string> report_domains;
      for (const auto& u : first.record->rua) {
        if (u.valid_mailto && !u.domain.empty()) report_domains.insert(u.domain);
      }
      size_t checked = 0;
      for (const std::string& d : report_domains) {
        if (checked++ == kMaxReportDomainsChecked) break;
        dns::DnsAnswer mx = co_await Ask(d, dns::RrType::kMx);
        if (mx.outcome == dns::Outcome::kNxDomain || mx.outcome == dns::Outcome::kNoData) {
          in.report_domains_without_mx.push_back(d);
        }
      }
    }
    checks::DmarcAssessment a = checks::AssessDmarc(in);
    r_->dmarc_present = a.present;
    r_->dmarc_valid = a.valid;
    if (a.valid && a.record) {
      if (a.record->p) r_->dmarc_policy = std::string(checks::DmarcPolicyName(*a.record->p));
      if (auto sp = a.record->SubdomainPolicy()) {
        r_->dmarc_subdomain_policy = std::string(checks::DmarcPolicyName(*sp));
      }
      r_->dmarc_pct = a.record->EffectivePct();
      dmarc_reject_ = a.record->p == checks::DmarcPolicy::kReject;
    }
    Add(std::move(a.findings));
  }

  // ---- DKIM ----
  asio::awaitable<void> Dkim() {
    checks::DkimInputs in;
    in.domain = domain_;
    in.non_sending = checks::IsNonSendingSpfPolicy(spf_record_) && dmarc_reject_;
    const std::string node = "_domainkey." + domain_;
    dns::DnsAnswer a = co_await Ask(node, dns::RrType::kTxt);
    in.domainkey_status = ToStatus(a, node);
    for (const std::string& sel : o_.dkim_selectors) {
      const std::string name = sel + "._domainkey." + domain_;
      dns::DnsAnswer k = co_await Ask(name, dns::RrType::kTxt);
      in.selectors.push_back({sel, ToStatus(k, name), TxtStrings(k)});
    }
    checks::DkimAssessment d = checks::AssessDkim(in);
    for (const checks::DkimSelectorResult& s : d.selectors) {
      r_->dkim.push_back({s.selector, s.present, s.key_bits});
    }
    Add(std::move(d.findings));
  }

  // ---- MTA-STS ----
  asio::awaitable<void> MtaStsDns() {
    sts_.domain = domain_;
    const std::string name = "_mta-sts." + domain_;
    dns::DnsAnswer a = co_await Ask(name, dns::RrType::kTxt);
    sts_.record_status = ToStatus(a, name);
    sts_.record_txts = TxtStrings(a);
    sts_.apex_txts = apex_txts_;
    sts_.previous = o_.previous_mta_sts;
  }

  asio::awaitable<void> MtaStsFetch() {
    if (checks::SelectMtaStsRecord(sts_.record_txts).records == 0) co_return;
    const std::string host = "mta-sts." + domain_;
    dns::DnsAnswer a4 = co_await Ask(host, dns::RrType::kA);
    dns::DnsAnswer a6 = co_await Ask(host, dns::RrType::kAaaa);
    std::vector<std::string> addrs = Addresses(a4);
    for (auto& s : Addresses(a6)) addrs.push_back(std::move(s));
    if (addrs.empty()) {
      checks::PolicyFetch f;
      const bool failed = ToLookupStatus(a4.outcome) == LookupStatus::kError ||
                          ToLookupStatus(a6.outcome) == LookupStatus::kError;
      f.outcome =
          failed ? checks::PolicyFetchOutcome::kDnsError : checks::PolicyFetchOutcome::kNoHost;
      sts_.fetch = f;
      co_return;
    }
    if (o_.fetch_pool == nullptr) {
      checks::PolicyFetch f;
      f.outcome = checks::PolicyFetchOutcome::kConnectFailed;
      sts_.fetch = f;
      co_return;
    }
    sts_.fetch = co_await FetchMtaStsPolicy(domain_, addrs, o_.policy_fetch, *o_.fetch_pool);
  }

  void MtaStsAssess(std::vector<EndpointReport>* endpoints) {
    sts_.mx_hosts = mx_hosts_;
    for (const std::string& host : mx_hosts_) {
      checks::MxTlsResult t;
      t.host = host;
      bool probed = false;
      bool all_ok = true;
      for (const EndpointReport& e : *endpoints) {
        if (e.discovered_by != "mx" || e.target.host != host) continue;
        probed = true;
        all_ok = all_ok && e.success && e.tls.handshake_ok && e.tls.trusted && e.tls.hostname_match;
      }
      if (!probed) continue;
      t.starttls = all_ok;
      t.cert_valid = all_ok;
      sts_.mx_tls.push_back(std::move(t));
    }
    checks::MtaStsAssessment a = checks::AssessMtaSts(sts_);
    r_->mta_sts_present = a.present;
    r_->mta_sts_policy_valid = a.policy_valid;
    if (a.policy_valid && a.policy) {
      r_->mta_sts_mode = std::string(checks::MtaStsModeName(a.policy->mode));
      r_->mta_sts_max_age = a.policy->max_age;
      r_->mta_sts_mx_covered = a.mx_covered;
      // RFC 8461 §5: under enforce or testing, a covered MX that fails TLS validation is where
      // senders stop delivering (or report): a policy violation of that endpoint.
      if (a.policy->mode != checks::MtaStsMode::kNone) {
        for (EndpointReport& e : *endpoints) {
          if (e.discovered_by != "mx") continue;
          bool covered = false;
          for (const std::string& p : a.policy->mx)
            covered = covered || checks::MxMatchesPattern(e.target.host, p);
          const bool valid =
              e.success && e.tls.handshake_ok && e.tls.trusted && e.tls.hostname_match;
          if (covered) {
            e.tls_required_by = "MTA-STS " + std::string(checks::MtaStsModeName(a.policy->mode)) +
                                " policy of " + r_->domain;
          }
          // An MX that could not be reached is not a TLS failure: senders move on to the next.
          const bool unreachable =
              e.failure == Failure::kResolve || e.failure == Failure::kConnectRefused ||
              e.failure == Failure::kConnectTimeout || e.failure == Failure::kConnectError ||
              e.failure == Failure::kGreetingTimeout;
          if (covered && !valid && !unreachable) {
            std::string why =
                !e.tls.handshake_ok     ? (e.error.empty() ? "no TLS" : e.error)
                : !e.tls.trusted        ? "certificate not trusted (" + e.tls.verify_result + ")"
                : !e.tls.hostname_match ? "certificate does not match " + e.target.host
                                        : e.error;
            RaiseSignal(&e, Signal::kPolicyViolation,
                        "MTA-STS " + std::string(checks::MtaStsModeName(a.policy->mode)) +
                            " policy of " + r_->domain + " covers this MX; " + why);
          }
        }
      }
    }
    if (a.current) {
      r_->mta_sts_id = a.current->id;
      r_->mta_sts_body_hash = a.current->body_hash;
    }
    Add(std::move(a.findings));
  }

  // ---- TLS-RPT ----
  asio::awaitable<void> TlsRptDns() {
    rpt_.domain = domain_;
    const std::string name = "_smtp._tls." + domain_;
    dns::DnsAnswer a = co_await Ask(name, dns::RrType::kTxt);
    rpt_.status = ToStatus(a, name);
    rpt_.txts = TxtStrings(a);
    rpt_.apex_txts = apex_txts_;
    // RPT-03: a report address must be deliverable: mailto domains need MX (or an address, the
    // implicit MX), https hosts an address.
    checks::TlsRptSelection sel = checks::SelectTlsRptRecord(rpt_.txts);
    if (sel.count != checks::TlsRptSelection::Count::kOne) co_return;
    Result<checks::TlsRptRecord> rec = checks::ParseTlsRptRecord(sel.record);
    if (!rec.ok()) co_return;
    std::set<std::string> hosts;
    bool failed = false;
    for (const checks::TlsRptUri& u : rec->rua) {
      if (u.host.empty() || !hosts.insert(u.scheme + ":" + u.host).second) continue;
      if (hosts.size() > kMaxReportDomainsChecked) break;
      bool reachable = false;
      if (u.scheme == "mailto") {
        dns::DnsAnswer mx = co_await Ask(u.host, dns::RrType::kMx);
        failed = failed || ToLookupStatus(mx.outcome) == LookupStatus::kError;
        reachable = mx.outcome == dns::Outcome::kOk;
      }
      if (!reachable) {
        dns::DnsAnswer a4 = co_await Ask(u.host, dns::RrType::kA);
        dns::DnsAnswer a6 = co_await Ask(u.host, dns::RrType::kAaaa);
        failed = failed || ToLookupStatus(a4.outcome) == LookupStatus::kError;
        reachable = a4.outcome == dns::Outcome::kOk || a6.outcome == dns::Outcome::kOk;
      }
      if (!reachable) rpt_.unreachable_hosts.push_back(u.host);
    }
    // A lookup that failed says nothing about reachability: no verdict rather than a wrong one.
    rpt_.reachability_checked = !failed;
  }

  void TlsRptAssess(const std::vector<EndpointReport>& endpoints) {
    rpt_.mta_sts_or_dane = r_->mta_sts_present;
    for (const EndpointReport& e : endpoints) {
      rpt_.mta_sts_or_dane = rpt_.mta_sts_or_dane || (e.dane.tlsa_present && e.dane.usable);
    }
    checks::TlsRptAssessment a = checks::AssessTlsRpt(rpt_);
    r_->tlsrpt_present = a.present;
    r_->tlsrpt_valid = a.valid;
    Add(std::move(a.findings));
  }

  // ---- BIMI ----
  asio::awaitable<void> Bimi() {
    const std::string name = checks::BimiLookupName(domain_);
    dns::DnsAnswer a = co_await Ask(name, dns::RrType::kTxt);
    checks::BimiInputs in;
    in.domain = domain_;
    in.status = ToLookupStatus(a.outcome);
    in.txts = TxtStrings(a);
    Add(checks::AssessBimi(in).findings);
  }

  // ---- CAA of each MX host (tree climbing, RFC 8659 §3) ----
  asio::awaitable<void> Caa() {
    std::vector<Finding> worst;
    for (const std::string& host : mx_hosts_) {
      checks::CaaInputs in;
      in.host = host;
      in.status = LookupStatus::kNoData;
      for (const std::string& name : checks::CaaLookupNames(host)) {
        dns::DnsAnswer a = co_await Ask(name, dns::RrType::kCaa);
        in.status = ToLookupStatus(a.outcome);
        if (in.status == LookupStatus::kError) break;
        for (const dns::Record& rr : a.records) {
          if (const auto* c = std::get_if<dns::CaaData>(&rr.data)) {
            in.records.push_back({c->flags, c->tag, c->value});
          }
        }
        if (!in.records.empty()) {
          in.found_at = name;
          break;
        }
      }
      for (Finding& f : checks::AssessCaa(in).findings) {
        f.detail = host + ": " + f.detail;
        AddWorst(&worst, std::move(f));
      }
    }
    Add(std::move(worst));
  }

  // ---- SRV (RFC 6186, RFC 8314) ----
  asio::awaitable<void> Srv() {
    std::vector<checks::SrvLookup> lookups;
    for (const checks::SrvService& s : checks::MailSrvServices()) {
      const std::string name = std::string(s.label) + "." + domain_;
      dns::DnsAnswer a = co_await Ask(name, dns::RrType::kSrv);
      checks::SrvLookup l;
      l.label = s.label;
      l.status = ToLookupStatus(a.outcome);
      for (const dns::Record& rr : a.records) {
        if (const auto* srv = std::get_if<dns::SrvData>(&rr.data)) {
          l.records.push_back({srv->priority, srv->weight, srv->port, Lower(srv->target)});
        }
      }
      lookups.push_back(std::move(l));
    }
    srv_targets_ = checks::SrvEndpoints(lookups);
    Add(checks::AssessSrv(lookups));
  }

  std::string domain_;
  const DomainProbeOptions& o_;
  DomainReport* r_;
  Steady::time_point deadline_;

  checks::MxHostInput::Dnssec domain_dnssec_ = checks::MxHostInput::Dnssec::kUnknown;
  Status apex_status_;
  std::vector<std::string> apex_txts_;
  std::vector<std::pair<std::string, std::vector<std::string>>> host_addresses_;
  std::vector<std::string> mx_hosts_;
  std::string spf_record_;
  bool dmarc_reject_ = false;
  checks::MtaStsInputs sts_;
  checks::TlsRptInputs rpt_;
  std::vector<checks::SrvTarget> srv_targets_;
};

// Probes one endpoint a domain target discovered, once per (service, host, port).
asio::awaitable<void> ProbeDiscovered(
    config::Service service, std::string host, uint16_t port, const char* why,
    const ProbeOptions& options,
    std::set<std::tuple<config::Service, std::string, uint16_t>>* probed,
    std::vector<EndpointReport>* out) {
  if (!probed->insert({service, host, port}).second) co_return;
  config::EndpointTarget t;
  t.service = service;
  t.host = host;
  t.port = port;
  TargetResult r = co_await ProbeEndpointTarget(t, options);
  for (EndpointReport& e : r.endpoints) {
    e.discovered_by = why;
    out->push_back(std::move(e));
  }
}

}  // namespace

asio::awaitable<TargetResult> ProbeDomainTarget(std::string domain, DomainProbeOptions options) {
  if (options.endpoint.clock == nullptr) options.endpoint.clock = &SystemClock();
  TargetResult result;
  result.target_id = domain;
  DomainReport report;
  report.domain = domain;
  report.started_at = ToUnixSeconds(options.endpoint.clock->Now());
  const auto t0 = Steady::now();

  DomainRun run(domain, options, &report);
  co_await run.Run();
  co_await run.FetchPolicy();

  if (options.probe_endpoints) {
    // One endpoint probe at a time: polite to the MX (CHECKS.md META-03), and bounded by the
    // host limits above and each probe's own deadline.
    std::set<std::tuple<config::Service, std::string, uint16_t>> probed;
    for (const std::string& host : run.mx_hosts()) {
      co_await ProbeDiscovered(config::Service::kSmtp, host, 25, "mx", options.endpoint, &probed,
                               &result.endpoints);
    }
    for (const checks::SrvTarget& s : run.srv_targets()) {
      std::optional<config::Service> service = config::ServiceFromName(s.service);
      if (!service) continue;
      co_await ProbeDiscovered(*service, s.host, s.port, "srv", options.endpoint, &probed,
                               &result.endpoints);
    }
  }
  run.Finish(&result.endpoints);

  report.duration_seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  report.finished_at = ToUnixSeconds(options.endpoint.clock->Now());
  result.domain = std::make_shared<const DomainReport>(std::move(report));
  co_return result;
}

bool IsCritical(const DomainReport& report) {
  for (const Finding& f : report.findings) {
    if (f.verdict == CheckVerdict::kFail) return true;
  }
  return false;
}

}  // namespace mailsec::probe
