#include "mailsec/findings/verdicts.h"

#include <fnmatch.h>

#include <algorithm>

#include "mailsec/base/text.h"

namespace mailsec::findings {
namespace {

using config::Service;
using probe::EndpointReport;
using probe::Failure;
using probe::Phase;

constexpr std::string_view kStartTls = "starttls_available";
constexpr std::string_view kImplicitTls = "implicit_tls_available";
constexpr std::string_view kStartTlsMasked = "starttls_masked";
constexpr std::string_view kPreauth = "imap_preauth";
constexpr std::string_view kStartTlsLost = "starttls_lost";
constexpr std::string_view kCertSct = "cert_sct";
constexpr std::string_view kCertConsistent = "cert_consistent_across_addresses";
constexpr std::string_view kTlsDowngraded = "tls_downgraded";
constexpr std::string_view kStartTlsAfterTls = "starttls_after_tls";
constexpr std::string_view kResponseInjection = "starttls_response_injection";
constexpr std::string_view kPlaintextAuth = "plaintext_auth";
constexpr std::string_view kTlsVersion = "tls_version";
constexpr std::string_view kCertTrusted = "cert_trusted";
constexpr std::string_view kCertChain = "cert_chain_complete";
constexpr std::string_view kCertSelfSigned = "cert_self_signed";
constexpr std::string_view kCertExpiry = "cert_expiry";
constexpr std::string_view kCertHostname = "cert_hostname";
constexpr std::string_view kCertSan = "cert_san_present";
constexpr std::string_view kCertKeyStrength = "cert_key_strength";
constexpr std::string_view kCertSignature = "cert_signature_algorithm";
constexpr std::string_view kCertRevoked = "cert_revoked";
constexpr std::string_view kCertChainOrder = "cert_chain_order";
constexpr std::string_view kCertValidityPeriod = "cert_validity_period";
constexpr std::string_view kCertKeyUsage = "cert_extended_key_usage";
constexpr std::string_view kCertMustStaple = "cert_must_staple";
constexpr std::string_view kCleartextOnly = "cleartext_only";
constexpr std::string_view kReachable = "endpoint_reachable";
constexpr std::string_view kCapsAfterTls = "capabilities_after_tls";
constexpr std::string_view kStartTlsConsistent = "starttls_consistent_across_addresses";
constexpr std::string_view kCertChangeUnexpected = "cert_change_unexpected";
constexpr std::string_view kPolicyViolation = "policy_violation";

const std::string& Evidence(const EndpointReport& r, probe::Signal s) {
  return r.signal_evidence[static_cast<int>(s)];
}

bool IsSmtp(Service s) { return s == Service::kSmtp || s == Service::kSubmission; }

bool Reached(const EndpointReport& r, Phase p) { return r.phase_seconds[static_cast<int>(p)] >= 0; }
bool Has(const EndpointReport& r, probe::Signal s) { return r.signals[static_cast<int>(s)]; }

// Could the probe test TLS at all? Unreachable or silent servers are "could not test" (ERROR),
// never FAIL (CHECKS.md 1.2).
bool CouldNotTest(const EndpointReport& r) {
  switch (r.failure) {
    case Failure::kResolve:
    case Failure::kConnectRefused:
    case Failure::kConnectTimeout:
    case Failure::kConnectError:
    case Failure::kGreetingTimeout:
      return true;
    default:
      return false;
  }
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  for (const auto& x : v) {
    if (x == s) return true;
  }
  return false;
}

// Port 25 is opportunistic: senders accept any certificate unless DANE or MTA-STS says
// otherwise, so certificate problems there warn; on client ports they fail (CHECKS.md CERT-01,
// CERT-03, CERT-05).
Verdict CertSeverity(const EndpointReport& r) {
  return r.target.service == Service::kSmtp ? Verdict::kWarn : Verdict::kFail;
}

// The certificates whose own strength counts (CERT-07, CERT-08): the leaf always, then every
// other served element that is not self-signed (a root is trusted by being in the store, not by
// its key or signature). Reports without chain facts fall back to the leaf alone. Each with its
// index in the served chain (0: the leaf).
std::vector<std::pair<size_t, const tls::CertFacts*>> JudgedCertificates(const tls::TlsFacts& t) {
  std::vector<std::pair<size_t, const tls::CertFacts*>> out;
  out.emplace_back(0, &*t.leaf);
  for (size_t i = 1; i < t.chain.size(); ++i) {
    if (!t.chain[i]->self_signed) out.emplace_back(i, &*t.chain[i]);
  }
  return out;
}

std::string Element(const tls::CertFacts& c, size_t index) {
  std::string name = c.subject_cn.empty() ? c.subject : c.subject_cn;
  return (index == 0 ? "leaf" : "element " + std::to_string(index)) +
         (name.empty() ? "" : " (" + name + ")");
}

// CERT-07: one certificate's public key.
CheckVerdict KeyStrength(const tls::CertFacts& c) {
  const std::string& type = c.key_type;
  if (type == "RSA") {
    if (c.rsa_exponent == 1) return {kCertKeyStrength, Verdict::kFail, "RSA public exponent 1"};
    const std::string bits = "RSA " + std::to_string(c.key_bits) + " bits";
    if (c.key_bits < 2048) return {kCertKeyStrength, Verdict::kFail, bits};
    if (c.key_bits < 3072) return {kCertKeyStrength, Verdict::kWarn, bits};
    return {kCertKeyStrength, Verdict::kPass, bits};
  }
  if (type == "EC") {
    static constexpr std::string_view kGood[] = {"prime256v1",      "secp384r1",
                                                 "secp521r1",       "brainpoolP256r1",
                                                 "brainpoolP384r1", "brainpoolP512r1"};
    if (std::find(std::begin(kGood), std::end(kGood), c.curve) != std::end(kGood)) {
      return {kCertKeyStrength, Verdict::kPass, "EC " + c.curve};
    }
    if (c.curve == "secp224r1") return {kCertKeyStrength, Verdict::kWarn, "EC secp224r1"};
    return {kCertKeyStrength, Verdict::kFail,
            "EC " + (c.curve.empty() ? std::string("unnamed curve") : c.curve)};
  }
  if (type == "ED25519" || type == "ED448") return {kCertKeyStrength, Verdict::kPass, type};
  return {kCertKeyStrength, Verdict::kFail, type.empty() ? "unknown key" : type + " key"};
}

// CERT-08: one certificate's signature.
CheckVerdict SignatureStrength(const tls::CertFacts& c) {
  const std::string& alg = c.signature_algorithm;
  if (alg == "ED25519" || alg == "ED448") return {kCertSignature, Verdict::kPass, alg};
  const std::string& h = c.signature_hash;
  if (h == "sha256" || h == "sha384" || h == "sha512" || h == "sha3-256" || h == "sha3-384" ||
      h == "sha3-512") {
    return {kCertSignature, Verdict::kPass, alg};
  }
  if (h == "sha224") return {kCertSignature, Verdict::kWarn, alg};
  return {kCertSignature, Verdict::kFail, alg.empty() ? "unknown signature algorithm" : alg};
}

// The worst of "judge" over the judged certificates; ties keep the first element.
template <typename Judge>
CheckVerdict WorstOverChain(const tls::TlsFacts& t, Judge judge) {
  const auto certs = JudgedCertificates(t);
  CheckVerdict worst;
  for (size_t i = 0; i < certs.size(); ++i) {
    const auto& [index, cert] = certs[i];
    CheckVerdict v = judge(*cert);
    if (i == 0 || static_cast<uint8_t>(v.verdict) > static_cast<uint8_t>(worst.verdict)) {
      v.detail = Element(*cert, index) + ": " + v.detail;
      worst = std::move(v);
    }
  }
  if (worst.verdict == Verdict::kPass) worst.detail.clear();
  return worst;
}

// Did the probe read the pre-TLS capabilities?
bool CapabilitiesRead(const EndpointReport& r) {
  return Reached(r, Phase::kCapabilities) &&
         !(r.failure != Failure::kNone && r.failure_phase == Phase::kCapabilities);
}

}  // namespace

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kWarn:
      return "warn";
    case Verdict::kFail:
      return "fail";
    case Verdict::kError:
      return "error";
  }
  return "error";
}

