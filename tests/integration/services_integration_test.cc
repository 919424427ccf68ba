// Integration tests: the exporter against the whole fleet (see fleet.h): Postfix with every test
// certificate, and two Dovecot instances (IMAP, IMAPS, POP3, POP3S, ManageSieve with the good
// certificate; IMAP and IMAPS with the expired one). The fleet starts once for the whole binary;
// one exporter probes every endpoint, and each TEST reads its series from the same /metrics.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "check_run.h"
#include "exporter_process.h"
#include "fleet.h"
#include "fleet_main.h"
#include "metrics_assert.h"

#ifndef MAILSEC_FLEET_BASE_DIR
#error "MAILSEC_FLEET_BASE_DIR must name a directory in the build tree"
#endif

namespace mailsec::testing {
namespace {

using std::chrono::seconds;

// ---------------------------------------------------------------------------------------------
// The endpoints the exporter probes: fleet service name -> URL scheme (the `service` label).

const std::vector<Endpoint>& AllEndpoints() {
  static const std::vector<Endpoint> endpoints = {
      {"imap", "imap"},
      {"imaps", "imaps"},
      {"pop3", "pop3"},
      {"pop3s", "pop3s"},
      {"sieve", "sieve"},
      {"imap_expired", "imap"},
      {"imaps_expired", "imaps"},
      {"smtp_good", "smtp"},
      {"smtp_wronghost", "smtp"},
      {"smtp_notyetvalid", "smtp"},
      {"smtp_selfsigned", "smtp"},
      {"smtp_nointermediate", "smtp"},
      {"smtp_expiring", "smtp"},
      {"smtp_rsa", "smtp"},
      {"submission_selfsigned", "submission"},
  };
  return endpoints;
}

const Endpoint& EndpointNamed(const std::string& fleet_service) {
  return FindEndpoint(AllEndpoints(), fleet_service);
}

std::string Target(const std::string& fleet_service) {
  return EndpointTarget(*g_fleet, EndpointNamed(fleet_service));
}

Labels EndpointLabels(const std::string& fleet_service, const Labels& extra = {}) {
  return LabelsOf(*g_fleet, EndpointNamed(fleet_service), extra);
}

Labels Check(const std::string& fleet_service, const std::string& check) {
  return EndpointLabels(fleet_service, {{"check", check}});
}

std::string MakeConfig(const ExporterProcess& exporter) {
  return ExporterConfig(*g_fleet, exporter, "5s", "4s", AllEndpoints());
}

// The lines of a /metrics body that belong to one endpoint (for readable failure messages).
std::string SeriesOf(const std::string& body, const std::string& fleet_service) {
  const std::string port = "port=\"" + std::to_string(g_fleet->port(fleet_service)) + "\"";
  std::istringstream in(body);
  std::string line;
  std::string out;
  while (std::getline(in, line)) {
    if (line.find(port) != std::string::npos) out += line + "\n";
  }
  return out.empty() ? "(no series for " + Target(fleet_service) + ")\n" : out;
}

// Plain TCP: connects, reads the first line, sends `command`, reads until `end` (bounded).
std::string Converse(std::uint16_t port, const std::string& command, const std::string& end) {
  std::string out;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return out;
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, g_fleet->address().c_str(), &sa.sin_addr);
  auto read_until = [&](const std::string& marker) {
    char buf[2048];
    auto deadline = std::chrono::steady_clock::now() + seconds(5);
    while (out.find(marker) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, n);
    }
  };
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    read_until("\r\n");
    if (send(fd, command.data(), command.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(command.size())) {
      read_until(end);
    }
  }
  close(fd);
  return out;
}

// `openssl s_client` against a fleet service, verifying against the fleet's CA and IP address.
CommandResult SClient(const std::string& fleet_service, const std::string& starttls) {
  std::vector<std::string> argv = {
      "openssl",
      "s_client",
      "-connect",
      g_fleet->address() + ":" + std::to_string(g_fleet->port(fleet_service)),
      "-CAfile",
      g_fleet->ca_bundle_path(),
      "-verify_return_error",
      "-verify_ip",
      g_fleet->address()};
  if (!starttls.empty()) {
    argv.push_back("-starttls");
    argv.push_back(starttls);
  }
  return RunCommand(argv, seconds(20));
}

