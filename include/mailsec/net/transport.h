// Byte streams under deadlines: the seam between protocol dialogues and sockets.
//
// A Transport is owned by one probe coroutine and used from its strand only (not thread-safe).
// Every operation takes an absolute deadline; when it passes, the pending operation is cancelled
// and returns Status::Timeout. No operation sleeps.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "mailsec/base/status.h"

namespace mailsec::net {

using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;

class Transport {
 public:
  virtual ~Transport() = default;
  // Reads at least one byte into buf. Returns 0 on orderly close by the peer.
  virtual asio::awaitable<Result<size_t>> ReadSome(std::span<char> buf, Deadline deadline) = 0;
  virtual asio::awaitable<Status> WriteAll(std::string_view data, Deadline deadline) = 0;
};

// Cancels every pending operation on a socket when a deadline passes. Arm before an operation,
// Disarm after; Fired() tells whether the last armed deadline is what ended the operation.
// Confined to the socket's strand.
//
// The timer is reprogrammed only when a deadline comes before the pending wake-up: a wake-up that
// finds the watchdog disarmed, or armed with a later deadline, does nothing but wait again.
// Arming and disarming around every read and write would otherwise cost a timer update (a
// system call) each, ~10 per probe. A pending wake-up is work of the io_context until it comes
// or the watchdog (its transport) is gone.
class Watchdog {
 public:
  explicit Watchdog(asio::ip::tcp::socket& socket);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  void Arm(Deadline deadline);
  void Disarm();
  bool Fired() const { return state_->fired; }

 private:
  void Wait(Deadline expiry);

  // Shared with the timer's handler, which may run after this object is gone (a wake-up already
  // queued when it was destroyed); the generation tells it that it is stale.
  struct State {
    uint64_t generation = 0;  // of the pending wait; bumped by a new wait and by the destructor
    bool waiting = false;     // a wait of this generation is pending
    bool armed = false;
    bool fired = false;
    Deadline deadline{};
  };
  asio::ip::tcp::socket& socket_;
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

// Acknowledges at once what has arrived on `socket` (TCP_QUICKACK) instead of after the kernel's
// delayed-ACK timer (40 ms and more on Linux); what comes next is acknowledged as the kernel
// would (delayed, or with this side's next write). Called before waiting for the rest of a server's
// reply when part of it is in: a server that writes a reply in two pieces with Nagle's algorithm on
// holds the second piece until the first is acknowledged, and the client, with nothing to send,
// acknowledges it only when its timer fires. Postfix does so after a TLS handshake (its session
// tickets, then its EHLO reply): every STARTTLS probe of it waited ~40 ms. Not called after this
// side wrote: the reply's ACK then rides on the next command, where an immediate one would be a
// packet more per reply. Best effort: a failure (a closed socket) changes nothing but the timing.
void AckNow(asio::ip::tcp::socket& socket);

// A connected TCP stream. Owns the socket. A read that follows a read (a reply in pieces)
// acknowledges what came at once (AckNow); a read that follows a write leaves the ACK to ride on
// the next write, as the kernel does.
class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(asio::ip::tcp::socket socket);
  asio::awaitable<Result<size_t>> ReadSome(std::span<char> buf, Deadline deadline) override;
  asio::awaitable<Status> WriteAll(std::string_view data, Deadline deadline) override;

  asio::ip::tcp::socket& socket() { return socket_; }
  Watchdog& watchdog() { return watchdog_; }
  void Close();

 private:
  asio::ip::tcp::socket socket_;
  Watchdog watchdog_;
  bool unacked_ = false;  // the last successful operation was a read of data
};

enum class ConnectError : uint8_t { kNone, kRefused, kTimeout, kOther };
struct ConnectOutcome {
  ConnectError error = ConnectError::kNone;
  std::string message;
};

// Connects to one address under a deadline. On success *out holds the connected transport.
asio::awaitable<ConnectOutcome> Connect(const asio::ip::tcp::endpoint& endpoint, Deadline deadline,
                                        std::unique_ptr<TcpTransport>* out);

}  // namespace mailsec::net
