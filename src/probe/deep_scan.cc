#include "mailsec/probe/deep_scan.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <memory>
#include <optional>
#include <string_view>

#include "mailsec/base/text.h"
#include "mailsec/net/line_reader.h"
#include "mailsec/net/transport.h"
#include "mailsec/proto/dialogue.h"
#include "mailsec/tls/cert_facts.h"
#include "mailsec/tls/cipher_suites.h"
#include "mailsec/tls/client.h"
#include "mailsec/tls/dh_groups.h"
#include "mailsec/tls/hello.h"
#include "mailsec/tls/robot.h"
#include "probe/dialogue_factory.h"

namespace mailsec::probe {
namespace {

using config::Service;
using Steady = net::SteadyClock;
using Verdict = checks::CheckVerdict;

constexpr std::string_view kIds[] = {kScanSsl2Check,
                                     kScanSsl3Check,
                                     kScanLegacyTlsCheck,
                                     kScanModernTlsCheck,
                                     kScanTls13Check,
                                     kScanWeakCiphersCheck,
                                     kScanCommandInjectionCheck,
                                     kScanImplicitTlsCheck,
                                     kScanPlaintextMailCheck,
                                     kScanOpenRelayCheck,
                                     kScanCompressionCheck,
                                     kScanSecureRenegotiationCheck,
                                     kScanExtendedMasterSecretCheck,
                                     kScanFallbackScsvCheck,
                                     kScanCipherSuitesCheck,
                                     kScanForwardSecrecyCheck,
                                     kScanAeadCheck,
                                     kScanCipherOrderCheck,
                                     kScanEcdheGroupsCheck,
                                     kScanDheGroupsCheck,
                                     kScanLogjamCheck,
                                     kScanKexHashCheck,
                                     kScanEarlyDataCheck,
                                     kScanClientRenegotiationCheck,
                                     kScanCipherStrengthCheck,
                                     kScanCbcSuitesCheck,
                                     kScanBeastCheck,
                                     kScanPoodleCheck,
                                     kScanHelloRobustnessCheck,
                                     kScanHeartbleedCheck,
                                     kScanCcsInjectionCheck,
                                     kScanRobotCheck,
                                     kScanDrownCheck,
                                     kScanDualCertCheck};

// Raw-hello enumeration of weak suites stops after this many per version (each is one more
// connection; one accepted weak suite already fails the check).
constexpr int kMaxWeakRoundsPerVersion = 6;
constexpr const char* kCannotOffer = "the local OpenSSL cannot offer this";
// A signalling value, not a suite (RFC 5746 §3.3); CommonSuites() carries it.
constexpr uint16_t kEmptyRenegotiationInfoScsv = 0x00FF;
// TLSF-03: Internet.nl's limit: more than 10 client-initiated renegotiations is too many; one
// more than that is enough to tell.
constexpr int kMaxRenegotiations = 11;
// TLSV-07: the size of the robustness hello's handshake message, inside the 256..511-byte window
// of the F5 ClientHello bug that RFC 7685's padding was written to avoid.
constexpr size_t kRobustHelloBytes = 400;
// Lines read while waiting for the STARTTLS go-ahead of the injection probe.
constexpr int kMaxGoAheadLines = 50;
// TLSF-07: the heartbeat request claims 16 KB of payload and carries 16 bytes (testssl.sh claims
// the same); a patched server drops it silently (RFC 6520 §4), a vulnerable one copies 16 KB of
// its memory into the response.
constexpr uint16_t kHeartbleedClaim = 0x4000;
constexpr std::string_view kHeartbleedPayload = "mailsec-hb-probe";
// Reads of the server's first flight (each at least one byte; the deadline bounds them too).
constexpr int kMaxFlightReads = 1024;
// TLSF-08 alerts (RFC 5246 §7.2.2): a vulnerable server took the early ChangeCipherSpec and
// fails to decrypt the next record; a patched one calls it unexpected.
constexpr uint8_t kAlertUnexpectedMessage = 10;
constexpr uint8_t kAlertBadRecordMac = 20;
constexpr uint8_t kAlertDecryptionFailed = 21;

using internal::MakeDialogue;

// STRIP-04: STARTTLS and a harmless follow-up in one write (CHECKS.md; POP3 uses CAPA, valid
// before login, where NOOP is not).
std::string_view InjectionProbe(Service s) {
  switch (s) {
    case Service::kImap:
      return "m1 STARTTLS\r\nm2 NOOP\r\n";
    case Service::kPop3:
      return "STLS\r\nCAPA\r\n";
    case Service::kSieve:
      return "STARTTLS\r\nNOOP\r\n";
    default:
      return "STARTTLS\r\nNOOP\r\n";
  }
}

// A refusal for want of TLS: 530 (RFC 3207 §4), or a 4xx/5xx reply that names TLS or
// encryption in its text or enhanced code (X.7.10, X.7.11: RFC 5248's registry), as some
// servers answer instead.
bool DemandsTls(const proto::SmtpReply& r) {
  if (r.code == 530) return true;
  if (r.code < 400) return false;
  for (const std::string& line : r.lines) {
    const std::string lower = AsciiLower(line);
    if (lower.find("tls") != std::string::npos || lower.find("encrypt") != std::string::npos ||
        lower.rfind(".7.10 ", 1) == 1 || lower.rfind(".7.11 ", 1) == 1) {
      return true;
    }
  }
  return false;
}

std::string Said(std::string_view command, const proto::SmtpReply& r) {
  return std::string(command) + " answered " + std::to_string(r.code) + " " +
         Printable(r.FirstLine(), 100);
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// Where a go-ahead reply ends, and whether it said yes: 1 yes, 0 no, -1 read on.
int GoAheadLine(Service s, std::string_view line) {
  switch (s) {
    case Service::kImap:
      if (!StartsWithNoCase(line, "m1 ")) return -1;
      return StartsWithNoCase(line, "m1 OK") ? 1 : 0;
    case Service::kPop3:
      return StartsWithNoCase(line, "+OK") ? 1 : 0;
    case Service::kSieve:
      if (StartsWithNoCase(line, "OK")) return 1;
      if (StartsWithNoCase(line, "NO") || StartsWithNoCase(line, "BYE")) return 0;
      return -1;
    default:
      if (line.size() >= 4 && line[3] == '-') return -1;
      return line.starts_with("220") ? 1 : 0;
  }
}

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

// Configures a client context for exactly one version, security level 0 (legacy versions and
// weak suites are what we look for). False when the local OpenSSL refuses the setting.
bool ConfigureContext(SSL_CTX* ctx, int version, const std::string& cipher_list) {
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_LEGACY_SERVER_CONNECT);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_min_proto_version(ctx, version) != 1) return false;
  if (SSL_CTX_set_max_proto_version(ctx, version) != 1) return false;
  if (version != TLS1_3_VERSION && SSL_CTX_set_cipher_list(ctx, cipher_list.c_str()) != 1) {
    return false;
  }
  return true;
}

// META-01: can the local OpenSSL even offer this? Starts a handshake into a memory BIO; a
// library that will not offer the version or any of the suites fails before writing a byte.
bool LocalCanOffer(int version, const std::string& cipher_list) {
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || !ConfigureContext(ctx.get(), version, cipher_list)) {
    ERR_clear_error();
    return false;
  }
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  if (!ssl) return false;
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  if (rbio == nullptr || wbio == nullptr) {
    BIO_free(rbio);
    BIO_free(wbio);
    return false;
  }
  SSL_set_bio(ssl.get(), rbio, wbio);  // ssl owns both now
  SSL_set_connect_state(ssl.get());
  (void)SSL_do_handshake(ssl.get());  // wants to read: the ClientHello is written by then
  const bool wrote = BIO_ctrl_pending(wbio) > 0;
  ERR_clear_error();
  return wrote;
}

// A client context for exactly `version` and `ciphers` (ConfigureContext); null, with OpenSSL's
// error queue cleared, when the local OpenSSL refuses the setting.
std::unique_ptr<asio::ssl::context> ClientContext(int version, const std::string& ciphers) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  if (!ConfigureContext(ctx->native_handle(), version, ciphers)) {
    ERR_clear_error();
    return nullptr;
  }
  return ctx;
}

std::string OpenSslError() {
  std::string out;
  for (int i = 0; i < 4; ++i) {
    unsigned long e = ERR_get_error();
    if (e == 0) break;
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

std::array<uint8_t, 32> RandomBytes() {
  std::array<uint8_t, 32> r{};
  if (RAND_bytes(r.data(), static_cast<int>(r.size())) != 1) ERR_clear_error();
  return r;
}

// One test's answer.
struct Outcome {
  enum class Kind : uint8_t { kAccepted, kRefused, kUntested } kind = Kind::kUntested;
  std::string why;  // printable
  uint16_t cipher = 0;
  tls::ServerReply reply;  // a hand-built hello's answer (ServerHello or alert)
};

// TLSF-14: SHA-256 (lower-case hex) of a certificate's DER SubjectPublicKeyInfo; "" when none.
std::string SpkiSha256(X509* cert) {
  if (cert == nullptr) return "";
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  const bool ok =
      EVP_Digest(der, static_cast<size_t>(len), md, &md_len, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  if (!ok) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < md_len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xf]);
  }
  return hex;
}

std::string SpkiSha256OfDer(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  std::string out = SpkiSha256(cert);
  X509_free(cert);
  ERR_clear_error();
  return out;
}

Outcome Accepted(uint16_t cipher) { return Outcome{Outcome::Kind::kAccepted, "", cipher}; }
Outcome Refused(std::string why) { return Outcome{Outcome::Kind::kRefused, std::move(why), 0}; }
Outcome Untested(std::string why) { return Outcome{Outcome::Kind::kUntested, std::move(why), 0}; }

// One connection of the scan; closes on destruction. The dialogue borrows tcp.
struct Conn {
  std::unique_ptr<net::TcpTransport> tcp;
  std::unique_ptr<proto::Dialogue> dialogue;
  net::Deadline deadline;  // the whole connection
  ~Conn() {
    dialogue.reset();
    if (tcp) tcp->Close();
  }
};

// A finite-field ephemeral DH suite (TLS_DHE_RSA_*, TLS_DHE_DSS_*; not anonymous, not export).
bool IsDheSuite(uint16_t id) {
  const tls::CipherSuite* s = tls::FindCipherSuite(id);
  return s != nullptr && s->iana.starts_with("TLS_DHE_") &&
         s->iana.find("EXPORT") == std::string_view::npos;
}

// TLSF-05: a harmless command that makes the server speak inside TLS (and so hands us its
// session tickets), sent as early data on resumption. ManageSieve and the implicit-TLS services
// speak first.
std::string EarlyCommand(Service s, const std::string& helo) {
  switch (s) {
    case Service::kSmtp:
    case Service::kSubmission:
    case Service::kSubmissions:
      return "EHLO " + helo + "\r\n";
    case Service::kImap:
    case Service::kImaps:
      return "e1 NOOP\r\n";
    case Service::kPop3:
    case Service::kPop3s:
      return "CAPA\r\n";
    case Service::kSieve:
      return "";
  }
  return "";
}

struct SessionFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

// Where a client context's new-session callback keeps the last ticket: a SessionPtr in the
// context's ex_data (not its app data, which asio::ssl::context owns for verify callbacks).
int SessionSlot() {
  static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

int KeepSession(SSL* ssl, SSL_SESSION* session) {
  auto* keep = static_cast<SessionPtr*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), SessionSlot()));
  if (keep == nullptr) return 0;
  keep->reset(session);
  return 1;  // we own it now
}

