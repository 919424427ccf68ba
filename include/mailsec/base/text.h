// Small helpers for untrusted text.
#pragma once

#include <string>
#include <string_view>

namespace mailsec {

// Printable ASCII copy of untrusted bytes: controls and bytes >127 become \xNN, cut to
// max_bytes with "..." appended. For logs, errors and the status page.
std::string Printable(std::string_view in, size_t max_bytes = 160);

// ASCII case-insensitive comparison and lowering.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string AsciiLower(std::string_view s);
std::string AsciiUpper(std::string_view s);
std::string_view TrimSpace(std::string_view s);

}  // namespace mailsec
