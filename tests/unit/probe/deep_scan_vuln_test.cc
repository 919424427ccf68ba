// The deep scan's Heartbleed (TLSF-07) and CCS injection (TLSF-08) probes against scripted
// servers: a relay to `openssl s_server` (so that the version and suite probes see a real TLS 1.2
// server) that answers the probes' hand-built hellos and records the way a vulnerable or a
// patched OpenSSL 1.0.1 did. Loopback only; every wait is bounded.
#include "deep_scan_fixture.h"

namespace mailsec::probe::scan_testing {
namespace {

// How the relay answers the two probes.
struct VulnScript {
  // A hello offering the heartbeat extension: kRelay leaves it to s_server (which ignores the
  // extension); otherwise a scripted flight echoing it, and then the heartbeat request is
  // answered with 16 KB of "memory" (kLeak), dropped (kDrop) or answered with an alert (kAlert).
  enum class Heartbeat : uint8_t { kRelay, kLeak, kDrop, kAlert } heartbeat = Heartbeat::kRelay;
  // A ChangeCipherSpec as the client's first record after a TLS 1.2 hello: kRelay forwards it
  // (s_server answers unexpected_message); kBadMac is silent on the first and answers the second
  // with bad_record_mac, kDecryptFailed with decryption_failed (a vulnerable server); kSilent
  // never answers; kAlert10 answers the first with unexpected_message and closes.
  enum class Ccs : uint8_t { kRelay, kBadMac, kDecryptFailed, kSilent, kAlert10 } ccs = Ccs::kRelay;
};

// The filler of the leaked "memory": it must never show up in a report.
constexpr char kSecret[] = "SECRET-KEY-MATERIAL!";

struct ClientHelloFacts {
  uint16_t version = 0;
  uint16_t first_suite = 0;
  bool heartbeat = false;           // extension 0x000f offered
  bool supported_versions = false;  // extension 0x002b offered (a TLS 1.3 capable client)
};

// Reads the extensions of a whole ClientHello record; every index checked against the size.
ClientHelloFacts ReadClientHello(const std::string& in) {
  ClientHelloFacts f;
  size_t at = 5 + 4;
  if (in.size() < at + 2 + 32 + 1) return f;
  f.version = U16At(in, at);
  at += 2 + 32;
  at += 1 + static_cast<uint8_t>(in[at]);
  if (at + 2 > in.size()) return f;
  const size_t suites_len = U16At(in, at);
  if (suites_len >= 2 && at + 4 <= in.size()) f.first_suite = U16At(in, at + 2);
  at += 2 + suites_len;
  if (at >= in.size()) return f;
  at += 1 + static_cast<uint8_t>(in[at]);  // compression methods
  if (at + 2 > in.size()) return f;
  const size_t end = std::min(in.size(), at + 2 + U16At(in, at));
  at += 2;
  for (int i = 0; i < 64 && at + 4 <= end; ++i) {
    const uint16_t type = U16At(in, at);
    f.heartbeat = f.heartbeat || type == 0x000f;
    f.supported_versions = f.supported_versions || type == 0x002b;
    at += 4 + U16At(in, at + 2);
  }
  return f;
}

// ServerHello (echoing heartbeat and renegotiation_info), a one-certificate Certificate, and
// ServerHelloDone, in one record.
std::string HeartbeatFlight(uint16_t version, uint16_t cipher) {
  const std::string ext = Bytes({0x00, 0x0f, 0, 1, 1, 0xff, 0x01, 0, 1, 0});
  std::string hello = Bytes({version >> 8, version & 0xff});
  hello.append(32, '\x33');
  hello += Bytes({0, cipher >> 8, cipher & 0xff, 0, 0, static_cast<int>(ext.size())}) + ext;
  std::string hs = Bytes({2, 0, 0, static_cast<int>(hello.size())}) + hello;
  const std::string cert(40, '\x30');  // not a certificate: the probe never reads it
  hs += Bytes({11, 0, 0, static_cast<int>(cert.size() + 6), 0, 0, static_cast<int>(cert.size() + 3),
               0, 0, static_cast<int>(cert.size())}) +
        cert;
  hs += Bytes({14, 0, 0, 0});
  return Bytes({22, version >> 8, version & 0xff, static_cast<int>(hs.size() >> 8),
                static_cast<int>(hs.size() & 0xff)}) +
         hs;
}

void Send(int fd, const std::string& s) { ::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

// Reads until the client closes (or the socket's 3 s receive timeout), at most 64 reads.
void DrainUntilClosed(int fd) {
  char sink[1024];
  for (int i = 0; i < 64 && ::read(fd, sink, sizeof sink) > 0; ++i) {
  }
}

// The Heartbleed side: the scripted flight, then the answer to the heartbeat request.
void ServeHeartbeat(int fd, const ClientHelloFacts& hello, VulnScript::Heartbeat mode) {
  Send(fd, HeartbeatFlight(hello.version, hello.first_suite));
  std::string request;
  if (!ReadN(fd, &request, 5) || request[0] != 24) return;
  if (mode == VulnScript::Heartbeat::kLeak) {
    // What OpenSSL 1.0.1f sent back: type 2, the claimed length, that many bytes from behind the
    // request, 16 bytes of padding; split in records of at most 2^14 bytes.
    std::string body = Bytes({2, 0x40, 0});
    while (body.size() < 3 + 0x4000 + 16) body += kSecret;
    body.resize(3 + 0x4000 + 16);
    for (size_t at = 0; at < body.size(); at += 0x4000) {
      const std::string part = body.substr(at, 0x4000);
      Send(fd, Bytes({24, 3, 3, static_cast<int>(part.size() >> 8),
                      static_cast<int>(part.size() & 0xff)}) +
                   part);
    }
  } else if (mode == VulnScript::Heartbeat::kAlert) {
    Send(fd, Bytes({21, 3, 3, 0, 2, 2, 10}));
    return;
  }
  DrainUntilClosed(fd);
}

// The CCS side, once the client's first record after the hello is a ChangeCipherSpec: the
// `first` bytes already read, the backend left waiting.
void ServeEarlyCcs(int fd, std::string first, VulnScript::Ccs mode) {
  if (mode == VulnScript::Ccs::kAlert10) {
    Send(fd, Bytes({21, 3, 3, 0, 2, 2, 10}));
    return;
  }
  // Both CCS records are 6 bytes; the second one is answered.
  if (ReadN(fd, &first, 12) && mode != VulnScript::Ccs::kSilent) {
    const int alert = mode == VulnScript::Ccs::kBadMac ? 20 : 21;
    Send(fd, Bytes({21, 3, 3, 0, 2, 2, alert}));
    return;
  }
  DrainUntilClosed(fd);
}

int ConnectLoopback(int port) {
  int up = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(up);
    return -1;
  }
  return up;
}

// Relays to s_server on `backend` (full handshakes complete), except what `script` answers.
void ServeVuln(int fd, int backend, VulnScript script) {
  std::string in;
  if (!ReadN(fd, &in, 5) || in[0] != 22 || !ReadN(fd, &in, 5 + U16At(in, 3))) return;
  const ClientHelloFacts hello = ReadClientHello(in);
  if (hello.heartbeat && script.heartbeat != VulnScript::Heartbeat::kRelay) {
    ServeHeartbeat(fd, hello, script.heartbeat);
    return;
  }
  const bool watch_ccs = script.ccs != VulnScript::Ccs::kRelay && !hello.supported_versions;
  int up = ConnectLoopback(backend);
  if (up < 0) return;
  Send(up, in);
  bool first_client_record = true;
  // Relay until either side closes; at most 5 s, every poll at most 200 ms.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() < until) {
    pollfd p[2] = {{fd, POLLIN, 0}, {up, POLLIN, 0}};
    if (::poll(p, 2, 200) <= 0) continue;
    for (int i = 0; i < 2 && !closed; ++i) {
      if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[8192];
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0) {
        closed = true;
        break;
      }
      if (i == 0 && first_client_record && watch_ccs && buf[0] == 20) {
        ServeEarlyCcs(fd, std::string(buf, static_cast<size_t>(n)), script.ccs);
        ::close(up);
        return;
      }
      if (i == 0) first_client_record = false;
      closed = ::send(p[1 - i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n;
    }
  }
  ::close(up);
}

// A TLS 1.2-only s_server with one suite: few connections for the suite probes.
std::vector<std::string> Tls12Backend() {
  return {"-no_tls1_3", "-no_tls1", "-no_tls1_1", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"};
}

ScanOptions VulnOptions() {
  ScanOptions o = TestOptions();
  o.vuln_wait = std::chrono::milliseconds(500);
  return o;
}

class DeepScanVulnTest : public DeepScanTest {
 protected:
  // A scan of a relay to a TLS 1.2 s_server answering the probes as `script` says.
  ScanResult ScanScripted(VulnScript script, int* connections = nullptr) {
    SServer backend(Tls12Backend());
    EXPECT_TRUE(backend.up());
    const int port = backend.port();
    FakeServer fake([port, script](int fd) { ServeVuln(fd, port, script); });
    ScanResult r = Scan(Target("submissions", fake.port()), VulnOptions());
    EXPECT_EQ(Version(r, "TLSv1.2"), true) << r.error;
    EXPECT_EQ(r.handshakes, fake.connections());
    if (connections != nullptr) *connections = fake.connections();
    return r;
  }
};

TEST_F(DeepScanVulnTest, OpenSslServerIsNotVulnerable) {
  SServer s(Tls12Backend());
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("submissions", s.port()), VulnOptions());
  ASSERT_EQ(Version(r, "TLSv1.2"), true) << r.error;
  // OpenSSL 3 has no heartbeat support: it ignores the extension.
  EXPECT_EQ(r.heartbleed, false) << r.error;
  EXPECT_EQ(r.heartbleed_detail, "no heartbeat extension (TLSv1.2)");
  EXPECT_EQ(VerdictOf(r, kScanHeartbleedCheck), CheckVerdict::kPass);
  // ... and refuses an early ChangeCipherSpec with unexpected_message.
  EXPECT_EQ(r.ccs_injection, false) << r.error;
  EXPECT_EQ(r.ccs_injection_detail, "the early ChangeCipherSpec got alert 10 (TLSv1.2)");
  EXPECT_EQ(VerdictOf(r, kScanCcsInjectionCheck), CheckVerdict::kPass);
}

TEST_F(DeepScanVulnTest, HeartbleedVulnerableServerFails) {
  ScanResult r = ScanScripted({.heartbeat = VulnScript::Heartbeat::kLeak});
  EXPECT_EQ(r.heartbleed, true) << r.error;
  EXPECT_EQ(VerdictOf(r, kScanHeartbleedCheck), CheckVerdict::kFail);
  EXPECT_NE(r.heartbleed_detail.find("a heartbeat response of 16384 bytes to a request of 19"),
            std::string::npos)
      << r.heartbleed_detail;
  // The leaked bytes are dropped unread: nothing of them anywhere in the report.
  for (const auto& f : r.findings) EXPECT_EQ(f.detail.find("SECRET"), std::string::npos);
  EXPECT_EQ(r.error.find("SECRET"), std::string::npos);
  // The relayed CCS probe meets s_server, which is not vulnerable.
  EXPECT_EQ(VerdictOf(r, kScanCcsInjectionCheck), CheckVerdict::kPass);
}

TEST_F(DeepScanVulnTest, PatchedHeartbeatServerPasses) {
  ScanResult r = ScanScripted({.heartbeat = VulnScript::Heartbeat::kDrop});
  EXPECT_EQ(r.heartbleed, false) << r.error;
  EXPECT_EQ(r.heartbleed_detail,
            "heartbeat extension, the bad request got no answer within 500 ms (TLSv1.2)");
  EXPECT_EQ(VerdictOf(r, kScanHeartbleedCheck), CheckVerdict::kPass);

  r = ScanScripted({.heartbeat = VulnScript::Heartbeat::kAlert});
  EXPECT_EQ(r.heartbleed, false) << r.error;
  EXPECT_EQ(r.heartbleed_detail, "heartbeat extension, the bad request got alert 10 (TLSv1.2)");
  EXPECT_EQ(VerdictOf(r, kScanHeartbleedCheck), CheckVerdict::kPass);
}

TEST_F(DeepScanVulnTest, ServerWithoutHeartbeatPasses) {
  // The relay leaves the heartbeat hello to s_server, which does not echo the extension.
  int with_probes = 0;
  ScanResult r = ScanScripted({}, &with_probes);
  EXPECT_EQ(r.heartbleed, false) << r.error;
  EXPECT_EQ(r.heartbleed_detail, "no heartbeat extension (TLSv1.2)");
  EXPECT_EQ(VerdictOf(r, kScanHeartbleedCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanCcsInjectionCheck), CheckVerdict::kPass);
}

TEST_F(DeepScanVulnTest, CcsInjectionVulnerableServerFails) {
  ScanResult r = ScanScripted({.ccs = VulnScript::Ccs::kBadMac});
  EXPECT_EQ(r.ccs_injection, true) << r.error;
  EXPECT_EQ(r.ccs_injection_detail,
            "the early ChangeCipherSpec was taken: the next one got alert 20 (bad_record_mac) "
            "(TLSv1.2)");
  EXPECT_EQ(VerdictOf(r, kScanCcsInjectionCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanHeartbleedCheck), CheckVerdict::kPass);

  r = ScanScripted({.ccs = VulnScript::Ccs::kDecryptFailed});
  EXPECT_EQ(r.ccs_injection, true) << r.error;
  EXPECT_NE(r.ccs_injection_detail.find("alert 21 (decryption_failed)"), std::string::npos);
  EXPECT_EQ(VerdictOf(r, kScanCcsInjectionCheck), CheckVerdict::kFail);
}

TEST_F(DeepScanVulnTest, CcsPatchedOrSilentServerPasses) {
  ScanResult r = ScanScripted({.ccs = VulnScript::Ccs::kAlert10});
  EXPECT_EQ(r.ccs_injection, false) << r.error;
  EXPECT_EQ(r.ccs_injection_detail, "the early ChangeCipherSpec got alert 10 (TLSv1.2)");
  EXPECT_EQ(VerdictOf(r, kScanCcsInjectionCheck), CheckVerdict::kPass);

  // Silent on both: testssl.sh's "not vulnerable (timed out)".
  r = ScanScripted({.ccs = VulnScript::Ccs::kSilent});
  EXPECT_EQ(r.ccs_injection, false) << r.error;
  EXPECT_EQ(r.ccs_injection_detail,
            "no answer within 500 ms after two early ChangeCipherSpec records (TLSv1.2)");
  EXPECT_EQ(VerdictOf(r, kScanCcsInjectionCheck), CheckVerdict::kPass);
}

TEST_F(DeepScanVulnTest, UntestedWithoutTls12OrConnections) {
  // TLS 1.3 only: neither probe applies, no series.
  SServer tls13({"-tls1_3"});
  ASSERT_TRUE(tls13.up());
  ScanResult r = Scan(Target("submissions", tls13.port()), VulnOptions());
  EXPECT_EQ(Version(r, "TLSv1.3"), true) << r.error;
  EXPECT_EQ(r.heartbleed, std::nullopt);
  EXPECT_EQ(r.ccs_injection, std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanHeartbleedCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanCcsInjectionCheck), std::nullopt);

