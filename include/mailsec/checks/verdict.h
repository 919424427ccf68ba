// The verdict of one catalogue check, shared by every evaluator in checks/. The exporter renders
// each Finding as mailsec_check_result{check, ...scope labels} with the enum's value; a check that
// does not apply produces no Finding (and so no series). Plain value types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailsec::checks {

// Values are the metric's values (CONTRACT.md): do not renumber.
enum class CheckVerdict : uint8_t {
  kPass = 0,
  kWarn = 1,   // works but weak, deprecated or against a SHOULD
  kFail = 2,   // broken, insecure or against a MUST
  kError = 3,  // could not be evaluated (DNS timeout, SERVFAIL); never reported as kFail
};

struct Finding {
  // A stable snake_case id; points at a string literal with static storage (the evaluator's
  // named constants), so a Finding may outlive the evaluator that made it.
  std::string_view check;
  CheckVerdict verdict = CheckVerdict::kPass;
  // Why, for people: printable, short; may quote untrusted record text (already made printable).
  std::string detail;
};

}  // namespace mailsec::checks
