#include "fleet_main.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <memory>

namespace mailsec::testing {

Fleet* g_fleet = nullptr;

namespace {

class FleetEnvironment : public ::testing::Environment {
 public:
  FleetEnvironment(std::string base_dir, FleetOptions options)
      : base_dir_(std::move(base_dir)), options_(options) {}
  void SetUp() override {
    fleet_ = std::make_unique<Fleet>(base_dir_, options_);
    g_fleet = fleet_.get();
    ::testing::AssertionResult started = fleet_->Start();
    ASSERT_TRUE(started) << "the fleet did not start";
  }
  void TearDown() override {
    if (fleet_) fleet_->Stop();
  }

 private:
  std::string base_dir_;
  FleetOptions options_;
  std::unique_ptr<Fleet> fleet_;
};

void StopFleetAtExit() {
  if (g_fleet != nullptr) g_fleet->Stop();
}

}  // namespace

int RunWithFleet(int argc, char** argv, const std::string& base_dir, const FleetOptions& options) {
  ::testing::InitGoogleTest(&argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  ::testing::AddGlobalTestEnvironment(new FleetEnvironment(base_dir, options));
  std::atexit(StopFleetAtExit);
  return RUN_ALL_TESTS();
}

}  // namespace mailsec::testing
