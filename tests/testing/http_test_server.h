// Runs an already bound cpp-httplib server on its own thread for a test, and waits (bounded)
// until its accept loop runs: a stop() issued before that would be lost. Header-only.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

namespace mailsec::testing {

inline std::thread ListenInBackground(httplib::Server& server) {
  std::thread thread([&server] { server.listen_after_bind(); });
  for (int i = 0; i < 400 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(server.is_running());
  return thread;
}

}  // namespace mailsec::testing
