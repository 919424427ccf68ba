// MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file, MX pattern matching (§4.1),
// policy-change detection, and the verdicts of ../shared/CHECKS.md section 8. Pure functions: the
// caller does the DNS queries and the HTTPS fetch and passes their outcomes in. Thread-safe.
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

// A `v=STSv1; id=...;` record is under 100 bytes; extensions included, 1 KiB is generous.
inline constexpr size_t kMaxMtaStsRecordBytes = 1024;
// The policy body: RFC 8461 §3.3 lets senders bound the fetch; real policies are a few hundred
// bytes, so 64 KiB only stops a host that streams without end.
inline constexpr size_t kMaxMtaStsPolicyBytes = 64 * 1024;
// mx lines kept from one policy; a policy listing more MX patterns than this is not hand-written.
inline constexpr size_t kMaxMtaStsMxPatterns = 256;
// max_age upper bound, RFC 8461 §3.2 (one year of 365.25 days).
inline constexpr uint32_t kMtaStsMaxAgeLimit = 31557600;
// Below one week, a policy is easy to outlast at refresh time (RFC 8461 §3.2 expects "weeks or
// greater").
inline constexpr uint32_t kMtaStsMinGoodMaxAge = 604800;
// TXT strings looked at per queried name.
inline constexpr size_t kMaxMtaStsTxtStrings = 64;

// Check ids (CHECKS.md section 8 in brackets).
inline constexpr std::string_view kMtaStsRecordCheck = "mta_sts_record";                 // STS-01
inline constexpr std::string_view kMtaStsRecordSyntaxCheck = "mta_sts_record_syntax";    // STS-02
inline constexpr std::string_view kMtaStsPolicyFetchCheck = "mta_sts_policy_fetch";      // STS-03
inline constexpr std::string_view kMtaStsPolicySyntaxCheck = "mta_sts_policy_syntax";    // STS-04
inline constexpr std::string_view kMtaStsMaxAgeCheck = "mta_sts_max_age";                // STS-05
inline constexpr std::string_view kMtaStsModeCheck = "mta_sts_mode";                     // STS-06
inline constexpr std::string_view kMtaStsMxCoveredCheck = "mta_sts_mx_covered";          // STS-07
inline constexpr std::string_view kMtaStsMxTlsCheck = "mta_sts_mx_tls";                  // STS-08
inline constexpr std::string_view kMtaStsPolicyIdCheck = "mta_sts_policy_id_unchanged";  // STS-09

struct MtaStsRecord {
  std::string id;                       // 1-32 ALPHA/DIGIT
  std::vector<std::string> extensions;  // names of sts-ext fields, as written
};

// Parses one TXT record per RFC 8461 §3.1: `v=STSv1` exactly (case-sensitive, no whitespace
// around '='), then `;`-delimited fields with optional whitespace around ';', a trailing ';'
// allowed. `id` is required, 1-32 letters/digits; other fields must be well-formed sts-ext
// fields and are returned in extensions. Errors (kMalformed) name the field; a duplicate field is
// an error (CHECKS.md STS-02).
[[nodiscard]] Result<MtaStsRecord> ParseMtaStsRecord(std::string_view txt);

// The TXT strings at `_mta-sts.<domain>` (or at the apex), sorted out. One element per TXT RR,
// its character-strings already concatenated (RFC 8461 §3.1).
struct MtaStsSelection {
  enum class Count : uint8_t { kNone, kOne, kMultiple };
  Count count = Count::kNone;
  std::string record;  // when count == kOne
  size_t records = 0;  // strings starting "v=STSv1"
  size_t spf = 0;      // "v=spf1" strings
  size_t unrelated = 0;
};
MtaStsSelection SelectMtaStsRecord(const std::vector<std::string>& txts);

enum class MtaStsMode : uint8_t { kEnforce, kTesting, kNone };
std::string_view MtaStsModeName(MtaStsMode m);  // "enforce", "testing", "none"

struct MtaStsPolicy {
  MtaStsMode mode = MtaStsMode::kNone;
  uint32_t max_age = 0;
  std::vector<std::string> mx;            // patterns as written
  std::vector<std::string> unknown_keys;  // extension fields, ignored
};

// Parses a policy body per RFC 8461 §3.2: lines `key:` [WSP] value [WSP] ended by CRLF or LF
// (the last line may lack one; empty lines are tolerated). Keys are case-sensitive. Required:
// version (exactly STSv1), mode (enforce, testing, none), max_age (1-10 digits, 0..31557600), and
// at least one mx unless mode is none; each mx is a domain or "*." + domain. Order is free. Errors
// (kMalformed, naming the key or line): a missing or bad required field, a duplicate non-mx key
// (CHECKS.md STS-04; RFC 8461 senders would take the first),
// a line that is not key: value, a body over kMaxMtaStsPolicyBytes, over kMaxMtaStsMxPatterns mx
// lines. Unknown well-formed keys go to unknown_keys.
[[nodiscard]] Result<MtaStsPolicy> ParseMtaStsPolicy(std::string_view body);

