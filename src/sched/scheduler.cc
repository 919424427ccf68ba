#include "mailsec/sched/scheduler.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>

namespace mailsec::sched {

struct Scheduler::Loop {
  Loop(asio::io_context& io, std::shared_ptr<const plan::Target> t)
      : strand(asio::make_strand(io)), timer(strand), target(std::move(t)) {}
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;  // confined to strand
  // Points into the plan it came from and keeps that plan alive (shared_ptr's aliasing form).
  std::shared_ptr<const plan::Target> target;  // guarded by Scheduler::mu_
  std::atomic<bool> stopped{false};
  std::chrono::milliseconds first_delay{0};
  std::chrono::milliseconds second_delay{0};
};

namespace {
// First results should not take a whole interval to appear, yet a big fleet should not be probed
// in lock-step forever: the first run comes within kFirstRunSpread, the second at a random point
// of the interval after it, and from then on every interval, so steady-state load is spread.
constexpr std::chrono::milliseconds kFirstRunSpread{15'000};

std::chrono::milliseconds Scale(double u, std::chrono::milliseconds d) {
  return std::chrono::milliseconds(static_cast<int64_t>(u * static_cast<double>(d.count())));
}
}  // namespace

// Wakes a loop waiting for its next run. The posted handler holds the loop weakly: if the
// io_context is shut down with the handler still queued, destroying it must not destroy the loop
// (and its strand) from inside the strand service's own shutdown.
static void CancelTimer(const std::shared_ptr<Scheduler::Loop>& loop) {
  asio::post(loop->strand, [weak = std::weak_ptr<Scheduler::Loop>(loop)] {
    if (auto l = weak.lock()) l->timer.cancel();
  });
}

Scheduler::Scheduler(asio::io_context& io, ProbeFn probe, Jitter* jitter, int concurrency,
                     ProbeFn after)
    : io_(io),
      probe_(std::move(probe)),
      after_(std::move(after)),
      jitter_(jitter),
      gate_(concurrency) {}

Scheduler::~Scheduler() { Stop(); }

size_t Scheduler::loops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return loops_.size();
}

std::shared_ptr<const plan::Target> Scheduler::TargetOf(const Loop& loop) const {
  std::lock_guard<std::mutex> lock(mu_);
  return loop.target;
}

void Scheduler::Apply(std::shared_ptr<const plan::Plan> plan, int concurrency) {
  gate_.SetLimit(concurrency);
  std::vector<std::shared_ptr<Loop>> start, stop;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string_view, std::shared_ptr<Loop>> next;
    for (const plan::Target& t : plan->targets) {
      std::shared_ptr<const plan::Target> target(plan, &t);
      auto it = loops_.find(t.id);
      if (it != loops_.end() && it->second->target->SameSchedule(t)) {
        std::shared_ptr<Loop> loop = std::move(it->second);
        loops_.erase(it);
        // The old plan goes once no loop holds it.
        loop->target = std::move(target);
        next[loop->target->id] = std::move(loop);
        continue;
      }
      auto loop = std::make_shared<Loop>(io_, std::move(target));
      loop->first_delay = Scale(jitter_->Uniform01(), std::min(t.interval, kFirstRunSpread));
      loop->second_delay =
          t.interval > kFirstRunSpread ? Scale(jitter_->Uniform01(), t.interval) : t.interval;
      next[loop->target->id] = loop;
      start.push_back(std::move(loop));
    }
    for (auto& [id, loop] : loops_) stop.push_back(loop);
    loops_ = std::move(next);
  }
  for (auto& loop : stop) {
    loop->stopped = true;
    CancelTimer(loop);
  }
  for (auto& loop : start) {
    asio::co_spawn(loop->strand, RunLoop(loop), asio::detached);
  }
}

void Scheduler::Stop() {
  std::map<std::string_view, std::shared_ptr<Loop>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.swap(loops_);
  }
  for (auto& [id, loop] : all) {
    loop->stopped = true;
    CancelTimer(loop);
  }
  // Loops queued for a slot must wake up to see that they were stopped.
  gate_.Close();
}

asio::awaitable<void> Scheduler::RunLoop(std::shared_ptr<Loop> loop) {
  std::error_code ec;
  loop->timer.expires_after(loop->first_delay);
  co_await loop->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  bool first = true;
  // Bounded by Stop(): every turn waits on the timer, which Stop cancels.
  while (!loop->stopped) {
    const auto started = std::chrono::steady_clock::now();
    // This run's target, held until the run ends even if a reload swaps the loop's.
    const std::shared_ptr<const plan::Target> target = TargetOf(*loop);
    {
      net::Gate::Ticket ticket = co_await gate_.Acquire();
      if (loop->stopped) break;
      try {
        co_await probe_(*target);
      } catch (const std::exception&) {
        // A probe must not throw; if one does, the loop survives and tries again next interval.
      }
    }
    if (loop->stopped) break;
    if (after_) {
      // Outside the gate: a slow follow-up must not hold a slot that fast probes need.
      try {
        co_await after_(*target);
      } catch (const std::exception&) {
      }
      if (loop->stopped) break;
    }
    loop->timer.expires_at(started + (first ? loop->second_delay : target->interval));
    first = false;
    co_await loop->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace mailsec::sched
