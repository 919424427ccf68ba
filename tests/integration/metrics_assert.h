// What the integration tests share about the endpoints they configure: the fleet service behind
// each, the exporter config that lists them, the labels of their series, and assertions on one
// series of a /metrics body. Pure functions; the Fleet must have started.
#ifndef MAILSEC_TESTS_INTEGRATION_METRICS_ASSERT_H_
#define MAILSEC_TESTS_INTEGRATION_METRICS_ASSERT_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter_process.h"
#include "fleet.h"

namespace mailsec::testing {

// One endpoint the exporter probes.
struct Endpoint {
  std::string fleet_service;  // name in the fleet
  std::string service;        // URL scheme and `service` label
};

// The entry of `endpoints` for `fleet_service`. An unknown name is a test failure and yields the
// first entry, so `endpoints` must not be empty.
const Endpoint& FindEndpoint(const std::vector<Endpoint>& endpoints,
                             const std::string& fleet_service);

// The target the exporter is given for `e`: "<service>://<address>:<port>".
std::string EndpointTarget(const Fleet& fleet, const Endpoint& e);

// The labels of `e`'s series, with `extra` added: host is the literal address we configure, so
// ip equals it.
Labels LabelsOf(const Fleet& fleet, const Endpoint& e, const Labels& extra = {});

// `s` as a TOML basic string, quotes included.
std::string TomlString(const std::string& s);

// An exporter config: [global] with `interval`, `timeout`, the fleet's CA and the exporter's
// state file, then one [[endpoint]] per entry of `endpoints`.
std::string ExporterConfig(const Fleet& fleet, const ExporterProcess& exporter,
                           const std::string& interval, const std::string& timeout,
                           const std::vector<Endpoint>& endpoints);

// Success when `body` has the series `name`{labels...} with value `expected`.
::testing::AssertionResult HasValue(const std::string& body, const std::string& name,
                                    const Labels& labels, double expected);

// Success when `body` has no series `name`{labels...}.
::testing::AssertionResult IsAbsent(const std::string& body, const std::string& name,
                                    const Labels& labels);

}  // namespace mailsec::testing

#endif  // MAILSEC_TESTS_INTEGRATION_METRICS_ASSERT_H_