const tls::GroupInfo* FindGroupNamed(std::string_view name) {
  for (const tls::GroupInfo& g : tls::Groups()) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

class Scanner {
 public:
  Scanner(const config::EndpointTarget& target, const asio::ip::address& address,
          const ScanOptions& o, ScanResult* r)
      : target_(target),
        address_(address),
        o_(o),
        r_(r),
        starttls_(config::ServiceTlsMode(target.service) == config::TlsMode::kStartTls),
        scan_deadline_(Steady::now() + o.budget) {}

  asio::awaitable<void> Run() {
    co_await ImplicitSibling();
    co_await PlaintextMail();
    if (!stopped_) co_await OpenRelay();
    if (!stopped_) co_await Versions();
    if (!stopped_) co_await Features();
    if (!stopped_) co_await FallbackScsv();
    if (!stopped_) co_await Ciphers();
    if (!stopped_) co_await CipherOrder();
    if (!stopped_) co_await HelloRobustness();
    if (!stopped_) co_await VersionTolerance();
    if (!stopped_) co_await KeyExchangeGroups();
    if (!stopped_) co_await DheParameters();
    if (!stopped_) co_await KeyExchangeHash();
    if (!stopped_) co_await EarlyData();
    if (!stopped_) co_await ClientRenegotiation();
    if (!stopped_) co_await SessionResumption();
    if (!stopped_) co_await LeafPerAuthentication();
    if (!stopped_) co_await Heartbleed();
    if (!stopped_) co_await CcsInjection();
    if (!stopped_) co_await Robot();
    if (!stopped_) co_await WeakSuites();
    if (!stopped_ && starttls_) co_await Injection();
    DrownAcrossHosts();
  }

 private:
  // TX-10 (RFC 8314 §3.3, §4.1): does the same address offer the implicit-TLS variant of this
  // STARTTLS service? One connection and a handshake; a refusal or a failed handshake is "no",
  // and neither stops the scan (the port is another service).
  asio::awaitable<void> ImplicitSibling() {
    config::Service sibling;
    switch (target_.service) {
      case config::Service::kSubmission:
        sibling = config::Service::kSubmissions;
        break;
      case config::Service::kImap:
        sibling = config::Service::kImaps;
        break;
      case config::Service::kPop3:
        sibling = config::Service::kPop3s;
        break;
      default:
        co_return;
    }
    uint16_t port = o_.implicit_sibling_port;
    if (port == 0) {
      if (target_.port != config::DefaultPort(target_.service)) co_return;
      port = config::DefaultPort(sibling);
    }
    if (r_->handshakes >= o_.max_handshakes || Steady::now() >= scan_deadline_) co_return;
    ++r_->handshakes;
    r_->ran = true;
    r_->implicit_tls_sibling_port = port;
    Conn c;
    c.deadline = std::min(scan_deadline_, Steady::now() + o_.probe.timeout);
    net::ConnectOutcome out = co_await net::Connect(asio::ip::tcp::endpoint(address_, port),
                                                    Phase(c, o_.probe.phases.connect), &c.tcp);
    if (out.error != net::ConnectError::kNone) {
      r_->implicit_tls_sibling = false;
      last_close_ = Steady::now();
      co_return;
    }
    tls::HandshakeRequest req;
    if (!target_.host_is_ip) req.sni = target_.host;
    req.verify_host = target_.host;
    req.deadline = Phase(c, o_.probe.phases.handshake);
    req.now_unix = static_cast<int64_t>(ToUnixSeconds(o_.probe.clock->Now()));
    tls::TlsFacts facts;
    std::unique_ptr<net::Transport> tls_transport;
    Status hs = co_await tls::Handshake(*o_.probe.tls, *c.tcp, req, &facts, &tls_transport);
    r_->implicit_tls_sibling = hs.ok() || facts.handshake_ok;
    tls_transport.reset();
    Closed(&c);
  }

  // TX-02 (RFC 3207 §4): a publicly referenced MX must not demand STARTTLS before it takes
  // mail. One plaintext transaction: MAIL FROM:<>, RCPT TO:<postmaster@domain>, RSET, QUIT.
  asio::awaitable<void> PlaintextMail() {
    if (target_.service != Service::kSmtp) co_return;
    Conn c;
    if (!co_await Open(&c, false)) co_return;
    Result<proto::SmtpReply> mail =
        co_await c.dialogue->SmtpCommand("MAIL FROM:<>", Phase(c, o_.probe.phases.command));
    if (!mail.ok()) {
      r_->plaintext_mail_detail = "MAIL FROM:<>: " + mail.status().message();
      Closed(&c);
      co_return;
    }
    if (DemandsTls(*mail)) {
      r_->plaintext_mail_refused = true;
      r_->plaintext_mail_detail = Said("MAIL FROM:<>", *mail);
    } else if (!mail->Positive()) {
      r_->plaintext_mail_detail = Said("MAIL FROM:<>", *mail) + " (not for want of TLS)";
    } else {
      const std::string rcpt = "RCPT TO:<postmaster@" + PostmasterDomain() + ">";
      Result<proto::SmtpReply> to =
          co_await c.dialogue->SmtpCommand(rcpt, Phase(c, o_.probe.phases.command));
      if (!to.ok()) {
        r_->plaintext_mail_detail = rcpt + ": " + to.status().message();
      } else {
        r_->plaintext_mail_refused = DemandsTls(*to);
        r_->plaintext_mail_detail = Said(rcpt, *to);
      }
    }
    co_await Goodbye(&c);
    Closed(&c);
  }

  // TX-13 (optional, intrusive): an unauthenticated RCPT to a foreign mailbox, over TLS as a
  // sender would, then RSET: never DATA.
  asio::awaitable<void> OpenRelay() {
    if (o_.open_relay_recipient.empty()) co_return;
    if (target_.service != Service::kSmtp && target_.service != Service::kSubmission &&
        target_.service != Service::kSubmissions) {
      co_return;
    }
    Conn c;
    if (!co_await Open(&c, true)) co_return;
    tls::HandshakeRequest req;
    if (!target_.host_is_ip) req.sni = target_.host;
    req.verify_host = target_.host;
    req.deadline = Phase(c, o_.probe.phases.handshake);
    req.now_unix = static_cast<int64_t>(ToUnixSeconds(o_.probe.clock->Now()));
    tls::TlsFacts facts;
    std::unique_ptr<net::Transport> tls_transport;
    Status s = co_await tls::Handshake(*o_.probe.tls, *c.tcp, req, &facts, &tls_transport);
    if (s.ok() && starttls_) {
      (void)c.dialogue->SwitchTransport(tls_transport.get());
    } else if (s.ok()) {
      c.dialogue = MakeDialogue(target_.service, tls_transport.get(), o_.probe);
      s = co_await c.dialogue->Greeting(Phase(c, o_.probe.phases.greeting));
    }
    if (s.ok()) {
      Result<proto::Capabilities> caps =
          co_await c.dialogue->AskCapabilities(Phase(c, o_.probe.phases.command));
      s = caps.status();
    }
    if (!s.ok()) {
      r_->open_relay_detail = "relay test: " + s.message();
    } else {
      co_await RelayTransaction(&c);
      co_await Goodbye(&c);
    }
    c.dialogue.reset();
    tls_transport.reset();
    Closed(&c);
  }

  asio::awaitable<void> RelayTransaction(Conn* c) {
    Result<proto::SmtpReply> mail =
        co_await c->dialogue->SmtpCommand("MAIL FROM:<>", Phase(*c, o_.probe.phases.command));
    if (!mail.ok()) {
      r_->open_relay_detail = "MAIL FROM:<>: " + mail.status().message();
      co_return;
    }
    if (!mail->Positive()) {
      r_->open_relay_detail = Said("MAIL FROM:<>", *mail);
      co_return;
    }
    const std::string rcpt = "RCPT TO:<" + o_.open_relay_recipient + ">";
    Result<proto::SmtpReply> to =
        co_await c->dialogue->SmtpCommand(rcpt, Phase(*c, o_.probe.phases.command));
    if (!to.ok()) {
      r_->open_relay_detail = rcpt + ": " + to.status().message();
      co_return;
    }
    r_->open_relay = to->Positive();
    r_->open_relay_detail = Said(rcpt, *to);
  }

  // RSET and QUIT; their answers decide nothing.
  asio::awaitable<void> Goodbye(Conn* c) {
    Result<proto::SmtpReply> rset =
        co_await c->dialogue->SmtpCommand("RSET", Phase(*c, o_.probe.phases.command));
    if (rset.ok()) (void)co_await c->dialogue->Quit(Phase(*c, o_.probe.phases.command));
  }

  std::string PostmasterDomain() const {
    if (!o_.postmaster_domain.empty()) return o_.postmaster_domain;
    if (!target_.host_is_ip) return target_.host;
    if (address_.is_v6()) return "[IPv6:" + address_.to_string() + "]";
    return "[" + address_.to_string() + "]";
  }

  net::Deadline Phase(const Conn& c, std::chrono::milliseconds budget) const {
    return std::min(c.deadline, Steady::now() + budget);
  }

  void Note(const std::string& what) {
    if (r_->error.size() > 600) return;
    if (!r_->error.empty()) r_->error += "; ";
    r_->error += Printable(what, 200);
  }
  void Stop(const std::string& why) {
    stopped_ = true;
    Note(why);
  }

  // A fresh connection, paced and counted, connected and (with `starttls`, on STARTTLS
  // services) through the go-ahead: ready for a ClientHello. Without `starttls` a STARTTLS
  // service stops after the capabilities. A failure stops the scan (the server turned us away,
  // or is gone: META-03 says back off).
  asio::awaitable<bool> Open(Conn* c, bool starttls) {
    if (stopped_) co_return false;
    if (o_.cancel != nullptr && o_.cancel->load()) {
      Stop("cancelled (shutdown)");
      co_return false;
    }
    if (r_->handshakes >= o_.max_handshakes) {
      Stop("handshake cap of " + std::to_string(o_.max_handshakes) + " reached");
      co_return false;
    }
    if (r_->handshakes > 0) {
      asio::steady_timer pause(co_await asio::this_coro::executor);
      pause.expires_at(last_close_ + o_.pause);
      std::error_code ignored;
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    if (Steady::now() >= scan_deadline_) {
      Stop("scan budget spent");
      co_return false;
    }
    ++r_->handshakes;
    r_->ran = true;
    c->deadline = std::min(scan_deadline_, Steady::now() + o_.probe.timeout);
    net::ConnectOutcome out = co_await net::Connect(asio::ip::tcp::endpoint(address_, target_.port),
                                                    Phase(*c, o_.probe.phases.connect), &c->tcp);
    if (out.error != net::ConnectError::kNone) {
      Stop("connect: " + out.message);
      co_return false;
    }
    if (!starttls_) co_return true;
    c->dialogue = MakeDialogue(target_.service, c->tcp.get(), o_.probe);
    Status s = co_await c->dialogue->Greeting(Phase(*c, o_.probe.phases.greeting));
    if (!s.ok()) {
      Stop("greeting: " + s.message());
      co_return false;
    }
    Result<proto::Capabilities> caps =
        co_await c->dialogue->AskCapabilities(Phase(*c, o_.probe.phases.command));
    if (!caps.ok()) {
      Stop("capabilities: " + caps.status().message());
      co_return false;
    }
    if (!caps->starttls) {
      Stop("STARTTLS not offered: nothing to scan");
      co_return false;
    }
    if (!starttls) co_return true;
    s = co_await c->dialogue->StartTls(Phase(*c, o_.probe.phases.command));
    if (!s.ok()) {
      Stop("STARTTLS: " + s.message());
      co_return false;
    }
    // Plaintext after the go-ahead is the fast probe's finding (response_injection); here it
    // is dropped so that it cannot pass for the server's TLS answer.
    (void)c->dialogue->SwitchTransport(nullptr);
    co_return true;
  }

  void Closed(Conn* c) {
    c->dialogue.reset();
    if (c->tcp) c->tcp->Close();
    last_close_ = Steady::now();
  }

  using TlsStream = asio::ssl::stream<asio::ip::tcp::socket&>;

  // One handshake (or renegotiation) on `stream` under the handshake deadline; *ec says how it
  // ended, c.tcp->watchdog().Fired() whether the deadline did.
  asio::awaitable<void> TimedHandshake(Conn& c, TlsStream& stream, std::error_code* ec) {
    c.tcp->watchdog().Arm(Phase(c, o_.probe.phases.handshake));
    co_await stream.async_handshake(asio::ssl::stream_base::client,
                                    asio::redirect_error(asio::use_awaitable, *ec));
    c.tcp->watchdog().Disarm();
  }

  // The first handshake on a fresh connection: SNI for a host name, then TimedHandshake.
  asio::awaitable<void> FirstHandshake(Conn& c, TlsStream& stream, std::error_code* ec) {
    if (!target_.host_is_ip) SSL_set_tlsext_host_name(stream.native_handle(), target_.host.c_str());
    ERR_clear_error();
    co_await TimedHandshake(c, stream, ec);
  }

  // A full handshake by the local OpenSSL restricted to one version (and cipher list).
  asio::awaitable<Outcome> TryOpenSsl(int version, std::string cipher_list) {
    if (!LocalCanOffer(version, cipher_list)) {
      co_return Untested(kCannotOffer);
    }
    std::unique_ptr<asio::ssl::context> ctx = ClientContext(version, cipher_list);
    if (!ctx) co_return Untested(kCannotOffer);
    Conn c;
    if (!co_await Open(&c, true)) co_return Untested("no connection");
    Outcome out;
    {
      TlsStream stream(c.tcp->socket(), *ctx);
      SSL* ssl = stream.native_handle();
      std::error_code ec;
      co_await FirstHandshake(c, stream, &ec);
      if (c.tcp->watchdog().Fired()) {
        ERR_clear_error();
        // A server that stays silent on a hello of this version does not speak it.
        out = Refused("no answer to the ClientHello in time");
      } else if (ec) {
        std::string detail = ec.message();
        std::string queued = OpenSslError();
        if (!queued.empty()) detail += " (" + queued + ")";
        // An answer that is not TLS at all (a plaintext banner reads as a record of version
        // 0x3230) says nothing about this version: untested, not refused (META-01). A server
        // that refuses a version answers with an alert (protocol_version) or closes.
        bool not_tls = false;
        if (ec.category() == asio::error::get_ssl_category()) {
          const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
          not_tls = reason == SSL_R_WRONG_VERSION_NUMBER ||
                    reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_HTTP_REQUEST ||
                    reason == SSL_R_UNKNOWN_PROTOCOL || reason == SSL_R_RECORD_LENGTH_MISMATCH;
        }
        out = not_tls ? Untested("the answer is not TLS: " + detail) : Refused(detail);
      } else if (SSL_version(ssl) != version) {
        out = Refused("negotiated " + std::string(SSL_get_version(ssl)));
      } else {
        const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
        out = Accepted(cipher != nullptr ? SSL_CIPHER_get_protocol_id(cipher) : 0);
        if (r_->leaf_spki_sha256.empty()) {
          r_->leaf_spki_sha256 = SpkiSha256(SSL_get0_peer_certificate(ssl));
        }
      }
    }
    Closed(&c);
    co_return out;
  }

  // A hand-built ClientHello (SSLv2 format for tls::kSsl2); decided from the ServerHello.
  asio::awaitable<Outcome> TryRawHello(uint16_t version, std::vector<uint16_t> suites,
                                       bool offer_deflate = false,
                                       std::vector<uint16_t> groups = {}) {
    std::string hello;
    if (version == tls::kSsl2) {
      hello = tls::BuildSsl2ClientHello(RandomBytes());
    } else {
      tls::HelloSpec spec;
      spec.version = version;
      spec.suites = suites;
      if (!target_.host_is_ip) spec.sni = target_.host;
      spec.random = RandomBytes();
      spec.offer_deflate = offer_deflate;
      spec.groups = std::move(groups);
      Result<std::string> built = tls::BuildClientHello(spec);
      if (!built.ok()) co_return Untested(built.status().message());
      hello = std::move(built).value();
    }
    co_return co_await TrySend(version, std::move(suites), std::move(hello));
  }

  // Sends one hand-built hello for `version` offering `suites` on a fresh connection; decided
  // from the server's first answer.
  asio::awaitable<Outcome> TrySend(uint16_t version, std::vector<uint16_t> suites,
                                   std::string hello) {
    Conn c;
    if (!co_await Open(&c, true)) co_return Untested("no connection");
    const net::Deadline deadline = Phase(c, o_.probe.phases.handshake);
    Outcome out;
    Status w = co_await c.tcp->WriteAll(hello, deadline);
    if (!w.ok()) {
      out = Refused("write: " + w.message());
    } else {
      std::string got;
      char buf[4096];
      for (;;) {
        Result<tls::ServerReply> reply = tls::ParseServerReply(got);
        if (!reply.ok()) {
          out = Untested("the answer is not TLS: " + reply.status().message());
          break;
        }
        if (reply->kind == tls::ServerReply::Kind::kIncomplete) {
          const size_t room = tls::kMaxServerReplyBytes - got.size();
          Result<size_t> n =
              co_await c.tcp->ReadSome(std::span<char>(buf, std::min(sizeof buf, room)), deadline);
          if (!n.ok()) {
            out = Refused(n.status().code() == Status::Code::kTimeout
                              ? std::string("no answer to the ClientHello in time")
                              : n.status().message());
            break;
          }
          if (*n == 0) {
            out = Refused(got.empty() ? "closed without an answer" : "closed mid-answer");
            break;
          }
          got.append(buf, *n);
          continue;
        }
        out = Decide(version, suites, *reply);
        out.reply = *reply;
        break;
      }
    }
    Closed(&c);
    co_return out;
  }

  static Outcome Decide(uint16_t version, const std::vector<uint16_t>& suites,
                        const tls::ServerReply& reply) {
    using Kind = tls::ServerReply::Kind;
    switch (reply.kind) {
      case Kind::kAlert:
        return Refused("alert " + std::to_string(reply.alert_description));
      case Kind::kSsl2ServerHello:
        if (version == tls::kSsl2 && reply.version == tls::kSsl2 && reply.ssl2_cipher_count > 0) {
          return Accepted(0);
        }
        return Refused("SSLv2 SERVER-HELLO without a cipher");
      case Kind::kServerHello:
        if (reply.NegotiatedVersion() != version) {
          return Refused("ServerHello of " + tls::VersionName(reply.NegotiatedVersion()));
        }
        if (std::find(suites.begin(), suites.end(), reply.cipher) == suites.end() ||
            reply.cipher == tls::kFallbackScsv || reply.cipher == kEmptyRenegotiationInfoScsv) {
          return Refused("ServerHello chose a suite we did not offer");
        }
        return Accepted(reply.cipher);
      case Kind::kIncomplete:
        break;
    }
    return Untested("incomplete answer");
  }

  void Record(const std::string& name, const Outcome& o) {
    switch (o.kind) {
      case Outcome::Kind::kAccepted:
        r_->versions[name] = true;
        break;
      case Outcome::Kind::kRefused:
        r_->versions[name] = false;
        break;
      case Outcome::Kind::kUntested:
        Note(name + " untested: " + o.why);
        break;
    }
  }

  asio::awaitable<void> Versions() {
    struct V {
      int openssl;
      uint16_t wire;
    };
    // Newest first: a server that turns us away early has at least told the important part.
    const V kTls[] = {{TLS1_3_VERSION, tls::kTls13},
                      {TLS1_2_VERSION, tls::kTls12},
                      {TLS1_1_VERSION, tls::kTls11},
                      {TLS1_VERSION, tls::kTls10}};
    const std::vector<uint16_t> common(tls::CommonSuites().begin(), tls::CommonSuites().end());
    for (const V& v : kTls) {
      Outcome o = co_await TryOpenSsl(v.openssl, "ALL:@SECLEVEL=0");
      if (o.kind == Outcome::Kind::kUntested && o.why == kCannotOffer && !stopped_ &&
          v.wire != tls::kTls13) {
        // The local library cannot speak it (compiled out, or refused by policy): ask with a
        // hand-built hello instead (META-01).
        o = co_await TryRawHello(v.wire, common);
      }
      Record(tls::VersionName(v.wire), o);
      if (stopped_) co_return;
    }
    Outcome ssl3 = co_await TryRawHello(tls::kSsl3, common);
    Record("SSLv3", ssl3);
    if (stopped_) co_return;
    Outcome ssl2 = co_await TryRawHello(tls::kSsl2, {});
    Record("SSLv2", ssl2);
    if (ssl2.kind == Outcome::Kind::kAccepted && !ssl2.reply.ssl2_certificate.empty()) {
      r_->ssl2_spki_sha256 = SpkiSha256OfDer(ssl2.reply.ssl2_certificate);
    }
    if (o_.ssl2_keys != nullptr && !r_->ssl2_spki_sha256.empty()) {
      o_.ssl2_keys->Record(r_->ssl2_spki_sha256, Here());
    }
  }

  std::string Here() const { return target_.ToString() + " (" + address_.to_string() + ")"; }

  // TLSF-14, at the end of the scan (other scans running alongside have recorded their SSLv2 keys
  // by then): is this endpoint's leaf key served with SSLv2 elsewhere?
  void DrownAcrossHosts() {
    if (o_.ssl2_keys == nullptr || r_->leaf_spki_sha256.empty()) return;
    r_->drown_shared_with = o_.ssl2_keys->Find(r_->leaf_spki_sha256, Here());
  }

  bool VersionAccepted(uint16_t version) const {
    auto it = r_->versions.find(tls::VersionName(version));
    return it != r_->versions.end() && it->second;
  }

  // TLSF-01, TLSF-02, TLSF-04 from one connection: a hand-built hello on the best version up to
  // TLS 1.2 that the server accepted, offering DEFLATE and null compression, renegotiation_info
  // (SSLv3: the SCSV among the common suites) and extended_master_secret; the ServerHello tells
  // all three. No handshake is completed.
  asio::awaitable<void> Features() {
    uint16_t best = 0;
    for (uint16_t v : {tls::kTls12, tls::kTls11, tls::kTls10, tls::kSsl3}) {
      if (VersionAccepted(v)) {
        best = v;
        break;
      }
    }
    if (best == 0) co_return;  // TLS 1.3 only (or nothing): these do not apply
    const std::vector<uint16_t> common(tls::CommonSuites().begin(), tls::CommonSuites().end());
    Outcome o = co_await TryRawHello(best, common, /*offer_deflate=*/true);
    if (o.kind != Outcome::Kind::kAccepted) {
      Note("features hello (" + tls::VersionName(best) + ") untested: " + o.why);
      co_return;
    }
    r_->features_version = tls::VersionName(best);
    r_->compression_method = o.reply.compression;
    r_->secure_renegotiation = o.reply.renegotiation_info;
    if (best == tls::kTls12) r_->extended_master_secret = o.reply.extended_master_secret;
  }

  // TLSV-07 (RFC 8701, RFC 7685): on the best of TLS 1.3 and 1.2, the suites it accepted in a
  // hello that also carries GREASE values and is padded into the 256..511-byte window that some
  // TLS terminators choke on. Refused while the plain hellos were accepted: a second hello,
  // padded alone, tells the two apart. One or two connections.
  asio::awaitable<void> HelloRobustness() {
    uint16_t v = 0;
    if (VersionAccepted(tls::kTls13)) {
      v = tls::kTls13;
    } else if (VersionAccepted(tls::kTls12)) {
      v = tls::kTls12;
    }
    if (v == 0) co_return;
    std::vector<uint16_t> suites;
    for (const ScanReport::AcceptedCipher& c : r_->accepted_ciphers) {
      if (c.version == tls::VersionName(v) && suites.size() < tls::kMaxSuitesPerHello - 1) {
        suites.push_back(c.id);
      }
    }
    if (suites.empty()) co_return;  // the enumeration found none: nothing known to offer
    tls::HelloSpec spec;
    spec.version = v;
    spec.suites = suites;
    if (!target_.host_is_ip) spec.sni = target_.host;
    spec.random = RandomBytes();
    spec.grease = true;
    spec.pad_to = kRobustHelloBytes;
    Result<std::string> hello = tls::BuildClientHello(spec);
    if (!hello.ok()) co_return;
    r_->robustness_version = tls::VersionName(v);
    co_await ManySuites(v, suites);
    Outcome both = co_await TrySend(v, suites, std::move(hello).value());
    if (both.kind == Outcome::Kind::kAccepted) {
      r_->hello_robust = true;
      co_return;
    }
    if (both.kind == Outcome::Kind::kUntested) {
      Note("hello robustness untested: " + both.why);
      co_return;
    }
    spec.grease = false;
    spec.random = RandomBytes();
    hello = tls::BuildClientHello(spec);
    if (!hello.ok()) co_return;
    Outcome padded = co_await TrySend(v, suites, std::move(hello).value());
    r_->hello_robust = false;
    if (padded.kind == Outcome::Kind::kAccepted) {
      r_->robustness_detail = "a hello with GREASE values was refused (" + both.why + ")";
    } else if (padded.kind == Outcome::Kind::kRefused) {
      r_->robustness_detail = "a hello padded to " + std::to_string(kRobustHelloBytes) +
                              " bytes (RFC 7685) was refused (" + padded.why + ")";
    } else {
      r_->robustness_detail = "a hello with GREASE values, padded to " +
                              std::to_string(kRobustHelloBytes) + " bytes, was refused (" +
                              both.why + ")";
    }
  }

  // TLSV-07 (RFC 5246 Appendix E.1): the accepted TLS 1.2 suites in two TLS 1.2 hellos, one
  // with the record layer's version at TLS 1.2 (0x0303) and one with client_version 0x0304 and
  // no supported_versions: each must be answered with TLS 1.2. Servers (and terminators) that
  // fail either break newer clients. Two connections, when TLS 1.2 was accepted.
  asio::awaitable<void> VersionTolerance() {
    if (!VersionAccepted(tls::kTls12)) co_return;
    std::vector<uint16_t> suites;
    for (const ScanReport::AcceptedCipher& c : r_->accepted_ciphers) {
      if (c.version == tls::VersionName(tls::kTls12) &&
          suites.size() < tls::kMaxSuitesPerHello - 1) {
        suites.push_back(c.id);
      }
    }
    if (suites.empty()) co_return;
    std::vector<std::string> refused;
    for (int probe = 0; probe < 2 && !stopped_; ++probe) {
      tls::HelloSpec spec;
      spec.version = tls::kTls12;
      spec.suites = suites;
      if (!target_.host_is_ip) spec.sni = target_.host;
      spec.random = RandomBytes();
      if (probe == 0) {
        spec.record_version = tls::kTls12;
      } else {
        spec.client_version = tls::kTls13;
      }
      Result<std::string> hello = tls::BuildClientHello(spec);
      if (!hello.ok()) co_return;
      Outcome o = co_await TrySend(tls::kTls12, suites, std::move(hello).value());
      const char* what = probe == 0 ? "a hello in a record of version TLS 1.2 (0x0303)"
                                    : "a TLS 1.2 hello with client_version 0x0304";
      if (o.kind == Outcome::Kind::kUntested) {
        Note(std::string(what) + " untested: " + o.why);
        continue;
      }
      const bool ok = o.kind == Outcome::Kind::kAccepted;
      (probe == 0 ? r_->record_version_ok : r_->version_tolerant) = ok;
      if (!ok) refused.push_back(std::string(what) + " was refused (" + o.why + ")");
    }
    for (const std::string& why : refused) {
      r_->tolerance_detail += (r_->tolerance_detail.empty() ? "" : "; ") + why;
    }
  }

  // TLSV-07: more than 128 suites with the `accepted` ones last: a server that reads only the
  // start of a long list, or refuses long lists, fails hellos that big TLS libraries send. One
  // connection.
  asio::awaitable<void> ManySuites(uint16_t v, std::vector<uint16_t> accepted) {
    // The table's TLS 1.2 and TLS 1.3 suites (a server skips the other version's), then PSK and
    // SRP suites (RFC 4279, 5487, 5054), which a server without a PSK identity or SRP verifier
    // never picks: together more than 128.
    std::vector<uint16_t> pool = tls::SuitesFor(tls::kTls12);
    const std::vector<uint16_t> tls13 = tls::SuitesFor(tls::kTls13);
    pool.insert(pool.end(), tls13.begin(), tls13.end());
    constexpr uint16_t kPskSrp[] = {0x008A, 0x008B, 0x008C, 0x008D, 0x008E, 0x008F, 0x0090,
                                    0x0091, 0x0092, 0x0093, 0x0094, 0x0095, 0x00A8, 0x00A9,
                                    0x00AA, 0x00AB, 0x00AC, 0x00AD, 0xC01A, 0xC01D, 0xC020};
    pool.insert(pool.end(), std::begin(kPskSrp), std::end(kPskSrp));
    std::vector<uint16_t> offer;
    for (uint16_t id : pool) {
      if (std::find(accepted.begin(), accepted.end(), id) == accepted.end()) offer.push_back(id);
    }
    offer.insert(offer.end(), accepted.begin(), accepted.end());
    if (offer.size() <= 128 || offer.size() > tls::kMaxSuitesRobustHello) co_return;
    tls::HelloSpec spec;
    spec.version = v;
    spec.suites = offer;
    spec.many_suites = true;
    if (!target_.host_is_ip) spec.sni = target_.host;
    spec.random = RandomBytes();
    Result<std::string> hello = tls::BuildClientHello(spec);
    if (!hello.ok()) co_return;
    r_->many_suites_offered = offer.size();
    Outcome o = co_await TrySend(v, offer, std::move(hello).value());
    if (o.kind == Outcome::Kind::kUntested) {
      Note("many-suites hello untested: " + o.why);
      co_return;
    }
    r_->many_suites_ok = o.kind == Outcome::Kind::kAccepted;
    if (o.kind == Outcome::Kind::kRefused) r_->many_suites_detail = o.why;
  }

  // TLSV-06 (RFC 7507 §3): with two or more versions accepted, a hello for the second best
  // carrying TLS_FALLBACK_SCSV must be refused with inappropriate_fallback.
  asio::awaitable<void> FallbackScsv() {
    std::vector<uint16_t> accepted;
    for (uint16_t v : {tls::kTls13, tls::kTls12, tls::kTls11, tls::kTls10, tls::kSsl3}) {
      if (VersionAccepted(v)) accepted.push_back(v);
    }
    if (accepted.size() < 2) co_return;
    const uint16_t lower = accepted[1];
    std::vector<uint16_t> suites(tls::CommonSuites().begin(), tls::CommonSuites().end());
    suites.push_back(tls::kFallbackScsv);
    Outcome o = co_await TryRawHello(lower, suites);
    r_->fallback_version = tls::VersionName(lower);
    if (o.kind == Outcome::Kind::kAccepted) {
      r_->fallback_scsv = false;
    } else if (o.kind == Outcome::Kind::kRefused &&
               o.reply.kind == tls::ServerReply::Kind::kAlert &&
               o.reply.alert_description == tls::kAlertInappropriateFallback) {
      r_->fallback_scsv = true;
    } else {
      Note("fallback hello (" + r_->fallback_version + "): " + o.why);
    }
  }

  bool CiphersComplete(uint16_t version) const {
    const std::string name = tls::VersionName(version);
    return std::find(r_->ciphers_complete.begin(), r_->ciphers_complete.end(), name) !=
           r_->ciphers_complete.end();
  }

  // CIPH-01/03: every suite of the table each accepted version takes, by iterative removal
  // (CHECKS.md §17): the suites left are offered in balanced chunks of at most 64; the one the
  // ServerHello picks is recorded and dropped, and the chunk asked again until the server
  // refuses it; then the next chunk. One connection per accepted suite plus one per chunk.
  // TLS 1.3 is asked with its own hellos (an empty key_share: the HelloRetryRequest names the
  // suite).
  asio::awaitable<void> Ciphers() {
    for (uint16_t v : {tls::kTls13, tls::kTls12, tls::kTls11, tls::kTls10, tls::kSsl3}) {
      if (!VersionAccepted(v)) continue;
      const std::vector<uint16_t> all = tls::SuitesFor(v);
      const size_t chunks = (all.size() + tls::kMaxSuitesPerHello - 1) / tls::kMaxSuitesPerHello;
      bool complete = true;
      for (size_t chunk = 0; chunk < chunks && complete; ++chunk) {
        std::vector<uint16_t> offer;  // interleaved: each chunk a cross-section of the table
        for (size_t i = chunk; i < all.size(); i += chunks) offer.push_back(all[i]);
        // Each round removes a suite or ends the chunk: at most offer.size() + 1 rounds.
        for (size_t round = 0; round <= tls::kMaxSuitesPerHello && !offer.empty(); ++round) {
          Outcome o = co_await TryRawHello(v, offer);
          if (o.kind == Outcome::Kind::kUntested) {
            complete = false;
            Note(tls::VersionName(v) + " suites untested: " + o.why);
            break;
          }
          if (o.kind == Outcome::Kind::kRefused) break;  // nothing left in this chunk
          const tls::CipherSuite* info = tls::FindCipherSuite(o.cipher);
          r_->accepted_ciphers.push_back(
              {tls::VersionName(v), o.cipher,
               info != nullptr ? std::string(info->openssl) : tls::VersionName(o.cipher)});
          std::erase(offer, o.cipher);
        }
      }
      if (complete) r_->ciphers_complete.push_back(tls::VersionName(v));
      if (stopped_) co_return;
    }
  }

  // CIPH-05: does the server pick by its own order, and is a better suite preferred? On the best
  // version up to TLS 1.2 with two or more accepted suites: the best (Internet.nl class;
  // ChaCha20 after AES-GCM among equals, tolerating servers that prefer it for clients without
  // AES hardware) and the worst of them, offered in both orders. Two connections.
  asio::awaitable<void> CipherOrder() {
    for (uint16_t v : {tls::kTls12, tls::kTls11, tls::kTls10, tls::kSsl3}) {
      if (!VersionAccepted(v)) continue;
      const std::string name = tls::VersionName(v);
      const tls::CipherSuite* best = nullptr;
      const tls::CipherSuite* worst = nullptr;
      auto rank = [](const tls::CipherSuite* s) {
        const bool chacha = s->iana.find("CHACHA20") != std::string_view::npos;
        return static_cast<int>(s->cls) * 2 + (chacha ? 1 : 0);
      };
      for (const ScanReport::AcceptedCipher& c : r_->accepted_ciphers) {
        if (c.version != name) continue;
        const tls::CipherSuite* s = tls::FindCipherSuite(c.id);
        if (s == nullptr) continue;
        if (best == nullptr || rank(s) < rank(best)) best = s;
        if (worst == nullptr || rank(s) >= rank(worst)) worst = s;
      }
      if (best == nullptr || best == worst) co_return;  // fewer than two: nothing to order
      r_->order_version = name;
      r_->order_best = std::string(best->openssl);
      r_->order_worst = std::string(worst->openssl);
      // Named vectors, not braced lists in the co_await (GCC 12 miscompiles those).
      const std::vector<uint16_t> worst_first = {worst->id, best->id};
      const std::vector<uint16_t> best_first = {best->id, worst->id};
      Outcome first = co_await TryRawHello(v, worst_first);
      if (first.kind != Outcome::Kind::kAccepted) {
        Note("cipher order (" + name + "): " + first.why);
        co_return;
      }
      r_->order_pick_worst_first = SuiteName(first.cipher);
      Outcome second = co_await TryRawHello(v, best_first);
      if (second.kind != Outcome::Kind::kAccepted) {
        Note("cipher order (" + name + "): " + second.why);
        co_return;
      }
      r_->order_pick_best_first = SuiteName(second.cipher);
      co_return;  // the best version only (Internet.nl)
    }
  }

  // CIPH-06/07: every group of the table, one per connection. TLS 1.3: all its suites, one group
  // and an empty key_share: a HelloRetryRequest naming that group means accepted. TLS 1.2 (when
  // an ECDHE_RSA suite was accepted): those suites and one curve: a ServerHello means accepted
  // (RFC 8422 §5.1: no ECC suite without a curve the client supports). Not ECDHE_ECDSA: there
  // supported_groups also has to name the certificate's curve (RFC 8422 §5.1), so one curve
  // offered would test two things at once.
  asio::awaitable<void> KeyExchangeGroups() {
    std::vector<uint16_t> ecdhe;
    for (const ScanReport::AcceptedCipher& c : r_->accepted_ciphers) {
      const tls::CipherSuite* s = tls::FindCipherSuite(c.id);
      if (c.version == "TLSv1.2" && s != nullptr && s->iana.starts_with("TLS_ECDHE_RSA_")) {
        ecdhe.push_back(c.id);
      }
    }
    for (uint16_t v : {tls::kTls13, tls::kTls12}) {
      const bool tls13 = v == tls::kTls13;
      if (!VersionAccepted(v) || (!tls13 && ecdhe.empty())) continue;
      const std::string name = tls::VersionName(v);
      const std::vector<uint16_t> suites = tls13 ? tls::SuitesFor(tls::kTls13) : ecdhe;
      r_->groups_asked.push_back(name);
      bool complete = true;
      for (const tls::GroupInfo& g : tls::Groups()) {
        if (!(tls13 ? g.tls13 : g.tls12)) continue;
        const std::vector<uint16_t> one = {g.id};
        // TLS 1.3 names its group in the HelloRetryRequest; TLS 1.2 in the ServerKeyExchange
        // (RFC 8422 §5.4), read from the server's flight. Another group than the one offered is
        // no acceptance of ours.
        Outcome o;
        if (tls13) {
          o = co_await TryRawHello(v, suites, false, one);
        } else {
          o = co_await Tls12Group(suites, g.id);
        }
        if (o.kind == Outcome::Kind::kUntested) {
          complete = false;
          Note(name + " group " + std::string(g.name) + " untested: " + o.why);
          break;
        }
        const bool accepted =
            o.kind == Outcome::Kind::kAccepted && (!tls13 || o.reply.key_share_group == g.id);
        r_->groups.push_back({name, g.id, std::string(g.name), accepted});
      }
      if (complete) r_->groups_complete.push_back(name);
      if (stopped_) co_return;
    }
  }

  // CIPH-06, TLS 1.2: a hello offering the ECDHE_RSA `suites` and `group` alone, read up to
  // ServerHelloDone: accepted when the ServerKeyExchange names that group (a server that ignores
  // the client's list and uses another curve has not accepted this one). One connection.
  asio::awaitable<Outcome> Tls12Group(std::vector<uint16_t> suites, uint16_t group) {
    Conn c;
    if (!co_await Open(&c, true)) co_return Untested("no connection");
    tls::HelloSpec spec;
    spec.version = tls::kTls12;
    spec.suites = std::move(suites);
    spec.groups = {group};
    if (!target_.host_is_ip) spec.sni = target_.host;
    spec.random = RandomBytes();
    FlightResult f = co_await FlightFor(&c, std::move(spec));
    Closed(&c);
    if (!f.ok) co_return f.refused ? Refused(f.why) : Untested(f.why);
    if (f.flight.ske_named_group < 0) {
      co_return Untested("no ECDHE ServerKeyExchange naming a curve");
    }
    if (f.flight.ske_named_group != group) {
      co_return Refused("the ServerKeyExchange names group " +
                        std::to_string(f.flight.ske_named_group));
    }
    Outcome o = Accepted(f.flight.hello.cipher);
    o.reply = f.flight.hello;
    co_return o;
  }

  // CIPH-07/TLSF-13 below TLS 1.3: the DHE group is in the ServerKeyExchange. A full handshake
  // by the local OpenSSL (SECLEVEL 0: it must take weak groups too) offering only the DHE suites
  // the server accepted on the best version that has any; the group is the peer's temporary key.
  asio::awaitable<void> DheParameters() {
    const std::pair<const char*, int> versions[] = {
        {"TLSv1.2", TLS1_2_VERSION}, {"TLSv1.1", TLS1_1_VERSION}, {"TLSv1", TLS1_VERSION}};
    std::string list, version_name;
    int version = 0;
    for (const auto& [name, v] : versions) {
      for (const ScanReport::AcceptedCipher& c : r_->accepted_ciphers) {
        if (c.version == name && IsDheSuite(c.id)) list += (list.empty() ? "" : ":") + c.name;
      }
      if (!list.empty()) {
        version_name = name;
        version = v;
        break;
      }
    }
    if (list.empty()) co_return;
    const std::string ciphers = list + ":@SECLEVEL=0";
    if (!LocalCanOffer(version, ciphers)) {
      Note("DH group of " + version_name + " untested: " + kCannotOffer);
      co_return;
    }
    std::unique_ptr<asio::ssl::context> ctx = ClientContext(version, ciphers);
    if (!ctx) co_return;
    Conn c;
    if (!co_await Open(&c, true)) co_return;
    {
      TlsStream stream(c.tcp->socket(), *ctx);
      SSL* ssl = stream.native_handle();
      std::error_code ec;
      co_await FirstHandshake(c, stream, &ec);
      ScanReport::DheParams dh;
      dh.version = version_name;
      if (!ec && !c.tcp->watchdog().Fired()) {
        const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
        if (cipher != nullptr) dh.suite = SSL_CIPHER_get_name(cipher);
        EVP_PKEY* key = nullptr;
        BIGNUM* p = nullptr;
        BIGNUM* g = nullptr;
        if (SSL_get_peer_tmp_key(ssl, &key) == 1 &&
            EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_FFC_P, &p) == 1 &&
            EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_FFC_G, &g) == 1) {
          dh.bits = BN_num_bits(p);
          std::string prime(static_cast<size_t>(BN_num_bytes(p)), '\0');
          BN_bn2bin(p, reinterpret_cast<unsigned char*>(prime.data()));
          const tls::KnownDhPrime known = tls::FindDhPrime(prime);
          const bool generator2 = BN_is_word(g, 2) == 1;
          dh.group = std::string(known.name);
          dh.rfc7919 = known.family == tls::DhPrimeFamily::kRfc7919 && generator2;
          dh.well_known = known.family != tls::DhPrimeFamily::kUnknown &&
                          known.family != tls::DhPrimeFamily::kRfc7919;
          if (!generator2 && known.generator2) dh.group += " (other generator)";
          r_->dhe = dh;
        } else {
          Note("DH group of " + version_name + ": no DH key from the server");
        }
        BN_free(p);
        BN_free(g);
        EVP_PKEY_free(key);
      } else if (ec && ec.category() == asio::error::get_ssl_category() &&
                 ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_DH_KEY_TOO_SMALL) {
        r_->dhe = dh;  // bits 0: smaller than anything the local OpenSSL takes
      } else {
        Note("DH group of " + version_name +
             ": handshake: " + (ec ? ec.message() : std::string("timeout")));
      }
      ERR_clear_error();
    }
    Closed(&c);
  }

  // CIPH-08 (RFC 9155): does the server sign the TLS 1.2 key exchange with SHA-1 when the client
  // offers nothing better, then with SHA-224? Only (EC)DHE suites, so that there is a signed
  // ServerKeyExchange. A server that signs with a stronger hash anyway fails the handshake here
  // (the local OpenSSL checks the algorithm against its offer): that counts as a refusal.
  asio::awaitable<void> KeyExchangeHash() {
    if (!VersionAccepted(tls::kTls12)) co_return;
    const std::string ciphers = "ECDHE:DHE:!aNULL:!eNULL:@SECLEVEL=0";
    const std::pair<const char*, std::optional<bool>*> steps[] = {
        {"ECDSA+SHA1:RSA+SHA1:DSA+SHA1", &r_->kex_sha1},
        {"ECDSA+SHA224:RSA+SHA224:DSA+SHA224", &r_->kex_sha224}};
    for (const auto& [sigalgs, into] : steps) {
      if (stopped_) co_return;
      std::unique_ptr<asio::ssl::context> ctx = ClientContext(TLS1_2_VERSION, ciphers);
      if (!ctx || SSL_CTX_set1_sigalgs_list(ctx->native_handle(), sigalgs) != 1) {
        ERR_clear_error();
        Note(std::string("key-exchange hash untested: the local OpenSSL cannot offer ") + sigalgs);
        co_return;
      }
      Conn c;
      if (!co_await Open(&c, true)) co_return;
      bool decided = false;
      {
        TlsStream stream(c.tcp->socket(), *ctx);
        SSL* ssl = stream.native_handle();
        std::error_code ec;
        co_await FirstHandshake(c, stream, &ec);
        if (!ec && !c.tcp->watchdog().Fired()) {
          int nid = NID_undef;
          const bool rsa_kx = SSL_get_peer_signature_nid(ssl, &nid) != 1;
          if (rsa_kx) {
            Note("key-exchange hash: no signed key exchange");
          } else {
            *into = nid == NID_sha1 || nid == NID_sha224;
            decided = true;
          }
        } else if (ec && !c.tcp->watchdog().Fired() &&
                   ec.category() == asio::error::get_ssl_category()) {
          // An alert or an algorithm we did not offer: the server will not sign with this hash.
          *into = false;
          decided = true;
        } else {
          Note(std::string("key-exchange hash: handshake: ") +
               (ec ? ec.message() : std::string("timeout")));
        }
        ERR_clear_error();
      }
      Closed(&c);
      if (!decided) co_return;
    }
  }

  // TLSF-05 (RFC 8446 §8, §E.5): a first TLS 1.3 connection to get a session ticket (the service's
  // harmless command makes the server talk, which delivers the ticket), then, when the ticket
  // allows early data, a resumption that sends the command as early data.
  // CERT-16 (dual certificates): TLS 1.2 handshakes offering only ECDSA-authenticated suites,
  // then only RSA-authenticated ones; each served leaf's key and notAfter. A server with an RSA
  // and an ECDSA certificate serves a client that offers one kind the other leaf. Two
  // connections.
  asio::awaitable<void> LeafPerAuthentication() {
    if (!VersionAccepted(tls::kTls12)) co_return;
    co_await LeafFor("ecdsa", "aECDSA:@SECLEVEL=0");
    if (!stopped_) co_await LeafFor("rsa", "aRSA:@SECLEVEL=0");
  }

  asio::awaitable<void> LeafFor(std::string auth, std::string ciphers) {
    if (!LocalCanOffer(TLS1_2_VERSION, ciphers)) co_return;
    std::unique_ptr<asio::ssl::context> ctx = ClientContext(TLS1_2_VERSION, ciphers);
    if (!ctx) co_return;
    Conn c;
    if (!co_await Open(&c, true)) co_return;
    ScanReport::LeafByKey leaf;
    leaf.auth = auth;
    bool decided = true;
    {
      TlsStream stream(c.tcp->socket(), *ctx);
      std::error_code ec;
      co_await FirstHandshake(c, stream, &ec);
      if (c.tcp->watchdog().Fired()) {
        decided = false;  // no answer in time says nothing about the certificate
        Note("leaf for " + auth + " suites: no answer in time");
      } else if (!ec) {
        if (X509* cert = SSL_get0_peer_certificate(stream.native_handle())) {
          unsigned char* der = nullptr;
          const int len = i2d_X509(cert, &der);
          const std::optional<tls::CertFacts> facts =
              len > 0 ? tls::CertFactsFromDer(std::string_view(reinterpret_cast<const char*>(der),
                                                               static_cast<size_t>(len)))
                      : std::nullopt;
          OPENSSL_free(der);
          if (facts) {
            leaf.served = true;
            leaf.key_type = facts->key_type;
            leaf.not_after = facts->not_after;
            leaf.fingerprint = facts->fingerprint_sha256;
          }
        }
      }
      ERR_clear_error();
    }
    Closed(&c);
    if (decided) r_->leaves.push_back(leaf);
  }

  // TLSF-17 (informational): does the server resume TLS 1.2 sessions, by session ID (the client
  // refuses tickets) and by ticket (RFC 5077)? Two connections each: a full handshake ended with
  // close_notify (a server drops the session of a connection that just breaks off), then one
  // offering the session back.
  asio::awaitable<void> SessionResumption() {
    if (!VersionAccepted(tls::kTls12)) co_return;
    co_await ResumeOnce("session_id", true);
    if (!stopped_) co_await ResumeOnce("ticket", false);
  }

  asio::awaitable<void> ResumeOnce(std::string mechanism, bool no_ticket) {
    // Any suite but the unauthenticated ones: what a sender would offer.
    std::unique_ptr<asio::ssl::context> ctx = ClientContext(TLS1_2_VERSION, "ALL:!aNULL:!eNULL");
    if (!ctx) co_return;
    SSL_CTX* raw = ctx->native_handle();
    if (no_ticket) SSL_CTX_set_options(raw, SSL_OP_NO_TICKET);
    SessionPtr session;
    if (SessionSlot() < 0 || SSL_CTX_set_ex_data(raw, SessionSlot(), &session) != 1) co_return;
    SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(raw, KeepSession);
    const bool first = co_await ResumptionHandshake(*ctx, nullptr, nullptr);
    SSL_CTX_sess_set_new_cb(raw, nullptr);
    SSL_CTX_set_ex_data(raw, SessionSlot(), nullptr);
    if (!first) co_return;
    unsigned int id_length = 0;
    if (session) SSL_SESSION_get_id(session.get(), &id_length);
    const bool resumable =
        session && (no_ticket ? id_length > 0 : SSL_SESSION_has_ticket(session.get()) == 1);
    if (!resumable) {
      r_->resumption[mechanism] = false;  // no session ID / no ticket issued: nothing to offer
      co_return;
    }
    if (!no_ticket) {
      r_->ticket_lifetime_hint =
          static_cast<int64_t>(SSL_SESSION_get_ticket_lifetime_hint(session.get()));
    }
    bool reused = false;
    if (co_await ResumptionHandshake(*ctx, session.get(), &reused)) {
      r_->resumption[mechanism] = reused;
    }
  }

  // One TLS 1.2 handshake on a fresh connection, offering `session` when set (*reused: whether
  // the server took it), then a clean close_notify. False when the handshake failed.
  asio::awaitable<bool> ResumptionHandshake(asio::ssl::context& ctx, SSL_SESSION* session,
                                            bool* reused) {
    Conn c;
    if (!co_await Open(&c, true)) co_return false;
    bool ok = false;
    {
      TlsStream stream(c.tcp->socket(), ctx);
      if (session != nullptr) SSL_set_session(stream.native_handle(), session);
      std::error_code ec;
      co_await FirstHandshake(c, stream, &ec);
      ok = !ec && !c.tcp->watchdog().Fired();
      if (ok && reused != nullptr) *reused = SSL_session_reused(stream.native_handle()) == 1;
      if (ok) {
        std::error_code shutdown_ec;
        c.tcp->watchdog().Arm(std::min(Phase(c, o_.probe.phases.command),
                                       Steady::now() + std::chrono::milliseconds(500)));
        co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, shutdown_ec));
        c.tcp->watchdog().Disarm();
      } else {
        Note("session resumption: handshake: " + (ec ? ec.message() : std::string("timeout")));
      }
      ERR_clear_error();
    }
    Closed(&c);
    co_return ok;
  }

  asio::awaitable<void> EarlyData() {
    if (!VersionAccepted(tls::kTls13)) co_return;
    std::unique_ptr<asio::ssl::context> ctx = ClientContext(TLS1_3_VERSION, "");
    if (!ctx) co_return;
    SSL_CTX* raw = ctx->native_handle();
    SessionPtr session;
    if (SessionSlot() < 0 || SSL_CTX_set_ex_data(raw, SessionSlot(), &session) != 1) co_return;
    SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(raw, KeepSession);
    const std::string command = EarlyCommand(target_.service, o_.probe.helo_name);
    {
      Conn c;
      if (!co_await Open(&c, true)) co_return;
      {
        TlsStream stream(c.tcp->socket(), *ctx);
        std::error_code ec;
        co_await FirstHandshake(c, stream, &ec);
        if (ec || c.tcp->watchdog().Fired()) {
          Note("early data: first handshake: " + (ec ? ec.message() : std::string("timeout")));
          ERR_clear_error();
          Closed(&c);
          co_return;
        }
        const net::Deadline until = Phase(c, o_.probe.phases.command);
        if (starttls_ && !command.empty()) {
          c.tcp->watchdog().Arm(until);
          co_await asio::async_write(stream, asio::buffer(command),
                                     asio::redirect_error(asio::use_awaitable, ec));
          c.tcp->watchdog().Disarm();
        }
        // TLS 1.3 tickets follow the handshake; reading processes them. Read in short slices
        // until one arrived (the callback keeps it), the server is done, or the phase ends: a
        // server that sends its ticket at once costs a slice, not the whole phase.
        std::array<char, 1024> sink;
        for (int i = 0; i < 64 && !ec && !session && Steady::now() < until; ++i) {
          c.tcp->watchdog().Arm(std::min(until, Steady::now() + std::chrono::milliseconds(250)));
          // Part of the server's answer is in and no ticket yet: acknowledge it now, in case the
          // server holds the rest for that ACK (net::AckNow).
          if (i > 0) net::AckNow(c.tcp->socket());
          co_await stream.async_read_some(asio::buffer(sink),
                                          asio::redirect_error(asio::use_awaitable, ec));
          const bool slice_ended = c.tcp->watchdog().Fired();
          c.tcp->watchdog().Disarm();
          if (slice_ended) ec.clear();
        }
        // A clean close_notify: servers with anti-replay protection (OpenSSL's) drop the session
        // of a connection that just breaks off, and with it the ticket's early data.
        if (session) {
          std::error_code shutdown_ec;
          c.tcp->watchdog().Arm(std::min(Phase(c, o_.probe.phases.command),
                                         Steady::now() + std::chrono::milliseconds(500)));
          co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, shutdown_ec));
          c.tcp->watchdog().Disarm();
        }
        ERR_clear_error();
      }
      Closed(&c);
    }
    SSL_CTX_sess_set_new_cb(raw, nullptr);
    SSL_CTX_set_ex_data(raw, SessionSlot(), nullptr);
    if (!session) {
      r_->early_data_accepted = false;
      r_->early_data_detail = "no session ticket";
      co_return;
    }
    const uint32_t max_early = SSL_SESSION_get_max_early_data(session.get());
    if (max_early == 0) {
      r_->early_data_accepted = false;
      r_->early_data_detail = "the session ticket allows no early data";
      co_return;
    }
    Conn c;
    if (!co_await Open(&c, true)) co_return;
    std::unique_ptr<SSL, SslFree> ssl(SSL_new(raw));
    asio::ip::tcp::socket& socket = c.tcp->socket();
    std::error_code ec;
    socket.native_non_blocking(true, ec);
    if (!ssl || ec || SSL_set_fd(ssl.get(), static_cast<int>(socket.native_handle())) != 1 ||
        SSL_set_session(ssl.get(), session.get()) != 1) {
      Note("early data: cannot set up the resumption");
      ERR_clear_error();
      Closed(&c);
      co_return;
    }
    if (!target_.host_is_ip) SSL_set_tlsext_host_name(ssl.get(), target_.host.c_str());
    SSL_set_connect_state(ssl.get());
    const std::string early = command.empty() ? std::string("\r\n") : command;
    c.tcp->watchdog().Arm(Phase(c, o_.probe.phases.handshake));
    bool wrote = false, done = false, failed = false;
    std::string why = "too many steps";
    // Non-blocking OpenSSL on the connected socket: each step either completes or says which
    // way it waits. Bounded by the count and by the watchdog, which cancels the waits.
    for (int i = 0; i < 64 && !done && !failed; ++i) {
      int rc;
      if (!wrote) {
        size_t n = 0;
        rc = SSL_write_early_data(ssl.get(), early.data(), early.size(), &n);
        if (rc == 1) {
          wrote = true;
          continue;
        }
      } else {
        rc = SSL_do_handshake(ssl.get());
        if (rc == 1) {
          done = true;
          continue;
        }
      }
      const int err = SSL_get_error(ssl.get(), rc);
      std::error_code wait_ec;
      if (err == SSL_ERROR_WANT_READ) {
        co_await socket.async_wait(asio::ip::tcp::socket::wait_read,
                                   asio::redirect_error(asio::use_awaitable, wait_ec));
      } else if (err == SSL_ERROR_WANT_WRITE) {
        co_await socket.async_wait(asio::ip::tcp::socket::wait_write,
                                   asio::redirect_error(asio::use_awaitable, wait_ec));
      } else {
        failed = true;
        why = "TLS error " + std::to_string(err) + " " + OpenSslError();
      }
      if (wait_ec || c.tcp->watchdog().Fired()) {
        failed = true;
        why = c.tcp->watchdog().Fired() ? "timeout" : wait_ec.message();
      }
    }
    c.tcp->watchdog().Disarm();
    if (done) {
      const bool accepted = SSL_get_early_data_status(ssl.get()) == SSL_EARLY_DATA_ACCEPTED;
      r_->early_data_accepted = accepted;
      r_->early_data_detail = accepted ? "early data accepted on resumption (max_early_data_size " +
                                             std::to_string(max_early) + ")"
                                       : "early data rejected on resumption (the ticket offered " +
                                             std::to_string(max_early) + " bytes)";
    } else {
      Note("early data: resumption did not complete: " + why);
    }
    ERR_clear_error();
    ssl.reset();
    Closed(&c);
  }

  // TLSF-03: a full TLS 1.2 handshake by the local OpenSSL, then renegotiations started by us on
  // the same connection until the server refuses one or kMaxRenegotiations completed. Only
  // over RFC 5746 (the local OpenSSL refuses insecure renegotiation): a server without it has
  // failed tls_secure_renegotiation already.
  asio::awaitable<void> ClientRenegotiation() {
    const std::string ciphers = "ALL:@SECLEVEL=0";
    if (!VersionAccepted(tls::kTls12) || !LocalCanOffer(TLS1_2_VERSION, ciphers)) co_return;
    std::unique_ptr<asio::ssl::context> ctx = ClientContext(TLS1_2_VERSION, ciphers);
    if (!ctx) co_return;
    Conn c;
    if (!co_await Open(&c, true)) co_return;
    {
      TlsStream stream(c.tcp->socket(), *ctx);
      SSL* ssl = stream.native_handle();
      std::error_code ec;
      co_await FirstHandshake(c, stream, &ec);
      if (ec || c.tcp->watchdog().Fired()) {
        Note("renegotiation probe: handshake: " + (ec ? ec.message() : std::string("timeout")));
      } else {
        int done = 0;
        std::string why;
        for (int i = 0; i < kMaxRenegotiations; ++i) {
          if (SSL_renegotiate(ssl) != 1) {
            why = "the local OpenSSL would not renegotiate";
            break;
          }
          co_await TimedHandshake(c, stream, &ec);
          if (ec || c.tcp->watchdog().Fired() || SSL_renegotiate_pending(ssl) == 1) break;
          ++done;
        }
        ERR_clear_error();
        if (why.empty()) {
          r_->client_renegotiations = done;
        } else {
          Note("renegotiation probe: " + why);
        }
      }
    }
    Closed(&c);
  }

  // The first of `versions` (newest first) the server accepted; 0: none.
  uint16_t BestAccepted(std::initializer_list<uint16_t> versions) const {
    for (uint16_t v : versions) {
      if (VersionAccepted(v)) return v;
    }
    return 0;
  }

  // A hand-built hello's answer read up to ServerHelloDone (TLSF-07/08 go on from there).
  struct FlightResult {
    bool ok = false;
    // When not ok: the server said no (an alert, a close, another version), as opposed to a
    // flight that could not be read (time, a broken answer).
    bool refused = false;
    std::string why;  // when not ok, printable
    tls::ServerFlight flight;
    std::string rest;  // bytes after the flight (a server sends none before we speak)
  };

  // Sends a hello for `version` with the common suites (and the heartbeat extension) on an open
  // connection and reads the server's first flight. Not ok: an alert, a close, no flight in
  // time, an answer that is not a TLS flight, another version chosen.
  asio::awaitable<FlightResult> FirstFlight(Conn* c, uint16_t version, bool heartbeat) {
    tls::HelloSpec spec;
    spec.version = version;
    spec.suites.assign(tls::CommonSuites().begin(), tls::CommonSuites().end());
    if (!target_.host_is_ip) spec.sni = target_.host;
    spec.random = RandomBytes();
    spec.offer_heartbeat = heartbeat;
    co_return co_await FlightFor(c, std::move(spec));
  }

  // The same for any hello up to TLS 1.2.
  asio::awaitable<FlightResult> FlightFor(Conn* c, tls::HelloSpec spec) {
    FlightResult out;
    const uint16_t version = spec.version;
    Result<std::string> hello = tls::BuildClientHello(spec);
    if (!hello.ok()) {
      out.why = hello.status().message();
      co_return out;
    }
    const net::Deadline deadline = Phase(*c, o_.probe.phases.handshake);
    Status w = co_await c->tcp->WriteAll(*hello, deadline);
    if (!w.ok()) {
      out.why = "write: " + w.message();
      out.refused = true;
      co_return out;
    }
    std::string got;
    char buf[4096];
    for (int i = 0; i < kMaxFlightReads; ++i) {
      Result<tls::ServerFlight> f = tls::ParseServerFlight(got);
      if (!f.ok()) {
        out.why = "the answer is not a TLS flight: " + f.status().message();
        co_return out;
      }
      if (f->kind == tls::ServerFlight::Kind::kAlert) {
        out.why = "alert " + std::to_string(f->alert_description) + " to the hello";
        out.refused = true;
        co_return out;
      }
      if (f->kind == tls::ServerFlight::Kind::kDone) {
        if (f->hello.NegotiatedVersion() != version) {
          out.why = "ServerHello of " + tls::VersionName(f->hello.NegotiatedVersion());
          out.refused = true;
          co_return out;
        }
        out.ok = true;
        out.flight = *f;
        out.rest = got.substr(f->consumed);
        co_return out;
      }
      // ParseServerFlight refuses kMaxServerFlightBytes without a decision: room stays > 0.
      const size_t room = tls::kMaxServerFlightBytes - got.size();
      Result<size_t> n =
          co_await c->tcp->ReadSome(std::span<char>(buf, std::min(sizeof buf, room)), deadline);
      // Silence or a close before any answer is a refusal, as TrySend counts it.
      if (!n.ok()) {
        out.why = n.status().code() == Status::Code::kTimeout
                      ? std::string("no ServerHelloDone in time")
                      : n.status().message();
        out.refused = got.empty();
        co_return out;
      }
      if (*n == 0) {
        out.why = "closed before ServerHelloDone";
        out.refused = got.empty();
        co_return out;
      }
      got.append(buf, *n);
    }
    out.why = "the flight came in too many pieces";
    co_return out;
  }

  // What the server sent back to a probe record within vuln_wait.
  struct Answer {
    enum class Kind : uint8_t { kRecord, kClosed, kSilent, kNotTls } kind = Kind::kSilent;
    tls::RecordHead head;  // kRecord
    std::string why;       // kNotTls, printable
  };

  // Reads no more than the first record's head (and an alert's two bytes): whatever else the
  // server sends, a heartbeat response full of its memory above all, is never read.
  asio::awaitable<Answer> ReadAnswer(Conn* c, std::string rest) {
    const net::Deadline until =
        std::min(Phase(*c, o_.probe.phases.handshake), Steady::now() + o_.vuln_wait);
    Answer out;
    std::string got = rest.substr(0, 7);
    char buf[7];
    for (int i = 0; i < 8; ++i) {  // each read brings at least one of at most 7 bytes
      Result<tls::RecordHead> head = tls::ParseRecordHead(got);
      if (!head.ok()) {
        out.kind = Answer::Kind::kNotTls;
        out.why = head.status().message();
        co_return out;
      }
      if (head->complete) {
        out.kind = Answer::Kind::kRecord;
        out.head = *head;
        co_return out;
      }
      Result<size_t> n = co_await c->tcp->ReadSome(std::span<char>(buf, 7 - got.size()), until);
      if (!n.ok()) {
        out.kind = n.status().code() == Status::Code::kTimeout ? Answer::Kind::kSilent
                                                               : Answer::Kind::kClosed;
        co_return out;
      }
      if (*n == 0) {
        out.kind = Answer::Kind::kClosed;
        co_return out;
      }
      got.append(buf, *n);
    }
    co_return out;
  }

  std::string WaitText() const { return std::to_string(o_.vuln_wait.count()) + " ms"; }

  // TLSF-07 (CVE-2014-0160), as testssl.sh's run_heartbleed: a hello on the best of TLS
  // 1.2/1.1/1.0 offering the heartbeat extension; without it echoed, nothing to attack. Else,
  // after ServerHelloDone, one plaintext heartbeat request claiming kHeartbleedClaim bytes while
  // carrying 16: a heartbeat response longer than the request can only hold the server's memory.
  asio::awaitable<void> Heartbleed() {
    const uint16_t v = BestAccepted({tls::kTls12, tls::kTls11, tls::kTls10});
    if (v == 0) co_return;  // TLS 1.3 or SSLv3 only: no heartbeat extension to offer
    const std::string name = tls::VersionName(v);
    Conn c;
    if (!co_await Open(&c, true)) co_return;
    FlightResult f = co_await FirstFlight(&c, v, /*heartbeat=*/true);
    if (!f.ok) {
      Note("heartbleed probe (" + name + "): " + f.why);
      Closed(&c);
      co_return;
    }
    if (!f.flight.hello.heartbeat) {
      r_->heartbleed = false;
      r_->heartbleed_detail = "no heartbeat extension (" + name + ")";
      Closed(&c);
      co_return;
    }
    const std::string request = tls::BuildHeartbeatRequest(v, kHeartbleedClaim, kHeartbleedPayload);
    Status w = co_await c.tcp->WriteAll(request, Phase(c, o_.probe.phases.handshake));
    if (!w.ok()) {
      Note("heartbleed probe (" + name + "): heartbeat request: " + w.message());
      Closed(&c);
      co_return;
    }
    Answer a = co_await ReadAnswer(&c, std::move(f.rest));
    Closed(&c);
    DecideHeartbleed(a, request.size() - 5, name);
  }

  void DecideHeartbleed(const Answer& a, size_t sent, const std::string& name) {
    const std::string at = " (" + name + ")";
    switch (a.kind) {
      case Answer::Kind::kNotTls:
        Note("heartbleed probe" + at + ": the answer is not TLS: " + a.why);
        return;
      case Answer::Kind::kClosed:
        r_->heartbleed = false;
        r_->heartbleed_detail = "heartbeat extension, the bad request closed the connection" + at;
        return;
      case Answer::Kind::kSilent:
        r_->heartbleed = false;
        r_->heartbleed_detail =
            "heartbeat extension, the bad request got no answer within " + WaitText() + at;
        return;
      case Answer::Kind::kRecord:
        break;
    }
    const tls::RecordHead& h = a.head;
    if (h.type == tls::kContentHeartbeat && h.length > sent) {
      r_->heartbleed = true;
      r_->heartbleed_detail = "a heartbeat response of " + std::to_string(h.length) +
                              " bytes to a request of " + std::to_string(sent) +
                              " bytes: the server reads past the request (memory disclosure)" + at;
      return;
    }
    r_->heartbleed = false;
    if (h.type == tls::kContentAlert) {
      r_->heartbleed_detail = "heartbeat extension, the bad request got alert " +
                              std::to_string(h.alert_description) + at;
    } else if (h.type == tls::kContentHeartbeat) {
      r_->heartbleed_detail = "heartbeat extension, a response no longer than the request" + at;
    } else {
      r_->heartbleed_detail = "heartbeat extension, the bad request got record type " +
                              std::to_string(h.type) + ", no heartbeat response" + at;
    }
  }

  // TLSF-08 (CVE-2014-0224), as testssl.sh's run_ccs_injection: after the server's first flight
  // on the best of TLS 1.2 ... SSLv3, a ChangeCipherSpec before any key exchange. A patched
  // server answers with an alert or closes. A vulnerable one takes it silently and switches to
  // keys made from an empty master secret: a second ChangeCipherSpec then fails to decrypt
  // (decryption_failed, bad_record_mac).
  asio::awaitable<void> CcsInjection() {
    const uint16_t v = BestAccepted({tls::kTls12, tls::kTls11, tls::kTls10, tls::kSsl3});
    if (v == 0) co_return;
    const std::string name = tls::VersionName(v);
    Conn c;
    if (!co_await Open(&c, true)) co_return;
    FlightResult f = co_await FirstFlight(&c, v, /*heartbeat=*/false);
    if (!f.ok) {
      Note("CCS injection probe (" + name + "): " + f.why);
      Closed(&c);
      co_return;
    }
    const std::string ccs = tls::BuildChangeCipherSpec(v);
    Status w = co_await c.tcp->WriteAll(ccs, Phase(c, o_.probe.phases.handshake));
    if (!w.ok()) {
      Note("CCS injection probe (" + name + "): ChangeCipherSpec: " + w.message());
      Closed(&c);
      co_return;
    }
    Answer first = co_await ReadAnswer(&c, std::move(f.rest));
    if (first.kind != Answer::Kind::kSilent) {
      Closed(&c);
      DecideFirstCcs(first, name);
      co_return;
    }
    // Taken in silence: the second one tells (testssl.sh decides on its answer alone).
    w = co_await c.tcp->WriteAll(ccs, Phase(c, o_.probe.phases.handshake));
    Answer second;
    second.kind = Answer::Kind::kClosed;  // a write refused: the server hung up
    if (w.ok()) second = co_await ReadAnswer(&c, std::string());
    Closed(&c);
    DecideSecondCcs(second, name);
  }

  // The answer to the first early ChangeCipherSpec: an alert or a close refuses it.
  void DecideFirstCcs(const Answer& a, const std::string& name) {
    const std::string at = " (" + name + ")";
    if (a.kind == Answer::Kind::kClosed) {
      r_->ccs_injection = false;
      r_->ccs_injection_detail = "the early ChangeCipherSpec closed the connection" + at;
    } else if (a.kind == Answer::Kind::kRecord && a.head.type == tls::kContentAlert) {
      r_->ccs_injection = false;
      r_->ccs_injection_detail =
          "the early ChangeCipherSpec got alert " + std::to_string(a.head.alert_description) + at;
    } else {
      Note("CCS injection probe" + at + ": the answer to the early ChangeCipherSpec is " +
           (a.kind == Answer::Kind::kNotTls ? "not TLS: " + a.why
                                            : "record type " + std::to_string(a.head.type)));
    }
  }

  // testssl.sh's rule on the answer to the second: nothing or a close, unexpected_message or
  // handshake_failure: not vulnerable; decryption_failed, bad_record_mac or any other alert:
  // vulnerable (the server took the first).
  void DecideSecondCcs(const Answer& a, const std::string& name) {
    const std::string at = " (" + name + ")";
    if (a.kind == Answer::Kind::kClosed || a.kind == Answer::Kind::kSilent) {
      r_->ccs_injection = false;
      r_->ccs_injection_detail =
          std::string(a.kind == Answer::Kind::kClosed ? "closed"
                                                      : "no answer within " + WaitText()) +
          " after two early ChangeCipherSpec records" + at;
      return;
    }
    if (a.kind == Answer::Kind::kNotTls || a.head.type != tls::kContentAlert) {
      Note("CCS injection probe" + at + ": the answer to the second ChangeCipherSpec is " +
           (a.kind == Answer::Kind::kNotTls ? "not TLS: " + a.why
                                            : "record type " + std::to_string(a.head.type)));
      return;
    }
    const uint8_t d = a.head.alert_description;
    const std::string alert = "alert " + std::to_string(d);
    if (d == kAlertUnexpectedMessage || d == tls::kAlertHandshakeFailure) {
      r_->ccs_injection = false;
      r_->ccs_injection_detail = "the second early ChangeCipherSpec got " + alert + at;
      return;
    }
    r_->ccs_injection = true;
    r_->ccs_injection_detail =
        std::string(d == kAlertDecryptionFailed || d == kAlertBadRecordMac ? "" : "likely: ") +
        "the early ChangeCipherSpec was taken: the next one got " + alert +
        (d == kAlertDecryptionFailed ? " (decryption_failed)"
         : d == kAlertBadRecordMac   ? " (bad_record_mac)"
                                     : "") +
        at;
  }

  // TLSF-09 (ROBOT): on the best version up to TLS 1.2 with an accepted RSA key-transport suite,
  // one hand-built handshake per vector of the paper (tls/robot.h). Answers alike: pass. Answers
  // that differ are asked once more (five more connections): the same differences again are an
  // oracle; other ones are noise, and stay undecided.
  asio::awaitable<void> Robot() {
    uint16_t version = 0;
    const std::vector<uint16_t> suites = RsaKxSuites(&version);
    if (suites.empty()) co_return;  // no RSA key transport: nothing to attack
    RobotAnswers first, again;
    if (!co_await RobotRound(version, suites, &first)) co_return;
    const std::string at = " (" + tls::VersionName(version) + ")";
    if (std::all_of(first.begin(), first.end(), [&](const auto& a) { return a == first[0]; })) {
      r_->robot_vulnerable = false;
      r_->robot_detail = "all five vectors: " + first[0] + at;
      co_return;
    }
    if (!co_await RobotRound(version, suites, &again)) co_return;
    if (again != first) {
      r_->robot_detail = "answers differed, but not alike twice: " + Described(first) + " / " +
                         Described(again) + at;
      co_return;
    }
    r_->robot_vulnerable = true;
    // testssl.sh's "weakly vulnerable": the three broken paddings look alike, only the
    // well-formed blocks stand out (an oracle for fully conformant plaintexts: too slow to use).
    r_->robot_weak_oracle = first[1] == first[2] && first[2] == first[3];
    r_->robot_detail = Described(first) + at;
  }

  using RobotAnswers = std::array<std::string, tls::kRobotVectorCount>;

  static bool IsRsaKxSuite(uint16_t id) {
    const tls::CipherSuite* s = tls::FindCipherSuite(id);
    return s != nullptr && s->iana.starts_with("TLS_RSA_WITH_");  // not EXPORT, not PSK
  }

  std::vector<uint16_t> RsaKxSuites(uint16_t* version) const {
    for (uint16_t v : {tls::kTls12, tls::kTls11, tls::kTls10, tls::kSsl3}) {
      std::vector<uint16_t> out;
      for (const ScanReport::AcceptedCipher& c : r_->accepted_ciphers) {
        if (c.version == tls::VersionName(v) && IsRsaKxSuite(c.id)) out.push_back(c.id);
      }
      if (out.size() > tls::kMaxSuitesPerHello) out.resize(tls::kMaxSuitesPerHello);
      if (!out.empty()) {
        *version = v;
        return out;
      }
    }
    return {};
  }

  static std::string Described(const RobotAnswers& a) {
    std::string s;
    for (size_t i = 0; i < a.size(); ++i) {
      s += (i == 0 ? "" : "; ") +
           std::string(tls::RobotVectorName(static_cast<tls::RobotVector>(i))) + ": " + a[i];
    }
    return s;
  }

  // Every vector once, each on its own connection; false (noted) when one could not be asked.
  asio::awaitable<bool> RobotRound(uint16_t version, std::vector<uint16_t> suites,
                                   RobotAnswers* out) {
    for (size_t i = 0; i < out->size(); ++i) {
      Result<std::string> a = co_await RobotTry(version, suites, static_cast<tls::RobotVector>(i));
      if (!a.ok()) {
        Note("ROBOT probe untested: " + a.status().message());
        co_return false;
      }
      (*out)[i] = std::move(a).value();
    }
    co_return true;
  }

  // One vector: the hello, the server's flight, the mis-padded key exchange; the answer in words.
  asio::awaitable<Result<std::string>> RobotTry(uint16_t version, std::vector<uint16_t> suites,
                                                tls::RobotVector vector) {
    tls::HelloSpec spec;
    spec.version = version;
    spec.suites = suites;
    if (!target_.host_is_ip) spec.sni = target_.host;
    spec.random = RandomBytes();
    Result<std::string> hello = tls::BuildClientHello(spec);
    if (!hello.ok()) co_return hello.status();
    Conn c;
    if (!co_await Open(&c, true)) co_return Status::Unavailable("no connection");
    const net::Deadline deadline = Phase(c, o_.probe.phases.handshake);
    Result<std::string> answer = co_await RobotExchange(c, std::move(hello).value(), version,
                                                        std::move(suites), vector, deadline);
    Closed(&c);
    co_return answer;
  }

  asio::awaitable<Result<std::string>> RobotExchange(Conn& c, std::string hello, uint16_t version,
                                                     std::vector<uint16_t> suites,
                                                     tls::RobotVector vector,
                                                     net::Deadline deadline) {
    Status w = co_await c.tcp->WriteAll(hello, deadline);
    if (!w.ok()) co_return w;
    Result<tls::RsaFlight> flight = co_await ReadFlight(c, deadline);
    if (!flight.ok()) co_return flight.status();
    if (flight->kind == tls::RsaFlight::Kind::kAlert) {
      co_return Status::Refused("hello refused (alert " +
                                std::to_string(flight->alert_description) + ")");
    }
    if (flight->version != version ||
        std::find(suites.begin(), suites.end(), flight->cipher) == suites.end()) {
      co_return Status::Refused("ServerHello of " + tls::VersionName(flight->version) + " chose " +
                                SuiteName(flight->cipher));
    }
    Result<size_t> k = tls::RsaModulusBytes(flight->leaf_der);
    if (!k.ok()) co_return k.status();
    Result<std::string> block = tls::RobotPlaintext(vector, *k, version);
    if (!block.ok()) co_return block.status();
    Result<std::string> encrypted = tls::RsaEncryptRaw(flight->leaf_der, *block);
    if (!encrypted.ok()) co_return encrypted.status();
    w = co_await c.tcp->WriteAll(tls::BuildRobotKeyExchange(version, *encrypted), deadline);
    if (!w.ok()) co_return w;
    std::string answer = co_await RobotAnswer(c, deadline);
    co_return answer;
  }

  // Up to ServerHelloDone; bounded by tls::kMaxRsaFlightBytes (the parser decides there).
  asio::awaitable<Result<tls::RsaFlight>> ReadFlight(Conn& c, net::Deadline deadline) {
    std::string got;
    char buf[4096];
    for (int i = 0; i < kMaxFlightReads; ++i) {  // each read brings a byte or more
      Result<tls::RsaFlight> flight = tls::ParseRsaFlight(got);
      if (!flight.ok() || flight->kind != tls::RsaFlight::Kind::kIncomplete) co_return flight;
      const size_t room = tls::kMaxRsaFlightBytes - got.size();
      Result<size_t> n =
          co_await c.tcp->ReadSome(std::span<char>(buf, std::min(sizeof buf, room)), deadline);
      if (!n.ok()) co_return n.status();
      if (*n == 0) co_return Status::Closed("closed before ServerHelloDone");
      got.append(buf, *n);
    }
    co_return Status::Unavailable("the flight came in too many pieces");
  }

  // What the server did after our key exchange: its first record (an alert by number), or how
  // the connection ended. The paper counts the connection's state as part of the answer, so
  // after an alert a short wait tells a close from a reset from a connection left open.
  asio::awaitable<std::string> RobotAnswer(Conn& c, net::Deadline deadline) {
    std::string got;
    char buf[1024];
    for (int i = 0; i < 32; ++i) {
      Result<tls::RobotReply> reply = tls::ParseRobotReply(got);
      if (!reply.ok()) co_return "an answer that is not TLS";
      if (reply->kind == tls::RobotReply::Kind::kOther) {
        co_return "record type " + std::to_string(reply->record_type);
      }
      if (reply->kind == tls::RobotReply::Kind::kAlert) {
        const std::string then = co_await RobotAfterAlert(c, deadline);
        co_return "alert " + std::to_string(reply->alert_description) + then;
      }
      Result<size_t> n = co_await c.tcp->ReadSome(std::span<char>(buf, sizeof buf), deadline);
      if (!n.ok()) {
        co_return n.status().code() == Status::Code::kTimeout ? "no answer in time"
                                                              : "connection reset";
      }
      if (*n == 0) co_return got.empty() ? "closed" : "closed mid-record";
      got.append(buf, *n);
    }
    co_return "no whole record";
  }

  asio::awaitable<std::string> RobotAfterAlert(Conn& c, net::Deadline deadline) {
    const net::Deadline until = std::min(deadline, Steady::now() + std::chrono::milliseconds(500));
    char buf[1024];
    for (int i = 0; i < 8; ++i) {
      Result<size_t> n = co_await c.tcp->ReadSome(std::span<char>(buf, sizeof buf), until);
      if (!n.ok()) {
        co_return n.status().code() == Status::Code::kTimeout ? ", then open" : ", then reset";
      }
      if (*n == 0) co_return ", then closed";
    }
    co_return ", then more data";
  }

  static std::string SuiteName(uint16_t id) {
    const tls::CipherSuite* s = tls::FindCipherSuite(id);
    return s != nullptr ? std::string(s->openssl) : tls::VersionName(id);
  }

  void AddWeak(uint16_t version, uint16_t id) {
    const tls::SuiteInfo* info = tls::FindWeakSuite(id);
    if (info == nullptr) return;  // accepted, but not one of ours: not weak
    r_->weak_cipher_accepted = true;
    const std::pair<std::string, std::string> entry(tls::VersionName(version),
                                                    std::string(info->iana));
    if (std::find(r_->accepted_weak.begin(), r_->accepted_weak.end(), entry) !=
        r_->accepted_weak.end()) {
      return;
    }
    if (r_->accepted_weak.size() < o_.max_weak_reported) r_->accepted_weak.push_back(entry);
  }

  asio::awaitable<void> WeakSuites() {
    struct V {
      int openssl;  // 0: the local OpenSSL never speaks it
      uint16_t wire;
    };
    const V kVersions[] = {{TLS1_2_VERSION, tls::kTls12},
                           {TLS1_1_VERSION, tls::kTls11},
                           {TLS1_VERSION, tls::kTls10},
                           {0, tls::kSsl3}};
    for (const V& v : kVersions) {
      auto it = r_->versions.find(tls::VersionName(v.wire));
      if (it == r_->versions.end() || !it->second) continue;
      if (CiphersComplete(v.wire)) {
        // The enumeration offered every weak suite of the table already: no more connections.
        r_->weak_tested = true;
        for (const ScanReport::AcceptedCipher& c : r_->accepted_ciphers) {
          if (c.version == tls::VersionName(v.wire)) AddWeak(v.wire, c.id);
        }
        continue;
      }
      // A full handshake where the local OpenSSL has weak suites (NULL and anonymous only in
      // Debian's OpenSSL 3: no RC4, DES, 3DES or EXPORT). "Tested" needs a real answer: a
      // probe cut short (cap, budget, a reply that is not TLS) decides nothing.
      if (v.openssl != 0) {
        Outcome o = co_await TryOpenSsl(v.openssl, "eNULL:aNULL:@SECLEVEL=0");
        if (o.kind != Outcome::Kind::kUntested) r_->weak_tested = true;
        if (o.kind == Outcome::Kind::kAccepted) AddWeak(v.wire, o.cipher);
        if (stopped_) co_return;
      }
      // Then every weak code point in hand-built hellos, removing each accepted one.
      std::vector<uint16_t> offer;
      for (const tls::SuiteInfo& s : tls::WeakSuites()) offer.push_back(s.id);
      for (int round = 0; round < kMaxWeakRoundsPerVersion && !offer.empty(); ++round) {
        if (r_->accepted_weak.size() >= o_.max_weak_reported) break;
        Outcome o = co_await TryRawHello(v.wire, offer);
        if (o.kind != Outcome::Kind::kUntested) r_->weak_tested = true;
        if (o.kind != Outcome::Kind::kAccepted) break;
        AddWeak(v.wire, o.cipher);
        std::erase(offer, o.cipher);
      }
      if (stopped_) co_return;
    }
  }

  // STRIP-04: STARTTLS plus a follow-up in one write, then listen inside TLS.
  asio::awaitable<void> Injection() {
    Conn c;
    if (!co_await Open(&c, false)) co_return;
    (void)c.dialogue->SwitchTransport(nullptr);
    const ReplyLimits& lim = o_.probe.reply_limits;
    Status s = co_await c.tcp->WriteAll(InjectionProbe(target_.service),
                                        Phase(c, o_.probe.phases.command));
    if (!s.ok()) {
      Note("injection probe: " + s.message());
      Closed(&c);
      co_return;
    }
    net::LineReader plain(c.tcp.get(), lim.max_line, lim.max_total);
    const net::Deadline command = Phase(c, o_.probe.phases.command);
    int go = -1;
    for (int i = 0; i < kMaxGoAheadLines && go < 0; ++i) {
      Result<std::string> line = co_await plain.ReadLine(command);
      if (!line.ok()) {
        Note("injection probe: STARTTLS: " + line.status().message());
        break;
      }
      go = GoAheadLine(target_.service, *line);
    }
    if (go != 1) {
      if (go == 0) Note("injection probe: STARTTLS refused");
      Closed(&c);
      co_return;
    }
    // An answer to the follow-up already here came in plaintext, before TLS: the server
    // processed it in order, which is not injection. It is dropped, never used.
    (void)plain.SetTransport(nullptr);

    tls::HandshakeRequest req;
    if (!target_.host_is_ip) req.sni = target_.host;
    req.verify_host = target_.host;
    req.deadline = Phase(c, o_.probe.phases.handshake);
    req.now_unix = static_cast<int64_t>(ToUnixSeconds(o_.probe.clock->Now()));
    tls::TlsFacts facts;
    std::unique_ptr<net::Transport> tls_transport;
    s = co_await tls::Handshake(*o_.probe.tls, *c.tcp, req, &facts, &tls_transport);
    if (!s.ok()) {
      Note("injection probe: handshake: " + s.message());
      Closed(&c);
      co_return;
    }
    // We send nothing now: any reply is to the command pipelined before TLS (ManageSieve
    // first sends its capabilities unasked, ending in OK, RFC 5804 §2.2).
    net::LineReader inside(tls_transport.get(), lim.max_line, lim.max_total);
    const net::Deadline listen = Phase(c, o_.injection_wait);
    bool sieve_caps_done = target_.service != Service::kSieve;
    bool injected = false;
    for (int i = 0; i < kMaxGoAheadLines; ++i) {
      Result<std::string> line = co_await inside.ReadLine(listen);
      if (!line.ok()) break;  // timeout: nothing came (safe); closed: safe too
      if (!sieve_caps_done) {
        if (StartsWithNoCase(*line, "OK")) sieve_caps_done = true;
        continue;
      }
      injected = true;
      Note("injection probe: answer inside TLS: " + Printable(*line, 80));
      break;
    }
    r_->command_injection = injected;
    tls_transport.reset();
    Closed(&c);
  }

  const config::EndpointTarget& target_;
  const asio::ip::address address_;
  const ScanOptions& o_;
  ScanResult* r_;
  const bool starttls_;
  const net::Deadline scan_deadline_;
  Steady::time_point last_close_{};
  bool stopped_ = false;
};

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// "A (v), B (v) and 3 more": at most six named.
std::string Listed(const std::vector<std::string>& v) {
  std::string text;
  for (size_t i = 0; i < v.size() && i < 6; ++i) text += (i == 0 ? "" : ", ") + v[i];
  if (v.size() > 6) text += " and " + std::to_string(v.size() - 6) + " more";
  return text;
}

