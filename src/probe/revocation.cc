// Revocation of the served leaf: staple, then OCSP over http, then the CRL (see revocation.h).
//
// Fetching over cpp-httplib 0.11.4, and what we add to it:
// - Its timeouts bound each wait (connect, poll), not the whole exchange, and it resolves names
//   with a blocking getaddrinfo. We resolve first ourselves, on a helper thread we stop waiting
//   for at the deadline, and hand httplib the numeric address (set_hostname_addr_map keeps the
//   Host header on the name). A content receiver stops the body at the deadline and at the size
//   cap, and a watchdog thread calls ClientImpl::stop() (shutdown(2) on the socket in flight, the
//   one call httplib makes safe from another thread) once the deadline passes.
// - Redirects are never followed: a 3xx is a failed source like any other non-200 status.
//
// Verification, in OpenSSL terms:
// - OCSP: OCSP_basic_verify with the issuer passed as an extra certificate (a CA signing its own
//   responses often omits its certificate) and as the only trust anchor of a store with
//   X509_V_FLAG_PARTIAL_CHAIN (the issuer is usually an intermediate). Without OCSP_TRUSTOTHER,
//   OpenSSL then also checks that the signer is the CertID's issuer itself, or is certified by it
//   with id-kp-OCSPSigning (RFC 6960 §4.2.2.2). The response must answer our CertID, echo our
//   nonce if it carries one (responders serving cached answers omit it, RFC 8954 §2.1), and be
//   current within kValidityLeeway.
// - CRL: issuer name equal to the leaf's issuer, signature by the issuer's key, thisUpdate not in
//   the future and nextUpdate not past (both with kValidityLeeway), a complete CRL (no delta) whose
//   issuingDistributionPoint scope covers end-entity certificates for all reasons.
#include "mailsec/probe/revocation.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "mailsec/base/status.h"
#include "mailsec/base/text.h"
#include "probe/http_guard.h"

namespace mailsec::probe {
namespace {

using Clock = std::chrono::steady_clock;
using Verdict = RevocationResult::Status;

// thisUpdate/nextUpdate tolerance for clock skew between us and the CA (as `openssl ocsp
// -validity_period 300` and common OCSP clients use).
constexpr long kValidityLeeway = 300;
// A certificate could list hundreds of URLs; the budget bounds the time, this the attempts.
constexpr size_t kMaxUrlsPerSource = 3;
// Longer URLs are not a CA's revocation endpoint.
constexpr size_t kMaxUrlBytes = 1024;
// Addresses tried per host name, in resolver order.
constexpr size_t kMaxAddresses = 4;
// URLs in detail strings are cut to this many bytes.
constexpr size_t kMaxUrlShown = 120;
// A phase that failed this close to the deadline failed because it ran out of time.
constexpr std::chrono::milliseconds kDeadlineSlack{25};

// --- OpenSSL ownership ---------------------------------------------------------------------------

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using OcspReqPtr = std::unique_ptr<OCSP_REQUEST, Deleter<OCSP_REQUEST, OCSP_REQUEST_free>>;
using OcspRespPtr = std::unique_ptr<OCSP_RESPONSE, Deleter<OCSP_RESPONSE, OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, Deleter<OCSP_BASICRESP, OCSP_BASICRESP_free>>;
using OcspIdPtr = std::unique_ptr<OCSP_CERTID, Deleter<OCSP_CERTID, OCSP_CERTID_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using IdpPtr =
    std::unique_ptr<ISSUING_DIST_POINT, Deleter<ISSUING_DIST_POINT, ISSUING_DIST_POINT_free>>;

struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }  // does not own the elements
};
using X509Stack = std::unique_ptr<STACK_OF(X509), X509StackFree>;
struct StringStackFree {
  void operator()(STACK_OF(OPENSSL_STRING) * s) const { X509_email_free(s); }
};
struct DistPointsFree {
  void operator()(STACK_OF(DIST_POINT) * s) const { CRL_DIST_POINTS_free(s); }
};

X509Ptr ParseCert(const std::vector<uint8_t>& der) {
  if (der.empty() || der.size() > static_cast<size_t>(std::numeric_limits<long>::max())) {
    return nullptr;
  }
  const unsigned char* p = der.data();
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

// The reason of the oldest error OpenSSL queued (the root cause; later entries wrap it), then an
// empty queue. "unknown" when the queue was empty.
std::string TakeOpensslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  return reason != nullptr ? reason : "unknown";
}

