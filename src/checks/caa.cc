#include "mailsec/checks/caa.h"

#include <algorithm>

#include "checks/text_util.h"
#include "mailsec/base/text.h"

namespace mailsec::checks {
namespace {

using internal::IsAlnum;
using internal::IsDigit;
using internal::Quote;
using internal::Split;
using internal::TrimWsp;

// RFC 8659 §4.1.1: a tag is 1 to 15 octets.
constexpr size_t kMaxCaaTagBytes = 15;
// Problems named in one finding's detail; the rest are counted.
constexpr size_t kMaxCaaProblemsShown = 3;

bool IsIssueLike(std::string_view lower_tag) {
  return lower_tag == "issue" || lower_tag == "issuewild" || lower_tag == "issuevmc" ||
         lower_tag == "issuemail";
}

// RFC 3629 well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i - 1 < n) return false;
    for (size_t k = 1; k <= n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// RFC 8659 §4.2 `label` (also its parameter `tag`): (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)).
bool ValidCaaLabel(std::string_view l) {
  if (l.empty() || !IsAlnum(l.front()) || !IsAlnum(l.back())) return false;
  return std::all_of(l.begin(), l.end(), [](char c) { return IsAlnum(c) || c == '-'; });
}

// RFC 8659 §4.2 parameter `value`: *(%x21-3A / %x3C-7E), visible ASCII but ';'.
bool ValidParamValue(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x21 && c <= 0x7e && c != ';'; });
}

// RFC 8657 §4: validationmethods = [*(label ",") label], label = 1*(ALPHA / DIGIT / "-").
bool ValidValidationMethods(std::string_view v) {
  if (v.empty()) return true;
  for (std::string_view m : Split(v, ',')) {
    if (m.empty() ||
        !std::all_of(m.begin(), m.end(), [](char c) { return IsAlnum(c) || c == '-'; })) {
      return false;
    }
  }
  return true;
}

struct IssueValue {
  std::string issuer;  // lower-cased; empty for "no issuer" (";")
};

// issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]] (RFC 8659 §4.2).
Result<IssueValue> ParseIssueValue(std::string_view tag, std::string_view v) {
  const std::string t(tag);
  size_t semi = v.find(';');
  std::string_view name = TrimWsp(v.substr(0, semi));
  if (!name.empty() && !internal::ValidDomain(name)) {
    return Status::Malformed(t + ": bad issuer domain name " + Quote(name));
  }
  if (semi != std::string_view::npos) {
    std::string_view params = TrimWsp(v.substr(semi + 1));
    if (!params.empty()) {
      for (std::string_view p : Split(params, ';')) {
        p = TrimWsp(p);
        size_t eq = p.find('=');
        if (eq == std::string_view::npos) {
          return Status::Malformed(t + ": parameter without '=': " + Quote(p));
        }
        std::string_view key = TrimWsp(p.substr(0, eq));
        std::string_view val = TrimWsp(p.substr(eq + 1));
        if (!ValidCaaLabel(key)) return Status::Malformed(t + ": bad parameter name " + Quote(key));
        if (!ValidParamValue(val)) {
          return Status::Malformed(t + ": bad value of parameter " + std::string(key) + ": " +
                                   Quote(val));
        }
        if (EqualsIgnoreCase(key, "validationmethods") && !ValidValidationMethods(val)) {
          return Status::Malformed(t + ": bad validationmethods " + Quote(val));
        }
      }
    }
  }
  return IssueValue{AsciiLower(name)};
}

// local "@" domain, loosely: visible ASCII local part without '@', a valid domain.
bool ValidAddress(std::string_view a) {
  size_t at = a.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view local = a.substr(0, at);
  if (!internal::VisibleAscii(local) || local.find('@') != std::string_view::npos) return false;
  return internal::ValidDomain(a.substr(at + 1));
}

// RFC 8659 §4.4 iodef, restricted as CHECKS.md asks: "mailto:" address or "https://" host URL.
bool ValidIodef(std::string_view v) {
  if (!internal::VisibleAscii(v)) return false;
  if (v.size() > 7 && EqualsIgnoreCase(v.substr(0, 7), "mailto:")) {
    std::string_view rest = v.substr(7);
    return ValidAddress(rest.substr(0, rest.find('?')));
  }
  if (v.size() > 8 && EqualsIgnoreCase(v.substr(0, 8), "https://")) {
    std::string_view rest = v.substr(8);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    size_t colon = authority.rfind(':');
    std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      std::string_view port = authority.substr(colon + 1);
      if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
        return false;
      }
    }
    return internal::ValidHostName(host);
  }
  return false;
}

// CA/Browser Forum BR 3.2.2.4.16: an RFC 3966 global number, "+" digits with visual separators.
bool ValidPhone(std::string_view v) {
  if (v.size() < 2 || v.front() != '+') return false;
  bool digit = false;
  for (char c : v.substr(1)) {
    if (IsDigit(c)) {
      digit = true;
    } else if (c != '-' && c != '.' && c != '(' && c != ')') {
      return false;
    }
  }
  return digit;
}

bool CriticalUnknown(const CaaRecordIn& r) {
  return (r.flags & kCaaCriticalFlag) != 0 && !IsKnownCaaTag(r.tag);
}

std::string Prefix(const CaaRecordIn& r) {
  return std::to_string(r.flags) + " " + Printable(r.tag, 20) + " " + Quote(r.value) + ": ";
}

}  // namespace

bool IsKnownCaaTag(std::string_view tag) {
  for (std::string_view k :
       {"issue", "issuewild", "iodef", "issuevmc", "issuemail", "contactemail", "contactphone"}) {
    if (EqualsIgnoreCase(tag, k)) return true;
  }
  return false;
}

