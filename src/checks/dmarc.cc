#include "mailsec/checks/dmarc.h"

#include <algorithm>
#include <limits>

#include "checks/text_util.h"
#include "mailsec/base/text.h"

namespace mailsec::checks {
namespace {

using internal::IsAlpha;
using internal::IsDigit;
using internal::IsWsp;
using internal::Join;
using internal::Quote;
using internal::Split;
using internal::TrimWsp;

// " Example.ORG. " -> "example.org".
std::string NormalizeDomain(std::string_view domain) {
  return internal::NormalizeName(TrimSpace(domain));
}

// "mailto:" addr-spec [ "?" hfields ] (RFC 6068), checked loosely: a non-empty local part of
// printable characters and a host name. Sets *domain on success.
bool ValidMailto(std::string_view rest, std::string* domain) {
  rest = rest.substr(0, rest.find('?'));
  size_t at = rest.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  for (char c : rest.substr(0, at)) {
    if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',') return false;
  }
  std::string_view host = rest.substr(at + 1);
  if (!internal::ValidHostName(host)) return false;
  *domain = NormalizeDomain(host);
  return true;
}

Result<std::optional<DmarcPolicy>> ParsePolicy(std::string_view tag, std::string_view v) {
  if (EqualsIgnoreCase(v, "none")) return std::optional<DmarcPolicy>(DmarcPolicy::kNone);
  if (EqualsIgnoreCase(v, "quarantine")) {
    return std::optional<DmarcPolicy>(DmarcPolicy::kQuarantine);
  }
  if (EqualsIgnoreCase(v, "reject")) return std::optional<DmarcPolicy>(DmarcPolicy::kReject);
  return Status::Malformed(std::string(tag) + ": \"" + Printable(v, 40) +
                           "\" is not none, quarantine or reject");
}

// One letter out of `allowed` (lower case), case-insensitively.
Result<char> ParseLetter(std::string_view tag, std::string_view v, std::string_view allowed) {
  if (v.size() == 1) {
    char c = AsciiLower(v)[0];
    if (allowed.find(c) != std::string_view::npos) return c;
  }
  std::string list;
  for (char c : allowed) list += std::string(list.empty() ? "" : ", ") + c;
  return Status::Malformed(std::string(tag) + ": \"" + Printable(v, 40) + "\" is not one of " +
                           list);
}

Result<uint64_t> ParseDigits(std::string_view tag, std::string_view v, uint64_t max) {
  if (v.empty()) return Status::Malformed(std::string(tag) + ": empty number");
  uint64_t n = 0;
  for (char c : v) {
    if (!IsDigit(c)) {
      return Status::Malformed(std::string(tag) + ": \"" + Printable(v, 40) + "\" is not a number");
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > max) {
      return Status::Malformed(std::string(tag) + ": " + Printable(v, 40) + " is above " +
                               std::to_string(max));
    }
  }
  return n;
}

Result<std::vector<DmarcReportUri>> ParseUriList(std::string_view tag, std::string_view v) {
  std::vector<DmarcReportUri> out;
  for (std::string_view item : Split(v, ',')) {
    item = TrimWsp(item);
    if (item.empty()) return Status::Malformed(std::string(tag) + ": empty URI");
    if (out.size() == kMaxDmarcReportUris) {
      return Status::Malformed(std::string(tag) + ": more than " +
                               std::to_string(kMaxDmarcReportUris) + " URIs");
    }
    DmarcReportUri u;
    // '!' and ',' must be percent-encoded inside the URI (RFC 7489 §6.4), so the first '!'
    // starts the size suffix.
    size_t bang = item.find('!');
    std::string_view uri = item.substr(0, bang);
    if (bang != std::string_view::npos) {
      std::string_view size = item.substr(bang + 1);
      uint64_t mult = 1;
      if (!size.empty() && !IsDigit(size.back())) {
        switch (AsciiLower(size.substr(size.size() - 1))[0]) {
          case 'k':
            mult = uint64_t{1} << 10;
            break;
          case 'm':
            mult = uint64_t{1} << 20;
            break;
          case 'g':
            mult = uint64_t{1} << 30;
            break;
          case 't':
            mult = uint64_t{1} << 40;
            break;
          default:
            return Status::Malformed(std::string(tag) + ": bad size suffix \"" +
                                     Printable(size, 40) + "\"");
        }
        size.remove_suffix(1);
      }
      Result<uint64_t> n = ParseDigits(std::string(tag) + " size", size,
                                       std::numeric_limits<uint64_t>::max() / mult / 10);
      if (!n.ok()) return n.status();
      u.max_size_bytes = *n * mult;
    }
    // scheme ":" rest, with no whitespace inside (RFC 3986 §3.1).
    size_t colon = uri.find(':');
    bool ok =
        colon != std::string_view::npos && colon > 0 && IsAlpha(uri[0]) && colon + 1 < uri.size();
    for (size_t i = 0; ok && i < colon; ++i) {
      char c = uri[i];
      ok = IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.';
    }
    ok = ok && internal::VisibleAscii(uri);
    if (!ok) {
      return Status::Malformed(std::string(tag) + ": \"" + Printable(uri, 60) + "\" is not a URI");
    }
    u.uri = std::string(uri);
    u.scheme = AsciiLower(uri.substr(0, colon));
    if (u.scheme == "mailto") u.valid_mailto = ValidMailto(uri.substr(colon + 1), &u.domain);
    out.push_back(std::move(u));
  }
  return out;
}

// A colon-separated list whose elements each pass `ok`; returns it normalized (lower case,
// no whitespace).
Result<std::string> ParseColonList(std::string_view tag, std::string_view v,
                                   bool (*ok)(std::string_view)) {
  std::string out;
  for (std::string_view item : Split(v, ':')) {
    item = TrimWsp(item);
    if (!ok(item)) {
      return Status::Malformed(std::string(tag) + ": bad element \"" + Printable(item, 40) + "\"");
    }
    if (!out.empty()) out += ':';
    out += AsciiLower(item);
  }
  return out;
}

bool IsFoOption(std::string_view s) {
  return s.size() == 1 && std::string_view("01dsDS").find(s[0]) != std::string_view::npos;
}
bool IsAfrf(std::string_view s) { return EqualsIgnoreCase(s, "afrf"); }

bool ValidTagName(std::string_view n) {
  if (n.empty() || !IsAlpha(n[0])) return false;
  for (char c : n) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '_') return false;
  }
  return true;
}