int CountCertificates(const std::string& pem) {
  int n = 0;
  for (std::size_t at = pem.find("BEGIN CERTIFICATE"); at != std::string::npos;
       at = pem.find("BEGIN CERTIFICATE", at + 1)) {
    ++n;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// 1. The fixture itself.

TEST(FleetSmokeTest, EveryPortGreets) {
  ASSERT_NE(g_fleet, nullptr);
  for (const auto& s : g_fleet->services()) {
    std::string greeting;
    EXPECT_TRUE(ReadServiceGreeting(g_fleet->address(), s.port, s.protocol, s.implicit_tls,
                                    seconds(10), &greeting))
        << s.name << "\n"
        << s.server << " log tail:\n"
        << g_fleet->ServerLogTail(s.server);
  }
}

TEST(FleetSmokeTest, DovecotOffersStarttlsAndNoPlaintextLogin) {
  ASSERT_NE(g_fleet, nullptr);
  for (const char* name : {"imap", "imap_expired"}) {
    std::string greeting;
    ASSERT_TRUE(ReadServiceGreeting(g_fleet->address(), g_fleet->port(name), Protocol::kImap, false,
                                    seconds(10), &greeting));
    EXPECT_NE(greeting.find("STARTTLS"), std::string::npos) << name << ": " << greeting;
    EXPECT_NE(greeting.find("LOGINDISABLED"), std::string::npos) << name << ": " << greeting;
    EXPECT_EQ(greeting.find("AUTH="), std::string::npos) << name << ": " << greeting;
  }
  std::string capa = Converse(g_fleet->port("pop3"), "CAPA\r\n", "\r\n.\r\n");
  EXPECT_NE(capa.find("\r\nSTLS\r\n"), std::string::npos) << capa;
  EXPECT_EQ(capa.find("\r\nUSER\r\n"), std::string::npos) << "USER before STLS:\n" << capa;
  std::string sieve;
  ASSERT_TRUE(ReadServiceGreeting(g_fleet->address(), g_fleet->port("sieve"), Protocol::kSieve,
                                  false, seconds(10), &sieve));
  EXPECT_NE(sieve.find("\"STARTTLS\""), std::string::npos) << sieve;
  EXPECT_NE(sieve.find("\"SASL\" \"\""), std::string::npos) << "SASL before STARTTLS:\n" << sieve;
}

TEST(FleetSmokeTest, DovecotTlsVerifiesAgainstTheGoodCertificate) {
  ASSERT_NE(g_fleet, nullptr);
  struct Case {
    const char* service;
    const char* starttls;
  };
  for (const Case& c : {Case{"imap", "imap"}, Case{"pop3", "pop3"}, Case{"sieve", "sieve"},
                        Case{"imaps", ""}, Case{"pop3s", ""}}) {
    CommandResult r = SClient(c.service, c.starttls);
    EXPECT_EQ(r.exit_code, 0) << c.service << ":\n" << r.output;
    EXPECT_NE(r.output.find("Verify return code: 0 (ok)"), std::string::npos) << c.service << ":\n"
                                                                              << r.output;
    EXPECT_NE(r.output.find("TLSv1.3"), std::string::npos) << c.service << ":\n" << r.output;
    EXPECT_NE(r.output.find("CN = good.fleet.test"), std::string::npos)
        << c.service << " does not serve the good certificate:\n"
        << r.output;
  }
  for (const Case& c : {Case{"imap_expired", "imap"}, Case{"imaps_expired", ""}}) {
    CommandResult r = SClient(c.service, c.starttls);
    EXPECT_NE(r.exit_code, 0) << c.service << ":\n" << r.output;
    EXPECT_NE(r.output.find("certificate has expired"), std::string::npos) << c.service << ":\n"
                                                                           << r.output;
  }
}

TEST(FleetSmokeTest, PostfixServesEveryTestCertificate) {
  ASSERT_NE(g_fleet, nullptr);
  struct Case {
    const char* service;
    const char* cn;
  };
  for (const Case& c :
       {Case{"smtp_notyetvalid", "notyetvalid"}, Case{"smtp_selfsigned", "selfsigned"},
        Case{"smtp_nointermediate", "nointermediate"}, Case{"smtp_expiring", "expiring"},
        Case{"smtp_rsa", "rsa"}, Case{"submission_selfsigned", "selfsigned"}}) {
    CommandResult r = SClient(c.service, "smtp");
    EXPECT_NE(r.output.find(std::string("CN = ") + c.cn + ".fleet.test"), std::string::npos)
        << c.service << ":\n"
        << r.output;
  }
  CommandResult r = SClient("smtp_expiring", "smtp");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = SClient("smtp_rsa", "smtp");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = SClient("smtp_nointermediate", "smtp");
  EXPECT_NE(r.output.find("unable to get local issuer certificate"), std::string::npos) << r.output;
}

TEST(FleetSmokeTest, CertificatesAreWhatTheirNamesSay) {
  ASSERT_NE(g_fleet, nullptr);
  const std::string ca = g_fleet->ca_bundle_path();
  auto verify = [&](const std::string& leaf, bool with_chain) {
    std::vector<std::string> argv = {"openssl", "verify", "-CAfile", ca};
    if (with_chain) {
      argv.push_back("-untrusted");
      argv.push_back(g_fleet->cert_path(leaf));
    }
    argv.push_back(g_fleet->leaf_path(leaf));
    return RunCommand(argv, seconds(10));
  };
  const std::time_t now = std::time(nullptr);

  CommandResult r = verify("notyetvalid", true);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("not yet valid"), std::string::npos) << r.output;

  r = verify("selfsigned", false);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("self-signed certificate"), std::string::npos) << r.output;
  EXPECT_EQ(CountCertificates(ReadFile(g_fleet->cert_path("selfsigned"))), 1);

  r = verify("nointermediate", false);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("unable to get local issuer certificate"), std::string::npos) << r.output;
  EXPECT_EQ(CountCertificates(ReadFile(g_fleet->cert_path("nointermediate"))), 1);
  EXPECT_EQ(CountCertificates(ReadFile(g_fleet->cert_path("good"))), 2);

  r = verify("expiring", true);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::time_t expiring = g_fleet->cert_not_after("expiring");
  EXPECT_NEAR(static_cast<double>(expiring), static_cast<double>(now + 3 * 86400), 3600.0);

  r = verify("rsa", true);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand({"openssl", "x509", "-noout", "-text", "-in", g_fleet->leaf_path("rsa")},
                 seconds(10));
  EXPECT_NE(r.output.find("rsaEncryption"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Public-Key: (2048 bit)"), std::string::npos) << r.output;

  for (const char* name : {"good", "notyetvalid", "selfsigned", "nointermediate", "expiring", "rsa",
                           "expired", "wronghost"}) {
    EXPECT_GT(g_fleet->cert_not_after(name), 0) << name;
  }
  EXPECT_EQ(g_fleet->cert_not_after("nosuchcert"), -1);
}

// ---------------------------------------------------------------------------------------------
// 2. One exporter probes every endpoint; the tests below read the same /metrics, taken once every
// endpoint has been probed.

class ServicesExporterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setup_error_.clear();
    metrics_.clear();
    if (g_fleet == nullptr) {
      setup_error_ = "no fleet";
      return;
    }
    exporter_ = std::make_unique<ExporterProcess>(*g_fleet, "services");
    if (auto r = exporter_->WriteConfig(MakeConfig(*exporter_)); !r) {
      setup_error_ = r.message();
      return;
    }
    if (auto r = exporter_->StartAndWait(); !r) {
      setup_error_ = r.message();
      return;
    }
    // Every endpoint's first probe (interval 5s, timeout 4s): 30 s is plenty.
    auto deadline = std::chrono::steady_clock::now() + seconds(30);
    for (const auto& e : AllEndpoints()) {
      auto left = std::max(std::chrono::milliseconds(0),
                           std::chrono::duration_cast<std::chrono::milliseconds>(
                               deadline - std::chrono::steady_clock::now()));
      Labels labels = EndpointLabels(e.fleet_service);
      if (!exporter_->WaitForMetric("mailsec_probe_success", labels, left)) {
        setup_error_ = "no " + FormatSeries("mailsec_probe_success", labels) +
                       " after 30 s; /metrics:\n" + exporter_->last_metrics() +
                       "\nexporter log:\n" + exporter_->LogTail();
        return;
      }
    }
    HttpResponse r = exporter_->Get("/metrics");
    if (r.status != 200) {
      setup_error_ = "GET /metrics: " + std::to_string(r.status) + " " + r.error;
      return;
    }
    metrics_ = r.body;
  }

  static void TearDownTestSuite() {
    if (exporter_) exporter_->Stop();
    exporter_.reset();
  }

  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  // On failure: the series of the endpoints the test looked at, and the exporter's log lines
  // about them, once per test rather than with every failed expectation.
  void TearDown() override {
    if (!HasFailure() || metrics_.empty()) return;
    std::string out;
    for (const auto& name : shown_) {
      out += "series of " + Target(name) + ":\n" + SeriesOf(metrics_, name);
      std::istringstream log(ReadFile(exporter_->log_path()));
      std::string line;
      std::string lines;
      while (std::getline(log, line)) {
        if (line.find(Target(name)) != std::string::npos) lines += line + "\n";
      }
      if (!lines.empty()) out += "exporter log about it:\n" + lines;
    }
    ADD_FAILURE() << "context of the failures above:\n" << out;
  }

  // The endpoints whose series TearDown shows on failure.
  void Show(const std::string& name) { shown_.push_back(name); }

  const std::string& m() const { return metrics_; }

  // A good Dovecot endpoint: trusted TLS 1.3, STARTTLS (when `starttls`) or implicit TLS, no
  // credentials before TLS.
  void ExpectGoodAccessService(const std::string& name, bool starttls) {
    Show(name);
    const Labels l = EndpointLabels(name);
    EXPECT_TRUE(HasValue(m(), "mailsec_probe_success", l, 1));
    EXPECT_TRUE(HasValue(m(), "mailsec_tls_handshake_success", l, 1));
    EXPECT_TRUE(HasValue(m(), "mailsec_tls_version_info",
                         EndpointLabels(name, {{"version", "TLSv1.3"}}), 1));
    EXPECT_TRUE(HasValue(m(), "mailsec_cert_trusted", l, 1));
    EXPECT_TRUE(HasValue(m(), "mailsec_cert_hostname_match", l, 1));
    EXPECT_TRUE(HasValue(m(), "mailsec_cert_not_after_timestamp_seconds", l,
                         static_cast<double>(g_fleet->cert_not_after("good"))));
    if (starttls) {
      EXPECT_TRUE(HasValue(m(), "mailsec_starttls_offered", l, 1));
      EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "starttls_available"), 0));
    } else {
      EXPECT_TRUE(IsAbsent(m(), "mailsec_starttls_offered", l)) << "implicit TLS";
      EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "implicit_tls_available"), 0));
    }
    EXPECT_TRUE(HasValue(m(), "mailsec_downgrade_signal",
                         EndpointLabels(name, {{"signal", "plaintext_auth"}}), 0));
  }

  // An endpoint with the expired certificate on a client port.
  void ExpectExpiredOnClientPort(const std::string& name) {
    Show(name);
    EXPECT_TRUE(HasValue(m(), "mailsec_cert_verify_result_info",
                         EndpointLabels(name, {{"result", "expired"}}), 1));
    EXPECT_TRUE(HasValue(m(), "mailsec_cert_trusted", EndpointLabels(name), 0));
    EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_expiry"), 2));
    EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_trusted"), 2))
        << "a client port fails an untrusted certificate";
    EXPECT_TRUE(HasValue(m(), "mailsec_cert_not_after_timestamp_seconds", EndpointLabels(name),
                         static_cast<double>(g_fleet->cert_not_after("expired"))));
  }

  static std::unique_ptr<ExporterProcess> exporter_;
  static std::string metrics_;
  static std::string setup_error_;

 private:
  std::vector<std::string> shown_;
};

