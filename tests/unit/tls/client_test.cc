// tls::Handshake and the transport it returns, against a TLS server on a thread of the test
// (OpenSSL, a self-signed P-256 certificate made here): how a peer's close, a reset, plaintext and
// silence come out. SIGPIPE keeps its default disposition in these tests: a write that raised it
// would kill the test binary.
#include "mailsec/tls/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "mailsec/net/transport.h"

namespace mailsec::tls {
namespace {

using Clock = std::chrono::steady_clock;

// A server context with a self-signed certificate for `key` (which it takes).
SSL_CTX* MakeServerContext(EVP_PKEY* key) {
  SSL_CTX* c = SSL_CTX_new(TLS_server_method());
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("client-test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  X509_sign(cert, key, EVP_PKEY_is_a(key, "ED25519") ? nullptr : EVP_sha256());  // EdDSA: none
  SSL_CTX_use_certificate(c, cert);
  SSL_CTX_use_PrivateKey(c, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return c;
}

// A self-signed P-256 server context, made once.
SSL_CTX* ServerContext() {
  static SSL_CTX* const ctx = MakeServerContext(EVP_EC_gen("P-256"));
  return ctx;
}

// Serves one connection on 127.0.0.1 with `serve` (given the accepted descriptor) on a thread;
// the accept waits 5 s at most.
class OneShotServer {
 public:
  explicit OneShotServer(std::function<void(int)> serve) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, serve = std::move(serve)] {
      // The server's own writes (OpenSSL's socket BIO writes with write(2), its session tickets
      // among them) may meet the client's close: SIGPIPE is blocked on this thread alone, so
      // they fail with EPIPE. The client's side, under test, keeps the default disposition.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      serve(c);
    });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// A TLS session on `fd` (blocking), or null; the caller frees it.
SSL* Accept(int fd) {
  SSL* ssl = SSL_new(ServerContext());
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  return ssl;
}

// Waits (5 s at most) until the client has closed its end or sent something.
void AwaitClient(int fd) {
  pollfd p{fd, POLLIN, 0};
  ::poll(&p, 1, 5000);
}

struct Outcome {
  Status handshake;
  TlsFacts facts;    // what the handshake found
  std::string read;  // what the reads got, until 0 or an error
  Status read_end;   // Ok after a read of 0 bytes, else the read's error
  Status write_end;  // the first failed write, Ok when every write succeeded
  int writes_ok = 0;
};

// Connects to 127.0.0.1:port, shakes hands by `deadline`, then reads until the end (at most 20
// reads) or writes 16 KB at a time (at most `writes` times) until a write fails; with `writes`
// below 0, one read first, then -writes writes.
// kCloseTcp: the TCP transport is closed under the TLS one before the reads. With `peer_gone`,
// the writes wait (5 s at most) until the server says it has closed its end: without that, a
// slow server thread lets all the writes into its receive queue before its reset.
constexpr int kCloseTcp = -1000;

// A client connection to 127.0.0.1:port once its handshake is over (or failed, as `status`
// says). The members are destroyed in reverse order: the TLS transport before the TCP one under it.
struct Connected {
  Status status;
  TlsFacts facts;
  std::shared_ptr<TlsContext> ctx;
  std::unique_ptr<net::TcpTransport> tcp;
  std::unique_ptr<net::Transport> tls;  // null unless the handshake succeeded
};

asio::awaitable<Connected> ConnectAndShakeHands(uint16_t port, Clock::time_point deadline) {
  Connected c;
  c.ctx = TlsContext::Create("").value();
  net::ConnectOutcome connected = co_await net::Connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), deadline, &c.tcp);
  if (connected.error != net::ConnectError::kNone) {
    c.status = Status::IoError("connect: " + connected.message);
    co_return c;
  }
  HandshakeRequest req;
  req.verify_host = "client-test";
  req.deadline = deadline;
  c.status = co_await Handshake(*c.ctx, *c.tcp, req, &c.facts, &c.tls);
  co_return c;
}

asio::awaitable<void> Client(uint16_t port, Clock::time_point deadline, int writes, Outcome* out,
                             const std::atomic<bool>* peer_gone) {
  Connected c = co_await ConnectAndShakeHands(port, deadline);
  out->handshake = c.status;
  out->facts = c.facts;
  if (!out->handshake.ok()) co_return;
  net::TcpTransport* const tcp = c.tcp.get();
  net::Transport* const tls = c.tls.get();
  const auto io_deadline = Clock::now() + std::chrono::seconds(5);
  if (writes == kCloseTcp) {
    tcp->Close();
    writes = 0;
  }
  if (writes < 0) {
    // A read first, as a dialogue waits for a reply: it takes the reset (ECONNRESET), so that
    // the writes after it meet a dead socket (EPIPE), as a QUIT after a failed read does.
    char first[256];
    Result<size_t> n = co_await tls->ReadSome(first, io_deadline);
    out->read_end = n.ok() ? Status::Ok() : n.status();
    writes = -writes;
  }
  if (writes > 0 && peer_gone != nullptr) {
    asio::steady_timer wait(co_await asio::this_coro::executor);
    for (int i = 0; i < 5000 && !peer_gone->load(); ++i) {
      wait.expires_after(std::chrono::milliseconds(1));
      co_await wait.async_wait(asio::use_awaitable);
    }
  }
  if (writes > 0) {
    const std::string chunk(16 * 1024, 'x');
    for (int i = 0; i < writes; ++i) {
      Status s = co_await tls->WriteAll(chunk, io_deadline);
      if (!s.ok()) {
        out->write_end = s;
        co_return;
      }
      ++out->writes_ok;
    }
    co_return;
  }
  char buf[256];
  for (int i = 0; i < 20; ++i) {
    Result<size_t> n = co_await tls->ReadSome(buf, io_deadline);
    if (!n.ok()) {
      out->read_end = n.status();
      co_return;
    }
    if (*n == 0) co_return;
    out->read.append(buf, *n);
  }
  out->read_end = Status::Internal("no end after 20 reads");
}

Outcome RunClient(uint16_t port, Clock::duration budget, int writes = 0,
                  const std::atomic<bool>* peer_gone = nullptr) {
  asio::io_context io;
  Outcome out;
  asio::co_spawn(io, Client(port, Clock::now() + budget, writes, &out, peer_gone), asio::detached);
  io.run_for(std::chrono::seconds(20));
  return out;
}

class SigpipeDefault : public ::testing::Test {
 protected:
  void SetUp() override { previous_ = std::signal(SIGPIPE, SIG_DFL); }
  void TearDown() override { std::signal(SIGPIPE, previous_); }

