#include "mailsec/net/gate.h"

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
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

void Gate::Wake(const std::shared_ptr<Waiter>& w) {
  // The timer belongs to the waiter's executor (strand): cancel it there.
  asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
}

void Gate::SetLimit(int limit) {
  std::deque<std::shared_ptr<Waiter>> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = limit < 1 ? 1 : limit;
    while (in_use_ < limit_ && !waiters_.empty()) {
      ++in_use_;
      waiters_.front()->granted = true;
      wake.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
  }
  for (auto& w : wake) Wake(w);
}

void Gate::Close() {
  std::deque<std::shared_ptr<Waiter>> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    in_use_ += static_cast<int>(waiters_.size());
    for (auto& w : waiters_) w->granted = true;
    wake.swap(waiters_);
  }
  for (auto& w : wake) Wake(w);
}

void Gate::Release() {
  std::shared_ptr<Waiter> next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_ && !waiters_.empty() && in_use_ <= limit_) {
      next = std::move(waiters_.front());  // the slot passes straight to the next waiter
      waiters_.pop_front();
      next->granted = true;
    } else {
      --in_use_;
    }
  }
  if (next) Wake(next);
}

std::optional<Gate::Ticket> Gate::TryAcquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || (in_use_ < limit_ && waiters_.empty())) {
    ++in_use_;
    return Ticket(this);
  }
  return std::nullopt;
}

asio::awaitable<Gate::Ticket> Gate::Acquire() {
  auto executor = co_await asio::this_coro::executor;
  auto waiter = std::make_shared<Waiter>(executor);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (in_use_ < limit_ || closed_) {
      ++in_use_;
      co_return Ticket(this);
    }
    waiters_.push_back(waiter);
  }
  // Bounded: every turn either returns or waits for a wake-up that Release, SetLimit or Close
  // sends; a spurious end of the wait (nobody granted) just waits again.
  for (;;) {
    std::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    std::lock_guard<std::mutex> lock(mu_);
    if (waiter->granted) co_return Ticket(this);
    waiter->timer.expires_at(asio::steady_timer::time_point::max());
  }
}

}  // namespace mailsec::net
