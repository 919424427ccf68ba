#include "mailsec/checks/tlsrpt.h"

#include <algorithm>

#include "mailsec/base/text.h"

namespace mailsec::checks {
namespace {

bool IsWsp(char c) { return c == ' ' || c == '\t'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

std::string Quote(std::string_view s) { return "\"" + Printable(s, 80) + "\""; }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// LDH host name, 1-63 octets a label, 253 in all, one trailing dot allowed.
bool ValidHostName(std::string_view d) {
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  if (d.empty() || d.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = d.find('.', start);
    std::string_view label = d.substr(start, dot == std::string_view::npos ? d.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string NormalizeHost(std::string_view h) {
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  return AsciiLower(h);
}

bool VisibleAscii(std::string_view s) {
  for (char c : s) {
    if (c <= ' ' || c >= 0x7f) return false;
  }
  return true;
}

// tlsrpt-uri: "mailto:" addr-spec [ "?" ... ] or "https://" host [ ":" port ] [ path ].
Result<TlsRptUri> ParseUri(std::string_view uri) {
  TlsRptUri u;
  u.uri = std::string(uri);
  auto bad = [&](std::string_view why) {
    return Status::Malformed("rua: " + Quote(uri) + " " + std::string(why));
  };
  if (!VisibleAscii(uri)) return bad("has whitespace or non-ASCII characters");
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos) return bad("is not a URI");
  u.scheme = AsciiLower(uri.substr(0, colon));
  std::string_view rest = uri.substr(colon + 1);
  if (u.scheme == "mailto") {
    rest = rest.substr(0, rest.find('?'));
    size_t at = rest.rfind('@');
    if (at == std::string_view::npos || at == 0) return bad("has no local@domain address");
    std::string_view host = rest.substr(at + 1);
    if (!ValidHostName(host)) return bad("has a bad domain");
    u.host = NormalizeHost(host);
    return u;
  }
  if (u.scheme == "https") {
    if (rest.substr(0, 2) != "//") return bad("has no //host");
    rest.remove_prefix(2);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.find('@') != std::string_view::npos) return bad("has user information");
    std::string_view host = authority;
    if (!host.empty() && host.front() == '[') {
      size_t close = host.find(']');
      if (close == std::string_view::npos || close < 3) return bad("has a bad IPv6 literal");
      std::string_view after = host.substr(close + 1);
      if (!after.empty() && after.front() != ':') return bad("has a bad IPv6 literal");
      host = host.substr(0, close + 1);
      authority = after;
    } else {
      size_t pc = host.find(':');
      authority = pc == std::string_view::npos ? std::string_view() : host.substr(pc);
      host = host.substr(0, pc);
      if (!ValidHostName(host)) return bad("has a bad host");
    }
    if (!authority.empty()) {  // ":" port
      std::string_view port = authority.substr(1);
      bool ok = !port.empty() && port.size() <= 5;
      for (char c : port) ok = ok && IsDigit(c);
      if (!ok) return bad("has a bad port");
    }
    u.host = NormalizeHost(host);
    return u;
  }
  return bad("is neither mailto: nor https:");
}

bool ValidExtName(std::string_view n) {
  if (n.empty() || n.size() > 32 || !IsAlnum(n[0])) return false;
  for (char c : n) {
    if (!IsAlnum(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

bool ValidExtValue(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (c < 0x21 || c > 0x7e || c == ';' || c == '=') return false;
  }
  return true;
}

bool StartsRecord(std::string_view t) {
  constexpr std::string_view kV = "v=TLSRPTv1";
  if (t.substr(0, kV.size()) != kV) return false;
  return t.size() == kV.size() || t[kV.size()] == ';' || IsWsp(t[kV.size()]);
}

bool LookupFailed(const Status& s) { return !s.ok() && s.code() != Status::Code::kNotFound; }

}  // namespace

Result<TlsRptRecord> ParseTlsRptRecord(std::string_view txt) {
  if (txt.size() > kMaxTlsRptRecordBytes) {
    return Status::Malformed("record longer than " + std::to_string(kMaxTlsRptRecordBytes) +
                             " bytes");
  }
  constexpr std::string_view kVersion = "v=TLSRPTv1";
  if (txt.substr(0, kVersion.size()) != kVersion) {
    return Status::Malformed("v: record must start with v=TLSRPTv1, got " +
                             Quote(txt.substr(0, 20)));
  }
  std::string_view rest = txt.substr(kVersion.size());
  while (!rest.empty() && IsWsp(rest.front())) rest.remove_prefix(1);
  if (rest.empty()) return Status::Malformed("rua: missing");
  if (rest.front() != ';') {
    return Status::Malformed("v: bad version " + Quote(txt.substr(0, txt.find(';'))));
  }
  rest.remove_prefix(1);
  TlsRptRecord r;
  bool have_rua = false;
  std::vector<std::string> seen;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t semi = rest.find(';', start);
    const bool last = semi == std::string_view::npos;
    std::string_view field = TrimWsp(rest.substr(start, last ? rest.npos : semi - start));
    start = last ? rest.size() + 1 : semi + 1;
    if (field.empty()) {
      if (last) break;  // a trailing delimiter
      return Status::Malformed("empty field between ';'");
    }
    size_t eq = field.find('=');
    if (eq == std::string_view::npos)
      return Status::Malformed("field without '=': " + Quote(field));
    std::string_view name = field.substr(0, eq);
    std::string_view value = field.substr(eq + 1);
    if (std::find(seen.begin(), seen.end(), name) != seen.end() || name == "v") {
      return Status::Malformed(Printable(name, 40) + ": duplicate field");
    }
    seen.emplace_back(name);
    if (name == "rua") {
      size_t p = 0;
      while (p <= value.size()) {
        size_t comma = value.find(',', p);
        std::string_view item =
            TrimWsp(value.substr(p, comma == std::string_view::npos ? value.npos : comma - p));
        p = comma == std::string_view::npos ? value.size() + 1 : comma + 1;
        if (item.empty()) return Status::Malformed("rua: empty URI");
        if (r.rua.size() == kMaxTlsRptUris) {
          return Status::Malformed("rua: more than " + std::to_string(kMaxTlsRptUris) + " URIs");
        }
        Result<TlsRptUri> u = ParseUri(item);
        if (!u.ok()) return u.status();
        r.rua.push_back(std::move(u).value());
      }
      have_rua = true;
    } else {
      if (!ValidExtName(name)) return Status::Malformed("bad field name " + Quote(name));
      if (!ValidExtValue(value)) {
        return Status::Malformed(std::string(name) + ": bad value " + Quote(value));
      }
      r.extensions.emplace_back(name);
    }
  }
  if (!have_rua) return Status::Malformed("rua: missing");
  return r;
}

TlsRptSelection SelectTlsRptRecord(const std::vector<std::string>& txts) {
  TlsRptSelection sel;
  const size_t n = std::min(txts.size(), kMaxTlsRptTxtStrings);
  for (size_t i = 0; i < n; ++i) {
    if (StartsRecord(txts[i])) {
      if (sel.records++ == 0) sel.record = txts[i];
    } else {
      ++sel.unrelated;
    }
  }
  sel.count = sel.records == 0   ? TlsRptSelection::Count::kNone
              : sel.records == 1 ? TlsRptSelection::Count::kOne
                                 : TlsRptSelection::Count::kMultiple;
  if (sel.count != TlsRptSelection::Count::kOne) sel.record.clear();
  return sel;
}

TlsRptAssessment AssessTlsRpt(const TlsRptInputs& in) {
  TlsRptAssessment out;
  auto add = [&out](std::string_view id, CheckVerdict v, std::string detail) {
    out.findings.push_back(Finding{id, v, std::move(detail)});
  };
  const std::string domain = NormalizeHost(TrimSpace(in.domain));
  const std::string where = "_smtp._tls." + domain;

  // RPT-01.
  if (LookupFailed(in.status)) {
    add(kTlsRptPresentCheck, CheckVerdict::kError,
        "lookup of " + where + " failed: " + in.status.ToString());
    return out;
  }
  const TlsRptSelection sel = SelectTlsRptRecord(in.txts);
  const bool apex_record =
      in.apex_txts && SelectTlsRptRecord(*in.apex_txts).count != TlsRptSelection::Count::kNone;
  if (sel.count == TlsRptSelection::Count::kNone) {
    if (apex_record) {
      add(kTlsRptPresentCheck, CheckVerdict::kFail,
          "v=TLSRPTv1 published at " + domain + " instead of " + where);
    } else if (in.mta_sts_or_dane) {
      add(kTlsRptPresentCheck, CheckVerdict::kWarn,
          "no TLS-RPT record while MTA-STS or DANE is deployed: failures go unreported");
    } else {
      // INFO in the catalogue: nothing to report on yet.
      add(kTlsRptPresentCheck, CheckVerdict::kPass, "no TLS-RPT record (no MTA-STS or DANE)");
    }
    return out;
  }
  if (sel.count == TlsRptSelection::Count::kMultiple) {
    add(kTlsRptPresentCheck, CheckVerdict::kFail,
        std::to_string(sel.records) + " records at " + where +
            ": senders send no reports (RFC 8460 §3)");
    return out;
  }
  out.present = true;
  if (sel.unrelated > 0) {
    add(kTlsRptPresentCheck, CheckVerdict::kWarn,
        std::to_string(sel.unrelated) + " unrelated TXT string(s) at " + where);
  } else {
    add(kTlsRptPresentCheck, CheckVerdict::kPass, "one record at " + where);
  }

  // RPT-02.
  Result<TlsRptRecord> rec = ParseTlsRptRecord(sel.record);
  if (!rec.ok()) {
    add(kTlsRptValidCheck, CheckVerdict::kFail, rec.status().message());
    return out;
  }
  out.valid = true;
  const TlsRptRecord& r = out.record.emplace(std::move(rec).value());
  if (!r.extensions.empty()) {
    add(kTlsRptValidCheck, CheckVerdict::kWarn, "extension field(s): " + Join(r.extensions));
  } else {
    add(kTlsRptValidCheck, CheckVerdict::kPass, std::to_string(r.rua.size()) + " rua URI(s)");
  }

  // RPT-03.
  if (in.reachability_checked) {
    std::vector<std::string> bad;
    for (const TlsRptUri& u : r.rua) {
      if (std::find(in.unreachable_hosts.begin(), in.unreachable_hosts.end(), u.host) !=
          in.unreachable_hosts.end()) {
        bad.push_back(u.uri);
      }
    }
    if (bad.empty()) {
      add(kTlsRptRuaReachableCheck, CheckVerdict::kPass, "every rua destination is reachable");
    } else {
      add(kTlsRptRuaReachableCheck, CheckVerdict::kWarn, "unreachable: " + Join(bad));
    }
  }
  return out;
}

const std::vector<std::string_view>& TlsRptCheckIds() {
  static const std::vector<std::string_view> kIds = {kTlsRptPresentCheck, kTlsRptValidCheck,
                                                     kTlsRptRuaReachableCheck};
  return kIds;
}

}  // namespace mailsec::checks
