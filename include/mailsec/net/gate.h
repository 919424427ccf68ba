// A concurrency gate: at most N holders at once; others wait in FIFO order without blocking a
// thread. Thread-safe. The gate must outlive every waiter.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

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

  int in_use() const;
  void SetLimit(int limit);

 private:
  void Release();
  mutable std::mutex mu_;  // guards everything below
  int limit_;
  int in_use_ = 0;
  std::deque<std::function<void()>> waiters_;
};

}  // namespace mailsec::net
