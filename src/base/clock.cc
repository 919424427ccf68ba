#include "mailsec/base/clock.h"

#include <mutex>
#include <random>

namespace mailsec {
namespace {

class RealClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

class RandomJitter final : public Jitter {
 public:
  explicit RandomJitter(uint64_t seed) : rng_(seed) {}
  double Uniform01() override {
    std::lock_guard<std::mutex> lock(mu_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }

 private:
  std::mutex mu_;  // guards rng_
  std::mt19937_64 rng_;
};

}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

std::unique_ptr<Jitter> MakeRandomJitter(uint64_t seed) {
  return std::make_unique<RandomJitter>(seed);
}

double ToUnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace mailsec
