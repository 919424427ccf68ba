// The MTA-STS policy fetch against HTTPS servers on 127.0.0.1 with a throw-away PKI made
// in-process: statuses, redirects, certificate failures (including the names cpp-httplib 0.11.4
// alone would wrongly accept), the size cap, and deadlines against silent and trickling peers.
#include "testing/http_test_server.h"
#include "testing/silent_listener.h"
#include "mailsec/probe/policy_fetch.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "testing/scripted_server.h"

namespace mailsec::probe {
namespace {

using checks::PolicyFetch;
using checks::PolicyFetchOutcome;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr char kDomain[] = "example.test";
constexpr char kPolicyHost[] = "mta-sts.example.test";
constexpr char kPath[] = "/.well-known/mta-sts.txt";
constexpr char kPolicy[] =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 604800\r\n";

// --- A throw-away PKI ---------------------------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

struct CertSpec {
  std::string cn;
  std::string san;  // OpenSSL config syntax, e.g. "DNS:a.test,DNS:b.test"; empty: none
  long not_before_days = -1;
  long not_after_days = 30;
  bool ca = false;
};

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

Pkey NewKey() { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

// Signed by (issuer, issuer_key), or self-signed when issuer is null.
Cert MakeCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  static long serial = 1;
  Cert cert(X509_new());
  X509* c = cert.get();
  bool ok = X509_set_version(c, 2) == 1 && ASN1_INTEGER_set(X509_get_serialNumber(c), serial++) &&
            X509_gmtime_adj(X509_getm_notBefore(c), spec.not_before_days * 86400) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(c), spec.not_after_days * 86400) != nullptr &&
            X509_set_pubkey(c, key) == 1;
  X509_NAME* name = X509_get_subject_name(c);
  ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1,
                                        -1, 0) == 1;
  X509* signer = issuer != nullptr ? issuer : c;
  ok = ok && X509_set_issuer_name(c, X509_get_subject_name(signer)) == 1;
  if (spec.ca) {
    ok = ok && AddExt(c, signer, NID_basic_constraints, "critical,CA:TRUE") &&
         AddExt(c, signer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         AddExt(c, signer, NID_subject_key_identifier, "hash");
  } else {
    ok = ok && AddExt(c, signer, NID_basic_constraints, "CA:FALSE") &&
         AddExt(c, signer, NID_ext_key_usage, "serverAuth");
    if (!spec.san.empty()) ok = ok && AddExt(c, signer, NID_subject_alt_name, spec.san);
  }
  ok = ok && X509_sign(c, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0;
  if (!ok) return nullptr;
  return cert;
}

bool WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = cert != nullptr
                      ? PEM_write_X509(f, cert) == 1
                      : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  return std::fclose(f) == 0 && ok;
}

struct Pki {
  std::filesystem::path dir;
  std::string ca;  // the trust anchor's PEM
  // "<dir>/<name>.pem" and "<dir>/<name>.key" for every leaf below.
  std::string Cert(const std::string& name) const { return (dir / (name + ".pem")).string(); }
  std::string Key(const std::string& name) const { return (dir / (name + ".key")).string(); }
};

// Leaves: good, wildcard (*.example.test), wrong (wrong.example.test), expired, self (self-signed
// for the right name), cn_only (SAN wrong.example.test, CN the right name), any_wildcard
// (*.*.test).
bool MakePki(Pki* pki) {
  char tmpl[] = "/tmp/policy_fetch_test_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return false;
  pki->dir = tmpl;
  pki->ca = (pki->dir / "ca.pem").string();
  Pkey ca_key = NewKey();
  if (!ca_key) return false;
  CertSpec ca_spec;
  ca_spec.cn = "mailsec test CA";
  ca_spec.ca = true;
  Cert ca = MakeCert(ca_spec, ca_key.get(), nullptr, nullptr);
  if (!ca || !WritePem(pki->ca, ca.get(), nullptr)) return false;

  struct Leaf {
    const char* name;
    CertSpec spec;
    bool self_signed;
  };
  const Leaf leaves[] = {
      {"good", {kPolicyHost, std::string("DNS:") + kPolicyHost}, false},
      {"wildcard", {"*.example.test", "DNS:*.example.test"}, false},
      {"wrong", {"wrong.example.test", "DNS:wrong.example.test"}, false},
      {"expired", {kPolicyHost, std::string("DNS:") + kPolicyHost, -10, -1}, false},
      {"self", {kPolicyHost, std::string("DNS:") + kPolicyHost}, true},
      {"cn_only", {kPolicyHost, "DNS:wrong.example.test"}, false},
      {"any_wildcard", {"*.*.test", "DNS:*.*.test"}, false},
  };
  for (const Leaf& leaf : leaves) {
    Pkey key = NewKey();
    if (!key) return false;
    Cert cert = leaf.self_signed ? MakeCert(leaf.spec, key.get(), nullptr, nullptr)
                                 : MakeCert(leaf.spec, key.get(), ca.get(), ca_key.get());
    if (!cert || !WritePem(pki->Cert(leaf.name), cert.get(), nullptr) ||
        !WritePem(pki->Key(leaf.name), nullptr, key.get())) {
      return false;
    }
  }
  return true;
}

// --- Servers ------------------------------------------------------------------------------------

// An httplib HTTPS server on `bind` (a 127/8 address), serving `handler` at the policy path, on
// its own thread. Port 0: any free port.
class PolicyServer {
 public:
  PolicyServer(const Pki& pki, const std::string& leaf, httplib::Server::Handler handler,
               const std::string& bind = "127.0.0.1", uint16_t port = 0)
      : server_(pki.Cert(leaf).c_str(), pki.Key(leaf).c_str()) {
    EXPECT_TRUE(server_.is_valid());
    server_.set_keep_alive_timeout(1);
    server_.set_read_timeout(2, 0);
    server_.set_write_timeout(2, 0);
    server_.Get(kPath, std::move(handler));
    if (port == 0) {
      port_ = server_.bind_to_any_port(bind);
    } else if (server_.bind_to_port(bind, port)) {
      port_ = port;
    }
    EXPECT_GT(port_, 0);
    thread_ = testing::ListenInBackground(server_);
  }
  ~PolicyServer() {
    server_.stop();
    thread_.join();
  }
  uint16_t port() const { return static_cast<uint16_t>(port_); }

