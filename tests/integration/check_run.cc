#include "check_run.h"

#include "fleet.h"

namespace mailsec::testing {

CheckRun RunCheck(const std::string& ca_file, const std::vector<std::string>& targets,
                  const std::vector<std::string>& extra, const std::string& timeout) {
  std::vector<std::string> argv = {MAILSEC_EXPORTER_BIN, "check",   "--json", "--timeout",
                                   timeout,              "--ca-file", ca_file};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), targets.begin(), targets.end());
  CommandResult r = RunCommand(argv, std::chrono::seconds(60));
  CheckRun out;
  out.exit_code = r.exit_code;
  out.output = r.output;
  // stdout is the JSON array; log lines (stderr) may come before it.
  const size_t start = r.output.find("[\n");
  if (start == std::string::npos) return out;
  nlohmann::json all = nlohmann::json::parse(r.output.substr(start), nullptr, false);
  if (all.is_array()) {
    for (auto& e : all) out.reports.push_back(e);
  }
  return out;
}

bool HasSignal(const nlohmann::json& report, const std::string& signal) {
  for (const auto& s : report.value("downgrade_signals", nlohmann::json::array())) {
    if (s == signal) return true;
  }
  return false;
}

std::string SignalEvidence(const nlohmann::json& report, const std::string& signal) {
  const auto ev = report.value("downgrade_evidence", nlohmann::json::object());
  return ev.contains(signal) ? ev[signal].value("evidence", "") : "";
}

namespace {
const nlohmann::json* FindCheck(const nlohmann::json& report, const std::string& check) {
  if (!report.contains("checks") || !report["checks"].is_array()) return nullptr;
  for (const auto& c : report["checks"]) {
    if (c.value("check", "") == check) return &c;
  }
  return nullptr;
}
}  // namespace

int CheckVerdict(const nlohmann::json& report, const std::string& check) {
  const nlohmann::json* c = FindCheck(report, check);
  return c == nullptr ? -1 : c->value("verdict", -1);
}

std::string CheckDetail(const nlohmann::json& report, const std::string& check) {
  const nlohmann::json* c = FindCheck(report, check);
  return c == nullptr ? "" : c->value("detail", "");
}

}  // namespace mailsec::testing