std::unique_ptr<ExporterProcess> ServicesExporterTest::exporter_;
std::string ServicesExporterTest::metrics_;
std::string ServicesExporterTest::setup_error_;

// ---- Dovecot (needs the IMAP, POP3 and ManageSieve dialogues of the exporter) -----------------

TEST_F(ServicesExporterTest, ImapStarttls) { ExpectGoodAccessService("imap", true); }
TEST_F(ServicesExporterTest, ImapsImplicitTls) { ExpectGoodAccessService("imaps", false); }
TEST_F(ServicesExporterTest, Pop3Stls) { ExpectGoodAccessService("pop3", true); }
TEST_F(ServicesExporterTest, Pop3sImplicitTls) { ExpectGoodAccessService("pop3s", false); }
TEST_F(ServicesExporterTest, SieveStarttls) { ExpectGoodAccessService("sieve", true); }
TEST_F(ServicesExporterTest, ImapExpiredCertificate) { ExpectExpiredOnClientPort("imap_expired"); }
TEST_F(ServicesExporterTest, ImapsExpiredCertificate) {
  ExpectExpiredOnClientPort("imaps_expired");
}

// ---- Postfix certificates (SMTP dialogue) ----------------------------------------------------

TEST_F(ServicesExporterTest, SmtpNotYetValidCertificate) {
  const std::string name = "smtp_notyetvalid";
  Show(name);
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_verify_result_info",
                       EndpointLabels(name, {{"result", "not_yet_valid"}}), 1));
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_trusted", EndpointLabels(name), 0));
  EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_expiry"), 2));
  std::optional<double> not_before =
      MetricValue(m(), "mailsec_cert_not_before_timestamp_seconds", EndpointLabels(name));
  ASSERT_TRUE(not_before.has_value());
  EXPECT_EQ(*not_before, 4070908800.0);  // 2099-01-01T00:00:00Z
}

