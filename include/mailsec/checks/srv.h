// SRV records for mail submission and access (RFC 6186, RFC 8314 §5.1, RFC 5804 for ManageSieve,
// RFC 2782): which names to query, which endpoints the answers ask us to probe, and the verdict of
// CHECKS.md row SRV-02. SRV-01's reachability belongs to the endpoint probes of SrvEndpoints().
// Pure functions over answers the caller fetched; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/checks/dns_outcome.h"
#include "mailsec/checks/verdict.h"

namespace mailsec::checks {

// Endpoints taken from one domain's SRV answers. The seven services rarely publish more than two
// targets each; a hostile or broken zone can list hundreds, and every target costs a TCP and TLS
// probe on each cycle, so the rest are dropped (in priority order, the most preferred kept).
inline constexpr size_t kMaxSrvEndpoints = 16;

inline constexpr std::string_view kSrvImplicitTlsPreferredCheck = "srv_implicit_tls_preferred";
inline constexpr std::string_view kSrvLookupCheck = "srv_lookup";

struct SrvService {
  std::string_view label;    // "_submissions._tcp"
  std::string_view service;  // the config's service name: "submissions"
  uint16_t default_port;
  bool implicit_tls;  // TLS from the first byte (RFC 8314); otherwise STARTTLS or plaintext
};

// submissions (465), submission (587), imaps (993), imap (143), pop3s (995), pop3 (110),
// sieve (4190); in that order, which is the order to query them in.
const std::vector<SrvService>& MailSrvServices();

struct SrvRecordIn {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;  // "." (or "") when the service is decidedly not available
};

// The answer for one MailSrvServices() label, "_imaps._tcp.<domain>" asked.
struct SrvLookup {
  std::string_view label;  // a MailSrvServices() label; others are ignored
  LookupStatus status = LookupStatus::kNoData;
  std::vector<SrvRecordIn> records;
};

struct SrvTarget {
  std::string service;  // SrvService::service
  std::string host;     // normalized: lower case, no trailing dot
  uint16_t port = 0;
};

// The endpoints to probe: per lookup (in the order given), records by ascending priority and
// descending weight (RFC 2782's preference, without the random weighted pick); "." targets,
// invalid host names and port 0 skipped; each (service, host, port) once; at most
// kMaxSrvEndpoints.
std::vector<SrvTarget> SrvEndpoints(const std::vector<SrvLookup>& lookups);

// srv_lookup: error naming the labels whose lookup failed; pass when every lookup answered;
// none without lookups.
// srv_implicit_tls_preferred (SRV-02), over the pairs submissions/submission, imaps/imap and
// pop3s/pop3 where both answered with a usable (non-".") target: pass when every implicit-TLS
// variant's best priority is numerically lower or equal to its sibling's, warn when a STARTTLS or
// cleartext variant is preferred (RFC 8314 §5.1); no finding without such a pair.
std::vector<Finding> AssessSrv(const std::vector<SrvLookup>& lookups);

// Every check id AssessSrv can yield.
const std::vector<std::string_view>& SrvCheckIds();

}  // namespace mailsec::checks