// --- URLs ----------------------------------------------------------------------------------------

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// The URL goes into an HTTP request line and a Host header: nothing but visible ASCII.
bool AcceptableUrl(std::string_view url) {
  if (url.size() > kMaxUrlBytes || !StartsWithIgnoreCase(url, "http://")) return false;
  return std::all_of(url.begin(), url.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

struct HttpUrl {
  std::string host;  // lower-cased name, or a numeric address (IPv6 without brackets)
  uint16_t port = 80;
  std::string path;  // origin-form: starts with '/', query kept, fragment dropped
};

bool IsNumericAddress(const std::string& host) {
  in6_addr buf;
  return inet_pton(AF_INET, host.c_str(), &buf) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &buf) == 1;
}

// LDH labels of 1..63 octets, up to 253 octets in all.
bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ldh = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ldh || ++label > 63) return false;
  }
  return true;
}

std::optional<HttpUrl> ParseHttpUrl(std::string_view url) {
  if (!AcceptableUrl(url)) return std::nullopt;
  std::string_view rest = url.substr(7);
  const size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path = rest.substr(authority_end);
  path = path.substr(0, std::min(path.find('#'), path.size()));
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo

  HttpUrl u;
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
    u.host = std::string(host);
    in6_addr buf;
    if (inet_pton(AF_INET6, u.host.c_str(), &buf) != 1) return std::nullopt;
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    u.host = AsciiLower(host);
    if (!IsNumericAddress(u.host) && !IsHostName(u.host)) return std::nullopt;
  }
  if (!port.empty()) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || end != port.data() + port.size() || n == 0 || n > 65535) {
      return std::nullopt;
    }
    u.port = static_cast<uint16_t>(n);
  }
  if (path.empty()) {
    u.path = "/";
  } else if (path.front() == '?') {
    u.path = "/" + std::string(path);
  } else {
    u.path = std::string(path);
  }
  return u;
}

std::string Shown(std::string_view url) { return Printable(url, kMaxUrlShown); }

// --- Name resolution under the deadline ----------------------------------------------------------

