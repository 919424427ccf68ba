// Hostile servers against the endpoint probe (issue "hardening"): each one must end in a probe
// that stays within its timeout, reads a bounded amount, and names the right failure. Servers run
// on 127.0.0.1 in a thread of this test; every loop of theirs is bounded in count and time.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "mailsec/probe/endpoint_probe.h"
#include "unit/probe/probe_once.h"
#include "testing/tls_smtp_server.h"

namespace mailsec::probe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(3);
// What a probe may take beyond its timeout (scheduling, closing sockets).
constexpr double kSlackSeconds = 1.0;

// Accepts one connection on 127.0.0.1 and hands it to `behave`, which must return within a few
// seconds (it is given a stop flag set when the test is done). Then closes it.
class RawServer {
 public:
  explicit RawServer(std::function<void(int fd, const std::atomic<bool>& stop)> behave)
      : behave_(std::move(behave)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::listen(fd_, 4);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~RawServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  size_t sent() const { return sent_.load(); }

  // Sends all of `data` unless the peer goes away; counts what was sent.
  bool Send(int fd, std::string_view data) {
    size_t off = 0;
    while (off < data.size() && !stop_) {
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
      sent_ += static_cast<size_t>(n);
    }
    return off == data.size();
  }

 private:
  void Run() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    timeval tv{5, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    behave_(c, stop_);
    ::close(c);
  }

  std::function<void(int, const std::atomic<bool>&)> behave_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> sent_{0};
  std::thread thread_;
};

// Reads up to a line from fd (bounded: 4 KiB, the socket's 5 s timeout).
std::string ReadLine(int fd) {
  std::string line;
  char c = 0;
  while (line.size() < 4096 && ::recv(fd, &c, 1, 0) == 1) {
    line += c;
    if (c == '\n') break;
  }
  return line;
}

EndpointReport Probe(config::Service service, int port) {
  return probe_test::ProbeOnce(service, port, kTimeout);
}

// The probe's own clock and the wall clock both stay within the timeout (plus slack).
#define EXPECT_BOUNDED(report, started)                                                    \
  do {                                                                                     \
    EXPECT_LE((report).duration_seconds, std::chrono::duration<double>(kTimeout).count() + \
                                             kSlackSeconds);                               \
    EXPECT_LE(std::chrono::duration<double>(Clock::now() - (started)).count(),             \
              std::chrono::duration<double>(kTimeout).count() + kSlackSeconds);            \
  } while (0)

TEST(HostileServerTest, GreetingAtOneBytePerSecondTimesOut) {
  RawServer server([&](int fd, const std::atomic<bool>& stop) {
    const std::string greeting = "220 slow.example ESMTP tarpit\r\n";
    // Bounded: at most 10 bytes, one per second, or until the probe hangs up.
    for (size_t i = 0; i < 10 && !stop; ++i) {
      if (::send(fd, greeting.data() + i, 1, MSG_NOSIGNAL) != 1) return;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  });
  const auto t0 = Clock::now();
  EndpointReport r = Probe(config::Service::kSmtp, server.port());
  EXPECT_BOUNDED(r, t0);
  EXPECT_EQ(r.failure, Failure::kGreetingTimeout) << r.error;
  EXPECT_EQ(r.failure_phase, Phase::kGreeting);
}

TEST(HostileServerTest, TenMegabyteCapabilityListIsCutShort) {
  RawServer* self = nullptr;
  RawServer server([&](int fd, const std::atomic<bool>&) {
    if (!self->Send(fd, "220 big.example ESMTP\r\n")) return;
    ReadLine(fd);  // EHLO
    const std::string line = "250-X" + std::string(994, 'A') + "\r\n";  // 1000 bytes
    // Bounded: 10 MB at most; stops when the probe hangs up.
    for (int i = 0; i < 10'000; ++i) {
      if (!self->Send(fd, line)) return;
    }
    self->Send(fd, "250 END\r\n");
  });
  self = &server;
  const auto t0 = Clock::now();
  EndpointReport r = Probe(config::Service::kSmtp, server.port());
  EXPECT_BOUNDED(r, t0);
  EXPECT_EQ(r.failure, Failure::kProtocolError) << r.error;
  EXPECT_EQ(r.failure_phase, Phase::kCapabilities);
  EXPECT_LT(r.capabilities.size(), 1000u);
}

TEST(HostileServerTest, ResetInTheMiddleOfTheHandshakeIsAHandshakeFailure) {
  RawServer server([&](int fd, const std::atomic<bool>&) {
    ::send(fd, "220 rst.example ESMTP\r\n", 23, MSG_NOSIGNAL);
    ReadLine(fd);
    const std::string caps = "250-rst.example\r\n250 STARTTLS\r\n";
    ::send(fd, caps.data(), caps.size(), MSG_NOSIGNAL);
    ReadLine(fd);
    ::send(fd, "220 go ahead\r\n", 14, MSG_NOSIGNAL);
    char hello[512];
    (void)::recv(fd, hello, sizeof hello, 0);  // part of the ClientHello
    linger l{1, 0};                            // close with RST
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  });
  const auto t0 = Clock::now();
  EndpointReport r = Probe(config::Service::kSmtp, server.port());
  EXPECT_BOUNDED(r, t0);
  EXPECT_EQ(r.failure_phase, Phase::kHandshake) << r.error;
  EXPECT_TRUE(r.failure == Failure::kHandshakeFailed || r.failure == Failure::kConnectionClosed)
      << FailureName(r.failure) << ": " << r.error;
  EXPECT_LT(r.duration_seconds, 2.0) << "a reset must not wait for the timeout";
}

TEST(HostileServerTest, GarbageAfterTheGoAheadIsAProtocolError) {
  RawServer server([&](int fd, const std::atomic<bool>&) {
    ::send(fd, "220 junk.example ESMTP\r\n", 24, MSG_NOSIGNAL);
    ReadLine(fd);
    const std::string caps = "250-junk.example\r\n250 STARTTLS\r\n";
    ::send(fd, caps.data(), caps.size(), MSG_NOSIGNAL);
    ReadLine(fd);
    ::send(fd, "220 go ahead\r\n", 14, MSG_NOSIGNAL);
    char hello[2048];
    (void)::recv(fd, hello, sizeof hello, 0);
    const std::string junk = "HTTP/1.1 400 Bad Request\r\n\r\nthis is not TLS at all\r\n";
    ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  });
  const auto t0 = Clock::now();
  EndpointReport r = Probe(config::Service::kSmtp, server.port());
  EXPECT_BOUNDED(r, t0);
  EXPECT_EQ(r.failure, Failure::kProtocolError) << FailureName(r.failure) << ": " << r.error;
  EXPECT_EQ(r.failure_phase, Phase::kHandshake);
  EXPECT_FALSE(r.tls.handshake_ok);
}

TEST(HostileServerTest, ServerThatNeverClosesStillEndsTheProbe) {
  RawServer server([&](int fd, const std::atomic<bool>& stop) {
    ::send(fd, "220 sticky.example ESMTP\r\n", 26, MSG_NOSIGNAL);
    ReadLine(fd);
    const std::string caps = "250-sticky.example\r\n250 PIPELINING\r\n";
    ::send(fd, caps.data(), caps.size(), MSG_NOSIGNAL);
    // Never answers QUIT, never closes: holds the connection until the test ends (bounded).
    for (int i = 0; i < 100 && !stop; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const auto t0 = Clock::now();
  EndpointReport r = Probe(config::Service::kSmtp, server.port());
  EXPECT_BOUNDED(r, t0);
  EXPECT_EQ(r.failure, Failure::kStartTlsRefused);  // no STARTTLS offered: that is the finding
  EXPECT_EQ(r.capabilities, (std::vector<std::string>{"PIPELINING"}));
}

TEST(HostileServerTest, HundredCertificateChainIsHandled) {
  char tmpl[] = "/tmp/hostile_chain.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string cmd = "timeout 20 openssl req -x509 -newkey ec -pkeyopt "
                          "ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 2 -keyout " +
                          dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  {
    std::ifstream in(dir + "/cert.pem");
    std::stringstream pem;
    pem << in.rdbuf();
    std::ofstream chain(dir + "/chain.pem");
    for (int i = 0; i < 100; ++i) chain << pem.str();  // the leaf and 99 more
  }
  {
    testing::TlsSmtpServer server("127.0.0.1", {.cert_file = dir + "/chain.pem",
                                                .key_file = dir + "/key.pem",
                                                .ehlo_after_tls = "250-big\r\n250 SIZE\r\n"});
    ASSERT_EQ(server.error(), "");
    const auto t0 = Clock::now();
    EndpointReport r = Probe(config::Service::kSmtp, server.port());
    EXPECT_BOUNDED(r, t0);
    EXPECT_TRUE(r.tls.handshake_ok) << r.error;
    EXPECT_TRUE(r.tls.has_leaf);
    EXPECT_EQ(r.tls.chain_length, 100);
    EXPECT_FALSE(r.tls.trusted);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mailsec::probe
