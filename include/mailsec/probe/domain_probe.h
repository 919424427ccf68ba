// DomainProbe: everything a domain publishes about its mail, checked in one run (CONTRACT.md
// "Domain target"): SOA with the AD bit (DNSSEC), MX (null MX, CNAME and address-less MX), each
// MX address's PTR with forward confirmation, SPF (the whole include/redirect tree), DMARC (with
// the organizational-domain fallback and external report authorisation), DKIM for the configured
// selectors, MTA-STS (TXT, the policy over verified HTTPS, MX coverage), TLS-RPT, BIMI, CAA of the
// MX hosts, and the SRV records of RFC 6186/8314. Every MX host is then probed as smtp://MX:25
// and every SRV target as its service, through the endpoint probe (DANE included), and MTA-STS
// is checked against what those probes saw.
//
// Never throws; every failure ends up in the report. DNS goes only through options.endpoint's
// resolver; the HTTPS fetch runs on `fetch_pool`.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "mailsec/checks/mta_sts.h"
#include "mailsec/probe/endpoint_probe.h"
#include "mailsec/probe/policy_fetch.h"
#include "mailsec/probe/report.h"

namespace mailsec::probe {

// MX hosts probed per domain. Internet.nl stops at 10; real domains have 1-5. The limit keeps a
// hostile zone with hundreds of MX records from turning one run into hundreds of SMTP probes.
inline constexpr size_t kMaxProbedMxHosts = 16;
// Addresses whose PTR is looked up per domain, and PTR names followed back per address.
inline constexpr size_t kMaxPtrAddresses = 32;
inline constexpr size_t kMaxPtrNamesFollowed = 4;

struct DomainProbeOptions {
  ProbeOptions endpoint;  // for the MX and SRV probes; its resolver serves every lookup here
  std::vector<std::string> dkim_selectors;
  PolicyFetchOptions policy_fetch;
  asio::thread_pool* fetch_pool = nullptr;  // required for the MTA-STS fetch
  // What the previous run saw of the MTA-STS policy (CHECKS.md STS-09), from the history.
  std::optional<checks::MtaStsSeen> previous_mta_sts;
  // Probe the MX and SRV endpoints (off in tests of the DNS part alone).
  bool probe_endpoints = true;
};

// Runs every check of the domain. The coroutine's executor should be a strand.
asio::awaitable<TargetResult> ProbeDomainTarget(std::string domain, DomainProbeOptions options);

// True when the domain report shows something critical (for `check`'s exit status): a failed
// check.
bool IsCritical(const DomainReport& report);

}  // namespace mailsec::probe
