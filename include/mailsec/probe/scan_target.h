// The deep scan of a whole target result: every address that a fast probe connected to is
// scanned (probe/deep_scan.h), and the served leaf's revocation is asked for (the staple, else
// the OCSP responder or the CRL: probe/revocation.h). The outcome rides along in each
// EndpointReport::scan; a command injection found sets the report's command_injection signal.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>

#include "mailsec/probe/deep_scan.h"
#include "mailsec/probe/report.h"
#include "mailsec/probe/revocation.h"

namespace mailsec::probe {

struct ScanTargetOptions {
  ScanOptions scan;
  RevocationOptions revocation;
  asio::thread_pool* pool = nullptr;  // for the OCSP/CRL fetches; null: revocation untested
};

// Scans the addresses of `*result` one after the other (politeness: one scan per host at a
// time). `*result` must outlive the coroutine.
asio::awaitable<void> ScanTargetResult(TargetResult* result, ScanTargetOptions options);

// Copies `scan` into `report` and derives what the report shows from it: the command_injection
// signal, and the cert_revoked finding when no staple decided it.
void AttachScan(const ScanReport& scan, EndpointReport* report);

}  // namespace mailsec::probe
