#include "mailsec/tls/robot.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>

#include "mailsec/tls/hello.h"
#include "tls/wire.h"

namespace mailsec::tls {
namespace {

using wire::Cursor;
using wire::Put16;
using wire::Put24;
using wire::Put8;

// Handshake message types (RFC 5246 §7.4); record content types are tls/hello.h's kContent*.
constexpr uint8_t kMsgServerHello = 2;
constexpr uint8_t kMsgCertificate = 11;
constexpr uint8_t kMsgServerKeyExchange = 12;
constexpr uint8_t kMsgCertificateRequest = 13;
constexpr uint8_t kMsgServerHelloDone = 14;
constexpr uint8_t kMsgClientKeyExchange = 16;
constexpr uint8_t kMsgCertificateStatus = 22;
// RFC 5246 §6.2.3: a record's fragment is at most 2^14 + 2048 bytes.
constexpr size_t kMaxRecordLength = (1 << 14) + 2048;
// The premaster secret is 48 bytes: the client version, then 46 random ones (RFC 5246 §7.4.7.1).
constexpr size_t kPremasterBytes = 48;

std::string Record(uint8_t type, uint16_t version, std::string_view fragment) {
  std::string r;
  Put8(&r, type);
  Put16(&r, version);
  Put16(&r, static_cast<unsigned>(fragment.size()));
  r.append(fragment);
  return r;
}

// Reads a record header; Malformed when it cannot start a TLS record (RFC 5246 §6.2.1).
Status RecordHeader(Cursor* c, uint8_t* type, uint16_t* length) {
  uint16_t version = 0;
  if (!c->U8(type) || !c->U16(&version) || !c->U16(length)) return Status::Ok();
  if (*type < kContentChangeCipherSpec || *type > kContentApplicationData) {
    return Status::Malformed("not a TLS record (type " + std::to_string(*type) + ")");
  }
  if ((version >> 8) != 3) return Status::Malformed("not a TLS record version");
  if (*length == 0 || *length > kMaxRecordLength) {
    return Status::Malformed("bad TLS record length " + std::to_string(*length));
  }
  return Status::Ok();
}

Status ParseHello(std::string_view body, RsaFlight* flight) {
  Cursor b(body);
  std::string_view random, session;
  uint8_t sid_len = 0;
  if (!b.U16(&flight->version) || !b.Bytes(32, &random) || !b.U8(&sid_len) || sid_len > 32 ||
      !b.Bytes(sid_len, &session) || !b.U16(&flight->cipher)) {
    return Status::Malformed("bad ServerHello");
  }
  return Status::Ok();
}

// certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1> (RFC 5246 §7.4.2): every entry must fit.
Status ParseCertificates(std::string_view body, std::string* leaf) {
  Cursor b(body);
  size_t list_len = 0;
  if (!b.U24(&list_len) || list_len != b.left()) {
    return Status::Malformed("Certificate list length does not match the message");
  }
  if (list_len == 0) return Status::Malformed("empty Certificate message");
  while (b.left() > 0) {
    size_t len = 0;
    std::string_view der;
    if (!b.U24(&len) || len == 0 || !b.Bytes(len, &der)) {
      return Status::Malformed("certificate overruns the Certificate message");
    }
    if (leaf->empty()) leaf->assign(der);
  }
  return Status::Ok();
}

// One handshake message of the flight; sets *done at ServerHelloDone.
Status TakeMessage(uint8_t type, std::string_view body, size_t index, RsaFlight* flight,
                   bool* done) {
  if ((index == 0) != (type == kMsgServerHello)) {
    return Status::Malformed("handshake message " + std::to_string(type) + " out of order");
  }
  switch (type) {
    case kMsgServerHello:
      return ParseHello(body, flight);
    case kMsgCertificate:
      if (!flight->leaf_der.empty()) return Status::Malformed("two Certificate messages");
      return ParseCertificates(body, &flight->leaf_der);
    case kMsgServerKeyExchange:
      return Status::Malformed("ServerKeyExchange: not RSA key transport");
    case kMsgCertificateRequest:
    case kMsgCertificateStatus:
      return Status::Ok();  // not ours to judge
    case kMsgServerHelloDone:
      if (flight->leaf_der.empty()) return Status::Malformed("ServerHelloDone without Certificate");
      *done = true;
      return Status::Ok();
    default:
      return Status::Malformed("unexpected handshake message " + std::to_string(type));
  }
}

// A nonzero filler byte (PKCS#1 v1.5 padding strings must hold no zero).
char Filler(size_t i) { return static_cast<char>(1 + (i * 37) % 255); }

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

// The certificate and its plain RSA key (not RSA-PSS: that key cannot encrypt).
Result<X509Ptr> RsaCertificate(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    ERR_clear_error();
    return Status::InvalidArgument("the leaf is not a DER certificate");
  }
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  ERR_clear_error();
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return Status::InvalidArgument("the leaf key is not RSA");
  }
  const int size = EVP_PKEY_get_size(key);
  if (size < static_cast<int>(kMinRsaModulusBytes) ||
      size > static_cast<int>(kMaxRsaModulusBytes)) {
    return Status::InvalidArgument("RSA key of " + std::to_string(size) + " bytes");
  }
  return cert;
}

}  // namespace

