// The shared main of the integration test binaries: one Fleet per binary, started before the
// first test by a gtest environment and stopped after the last one (and at exit, so an early
// exit leaves no servers behind).
#ifndef MAILSEC_TESTS_INTEGRATION_FLEET_MAIN_H_
#define MAILSEC_TESTS_INTEGRATION_FLEET_MAIN_H_

#include <string>

#include "fleet.h"

namespace mailsec::testing {

// The binary's fleet; null until the environment has started it.
extern Fleet* g_fleet;

// InitGoogleTest, SIGPIPE ignored (a dead exporter must not kill the binary through a write on
// its socket), the fleet environment with `options` under `base_dir`, RUN_ALL_TESTS.
int RunWithFleet(int argc, char** argv, const std::string& base_dir, const FleetOptions& options);

}  // namespace mailsec::testing

#endif  // MAILSEC_TESTS_INTEGRATION_FLEET_MAIN_H_
