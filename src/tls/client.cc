#include "mailsec/tls/client.h"

#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <system_error>

#include "tls/inspect.h"

namespace mailsec::tls {

struct TlsContext::Impl {
  asio::ssl::context ssl{asio::ssl::context::tls_client};
  X509StorePtr store;
  VerifyCache verify_cache;  // outcomes against `store`
  CertFactsCache facts_cache;
};

TlsContext::TlsContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;

Result<std::shared_ptr<TlsContext>> TlsContext::Create(const std::string& ca_file) {
  auto impl = std::make_unique<Impl>();
  Result<X509StorePtr> store = LoadTrustStore(ca_file);
  if (!store.ok()) return store.status();
  impl->store = std::move(store).value();
  SSL_CTX* ctx = impl->ssl.native_handle();
  // Report what the server negotiates, however old: legacy versions and weak suites are
  // findings to expose, not reasons to fail the probe.
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, 0);
  SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  // OpenSSL verifies the served chain in every handshake even under SSL_VERIFY_NONE (against
  // this context's empty store, for SSL_get_verify_result, which nothing reads): the chain is
  // judged once, against the configured trust store, by InspectServedChain after the handshake.
  SSL_CTX_set_cert_verify_callback(
      ctx, [](X509_STORE_CTX*, void*) { return 1; }, nullptr);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_LEGACY_SERVER_CONNECT);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // OpenSSL reads the socket itself (Handshake): with read-ahead it takes what has arrived in
  // one recv, not a record's header and then its body in two.
  SSL_CTX_set_read_ahead(ctx, 1);
  ERR_clear_error();
  return std::shared_ptr<TlsContext>(new TlsContext(std::move(impl)));
}

std::vector<uint8_t> TlsContext::TrustedIssuer(const std::vector<uint8_t>& cert_der) const {
  std::vector<uint8_t> out;
  if (cert_der.empty() || cert_der.size() > 1024 * 1024 || !impl_->store) return out;
  const auto* p = cert_der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(cert_der.size())));
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509* issuer = nullptr;
  // get1_issuer looks the issuer's name up in the store (and its directories) and keeps a
  // candidate that X509_check_issued accepts; the signature is checked here.
  if (cert && ctx && X509_STORE_CTX_init(ctx.get(), impl_->store.get(), cert.get(), nullptr) == 1 &&
      X509_STORE_CTX_get1_issuer(&issuer, ctx.get(), cert.get()) == 1 && issuer != nullptr) {
    X509Ptr owned(issuer);
    EVP_PKEY* key = X509_get0_pubkey(issuer);
    unsigned char* der = nullptr;
    const int len =
        key != nullptr && X509_verify(cert.get(), key) == 1 ? i2d_X509(issuer, &der) : 0;
    if (len > 0) out.assign(der, der + len);
    OPENSSL_free(der);
  }
  ERR_clear_error();
  return out;
}

namespace {

using SslPtr = std::unique_ptr<SSL, OpenSslDeleter<&SSL_free>>;

// OpenSSL's socket BIO writes with write(2), which raises SIGPIPE on a connection the peer has
// reset: this one sends with MSG_NOSIGNAL, as Asio does, whatever the process's disposition of
// SIGPIPE (the `check` command and the tests do not all ignore it). Non-blocking descriptor: a
// call that would block sets the retry flag, as BIO_s_socket does; a read of 0 bytes marks the
// end of the stream (BIO_CTRL_EOF), which OpenSSL 3 reports as an unexpected EOF unless the peer
// sent close_notify first.
class SocketBio {
 public:
  // A BIO on `socket`'s descriptor, or null when OpenSSL cannot make one. The descriptor is read
  // from the socket at every call: once the socket is closed, the BIO fails (EBADF) instead of
  // reaching whatever descriptor took its number.
  static BIO* New(asio::ip::tcp::socket* socket) {
    BIO* bio = BIO_new(Method());
    if (bio == nullptr) return nullptr;
    BIO_set_data(bio, new State{socket, false, false});
    BIO_set_init(bio, 1);
    return bio;
  }