// RFC 8461 §4.1: true when `mx_host` equals `pattern`, or the pattern is "*." + suffix and the host
// is exactly one label followed by "." + suffix. ASCII case-insensitive; one trailing dot on
// either side is ignored. Empty labels never match.
bool MxMatchesPattern(std::string_view mx_host, std::string_view pattern);

struct MxCoverage {
  bool all = true;                     // every host matched (true for an empty host list)
  std::vector<std::string> uncovered;  // hosts that matched no pattern, as given
};
MxCoverage MxCovered(const std::vector<std::string>& mx_hosts, const MtaStsPolicy& policy);

// How the HTTPS GET of https://mta-sts.<domain>/.well-known/mta-sts.txt ended. Filled by the
// fetcher; evaluated here without I/O.
enum class PolicyFetchOutcome : uint8_t {
  kOk,             // a response arrived over TLS with a PKIX-valid certificate for the host
  kNoHost,         // mta-sts.<domain> does not resolve (NXDOMAIN / no address)
  kDnsError,       // the resolver failed (SERVFAIL, timeout): could not test
  kConnectFailed,  // refused or unreachable
  kTimeout,        // no complete response within the deadline
  kTlsFailed,      // the handshake failed
  kCertInvalid,    // the certificate is not PKIX-valid or does not match mta-sts.<domain>
  kTooLarge,       // the body exceeded kMaxMtaStsPolicyBytes
};

struct PolicyFetch {
  PolicyFetchOutcome outcome = PolicyFetchOutcome::kOk;
  int http_status = 0;       // with kOk
  std::string content_type;  // with kOk; empty when the header was absent
  std::string body;          // with kOk and status 200
};

// True for "text/plain" with or without parameters (case-insensitive).
bool IsTextPlain(std::string_view content_type);

// A stable 64-bit FNV-1a hash of the policy body, for the history kept by the caller. Stable
// across builds and versions, so it may be persisted.
uint64_t MtaStsBodyHash(std::string_view body);

// STS-09: what the last scrape saw, as the caller keeps it.
struct MtaStsSeen {
  std::string id;
  uint64_t body_hash = 0;
};

enum class PolicyChange : uint8_t {
  kFirstSeen,            // no previous observation
  kUnchanged,            // same id, same body
  kNewId,                // the id changed (the body may or may not have)
  kChangedWithoutNewId,  // the body changed, the id did not: senders keep the old policy
};
PolicyChange DetectPolicyChange(const std::optional<MtaStsSeen>& previous,
                                const MtaStsSeen& current);

// STS-08 input: how one MX's STARTTLS went, as the endpoint probe saw it.
struct MxTlsResult {
  std::string host;
  bool starttls = false;    // STARTTLS offered and the handshake completed
  bool cert_valid = false;  // PKIX-valid, unexpired, and matching the MX host name
};

struct MtaStsInputs {
  std::string domain;
  // _mta-sts.<domain> TXT. Status NotFound or ok with no strings: no record; other errors: DNS
  // failure.
  Status record_status;
  std::vector<std::string> record_txts;
  // TXT at <domain> itself, when the caller looked (STS-01 "record in the wrong place").
  std::optional<std::vector<std::string>> apex_txts;
  // The policy fetch, when the caller made one (it should whenever a record exists).
  std::optional<PolicyFetch> fetch;
  std::vector<std::string> mx_hosts;   // the domain's MX host names
  std::vector<MxTlsResult> mx_tls;     // STS-08, for the MX hosts the caller probed
  std::optional<MtaStsSeen> previous;  // STS-09 history
};

struct MtaStsAssessment {
  bool present = false;       // exactly one v=STSv1 record (contract: mta_sts_present)
  bool policy_valid = false;  // fetched over verified HTTPS (200) and parsed (contract)
  std::optional<MtaStsRecord> record;
  std::optional<MtaStsPolicy> policy;
  std::optional<bool> mx_covered;     // with a valid policy (contract: mta_sts_mx_covered)
  std::optional<MtaStsSeen> current;  // to store for the next STS-09 comparison
  std::vector<Finding> findings;
};

// Applies the rules of CHECKS.md section 8 (STS-01..09; STS-10 reuses the certificate checks).
MtaStsAssessment AssessMtaSts(const MtaStsInputs& in);

// Every check id AssessMtaSts can yield.
const std::vector<std::string_view>& MtaStsCheckIds();

}  // namespace mailsec::checks