// getaddrinfo on a helper thread; we stop waiting at the deadline and the thread finishes alone
// (it touches only the shared state).
Result<std::vector<std::string>> Resolve(const std::string& host, Clock::time_point deadline) {
  if (IsNumericAddress(host)) return std::vector<std::string>{host};
  struct State {
    std::mutex mu;  // guards everything below
    std::condition_variable cv;
    bool done = false;
    int rc = 0;
    std::vector<std::string> addresses;
  };
  auto state = std::make_shared<State>();
  std::thread([state, host] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
    std::vector<std::string> found;
    for (addrinfo* a = res; rc == 0 && a != nullptr && found.size() < kMaxAddresses;
         a = a->ai_next) {
      char buf[INET6_ADDRSTRLEN] = {};
      const void* src = nullptr;
      if (a->ai_family == AF_INET) {
        src = &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr;
      } else if (a->ai_family == AF_INET6) {
        src = &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr;
      }
      if (src != nullptr && inet_ntop(a->ai_family, src, buf, sizeof buf) != nullptr &&
          std::find(found.begin(), found.end(), buf) == found.end()) {
        found.emplace_back(buf);
      }
    }
    if (res != nullptr) freeaddrinfo(res);
    std::lock_guard<std::mutex> lock(state->mu);
    state->rc = rc;
    state->addresses = std::move(found);
    state->done = true;
    state->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(state->mu);
  if (!state->cv.wait_until(lock, deadline, [&] { return state->done; })) {
    return Status::Timeout("timed out resolving " + host);
  }
  if (state->rc != 0 || state->addresses.empty()) {
    return Status::NotFound("cannot resolve " + host);
  }
  return state->addresses;
}

// --- HTTP ----------------------------------------------------------------------------------------

using Cancel = internal::HttpCancel;
using Watchdog = internal::HttpWatchdog;

struct FetchRequest {
  const HttpUrl* url;
  const std::string* post_body;  // null: GET
  const char* content_type;      // of the POST body
  const char* accept;
  size_t cap;
  Clock::time_point deadline;
};

// One attempt against one address. *next is true only when the TCP connection was not made and
// the next address may be tried.
Result<std::string> FetchFrom(const FetchRequest& r, const std::string& address, bool* next) {
  *next = false;
  httplib::ClientImpl client(r.url->host, r.url->port);
  client.set_hostname_addr_map({{r.url->host, address}});
  client.set_follow_location(false);
  client.set_keep_alive(false);
  const auto remaining =
      std::chrono::duration_cast<std::chrono::microseconds>(r.deadline - Clock::now());
  const auto wait = std::max(remaining, std::chrono::microseconds(1000));
  client.set_connection_timeout(wait);
  client.set_read_timeout(wait);
  client.set_write_timeout(wait);

  httplib::Request req;
  req.method = r.post_body != nullptr ? "POST" : "GET";
  req.path = r.url->path;
  req.headers = {
      {"Accept", r.accept}, {"Accept-Encoding", "identity"}, {"User-Agent", "mailsec_exporter"}};
  if (r.post_body != nullptr) {
    req.headers.emplace("Content-Type", r.content_type);
    req.body = *r.post_body;
  }
  Cancel cancel = Cancel::kNone;
  int status = 0;
  std::string body;
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    if (res.status != 200) {
      cancel = Cancel::kNotOk;
      return false;
    }
    if (internal::ContentLengthOver(res, r.cap)) {
      cancel = Cancel::kTooLarge;
      return false;
    }
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (len > r.cap - body.size()) {
      cancel = Cancel::kTooLarge;
      return false;
    }
    if (Clock::now() >= r.deadline) {
      cancel = Cancel::kDeadline;
      return false;
    }
    body.append(data, len);
    return true;
  };

  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  bool sent = false;
  {
    Watchdog watchdog(&client, r.deadline);
    sent = client.send(req, res, error);
  }
  const bool out_of_time = Clock::now() + kDeadlineSlack >= r.deadline;
  if (sent && error == httplib::Error::Success) {
    if (res.status != 200) return Status::Refused("HTTP " + std::to_string(res.status));
    return body;
  }
  switch (error) {
    case httplib::Error::Canceled:
      switch (cancel) {
        case Cancel::kNotOk:
          return Status::Refused("HTTP " + std::to_string(status) +
                                 (status / 100 == 3 ? " (redirects are not followed)" : ""));
        case Cancel::kTooLarge:
          return Status::Malformed("response over " + std::to_string(r.cap) + " bytes");
        case Cancel::kDeadline:
        case Cancel::kNone:
          return Status::Timeout("timed out");
      }
      return Status::Timeout("timed out");
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::BindIPAddress:
      *next = true;
      if (out_of_time || error == httplib::Error::ConnectionTimeout) {
        return Status::Timeout("connect timed out");
      }
      return Status::IoError("connection failed");
    default:
      // Read, Write (including the socket shut by the watchdog): the connection broke or
      // stalled before a complete response.
      if (out_of_time) return Status::Timeout("timed out");
      return Status::IoError("connection broke before a complete response");
  }
}

Result<std::string> Fetch(const FetchRequest& r) {
  Result<std::vector<std::string>> addresses = Resolve(r.url->host, r.deadline);
  if (!addresses.ok()) return addresses.status();
  Result<std::string> last = Status::IoError("connection failed");
  for (const std::string& address : *addresses) {
    if (Clock::now() >= r.deadline) return Status::Timeout("timed out");
    bool next = false;
    last = FetchFrom(r, address, &next);
    if (!next) break;
  }
  return last;
}

// --- Results -------------------------------------------------------------------------------------

RevocationResult Make(Verdict status, std::string source, std::string detail) {
  RevocationResult r;
  r.status = status;
  r.source = std::move(source);
  r.detail = std::move(detail);
  return r;
}

RevocationResult Untested(std::string detail) {
  return Make(Verdict::kUntested, "", std::move(detail));
}

// --- OCSP ----------------------------------------------------------------------------------------

std::optional<std::string> EncodeOcspRequest(OCSP_REQUEST* req) {
  const int len = i2d_OCSP_REQUEST(req, nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_OCSP_REQUEST(req, &p) != len) return std::nullopt;
  return der;
}