// CIPH-04 (strength), CIPH-02's warn part and TLSF-15 (CBC: LUCKY13, BEAST), TLSF-10 (POODLE):
// judged from the suites the enumeration and the weak-suite probe saw accepted. A version whose
// enumeration did not finish decides only what it already showed.
void CipherModeFindings(const ScanResult& r, std::vector<checks::Finding>* out) {
  auto tested = [&](const std::string& v) { return r.versions.count(v) > 0; };
  auto yes = [&](const std::string& v) { return tested(v) && r.versions.at(v); };
  auto complete = [&](const std::string& v) {
    return std::find(r.ciphers_complete.begin(), r.ciphers_complete.end(), v) !=
           r.ciphers_complete.end();
  };
  // Every accepted suite as (IANA name, version), the weak probe's too.
  std::vector<std::pair<std::string, std::string>> seen;
  for (const ScanReport::AcceptedCipher& c : r.accepted_ciphers) {
    if (const tls::CipherSuite* s = tls::FindCipherSuite(c.id)) {
      seen.emplace_back(std::string(s->iana), c.version);
    }
  }
  for (const auto& [version, iana] : r.accepted_weak) seen.emplace_back(iana, version);
  auto cbc_on = [&](std::initializer_list<const char*> versions) {
    std::vector<std::string> named;
    for (const auto& [iana, version] : seen) {
      if (!tls::IsCbcSuite(iana)) continue;
      if (std::find(versions.begin(), versions.end(), version) == versions.end()) continue;
      const std::string n = iana + " (" + version + ")";
      if (std::find(named.begin(), named.end(), n) == named.end()) named.push_back(n);
    }
    return named;
  };
  // The accepted versions among `versions` whose enumeration did not finish.
  auto unfinished = [&](std::initializer_list<const char*> versions) {
    std::vector<std::string> v;
    for (const char* name : versions) {
      if (yes(name) && !complete(name)) v.emplace_back(name);
    }
    return v;
  };
  auto all_tested = [&](std::initializer_list<const char*> versions) {
    return std::all_of(versions.begin(), versions.end(), [&](const char* v) { return tested(v); });
  };

  // CIPH-04: below 112 bits of security fails (3DES counts as 112).
  const auto all = {"TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"};
  if (std::any_of(all.begin(), all.end(), yes)) {
    const std::optional<WeakestCipher> weakest = MinCipherStrength(r);
    const std::vector<std::string> open = unfinished(all);
    if (weakest && weakest->bits < 112) {
      out->push_back({kScanCipherStrengthCheck, Verdict::kFail,
                      weakest->suite + " (" + weakest->version +
                          "): " + std::to_string(weakest->bits) + " bits, below 112"});
    } else if (!open.empty()) {
      out->push_back({kScanCipherStrengthCheck, Verdict::kError,
                      "the suite enumeration of " + Joined(open) + " did not finish"});
    } else if (!weakest) {
      out->push_back({kScanCipherStrengthCheck, Verdict::kError, "no suite of the table accepted"});
    } else {
      out->push_back({kScanCipherStrengthCheck, Verdict::kPass,
                      "weakest: " + weakest->suite + " (" + weakest->version + "), " +
                          std::to_string(weakest->bits) + " bits"});
    }
  }

  const auto legacy = {"TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"};
  // CIPH-02 (obsolete CBC) and LUCKY13: any CBC suite up to TLS 1.2 warns.
  if (std::any_of(legacy.begin(), legacy.end(), yes) || (yes("TLSv1.3") && all_tested(legacy))) {
    const std::vector<std::string> cbc = cbc_on(legacy);
    const std::vector<std::string> open = unfinished(legacy);
    if (!cbc.empty()) {
      out->push_back(
          {kScanCbcSuitesCheck, Verdict::kWarn,
           "CBC suites (obsolete; LUCKY13 depends on the implementation): " + Listed(cbc)});
    } else if (!open.empty()) {
      out->push_back({kScanCbcSuitesCheck, Verdict::kError,
                      "the suite enumeration of " + Joined(open) + " did not finish"});
    } else {
      out->push_back({kScanCbcSuitesCheck, Verdict::kPass, ""});
    }
  }
  // TLSF-15 BEAST: CBC suites on SSLv3 or TLS 1.0 (the implicit IV of the record layer).
  {
    const auto old = {"TLSv1", "SSLv3"};
    const std::vector<std::string> cbc = cbc_on(old);
    const std::vector<std::string> open = unfinished(old);
    if (!cbc.empty()) {
      out->push_back(
          {kScanBeastCheck, Verdict::kWarn, "CBC with a predictable IV: " + Listed(cbc)});
    } else if (!open.empty()) {
      out->push_back({kScanBeastCheck, Verdict::kError,
                      "the suite enumeration of " + Joined(open) + " did not finish"});
    } else if (all_tested(old)) {
      out->push_back({kScanBeastCheck, Verdict::kPass,
                      yes("TLSv1") || yes("SSLv3") ? "no CBC suite on TLSv1 or SSLv3"
                                                   : "neither TLSv1 nor SSLv3 accepted"});
    }
  }
  // TLSF-10 POODLE: SSLv3 with a CBC suite.
  if (tested("SSLv3")) {
    const std::vector<std::string> cbc = cbc_on({"SSLv3"});
    if (!cbc.empty()) {
      out->push_back({kScanPoodleCheck, Verdict::kFail, "SSLv3 with CBC: " + Listed(cbc)});
    } else if (!yes("SSLv3")) {
      out->push_back({kScanPoodleCheck, Verdict::kPass, "SSLv3 not accepted"});
    } else if (!complete("SSLv3")) {
      out->push_back(
          {kScanPoodleCheck, Verdict::kError, "the suite enumeration of SSLv3 did not finish"});
    } else {
      out->push_back({kScanPoodleCheck, Verdict::kPass, "SSLv3 without CBC suites"});
    }
  }
}

}  // namespace

