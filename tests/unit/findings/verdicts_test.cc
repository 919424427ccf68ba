#include "mailsec/findings/verdicts.h"

#include <gtest/gtest.h>

#include <map>

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
  r.tls.leaf.not_before = kNow - 86400;
  r.tls.leaf.not_after = kNow + 90 * 86400;
  r.tls.chain_not_after = kNow + 90 * 86400;
  return r;
}

TEST(VerdictsTest, HealthyStartTlsEndpointPassesEverything) {
  auto m = Eval(Good(config::Service::kSubmission));
  for (const char* id :
       {"starttls_available", "starttls_masked", "plaintext_auth", "starttls_response_injection",
        "starttls_after_tls", "tls_version", "cert_trusted", "cert_chain_complete",
        "cert_self_signed", "cert_expiry", "cert_hostname"}) {
    ASSERT_TRUE(m.count(id)) << id;
    EXPECT_EQ(m[id], Verdict::kPass) << id;
  }
  EXPECT_FALSE(m.count("implicit_tls_available"));
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
  EXPECT_EQ(m.size(), 1u);
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
  r.tls.leaf.not_before = kNow + 10;
  EXPECT_EQ(Eval(r)["cert_expiry"], Verdict::kFail);
}

TEST(VerdictsTest, SignalsAndVersions) {
  EndpointReport r = Good(config::Service::kSmtp);
  r.signals[static_cast<int>(probe::Signal::kStartTlsMasked)] = true;
  r.signals[static_cast<int>(probe::Signal::kPlaintextAuth)] = true;
  r.signals[static_cast<int>(probe::Signal::kResponseInjection)] = true;
  r.tls_capabilities = {"PIPELINING", "STARTTLS"};
  r.tls.version = "TLSv1";
  auto m = Eval(r);
  EXPECT_EQ(m["starttls_masked"], Verdict::kFail);
  EXPECT_EQ(m["plaintext_auth"], Verdict::kFail);
  EXPECT_EQ(m["starttls_response_injection"], Verdict::kFail);
  EXPECT_EQ(m["starttls_after_tls"], Verdict::kFail);
  EXPECT_EQ(m["tls_version"], Verdict::kWarn);
  r.target.service = config::Service::kSubmission;
  EXPECT_EQ(Eval(r)["tls_version"], Verdict::kFail);
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