 private:
  void (*previous_)(int) = nullptr;
};

TEST_F(SigpipeDefault, ReadsToTheEndWithAndWithoutCloseNotify) {
  for (const bool notify : {true, false}) {
    OneShotServer server([notify](int fd) {
      if (SSL* ssl = Accept(fd)) {
        SSL_write(ssl, "220 hello\r\n", 11);
        if (notify) SSL_shutdown(ssl);
        SSL_free(ssl);
      }
      ::close(fd);  // without close_notify when !notify: a truncated stream
    });
    Outcome o = RunClient(server.port(), std::chrono::seconds(5));
    ASSERT_TRUE(o.handshake.ok()) << o.handshake.message();
    EXPECT_EQ(o.read, "220 hello\r\n") << notify;
    EXPECT_TRUE(o.read_end.ok()) << notify << ": " << o.read_end.message();
  }
}

// The kinds of key servers present (RSA, EC on a curve other than the key exchange's, Ed25519),
// over each version and key exchange: signature checks with RSA-PSS, PKCS#1 and ECDSA, ECDHE on
// X25519 and the NIST curves (one after a HelloRetryRequest), RSA key transport.
TEST_F(SigpipeDefault, HandshakesWithRsaEcAndEd25519KeysOverEachVersionAndKeyExchange) {
  static SSL_CTX* const rsa = MakeServerContext(EVP_RSA_gen(2048));
  static SSL_CTX* const ec = MakeServerContext(EVP_EC_gen("P-384"));
  static SSL_CTX* const ed = MakeServerContext(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  struct Case {
    SSL_CTX* server;
    int version;
    const char* groups;
    const char* ciphers;  // TLS 1.2 only
    const char* key_type;
    int key_bits;
    const char* group;
    bool rsa_key_exchange;
  };
  const Case cases[] = {
      {rsa, TLS1_3_VERSION, "X25519", nullptr, "RSA", 2048, "x25519", false},
      {rsa, TLS1_3_VERSION, "P-256", nullptr, "RSA", 2048, "secp256r1", false},  // after an HRR
      {rsa, TLS1_2_VERSION, "P-384", "ECDHE-RSA-AES128-GCM-SHA256", "RSA", 2048, "secp384r1",
       false},
      {rsa, TLS1_2_VERSION, "X25519", "AES128-GCM-SHA256", "RSA", 2048, "", true},
      {ec, TLS1_3_VERSION, "X25519", nullptr, "EC", 384, "x25519", false},
      {ec, TLS1_2_VERSION, "P-521", "ECDHE-ECDSA-AES256-GCM-SHA384", "EC", 384, "secp521r1", false},
      {ed, TLS1_3_VERSION, "P-256", nullptr, "ED25519", 256, "secp256r1", false},
  };
  for (const Case& c : cases) {
    const std::string name = std::string(c.key_type) + " " +
                             (c.version == TLS1_3_VERSION ? "TLSv1.3 " : "TLSv1.2 ") + c.groups;
    ASSERT_NE(c.server, nullptr) << name;
    OneShotServer server([&c](int fd) {
      SSL* ssl = SSL_new(c.server);
      SSL_set_min_proto_version(ssl, c.version);
      SSL_set_max_proto_version(ssl, c.version);
      SSL_set1_groups_list(ssl, c.groups);
      if (c.ciphers != nullptr) SSL_set_cipher_list(ssl, c.ciphers);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        SSL_write(ssl, "220 hello\r\n", 11);
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(fd);
    });
    Outcome o = RunClient(server.port(), std::chrono::seconds(5));
    ASSERT_TRUE(o.handshake.ok()) << name << ": " << o.handshake.message();
    EXPECT_EQ(o.read, "220 hello\r\n") << name;
    EXPECT_EQ(o.facts.version, c.version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2") << name;
    EXPECT_EQ(o.facts.group, c.group) << name;
    EXPECT_EQ(o.facts.rsa_key_exchange, c.rsa_key_exchange) << name;
    ASSERT_TRUE(o.facts.has_leaf) << name;
    EXPECT_EQ(o.facts.leaf->key_type, c.key_type) << name;
    EXPECT_EQ(o.facts.leaf->key_bits, c.key_bits) << name;
    if (c.server == ec) {
      EXPECT_EQ(o.facts.leaf->curve, "secp384r1") << name;
    }
    if (c.server == rsa) {
      EXPECT_EQ(o.facts.leaf->rsa_exponent, 65537u) << name;
    }
    EXPECT_TRUE(o.facts.leaf->self_signed) << name;
    EXPECT_EQ(o.facts.verify_result, "self_signed") << name;
  }
}

// Postfix's pattern after STARTTLS: a TLS 1.3 session ticket, then the EHLO reply, which its
// Nagle holds until the ticket is acknowledged. A TLS read that has taken the ticket and waits for
// the reply acknowledges it at once (net::AckNow), not when the client's delayed-ACK timer fires
// (40 ms and more). The server waits for that ACK (2 s at most) before it replies, and tells
// whether it came before the timer could have sent it; the client's socket is in delayed-ACK mode
// when its read begins. One of three tries must see it: a client stalled for 30 ms misses one.
asio::awaitable<void> RequestAndRead(uint16_t port, std::string* got) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  Connected c = co_await ConnectAndShakeHands(port, deadline);
  if (!c.status.ok()) co_return;
  net::TcpTransport* const tcp = c.tcp.get();
  net::Transport* const tls = c.tls.get();
  if (!(co_await tls->WriteAll("EHLO client.test\r\n", deadline)).ok()) co_return;
  const int zero = 0;
  ::setsockopt(tcp->socket().native_handle(), IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
  char buf[256];
  Result<size_t> n = co_await tls->ReadSome(buf, deadline);
  if (n.ok()) got->assign(buf, *n);
}

TEST_F(SigpipeDefault, AReadThatTookASessionTicketAcknowledgesItAtOnce) {
  int quick = 0;
  for (int attempt = 0; attempt < 3 && quick == 0; ++attempt) {
    std::atomic<int> acked_in_ms{-1};
    OneShotServer server([&acked_in_ms](int fd) {
      SSL* ssl = SSL_new(ServerContext());
      SSL_set_min_proto_version(ssl, TLS1_3_VERSION);
      SSL_set_num_tickets(ssl, 0);  // no tickets after the handshake: one after the request
      SSL_set_fd(ssl, fd);
      char request[64];
      if (SSL_accept(ssl) == 1 && SSL_read(ssl, request, sizeof request) > 0 &&
          SSL_new_session_ticket(ssl) == 1 && SSL_do_handshake(ssl) == 1) {
        const auto sent = Clock::now();
        for (int i = 0; i < 2000; ++i) {  // until the ticket is acknowledged, 2 s at most
          tcp_info info{};
          socklen_t len = sizeof info;
          if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 && info.tcpi_unacked == 0) {
            acked_in_ms = static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent).count());
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        SSL_write(ssl, "250 ok\r\n", 8);
        AwaitClient(fd);
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(fd);
    });
    asio::io_context io;
    std::string got;
    asio::co_spawn(io, RequestAndRead(server.port(), &got), asio::detached);
    io.run_for(std::chrono::seconds(20));
    EXPECT_EQ(got, "250 ok\r\n");
    const int ms = acked_in_ms.load();
    EXPECT_GE(ms, 0) << "the ticket was never acknowledged";
    if (ms >= 0 && ms < 30) ++quick;
  }
  EXPECT_EQ(quick, 1) << "the ticket waited for the client's delayed-ACK timer";
}

TEST_F(SigpipeDefault, WritesToAResetPeerFailWithoutSigpipe) {
  std::atomic<bool> gone{false};
  OneShotServer server([&gone](int fd) {
    if (SSL* ssl = Accept(fd)) SSL_free(ssl);
    linger l{1, 0};  // close with a reset
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
    gone = true;
  });
  Outcome o = RunClient(server.port(), std::chrono::seconds(5), 200, &gone);
  ASSERT_TRUE(o.handshake.ok()) << o.handshake.message();
  EXPECT_FALSE(o.write_end.ok()) << "200 writes of 16 KB to a reset peer all succeeded";
  EXPECT_EQ(o.write_end.code(), Status::Code::kIoError) << o.write_end.message();
  EXPECT_NE(o.write_end.message().find("TLS write"), std::string::npos) << o.write_end.message();
}

TEST_F(SigpipeDefault, WritesAfterAReadTookTheResetFailWithoutSigpipe) {
  OneShotServer server([](int fd) {
    if (SSL* ssl = Accept(fd)) SSL_free(ssl);
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
  });
  Outcome o = RunClient(server.port(), std::chrono::seconds(5), -20);
  ASSERT_TRUE(o.handshake.ok()) << o.handshake.message();
  EXPECT_FALSE(o.write_end.ok()) << "20 writes after a reset all succeeded";
}

TEST_F(SigpipeDefault, ReadAfterTheSocketClosedFailsAtOnce) {
  OneShotServer server([](int fd) {
    SSL* ssl = Accept(fd);
    AwaitClient(fd);  // until the client's close
    SSL_free(ssl);
    ::close(fd);
  });
  const auto t0 = Clock::now();
  Outcome o = RunClient(server.port(), std::chrono::seconds(5), kCloseTcp);
  ASSERT_TRUE(o.handshake.ok()) << o.handshake.message();
  EXPECT_EQ(o.read_end.code(), Status::Code::kIoError) << o.read_end.message();
  EXPECT_EQ(o.read, "");
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(4)) << "waited on a closed socket";
}

TEST_F(SigpipeDefault, PlaintextPeerDoesNotSpeakTls) {
  OneShotServer server([](int fd) {
    const char greeting[] = "220 plain.example ESMTP\r\n";
    (void)!::write(fd, greeting, sizeof greeting - 1);
    AwaitClient(fd);
    ::close(fd);
  });
  Outcome o = RunClient(server.port(), std::chrono::seconds(5));
  EXPECT_EQ(o.handshake.code(), Status::Code::kMalformed) << o.handshake.message();
  EXPECT_NE(o.handshake.message().find("does not speak TLS"), std::string::npos)
      << o.handshake.message();
}

TEST_F(SigpipeDefault, PeerClosingInTheHandshakeIsATruncatedStream) {
  OneShotServer server([](int fd) {
    char hello[512];
    (void)!::read(fd, hello, sizeof hello);  // the ClientHello, unanswered
    ::close(fd);
  });
  Outcome o = RunClient(server.port(), std::chrono::seconds(5));
  EXPECT_EQ(o.handshake.code(), Status::Code::kIoError) << o.handshake.message();
  EXPECT_NE(o.handshake.message().find("TLS handshake failed: stream truncated"), std::string::npos)
      << o.handshake.message();
}

TEST_F(SigpipeDefault, SilentPeerTimesOutAtTheDeadline) {
  OneShotServer server([](int fd) {
    // Reads the ClientHello and says nothing, until the client gives up and closes (5 s at most).
    const auto until = Clock::now() + std::chrono::seconds(5);
    char buf[512];
    while (Clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) == 1 && ::read(fd, buf, sizeof buf) <= 0) break;
    }
    ::close(fd);
  });
  const auto t0 = Clock::now();
  Outcome o = RunClient(server.port(), std::chrono::milliseconds(300));
  const auto took = Clock::now() - t0;
  EXPECT_EQ(o.handshake.code(), Status::Code::kTimeout) << o.handshake.message();
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(4));
}

}  // namespace
}  // namespace mailsec::tls
