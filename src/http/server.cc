#include "mailsec/http/server.h"

#include <crypt.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "mailsec/http/gzip.h"
#include "mailsec/http/request.h"

namespace mailsec::http {

bool BcryptMatches(const std::string& password, const std::string& hash) {
  if (hash.size() != 60 || password.find('\0') != std::string::npos) return false;
  auto data = std::make_unique<crypt_data>();  // large: keep it off the stack
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || std::strlen(out) != hash.size()) return false;
  return CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

struct Server::Impl {
  Handlers handlers;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  int port = 0;
  int max_probes = 8;
  std::atomic<int> probes_in_flight{0};

  std::mutex auth_mu;  // guards users and verified
  std::map<std::string, std::string> users;
  // user -> SHA-256 of the password last verified for it: bcrypt is slow on purpose, and a
  // scraper sends the same credentials every few seconds.
  std::map<std::string, std::array<unsigned char, 32>> verified;

  static std::array<unsigned char, 32> Digest(const std::string& password) {
    std::array<unsigned char, 32> md{};
    unsigned int len = 0;
    EVP_Digest(password.data(), password.size(), md.data(), &len, EVP_sha256(), nullptr);
    return md;
  }

  bool Authorized(const httplib::Request& req) {
    std::string hash;
    std::string user;
    std::string password;
    {
      std::lock_guard<std::mutex> lock(auth_mu);
      if (users.empty()) return true;
    }
    if (!ParseBasicAuth(req.get_header_value("Authorization"), &user, &password)) return false;
    const std::array<unsigned char, 32> md = Digest(password);
    {
      std::lock_guard<std::mutex> lock(auth_mu);
      auto it = users.find(user);
      if (it == users.end()) return false;
      hash = it->second;
      auto v = verified.find(user);
      if (v != verified.end() && CRYPTO_memcmp(v->second.data(), md.data(), md.size()) == 0) {
        return true;
      }
    }
    if (!BcryptMatches(password, hash)) return false;
    std::lock_guard<std::mutex> lock(auth_mu);
    auto it = users.find(user);
    if (it != users.end() && it->second == hash) verified[user] = md;  // not replaced meanwhile
    return true;
  }

  void Install(httplib::Server& s);
};

namespace {

// Field "index" (from 0, separated by white space) of a /proc/sys file as a number; 0 when it
// cannot be read.
long ReadProcLong(const char* path, int index) {
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) return 0;
  long value = 0;
  for (int i = 0; i <= index; ++i) {
    if (std::fscanf(f, "%ld", &value) != 1) {
      value = 0;
      break;
    }
  }
  std::fclose(f);
  return value;
}

bool AcceptsGzip(const httplib::Request& req) {
  const std::string accept = req.get_header_value("Accept-Encoding");
  return AcceptsCoding(accept, "gzip") || AcceptsCoding(accept, "x-gzip");
}

// Sends "bytes" with its length: cpp-httplib neither compresses nor copies them (a Range gets
// its part).
void SetBytes(httplib::Response& res, std::shared_ptr<const std::string> bytes,
              const char* type) {
  if (bytes->empty()) {  // cpp-httplib takes a provider of length 0 as none
    res.set_content(std::string(), type);
    return;
  }
  res.set_content_provider(bytes->size(), type,
                           [bytes](size_t offset, size_t length, httplib::DataSink& sink) {
                             if (offset > bytes->size() || length > bytes->size() - offset) {
                               return false;
                             }
                             return sink.write(bytes->data() + offset, length);
                           });
}

// When the client accepts gzip: the gzip (ours, zlib's level 1) of what "write" hands over,
// sent with its length; false, and nothing set, when it does not accept gzip or zlib failed (out
// of memory).
bool SetGzipped(const httplib::Request& req, httplib::Response& res,
                const std::function<bool(const PieceWriter&)>& write, const char* type) {
  if (!AcceptsGzip(req)) return false;
  GzipStream gzip;
  if (!write([&gzip](std::string_view piece) { return gzip.Add(piece); })) return false;
  std::optional<std::string> zipped = gzip.Finish();
  if (!zipped) return false;
  res.set_header("Content-Encoding", "gzip");
  SetBytes(res, std::make_shared<const std::string>(std::move(*zipped)), type);
  return true;
}

// A big text body (the status page, a /probe answer): gzipped by us when the client accepts it,
// else as it is. Never through cpp-httplib's own compression, whose brotli (quality 11, picked
// before gzip whenever a client lists br, as browsers do) takes seconds per MB.
void SetText(const httplib::Request& req, httplib::Response& res, std::string text,
             const char* type) {
  res.set_header("Vary", "Accept-Encoding");
  if (!req.has_header("Accept-Encoding")) {  // nothing to compress, nothing cpp-httplib would
    res.set_content(std::move(text), type);
    return;
  }
  if (SetGzipped(req, res, [&text](const PieceWriter& write) { return write(text); }, type)) {
    return;
  }
  SetBytes(res, std::make_shared<const std::string>(std::move(text)), type);
}

}  // namespace

