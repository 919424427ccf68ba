// The web front's parsers of untrusted request input: listen addresses (from the config or the
// flag), RFC 7617 basic credentials, the /probe query and Accept-Encoding. Pure functions, no I/O (fuzzed in
// tests/fuzz/probe_query_fuzz.cc).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mailsec/base/status.h"

namespace mailsec::http {

// Splits ":9525", "0.0.0.0:9525", "[::1]:9525", "localhost:9525" into host and port.
// An empty host means every IPv4 address ("0.0.0.0").
Result<std::pair<std::string, int>> ParseListenAddress(const std::string& address);

// RFC 7617 basic credentials from an Authorization header value (at most 1 KiB); false when
// malformed. The password may contain ':'.
bool ParseBasicAuth(std::string_view header, std::string* user, std::string* password);

struct ProbeQuery {
  std::string target;
  bool scan = false;
  double budget_seconds = 0;  // 0: the configured timeout; else what is left after a margin
};

// The /probe query: `target` (required, non-empty), `scan` ("1"/"true", "0"/"false" or empty)
// and the X-Prometheus-Scrape-Timeout-Seconds header (0 < seconds <= 86400). An error's message
// is the one-line reason of the 400 answer.
Result<ProbeQuery> ParseProbeQuery(const std::optional<std::string>& target,
                                   const std::optional<std::string>& scan,
                                   const std::optional<std::string>& scrape_timeout);

// Whether an Accept-Encoding header value (RFC 9110 section 12.5.3) accepts the content coding
// "coding" (lower case, e.g. "gzip"): named with a weight above zero, or not named and "*" with
// a weight above zero. Names are case-insensitive; a member whose weight is malformed counts as
// accepted (q=1). Reads at most the first 4 KiB.
bool AcceptsCoding(std::string_view accept_encoding, std::string_view coding);

}  // namespace mailsec::http
