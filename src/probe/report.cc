// Names of the report enums: each value maps to one stable, low-cardinality label value.
#include "mailsec/probe/report.h"

namespace mailsec::probe {

std::string_view PhaseName(Phase p) {
  switch (p) {
    case Phase::kResolve:
      return "resolve";
    case Phase::kConnect:
      return "connect";
    case Phase::kGreeting:
      return "greeting";
    case Phase::kCapabilities:
      return "capabilities";
    case Phase::kStartTls:
      return "starttls";
    case Phase::kHandshake:
      return "handshake";
    case Phase::kTlsCapabilities:
      return "tls_capabilities";
    case Phase::kQuit:
      return "quit";
  }
  return "unknown";  // only reachable through a cast of an out-of-range value
}

std::string_view FailureName(Failure f) {
  switch (f) {
    case Failure::kNone:
      return "none";
    case Failure::kResolve:
      return "resolve";
    case Failure::kConnectRefused:
      return "connect_refused";
    case Failure::kConnectTimeout:
      return "connect_timeout";
    case Failure::kConnectError:
      return "connect_error";
    case Failure::kGreetingTimeout:
      return "greeting_timeout";
    case Failure::kCommandTimeout:
      return "command_timeout";
    case Failure::kProtocolError:
      return "protocol_error";
    case Failure::kRejected:
      return "rejected";
    case Failure::kStartTlsRefused:
      return "starttls_refused";
    case Failure::kHandshakeTimeout:
      return "handshake_timeout";
    case Failure::kHandshakeFailed:
      return "handshake_failed";
    case Failure::kConnectionClosed:
      return "connection_closed";
    case Failure::kWrongTlsMode:
      return "wrong_tls_mode";
  }
  return "unknown";
}

std::string_view SignalName(Signal s) {
  switch (s) {
    case Signal::kStartTlsMissing:
      return "starttls_missing";
    case Signal::kStartTlsMasked:
      return "starttls_masked";
    case Signal::kStartTlsRejected:
      return "starttls_rejected";
    case Signal::kStartTlsLost:
      return "starttls_lost";
    case Signal::kTlsDowngraded:
      return "tls_downgraded";
    case Signal::kPlaintextAuth:
      return "plaintext_auth";
    case Signal::kResponseInjection:
      return "response_injection";
    case Signal::kCommandInjection:
      return "command_injection";
    case Signal::kPolicyViolation:
      return "policy_violation";
  }
  return "unknown";
}

}  // namespace mailsec::probe
