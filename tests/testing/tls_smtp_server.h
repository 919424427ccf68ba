// A hostile STARTTLS SMTP server for the downgrade tests: a real TLS session (OpenSSL, the
// certificate given) around a scripted dialogue that a correct server would never speak, e.g.
// STARTTLS advertised again after TLS, or silence after the handshake. Serves one connection at
// a time on its own thread until destroyed; every read is bounded (5 s), every wait for a
// connection polls a stop flag (100 ms).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace mailsec::testing {

struct TlsSmtpScript {
  std::string cert_file;  // PEM chain, leaf first
  std::string key_file;
  std::string ehlo_before_tls = "250-hostile.test\r\n250 STARTTLS\r\n";
  std::string ehlo_after_tls = "250-hostile.test\r\n250 STARTTLS\r\n";  // STARTTLS again
  bool silent_after_tls = false;  // answer nothing inside TLS (capabilities not re-sendable)
};

class TlsSmtpServer {
 public:
  // port 0: a free one.
  TlsSmtpServer(const std::string& address, TlsSmtpScript script, uint16_t port = 0);
  ~TlsSmtpServer();
  TlsSmtpServer(const TlsSmtpServer&) = delete;
  TlsSmtpServer& operator=(const TlsSmtpServer&) = delete;

  uint16_t port() const { return port_; }
  const std::string& error() const { return error_; }  // empty when listening
  int connections() const { return connections_.load(); }

 private:
  void Run();
  void Serve(int fd);

  TlsSmtpScript script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::string error_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  void* ctx_ = nullptr;  // SSL_CTX*
  std::thread thread_;
};

}  // namespace mailsec::testing
