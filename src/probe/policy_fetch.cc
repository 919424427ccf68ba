// MTA-STS policy fetch over cpp-httplib 0.11.4 (see policy_fetch.h).
//
// What httplib 0.11.4 does and does not do for us, and what we add:
// - set_hostname_addr_map connects to the given address while SNI, the Host header and
//   SSLClient::verify_host keep using the host name the client was built with, so the check is
//   against mta-sts.<domain> and never against the mapped IP.
// - Its own verify_host is lax: the subject CN is accepted even when subjectAltName DNS names are
//   present, and "*" matches any label in any position ("*.*.test", "mta-sts.example.*"). It is
//   also case-sensitive, so we pass a lower-cased name. We therefore also put the reference
//   identity into the SSL_CTX's X509_VERIFY_PARAM: OpenSSL then matches it during chain
//   verification with RFC 6125 rules (DNS-IDs only, wildcard only as the whole left-most label)
//   and a mismatch shows as a verify error, which httplib reports as SSLServerVerification. Both
//   checks must pass.
// - Its timeouts bound each wait (select/poll), not the whole exchange: a peer sending one byte
//   per interval, or headers without end, would outlive any budget. A content receiver stops the
//   body at the deadline and at the size cap, and a watchdog thread calls ClientImpl::stop() (the
//   one call httplib makes safe from another thread: shutdown(2) on the socket in flight) once the
//   deadline passes. stop() waits for httplib's socket mutex, which is held during connect and
//   the handshake; those are bounded by the connection timeout we derive from the budget.
#include "probe/http_guard.h"
#include "mailsec/probe/policy_fetch.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

namespace mailsec::probe {
namespace {

using Clock = std::chrono::steady_clock;
using checks::PolicyFetch;
using checks::PolicyFetchOutcome;

constexpr char kPolicyPath[] = "/.well-known/mta-sts.txt";
// A phase that failed this close to the deadline failed because it ran out of time (select
// timeouts are rounded to microseconds and the clock is read after the wait returns).
constexpr std::chrono::milliseconds kDeadlineSlack{25};

PolicyFetch Outcome(PolicyFetchOutcome outcome) {
  PolicyFetch f;
  f.outcome = outcome;
  return f;
}

// Lower-cases `domain`, drops one trailing dot, checks LDH labels (1..63 octets) and returns
// "mta-sts." + domain if the whole name fits in 253 octets. The name becomes the Host header and
// SNI, so nothing outside [a-z0-9.-] may pass.
bool PolicyHostName(const std::string& domain, std::string* host) {
  std::string d = domain;
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty()) return false;
  size_t label = 0;
  for (char& c : d) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ldh = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ldh || ++label > 63) return false;
  }
  if (label == 0) return false;
  *host = "mta-sts." + d;
  return host->size() <= 253;
}

// Only numeric addresses: httplib would resolve anything else itself, behind the caller's
// resolver.
bool IsNumericAddress(const std::string& address) {
  in6_addr buf;
  return inet_pton(AF_INET, address.c_str(), &buf) == 1 ||
         inet_pton(AF_INET6, address.c_str(), &buf) == 1;
}


using Cancel = internal::HttpCancel;
using Watchdog = internal::HttpWatchdog;


