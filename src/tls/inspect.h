// Certificate inspection for the tls layer: the facts of a certificate, the trust store, chain
// verification at a given time, and RFC 6125 host-name matching. Internal to src/ (OpenSSL types
// are allowed here, never in include/).
//
// Everything here is reentrant and holds no global state of its own: call it from any thread. The
// OpenSSL error queue these functions touch is thread-local. An X509_STORE may be shared by
// threads for verification (OpenSSL locks its lookups) once it is no longer being modified.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/tls/cert_facts.h"

namespace mailsec::tls {

// ---- Ownership of OpenSSL objects -------------------------------------------------------------

// Calls the OpenSSL free function kFree on destruction; all OpenSSL frees accept null.
template <auto kFree>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    kFree(p);
  }
};

// Frees the stack and every certificate in it (sk_X509_pop_free needs the element free function).
inline void FreeX509Stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }

using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<&X509_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<&X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<&X509_STORE_CTX_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<&X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<&X509_EXTENSION_free>>;
// Owns the stack and the certificates in it.
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OpenSslDeleter<&FreeX509Stack>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<&GENERAL_NAMES_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<&EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<&EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<&EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<&BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<&BN_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, OpenSslDeleter<&OCSP_RESPONSE_free>>;
using OcspBasicRespPtr = std::unique_ptr<OCSP_BASICRESP, OpenSslDeleter<&OCSP_BASICRESP_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, OpenSslDeleter<&OCSP_CERTID_free>>;

// Takes a new reference to "cert" (null stays null).
X509Ptr UpRef(X509* cert);

// Drains this thread's OpenSSL error queue into one printable line ("a; b; c"), oldest first.
// Returns "no OpenSSL error reported" when the queue was empty, so it can always be appended to a
// message.
std::string OpenSslErrors();

// ---- Facts ------------------------------------------------------------------------------------

// The facts of one certificate (see CertFacts). "cert" may be null: the result is then empty.
// Times that OpenSSL cannot parse are reported as 0. Subject and issuer CN are the most specific
// (last) commonName of the name, converted to UTF-8; empty when there is none. The whole names
// are RFC 2253 strings (UTF-8 kept, controls escaped), cut to kMaxNameBytes.
CertFacts ExtractCertFacts(X509* cert);

// Longest subject/issuer string kept in CertFacts: names are for humans and comparisons of the
// chain are made on the certificates, so a bound that no real name reaches is enough.
inline constexpr size_t kMaxNameBytes = 1024;

// Converts an ASN1_TIME to Unix seconds (UTC, no local time involved). False if unparsable.
[[nodiscard]] bool Asn1TimeToUnix(const ASN1_TIME* t, int64_t* out);

// The earliest notAfter over "chain" (Unix seconds); 0 when the chain is null or empty.
int64_t EarliestNotAfter(STACK_OF(X509) * chain);

// ---- Trust ------------------------------------------------------------------------------------

// Builds a trust store. An empty "ca_file" means the system's default locations
// (X509_STORE_set_default_paths); otherwise the PEM bundle at that path is loaded (certificates and
// any CRLs in it). Fails with the OpenSSL error text when the file cannot be read (kIoError) or
// holds no certificate (kInvalidArgument).
[[nodiscard]] Result<X509StorePtr> LoadTrustStore(const std::string& ca_file);

struct VerifyOutcome {
  bool trusted = false;  // the chain verified with no error at all
  int code = 0;          // the X509_V_ERR_* reported (see VerifyChain), X509_V_OK when trusted
  std::string name;      // VerifyResultName(code)
  // The first instant after now_unix at which a certificate that the verification saw (served or
  // on the path it built) starts or stops being valid, i.e. the outcome could change; INT64_MAX
  // when none does.
  int64_t stable_until = INT64_MAX;
};

// Verifies "leaf" against "store" as OpenSSL would for a TLS server certificate (purpose
// sslserver) at the instant "now_unix", with "untrusted_chain" (may be null, may contain the
// leaf) as the intermediates the server sent. No host-name check (see HostnameMatches).
//
// Which error is reported: verification is continued through every error (the callback accepts
// them all) and the FIRST error OpenSSL encounters in its own order is reported. OpenSSL builds
// and checks the path (issuer, trust, CA and purpose errors) before it checks signatures and
// validity periods, so a chain that is both untrusted and expired reports the trust problem
// ("self_signed", "untrusted_root", "missing_intermediate"), which is the one an operator must fix
// first; "expired" is reported for an otherwise good chain. This choice is deterministic for a
// given chain and time. "trusted" is true only when no error at all was seen.
//
// "store" is only read. Preconditions: leaf and store are not null.
VerifyOutcome VerifyChain(X509* leaf, STACK_OF(X509) * untrusted_chain, X509_STORE* store,
                          int64_t now_unix);

// Remembers VerifyChain's outcome per served chain, keyed by the SHA-256 of the leaf's and the
// served certificates' DER in order, so that probing the same server again does not verify the
// same chain again (X509_verify_cert with its signature checks is ~4% of a /probe's CPU). An
// outcome is reused for a verification at an instant within [when it was computed,
// min(+max_age, its stable_until)); outside that window it is computed again. The store is part
// of the context that owns the cache (a reload makes a new context, and so a new cache). At most
// `capacity` entries: when full, the expired ones go, and if that is not enough, all of them.
// Thread-safe.
class VerifyCache {
 public:
  explicit VerifyCache(size_t capacity = 16384, int64_t max_age_seconds = 300)
      : capacity_(capacity), max_age_(max_age_seconds) {}
  VerifyOutcome Verify(X509* leaf, STACK_OF(X509) * untrusted_chain, X509_STORE* store,
                       int64_t now_unix);
  size_t size() const;
  uint64_t hits() const;

