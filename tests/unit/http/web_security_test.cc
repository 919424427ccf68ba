// The protected web front: HTTPS with TLS 1.2 at least, bcrypt basic auth on every path, and
// the cap on concurrent /probe requests. Servers on 127.0.0.1 only; every wait is bounded.
#include <crypt.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "mailsec/http/server.h"

namespace mailsec::http {
namespace {

// A bcrypt hash of `password` at the lowest cost (fast tests).
std::string Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  const char* out = crypt_rn(password.c_str(), salt, &data, sizeof data);
  EXPECT_NE(out, nullptr);
  return out == nullptr ? "" : out;
}

TEST(BasicAuthTest, ParsesRfc7617Credentials) {
  std::string user;
  std::string password;
  // "prom:s3cr:et" -> the password may contain ':'
  ASSERT_TRUE(ParseBasicAuth("Basic cHJvbTpzM2NyOmV0", &user, &password));
  EXPECT_EQ(user, "prom");
  EXPECT_EQ(password, "s3cr:et");
  ASSERT_TRUE(ParseBasicAuth("basic  YTo=", &user, &password));  // "a:" with an empty password
  EXPECT_EQ(user, "a");
  EXPECT_EQ(password, "");
  for (const char* bad : {"", "Basic", "Basic ", "Bearer cHJvbTpw", "Basic cHJvbQ==" /* no ':' */,
                          "Basic cHJvbTp", "Basic ====", "Basic cH=vbTpw", "Basic cHJv*Tpw"}) {
    EXPECT_FALSE(ParseBasicAuth(bad, &user, &password)) << bad;
  }
  EXPECT_FALSE(ParseBasicAuth("Basic " + std::string(2000, 'A'), &user, &password));
}

TEST(BasicAuthTest, BcryptMatchesOnlyTheRightPassword) {
  const std::string hash = Bcrypt("correct horse");
  ASSERT_EQ(hash.size(), 60u);
  EXPECT_TRUE(BcryptMatches("correct horse", hash));
  EXPECT_FALSE(BcryptMatches("correct hors", hash));
  EXPECT_FALSE(BcryptMatches("", hash));
  EXPECT_FALSE(BcryptMatches("correct horse", "not a hash"));
  EXPECT_FALSE(BcryptMatches(std::string("correct horse\0x", 15), hash));
}

class ProtectedServerTest : public ::testing::Test {
 protected:
  void Start(const ServerOptions& base) {
    Handlers h;
    h.metrics = [] { return std::string("mailsec_up 1\n"); };
    h.probe = [this](const std::string&, bool, double) {
      std::unique_lock<std::mutex> lock(mu_);
      ++probing_;
      cv_.notify_all();
      // Bounded: released by the test, or after 5 s.
      cv_.wait_for(lock, std::chrono::seconds(5), [this] { return release_; });
      --probing_;
      return ProbeReply{200, "probe\n"};
    };
    h.status_page = [] { return std::string("<html></html>"); };
    h.ready = [] { return true; };
    h.reload = [] { return Status::Ok(); };
    h.basic_auth_users = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      return users_;
    };
    server_ = std::make_unique<Server>(h);
    ServerOptions o = base;
    o.listen_address = "127.0.0.1:0";
    Status s = server_->Start(o);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::unique_ptr<httplib::Client> Client(const std::string& user = "",
                                          const std::string& password = "") {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    c->set_connection_timeout(2);
    c->set_read_timeout(10);
    if (!user.empty()) c->set_basic_auth(user.c_str(), password.c_str());
    return c;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    release_ = true;
    cv_.notify_all();
  }

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::map<std::string, std::string> users_;
  int probing_ = 0;
  bool release_ = false;
  std::unique_ptr<Server> server_;
};

TEST_F(ProtectedServerTest, EveryPathNeedsTheCredentials) {
  users_ = {{"prom", Bcrypt("s3cret")}};
  release_ = true;
  ASSERT_NO_FATAL_FAILURE(Start({}));
  auto anonymous = Client();
  for (const char* path : {"/metrics", "/probe?target=smtp://a", "/", "/-/healthy", "/-/ready",
                           "/nope"}) {
    auto r = anonymous->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"),
              "Basic realm=\"mailsec_exporter\", charset=\"UTF-8\"");
    EXPECT_EQ(r->body.find("s3cret"), std::string::npos);
  }
  EXPECT_EQ(anonymous->Post("/-/reload")->status, 401);
  EXPECT_EQ(Client("prom", "wrong")->Get("/metrics")->status, 401);
  EXPECT_EQ(Client("nobody", "s3cret")->Get("/metrics")->status, 401);
  auto ok = Client("prom", "s3cret");
  for (int i = 0; i < 3; ++i) {  // verified once, then from the cache
    auto r = ok->Get("/metrics");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "mailsec_up 1\n");
  }
  EXPECT_EQ(ok->Get("/probe?target=smtp://a")->status, 200);
  EXPECT_EQ(ok->Get("/-/healthy")->status, 200);
}