// One attempt against one address. *final is false only when the TCP connection was not made and
// the next address may be tried.
PolicyFetch FetchFrom(const std::string& host, const std::string& address,
                      const PolicyFetchOptions& options, Clock::time_point deadline, bool* final) {
  *final = true;
  httplib::SSLClient client(host, options.port);
  if (!client.is_valid()) return Outcome(PolicyFetchOutcome::kTlsFailed);

  // RFC 6125 host check by OpenSSL during chain verification; inherited by every SSL* the
  // client creates from this context (see the file comment).
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(client.ssl_context());
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) {
    return Outcome(PolicyFetchOutcome::kTlsFailed);
  }
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);

  client.set_hostname_addr_map({{host, address}});
  client.enable_server_certificate_verification(true);
  if (!options.ca_file.empty()) client.set_ca_cert_path(options.ca_file);
  client.set_follow_location(false);
  client.set_keep_alive(false);
  const auto remaining =
      std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
  const auto wait = std::max(remaining, std::chrono::microseconds(1000));
  client.set_connection_timeout(wait);
  client.set_read_timeout(wait);
  client.set_write_timeout(wait);

  Cancel cancel = Cancel::kNone;
  int status = 0;
  std::string content_type;
  std::string body;
  // Identity: the receiver caps what httplib hands it, decoded or not, but there is no reason to
  // invite a compressed stream.
  const httplib::Headers headers = {{"Accept-Encoding", "identity"},
                                    {"User-Agent", "mailsec_exporter"}};
  httplib::Result result = [&] {
    Watchdog watchdog(&client, deadline);
    return client.Get(
        kPolicyPath, headers,
        [&](const httplib::Response& res) {
          status = res.status;
          content_type = res.get_header_value("Content-Type");
          if (res.status != 200) {  // only a 200 body is a policy: do not read the rest
            cancel = Cancel::kNotOk;
            return false;
          }
          if (internal::ContentLengthOver(res, checks::kMaxMtaStsPolicyBytes)) {
            cancel = Cancel::kTooLarge;
            return false;
          }
          return true;
        },
        [&](const char* data, size_t len) {
          if (len > checks::kMaxMtaStsPolicyBytes - body.size()) {
            cancel = Cancel::kTooLarge;
            return false;
          }
          if (Clock::now() >= deadline) {
            cancel = Cancel::kDeadline;
            return false;
          }
          body.append(data, len);
          return true;
        });
  }();
  // Whether the budget ran out is read from the clock: that covers both the watchdog's stop()
  // and waits that httplib's own timeouts ended.
  const bool out_of_time = Clock::now() + kDeadlineSlack >= deadline;

  const httplib::Error error = result.error();
  if (error == httplib::Error::Success && result) {
    PolicyFetch f;
    f.http_status = result->status;
    f.content_type = result->get_header_value("Content-Type");
    if (f.http_status == 200) f.body = std::move(body);
    return f;
  }
  switch (error) {
    case httplib::Error::Canceled:
      switch (cancel) {
        case Cancel::kNotOk: {
          PolicyFetch f;
          f.http_status = status;
          f.content_type = std::move(content_type);
          return f;
        }
        case Cancel::kTooLarge:
          return Outcome(PolicyFetchOutcome::kTooLarge);
        case Cancel::kDeadline:
        case Cancel::kNone:
          return Outcome(PolicyFetchOutcome::kTimeout);
      }
      return Outcome(PolicyFetchOutcome::kTimeout);
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::BindIPAddress:
      *final = false;
      return Outcome(out_of_time || error == httplib::Error::ConnectionTimeout
                         ? PolicyFetchOutcome::kTimeout
                         : PolicyFetchOutcome::kConnectFailed);
    case httplib::Error::SSLConnection:
      // Also what httplib reports when the handshake waited out the connection timeout.
      return Outcome(out_of_time ? PolicyFetchOutcome::kTimeout : PolicyFetchOutcome::kTlsFailed);
    case httplib::Error::SSLServerVerification:
      return Outcome(PolicyFetchOutcome::kCertInvalid);
    case httplib::Error::SSLLoadingCerts:  // options.ca_file unreadable: local, but final
      return Outcome(PolicyFetchOutcome::kTlsFailed);
    case httplib::Error::Unknown:
      return Outcome(PolicyFetchOutcome::kConnectFailed);
    default:
      // Read, Write (including the socket shut by the watchdog), Compression: the connection
      // broke or stalled before a complete response.
      return Outcome(PolicyFetchOutcome::kTimeout);
  }
}

PolicyFetch Fetch(const std::string& domain, const std::vector<std::string>& addresses,
                  const PolicyFetchOptions& options) {
  std::string host;
  if (addresses.empty() || !PolicyHostName(domain, &host)) {
    return Outcome(PolicyFetchOutcome::kNoHost);
  }
  const Clock::time_point deadline =
      Clock::now() + std::max(options.timeout, std::chrono::milliseconds(0));
  PolicyFetch last = Outcome(PolicyFetchOutcome::kConnectFailed);
  for (const std::string& address : addresses) {
    if (Clock::now() >= deadline) return Outcome(PolicyFetchOutcome::kTimeout);
    if (!IsNumericAddress(address)) continue;  // stays kConnectFailed unless another connects
    bool final = true;
    last = FetchFrom(host, address, options, deadline, &final);
    if (final) break;
  }
  return last;
}

asio::awaitable<PolicyFetch> FetchOnPool(std::string domain, std::vector<std::string> addresses,
                                         PolicyFetchOptions options) {
  co_return FetchMtaStsPolicyBlocking(domain, addresses, options);
}

}  // namespace

checks::PolicyFetch FetchMtaStsPolicyBlocking(const std::string& domain,
                                              const std::vector<std::string>& addresses,
                                              const PolicyFetchOptions& options) {
  try {
    return Fetch(domain, addresses, options);
  } catch (...) {  // bad_alloc, or no thread for the watchdog
    return Outcome(PolicyFetchOutcome::kConnectFailed);
  }
}

asio::awaitable<checks::PolicyFetch> FetchMtaStsPolicy(std::string domain,
                                                       std::vector<std::string> addresses,
                                                       PolicyFetchOptions options,
                                                       asio::thread_pool& pool) {
  // co_spawn's completion is dispatched through the awaiting coroutine's executor, so we resume
  // there and not on the pool.
  PolicyFetch fetch = co_await asio::co_spawn(
      pool, FetchOnPool(std::move(domain), std::move(addresses), std::move(options)),
      asio::use_awaitable);
  co_return fetch;
}

}  // namespace mailsec::probe
