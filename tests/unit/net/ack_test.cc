// AckNow and the transport's reads: before waiting for the rest of a reply, what has arrived is
// acknowledged at once (TCP_QUICKACK), so that a server holding the rest for that ACK (Nagle)
// does not wait for the client's delayed-ACK timer (40 ms and more); after a write, the ACK is
// left to ride on the next write. The tests put the client's socket into delayed-ACK mode and
// watch the peer's count of unacknowledged segments (TCP_INFO): 1 while the client delays its
// ACK, 0 once it came.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "mailsec/net/transport.h"

namespace mailsec::net {
namespace {

using std::chrono::milliseconds;

// The peer's segments not yet acknowledged by the client; -1 when TCP_INFO cannot be read.
int Unacked(asio::ip::tcp::socket& peer) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(peer.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return -1;
  return static_cast<int>(info.tcpi_unacked);
}

// Polls (1 ms steps, `bound` at most) until the client acknowledged everything the peer sent.
bool AckedWithin(asio::ip::tcp::socket& peer, milliseconds bound) {
  const auto until = SteadyClock::now() + bound;
  while (Unacked(peer) != 0) {
    if (SteadyClock::now() >= until) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

void DelayAcks(asio::ip::tcp::socket& s) {
  const int zero = 0;
  ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
}

// A loopback pair; the client's ACKs delayed (as after a few exchanges of a dialogue).
struct Pair {
  asio::io_context io{1};
  asio::ip::tcp::socket client{io};
  asio::ip::tcp::socket peer{io};
  Pair() {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    client.connect(acceptor.local_endpoint());
    peer = acceptor.accept();
    DelayAcks(client);
  }
  // The peer sends `line`, the client reads it: its ACK is pending (delayed).
  void Deliver(const std::string& line) {
    asio::write(peer, asio::buffer(line));
    char buf[64];
    client.read_some(asio::buffer(buf));
  }
};

// Tries `check` up to three times and counts the tries it passed. The kernel's delayed-ACK timer
// makes a check pass or fail by itself when a try stalls for 40 ms, so each test asks for one
// pass (the behaviour) where a stalled try would fail, and for no pass where it would pass.
template <typename Check>
int Passes(Check check) {
  int passed = 0;
  for (int attempt = 0; attempt < 3; ++attempt) passed += check() ? 1 : 0;
  return passed;
}

TEST(AckNowTest, SendsThePendingAckAtOnce) {
  EXPECT_GE(Passes([] {
              Pair p;
              p.Deliver("250-first\r\n");
              if (Unacked(p.peer) != 1) return false;  // already acknowledged: nothing to see
              AckNow(p.client);
              return AckedWithin(p.peer, milliseconds(20));
            }),
            1);
}

TEST(AckNowTest, WhatComesNextIsAcknowledgedAsTheKernelWould) {
  // Not every segment from here on (a packet more per reply): the next one waits, delayed or for
  // the client's next write.
  EXPECT_GE(Passes([] {
              Pair p;
              p.Deliver("250-first\r\n");
              AckNow(p.client);
              if (!AckedWithin(p.peer, milliseconds(20))) return false;
              p.Deliver("250 last\r\n");
              return Unacked(p.peer) == 1;
            }),
            1);
}

TEST(AckNowTest, AClosedSocketIsLeftAlone) {
  Pair p;
  p.client.close();
  AckNow(p.client);  // no descriptor: nothing to do, nothing thrown
  EXPECT_FALSE(p.client.is_open());
}

// The peer sends the first line of a reply; the client reads it, then reads again for the rest,
// which does not come (the read times out after 20 ms). True when everything the peer sent was
// acknowledged then, before the client's delayed-ACK timer (40 ms and more) could have.
asio::awaitable<void> ReadTheRest(std::unique_ptr<TcpTransport> tcp, asio::ip::tcp::socket* peer,
                                  bool* acked) {
  co_await asio::async_write(*peer, asio::buffer(std::string("250-first\r\n")),
                             asio::use_awaitable);
  char buf[64];
  Result<size_t> n = co_await tcp->ReadSome(std::span<char>(buf, sizeof buf),
                                            SteadyClock::now() + milliseconds(5000));
  if (!n.ok() || *n == 0) co_return;
  n = co_await tcp->ReadSome(std::span<char>(buf, sizeof buf),
                             SteadyClock::now() + milliseconds(20));
  if (n.ok() || n.status().code() != Status::Code::kTimeout) co_return;
  *acked = Unacked(*peer) == 0;
}

// The peer greets; the client reads the greeting and sends a command; the peer replies; the client
// reads the reply. True when the reply's ACK is still pending right after that read: it is left
// to ride on the client's next command.
asio::awaitable<void> ReadAReply(std::unique_ptr<TcpTransport> tcp, asio::ip::tcp::socket* peer,
                                 bool* pending) {
  const Deadline deadline = SteadyClock::now() + std::chrono::seconds(5);
  co_await asio::async_write(*peer, asio::buffer(std::string("220 ready\r\n")),
                             asio::use_awaitable);
  char buf[64];
  Result<size_t> n = co_await tcp->ReadSome(std::span<char>(buf, sizeof buf), deadline);
  if (!n.ok() || *n == 0) co_return;
  if (!(co_await tcp->WriteAll("EHLO client.test\r\n", deadline)).ok()) co_return;
  char got[64];
  co_await peer->async_read_some(asio::buffer(got), asio::use_awaitable);
  co_await asio::async_write(*peer, asio::buffer(std::string("250 ok\r\n")), asio::use_awaitable);
  n = co_await tcp->ReadSome(std::span<char>(buf, sizeof buf), deadline);
  if (!n.ok() || *n == 0) co_return;
  *pending = Unacked(*peer) == 1;
}

template <typename Scenario>
bool RunScenario(Scenario scenario) {
  Pair p;
  bool seen = false;
  asio::co_spawn(p.io,
                 scenario(std::make_unique<TcpTransport>(std::move(p.client)), &p.peer, &seen),
                 asio::detached);
  p.io.run_for(std::chrono::seconds(10));
  return seen;
}

TEST(AckNowTest, AReadForTheRestOfAReplyAcknowledgesWhatCame) {
  EXPECT_GE(Passes([] { return RunScenario(ReadTheRest); }), 1);
}

TEST(AckNowTest, AReadAfterAWriteLeavesTheAckToTheNextWrite) {
  EXPECT_GE(Passes([] { return RunScenario(ReadAReply); }), 1);
}

}  // namespace
}  // namespace mailsec::net