 private:
  struct Entry {
    VerifyOutcome outcome;
    int64_t from = 0;
    int64_t until = 0;
  };
  const size_t capacity_;
  const int64_t max_age_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  uint64_t hits_ = 0;                               // guarded by mu_
};

// The facts of certificates seen before, by the SHA-256 of their DER: a certificate's facts
// (ExtractCertFacts, DER included) depend on nothing but its bytes, and the same servers are
// probed again and again. Get hands out the cached facts themselves (a CertRef), so every report
// of the same certificate holds one copy. At most `capacity` entries: when full, the entries no
// report holds any more go first, then all of them. Thread-safe.
class CertFactsCache {
 public:
  explicit CertFactsCache(size_t capacity = 4096) : capacity_(capacity) {}
  CertRef Get(X509* cert);  // ExtractCertFacts(cert), shared
  size_t size() const;
  uint64_t hits() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const CertFacts>> entries_;  // guarded by mu_
  uint64_t hits_ = 0;                                                          // guarded by mu_
};

// The closed set of short names for X509_V_ERR_* codes, for the metric label
// mailsec_cert_verify_result_info{result}: ok, expired, not_yet_valid, self_signed,
// untrusted_root, missing_intermediate, revoked, bad_signature, invalid_purpose, untrusted,
// invalid_ca, weak_key, other.
std::string_view VerifyResultName(int x509_v_code);

// ---- Host names (RFC 6125) --------------------------------------------------------------------

// The identities a certificate presents, as raw bytes.
struct PresentedNames {
  std::vector<std::string> dns_names;     // SAN dNSName entries
  std::vector<std::string> ip_addresses;  // SAN iPAddress entries: 4 or 16 bytes, network order
  bool has_san = false;     // the certificate has a subjectAltName with at least one entry
  std::string common_name;  // most specific subject CN (UTF-8); empty when none
};

PresentedNames ExtractPresentedNames(X509* cert);

// One DNS-ID "pattern" against the reference host "host", per RFC 6125 §6.4: ASCII case is
// ignored, as is one trailing dot on either side. A wildcard is allowed only as the whole
// left-most label followed by at least two labels ("*.example.org"), and then matches exactly one
// non-empty label. Partial wildcards ("f*.example.org"), wildcards elsewhere ("a.*.org",
// "*.*.org"), "*.org", empty labels and embedded NULs never match. A host containing '*' never
// matches.
bool DnsNameMatches(std::string_view pattern, std::string_view host);

// Does "names" cover "host"? When host is an IPv4 or IPv6 literal (IPv6 optionally in brackets),
// only SAN iPAddress entries count, compared as bytes. Otherwise SAN dNSNames are matched with
// DnsNameMatches; the subject CN is considered only when the certificate has no SAN entry at all.
bool HostnameMatchesNames(const PresentedNames& names, std::string_view host);

// HostnameMatchesNames(ExtractPresentedNames(cert), host); false for a null cert.
bool HostnameMatches(X509* cert, std::string_view host);

// ---- All of it --------------------------------------------------------------------------------

// Fills the certificate part of "*facts" (has_leaf, leaf, chain, chain_length, chain_not_after,
// chain_in_order, chain_has_root, chain_duplicates, trusted, verify_result, verify_code,
// hostname_match) from a served chain. "chain" is the peer chain as SSL_get_peer_cert_chain
// returns it on a client (leaf first); it may be null, and when it does not start with "leaf" the
// leaf is put in front. With a null leaf, has_leaf is false, chain is empty and the verify fields
// stay empty (no verdict without a certificate); so do the verify fields with a null store
// (verification not asked for).
// With a cache, the verification goes through it; with a facts cache, so do the certificates'
// facts.
void InspectServedChain(X509* leaf, STACK_OF(X509) * chain, X509_STORE* store,
                        std::string_view host, int64_t now_unix, TlsFacts* facts,
                        VerifyCache* cache = nullptr, CertFactsCache* facts_cache = nullptr);

// The status a stapled OCSP response ("der", as SSL_get_tlsext_status_ocsp_resp returns it)
// gives "leaf": "good", "revoked" or "unknown"; empty when "der" is empty or unparsable, the
// response is not "successful", it holds no single response for the leaf, or the leaf's issuer is
// not in "chain" (needed to build the CertID). Single responses are matched with the hash
// algorithm each one uses. The response's signature is NOT verified (a read of what the server
// stapled, not a revocation check of our own). "chain" may be null.
std::string OcspStapleStatus(std::string_view der, X509* leaf, STACK_OF(X509) * chain);

// Sets ocsp_stapled, ocsp_staple_status and revoked of "*facts" from a staple ("der" may be
// empty: nothing stapled).
void InspectOcspStaple(std::string_view der, X509* leaf, STACK_OF(X509) * chain, TlsFacts* facts);

}  // namespace mailsec::tls
