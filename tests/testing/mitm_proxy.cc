#include "testing/mitm_proxy.h"

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cctype>
#include <vector>

namespace mailsec::testing {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

constexpr size_t kMaxLine = 64 * 1024;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// One proxied connection; both directions share it on the proxy's single thread.
struct Conn {
  Conn(tcp::socket c, tcp::socket s, MitmProtocol p, MitmRules r)
      : client(std::move(c)), server(std::move(s)), protocol(p), rules(std::move(r)) {}
  tcp::socket client;
  tcp::socket server;
  MitmProtocol protocol;
  MitmRules rules;
  bool awaiting_go_ahead = false;  // the client's STARTTLS went to the server
  void Close() {
    std::error_code ec;
    client.close(ec);
    server.close(ec);
  }
};

bool IsStartTlsCommand(MitmProtocol p, const std::string& line) {
  const std::string t = Upper(Trim(line));
  switch (p) {
    case MitmProtocol::kSmtp:
      return t == "STARTTLS";
    case MitmProtocol::kPop3:
      return t == "STLS";
    case MitmProtocol::kImap: {
      const size_t sp = t.find(' ');
      return sp != std::string::npos && t.substr(sp + 1) == "STARTTLS";
    }
  }
  return false;
}

// The capability keyword of the protocol and its mask.
std::string Keyword(MitmProtocol p) { return p == MitmProtocol::kPop3 ? "STLS" : "STARTTLS"; }
std::string Mask(MitmProtocol p) { return p == MitmProtocol::kPop3 ? "XXXA" : "XXXXXXXA"; }

// IMAP: STARTTLS is a word inside a line ("* CAPABILITY ... STARTTLS ...", "[CAPABILITY ...]").
std::string RewriteImapLine(const std::string& line, const MitmRules& r) {
  std::string out = line;
  const size_t at = Upper(out).find(" STARTTLS");
  if (at == std::string::npos) return out;
  if (r.strip_starttls) {
    out.erase(at, 9);
  } else if (r.mask_starttls) {
    out.replace(at + 1, 8, "XXXXXXXA");
  }
  return out;
}

// SMTP: a whole reply (lines with CRLF); lines whose text is STARTTLS are dropped or masked,
// and the last line keeps the final separator.
std::string RewriteSmtpReply(const std::vector<std::string>& lines, const MitmRules& r) {
  std::vector<std::string> kept;
  for (const std::string& l : lines) {
    const std::string text = l.size() > 4 ? Upper(Trim(l.substr(4))) : "";
    if (text == "STARTTLS" && r.strip_starttls) continue;
    if (text == "STARTTLS" && r.mask_starttls) {
      kept.push_back(l.substr(0, 4) + "XXXXXXXA\r\n");
      continue;
    }
    kept.push_back(l);
  }
  std::string out;
  for (size_t i = 0; i < kept.size(); ++i) {
    std::string l = kept[i];
    if (l.size() >= 4) l[3] = i + 1 == kept.size() ? ' ' : '-';
    out += l;
  }
  return out;
}

awaitable<void> Pump(std::shared_ptr<Conn> conn, bool to_server, std::string leftover) {
  tcp::socket& from = to_server ? conn->client : conn->server;
  tcp::socket& to = to_server ? conn->server : conn->client;
  try {
    if (!leftover.empty()) co_await asio::async_write(to, asio::buffer(leftover), use_awaitable);
    std::array<char, 16384> buf;
    // Ends when either side closes (an exception).
    for (;;) {
      size_t n = co_await from.async_read_some(asio::buffer(buf), use_awaitable);
      co_await asio::async_write(to, asio::buffer(buf.data(), n), use_awaitable);
    }
  } catch (const std::exception&) {
  }
  conn->Close();
}

awaitable<void> ClientToServer(std::shared_ptr<Conn> conn) {
  std::string buf;
  try {
    for (;;) {
      size_t n = co_await asio::async_read_until(conn->client, asio::dynamic_buffer(buf, kMaxLine),
                                                 "\n", use_awaitable);
      std::string line = buf.substr(0, n);
      buf.erase(0, n);
      if (IsStartTlsCommand(conn->protocol, line)) {
        if (!conn->rules.answer_starttls.empty()) {
          co_await asio::async_write(conn->client, asio::buffer(conn->rules.answer_starttls),
                                     use_awaitable);
          continue;
        }
        conn->awaiting_go_ahead = true;
        co_await asio::async_write(conn->server, asio::buffer(line), use_awaitable);
        // From here on the client speaks TLS: relay it untouched.
        co_await Pump(conn, /*to_server=*/true, std::move(buf));
        co_return;
      }
      co_await asio::async_write(conn->server, asio::buffer(line), use_awaitable);
    }
  } catch (const std::exception&) {
  }
  conn->Close();
}

awaitable<void> ServerToClient(std::shared_ptr<Conn> conn) {
  std::string buf;
  const MitmRules& r = conn->rules;
  bool greeted = false;
  std::vector<std::string> smtp_reply;
  try {
    for (;;) {
      size_t n = co_await asio::async_read_until(conn->server, asio::dynamic_buffer(buf, kMaxLine),
                                                 "\n", use_awaitable);
      std::string line = buf.substr(0, n);
      buf.erase(0, n);
      std::string out;
      bool complete = true;  // a whole reply is in `out`
      if (!greeted && !r.replace_greeting.empty() && smtp_reply.empty()) {
        line = r.replace_greeting + "\r\n";
      }
      switch (conn->protocol) {
        case MitmProtocol::kSmtp:
          smtp_reply.push_back(line);
          complete = !(line.size() >= 4 && line[3] == '-');
          if (complete) {
            out = RewriteSmtpReply(smtp_reply, r);
            smtp_reply.clear();
          }
          break;
        case MitmProtocol::kImap:
          out = RewriteImapLine(line, r);
          // A go-ahead is the tagged answer, not an untagged "* ..." line: those pass on.
          if (greeted && conn->awaiting_go_ahead && line.rfind("* ", 0) == 0) {
            co_await asio::async_write(conn->client, asio::buffer(out), use_awaitable);
            continue;
          }
          break;
        case MitmProtocol::kPop3: {
          const std::string t = Upper(Trim(line));
          if (t == Keyword(conn->protocol) && r.strip_starttls) {
            out.clear();
          } else if (t == Keyword(conn->protocol) && r.mask_starttls) {
            out = Mask(conn->protocol) + "\r\n";
          } else {
            out = line;
          }
          break;
        }
      }
      if (!complete) continue;
      if (!greeted) {
        greeted = true;
        out += r.after_greeting;
      } else if (conn->awaiting_go_ahead) {
        out += r.after_go_ahead;
        co_await asio::async_write(conn->client, asio::buffer(out), use_awaitable);
        co_await Pump(conn, /*to_server=*/false, std::move(buf));
        co_return;
      }
      if (!out.empty()) co_await asio::async_write(conn->client, asio::buffer(out), use_awaitable);
    }
  } catch (const std::exception&) {
  }
  conn->Close();
}

}  // namespace