  // True, once, when bytes came in on `bio` (one of these) since this side last sent any: a
  // wait for more then acknowledges them first (net::AckNow). Right after this side sent, the
  // ACK of the reply rides on its next command and nothing is sent for it.
  static bool TakeUnacked(BIO* bio) {
    auto* state = bio != nullptr && BIO_method_type(bio) == Type()
                      ? static_cast<State*>(BIO_get_data(bio))
                      : nullptr;
    if (state == nullptr || !state->unacked) return false;
    state->unacked = false;
    return true;
  }

 private:
  struct State {
    asio::ip::tcp::socket* socket;  // borrowed: outlives the SSL that owns this BIO
    bool eof;
    bool unacked;  // bytes came in since this side last sent any (their ACK may be delayed)
  };

  static int Type() {
    static const int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR;
    return type;
  }

  static BIO_METHOD* Method() {
    static BIO_METHOD* const method = [] {
      BIO_METHOD* m = BIO_meth_new(Type(), "mailsec socket");
      if (m == nullptr) return m;
      BIO_meth_set_write(m, Write);
      BIO_meth_set_read(m, Read);
      BIO_meth_set_ctrl(m, Ctrl);
      BIO_meth_set_destroy(m, Destroy);
      return m;
    }();
    return method;
  }

  static int Write(BIO* bio, const char* data, int size) {
    auto* state = static_cast<State*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (state == nullptr || data == nullptr || size <= 0) return 0;
    const ssize_t n =
        ::send(state->socket->native_handle(), data, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (n > 0) state->unacked = false;  // the ACK went with the data
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(bio);
    return -1;
  }

  static int Read(BIO* bio, char* out, int size) {
    auto* state = static_cast<State*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (state == nullptr || out == nullptr || size <= 0) return 0;
    const ssize_t n = ::recv(state->socket->native_handle(), out, static_cast<size_t>(size), 0);
    if (n > 0) {
      state->unacked = true;
      return static_cast<int>(n);
    }
    if (n == 0) {
      state->eof = true;
      return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(bio);
    return -1;
  }

  static long Ctrl(BIO* bio, int cmd, long, void*) {
    const auto* state = static_cast<const State*>(BIO_get_data(bio));
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_EOF:
        return state != nullptr && state->eof ? 1 : 0;
      default:
        return 0;
    }
  }

  static int Destroy(BIO* bio) {
    delete static_cast<State*>(BIO_get_data(bio));
    BIO_set_data(bio, nullptr);
    BIO_set_init(bio, 0);
    return 1;
  }
};

// OpenSSL reads and writes the socket's descriptor itself (SocketBio, non-blocking), and the
// coroutine waits for readiness when it wants to read or write. An asio::ssl::stream would put a
// BIO pair and two record-sized buffers of its own between them: ~68 KB more per connection in
// flight, and every byte copied twice more.
enum class SslOp : uint8_t { kHandshake, kRead, kWrite };

struct SslOutcome {
  bool ok = false;
  size_t bytes = 0;
  bool closed = false;  // the peer closed, with close_notify or without (a truncated stream)
  std::string error;    // otherwise: why, printable
  unsigned long first_error = 0;  // the first OpenSSL error of the failure (0: none)
};

// A wait that is never satisfied ends at the watchdog's deadline; this bound only guards against
// an OpenSSL that asks to wait for what is already there.
constexpr int kMaxSslRounds = 100000;

asio::awaitable<SslOutcome> DriveSsl(asio::ip::tcp::socket& socket, SSL* ssl, SslOp op, char* data,
                                     size_t size) {
  SslOutcome out;
  for (int round = 0; round < kMaxSslRounds; ++round) {
    ERR_clear_error();  // SSL_get_error reads the queue
    errno = 0;
    size_t n = 0;
    int r = 0;
    switch (op) {
      case SslOp::kHandshake:
        r = SSL_do_handshake(ssl);
        break;
      case SslOp::kRead:
        r = SSL_read_ex(ssl, data, size, &n);
        break;
      case SslOp::kWrite:
        r = SSL_write_ex(ssl, data, size, &n);
        break;
    }
    const int sys_errno = errno;
    if (r == 1) {
      out.ok = true;
      out.bytes = n;
      co_return out;
    }
    const int err = SSL_get_error(ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      // Part of what the server sent is in, and nothing goes back while waiting for the rest: it
      // is acknowledged now, or a server holding the rest for that ACK (Nagle) waits for the
      // delayed ACK (Postfix's EHLO reply behind its session tickets).
      if (err == SSL_ERROR_WANT_READ && SocketBio::TakeUnacked(SSL_get_rbio(ssl))) {
        net::AckNow(socket);
      }
      std::error_code ec;
      co_await socket.async_wait(
          err == SSL_ERROR_WANT_READ ? asio::socket_base::wait_read : asio::socket_base::wait_write,
          asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        out.error = ec.message();
        co_return out;
      }
      continue;
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      out.closed = true;
      out.error = "the peer closed the TLS session";
      co_return out;
    }
    if (err == SSL_ERROR_SSL) {
      out.first_error = ERR_get_error();
      if (ERR_GET_REASON(out.first_error) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        out.closed = true;
        out.error = "stream truncated";
        co_return out;
      }
      out.error =
          std::error_code(static_cast<int>(out.first_error), asio::error::get_ssl_category())
              .message();
      co_return out;
    }
    // SSL_ERROR_SYSCALL: the socket failed (reset, ...).
    out.first_error = ERR_get_error();
    out.error = sys_errno != 0 ? std::error_code(sys_errno, std::system_category()).message()
                               : std::string("unspecified system error");
    co_return out;
  }
  out.error = "TLS: no progress";
  co_return out;
}

class TlsTransport final : public net::Transport {
 public:
  TlsTransport(SslPtr ssl, net::TcpTransport& tcp) : ssl_(std::move(ssl)), tcp_(tcp) {}

