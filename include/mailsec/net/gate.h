// A concurrency gate: at most N holders at once; others wait in FIFO order without blocking a
// thread. Thread-safe. The gate must outlive every waiter.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

namespace mailsec::net {

class Gate {
 public:
  explicit Gate(int limit);

  class Ticket {
   public:
    Ticket() = default;
    explicit Ticket(Gate* g) : gate_(g) {}
    Ticket(Ticket&& o) noexcept : gate_(o.gate_) { o.gate_ = nullptr; }
    Ticket& operator=(Ticket&& o) noexcept;
    ~Ticket();

   private:
    Gate* gate_ = nullptr;
  };

  // Waits for a slot; the slot is held until the ticket is destroyed.
  asio::awaitable<Ticket> Acquire();
  // A slot now, or none when every slot is taken or others wait (never ahead of a waiter).
  std::optional<Ticket> TryAcquire();

  int in_use() const;
  void SetLimit(int limit);

  // Lets every waiter through at once and every later Acquire too, so that loops waiting for a
  // slot can see that they were stopped and end (shutdown). Irreversible.
  void Close();

 private:
  void Release();
  mutable std::mutex mu_;  // guards everything below
  int limit_;
  int in_use_ = 0;
  bool closed_ = false;
  // A waiter sleeps on its own timer (set to never expire) and is woken by a cancel posted to the
  // timer's executor; `granted` tells a real wake-up from a shutdown of the io_context.
  struct Waiter {
    explicit Waiter(const asio::any_io_executor& ex)
        : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool granted = false;  // guarded by the gate's mu_
  };
  static void Wake(const std::shared_ptr<Waiter>& w);
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace mailsec::net
