#include "mailsec/sched/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <map>
#include <thread>

namespace mailsec::sched {
namespace {

class ZeroJitter final : public Jitter {
 public:
  double Uniform01() override { return 0.0; }
};

plan::Target Endpoint(const std::string& id, int interval_ms) {
  plan::Target t;
  t.id = id;
  t.interval = std::chrono::milliseconds(interval_ms);
  t.timeout = std::chrono::milliseconds(interval_ms);
  return t;
}

// What the probes of ReloadsFromOtherThreadsWhileProbesRun share.
struct Counters {
  std::atomic<int> in_flight{0};
  std::atomic<int> max_seen{0};
  std::atomic<int> done{0};
};

// A probe that holds its slot for `ms` milliseconds (a free coroutine: GCC 12 and lambda
// coroutines do not mix).
asio::awaitable<void> SleepyProbe(Counters* c, int ms) {
  const int now = ++c->in_flight;
  int prev = c->max_seen.load();
  while (now > prev && !c->max_seen.compare_exchange_weak(prev, now)) {
  }
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer t(executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(asio::use_awaitable);
  --c->in_flight;
  ++c->done;
}

// Runs the io_context on two threads for the test's lifetime.
class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  void TearDown() override { StopIo(); }
  // Lets the stopped loops end (bounded), then stops the io_context and joins its threads;
  // idempotent. A test calls it before its Scheduler goes out of scope: Stop() only tells the
  // loops to end, and they unwind on the io threads, releasing their slots of the scheduler's
  // gate there (the exporter likewise joins its io threads before the scheduler goes).
  void StopIo() {
    if (threads_.empty()) return;
    work_.reset();
    for (int i = 0; i < 200 && !io_.stopped(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  // Polls a condition for at most `ms` milliseconds.
  template <typename F>
  bool WaitFor(F f, int ms) {
    for (int i = 0; i < ms / 10; ++i) {
      if (f()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return f();
  }
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::vector<std::thread> threads_;
  ZeroJitter jitter_;
};

TEST_F(SchedulerTest, RunsEveryTargetRepeatedly) {
  std::mutex mu;
  std::map<std::string, int> runs;
  Scheduler s(
      io_,
      [&](const plan::Target& t) -> asio::awaitable<void> {
        std::lock_guard<std::mutex> lock(mu);
        runs[t.id]++;
        co_return;
      },
      &jitter_, 4);
  plan::Plan p;
  p.targets = {Endpoint("a", 50), Endpoint("b", 50)};
  s.Apply(p, 4);
  EXPECT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return runs["a"] >= 3 && runs["b"] >= 3;
      },
      3000));
  s.Stop();
  StopIo();  // before `s` goes: its loops unwind on the io threads
}

TEST_F(SchedulerTest, ReloadKeepsStayingLoopsAndStopsRemovedOnes) {
  std::mutex mu;
  std::map<std::string, int> runs;
  Scheduler s(
      io_,
      [&](const plan::Target& t) -> asio::awaitable<void> {
        std::lock_guard<std::mutex> lock(mu);
        runs[t.id]++;
        co_return;
      },
      &jitter_, 4);
  plan::Plan p;
  p.targets = {Endpoint("stay", 30), Endpoint("gone", 30)};
  s.Apply(p, 4);
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return runs["gone"] >= 2;
      },
      3000));
  p.targets = {Endpoint("stay", 30), Endpoint("new", 30)};
  s.Apply(p, 4);
  EXPECT_EQ(s.loops(), 2u);
  int gone_after_reload;
  {
    std::lock_guard<std::mutex> lock(mu);
    gone_after_reload = runs["gone"];
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return runs["new"] >= 3;
      },
      3000));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_LE(runs["gone"], gone_after_reload + 1);  // at most the one already in flight
  s.Stop();
  StopIo();  // before `s` goes: its loops unwind on the io threads
}