RevocationResult AskOcsp(X509* leaf, X509* issuer, const std::string& url_text,
                         const RevocationOptions& options, Clock::time_point deadline) {
  const std::string prefix = "ocsp " + Shown(url_text) + ": ";
  auto fail = [&](const std::string& why) { return Untested(prefix + why); };
  const std::optional<HttpUrl> url = ParseHttpUrl(url_text);
  if (!url) return fail("unusable URL");

  OcspIdPtr id(OCSP_cert_to_id(EVP_sha1(), leaf, issuer));
  OcspReqPtr req(OCSP_REQUEST_new());
  if (!id || !req) return fail("cannot build request (" + TakeOpensslError() + ")");
  OCSP_CERTID* id_copy = OCSP_CERTID_dup(id.get());
  if (id_copy == nullptr || OCSP_request_add0_id(req.get(), id_copy) == nullptr) {
    OCSP_CERTID_free(id_copy);
    return fail("cannot build request (" + TakeOpensslError() + ")");
  }
  if (OCSP_request_add1_nonce(req.get(), nullptr, -1) != 1) {
    return fail("cannot build request (" + TakeOpensslError() + ")");
  }
  const std::optional<std::string> der = EncodeOcspRequest(req.get());
  if (!der) return fail("cannot encode request (" + TakeOpensslError() + ")");

  const FetchRequest http{&*url,
                          &*der,
                          "application/ocsp-request",
                          "application/ocsp-response",
                          options.max_ocsp_bytes,
                          deadline};
  Result<std::string> body = Fetch(http);
  if (!body.ok()) return fail(body.status().message());

  const auto* p = reinterpret_cast<const unsigned char*>(body->data());
  OcspRespPtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(body->size())));
  if (!resp) return fail("response does not parse");
  const int resp_status = OCSP_response_status(resp.get());
  if (resp_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return fail(std::string("responder status ") + OCSP_response_status_str(resp_status));
  }
  OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
  if (!basic) return fail("no basic response");
  // 0: both carry a nonce and they differ (a replayed answer). A response without one (-1) is
  // a cached answer, bounded by the validity check below.
  if (OCSP_check_nonce(req.get(), basic.get()) == 0) return fail("nonce mismatch");

  StorePtr store(X509_STORE_new());
  X509Stack certs(sk_X509_new_null());
  if (!store || !certs || X509_STORE_add_cert(store.get(), issuer) != 1 ||
      X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN) != 1 ||
      sk_X509_push(certs.get(), issuer) <= 0) {
    return fail("cannot set up verification (" + TakeOpensslError() + ")");
  }
  if (OCSP_basic_verify(basic.get(), certs.get(), store.get(), 0) <= 0) {
    return fail("response signature not trusted (" + TakeOpensslError() + ")");
  }

  int cert_status = -1;
  int reason = -1;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  if (OCSP_resp_find_status(basic.get(), id.get(), &cert_status, &reason, &revoked_at, &this_update,
                            &next_update) != 1) {
    return fail("no answer for the certificate");
  }
  if (OCSP_check_validity(this_update, next_update, kValidityLeeway, -1) != 1) {
    return fail("response not current (" + TakeOpensslError() + ")");
  }
  const std::string asked = "ocsp " + Shown(url_text);
  switch (cert_status) {
    case V_OCSP_CERTSTATUS_GOOD:
      return Make(Verdict::kGood, "ocsp", asked + ": good");
    case V_OCSP_CERTSTATUS_REVOKED:
      return Make(Verdict::kRevoked, "ocsp",
                  asked + ": revoked" +
                      (reason >= 0 ? std::string(" (") + OCSP_crl_reason_str(reason) + ")" : ""));
    case V_OCSP_CERTSTATUS_UNKNOWN:
      return Make(Verdict::kUnknown, "ocsp", asked + ": unknown to the responder");
    default:
      return fail("unexpected certificate status");
  }
}

// --- CRL -----------------------------------------------------------------------------------------

