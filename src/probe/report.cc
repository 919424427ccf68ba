// Names of the report enums: each value maps to one stable, low-cardinality label value.
#include "mailsec/probe/report.h"

#include "mailsec/base/text.h"
#include "mailsec/tls/cipher_suites.h"

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

std::string_view SignalDescription(Signal s) {
  switch (s) {
    case Signal::kStartTlsMissing:
      return "STARTTLS not offered";
    case Signal::kStartTlsMasked:
      return "STARTTLS masked by a device on the path";
    case Signal::kStartTlsRejected:
      return "STARTTLS offered, then refused";
    case Signal::kStartTlsLost:
      return "STARTTLS offered in earlier probes, missing now";
    case Signal::kTlsDowngraded:
      return "TLS version weaker than negotiated before";
    case Signal::kPlaintextAuth:
      return "login offered before TLS";
    case Signal::kResponseInjection:
      return "plaintext injected around STARTTLS";
    case Signal::kCommandInjection:
      return "plaintext sent before STARTTLS executed inside TLS";
    case Signal::kPolicyViolation:
      return "TLS required by MTA-STS or DANE, and not given";
  }
  return "unknown signal";
}

void RaiseSignal(EndpointReport* report, Signal s, std::string_view evidence) {
  const int i = static_cast<int>(s);
  report->signals[i] = true;
  if (report->signal_evidence[i].empty()) report->signal_evidence.Set(i, Printable(evidence, 200));
}

const std::string& SignalEvidence::operator[](int signal) const {
  static const std::string kNone;
  for (const auto& [s, text] : lines_) {
    if (s == signal) return text;
  }
  return kNone;
}

void SignalEvidence::Set(int signal, std::string text) {
  std::erase_if(lines_, [signal](const auto& line) { return line.first == signal; });
  if (!text.empty()) lines_.emplace_back(signal, std::move(text));
}

std::optional<WeakestCipher> MinCipherStrength(const ScanReport& scan) {
  std::optional<WeakestCipher> out;
  auto consider = [&out](std::string_view iana, const std::string& version) {
    const int bits = tls::SuiteStrengthBits(iana);
    if (bits >= 0 && (!out || bits < out->bits)) {
      out = WeakestCipher{bits, std::string(iana), version};
    }
  };
  for (const ScanReport::AcceptedCipher& c : scan.accepted_ciphers) {
    if (const tls::CipherSuite* s = tls::FindCipherSuite(c.id)) consider(s->iana, c.version);
  }
  for (const auto& [version, iana] : scan.accepted_weak) consider(iana, version);
  return out;
}

}  // namespace mailsec::probe
