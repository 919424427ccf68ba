// Integration tests of STRIPTLS and downgrade detection (CHECKS.md §15, CONTRACT.md downgrade
// signals): man-in-the-middle proxies (tests/testing/mitm_proxy.h) in front of the fleet's real
// Postfix and Dovecot, a hostile TLS SMTP server, and the persisted history across restarts and
// SIGKILL. The proxies listen on 127.78.y.z / 127.79.y.z / 127.80.y.z, where y.z is the fleet's
// fresh address, so they are as fresh as the fleet.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "check_run.h"
#include "exporter_process.h"
#include "fleet.h"
#include "fleet_main.h"
#include "metrics_assert.h"
#include "testing/mitm_proxy.h"
#include "testing/silent_listener.h"
#include "testing/mock_dns_server.h"
#include "testing/tls_smtp_server.h"

#ifndef MAILSEC_FLEET_BASE_DIR
#error "MAILSEC_FLEET_BASE_DIR must name a directory in the build tree"
#endif

namespace mailsec::testing {
namespace {

using std::chrono::seconds;

// 127.77.y.z (the fleet's) -> 127.<77+n>.y.z.
std::string SideAddress(int n) {
  const std::string& a = g_fleet->address();
  return "127." + std::to_string(77 + n) + a.substr(a.find('.', 4));
}

CheckRun Check(const std::vector<std::string>& targets, const std::vector<std::string>& extra = {},
               const std::string& timeout = "8s") {
  return RunCheck(g_fleet->ca_bundle_path(), targets, extra, timeout);
}

int Verdict(const nlohmann::json& e, const std::string& check) { return CheckVerdict(e, check); }
std::string Evidence(const nlohmann::json& e, const std::string& signal) {
  return SignalEvidence(e, signal);
}

std::string Target(const std::string& service, const std::string& address, uint16_t port) {
  return service + "://" + address + ":" + std::to_string(port);
}

// A proxy on SideAddress(1) at a fresh port in front of a fleet service.
std::unique_ptr<MitmProxy> ProxyFor(MitmProtocol protocol, const std::string& fleet_service,
                                    const MitmRules& rules, int side = 1, uint16_t port = 0) {
  auto p = std::make_unique<MitmProxy>(protocol, SideAddress(side),
                                       port != 0 ? port : g_fleet->AllocatePort(),
                                       g_fleet->address(), g_fleet->port(fleet_service));
  p->SetRules(rules);
  return p;
}

// ---------------------------------------------------------------------------------------------
// One probe through a proxy (`check`): each middlebox trick and what it raises.

TEST(MitmTest, CleanProxyChangesNothing) {
  auto proxy = ProxyFor(MitmProtocol::kSmtp, "smtp_good", {});
  ASSERT_EQ(proxy->error(), "");
  CheckRun r = Check({Target("smtp", SideAddress(1), proxy->port())});
  ASSERT_EQ(r.reports.size(), 1u) << r.output;
  const auto& e = r.reports[0];
  EXPECT_TRUE(e["downgrade_signals"].empty()) << e.dump(2);
  EXPECT_EQ(Verdict(e, "starttls_available"), 0) << e.dump(2);
  EXPECT_EQ(Verdict(e, "starttls_response_injection"), 0);
  EXPECT_EQ(Verdict(e, "capabilities_after_tls"), 0);
  EXPECT_EQ(proxy->connections(), 1);
}

TEST(MitmTest, StrippedStartTlsIsMissing) {
  for (const auto& [protocol, service, fleet_service] :
       std::vector<std::tuple<MitmProtocol, std::string, std::string>>{
           {MitmProtocol::kSmtp, "smtp", "smtp_good"},
           {MitmProtocol::kImap, "imap", "imap"},
           {MitmProtocol::kPop3, "pop3", "pop3"}}) {
    SCOPED_TRACE(service);
    auto proxy = ProxyFor(protocol, fleet_service, {.strip_starttls = true});
    CheckRun r = Check({Target(service, SideAddress(1), proxy->port())});
    ASSERT_EQ(r.reports.size(), 1u) << r.output;
    const auto& e = r.reports[0];
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_FALSE(e.value("starttls_offered", true)) << e.dump(2);
    EXPECT_TRUE(HasSignal(e, "starttls_missing")) << e.dump(2);
    EXPECT_FALSE(HasSignal(e, "starttls_masked")) << e.dump(2);
    EXPECT_EQ(Verdict(e, "starttls_available"), 2);
  }
}

TEST(MitmTest, MaskedStartTlsIsNamed) {
  for (const auto& [protocol, service, fleet_service, mask] :
       std::vector<std::tuple<MitmProtocol, std::string, std::string, std::string>>{
           {MitmProtocol::kSmtp, "smtp", "smtp_good", "XXXXXXXA"},
           {MitmProtocol::kImap, "imap", "imap", "XXXXXXXA"},
           {MitmProtocol::kPop3, "pop3", "pop3", "XXXA"}}) {
    SCOPED_TRACE(service);
    auto proxy = ProxyFor(protocol, fleet_service, {.mask_starttls = true});
    CheckRun r = Check({Target(service, SideAddress(1), proxy->port())});
    ASSERT_EQ(r.reports.size(), 1u) << r.output;
    const auto& e = r.reports[0];
    EXPECT_TRUE(HasSignal(e, "starttls_masked")) << e.dump(2);
    EXPECT_TRUE(HasSignal(e, "starttls_missing")) << e.dump(2);
    EXPECT_NE(Evidence(e, "starttls_masked").find(mask), std::string::npos) << e.dump(2);
    EXPECT_EQ(Verdict(e, "starttls_masked"), 2);
  }
}

TEST(MitmTest, StartTlsAnswered500AfterAdvertisingIsMasked) {
  auto proxy = ProxyFor(MitmProtocol::kSmtp, "smtp_good",
                        {.answer_starttls = "500 5.5.1 command not recognized\r\n"});
  CheckRun r = Check({Target("smtp", SideAddress(1), proxy->port())});
  ASSERT_EQ(r.reports.size(), 1u) << r.output;
  const auto& e = r.reports[0];
  EXPECT_TRUE(e.value("starttls_offered", false));
  EXPECT_TRUE(HasSignal(e, "starttls_masked")) << e.dump(2);
  EXPECT_TRUE(HasSignal(e, "starttls_rejected")) << e.dump(2);
  EXPECT_NE(Evidence(e, "starttls_masked").find("500"), std::string::npos) << e.dump(2);
}

TEST(MitmTest, StartTls454IsRejected) {
  auto proxy = ProxyFor(MitmProtocol::kSmtp, "smtp_good",
                        {.answer_starttls = "454 4.7.0 TLS not available due to local problem\r\n"});
  CheckRun r = Check({Target("smtp", SideAddress(1), proxy->port())});
  ASSERT_EQ(r.reports.size(), 1u) << r.output;
  const auto& e = r.reports[0];
  EXPECT_TRUE(HasSignal(e, "starttls_rejected")) << e.dump(2);
  EXPECT_FALSE(HasSignal(e, "starttls_masked")) << e.dump(2);
  EXPECT_NE(Evidence(e, "starttls_rejected").find("454"), std::string::npos) << e.dump(2);
  EXPECT_EQ(Verdict(e, "starttls_available"), 2);
}

TEST(MitmTest, ReplyInjectedAfterGoAheadIsDiscardedAndReported) {
  auto proxy = ProxyFor(MitmProtocol::kSmtp, "smtp_good", {.after_go_ahead = "250 OK\r\n"});
  CheckRun r = Check({Target("smtp", SideAddress(1), proxy->port())});
  ASSERT_EQ(r.reports.size(), 1u) << r.output;
  const auto& e = r.reports[0];
  EXPECT_TRUE(HasSignal(e, "response_injection")) << e.dump(2);
  EXPECT_NE(Evidence(e, "response_injection").find("250 OK"), std::string::npos) << e.dump(2);
  EXPECT_EQ(Verdict(e, "starttls_response_injection"), 2);
  // The injected bytes were dropped: the real server's TLS session still came up.
  EXPECT_TRUE(e.value("success", false)) << e.dump(2);
  EXPECT_EQ(e["tls"].value("version", ""), "TLSv1.3") << e.dump(2);
}

TEST(MitmTest, UnaskedReplyBeforeStartTlsWarns) {
  auto proxy = ProxyFor(MitmProtocol::kSmtp, "smtp_good",
                        {.after_greeting = "250 pipelined before anyone asked\r\n"});
  CheckRun r = Check({Target("smtp", SideAddress(1), proxy->port())});
  ASSERT_EQ(r.reports.size(), 1u) << r.output;
  const auto& e = r.reports[0];
  EXPECT_TRUE(HasSignal(e, "response_injection")) << e.dump(2);
  EXPECT_EQ(Verdict(e, "starttls_response_injection"), 1) << e.dump(2);
  EXPECT_TRUE(e.value("starttls_offered", false)) << "the real EHLO answer was read";
  EXPECT_TRUE(e.value("success", false)) << e.dump(2);
}

TEST(MitmTest, ImapPreauthGreeting) {
  auto proxy = ProxyFor(MitmProtocol::kImap, "imap",
                        {.replace_greeting = "* PREAUTH [CAPABILITY IMAP4rev1] logged in as root"});
  CheckRun r = Check({Target("imap", SideAddress(1), proxy->port())});
  ASSERT_EQ(r.reports.size(), 1u) << r.output;
  const auto& e = r.reports[0];
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Verdict(e, "imap_preauth"), 2) << e.dump(2);
  EXPECT_EQ(Verdict(e, "starttls_available"), 2) << e.dump(2);
}

// ---------------------------------------------------------------------------------------------
// Hostile servers: what only the server itself can do wrong inside TLS.

TEST(HostileServerTest, StartTlsAdvertisedAgainAfterTls) {
  TlsSmtpServer server(SideAddress(1), {.cert_file = g_fleet->cert_path("good"),
                                        .key_file = g_fleet->key_path("good")});
  ASSERT_EQ(server.error(), "");
  CheckRun r = Check({Target("smtp", SideAddress(1), server.port())});
  ASSERT_EQ(r.reports.size(), 1u) << r.output;
  const auto& e = r.reports[0];
  EXPECT_EQ(Verdict(e, "starttls_after_tls"), 2) << e.dump(2);
}

TEST(HostileServerTest, SilentAfterTlsFailsCapabilitiesAfterTls) {
  TlsSmtpServer server(SideAddress(1), {.cert_file = g_fleet->cert_path("good"),
                                        .key_file = g_fleet->key_path("good"),
                                        .silent_after_tls = true});
  ASSERT_EQ(server.error(), "");
  CheckRun r = Check({Target("smtp", SideAddress(1), server.port())}, {}, "4s");
  ASSERT_EQ(r.reports.size(), 1u) << r.output;
  const auto& e = r.reports[0];
  EXPECT_EQ(Verdict(e, "capabilities_after_tls"), 2) << e.dump(2);
  EXPECT_EQ(e["failure"].value("phase", ""), "tls_capabilities") << e.dump(2);
}

// STARTTLS stripped on one address of a host, the other clean (the address-family split of
// CHECKS.md STRIP-02, with two IPv4 loopback addresses since the tests stay inside 127/8).
TEST(HostileServerTest, StartTlsStrippedOnOneAddressOnly) {
  const uint16_t port = g_fleet->AllocatePort();
  auto stripped = ProxyFor(MitmProtocol::kSmtp, "smtp_good", {.strip_starttls = true}, 1, port);
  auto clean = ProxyFor(MitmProtocol::kSmtp, "smtp_good", {}, 2, port);
  ASSERT_EQ(stripped->error(), "");
  ASSERT_EQ(clean->error(), "");
  MockDnsServer dns;
  MockDnsReply a;
  a.answers = {{"split.test", 1, RdataA(SideAddress(1)), 60},
               {"split.test", 1, RdataA(SideAddress(2)), 60}};
  dns.Set("split.test", 1 /* A */, a);
  dns.Set("split.test", 28 /* AAAA */, MockDnsReply{});
  CheckRun r = Check({"smtp://split.test:" + std::to_string(port)}, {"--resolver", dns.address()});
  ASSERT_EQ(r.reports.size(), 2u) << r.output;
  for (const auto& e : r.reports) {
    if (e.value("ip", "") == SideAddress(1)) {
      EXPECT_TRUE(HasSignal(e, "starttls_missing")) << e.dump(2);
      EXPECT_EQ(Verdict(e, "starttls_consistent_across_addresses"), 1) << e.dump(2);
    } else {
      EXPECT_FALSE(HasSignal(e, "starttls_missing")) << e.dump(2);
      EXPECT_EQ(Verdict(e, "starttls_consistent_across_addresses"), 0) << e.dump(2);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// History across probes, restarts and SIGKILL (one exporter each).

std::string ExporterToml(const ExporterProcess& exporter, const std::vector<std::string>& targets,
                         const std::string& interval = "1s") {
  std::ostringstream toml;
  toml << "[global]\n"
       << "interval = " << TomlString(interval) << "\n"
       << "timeout = \"8s\"\n"
       << "scan_interval = \"24h\"\n"
       << "helo_name = \"probe.test\"\n"
       << "ca_file = " << TomlString(g_fleet->ca_bundle_path()) << "\n"
       << "state_file = " << TomlString(exporter.state_file_path()) << "\n"
       << "state_save_interval = \"1s\"\n";
  for (const auto& t : targets) toml << "\n[[endpoint]]\ntarget = " << TomlString(t) << "\n";
  return toml.str();
}

Labels ProxyLabels(const MitmProxy& proxy, const Labels& extra = {}) {
  Labels l = {{"service", "smtp"},
              {"host", SideAddress(1)},
              {"port", std::to_string(proxy.port())},
              {"ip", SideAddress(1)}};
  l.insert(extra.begin(), extra.end());
  return l;
}

TEST(HistoryTest, StartTlsLostFiresAndStaysUntilItComesBack) {
  auto proxy = ProxyFor(MitmProtocol::kSmtp, "smtp_good", {});
  ExporterProcess exporter(*g_fleet, "lost");
  ASSERT_TRUE(exporter.WriteConfig(
      ExporterToml(exporter, {Target("smtp", SideAddress(1), proxy->port())})));
  ASSERT_TRUE(exporter.StartAndWait());
  const Labels lost = ProxyLabels(*proxy, {{"signal", "starttls_lost"}});
  ASSERT_TRUE(exporter.WaitForMetric("mailsec_starttls_offered", ProxyLabels(*proxy), seconds(30),
                                     [](double v) { return v == 1; }))
      << exporter.last_metrics() << exporter.LogTail();
  EXPECT_TRUE(HasValue(exporter.last_metrics(), "mailsec_downgrade_signal", lost, 0));

  proxy->SetRules({.strip_starttls = true});
  ASSERT_TRUE(exporter.WaitForMetric("mailsec_downgrade_signal", lost, seconds(30),
                                     [](double v) { return v == 1; }))
      << exporter.last_metrics() << exporter.LogTail();
  EXPECT_TRUE(HasValue(exporter.last_metrics(), "mailsec_check_result",
                       ProxyLabels(*proxy, {{"check", "starttls_lost"}}), 2));
  // It stays raised probe after probe while STARTTLS is missing.
  const int before = proxy->connections();
  ASSERT_TRUE(exporter.WaitForMetric("mailsec_downgrade_signal", lost, seconds(30), [&](double v) {
    return proxy->connections() >= before + 2 && v == 1;
  })) << exporter.last_metrics();

  proxy->SetRules({});
  ASSERT_TRUE(exporter.WaitForMetric("mailsec_downgrade_signal", lost, seconds(30),
                                     [](double v) { return v == 0; }))
      << exporter.last_metrics() << exporter.LogTail();
}

TEST(HistoryTest, VersionDowngradeAndCertificateSwap) {
  auto proxy = ProxyFor(MitmProtocol::kSmtp, "smtp_good", {});
  ExporterProcess exporter(*g_fleet, "swap");
  ASSERT_TRUE(exporter.WriteConfig(
      ExporterToml(exporter, {Target("smtp", SideAddress(1), proxy->port())})));
  ASSERT_TRUE(exporter.StartAndWait());
  const Labels l = ProxyLabels(*proxy);
  std::optional<double> first =
      exporter.WaitForMetric("mailsec_cert_first_seen_timestamp_seconds", l, seconds(30));
  ASSERT_TRUE(first.has_value()) << exporter.last_metrics() << exporter.LogTail();
  ASSERT_TRUE(exporter.WaitForMetric("mailsec_tls_version_info",
                                     ProxyLabels(*proxy, {{"version", "TLSv1.3"}}), seconds(30)));

  // The same certificate, but at most TLS 1.2 now: a downgrade.
  proxy->SetUpstream(g_fleet->address(), g_fleet->port("smtp_tls12"));
  const Labels down = ProxyLabels(*proxy, {{"signal", "tls_downgraded"}});
  ASSERT_TRUE(exporter.WaitForMetric("mailsec_downgrade_signal", down, seconds(30),
                                     [](double v) { return v == 1; }))
      << exporter.last_metrics() << exporter.LogTail();
  EXPECT_TRUE(HasValue(exporter.last_metrics(), "mailsec_check_result",
                       ProxyLabels(*proxy, {{"check", "tls_downgraded"}}), 2));
  EXPECT_TRUE(HasValue(exporter.last_metrics(), "mailsec_cert_changes_total", l, 0));
  // The status page says it in words, with the evidence.
  HttpResponse page = exporter.Get("/");
  EXPECT_NE(page.body.find("tls_downgraded (TLS version weaker than negotiated before: TLSv1.2 "
                           "negotiated; TLSv1.3 was negotiated before)"),
            std::string::npos)
      << page.body;

  // Another leaf from another issuer (self-signed): counted, dated, and not a renewal.
  proxy->SetUpstream(g_fleet->address(), g_fleet->port("smtp_selfsigned"));
  ASSERT_TRUE(exporter.WaitForMetric("mailsec_cert_changes_total", l, seconds(30),
                                     [](double v) { return v == 1; }))
      << exporter.last_metrics() << exporter.LogTail();
  std::optional<double> swapped =
      exporter.WaitForMetric("mailsec_cert_first_seen_timestamp_seconds", l, seconds(5));
  ASSERT_TRUE(swapped.has_value());
  EXPECT_GT(*swapped, *first);
  EXPECT_TRUE(exporter.WaitForMetric("mailsec_check_result",
                                     ProxyLabels(*proxy, {{"check", "cert_change_unexpected"}}),
                                     seconds(10), [](double v) { return v == 1; }))
      << exporter.last_metrics();
}

// Whether the state file at `path` loads (the exporter's own format, version 1) and, when it
// does, the first-seen time of the leaf of the endpoint whose key starts with `prefix`.
::testing::AssertionResult StateLoads(const std::string& path, const std::string& prefix,
                                      double* first_seen) {
  std::ifstream in(path);
  if (!in) return ::testing::AssertionFailure() << "no state file " << path;
  std::stringstream buf;
  buf << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(buf.str(), nullptr, false);
  if (doc.is_discarded() || doc.value("version", 0) != 1 || !doc["endpoints"].is_object()) {
    return ::testing::AssertionFailure() << "state file does not load:\n" << buf.str();
  }
  for (const auto& [key, e] : doc["endpoints"].items()) {
    if (key.rfind(prefix, 0) == 0 && !e["certs"].empty()) {
      *first_seen = e["certs"].back().value("first_seen", 0.0);
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure() << "no entry for " << prefix << " in\n" << buf.str();
}

TEST(HistoryTest, SigkillDuringBusyCyclesKeepsAStateFileThatLoads) {
  // A busy fleet: every Postfix and Dovecot port, plus ports that refuse and ports that never
  // answer (a proxy to a dead upstream closes at once; refused ports on a side address).
  ExporterProcess exporter(*g_fleet, "sigkill");
  std::vector<std::string> targets;
  for (const auto& s : g_fleet->services()) {
    std::string scheme = "smtp";
    if (s.protocol == Protocol::kImap) scheme = s.implicit_tls ? "imaps" : "imap";
    if (s.protocol == Protocol::kPop3) scheme = s.implicit_tls ? "pop3s" : "pop3";
    if (s.protocol == Protocol::kSieve) scheme = "sieve";
    if (s.protocol == Protocol::kSmtp && s.implicit_tls) scheme = "submissions";
    targets.push_back(Target(scheme, g_fleet->address(), s.port));
  }
  for (int i = 0; i < 20; ++i) targets.push_back(Target("smtp", SideAddress(3), 20000 + i));
  const std::string good_key = Target("smtp", g_fleet->address(), g_fleet->port("smtp_good"));
  ASSERT_TRUE(exporter.WriteConfig(ExporterToml(exporter, targets, "1s")));
  ASSERT_TRUE(exporter.StartAndWait());
  ASSERT_TRUE(exporter.WaitForMetric(
      "mailsec_cert_first_seen_timestamp_seconds",
      {{"service", "smtp"}, {"host", g_fleet->address()},
       {"port", std::to_string(g_fleet->port("smtp_good"))}},
      seconds(40)))
      << exporter.last_metrics() << exporter.LogTail();
  exporter.Stop();  // SIGTERM writes the state
  double first = 0;
  ASSERT_TRUE(StateLoads(exporter.state_file_path(), good_key, &first));

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(300, 2500);
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_TRUE(exporter.StartAndWait()) << exporter.LogTail();
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ASSERT_EQ(::kill(exporter.pid(), SIGKILL), 0);
    exporter.Stop();  // reaps it
    double again = 0;
    ASSERT_TRUE(StateLoads(exporter.state_file_path(), good_key, &again));
    EXPECT_DOUBLE_EQ(again, first) << "history lost";
    for (const auto& f : std::filesystem::directory_iterator(exporter.dir())) {
      EXPECT_EQ(f.path().filename().string().find("corrupt"), std::string::npos)
          << f.path() << " was moved aside";
    }
  }
  // And the exporter starts on it with the history intact.
  ASSERT_TRUE(exporter.StartAndWait());
  std::optional<double> seen = exporter.WaitForMetric(
      "mailsec_cert_first_seen_timestamp_seconds",
      {{"service", "smtp"}, {"host", g_fleet->address()},
       {"port", std::to_string(g_fleet->port("smtp_good"))}},
      seconds(40));
  ASSERT_TRUE(seen.has_value()) << exporter.LogTail();
  EXPECT_DOUBLE_EQ(*seen, first);
}

// SIGTERM while probes hang on silent servers: the exporter stops within its probe timeout plus
// a second (in-flight probes end by their own deadlines), exits 0, and writes the history it has
// (state_save_interval is an hour here, so only the shutdown can have written it).
TEST(ShutdownTest, SigtermDrainsInFlightProbesWithinTheTimeoutAndSavesState) {
  std::vector<std::unique_ptr<SilentListener>> silent;
  std::vector<std::string> targets = {
      Target("smtp", g_fleet->address(), g_fleet->port("smtp_good"))};
  for (int i = 0; i < 10; ++i) {
    silent.push_back(std::make_unique<SilentListener>());
    targets.push_back(Target("smtp", "127.0.0.1", silent.back()->port()));
  }
  ExporterProcess exporter(*g_fleet, "sigterm");
  std::string toml = ExporterToml(exporter, targets, "1s");
  toml.replace(toml.find("timeout = \"8s\""), std::string("timeout = \"8s\"").size(),
               "timeout = \"4s\"");
  toml.replace(toml.find("state_save_interval = \"1s\""),
               std::string("state_save_interval = \"1s\"").size(),
               "state_save_interval = \"1h\"");
  ASSERT_TRUE(exporter.WriteConfig(toml));
  ASSERT_TRUE(exporter.StartAndWait());
  ASSERT_TRUE(exporter.WaitForMetric(
      "mailsec_cert_first_seen_timestamp_seconds",
      {{"service", "smtp"}, {"host", g_fleet->address()},
       {"port", std::to_string(g_fleet->port("smtp_good"))}},
      seconds(30)))
      << exporter.LogTail();
  ASSERT_FALSE(std::filesystem::exists(exporter.state_file_path())) << "saved before shutdown";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // silent probes in flight
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(exporter.pid(), SIGTERM), 0);
  // Bounded: 300 polls, 50 ms apart.
  for (int i = 0; i < 300 && exporter.Running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(exporter.Running()) << "still running 15 s after SIGTERM";
  EXPECT_EQ(exporter.exit_status(), 0) << exporter.LogTail();
  EXPECT_LE(took, 4.0 + 1.0 + 1.5) << "drain took longer than timeout + grace";
  EXPECT_NE(exporter.LogTail(50).find("shutting down"), std::string::npos) << exporter.LogTail();
  double first = 0;
  EXPECT_TRUE(StateLoads(exporter.state_file_path(),
                         Target("smtp", g_fleet->address(), g_fleet->port("smtp_good")), &first));
}

}  // namespace
}  // namespace mailsec::testing

int main(int argc, char** argv) {
  return mailsec::testing::RunWithFleet(argc, argv, MAILSEC_FLEET_BASE_DIR,
                                        mailsec::testing::FleetOptions{.dovecot = true});
}
