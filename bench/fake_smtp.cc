// fake_smtp: a small, fast STARTTLS SMTP server for the benchmarks (bench/run.sh), listening on
// many loopback address:port pairs at once. Not part of the exporter.
//
// Modes (one per process):
//   normal     220 greeting, EHLO (STARTTLS offered), STARTTLS, TLS handshake, EHLO, QUIT.
//   silent     accepts and never says a word (the peer waits for a greeting that never comes).
//   blackhole  listens with an accept queue of one, fills it with a connection of its own and
//              never accepts: the kernel drops every later SYN, so a client's connect hangs
//              until its own deadline, as behind a firewall that drops packets. Needs no
//              privileges (no iptables).
//
// A control listener (--control IP:PORT) answers each connection with its counters, one
// "key value" per line, and closes:
//   endpoints N, accepts N, open N, sessions N (dialogues that reached QUIT after the EHLO over
//   TLS: one per fast probe; deep-scan connections never get there), handshake_failures N,
//   all_reached K T (Unix time T when every endpoint had served K such sessions, K = 1..).
//
// Single-threaded: one io_context on the main thread, so the counters need no lock. Every wait
// is bounded: each connection is closed by a watchdog after --idle seconds.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

enum class Mode { kNormal, kSilent, kBlackhole };

constexpr size_t kMaxLine = 4096;
constexpr int kMaxCommands = 64;  // per connection and phase
constexpr int kMaxLevels = 64;    // all_reached is tracked up to this many sessions per endpoint

struct Options {
  Mode mode = Mode::kNormal;
  std::string endpoints_file;
  std::string cert_file;
  std::string key_file;
  std::string control;  // IP:PORT
  std::string pid_file;
  std::string name = "fake.bench.test";
  int idle_seconds = 60;
};

struct Stats {
  explicit Stats(size_t n)
      : per_endpoint(n, 0), reached(kMaxLevels + 1, 0), reached_at(kMaxLevels + 1, 0.0) {}
  std::vector<uint32_t> per_endpoint;
  std::vector<size_t> reached;     // reached[k]: endpoints with >= k sessions
  std::vector<double> reached_at;  // when reached[k] became the number of endpoints
  uint64_t accepts = 0;
  uint64_t open = 0;
  uint64_t sessions = 0;
  uint64_t handshake_failures = 0;

  void Session(size_t idx) {
    ++sessions;
    uint32_t k = ++per_endpoint[idx];
    if (k > kMaxLevels) return;
    if (++reached[k] == per_endpoint.size()) {
      reached_at[k] =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
    }
  }

  std::string Render() const {
    std::ostringstream out;
    out << "endpoints " << per_endpoint.size() << "\naccepts " << accepts << "\nopen " << open
        << "\nsessions " << sessions << "\nhandshake_failures " << handshake_failures << "\n";
    char buf[64];
    for (int k = 1; k <= kMaxLevels; ++k) {
      if (reached_at[k] == 0) break;
      std::snprintf(buf, sizeof buf, "all_reached %d %.3f\n", k, reached_at[k]);
      out << buf;
    }
    return out.str();
  }
};

Stats* g_stats = nullptr;
asio::ssl::context* g_tls = nullptr;
Options g_opt;

// One accepted connection: its socket and the watchdog that closes it after idle_seconds.
struct Conn {
  explicit Conn(tcp::socket s) : socket(std::move(s)), watchdog(socket.get_executor()) {
    ++g_stats->open;
  }
  ~Conn() { --g_stats->open; }
  tcp::socket socket;
  asio::steady_timer watchdog;
};

void ArmWatchdog(const std::shared_ptr<Conn>& c) {
  c->watchdog.expires_after(std::chrono::seconds(g_opt.idle_seconds));
  c->watchdog.async_wait([weak = std::weak_ptr<Conn>(c)](std::error_code ec) {
    if (ec) return;
    if (auto conn = weak.lock()) {
      std::error_code ignored;
      conn->socket.close(ignored);
    }
  });
}

template <typename Stream>
awaitable<bool> Send(Stream& s, std::string_view text) {
  std::error_code ec;
  co_await asio::async_write(s, asio::buffer(text.data(), text.size()),
                             asio::redirect_error(use_awaitable, ec));
  co_return !ec;
}