const std::vector<std::string_view>& EndpointCheckIds() {
  static const std::vector<std::string_view> ids = {kReachable,
                                                    kStartTls,
                                                    kImplicitTls,
                                                    kStartTlsMasked,
                                                    kStartTlsAfterTls,
                                                    kResponseInjection,
                                                    kPlaintextAuth,
                                                    kCleartextOnly,
                                                    kTlsVersion,
                                                    kCertTrusted,
                                                    kCertChain,
                                                    kCertSelfSigned,
                                                    kCertExpiry,
                                                    kCertHostname,
                                                    kCertSan,
                                                    kCertKeyStrength,
                                                    kCertSignature,
                                                    kCertRevoked,
                                                    kCertChainOrder,
                                                    kCertValidityPeriod,
                                                    kCertKeyUsage,
                                                    kCertMustStaple,
                                                    kPreauth,
                                                    kStartTlsLost,
                                                    kTlsDowngraded,
                                                    kCertSct,
                                                    kCertConsistent,
                                                    kCapsAfterTls,
                                                    kStartTlsConsistent,
                                                    kCertChangeUnexpected,
                                                    kPolicyViolation};
  return ids;
}

std::vector<CheckVerdict> EvaluateEndpoint(const EndpointReport& r, int64_t now) {
  std::vector<CheckVerdict> out;
  const bool starttls_service =
      config::ServiceTlsMode(r.target.service) == config::TlsMode::kStartTls;

  // TX-12: the address answered with a complete greeting in time. This is the availability
  // check itself, so unreachable is FAIL here (elsewhere it is ERROR). An implicit-TLS handshake
  // that failed before any greeting says nothing about reachability: no series (see
  // implicit_tls_available).
  const bool before_greeting = r.failure_phase == Phase::kResolve ||
                               r.failure_phase == Phase::kConnect ||
                               r.failure_phase == Phase::kGreeting;
  if (r.failure != Failure::kNone && before_greeting) {
    out.push_back({kReachable, Verdict::kFail, r.error});
  } else if (Reached(r, Phase::kGreeting)) {
    out.push_back({kReachable, Verdict::kPass, ""});
  }

  // TX-01/03/05/07/09 and TX-04/06/08: TLS is available the way the service promises.
  std::string_view tx = starttls_service ? kStartTls : kImplicitTls;
  if (CouldNotTest(r)) {
    out.push_back({tx, Verdict::kError, r.error});
  } else if (r.tls.handshake_ok) {
    out.push_back({tx, Verdict::kPass, r.tls.version});
  } else if (r.preauth) {
    out.push_back({tx, Verdict::kFail, "PREAUTH greeting: STARTTLS impossible"});
  } else if (starttls_service && Reached(r, Phase::kCapabilities) && !r.starttls_offered) {
    out.push_back({tx, Verdict::kFail, "STARTTLS not offered"});
  } else if (r.failure != Failure::kNone) {
    out.push_back({tx, Verdict::kFail, r.error});
  }

  if (r.target.service == Service::kImap && Reached(r, Phase::kGreeting) &&
      r.failure_phase != Phase::kGreeting) {
    // STRIP-10
    out.push_back({kPreauth, r.preauth ? Verdict::kFail : Verdict::kPass,
                   r.preauth ? "PREAUTH greeting on a STARTTLS port" : ""});
  }
  if (starttls_service && Reached(r, Phase::kCapabilities)) {
    // STRIP-01
    const bool masked = Has(r, probe::Signal::kStartTlsMasked);
    out.push_back(
        {kStartTlsMasked, masked ? Verdict::kFail : Verdict::kPass,
         masked ? "STARTTLS masked on the path: " + Evidence(r, probe::Signal::kStartTlsMasked)
                : ""});
    // STRIP-09: credentials offered before TLS.
    bool plain = Has(r, probe::Signal::kPlaintextAuth);
    out.push_back({kPlaintextAuth, plain ? Verdict::kFail : Verdict::kPass,
                   plain ? "login offered " + Evidence(r, probe::Signal::kPlaintextAuth) : ""});
  }
  const Service svc = r.target.service;
  if ((svc == Service::kImap || svc == Service::kPop3 || svc == Service::kSubmission) &&
      CapabilitiesRead(r)) {
    // TX-11: an access or submission port that offers no way to TLS, or takes credentials in
    // the clear (RFC 8314 §4.1). Port 25 is excluded: cleartext delivery is allowed there.
    std::string why;
    if (r.preauth) {
      why = "PREAUTH: authenticated in cleartext";
    } else if (!r.starttls_offered) {
      why = "STARTTLS not offered";
    } else if (Has(r, probe::Signal::kPlaintextAuth)) {
      why = "login offered before TLS";
    }
    out.push_back({kCleartextOnly, why.empty() ? Verdict::kPass : Verdict::kFail, why});
  }
  if (starttls_service && CapabilitiesRead(r)) {
    // STRIP-02 (a): offered in earlier probes (persisted history), missing now.
    const bool lost = Has(r, probe::Signal::kStartTlsLost);
    out.push_back({kStartTlsLost, lost ? Verdict::kFail : Verdict::kPass,
                   lost ? "STARTTLS " + Evidence(r, probe::Signal::kStartTlsLost) : ""});
  }
  if (starttls_service && CapabilitiesRead(r) && r.starttls_compared) {
    // STRIP-02: one address offers STARTTLS, this one does not: stripped on one path?
    const bool odd = !r.starttls_offered && !r.starttls_offered_elsewhere.empty();
    out.push_back(
        {kStartTlsConsistent, odd ? Verdict::kWarn : Verdict::kPass,
         odd ? "STARTTLS missing here but offered on " + r.starttls_offered_elsewhere : ""});
  }
  if (r.tls.handshake_ok) {
    // A version weaker than this endpoint negotiated before (persisted history).
    const bool down = Has(r, probe::Signal::kTlsDowngraded);
    out.push_back({kTlsDowngraded, down ? Verdict::kFail : Verdict::kPass,
                   down ? Evidence(r, probe::Signal::kTlsDowngraded) : ""});
  }
  if (starttls_service && ((Reached(r, Phase::kStartTls) && r.failure_phase != Phase::kStartTls) ||
                           !r.unsolicited_before_tls.empty())) {
    // STRIP-05: after the go-ahead fails; unasked replies before STARTTLS warn.
    if (!r.injected_after_go_ahead.empty()) {
      out.push_back(
          {kResponseInjection, Verdict::kFail,
           "after the STARTTLS go-ahead, before the handshake: " + r.injected_after_go_ahead});
    } else if (!r.unsolicited_before_tls.empty()) {
      out.push_back({kResponseInjection, Verdict::kWarn,
                     "sent unasked before STARTTLS: " + r.unsolicited_before_tls});
    } else {
      out.push_back({kResponseInjection, Verdict::kPass, ""});
    }
  }
  if (starttls_service && r.tls.handshake_ok) {
    // STRIP-08: the capabilities must be askable again over TLS (RFC 3207 §4.2, RFC 2595 §3.1,
    // RFC 5804 §2.2: ManageSieve sends them unasked).
    if (r.failure != Failure::kNone && r.failure_phase == Phase::kTlsCapabilities) {
      out.push_back(
          {kCapsAfterTls, Verdict::kFail, "capabilities not given again after TLS: " + r.error});
    } else if (r.success && r.auth_mechanisms.empty() && !r.capabilities.empty() &&
               r.capabilities == r.tls_capabilities) {
      out.push_back({kCapsAfterTls, Verdict::kWarn,
                     "the same capabilities before and after TLS, without AUTH before: a "
                     "TLS-terminating proxy hiding the server?"});
    } else if (r.success) {
      out.push_back({kCapsAfterTls, Verdict::kPass, ""});
    }
  }
  if (!r.tls_required_by.empty() && !CouldNotTest(r)) {
    // RFC 8461 §5, RFC 7672 §2.2: a policy obliges senders to verified TLS here.
    const bool violated = Has(r, probe::Signal::kPolicyViolation);
    out.push_back({kPolicyViolation, violated ? Verdict::kFail : Verdict::kPass,
                   violated ? Evidence(r, probe::Signal::kPolicyViolation) : ""});
  }
  if (starttls_service && r.success) {
    // STRIP-06: RFC 3207 §4.2, the server must not offer STARTTLS again inside TLS.
    // IMAP, POP3 and ManageSieve have no such MUST (RFC 2595 §3.1 only forbids a second
    // STARTTLS): a warning there.
    bool again = Contains(r.tls_capabilities, "STARTTLS") || Contains(r.tls_capabilities, "STLS");
    const bool smtp = IsSmtp(r.target.service);
    out.push_back({kStartTlsAfterTls,
                   again ? (smtp ? Verdict::kFail : Verdict::kWarn) : Verdict::kPass,
                   again ? "STARTTLS offered again after TLS" : ""});
  }

  if (r.tls.handshake_ok) {
    // TLSV-03/04: what the best offer of both sides came to. Below TLS 1.2 means the server
    // offers nothing better (our client offers up to TLS 1.3).
    const std::string& v = r.tls.version;
    if (v == "TLSv1.3" || v == "TLSv1.2") {
      out.push_back({kTlsVersion, Verdict::kPass, v});
    } else {
      out.push_back({kTlsVersion,
                     r.target.service == Service::kSmtp ? Verdict::kWarn : Verdict::kFail,
                     "negotiated " + v});
    }
  }

  if (r.tls.has_leaf) {
    const auto& t = r.tls;
    // CERT-01
    out.push_back({kCertTrusted, t.trusted ? Verdict::kPass : CertSeverity(r),
                   t.trusted ? "" : "chain does not verify: " + t.verify_result});
    // CERT-02
    bool missing = t.verify_result == "missing_intermediate";
    out.push_back({kCertChain, missing ? Verdict::kFail : Verdict::kPass,
                   missing ? "the served chain lacks an intermediate" : ""});
    // CERT-03
    bool self = t.verify_result == "self_signed";
    out.push_back(
        {kCertSelfSigned, self ? CertSeverity(r) : Verdict::kPass, self ? "self-signed leaf" : ""});
    // CERT-04: every element of the chain, expired or not yet valid fails; close to expiry warns.
    int64_t earliest = t.chain_not_after > 0 ? t.chain_not_after : t.leaf->not_after;
    if (t.leaf->not_before > now) {
      out.push_back({kCertExpiry, Verdict::kFail, "leaf not yet valid"});
    } else if (earliest <= now) {
      out.push_back({kCertExpiry, Verdict::kFail, "expired"});
    } else if (earliest - now < kCertExpiryWarnDays * 86400) {
      out.push_back({kCertExpiry, Verdict::kWarn,
                     "expires in " + std::to_string((earliest - now) / 86400) + " days"});
    } else {
      out.push_back({kCertExpiry, Verdict::kPass, ""});
    }
    // CERT-05
    // CERT-11: a certificate trusted by the configured store without embedded SCTs. Only
    // embedded SCTs are seen (not those of the TLS extension or a staple); a private CA's
    // certificates are not expected to carry any, so untrusted leaves are not judged.
    if (t.trusted) {
      out.push_back({kCertSct, t.leaf->has_embedded_sct ? Verdict::kPass : Verdict::kWarn,
                     t.leaf->has_embedded_sct ? "" : "no embedded Signed Certificate Timestamps"});
    }
    // STRIP-03: a change that does not look like a renewal (persisted history).
    if (r.cert_first_seen > 0) {
      const bool odd = !r.cert_unexpected_change.empty();
      out.push_back({kCertChangeUnexpected, odd ? Verdict::kWarn : Verdict::kPass,
                     odd ? "leaf changed: " + r.cert_unexpected_change : ""});
    }
    // CERT-16
    if (r.cert_compared) {
      out.push_back(
          {kCertConsistent, r.cert_differs ? Verdict::kWarn : Verdict::kPass,
           r.cert_differs ? "another address of this host serves a different certificate" : ""});
    }
    out.push_back({kCertHostname, t.hostname_match ? Verdict::kPass : CertSeverity(r),
                   t.hostname_match ? "" : "certificate does not match " + r.target.host});
    // CERT-06: a name problem, graded like CERT-05.
    out.push_back({kCertSan, t.leaf->has_san ? Verdict::kPass : CertSeverity(r),
                   t.leaf->has_san ? "" : "no subjectAltName dNSName or iPAddress"});
    // CERT-07, CERT-08: the leaf and every non-root element.
    out.push_back(WorstOverChain(t, KeyStrength));
    out.push_back(WorstOverChain(t, SignatureStrength));
    // CERT-09, from the staple only: no staple, no series; a staple we cannot read is an error.
    if (t.ocsp_staple_status == "revoked") {
      out.push_back({kCertRevoked, Verdict::kFail, "OCSP staple: revoked"});
    } else if (t.ocsp_staple_status == "good") {
      out.push_back({kCertRevoked, Verdict::kPass, ""});
    } else if (t.ocsp_staple_status == "unknown") {
      out.push_back({kCertRevoked, Verdict::kWarn, "OCSP staple: status unknown"});
    } else if (t.ocsp_stapled) {
      out.push_back({kCertRevoked, Verdict::kError, "OCSP staple has no readable leaf status"});
    }
    // CERT-13
    if (!t.chain.empty()) {
      if (!t.chain_in_order) {
        out.push_back({kCertChainOrder, Verdict::kFail, "served chain out of order"});
      } else if (t.chain_has_root || t.chain_duplicates > 0) {
        std::string why = t.chain_has_root ? "root sent" : "";
        if (t.chain_duplicates > 0) {
          why += std::string(why.empty() ? "" : "; ") + std::to_string(t.chain_duplicates) +
                 " duplicate certificate(s)";
        }
        out.push_back({kCertChainOrder, Verdict::kWarn, why});
      } else {
        out.push_back({kCertChainOrder, Verdict::kPass, ""});
      }
    }
    // CERT-12: only a trusted (here: by the configured store) leaf is held to the public limit.
    const int64_t period = t.leaf->not_after - t.leaf->not_before;
    if (t.trusted && period > kCertMaxValidityDays * 86400) {
      out.push_back({kCertValidityPeriod, Verdict::kWarn,
                     "valid for " + std::to_string(period / 86400) + " days"});
    } else {
      out.push_back({kCertValidityPeriod, Verdict::kPass, ""});
    }
    // CERT-14: EKU must allow serverAuth; keyUsage must allow what the key exchange does with
    // the key (digitalSignature to sign (EC)DHE and TLS 1.3, keyEncipherment for RSA key
    // transport; before a suite is known, either will do for an RSA key).
    const tls::CertFacts& leaf = *t.leaf;
    const bool ds = (leaf.key_usage & tls::kKeyUsageDigitalSignature) != 0;
    const bool ke = (leaf.key_usage & tls::kKeyUsageKeyEncipherment) != 0;
    bool ku_ok = ds;
    if (t.rsa_key_exchange) {
      ku_ok = ke;
    } else if (t.cipher.empty() && leaf.key_type == "RSA") {
      ku_ok = ds || ke;
    }
    if (leaf.has_eku && !leaf.eku_server_auth) {
      out.push_back({kCertKeyUsage, Verdict::kFail, "extendedKeyUsage lacks serverAuth"});
    } else if (leaf.has_key_usage && !ku_ok) {
      out.push_back({kCertKeyUsage, Verdict::kFail,
                     t.rsa_key_exchange ? "keyUsage lacks keyEncipherment (RSA key exchange)"
                                        : "keyUsage lacks digitalSignature"});
    } else {
      out.push_back({kCertKeyUsage, Verdict::kPass, ""});
    }
    // CERT-15
    const bool unstapled = leaf.must_staple && !t.ocsp_stapled;
    out.push_back({kCertMustStaple, unstapled ? Verdict::kFail : Verdict::kPass,
                   unstapled ? "must-staple certificate served without a staple" : ""});
  }
  return out;
}

