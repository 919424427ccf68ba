// EndpointProbe against scripted plaintext servers on 127.0.0.1: the dialogue, the failure
// phases and the downgrade signals that show before any TLS.
#include "mailsec/probe/endpoint_probe.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>

#include "unit/probe/probe_once.h"
#include "testing/fake_resolver.h"
#include "testing/scripted_server.h"

namespace mailsec::probe {
namespace {

using testing::ScriptedServer;
using testing::Step;

EndpointReport Probe(config::Service service, int port, std::chrono::milliseconds timeout,
                     PhaseTimeouts phases = {}) {
  return probe_test::ProbeOnce(service, port, timeout, phases);
}

bool Has(const EndpointReport& r, Signal s) { return r.signals[static_cast<int>(s)]; }

TEST(EndpointProbeTest, StartTlsMissing) {
  ScriptedServer server({{"", "220 mx.test ESMTP\r\n"},
                         {"EHLO probe.test", "250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"},
                         {"QUIT", "221 bye\r\n"}});
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(server.error(), "");
  EXPECT_FALSE(r.success);
  EXPECT_FALSE(r.starttls_offered);
  EXPECT_EQ(r.failure, Failure::kStartTlsRefused);
  EXPECT_EQ(r.failure_phase, Phase::kStartTls);
  EXPECT_TRUE(Has(r, Signal::kStartTlsMissing));
  EXPECT_FALSE(Has(r, Signal::kStartTlsMasked));
  EXPECT_EQ(r.greeting, "mx.test ESMTP");
  EXPECT_EQ(r.capabilities, (std::vector<std::string>{"PIPELINING", "8BITMIME"}));
}

TEST(EndpointProbeTest, StartTlsMaskedByMiddlebox) {
  ScriptedServer server({{"", "220 mx.test ESMTP\r\n"},
                         {"EHLO", "250-mx.test\r\n250-AUTH PLAIN LOGIN\r\n250 XXXXXXXA\r\n"},
                         {"QUIT", "221 bye\r\n"}});
  EndpointReport r = Probe(config::Service::kSubmission, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(server.error(), "");
  EXPECT_TRUE(Has(r, Signal::kStartTlsMissing));
  EXPECT_TRUE(Has(r, Signal::kStartTlsMasked));
  EXPECT_TRUE(Has(r, Signal::kPlaintextAuth));
  EXPECT_EQ(r.auth_mechanisms, (std::vector<std::string>{"PLAIN", "LOGIN"}));
}

TEST(EndpointProbeTest, StartTlsRejected) {
  ScriptedServer server({{"", "220 mx.test ESMTP\r\n"},
                         {"EHLO", "250-mx.test\r\n250 STARTTLS\r\n"},
                         {"STARTTLS", "454 4.7.0 TLS not available due to local problem\r\n"},
                         {"QUIT", "221 bye\r\n"}});
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(server.error(), "");
  EXPECT_TRUE(r.starttls_offered);
  EXPECT_TRUE(Has(r, Signal::kStartTlsRejected));
  EXPECT_EQ(r.failure, Failure::kStartTlsRefused);
  EXPECT_EQ(r.failure_phase, Phase::kStartTls);
}

TEST(EndpointProbeTest, StartTlsAnswered500AfterAdvertisingIsMasked) {
  // Cisco "inspect esmtp" and STRIPTLS boxes rewrite the command: the server then says 500.
  ScriptedServer server({{"", "220 mx.test ESMTP\r\n"},
                         {"EHLO", "250-mx.test\r\n250 STARTTLS\r\n"},
                         {"STARTTLS", "500 5.5.1 command not recognized\r\n"},
                         {"QUIT", "221 bye\r\n"}});
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(server.error(), "");
  EXPECT_TRUE(Has(r, Signal::kStartTlsRejected));
  EXPECT_TRUE(Has(r, Signal::kStartTlsMasked));
  EXPECT_NE(r.signal_evidence[static_cast<int>(Signal::kStartTlsMasked)].find("500"),
            std::string::npos)
      << r.signal_evidence[static_cast<int>(Signal::kStartTlsMasked)];
}

TEST(EndpointProbeTest, StartTls454IsRejectedNotMasked) {
  ScriptedServer server({{"", "220 mx.test ESMTP\r\n"},
                         {"EHLO", "250-mx.test\r\n250 STARTTLS\r\n"},
                         {"STARTTLS", "454 4.7.0 TLS not available\r\n"},
                         {"QUIT", "221 bye\r\n"}});
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5));
  EXPECT_TRUE(Has(r, Signal::kStartTlsRejected));
  EXPECT_FALSE(Has(r, Signal::kStartTlsMasked));
  EXPECT_NE(r.signal_evidence[static_cast<int>(Signal::kStartTlsRejected)].find("454"),
            std::string::npos);
}

TEST(EndpointProbeTest, UnaskedExtraReplyIsDroppedNotTakenAsTheEhloAnswer) {
  // A second greeting arrives with the first: read as the EHLO answer, it would hide the real
  // capabilities (no STARTTLS in "220"). It is dropped, and the real EHLO answer is read.
  ScriptedServer server({{"", "220 mx.test ESMTP\r\n220 mx.test again\r\n"},
                         {"EHLO", "250-mx.test\r\n250 PIPELINING\r\n"},
                         {"QUIT", "221 bye\r\n"}});
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(r.capabilities, (std::vector<std::string>{"PIPELINING"}));
  EXPECT_TRUE(Has(r, Signal::kResponseInjection));
  EXPECT_EQ(r.unsolicited_before_tls, "220 mx.test again\\x0d\\x0a");
  EXPECT_TRUE(r.injected_after_go_ahead.empty());
}

TEST(EndpointProbeTest, ResponseInjectionIsReportedAndDiscarded) {
  // The go-ahead and a forged reply arrive together; the handshake then fails (the script speaks
  // no TLS), but the injected bytes were seen in plaintext first.
  ScriptedServer server({{"", "220 mx.test ESMTP\r\n"},
                         {"EHLO", "250-mx.test\r\n250 STARTTLS\r\n"},
                         {"STARTTLS", "220 go ahead\r\n250 injected\r\n"}},
                        500);
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(3));
  EXPECT_EQ(server.error(), "");
  EXPECT_TRUE(Has(r, Signal::kResponseInjection));
  EXPECT_EQ(r.injected_after_go_ahead, "250 injected\\x0d\\x0a");
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_phase, Phase::kHandshake);
}