int SendBufferToAsk(long wmem_max, long tcp_wmem_max) {
  constexpr long kWanted = 4L << 20;  // the kernel doubles what is asked: 8 MiB
  const long asked = std::min(kWanted, wmem_max);
  // Asking turns autotuning off for the socket: only worth it when it gives more.
  return asked > 0 && 2 * asked > tcp_wmem_max ? static_cast<int>(asked) : 0;
}

void Server::Impl::Install(httplib::Server& s) {
  Impl* impl = this;
  // Every path, health included, is behind the credentials when users are configured.
  s.set_pre_routing_handler([impl](const httplib::Request& req, httplib::Response& res) {
    if (impl->Authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 401;
    res.set_header("WWW-Authenticate", "Basic realm=\"mailsec_exporter\", charset=\"UTF-8\"");
    res.set_content("unauthorized\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.Get("/metrics", [impl](const httplib::Request& req, httplib::Response& res) {
    constexpr const char* kType = "text/plain; version=0.0.4; charset=utf-8";
    if (!impl->handlers.metrics_body) {
      SetText(req, res, impl->handlers.metrics(), kType);
      return;
    }
    // Streamed with its length: the body of a big fleet is tens of MB, and a string of it would
    // be one more copy of it per scrape in flight. Never through cpp-httplib's own compression:
    // gzip is ours, at zlib's fastest level (cpp-httplib's is level 6: ~3x the CPU for ~12%
    // fewer bytes), and its brotli (quality 11, taken before gzip when a client lists both)
    // needs seconds per MB. A client that accepts br alone gets the text as it is.
    auto body = std::make_shared<const MetricsBody>(impl->handlers.metrics_body());
    res.set_header("Vary", "Accept-Encoding");
    if (SetGzipped(req, res, body->write, kType)) return;
    if (body->size == 0) {  // nothing to stream (cpp-httplib takes a provider of length 0 as none)
      res.set_content(std::string(), kType);
      return;
    }
    res.set_content_provider(
        body->size, kType, [body](size_t offset, size_t length, httplib::DataSink& sink) {
          // Bytes [offset, offset + length) of the body: all of it, or the part a Range asked.
          const size_t end = offset + length;
          if (end > body->size || end < offset) return false;
          size_t at = 0;
          bool failed = false;  // the client went away, or the body ran past its size
          const bool whole = body->write([&](std::string_view piece) {
            const size_t begin = at;
            at += piece.size();
            if (at > body->size) {
              failed = true;
              return false;
            }
            if (at <= offset) return true;  // before the part asked for
            const size_t from = std::max(offset, begin) - begin;
            const size_t to = std::min(end, at) - begin;
            if (!sink.write(piece.data() + from, to - from)) {
              failed = true;
              return false;
            }
            return at < end || end == body->size;  // stop once past it, unless it runs to the end
          });
          if (failed) return false;
          // A body shorter than it said closes the connection: never a wrong body.
          return end < body->size ? at >= end : whole && at == body->size;
        });
  });
  s.Get("/probe", [impl](const httplib::Request& req, httplib::Response& res) {
    auto param = [&req](const char* name) -> std::optional<std::string> {
      if (!req.has_param(name)) return std::nullopt;
      return req.get_param_value(name);
    };
    std::optional<std::string> timeout;
    if (req.has_header("X-Prometheus-Scrape-Timeout-Seconds")) {
      timeout = req.get_header_value("X-Prometheus-Scrape-Timeout-Seconds");
    }
    Result<ProbeQuery> q = ParseProbeQuery(param("target"), param("scan"), timeout);
    if (!q.ok()) {
      res.status = 400;
      res.set_content(q.status().message() + "\n", "text/plain");
      return;
    }
    if (impl->probes_in_flight.fetch_add(1) >= impl->max_probes) {
      impl->probes_in_flight.fetch_sub(1);
      res.status = 503;
      res.set_content("too many /probe requests at once (web.max_concurrent_probes = " +
                          std::to_string(impl->max_probes) + ")\n",
                      "text/plain");
      return;
    }
    struct Release {
      std::atomic<int>* n;
      ~Release() { n->fetch_sub(1); }
    } release{&impl->probes_in_flight};
    ProbeReply r = impl->handlers.probe(q->target, q->scan, q->budget_seconds);
    res.status = r.status;
    SetText(req, res, std::move(r.body),
            r.status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
  });
  s.Get("/", [impl](const httplib::Request& req, httplib::Response& res) {
    SetText(req, res, impl->handlers.status_page(), "text/html; charset=utf-8");
  });
  s.Get("/-/healthy", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("OK\n", "text/plain");
  });
  s.Get("/-/ready", [impl](const httplib::Request&, httplib::Response& res) {
    bool ok = impl->handlers.ready();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "OK\n" : "not ready\n", "text/plain");
  });
  auto reload = [impl](const httplib::Request&, httplib::Response& res) {
    Status st = impl->handlers.reload();
    if (st.ok() && impl->handlers.basic_auth_users) {
      std::map<std::string, std::string> fresh = impl->handlers.basic_auth_users();
      std::lock_guard<std::mutex> lock(impl->auth_mu);
      impl->users = std::move(fresh);
      impl->verified.clear();
    }
    res.status = st.ok() ? 200 : 500;
    res.set_content(st.ok() ? "reloaded\n" : st.message() + "\n", "text/plain");
  };
  s.Post("/-/reload", reload);
  s.Put("/-/reload", reload);
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = std::string("internal error: ") + e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(what + "\n", "text/plain");
      });
  // A scrape needs no body and a few small headers: keep what a client may send small.
  // The response's headers and body are separate writes: without TCP_NODELAY the body waits
  // for the client's delayed ACK of the headers (~40 ms of every /probe's wall time).
  s.set_tcp_nodelay(true);
  // A bigger send buffer than Linux's autotuning reaches (4 MiB by default): a scrape of tens
  // of MB then blocks its HTTP thread less often, and every wake-up on a busy machine waits
  // for a CPU (docs/benchmarks.md, session 10). Accepted sockets inherit it from the listener.
  // Asked only when the kernel allows more than autotuning would give (SendBufferToAsk).
  const int send_buffer =
      SendBufferToAsk(ReadProcLong("/proc/sys/net/core/wmem_max", 0),
                      ReadProcLong("/proc/sys/net/ipv4/tcp_wmem", 2));
  s.set_socket_options([send_buffer](socket_t sock) {
    httplib::default_socket_options(sock);
    if (send_buffer > 0) setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
  });
  s.set_payload_max_length(64 * 1024);
  s.set_read_timeout(10, 0);
  s.set_write_timeout(60, 0);
  s.set_keep_alive_max_count(100);
  s.set_keep_alive_timeout(30);
}