TEST_F(ServicesExporterTest, SmtpSelfSignedCertificateWarns) {
  const std::string name = "smtp_selfsigned";
  Show(name);
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_verify_result_info",
                       EndpointLabels(name, {{"result", "self_signed"}}), 1));
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_trusted", EndpointLabels(name), 0));
  EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_self_signed"), 1))
      << "port 25 (service smtp) is opportunistic: warn";
  EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_trusted"), 1));
  EXPECT_TRUE(HasValue(m(), "mailsec_probe_success", EndpointLabels(name), 1));
}

TEST_F(ServicesExporterTest, SubmissionSelfSignedCertificateFails) {
  const std::string name = "submission_selfsigned";
  Show(name);
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_verify_result_info",
                       EndpointLabels(name, {{"result", "self_signed"}}), 1));
  EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_self_signed"), 2))
      << "a client port fails";
  EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_trusted"), 2));
}

TEST_F(ServicesExporterTest, SmtpMissingIntermediate) {
  const std::string name = "smtp_nointermediate";
  Show(name);
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_verify_result_info",
                       EndpointLabels(name, {{"result", "missing_intermediate"}}), 1));
  EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_chain_complete"), 2));
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_chain_length", EndpointLabels(name), 1));
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_chain_length", EndpointLabels("smtp_good"), 2))
      << "the good chain: leaf + intermediate";
}