CrlPtr ParseCrl(const std::string& body) {
  if (body.rfind("-----BEGIN", 0) == 0) {
    BioPtr bio(BIO_new_mem_buf(body.data(), static_cast<int>(body.size())));
    if (!bio) return nullptr;
    return CrlPtr(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  }
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  return CrlPtr(d2i_X509_CRL(nullptr, &p, static_cast<long>(body.size())));
}

// `subject` is the certificate looked up: an end-entity one (the leaf) or a CA (an
// intermediate); the CRL's scope must cover its kind.
RevocationResult CheckCrl(X509* subject, X509* issuer, bool subject_is_ca,
                          const std::string& url_text, const RevocationOptions& options,
                          Clock::time_point deadline) {
  const std::string prefix = "crl " + Shown(url_text) + ": ";
  auto fail = [&](const std::string& why) { return Untested(prefix + why); };
  const std::optional<HttpUrl> url = ParseHttpUrl(url_text);
  if (!url) return fail("unusable URL");
  if (options.max_crl_bytes > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return fail("max_crl_bytes too large");  // BIO and d2i lengths are int/long
  }

  const FetchRequest http{
      &*url, nullptr, nullptr, "application/pkix-crl, */*;q=0.5", options.max_crl_bytes, deadline};
  Result<std::string> body = Fetch(http);
  if (!body.ok()) return fail(body.status().message());

  CrlPtr crl = ParseCrl(*body);
  if (!crl) return fail("CRL does not parse");
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_issuer_name(subject)) != 0) {
    return fail("CRL issuer is not the certificate's issuer");
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || X509_CRL_verify(crl.get(), key) != 1) {
    ERR_clear_error();
    return fail("CRL signature does not verify with the issuer's key");
  }
  if (X509_CRL_get_ext_by_NID(crl.get(), NID_delta_crl, -1) >= 0) {
    return fail("delta CRL, not a complete one");
  }
  int critical = 0;
  IdpPtr idp(static_cast<ISSUING_DIST_POINT*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_issuing_distribution_point, &critical, nullptr)));
  const bool wrong_kind = subject_is_ca ? idp && idp->onlyuser > 0 : idp && idp->onlyCA > 0;
  if (idp && (wrong_kind || idp->onlyattr > 0 || idp->onlysomereasons != nullptr ||
              idp->indirectCRL > 0)) {
    return fail(subject_is_ca ? "CRL scope does not cover CA certificates"
                              : "CRL scope does not cover the leaf");
  }
  const time_t now = std::time(nullptr);
  time_t later = now + kValidityLeeway;
  time_t earlier = now - kValidityLeeway;
  const ASN1_TIME* this_update = X509_CRL_get0_lastUpdate(crl.get());
  if (this_update == nullptr || X509_cmp_time(this_update, &later) >= 0) {
    return fail("CRL thisUpdate is in the future");
  }
  const ASN1_TIME* next_update = X509_CRL_get0_nextUpdate(crl.get());
  if (next_update != nullptr && X509_cmp_time(next_update, &earlier) <= 0) {
    return fail("CRL is past its nextUpdate");
  }

  X509_REVOKED* entry = nullptr;
  const std::string asked = "crl " + Shown(url_text);
  // 1: listed; 2: listed as removeFromCRL (only meaningful in delta CRLs, which we refused).
  if (X509_CRL_get0_by_cert(crl.get(), &entry, subject) == 1) {
    return Make(Verdict::kRevoked, "crl", asked + ": revoked");
  }
  return Make(Verdict::kGood, "crl", asked + ": not listed");
}

// --- The check -----------------------------------------------------------------------------------

std::optional<RevocationResult> FromStaple(const std::string& staple) {
  const std::string note = "stapled OCSP response: ";
  if (staple == "good") return Make(Verdict::kGood, "ocsp_staple", note + "good");
  if (staple == "revoked") return Make(Verdict::kRevoked, "ocsp_staple", note + "revoked");
  if (staple == "unknown") return Make(Verdict::kUnknown, "ocsp_staple", note + "unknown");
  return std::nullopt;
}

// The served certificate that issued `cert`, if any: names (and key identifiers, when both
// carry them) match, and its key verifies the cert's signature. Name matching alone would let
// any certificate of the same subject stand in, and then vouch for a CRL it signed itself.
X509Ptr FindServedIssuer(const tls::TlsFacts& facts, X509* cert) {
  for (size_t i = 1; i < facts.chain.size(); ++i) {
    X509Ptr candidate = ParseCert(facts.chain[i]->der);
    if (!candidate || X509_cmp(candidate.get(), cert) == 0 ||
        X509_check_issued(candidate.get(), cert) != X509_V_OK) {
      continue;
    }
    EVP_PKEY* key = X509_get0_pubkey(candidate.get());
    if (key != nullptr && X509_verify(cert, key) == 1) return candidate;
  }
  ERR_clear_error();
  return nullptr;
}

struct Issuer {
  X509Ptr cert;
  bool anchor = false;  // from the trust store: the walk up the chain ends there
};

