// Servers and helpers shared by the deep scan's unit tests (deep_scan*_test.cc): `openssl
// s_server` processes, a fake server thread answering connections with a function, canned
// records, a rewriting relay, a fake STARTTLS SMTP/IMAP server, and the scan runner. Loopback
// only (127.0.0.1); every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mailsec/probe/deep_scan.h"
#include "mailsec/tls/client.h"
#include "mailsec/tls/hello.h"
#include "testing/scripted_server.h"

namespace mailsec::probe::scan_testing {

using checks::CheckVerdict;

// A self-signed EC certificate in a temp dir, made once for the binary.
struct CertDir {
  std::string dir, cert, key, rsa_cert, rsa_key;
  CertDir() {
    char tmpl[] = "/tmp/deep_scan_test.XXXXXX";
    dir = ::mkdtemp(tmpl);
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    rsa_cert = dir + "/rsa_cert.pem";
    rsa_key = dir + "/rsa_key.pem";
    const std::string cmd =
        "timeout 20 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-subj /CN=localhost -days 2 -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    // RSA key transport suites (CIPH-03) need an RSA certificate.
    const std::string rsa =
        "timeout 20 openssl req -x509 -newkey rsa:2048 -nodes "
        "-subj /CN=localhost -days 2 -keyout " +
        rsa_key + " -out " + rsa_cert + " >/dev/null 2>&1";
    ok = std::system(cmd.c_str()) == 0 && std::system(rsa.c_str()) == 0;
  }
  ~CertDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  bool ok = false;
};

inline const CertDir& Certs() {
  static CertDir* d = new CertDir();  // removed at exit by the OS' tmp cleanup if leaked
  return *d;
}

inline bool WaitForPort(int port, int ms) {
  for (int waited = 0; waited < ms; waited += 50) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// `openssl s_server` on 127.0.0.1, forked and exec'd; killed by pid on destruction. Its stdin is
// a pipe we keep open (EOF on stdin would end its sessions).
class SServer {
 public:
  explicit SServer(std::vector<std::string> extra, bool rsa = false) {
    port_ = testing::UnusedLoopbackPort();
    int in[2];
    if (::pipe(in) != 0) return;
    std::vector<std::string> args = {"openssl", "s_server",
                                     "-accept", "127.0.0.1:" + std::to_string(port_),
                                     "-cert",   rsa ? Certs().rsa_cert : Certs().cert,
                                     "-key",    rsa ? Certs().rsa_key : Certs().key,
                                     "-quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::close(in[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("openssl", argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    stdin_ = in[1];
    up_ = pid_ > 0 && WaitForPort(port_, 5000);
  }
  ~SServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (::waitpid(pid_, &status, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
    if (stdin_ >= 0) ::close(stdin_);
  }
  int port() const { return port_; }
  bool up() const { return up_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int stdin_ = -1;
  bool up_ = false;
};

// A listening socket on 127.0.0.1 and a thread that serves connections one at a time with
// `serve(fd)` until stopped. Every accept waits at most 100 ms between checks of the stop flag.
class FakeServer {
 public:
  explicit FakeServer(std::function<void(int)> serve) : serve_(std::move(serve)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 8);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) != 1) continue;
        int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) continue;
        timeval tv{3, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        ++connections_;
        serve_(fd);
        ::close(fd);
      }
    });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  std::function<void(int)> serve_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

inline std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

inline std::string ServerHelloRecord(uint16_t version, uint16_t cipher) {
  std::string body = Bytes({version >> 8, version & 0xff});
  body.append(32, '\x33');
  body += Bytes({0, cipher >> 8, cipher & 0xff, 0});
  std::string hs = Bytes({2, 0, 0, static_cast<int>(body.size())}) + body;
  return Bytes({22, version >> 8, version & 0xff, 0, static_cast<int>(hs.size())}) + hs;
}

inline bool ReadN(int fd, std::string* out, size_t n) {
  while (out->size() < n) {
    char buf[4096];
    ssize_t got = ::read(fd, buf, std::min(sizeof buf, n - out->size()));
    if (got <= 0) return false;
    out->append(buf, static_cast<size_t>(got));
  }
  return true;
}

// Answers hand-built hellos like an SSLv3 server whose suites are `prefs` (in its order of
// preference), optionally an SSLv2 server too; every TLS hello gets protocol_version.
inline void ServeLegacyHello(int fd, std::vector<uint16_t> prefs, bool ssl2) {
  std::string in;
  if (!ReadN(fd, &in, 5)) return;
  if ((static_cast<uint8_t>(in[0]) & 0x80) != 0) {
    if (ssl2) {
      // SERVER-HELLO: no session hit, X509 cert type, version 2, a 1-byte "certificate", one
      // cipher kind (RC4_128_WITH_MD5), a 16-byte connection id.
      std::string body = Bytes({4, 0, 1, 0, 2, 0, 1, 0, 3, 0, 16, 0x30, 1, 0, 0x80});
      body.append(16, '\x44');
      std::string rec = Bytes({0x80, static_cast<int>(body.size())}) + body;
      ::send(fd, rec.data(), rec.size(), MSG_NOSIGNAL);
    }
    return;  // close: an SSLv2 hello we do not speak
  }
  const size_t len = (static_cast<uint8_t>(in[3]) << 8) | static_cast<uint8_t>(in[4]);
  if (!ReadN(fd, &in, 5 + len) || len < 4 + 2 + 32 + 1 + 2) return;
  const uint16_t client_version =
      static_cast<uint16_t>((static_cast<uint8_t>(in[9]) << 8) | static_cast<uint8_t>(in[10]));
  std::string reply = Bytes({21, 3, 0, 0, 2, 2, 70});  // protocol_version
  if (client_version == tls::kSsl3) {
    size_t at = 5 + 4 + 2 + 32;
    at += 1 + static_cast<uint8_t>(in[at]);
    const size_t n = ((static_cast<uint8_t>(in[at]) << 8) | static_cast<uint8_t>(in[at + 1])) / 2;
    std::vector<uint16_t> offered;
    for (size_t i = 0; i < n && at + 3 + 2 * i < in.size(); ++i) {
      offered.push_back(static_cast<uint16_t>((static_cast<uint8_t>(in[at + 2 + 2 * i]) << 8) |
                                              static_cast<uint8_t>(in[at + 3 + 2 * i])));
    }
    reply = Bytes({21, 3, 0, 0, 2, 2, 40});  // handshake_failure: nothing in common
    for (uint16_t p : prefs) {
      if (std::find(offered.begin(), offered.end(), p) != offered.end()) {
        reply = ServerHelloRecord(tls::kSsl3, p);
        break;
      }
    }
  }
  ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
}

// What the rewriting relay below answers itself instead of the real server behind it.
struct Rewrite {
  bool deflate = false;          // our features hello (it offers DEFLATE): choose DEFLATE
  bool reneg_info = true;        // ... and answer renegotiation_info
  bool ems = true;               // ... and extended_master_secret
  bool ignore_fallback = false;  // a hello carrying TLS_FALLBACK_SCSV: accept it anyway
};

inline uint16_t U16At(const std::string& s, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(s[at]) << 8) |
                               static_cast<uint8_t>(s[at + 1]));
}

