// DNS lookups for probes: typed answers with the AD bit, every query under a deadline.
//
// Resolver is the seam (fakes implement it in tests of the SPF/DMARC walks and the domain probe);
// AresResolver is the real one: one c-ares channel driven by the Asio loop. Queries are sent with
// RD, AD and EDNS0 DO set (BuildQuery), and the raw reply is parsed by ParseDnsMessage, so the AD
// bit and TLSA/CAA/SRV come from the reply bytes, not from c-ares (1.18 has no record API).
//
// Outcomes keep "not there" (kNxDomain, kNoData), "malformed" and "try again" (kServFail,
// kTimeout, kRefused) apart, as Postfix does; OutcomeName() gives the metric label value.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/dns/message.h"
#include "mailsec/net/transport.h"

namespace mailsec::dns {

enum class Outcome : uint8_t {
  kOk,         // at least one record of the asked type
  kNxDomain,   // the name does not exist (rcode 3)
  kNoData,     // the name exists, no record of that type (rcode 0, empty after CNAME chasing)
  kServFail,   // the server failed (rcode 2, or FORMERR/NOTIMP, or no server reachable)
  kTimeout,    // no answer before the deadline (or c-ares gave up on every server)
  kMalformed,  // a reply we cannot parse, or a name we cannot encode
  kRefused,    // every server refused (rcode 5)
};
std::string_view OutcomeName(Outcome o);  // "ok", "nxdomain", "nodata", ...

// The most CNAMEs followed inside one answer before the chain counts as broken; real chains are
// one or two long (CDN aliases), and a loop must end.
inline constexpr int kMaxCnameChain = 8;

using Record = ResourceRecord;

struct DnsAnswer {
  Outcome outcome = Outcome::kTimeout;
  // The AD bit of the reply: the resolver validated it with DNSSEC. Meaningful only when the
  // resolver is trusted (local, or reached over a trusted path), and also set on NXDOMAIN/NODATA
  // (authenticated denial).
  bool authenticated_data = false;
  // Records of the asked type owned by canonical_name, in reply order. Empty unless kOk.
  std::vector<Record> records;
  // The asked name after following CNAMEs inside the answer; equals the asked name when there was
  // no CNAME. Lets callers see aliases (an MX host that is a CNAME).
  std::string canonical_name;
  // Why, for logs; untrusted peer text is never put here.
  std::string error;
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  // Looks `name` up (presentation form) for one type. Completes by `deadline` (plus scheduling
  // slack) whatever the servers do. May be called concurrently from coroutines on any executor.
  virtual asio::awaitable<DnsAnswer> Query(std::string name, RrType type,
                                           net::Deadline deadline) = 0;
  // The same query with the CD bit set (RFC 4035 §3.2.2): a validating resolver answers without
  // validating. Only to tell "bogus" (SERVFAIL validated, an answer unvalidated) from a broken
  // zone or server; never trust its records.
  virtual asio::awaitable<DnsAnswer> QueryUnvalidated(std::string name, RrType type,
                                                      net::Deadline deadline) = 0;
};

struct ResolverOptions {
  // "IP" or "IP:port"; IPv6 as "[addr]" or "[addr]:port". Empty: /etc/resolv.conf (c-ares
  // default initialisation).
  std::vector<std::string> servers;
  // c-ares' per-attempt timeout (it grows it per round of retries) and attempts per server. The
  // caller's deadline bounds the whole query regardless.
  std::chrono::milliseconds attempt_timeout{2000};
  int tries = 2;
};

// The c-ares resolver. All c-ares calls happen on one strand of `executor`'s context (the
// channel is not thread-safe); Query hops onto that strand and its result comes back on the
// caller's executor. c-ares sockets are watched by the same loop (no thread of their own).
//
// A SERVFAIL or REFUSED reply is final (reported as such, not retried on the next server), so
// that "the zone is broken" (a validating resolver's SERVFAIL) stays distinct from "no answer".
//
// Lifetime: the Resolver must outlive the queries started on it, and the io_context must outlive
// the Resolver. Destroying it (from any thread) posts the channel's shutdown onto the strand; a
// query still waiting then completes with kTimeout ("resolver shut down") once the loop runs it,
// and a reply that arrives after a query's deadline is dropped safely.
class AresResolver final : public Resolver {
 public:
  // InvalidArgument for a bad server list, Unavailable when c-ares cannot initialise (no
  // resolv.conf servers, out of memory).
  static Result<std::unique_ptr<AresResolver>> Create(asio::any_io_executor executor,
                                                      const ResolverOptions& options);
  ~AresResolver() override;
  AresResolver(const AresResolver&) = delete;
  AresResolver& operator=(const AresResolver&) = delete;

  asio::awaitable<DnsAnswer> Query(std::string name, RrType type, net::Deadline deadline) override;
  asio::awaitable<DnsAnswer> QueryUnvalidated(std::string name, RrType type,
                                              net::Deadline deadline) override;

  struct Impl;  // in src/dns/resolver.cc; shared with pending handlers

 private:
  explicit AresResolver(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// Interprets a raw reply to a query for (name, type): rcode, AD bit, CNAME chasing. Exposed for
// tests and for fakes that hold raw replies.
DnsAnswer InterpretReply(std::span<const uint8_t> reply, std::string_view name, RrType type);

}  // namespace mailsec::dns
