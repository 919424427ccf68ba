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
  const Clock* clock = nullptr;                // null: the system clock
};

// Probes every address of the target. The coroutine's executor should be a strand.
asio::awaitable<TargetResult> ProbeEndpointTarget(config::EndpointTarget target,
                                                  ProbeOptions options);

// Probes one address.
asio::awaitable<EndpointReport> ProbeAddress(config::EndpointTarget target,
                                             asio::ip::address address, ProbeOptions options);

// True when the report shows something critical (for `check`'s exit status): probe failed,
// certificate untrusted or expired or for another host, or any downgrade signal.
bool IsCritical(const EndpointReport& report);

}  // namespace mailsec::probe
