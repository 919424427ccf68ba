// SPF (RFC 7208): a strict parser of one policy record and a sans-IO walk of a domain's
// include/redirect tree that yields the SPF rows of the check catalogue (CHECKS.md section 5).
//
// Nothing here performs a DNS lookup. SpfWalk says which query it needs next (NextQuery) and
// the caller, who owns the resolver, feeds the answer back (Feed) until NextQuery() is empty:
//
//   SpfWalk walk("example.com");
//   while (auto q = walk.NextQuery()) walk.Feed(resolver.Ask(*q));
//   const SpfResult& r = walk.result();
//
// All types are plain values; an SpfWalk is not thread-safe (use it from one coroutine).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/checks/verdict.h"

namespace mailsec::checks {

// ---- Limits, each with its reason ----

// RFC 7208 §4.6.4: at most 10 terms that cause DNS queries (include, a, mx, ptr, exists,
// redirect) over the whole evaluation; the 11th is a permerror.
inline constexpr int kSpfMaxDnsLookups = 10;
// RFC 7208 §4.6.4: more than 2 "void" lookups (NXDOMAIN, or NOERROR with no answer) SHOULD be a
// permerror; receivers apply it, so we fail it.
inline constexpr int kSpfMaxVoidLookups = 2;
// RFC 7208 §4.6.4: one "mx" mechanism may not need more than 10 address lookups, i.e. the name
// may have at most 10 MX exchanges.
inline constexpr int kSpfMaxMxNames = 10;
// We warn at this many lookups: one more include by a provider and the domain breaks.
inline constexpr int kSpfWarnDnsLookups = 9;
// RFC 7208 §3.4: records over 450 octets risk a truncated UDP answer together with the other
// records of the name; warn.
inline constexpr size_t kSpfWarnRecordBytes = 450;
// A DNS answer over 512 octets does not fit classic UDP at all (RFC 1035 §4.2.1; CD warns).
inline constexpr size_t kSpfWarnUdpRecordBytes = 512;
// A policy record larger than this is not a hand-written policy; refuse to parse it so a hostile
// TXT of 64 KiB cannot cost us parse time on every scrape. Real records are < 1 KiB.
inline constexpr size_t kSpfMaxRecordBytes = 4 * 1024;
// Queries one walk may ask for. Every query but the first is caused by a DNS-querying term, so
// 50 is far beyond the limit of 10 and still says by how much a tree overshoots it, while a
// hostile tree cannot make one scrape issue an unbounded number of lookups.
inline constexpr int kSpfMaxWalkQueries = 50;

// ---- Record syntax (RFC 7208 §4.6, §5, §6, §7, §12) ----

enum class SpfQualifier : char { kPass = '+', kFail = '-', kSoftFail = '~', kNeutral = '?' };

struct SpfTerm {
  enum class Kind {
    kAll,
    kInclude,
    kA,
    kMx,
    kPtr,
    kIp4,
    kIp6,
    kExists,
    kRedirect,         // modifier
    kExp,              // modifier
    kUnknownModifier,  // name=value, ignored by receivers (§6)
  };
  Kind kind = Kind::kAll;
  SpfQualifier qualifier = SpfQualifier::kPass;  // directives only; "+" when not written
  std::string text;                              // the term as written
  // domain-spec of include, a, mx, ptr, exists, redirect, exp; empty when a/mx/ptr name none
  // (they then use the current domain).
  std::string domain;
  bool domain_has_macros = false;  // such a target cannot be walked statically
  std::string network;             // ip4/ip6 address as written, without the CIDR length
  int cidr4 = -1;                  // ip4, a, mx: -1 when not given
  int cidr6 = -1;                  // ip6, a, mx: -1 when not given
  std::string name;                // unknown modifier: name, lower-cased
  std::string value;               // unknown modifier: value

  bool IsMechanism() const { return kind < Kind::kRedirect; }
  // include, a, mx, ptr, exists and redirect count against kSpfMaxDnsLookups.
  bool CountsAsLookup() const;
};

struct SpfRecord {
  std::vector<SpfTerm> terms;  // in record order