bool IsKnownTag(std::string_view name) {
  for (std::string_view k :
       {"p", "sp", "np", "adkim", "aspf", "pct", "ri", "rua", "ruf", "fo", "rf", "t", "psd"}) {
    if (name == k) return true;
  }
  return false;
}

// Applies one tag to *r; unknown tags are left to the caller.
Status ApplyTag(const std::string& name, std::string_view v, DmarcRecord* r) {
  if (name == "p" || name == "sp" || name == "np") {
    Result<std::optional<DmarcPolicy>> p = ParsePolicy(name, v);
    if (!p.ok()) return p.status();
    (name == "p" ? r->p : name == "sp" ? r->sp : r->np) = *p;
  } else if (name == "adkim" || name == "aspf") {
    Result<char> c = ParseLetter(name, v, "rs");
    if (!c.ok()) return c.status();
    (name == "adkim" ? r->adkim : r->aspf) = *c;
  } else if (name == "pct") {
    Result<uint64_t> n = ParseDigits(name, v, 100);
    if (!n.ok()) return n.status();
    r->pct = static_cast<int>(*n);
  } else if (name == "ri") {
    Result<uint64_t> n = ParseDigits(name, v, std::numeric_limits<uint32_t>::max());
    if (!n.ok()) return n.status();
    r->ri = static_cast<uint32_t>(*n);
  } else if (name == "rua" || name == "ruf") {
    Result<std::vector<DmarcReportUri>> uris = ParseUriList(name, v);
    if (!uris.ok()) return uris.status();
    (name == "rua" ? r->rua : r->ruf) = std::move(*uris);
    if (name == "rua") r->has_rua = true;
  } else if (name == "fo") {
    Result<std::string> fo = ParseColonList(name, v, IsFoOption);
    if (!fo.ok()) return fo.status();
    r->fo = std::move(*fo);
  } else if (name == "rf") {
    Result<std::string> rf = ParseColonList(name, v, IsAfrf);
    if (!rf.ok()) return rf.status();
    r->rf = std::move(*rf);
  } else if (name == "t") {
    Result<char> c = ParseLetter(name, v, "yn");
    if (!c.ok()) return c.status();
    r->t = *c == 'y';
  } else if (name == "psd") {
    Result<char> c = ParseLetter(name, v, "ynu");
    if (!c.ok()) return c.status();
    r->psd = *c;
  }
  return Status::Ok();
}

