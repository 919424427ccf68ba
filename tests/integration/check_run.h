// Runs `mailsec_exporter check --json` and reads what it printed, for the integration tests:
// one JSON object per endpoint (and per domain) report, with helpers for the downgrade signals,
// their evidence and the check verdicts.
#ifndef MAILSEC_TESTS_INTEGRATION_CHECK_RUN_H_
#define MAILSEC_TESTS_INTEGRATION_CHECK_RUN_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mailsec::testing {

struct CheckRun {
  int exit_code = -1;
  std::string output;                // stdout and stderr, for failure messages
  std::vector<nlohmann::json> reports;  // the printed array, in order
};

// MAILSEC_EXPORTER_BIN check --json --timeout `timeout` --ca-file `ca_file` EXTRA... TARGETS...
// (bounded: 60 s).
CheckRun RunCheck(const std::string& ca_file, const std::vector<std::string>& targets,
                  const std::vector<std::string>& extra = {}, const std::string& timeout = "8s");

// Whether an endpoint report raised `signal`, and the evidence it gave ("" when none).
bool HasSignal(const nlohmann::json& report, const std::string& signal);
std::string SignalEvidence(const nlohmann::json& report, const std::string& signal);
// The verdict (0..3) of `check` in a report, or -1 when it has no entry.
int CheckVerdict(const nlohmann::json& report, const std::string& check);
// The detail of `check` in a report ("" when none).
std::string CheckDetail(const nlohmann::json& report, const std::string& check);

}  // namespace mailsec::testing

#endif  // MAILSEC_TESTS_INTEGRATION_CHECK_RUN_H_