// A reload that keeps a target's loop (same id and schedule) hands the loop the new plan's
// target: a domain's new DKIM selectors are probed from the next run on. The loops hold their
// targets in the plan itself, so the old plan goes once no loop runs it any more.
TEST_F(SchedulerTest, KeptLoopProbesTheNewPlansTargetAndReleasesTheOldPlan) {
  std::mutex mu;
  std::vector<std::string> seen;  // the selectors of each run
  Scheduler s(
      io_,
      [&](const plan::Target& t) -> asio::awaitable<void> {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(t.domain.dkim_selectors.empty() ? "" : t.domain.dkim_selectors.front());
        co_return;
      },
      &jitter_, 4);
  auto with = [](const std::string& selector) {
    plan::Plan p;
    p.targets = {Endpoint("example.org", 20)};
    p.targets[0].kind = plan::Kind::kDomain;
    p.targets[0].domain.name = "example.org";
    p.targets[0].domain.dkim_selectors = {selector};
    return std::make_shared<const plan::Plan>(std::move(p));
  };
  auto old_plan = with("old");
  std::weak_ptr<const plan::Plan> old_weak = old_plan;
  s.Apply(std::move(old_plan), 4);
  auto ran = [&](const std::string& selector) {
    std::lock_guard<std::mutex> lock(mu);
    return std::count(seen.begin(), seen.end(), selector);
  };
  ASSERT_TRUE(WaitFor([&] { return ran("old") >= 2; }, 3000));
  s.Apply(with("new"), 4);
  EXPECT_EQ(s.loops(), 1u);
  EXPECT_TRUE(WaitFor([&] { return ran("new") >= 2; }, 3000));
  EXPECT_TRUE(WaitFor([&] { return old_weak.expired(); }, 2000)) << "the old plan is still held";
  {
    std::lock_guard<std::mutex> lock(mu);
    // Once the new target ran, the old one never runs again.
    const auto first_new = std::find(seen.begin(), seen.end(), "new");
    EXPECT_EQ(std::find(first_new, seen.end(), "old"), seen.end());
  }
  s.Stop();
  StopIo();  // before `s` goes: its loops unwind on the io threads
}

TEST_F(SchedulerTest, ConcurrencyGateBoundsProbesInFlight) {
  std::atomic<int> in_flight{0}, max_seen{0}, done{0};
  Scheduler s(
      io_,
      [&](const plan::Target&) -> asio::awaitable<void> {
        int now = ++in_flight;
        int prev = max_seen.load();
        while (now > prev && !max_seen.compare_exchange_weak(prev, now)) {
        }
        // Not co_await inside the constructor call: GCC 12 mishandles temporaries there.
        auto executor = co_await asio::this_coro::executor;
        asio::steady_timer t(executor, std::chrono::milliseconds(30));
        co_await t.async_wait(asio::use_awaitable);
        --in_flight;
        ++done;
      },
      &jitter_, 2);
  plan::Plan p;
  for (int i = 0; i < 8; ++i) p.targets.push_back(Endpoint("t" + std::to_string(i), 10000));
  s.Apply(p, 2);
  EXPECT_TRUE(WaitFor([&] { return done.load() >= 8; }, 5000));
  EXPECT_EQ(max_seen.load(), 2);
  s.Stop();
  StopIo();  // before `s` goes: its loops unwind on the io threads
}