 private:
  httplib::SSLServer server_;
  int port_ = -1;
  std::thread thread_;
};

// A TLS server (plain OpenSSL) that completes the handshake with the good certificate, reads
// the request, then sends a status line and one header line every 100 ms, never ending the
// headers. Stops at the first failed write or after 10 s.
class HeaderTrickleServer {
 public:
  explicit HeaderTrickleServer(const Pki& pki) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx_, pki.Cert("good").c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, pki.Key("good").c_str(), SSL_FILETYPE_PEM), 1);
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~HeaderTrickleServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
    SSL_CTX_free(ctx_);
  }
  uint16_t port() const { return port_; }

 private:
  void Run() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return;
    const int conn = accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    timeval tv{5, 0};
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, conn);
    char buf[4096];
    if (SSL_accept(ssl) == 1 && SSL_read(ssl, buf, sizeof(buf)) > 0) {
      std::string line = "HTTP/1.1 200 OK\r\n";
      for (int i = 0; i < 100 && !stop_; ++i) {
        if (SSL_write(ssl, line.data(), static_cast<int>(line.size())) <= 0) break;
        line = "X-Trickle-" + std::to_string(i) + ": x\r\n";
        std::this_thread::sleep_for(milliseconds(100));
      }
    }
    SSL_free(ssl);
    close(conn);
  }

  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

using testing::SilentListener;

// --- Fixture ------------------------------------------------------------------------------------

class PolicyFetchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::signal(SIGPIPE, SIG_IGN);  // as main() does: a peer that hangs up must not kill us
    pki_ = new Pki;
    pki_ok_ = MakePki(pki_);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    if (!pki_->dir.empty()) std::filesystem::remove_all(pki_->dir, ec);
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(pki_ok_) << "test PKI generation failed"; }

  static PolicyFetchOptions Options(uint16_t port, milliseconds timeout = milliseconds(5000)) {
    PolicyFetchOptions o;
    o.ca_file = pki_->ca;
    o.port = port;
    o.timeout = timeout;
    return o;
  }

  static PolicyFetch Fetch(uint16_t port, std::vector<std::string> addresses = {"127.0.0.1"},
                           milliseconds timeout = milliseconds(5000)) {
    return FetchMtaStsPolicyBlocking(kDomain, addresses, Options(port, timeout));
  }

  static httplib::Server::Handler Serve(std::string body, std::string type = "text/plain") {
    return [body = std::move(body), type = std::move(type)](const httplib::Request&,
                                                            httplib::Response& res) {
      res.set_content(body, type.c_str());
    };
  }

  static Pki* pki_;
  static bool pki_ok_;
};

Pki* PolicyFetchTest::pki_ = nullptr;
bool PolicyFetchTest::pki_ok_ = false;

// --- Responses ----------------------------------------------------------------------------------

TEST_F(PolicyFetchTest, Ok200ReturnsBodyAndContentType) {
  std::mutex mu;
  std::string host_seen;
  std::string path_seen;
  PolicyServer server(*pki_, "good", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(mu);
      host_seen = req.get_header_value("Host");
      path_seen = req.path;
    }
    res.set_content(kPolicy, "text/plain; charset=utf-8");
  });
  PolicyFetch f = Fetch(server.port());
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(f.http_status, 200);
  EXPECT_EQ(f.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(f.body, kPolicy);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(host_seen, std::string(kPolicyHost) + ":" + std::to_string(server.port()));
  EXPECT_EQ(path_seen, kPath);
}

TEST_F(PolicyFetchTest, DomainIsLowerCasedAndTrailingDotDropped) {
  PolicyServer server(*pki_, "good", Serve(kPolicy));
  PolicyFetch f = FetchMtaStsPolicyBlocking("Example.TEST.", {"127.0.0.1"}, Options(server.port()));
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(f.body, kPolicy);
}

TEST_F(PolicyFetchTest, OtherContentTypeIsCaptured) {
  PolicyServer server(*pki_, "good", Serve(kPolicy, "text/html"));
  PolicyFetch f = Fetch(server.port());
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(f.http_status, 200);
  EXPECT_EQ(f.content_type, "text/html");
}

TEST_F(PolicyFetchTest, NotFoundIsReturnedAsStatus) {
  PolicyServer server(*pki_, "good", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("no policy here", "text/plain");
  });
  PolicyFetch f = Fetch(server.port());
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(f.http_status, 404);
  EXPECT_EQ(f.content_type, "text/plain");
  EXPECT_EQ(f.body, "");  // only a 200 body is a policy
}

TEST_F(PolicyFetchTest, RedirectIsNotFollowed) {
  std::atomic<int> hits{0};
  PolicyServer server(*pki_, "good", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.set_redirect(kPath, 301);  // to itself: following it would show as a second hit
  });
  PolicyFetch f = Fetch(server.port());
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(f.http_status, 301);
  EXPECT_EQ(f.body, "");
  EXPECT_EQ(hits.load(), 1);
}

// --- Certificates -------------------------------------------------------------------------------

TEST_F(PolicyFetchTest, WildcardForThePolicyHostIsAccepted) {
  PolicyServer server(*pki_, "wildcard", Serve(kPolicy));
  PolicyFetch f = Fetch(server.port());
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(f.body, kPolicy);
}

TEST_F(PolicyFetchTest, WrongNameIsCertInvalid) {
  PolicyServer server(*pki_, "wrong", Serve(kPolicy));
  EXPECT_EQ(Fetch(server.port()).outcome, PolicyFetchOutcome::kCertInvalid);
}

// httplib 0.11.4's own check falls back to the subject CN even when subjectAltName has DNS names;
// RFC 8461 §3.3 wants the DNS-ID.
TEST_F(PolicyFetchTest, MatchingCnWithOtherSanIsCertInvalid) {
  PolicyServer server(*pki_, "cn_only", Serve(kPolicy));
  EXPECT_EQ(Fetch(server.port()).outcome, PolicyFetchOutcome::kCertInvalid);
}