Result<RsaFlight> ParseRsaFlight(std::string_view bytes) {
  const bool capped = bytes.size() >= kMaxRsaFlightBytes;
  if (capped) bytes = bytes.substr(0, kMaxRsaFlightBytes);
  RsaFlight flight;
  std::string hs;  // the handshake bytes of the whole records so far
  Cursor c(bytes);
  while (c.left() >= 5) {
    uint8_t type = 0;
    uint16_t length = 0;
    Status header = RecordHeader(&c, &type, &length);
    if (!header.ok()) return header;
    if (type != kContentHandshake && type != kContentAlert) {
      return Status::Malformed("record type " + std::to_string(type) + " before ServerHelloDone");
    }
    std::string_view fragment;
    if (!c.Bytes(length, &fragment)) break;  // a record still arriving
    if (type == kContentAlert) {
      if (fragment.size() < 2) return Status::Malformed("alert record too short");
      flight.kind = RsaFlight::Kind::kAlert;
      flight.alert_description = static_cast<uint8_t>(fragment[1]);
      return flight;
    }
    hs.append(fragment);
  }
  Cursor h(hs);
  for (size_t index = 0; h.left() >= 4; ++index) {
    uint8_t type = 0;
    size_t len = 0;
    std::string_view body;
    if (!h.U8(&type) || !h.U24(&len) || !h.Bytes(len, &body)) break;  // message still arriving
    if (index == kMaxRsaFlightMessages) {
      return Status::Malformed("more than " + std::to_string(kMaxRsaFlightMessages) +
                               " handshake messages");
    }
    bool done = false;
    Status taken = TakeMessage(type, body, index, &flight, &done);
    if (!taken.ok()) return taken;
    if (done) {
      flight.kind = RsaFlight::Kind::kDone;
      return flight;
    }
  }
  if (capped) return Status::Malformed("no ServerHelloDone within the size limit");
  flight = RsaFlight{};  // incomplete: nothing half-read is an answer
  return flight;
}

std::string_view RobotVectorName(RobotVector v) {
  switch (v) {
    case RobotVector::kCorrect:
      return "correct padding";
    case RobotVector::kWrongFirstBytes:
      return "wrong first bytes";
    case RobotVector::kZeroMisplaced:
      return "0x00 misplaced";
    case RobotVector::kNoZero:
      return "no 0x00";
    case RobotVector::kWrongVersion:
      return "wrong version";
  }
  return "?";
}

