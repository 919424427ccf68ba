#include "mailsec/net/transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/connect.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace mailsec::net {

Watchdog::Watchdog(asio::ip::tcp::socket& socket)
    : socket_(socket), timer_(socket.get_executor()), state_(std::make_shared<State>()) {}

Watchdog::~Watchdog() { ++state_->generation; }

void Watchdog::Arm(Deadline deadline) {
  state_->armed = true;
  state_->fired = false;
  state_->deadline = deadline;
  // A pending wake-up no later than the deadline stays: it checks the deadline when it comes.
  if (state_->waiting && timer_.expiry() <= deadline) return;
  Wait(deadline);
}

void Watchdog::Disarm() { state_->armed = false; }

void Watchdog::Wait(Deadline expiry) {
  timer_.expires_at(expiry);  // a pending wait ends with operation_aborted, its generation stale
  const uint64_t gen = ++state_->generation;
  state_->waiting = true;
  timer_.async_wait([this, state = state_, gen](const std::error_code& ec) {
    // Only a matching generation proves the owner, and so `this` and the socket, still there.
    if (gen != state->generation) return;
    state->waiting = false;
    if (ec || !state->armed) return;
    if (SteadyClock::now() < state->deadline) {
      Wait(state->deadline);  // armed again, with a later deadline, since this wait began
      return;
    }
    state->fired = true;
    std::error_code ignored;
    socket_.cancel(ignored);
  });
}

void AckNow(asio::ip::tcp::socket& socket) {
  if (!socket.is_open()) return;
  // 2, not 1: Linux sends the pending ACK and stays in delayed-ACK mode for what comes next
  // (__tcp_sock_set_quickack: an even value re-enters it); 1 would acknowledge every segment at
  // once from here on, a packet more per reply. A kernel without that takes 2 as 1.
  const int flush_only = 2;
  ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &flush_only, sizeof flush_only);
}

TcpTransport::TcpTransport(asio::ip::tcp::socket socket)
    : socket_(std::move(socket)), watchdog_(socket_) {}

asio::awaitable<Result<size_t>> TcpTransport::ReadSome(std::span<char> buf, Deadline deadline) {
  std::error_code ec;
  // Part of a reply is in and more is wanted: acknowledge it now (a server may hold the rest
  // until then). Right after a write, the reply's ACK rides on the next command instead.
  if (unacked_) {
    AckNow(socket_);
    unacked_ = false;
  }
  watchdog_.Arm(deadline);
  size_t n = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()),
                                              asio::redirect_error(asio::use_awaitable, ec));
  watchdog_.Disarm();
  if (watchdog_.Fired()) co_return Status::Timeout("read timed out");
  if (ec == asio::error::eof) co_return size_t{0};
  if (ec) co_return Status::IoError("read: " + ec.message());
  unacked_ = n > 0;
  co_return n;
}

asio::awaitable<Status> TcpTransport::WriteAll(std::string_view data, Deadline deadline) {
  std::error_code ec;
  watchdog_.Arm(deadline);
  co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  watchdog_.Disarm();
  if (watchdog_.Fired()) co_return Status::Timeout("write timed out");
  if (ec) co_return Status::IoError("write: " + ec.message());
  unacked_ = false;  // the ACK went with the data
  co_return Status::Ok();
}

void TcpTransport::Close() {
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

asio::awaitable<ConnectOutcome> Connect(const asio::ip::tcp::endpoint& endpoint, Deadline deadline,
                                        std::unique_ptr<TcpTransport>* out) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::socket socket(executor);
  std::error_code ec;
  socket.open(endpoint.protocol(), ec);
  if (ec) co_return ConnectOutcome{ConnectError::kOther, "socket: " + ec.message()};
  Watchdog watchdog(socket);
  watchdog.Arm(deadline);
  co_await socket.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
  watchdog.Disarm();
  if (watchdog.Fired()) co_return ConnectOutcome{ConnectError::kTimeout, "connect timed out"};
  if (ec == asio::error::connection_refused) {
    co_return ConnectOutcome{ConnectError::kRefused, "connection refused"};
  }
  if (ec) co_return ConnectOutcome{ConnectError::kOther, "connect: " + ec.message()};
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  *out = std::make_unique<TcpTransport>(std::move(socket));
  co_return ConnectOutcome{};
}

}  // namespace mailsec::net