TEST_F(SchedulerTest, FirstRunsAreSpreadByJitter) {
  class HalfJitter final : public Jitter {
   public:
    double Uniform01() override { return 0.5; }
  } half;
  std::atomic<int> runs{0};
  Scheduler s(
      io_,
      [&](const plan::Target&) -> asio::awaitable<void> {
        ++runs;
        co_return;
      },
      &half, 4);
  plan::Plan p;
  p.targets = {Endpoint("slow", 2000)};  // first run after half the interval: 1 s
  s.Apply(p, 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(runs.load(), 0);
  EXPECT_TRUE(WaitFor([&] { return runs.load() == 1; }, 3000));
  s.Stop();
  StopIo();  // before `s` goes: its loops unwind on the io threads
}

// What FollowUpRunsOutsideTheGateAndBeforeTheNextRun's probes and follow-ups share.
struct Turns {
  std::mutex mu;
  std::map<std::string, int> probes;      // guarded by mu
  std::map<std::string, int> follow_ups;  // guarded by mu; ended follow-ups
  int out_of_order = 0;                   // guarded by mu: probes that overtook a follow-up
};

asio::awaitable<void> CountedProbe(Turns* turns, std::string id) {
  std::lock_guard<std::mutex> lock(turns->mu);
  if (turns->follow_ups[id] != turns->probes[id]) ++turns->out_of_order;
  ++turns->probes[id];
  co_return;
}

asio::awaitable<void> CountedFollowUp(Turns* turns, Counters* c, std::string id) {
  co_await SleepyProbe(c, 100);
  std::lock_guard<std::mutex> lock(turns->mu);
  ++turns->follow_ups[id];
}

// The follow-up (the exporter's deep scan) runs after the slot is released, so with one slot the
// follow-ups of three targets overlap; and a target's next probe waits for its follow-up.
TEST_F(SchedulerTest, FollowUpRunsOutsideTheGateAndBeforeTheNextRun) {
  Turns turns;
  Counters c;
  Scheduler s(
      io_, [&turns](const plan::Target& t) { return CountedProbe(&turns, t.id); }, &jitter_, 1,
      [&turns, &c](const plan::Target& t) { return CountedFollowUp(&turns, &c, t.id); });
  plan::Plan p;
  for (int i = 0; i < 3; ++i) p.targets.push_back(Endpoint("t" + std::to_string(i), 10));
  s.Apply(p, 1);
  EXPECT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(turns.mu);
        return turns.follow_ups["t0"] >= 3 && turns.follow_ups["t1"] >= 3 &&
               turns.follow_ups["t2"] >= 3;
      },
      5000));
  EXPECT_EQ(c.max_seen.load(), 3);
  s.Stop();
  StopIo();  // before `s` goes: its loops unwind on the io threads
  std::lock_guard<std::mutex> lock(turns.mu);
  EXPECT_EQ(turns.out_of_order, 0);
}

// Reloads (Apply with another plan and concurrency) from two threads at once while probes run on
// the io_context's two threads, as SIGHUP and POST /-/reload can; then Stop. Meant for the
// ThreadSanitizer pass (scripts/tsan.sh): every shared piece (the loop map, the gate, the loops'
// stop flags and timers) is touched from several threads here.
TEST_F(SchedulerTest, ReloadsFromOtherThreadsWhileProbesRun) {
  Counters c;
  Scheduler s(
      io_, [&c](const plan::Target&) { return SleepyProbe(&c, 2); }, &jitter_, 4);
  plan::Plan a, b;
  for (int i = 0; i < 20; ++i) a.targets.push_back(Endpoint("t" + std::to_string(i), 5));
  for (int i = 10; i < 30; ++i) b.targets.push_back(Endpoint("t" + std::to_string(i), 5));
  s.Apply(a, 4);
  std::vector<std::thread> reloaders;
  for (int r = 0; r < 2; ++r) {
    reloaders.emplace_back([&, r] {
      for (int i = 0; i < 50; ++i) {
        s.Apply((i + r) % 2 == 0 ? a : b, 3 + (i % 3));  // limits 3, 4, 5
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  for (auto& t : reloaders) t.join();
  s.Apply(a, 4);
  EXPECT_EQ(s.loops(), 20u);
  const int before = c.done.load();
  EXPECT_TRUE(WaitFor([&] { return c.done.load() >= before + 40; }, 5000)) << "loops stalled";
  EXPECT_LE(c.max_seen.load(), 5);
  s.Stop();
  EXPECT_TRUE(WaitFor([&] { return c.in_flight.load() == 0; }, 2000));
  EXPECT_EQ(s.loops(), 0u);
  StopIo();  // before `s` goes: its loops unwind on the io threads
}

}  // namespace
}  // namespace mailsec::sched
