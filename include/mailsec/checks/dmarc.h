// DMARC (RFC 7489, with the DMARCbis changes the catalogue names): the `_dmarc` TXT record parser,
// policy discovery over already-fetched TXT answers, report-destination authorisation, and the
// verdicts of ../shared/CHECKS.md section 7. Pure functions: no DNS here, the caller queries the
// names these functions return and passes the answers back. Thread-safe.
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

// A DMARC record is a few hundred bytes; 4 KiB is above any EDNS(0) buffer a resolver advertises
// for one TXT answer, so anything longer is hostile or not a policy.
inline constexpr size_t kMaxDmarcRecordBytes = 4096;
// URIs read from one rua/ruf tag; receivers send to at most two (RFC 7489 §6.2 lets them stop),
// 32 leaves room for the broken records worth reporting on.
inline constexpr size_t kMaxDmarcReportUris = 32;
// TXT strings looked at per queried name; a name with more is broken or hostile.
inline constexpr size_t kMaxDmarcTxtStrings = 64;

// Check ids (CHECKS.md section 7 in brackets).
inline constexpr std::string_view kDmarcPresentCheck = "dmarc_present";             // DMARC-01
inline constexpr std::string_view kDmarcSingleRecordCheck = "dmarc_single_record";  // DMARC-01
inline constexpr std::string_view kDmarcRecordPlacementCheck =
    "dmarc_record_placement";                                          // DMARC-02
inline constexpr std::string_view kDmarcSyntaxCheck = "dmarc_syntax";  // DMARC-03
inline constexpr std::string_view kDmarcPolicyCheck = "dmarc_policy";  // DMARC-04
inline constexpr std::string_view kDmarcSubdomainPolicyCheck =
    "dmarc_subdomain_policy";                                                 // DMARC-04
inline constexpr std::string_view kDmarcPctCheck = "dmarc_pct";               // DMARC-03
inline constexpr std::string_view kDmarcPPositionCheck = "dmarc_p_position";  // DMARC-05
inline constexpr std::string_view kDmarcRuaCheck = "dmarc_rua";               // DMARC-06
inline constexpr std::string_view kDmarcExternalRuaAuthorizedCheck =
    "dmarc_external_rua_authorized";  // DMARC-07

enum class DmarcPolicy : uint8_t { kNone, kQuarantine, kReject };
std::string_view DmarcPolicyName(DmarcPolicy p);  // "none", "quarantine", "reject"

// One rua/ruf entry: `URI [ "!" size [k|m|g|t] ]` (RFC 7489 §6.4).
struct DmarcReportUri {
  std::string uri;     // as written, without the size suffix
  std::string scheme;  // lower-cased, e.g. "mailto"
  // For mailto: the domain of the address, lower-cased without a trailing dot; empty otherwise
  // or when the address is malformed.
  std::string domain;
  bool valid_mailto = false;               // scheme mailto with a well-formed local@domain
  std::optional<uint64_t> max_size_bytes;  // the `!size` suffix, in bytes (k = 2^10 ...)
};

struct DmarcRecord {
  std::optional<DmarcPolicy> p;   // absent: the record asks for nothing (DMARC-04 fails)
  std::optional<DmarcPolicy> sp;  // subdomain policy
  std::optional<DmarcPolicy> np;  // non-existent subdomain policy (RFC 9091)
  char adkim = 'r';               // 'r' or 's'
  char aspf = 'r';
  std::optional<int> pct;  // 0..100; removed in DMARCbis
  std::vector<DmarcReportUri> rua;
  std::vector<DmarcReportUri> ruf;
  bool has_rua = false;                   // the tag was present (rua= is never empty when parsed)
  std::string fo = "0";                   // colon-separated list of 0, 1, d, s as written
  std::optional<std::string> rf;          // removed in DMARCbis
  std::optional<uint32_t> ri;             // removed in DMARCbis
  std::optional<bool> t;                  // DMARCbis testing flag, t=y
  std::optional<char> psd;                // 'y', 'n' or 'u' (DMARCbis)
  std::vector<std::string> tags;          // tag names in order of appearance, lower-cased
  std::vector<std::string> unknown_tags;  // lower-cased names of ignored tags

  // sp when present, else p (RFC 7489 §6.3); nullopt when p is absent too.
  std::optional<DmarcPolicy> SubdomainPolicy() const { return sp ? sp : p; }
  // pct with its default of 100.
  int EffectivePct() const { return pct.value_or(100); }
};