TEST_F(ServicesExporterTest, SmtpExpiringCertificateWarns) {
  const std::string name = "smtp_expiring";
  Show(name);
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_trusted", EndpointLabels(name), 1));
  EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_trusted"), 0));
  EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_expiry"), 1))
      << "expires within 21 days: warn";
  std::optional<double> not_after =
      MetricValue(m(), "mailsec_cert_not_after_timestamp_seconds", EndpointLabels(name));
  ASSERT_TRUE(not_after.has_value());
  EXPECT_NEAR(*not_after, static_cast<double>(std::time(nullptr) + 3 * 86400), 3600.0);
  EXPECT_EQ(*not_after, static_cast<double>(g_fleet->cert_not_after("expiring")));
}

TEST_F(ServicesExporterTest, KeyTypeAndSize) {
  Show("smtp_rsa");
  Show("smtp_good");
  EXPECT_TRUE(HasValue(
      m(), "mailsec_cert_info",
      EndpointLabels("smtp_rsa",
                     {{"key_type", "RSA"}, {"key_bits", "2048"}, {"subject_cn", "rsa.fleet.test"}}),
      1));
  EXPECT_TRUE(HasValue(
      m(), "mailsec_cert_info",
      EndpointLabels("smtp_good",
                     {{"key_type", "EC"}, {"key_bits", "256"}, {"subject_cn", "good.fleet.test"}}),
      1));
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_trusted", EndpointLabels("smtp_rsa"), 1));
}

TEST_F(ServicesExporterTest, SmtpWrongHostWarns) {
  const std::string name = "smtp_wronghost";
  Show(name);
  EXPECT_TRUE(HasValue(m(), "mailsec_cert_hostname_match", EndpointLabels(name), 0));
  EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_hostname"), 1))
      << "port 25 (service smtp): warn";
}

// ---- Certificate facts and transport checks over every fleet certificate ---------------------

TEST_F(ServicesExporterTest, EveryEndpointIsReachable) {
  for (const auto& e : AllEndpoints()) {
    Show(e.fleet_service);
    EXPECT_TRUE(
        HasValue(m(), "mailsec_check_result", Check(e.fleet_service, "endpoint_reachable"), 0));
  }
}

TEST_F(ServicesExporterTest, TestCaCertificatesPassTheCompositionChecks) {
  // Every fleet certificate: SHA-256 signatures, a SAN, serverAuth + digitalSignature, a chain
  // sent in order without its root, no must-staple, at most 365 days; no server staples.
  for (const auto& e : AllEndpoints()) {
    const std::string& name = e.fleet_service;
    Show(name);
    for (const char* check :
         {"cert_chain_order", "cert_san_present", "cert_signature_algorithm",
          "cert_extended_key_usage", "cert_must_staple", "cert_validity_period"}) {
      EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, check), 0)) << name;
    }
    EXPECT_TRUE(IsAbsent(m(), "mailsec_check_result", Check(name, "cert_revoked")))
        << name << ": nothing stapled, so no revocation verdict";
  }
}

TEST_F(ServicesExporterTest, KeyStrength) {
  Show("smtp_rsa");
  EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check("smtp_rsa", "cert_key_strength"), 1))
      << "RSA 2048 leaf: phase-out, warn";
  for (const char* name : {"smtp_good", "imap", "imaps", "pop3", "pop3s", "sieve",
                           "smtp_selfsigned", "submission_selfsigned"}) {
    Show(name);
    EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cert_key_strength"), 0))
        << name << ": EC P-256 leaf and intermediate";
  }
}

TEST_F(ServicesExporterTest, CleartextOnly) {
  // Dovecot: STARTTLS/STLS offered, LOGINDISABLED and no USER before TLS; Postfix submission:
  // smtpd_tls_auth_only.
  for (const char* name : {"imap", "pop3", "imap_expired", "submission_selfsigned"}) {
    Show(name);
    EXPECT_TRUE(HasValue(m(), "mailsec_check_result", Check(name, "cleartext_only"), 0)) << name;
  }
  // Port 25, ManageSieve and the implicit-TLS ports are outside TX-11.
  for (const char* name : {"smtp_good", "sieve", "imaps", "pop3s"}) {
    Show(name);
    EXPECT_TRUE(IsAbsent(m(), "mailsec_check_result", Check(name, "cleartext_only"))) << name;
  }
}

// ---- CERT-16 across the ports of a host (cert_consistent_across_ports) ----------------------

TEST_F(ServicesExporterTest, LeavesAreComparedAcrossThePortsOfAHost) {
  // Every fleet endpoint is one host (the fleet's address) on many ports, some serving expired
  // leaves (imap_expired, imaps_expired): a valid leaf beside them warns, and so do they. The
  // comparison needs the other ports' results, so wait for a probe that had them.
  for (const char* name : {"smtp_good", "imap_expired"}) {
    Show(name);
    std::optional<double> v = exporter_->WaitForMetric(
        "mailsec_check_result", Check(name, "cert_consistent_across_ports"), seconds(20),
        [](double x) { return x == 1; });
    EXPECT_EQ(v, 1.0) << name << ":\n" << SeriesOf(exporter_->last_metrics(), name);
  }
}

