// Typed reports: the probe fills them, findings read them, the collector renders them.
// Plain, copyable data; a report never changes after the probe hands it over.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/checks/verdict.h"
#include "mailsec/config/target.h"
#include "mailsec/tls/cert_facts.h"

namespace mailsec::probe {

// Where a probe stopped, as one closed set (one low-cardinality label value each).
enum class Phase : uint8_t {
  kResolve,
  kConnect,
  kGreeting,
  kCapabilities,
  kStartTls,
  kHandshake,
  kTlsCapabilities,
  kQuit
};
inline constexpr int kPhaseCount = 8;
std::string_view PhaseName(Phase p);  // "resolve", "connect", "greeting", "capabilities",
                                      // "starttls", "handshake", "tls_capabilities", "quit"

enum class Failure : uint8_t {
  kNone,
  kResolve,  // no address for the host
  kConnectRefused,
  kConnectTimeout,
  kConnectError,  // unreachable, reset, ...
  kGreetingTimeout,
  kCommandTimeout,
  kProtocolError,    // the server said something we cannot parse, or a line/reply limit hit
  kRejected,         // 4xx/5xx greeting or EHLO refused
  kStartTlsRefused,  // STARTTLS offered but refused, or not offered on a STARTTLS service
  kHandshakeTimeout,
  kHandshakeFailed,
  kConnectionClosed,  // the peer closed unexpectedly
  kWrongTlsMode,      // plaintext on an implicit-TLS port, or implicit TLS on a STARTTLS port
};
std::string_view FailureName(Failure f);  // "none", "resolve", "connect_refused", ...

enum class Signal : uint8_t {
  kStartTlsMissing,
  kStartTlsMasked,
  kStartTlsRejected,
  kStartTlsLost,
  kTlsDowngraded,
  kPlaintextAuth,
  kResponseInjection,
  kCommandInjection,
  kPolicyViolation,
};
inline constexpr int kSignalCount = 9;
std::string_view SignalName(Signal s);  // "starttls_missing", ...
// The signal in words, for `check` and the status page ("STARTTLS masked on the path").
std::string_view SignalDescription(Signal s);

// A printable line per raised signal, indexed like EndpointReport::signals; "" for the others.
// Held as a short list (signals are rare): nine empty strings were 288 bytes per report kept.
class SignalEvidence {
 public:
  const std::string& operator[](int signal) const;  // "" when none
  void Set(int signal, std::string text);           // replaces; "" removes