// Relays `fd` to the server on 127.0.0.1:`backend`, sending `in` (bytes already read from
// `fd`) ahead, until either side closes; at most 5 s.
inline void RelayTo(int fd, int backend, const std::string& in) {
  int up = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(backend));
  if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(up);
    return;
  }
  ::send(up, in.data(), in.size(), MSG_NOSIGNAL);
  // Relay until either side closes; at most 5 s, every poll at most 200 ms.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    pollfd p[2] = {{fd, POLLIN, 0}, {up, POLLIN, 0}};
    if (::poll(p, 2, 200) <= 0) continue;
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[8192];
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0 || ::send(p[1 - i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
        closed = true;
      }
    }
    if (closed) break;
  }
  ::close(up);
}

// Serves like the `openssl s_server` on `backend` (every byte relayed both ways, so full
// handshakes complete), except for the hand-built hellos `rw` picks out: those get a canned
// ServerHello as an old or careless server would send it. What Debian's OpenSSL 3 cannot be
// made to do: compress, omit RFC 5746 or RFC 7627, ignore TLS_FALLBACK_SCSV.
inline void ServeRewriting(int fd, int backend, Rewrite rw) {
  std::string in;
  if (!ReadN(fd, &in, 5)) return;
  const bool tls_record = static_cast<uint8_t>(in[0]) == 22;
  const size_t len = tls_record ? U16At(in, 3) : 0;
  if (tls_record && ReadN(fd, &in, 5 + len) && len > 4 + 2 + 32 + 1) {
    const uint16_t client_version = U16At(in, 9);
    size_t at = 5 + 4 + 2 + 32;
    at += 1 + static_cast<uint8_t>(in[at]);
    std::vector<uint16_t> suites;
    const size_t suites_len = at + 2 <= in.size() ? U16At(in, at) : 0;
    for (size_t i = 0; i + 1 < suites_len && at + 3 + i < in.size(); i += 2) {
      suites.push_back(U16At(in, at + 2 + i));
    }
    at += 2 + suites_len;
    const bool offers_deflate =
        at + 1 < in.size() && static_cast<uint8_t>(in[at]) == 2 && in[at + 1] == 1;
    const bool fallback =
        std::find(suites.begin(), suites.end(), tls::kFallbackScsv) != suites.end();
    if (!suites.empty() && (offers_deflate || (fallback && rw.ignore_fallback))) {
      std::string ext;
      if (rw.reneg_info) ext += Bytes({0xff, 0x01, 0, 1, 0});
      if (rw.ems && client_version == tls::kTls12) ext += Bytes({0x00, 0x17, 0, 0});
      std::string body = Bytes({client_version >> 8, client_version & 0xff});
      body.append(32, '\x33');
      body += Bytes({0, suites[0] >> 8, suites[0] & 0xff, offers_deflate && rw.deflate ? 1 : 0});
      body += Bytes({0, static_cast<int>(ext.size())}) + ext;
      std::string hs = Bytes({2, 0, 0, static_cast<int>(body.size())}) + body;
      std::string rec = Bytes({22, 3, 1, 0, static_cast<int>(hs.size())}) + hs;
      ::send(fd, rec.data(), rec.size(), MSG_NOSIGNAL);
      return;
    }
  }
  RelayTo(fd, backend, in);
}

struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

// A fake SMTP server with STARTTLS. Vulnerable: commands pipelined behind STARTTLS stay in its
// buffer and are answered inside TLS (CVE-2011-0411); safe: the buffer is dropped at STARTTLS.
inline void ServeStartTls(int fd, SSL_CTX* ctx, bool vulnerable, bool imap) {
  auto send_str = [fd](const std::string& s) { ::send(fd, s.data(), s.size(), MSG_NOSIGNAL); };
  std::string buf;
  auto read_line = [&](std::string* line) {
    for (int i = 0; i < 100; ++i) {
      size_t nl = buf.find('\n');
      if (nl != std::string::npos) {
        *line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return true;
      }
      char chunk[1024];
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<size_t>(n));
    }
    return false;
  };
  std::string line;
  auto tag_of = [](const std::string& l) { return l.substr(0, l.find(' ')); };
  if (imap) {
    send_str("* OK fake.test IMAP4rev1\r\n");
    if (!read_line(&line) || line.find("CAPABILITY") == std::string::npos) return;
    send_str("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n" + tag_of(line) + " OK done\r\n");
    if (!read_line(&line) || line.find("STARTTLS") == std::string::npos) return;
  } else {
    send_str("220 fake.test ESMTP\r\n");
    if (!read_line(&line) || line.rfind("EHLO", 0) != 0) return;
    send_str("250-fake.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
    if (!read_line(&line) || line.rfind("STARTTLS", 0) != 0) return;
  }
  std::string pending = vulnerable ? buf : std::string();
  buf.clear();
  send_str(imap ? tag_of(line) + " OK Begin TLS negotiation now\r\n"
                : "220 2.0.0 Ready to start TLS\r\n");
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    if (pending.find("NOOP") != std::string::npos) {
      const std::string ok = imap ? "m2 OK NOOP completed\r\n" : "250 2.0.0 OK\r\n";
      SSL_write(ssl, ok.data(), static_cast<int>(ok.size()));
    }
    char sink[1024];
    while (SSL_read(ssl, sink, sizeof sink) > 0) {
    }
  }
  SSL_free(ssl);
  ERR_clear_error();
}

