#include "mailsec/checks/bimi.h"

#include <algorithm>

#include "checks/text_util.h"
#include "mailsec/base/text.h"

namespace mailsec::checks {
namespace {

using internal::IsAlnum;
using internal::IsWsp;
using internal::Quote;
using internal::Split;
using internal::TrimWsp;

constexpr std::string_view kBimiVersionPrefix = "v=BIMI1";
// draft-brand-indicators-for-message-identification §4.3 (lps): local-part-prefix = 1*63
// (ALPHA / DIGIT / "-").
constexpr size_t kMaxLocalPartPrefixBytes = 63;

bool IsKnownTag(std::string_view name) {
  for (std::string_view k : {"l", "a", "avp", "lps", "s"}) {
    if (name == k) return true;
  }
  return false;
}

// DKIM tag-name (RFC 6376 §3.2): ALPHA *ALNUMPUNC (letters, digits, '_').
bool ValidTagName(std::string_view n) {
  if (n.empty() || !internal::IsAlpha(n[0])) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return IsAlnum(c) || c == '_'; });
}

// Empty, or one "https://" URL whose host is a valid name (the draft: an FQDN, HTTPS only).
Status CheckHttpsUrl(std::string_view tag, std::string_view v) {
  if (v.empty()) return Status::Ok();
  const std::string t(tag);
  if (!internal::VisibleAscii(v)) {
    return Status::Malformed(t + ": " + Quote(v) + " is not one URL");
  }
  constexpr std::string_view kScheme = "https://";
  if (v.size() <= kScheme.size() || !EqualsIgnoreCase(v.substr(0, kScheme.size()), kScheme)) {
    return Status::Malformed(t + ": " + Quote(v) + " is not an https:// URL");
  }
  std::string_view rest = v.substr(kScheme.size());
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string_view host = authority.substr(0, authority.rfind(':'));
  if (authority.find('@') != std::string_view::npos || !internal::ValidHostName(host) ||
      host.find('.') == std::string_view::npos) {
    return Status::Malformed(t + ": " + Quote(v) + " has no valid host name");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ParseLps(std::string_view v) {
  std::vector<std::string> out;
  for (std::string_view item : Split(v, ',')) {
    item = TrimWsp(item);
    if (item.empty() || item.size() > kMaxLocalPartPrefixBytes ||
        !std::all_of(item.begin(), item.end(), [](char c) { return IsAlnum(c) || c == '-'; })) {
      return Status::Malformed("lps: bad local part " + Quote(item));
    }
    if (out.size() == kMaxBimiLocalParts) {
      return Status::Malformed("lps: more than " + std::to_string(kMaxBimiLocalParts) +
                               " local parts");
    }
    out.emplace_back(item);
  }
  return out;
}

Status ApplyTag(std::string_view name, std::string_view v, BimiRecord* r) {
  if (name == "l" || name == "a") {
    if (Status s = CheckHttpsUrl(name, v); !s.ok()) return s;
    (name == "l" ? r->l : r->a) = std::string(v);
    (name == "l" ? r->has_l : r->has_a) = true;
  } else if (name == "avp") {
    if (EqualsIgnoreCase(v, "brand")) {
      r->avp = BimiAvp::kBrand;
    } else if (EqualsIgnoreCase(v, "personal")) {
      r->avp = BimiAvp::kPersonal;
    } else {
      return Status::Malformed("avp: " + Quote(v) + " is not brand or personal");
    }
  } else if (name == "lps") {
    Result<std::vector<std::string>> lps = ParseLps(v);
    if (!lps.ok()) return lps.status();
    r->lps = std::move(*lps);
  } else if (name == "s") {
    if (v.empty() || !internal::VisibleAscii(v)) {
      return Status::Malformed("s: bad value " + Quote(v));
    }
    r->s = std::string(v);
  }
  return Status::Ok();
}

bool StartsWithSpf(std::string_view s) {
  return s.size() >= 6 && EqualsIgnoreCase(s.substr(0, 6), "v=spf1") &&
         (s.size() == 6 || s[6] == ' ');
}

}  // namespace

Result<BimiRecord> ParseBimiRecord(std::string_view txt) {
  if (Status size = internal::CheckSize(txt, kMaxBimiRecordBytes, "record"); !size.ok()) {
    return size;
  }
  if (internal::HasControlChar(txt)) return Status::Malformed("control character in record");
  BimiRecord r;
  std::vector<std::string_view> segs = Split(txt, ';');
  for (size_t i = 0; i < segs.size(); ++i) {
    std::string_view seg = TrimWsp(segs[i]);
    size_t eq = seg.find('=');
    std::string_view name = TrimWsp(seg.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? "" : TrimWsp(seg.substr(eq + 1));
    if (i == 0) {
      // "The value of this tag MUST match precisely ... It MUST be the first tag."
      if (eq == std::string_view::npos || name != "v" || value != "BIMI1" ||
          (!segs[0].empty() && IsWsp(segs[0].front()))) {
        return Status::Malformed("v: record must start with v=BIMI1, got " + Quote(seg));
      }
      r.tags.emplace_back("v");
      continue;
    }
    if (seg.empty()) {
      if (i + 1 == segs.size()) break;  // a trailing ';'
      return Status::Malformed("empty tag between ';'");
    }
    if (eq == std::string_view::npos) return Status::Malformed("tag without '=': " + Quote(seg));
    if (!ValidTagName(name)) return Status::Malformed("bad tag name " + Quote(name));
    if (std::find(r.tags.begin(), r.tags.end(), name) != r.tags.end()) {
      return Status::Malformed(std::string(name) + ": duplicate tag");
    }
    if (!IsKnownTag(name)) return Status::Malformed(std::string(name) + ": unknown tag");
    r.tags.emplace_back(name);
    if (Status s = ApplyTag(name, value, &r); !s.ok()) return s;
  }
  return r;
}

BimiSelection SelectBimiRecord(const std::vector<std::string>& txts) {
  BimiSelection sel;
  const size_t n = std::min(txts.size(), kMaxBimiTxtStrings);
  for (size_t i = 0; i < n; ++i) {
    std::string_view t = txts[i];
    if (t.starts_with(kBimiVersionPrefix)) {
      if (sel.records++ == 0) sel.record = std::string(t);
    } else if (StartsWithSpf(t)) {
      ++sel.spf;
    } else {
      ++sel.unrelated;
    }
  }
  sel.count = sel.records == 0   ? BimiSelection::Count::kNone
              : sel.records == 1 ? BimiSelection::Count::kOne
                                 : BimiSelection::Count::kMultiple;
  if (sel.count != BimiSelection::Count::kOne) sel.record.clear();
  return sel;
}

std::string BimiLookupName(std::string_view domain, std::string_view selector) {
  std::string d = internal::NormalizeName(TrimSpace(domain));
  if (d.empty()) return "";
  return AsciiLower(selector) + "._bimi." + d;
}

BimiAssessment AssessBimi(const BimiInputs& in) {
  BimiAssessment out;
  const std::string name = BimiLookupName(in.domain);
  if (LookupFailed(in.status)) {
    out.findings.push_back(
        Finding{kBimiRecordCheck, CheckVerdict::kError, "TXT lookup for " + name + " failed"});
    return out;
  }
  if (in.status != LookupStatus::kOk) return out;
  BimiSelection sel = SelectBimiRecord(in.txts);
  if (sel.count == BimiSelection::Count::kNone) return out;  // BIMI not used: not applicable
  if (sel.count == BimiSelection::Count::kMultiple) {
    out.findings.push_back(Finding{kBimiRecordCheck, CheckVerdict::kFail,
                                   std::to_string(sel.records) + " v=BIMI1 records at " + name});
    return out;
  }
  if (sel.spf > 0) {
    out.findings.push_back(
        Finding{kBimiRecordCheck, CheckVerdict::kFail,
                "an SPF record answers at " + name + " next to the BIMI record"});
  } else if (sel.unrelated > 0) {
    out.findings.push_back(
        Finding{kBimiRecordCheck, CheckVerdict::kWarn,
                std::to_string(sel.unrelated) + " unrelated TXT string(s) at " + name});
  } else {
    out.findings.push_back(Finding{kBimiRecordCheck, CheckVerdict::kPass, "one record at " + name});
  }
  out.present = true;
  Result<BimiRecord> r = ParseBimiRecord(sel.record);
  if (!r.ok()) {
    out.findings.push_back(Finding{kBimiSyntaxCheck, CheckVerdict::kFail, r.status().message()});
    return out;
  }
  out.valid = true;
  out.record = std::move(r).value();
  out.findings.push_back(Finding{kBimiSyntaxCheck, CheckVerdict::kPass, "valid"});
  return out;
}

const std::vector<std::string_view>& BimiCheckIds() {
  static const std::vector<std::string_view> kIds = {kBimiRecordCheck, kBimiSyntaxCheck};
  return kIds;
}

}  // namespace mailsec::checks
