// Internal to the config layer: host, address and port syntax shared by targets and the
// [global]/[web] keys. Pure functions, no I/O, no name resolution.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mailsec/base/status.h"

namespace mailsec::config::internal {

// Strict dotted-quad IPv4 (no leading zeros). On success stores the canonical text if non-null.
bool ParseIpv4(std::string_view text, std::string* canonical);
// IPv6 without brackets or zone. On success stores the canonical (RFC 5952) text if non-null.
bool ParseIpv6(std::string_view text, std::string* canonical);
// Decimal digits only, 1..65535 (0 too when allow_zero). Error: "bad port \"X\"".
Status ParsePort(std::string_view text, bool allow_zero, uint16_t* port);
// A DNS host name: LDH labels of 1..63, total <= 253, trailing dot dropped, last label not all
// digits. Stores the lower-cased name. Single-label names ("localhost") are allowed.
Status ParseHostName(std::string_view text, std::string* out);
// A host name, a dotted-quad IPv4 literal, or an IPv6 literal in brackets. Stores the
// canonical host (IPv6 without brackets) and whether it is an address literal.
Status ParseHost(std::string_view text, std::string* host, bool* is_ip);

}  // namespace mailsec::config::internal
