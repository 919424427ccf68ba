// The deep scan of a whole target result: every address that a fast probe connected to is
// scanned (probe/deep_scan.h), and the served leaf's revocation is asked for (the staple, else
// the OCSP responder or the CRL: probe/revocation.h). The outcome rides along in each
// EndpointReport::scan; a command injection found sets the report's command_injection signal.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mailsec/probe/deep_scan.h"
#include "mailsec/probe/report.h"
#include "mailsec/probe/revocation.h"

namespace mailsec::probe {

// One background deep scan per server address at a time, across targets (CHECKS.md META-03: the
// imap, imaps and smtp targets of one host, or two names of one address, are one server to be
// polite to). Never waits: a target whose address is being scanned for another target skips its
// scan and tries again at its next probe, so that its fast probes keep their interval.
// Thread-safe.
class AddressLocks {
 public:
  class Lease {
   public:
    Lease(AddressLocks* owner, std::vector<std::string> ips)
        : owner_(owner), ips_(std::move(ips)) {}
    Lease(Lease&& o) noexcept : owner_(o.owner_), ips_(std::move(o.ips_)) { o.owner_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();

   private:
    AddressLocks* owner_;
    std::vector<std::string> ips_;
  };
  // Every address of `ips`, or none: a lease when no other lease holds any of them.
  std::optional<Lease> TryLock(std::vector<std::string> ips);
  size_t held() const;  // addresses held now

 private:
  void Unlock(const std::vector<std::string>& ips);
  mutable std::mutex mu_;
  std::set<std::string> busy_;
};

struct ScanTargetOptions {
  ScanOptions scan;
  RevocationOptions revocation;
  asio::thread_pool* pool = nullptr;  // for the OCSP/CRL fetches; null: revocation untested
};

// Scans the addresses of `*result` one after the other (politeness: one scan per host at a
// time). `*result` must outlive the coroutine.
asio::awaitable<void> ScanTargetResult(TargetResult* result, ScanTargetOptions options);

// Shares `scan` with `report` and derives what the report shows from it: the command_injection
// signal, and the cert_revoked finding when no staple decided it (added to a copy of the scan
// the first time only; the copy is what later reports share).
void AttachScan(std::shared_ptr<const ScanReport> scan, EndpointReport* report);

// The cert_chain_revoked finding (CERT-09/10 for intermediates) of a revocation check: fail when
// an intermediate is revoked, warn when a responder does not know one, pass when at least one
// was asked and none is revoked or unknown; nullopt when none could be asked. The detail names
// each intermediate by depth and CN with what was learnt of it (at most 1 KiB).
std::optional<checks::Finding> ChainRevocationFinding(const RevocationResult& rev);

}  // namespace mailsec::probe