TEST(CheckAcrossPortsTest, OneRunComparesItsTargetsOnTheSameHost) {
  // smtp_good and submissions serve the same leaf ("good"); smtp_expired an expired one.
  CheckRun same =
      RunCheck(g_fleet->ca_bundle_path(),
               {Target("smtp_good"), EndpointTarget(*g_fleet, {"submissions", "submissions"})});
  ASSERT_EQ(same.reports.size(), 2u) << same.output;
  for (const auto& r : same.reports) {
    EXPECT_EQ(CheckVerdict(r, "cert_consistent_across_ports"), 0) << same.output;
    EXPECT_NE(CheckDetail(r, "cert_consistent_across_ports").find("the same leaf on port"),
              std::string::npos)
        << CheckDetail(r, "cert_consistent_across_ports");
  }
  CheckRun mixed =
      RunCheck(g_fleet->ca_bundle_path(),
               {Target("smtp_good"), EndpointTarget(*g_fleet, {"smtp_expired", "smtp"})});
  ASSERT_EQ(mixed.reports.size(), 2u) << mixed.output;
  for (const auto& r : mixed.reports) {
    EXPECT_EQ(CheckVerdict(r, "cert_consistent_across_ports"), 1) << mixed.output;
  }
  const std::string expired_port = std::to_string(g_fleet->port("smtp_expired"));
  EXPECT_NE(
      CheckDetail(mixed.reports[0], "cert_consistent_across_ports").find(expired_port + " (smtp, "),
      std::string::npos)
      << CheckDetail(mixed.reports[0], "cert_consistent_across_ports");
  // One target alone has nothing to compare with.
  CheckRun alone = RunCheck(g_fleet->ca_bundle_path(), {Target("smtp_good")});
  ASSERT_EQ(alone.reports.size(), 1u) << alone.output;
  EXPECT_EQ(CheckVerdict(alone.reports[0], "cert_consistent_across_ports"), -1) << alone.output;
}

// ---------------------------------------------------------------------------------------------
// 3. Revocation of the leaf and of the intermediate (CERT-09 OCSP, CERT-10 CRL), answered by
// OpenSSL's own responder and CRL maker. `openssl ocsp` as a server binds every address, so it
// answers here through -reqin/-respout behind an HTTP server on the fleet's loopback address;
// the CRLs come from `openssl ca -gencrl`. Three `openssl s_server -www` serve the chains.