Server::Server(Handlers handlers) : impl_(std::make_unique<Impl>()) {
  impl_->handlers = std::move(handlers);
}

Server::~Server() { Stop(); }

Status Server::Start(const ServerOptions& options) {
  Result<std::pair<std::string, int>> addr = ParseListenAddress(options.listen_address);
  if (!addr.ok()) return addr.status();
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Status::InvalidArgument("web TLS needs both a certificate and a key file");
  }
  if (!options.tls_cert_file.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(),
                                                    options.tls_key_file.c_str());
    if (!tls->is_valid()) {
      ERR_clear_error();
      return Status::InvalidArgument("web TLS: cannot load " + options.tls_cert_file + " and " +
                                     options.tls_key_file);
    }
    SSL_CTX_set_min_proto_version(tls->ssl_context(), TLS1_2_VERSION);
    impl_->server = std::move(tls);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  impl_->max_probes = std::max(1, options.max_concurrent_probes);
  if (impl_->handlers.basic_auth_users) SetBasicAuthUsers(impl_->handlers.basic_auth_users());
  impl_->Install(*impl_->server);
  auto& s = *impl_->server;
  if (addr->second == 0) {
    impl_->port = s.bind_to_any_port(addr->first.c_str());
  } else {
    impl_->port = s.bind_to_port(addr->first.c_str(), addr->second) ? addr->second : -1;
  }
  if (impl_->port < 0) {
    return Status::IoError("cannot listen on " + options.listen_address + ": " +
                           std::strerror(errno));
  }
  impl_->thread = std::thread([this] { impl_->server->listen_after_bind(); });
  return Status::Ok();
}

void Server::SetBasicAuthUsers(std::map<std::string, std::string> users) {
  std::lock_guard<std::mutex> lock(impl_->auth_mu);
  impl_->users = std::move(users);
  impl_->verified.clear();
}

void Server::Stop() {
  if (impl_ && impl_->thread.joinable()) {
    impl_->server->stop();
    impl_->thread.join();
  }
}

int Server::port() const { return impl_->port; }

}  // namespace mailsec::http