TEST(EndpointProbeTest, MultiLineGreetingIsReadWhole) {
  // A postscreen-style greeting: the probe must not speak before the last line.
  ScriptedServer server({{"", "220-mx.test ESMTP\r\n", 0},
                         {"", "220-please wait\r\n", 300},
                         {"", "220 mx.test ESMTP\r\n", 300},
                         {"EHLO", "250 mx.test\r\n"},
                         {"QUIT", "221 bye\r\n"}});
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(server.error(), "");
  ASSERT_FALSE(server.received().empty());
  EXPECT_EQ(server.received().front(), "EHLO probe.test");
  EXPECT_TRUE(Has(r, Signal::kStartTlsMissing));
}

TEST(EndpointProbeTest, GreetingTimeout) {
  ScriptedServer server({}, 3000);
  PhaseTimeouts phases;
  phases.greeting = std::chrono::milliseconds(300);
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5), phases);
  EXPECT_EQ(r.failure, Failure::kGreetingTimeout);
  EXPECT_EQ(r.failure_phase, Phase::kGreeting);
  EXPECT_GE(r.phase_seconds[static_cast<int>(Phase::kGreeting)], 0.25);
  EXPECT_LT(r.duration_seconds, 2.5);
}

TEST(EndpointProbeTest, RejectingGreeting) {
  ScriptedServer server({{"", "554 5.7.1 go away\r\n"}}, 500);
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(r.failure, Failure::kRejected);
  EXPECT_EQ(r.failure_phase, Phase::kGreeting);
}

