#include "mailsec/net/gate.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

namespace mailsec::net {
namespace {

// Runs what is ready; coroutines suspended in the gate hold work, so run() would block.
void Drain(asio::io_context& io) {
  io.restart();
  for (int i = 0; i < 100 && io.poll() > 0; ++i) {
  }
}

TEST(GateTest, WaitersGetSlotsInOrderAsTicketsAreReleased) {
  asio::io_context io;
  Gate gate(1);
  std::vector<int> order;
  std::vector<Gate::Ticket> held(3);
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          held[i] = co_await gate.Acquire();
          order.push_back(i);
        },
        [](std::exception_ptr) {});
  }
  Drain(io);
  ASSERT_EQ(order, std::vector<int>{0});
  EXPECT_EQ(gate.in_use(), 1);
  held[0] = Gate::Ticket();  // release: the slot passes to waiter 1
  Drain(io);
  ASSERT_EQ(order, (std::vector<int>{0, 1}));
  held[1] = Gate::Ticket();
  Drain(io);
  ASSERT_EQ(order, (std::vector<int>{0, 1, 2}));
  held[2] = Gate::Ticket();
  EXPECT_EQ(gate.in_use(), 0);
}

TEST(GateTest, TryAcquireTakesOnlyAFreeSlotAndNeverOneAWaiterIsOwed) {
  asio::io_context io;
  Gate gate(1);
  std::optional<Gate::Ticket> a = gate.TryAcquire();
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(gate.TryAcquire().has_value());  // full
  bool waited = false;
  Gate::Ticket w;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        w = co_await gate.Acquire();
        waited = true;
      },
      [](std::exception_ptr) {});
  Drain(io);
  EXPECT_FALSE(waited);
  a.reset();  // the slot passes to the waiter, not to the next TryAcquire
  EXPECT_FALSE(gate.TryAcquire().has_value());
  Drain(io);
  EXPECT_TRUE(waited);
  w = Gate::Ticket();
  EXPECT_EQ(gate.in_use(), 0);
  std::optional<Gate::Ticket> b = gate.TryAcquire();
  EXPECT_TRUE(b.has_value());
  b.reset();
  gate.Close();
  EXPECT_TRUE(gate.TryAcquire().has_value());  // closed: everything through
}

TEST(GateTest, CloseLetsEveryWaiterThrough) {
  asio::io_context io;
  Gate gate(1);
  int through = 0;
  Gate::Ticket first;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { first = co_await gate.Acquire(); },
      [](std::exception_ptr) {});
  for (int i = 0; i < 4; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          Gate::Ticket t = co_await gate.Acquire();
          ++through;
        },
        [](std::exception_ptr) {});
  }
  Drain(io);
  EXPECT_EQ(through, 0);
  gate.Close();
  Drain(io);
  EXPECT_EQ(through, 4);
  first = Gate::Ticket();
  EXPECT_EQ(gate.in_use(), 0);
}

TEST(GateTest, RaisingTheLimitWakesWaiters) {
  asio::io_context io;
  Gate gate(1);
  std::vector<Gate::Ticket> held(3);
  int got = 0;
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          held[i] = co_await gate.Acquire();
          ++got;
        },
        [](std::exception_ptr) {});
  }
  Drain(io);
  EXPECT_EQ(got, 1);
  gate.SetLimit(3);
  Drain(io);
  EXPECT_EQ(got, 3);
  held.clear();
  EXPECT_EQ(gate.in_use(), 0);
}

}  // namespace
}  // namespace mailsec::net
