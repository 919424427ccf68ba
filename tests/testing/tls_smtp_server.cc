#include "testing/tls_smtp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>

namespace mailsec::testing {
namespace {

// Reads one line (up to LF) from fd, at most 4 KiB; false on timeout, close or error.
bool ReadLine(int fd, std::string* line) {
  line->clear();
  char c = 0;
  while (line->size() < 4096) {
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n <= 0) return false;
    *line += c;
    if (c == '\n') return true;
  }
  return false;
}

bool ReadTlsLine(SSL* ssl, std::string* line) {
  line->clear();
  char c = 0;
  while (line->size() < 4096) {
    if (SSL_read(ssl, &c, 1) <= 0) return false;
    *line += c;
    if (c == '\n') return true;
  }
  return false;
}

bool Send(int fd, const std::string& s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

bool StartsWithNoCase(const std::string& s, const char* prefix) {
  return strncasecmp(s.c_str(), prefix, std::strlen(prefix)) == 0;
}

}  // namespace

TlsSmtpServer::TlsSmtpServer(const std::string& address, TlsSmtpScript script, uint16_t port)
    : script_(std::move(script)) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr ||
      SSL_CTX_use_certificate_chain_file(ctx, script_.cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, script_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error_ = "cannot load " + script_.cert_file;
    if (ctx != nullptr) SSL_CTX_free(ctx);
    return;
  }
  ctx_ = ctx;
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) {
    error_ = "bad address " + address;
    return;
  }
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    error_ = "cannot listen on " + address + ": " + std::strerror(errno);
    return;
  }
  socklen_t len = sizeof sa;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
  thread_ = std::thread([this] { Run(); });
}

TlsSmtpServer::~TlsSmtpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (ctx_ != nullptr) SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

void TlsSmtpServer::Run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    Serve(fd);
    ::close(fd);
  }
}

void TlsSmtpServer::Serve(int fd) {
  std::string line;
  if (!Send(fd, "220 hostile.test ESMTP\r\n")) return;
  // Plaintext: EHLO, STARTTLS (bounded: at most 8 commands).
  for (int i = 0; i < 8; ++i) {
    if (!ReadLine(fd, &line)) return;
    if (StartsWithNoCase(line, "EHLO")) {
      if (!Send(fd, script_.ehlo_before_tls)) return;
    } else if (StartsWithNoCase(line, "STARTTLS")) {
      if (!Send(fd, "220 2.0.0 Ready to start TLS\r\n")) return;
      break;
    } else if (StartsWithNoCase(line, "QUIT")) {
      Send(fd, "221 bye\r\n");
      return;
    } else {
      if (!Send(fd, "250 ok\r\n")) return;
    }
  }
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    for (int i = 0; i < 8 && ReadTlsLine(ssl, &line); ++i) {
      if (script_.silent_after_tls) continue;
      std::string reply = StartsWithNoCase(line, "EHLO")   ? script_.ehlo_after_tls
                          : StartsWithNoCase(line, "QUIT") ? "221 bye\r\n"
                                                           : "250 ok\r\n";
      if (SSL_write(ssl, reply.data(), static_cast<int>(reply.size())) <= 0) break;
      if (StartsWithNoCase(line, "QUIT")) break;
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
}

}  // namespace mailsec::testing