// Reads one CRLF-terminated line into *line (without CRLF); false on EOF, error or overlong line.
template <typename Stream>
awaitable<bool> ReadLine(Stream& s, std::string& buf, std::string* line) {
  std::error_code ec;
  size_t n = co_await asio::async_read_until(s, asio::dynamic_buffer(buf, kMaxLine), "\r\n",
                                             asio::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  line->assign(buf, 0, n - 2);
  buf.erase(0, n);
  co_return true;
}

bool Is(std::string_view line, std::string_view verb) {
  if (line.size() < verb.size()) return false;
  for (size_t i = 0; i < verb.size(); ++i) {
    char c = line[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != verb[i]) return false;
  }
  return line.size() == verb.size() || line[verb.size()] == ' ';
}

enum class Next { kClose, kStartTls };

// The SMTP command loop, before (tls=false) or after TLS.
template <typename Stream>
awaitable<Next> Converse(Stream& s, std::string& buf, bool tls, size_t idx) {
  std::string line;
  bool ehlo = false;
  const std::string ehlo_reply = "250-" + g_opt.name +
                                 "\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n" +
                                 (tls ? std::string() : std::string("250-STARTTLS\r\n")) +
                                 "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n";
  for (int i = 0; i < kMaxCommands; ++i) {
    if (!co_await ReadLine(s, buf, &line)) co_return Next::kClose;
    if (Is(line, "EHLO")) {
      ehlo = true;
      if (!co_await Send(s, ehlo_reply)) co_return Next::kClose;
    } else if (Is(line, "HELO")) {
      if (!co_await Send(s, "250 " + g_opt.name + "\r\n")) co_return Next::kClose;
    } else if (Is(line, "STARTTLS") && !tls) {
      if (!co_await Send(s, "220 2.0.0 Ready to start TLS\r\n")) co_return Next::kClose;
      co_return Next::kStartTls;
    } else if (Is(line, "QUIT")) {
      if (tls && ehlo) g_stats->Session(idx);
      (void)co_await Send(s, "221 2.0.0 Bye\r\n");
      co_return Next::kClose;
    } else if (Is(line, "NOOP") || Is(line, "RSET")) {
      if (!co_await Send(s, "250 2.0.0 Ok\r\n")) co_return Next::kClose;
    } else {
      if (!co_await Send(s, "502 5.5.2 Error: command not recognized\r\n")) co_return Next::kClose;
    }
  }
  co_return Next::kClose;
}

awaitable<void> Smtp(std::shared_ptr<Conn> c, size_t idx) {
  ArmWatchdog(c);
  std::string buf;
  if (!co_await Send(c->socket, "220 " + g_opt.name + " ESMTP bench\r\n")) co_return;
  if (co_await Converse(c->socket, buf, false, idx) != Next::kStartTls) co_return;
  // Whatever the client pipelined after STARTTLS was read in plaintext: it is dropped, never
  // executed inside TLS (RFC 3207 §5).
  buf.clear();
  asio::ssl::stream<tcp::socket&> tls(c->socket, *g_tls);
  std::error_code ec;
  co_await tls.async_handshake(asio::ssl::stream_base::server,
                               asio::redirect_error(use_awaitable, ec));
  if (ec) {
    ++g_stats->handshake_failures;
    co_return;
  }
  (void)co_await Converse(tls, buf, true, idx);
  std::error_code ignored;
  c->socket.close(ignored);
}

// Holds a connection without a word until the peer leaves or the watchdog fires.
awaitable<void> Silent(std::shared_ptr<Conn> c) {
  ArmWatchdog(c);
  char sink[512];
  for (int i = 0; i < 1024; ++i) {
    std::error_code ec;
    co_await c->socket.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
  }
}

awaitable<void> AcceptLoop(tcp::acceptor& acceptor, size_t idx) {
  asio::steady_timer backoff(acceptor.get_executor());
  // Ends when the acceptor is closed at shutdown.
  while (acceptor.is_open()) {
    std::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
    if (ec) {  // EMFILE and friends: wait a moment
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    ++g_stats->accepts;
    auto conn = std::make_shared<Conn>(std::move(s));
    if (g_opt.mode == Mode::kNormal) {
      asio::co_spawn(acceptor.get_executor(), Smtp(std::move(conn), idx), asio::detached);
    } else {
      asio::co_spawn(acceptor.get_executor(), Silent(std::move(conn)), asio::detached);
    }
  }
}

awaitable<void> ControlLoop(tcp::acceptor& acceptor) {
  while (acceptor.is_open()) {
    std::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
    if (ec) continue;
    std::string text = g_stats->Render();
    co_await asio::async_write(s, asio::buffer(text), asio::redirect_error(use_awaitable, ec));
    s.close(ec);
  }
}

tcp::endpoint ParseEndpoint(const std::string& ip, const std::string& port) {
  return tcp::endpoint(asio::ip::make_address_v4(ip), static_cast<unsigned short>(std::stoi(port)));
}

int Usage() {
  std::cerr
      << "usage: fake_smtp --mode normal|silent|blackhole --endpoints FILE (lines \"IP PORT\")"
         " [--cert PEM --key PEM] [--control IP:PORT] [--pid-file F] [--idle SECONDS]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode") {
      if (v == "normal")
        g_opt.mode = Mode::kNormal;
      else if (v == "silent")
        g_opt.mode = Mode::kSilent;
      else if (v == "blackhole")
        g_opt.mode = Mode::kBlackhole;
      else
        return Usage();
    } else if (k == "--endpoints") {
      g_opt.endpoints_file = v;
    } else if (k == "--cert") {
      g_opt.cert_file = v;
    } else if (k == "--key") {
      g_opt.key_file = v;
    } else if (k == "--control") {
      g_opt.control = v;
    } else if (k == "--pid-file") {
      g_opt.pid_file = v;
    } else if (k == "--idle") {
      g_opt.idle_seconds = std::stoi(v);
    } else {
      return Usage();
    }
  }
  if (g_opt.endpoints_file.empty()) return Usage();
  if (g_opt.mode == Mode::kNormal && (g_opt.cert_file.empty() || g_opt.key_file.empty())) {
    return Usage();
  }
  signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  std::vector<tcp::endpoint> endpoints;
  {
    std::ifstream in(g_opt.endpoints_file);
    std::string ip, port;
    while (in >> ip >> port) endpoints.push_back(ParseEndpoint(ip, port));
  }
  if (endpoints.empty()) {
    std::cerr << "fake_smtp: no endpoints in " << g_opt.endpoints_file << "\n";
    return 1;
  }
  Stats stats(endpoints.size());
  g_stats = &stats;

  asio::ssl::context tls(asio::ssl::context::tls_server);
  if (g_opt.mode == Mode::kNormal) {
    tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3);
    tls.use_certificate_chain_file(g_opt.cert_file);
    tls.use_private_key_file(g_opt.key_file, asio::ssl::context::pem);
  }
  g_tls = &tls;

  asio::io_context io(1);
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::unique_ptr<tcp::socket>> fillers;  // blackhole: the connection filling the queue
  acceptors.reserve(endpoints.size());
  for (size_t i = 0; i < endpoints.size(); ++i) {
    auto a = std::make_unique<tcp::acceptor>(io);
    std::error_code ec;
    a->open(tcp::v4(), ec);
    if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a->bind(endpoints[i], ec);
    if (!ec) a->listen(g_opt.mode == Mode::kBlackhole ? 0 : 4096, ec);
    if (ec) {
      std::cerr << "fake_smtp: listen " << endpoints[i] << ": " << ec.message() << "\n";
      return 1;
    }
    if (g_opt.mode == Mode::kBlackhole) {
      auto f = std::make_unique<tcp::socket>(io);
      f->connect(endpoints[i], ec);  // completes from the kernel's accept queue
      if (ec) {
        std::cerr << "fake_smtp: fill " << endpoints[i] << ": " << ec.message() << "\n";
        return 1;
      }
      fillers.push_back(std::move(f));
    } else {
      asio::co_spawn(io, AcceptLoop(*a, i), asio::detached);
    }
    acceptors.push_back(std::move(a));
  }
  tcp::acceptor control(io);
  if (!g_opt.control.empty()) {
    size_t colon = g_opt.control.rfind(':');
    if (colon == std::string::npos) return Usage();
    tcp::endpoint ep =
        ParseEndpoint(g_opt.control.substr(0, colon), g_opt.control.substr(colon + 1));
    control.open(tcp::v4());
    control.set_option(tcp::acceptor::reuse_address(true));
    control.bind(ep);
    control.listen();
    asio::co_spawn(io, ControlLoop(control), asio::detached);
  }
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](std::error_code, int) { io.stop(); });
  if (!g_opt.pid_file.empty()) {
    std::ofstream(g_opt.pid_file) << getpid() << "\n";
  }
  std::cerr << "fake_smtp: " << endpoints.size() << " endpoints listening\n";
  io.run();
  return 0;
}
