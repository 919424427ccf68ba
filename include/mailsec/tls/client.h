// TLS client handshakes over an already connected TCP transport, and what they reveal.
//
// The handshake does not stop at a bad certificate: it completes with verification off, then
// verifies the served chain separately, so that the facts of broken certificates (the expiry of
// an expired one above all) are still reported.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/net/transport.h"
#include "mailsec/tls/cert_facts.h"

namespace mailsec::tls {

// Client settings shared by every handshake: the trust store and protocol range.
// Thread-safe once created; share one per loaded config.
class TlsContext {
 public:
  // ca_file empty: the system trust store. Error when the file cannot be loaded.
  static Result<std::shared_ptr<TlsContext>> Create(const std::string& ca_file);
  ~TlsContext();

  // The DER of a trust-store certificate that issued `cert_der` (its subject is the cert's
  // issuer, key identifiers agree, and its key verifies the cert's signature); empty when the
  // store holds none or the DER does not parse. This is how the issuer of the last served
  // intermediate (a root the server rightly leaves out) is found. Thread-safe.
  std::vector<uint8_t> TrustedIssuer(const std::vector<uint8_t>& cert_der) const;

  struct Impl;
  Impl* impl() const { return impl_.get(); }

 private:
  explicit TlsContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct HandshakeRequest {
  std::string sni;          // server name to send; empty: none (IP-literal targets)
  std::string verify_host;  // name or IP literal the certificate must match (RFC 6125)
  net::Deadline deadline;
  int64_t now_unix = 0;  // "now" for chain verification
};

// Runs the handshake on tcp's socket. On success *out is a Transport that reads and writes
// through TLS (it borrows tcp, which must outlive it) and *facts is filled. On failure the
// facts gathered so far are still in *facts; Timeout or IoError name the cause, Malformed says
// that the peer answered with something that is not TLS at all.
asio::awaitable<Status> Handshake(const TlsContext& context, net::TcpTransport& tcp,
                                  const HandshakeRequest& request, TlsFacts* facts,
                                  std::unique_ptr<net::Transport>* out);

}  // namespace mailsec::tls
