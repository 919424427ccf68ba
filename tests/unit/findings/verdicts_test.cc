#include "mailsec/findings/verdicts.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mailsec::findings {
namespace {

using probe::EndpointReport;
using probe::Phase;

constexpr int64_t kNow = 1'800'000'000;

std::map<std::string, Verdict> Eval(const EndpointReport& r) {
  std::map<std::string, Verdict> m;
  for (const auto& v : EvaluateEndpoint(r, kNow)) m[std::string(v.check)] = v.verdict;
  return m;
}

EndpointReport Good(config::Service s) {
  EndpointReport r;
  r.target.service = s;
  r.target.host = "mx.example.org";
  r.ip = "192.0.2.1";
  r.success = true;
  for (auto& p : r.phase_seconds) p = 0.01;
  r.starttls_offered = true;
  r.tls.handshake_ok = true;
  r.tls.version = "TLSv1.3";
  r.tls.has_leaf = true;
  r.tls.trusted = true;
  r.tls.verify_result = "ok";
  r.tls.hostname_match = true;
  r.tls.cipher = "TLS_AES_128_GCM_SHA256";
  tls::CertFacts& leaf = r.tls.leaf.Edit();
  leaf.not_before = kNow - 86400;
  leaf.not_after = kNow + 90 * 86400;
  leaf.subject_cn = "mx.example.org";
  leaf.key_type = "EC";
  leaf.key_bits = 256;
  leaf.curve = "prime256v1";
  leaf.signature_algorithm = "ecdsa-with-SHA256";
  leaf.signature_hash = "sha256";
  leaf.has_san = true;
  leaf.has_eku = true;
  leaf.eku_server_auth = true;
  leaf.has_key_usage = true;
  leaf.key_usage = tls::kKeyUsageDigitalSignature;
  tls::CertFacts inter;
  inter.subject_cn = "Example CA";
  inter.key_type = "RSA";
  inter.key_bits = 4096;
  inter.rsa_exponent = 65537;
  inter.signature_algorithm = "sha384WithRSAEncryption";
  inter.signature_hash = "sha384";
  r.tls.chain = {r.tls.leaf, inter};
  r.tls.chain_length = 2;
  r.tls.chain_in_order = true;
  r.tls.chain_not_after = kNow + 90 * 86400;
  return r;
}

TEST(VerdictsTest, HealthyStartTlsEndpointPassesEverything) {
  auto m = Eval(Good(config::Service::kSubmission));
  for (const char* id : {"starttls_available",
                         "starttls_masked",
                         "plaintext_auth",
                         "starttls_response_injection",
                         "starttls_after_tls",
                         "tls_version",
                         "cert_trusted",
                         "cert_chain_complete",
                         "cert_self_signed",
                         "cert_expiry",
                         "cert_hostname",
                         "endpoint_reachable",
                         "cleartext_only",
                         "cert_san_present",
                         "cert_key_strength",
                         "cert_signature_algorithm",
                         "cert_chain_order",
                         "cert_validity_period",
                         "cert_extended_key_usage",
                         "cert_must_staple"}) {
    ASSERT_TRUE(m.count(id)) << id;
    EXPECT_EQ(m[id], Verdict::kPass) << id;
  }
  EXPECT_FALSE(m.count("implicit_tls_available"));
  EXPECT_FALSE(m.count("cert_revoked")) << "no staple, no series";
}

TEST(VerdictsTest, ImplicitTls) {
  auto m = Eval(Good(config::Service::kSubmissions));
  EXPECT_EQ(m["implicit_tls_available"], Verdict::kPass);
  EXPECT_FALSE(m.count("starttls_available"));
}

TEST(VerdictsTest, StartTlsMissingFails) {
  EndpointReport r = Good(config::Service::kSmtp);
  r.success = false;
  r.starttls_offered = false;
  r.tls = {};
  r.failure = probe::Failure::kStartTlsRefused;
  r.failure_phase = Phase::kStartTls;
  r.phase_seconds[static_cast<int>(Phase::kStartTls)] = -1;
  r.phase_seconds[static_cast<int>(Phase::kHandshake)] = -1;
  auto m = Eval(r);
  EXPECT_EQ(m["starttls_available"], Verdict::kFail);
  EXPECT_FALSE(m.count("cert_trusted"));
  EXPECT_FALSE(m.count("starttls_response_injection"));
}

TEST(VerdictsTest, UnreachableIsErrorNotFail) {
  EndpointReport r;
  r.target.service = config::Service::kImap;
  r.failure = probe::Failure::kConnectTimeout;
  r.failure_phase = Phase::kConnect;
  auto m = Eval(r);
  EXPECT_EQ(m["starttls_available"], Verdict::kError);
  EXPECT_EQ(m["endpoint_reachable"], Verdict::kFail) << "the availability check itself fails";
  EXPECT_EQ(m.size(), 2u);
}

TEST(VerdictsTest, CertificateProblemsFailOnClientPortsWarnOnPort25) {
  for (auto s : {config::Service::kSubmission, config::Service::kSmtp}) {
    EndpointReport r = Good(s);
    r.tls.trusted = false;
    r.tls.verify_result = "self_signed";
    r.tls.hostname_match = false;
    auto m = Eval(r);
    Verdict want = s == config::Service::kSmtp ? Verdict::kWarn : Verdict::kFail;
    EXPECT_EQ(m["cert_trusted"], want);
    EXPECT_EQ(m["cert_self_signed"], want);
    EXPECT_EQ(m["cert_hostname"], want);
    EXPECT_EQ(m["cert_chain_complete"], Verdict::kPass);
  }
}

TEST(VerdictsTest, Expiry) {
  EndpointReport r = Good(config::Service::kImaps);
  r.tls.chain_not_after = kNow - 1;
  EXPECT_EQ(Eval(r)["cert_expiry"], Verdict::kFail);
  r.tls.chain_not_after = kNow + 5 * 86400;
  EXPECT_EQ(Eval(r)["cert_expiry"], Verdict::kWarn);
  r.tls.chain_not_after = kNow + 30 * 86400;
  EXPECT_EQ(Eval(r)["cert_expiry"], Verdict::kPass);
  r.tls.leaf.Edit().not_before = kNow + 10;
  EXPECT_EQ(Eval(r)["cert_expiry"], Verdict::kFail);
}

TEST(VerdictsTest, SignalsAndVersions) {
  EndpointReport r = Good(config::Service::kSmtp);
  r.signals[static_cast<int>(probe::Signal::kStartTlsMasked)] = true;
  r.signals[static_cast<int>(probe::Signal::kPlaintextAuth)] = true;
  r.signals[static_cast<int>(probe::Signal::kResponseInjection)] = true;
  r.injected_after_go_ahead = "250 OK\\x0D\\x0A";
  r.tls_capabilities = {"PIPELINING", "STARTTLS"};
  r.tls.version = "TLSv1";
  auto m = Eval(r);
  EXPECT_EQ(m["starttls_masked"], Verdict::kFail);
  EXPECT_EQ(m["plaintext_auth"], Verdict::kFail);
  EXPECT_EQ(m["starttls_response_injection"], Verdict::kFail);
  EXPECT_EQ(m["starttls_after_tls"], Verdict::kFail);
  EXPECT_EQ(m["tls_version"], Verdict::kWarn);
  EndpointReport imap = Good(config::Service::kImap);
  imap.tls_capabilities = {"IMAP4REV1", "STARTTLS"};
  EXPECT_EQ(Eval(imap)["starttls_after_tls"], Verdict::kWarn) << "no MUST NOT for IMAP";
  r.target.service = config::Service::kSubmission;
  EXPECT_EQ(Eval(r)["tls_version"], Verdict::kFail);
}

// One mutation of a healthy report, and what one check says about it (nullopt: no series).
struct NewCheckCase {
  std::string name;
  config::Service service;
  std::function<void(EndpointReport&)> mutate;
  std::string check;
  std::optional<Verdict> want;
};

tls::CertFacts& Leaf(EndpointReport& r) { return r.tls.chain.front().Edit(); }
tls::CertFacts& Inter(EndpointReport& r) { return r.tls.chain.back().Edit(); }

// Keeps r.tls.leaf equal to the chain's first element, as InspectServedChain does.
void SyncLeaf(EndpointReport& r) { r.tls.leaf = r.tls.chain.front(); }

TEST(VerdictsTest, NewChecksTable) {
  using config::Service;
  using probe::Failure;
  const Service kSub = Service::kSubmission;
  const Service kSmtp = Service::kSmtp;
  auto rsa = [](tls::CertFacts& c, int bits, uint64_t e = 65537) {
    c.key_type = "RSA";
    c.key_bits = bits;
    c.curve.clear();
    c.rsa_exponent = e;
  };
  auto ec = [](tls::CertFacts& c, const char* curve) {
    c.key_type = "EC";
    c.curve = curve;
  };
  auto sig = [](tls::CertFacts& c, const char* alg, const char* hash) {
    c.signature_algorithm = alg;
    c.signature_hash = hash;
  };
  const std::vector<NewCheckCase> cases = {
      // ---- endpoint_reachable (TX-12)
      {"reachable", kSub, [](EndpointReport&) {}, "endpoint_reachable", Verdict::kPass},
      {"no address", kSub,
       [](EndpointReport& r) {
         r = EndpointReport();
         r.target.service = Service::kSubmission;
         r.failure = Failure::kResolve;
         r.failure_phase = Phase::kResolve;
       },
       "endpoint_reachable", Verdict::kFail},
      {"refused", kSmtp,
       [](EndpointReport& r) {
         r = EndpointReport();
         r.failure = Failure::kConnectRefused;
         r.failure_phase = Phase::kConnect;
         r.phase_seconds[static_cast<int>(Phase::kConnect)] = 0.01;
       },
       "endpoint_reachable", Verdict::kFail},
      {"greeting timeout", kSmtp,
       [](EndpointReport& r) {
         r = EndpointReport();
         r.failure = Failure::kGreetingTimeout;
         r.failure_phase = Phase::kGreeting;
         r.phase_seconds[static_cast<int>(Phase::kConnect)] = 0.01;
         r.phase_seconds[static_cast<int>(Phase::kGreeting)] = 4;
       },
       "endpoint_reachable", Verdict::kFail},
      {"greeting refused", kSmtp,
       [](EndpointReport& r) {
         r.success = false;
         r.failure = Failure::kRejected;
         r.failure_phase = Phase::kGreeting;
       },
       "endpoint_reachable", Verdict::kFail},
      {"implicit TLS handshake failed before the greeting", Service::kImaps,
       [](EndpointReport& r) {
         r = EndpointReport();
         r.target.service = Service::kImaps;
         r.failure = Failure::kHandshakeFailed;
         r.failure_phase = Phase::kHandshake;
         r.phase_seconds[static_cast<int>(Phase::kConnect)] = 0.01;
         r.phase_seconds[static_cast<int>(Phase::kHandshake)] = 0.01;
       },
       "endpoint_reachable", std::nullopt},
      {"later failure is still reachable", kSub,
       [](EndpointReport& r) {
         r.success = false;
         r.failure = Failure::kCommandTimeout;
         r.failure_phase = Phase::kTlsCapabilities;
       },
       "endpoint_reachable", Verdict::kPass},
      // ---- cleartext_only (TX-11)
      {"imap with STARTTLS, no plaintext login", Service::kImap, [](EndpointReport&) {},
       "cleartext_only", Verdict::kPass},
      {"pop3 without STLS", Service::kPop3,
       [](EndpointReport& r) {
         r.success = false;
         r.starttls_offered = false;
         r.failure = Failure::kStartTlsRefused;
         r.failure_phase = Phase::kStartTls;
       },
       "cleartext_only", Verdict::kFail},
      {"imap plaintext login before TLS", Service::kImap,
       [](EndpointReport& r) { r.signals[static_cast<int>(probe::Signal::kPlaintextAuth)] = true; },
       "cleartext_only", Verdict::kFail},
      {"imap PREAUTH", Service::kImap, [](EndpointReport& r) { r.preauth = true; },
       "cleartext_only", Verdict::kFail},
      {"submission AUTH before TLS", kSub,
       [](EndpointReport& r) { r.signals[static_cast<int>(probe::Signal::kPlaintextAuth)] = true; },
       "cleartext_only", Verdict::kFail},
      {"not on smtp", kSmtp, [](EndpointReport& r) { r.starttls_offered = false; },
       "cleartext_only", std::nullopt},
      {"not on sieve", Service::kSieve, [](EndpointReport&) {}, "cleartext_only", std::nullopt},
      {"not on implicit TLS", Service::kImaps, [](EndpointReport&) {}, "cleartext_only",
       std::nullopt},
      {"capabilities not read", Service::kImap,
       [](EndpointReport& r) {
         r.success = false;
         r.failure = Failure::kCommandTimeout;
         r.failure_phase = Phase::kCapabilities;
       },
       "cleartext_only", std::nullopt},
      // ---- cert_san_present (CERT-06)
      {"san present", kSub, [](EndpointReport&) {}, "cert_san_present", Verdict::kPass},
      {"no san, client port", kSub, [](EndpointReport& r) { r.tls.leaf.Edit().has_san = false; },
       "cert_san_present", Verdict::kFail},
      {"no san, port 25", kSmtp, [](EndpointReport& r) { r.tls.leaf.Edit().has_san = false; },
       "cert_san_present", Verdict::kWarn},
      {"no leaf, no series", kSub, [](EndpointReport& r) { r.tls = {}; }, "cert_san_present",
       std::nullopt},
      // ---- cert_key_strength (CERT-07)
      {"EC P-256 leaf, RSA 4096 intermediate", kSub, [](EndpointReport&) {}, "cert_key_strength",
       Verdict::kPass},
      {"RSA 3072 leaf", kSub,
       [&](EndpointReport& r) {
         rsa(Leaf(r), 3072);
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kPass},
      {"RSA 2048 leaf", kSub,
       [&](EndpointReport& r) {
         rsa(Leaf(r), 2048);
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kWarn},
      {"RSA 1024 leaf", kSub,
       [&](EndpointReport& r) {
         rsa(Leaf(r), 1024);
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kFail},
      {"RSA exponent 1", kSub,
       [&](EndpointReport& r) {
         rsa(Leaf(r), 4096, 1);
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kFail},
      {"RSA 2048 intermediate", kSub, [&](EndpointReport& r) { rsa(Inter(r), 2048); },
       "cert_key_strength", Verdict::kWarn},
      {"RSA 1024 root sent: excluded", kSub,
       [&](EndpointReport& r) {
         tls::CertFacts root;
         rsa(root, 1024);
         root.self_signed = true;
         sig(root, "sha1WithRSAEncryption", "sha1");
         r.tls.chain.push_back(root);
       },
       "cert_key_strength", Verdict::kPass},
      {"EC P-384", kSub,
       [&](EndpointReport& r) {
         ec(Leaf(r), "secp384r1");
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kPass},
      {"EC brainpool", kSub,
       [&](EndpointReport& r) {
         ec(Leaf(r), "brainpoolP256r1");
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kPass},
      {"EC P-224", kSub,
       [&](EndpointReport& r) {
         ec(Leaf(r), "secp224r1");
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kWarn},
      {"EC secp256k1", kSub,
       [&](EndpointReport& r) {
         ec(Leaf(r), "secp256k1");
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kFail},
      {"EC unnamed curve", kSub,
       [&](EndpointReport& r) {
         ec(Leaf(r), "");
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kFail},
      {"Ed25519", kSub,
       [](EndpointReport& r) {
         Leaf(r).key_type = "ED25519";
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kPass},
      {"DSA", kSub,
       [](EndpointReport& r) {
         Leaf(r).key_type = "DSA";
         SyncLeaf(r);
       },
       "cert_key_strength", Verdict::kFail},
      {"without chain facts: the leaf alone", kSub,
       [&](EndpointReport& r) {
         r.tls.chain.clear();
         rsa(r.tls.leaf.Edit(), 2048);
       },
       "cert_key_strength", Verdict::kWarn},
      // ---- cert_signature_algorithm (CERT-08)
      {"sha256/sha384", kSub, [](EndpointReport&) {}, "cert_signature_algorithm", Verdict::kPass},
      {"Ed25519 signature", kSub,
       [&](EndpointReport& r) {
         sig(Leaf(r), "ED25519", "");
         SyncLeaf(r);
       },
       "cert_signature_algorithm", Verdict::kPass},
      {"RSA-PSS with SHA-256", kSub,
       [&](EndpointReport& r) {
         sig(Leaf(r), "rsassaPss", "sha256");
         SyncLeaf(r);
       },
       "cert_signature_algorithm", Verdict::kPass},
      {"SHA-224", kSub,
       [&](EndpointReport& r) {
         sig(Leaf(r), "ecdsa-with-SHA224", "sha224");
         SyncLeaf(r);
       },
       "cert_signature_algorithm", Verdict::kWarn},
      {"SHA-1 leaf", kSub,
       [&](EndpointReport& r) {
         sig(Leaf(r), "sha1WithRSAEncryption", "sha1");
         SyncLeaf(r);
       },
       "cert_signature_algorithm", Verdict::kFail},
      {"MD5 intermediate", kSub,
       [&](EndpointReport& r) { sig(Inter(r), "md5WithRSAEncryption", "md5"); },
       "cert_signature_algorithm", Verdict::kFail},
      {"MD2 intermediate", kSub,
       [&](EndpointReport& r) { sig(Inter(r), "md2WithRSAEncryption", "md2"); },
       "cert_signature_algorithm", Verdict::kFail},
      {"SHA-1 root sent: excluded", kSub,
       [&](EndpointReport& r) {
         tls::CertFacts root;
         rsa(root, 4096);
         root.self_signed = true;
         sig(root, "sha1WithRSAEncryption", "sha1");
         r.tls.chain.push_back(root);
       },
       "cert_signature_algorithm", Verdict::kPass},
      {"unknown algorithm", kSub,
       [&](EndpointReport& r) {
         sig(Leaf(r), "1.2.3.4", "");
         SyncLeaf(r);
       },
       "cert_signature_algorithm", Verdict::kFail},
      // ---- cert_revoked (CERT-09)
      {"no staple", kSub, [](EndpointReport&) {}, "cert_revoked", std::nullopt},
      {"staple good", kSub,
       [](EndpointReport& r) {
         r.tls.ocsp_stapled = true;
         r.tls.ocsp_staple_status = "good";
       },
       "cert_revoked", Verdict::kPass},
      {"staple revoked", kSmtp,
       [](EndpointReport& r) {
         r.tls.ocsp_stapled = true;
         r.tls.ocsp_staple_status = "revoked";
         r.tls.revoked = true;
       },
       "cert_revoked", Verdict::kFail},
      {"staple unknown", kSub,
       [](EndpointReport& r) {
         r.tls.ocsp_stapled = true;
         r.tls.ocsp_staple_status = "unknown";
       },
       "cert_revoked", Verdict::kWarn},
      {"staple unreadable", kSub, [](EndpointReport& r) { r.tls.ocsp_stapled = true; },
       "cert_revoked", Verdict::kError},
      // ---- cert_chain_order (CERT-13)
      {"in order", kSub, [](EndpointReport&) {}, "cert_chain_order", Verdict::kPass},
      {"out of order", kSub, [](EndpointReport& r) { r.tls.chain_in_order = false; },
       "cert_chain_order", Verdict::kFail},
      {"out of order and root sent", kSub,
       [](EndpointReport& r) {
         r.tls.chain_in_order = false;
         r.tls.chain_has_root = true;
       },
       "cert_chain_order", Verdict::kFail},
      {"root sent", kSub, [](EndpointReport& r) { r.tls.chain_has_root = true; },
       "cert_chain_order", Verdict::kWarn},
      {"duplicate", kSmtp, [](EndpointReport& r) { r.tls.chain_duplicates = 1; },
       "cert_chain_order", Verdict::kWarn},
      {"no chain facts", kSub, [](EndpointReport& r) { r.tls.chain.clear(); }, "cert_chain_order",
       std::nullopt},
      // ---- cert_validity_period (CERT-12)
      {"90 days", kSub, [](EndpointReport&) {}, "cert_validity_period", Verdict::kPass},
      {"397 days exactly", kSub,
       [](EndpointReport& r) {
         r.tls.leaf.Edit().not_after = r.tls.leaf->not_before + 397 * 86400;
       },
       "cert_validity_period", Verdict::kPass},
      {"two years, trusted", kSub,
       [](EndpointReport& r) {
         r.tls.leaf.Edit().not_after = r.tls.leaf->not_before + 730 * 86400;
       },
       "cert_validity_period", Verdict::kWarn},
      {"two years, untrusted", kSub,
       [](EndpointReport& r) {
         r.tls.leaf.Edit().not_after = r.tls.leaf->not_before + 730 * 86400;
         r.tls.trusted = false;
       },
       "cert_validity_period", Verdict::kPass},
      // ---- cert_extended_key_usage (CERT-14)
      {"serverAuth + digitalSignature", kSub, [](EndpointReport&) {}, "cert_extended_key_usage",
       Verdict::kPass},
      {"no EKU, no keyUsage", kSub,
       [](EndpointReport& r) {
         tls::CertFacts& leaf = r.tls.leaf.Edit();
         leaf.has_eku = false;
         leaf.eku_server_auth = false;
         leaf.has_key_usage = false;
         leaf.key_usage = 0;
       },
       "cert_extended_key_usage", Verdict::kPass},
      {"EKU clientAuth only", kSmtp,
       [](EndpointReport& r) { r.tls.leaf.Edit().eku_server_auth = false; },
       "cert_extended_key_usage", Verdict::kFail},
      {"keyUsage keyAgreement only (ECDHE)", kSub,
       [](EndpointReport& r) { r.tls.leaf.Edit().key_usage = tls::kKeyUsageKeyAgreement; },
       "cert_extended_key_usage", Verdict::kFail},
      {"RSA keyEncipherment only, ECDHE suite", kSub,
       [](EndpointReport& r) {
         r.tls.leaf.Edit().key_type = "RSA";
         r.tls.leaf.Edit().key_usage = tls::kKeyUsageKeyEncipherment;
       },
       "cert_extended_key_usage", Verdict::kFail},
      {"RSA keyEncipherment only, RSA key exchange", kSub,
       [](EndpointReport& r) {
         r.tls.cipher = "AES256-GCM-SHA384";
         r.tls.rsa_key_exchange = true;
         r.tls.leaf.Edit().key_type = "RSA";
         r.tls.leaf.Edit().key_usage = tls::kKeyUsageKeyEncipherment;
       },
       "cert_extended_key_usage", Verdict::kPass},
      {"RSA digitalSignature only, RSA key exchange", kSub,
       [](EndpointReport& r) {
         r.tls.cipher = "AES256-GCM-SHA384";
         r.tls.rsa_key_exchange = true;
         r.tls.leaf.Edit().key_type = "RSA";
       },
       "cert_extended_key_usage", Verdict::kFail},
      {"RSA keyEncipherment only, handshake failed", kSub,
       [](EndpointReport& r) {
         r.tls.cipher.clear();
         r.tls.leaf.Edit().key_type = "RSA";
         r.tls.leaf.Edit().key_usage = tls::kKeyUsageKeyEncipherment;
       },
       "cert_extended_key_usage", Verdict::kPass},
      // ---- cert_must_staple (CERT-15)
      {"no must-staple", kSub, [](EndpointReport&) {}, "cert_must_staple", Verdict::kPass},
      {"must-staple, stapled", kSub,
       [](EndpointReport& r) {
         r.tls.leaf.Edit().must_staple = true;
         r.tls.ocsp_stapled = true;
         r.tls.ocsp_staple_status = "good";
       },
       "cert_must_staple", Verdict::kPass},
      {"must-staple, not stapled", kSmtp,
       [](EndpointReport& r) { r.tls.leaf.Edit().must_staple = true; }, "cert_must_staple",
       Verdict::kFail},
  };
  for (const NewCheckCase& c : cases) {
    EndpointReport r = Good(c.service);
    c.mutate(r);
    const auto m = Eval(r);
    if (!c.want) {
      EXPECT_FALSE(m.count(c.check)) << c.name << ": " << c.check << " should have no series";
      continue;
    }
    ASSERT_TRUE(m.count(c.check)) << c.name << ": " << c.check << " missing";
    EXPECT_EQ(m.at(c.check), *c.want) << c.name << ": " << c.check;
  }
}

TEST(VerdictsTest, KeyStrengthDetailNamesTheWorstElement) {
  EndpointReport r = Good(config::Service::kImaps);
  Inter(r).key_type = "RSA";
  Inter(r).key_bits = 1024;
  bool seen = false;
  for (const auto& v : EvaluateEndpoint(r, kNow)) {
    if (v.check != "cert_key_strength") continue;
    seen = true;
    EXPECT_EQ(v.verdict, Verdict::kFail);
    EXPECT_EQ(v.detail, "element 1 (Example CA): RSA 1024 bits");
  }
  EXPECT_TRUE(seen);
}

TEST(VerdictsTest, HistorySignals) {
  EndpointReport r = Good(config::Service::kImap);
  auto m = Eval(r);
  EXPECT_EQ(m["starttls_lost"], Verdict::kPass);
  EXPECT_EQ(m["tls_downgraded"], Verdict::kPass);
  r.signals[static_cast<int>(probe::Signal::kTlsDowngraded)] = true;
  EXPECT_EQ(Eval(r)["tls_downgraded"], Verdict::kFail);

  EndpointReport lost = Good(config::Service::kImap);
  lost.success = false;
  lost.starttls_offered = false;
  lost.tls = {};
  lost.signals[static_cast<int>(probe::Signal::kStartTlsLost)] = true;
  m = Eval(lost);
  EXPECT_EQ(m["starttls_lost"], Verdict::kFail);
  EXPECT_FALSE(m.count("tls_downgraded"));
  EXPECT_EQ(Eval(Good(config::Service::kImaps)).count("starttls_lost"), 0u);
}

TEST(VerdictsTest, DowngradeEvidenceAndTheirChecks) {
  using probe::Signal;
  // STRIP-05: bytes after the go-ahead fail; unasked bytes before STARTTLS warn; none pass.
  EndpointReport r = Good(config::Service::kSmtp);
  auto m = Eval(r);
  EXPECT_EQ(m["starttls_response_injection"], Verdict::kPass);
  EXPECT_EQ(m["capabilities_after_tls"], Verdict::kPass);
  EXPECT_FALSE(m.count("policy_violation")) << "nothing requires TLS here";
  EXPECT_FALSE(m.count("starttls_consistent_across_addresses")) << "a single address";
  EXPECT_FALSE(m.count("cert_change_unexpected")) << "no history";
  r.unsolicited_before_tls = "220 second greeting\\x0D\\x0A";
  probe::RaiseSignal(&r, Signal::kResponseInjection, "unasked: 220 second greeting");
  EXPECT_EQ(Eval(r)["starttls_response_injection"], Verdict::kWarn);
  r.injected_after_go_ahead = "250 OK";
  EXPECT_EQ(Eval(r)["starttls_response_injection"], Verdict::kFail);
  EXPECT_EQ(r.signal_evidence[static_cast<int>(Signal::kResponseInjection)],
            "unasked: 220 second greeting")
      << "the first evidence stays";

  // Masked: the evidence is in the detail.
  EndpointReport masked = Good(config::Service::kSmtp);
  probe::RaiseSignal(&masked, Signal::kStartTlsMasked, "capability XXXXXXXA");
  for (const auto& v : EvaluateEndpoint(masked, kNow)) {
    if (v.check == "starttls_masked") {
      EXPECT_EQ(v.verdict, Verdict::kFail);
      EXPECT_NE(v.detail.find("XXXXXXXA"), std::string::npos) << v.detail;
    }
  }

  // STRIP-08: capabilities could not be asked again over TLS; identical lists without AUTH.
  EndpointReport caps = Good(config::Service::kImap);
  caps.success = false;
  caps.failure = probe::Failure::kCommandTimeout;
  caps.failure_phase = probe::Phase::kTlsCapabilities;
  caps.error = "tls_capabilities: timeout";
  EXPECT_EQ(Eval(caps)["capabilities_after_tls"], Verdict::kFail);
  EndpointReport same = Good(config::Service::kSmtp);
  same.auth_mechanisms.clear();
  same.capabilities = {"PIPELINING", "SIZE"};
  same.tls_capabilities = same.capabilities;
  EXPECT_EQ(Eval(same)["capabilities_after_tls"], Verdict::kWarn);
  EXPECT_FALSE(Eval(Good(config::Service::kImaps)).count("capabilities_after_tls"))
      << "implicit TLS asks only once";

  // STRIP-02: STARTTLS on one address of the host only.
  EndpointReport split = Good(config::Service::kSmtp);
  split.starttls_compared = true;
  EXPECT_EQ(Eval(split)["starttls_consistent_across_addresses"], Verdict::kPass);
  split.starttls_offered = false;
  split.starttls_offered_elsewhere = "192.0.2.7";
  EXPECT_EQ(Eval(split)["starttls_consistent_across_addresses"], Verdict::kWarn);

  // STRIP-03: with a history behind the report.
  EndpointReport swap = Good(config::Service::kSmtp);
  swap.cert_first_seen = kNow - 60;
  EXPECT_EQ(Eval(swap)["cert_change_unexpected"], Verdict::kPass);
  swap.cert_unexpected_change = "issuer changed";
  EXPECT_EQ(Eval(swap)["cert_change_unexpected"], Verdict::kWarn);

  // Policy: judged only where a policy requires TLS; unreachable is no verdict.
  EndpointReport sts = Good(config::Service::kSmtp);
  sts.tls_required_by = "MTA-STS enforce policy of example.org";
  EXPECT_EQ(Eval(sts)["policy_violation"], Verdict::kPass);
  probe::RaiseSignal(&sts, Signal::kPolicyViolation, "certificate not trusted");
  EXPECT_EQ(Eval(sts)["policy_violation"], Verdict::kFail);
  sts.failure = probe::Failure::kConnectRefused;
  EXPECT_FALSE(Eval(sts).count("policy_violation"));
}

TEST(VerdictsTest, SctAndCrossAddressConsistency) {
  EndpointReport r = Good(config::Service::kImaps);
  auto m = Eval(r);
  EXPECT_EQ(m["cert_sct"], Verdict::kWarn);
  EXPECT_FALSE(m.count("cert_consistent_across_addresses")) << "a single address";
  r.tls.leaf.Edit().has_embedded_sct = true;
  r.cert_compared = true;
  m = Eval(r);
  EXPECT_EQ(m["cert_sct"], Verdict::kPass);
  EXPECT_EQ(m["cert_consistent_across_addresses"], Verdict::kPass);
  r.cert_differs = true;
  EXPECT_EQ(Eval(r)["cert_consistent_across_addresses"], Verdict::kWarn);
  r.tls.trusted = false;
  EXPECT_FALSE(Eval(r).count("cert_sct")) << "private or broken chains are not judged";
}

TEST(VerdictsTest, EveryIdIsDocumented) {
  FILE* f = std::fopen(MAILSEC_TESTDATA "/../../../docs/checks.md", "r");
  ASSERT_NE(f, nullptr);
  std::string doc;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) doc.append(buf, n);
  std::fclose(f);
  for (std::string_view id : EndpointCheckIds()) {
    EXPECT_NE(doc.find("| `" + std::string(id) + "` |"), std::string::npos) << id;
  }
}

}  // namespace
}  // namespace mailsec::findings

namespace mailsec::findings {
namespace {

// CERT-17: the operator's expectations (config expect_fingerprint_sha256, expect_issuer_cn).
TEST(EvaluatePinsTest, FingerprintAndIssuer) {
  probe::EndpointReport r;
  r.tls.has_leaf = true;
  r.tls.leaf.Edit().fingerprint_sha256 = std::string(64, 'a');
  r.tls.leaf.Edit().issuer_cn = "R11";
  config::CertPins none;
  EXPECT_FALSE(EvaluatePins(r, none).has_value());

  config::CertPins pins;
  pins.fingerprints_sha256 = {std::string(64, 'b'), std::string(64, 'a')};
  pins.issuer_cn = "R1?";
  auto f = EvaluatePins(r, pins);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->check, "cert_pinned");
  EXPECT_EQ(f->verdict, checks::CheckVerdict::kPass);

  pins.issuer_cn = "E*";
  f = EvaluatePins(r, pins);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->verdict, checks::CheckVerdict::kFail);
  EXPECT_NE(f->detail.find("R11"), std::string::npos) << f->detail;

  pins.issuer_cn.clear();
  pins.fingerprints_sha256 = {std::string(64, 'b')};
  f = EvaluatePins(r, pins);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->verdict, checks::CheckVerdict::kFail);
  EXPECT_NE(f->detail.find("not an expected fingerprint"), std::string::npos) << f->detail;

  // Serial pins (check_ssl_cert --serial): upper-case hex as CertFacts has it.
  r.tls.leaf.Edit().serial = "1A2B";
  pins.fingerprints_sha256.clear();
  pins.serials = {"FF", "1A2B"};
  f = EvaluatePins(r, pins);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->verdict, checks::CheckVerdict::kPass);
  pins.serials = {"FF"};
  f = EvaluatePins(r, pins);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->verdict, checks::CheckVerdict::kFail);
  EXPECT_NE(f->detail.find("serial 1A2B"), std::string::npos) << f->detail;

  r.tls.has_leaf = false;  // nothing served: nothing to judge
  EXPECT_FALSE(EvaluatePins(r, pins).has_value());
}

}  // namespace
}  // namespace mailsec::findings
