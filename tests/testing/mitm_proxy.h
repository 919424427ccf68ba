// A man in the middle for the downgrade tests: a TCP proxy on a 127.x address in front of a real
// mail server that rewrites the plaintext part of the dialogue the way STRIPTLS middleboxes do
// (delete or mask STARTTLS, answer STARTTLS itself, inject bytes around the go-ahead, rewrite the
// greeting) and relays everything after the STARTTLS go-ahead byte for byte, so the TLS session
// is the real server's.
//
// Runs its own Asio thread; the destructor closes every connection and joins it. Rules and the
// upstream may be changed while it runs; they apply to connections accepted afterwards. Every
// read is bounded (lines at most 64 KiB); connections end when either side closes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace mailsec::testing {

enum class MitmProtocol { kSmtp, kImap, kPop3 };

struct MitmRules {
  bool strip_starttls = false;  // remove STARTTLS (STLS) from the capabilities the server sends
  bool mask_starttls = false;   // overwrite it in place: STARTTLS -> XXXXXXXA, STLS -> XXXA
  // Non-empty: the client's STARTTLS is answered with these bytes and never reaches the server.
  std::string answer_starttls;
  // Appended after the server's STARTTLS go-ahead, before the TLS bytes (response injection).
  std::string after_go_ahead;
  // Non-empty: the server's first line is replaced by this one (CRLF added).
  std::string replace_greeting;
  // Appended after the (whole) greeting: a reply nobody asked for.
  std::string after_greeting;
};

class MitmProxy {
 public:
  // Listens on listen_address:listen_port (0: a free port) and dials upstream per connection.
  MitmProxy(MitmProtocol protocol, const std::string& listen_address, uint16_t listen_port,
            const std::string& upstream_address, uint16_t upstream_port);
  ~MitmProxy();
  MitmProxy(const MitmProxy&) = delete;
  MitmProxy& operator=(const MitmProxy&) = delete;

  // Empty when listening; else why not.
  const std::string& error() const { return error_; }
  uint16_t port() const { return port_; }
  void SetRules(const MitmRules& rules);
  void SetUpstream(const std::string& address, uint16_t port);
  // Connections accepted so far.
  int connections() const { return connections_.load(); }

  struct Impl;  // Asio state (mitm_proxy.cc)

 private:
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::string error_;
  uint16_t port_ = 0;
  std::atomic<int> connections_{0};
};

}  // namespace mailsec::testing