std::optional<checks::Finding> EvaluatePins(const probe::EndpointReport& r,
                                            const config::CertPins& pins) {
  if (pins.empty() || !r.tls.has_leaf) return std::nullopt;
  checks::Finding f;
  f.check = "cert_pinned";
  const tls::CertFacts& leaf = *r.tls.leaf;
  if (!pins.fingerprints_sha256.empty() &&
      std::find(pins.fingerprints_sha256.begin(), pins.fingerprints_sha256.end(),
                leaf.fingerprint_sha256) == pins.fingerprints_sha256.end()) {
    f.verdict = checks::CheckVerdict::kFail;
    f.detail = "served leaf " + leaf.fingerprint_sha256 + " is not an expected fingerprint";
    return f;
  }
  if (!pins.serials.empty() &&
      std::find(pins.serials.begin(), pins.serials.end(), leaf.serial) == pins.serials.end()) {
    f.verdict = checks::CheckVerdict::kFail;
    f.detail = "served leaf serial " + leaf.serial + " is not an expected serial";
    return f;
  }
  if (!pins.issuer_cn.empty() && fnmatch(pins.issuer_cn.c_str(), leaf.issuer_cn.c_str(), 0) != 0) {
    f.verdict = checks::CheckVerdict::kFail;
    f.detail = "issuer CN \"" + Printable(leaf.issuer_cn, 80) + "\" does not match \"" +
               Printable(pins.issuer_cn, 80) + "\"";
    return f;
  }
  f.verdict = checks::CheckVerdict::kPass;
  return f;
}

}  // namespace mailsec::findings
