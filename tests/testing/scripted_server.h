// A scripted TCP server on 127.0.0.1 for dialogue tests: accepts one connection, then for each
// step optionally waits for a line starting with `expect` and sends `send`. Every wait is
// bounded (5 s per read). Runs on its own thread; the destructor joins it.
#pragma once

#include <string>
#include <thread>
#include <vector>

namespace mailsec::testing {

struct Step {
  std::string expect;  // prefix of the client line to wait for; empty: do not read
  std::string send;    // bytes to send after it; may be empty
  int pause_ms = 0;    // sleep before sending (bounded, for timing tests)
};

// A TCP port on 127.0.0.1 that nobody listens on (bound, then closed again).
int UnusedLoopbackPort();

class ScriptedServer {
 public:
  // hold_open_ms: how long to keep the connection after the last step (to provoke timeouts).
  explicit ScriptedServer(std::vector<Step> steps, int hold_open_ms = 0);
  ~ScriptedServer();
  int port() const { return port_; }
  // What the client sent, line by line (CRLF stripped). Valid after the server thread ended.
  std::vector<std::string> received();
  // Empty when every expected line arrived.
  std::string error();

 private:
  void Run(std::vector<Step> steps, int hold_open_ms);
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::string> received_;
  std::string error_;
};

}  // namespace mailsec::testing