  asio::awaitable<Result<size_t>> ReadSome(std::span<char> buf, net::Deadline deadline) override {
    if (buf.empty()) co_return size_t{0};
    tcp_.watchdog().Arm(deadline);
    SslOutcome o =
        co_await DriveSsl(tcp_.socket(), ssl_.get(), SslOp::kRead, buf.data(), buf.size());
    tcp_.watchdog().Disarm();
    if (!o.ok) ERR_clear_error();  // what is left of the failure's queue
    if (tcp_.watchdog().Fired()) co_return Status::Timeout("TLS read timed out");
    if (o.closed) co_return size_t{0};
    if (!o.ok) co_return Status::IoError("TLS read: " + o.error);
    co_return o.bytes;
  }

  asio::awaitable<Status> WriteAll(std::string_view data, net::Deadline deadline) override {
    if (data.empty()) co_return Status::Ok();
    tcp_.watchdog().Arm(deadline);
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE, a successful SSL_write_ex has written it all.
    SslOutcome o = co_await DriveSsl(tcp_.socket(), ssl_.get(), SslOp::kWrite,
                                     const_cast<char*>(data.data()), data.size());
    tcp_.watchdog().Disarm();
    if (!o.ok) ERR_clear_error();
    if (tcp_.watchdog().Fired()) co_return Status::Timeout("TLS write timed out");
    if (!o.ok) co_return Status::IoError("TLS write: " + o.error);
    co_return Status::Ok();
  }

