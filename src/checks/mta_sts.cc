#include "mailsec/checks/mta_sts.h"

#include <algorithm>

#include "checks/text_util.h"
#include "mailsec/base/text.h"

namespace mailsec::checks {
namespace {

using internal::IsAlnum;
using internal::IsDigit;
using internal::Join;
using internal::LookupFailed;
using internal::NormalizeName;
using internal::Quote;
using internal::StartsRecord;
using internal::TrimWsp;
using internal::ValidDomain;
using internal::ValidExtName;

constexpr std::string_view kVersion = "v=STSv1";

bool HasEmptyLabel(std::string_view name) {
  return name.empty() || name.front() == '.' || name.back() == '.' ||
         name.find("..") != std::string_view::npos;
}

}  // namespace

Result<MtaStsRecord> ParseMtaStsRecord(std::string_view txt) {
  if (Status size = internal::CheckSize(txt, kMaxMtaStsRecordBytes, "record"); !size.ok()) {
    return size;
  }
  MtaStsRecord r;
  Status s = internal::ParseRecordFields(
      txt, kVersion, "id",
      [&r](std::string_view value) {
        bool ok = !value.empty() && value.size() <= 32;
        for (char c : value) ok = ok && IsAlnum(c);
        if (!ok) {
          return Status::Malformed("id: " + Quote(value) + " is not 1-32 letters or digits");
        }
        r.id = std::string(value);
        return Status::Ok();
      },
      &r.extensions);
  if (!s.ok()) return s;
  return r;
}

MtaStsSelection SelectMtaStsRecord(const std::vector<std::string>& txts) {
  MtaStsSelection sel;
  const size_t n = std::min(txts.size(), kMaxMtaStsTxtStrings);
  for (size_t i = 0; i < n; ++i) {
    const std::string& t = txts[i];
    if (StartsRecord(t, kVersion)) {
      if (sel.records++ == 0) sel.record = t;
    } else if (t.size() >= 6 && EqualsIgnoreCase(t.substr(0, 6), "v=spf1")) {
      ++sel.spf;
    } else {
      ++sel.unrelated;
    }
  }
  sel.count = sel.records == 0   ? MtaStsSelection::Count::kNone
              : sel.records == 1 ? MtaStsSelection::Count::kOne
                                 : MtaStsSelection::Count::kMultiple;
  if (sel.count != MtaStsSelection::Count::kOne) sel.record.clear();
  return sel;
}

std::string_view MtaStsModeName(MtaStsMode m) {
  switch (m) {
    case MtaStsMode::kEnforce:
      return "enforce";
    case MtaStsMode::kTesting:
      return "testing";
    case MtaStsMode::kNone:
      return "none";
  }
  return "none";
}

Result<MtaStsPolicy> ParseMtaStsPolicy(std::string_view body) {
  if (Status size = internal::CheckSize(body, kMaxMtaStsPolicyBytes, "policy"); !size.ok()) {
    return size;
  }
  MtaStsPolicy p;
  bool have_version = false, have_mode = false, have_max_age = false;
  size_t line_no = 0;
  size_t start = 0;
  while (start < body.size()) {
    size_t nl = body.find('\n', start);
    std::string_view line =
        body.substr(start, nl == std::string_view::npos ? body.npos : nl - start);
    start = nl == std::string_view::npos ? body.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = "line " + std::to_string(line_no);
    if (internal::HasControlChar(line)) return Status::Malformed(where + ": control character");
    if (TrimWsp(line).empty()) continue;  // tolerated, though the ABNF has no empty lines
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Status::Malformed(where + ": not a key: value pair: " + Quote(line));
    }
    std::string_view key = line.substr(0, colon);
    std::string_view value = TrimWsp(line.substr(colon + 1));
    if (!ValidExtName(key)) return Status::Malformed(where + ": bad key " + Quote(key));
    if (value.empty()) return Status::Malformed(std::string(key) + ": empty value");
    auto once = [&](bool* have) -> Status {
      if (*have) return Status::Malformed(std::string(key) + ": duplicate key");
      *have = true;
      return Status::Ok();
    };
    if (key == "version") {
      if (Status s = once(&have_version); !s.ok()) return s;
      if (value != "STSv1") return Status::Malformed("version: " + Quote(value) + " is not STSv1");
    } else if (key == "mode") {
      if (Status s = once(&have_mode); !s.ok()) return s;
      if (value == "enforce") {
        p.mode = MtaStsMode::kEnforce;
      } else if (value == "testing") {
        p.mode = MtaStsMode::kTesting;
      } else if (value == "none") {
        p.mode = MtaStsMode::kNone;
      } else {
        return Status::Malformed("mode: " + Quote(value) + " is not enforce, testing or none");
      }
    } else if (key == "max_age") {
      if (Status s = once(&have_max_age); !s.ok()) return s;
      bool ok = value.size() <= 10;
      uint64_t n = 0;
      for (char c : value) {
        ok = ok && IsDigit(c);
        if (ok) n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      if (!ok || n > kMtaStsMaxAgeLimit) {
        return Status::Malformed("max_age: " + Quote(value) + " is not an integer in 0.." +
                                 std::to_string(kMtaStsMaxAgeLimit));
      }
      p.max_age = static_cast<uint32_t>(n);
    } else if (key == "mx") {
      std::string_view domain = value.substr(0, 2) == "*." ? value.substr(2) : value;
      if (!ValidDomain(domain)) {
        return Status::Malformed("mx: " + Quote(value) + " is not a domain or *.domain");
      }
      if (p.mx.size() == kMaxMtaStsMxPatterns) {
        return Status::Malformed("mx: more than " + std::to_string(kMaxMtaStsMxPatterns) +
                                 " patterns");
      }
      p.mx.emplace_back(value);
    } else {
      for (char c : value) {
        if (c == '\t') return Status::Malformed(std::string(key) + ": tab in value");
      }
      if (std::find(p.unknown_keys.begin(), p.unknown_keys.end(), key) == p.unknown_keys.end()) {
        p.unknown_keys.emplace_back(key);
      }
    }
  }
  if (!have_version) return Status::Malformed("version: missing");
  if (!have_mode) return Status::Malformed("mode: missing");
  if (!have_max_age) return Status::Malformed("max_age: missing");
  if (p.mode != MtaStsMode::kNone && p.mx.empty()) {
    return Status::Malformed("mx: missing (required unless mode is none)");
  }
  return p;
}

bool MxMatchesPattern(std::string_view mx_host, std::string_view pattern) {
  const std::string host = NormalizeName(mx_host);
  const std::string pat = NormalizeName(pattern);
  if (HasEmptyLabel(host) || host.find('*') != std::string::npos) return false;
  if (pat.size() > 2 && pat[0] == '*' && pat[1] == '.') {
    std::string_view suffix = std::string_view(pat).substr(2);
    if (HasEmptyLabel(suffix) || suffix.find('*') != std::string_view::npos) return false;
    size_t dot = host.find('.');
    // The wildcard stands for exactly one label: the rest of the host must equal the suffix.
    return dot != std::string::npos && std::string_view(host).substr(dot + 1) == suffix;
  }
  if (HasEmptyLabel(pat) || pat.find('*') != std::string::npos) return false;
  return host == pat;
}

MxCoverage MxCovered(const std::vector<std::string>& mx_hosts, const MtaStsPolicy& policy) {
  MxCoverage c;
  for (const std::string& h : mx_hosts) {
    bool hit = std::any_of(policy.mx.begin(), policy.mx.end(),
                           [&](const std::string& pat) { return MxMatchesPattern(h, pat); });
    if (!hit) {
      c.all = false;
      c.uncovered.push_back(h);
    }
  }
  return c;
}

bool IsTextPlain(std::string_view content_type) {
  return EqualsIgnoreCase(TrimSpace(content_type.substr(0, content_type.find(';'))), "text/plain");
}

uint64_t MtaStsBodyHash(std::string_view body) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64-bit offset basis
  for (char c : body) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;  // FNV-1a 64-bit prime
  }
  return h;
}

