// SMTP TLS Reporting (RFC 8460): the `_smtp._tls` TXT record parser, record selection and the
// verdicts of ../shared/CHECKS.md section 9. Pure functions: the caller queries DNS and passes the
// answers in. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/checks/verdict.h"

namespace mailsec::checks {

// A record with a couple of report URIs is ~100 bytes; 2 KiB leaves room for long https URIs.
inline constexpr size_t kMaxTlsRptRecordBytes = 2048;
// URIs kept from one rua; senders are not obliged to report to more than a few.
inline constexpr size_t kMaxTlsRptUris = 32;
// TXT strings looked at per queried name.
inline constexpr size_t kMaxTlsRptTxtStrings = 64;

// Check ids (CHECKS.md section 9 in brackets).
inline constexpr std::string_view kTlsRptPresentCheck = "tlsrpt_present";             // RPT-01
inline constexpr std::string_view kTlsRptValidCheck = "tlsrpt_valid";                 // RPT-02
inline constexpr std::string_view kTlsRptRuaReachableCheck = "tlsrpt_rua_reachable";  // RPT-03

struct TlsRptUri {
  std::string uri;     // as written
  std::string scheme;  // "mailto" or "https"
  std::string host;    // mailto: the address's domain; https: the authority's host; lower-cased
};

struct TlsRptRecord {
  std::vector<TlsRptUri> rua;
  std::vector<std::string> extensions;  // names of extension fields, as written
};

// Parses one record per RFC 8460 §3: `v=TLSRPTv1` exactly and first, then `;`-delimited fields
// (optional whitespace around ';', a trailing ';' allowed). `rua` is required: one or more URIs
// separated by ',' (optional whitespace around it), each `mailto:` with an addr-spec or `https://`
// with a host name. Other fields must be well-formed extensions and are returned by name.
// Errors (kMalformed) name the field: missing/duplicate field, a bad URI or scheme, a record over
// kMaxTlsRptRecordBytes.
[[nodiscard]] Result<TlsRptRecord> ParseTlsRptRecord(std::string_view txt);

// The TXT strings at `_smtp._tls.<domain>`, sorted out; one element per TXT RR, its
// character-strings already concatenated. A record starts "v=TLSRPTv1" followed by ';',
// whitespace or the end.
struct TlsRptSelection {
  enum class Count : uint8_t { kNone, kOne, kMultiple };
  Count count = Count::kNone;
  std::string record;  // when count == kOne
  size_t records = 0;
  size_t unrelated = 0;
};
TlsRptSelection SelectTlsRptRecord(const std::vector<std::string>& txts);

struct TlsRptInputs {
  std::string domain;
  // _smtp._tls.<domain> TXT. Status NotFound or ok with no strings: no record; other errors:
  // DNS failure.
  Status status;
  std::vector<std::string> txts;
  // TXT at <domain> itself, when the caller looked (RPT-01 "record at the apex").
  std::optional<std::vector<std::string>> apex_txts;
  // Whether MTA-STS or DANE is deployed for the domain: then a missing record is a warning.
  bool mta_sts_or_dane = false;
  // RPT-03, when the caller looked: mailto domains without MX, https hosts that failed (no
  // address, connection or certificate failure). Empty vectors with reachability_checked means
  // everything was reachable.
  bool reachability_checked = false;
  std::vector<std::string> unreachable_hosts;
};

struct TlsRptAssessment {
  bool present = false;  // exactly one record (contract: tlsrpt_present)
  bool valid = false;    // ... that parses (contract: tlsrpt_valid)
  std::optional<TlsRptRecord> record;
  std::vector<Finding> findings;
};

// Applies the rules of CHECKS.md section 9.
TlsRptAssessment AssessTlsRpt(const TlsRptInputs& in);

// Every check id AssessTlsRpt can yield.
const std::vector<std::string_view>& TlsRptCheckIds();

}  // namespace mailsec::checks