class RevocationPki {
 public:
  // root -> interA (its status: root's OCSP responder, good), interB (root's CRL: revoked);
  // interA -> leaf1 (interA's responder: good), leaf2 (revoked); interB -> leaf3 (interB's CRL:
  // not listed).
  bool Make(const std::string& dir, const std::string& address, std::uint16_t http_port) {
    dir_ = dir;
    std::filesystem::create_directories(dir);
    const std::string base = "http://" + address + ":" + std::to_string(http_port);
    const std::string ext =
        "[interA]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "authorityInfoAccess=OCSP;URI:" +
        base +
        "/root-ocsp\n"
        "[interB]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "crlDistributionPoints=URI:" +
        base +
        "/root.crl\n"
        "[leafA]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        "keyUsage=critical,digitalSignature\nsubjectAltName=IP:" +
        address +
        "\n"
        "authorityInfoAccess=OCSP;URI:" +
        base +
        "/a-ocsp\n"
        "[leafB]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        "keyUsage=critical,digitalSignature\nsubjectAltName=IP:" +
        address +
        "\n"
        "crlDistributionPoints=URI:" +
        base + "/b.crl\n";
    if (!WriteFile(Path("ext.cnf"), ext)) return false;
    auto run = [&](const std::vector<std::string>& argv) {
      CommandResult r = RunCommand(argv, seconds(20));
      if (r.exit_code != 0) log_ += r.output;
      return r.exit_code == 0;
    };
    auto key_and_csr = [&](const std::string& name, const std::string& cn) {
      return run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", Path(name + ".key"), "-out", Path(name + ".csr"), "-subj",
                  "/CN=" + cn});
    };
    auto sign = [&](const std::string& name, const std::string& ca, const std::string& serial,
                    const std::string& section) {
      return run({"openssl",
                  "x509",
                  "-req",
                  "-in",
                  Path(name + ".csr"),
                  "-CA",
                  Path(ca + ".pem"),
                  "-CAkey",
                  Path(ca + ".key"),
                  "-set_serial",
                  "0x" + serial,
                  "-days",
                  "30",
                  "-sha256",
                  "-extfile",
                  Path("ext.cnf"),
                  "-extensions",
                  section,
                  "-out",
                  Path(name + ".pem")});
    };
    bool ok = run({"openssl",
                   "req",
                   "-x509",
                   "-newkey",
                   "ec",
                   "-pkeyopt",
                   "ec_paramgen_curve:P-256",
                   "-nodes",
                   "-keyout",
                   Path("root.key"),
                   "-out",
                   Path("root.pem"),
                   "-subj",
                   "/CN=mailsec revocation root",
                   "-days",
                   "30",
                   "-addext",
                   "basicConstraints=critical,CA:TRUE",
                   "-addext",
                   "keyUsage=critical,keyCertSign,cRLSign"});
    ok = ok && key_and_csr("interA", "mailsec inter A") && sign("interA", "root", "1A01", "interA");
    ok = ok && key_and_csr("interB", "mailsec inter B") && sign("interB", "root", "1A02", "interB");
    ok = ok && key_and_csr("leaf1", "leaf one") && sign("leaf1", "interA", "2B01", "leafA");
    ok = ok && key_and_csr("leaf2", "leaf two") && sign("leaf2", "interA", "2B02", "leafA");
    ok = ok && key_and_csr("leaf3", "leaf three") && sign("leaf3", "interB", "2C01", "leafB");
    // The CAs' databases, in `openssl ca`'s index format (what `openssl ocsp -index` reads).
    const std::string far = "300101000000Z";
    const std::string past = "240101000000Z";
    ok = ok && WriteFile(Path("root.idx"), "V\t" + far +
                                               "\t\t1A01\tunknown\t/CN=mailsec inter A\n"
                                               "R\t" +
                                               far + "\t" + past +
                                               "\t1A02\tunknown\t/CN=mailsec inter B\n");
    ok = ok &&
         WriteFile(Path("interA.idx"), "V\t" + far +
                                           "\t\t2B01\tunknown\t/CN=leaf one\n"
                                           "R\t" +
                                           far + "\t" + past + "\t2B02\tunknown\t/CN=leaf two\n");
    ok = ok && WriteFile(Path("interB.idx"), "V\t" + far + "\t\t2C01\tunknown\t/CN=leaf three\n");
    for (const char* ca : {"root", "interB"}) {
      const std::string name = ca;
      ok = ok && WriteFile(Path(name + "-ca.cnf"),
                           "[ca]\ndefault_ca = d\n[d]\ndatabase = " + Path(name + ".idx") +
                               "\ndefault_md = sha256\ndefault_crl_days = 2\n");
      ok = ok && run({"openssl", "ca", "-gencrl", "-batch", "-config", Path(name + "-ca.cnf"),
                      "-keyfile", Path(name + ".key"), "-cert", Path(name + ".pem"), "-out",
                      Path(name + ".crl.pem")});
      ok = ok && run({"openssl", "crl", "-in", Path(name + ".crl.pem"), "-outform", "DER", "-out",
                      Path(name + ".crl")});
    }
    return ok;
  }

  // `openssl ocsp` answering one DER request as `ca`'s responder (its index, its key).
  std::string Respond(const std::string& ca, const std::string& request) {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_[ca];
    const std::string in = Path("req.der");
    const std::string out = Path("resp.der");
    std::filesystem::remove(out);
    if (!WriteFile(in, request)) return "";
    CommandResult r = RunCommand(
        {"openssl", "ocsp", "-index", Path(ca + ".idx"), "-rsigner", Path(ca + ".pem"), "-rkey",
         Path(ca + ".key"), "-CA", Path(ca + ".pem"), "-reqin", in, "-respout", out},
        seconds(20));
    if (r.exit_code != 0) log_ += r.output;
    return ReadFile(out);
  }

  int requests(const std::string& ca) {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_[ca];
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& log() const { return log_; }

 private:
  std::string dir_;
  std::mutex mu_;  // guards requests_, log_ and the request/response files
  std::map<std::string, int> requests_;
  std::string log_;
};

// `openssl s_server -www` serving `leaf` with `chain` after it, on a fresh fleet port.
class ChainServer {
 public:
  ChainServer(const RevocationPki& pki, const std::string& leaf, const std::string& chain)
      : port_(g_fleet->AllocatePort()),
        server_(hostport(),
                {"-cert", pki.Path(leaf + ".pem"), "-key", pki.Path(leaf + ".key"), "-cert_chain",
                 pki.Path(chain + ".pem")},
                pki.Path("s_server-" + leaf + ".log")) {}
  std::string hostport() const { return g_fleet->address() + ":" + std::to_string(port_); }
  bool up() const { return server_.up(); }

 private:
  std::uint16_t port_;
  SServerProcess server_;
};

