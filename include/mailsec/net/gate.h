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

  // Lets every waiter through at once and every later Acquire too, so that loops waiting for a
  // slot can see that they were stopped and end (shutdown). Irreversible.
  void Close();

 private:
  void Release();
  mutable std::mutex mu_;  // guards everything below
  int limit_;
  int in_use_ = 0;
  bool closed_ = false;
  std::deque<std::function<void()>> waiters_;
};

}  // namespace mailsec::net
