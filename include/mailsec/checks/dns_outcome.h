// How one DNS lookup ended, as the checks layer sees it. The evaluators in checks/ take DNS
// answers as plain strings and structs, never resolver types; the probe maps its resolver outcome
// onto this enum once. "Not there" (kNxDomain, kNoData) and "could not tell" (kError) stay
// distinct: the first is a result, the second yields kError verdicts and is never reported as a
// failure. Plain value type.
#pragma once

#include <cstdint>
#include <string_view>

namespace mailsec::checks {

enum class LookupStatus : uint8_t {
  kOk,        // an answer with at least one record of the asked type
  kNxDomain,  // the name does not exist
  kNoData,    // the name exists, no record of that type
  kError,     // SERVFAIL, timeout, malformed reply, refused: the answer is unknown
};

// "ok", "nxdomain", "nodata", "error": for details and logs.
constexpr std::string_view LookupStatusName(LookupStatus s) {
  switch (s) {
    case LookupStatus::kOk:
      return "ok";
    case LookupStatus::kNxDomain:
      return "nxdomain";
    case LookupStatus::kNoData:
      return "nodata";
    case LookupStatus::kError:
      return "error";
  }
  return "error";
}

// True when the lookup did not produce an answer (a failure, not an absence).
constexpr bool LookupFailed(LookupStatus s) { return s == LookupStatus::kError; }

}  // namespace mailsec::checks