std::span<const std::string_view> ScanCheckIds() { return kIds; }

void Ssl2Keys::Record(const std::string& spki_sha256, const std::string& where) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = where_.find(spki_sha256);
  if (it == where_.end()) {
    if (where_.size() >= kMaxKeys) return;  // bounded: a fleet has far fewer SSLv2 keys
    it = where_.emplace(spki_sha256, std::vector<std::string>{}).first;
  }
  std::vector<std::string>& places = it->second;
  if (std::find(places.begin(), places.end(), where) == places.end() && places.size() < 4) {
    places.push_back(where);
  }
}

std::string Ssl2Keys::Find(const std::string& spki_sha256, const std::string& except) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = where_.find(spki_sha256);
  if (it == where_.end()) return "";
  for (const std::string& w : it->second) {
    if (w != except) return w;
  }
  return "";
}

bool RefreshDrown(const config::EndpointTarget& target, const std::string& ip, const Ssl2Keys& keys,
                  ScanResult* result) {
  if (!result->drown_shared_with.empty() || result->leaf_spki_sha256.empty()) return false;
  std::string where = keys.Find(result->leaf_spki_sha256, target.ToString() + " (" + ip + ")");
  if (where.empty()) return false;
  result->drown_shared_with = std::move(where);
  std::erase_if(result->findings,
                [](const checks::Finding& f) { return f.check == kScanDrownCheck; });
  for (checks::Finding& f : ScanFindings(target, *result)) {
    if (f.check == kScanDrownCheck) result->findings.push_back(std::move(f));
  }
  return true;
}