inline ScanOptions TestOptions() {
  ScanOptions o;
  auto ctx = tls::TlsContext::Create("");
  EXPECT_TRUE(ctx.ok());
  if (ctx.ok()) o.probe.tls = *ctx;
  o.probe.helo_name = "probe.test";
  o.probe.timeout = std::chrono::seconds(5);
  o.probe.phases.connect = std::chrono::seconds(2);
  o.probe.phases.greeting = std::chrono::seconds(3);
  o.probe.phases.command = std::chrono::seconds(3);
  o.probe.phases.handshake = std::chrono::seconds(3);
  o.pause = std::chrono::milliseconds(5);
  o.budget = std::chrono::seconds(25);
  o.injection_wait = std::chrono::milliseconds(500);
  return o;
}

inline ScanResult Scan(const std::string& target_text, ScanOptions o) {
  auto target = config::ParseEndpointTarget(target_text);
  EXPECT_TRUE(target.ok()) << target_text;
  asio::io_context io;
  auto f = asio::co_spawn(io, ScanAddress(*target, asio::ip::make_address("127.0.0.1"), o),
                          asio::use_future);
  io.run_for(std::chrono::seconds(28));
  // use_future sets the value from another thread right after the coroutine ends: a short wait.
  if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "the scan did not end";
    return ScanResult{};
  }
  return f.get();
}

inline std::string Target(const char* service, int port) {
  return std::string(service) + "://127.0.0.1:" + std::to_string(port);
}

inline std::optional<CheckVerdict> VerdictOf(const ScanResult& r, std::string_view id) {
  for (const auto& f : r.findings) {
    if (f.check == id) return f.verdict;
  }
  return std::nullopt;
}

inline std::string DetailOf(const ScanResult& r, std::string_view id) {
  for (const auto& f : r.findings) {
    if (f.check == id) return f.detail;
  }
  return "";
}

inline std::optional<bool> Version(const ScanResult& r, const char* v) {
  auto it = r.versions.find(v);
  if (it == r.versions.end()) return std::nullopt;
  return it->second;
}

inline std::set<std::string> Accepted(const ScanResult& r, const std::string& version) {
  std::set<std::string> out;
  for (const auto& c : r.accepted_ciphers) {
    if (c.version == version) out.insert(c.name);
  }
  return out;
}

inline std::set<std::string> Groups(const ScanResult& r, const std::string& version) {
  std::set<std::string> out;
  for (const auto& g : r.groups) {
    if (g.version == version && g.accepted) out.insert(g.name);
  }
  return out;
}

class DeepScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The fake TLS servers write through OpenSSL's socket BIO (write(2), no MSG_NOSIGNAL) to
    // clients that may already have hung up.
    ::signal(SIGPIPE, SIG_IGN);
    ASSERT_TRUE(Certs().ok) << "openssl req failed";
  }
};

}  // namespace mailsec::probe::scan_testing
