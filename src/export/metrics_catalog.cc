#include "export/metrics_catalog.h"

#include <array>

namespace mailsec::exporter {
namespace {

// Label sets. Endpoint metrics carry service, host, port, ip first (CONTRACT.md), then their own.
constexpr std::string_view kEndpoint[] = {"service", "host", "port", "ip"};
constexpr std::string_view kEndpointPhase[] = {"service", "host", "port", "ip", "phase"};
constexpr std::string_view kEndpointFailure[] = {"service", "host",  "port",
                                                 "ip",      "phase", "reason"};
constexpr std::string_view kEndpointVersion[] = {"service", "host", "port", "ip", "version"};
constexpr std::string_view kEndpointCipher[] = {"service", "host", "port", "ip", "cipher"};
constexpr std::string_view kEndpointGroup[] = {"service", "host", "port", "ip", "group"};
constexpr std::string_view kEndpointAuth[] = {"service", "host", "port", "ip", "auth"};
constexpr std::string_view kEndpointMechanism[] = {"service", "host", "port", "ip", "mechanism"};
constexpr std::string_view kEndpointResult[] = {"service", "host", "port", "ip", "result"};
constexpr std::string_view kEndpointSignal[] = {"service", "host", "port", "ip", "signal"};
constexpr std::string_view kEndpointCert[] = {"service",
                                              "host",
                                              "port",
                                              "ip",
                                              "subject_cn",
                                              "issuer_cn",
                                              "serial",
                                              "fingerprint_sha256",
                                              "key_type",
                                              "key_bits",
                                              "signature_algorithm"};
constexpr std::string_view kEndpointVersionCipher[] = {"service", "host",    "port",
                                                      "ip",      "version", "cipher"};
constexpr std::string_view kEndpointVersionGroup[] = {"service", "host",    "port",
                                                      "ip",      "version", "group"};
constexpr std::string_view kEndpointCheck[] = {"service", "host", "port", "ip", "check"};
constexpr std::string_view kDomain[] = {"domain"};
constexpr std::string_view kDomainCheck[] = {"domain", "check"};
constexpr std::string_view kDomainMx[] = {"domain", "mx", "preference"};
constexpr std::string_view kDomainQualifier[] = {"domain", "qualifier"};
constexpr std::string_view kDomainPolicy[] = {"domain", "policy", "subdomain_policy"};
constexpr std::string_view kDomainSelector[] = {"domain", "selector"};
constexpr std::string_view kDomainMode[] = {"domain", "mode"};
constexpr std::string_view kDomainHostIp[] = {"domain", "host", "ip"};
constexpr std::string_view kBuild[] = {"version", "revision", "openssl_version"};
constexpr std::string_view kKind[] = {"kind"};
constexpr std::string_view kKindResult[] = {"kind", "result"};
constexpr std::span<const std::string_view> kNone;

constexpr MetricType kG = MetricType::kGauge;
constexpr MetricType kC = MetricType::kCounter;

constexpr std::array kCatalog = {
    MetricDef{
        Metric::kBuildInfo, "mailsec_build_info",
        "Build of the exporter: version, git revision and the OpenSSL it runs with; always 1.", kG,
        kBuild},
    MetricDef{Metric::kCertChainLength, "mailsec_cert_chain_length",
              "Number of certificates the server sent, leaf included.", kG, kEndpoint},
    MetricDef{Metric::kCertChainNotAfter, "mailsec_cert_chain_not_after_timestamp_seconds",
              "Earliest notAfter over the served chain, in Unix seconds.", kG, kEndpoint},
    MetricDef{Metric::kCertChangesTotal, "mailsec_cert_changes_total",
              "Times the served leaf certificate differed from the previous probe's (persisted).",
              kC, kEndpoint},
    MetricDef{Metric::kCertFirstSeen, "mailsec_cert_first_seen_timestamp_seconds",
              "When the leaf certificate served now was first seen on this endpoint (persisted).",
              kG, kEndpoint},
    MetricDef{Metric::kCertHostnameMatch, "mailsec_cert_hostname_match",
              "1 if the leaf certificate matches the target host (RFC 6125).", kG, kEndpoint},
    MetricDef{Metric::kCertInfo, "mailsec_cert_info", "Facts of the leaf certificate; always 1.",
              kG, kEndpointCert},
    MetricDef{Metric::kCertNotAfter, "mailsec_cert_not_after_timestamp_seconds",
              "notAfter of the leaf certificate, in Unix seconds.", kG, kEndpoint},
    MetricDef{Metric::kCertNotBefore, "mailsec_cert_not_before_timestamp_seconds",
              "notBefore of the leaf certificate, in Unix seconds.", kG, kEndpoint},
    MetricDef{Metric::kCertRevoked, "mailsec_cert_revoked",
              "Deep scan: 1 if the OCSP staple, the OCSP responder or the CRL says the leaf is "
              "revoked.",
              kG, kEndpoint},
    MetricDef{Metric::kCertTrusted, "mailsec_cert_trusted",
              "1 if the served chain verifies against the trust store now.", kG, kEndpoint},
    MetricDef{Metric::kCertVerifyResultInfo, "mailsec_cert_verify_result_info",
              "Verdict of chain verification as a short name (ok, expired, self_signed, ...); "
              "always 1.",
              kG, kEndpointResult},
    MetricDef{Metric::kCheckResult, "mailsec_check_result",
              "Verdict of one check of docs/checks.md: 0 pass, 1 warn, 2 fail, 3 error.", kG,
              kEndpointCheck},
    MetricDef{Metric::kCheckResultDomain, "mailsec_check_result",
              "Verdict of one check of docs/checks.md: 0 pass, 1 warn, 2 fail, 3 error.", kG,
              kDomainCheck},
    MetricDef{Metric::kConfigLastReloadSuccessTimestamp,
              "mailsec_config_last_reload_success_timestamp_seconds",
              "When the configuration was last loaded successfully, in Unix seconds.", kG, kNone},
    MetricDef{Metric::kConfigLastReloadSuccessful, "mailsec_config_last_reload_successful",
              "1 if the last configuration load or reload succeeded.", kG, kNone},
    MetricDef{Metric::kDaneMatch, "mailsec_dane_match",
              "1 if a usable TLSA record matches the served chain and the TLSA answer was "
              "DNSSEC-secure.",
              kG, kEndpoint},
    MetricDef{Metric::kDaneTlsaPresent, "mailsec_dane_tlsa_present",
              "1 if TLSA records exist for _PORT._tcp.HOST.", kG, kEndpoint},
    MetricDef{Metric::kDkimKeyBits, "mailsec_dkim_key_bits",
              "Size of the DKIM public key of the selector, in bits (0 when absent or revoked).", kG,
              kDomainSelector},
    MetricDef{Metric::kDkimPresent, "mailsec_dkim_present",
              "1 if the selector publishes exactly one DKIM key record that parses.", kG,
              kDomainSelector},
    MetricDef{Metric::kDmarcPct, "mailsec_dmarc_pct",
              "pct= of the DMARC record (100 when absent).", kG, kDomain},
    MetricDef{Metric::kDmarcPolicyInfo, "mailsec_dmarc_policy_info",
              "p= and sp= of the DMARC record (sp defaults to p); always 1.", kG, kDomainPolicy},
    MetricDef{Metric::kDmarcPresent, "mailsec_dmarc_present",
              "1 if exactly one DMARC record applies to the domain.", kG, kDomain},
    MetricDef{Metric::kDmarcValid, "mailsec_dmarc_valid",
              "1 if the DMARC record is valid per RFC 7489.", kG, kDomain},
    MetricDef{Metric::kDnssecSecure, "mailsec_dnssec_secure",
              "1 if the domain's answers are DNSSEC-validated (AD bit from the resolver).", kG,
              kDomain},
    MetricDef{Metric::kDomainCheckSuccess, "mailsec_domain_check_success",
              "1 if every DNS query of the domain got an answer (NOERROR or NXDOMAIN).", kG,
              kDomain},
    MetricDef{Metric::kDomainProbeDuration, "mailsec_domain_probe_duration_seconds",
              "Wall time of the last domain probe, endpoint probes included, in seconds.", kG,
              kDomain},
    MetricDef{Metric::kDomainProbeTimestamp, "mailsec_domain_probe_timestamp_seconds",
              "When the last domain probe finished, in Unix seconds.", kG, kDomain},
    MetricDef{Metric::kDowngradeSignal, "mailsec_downgrade_signal",
              "1 if the downgrade signal was seen in the last probe, else 0.", kG, kEndpointSignal},
    MetricDef{Metric::kFcrdnsMatch, "mailsec_fcrdns_match",
              "1 if a PTR name of the MX address resolves back to that address.", kG,
              kDomainHostIp},
    MetricDef{Metric::kMtaStsMaxAge, "mailsec_mta_sts_max_age_seconds",
              "max_age of the MTA-STS policy, in seconds.", kG, kDomain},
    MetricDef{Metric::kMtaStsModeInfo, "mailsec_mta_sts_mode_info",
              "Mode of the MTA-STS policy (enforce, testing, none); always 1.", kG, kDomainMode},
    MetricDef{Metric::kMtaStsMxCovered, "mailsec_mta_sts_mx_covered",
              "1 if every MX host matches an mx pattern of the MTA-STS policy.", kG, kDomain},
    MetricDef{Metric::kMtaStsPolicyValid, "mailsec_mta_sts_policy_valid",
              "1 if the MTA-STS policy fetched over verified HTTPS parses per RFC 8461.", kG,
              kDomain},
    MetricDef{Metric::kMtaStsPresent, "mailsec_mta_sts_present",
              "1 if a _mta-sts TXT record v=STSv1 exists.", kG, kDomain},
    MetricDef{Metric::kMxInfo, "mailsec_mx_info", "One MX record of the domain; always 1.", kG,
              kDomainMx},
    MetricDef{Metric::kOcspStapled, "mailsec_ocsp_stapled",
              "1 if the server stapled an OCSP response.", kG, kEndpoint},
    MetricDef{Metric::kProbeDuration, "mailsec_probe_duration_seconds",
              "Wall time of the last probe, in seconds.", kG, kEndpoint},
    MetricDef{Metric::kProbeFailureInfo, "mailsec_probe_failure_info",
              "Why and in which phase the last probe failed; always 1, absent on success.", kG,
              kEndpointFailure},
    MetricDef{Metric::kProbePhaseDuration, "mailsec_probe_phase_duration_seconds",
              "Time spent in each phase the last probe reached, in seconds.", kG, kEndpointPhase},
    MetricDef{Metric::kProbeSuccess, "mailsec_probe_success",
              "1 if the dialogue completed and, where the service has TLS, a TLS session was "
              "established.",
              kG, kEndpoint},
    MetricDef{Metric::kProbeTimestamp, "mailsec_probe_timestamp_seconds",
              "When the last probe finished, in Unix seconds.", kG, kEndpoint},
    MetricDef{Metric::kProbesTotal, "mailsec_probes_total",
              "Probes run since the exporter started, by target kind and result.", kC, kKindResult},
    MetricDef{Metric::kScanHandshakes, "mailsec_scan_handshakes",
              "Deep scan: connections the last scan of this address made.", kG, kEndpoint},
    MetricDef{Metric::kScanTimestamp, "mailsec_scan_timestamp_seconds",
              "Deep scan: when the last scan of this address finished, in Unix seconds.", kG,
              kEndpoint},
    MetricDef{Metric::kSpfAllInfo, "mailsec_spf_all_info",
              "Qualifier of the final all of the SPF policy (-, ~, ?, +, none); always 1.", kG,
              kDomainQualifier},
    MetricDef{Metric::kSpfDnsLookups, "mailsec_spf_dns_lookups",
              "DNS-querying SPF terms over the whole include/redirect tree (limit 10).", kG,
              kDomain},
    MetricDef{Metric::kSpfPresent, "mailsec_spf_present",
              "1 if the domain publishes exactly one SPF record.", kG, kDomain},
    MetricDef{Metric::kSpfValid, "mailsec_spf_valid",
              "1 if the SPF record parses and evaluates within the RFC 7208 limits.", kG, kDomain},
    MetricDef{Metric::kStartTlsOffered, "mailsec_starttls_offered",
              "1 if STARTTLS/STLS was advertised in the capabilities (STARTTLS services only).", kG,
              kEndpoint},
    MetricDef{Metric::kTargets, "mailsec_targets", "Configured targets, by kind.", kG, kKind},
    MetricDef{Metric::kTlsCipherAcceptedInfo, "mailsec_tls_cipher_accepted_info",
              "Deep scan: one cipher suite the server accepted, by version (OpenSSL name); always "
              "1.",
              kG, kEndpointVersionCipher},
    MetricDef{Metric::kTlsCipherInfo, "mailsec_tls_cipher_info",
              "Negotiated cipher suite (OpenSSL name); always 1.", kG, kEndpointCipher},
    MetricDef{Metric::kTlsGroupInfo, "mailsec_tls_group_info",
              "Negotiated key-exchange group; always 1.", kG, kEndpointGroup},
    MetricDef{Metric::kTlsGroupSupported, "mailsec_tls_group_supported",
              "Deep scan: 1 if the server accepts the key-exchange group on the version, 0 if it "
              "refuses it; no series when untested.",
              kG, kEndpointVersionGroup},
    MetricDef{Metric::kTlsHandshakeSuccess, "mailsec_tls_handshake_success",
              "1 if a TLS handshake completed.", kG, kEndpoint},
    MetricDef{Metric::kTlsLeafNotAfter, "mailsec_tls_leaf_not_after_timestamp_seconds",
              "Deep scan (TLS 1.2): notAfter of the leaf served to a client offering only "
              "ECDSA- or only RSA-authenticated suites (auth).",
              kG, kEndpointAuth},
    MetricDef{Metric::kTlsLeafServed, "mailsec_tls_leaf_served",
              "Deep scan (TLS 1.2): 1 if a client offering only ECDSA- or only RSA-authenticated "
              "suites (auth) got a certificate, 0 if refused.",
              kG, kEndpointAuth},
    MetricDef{Metric::kTlsMinCipherBits, "mailsec_tls_min_cipher_bits",
              "Deep scan: bits of security of the weakest bulk cipher among the accepted suites "
              "(3DES counts 112, EXPORT 40, NULL 0).",
              kG, kEndpoint},
    MetricDef{Metric::kTlsSessionResumption, "mailsec_tls_session_resumption",
              "Deep scan (TLS 1.2): 1 if the server resumed a session by the mechanism "
              "(session_id, ticket), 0 if not; no series when untested.",
              kG, kEndpointMechanism},
    MetricDef{Metric::kTlsTicketLifetimeHint, "mailsec_tls_session_ticket_lifetime_hint_seconds",
              "Deep scan (TLS 1.2): the lifetime hint of the server's session ticket.", kG,
              kEndpoint},
    MetricDef{Metric::kTlsVersionInfo, "mailsec_tls_version_info",
              "Negotiated TLS version; always 1.", kG, kEndpointVersion},
    MetricDef{Metric::kTlsVersionSupported, "mailsec_tls_version_supported",
              "Deep scan: 1 if the server accepts the protocol version, 0 if it refuses it; no "
              "series when untested.",
              kG, kEndpointVersion},
    MetricDef{Metric::kTlsWeakCipherAccepted, "mailsec_tls_weak_cipher_accepted",
              "Deep scan: 1 if any NULL, anonymous, EXPORT, RC4, DES or 3DES suite was accepted.",
              kG, kEndpoint},
    MetricDef{Metric::kTlsWeakCipherInfo, "mailsec_tls_weak_cipher_info",
              "Deep scan: one weak cipher suite the server accepted, by version; always 1.", kG,
              kEndpointVersionCipher},
    MetricDef{Metric::kTlsRptPresent, "mailsec_tlsrpt_present",
              "1 if exactly one _smtp._tls TLS-RPT record exists.", kG, kDomain},
    MetricDef{Metric::kTlsRptValid, "mailsec_tlsrpt_valid",
              "1 if the TLS-RPT record is valid per RFC 8460.", kG, kDomain},
};

constexpr bool IdsMatchPositions() {
  for (size_t i = 0; i < kCatalog.size(); ++i) {
    if (static_cast<size_t>(kCatalog[i].id) != i) return false;
  }
  return true;
}
static_assert(IdsMatchPositions(), "kCatalog must list the Metric ids in enum order");
static_assert(kCatalog.size() == static_cast<size_t>(Metric::kTlsRptValid) + 1,
              "every Metric needs a catalog entry");

}  // namespace

std::span<const MetricDef> Catalog() { return kCatalog; }

const MetricDef& Def(Metric m) { return kCatalog[static_cast<size_t>(m)]; }

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kCounter:
      return "counter";
  }
  return "untyped";
}

}  // namespace mailsec::exporter