bool StartsWithSpf(std::string_view s) {
  return s.size() >= 6 && EqualsIgnoreCase(s.substr(0, 6), "v=spf1") &&
         (s.size() == 6 || s[6] == ' ');
}

bool LookupFailed(const DmarcLookup& l) { return internal::LookupFailed(l.status); }

}  // namespace

std::string_view DmarcPolicyName(DmarcPolicy p) {
  switch (p) {
    case DmarcPolicy::kNone:
      return "none";
    case DmarcPolicy::kQuarantine:
      return "quarantine";
    case DmarcPolicy::kReject:
      return "reject";
  }
  return "none";
}

Result<DmarcRecord> ParseDmarcRecord(std::string_view txt) {
  if (Status size = internal::CheckSize(txt, kMaxDmarcRecordBytes, "record"); !size.ok()) {
    return size;
  }
  if (internal::HasControlChar(txt)) return Status::Malformed("control character in record");
  if (!txt.empty() && IsWsp(txt.front()))
    return Status::Malformed("v: record starts with whitespace");
  DmarcRecord r;
  bool first = true;
  for (std::string_view seg : Split(txt, ';')) {
    seg = TrimWsp(seg);
    if (seg.empty() && !first) continue;  // ";;" and a trailing ';'
    size_t eq = seg.find('=');
    std::string_view raw_name = TrimWsp(seg.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? "" : TrimWsp(seg.substr(eq + 1));
    if (first) {
      // RFC 7489 §6.4: %x44 %x4d %x41 %x52 %x43 %x31, i.e. exactly "DMARC1".
      if (eq == std::string_view::npos || !EqualsIgnoreCase(raw_name, "v") || value != "DMARC1") {
        return Status::Malformed("v: record must start with v=DMARC1, got " + Quote(seg));
      }
      r.tags.push_back("v");
      first = false;
      continue;
    }
    if (eq == std::string_view::npos) return Status::Malformed("tag without '=': " + Quote(seg));
    if (!ValidTagName(raw_name)) return Status::Malformed("bad tag name " + Quote(raw_name));
    std::string name = AsciiLower(raw_name);
    if (std::find(r.tags.begin(), r.tags.end(), name) != r.tags.end()) {
      return Status::Malformed(name + ": duplicate tag");
    }
    r.tags.push_back(name);
    bool known = IsKnownTag(name);
    if (value.empty()) {
      // Unknown tags may be empty (RFC 6376 tag-value); ours may not.
      if (known) return Status::Malformed(name + ": empty value");
    } else {
      Status s = ApplyTag(name, value, &r);
      if (!s.ok()) return s;
    }
    if (!known) r.unknown_tags.push_back(name);
  }
  return r;
}

bool LooksLikeDmarcRecord(std::string_view txt) {
  if (txt.empty() || (txt[0] != 'v' && txt[0] != 'V')) return false;
  size_t i = 1;
  while (i < txt.size() && IsWsp(txt[i])) ++i;
  if (i >= txt.size() || txt[i] != '=') return false;
  ++i;
  while (i < txt.size() && IsWsp(txt[i])) ++i;
  if (txt.size() - i < 6 || !EqualsIgnoreCase(txt.substr(i, 6), "DMARC1")) return false;
  i += 6;
  return i == txt.size() || IsWsp(txt[i]) || txt[i] == ';';
}

DmarcSelection SelectDmarcRecord(const std::vector<std::string>& txts) {
  DmarcSelection sel;
  const size_t n = std::min(txts.size(), kMaxDmarcTxtStrings);
  for (size_t i = 0; i < n; ++i) {
    std::string_view t = txts[i];
    if (LooksLikeDmarcRecord(t)) {
      if (sel.records++ == 0) sel.record = std::string(t);
    } else if (!t.empty() && IsWsp(t[0]) && LooksLikeDmarcRecord(TrimSpace(t))) {
      ++sel.leading_whitespace;
    } else if (StartsWithSpf(t)) {
      ++sel.spf;
    } else {
      ++sel.unrelated;
    }
  }
  sel.count = sel.records == 0   ? DmarcSelection::Count::kNone
              : sel.records == 1 ? DmarcSelection::Count::kOne
                                 : DmarcSelection::Count::kMultiple;
  if (sel.count != DmarcSelection::Count::kOne) sel.record.clear();
  return sel;
}

std::string OrganizationalDomain(std::string_view domain) {
  std::string d = NormalizeDomain(domain);
  size_t last = d.rfind('.');
  if (last == std::string::npos || last == 0) return d;
  size_t prev = d.rfind('.', last - 1);
  return prev == std::string::npos ? d : d.substr(prev + 1);
}

std::vector<std::string> DmarcLookupNames(std::string_view domain) {
  std::string d = NormalizeDomain(domain);
  if (d.empty()) return {};
  std::vector<std::string> names{"_dmarc." + d};
  std::string org = OrganizationalDomain(d);
  if (org != d) names.push_back("_dmarc." + org);
  return names;
}

std::vector<std::string> ExternalReportNames(std::string_view policy_domain,
                                             const std::vector<DmarcReportUri>& uris) {
  const std::string pd = NormalizeDomain(policy_domain);
  const std::string org = OrganizationalDomain(pd);
  std::vector<std::string> names;
  for (const DmarcReportUri& u : uris) {
    if (!u.valid_mailto || u.domain.empty() || OrganizationalDomain(u.domain) == org) continue;
    std::string name = pd + "._report._dmarc." + u.domain;
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

bool AuthorizesExternalReports(const std::vector<std::string>& txts) {
  return SelectDmarcRecord(txts).records > 0;
}

DmarcAssessment AssessDmarc(const DmarcInputs& in) {
  DmarcAssessment out;
  auto add = [&out](std::string_view id, CheckVerdict v, std::string detail) {
    out.findings.push_back(Finding{id, v, std::move(detail)});
  };
  const std::string domain = NormalizeDomain(in.domain);
  const std::string org = OrganizationalDomain(domain);
  out.policy_domain = domain;

  // DMARC-01: discovery at the domain, then at the organizational domain.
  if (LookupFailed(in.at_domain)) {
    add(kDmarcPresentCheck, CheckVerdict::kError,
        "lookup of _dmarc." + domain + " failed: " + in.at_domain.status.ToString());
    return out;
  }
  DmarcSelection sel = SelectDmarcRecord(in.at_domain.txts);
  std::string where = "_dmarc." + domain;
  if (sel.count == DmarcSelection::Count::kNone && in.at_org && org != domain) {
    if (LookupFailed(*in.at_org)) {
      add(kDmarcPresentCheck, CheckVerdict::kError,
          "lookup of _dmarc." + org + " failed: " + in.at_org->status.ToString());
      return out;
    }
    DmarcSelection org_sel = SelectDmarcRecord(in.at_org->txts);
    if (org_sel.count != DmarcSelection::Count::kNone) {
      sel = std::move(org_sel);
      where = "_dmarc." + org;
      out.at_org_domain = true;
      out.policy_domain = org;
    }
  }
  if (sel.count == DmarcSelection::Count::kNone) {
    std::string detail = "no v=DMARC1 record at _dmarc." + domain;
    if (org != domain) detail += " nor at _dmarc." + org;
    if (sel.leading_whitespace > 0) {
      detail += " (a record there starts with whitespace; receivers discard it)";
    }
    add(kDmarcPresentCheck, CheckVerdict::kFail, std::move(detail));
  } else {
    add(kDmarcPresentCheck, CheckVerdict::kPass, "record at " + where);
    if (sel.count == DmarcSelection::Count::kMultiple) {
      add(kDmarcSingleRecordCheck, CheckVerdict::kFail,
          std::to_string(sel.records) + " records at " + where +
              ": receivers apply no policy (RFC 7489 §6.6.3)");
    } else {
      add(kDmarcSingleRecordCheck, CheckVerdict::kPass, "one record at " + where);
    }
  }

  // DMARC-02: placement hygiene.
  {
    bool apex_record = in.apex && in.apex->status.ok() && AuthorizesExternalReports(in.apex->txts);
    std::vector<std::string> fails, warns;
    if (sel.leading_whitespace > 0)
      fails.push_back("a record at " + where + " starts with whitespace");
    if (sel.spf > 0) fails.push_back("an SPF record answers at " + where);
    if (apex_record && sel.count == DmarcSelection::Count::kNone) {
      fails.push_back("v=DMARC1 published at " + domain + " instead of _dmarc." + domain);
    } else if (apex_record) {
      warns.push_back("a v=DMARC1 record at " + domain + " itself has no effect");
    }
    if (sel.unrelated > 0) {
      warns.push_back(std::to_string(sel.unrelated) + " unrelated TXT string(s) at " + where);
    }
    if (!fails.empty()) {
      add(kDmarcRecordPlacementCheck, CheckVerdict::kFail, Join(fails));
    } else if (!warns.empty()) {
      add(kDmarcRecordPlacementCheck, CheckVerdict::kWarn, Join(warns));
    } else {
      add(kDmarcRecordPlacementCheck, CheckVerdict::kPass, "only the DMARC record at " + where);
    }
  }
  if (sel.count != DmarcSelection::Count::kOne) return out;
  out.present = true;

  // DMARC-03: syntax.
  Result<DmarcRecord> parsed = ParseDmarcRecord(sel.record);
  if (!parsed.ok()) {
    add(kDmarcSyntaxCheck, CheckVerdict::kFail, parsed.status().message());
    return out;
  }
  out.valid = true;
  const DmarcRecord& r = out.record.emplace(std::move(parsed).value());
  {
    std::vector<std::string> warns;
    if (!r.unknown_tags.empty()) warns.push_back("unknown tag(s) ignored: " + Join(r.unknown_tags));
    if (r.rf) warns.push_back("rf is removed in DMARCbis");
    if (r.ri) warns.push_back("ri is removed in DMARCbis");
    std::vector<std::string_view> fo = Split(r.fo, ':');
    if (std::find(fo.begin(), fo.end(), "0") != fo.end() &&
        std::find(fo.begin(), fo.end(), "1") != fo.end()) {
      warns.push_back("fo has both 0 and 1 (1 already covers 0)");
    }
    if (warns.empty()) {
      add(kDmarcSyntaxCheck, CheckVerdict::kPass, "valid");
    } else {
      add(kDmarcSyntaxCheck, CheckVerdict::kWarn, Join(warns));
    }
  }

  // pct (DMARC-03's "removed in RFC 9989").
  if (r.pct) {
    std::string detail = "pct=" + std::to_string(*r.pct) + " is removed in DMARCbis";
    if (*r.pct < 100) {
      detail += "; the policy applies to " + std::to_string(*r.pct) + "% of failing mail";
    }
    add(kDmarcPctCheck, CheckVerdict::kWarn, std::move(detail));
  } else {
    add(kDmarcPctCheck, CheckVerdict::kPass, "no pct: the policy applies to all failing mail");
  }

  // DMARC-04: effective policy.
  if (!r.p) {
    add(kDmarcPolicyCheck, CheckVerdict::kFail, "no p tag");
  } else {
    DmarcPolicy eff = (out.at_org_domain && r.sp) ? *r.sp : *r.p;
    std::string detail =
        std::string(out.at_org_domain && r.sp ? "sp=" : "p=") + std::string(DmarcPolicyName(eff));
    if (r.t.value_or(false)) {
      eff = eff == DmarcPolicy::kReject ? DmarcPolicy::kQuarantine : DmarcPolicy::kNone;
      detail += " with t=y, applied as " + std::string(DmarcPolicyName(eff));
    }
    add(kDmarcPolicyCheck, eff == DmarcPolicy::kNone ? CheckVerdict::kFail : CheckVerdict::kPass,
        std::move(detail));
    if (*r.p != DmarcPolicy::kNone && r.sp == DmarcPolicy::kNone) {
      add(kDmarcSubdomainPolicyCheck, CheckVerdict::kWarn,
          "sp=none exempts subdomains from p=" + std::string(DmarcPolicyName(*r.p)));
    } else {
      add(kDmarcSubdomainPolicyCheck, CheckVerdict::kPass,
          "subdomains get " + std::string(DmarcPolicyName(*r.SubdomainPolicy())));
    }
    // DMARC-05.
    if (r.tags.size() > 1 && r.tags[1] == "p") {
      add(kDmarcPPositionCheck, CheckVerdict::kPass, "p follows v");
    } else {
      add(kDmarcPPositionCheck, CheckVerdict::kWarn, "p is not the tag after v");
    }
  }

  // DMARC-06: report URIs.
  {
    std::vector<std::string> fails, warns;
    if (!r.has_rua) warns.push_back("no rua: no aggregate reports");
    auto look = [&](std::string_view tag, const std::vector<DmarcReportUri>& uris) {
      if (uris.size() > 2) {
        warns.push_back(std::string(tag) + " has " + std::to_string(uris.size()) +
                        " URIs (receivers may use only 2)");
      }
      for (const DmarcReportUri& u : uris) {
        if (!u.valid_mailto) {
          fails.push_back(std::string(tag) + " " + Quote(u.uri) + " is not a valid mailto: URI");
        }
        if (u.max_size_bytes) {
          warns.push_back(std::string(tag) + " " + Quote(u.uri) +
                          " has a !size limit (obsolete in DMARCbis)");
        }
        if (!u.domain.empty() &&
            std::find(in.report_domains_without_mx.begin(), in.report_domains_without_mx.end(),
                      u.domain) != in.report_domains_without_mx.end()) {
          warns.push_back(std::string(tag) + " domain " + u.domain + " has no MX");
        }
      }
    };
    look("rua", r.rua);
    look("ruf", r.ruf);
    if (!fails.empty()) {
      add(kDmarcRuaCheck, CheckVerdict::kFail, Join(fails));
    } else if (!warns.empty()) {
      add(kDmarcRuaCheck, CheckVerdict::kWarn, Join(warns));
    } else {
      add(kDmarcRuaCheck, CheckVerdict::kPass, std::to_string(r.rua.size()) + " rua URI(s)");
    }
  }

  // DMARC-07: external destinations.
  {
    std::vector<DmarcReportUri> all = r.rua;
    all.insert(all.end(), r.ruf.begin(), r.ruf.end());
    std::vector<std::string> names = ExternalReportNames(out.policy_domain, all);
    if (!names.empty()) {
      std::vector<std::string> unauthorized, errors;
      for (const std::string& name : names) {
        auto it = std::find_if(
            in.external.begin(), in.external.end(),
            [&](const DmarcInputs::External& e) { return NormalizeDomain(e.name) == name; });
        if (it == in.external.end()) {
          errors.push_back(name + " not looked up");
        } else if (LookupFailed(it->lookup)) {
          errors.push_back(name + ": " + it->lookup.status.ToString());
        } else if (!it->lookup.status.ok() || !AuthorizesExternalReports(it->lookup.txts)) {
          unauthorized.push_back(name);
        }
      }
      if (!unauthorized.empty()) {
        add(kDmarcExternalRuaAuthorizedCheck, CheckVerdict::kWarn,
            "no v=DMARC1 at " + Join(unauthorized));
      } else if (!errors.empty()) {
        add(kDmarcExternalRuaAuthorizedCheck, CheckVerdict::kError, Join(errors));
      } else {
        add(kDmarcExternalRuaAuthorizedCheck, CheckVerdict::kPass,
            std::to_string(names.size()) + " external destination(s) authorised");
      }
    }
  }
  return out;
}

const std::vector<std::string_view>& DmarcCheckIds() {
  static const std::vector<std::string_view> kIds = {kDmarcPresentCheck,
                                                     kDmarcSingleRecordCheck,
                                                     kDmarcRecordPlacementCheck,
                                                     kDmarcSyntaxCheck,
                                                     kDmarcPctCheck,
                                                     kDmarcPolicyCheck,
                                                     kDmarcSubdomainPolicyCheck,
                                                     kDmarcPPositionCheck,
                                                     kDmarcRuaCheck,
                                                     kDmarcExternalRuaAuthorizedCheck};
  return kIds;
}

}  // namespace mailsec::checks
