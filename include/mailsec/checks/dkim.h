// DKIM (RFC 6376 §3.6.1, RFC 8301, RFC 8463): the key-record parser, selection of the key record
// among a selector's TXT strings, and the verdicts of ../shared/CHECKS.md section 6 (DKIM-01,
// DKIM-02). Pure functions: no DNS here; the caller queries `_domainkey.<domain>` and
// `<selector>._domainkey.<domain>` and passes the answers in. Thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/checks/verdict.h"

namespace mailsec::checks {

// An RSA-4096 key record is about 800 bytes (736 of base64) and RSA-16384, the largest key any
// library generates, under 3 KiB; 4 KiB also bounds what one TXT answer over EDNS(0) carries.
// Anything longer is hostile or not a key record.
inline constexpr size_t kMaxDkimRecordBytes = 4096;
// TXT strings looked at per selector name; a name with more is broken or hostile.
inline constexpr size_t kMaxDkimTxtStrings = 64;

// Check ids (CHECKS.md section 6 in brackets).
inline constexpr std::string_view kDkimDomainkeyCheck = "dkim_domainkey";  // DKIM-01
inline constexpr std::string_view kDkimKeyCheck = "dkim_key";  // DKIM-02, worst over selectors

// One key record (RFC 6376 §3.6.1).
struct DkimKeyRecord {
  std::string version;              // v= as written; "" when absent
  std::string key_type = "rsa";     // k=, lower-cased: "rsa" or "ed25519"
  std::vector<std::string> hashes;  // h=, lower-cased; empty when absent (all allowed)
  std::vector<std::string> flags;   // t=, as written ("y", "s", unknown flags kept)
  bool testing = false;             // t= lists "y"
  bool revoked = false;             // p= is empty
  int key_bits = 0;                 // RSA modulus bits, 256 for ed25519; 0 when revoked
};

// Parses one key record with the tag-list grammar of RFC 6376 §3.2: `;`-separated tag=value
// pairs, whitespace (SP, HTAB, CR, LF: FWS) around tags, '=' and ';' tolerated, empty segments and
// a trailing ';' tolerated. Tag names are case-sensitive (RFC 6376 §3.2), the k= and h= values are
// compared lower-cased. v= is optional but must be first and exactly "DKIM1"; p= is required; a
// duplicate tag is an error; unknown tags (and n=, s=) are ignored. p= is base64 (whitespace
// inside allowed, padding optional): for k=rsa a DER SubjectPublicKeyInfo or, as some publishers
// write it, a bare PKCS#1 RSAPublicKey; for k=ed25519 the 32-byte raw public key (RFC 8463 §4.2).
// Errors are kMalformed and name the tag: bad version, missing p=, bad base64, undecodable key,
// unknown key type, duplicate tag, a record over kMaxDkimRecordBytes or with control bytes.
[[nodiscard]] Result<DkimKeyRecord> ParseDkimKeyRecord(std::string_view txt);

// True when a TXT string is a candidate key record: it starts (after FWS) with the tag v=DKIM1
// (version case-insensitive here, so a misspelt one is reported by the parser),
// or it has no v= tag first and holds a p= tag. Candidates need not parse.
bool LooksLikeDkimKeyRecord(std::string_view txt);

// What the caller fetched for one configured selector: `<selector>._domainkey.<domain>` TXT.
// Status as for DMARC: ok (no strings = NODATA), NotFound = NXDOMAIN, anything else = failure.
struct DkimSelectorLookup {
  std::string selector;
  Status status;
  std::vector<std::string> txts;  // one per TXT RR, its character-strings concatenated
};

struct DkimInputs {
  std::string domain;
  // `_domainkey.<domain>`, any type: ok for any answer including NODATA (an empty non-terminal),
  // NotFound for NXDOMAIN, anything else a failure; nullopt when the caller did not look.
  std::optional<Status> domainkey_status;
  std::vector<DkimSelectorLookup> selectors;  // the operator's selectors, in config order
  // SPF "-all" only and DMARC reject (CHECKS.md SPF-12): DKIM-01 does not apply.
  bool non_sending = false;
};

struct DkimSelectorResult {
  std::string selector;
  bool present = false;  // exactly one candidate record, and it parses
  int key_bits = 0;      // from the record when present
  std::string key_type;  // "rsa" / "ed25519" when present, else ""
  bool testing = false;
  bool revoked = false;
  CheckVerdict verdict = CheckVerdict::kPass;  // DKIM-02 for this selector
  std::string detail;
};

struct DkimAssessment {
  std::vector<DkimSelectorResult> selectors;  // one per DkimInputs::selectors, same order
  std::vector<Finding> findings;
};

// Applies CHECKS.md DKIM-01 and DKIM-02.
//
// kDkimDomainkeyCheck: none when non_sending. Pass when a configured selector is present (its
// name proves `_domainkey` exists, whatever a server that answers NXDOMAIN for empty non-terminals
// said). Otherwise none when not looked; pass on NOERROR (NODATA included), fail on NXDOMAIN,
// error on any other failure.
//
// kDkimKeyCheck: none without configured selectors; else the worst selector verdict, ranked
// fail > error > warn > pass (a known break outranks an unknown, and an unknown outranks a
// known weakness because it may hide a break); ties go to the first selector. Per selector: pass
// for RSA >= 2048 bits or ed25519; warn for RSA 1024-2047 (RFC 8301 §3.2) or t=y; fail for RSA <
// 1024, p= empty (revoked), h= without sha256 (only sha1: RFC 8301 §3.1), NXDOMAIN, NODATA or no
// candidate string, several candidates, or an unparseable record; error when the lookup failed.
DkimAssessment AssessDkim(const DkimInputs& in);

// Every check id AssessDkim can yield.
const std::vector<std::string_view>& DkimCheckIds();

}  // namespace mailsec::checks