TEST_F(ProtectedServerTest, ReloadReplacesTheUsers) {
  users_ = {{"old", Bcrypt("one")}};
  ASSERT_NO_FATAL_FAILURE(Start({}));
  EXPECT_EQ(Client("old", "one")->Get("/metrics")->status, 200);
  {
    std::lock_guard<std::mutex> lock(mu_);
    users_ = {{"new", Bcrypt("two")}};
  }
  EXPECT_EQ(Client("old", "one")->Post("/-/reload")->status, 200);
  EXPECT_EQ(Client("old", "one")->Get("/metrics")->status, 401) << "cached credentials survived";
  EXPECT_EQ(Client("new", "two")->Get("/metrics")->status, 200);
  server_->SetBasicAuthUsers({});
  EXPECT_EQ(Client()->Get("/metrics")->status, 200) << "no users: no authentication";
}

TEST_F(ProtectedServerTest, ConcurrentProbesBeyondTheCapGet503) {
  ServerOptions o;
  o.max_concurrent_probes = 2;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  std::atomic<int> ok{0};
  std::vector<std::thread> busy;
  for (int i = 0; i < 2; ++i) {
    busy.emplace_back([this, &ok] {
      auto r = Client()->Get("/probe?target=smtp://a");
      if (r && r->status == 200) ++ok;
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(5), [this] { return probing_ == 2; }));
  }
  auto third = Client()->Get("/probe?target=smtp://a");
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 503);
  EXPECT_EQ(Client()->Get("/metrics")->status, 200) << "scrapes are not held up";
  Release();
  for (auto& t : busy) t.join();
  EXPECT_EQ(ok.load(), 2);
  EXPECT_EQ(Client()->Get("/probe?target=smtp://a")->status, 200);
}

// HTTPS: a throwaway certificate from the openssl command line.
class HttpsServerTest : public ProtectedServerTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/web_tls_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                            "-nodes -subj /CN=localhost -days 2 -keyout " +
                            dir_ + "/key.pem -out " + dir_ + "/cert.pem 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  // A raw TLS handshake with at most `max_version`; true when it completes.
  bool Handshake(int max_version) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(server_->port()));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      ::close(fd);
      return false;
    }
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(ctx, 0);  // let the client offer TLS 1.0/1.1 at all
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    const bool ok = SSL_connect(ssl) == 1;
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
    return ok;
  }
  std::string dir_;
};

TEST_F(HttpsServerTest, ServesTls12AndLaterOnly) {
  ServerOptions o;
  o.tls_cert_file = dir_ + "/cert.pem";
  o.tls_key_file = dir_ + "/key.pem";
  users_ = {{"prom", Bcrypt("pw")}};
  ASSERT_NO_FATAL_FAILURE(Start(o));
  httplib::SSLClient tls("127.0.0.1", server_->port());
  tls.enable_server_certificate_verification(false);
  tls.set_connection_timeout(2);
  tls.set_read_timeout(5);
  auto r = tls.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  tls.set_basic_auth("prom", "pw");
  r = tls.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(Handshake(TLS1_2_VERSION));
  EXPECT_TRUE(Handshake(TLS1_3_VERSION));
  EXPECT_FALSE(Handshake(TLS1_1_VERSION));
  EXPECT_FALSE(Handshake(TLS1_VERSION));
  auto plain = Client("prom", "pw")->Get("/metrics");
  EXPECT_TRUE(!plain || plain->status != 200) << "plain HTTP on the HTTPS port";
}

TEST_F(HttpsServerTest, UnloadableFilesAreAStartError) {
  Handlers h;
  h.metrics = [] { return std::string(); };
  Server s(h);
  ServerOptions o;
  o.listen_address = "127.0.0.1:0";
  o.tls_cert_file = dir_ + "/missing.pem";
  o.tls_key_file = dir_ + "/key.pem";
  EXPECT_FALSE(s.Start(o).ok());
  o.tls_cert_file = dir_ + "/key.pem";  // a key is not a certificate
  EXPECT_FALSE(s.Start(o).ok());
  o.tls_cert_file = dir_ + "/cert.pem";
  o.tls_key_file.clear();
  EXPECT_FALSE(s.Start(o).ok());
}

}  // namespace
}  // namespace mailsec::http
