// The byte work of the ROBOT probe (CHECKS.md TLSF-09; Böck, Somorovsky, Young: "Return Of
// Bleichenbacher's Oracle Threat", USENIX Security 2018): a hand-built RSA key-transport handshake
// whose ClientKeyExchange carries a premaster secret with deliberately broken PKCS#1 v1.5
// padding, then ChangeCipherSpec and a garbage Finished. A server whose answer depends on how the
// padding is broken is a decryption oracle for its RSA key.
//
// Pure functions over bytes (the RSA encryption uses OpenSSL's EVP API behind these byte
// interfaces). The flight parser never trusts a length and reads at most kMaxRsaFlightBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mailsec/base/status.h"

namespace mailsec::tls {

// The server's first flight for an RSA key-transport suite: ServerHello, Certificate, (maybe
// CertificateRequest,) ServerHelloDone. Certificate chains of real servers stay well under
// 16 KiB; 64 KiB leaves room for long chains and still bounds what one probe buffers.
inline constexpr size_t kMaxRsaFlightBytes = 64 * 1024;
// Handshake messages in that flight: five at most in practice (RFC 5246 §7.3); more is a server
// we do not understand.
inline constexpr size_t kMaxRsaFlightMessages = 8;
// RSA keys the probe encrypts to: 512 (export-era leftovers) to 8192 bits (RFC 8017 allows more,
// no mail server uses more).
inline constexpr size_t kMinRsaModulusBytes = 64;
inline constexpr size_t kMaxRsaModulusBytes = 1024;

struct RsaFlight {
  enum class Kind : uint8_t {
    kIncomplete,  // a valid start; read more and parse again
    kDone,        // everything up to ServerHelloDone: version, cipher, leaf_der
    kAlert,       // an alert before ServerHelloDone: alert_description
  };
  Kind kind = Kind::kIncomplete;
  uint16_t version = 0;  // ServerHello.server_version
  uint16_t cipher = 0;
  std::string leaf_der;  // the first certificate of the Certificate message
  uint8_t alert_description = 0;
};

// Parses the server's answer to an RSA key-transport ClientHello. Malformed: records that are
// not handshake or alert, a first message that is not a ServerHello, a ServerKeyExchange (not
// RSA key transport), an empty or inconsistent Certificate message, more than
// kMaxRsaFlightMessages messages, or no ServerHelloDone within kMaxRsaFlightBytes.
[[nodiscard]] Result<RsaFlight> ParseRsaFlight(std::string_view bytes);

// The five test vectors of the ROBOT paper (§4, table 2), as testssl.sh's run_robot sends them.
enum class RobotVector : uint8_t {
  kCorrect,          // 00 02 PS 00 version premaster: well formed
  kWrongFirstBytes,  // 41 17 PS 00 version premaster
  kZeroMisplaced,    // 00 02 PS 11 premaster 00 11: the separator two bytes from the end
  kNoZero,           // 00 02 PS 11 11 11 premaster: no separator at all
  kWrongVersion,     // 00 02 PS 00 02 02 premaster: a premaster naming SSL 2.2
};
inline constexpr size_t kRobotVectorCount = 5;
// "correct padding", "wrong first bytes", "0x00 misplaced", "no 0x00", "wrong version"
std::string_view RobotVectorName(RobotVector v);

// The EME-PKCS1-v1_5 block (RFC 8017 §7.2.1) of `modulus_bytes` for a 48-byte premaster secret
// naming `version`, broken as `v` says. The padding string and the premaster are fixed nonzero
// bytes: the handshake never completes, so their secrecy does not matter, and a fixed block makes
// the five vectors differ in the broken part alone. InvalidArgument outside
// kMinRsaModulusBytes..kMaxRsaModulusBytes.
[[nodiscard]] Result<std::string> RobotPlaintext(RobotVector v, size_t modulus_bytes,
                                                 uint16_t version);

// The RSA modulus size in bytes of a DER certificate's public key. InvalidArgument for bytes that
// are not a certificate, a key that is not plain RSA, or a size outside the limits above.
[[nodiscard]] Result<size_t> RsaModulusBytes(std::string_view cert_der);

// Raw RSA (RSA_NO_PADDING: the block is already padded, or deliberately mis-padded) of `block`
// under the certificate's public key. `block` must be exactly the modulus size and, as a number,
// smaller than the modulus.
[[nodiscard]] Result<std::string> RsaEncryptRaw(std::string_view cert_der, std::string_view block);

// One write of ClientKeyExchange (the encrypted premaster; RFC 5246 §7.4.7.1: with a 16-bit
// length from TLS 1.0 on, without one in SSLv3), ChangeCipherSpec and a Finished record of 64
// garbage bytes, each a record of `version`.
[[nodiscard]] std::string BuildRobotKeyExchange(uint16_t version, std::string_view encrypted);

// The first thing a server said after our key exchange.
struct RobotReply {
  enum class Kind : uint8_t {
    kIncomplete,  // read more
    kAlert,       // a whole alert record: alert_description
    kOther,       // a whole record of another type (record_type)
  };
  Kind kind = Kind::kIncomplete;
  uint8_t alert_description = 0;
  uint8_t record_type = 0;
};
// Malformed when the bytes are not TLS records at all.
[[nodiscard]] Result<RobotReply> ParseRobotReply(std::string_view bytes);

}  // namespace mailsec::tls
