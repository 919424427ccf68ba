// DeepScan: the slow, heavy TLS scan of one endpoint address (CHECKS.md §15 STRIP-04, §16-18):
// which protocol versions the server accepts (SSLv2 ... TLS 1.3), which cipher suites each
// version accepts (CIPH-01, CIPH-03) and in whose order (CIPH-05), which key-exchange groups
// (CIPH-06, CIPH-07), whether it honours
// TLS_FALLBACK_SCSV, compresses, supports secure renegotiation and the extended master secret,
// whether it accepts weak, CBC or sub-112-bit suites (CIPH-02/04, BEAST, POODLE), whether it
// tolerates GREASE and padded hellos (TLSV-07), whether it is open to Heartbleed, CCS injection
// or ROBOT (hand-built handshakes), and whether a STARTTLS service executes plaintext pipelined
// behind STARTTLS inside TLS (command injection, CVE-2011-0411).
//
// Every test is a fresh connection (after the service's STARTTLS dialogue where it has one). The
// connections to the address are strictly sequential, `pause` apart, at most `max_handshakes` per
// scan (META-03). Versions and suites the local OpenSSL cannot offer are probed with hand-built
// ClientHellos (tls/hello.h) and decided from the ServerHello; what could not be tried at all is
// absent from the result, never reported as refused (META-01). Sends no credentials and no mail.
//
// Never throws; run it on a strand. The scan's results are plain data for the collector, the
// status page and `check --scan`.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailsec/checks/verdict.h"
#include "mailsec/config/target.h"
#include "mailsec/probe/endpoint_probe.h"

