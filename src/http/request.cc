#include "mailsec/http/request.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>

namespace mailsec::http {

Result<std::pair<std::string, int>> ParseListenAddress(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("listen address \"" + address + "\": missing :PORT");
  }
  std::string host = address.substr(0, colon);
  std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return Status::InvalidArgument("listen address \"" + address + "\": IPv6 needs brackets");
  }
  int port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 0 || port > 65535 ||
      port_text.empty()) {
    return Status::InvalidArgument("listen address \"" + address + "\": bad port");
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, port);
}

bool ParseBasicAuth(std::string_view header, std::string* user, std::string* password) {
  constexpr std::string_view kScheme = "Basic ";
  if (header.size() < kScheme.size() || header.size() > 1024) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return false;
    }
  }
  std::string_view b64 = header.substr(kScheme.size());
  while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
  while (!b64.empty() && b64.back() == ' ') b64.remove_suffix(1);
  if (b64.empty() || b64.size() % 4 != 0) return false;
  std::string decoded;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < b64.size(); ++i) {
    const char c = b64[i];
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+') v = 62;
    if (c == '/') v = 63;
    if (c == '=') {
      if (i + 2 < b64.size()) return false;  // padding only at the end
      ++pad;
      continue;
    }
    if (v < 0 || pad > 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

Result<ProbeQuery> ParseProbeQuery(const std::optional<std::string>& target,
                                   const std::optional<std::string>& scan,
                                   const std::optional<std::string>& scrape_timeout) {
  ProbeQuery q;
  if (!target || target->empty()) return Status::InvalidArgument("missing parameter \"target\"");
  q.target = *target;
  if (scan) {
    if (*scan == "1" || *scan == "true") {
      q.scan = true;
    } else if (*scan != "0" && *scan != "false" && !scan->empty()) {
      return Status::InvalidArgument("bad parameter \"scan\": want 0 or 1");
    }
  }
  if (scrape_timeout) {
    const std::string& h = *scrape_timeout;
    char* end = nullptr;
    const double v = std::strtod(h.c_str(), &end);
    if (h.empty() || end == h.c_str() || *end != '\0' || !(v > 0) || v > 86400) {
      return Status::InvalidArgument("bad header X-Prometheus-Scrape-Timeout-Seconds");
    }
    // Leave half a second (or a tenth of short budgets) to send the answer back in time.
    q.budget_seconds = v > 5 ? v - 0.5 : v * 0.9;
  }
  return q;
}

namespace {

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != lower[i]) return false;
  }
  return true;
}

// The weight of a member's parameters ("q=0.5"): qvalue = "0" [ "." 0*3DIGIT ] / "1" [ "."
// 0*3("0") ]; zero only when it is a well-formed zero, one when absent or malformed.
bool WeightAboveZero(std::string_view params) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view param = TrimOws(params.substr(0, semi));
    params.remove_prefix(semi == std::string_view::npos ? params.size() : semi + 1);
    if (param.size() < 2 || std::tolower(static_cast<unsigned char>(param[0])) != 'q' ||
        param[1] != '=') {
      continue;
    }
    std::string_view q = TrimOws(param.substr(2));
    if (q.empty() || q.size() > 5 || q[0] != '0') return true;
    if (q.size() == 1) return false;
    if (q[1] != '.') return true;
    for (char c : q.substr(2)) {
      if (c != '0') return true;  // a digit above zero, or malformed
    }
    return false;
  }
  return true;
}

}  // namespace

bool AcceptsCoding(std::string_view accept_encoding, std::string_view coding) {
  std::string_view rest = accept_encoding.substr(0, 4096);
  std::optional<bool> named;
  std::optional<bool> any;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view member = rest.substr(0, comma);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    const size_t semi = member.find(';');
    const std::string_view name = TrimOws(member.substr(0, semi));
    const std::string_view params =
        semi == std::string_view::npos ? std::string_view() : member.substr(semi + 1);
    if (EqualsLower(name, coding)) {
      named = named.value_or(false) || WeightAboveZero(params);
    } else if (name == "*") {
      any = any.value_or(false) || WeightAboveZero(params);
    }
  }
  if (named) return *named;
  return any.value_or(false);
}

}  // namespace mailsec::http
