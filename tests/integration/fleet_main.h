// The shared main of the integration test binaries: one Fleet per binary, started before the
// first test by a gtest environment and stopped after the last one (and at exit, so an early
// exit leaves no servers behind).
#ifndef MAILSEC_TESTS_INTEGRATION_FLEET_MAIN_H_
#define MAILSEC_TESTS_INTEGRATION_FLEET_MAIN_H_

#include <string>

#include "fleet.h"

// Sanitizer builds (the ASan+UBSan pass of scripts/test.sh): GCC defines __SANITIZE_ADDRESS__,
// clang has __has_feature. Tests use it for looser resource bounds and to leave out what checks
// only other programs (e.g. the testssl.sh comparison), not our memory safety.
#if defined(__SANITIZE_ADDRESS__)
#define MAILSEC_ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MAILSEC_ASAN_BUILD 1
#endif
#endif
#ifndef MAILSEC_ASAN_BUILD
#define MAILSEC_ASAN_BUILD 0
#endif

namespace mailsec::testing {

// The binary's fleet; null until the environment has started it.
extern Fleet* g_fleet;

// InitGoogleTest, SIGPIPE ignored (a dead exporter must not kill the binary through a write on
// its socket), the fleet environment with `options` under `base_dir`, RUN_ALL_TESTS.
int RunWithFleet(int argc, char** argv, const std::string& base_dir, const FleetOptions& options);

}  // namespace mailsec::testing

#endif  // MAILSEC_TESTS_INTEGRATION_FLEET_MAIN_H_