Issuer FindIssuer(const tls::TlsFacts& facts, X509* cert, const std::vector<uint8_t>& cert_der,
                  const RevocationOptions& options) {
  Issuer out;
  out.cert = FindServedIssuer(facts, cert);
  if (!out.cert && options.trust) {
    out.cert = ParseCert(options.trust->TrustedIssuer(cert_der));
    out.anchor = out.cert != nullptr;
  }
  ERR_clear_error();
  return out;
}

// OCSP, then the CRL, for one certificate and its issuer.
RevocationResult CheckOne(X509* cert, X509* issuer, bool is_ca, const std::vector<uint8_t>& der,
                          const RevocationOptions& options, Clock::time_point deadline) {
  const std::vector<std::string> ocsp_urls = OcspUrls(der);
  const std::vector<std::string> crl_urls = CrlUrls(der);
  std::string notes;
  auto note = [&](const std::string& n) { notes += (notes.empty() ? "" : "; ") + n; };
  auto out_of_time = [&] { return Clock::now() >= deadline; };

  std::optional<RevocationResult> unknown;
  for (size_t i = 0; i < ocsp_urls.size() && i < kMaxUrlsPerSource && !out_of_time(); ++i) {
    RevocationResult r = AskOcsp(cert, issuer, ocsp_urls[i], options, deadline);
    if (r.status == Verdict::kGood || r.status == Verdict::kRevoked) return r;
    if (r.status == Verdict::kUnknown) {
      unknown = std::move(r);
      break;
    }
    note(r.detail);
  }
  for (size_t i = 0; i < crl_urls.size() && i < kMaxUrlsPerSource && !out_of_time(); ++i) {
    RevocationResult r = CheckCrl(cert, issuer, is_ca, crl_urls[i], options, deadline);
    if (r.status == Verdict::kGood || r.status == Verdict::kRevoked) return r;
    note(r.detail);
  }
  if (unknown) {
    if (!notes.empty()) unknown->detail += "; " + notes;
    return *unknown;
  }
  if (out_of_time()) note("revocation budget exhausted");
  return Untested(notes);
}

bool HasSources(const std::vector<uint8_t>& der) {
  return !OcspUrls(der).empty() || !CrlUrls(der).empty();
}

std::string SubjectCn(X509* cert) {
  char buf[256] = {};
  const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf,
                                          static_cast<int>(sizeof buf));
  ERR_clear_error();
  return n > 0 ? Printable(std::string_view(buf, static_cast<size_t>(n)), kMaxUrlShown) : "";
}

std::vector<uint8_t> DerOf(X509* cert) {
  std::vector<uint8_t> out;
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len > 0) out.assign(der, der + len);
  OPENSSL_free(der);
  return out;
}

// The intermediates above the leaf: each is checked against its own issuer, until the issuer
// is a trust anchor, a self-signed certificate or unknown.
void CheckIntermediates(const tls::TlsFacts& facts, Issuer leaf_issuer,
                        const RevocationOptions& options, Clock::time_point deadline,
                        RevocationResult* out) {
  if (!leaf_issuer.cert || leaf_issuer.anchor) return;
  X509Ptr current = std::move(leaf_issuer.cert);
  for (int depth = 1; current; ++depth) {
    if (X509_self_signed(current.get(), 1) == 1) break;  // a served root: an anchor, not checked
    RevocationResult::Element e;
    e.depth = depth;
    e.subject_cn = SubjectCn(current.get());
    if (static_cast<size_t>(depth) > options.max_intermediates) {
      e.detail =
          "not checked: more than " + std::to_string(options.max_intermediates) + " intermediates";
      out->intermediates.push_back(std::move(e));
      break;
    }
    const std::vector<uint8_t> der = DerOf(current.get());
    Issuer up = FindIssuer(facts, current.get(), der, options);
    if (!HasSources(der)) {
      e.no_source = true;
      e.detail = "no http OCSP responder or CRL distribution point";
    } else if (!up.cert) {
      e.detail = "its issuer is neither served nor in the trust store";
    } else if (Clock::now() >= deadline) {
      e.detail = "revocation budget exhausted";
    } else {
      RevocationResult r = CheckOne(current.get(), up.cert.get(), true, der, options, deadline);
      e.status = r.status;
      e.source = std::move(r.source);
      e.detail = std::move(r.detail);
    }
    out->intermediates.push_back(std::move(e));
    if (up.anchor) break;
    current = std::move(up.cert);
  }
  ERR_clear_error();
}