TEST(EndpointProbeTest, GarbageGreetingIsProtocolError) {
  ScriptedServer server({{"", "* OK IMAP4rev1 ready\r\n"}}, 500);
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(r.failure, Failure::kProtocolError);
}

TEST(EndpointProbeTest, EndlessLineIsBounded) {
  ScriptedServer server({{"", "220 " + std::string(100000, 'a')}}, 500);
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(r.failure, Failure::kProtocolError);
}

TEST(EndpointProbeTest, ConnectRefused) {
  int port = testing::UnusedLoopbackPort();
  EndpointReport r = Probe(config::Service::kSmtp, port, std::chrono::seconds(5));
  EXPECT_EQ(r.failure, Failure::kConnectRefused);
  EXPECT_EQ(r.failure_phase, Phase::kConnect);
  EXPECT_EQ(r.ip, "127.0.0.1");
}

TEST(EndpointProbeTest, ImplicitTlsPortSpeakingPlaintextFailsInHandshake) {
  ScriptedServer server({{"", "220 mx.test ESMTP\r\n"}}, 1000);
  EndpointReport r = Probe(config::Service::kSubmissions, server.port(), std::chrono::seconds(3));
  EXPECT_EQ(r.failure, Failure::kWrongTlsMode);
  EXPECT_EQ(r.failure_phase, Phase::kHandshake);
}

TEST(EndpointProbeTest, ServerWithoutEsmtpFallsBackToHelo) {
  ScriptedServer server({{"", "220 old.test SMTP\r\n"},
                         {"EHLO probe.test", "502 5.5.2 command not recognized\r\n"},
                         {"HELO probe.test", "250 old.test\r\n"},
                         {"QUIT", "221 bye\r\n"}});
  EndpointReport r = Probe(config::Service::kSmtp, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(server.error(), "");
  EXPECT_TRUE(Has(r, Signal::kStartTlsMissing));
  EXPECT_EQ(r.failure, Failure::kStartTlsRefused);
}

TEST(EndpointProbeTest, ImapPreauthIsAStartTlsFailure) {
  ScriptedServer server({{"", "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"},
                         {"a1 CAPABILITY", "* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n"},
                         {"a2 LOGOUT", "* BYE bye\r\na2 OK done\r\n"}});
  EndpointReport r = Probe(config::Service::kImap, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(server.error(), "");
  EXPECT_TRUE(r.preauth);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure, Failure::kStartTlsRefused);
  EXPECT_EQ(r.failure_phase, Phase::kStartTls);
}

TEST(EndpointProbeTest, Pop3WithoutStlsOffersUserInPlaintext) {
  ScriptedServer server({{"", "+OK ready\r\n"},
                         {"CAPA", "+OK\r\nTOP\r\nUSER\r\nSASL PLAIN\r\n.\r\n"},
                         {"QUIT", "+OK bye\r\n"}});
  EndpointReport r = Probe(config::Service::kPop3, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(server.error(), "");
  EXPECT_TRUE(Has(r, Signal::kStartTlsMissing));
  EXPECT_TRUE(Has(r, Signal::kPlaintextAuth));
  EXPECT_EQ(r.auth_mechanisms, std::vector<std::string>{"PLAIN"});
}

TEST(EndpointProbeTest, SieveStartTlsRefused) {
  ScriptedServer server({{"", "\"IMPLEMENTATION\" \"x\"\r\n\"STARTTLS\"\r\nOK \"ready\"\r\n"},
                         {"STARTTLS", "NO \"not now\"\r\n"},
                         {"LOGOUT", "OK \"bye\"\r\n"}});
  EndpointReport r = Probe(config::Service::kSieve, server.port(), std::chrono::seconds(5));
  EXPECT_EQ(server.error(), "");
  EXPECT_TRUE(r.starttls_offered);
  EXPECT_TRUE(Has(r, Signal::kStartTlsRejected));
}

}  // namespace
}  // namespace mailsec::probe

