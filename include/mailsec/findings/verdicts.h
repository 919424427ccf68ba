// Check verdicts of an endpoint report: the rules of docs/checks.md (IDs from the catalogue in
// ../shared/CHECKS.md) applied to what one probe saw. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "mailsec/config/config.h"
#include "mailsec/probe/report.h"

namespace mailsec::findings {

// The value of mailsec_check_result.
enum class Verdict : uint8_t { kPass = 0, kWarn = 1, kFail = 2, kError = 3 };
std::string_view VerdictName(Verdict v);  // "pass", "warn", "fail", "error"

struct CheckVerdict {
  std::string_view check;  // stable snake_case id, e.g. "cert_expiry"
  Verdict verdict = Verdict::kPass;
  std::string detail;  // one line for humans
};

// Days before notAfter at which cert_expiry warns (check_ssl_cert's default is 20 days).
inline constexpr int64_t kCertExpiryWarnDays = 21;

// Longest total validity (notAfter - notBefore) of a trusted leaf before cert_validity_period
// warns: the CA/Browser Forum's 398-day limit as check_ssl_cert applies it (LIMIT=397, "more
// than 397 days").
inline constexpr int64_t kCertMaxValidityDays = 397;

// Every check that applies to the report; checks that do not apply yield no entry.
std::vector<CheckVerdict> EvaluateEndpoint(const probe::EndpointReport& report, int64_t now_unix);

// Every check id EvaluateEndpoint can yield, for docs and tests.
const std::vector<std::string_view>& EndpointCheckIds();

// CERT-17: the operator's expectations of the served leaf (config [[endpoint]]
// expect_fingerprint_sha256, expect_issuer_cn). nullopt when there are none or no leaf was
// served; else check "cert_pinned": pass when every expectation holds, fail (naming the first
// that does not) otherwise.
std::optional<checks::Finding> EvaluatePins(const probe::EndpointReport& report,
                                            const config::CertPins& pins);

}  // namespace mailsec::findings