 private:
  std::vector<std::pair<int, std::string>> lines_;
};

// The deep TLS scan of one endpoint address (probe/deep_scan.h), run every scan_interval; the
// latest one rides along with every fast probe's report until the next scan replaces it.
struct ScanReport {
  bool ran = false;        // at least one connection was made
  int handshakes = 0;      // connections made
  double started_at = 0;   // Unix seconds
  double finished_at = 0;  // Unix seconds
  // "SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" -> accepted. A version that could
  // not be tried is absent (untested), never false.
  std::map<std::string, bool> versions;
  // TLSF-14: SHA-256 (hex) of the SubjectPublicKeyInfo of the certificate an SSLv2 SERVER-HELLO
  // carried, and of the leaf a TLS handshake of the scan got; the SSLv2 service elsewhere that
  // serves the leaf's key ("" when none is known).
  std::string ssl2_spki_sha256;
  std::string leaf_spki_sha256;
  std::string drown_shared_with;
  bool weak_tested = false;           // the weak-suite probe ran for at least one version
  bool weak_cipher_accepted = false;  // NULL, anonymous, EXPORT, RC4, DES or 3DES accepted
  // (version, IANA suite name), bounded by the scan.
  std::vector<std::pair<std::string, std::string>> accepted_weak;
  // TLSF-01/02/04: the ServerHello to one hand-built hello on the best version up to TLS 1.2,
  // offering DEFLATE and null compression, renegotiation_info and extended_master_secret.
  std::string features_version;       // the version asked; "" when not asked or no ServerHello
  uint8_t compression_method = 0;     // the method chosen (0 null, 1 DEFLATE)
  bool secure_renegotiation = false;  // renegotiation_info answered (RFC 5746)
  std::optional<bool> extended_master_secret;  // answered (RFC 7627); only when asked on TLS 1.2
  // TLSV-06: a hello for the second-best accepted version marked with TLS_FALLBACK_SCSV. true:
  // refused with inappropriate_fallback; false: accepted; nullopt: not asked or no clear answer.
  std::optional<bool> fallback_scsv;
  std::string fallback_version;  // the version of that hello
  // CIPH-01/03: the suites each version accepted, found by iterative removal (hand-built hellos
  // offering up to 64 suites, the chosen one removed until the server refuses), bounded by the
  // table of tls/cipher_suites.h.
  struct AcceptedCipher {
    std::string version;  // "TLSv1.2"
    uint16_t id = 0;      // IANA code point
    std::string name;     // OpenSSL name
  };
  std::vector<AcceptedCipher> accepted_ciphers;
  // Versions whose enumeration ran until the server refused every suite left: for these
  // accepted_ciphers is the whole list. Another accepted version's list is partial (the cap, the
  // budget, an answer that was not TLS).
  std::vector<std::string> ciphers_complete;
  // CIPH-05, on the best version up to TLS 1.2 with two or more accepted suites: the best and
  // the worst of them (Internet.nl class) offered worst first, then best first.
  std::string order_version;                          // "" when not asked
  std::string order_best, order_worst;                // OpenSSL names
  std::optional<std::string> order_pick_worst_first;  // the suite chosen for [worst, best]
  std::optional<std::string> order_pick_best_first;   // the suite chosen for [best, worst]
  // CIPH-06/07: groups asked one at a time: TLS 1.3 with an empty key_share and one group (a
  // HelloRetryRequest naming it: accepted), TLS 1.2 curves with the accepted ECDHE_RSA suites and
  // one curve (a ServerHello: accepted).
  struct GroupResult {
    std::string version;  // "TLSv1.3", "TLSv1.2"
    uint16_t id = 0;
    std::string name;  // "x25519"
    bool accepted = false;
  };
  std::vector<GroupResult> groups;
  std::vector<std::string> groups_asked;     // versions whose group probe started
  std::vector<std::string> groups_complete;  // ... and got an answer for every group
  // CIPH-07/TLSF-13 below TLS 1.3: the finite-field group of the DHE suites, read by the local
  // OpenSSL from the ServerKeyExchange of a full handshake that offered only the DHE suites the
  // server accepted, on the best version up to TLS 1.2 that has any. nullopt: no such suite, or
  // the handshake did not complete for another reason than the group's size.
  struct DheParams {
    std::string version;      // "TLSv1.2"
    std::string suite;        // the OpenSSL name of the suite negotiated
    int bits = 0;             // of the prime; 0: too small for the local OpenSSL to take at all
    std::string group;        // tls::FindDhPrime's name ("ffdhe2048", "modp_2048"); "" otherwise
    bool rfc7919 = false;     // one of RFC 7919's groups, generator 2 included
    bool well_known = false;  // a widely shared prime (RFC 2409, 3526, 5114) that is not 7919's
  };
  std::optional<DheParams> dhe;
  // CIPH-08 (TLS 1.2, (EC)DHE suites): a handshake offering only SHA-1 signature algorithms for
  // the key exchange, then one offering only SHA-224. true: the server signed with that hash;
  // false: it refused (or signed with another, which the local OpenSSL refuses); nullopt: not
  // asked or undecided.
  std::optional<bool> kex_sha1;
  std::optional<bool> kex_sha224;
  // TLSV-07 (RFC 8701, RFC 7685): the accepted suites of the best of TLS 1.3/1.2 offered in a
  // hello with GREASE values, padded to 400 bytes. true: answered; false: refused while plain
  // hellos were accepted (robustness_detail says which part); nullopt: not asked or undecided.
  std::optional<bool> hello_robust;
  std::string robustness_version;  // the version asked
  std::string robustness_detail;   // printable
  // ... and a hello offering every suite of the scan's table for that version (more than 128),
  // the accepted ones last. true: answered; false: refused; nullopt: not asked or undecided.
  std::optional<bool> many_suites_ok;
  size_t many_suites_offered = 0;
  std::string many_suites_detail;  // why refused, printable
  // ... and, when TLS 1.2 was accepted, its accepted suites in a TLS 1.2 hello whose record
  // layer says TLS 1.2 (0x0303) instead of TLS 1.0, and in one whose client_version is 0x0304
  // (a version above the server's, without supported_versions; RFC 5246 Appendix E.1). true:
  // answered with TLS 1.2; false: refused; nullopt: not asked or undecided.
  std::optional<bool> record_version_ok;
  std::optional<bool> version_tolerant;
  std::string tolerance_detail;  // why refused, printable ("; " between the two)
  // TLSF-05 (TLS 1.3): a session from a first connection, then a resumption sending the
  // service's harmless command as early data. true: the server accepted the early data; false:
  // no ticket, a ticket without early data, or early data rejected; nullopt: not asked.
  std::optional<bool> early_data_accepted;
  std::string early_data_detail;  // why, printable
  // TLSF-03: client-initiated renegotiations the server completed on one TLS 1.2 connection (at
  // most 11 tried, the first refusal ends it); nullopt: not tried or the first handshake failed.
  std::optional<int> client_renegotiations;
  // TLSF-07 (CVE-2014-0160), on the best of TLS 1.2/1.1/1.0 accepted: a hello offering the
  // heartbeat extension, then one heartbeat request claiming more payload than it carries.
  // true: a heartbeat response longer than the request came back (the bytes are dropped
  // unread); false: no heartbeat extension, or no such response; nullopt: not tested.
  std::optional<bool> heartbleed;
  std::string heartbleed_detail;  // why, printable; never any of the server's bytes
  // TLSF-08 (CVE-2014-0224), on the best of TLS 1.2 ... SSLv3 accepted: ChangeCipherSpec
  // records before any key exchange. true: the server took one (decryption_failed or
  // bad_record_mac after the second); false: refused; nullopt: not tested.
  std::optional<bool> ccs_injection;
  std::string ccs_injection_detail;  // why, printable
  // TLSF-09 (ROBOT), when an RSA key-transport suite was accepted: one hand-built handshake per
  // mis-padded ClientKeyExchange of the paper (tls/robot.h). true: the answers differ between
  // vectors, alike twice (a padding oracle); false: all alike; nullopt: not asked or undecided.
  std::optional<bool> robot_vulnerable;
  bool robot_weak_oracle = false;  // only the well-formed blocks stand out (testssl.sh: weak)
  std::string robot_detail;        // each vector's answer, printable
  // CERT-16 (dual certificates): the leaf served to a TLS 1.2 handshake offering only
  // ECDSA-authenticated suites ("ecdsa"), then only RSA-authenticated ones ("rsa").
  struct LeafByKey {
    std::string auth;         // "ecdsa", "rsa"
    bool served = false;      // the handshake completed (false: refused)
    std::string key_type;     // the leaf's, as CertFacts has it
    int64_t not_after = 0;    // Unix seconds
    std::string fingerprint;  // SHA-256, lower-case hex
  };
  std::vector<LeafByKey> leaves;
  // TLSF-17 (TLS 1.2, informational): a full handshake closed cleanly, then a second connection
  // offering the session back. "session_id" (the client refuses tickets) and "ticket" -> the
  // server resumed it. Absent: not tried, or a handshake failed.
  std::map<std::string, bool> resumption;
  int64_t ticket_lifetime_hint = -1;  // seconds, from the server's NewSessionTicket; -1: none
  // STARTTLS services only; nullopt: not tested.
  std::optional<bool> command_injection;
  // TX-10, submission/imap/pop3 on their default ports: the implicit-TLS sibling (465, 993, 995)
  // on the same address completed a TLS handshake. nullopt: not tried.
  std::optional<bool> implicit_tls_sibling;
  uint16_t implicit_tls_sibling_port = 0;
  // TX-02, smtp: MAIL FROM:<> and RCPT TO:<postmaster@domain> without STARTTLS. true: refused
  // for want of TLS (530, or a refusal that names TLS); false: not; nullopt: not decided.
  std::optional<bool> plaintext_mail_refused;
  std::string plaintext_mail_detail;  // the deciding reply, printable
  // TX-13 (only with open_relay_recipient): an unauthenticated RCPT to a foreign domain over
  // TLS. true: accepted (open relay); false: refused; nullopt: not asked or not decided.
  std::optional<bool> open_relay;
  std::string open_relay_detail;  // the deciding reply, printable
  // Revocation of the served leaf (staple, OCSP responder, CRL): nullopt when untested.
  std::optional<bool> revoked;
  std::string revocation_source;  // "ocsp_staple", "ocsp", "crl"
  std::string revocation_detail;  // printable
  std::vector<checks::Finding> findings;
  // Why the scan stopped early or what could not be tested, printable; empty when all ran.
  std::string error;
};

// CIPH-04: the weakest bulk cipher among every suite the scan saw accepted (accepted_ciphers and
// accepted_weak), in bits of security (tls::SuiteStrengthBits), with that suite's name and
// version; nullopt when no accepted suite has a known strength.
struct WeakestCipher {
  int bits = 0;
  std::string suite;    // IANA name
  std::string version;  // "TLSv1.2"
};
std::optional<WeakestCipher> MinCipherStrength(const ScanReport& scan);

// One endpoint address probed once.
struct EndpointReport {
  config::EndpointTarget target;  // service, host, port
  std::string ip;                 // the address dialled ("" when resolution failed)

