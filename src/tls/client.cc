#include "mailsec/tls/client.h"

#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "tls/inspect.h"

namespace mailsec::tls {

struct TlsContext::Impl {
  asio::ssl::context ssl{asio::ssl::context::tls_client};
  X509StorePtr store;
  VerifyCache verify_cache;  // outcomes against `store`
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

using SslStream = asio::ssl::stream<asio::ip::tcp::socket&>;

class TlsTransport final : public net::Transport {
 public:
  TlsTransport(std::unique_ptr<SslStream> stream, net::TcpTransport& tcp)
      : stream_(std::move(stream)), tcp_(tcp) {}

  asio::awaitable<Result<size_t>> ReadSome(std::span<char> buf, net::Deadline deadline) override {
    std::error_code ec;
    tcp_.watchdog().Arm(deadline);
    size_t n = co_await stream_->async_read_some(asio::buffer(buf.data(), buf.size()),
                                                 asio::redirect_error(asio::use_awaitable, ec));
    tcp_.watchdog().Disarm();
    if (tcp_.watchdog().Fired()) co_return Status::Timeout("TLS read timed out");
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) co_return size_t{0};
    if (ec) co_return Status::IoError("TLS read: " + ec.message());
    co_return n;
  }

  asio::awaitable<Status> WriteAll(std::string_view data, net::Deadline deadline) override {
    std::error_code ec;
    tcp_.watchdog().Arm(deadline);
    co_await asio::async_write(*stream_, asio::buffer(data.data(), data.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    tcp_.watchdog().Disarm();
    if (tcp_.watchdog().Fired()) co_return Status::Timeout("TLS write timed out");
    if (ec) co_return Status::IoError("TLS write: " + ec.message());
    co_return Status::Ok();
  }

 private:
  std::unique_ptr<SslStream> stream_;
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
                     request.now_unix, facts, &context.impl()->verify_cache);
}

}  // namespace

asio::awaitable<Status> Handshake(const TlsContext& context, net::TcpTransport& tcp,
                                  const HandshakeRequest& request, TlsFacts* facts,
                                  std::unique_ptr<net::Transport>* out) {
  auto stream = std::make_unique<SslStream>(tcp.socket(), context.impl()->ssl);
  SSL* ssl = stream->native_handle();
  if (!request.sni.empty()) SSL_set_tlsext_host_name(ssl, request.sni.c_str());
  SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
  ERR_clear_error();

  std::error_code ec;
  tcp.watchdog().Arm(request.deadline);
  co_await stream->async_handshake(asio::ssl::stream_base::client,
                                   asio::redirect_error(asio::use_awaitable, ec));
  tcp.watchdog().Disarm();
  if (tcp.watchdog().Fired()) {
    ERR_clear_error();
    co_return Status::Timeout("TLS handshake timed out");
  }
  if (ec) {
    // A peer that answers the ClientHello with something that is not a TLS record (a plaintext
    // greeting: "220 ..." reads as a record of version 0x3230) does not speak TLS at all here.
    bool not_tls = false;
    if (ec.category() == asio::error::get_ssl_category()) {
      const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
      not_tls = reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
                reason == SSL_R_HTTP_REQUEST || reason == SSL_R_UNKNOWN_PROTOCOL ||
                reason == SSL_R_RECORD_LENGTH_MISMATCH;
    }
    std::string detail = ec.message();
    std::string queued = OpenSslErrors();
    if (!queued.empty()) detail += " (" + queued + ")";
    // Whatever the server showed before the failure is still worth reporting.
    if (SSL_get0_peer_certificate(ssl) != nullptr) Inspect(ssl, context, request, facts);
    if (not_tls) co_return Status::Malformed("the server does not speak TLS: " + detail);
    co_return Status::IoError("TLS handshake failed: " + detail);
  }
  facts->handshake_ok = true;
  Inspect(ssl, context, request, facts);
  *out = std::make_unique<TlsTransport>(std::move(stream), tcp);
  co_return Status::Ok();
}

}  // namespace mailsec::tls
