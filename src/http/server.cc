#include "mailsec/http/server.h"

#include <httplib.h>

#include <charconv>
#include <thread>

namespace mailsec::http {

Result<std::pair<std::string, int>> ParseListenAddress(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("listen address \"" + address + "\": missing :PORT");
  }
  std::string host = address.substr(0, colon);
  std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return Status::InvalidArgument("listen address \"" + address + "\": IPv6 needs brackets");
  }
  int port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 0 || port > 65535 ||
      port_text.empty()) {
    return Status::InvalidArgument("listen address \"" + address + "\": bad port");
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, port);
}

struct Server::Impl {
  Handlers handlers;
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

Server::Server(Handlers handlers) : impl_(std::make_unique<Impl>()) {
  impl_->handlers = std::move(handlers);
  auto& s = impl_->server;
  Impl* impl = impl_.get();

  s.Get("/metrics", [impl](const httplib::Request&, httplib::Response& res) {
    res.set_content(impl->handlers.metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  s.Get("/probe", [impl](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("target") || req.get_param_value("target").empty()) {
      res.status = 400;
      res.set_content("missing parameter \"target\"\n", "text/plain");
      return;
    }
    bool scan = false;
    if (req.has_param("scan")) {
      std::string v = req.get_param_value("scan");
      if (v == "1" || v == "true") {
        scan = true;
      } else if (v != "0" && v != "false" && !v.empty()) {
        res.status = 400;
        res.set_content("bad parameter \"scan\": want 0 or 1\n", "text/plain");
        return;
      }
    }
    double budget = 0;  // 0: the configured timeout
    if (req.has_header("X-Prometheus-Scrape-Timeout-Seconds")) {
      std::string h = req.get_header_value("X-Prometheus-Scrape-Timeout-Seconds");
      char* end = nullptr;
      double v = std::strtod(h.c_str(), &end);
      if (end == h.c_str() || *end != '\0' || !(v > 0) || v > 86400) {
        res.status = 400;
        res.set_content("bad header X-Prometheus-Scrape-Timeout-Seconds\n", "text/plain");
        return;
      }
      // Leave half a second (or a tenth of short budgets) to send the answer back in time.
      budget = v > 5 ? v - 0.5 : v * 0.9;
    }
    ProbeReply r = impl->handlers.probe(req.get_param_value("target"), scan, budget);
    res.status = r.status;
    res.set_content(r.body,
                    r.status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
  });
  s.Get("/", [impl](const httplib::Request&, httplib::Response& res) {
    res.set_content(impl->handlers.status_page(), "text/html; charset=utf-8");
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
  s.set_payload_max_length(64 * 1024);
  s.set_read_timeout(10, 0);
  s.set_write_timeout(60, 0);
}

Server::~Server() { Stop(); }

Status Server::Start(const std::string& listen_address) {
  Result<std::pair<std::string, int>> addr = ParseListenAddress(listen_address);
  if (!addr.ok()) return addr.status();
  auto& s = impl_->server;
  if (addr->second == 0) {
    impl_->port = s.bind_to_any_port(addr->first.c_str());
  } else {
    impl_->port = s.bind_to_port(addr->first.c_str(), addr->second) ? addr->second : -1;
  }
  if (impl_->port < 0) {
    return Status::IoError("cannot listen on " + listen_address + ": " + std::strerror(errno));
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  return Status::Ok();
}

void Server::Stop() {
  if (impl_ && impl_->thread.joinable()) {
    impl_->server.stop();
    impl_->thread.join();
  }
}

int Server::port() const { return impl_->port; }

}  // namespace mailsec::http