  bool success = false;
  Failure failure = Failure::kNone;
  Phase failure_phase = Phase::kResolve;
  std::string error;  // one printable line for humans

  double started_at = 0;   // Unix seconds
  double finished_at = 0;  // Unix seconds
  double duration_seconds = 0;
  std::array<double, kPhaseCount> phase_seconds = {-1, -1, -1, -1,
                                                   -1, -1, -1, -1};  // -1: not reached
  std::string greeting;  // first line, printable and cut short

  bool starttls_offered = false;              // only meaningful for STARTTLS services
  bool preauth = false;                       // IMAP greeted with PREAUTH on a STARTTLS port
  std::vector<std::string> capabilities;      // before TLS (EHLO keywords, upper-cased)
  std::vector<std::string> tls_capabilities;  // after TLS
  std::vector<std::string> auth_mechanisms;   // offered before TLS
  std::vector<std::string> tls_auth_mechanisms;

  tls::TlsFacts tls;
  // Across the addresses of the same host and port, probed together (CHECKS.md CERT-16):
  bool cert_compared = false;  // another address of this target also served a leaf
  bool cert_differs = false;   // ... and it was a different certificate
  // The same for STARTTLS (CHECKS.md STRIP-02): another address's capabilities were read too,
  // and the address of one that offered STARTTLS when this one did not ("" otherwise).
  bool starttls_compared = false;
  std::string starttls_offered_elsewhere;
  // From the persisted history (findings::History), not from this probe alone.
  double cert_first_seen = 0;  // when the served leaf was first seen (Unix seconds); 0: unknown
  uint64_t cert_changes = 0;   // times the leaf differed from the one served the probe before
  // The leaf changed within the last day in a way that does not look like a renewal (another
  // issuer, an earlier notAfter, a swap back to an older leaf): why, printable; "" otherwise.
  std::string cert_unexpected_change;
  std::array<bool, kSignalCount> signals{};
  // Why each raised signal was raised, printable, for `check` and the status page: the masked
  // keyword, the refusal, the injected bytes, the policy violated ("" when not raised).
  SignalEvidence signal_evidence;
  // STRIP-05: plaintext that arrived after the STARTTLS go-ahead and before the handshake, and
  // plaintext that arrived before STARTTLS unasked (an extra greeting or reply); printable.
  // Both were dropped unread.
  std::string injected_after_go_ahead;
  std::string unsolicited_before_tls;