 private:
  SslPtr ssl_;
  net::TcpTransport& tcp_;
};

std::string GroupName(SSL* ssl) {
  int nid = SSL_get_negotiated_group(ssl);
  if (nid <= 0) return "";
  const char* name = SSL_group_to_name(ssl, nid);
  if (name == nullptr) name = OBJ_nid2sn(nid & ~TLSEXT_nid_unknown);
  if (name == nullptr) return "";
  std::string s(name);
  // OpenSSL says "X25519"/"X448" for the Edwards groups; the IANA registry is lower-case.
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void Inspect(SSL* ssl, const TlsContext& context, const HandshakeRequest& request,
             TlsFacts* facts) {
  facts->version = SSL_get_version(ssl);
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) {
    facts->cipher = SSL_CIPHER_get_name(c);
    facts->rsa_key_exchange = SSL_CIPHER_get_kx_nid(c) == NID_kx_rsa;
  }
  facts->group = GroupName(ssl);
  const unsigned char* ocsp = nullptr;
  const long ocsp_len = SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp);
  const std::string_view staple =
      ocsp != nullptr && ocsp_len > 0
          ? std::string_view(reinterpret_cast<const char*>(ocsp), static_cast<size_t>(ocsp_len))
          : std::string_view();

  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);  // leaf first, on the client side
  X509Ptr leaf(SSL_get1_peer_certificate(ssl));
  // The staple is read against the served chain (the leaf's issuer builds the OCSP CertID).
  InspectOcspStaple(staple, leaf.get(), chain, facts);
  if (!leaf) return;
  InspectServedChain(leaf.get(), chain, context.impl()->store.get(), request.verify_host,
                     request.now_unix, facts, &context.impl()->verify_cache,
                     &context.impl()->facts_cache);
}

}  // namespace

asio::awaitable<Status> Handshake(const TlsContext& context, net::TcpTransport& tcp,
                                  const HandshakeRequest& request, TlsFacts* facts,
                                  std::unique_ptr<net::Transport>* out) {
  asio::ip::tcp::socket& socket = tcp.socket();
  std::error_code nb;
  if (!socket.native_non_blocking()) socket.native_non_blocking(true, nb);
  SslPtr owned(SSL_new(context.impl()->ssl.native_handle()));
  BIO* bio = owned && !nb ? SocketBio::New(&socket) : nullptr;
  if (bio == nullptr) {
    std::string detail = nb ? nb.message() : OpenSslErrors();
    ERR_clear_error();
    co_return Status::Internal("TLS client setup failed: " + detail);
  }
  SSL* ssl = owned.get();
  SSL_set_bio(ssl, bio, bio);  // one reference, taken by the SSL
  SSL_set_connect_state(ssl);
  if (!request.sni.empty()) SSL_set_tlsext_host_name(ssl, request.sni.c_str());
  SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);

  tcp.watchdog().Arm(request.deadline);
  SslOutcome o = co_await DriveSsl(socket, ssl, SslOp::kHandshake, nullptr, 0);
  tcp.watchdog().Disarm();
  if (tcp.watchdog().Fired()) {
    ERR_clear_error();
    co_return Status::Timeout("TLS handshake timed out");
  }
  if (!o.ok) {
    // A peer that answers the ClientHello with something that is not a TLS record (a plaintext
    // greeting: "220 ..." reads as a record of version 0x3230) does not speak TLS at all here.
    const int reason = ERR_GET_REASON(o.first_error);
    const bool not_tls =
        o.first_error != 0 &&
        (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
         reason == SSL_R_HTTP_REQUEST || reason == SSL_R_UNKNOWN_PROTOCOL ||
         reason == SSL_R_RECORD_LENGTH_MISMATCH);
    std::string detail = o.error;
    std::string queued = OpenSslErrors();
    if (!queued.empty()) detail += " (" + queued + ")";
    // Whatever the server showed before the failure is still worth reporting.
    if (SSL_get0_peer_certificate(ssl) != nullptr) Inspect(ssl, context, request, facts);
    if (not_tls) co_return Status::Malformed("the server does not speak TLS: " + detail);
    co_return Status::IoError("TLS handshake failed: " + detail);
  }
  facts->handshake_ok = true;
  Inspect(ssl, context, request, facts);
  *out = std::make_unique<TlsTransport>(std::move(owned), tcp);
  co_return Status::Ok();
}

}  // namespace mailsec::tls
