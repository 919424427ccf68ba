// Internal to the probe layer: what both blocking HTTP clients (the MTA-STS policy fetch and the
// OCSP/CRL fetch) need on top of cpp-httplib 0.11.4, whose timeouts bound each wait but not the
// whole exchange.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

namespace mailsec::probe::internal {

// Calls client->stop() from its own thread once `deadline` has passed, and again every
// kRepeat until dismissed (the first call may come before httplib registered the request in
// flight). stop() is the one httplib call that is safe from another thread: shutdown(2) on the
// socket in flight.
class HttpWatchdog {
 public:
  static constexpr std::chrono::milliseconds kRepeat{20};

  HttpWatchdog(httplib::ClientImpl* client, std::chrono::steady_clock::time_point deadline)
      : client_(client), deadline_(deadline), thread_([this] { Run(); }) {}
  HttpWatchdog(const HttpWatchdog&) = delete;
  HttpWatchdog& operator=(const HttpWatchdog&) = delete;
  ~HttpWatchdog() { Dismiss(); }

  void Dismiss() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_until(lock, deadline_, [this] { return done_; })) return;
    while (!done_) {
      lock.unlock();
      client_->stop();
      lock.lock();
      cv_.wait_for(lock, kRepeat, [this] { return done_; });
    }
  }

  httplib::ClientImpl* const client_;
  const std::chrono::steady_clock::time_point deadline_;
  std::mutex mu_;  // guards done_
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

// Why our callbacks cancelled a request (httplib reports all of them as Error::Canceled).
enum class HttpCancel : uint8_t { kNone, kNotOk, kTooLarge, kDeadline };

// True when the response announces a body over `cap` bytes (or a length that overflows). A
// malformed length is httplib's to reject; the content receiver still caps what arrives.
bool ContentLengthOver(const httplib::Response& res, size_t cap);

}  // namespace mailsec::probe::internal