// httplib 0.11.4's own check lets "*" match any label in any position.
TEST_F(PolicyFetchTest, WildcardBeyondTheLeftmostLabelIsCertInvalid) {
  PolicyServer server(*pki_, "any_wildcard", Serve(kPolicy));
  EXPECT_EQ(Fetch(server.port()).outcome, PolicyFetchOutcome::kCertInvalid);
}

TEST_F(PolicyFetchTest, SelfSignedIsCertInvalid) {
  PolicyServer server(*pki_, "self", Serve(kPolicy));
  EXPECT_EQ(Fetch(server.port()).outcome, PolicyFetchOutcome::kCertInvalid);
}

TEST_F(PolicyFetchTest, ExpiredIsCertInvalid) {
  PolicyServer server(*pki_, "expired", Serve(kPolicy));
  EXPECT_EQ(Fetch(server.port()).outcome, PolicyFetchOutcome::kCertInvalid);
}

TEST_F(PolicyFetchTest, SystemStoreDoesNotTrustTheTestCa) {
  PolicyServer server(*pki_, "good", Serve(kPolicy));
  PolicyFetchOptions o = Options(server.port());
  o.ca_file.clear();
  EXPECT_EQ(FetchMtaStsPolicyBlocking(kDomain, {"127.0.0.1"}, o).outcome,
            PolicyFetchOutcome::kCertInvalid);
}

TEST_F(PolicyFetchTest, UnreadableCaFileIsTlsFailed) {
  PolicyServer server(*pki_, "good", Serve(kPolicy));
  PolicyFetchOptions o = Options(server.port());
  o.ca_file = (pki_->dir / "missing.pem").string();
  EXPECT_EQ(FetchMtaStsPolicyBlocking(kDomain, {"127.0.0.1"}, o).outcome,
            PolicyFetchOutcome::kTlsFailed);
}

// --- Size cap -----------------------------------------------------------------------------------

TEST_F(PolicyFetchTest, BodyAtTheCapIsAccepted) {
  PolicyServer server(*pki_, "good", Serve(std::string(checks::kMaxMtaStsPolicyBytes, 'x')));
  PolicyFetch f = Fetch(server.port());
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(f.body.size(), checks::kMaxMtaStsPolicyBytes);
}

TEST_F(PolicyFetchTest, BodyOverTheCapIsTooLarge) {
  PolicyServer server(*pki_, "good", Serve(std::string(checks::kMaxMtaStsPolicyBytes + 1, 'x')));
  EXPECT_EQ(Fetch(server.port()).outcome, PolicyFetchOutcome::kTooLarge);
}

// Without Content-Length the receiver's count is what stops it.
TEST_F(PolicyFetchTest, ChunkedBodyOverTheCapIsTooLarge) {
  PolicyServer server(*pki_, "good", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
      if (offset > 4 * checks::kMaxMtaStsPolicyBytes) {
        sink.done();
        return true;
      }
      const std::string chunk(4096, 'x');
      return sink.write(chunk.data(), chunk.size());
    });
  });
  EXPECT_EQ(Fetch(server.port()).outcome, PolicyFetchOutcome::kTooLarge);
}

// --- Deadlines and transport failures -----------------------------------------------------------

TEST_F(PolicyFetchTest, SilentServerTimesOut) {
  SilentListener silent;
  const auto start = SteadyClock::now();
  PolicyFetch f = Fetch(silent.port(), {"127.0.0.1"}, milliseconds(1000));
  const auto took = SteadyClock::now() - start;
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kTimeout);
  EXPECT_GE(took, milliseconds(900));
  EXPECT_LT(took, milliseconds(3000));
}

TEST_F(PolicyFetchTest, BodyTrickleIsCutAtTheDeadline) {
  PolicyServer server(*pki_, "good", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(1000, "text/plain",
                             [](size_t offset, size_t, httplib::DataSink& sink) {
                               if (offset > 0) std::this_thread::sleep_for(milliseconds(100));
                               return sink.write("x", 1);
                             });
  });
  const auto start = SteadyClock::now();
  PolicyFetch f = Fetch(server.port(), {"127.0.0.1"}, milliseconds(1000));
  const auto took = SteadyClock::now() - start;
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kTimeout);
  EXPECT_LT(took, milliseconds(2000));
}