Result<std::string> RobotPlaintext(RobotVector v, size_t modulus_bytes, uint16_t version) {
  if (modulus_bytes < kMinRsaModulusBytes || modulus_bytes > kMaxRsaModulusBytes) {
    return Status::InvalidArgument("modulus of " + std::to_string(modulus_bytes) + " bytes");
  }
  std::string random;  // the 46 bytes after the version
  for (size_t i = 0; i < kPremasterBytes - 2; ++i) random.push_back(Filler(i + 7));
  std::string block;
  block +=
      v == RobotVector::kWrongFirstBytes ? std::string("\x41\x17", 2) : std::string("\x00\x02", 2);
  for (size_t i = 0; i < modulus_bytes - 3 - kPremasterBytes; ++i) block.push_back(Filler(i));
  switch (v) {
    case RobotVector::kCorrect:
    case RobotVector::kWrongFirstBytes:
      Put8(&block, 0);
      Put16(&block, version);
      block += random;
      break;
    case RobotVector::kZeroMisplaced:
      block += "\x11" + random + std::string("\x00\x11", 2);
      break;
    case RobotVector::kNoZero:
      block += "\x11\x11\x11" + random;
      break;
    case RobotVector::kWrongVersion:
      block += std::string("\x00\x02\x02", 3) + random;
      break;
  }
  return block;
}

Result<size_t> RsaModulusBytes(std::string_view cert_der) {
  Result<X509Ptr> cert = RsaCertificate(cert_der);
  if (!cert.ok()) return cert.status();
  return static_cast<size_t>(EVP_PKEY_get_size(X509_get0_pubkey(cert->get())));
}

Result<std::string> RsaEncryptRaw(std::string_view cert_der, std::string_view block) {
  Result<X509Ptr> cert = RsaCertificate(cert_der);
  if (!cert.ok()) return cert.status();
  EVP_PKEY* key = X509_get0_pubkey(cert->get());
  if (block.size() != static_cast<size_t>(EVP_PKEY_get_size(key))) {
    return Status::InvalidArgument("block is not the modulus size");
  }
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(key, nullptr));
  const auto* in = reinterpret_cast<const unsigned char*>(block.data());
  size_t out_len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &out_len, in, block.size()) != 1) {
    ERR_clear_error();
    return Status::Internal("raw RSA encryption unavailable");
  }
  std::string out(out_len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &out_len, in,
                       block.size()) != 1) {
    ERR_clear_error();  // a block not smaller than the modulus
    return Status::InvalidArgument("raw RSA encryption failed");
  }
  out.resize(out_len);
  return out;
}

std::string BuildRobotKeyExchange(uint16_t version, std::string_view encrypted) {
  std::string premaster;
  if (version != kSsl3) Put16(&premaster, static_cast<unsigned>(encrypted.size()));
  premaster.append(encrypted);
  std::string cke;
  Put8(&cke, kMsgClientKeyExchange);
  Put24(&cke, premaster.size());
  cke += premaster;
  // A Finished of the size an encrypted one has with a CBC suite; its content is noise, which the
  // server sees only after decrypting with keys from our premaster.
  std::string finished;
  for (size_t i = 0; i < 64; ++i) finished.push_back(Filler(i + 101));
  return Record(kContentHandshake, version, cke) +
         Record(kContentChangeCipherSpec, version, std::string_view("\x01", 1)) +
         Record(kContentHandshake, version, finished);
}

Result<RobotReply> ParseRobotReply(std::string_view bytes) {
  RobotReply reply;
  Cursor c(bytes);
  if (c.left() < 5) return reply;
  uint8_t type = 0;
  uint16_t length = 0;
  Status header = RecordHeader(&c, &type, &length);
  if (!header.ok()) return header;
  std::string_view fragment;
  if (!c.Bytes(length, &fragment)) return reply;
  if (type == kContentAlert) {
    if (fragment.size() < 2) return Status::Malformed("alert record too short");
    reply.kind = RobotReply::Kind::kAlert;
    reply.alert_description = static_cast<uint8_t>(fragment[1]);
    return reply;
  }
  reply.kind = RobotReply::Kind::kOther;
  reply.record_type = type;
  return reply;
}

}  // namespace mailsec::tls
