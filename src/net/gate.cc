#include "mailsec/net/gate.h"

#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace mailsec::net {

Gate::Gate(int limit) : limit_(limit < 1 ? 1 : limit) {}

Gate::Ticket& Gate::Ticket::operator=(Ticket&& o) noexcept {
  if (this != &o) {
    if (gate_) gate_->Release();
    gate_ = o.gate_;
    o.gate_ = nullptr;
  }
  return *this;
}

Gate::Ticket::~Ticket() {
  if (gate_) gate_->Release();
}

int Gate::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

void Gate::SetLimit(int limit) {
  std::deque<std::function<void()>> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = limit < 1 ? 1 : limit;
    while (in_use_ < limit_ && !waiters_.empty()) {
      ++in_use_;
      wake.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
  }
  for (auto& w : wake) w();
}

void Gate::Close() {
  std::deque<std::function<void()>> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    in_use_ += static_cast<int>(waiters_.size());
    wake.swap(waiters_);
  }
  for (auto& w : wake) w();
}

void Gate::Release() {
  std::function<void()> next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_ && !waiters_.empty() && in_use_ <= limit_) {
      next = std::move(waiters_.front());  // the slot passes straight to the next waiter
      waiters_.pop_front();
    } else {
      --in_use_;
    }
  }
  if (next) next();
}

asio::awaitable<Gate::Ticket> Gate::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (in_use_ < limit_ || closed_) {
      ++in_use_;
      co_return Ticket(this);
    }
  }
  auto executor = co_await asio::this_coro::executor;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [this, executor](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto resume = [shared, executor]() { asio::post(executor, [shared]() { (*shared)(); }); };
        bool now = false;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (in_use_ < limit_ || closed_) {
            ++in_use_;
            now = true;
          } else {
            waiters_.push_back(std::move(resume));
          }
        }
        if (now) resume();
      },
      asio::use_awaitable);
  co_return Ticket(this);
}

}  // namespace mailsec::net