std::vector<checks::Finding> ScanFindings(const config::EndpointTarget& target,
                                          const ScanResult& r) {
  std::vector<checks::Finding> out;
  if (!r.ran) return out;
  auto tested = [&](const char* v) { return r.versions.count(v) > 0; };
  auto yes = [&](const char* v) { return tested(v) && r.versions.at(v); };
  auto untested = [&](const char* v) { return std::string(v) + " could not be tested"; };

  // TLSV-01, TLSV-02: FAIL if accepted.
  if (tested("SSLv2")) {
    out.push_back({kScanSsl2Check, yes("SSLv2") ? Verdict::kFail : Verdict::kPass,
                   yes("SSLv2") ? "SSLv2 accepted (DROWN)" : ""});
  } else {
    out.push_back({kScanSsl2Check, Verdict::kError, untested("SSLv2")});
  }
  if (tested("SSLv3")) {
    out.push_back({kScanSsl3Check, yes("SSLv3") ? Verdict::kFail : Verdict::kPass,
                   yes("SSLv3") ? "SSLv3 accepted (POODLE, RFC 7568)" : ""});
  } else {
    out.push_back({kScanSsl3Check, Verdict::kError, untested("SSLv3")});
  }
  // TLSV-03: RFC 8996 deprecates both; port 25 senders are opportunistic, so warn there.
  {
    std::vector<std::string> offered;
    if (yes("TLSv1")) offered.push_back("TLSv1");
    if (yes("TLSv1.1")) offered.push_back("TLSv1.1");
    if (!offered.empty()) {
      out.push_back({kScanLegacyTlsCheck,
                     target.service == Service::kSmtp ? Verdict::kWarn : Verdict::kFail,
                     Joined(offered) + " accepted (RFC 8996)"});
    } else if (tested("TLSv1") && tested("TLSv1.1")) {
      out.push_back({kScanLegacyTlsCheck, Verdict::kPass, ""});
    } else {
      out.push_back({kScanLegacyTlsCheck, Verdict::kError, "TLSv1/TLSv1.1 could not be tested"});
    }
  }
  // TLSV-04: TLS 1.2 accepted passes; 1.3 only warns (RFC 9325 wants 1.2 too); neither fails.
  if (yes("TLSv1.2")) {
    out.push_back({kScanModernTlsCheck, Verdict::kPass, ""});
  } else if (yes("TLSv1.3") && tested("TLSv1.2")) {
    out.push_back({kScanModernTlsCheck, Verdict::kWarn, "TLSv1.3 only (RFC 9325 §3.1.1)"});
  } else if (tested("TLSv1.2") && tested("TLSv1.3")) {
    out.push_back({kScanModernTlsCheck, Verdict::kFail, "neither TLSv1.2 nor TLSv1.3 accepted"});
  } else {
    out.push_back({kScanModernTlsCheck, Verdict::kError, "TLSv1.2/TLSv1.3 could not be tested"});
  }
  // TLSV-05
  if (tested("TLSv1.3")) {
    out.push_back({kScanTls13Check, yes("TLSv1.3") ? Verdict::kPass : Verdict::kWarn,
                   yes("TLSv1.3") ? "" : "TLSv1.3 not accepted"});
  } else {
    out.push_back({kScanTls13Check, Verdict::kError, untested("TLSv1.3")});
  }
  // CIPH-02: no series when no version up to TLS 1.2 was accepted (TLS 1.3 has no weak suites).
  if (r.weak_cipher_accepted) {
    std::string detail;
    for (const auto& [v, c] : r.accepted_weak) {
      detail += (detail.empty() ? "" : ", ") + c + " (" + v + ")";
    }
    out.push_back({kScanWeakCiphersCheck, Verdict::kFail, "accepted: " + detail});
  } else if (r.weak_tested) {
    out.push_back({kScanWeakCiphersCheck, Verdict::kPass, ""});
  }
  // TLSF-01, TLSF-02 (any version up to TLS 1.2 accepted), TLSF-04 (TLS 1.2 accepted).
  if (yes("TLSv1.2") || yes("TLSv1.1") || yes("TLSv1") || yes("SSLv3")) {
    if (r.features_version.empty()) {
      const std::string why = "the features hello got no ServerHello";
      out.push_back({kScanCompressionCheck, Verdict::kError, why});
      out.push_back({kScanSecureRenegotiationCheck, Verdict::kError, why});
    } else {
      const std::string at = " (" + r.features_version + ")";
      if (r.compression_method == 0) {
        out.push_back({kScanCompressionCheck, Verdict::kPass, ""});
      } else {
        out.push_back(
            {kScanCompressionCheck, Verdict::kFail,
             (r.compression_method == 1
                  ? std::string("DEFLATE compression chosen")
                  : "compression method " + std::to_string(r.compression_method) + " chosen") +
                 at + ": CRIME"});
      }
      out.push_back({kScanSecureRenegotiationCheck,
                     r.secure_renegotiation ? Verdict::kPass : Verdict::kFail,
                     r.secure_renegotiation
                         ? ""
                         : "no renegotiation_info in the ServerHello" + at + " (RFC 5746)"});
    }
    if (yes("TLSv1.2")) {
      if (!r.extended_master_secret.has_value()) {
        out.push_back({kScanExtendedMasterSecretCheck, Verdict::kError,
                       "the TLSv1.2 features hello got no ServerHello"});
      } else {
        out.push_back({kScanExtendedMasterSecretCheck,
                       *r.extended_master_secret ? Verdict::kPass : Verdict::kFail,
                       *r.extended_master_secret
                           ? ""
                           : "no extended_master_secret in the TLSv1.2 ServerHello (RFC 7627)"});
      }
    }
  }
  // TLSV-06: only with two or more versions to fall back between.
  {
    int accepted = 0;
    for (const char* v : {"TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"}) accepted += yes(v);
    if (accepted >= 2) {
      if (!r.fallback_scsv.has_value()) {
        out.push_back(
            {kScanFallbackScsvCheck, Verdict::kError, "the fallback hello got no clear answer"});
      } else {
        out.push_back({kScanFallbackScsvCheck, *r.fallback_scsv ? Verdict::kPass : Verdict::kWarn,
                       *r.fallback_scsv ? ""
                                        : "a " + r.fallback_version +
                                              " hello marked TLS_FALLBACK_SCSV was accepted "
                                              "(RFC 7507: downgrade not detected)"});
      }
    }
  }
  // CIPH-01, CIPH-03: over the suites of every accepted version; an unfinished enumeration
  // decides only what it already proved (an insufficient suite, a non-FS suite, an AEAD suite).
  {
    bool any_version = false;
    std::string unfinished;
    for (const char* v : {"TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"}) {
      if (!yes(v)) continue;
      any_version = true;
      if (std::find(r.ciphers_complete.begin(), r.ciphers_complete.end(), v) ==
          r.ciphers_complete.end()) {
        unfinished += (unfinished.empty() ? "" : ", ") + std::string(v);
      }
    }
    if (any_version) {
      std::vector<std::string> insufficient, phase_out, no_fs;
      bool any_aead = false;
      for (const ScanReport::AcceptedCipher& c : r.accepted_ciphers) {
        const tls::CipherSuite* s = tls::FindCipherSuite(c.id);
        if (s == nullptr) continue;  // only the table's suites are offered
        const std::string named = c.name + " (" + c.version + ")";
        if (s->cls == tls::SuiteClass::kInsufficient) insufficient.push_back(named);
        if (s->cls == tls::SuiteClass::kPhaseOut) phase_out.push_back(named);
        if (!s->forward_secret) no_fs.push_back(named);
        any_aead = any_aead || s->aead;
      }
      auto list = [](const std::vector<std::string>& v) {
        std::string text;
        for (size_t i = 0; i < v.size() && i < 6; ++i) text += (i == 0 ? "" : ", ") + v[i];
        if (v.size() > 6) text += " and " + std::to_string(v.size() - 6) + " more";
        return text;
      };
      const std::string why_unfinished =
          "the suite enumeration of " + unfinished + " did not finish";
      const bool none = r.accepted_ciphers.empty();
      if (!insufficient.empty()) {
        out.push_back({kScanCipherSuitesCheck, Verdict::kFail,
                       "insufficient (Internet.nl): " + list(insufficient)});
      } else if (!unfinished.empty()) {
        out.push_back({kScanCipherSuitesCheck, Verdict::kError, why_unfinished});
      } else if (none) {
        out.push_back({kScanCipherSuitesCheck, Verdict::kError, "no suite of the table accepted"});
      } else if (!phase_out.empty()) {
        out.push_back({kScanCipherSuitesCheck, Verdict::kWarn,
                       "phase out (Internet.nl): " + list(phase_out)});
      } else {
        out.push_back({kScanCipherSuitesCheck, Verdict::kPass, ""});
      }
      if (!no_fs.empty()) {
        out.push_back(
            {kScanForwardSecrecyCheck, Verdict::kFail, "without forward secrecy: " + list(no_fs)});
      } else if (!unfinished.empty()) {
        out.push_back({kScanForwardSecrecyCheck, Verdict::kError, why_unfinished});
      } else if (none) {
        out.push_back(
            {kScanForwardSecrecyCheck, Verdict::kError, "no suite of the table accepted"});
      } else {
        out.push_back({kScanForwardSecrecyCheck, Verdict::kPass, ""});
      }
      if (any_aead) {
        out.push_back({kScanAeadCheck, Verdict::kPass, ""});
      } else if (!unfinished.empty()) {
        out.push_back({kScanAeadCheck, Verdict::kError, why_unfinished});
      } else if (none) {
        out.push_back({kScanAeadCheck, Verdict::kError, "no suite of the table accepted"});
      } else {
        out.push_back({kScanAeadCheck, Verdict::kFail, "no AEAD suite accepted"});
      }
    }
  }
  CipherModeFindings(r, &out);
  // TLSF-14: SSLv2 here, or this leaf's key served with SSLv2 by another scanned endpoint.
  {
    const bool ssl2_here = r.versions.count("SSLv2") > 0 && r.versions.at("SSLv2");
    if (ssl2_here) {
      out.push_back({kScanDrownCheck, Verdict::kFail, "SSLv2 accepted on this endpoint"});
    } else if (!r.drown_shared_with.empty()) {
      out.push_back({kScanDrownCheck, Verdict::kFail,
                     "the leaf's key is served with SSLv2 by " + r.drown_shared_with});
    } else if (r.versions.count("SSLv2") > 0 && !r.leaf_spki_sha256.empty()) {
      out.push_back({kScanDrownCheck, Verdict::kPass,
                     "SSLv2 refused; the leaf's key seen with SSLv2 on no endpoint scanned"});
    }
  }
  // CERT-16: with both kinds of leaf served, one expired while the other is valid warns.
  {
    const ScanReport::LeafByKey* ecdsa = nullptr;
    const ScanReport::LeafByKey* rsa = nullptr;
    for (const ScanReport::LeafByKey& l : r.leaves) {
      if (l.served && l.auth == "ecdsa") ecdsa = &l;
      if (l.served && l.auth == "rsa") rsa = &l;
    }
    const auto now = static_cast<int64_t>(std::max(r.started_at, r.finished_at));
    if (ecdsa != nullptr && rsa != nullptr && ecdsa->fingerprint != rsa->fingerprint) {
      const bool ecdsa_expired = ecdsa->not_after < now;
      const bool rsa_expired = rsa->not_after < now;
      if (ecdsa_expired != rsa_expired) {
        out.push_back({kScanDualCertCheck, Verdict::kWarn,
                       std::string(rsa_expired ? "the RSA" : "the ECDSA") +
                           " leaf has expired while the " + (rsa_expired ? "ECDSA" : "RSA") +
                           " one is valid: clients offering only its suites get the expired one"});
      } else {
        out.push_back({kScanDualCertCheck, Verdict::kPass, "an ECDSA and an RSA leaf are served"});
      }
    } else if (ecdsa != nullptr || rsa != nullptr) {
      out.push_back({kScanDualCertCheck, Verdict::kPass,
                     std::string("one leaf for every suite (") +
                         (ecdsa != nullptr && rsa != nullptr ? "the same for ECDSA and RSA"
                          : ecdsa != nullptr                 ? "ECDSA"
                                                             : "RSA") +
                         ")"});
    }
  }
  // TLSV-07: only when a robustness hello got a clear answer.
  if (r.hello_robust.has_value() || r.many_suites_ok.has_value() ||
      r.record_version_ok.has_value() || r.version_tolerant.has_value()) {
    std::vector<std::string> refused;
    const std::string on = r.robustness_version.empty() ? "" : " (" + r.robustness_version + ")";
    if (r.hello_robust == false) refused.push_back(r.robustness_detail + on);
    if (r.many_suites_ok == false) {
      refused.push_back("a hello with " + std::to_string(r.many_suites_offered) +
                        " suites (the accepted ones last) was refused (" + r.many_suites_detail +
                        ")" + on);
    }
    if (r.record_version_ok == false || r.version_tolerant == false) {
      refused.push_back(r.tolerance_detail);
    }
    out.push_back({kScanHelloRobustnessCheck, refused.empty() ? Verdict::kPass : Verdict::kWarn,
                   Joined(refused)});
  }
  // CIPH-05: only where two suites of a version up to TLS 1.2 could be put in order.
  if (!r.order_version.empty()) {
    const tls::CipherSuite* best = nullptr;
    const tls::CipherSuite* worst = nullptr;
    for (const ScanReport::AcceptedCipher& c : r.accepted_ciphers) {
      if (c.version != r.order_version) continue;
      if (c.name == r.order_best) best = tls::FindCipherSuite(c.id);
      if (c.name == r.order_worst) worst = tls::FindCipherSuite(c.id);
    }
    const bool matters =
        best != nullptr && worst != nullptr && worst->cls != best->cls &&
        (worst->cls == tls::SuiteClass::kPhaseOut || worst->cls == tls::SuiteClass::kInsufficient);
    const std::string at = " (" + r.order_version + ")";
    if (!r.order_pick_worst_first.has_value()) {
      out.push_back({kScanCipherOrderCheck, Verdict::kError,
                     "the cipher order hellos got no ServerHello" + at});
    } else if (*r.order_pick_worst_first == r.order_worst && matters) {
      out.push_back({kScanCipherOrderCheck, Verdict::kFail,
                     "chose " + r.order_worst + " over " + r.order_best +
                         " when the client listed it first: the server does not enforce a "
                         "secure order" +
                         at});
    } else {
      std::string detail;
      if (r.order_pick_best_first.has_value()) {
        detail = *r.order_pick_best_first == *r.order_pick_worst_first
                     ? "the server enforces its order"
                     : "the server follows the client's order";
      } else {
        detail = "the second order hello got no ServerHello";
      }
      if (!matters && worst != nullptr) {
        detail += "; the weaker suite " + r.order_worst + " is still " +
                  std::string(tls::SuiteClassName(worst->cls));
      }
      out.push_back({kScanCipherOrderCheck, Verdict::kPass, detail + at});
    }
  }
  // CIPH-06, CIPH-07: from the groups asked one at a time, and the DHE group below TLS 1.3.
  if (!r.groups_asked.empty() || r.dhe) {
    bool unfinished = false;
    for (const std::string& v : r.groups_asked) {
      unfinished = unfinished || std::find(r.groups_complete.begin(), r.groups_complete.end(), v) ==
                                     r.groups_complete.end();
    }
    std::string bad_ec, weak_ec, bad_ff, weak_ff;
    bool any_ec = false;
    for (const ScanReport::GroupResult& g : r.groups) {
      const tls::GroupInfo* info = tls::FindGroup(g.id);
      if (!g.accepted || info == nullptr) continue;
      const std::string named = g.name + " (" + g.version + ")";
      std::string* into = nullptr;
      if (info->cls == tls::SuiteClass::kInsufficient) {
        into = info->finite_field ? &bad_ff : &bad_ec;
      } else if (info->cls == tls::SuiteClass::kPhaseOut) {
        into = info->finite_field ? &weak_ff : &weak_ec;
      }
      if (into != nullptr) *into += (into->empty() ? "" : ", ") + named;
      any_ec = any_ec || !info->finite_field;
    }
    if (!bad_ec.empty()) {
      out.push_back({kScanEcdheGroupsCheck, Verdict::kFail, "insufficient curves: " + bad_ec});
    } else if (unfinished) {
      out.push_back({kScanEcdheGroupsCheck, Verdict::kError, "the group probe did not finish"});
    } else if (!weak_ec.empty()) {
      out.push_back({kScanEcdheGroupsCheck, Verdict::kWarn, "phase out curves: " + weak_ec});
    } else if (any_ec) {
      out.push_back({kScanEcdheGroupsCheck, Verdict::kPass, ""});
    }
    // Below TLS 1.3 the DHE group is the one of the ServerKeyExchange (r.dhe): only RFC 7919's
    // groups with generator 2 are acceptable, ffdhe2048 is not.
    std::string dhe12;
    for (const ScanReport::AcceptedCipher& c : r.accepted_ciphers) {
      if (c.version != "TLSv1.3" && IsDheSuite(c.id)) {
        dhe12 = c.name + " (" + c.version + ")";
        break;
      }
    }
    if (r.dhe) {
      const ScanReport::DheParams& d = *r.dhe;
      auto add = [&d](std::string* into, const std::string& what) {
        *into += (into->empty() ? "" : ", ") + what + " (" + d.version + ")";
      };
      const tls::GroupInfo* g = d.rfc7919 ? FindGroupNamed(d.group) : nullptr;
      if (d.bits == 0) {
        add(&bad_ff, "a DH group too small for OpenSSL");
      } else if (!d.rfc7919) {
        add(&bad_ff, d.group.empty() ? "an own " + std::to_string(d.bits) + "-bit prime"
                                     : d.group + ", not an RFC 7919 group");
      } else if (g != nullptr && g->cls == tls::SuiteClass::kInsufficient) {
        add(&bad_ff, d.group);
      } else if (g != nullptr && g->cls == tls::SuiteClass::kPhaseOut) {
        add(&weak_ff, d.group);
      }
    }
    if (!bad_ff.empty()) {
      out.push_back({kScanDheGroupsCheck, Verdict::kFail, "insufficient DH groups: " + bad_ff});
    } else if (!dhe12.empty() && !r.dhe) {
      // The TLS 1.2 DHE group could not be read: a verdict on TLS 1.3's groups alone could pass
      // a server whose DHE suites use a 1024-bit group. Phase-out groups seen still warn; else
      // untested (no series), rather than an error on every such server.
      if (!weak_ff.empty()) {
        out.push_back(
            {kScanDheGroupsCheck, Verdict::kWarn,
             "phase out DH groups: " + weak_ff + "; the group of " + dhe12 + " was not read"});
      }
    } else if (unfinished) {
      out.push_back({kScanDheGroupsCheck, Verdict::kError, "the group probe did not finish"});
    } else if (!weak_ff.empty()) {
      out.push_back({kScanDheGroupsCheck, Verdict::kWarn, "phase out DH groups: " + weak_ff});
    } else {
      out.push_back({kScanDheGroupsCheck, Verdict::kPass, ""});
    }
  }
  // TLSF-13 (LOGJAM): DHE-EXPORT accepted, or a DH prime of 1024 bits or less, fails; a widely
  // shared prime of 2048 bits or less (the first target of a precomputation) warns.
  {
    std::string export_dhe;
    for (const auto& [version, suite] : r.accepted_weak) {
      if (suite.find("DHE") != std::string::npos && suite.find("EXPORT") != std::string::npos) {
        export_dhe = suite + " (" + version + ")";
        break;
      }
    }
    if (!export_dhe.empty()) {
      out.push_back({kScanLogjamCheck, Verdict::kFail, "DHE-EXPORT accepted: " + export_dhe});
    } else if (r.dhe) {
      const ScanReport::DheParams& d = *r.dhe;
      const std::string named = d.group.empty() ? "an own prime" : d.group;
      if (d.bits == 0) {
        out.push_back(
            {kScanLogjamCheck, Verdict::kFail,
             "DH group too small for OpenSSL to take (" + d.suite + ", " + d.version + ")"});
      } else if (d.bits <= 1024) {
        out.push_back({kScanLogjamCheck, Verdict::kFail,
                       std::to_string(d.bits) + "-bit DH (" + named + ", " + d.version + ")"});
      } else if (d.well_known && d.bits <= 2048) {
        out.push_back({kScanLogjamCheck, Verdict::kWarn,
                       std::to_string(d.bits) + "-bit DH with a widely shared prime (" + d.group +
                           ", " + d.version + ")"});
      } else {
        out.push_back({kScanLogjamCheck, Verdict::kPass,
                       std::to_string(d.bits) + "-bit DH (" + named + ", " + d.version + ")"});
      }
    } else if (!r.accepted_ciphers.empty()) {
      // No DHE suite below TLS 1.3: nothing to attack, once every such version was enumerated.
      bool complete = true, dhe_seen = false;
      for (const auto& [version, accepted] : r.versions) {
        if (!accepted || version == "TLSv1.3" || version == "SSLv2") continue;
        complete = complete && std::find(r.ciphers_complete.begin(), r.ciphers_complete.end(),
                                         version) != r.ciphers_complete.end();
      }
      for (const ScanReport::AcceptedCipher& c : r.accepted_ciphers) {
        dhe_seen = dhe_seen || (c.version != "TLSv1.3" && IsDheSuite(c.id));
      }
      if (complete && !dhe_seen) {
        out.push_back({kScanLogjamCheck, Verdict::kPass, "no DHE key exchange below TLS 1.3"});
      }
    }
  }
  // CIPH-08: SHA-1 fails, SHA-224 warns (Internet.nl), both refused passes.
  if (r.kex_sha1.has_value()) {
    if (*r.kex_sha1) {
      out.push_back({kScanKexHashCheck, Verdict::kFail,
                     "the TLS 1.2 key exchange is signed with SHA-1 when the client offers only "
                     "SHA-1 (RFC 9155)"});
    } else if (r.kex_sha224.value_or(false)) {
      out.push_back({kScanKexHashCheck, Verdict::kWarn,
                     "the TLS 1.2 key exchange is signed with SHA-224 when the client offers only "
                     "SHA-224"});
    } else if (r.kex_sha224.has_value()) {
      out.push_back({kScanKexHashCheck, Verdict::kPass, "neither SHA-1 nor SHA-224 signatures"});
    }
  }
  // TLSF-05
  if (r.early_data_accepted.has_value()) {
    out.push_back({kScanEarlyDataCheck, *r.early_data_accepted ? Verdict::kFail : Verdict::kPass,
                   *r.early_data_accepted
                       ? r.early_data_detail + ": replayable commands (RFC 8446 §8)"
                       : r.early_data_detail});
  }
  // TLSF-03: Internet.nl shows up to 10 as information (no verdict of its own here: pass with
  // the count), more as too many.
  if (r.client_renegotiations.has_value()) {
    const int n = *r.client_renegotiations;
    if (n == 0) {
      out.push_back({kScanClientRenegotiationCheck, Verdict::kPass, ""});
    } else if (n < kMaxRenegotiations) {
      out.push_back({kScanClientRenegotiationCheck, Verdict::kPass,
                     "allowed: " + std::to_string(n) +
                         " client-initiated renegotiations, then "
                         "refused (Internet.nl: information)"});
    } else {
      out.push_back({kScanClientRenegotiationCheck, Verdict::kWarn,
                     "allowed without a limit: " + std::to_string(n) +
                         " client-initiated renegotiations completed (a denial-of-service lever)"});
    }
  }
  // TLSF-07, TLSF-08: no series when the probe could not run.
  if (r.heartbleed.has_value()) {
    out.push_back({kScanHeartbleedCheck, *r.heartbleed ? Verdict::kFail : Verdict::kPass,
                   r.heartbleed_detail});
  }
  if (r.ccs_injection.has_value()) {
    out.push_back({kScanCcsInjectionCheck, *r.ccs_injection ? Verdict::kFail : Verdict::kPass,
                   r.ccs_injection_detail});
  }
  // TLSF-09: a consistent difference fails; testssl.sh's weak oracle warns.
  if (r.robot_vulnerable.has_value()) {
    if (!*r.robot_vulnerable) {
      out.push_back({kScanRobotCheck, Verdict::kPass, r.robot_detail});
    } else if (r.robot_weak_oracle) {
      out.push_back(
          {kScanRobotCheck, Verdict::kWarn,
           "weak RSA padding oracle (only well-formed blocks stand out): " + r.robot_detail});
    } else {
      out.push_back(
          {kScanRobotCheck, Verdict::kFail, "RSA padding oracle (ROBOT): " + r.robot_detail});
    }
  } else if (!r.robot_detail.empty()) {
    out.push_back({kScanRobotCheck, Verdict::kError, "undecided: " + r.robot_detail});
  }
  // STRIP-04
  if (config::ServiceTlsMode(target.service) == config::TlsMode::kStartTls) {
    if (!r.command_injection.has_value()) {
      out.push_back({kScanCommandInjectionCheck, Verdict::kError, "injection probe did not run"});
    } else {
      out.push_back(
          {kScanCommandInjectionCheck, *r.command_injection ? Verdict::kFail : Verdict::kPass,
           *r.command_injection ? "a command pipelined before STARTTLS was answered inside TLS"
                                : ""});
    }
  }
  // TX-02: RFC 3207 §4 says a publicly referenced server MUST NOT require STARTTLS to deliver
  // locally; a refusal is a warning (it is a choice some make, at the cost of plaintext senders).
  if (r.plaintext_mail_refused.has_value()) {
    out.push_back({kScanPlaintextMailCheck,
                   *r.plaintext_mail_refused ? Verdict::kWarn : Verdict::kPass,
                   *r.plaintext_mail_refused
                       ? "mail refused without STARTTLS: " + r.plaintext_mail_detail +
                             " (RFC 3207 §4: senders without TLS cannot deliver)"
                       : "mail accepted without STARTTLS (" + r.plaintext_mail_detail + ")"});
  } else if (!r.plaintext_mail_detail.empty()) {
    out.push_back(
        {kScanPlaintextMailCheck, Verdict::kError, "undecided: " + r.plaintext_mail_detail});
  }
  // TX-13
  if (r.open_relay.has_value()) {
    out.push_back({kScanOpenRelayCheck, *r.open_relay ? Verdict::kFail : Verdict::kPass,
                   *r.open_relay ? "open relay: unauthenticated " + r.open_relay_detail
                                 : "relaying refused (" + r.open_relay_detail + ")"});
  } else if (!r.open_relay_detail.empty()) {
    out.push_back({kScanOpenRelayCheck, Verdict::kError, "undecided: " + r.open_relay_detail});
  }
  // TX-10
  if (r.implicit_tls_sibling.has_value()) {
    const std::string port = std::to_string(r.implicit_tls_sibling_port);
    out.push_back({kScanImplicitTlsCheck, *r.implicit_tls_sibling ? Verdict::kPass : Verdict::kWarn,
                   *r.implicit_tls_sibling
                       ? "implicit TLS on port " + port + " too"
                       : "no implicit TLS on port " + port +
                             ": only the STARTTLS variant, which an on-path attacker can strip "
                             "(RFC 8314 prefers implicit TLS)"});
  }
  return out;
}

asio::awaitable<ScanResult> ScanAddress(config::EndpointTarget target, asio::ip::address address,
                                        ScanOptions options) {
  if (options.probe.clock == nullptr) options.probe.clock = &SystemClock();
  ScanResult result;
  result.started_at = ToUnixSeconds(options.probe.clock->Now());
  if (options.probe.tls == nullptr) {
    result.error = "no TLS context";
  } else {
    Scanner scanner(target, address, options, &result);
    co_await scanner.Run();
  }
  result.findings = ScanFindings(target, result);
  result.finished_at = ToUnixSeconds(options.probe.clock->Now());
  co_return result;
}

}  // namespace mailsec::probe
