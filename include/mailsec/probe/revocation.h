// Revocation of the served leaf and of the intermediates above it, for the deep scan (CHECKS.md
// CERT-09 OCSP, CERT-10 CRL; the `mailsec_cert_revoked` metric for the leaf, the
// `cert_chain_revoked` check for the intermediates). For the leaf, in order of preference:
//   1. the stapled OCSP status the tls layer read (TlsFacts::ocsp_staple_status);
//   2. the leaf's OCSP responder (AIA, http:// only), asked with a nonce and a SHA-1 CertID; the
//      answer counts only when signed by the issuer or by a responder it delegated to;
//   3. the leaf's CRL (CRL distribution point, http:// only), signed by the issuer.
// Each intermediate on the path from the leaf up to its trust anchor is then asked the same way
// (2 and 3; nothing is stapled for it), its issuer being the next served certificate or, for the
// last one, the trust-store root that issued it. Trust anchors themselves are not checked.
// https:// responders and CRLs are not fetched (rare, and TLS to reach a revocation source raises
// its own revocation question); ldap:// is ignored.
//
// The HTTP client (cpp-httplib) blocks, so the awaitable form runs it on a worker pool.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mailsec/tls/cert_facts.h"
#include "mailsec/tls/client.h"

namespace mailsec::probe {

struct RevocationOptions {
  // Budget of the whole check: every OCSP and CRL fetch together, each covering name
  // resolution, connect, request and the whole response. A peer that trickles bytes cannot hold
  // the check past it by more than a scheduling delay.
  std::chrono::milliseconds timeout{10'000};
  // An OCSP response for one certificate is 1-4 KiB: one SingleResponse, a signature and, from
  // a delegated responder, its certificate (1-2 KiB). Even several RSA-4096 certificates stay
  // under 16 KiB; 64 KiB leaves 4x headroom and keeps a hostile responder from costing memory.
  size_t max_ocsp_bytes = 64 * 1024;
  // CRLs grow with the number of revoked serials (about 40 bytes each): most CA CRLs are well
  // under 1 MiB and the large unpartitioned ones of big public CAs a few MiB. 10 MiB covers them
  // while bounding what each concurrent check (one per pool thread) may hold in memory.
  size_t max_crl_bytes = 10 * 1024 * 1024;
  // Where the issuer of a certificate is looked up when the server did not send it (the root
  // above the last intermediate, or a root that issued the leaf directly). Null: served
  // certificates only, so the last intermediate stays untested.
  std::shared_ptr<const tls::TlsContext> trust;
  // Intermediates checked above the leaf, at most (a longer path is cut, the detail says so).
  size_t max_intermediates = 4;
};

struct RevocationResult {
  enum class Status : uint8_t {
    kGood,
    kRevoked,
    kUnknown,   // the (stapled or fetched) OCSP responder said "unknown" for the leaf
    kUntested,  // nothing to ask, or every fetch/parse/verification failed
  };
  Status status = Status::kUntested;
  std::string source;  // "ocsp_staple", "ocsp", "crl"; "" when untested
  // Printable ASCII: the URL asked and, when untested, why (one note per source tried, "; "
  // separated). Untrusted parts (URLs from the certificate) are escaped and cut short.
  std::string detail;

  // The intermediates on the leaf's path to its trust anchor, nearest first (depth 1 issued the
  // leaf). Empty when the leaf's issuer is unknown or is itself the anchor.
  struct Element {
    int depth = 0;
    std::string subject_cn;  // printable, cut short
    Status status = Status::kUntested;
    std::string source;  // "ocsp", "crl"; "" when untested
    std::string detail;  // as above
    bool no_source = false;  // untested because it names no http OCSP responder or CRL
  };
  std::vector<Element> intermediates;
};

// Decides whether facts.chain[0] (the leaf) is revoked, then each intermediate above it. The
// issuer is the served certificate that issued it (X509_check_issued and a verifying signature),
// else the trust-store certificate that did (options.trust); without one only the leaf's staple
// can answer, and the walk up the chain stops. Fetched
// answers must be signed by that issuer (directly, or through a delegated OCSP responder it
// certified with id-kp-OCSPSigning) and current: thisUpdate/nextUpdate within 5 minutes of the
// system clock.
//
// Order: a staple ("good", "revoked", "unknown") is final, and is taken as the tls layer read it
// (not signature-checked; see TlsFacts). Otherwise the http OCSP URLs are asked in turn: "good"
// or "revoked" is final; "unknown" is kept but the CRL is still consulted, and a CRL answer wins
// over it. Failures fall through to the next URL and then to the CRL. No redirects are followed;
// a non-200 status, a body over the cap, a response that fails verification, or running out of
// the budget makes that source untested (the detail says which).
//
// The leaf is asked first; the intermediates share what is left of the budget.
//
// Blocks the calling thread for up to about options.timeout (name resolution included). Never
// throws; thread-safe. It may write to a peer that has hung up, so the process must ignore
// SIGPIPE (main() does).
RevocationResult CheckRevocationBlocking(const tls::TlsFacts& facts,
                                         const RevocationOptions& options);

// The same, run on `pool`; the coroutine resumes on its own executor. `pool` must outlive the
// returned awaitable's completion.
asio::awaitable<RevocationResult> CheckRevocation(tls::TlsFacts facts, RevocationOptions options,
                                                  asio::thread_pool& pool);

// The leaf's OCSP responder URLs (authorityInfoAccess id-ad-ocsp) and CRL URLs (fullName URIs of
// cRLDistributionPoints without a cRLIssuer), in certificate order, keeping only http:// URLs
// (scheme case-insensitive) of printable ASCII without spaces, at most 1024 bytes. Empty when the
// DER does not parse or holds none.
std::vector<std::string> OcspUrls(const std::vector<uint8_t>& leaf_der);
std::vector<std::string> CrlUrls(const std::vector<uint8_t>& leaf_der);

}  // namespace mailsec::probe
