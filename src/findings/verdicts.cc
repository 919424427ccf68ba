#include "mailsec/findings/verdicts.h"

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
constexpr std::string_view kStartTlsAfterTls = "starttls_after_tls";
constexpr std::string_view kResponseInjection = "starttls_response_injection";
constexpr std::string_view kPlaintextAuth = "plaintext_auth";
constexpr std::string_view kTlsVersion = "tls_version";
constexpr std::string_view kCertTrusted = "cert_trusted";
constexpr std::string_view kCertChain = "cert_chain_complete";
constexpr std::string_view kCertSelfSigned = "cert_self_signed";
constexpr std::string_view kCertExpiry = "cert_expiry";
constexpr std::string_view kCertHostname = "cert_hostname";

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
  static const std::vector<std::string_view> ids = {
      kStartTls,          kImplicitTls,    kStartTlsMasked, kStartTlsAfterTls,
      kResponseInjection, kPlaintextAuth,  kTlsVersion,     kCertTrusted,
      kCertChain,         kCertSelfSigned, kCertExpiry,     kCertHostname};
  return ids;
}

std::vector<CheckVerdict> EvaluateEndpoint(const EndpointReport& r, int64_t now) {
  std::vector<CheckVerdict> out;
  const bool starttls_service =
      config::ServiceTlsMode(r.target.service) == config::TlsMode::kStartTls;

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
    out.push_back(
        {kStartTlsMasked, Has(r, probe::Signal::kStartTlsMasked) ? Verdict::kFail : Verdict::kPass,
         Has(r, probe::Signal::kStartTlsMasked) ? "a capability looks like an overwritten STARTTLS"
                                                : ""});
    // STRIP-09: credentials offered before TLS.
    bool plain = Has(r, probe::Signal::kPlaintextAuth);
    out.push_back({kPlaintextAuth, plain ? Verdict::kFail : Verdict::kPass,
                   plain ? "authentication offered before TLS" : ""});
  }
  if (starttls_service && Reached(r, Phase::kStartTls) && r.failure_phase != Phase::kStartTls) {
    // STRIP-05
    bool injected = Has(r, probe::Signal::kResponseInjection);
    out.push_back({kResponseInjection, injected ? Verdict::kFail : Verdict::kPass,
                   injected ? "bytes after the STARTTLS go-ahead, before the handshake" : ""});
  }
  if (starttls_service && r.success) {
    // STRIP-06: RFC 3207 §4.2, the server must not offer STARTTLS again inside TLS.
    bool again = Contains(r.tls_capabilities, "STARTTLS") || Contains(r.tls_capabilities, "STLS");
    out.push_back({kStartTlsAfterTls, again ? Verdict::kFail : Verdict::kPass,
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
    int64_t earliest = t.chain_not_after > 0 ? t.chain_not_after : t.leaf.not_after;
    if (t.leaf.not_before > now) {
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
    out.push_back({kCertHostname, t.hostname_match ? Verdict::kPass : CertSeverity(r),
                   t.hostname_match ? "" : "certificate does not match " + r.target.host});
  }
  return out;
}

}  // namespace mailsec::findings
