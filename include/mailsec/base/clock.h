// The clock and randomness seams: everything that reads wall time or draws jitter goes through
// these, so tests can fix both. Implementations must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

namespace mailsec {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

// The real wall clock. Thread-safe, stateless.
const Clock& SystemClock();

// A clock that returns what it was set to. Thread-compatible (set before sharing).
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::chrono::system_clock::time_point t) : t_(t) {}
  std::chrono::system_clock::time_point Now() const override { return t_; }
  void Set(std::chrono::system_clock::time_point t) { t_ = t; }

 private:
  std::chrono::system_clock::time_point t_;
};

// Source of jitter: uniform in [0, 1). Thread-safe.
class Jitter {
 public:
  virtual ~Jitter() = default;
  virtual double Uniform01() = 0;
};

// A seeded PRNG behind a mutex.
std::unique_ptr<Jitter> MakeRandomJitter(uint64_t seed);

double ToUnixSeconds(std::chrono::system_clock::time_point t);

}  // namespace mailsec
