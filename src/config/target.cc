#include "mailsec/config/target.h"

#include <arpa/inet.h>

#include <string>

#include "config/host_name.h"
#include "mailsec/base/text.h"

namespace mailsec::config {

namespace {

struct ServiceRow {
  Service service;
  std::string_view name;
  uint16_t port;
  TlsMode tls;
};

// CONTRACT.md, "Services and targets".
constexpr ServiceRow kServiceTable[] = {
    {Service::kSmtp, "smtp", 25, TlsMode::kStartTls},
    {Service::kSubmission, "submission", 587, TlsMode::kStartTls},
    {Service::kSubmissions, "submissions", 465, TlsMode::kImplicit},
    {Service::kImap, "imap", 143, TlsMode::kStartTls},
    {Service::kImaps, "imaps", 993, TlsMode::kImplicit},
    {Service::kPop3, "pop3", 110, TlsMode::kStartTls},
    {Service::kPop3s, "pop3s", 995, TlsMode::kImplicit},
    {Service::kSieve, "sieve", 4190, TlsMode::kStartTls},
};

const ServiceRow& Row(Service s) {
  for (const ServiceRow& r : kServiceTable) {
    if (r.service == s) return r;
  }
  return kServiceTable[0];  // unreachable for valid enum values
}

// Quoted, printable and short, for messages about untrusted text.
std::string Quote(std::string_view s) { return "\"" + Printable(s, 64) + "\""; }

// "1.2.3.4", "1.2.3", "300.1.1.1": meant as an IPv4 literal, never as a name.
bool LooksLikeIpv4(std::string_view s) {
  bool digit = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '.') {
      return false;
    }
  }
  return digit;
}

}  // namespace

std::string_view ServiceName(Service s) { return Row(s).name; }

std::optional<Service> ServiceFromName(std::string_view name) {
  for (const ServiceRow& r : kServiceTable) {
    if (EqualsIgnoreCase(r.name, name)) return r.service;
  }
  return std::nullopt;
}

uint16_t DefaultPort(Service s) { return Row(s).port; }

TlsMode ServiceTlsMode(Service s) { return Row(s).tls; }

std::string EndpointTarget::ToString() const {
  std::string out(ServiceName(service));
  out += "://";
  const bool brackets = host_is_ip && host.find(':') != std::string::npos;
  if (brackets) out += '[';
  out += host;
  if (brackets) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

namespace internal {

bool ParseIpv4(std::string_view text, std::string* canonical) {
  // Strict dotted quad: four decimal octets, no leading zeros (which some parsers read as octal).
  if (text.empty() || text.size() > 15) return false;
  int octets = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    unsigned value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
      if (i - start > 3) return false;
    }
    const size_t len = i - start;
    if (len == 0 || value > 255 || (len > 1 && text[start] == '0')) return false;
    ++octets;
    if (i == text.size()) break;
    if (text[i] != '.' || octets == 4) return false;
    ++i;
  }
  if (octets != 4) return false;
  if (canonical != nullptr) *canonical = std::string(text);
  return true;
}

bool ParseIpv6(std::string_view text, std::string* canonical) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  const std::string z(text);  // inet_pton wants a NUL-terminated string
  in6_addr addr{};
  if (inet_pton(AF_INET6, z.c_str(), &addr) != 1) return false;
  if (canonical != nullptr) {
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, &addr, buf, sizeof buf) == nullptr) return false;
    *canonical = buf;
  }
  return true;
}

Status ParsePort(std::string_view text, bool allow_zero, uint16_t* port) {
  const Status bad = Status::InvalidArgument("bad port " + Quote(text));
  if (text.empty() || text.size() > 5) return bad;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535 || (value == 0 && !allow_zero)) return bad;
  *port = static_cast<uint16_t>(value);
  return Status::Ok();
}

