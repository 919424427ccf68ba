// BIMI (draft-brand-indicators-for-message-identification): selection of the assertion record at
// `<selector>._bimi.<domain>`, its tag-list parser, and the CHECKS.md section 11 verdicts BIMI-01
// and BIMI-02. The logo and mark-certificate checks (BIMI-03..05) need fetches and live elsewhere.
// Pure functions over TXT answers the caller fetched; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/checks/dns_outcome.h"
#include "mailsec/checks/verdict.h"

namespace mailsec::checks {

// A BIMI record is two URLs and a few short tags; 2 KiB is generous, longer is not a record.
inline constexpr size_t kMaxBimiRecordBytes = 2048;
// TXT strings looked at per queried name; a name with more is broken or hostile.
inline constexpr size_t kMaxBimiTxtStrings = 64;
// Local parts read from one lps tag.
inline constexpr size_t kMaxBimiLocalParts = 32;

inline constexpr std::string_view kBimiRecordCheck = "bimi_record";  // BIMI-01
inline constexpr std::string_view kBimiSyntaxCheck = "bimi_syntax";  // BIMI-02

enum class BimiAvp : uint8_t { kBrand, kPersonal };

struct BimiRecord {
  std::string l;  // logo URL (https), empty when declined or absent
  std::string a;  // authority evidence (mark certificate) URL (https), empty when absent
  std::optional<BimiAvp> avp;
  std::vector<std::string> lps;   // local-part selectors, as written
  std::optional<std::string> s;   // the s tag as written
  std::vector<std::string> tags;  // tag names in order of appearance, "v" first
  bool has_l = false;
  bool has_a = false;
};

// Parses one record as a DKIM-style tag-list (RFC 6376 §3.2): "v=BIMI1" first and exact, then
// `;`-separated tag=value with optional WSP around names, '=' and ';'; a trailing ';' is allowed.
// Tag names are case-sensitive. Known tags: v, l, a, avp (brand / personal, any case), lps
// (comma-separated local parts), s. l and a must be empty or one https:// URL with a valid host.
// Errors are kMalformed and name the tag: unknown tag, duplicate tag, bad value, a tag without
// '=', an empty segment, control characters, or a record over kMaxBimiRecordBytes.
[[nodiscard]] Result<BimiRecord> ParseBimiRecord(std::string_view txt);

// The TXT strings at one BIMI name, sorted out. One element of `txts` per TXT RR, its
// character-strings already concatenated.
struct BimiSelection {
  enum class Count : uint8_t { kNone, kOne, kMultiple };
  Count count = Count::kNone;
  std::string record;    // the record when count == kOne
  size_t records = 0;    // strings beginning "v=BIMI1"
  size_t spf = 0;        // "v=spf1" strings (a wildcard answering at _bimi)
  size_t unrelated = 0;  // anything else
};
BimiSelection SelectBimiRecord(const std::vector<std::string>& txts);

// "default._bimi.<domain>" (or `selector`), normalized; "" for an empty domain.
std::string BimiLookupName(std::string_view domain, std::string_view selector = "default");

struct BimiInputs {
  std::string domain;
  LookupStatus status = LookupStatus::kNoData;  // of BimiLookupName(domain)
  std::vector<std::string> txts;
};

struct BimiAssessment {
  bool present = false;  // exactly one record
  bool valid = false;    // ... and it parses
  std::optional<BimiRecord> record;
  std::vector<Finding> findings;
};

// bimi_record (BIMI-01): error when the lookup failed; no finding when there is no record (not
// applicable, also when only SPF or unrelated strings answer: a wildcard TXT is not a BIMI
// problem); fail with more than one record, or one next to an SPF record; warn with one next to
// unrelated strings; pass with exactly one.
// bimi_syntax (BIMI-02), only with exactly one record: pass when it parses, fail otherwise.
BimiAssessment AssessBimi(const BimiInputs& in);

// Every check id AssessBimi can yield.
const std::vector<std::string_view>& BimiCheckIds();

}  // namespace mailsec::checks
