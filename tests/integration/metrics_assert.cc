#include "metrics_assert.h"

#include <optional>
#include <sstream>

namespace mailsec::testing {

const Endpoint& FindEndpoint(const std::vector<Endpoint>& endpoints,
                             const std::string& fleet_service) {
  for (const auto& e : endpoints) {
    if (e.fleet_service == fleet_service) return e;
  }
  ADD_FAILURE() << "unknown endpoint " << fleet_service;
  return endpoints.front();
}

std::string EndpointTarget(const Fleet& fleet, const Endpoint& e) {
  return e.service + "://" + fleet.address() + ":" + std::to_string(fleet.port(e.fleet_service));
}

Labels LabelsOf(const Fleet& fleet, const Endpoint& e, const Labels& extra) {
  Labels labels = {{"service", e.service},
                   {"host", fleet.address()},
                   {"port", std::to_string(fleet.port(e.fleet_service))},
                   {"ip", fleet.address()}};
  labels.insert(extra.begin(), extra.end());
  return labels;
}

std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string ExporterConfig(const Fleet& fleet, const ExporterProcess& exporter,
                           const std::string& interval, const std::string& timeout,
                           const std::vector<Endpoint>& endpoints) {
  std::ostringstream toml;
  toml << "[global]\n"
       << "interval = " << TomlString(interval) << "\n"
       << "timeout = " << TomlString(timeout) << "\n"
       << "helo_name = \"probe.test\"\n"
       << "ca_file = " << TomlString(fleet.ca_bundle_path()) << "\n"
       << "state_file = " << TomlString(exporter.state_file_path()) << "\n";
  for (const auto& e : endpoints) {
    toml << "\n[[endpoint]]\ntarget = " << TomlString(EndpointTarget(fleet, e)) << "\n";
  }
  return toml.str();
}

::testing::AssertionResult HasValue(const std::string& body, const std::string& name,
                                    const Labels& labels, double expected) {
  std::optional<double> v = MetricValue(body, name, labels);
  if (!v) return ::testing::AssertionFailure() << FormatSeries(name, labels) << " is missing";
  if (*v != expected) {
    return ::testing::AssertionFailure()
           << FormatSeries(name, labels) << " is " << *v << ", expected " << expected;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsAbsent(const std::string& body, const std::string& name,
                                    const Labels& labels) {
  if (std::optional<double> v = MetricValue(body, name, labels)) {
    return ::testing::AssertionFailure()
           << FormatSeries(name, labels) << " is present (" << *v << "), expected no series";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace mailsec::testing