  // DANE (RFC 7672) for _PORT._tcp.HOST; looked up for host names, not for IP literals.
  struct Dane {
    bool looked_up = false;     // a TLSA lookup was made (and the facts below mean something)
    bool tlsa_present = false;  // TLSA records exist (mailsec_dane_tlsa_present)
    bool tlsa_secure = false;   // ... and the answer carried the AD bit
    bool usable = false;        // at least one usable record (usage 2/3 on port 25)
    bool match = false;         // a usable record matches the served chain, answer secure
    std::vector<checks::Finding> findings;
  } dane;
  // What obliges senders to verified TLS here, "" when nothing does: "MTA-STS enforce policy
  // of example.org" (an MX the domain's policy covers) or "DANE TLSA at _25._tcp.HOST" (a
  // secure, usable TLSA RRset). The policy_violation check and signal judge against it.
  std::string tls_required_by;
  // Why this endpoint is probed: "" configured; "mx" or "srv" when a domain target found it.
  std::string discovered_by;
  // The latest deep scan of this address, when one has run. Shared: it rides along unchanged with
  // every fast probe's report until the next scan, and a copy per probe was ~1.3 KB kept per
  // endpoint plus the copying.
  std::shared_ptr<const ScanReport> scan;
  // Checks of the operator's expectations from the config (cert_pinned), added by the exporter.
  std::vector<checks::Finding> operator_findings;
  // Checks against the other targets of the same host (cert_consistent_across_ports), added by
  // the exporter or `check` from findings::HostLeaves.
  std::vector<checks::Finding> host_findings;
};

// Raises `s` on `report` with a line of evidence (made printable and cut short; the first
// evidence given is kept when a signal is raised twice).
void RaiseSignal(EndpointReport* report, Signal s, std::string_view evidence);

// What a domain target's DNS checks found (CONTRACT.md domain metrics). Facts for the contract
// metrics, plus every check's finding.
struct DomainReport {
  std::string domain;
  double started_at = 0;  // Unix seconds
  double finished_at = 0;
  double duration_seconds = 0;

