// CAA for mail hosts (RFC 8659, RFC 8657, RFC 9495): record validation and the CHECKS.md section 12
// verdict CAA-01 for one host. The caller climbs the tree (CaaLookupNames) and passes the closest
// RRset found. Pure functions over untrusted record text; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/checks/dns_outcome.h"
#include "mailsec/checks/verdict.h"

namespace mailsec::checks {

// Records evaluated per RRset, as Internet.nl does; more is hostile or broken, and the rest are
// ignored (the detail says so).
inline constexpr size_t kMaxCaaRecords = 100;
// A CAA value is one RDATA, at most 65535 bytes on the wire; values longer than this are not
// issuer names or URLs and are rejected without being scanned further.
inline constexpr size_t kMaxCaaValueBytes = 2048;

inline constexpr std::string_view kCaaCheck = "caa";  // CAA-01

// The issuer-critical flag (RFC 8659 §4.1); every other bit is reserved.
inline constexpr uint8_t kCaaCriticalFlag = 0x80;

struct CaaRecordIn {
  uint8_t flags = 0;
  std::string tag;    // as received
  std::string value;  // raw bytes
};

struct CaaInputs {
  std::string host;
  // kError when any lookup of the climb failed; kNxDomain/kNoData when no name had CAA.
  LookupStatus status = LookupStatus::kNoData;
  std::vector<CaaRecordIn> records;  // the closest RRset
  std::string found_at;              // the name that held `records`
};

struct CaaAssessment {
  bool found = false;                // a non-empty RRset was found
  std::vector<std::string> issuers;  // CaaIssuers(records)
  std::vector<Finding> findings;
};

// The names to query in order, stopping at the first with CAA: `host`, its parent, ... up to but
// excluding the top-level domain (RFC 8659 §3 climbs to the root; TLDs publish no CAA for mail
// hosts and the extra queries would cost every probe). Normalized (lower case, no trailing dot);
// empty for a single-label or malformed name.
std::vector<std::string> CaaLookupNames(std::string_view host);

// Validates one record: Ok, or kMalformed naming the problem. Tags are matched case-insensitively
// (RFC 8659 §4.1). Checked: reserved flag bits; the tag (1-15 letters/digits); issue, issuewild,
// issuevmc and issuemail values against the RFC 8659 §4.2 grammar (issuer-domain-name and
// `tag=value` parameters; RFC 8657 validationmethods as a comma-separated list of method names);
// iodef as a mailto: or https: URL; contactemail as an address; contactphone as a "+" number;
// unknown or reserved tags; non-UTF-8 values.
[[nodiscard]] Status ValidateCaaRecord(const CaaRecordIn& r);

// True for a tag this code knows (issue, issuewild, iodef, issuevmc, issuemail, contactemail,
// contactphone), any case.
bool IsKnownCaaTag(std::string_view tag);

// The issuer domain names of the valid `issue` records, lower-cased, each once, in order. An
// `issue ";"` (no issuer) authorises nobody and adds nothing.
std::vector<std::string> CaaIssuers(const std::vector<CaaRecordIn>& records);

// CAA-01: error when the lookup failed; warn when no CAA was found, when a record is invalid or
// when there is no `issue` property; fail when an unknown tag has the critical flag (CAs must not
// issue, RFC 8659 §4.1); pass otherwise.
CaaAssessment AssessCaa(const CaaInputs& in);

}  // namespace mailsec::checks
