// The scheduler: one coroutine loop per planned target, first runs spread over the interval with
// jitter, every run through a concurrency gate. It knows nothing of what a probe does: it calls
// the ProbeFn it was given, and then, with the slot released, the optional follow-up (the
// exporter's deep scan, which has a gate of its own).
//
// Thread-safe: Apply and Stop may be called from any thread; loops run on strands of the
// io_context. The io_context, the ProbeFn's captures and the Jitter must outlive the scheduler.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "mailsec/base/clock.h"
#include "mailsec/net/gate.h"
#include "mailsec/plan/plan.h"

namespace mailsec::sched {

class Scheduler {
 public:
  // Runs one probe of the target to completion (the probe enforces its own timeout).
  using ProbeFn = std::function<asio::awaitable<void>(const plan::Target&)>;

  // `after`, when set, runs after each probe once its concurrency slot is released, and the
  // target's next run waits for it too (so its results stay in order).
  Scheduler(asio::io_context& io, ProbeFn probe, Jitter* jitter, int concurrency,
            ProbeFn after = nullptr);
  ~Scheduler();

  // Swaps in a new plan: loops of targets that stay (same id and schedule) keep running, and
  // their next runs probe the new plan's target (a domain's new DKIM selectors, say); loops of
  // removed targets stop (a probe in flight finishes, its result is the ProbeFn's to drop); new
  // targets start with a first run at a random point of their interval. The loops hold their
  // targets in `plan` itself (shared), not copies.
  void Apply(std::shared_ptr<const plan::Plan> plan, int concurrency);
  void Apply(const plan::Plan& plan, int concurrency) {
    Apply(std::make_shared<const plan::Plan>(plan), concurrency);
  }

  // Stops every loop: waiting loops end at once, a probe in flight ends with its own deadline.
  // Idempotent; Apply after Stop is not supported.
  void Stop();

  size_t loops() const;

  struct Loop;  // one target's loop; defined in scheduler.cc

 private:
  asio::awaitable<void> RunLoop(std::shared_ptr<Loop> loop);

  asio::io_context& io_;
  ProbeFn probe_;
  ProbeFn after_;  // may be empty
  Jitter* jitter_;
  net::Gate gate_;
  // The target a loop's next run probes (it changes when a reload keeps the loop).
  std::shared_ptr<const plan::Target> TargetOf(const Loop& loop) const;

  mutable std::mutex mu_;  // guards loops_ and every loop's target
  // By target id; each key views the id in its loop's current target.
  std::map<std::string_view, std::shared_ptr<Loop>> loops_;
};

}  // namespace mailsec::sched