  const SpfTerm* All() const;       // the "all" mechanism, or null
  const SpfTerm* Redirect() const;  // the "redirect" modifier, or null
  const SpfTerm* Exp() const;       // the "exp" modifier, or null
};

// Parses one whole SPF record (the TXT character-strings already concatenated, §3.3). Strict:
// "v=spf1" (any case) followed by a space or the end; terms separated by spaces; unknown
// mechanisms, malformed macros (§7.1), bad ip4/ip6 networks or CIDR lengths, a mechanism missing
// its required value, a second "redirect" or "exp" (§6) and a second "all" (CHECKS.md SPF-03)
// are errors. The macro letters c, r and t are refused in domain-specs (§7.2: exp text only).
// Errors are Malformed and name the offending term, made printable.
[[nodiscard]] Result<SpfRecord> ParseSpfRecord(std::string_view txt);

// Validates an explanation string (the TXT behind exp=, §6.2): macro-strings and spaces, where
// every macro letter, c, r and t included, is allowed.
[[nodiscard]] Status ValidateSpfExplanation(std::string_view txt);

// True for a record that says "this domain sends no mail": "v=spf1 -all", optionally with an
// exp= modifier (Internet.nl SPF_NON_SENDING_POLICY; CHECKS.md SPF-12).
bool IsNonSendingSpfPolicy(std::string_view txt);

struct SpfSelection {
  enum class Kind { kNone, kOne, kMultiple };
  Kind kind = Kind::kNone;
  std::string record;  // the one record when kOne
  int candidates = 0;  // TXT records that are SPF records
  // A TXT that starts "v=spf1" followed by neither a space nor a digit ("v=spf1-all"): meant to
  // be SPF but not one (CD fails it). "v=spf10" is another version and not counted.
  bool version_glued = false;
  bool sender_id = false;  // an "spf2.0/..." Sender ID record is published (CHECKS.md SPF-02)
};

// RFC 7208 §4.5: of the TXT records of a name (each with its character-strings concatenated),
// those equal to "v=spf1" or starting "v=spf1 " (any case) are SPF records; more than one is a
// permerror. Records with leading whitespace are not SPF records.
SpfSelection SelectSpfRecord(const std::vector<std::string>& txt_records);

// ---- The sans-IO walk ----

enum class SpfQueryType {
  kTxt,      // TXT of the name: the record, include/redirect targets, the exp text
  kMx,       // MX of the name (the "mx" mechanism): answer with the exchange names
  kAddress,  // A and AAAA of the name (the "a" mechanism): answer with the addresses of both
  kA,        // A of the name (the "exists" mechanism)
};

struct SpfQuery {
  std::string name;  // lower-case, no trailing dot
  SpfQueryType type = SpfQueryType::kTxt;
  bool operator==(const SpfQuery&) const = default;
};

struct SpfDnsAnswer {
  enum class Kind {
    kOk,         // NOERROR; `records` may be empty (then it is NODATA)
    kNxDomain,   // the name does not exist
    kNoData,     // the name exists, no record of the type
    kServFail,   // try again later: SPF temperror
    kTimeout,    // try again later: SPF temperror
    kMalformed,  // an answer we could not read: treated as a temperror
  };
  Kind kind = Kind::kOk;
  // kTxt: one entry per TXT record, its character-strings concatenated. kMx: exchange names.
  // kAddress/kA: addresses as text (only the count matters here).
  std::vector<std::string> records;
};

// Check ids reported by the walk; catalogue rows in comments.
inline constexpr std::string_view kSpfPresentCheck = "spf_present";              // SPF-01
inline constexpr std::string_view kSpfObsoleteCheck = "spf_obsolete_records";    // SPF-02
inline constexpr std::string_view kSpfSyntaxCheck = "spf_syntax";                // SPF-03
inline constexpr std::string_view kSpfLookupLimitCheck = "spf_lookup_limit";     // SPF-04
inline constexpr std::string_view kSpfMxLimitCheck = "spf_mx_lookup_limit";      // SPF-05
inline constexpr std::string_view kSpfVoidLimitCheck = "spf_void_lookup_limit";  // SPF-06
inline constexpr std::string_view kSpfIncludeCheck = "spf_include_valid";        // SPF-07
inline constexpr std::string_view kSpfPtrCheck = "spf_ptr";                      // SPF-08
inline constexpr std::string_view kSpfAllCheck = "spf_all_qualifier";            // SPF-09
inline constexpr std::string_view kSpfAfterAllCheck = "spf_after_all";           // SPF-10
inline constexpr std::string_view kSpfExpCheck = "spf_exp";                      // SPF-10
inline constexpr std::string_view kSpfRecordSizeCheck = "spf_record_size";       // SPF-11

// One SPF record visited by the walk.
struct SpfVisited {
  enum class Via { kTop, kInclude, kRedirect };
  std::string domain;
  Via via = Via::kTop;
  int depth = 0;    // 0 for the domain's own record
  int lookups = 0;  // DNS-querying terms in this record (not below it)
};

struct SpfResult {
  bool present = false;    // exactly one SPF record at the domain (mailsec_spf_present)
  bool valid = false;      // parsed and evaluated within every limit (mailsec_spf_valid)
  bool temperror = false;  // some lookup failed temporarily: valid and counts may be unknown
  int dns_lookups = 0;     // over the whole tree (mailsec_spf_dns_lookups)
  int void_lookups = 0;
  bool truncated = false;  // kSpfMaxWalkQueries reached: dns_lookups is a lower bound
  // Qualifier of the final "all": "-", "~", "?", "+" or "none" (mailsec_spf_all_info).
  std::string all_qualifier = "none";
  std::string record;  // the domain's own SPF record, when present
  std::vector<SpfVisited> visited;
  std::vector<Finding> findings;  // at most one per check id; a check that does not apply: none
  // The finding of `check`, or null.
  const Finding* Find(std::string_view check) const;
};

class SpfWalk {
 public:
  // `domain` is the mail domain whose SPF policy is walked (case and a trailing dot ignored).
  explicit SpfWalk(std::string domain);
  ~SpfWalk();
  SpfWalk(SpfWalk&&) noexcept;
  SpfWalk& operator=(SpfWalk&&) noexcept;

  // The next query the caller must perform, or nullopt when the walk is finished.
  std::optional<SpfQuery> NextQuery() const;
  // Feeds the answer to NextQuery(). Every call advances the walk; a call after the walk
  // finished is ignored. The walk ends after at most kSpfMaxWalkQueries queries.
  void Feed(const SpfDnsAnswer& answer);
  bool done() const;
  // The outcome; complete once done().
  const SpfResult& result() const;

 private:
  struct State;
  std::unique_ptr<State> state_;  // pimpl: the walk's bookkeeping stays out of the header
};

}  // namespace mailsec::checks