TEST(RevocationTest, OpensslOcspAndCrlJudgeTheLeafAndTheIntermediate) {
  RevocationPki pki;
  httplib::Server http;
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  for (const char* route : {"/root-ocsp", "/a-ocsp"}) {
    const std::string ca = std::string(route) == "/root-ocsp" ? "root" : "interA";
    http.Post(route, [&pki, ca](const httplib::Request& req, httplib::Response& res) {
      res.set_content(pki.Respond(ca, req.body), "application/ocsp-response");
    });
  }
  for (const char* ca : {"root", "interB"}) {
    const std::string name = ca;
    http.Get("/" + std::string(name == "root" ? "root" : "b") + ".crl",
             [&pki, name](const httplib::Request&, httplib::Response& res) {
               res.set_content(ReadFile(pki.Path(name + ".crl")), "application/pkix-crl");
             });
  }
  const std::uint16_t http_port = g_fleet->AllocatePort();
  ASSERT_TRUE(http.bind_to_port(g_fleet->address(), http_port));
  std::thread http_thread([&] { http.listen_after_bind(); });
  struct StopHttp {
    httplib::Server& s;
    std::thread& t;
    ~StopHttp() {
      s.stop();
      t.join();
    }
  } stop_http{http, http_thread};

  ASSERT_TRUE(pki.Make(g_fleet->dir() + "/revocation", g_fleet->address(), http_port)) << pki.log();
  ChainServer good(pki, "leaf1", "interA");
  ChainServer revoked_leaf(pki, "leaf2", "interA");
  ChainServer revoked_inter(pki, "leaf3", "interB");
  ASSERT_TRUE(good.up() && revoked_leaf.up() && revoked_inter.up());

  // One `check --scan` of the three, trusting the root alone (the exporter's ca_file).
  CommandResult c = RunCommand(
      {MAILSEC_EXPORTER_BIN, "check", "--json", "--scan", "--timeout", "5s", "--ca-file",
       pki.Path("root.pem"), "submissions://" + good.hostport(),
       "submissions://" + revoked_leaf.hostport(), "submissions://" + revoked_inter.hostport()},
      seconds(240));
  ASSERT_FALSE(c.timed_out) << c.output;
  const size_t at = c.output.find("[\n");
  ASSERT_NE(at, std::string::npos) << c.output;
  nlohmann::json reports = nlohmann::json::parse(c.output.substr(at), nullptr, false);
  ASSERT_TRUE(reports.is_array() && reports.size() == 3) << c.output;
  auto scan_of = [&](const ChainServer& s) {
    for (const auto& r : reports) {
      if (r.value("target", "").find(s.hostport()) != std::string::npos && r.contains("scan")) {
        return r["scan"];
      }
    }
    return nlohmann::json();
  };
  const nlohmann::json s1 = scan_of(good);
  const nlohmann::json s2 = scan_of(revoked_leaf);
  const nlohmann::json s3 = scan_of(revoked_inter);
  ASSERT_TRUE(s1.is_object() && s2.is_object() && s3.is_object()) << c.output;

  // Leaf one: OCSP good; inter A: OCSP good, from the root's responder found in the trust store.
  EXPECT_EQ(s1.value("revoked", true), false) << s1.dump(2);
  EXPECT_EQ(s1.value("revocation_source", ""), "ocsp");
  EXPECT_EQ(CheckVerdict(s1, "cert_revoked"), 0) << s1.dump(2);
  EXPECT_EQ(CheckVerdict(s1, "cert_chain_revoked"), 0) << s1.dump(2);
  EXPECT_NE(CheckDetail(s1, "cert_chain_revoked").find("\"mailsec inter A\": good"),
            std::string::npos)
      << CheckDetail(s1, "cert_chain_revoked");
  // Leaf two: revoked by inter A's responder; its chain is fine.
  EXPECT_EQ(s2.value("revoked", false), true) << s2.dump(2);
  EXPECT_EQ(CheckVerdict(s2, "cert_revoked"), 2) << s2.dump(2);
  EXPECT_EQ(CheckVerdict(s2, "cert_chain_revoked"), 0) << s2.dump(2);
  // Leaf three: not on inter B's CRL, but inter B is on the root's CRL.
  EXPECT_EQ(s3.value("revoked", true), false) << s3.dump(2);
  EXPECT_EQ(s3.value("revocation_source", ""), "crl");
  EXPECT_EQ(CheckVerdict(s3, "cert_chain_revoked"), 2) << s3.dump(2);
  EXPECT_NE(CheckDetail(s3, "cert_chain_revoked").find("\"mailsec inter B\": REVOKED"),
            std::string::npos)
      << CheckDetail(s3, "cert_chain_revoked");
  EXPECT_GE(pki.requests("root"), 1);
  EXPECT_GE(pki.requests("interA"), 2);
  EXPECT_TRUE(pki.log().empty()) << pki.log();
}

}  // namespace
}  // namespace mailsec::testing

int main(int argc, char** argv) {
  return mailsec::testing::RunWithFleet(argc, argv, MAILSEC_FLEET_BASE_DIR,
                                        mailsec::testing::FleetOptions{.dovecot = true});
}