  // The handshake cap reached before the probes: untested, no series.
  SServer s(Tls12Backend());
  ASSERT_TRUE(s.up());
  ScanOptions o = VulnOptions();
  o.max_handshakes = 8;
  r = Scan(Target("submissions", s.port()), o);
  EXPECT_EQ(r.handshakes, 8);
  EXPECT_EQ(VerdictOf(r, kScanHeartbleedCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanCcsInjectionCheck), std::nullopt);
}

TEST_F(DeepScanVulnTest, ScriptedSsl3ServerGetsOnlyTheCcsProbe) {
  // SSLv3 only (ServeLegacyHello): no heartbeat extension to offer; the CCS probe's SSLv3 hello
  // gets a ServerHello without ServerHelloDone and then the close: untested.
  FakeServer fake([](int fd) { ServeLegacyHello(fd, {0x002F}, false); });
  ScanResult r = Scan(Target("submissions", fake.port()), VulnOptions());
  EXPECT_EQ(Version(r, "SSLv3"), true);
  EXPECT_EQ(r.heartbleed, std::nullopt);
  EXPECT_EQ(r.ccs_injection, std::nullopt);
  EXPECT_NE(r.error.find("CCS injection probe (SSLv3): closed before ServerHelloDone"),
            std::string::npos)
      << r.error;
  EXPECT_EQ(r.handshakes, fake.connections());
}

}  // namespace
}  // namespace mailsec::probe::scan_testing
