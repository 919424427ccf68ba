// EndpointProbe: resolves an endpoint target, and for every address runs the dialogue of its
// service (plaintext part, STARTTLS or implicit TLS, capabilities again over TLS, QUIT),
// filling one EndpointReport per address. Never throws; every failure ends up in the report.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>
#include <memory>
#include <string>

#include "mailsec/base/clock.h"
#include "mailsec/base/limits.h"
#include "mailsec/config/config.h"
#include "mailsec/dns/resolver.h"
#include "mailsec/probe/report.h"
#include "mailsec/tls/client.h"

namespace mailsec::probe {

struct ProbeOptions {
  std::string helo_name = "localhost";
  std::chrono::milliseconds timeout{20'000};  // per address
  config::IpFamily ip_family = config::IpFamily::kAny;
  PhaseTimeouts phases;
  ReplyLimits reply_limits;
  DialogueLimits dialogue_limits;
  std::shared_ptr<const tls::TlsContext> tls;  // required
  // Every lookup (A/AAAA of the host, TLSA) goes through it. Required for host names; IP-literal
  // targets need none.
  std::shared_ptr<dns::Resolver> resolver;
  // Deadline of one DNS query (also capped by `timeout`).
  std::chrono::milliseconds dns_timeout{5'000};
  const Clock* clock = nullptr;                // null: the system clock
};

// Resolves the target's host (A and AAAA through options.resolver, filtered by ip_family), probes
// every address, compares the certificates across addresses and, for a host name, looks up and
// matches TLSA at _PORT._tcp.HOST (DANE). The coroutine's executor should be a strand.
asio::awaitable<TargetResult> ProbeEndpointTarget(config::EndpointTarget target,
                                                  ProbeOptions options);

// Probes one address.
asio::awaitable<EndpointReport> ProbeAddress(config::EndpointTarget target,
                                             asio::ip::address address, ProbeOptions options);

// True when the report shows something critical (for `check`'s exit status): probe failed,
// certificate untrusted or expired or for another host, any downgrade signal, or a failed check of
// its deep scan.
bool IsCritical(const EndpointReport& report);

}  // namespace mailsec::probe
