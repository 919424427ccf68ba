// The validated configuration: TOML (see CONTRACT.md) -> Config. Defaults live in the struct
// initialisers below and nowhere else. Unknown keys, wrong types, bad durations, bad or duplicate
// targets and unreadable files are refused with "FILE:LINE: KEY: reason".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/config/target.h"

namespace mailsec::config {

using Duration = std::chrono::milliseconds;

enum class IpFamily : uint8_t { kAny, kIpv4, kIpv6 };

struct GlobalConfig {
  Duration interval = std::chrono::minutes(5);
  Duration scan_interval = std::chrono::hours(6);
  Duration timeout = std::chrono::seconds(20);
  int concurrency = 128;                // 1..100000
  std::string helo_name = "localhost";  // EHLO argument
  std::vector<std::string> resolvers;   // "IP[:PORT]"; empty: /etc/resolv.conf
  std::string ca_file;                  // empty: the system trust store
  std::string state_file = "/var/lib/mailsec_exporter/state.json";  // empty: keep no history
  // How long the history of an endpoint that left the config is kept before it is pruned.
  Duration history_retention = std::chrono::hours(24 * 30);
  // How often the history is written to state_file when it changed (and once at shutdown).
  Duration state_save_interval = std::chrono::seconds(60);
  IpFamily ip_family = IpFamily::kAny;  // "any", "ipv4", "ipv6"
  // CHECKS.md TX-13, intrusive, off when empty: the deep scan of smtp/submission(s) endpoints
  // asks for this mailbox (a domain the probed servers must not relay to) as an unauthenticated
  // RCPT, then RSET. "LOCAL@DOMAIN".
  std::string open_relay_recipient;
};

struct WebConfig {
  std::string listen_address = ":9525";
  std::vector<std::string> probe_allow;  // globs ('*', '?') of extra /probe targets
  // HTTPS (TLS 1.2 and later) when both are set; read at start (a change needs a restart).
  std::string tls_cert_file;  // PEM chain, leaf first
  std::string tls_key_file;   // PEM private key
  // HTTP basic auth on every path when not empty: user -> bcrypt hash ("$2y$..."), as
  // `htpasswd -nBC 10 USER` prints it. Reloadable.
  std::map<std::string, std::string> basic_auth_users;
  // /probe requests served at once; more are answered 503.
  int max_concurrent_probes = 8;
};

struct DomainConfig {
  std::string name;
  std::vector<std::string> dkim_selectors;
  int line = 0;  // where it was declared, for messages
};

// Operator expectations of the served leaf (CHECKS.md CERT-17, check cert_pinned): a renewal
// from another CA, or an interception, breaks them. Empty: no expectation.
struct CertPins {
  std::vector<std::string> fingerprints_sha256;  // lower-case hex, 64 digits; any one matches
  std::string issuer_cn;                         // glob ('*', '?') on the leaf's issuer CN
  // Upper-case hex serial numbers without separators or leading zeros; any one matches.
  std::vector<std::string> serials;
  bool empty() const { return fingerprints_sha256.empty() && issuer_cn.empty() && serials.empty(); }
  bool operator==(const CertPins&) const = default;
};

struct EndpointConfig {
  EndpointTarget target;
  CertPins pins;  // expect_fingerprint_sha256, expect_issuer_cn, expect_serial
  int line = 0;
};

struct Config {
  GlobalConfig global;
  WebConfig web;
  std::vector<DomainConfig> domains;
  std::vector<EndpointConfig> endpoints;
  std::string source;  // file path, or "<embedded default>"
  bool is_embedded_default = false;
};

// Parses a duration: one or more <integer><unit> groups with units ms, s, m, h, d, w in
// decreasing order ("1h30m", "500ms", "5m"). Rejects "", "5x", "-1s", "5", "1.5s", overflow.
Result<Duration> ParseDuration(std::string_view text);
std::string FormatDuration(Duration d);  // "5m", "1h30m", "500ms", "0s"

// Parses TOML text; `source` names the file in messages ("FILE:LINE: KEY: reason").
Result<Config> ParseConfig(std::string_view text, std::string_view source);

// A plain mailbox for an RCPT command (global.open_relay_recipient, `check
// --open-relay-recipient`): a dot-atom local part (RFC 5321 §4.1.2, no quoted strings) of at most
// 64 bytes, '@', a host name.
bool ValidMailbox(std::string_view mailbox);

// Reads and parses a file. Unreadable: "PATH:0: file: cannot read: <strerror>". Files over
// kMaxConfigBytes are refused.
Result<Config> LoadConfigFile(const std::string& path);

// The embedded default: the eight services of localhost on their default ports.
Config EmbeddedDefaultConfig();
std::string_view EmbeddedDefaultToml();

}  // namespace mailsec::config
