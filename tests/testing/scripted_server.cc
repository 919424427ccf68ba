#include "testing/scripted_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace mailsec::testing {

int UnusedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

ScriptedServer::ScriptedServer(std::vector<Step> steps, int hold_open_ms) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 4);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread(
      [this, s = std::move(steps), hold_open_ms]() mutable { Run(std::move(s), hold_open_ms); });
}

ScriptedServer::~ScriptedServer() {
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::vector<std::string> ScriptedServer::received() {
  if (thread_.joinable()) thread_.join();
  return received_;
}

std::string ScriptedServer::error() {
  if (thread_.joinable()) thread_.join();
  return error_;
}

void ScriptedServer::Run(std::vector<Step> steps, int hold_open_ms) {
  pollfd p{listen_fd_, POLLIN, 0};
  if (::poll(&p, 1, 10000) != 1) {
    error_ = "no client connected";
    return;
  }
  int fd = ::accept(listen_fd_, nullptr, nullptr);
  if (fd < 0) {
    error_ = "accept failed";
    return;
  }
  std::string buf;
  auto read_line = [&](std::string* line) -> bool {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (int turns = 0; turns < 10000; ++turns) {
      size_t nl = buf.find('\n');
      if (nl != std::string::npos) {
        *line = buf.substr(0, nl);
        if (!line->empty() && line->back() == '\r') line->pop_back();
        buf.erase(0, nl + 1);
        return true;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return false;
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, static_cast<int>(left)) != 1) return false;
      char chunk[4096];
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<size_t>(n));
    }
    return false;
  };
  for (const Step& s : steps) {
    if (!s.expect.empty()) {
      std::string line;
      if (!read_line(&line)) {
        error_ = "expected \"" + s.expect + "\", got nothing";
        break;
      }
      received_.push_back(line);
      if (line.compare(0, s.expect.size(), s.expect) != 0) {
        error_ = "expected \"" + s.expect + "\", got \"" + line + "\"";
        break;
      }
    }
    if (s.pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(s.pause_ms));
    if (!s.send.empty()) {
      if (::send(fd, s.send.data(), s.send.size(), MSG_NOSIGNAL) < 0) {
        error_ = "send failed";
        break;
      }
    }
  }
  if (hold_open_ms > 0) {
    pollfd q{fd, POLLIN, 0};
    ::poll(&q, 1, hold_open_ms);  // returns early when the client hangs up
  }
  ::close(fd);
}

}  // namespace mailsec::testing
