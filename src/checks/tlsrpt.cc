#include "mailsec/checks/tlsrpt.h"

#include <algorithm>

#include "checks/text_util.h"
#include "mailsec/base/text.h"

namespace mailsec::checks {
namespace {

using internal::IsDigit;
using internal::Join;
using internal::LookupFailed;
using internal::NormalizeName;
using internal::Quote;
using internal::TrimWsp;
using internal::ValidHostName;
using internal::VisibleAscii;

constexpr std::string_view kVersion = "v=TLSRPTv1";

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
    u.host = NormalizeName(host);
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
    u.host = NormalizeName(host);
    return u;
  }
  return bad("is neither mailto: nor https:");
}

}  // namespace

Result<TlsRptRecord> ParseTlsRptRecord(std::string_view txt) {
  if (Status size = internal::CheckSize(txt, kMaxTlsRptRecordBytes, "record"); !size.ok()) {
    return size;
  }
  TlsRptRecord r;
  Status s = internal::ParseRecordFields(
      txt, kVersion, "rua",
      [&r](std::string_view value) {
        for (std::string_view item : internal::Split(value, ',')) {
          item = TrimWsp(item);
          if (item.empty()) return Status::Malformed("rua: empty URI");
          if (r.rua.size() == kMaxTlsRptUris) {
            return Status::Malformed("rua: more than " + std::to_string(kMaxTlsRptUris) + " URIs");
          }
          Result<TlsRptUri> u = ParseUri(item);
          if (!u.ok()) return u.status();
          r.rua.push_back(std::move(u).value());
        }
        return Status::Ok();
      },
      &r.extensions);
  if (!s.ok()) return s;
  return r;
}

TlsRptSelection SelectTlsRptRecord(const std::vector<std::string>& txts) {
  TlsRptSelection sel;
  const size_t n = std::min(txts.size(), kMaxTlsRptTxtStrings);
  for (size_t i = 0; i < n; ++i) {
    if (internal::StartsRecord(txts[i], kVersion)) {
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
  const std::string domain = NormalizeName(TrimSpace(in.domain));
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
