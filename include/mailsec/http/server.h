// The web front: /metrics, /probe, the status page, health, readiness and reload, served by
// cpp-httplib on its own threads. It knows the handlers' shapes, not what is behind them.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "mailsec/base/status.h"

namespace mailsec::http {

struct ProbeReply {
  int status = 200;  // 200, or 400 with a one-line reason in body
  std::string body;  // Prometheus text on 200
};

struct Handlers {
  std::function<std::string()> metrics;  // text exposition of every target + exporter metrics
  // target as given in the query; scan requested; budget in seconds (already reduced by a margin).
  std::function<ProbeReply(const std::string& target, bool scan, double budget_seconds)> probe;
  std::function<std::string()> status_page;  // a whole HTML document
  std::function<bool()> ready;               // first plan loaded
  std::function<Status()> reload;            // error message names FILE:LINE: KEY
};

// Splits ":9525", "0.0.0.0:9525", "[::1]:9525", "localhost:9525" into host and port.
// An empty host means every IPv4 address ("0.0.0.0").
Result<std::pair<std::string, int>> ParseListenAddress(const std::string& address);

class Server {
 public:
  explicit Server(Handlers handlers);
  ~Server();
  // Binds and starts serving on a background thread. Error when the address cannot be bound.
  Status Start(const std::string& listen_address);
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailsec::http