RevocationResult Check(const tls::TlsFacts& facts, const RevocationOptions& options) {
  const Clock::time_point deadline =
      Clock::now() + std::max(options.timeout, std::chrono::milliseconds(0));
  if (facts.chain.empty()) return Untested("no leaf certificate");
  X509Ptr leaf = ParseCert(facts.chain.front()->der);
  std::optional<RevocationResult> staple = FromStaple(facts.ocsp_staple_status);
  if (!leaf) return staple ? *staple : Untested("leaf certificate does not parse");
  Issuer issuer = FindIssuer(facts, leaf.get(), facts.chain.front()->der, options);

  RevocationResult out;
  if (staple) {
    out = std::move(*staple);
  } else if (!HasSources(facts.chain.front()->der)) {
    out = Untested("no http OCSP responder or CRL distribution point in the leaf");
  } else if (!issuer.cert) {
    out = Untested("the issuer of the leaf was neither served nor found in the trust store");
  } else {
    out =
        CheckOne(leaf.get(), issuer.cert.get(), false, facts.chain.front()->der, options, deadline);
  }
  CheckIntermediates(facts, std::move(issuer), options, deadline, &out);
  return out;
}

asio::awaitable<RevocationResult> CheckOnPool(tls::TlsFacts facts, RevocationOptions options) {
  co_return CheckRevocationBlocking(facts, options);
}

}  // namespace

RevocationResult CheckRevocationBlocking(const tls::TlsFacts& facts,
                                         const RevocationOptions& options) {
  ERR_clear_error();  // the queue is per thread; pool threads carry whatever came before
  RevocationResult r;
  try {
    r = Check(facts, options);
  } catch (...) {  // bad_alloc, or no thread for the watchdog or the resolver
    r = Untested("internal error");
  }
  ERR_clear_error();
  return r;
}

asio::awaitable<RevocationResult> CheckRevocation(tls::TlsFacts facts, RevocationOptions options,
                                                  asio::thread_pool& pool) {
  // co_spawn's completion is dispatched through the awaiting coroutine's executor, so we resume
  // there and not on the pool.
  RevocationResult r = co_await asio::co_spawn(
      pool, CheckOnPool(std::move(facts), std::move(options)), asio::use_awaitable);
  co_return r;
}

std::vector<std::string> OcspUrls(const std::vector<uint8_t>& leaf_der) {
  std::vector<std::string> urls;
  X509Ptr leaf = ParseCert(leaf_der);
  if (!leaf) {
    ERR_clear_error();
    return urls;
  }
  std::unique_ptr<STACK_OF(OPENSSL_STRING), StringStackFree> list(X509_get1_ocsp(leaf.get()));
  for (int i = 0; list && i < sk_OPENSSL_STRING_num(list.get()); ++i) {
    const char* url = sk_OPENSSL_STRING_value(list.get(), i);
    if (url != nullptr && AcceptableUrl(url)) urls.emplace_back(url);
  }
  ERR_clear_error();
  return urls;
}

std::vector<std::string> CrlUrls(const std::vector<uint8_t>& leaf_der) {
  std::vector<std::string> urls;
  X509Ptr leaf = ParseCert(leaf_der);
  if (!leaf) {
    ERR_clear_error();
    return urls;
  }
  std::unique_ptr<STACK_OF(DIST_POINT), DistPointsFree> points(static_cast<STACK_OF(DIST_POINT)*>(
      X509_get_ext_d2i(leaf.get(), NID_crl_distribution_points, nullptr, nullptr)));
  for (int i = 0; points && i < sk_DIST_POINT_num(points.get()); ++i) {
    const DIST_POINT* dp = sk_DIST_POINT_value(points.get(), i);
    // An indirect CRL (cRLIssuer) is signed by someone other than the issuer;
    // nameRelativeToCRLIssuer is not a URL.
    if (dp == nullptr || dp->CRLissuer != nullptr || dp->distpoint == nullptr ||
        dp->distpoint->type != 0) {
      continue;
    }
    const GENERAL_NAMES* names = dp->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
      if (gn == nullptr || gn->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
      std::string url(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      static_cast<size_t>(ASN1_STRING_length(uri)));
      if (AcceptableUrl(url)) urls.push_back(std::move(url));
    }
  }
  ERR_clear_error();
  return urls;
}

}  // namespace mailsec::probe
