// The watchdog behind every transport deadline: it reprograms its timer only when a deadline
// comes before the pending wake-up, so these tests check that a later deadline is still honoured
// in full, an earlier one still cuts in, and a wake-up while disarmed cancels nothing.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "mailsec/net/transport.h"

namespace mailsec::net {
namespace {

using std::chrono::milliseconds;

struct Step {
  milliseconds deadline;  // of the read, from when it starts
  milliseconds pause;     // idle time before the read (no operation armed)
};

struct Outcome {
  bool timed_out = false;
  bool fired = false;
  std::string data;
  milliseconds took{0};
};

// A loopback pair: the accepted side sends `sends` (at the given offsets from the start), the
// client side reads once per step under that step's deadline.
asio::awaitable<void> Sender(asio::ip::tcp::socket* peer, std::vector<milliseconds> at) {
  auto start = SteadyClock::now();
  asio::steady_timer t(peer->get_executor());
  for (size_t i = 0; i < at.size(); ++i) {
    t.expires_at(start + at[i]);
    co_await t.async_wait(asio::use_awaitable);
    std::string byte = std::to_string(i);
    co_await asio::async_write(*peer, asio::buffer(byte), asio::use_awaitable);
  }
}

// Owns the transport: its watchdog's pending wake-up is work of the io_context until the
// transport is gone.
asio::awaitable<void> Reader(std::unique_ptr<TcpTransport> tcp, std::vector<Step> steps,
                             std::vector<Outcome>* out) {
  asio::steady_timer idle(tcp->socket().get_executor());
  for (const Step& s : steps) {
    if (s.pause.count() > 0) {
      idle.expires_after(s.pause);
      co_await idle.async_wait(asio::use_awaitable);
    }
    Outcome o;
    auto t0 = SteadyClock::now();
    char buf[16];
    Result<size_t> n = co_await tcp->ReadSome(std::span<char>(buf, sizeof buf), t0 + s.deadline);
    o.took = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - t0);
    o.fired = tcp->watchdog().Fired();
    if (n.ok()) {
      o.data.assign(buf, *n);
    } else {
      o.timed_out = n.status().code() == Status::Code::kTimeout;
    }
    out->push_back(o);
  }
}

std::vector<Outcome> RunPair(std::vector<milliseconds> sends, std::vector<Step> steps) {
  asio::io_context io(1);
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  asio::ip::tcp::socket peer = acceptor.accept();
  auto tcp = std::make_unique<TcpTransport>(std::move(client));
  std::vector<Outcome> out;
  asio::co_spawn(io, Sender(&peer, std::move(sends)), [](std::exception_ptr) {});
  asio::co_spawn(io, Reader(std::move(tcp), std::move(steps), &out), [](std::exception_ptr) {});
  io.run_for(std::chrono::seconds(20));  // bounded: every read has a deadline of its own
  return out;
}

TEST(WatchdogTest, ADeadlineEndsARead) {
  std::vector<Outcome> o = RunPair({}, {{milliseconds(100), milliseconds(0)}});
  ASSERT_EQ(o.size(), 1u);
  EXPECT_TRUE(o[0].timed_out);
  EXPECT_TRUE(o[0].fired);
  EXPECT_GE(o[0].took, milliseconds(95));
  EXPECT_LT(o[0].took, milliseconds(5000));
}

TEST(WatchdogTest, ALaterDeadlineIsHonouredInFullAfterAnEarlierWakeUp) {
  // The first read (deadline 300 ms) gets its byte at once and leaves a wake-up pending at
  // 300 ms; the second read's deadline is 1 s: the wake-up must wait again, not cut it short.
  std::vector<Outcome> o = RunPair({milliseconds(0)}, {{milliseconds(300), milliseconds(0)},
                                                       {milliseconds(1000), milliseconds(0)}});
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].data, "0");
  EXPECT_FALSE(o[0].fired);
  EXPECT_TRUE(o[1].timed_out);
  EXPECT_TRUE(o[1].fired);
  EXPECT_GE(o[1].took, milliseconds(950));
}

TEST(WatchdogTest, AnEarlierDeadlineCutsInBeforeThePendingWakeUp) {
  // First read under a 10 s deadline (answered at once), then one under 100 ms.
  std::vector<Outcome> o = RunPair({milliseconds(0)}, {{milliseconds(10000), milliseconds(0)},
                                                       {milliseconds(100), milliseconds(0)}});
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].data, "0");
  EXPECT_TRUE(o[1].timed_out);
  EXPECT_GE(o[1].took, milliseconds(95));
  EXPECT_LT(o[1].took, milliseconds(5000));
}

TEST(WatchdogTest, AWakeUpWhileDisarmedCancelsNothing) {
  // The first read leaves a wake-up at 100 ms; the reader then idles 300 ms (disarmed, so the
  // wake-up passes) and reads again under 2 s; the byte sent at 600 ms must arrive.
  std::vector<Outcome> o =
      RunPair({milliseconds(0), milliseconds(600)},
              {{milliseconds(100), milliseconds(0)}, {milliseconds(2000), milliseconds(300)}});
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].data, "0");
  EXPECT_FALSE(o[1].timed_out);
  EXPECT_FALSE(o[1].fired);
  EXPECT_EQ(o[1].data, "1");
  EXPECT_LT(o[1].took, milliseconds(1500));
}

}  // namespace
}  // namespace mailsec::net
