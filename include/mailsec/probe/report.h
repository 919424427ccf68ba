// Typed reports: the probe fills them, findings read them, the collector renders them.
// Plain, copyable data; a report never changes after the probe hands it over.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/config/target.h"
#include "mailsec/tls/cert_facts.h"

namespace mailsec::probe {

// Where a probe stopped, as one closed set (one low-cardinality label value each).
enum class Phase : uint8_t {
  kResolve,
  kConnect,
  kGreeting,
  kCapabilities,
  kStartTls,
  kHandshake,
  kTlsCapabilities,
  kQuit
};
inline constexpr int kPhaseCount = 8;
std::string_view PhaseName(Phase p);  // "resolve", "connect", "greeting", "capabilities",
                                      // "starttls", "handshake", "tls_capabilities", "quit"

enum class Failure : uint8_t {
  kNone,
  kResolve,  // no address for the host
  kConnectRefused,
  kConnectTimeout,
  kConnectError,  // unreachable, reset, ...
  kGreetingTimeout,
  kCommandTimeout,
  kProtocolError,    // the server said something we cannot parse, or a line/reply limit hit
  kRejected,         // 4xx/5xx greeting or EHLO refused
  kStartTlsRefused,  // STARTTLS offered but refused, or not offered on a STARTTLS service
  kHandshakeTimeout,
  kHandshakeFailed,
  kConnectionClosed,  // the peer closed unexpectedly
  kWrongTlsMode,      // plaintext on an implicit-TLS port, or implicit TLS on a STARTTLS port
};
std::string_view FailureName(Failure f);  // "none", "resolve", "connect_refused", ...

enum class Signal : uint8_t {
  kStartTlsMissing,
  kStartTlsMasked,
  kStartTlsRejected,
  kStartTlsLost,
  kTlsDowngraded,
  kPlaintextAuth,
  kResponseInjection,
  kCommandInjection,
  kPolicyViolation,
};
inline constexpr int kSignalCount = 9;
std::string_view SignalName(Signal s);  // "starttls_missing", ...

// One endpoint address probed once.
struct EndpointReport {
  config::EndpointTarget target;  // service, host, port
  std::string ip;                 // the address dialled ("" when resolution failed)

  bool success = false;
  Failure failure = Failure::kNone;
  Phase failure_phase = Phase::kResolve;
  std::string error;  // one printable line for humans

  double started_at = 0;   // Unix seconds
  double finished_at = 0;  // Unix seconds
  double duration_seconds = 0;
  std::array<double, kPhaseCount> phase_seconds = {-1, -1, -1, -1,
                                                   -1, -1, -1, -1};  // -1: not reached
  std::string greeting;  // first line, printable and cut short

  bool starttls_offered = false;              // only meaningful for STARTTLS services
  bool preauth = false;                       // IMAP greeted with PREAUTH on a STARTTLS port
  std::vector<std::string> capabilities;      // before TLS (EHLO keywords, upper-cased)
  std::vector<std::string> tls_capabilities;  // after TLS
  std::vector<std::string> auth_mechanisms;   // offered before TLS
  std::vector<std::string> tls_auth_mechanisms;

  tls::TlsFacts tls;
  // Across the addresses of the same host and port, probed together (CHECKS.md CERT-16):
  bool cert_compared = false;  // another address of this target also served a leaf
  bool cert_differs = false;   // ... and it was a different certificate
  // From the persisted history (findings::History), not from this probe alone.
  double cert_first_seen = 0;  // when the served leaf was first seen (Unix seconds); 0: unknown
  uint64_t cert_changes = 0;   // times the leaf differed from the one served the probe before
  std::array<bool, kSignalCount> signals{};
};

// A target's whole result: one report per address (or one report with the resolve failure).
struct TargetResult {
  std::string target_id;  // canonical target string
  std::vector<EndpointReport> endpoints;
};

}  // namespace mailsec::probe
