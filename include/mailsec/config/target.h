// Probe targets as users write them: `SERVICE://HOST[:PORT]` endpoints and bare-domain targets.
// Pure value types and parsers; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mailsec/base/status.h"

namespace mailsec::config {

enum class Service : uint8_t {
  kSmtp,
  kSubmission,
  kSubmissions,
  kImap,
  kImaps,
  kPop3,
  kPop3s,
  kSieve
};
enum class TlsMode : uint8_t { kStartTls, kImplicit };

inline constexpr Service kAllServices[] = {
    Service::kSmtp,  Service::kSubmission, Service::kSubmissions, Service::kImap,
    Service::kImaps, Service::kPop3,       Service::kPop3s,       Service::kSieve};

// "smtp", "submission", ... exactly as in CONTRACT.md.
std::string_view ServiceName(Service s);
std::optional<Service> ServiceFromName(std::string_view name);  // case-insensitive
uint16_t DefaultPort(Service s);
TlsMode ServiceTlsMode(Service s);

struct EndpointTarget {
  Service service = Service::kSmtp;
  std::string host;   // lower-cased name, or the IP literal without brackets
  uint16_t port = 0;  // default port of the service when the target had none
  bool host_is_ip = false;

  // Canonical form: "smtp://mail.example.org:25", "imaps://[2001:db8::1]:993".
  std::string ToString() const;
  bool operator==(const EndpointTarget&) const = default;
};

// Parses `SERVICE://HOST[:PORT]`. HOST is a DNS name (LDH labels, optional trailing dot removed,
// lower-cased), an IPv4 literal, or an IPv6 literal in brackets. PORT is 1..65535. Errors name
// what is wrong: "unknown service \"x\"", "missing host", "bad port \"0\"", ...
Result<EndpointTarget> ParseEndpointTarget(std::string_view text);

// Validates a bare domain target ("example.org"): LDH labels, each 1..63, total <= 253, at least
// two labels, no scheme. Returns the lower-cased name without trailing dot.
Result<std::string> ParseDomainName(std::string_view text);

}  // namespace mailsec::config