namespace mailsec::probe {
namespace {

TargetResult ProbeTarget(config::EndpointTarget t, std::shared_ptr<dns::Resolver> resolver) {
  ProbeOptions o;
  o.helo_name = "probe.test";
  o.timeout = std::chrono::seconds(5);
  auto tls = tls::TlsContext::Create("");
  EXPECT_TRUE(tls.ok()) << tls.status().ToString();
  o.tls = *tls;
  o.resolver = std::move(resolver);
  asio::io_context io;
  TargetResult out;
  asio::co_spawn(asio::make_strand(io), ProbeEndpointTarget(t, o),
                 [&out](std::exception_ptr ep, TargetResult r) {
                   EXPECT_FALSE(ep);
                   out = std::move(r);
                 });
  io.run();
  return out;
}

// Host names go through the configured resolver (c-ares in production), never getaddrinfo.
TEST(EndpointResolveTest, HostNameIsResolvedThroughTheResolver) {
  ScriptedServer server({{"", "220 mx.test ESMTP\r\n"},
                         {"EHLO probe.test", "250-mx.test\r\n250 8BITMIME\r\n"},
                         {"QUIT", "221 bye\r\n"}});
  auto resolver = std::make_shared<testing::FakeResolver>();
  resolver->A("mx.example.test", {127, 0, 0, 1});
  config::EndpointTarget t;
  t.service = config::Service::kSmtp;
  t.host = "mx.example.test";
  t.port = static_cast<uint16_t>(server.port());
  TargetResult r = ProbeTarget(t, resolver);
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(r.endpoints[0].ip, "127.0.0.1");
  EXPECT_EQ(r.endpoints[0].greeting, "mx.test ESMTP");
  // A, AAAA, then TLSA at _PORT._tcp.HOST (none: looked up, not present).
  EXPECT_EQ(resolver->queries(), 3);
  EXPECT_TRUE(r.endpoints[0].dane.looked_up);
  EXPECT_FALSE(r.endpoints[0].dane.tlsa_present);
}

TEST(EndpointResolveTest, UnknownHostIsAResolveFailure) {
  auto resolver = std::make_shared<testing::FakeResolver>();
  config::EndpointTarget t;
  t.service = config::Service::kImaps;
  t.host = "nowhere.example.test";
  t.port = 993;
  TargetResult r = ProbeTarget(t, resolver);
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(r.endpoints[0].failure, Failure::kResolve);
  EXPECT_EQ(r.endpoints[0].ip, "");
  EXPECT_EQ(r.endpoints[0].error, "resolve: A nxdomain, AAAA nxdomain");
  EXPECT_FALSE(r.endpoints[0].dane.looked_up);

  resolver->FailEverything(dns::Outcome::kTimeout);
  r = ProbeTarget(t, resolver);
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(r.endpoints[0].error, "resolve: A timeout, AAAA timeout");
}

TEST(EndpointResolveTest, LocalhostNeedsNoDns) {
  auto resolver = std::make_shared<testing::FakeResolver>();
  resolver->FailEverything(dns::Outcome::kServFail);
  config::EndpointTarget t;
  t.service = config::Service::kSmtp;
  t.host = "localhost";
  t.port = static_cast<uint16_t>(testing::UnusedLoopbackPort());
  TargetResult r = ProbeTarget(t, resolver);
  ASSERT_GE(r.endpoints.size(), 1u);
  EXPECT_EQ(r.endpoints[0].ip, "127.0.0.1");
  EXPECT_EQ(r.endpoints[0].failure, Failure::kConnectRefused);
}

}  // namespace
}  // namespace mailsec::probe
