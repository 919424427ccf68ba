// MTA-STS policy fetch (RFC 8461 §3.3, CHECKS.md STS-03): one HTTPS GET of
// https://mta-sts.<domain>/.well-known/mta-sts.txt, reduced to a checks::PolicyFetch for the pure
// evaluator in checks/mta_sts.h. The HTTP client (cpp-httplib) blocks, so the awaitable form runs
// it on a small worker pool and never on the probe's io_context.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "mailsec/checks/mta_sts.h"

namespace mailsec::probe {

struct PolicyFetchOptions {
  // PEM bundle the chain must verify against. Empty: OpenSSL's default paths (the system store,
  // /etc/ssl/certs/ca-certificates.crt on Debian). A file that cannot be loaded fails every fetch
  // with kTlsFailed, so validate it when loading the config.
  std::string ca_file;
  // Production is always 443 (RFC 8461 §3.3); tests serve on other ports.
  uint16_t port = 443;
  // Budget of the whole fetch: connect (over all addresses) + TLS + headers + body. A peer that
  // trickles bytes cannot keep the fetch alive past it by more than one scheduling delay.
  std::chrono::milliseconds timeout{10'000};
};

// GETs the policy from mta-sts.<domain>, connecting to `addresses` (numeric IPv4/IPv6 text from
// the caller's resolver), tried in order until one accepts the TCP connection; once one does, its
// result is final. Text that is not a numeric address is skipped (httplib would resolve it itself,
// behind the caller's resolver). "mta-sts.<domain>" (lower-cased, one trailing dot of `domain`
// dropped) is the SNI name, the Host header and the reference identity: the chain must verify
// against options.ca_file and the certificate must carry it as a DNS-ID (subjectAltName; RFC 8461
// §3.3 with RFC 6125 matching: wildcard only as the whole left-most label, the subject CN is not
// consulted). Redirects are not followed: a 3xx is reported as kOk with that http_status.
//
// Outcomes: kOk with http_status and content_type ("" when absent) for any HTTP response; body
// only with status 200 (bodies of other statuses are not read). kNoHost when `addresses` is empty
// or `domain` is not a host name. kConnectFailed when no address accepted the connection (refused,
// unreachable) or on an internal failure; kTimeout when the budget ran out at any phase, or the
// connection broke after the handshake without a complete response; kTlsFailed when the
// handshake failed (including a non-TLS peer); kCertInvalid for an untrusted, expired or
// wrong-name certificate; kTooLarge for a body (announced or received) over
// checks::kMaxMtaStsPolicyBytes.
//
// Blocks the calling thread for up to about options.timeout. Thread-safe; never throws. It may
// write to a peer that has hung up, so the process must ignore SIGPIPE (main() does).
checks::PolicyFetch FetchMtaStsPolicyBlocking(const std::string& domain,
                                              const std::vector<std::string>& addresses,
                                              const PolicyFetchOptions& options);

// The same, with the blocking fetch run on `pool`; the coroutine resumes on its own executor.
// `pool` must outlive the returned awaitable's completion.
asio::awaitable<checks::PolicyFetch> FetchMtaStsPolicy(std::string domain,
                                                       std::vector<std::string> addresses,
                                                       PolicyFetchOptions options,
                                                       asio::thread_pool& pool);

}  // namespace mailsec::probe