  // Every DNS query got an answer (NOERROR or NXDOMAIN); dns_errors says which did not.
  bool dns_ok = true;
  std::vector<std::string> dns_errors;  // "MX example.org: servfail", printable
  int dns_queries = 0;
  // The domain's SOA answer was DNSSEC-validated (AD bit from the configured resolver).
  bool dnssec_secure = false;

  struct Mx {
    std::string host;
    uint16_t preference = 0;
  };
  std::vector<Mx> mx;  // in answer order; a null MX is host "."
  bool null_mx = false;

  bool spf_present = false;
  bool spf_valid = false;
  int spf_dns_lookups = 0;
  std::string spf_all_qualifier = "none";

  bool dmarc_present = false;
  bool dmarc_valid = false;
  std::string dmarc_policy;            // "" when no valid record
  std::string dmarc_subdomain_policy;  // sp, or p when sp is absent
  int dmarc_pct = 100;

  struct Dkim {
    std::string selector;
    bool present = false;
    int key_bits = 0;
  };
  std::vector<Dkim> dkim;  // one per configured selector

  bool mta_sts_present = false;
  bool mta_sts_policy_valid = false;
  std::string mta_sts_mode;                 // "" without a valid policy
  std::optional<uint32_t> mta_sts_max_age;  // with a valid policy
  std::optional<bool> mta_sts_mx_covered;   // with a valid policy
  std::string mta_sts_id;                   // the TXT id seen (for the STS-09 history)
  uint64_t mta_sts_body_hash = 0;           // the policy body seen (for the STS-09 history)

  bool tlsrpt_present = false;
  bool tlsrpt_valid = false;

  struct Fcrdns {
    std::string host;
    std::string ip;
    bool match = false;
  };
  std::vector<Fcrdns> fcrdns;

  std::vector<checks::Finding> findings;  // domain-scoped mailsec_check_result
};

// A target's whole result: one report per address (or one report with the resolve failure).
// A domain target also has its DomainReport, and its endpoints are those it discovered (MX, SRV).
struct TargetResult {
  std::string target_id;  // canonical target string
  std::vector<EndpointReport> endpoints;
  // Shared: a deep scan's republished copy of the result keeps the same one.
  std::shared_ptr<const DomainReport> domain;
};

}  // namespace mailsec::probe