Status ParseHostName(std::string_view text, std::string* out) {
  std::string_view name = text;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // the root label
  if (name.empty()) return Status::InvalidArgument("empty name");
  if (name.size() > 253) return Status::InvalidArgument("name longer than 253 characters");
  std::string_view last;
  size_t pos = 0;
  while (true) {
    const size_t dot = name.find('.', pos);
    const std::string_view label =
        name.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (label.empty()) return Status::InvalidArgument("empty label");
    if (label.size() > 63) {
      return Status::InvalidArgument("label " + Quote(label) + " longer than 63 characters");
    }
    for (char c : label) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) {
        return Status::InvalidArgument("bad character " + Quote(std::string_view(&c, 1)) +
                                       " in label " + Quote(label));
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return Status::InvalidArgument("label " + Quote(label) + " starts or ends with \"-\"");
    }
    last = label;
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  bool numeric = true;
  for (char c : last) numeric = numeric && c >= '0' && c <= '9';
  if (numeric) return Status::InvalidArgument("last label " + Quote(last) + " is all digits");
  *out = AsciiLower(name);
  return Status::Ok();
}

Status ParseHost(std::string_view text, std::string* host, bool* is_ip) {
  if (text.empty()) return Status::InvalidArgument("missing host");
  if (text.front() == '[') {
    if (text.back() != ']') return Status::InvalidArgument("unterminated \"[\"");
    const std::string_view inner = text.substr(1, text.size() - 2);
    if (!ParseIpv6(inner, host)) {
      return Status::InvalidArgument("bad ipv6 address " + Quote(inner));
    }
    *is_ip = true;
    return Status::Ok();
  }
  if (text.find(':') != std::string_view::npos) {
    return Status::InvalidArgument("ipv6 address must be in brackets");
  }
  if (LooksLikeIpv4(text)) {
    if (!ParseIpv4(text, host)) return Status::InvalidArgument("bad ipv4 address " + Quote(text));
    *is_ip = true;
    return Status::Ok();
  }
  Status s = ParseHostName(text, host);
  if (!s.ok()) return s;
  *is_ip = false;
  return Status::Ok();
}

}  // namespace internal

Result<EndpointTarget> ParseEndpointTarget(std::string_view text) {
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return Status::InvalidArgument("missing \"://\" (want SERVICE://HOST[:PORT])");
  }
  const std::string_view service_text = text.substr(0, sep);
  if (service_text.empty()) return Status::InvalidArgument("missing service");
  const std::optional<Service> service = ServiceFromName(service_text);
  if (!service) return Status::InvalidArgument("unknown service " + Quote(service_text));

  std::string_view rest = text.substr(sep + 3);
  if (rest.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("userinfo is not allowed");
  }
  const size_t extra = rest.find_first_of("/?#");
  if (extra != std::string_view::npos) {
    switch (rest[extra]) {
      case '/':
        return Status::InvalidArgument("path is not allowed");
      case '?':
        return Status::InvalidArgument("query is not allowed");
      default:
        return Status::InvalidArgument("fragment is not allowed");
    }
  }

  // Split HOST and PORT. The port is after the last ':' that is not inside brackets.
  std::string_view host_text = rest;
  std::string_view port_text;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("unterminated \"[\"");
    host_text = rest.substr(0, close + 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Status::InvalidArgument("unexpected " + Quote(after) + " after \"]\"");
      }
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const size_t first = rest.find(':');
    if (first != std::string_view::npos) {
      if (rest.find(':', first + 1) != std::string_view::npos) {
        return Status::InvalidArgument("ipv6 address must be in brackets");
      }
      host_text = rest.substr(0, first);
      port_text = rest.substr(first + 1);
      has_port = true;
    }
  }

  EndpointTarget t;
  t.service = *service;
  if (Status s = internal::ParseHost(host_text, &t.host, &t.host_is_ip); !s.ok()) return s;
  if (has_port) {
    if (Status s = internal::ParsePort(port_text, /*allow_zero=*/false, &t.port); !s.ok()) {
      return s;
    }
  } else {
    t.port = DefaultPort(t.service);
  }
  return t;
}

Result<std::string> ParseDomainName(std::string_view text) {
  if (text.find("://") != std::string_view::npos) {
    return Status::InvalidArgument("expected a bare domain, not a SERVICE:// target");
  }
  if (text.empty() || text == ".") return Status::InvalidArgument("empty domain name");
  std::string name;
  if (Status s = internal::ParseHostName(text, &name); !s.ok()) return s;
  if (name.find('.') == std::string::npos) {
    return Status::InvalidArgument("a domain needs at least two labels");
  }
  return name;
}

}  // namespace mailsec::config
