// libFuzzer target for what a /probe request carries: the query's target, scan and the
// X-Prometheus-Scrape-Timeout-Seconds header (ParseProbeQuery), the target itself as the
// exporter reads it (endpoint URL or domain name), and the Authorization header
// (ParseBasicAuth). The input is split at the first three newlines into those four fields. The
// last one is also read as an Accept-Encoding header (AcceptsCoding).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mailsec/config/target.h"
#include "mailsec/http/request.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

std::optional<std::string> Field(std::string_view* rest) {
  if (rest->empty()) return std::nullopt;
  const size_t nl = rest->find('\n');
  std::string f(rest->substr(0, nl));
  rest->remove_prefix(nl == std::string_view::npos ? rest->size() : nl + 1);
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::optional<std::string> target = Field(&rest);
  const std::optional<std::string> scan = Field(&rest);
  const std::optional<std::string> timeout = Field(&rest);
  const std::string authorization(rest);

  mailsec::Result<mailsec::http::ProbeQuery> q =
      mailsec::http::ParseProbeQuery(target, scan, timeout);
  if (q.ok()) {
    Check(!q->target.empty());
    Check(q->budget_seconds >= 0 && q->budget_seconds <= 86400);
    if (q->target.find("://") != std::string::npos) {
      auto t = mailsec::config::ParseEndpointTarget(q->target);
      if (t.ok()) {
        auto again = mailsec::config::ParseEndpointTarget(t->ToString());
        Check(again.ok() && *again == *t);
      }
    } else {
      auto d = mailsec::config::ParseDomainName(q->target);
      if (d.ok()) Check(mailsec::config::ParseDomainName(*d).ok());
    }
  }
  std::string user;
  std::string password;
  if (mailsec::http::ParseBasicAuth(authorization, &user, &password)) {
    Check(user.find(':') == std::string::npos);
    Check(user.size() + password.size() < authorization.size());
  }
  // A named coding: the same verdict after any amount of whitespace around the list's members.
  const bool gzip = mailsec::http::AcceptsCoding(authorization, "gzip");
  if (authorization.size() < 4000) {
    Check(mailsec::http::AcceptsCoding(" " + authorization, "gzip") == gzip);
  }
  if (authorization.empty()) Check(!gzip);
  return 0;
}