PolicyChange DetectPolicyChange(const std::optional<MtaStsSeen>& previous,
                                const MtaStsSeen& current) {
  if (!previous) return PolicyChange::kFirstSeen;
  if (previous->id != current.id) return PolicyChange::kNewId;
  if (previous->body_hash == current.body_hash) return PolicyChange::kUnchanged;
  return PolicyChange::kChangedWithoutNewId;
}

MtaStsAssessment AssessMtaSts(const MtaStsInputs& in) {
  MtaStsAssessment out;
  auto add = [&out](std::string_view id, CheckVerdict v, std::string detail) {
    out.findings.push_back(Finding{id, v, std::move(detail)});
  };
  const std::string domain = NormalizeName(TrimSpace(in.domain));
  const std::string where = "_mta-sts." + domain;

  // STS-01: discovery.
  if (LookupFailed(in.record_status)) {
    add(kMtaStsRecordCheck, CheckVerdict::kError,
        "lookup of " + where + " failed: " + in.record_status.ToString());
    return out;
  }
  const MtaStsSelection sel = SelectMtaStsRecord(in.record_txts);
  const bool apex_record =
      in.apex_txts && SelectMtaStsRecord(*in.apex_txts).count != MtaStsSelection::Count::kNone;
  if (sel.count == MtaStsSelection::Count::kNone) {
    // No MTA-STS: nothing applies, unless the record sits at the apex by mistake.
    if (apex_record) {
      add(kMtaStsRecordCheck, CheckVerdict::kFail,
          "v=STSv1 published at " + domain + " instead of " + where);
    }
    return out;
  }
  out.present = true;
  if (sel.count == MtaStsSelection::Count::kMultiple) {
    add(kMtaStsRecordCheck, CheckVerdict::kFail,
        std::to_string(sel.records) + " v=STSv1 records at " + where +
            ": senders assume no policy (RFC 8461 §3.1)");
    return out;
  }
  if (sel.spf > 0) {
    add(kMtaStsRecordCheck, CheckVerdict::kFail, "an SPF record also answers at " + where);
  } else if (sel.unrelated > 0) {
    add(kMtaStsRecordCheck, CheckVerdict::kWarn,
        std::to_string(sel.unrelated) + " unrelated TXT string(s) at " + where);
  } else {
    add(kMtaStsRecordCheck, CheckVerdict::kPass, "one record at " + where);
  }

  // STS-02: record syntax.
  Result<MtaStsRecord> rec = ParseMtaStsRecord(sel.record);
  if (!rec.ok()) {
    add(kMtaStsRecordSyntaxCheck, CheckVerdict::kFail, rec.status().message());
    return out;
  }
  out.record = std::move(rec).value();
  if (!out.record->extensions.empty()) {
    add(kMtaStsRecordSyntaxCheck, CheckVerdict::kWarn,
        "extension field(s): " + Join(out.record->extensions));
  } else {
    add(kMtaStsRecordSyntaxCheck, CheckVerdict::kPass, "id=" + out.record->id);
  }

  // STS-03: the fetch.
  if (!in.fetch) return out;
  const PolicyFetch& f = *in.fetch;
  const std::string url = "https://mta-sts." + domain + "/.well-known/mta-sts.txt";
  switch (f.outcome) {
    case PolicyFetchOutcome::kOk:
      break;
    case PolicyFetchOutcome::kDnsError:
      add(kMtaStsPolicyFetchCheck, CheckVerdict::kError, "could not resolve mta-sts." + domain);
      return out;
    case PolicyFetchOutcome::kNoHost:
      add(kMtaStsPolicyFetchCheck, CheckVerdict::kFail, "mta-sts." + domain + " does not resolve");
      return out;
    case PolicyFetchOutcome::kConnectFailed:
      add(kMtaStsPolicyFetchCheck, CheckVerdict::kFail, "cannot connect to mta-sts." + domain);
      return out;
    case PolicyFetchOutcome::kTimeout:
      add(kMtaStsPolicyFetchCheck, CheckVerdict::kFail, "timeout fetching " + url);
      return out;
    case PolicyFetchOutcome::kTlsFailed:
      add(kMtaStsPolicyFetchCheck, CheckVerdict::kFail, "TLS handshake failed for " + url);
      return out;
    case PolicyFetchOutcome::kCertInvalid:
      add(kMtaStsPolicyFetchCheck, CheckVerdict::kFail,
          "certificate of mta-sts." + domain + " is not valid for it");
      return out;
    case PolicyFetchOutcome::kTooLarge:
      add(kMtaStsPolicyFetchCheck, CheckVerdict::kFail,
          "policy larger than " + std::to_string(kMaxMtaStsPolicyBytes) + " bytes");
      return out;
  }
  if (f.http_status >= 300 && f.http_status < 400) {
    add(kMtaStsPolicyFetchCheck, CheckVerdict::kFail,
        "HTTP " + std::to_string(f.http_status) +
            " redirect: senders must not follow it (RFC 8461 §3.3)");
    return out;
  }
  if (f.http_status != 200) {
    add(kMtaStsPolicyFetchCheck, CheckVerdict::kFail,
        "HTTP " + std::to_string(f.http_status) + " for " + url);
    return out;
  }
  if (!IsTextPlain(f.content_type)) {
    add(kMtaStsPolicyFetchCheck, CheckVerdict::kWarn,
        f.content_type.empty() ? std::string("no Content-Type (want text/plain)")
                               : "Content-Type " + Quote(f.content_type) + " (want text/plain)");
  } else {
    add(kMtaStsPolicyFetchCheck, CheckVerdict::kPass, "HTTP 200 text/plain");
  }

  // STS-09 compares raw bodies, so it applies whatever the body says.
  out.current = MtaStsSeen{out.record->id, MtaStsBodyHash(f.body)};
  switch (DetectPolicyChange(in.previous, *out.current)) {
    case PolicyChange::kChangedWithoutNewId:
      add(kMtaStsPolicyIdCheck, CheckVerdict::kWarn,
          "the policy changed but id=" + out.record->id +
              " did not: senders keep their cached policy");
      break;
    case PolicyChange::kFirstSeen:
      add(kMtaStsPolicyIdCheck, CheckVerdict::kPass, "first observation");
      break;
    case PolicyChange::kNewId:
      add(kMtaStsPolicyIdCheck, CheckVerdict::kPass, "new id=" + out.record->id);
      break;
    case PolicyChange::kUnchanged:
      add(kMtaStsPolicyIdCheck, CheckVerdict::kPass, "unchanged");
      break;
  }

  // STS-04: policy syntax.
  Result<MtaStsPolicy> pol = ParseMtaStsPolicy(f.body);
  if (!pol.ok()) {
    add(kMtaStsPolicySyntaxCheck, CheckVerdict::kFail, pol.status().message());
    return out;
  }
  out.policy_valid = true;
  const MtaStsPolicy& p = out.policy.emplace(std::move(pol).value());
  if (!p.unknown_keys.empty()) {
    add(kMtaStsPolicySyntaxCheck, CheckVerdict::kWarn, "unknown key(s): " + Join(p.unknown_keys));
  } else {
    add(kMtaStsPolicySyntaxCheck, CheckVerdict::kPass, "valid");
  }

  // STS-06 and STS-05.
  const std::string mode(MtaStsModeName(p.mode));
  add(kMtaStsModeCheck, p.mode == MtaStsMode::kTesting ? CheckVerdict::kWarn : CheckVerdict::kPass,
      p.mode == MtaStsMode::kNone ? "mode none: policy withdrawn" : "mode " + mode);
  const std::string age = "max_age " + std::to_string(p.max_age);
  if (p.max_age >= kMtaStsMinGoodMaxAge) {
    add(kMtaStsMaxAgeCheck, CheckVerdict::kPass, age);
  } else if (p.mode == MtaStsMode::kNone) {
    add(kMtaStsMaxAgeCheck, CheckVerdict::kPass, age + " with mode none (withdrawing)");
  } else {
    add(kMtaStsMaxAgeCheck, CheckVerdict::kWarn, age + " is under one week");
  }

  // STS-07.
  const MxCoverage cov = MxCovered(in.mx_hosts, p);
  out.mx_covered = cov.all;
  if (p.mode != MtaStsMode::kNone && !in.mx_hosts.empty()) {
    if (cov.all) {
      add(kMtaStsMxCoveredCheck, CheckVerdict::kPass,
          "all " + std::to_string(in.mx_hosts.size()) + " MX match");
    } else {
      add(kMtaStsMxCoveredCheck,
          p.mode == MtaStsMode::kEnforce ? CheckVerdict::kFail : CheckVerdict::kWarn,
          "MX not matched by the policy: " + Join(cov.uncovered));
    }
  }

  // STS-08: only MX the policy names are held to its TLS requirements.
  if (p.mode != MtaStsMode::kNone) {
    std::vector<std::string> bad;
    size_t judged = 0;
    for (const MxTlsResult& t : in.mx_tls) {
      bool named = std::any_of(p.mx.begin(), p.mx.end(), [&](const std::string& pat) {
        return MxMatchesPattern(t.host, pat);
      });
      if (!named) continue;
      ++judged;
      if (!t.starttls) {
        bad.push_back(t.host + " (no STARTTLS)");
      } else if (!t.cert_valid) {
        bad.push_back(t.host + " (certificate not valid)");
      }
    }
    if (judged > 0) {
      if (bad.empty()) {
        add(kMtaStsMxTlsCheck, CheckVerdict::kPass,
            std::to_string(judged) + " MX meet the policy's TLS requirements");
      } else {
        add(kMtaStsMxTlsCheck,
            p.mode == MtaStsMode::kEnforce ? CheckVerdict::kFail : CheckVerdict::kWarn, Join(bad));
      }
    }
  }
  return out;
}

const std::vector<std::string_view>& MtaStsCheckIds() {
  static const std::vector<std::string_view> kIds = {
      kMtaStsRecordCheck,       kMtaStsRecordSyntaxCheck, kMtaStsPolicyFetchCheck,
      kMtaStsPolicySyntaxCheck, kMtaStsMaxAgeCheck,       kMtaStsModeCheck,
      kMtaStsMxCoveredCheck,    kMtaStsMxTlsCheck,        kMtaStsPolicyIdCheck};
  return kIds;
}

}  // namespace mailsec::checks