std::vector<std::string> CaaLookupNames(std::string_view host) {
  std::string h = internal::NormalizeName(TrimSpace(host));
  if (!internal::ValidDomain(h)) return {};
  std::vector<std::string> names;
  std::string_view rest = h;
  while (rest.find('.') != std::string_view::npos) {
    names.emplace_back(rest);
    rest.remove_prefix(rest.find('.') + 1);
  }
  return names;
}

Status ValidateCaaRecord(const CaaRecordIn& r) {
  if ((r.flags & ~kCaaCriticalFlag) != 0) {
    return Status::Malformed("reserved flag bits set in " + std::to_string(r.flags));
  }
  if (r.tag.empty() || r.tag.size() > kMaxCaaTagBytes ||
      !std::all_of(r.tag.begin(), r.tag.end(), IsAlnum)) {
    return Status::Malformed("bad tag " + Quote(r.tag));
  }
  if (r.value.size() > kMaxCaaValueBytes) {
    return Status::Malformed("value longer than " + std::to_string(kMaxCaaValueBytes) + " bytes");
  }
  if (!ValidUtf8(r.value)) return Status::Malformed("value is not UTF-8");
  const std::string tag = AsciiLower(r.tag);
  if (IsIssueLike(tag)) {
    Result<IssueValue> v = ParseIssueValue(tag, r.value);
    return v.ok() ? Status::Ok() : v.status();
  }
  if (tag == "iodef") {
    if (!ValidIodef(r.value)) {
      return Status::Malformed("iodef: " + Quote(r.value) + " is not a mailto: or https: URL");
    }
    return Status::Ok();
  }
  if (tag == "contactemail") {
    if (!ValidAddress(r.value)) {
      return Status::Malformed("contactemail: " + Quote(r.value) + " is not an address");
    }
    return Status::Ok();
  }
  if (tag == "contactphone") {
    if (!ValidPhone(r.value)) {
      return Status::Malformed("contactphone: " + Quote(r.value) + " is not a +number");
    }
    return Status::Ok();
  }
  return Status::Malformed("unknown or reserved property " + Quote(r.tag));
}

std::vector<std::string> CaaIssuers(const std::vector<CaaRecordIn>& records) {
  std::vector<std::string> out;
  const size_t n = std::min(records.size(), kMaxCaaRecords);
  for (size_t i = 0; i < n; ++i) {
    const CaaRecordIn& r = records[i];
    if (!EqualsIgnoreCase(r.tag, "issue") || !ValidateCaaRecord(r).ok()) continue;
    Result<IssueValue> v = ParseIssueValue("issue", r.value);
    if (!v.ok() || v->issuer.empty()) continue;
    if (std::find(out.begin(), out.end(), v->issuer) == out.end()) out.push_back(v->issuer);
  }
  return out;
}

CaaAssessment AssessCaa(const CaaInputs& in) {
  CaaAssessment out;
  const std::string host = internal::NormalizeName(TrimSpace(in.host));
  if (LookupFailed(in.status)) {
    out.findings.push_back(Finding{kCaaCheck, CheckVerdict::kError,
                                   "CAA lookup for " + host + " or an ancestor failed"});
    return out;
  }
  if (in.status != LookupStatus::kOk || in.records.empty()) {
    out.findings.push_back(
        Finding{kCaaCheck, CheckVerdict::kWarn, "no CAA record at " + host + " or its ancestors"});
    return out;
  }
  out.found = true;
  out.issuers = CaaIssuers(in.records);
  const std::string where = in.found_at.empty() ? host : internal::NormalizeName(in.found_at);
  const size_t n = std::min(in.records.size(), kMaxCaaRecords);
  std::vector<std::string> critical, problems;
  bool has_issue = false;
  for (size_t i = 0; i < n; ++i) {
    const CaaRecordIn& r = in.records[i];
    if (EqualsIgnoreCase(r.tag, "issue")) has_issue = true;
    if (CriticalUnknown(r)) {
      critical.push_back(Prefix(r) + "unknown property with the critical flag: CAs must not issue");
      continue;
    }
    if (Status s = ValidateCaaRecord(r); !s.ok()) problems.push_back(Prefix(r) + s.message());
  }
  if (!has_issue) problems.push_back("no issue property");
  if (in.records.size() > n) {
    problems.push_back(std::to_string(in.records.size() - n) + " records past the first " +
                       std::to_string(kMaxCaaRecords) + " ignored");
  }
  auto summary = [&where](std::vector<std::string> v) {
    size_t more = v.size() > kMaxCaaProblemsShown ? v.size() - kMaxCaaProblemsShown : 0;
    v.resize(std::min(v.size(), kMaxCaaProblemsShown));
    std::string s = "CAA at " + where + ": " + internal::Join(v);
    if (more > 0) s += " (+" + std::to_string(more) + " more)";
    return s;
  };
  if (!critical.empty()) {
    critical.insert(critical.end(), problems.begin(), problems.end());
    out.findings.push_back(Finding{kCaaCheck, CheckVerdict::kFail, summary(std::move(critical))});
  } else if (!problems.empty()) {
    out.findings.push_back(Finding{kCaaCheck, CheckVerdict::kWarn, summary(std::move(problems))});
  } else {
    out.findings.push_back(
        Finding{kCaaCheck, CheckVerdict::kPass,
                "CAA at " + where + " authorises " +
                    (out.issuers.empty() ? std::string("no CA") : internal::Join(out.issuers))});
  }
  return out;
}

}  // namespace mailsec::checks