TEST_F(PolicyFetchTest, HeaderTrickleIsCutAtTheDeadline) {
  HeaderTrickleServer server(*pki_);
  const auto start = SteadyClock::now();
  PolicyFetch f = Fetch(server.port(), {"127.0.0.1"}, milliseconds(1000));
  const auto took = SteadyClock::now() - start;
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kTimeout);
  EXPECT_GE(took, milliseconds(900));
  EXPECT_LT(took, milliseconds(2000));
}

TEST_F(PolicyFetchTest, PlainHttpServerIsTlsFailed) {
  testing::ScriptedServer plain(std::vector<testing::Step>{
      {"", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\n"}});
  PolicyFetch f = Fetch(static_cast<uint16_t>(plain.port()));
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kTlsFailed);
}

TEST_F(PolicyFetchTest, RefusedIsConnectFailed) {
  const auto port = static_cast<uint16_t>(testing::UnusedLoopbackPort());
  EXPECT_EQ(Fetch(port).outcome, PolicyFetchOutcome::kConnectFailed);
}

TEST_F(PolicyFetchTest, NoAddressesIsNoHost) {
  EXPECT_EQ(Fetch(443, {}).outcome, PolicyFetchOutcome::kNoHost);
}

TEST_F(PolicyFetchTest, DomainThatIsNotAHostNameIsNoHost) {
  for (const char* bad : {"", ".", "a..b", "exa mple.test", "example.test\r\nX: y", "a/b.test"}) {
    EXPECT_EQ(FetchMtaStsPolicyBlocking(bad, {"127.0.0.1"}, Options(443)).outcome,
              PolicyFetchOutcome::kNoHost)
        << bad;
  }
}

// The server listens on 127.0.0.1 only; 127.0.0.2 on the same port refuses.
TEST_F(PolicyFetchTest, FirstAddressRefusedSecondServes) {
  PolicyServer server(*pki_, "good", Serve(kPolicy));
  PolicyFetch f = Fetch(server.port(), {"127.0.0.2", "127.0.0.1"});
  EXPECT_EQ(f.outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(f.body, kPolicy);
}

TEST_F(PolicyFetchTest, NonNumericAddressIsSkipped) {
  PolicyServer server(*pki_, "good", Serve(kPolicy));
  EXPECT_EQ(Fetch(server.port(), {"localhost", "127.0.0.1"}).outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(Fetch(server.port(), {"localhost"}).outcome, PolicyFetchOutcome::kConnectFailed);
}

// Once a connection is made its result is final: a bad certificate on the first address is not
// retried on the second, which would serve a good one.
TEST_F(PolicyFetchTest, TlsFailureIsNotRetriedOnTheNextAddress) {
  PolicyServer bad(*pki_, "wrong", Serve(kPolicy));
  PolicyServer good(*pki_, "good", Serve(kPolicy), "127.0.0.2", bad.port());
  ASSERT_EQ(Fetch(bad.port(), {"127.0.0.2"}).outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(Fetch(bad.port(), {"127.0.0.1", "127.0.0.2"}).outcome,
            PolicyFetchOutcome::kCertInvalid);
}

// --- Awaitable form -----------------------------------------------------------------------------

TEST_F(PolicyFetchTest, AwaitableRunsOnThePoolAndResumesOnItsExecutor) {
  PolicyServer server(*pki_, "good", Serve(kPolicy));
  asio::thread_pool pool(1);
  asio::io_context io;
  std::optional<PolicyFetch> out;
  bool resumed_on_io = false;
  const auto io_thread = std::this_thread::get_id();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::vector<std::string> addresses = {"127.0.0.1"};
        PolicyFetch f = co_await FetchMtaStsPolicy(std::string(kDomain), std::move(addresses),
                                                   Options(server.port()), pool);
        resumed_on_io = std::this_thread::get_id() == io_thread;
        out = std::move(f);
      },
      [](std::exception_ptr ep) { EXPECT_FALSE(ep); });
  io.run_for(std::chrono::seconds(10));
  pool.join();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->outcome, PolicyFetchOutcome::kOk);
  EXPECT_EQ(out->body, kPolicy);
  EXPECT_TRUE(resumed_on_io);
}

}  // namespace
}  // namespace mailsec::probe
