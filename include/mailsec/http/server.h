// The web front: /metrics, /probe, the status page, health, readiness and reload, served by
// cpp-httplib on its own threads. It knows the handlers' shapes, not what is behind them.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "mailsec/base/status.h"
#include "mailsec/http/request.h"

namespace mailsec::http {

struct ProbeReply {
  int status = 200;  // 200, or 400 with a one-line reason in body
  std::string body;  // Prometheus text on 200
};

// Takes the next piece of a body; false: the client is gone (stop writing).
using PieceWriter = std::function<bool(std::string_view)>;

// A /metrics body of known size, fixed when it was made.
struct MetricsBody {
  size_t size = 0;
  // Hands exactly "size" bytes to the writer given, in pieces, and returns true; false as soon
  // as the writer returns false.
  std::function<bool(const PieceWriter&)> write;
};

struct Handlers {
  std::function<std::string()> metrics;  // text exposition of every target + exporter metrics
  // The same text as a body of known size. When set, /metrics calls it instead of "metrics" and
  // streams the body: with a Content-Length to a client that asks for no compression (nothing
  // copied on the way to the socket), chunked and compressed to one that accepts gzip or br.
  std::function<MetricsBody()> metrics_body;
  // target as given in the query; scan requested; budget in seconds (already reduced by a margin).
  std::function<ProbeReply(const std::string& target, bool scan, double budget_seconds)> probe;
  std::function<std::string()> status_page;  // a whole HTML document
  std::function<bool()> ready;               // first plan loaded
  std::function<Status()> reload;            // error message names FILE:LINE: KEY
  // The basic-auth users of the running config (user -> bcrypt hash); asked at Start and after
  // every successful reload through /-/reload. May be empty (no authentication).
  std::function<std::map<std::string, std::string>()> basic_auth_users;
};

struct ServerOptions {
  std::string listen_address;
  // HTTPS when both are set (TLS 1.2 at least); plain HTTP when both are empty.
  std::string tls_cert_file;
  std::string tls_key_file;
  // /probe requests served at once; more are answered 503 at once.
  int max_concurrent_probes = 8;
};

// The SO_SNDBUF the web server asks for its sockets, given net.core.wmem_max (the most a socket
// may ask) and the last field of net.ipv4.tcp_wmem (how far the kernel's autotuning grows a send
// buffer): 4 MiB (which the kernel doubles) or less, and 0, to leave autotuning on, when asking
// would not give more than autotuning does.
int SendBufferToAsk(long wmem_max, long tcp_wmem_max);

// Whether `password` matches a bcrypt `hash` (crypt(3), constant-time comparison).
bool BcryptMatches(const std::string& password, const std::string& hash);

class Server {
 public:
  explicit Server(Handlers handlers);
  ~Server();
  // Binds and starts serving on a background thread. Error when the address cannot be bound
  // or the TLS files do not load.
  Status Start(const ServerOptions& options);
  Status Start(const std::string& listen_address) { return Start(ServerOptions{listen_address}); }
  // Replaces the basic-auth users (after a reload); empty: no authentication.
  void SetBasicAuthUsers(std::map<std::string, std::string> users);
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailsec::http