// Parses one record (RFC 7489 §6.4 grammar): "v=DMARC1" exactly and first, then `;`-separated
// tag=value pairs with optional whitespace (SP, HTAB) around tags, '=' and ';'; empty segments and
// a trailing ';' are tolerated. Tag names are case-insensitive, keyword values too, the version is
// not. Unknown tags are kept in unknown_tags and otherwise ignored. Errors are kMalformed and name
// the tag: bad value, duplicate tag, tag without '=', or a record over kMaxDmarcRecordBytes.
[[nodiscard]] Result<DmarcRecord> ParseDmarcRecord(std::string_view txt);

// True when `txt` starts a DMARC record: "v" [WSP] "=" [WSP] "DMARC1" (case-insensitively, as
// Internet.nl selects; ParseDmarcRecord then insists on the exact spelling) followed by the end,
// whitespace or ';'. Leading whitespace does not count: receivers discard such strings.
bool LooksLikeDmarcRecord(std::string_view txt);

// The TXT strings at one `_dmarc` name, sorted out (RFC 7489 §6.6.3). One element of `txts` per TXT
// RR, its character-strings already concatenated.
struct DmarcSelection {
  enum class Count : uint8_t { kNone, kOne, kMultiple };
  Count count = Count::kNone;
  std::string record;             // the record when count == kOne
  size_t records = 0;             // strings that start a DMARC record
  size_t leading_whitespace = 0;  // strings that would be a record but for leading whitespace
  size_t spf = 0;                 // "v=spf1" strings (a wildcard or redirect answering _dmarc)
  size_t unrelated = 0;           // anything else
};
DmarcSelection SelectDmarcRecord(const std::vector<std::string>& txts);

// The last two labels of `domain` (normalized). Limitation: without the Public Suffix List this
// is wrong under multi-label public suffixes ("example.co.uk" gives "co.uk") and DMARCbis' DNS tree
// walk is not done; both would need data or queries this pure layer does not have.
std::string OrganizationalDomain(std::string_view domain);

// The names to query, in order: "_dmarc.<domain>", then "_dmarc.<org domain>" when the
// organizational domain differs. The second is queried only when the first holds no record.
std::vector<std::string> DmarcLookupNames(std::string_view domain);

// For every mailto URI whose domain's organizational domain differs from `policy_domain`'s, the
// name "<policy_domain>._report._dmarc.<destination domain>" to query (RFC 7489 §7.1), each once,
// in order of first appearance. `policy_domain` is the domain the record was found at. A wildcard
// "*._report._dmarc.<dest>" published by the destination answers these names through DNS.
std::vector<std::string> ExternalReportNames(std::string_view policy_domain,
                                             const std::vector<DmarcReportUri>& uris);

// True when the TXT answer at an ExternalReportNames name authorises the reports: at least one
// string starts a DMARC record (RFC 7489 §7.1).
bool AuthorizesExternalReports(const std::vector<std::string>& txts);

// What the caller fetched for one domain. A lookup with status NotFound (NXDOMAIN) or an ok status
// with no strings means "no records"; any other non-ok status is a DNS failure.
struct DmarcLookup {
  Status status;
  std::vector<std::string> txts;
};

struct DmarcInputs {
  std::string domain;
  DmarcLookup at_domain;  // _dmarc.<domain>
  // _dmarc.<org domain>; asked only when at_domain holds no record and the org domain differs.
  std::optional<DmarcLookup> at_org;
  // TXT at <domain> itself, when the caller looked there (DMARC-02, "record in the wrong place").
  std::optional<DmarcLookup> apex;
  // One entry per ExternalReportNames() name of the effective record's rua and ruf URIs.
  struct External {
    std::string name;
    DmarcLookup lookup;
  };
  std::vector<External> external;
  // Domains of mailto report addresses that the caller found without MX (DMARC-06), if it looked.
  std::vector<std::string> report_domains_without_mx;
};

struct DmarcAssessment {
  bool present = false;  // exactly one record at the name that answered (contract: dmarc_present)
  bool valid = false;    // ... and it parses (contract: dmarc_valid)
  bool at_org_domain = false;  // the record came from the organizational domain
  std::string policy_domain;   // the domain the record was found at
  std::optional<DmarcRecord> record;
  std::vector<Finding> findings;
};

// Applies the rules of CHECKS.md section 7 (ids in docs/checks.md). Checks that do not
// apply yield no finding.
DmarcAssessment AssessDmarc(const DmarcInputs& in);

// Every check id AssessDmarc can yield.
const std::vector<std::string_view>& DmarcCheckIds();

}  // namespace mailsec::checks
