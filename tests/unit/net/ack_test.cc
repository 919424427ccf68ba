// AckNow and the transport's reads: before waiting for a reply, what has arrived is acknowledged
// at once (TCP_QUICKACK), so that a server holding the rest of its reply for that ACK (Nagle)
// does not wait for the client's delayed-ACK timer. The kernel reads TCP_QUICKACK back as "not in
// delayed-ACK (pingpong) mode"; these tests put the socket into that mode and read it back.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "mailsec/net/transport.h"

namespace mailsec::net {
namespace {

// 1 when the socket acknowledges at once, 0 in delayed-ACK mode, -1 when it cannot be read.
int QuickAck(asio::ip::tcp::socket& s) {
  int v = -1;
  socklen_t len = sizeof v;
  if (::getsockopt(s.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &v, &len) != 0) return -1;
  return v;
}

void DelayAcks(asio::ip::tcp::socket& s) {
  const int zero = 0;
  ASSERT_EQ(::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero), 0);
  ASSERT_EQ(QuickAck(s), 0);
}

struct Pair {
  asio::io_context io{1};
  asio::ip::tcp::socket client{io};
  asio::ip::tcp::socket peer{io};
  Pair() {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    client.connect(acceptor.local_endpoint());
    peer = acceptor.accept();
  }
};

TEST(AckNowTest, LeavesDelayedAckMode) {
  Pair p;
  DelayAcks(p.client);
  AckNow(p.client);
  EXPECT_EQ(QuickAck(p.client), 1);
}

TEST(AckNowTest, AClosedSocketIsLeftAlone) {
  Pair p;
  p.client.close();
  AckNow(p.client);  // no descriptor: nothing to do, nothing thrown
  EXPECT_FALSE(p.client.is_open());
}

// Owns the transport: its watchdog's pending wake-up is work of the io_context until it is gone.
asio::awaitable<void> ReadOnce(std::unique_ptr<TcpTransport> tcp, std::string* got,
                               int* quick_after) {
  char buf[64];
  Result<size_t> n = co_await tcp->ReadSome(std::span<char>(buf, sizeof buf),
                                            SteadyClock::now() + std::chrono::seconds(5));
  if (n.ok()) got->assign(buf, *n);
  *quick_after = QuickAck(tcp->socket());
}

TEST(AckNowTest, ATransportReadAcknowledgesAtOnce) {
  Pair p;
  auto tcp = std::make_unique<TcpTransport>(std::move(p.client));
  DelayAcks(tcp->socket());
  asio::write(p.peer, asio::buffer(std::string("220 ready\r\n")));
  std::string got;
  int quick_after = -1;
  asio::co_spawn(p.io, ReadOnce(std::move(tcp), &got, &quick_after), asio::detached);
  p.io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(got, "220 ready\r\n");
  EXPECT_EQ(quick_after, 1);
}

}  // namespace
}  // namespace mailsec::net