struct MitmProxy::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  MitmProtocol protocol;
  std::mutex mu;  // guards rules and upstream
  MitmRules rules;
  tcp::endpoint upstream;
  std::atomic<int>* connections = nullptr;
};

namespace {

awaitable<void> Session(MitmProxy::Impl* impl, tcp::socket client) {
  MitmRules rules;
  tcp::endpoint upstream;
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    rules = impl->rules;
    upstream = impl->upstream;
  }
  tcp::socket server(impl->io);
  try {
    co_await server.async_connect(upstream, use_awaitable);
  } catch (const std::exception&) {
    std::error_code ec;
    client.close(ec);
    co_return;
  }
  auto conn = std::make_shared<Conn>(std::move(client), std::move(server), impl->protocol,
                                     std::move(rules));
  asio::co_spawn(impl->io, ClientToServer(conn), asio::detached);
  asio::co_spawn(impl->io, ServerToClient(conn), asio::detached);
}

awaitable<void> AcceptLoop(MitmProxy::Impl* impl) {
  // Ends when the acceptor is closed (the destructor).
  for (;;) {
    std::error_code ec;
    tcp::socket s = co_await impl->acceptor.async_accept(
        asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    impl->connections->fetch_add(1);
    asio::co_spawn(impl->io, Session(impl, std::move(s)), asio::detached);
  }
}

}  // namespace

MitmProxy::MitmProxy(MitmProtocol protocol, const std::string& listen_address,
                     uint16_t listen_port, const std::string& upstream_address,
                     uint16_t upstream_port)
    : impl_(std::make_unique<Impl>()) {
  impl_->protocol = protocol;
  impl_->connections = &connections_;
  std::error_code ec;
  impl_->upstream = tcp::endpoint(asio::ip::make_address(upstream_address, ec), upstream_port);
  if (ec) {
    error_ = "bad upstream address " + upstream_address;
    return;
  }
  tcp::endpoint at(asio::ip::make_address(listen_address, ec), listen_port);
  if (ec) {
    error_ = "bad listen address " + listen_address;
    return;
  }
  impl_->acceptor.open(at.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(at, ec);
  if (!ec) impl_->acceptor.listen(64, ec);
  if (ec) {
    error_ = "cannot listen on " + listen_address + ":" + std::to_string(listen_port) + ": " +
             ec.message();
    return;
  }
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, AcceptLoop(impl_.get()), asio::detached);
  thread_ = std::thread([this] { impl_->io.run(); });
}

MitmProxy::~MitmProxy() {
  impl_->io.stop();
  if (thread_.joinable()) thread_.join();
}

void MitmProxy::SetRules(const MitmRules& rules) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->rules = rules;
}

void MitmProxy::SetUpstream(const std::string& address, uint16_t port) {
  std::error_code ec;
  asio::ip::address a = asio::ip::make_address(address, ec);
  if (ec) return;
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->upstream = tcp::endpoint(a, port);
}

}  // namespace mailsec::testing