namespace mailsec::probe {

// Check ids (mailsec_check_result{check}); the catalogue row in the comment.
inline constexpr std::string_view kScanSsl2Check = "tls_ssl2_offered";                  // TLSV-01
inline constexpr std::string_view kScanSsl3Check = "tls_ssl3_offered";                  // TLSV-02
inline constexpr std::string_view kScanLegacyTlsCheck = "tls_legacy_versions_offered";  // TLSV-03
inline constexpr std::string_view kScanModernTlsCheck = "tls_modern_version_offered";   // TLSV-04
inline constexpr std::string_view kScanTls13Check = "tls13_offered";                    // TLSV-05
inline constexpr std::string_view kScanWeakCiphersCheck =
    "tls_weak_ciphers";  // CIPH-02/04, TLSF-11/12
inline constexpr std::string_view kScanCompressionCheck = "tls_compression";  // TLSF-01
inline constexpr std::string_view kScanSecureRenegotiationCheck =
    "tls_secure_renegotiation";  // TLSF-02
inline constexpr std::string_view kScanExtendedMasterSecretCheck =
    "tls_extended_master_secret";                                                    // TLSF-04
inline constexpr std::string_view kScanFallbackScsvCheck = "tls_fallback_scsv";      // TLSV-06
inline constexpr std::string_view kScanCipherSuitesCheck = "tls_cipher_suites";      // CIPH-01
inline constexpr std::string_view kScanForwardSecrecyCheck = "tls_forward_secrecy";  // CIPH-03
inline constexpr std::string_view kScanAeadCheck = "tls_aead_offered";               // CIPH-03
inline constexpr std::string_view kScanCipherOrderCheck = "tls_cipher_order";        // CIPH-05
inline constexpr std::string_view kScanCipherStrengthCheck = "tls_cipher_strength";  // CIPH-04
inline constexpr std::string_view kScanCbcSuitesCheck = "tls_cbc_suites";  // CIPH-02, TLSF-15
inline constexpr std::string_view kScanBeastCheck = "tls_beast";           // TLSF-15
inline constexpr std::string_view kScanPoodleCheck = "tls_poodle";         // TLSF-10
inline constexpr std::string_view kScanHelloRobustnessCheck = "tls_hello_robustness";  // TLSV-07
inline constexpr std::string_view kScanDrownCheck = "tls_drown";                        // TLSF-14
inline constexpr std::string_view kScanDualCertCheck = "cert_dual_consistent";          // CERT-16
// CERT-09/10 for the intermediates; filled by ScanTargetResult with the revocation check.
inline constexpr std::string_view kScanChainRevokedCheck = "cert_chain_revoked";
inline constexpr std::string_view kScanEcdheGroupsCheck = "tls_ecdhe_groups";        // CIPH-06
inline constexpr std::string_view kScanDheGroupsCheck = "tls_dhe_groups";            // CIPH-07
inline constexpr std::string_view kScanLogjamCheck = "tls_dh_logjam";                // TLSF-13
inline constexpr std::string_view kScanKexHashCheck = "tls_kex_hash";                // CIPH-08
inline constexpr std::string_view kScanEarlyDataCheck = "tls_early_data";            // TLSF-05
inline constexpr std::string_view kScanClientRenegotiationCheck =
    "tls_client_renegotiation";                                                         // TLSF-03
inline constexpr std::string_view kScanHeartbleedCheck = "tls_heartbleed";              // TLSF-07
inline constexpr std::string_view kScanCcsInjectionCheck = "tls_ccs_injection";         // TLSF-08
inline constexpr std::string_view kScanRobotCheck = "tls_robot";                        // TLSF-09
inline constexpr std::string_view kScanImplicitTlsCheck = "implicit_tls_offered";       // TX-10
inline constexpr std::string_view kScanPlaintextMailCheck = "plaintext_mail_accepted";  // TX-02
inline constexpr std::string_view kScanOpenRelayCheck = "open_relay";                   // TX-13
inline constexpr std::string_view kScanCommandInjectionCheck =
    "starttls_command_injection";  // STRIP-04

// Every id a scan can report.
std::span<const std::string_view> ScanCheckIds();

// TLSF-14 (DROWN across hosts): the keys of the SSLv2 services the scans found, so that another
// endpoint serving the same RSA key is known to be exposed too. Thread-safe; shared by the scans
// of one exporter (or one `check` run), bounded in size.
class Ssl2Keys {
 public:
  static constexpr size_t kMaxKeys = 4096;
  // `spki_sha256` (hex) is served with SSLv2 at `where` ("service://host:port (ip)").
  void Record(const std::string& spki_sha256, const std::string& where);
  // An SSLv2 service other than `except` serving `spki_sha256`; empty when none is known.
  std::string Find(const std::string& spki_sha256, const std::string& except) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::string>> where_;  // SPKI -> SSLv2 services, at most 4
};

struct ScanOptions {
  // helo name, per-phase timeouts, reply limits, the TLS context (required) and the clock.
  // probe.timeout bounds each connection.
  ProbeOptions probe;
  // Hard cap on connections per address per scan.
  // Room for the cipher enumeration of a server with TLS 1.0-1.3 and broad suite lists (about
  // one connection per accepted suite and version, plus one per 64 suites offered).
  int max_handshakes = 160;
  // Between two connections to the same address (politeness, META-03).
  std::chrono::milliseconds pause{100};
  // The whole scan; tests not started by then are left untested.
  std::chrono::milliseconds budget{300'000};
  // How long to listen inside TLS for the answer to the injected command: an answer is already
  // on its way when the handshake completes, so a short wait suffices.
  std::chrono::milliseconds injection_wait{2'000};
  // TLSF-07/08: how long to wait for the answer to the heartbeat request and to each early
  // ChangeCipherSpec (at most the handshake phase): a server answers such a record at once, and
  // silence counts as not vulnerable (testssl.sh's rule).
  std::chrono::milliseconds vuln_wait{2'000};
  // Weak suites named per scan at most (accepted_weak).
  size_t max_weak_reported = 16;
  // TX-10: the port of the implicit-TLS sibling to try for submission, imap and pop3 targets.
  // 0: the default (465, 993, 995), tried only when the target is on its own default port (on
  // another port there is no telling where the sibling would be).
  uint16_t implicit_sibling_port = 0;
  // TX-02, smtp targets: the domain of the `postmaster@DOMAIN` recipient asked without STARTTLS.
  // Empty: the target's host (an address literal `[IP]` for an IP target).
  std::string postmaster_domain;
  // TX-13 (intrusive, off when empty): a mailbox `LOCAL@DOMAIN` of a domain the scanned server
  // must not relay to. The scan asks for it as an unauthenticated RCPT over TLS and sends RSET:
  // never DATA, never a message.
  std::string open_relay_recipient;
  // TLSF-14: where SSLv2 keys are recorded and looked up. Null: only this endpoint's own SSLv2
  // counts. Must outlive the scan.
  Ssl2Keys* ssl2_keys = nullptr;
  // Set by the owner to end the scan early (shutdown): checked before every connection, so a
  // scan in flight stops within one connection's time. Null: never. Must outlive the scan.
  const std::atomic<bool>* cancel = nullptr;
};

// The scan's result is the report's plain data (probe/report.h), so it can ride along with the
// endpoint reports; ScanAddress fills everything but the revocation fields.
using ScanResult = ScanReport;

// Scans one address of `target`. options.probe.tls must be set.
asio::awaitable<ScanResult> ScanAddress(config::EndpointTarget target, asio::ip::address address,
                                        ScanOptions options);

// The findings of a result (ScanAddress fills result.findings with it; exposed for tests).
std::vector<checks::Finding> ScanFindings(const config::EndpointTarget& target,
                                          const ScanResult& result);

// TLSF-14 once every scan of a batch has ended: a scan that finished before the SSLv2 scan of
// another endpoint sharing its key did not see it. Looks the leaf's key up again in `keys` and,
// when another SSLv2 service serves it now, records it and turns tls_drown into a failure.
// `ip` is the scanned address. True when the result changed.
bool RefreshDrown(const config::EndpointTarget& target, const std::string& ip,
                  const Ssl2Keys& keys, ScanResult* result);

}  // namespace mailsec::probe
