// The cipher suites the deep scan enumerates, as data: IANA code point, OpenSSL and IANA names,
// Internet.nl's class (CHECKS.md CIPH-01, NCSC-NL TLS guidelines 2025-05), forward secrecy and
// AEAD (CIPH-03), and the oldest version that defines the suite. Immutable static storage.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace mailsec::tls {

// Internet.nl's classes: good and sufficient pass, phase_out warns, insufficient fails.
enum class SuiteClass : uint8_t { kGood, kSufficient, kPhaseOut, kInsufficient };
// "good", "sufficient", "phase_out", "insufficient"
std::string_view SuiteClassName(SuiteClass c);

struct CipherSuite {
  uint16_t id;
  std::string_view openssl;  // "ECDHE-RSA-AES128-GCM-SHA256"; TLS 1.3: the IANA name
  std::string_view iana;     // "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
  SuiteClass cls;
  bool forward_secret;   // ephemeral key exchange (ECDHE, DHE, anonymous ones too; TLS 1.3)
  bool aead;             // GCM, CCM, CCM_8, ChaCha20-Poly1305
  uint16_t min_version;  // kSsl3 (SSLv3 and later), kTls12 (TLS 1.2 only), kTls13
};

// Every suite of the table, by code point. PSK and SRP suites are left out: they need a shared
// secret no mail server publishes (Internet.nl does not look for them either).
std::span<const CipherSuite> CipherSuites();
// The entry for `id`; null when the table does not know it.
const CipherSuite* FindCipherSuite(uint16_t id);
// The code points to offer for `version` (SSLv3..TLS 1.3), in table order.
std::vector<uint16_t> SuitesFor(uint16_t version);

// The bulk cipher's strength in bits of security, read from an IANA suite name (CHECKS.md
// CIPH-04, counted as testssl.sh does: 3DES 112, DES 56, every EXPORT cipher 40, NULL 0, RC4 by
// its key, AES/ARIA/CAMELLIA by theirs, ChaCha20 256, IDEA and SEED 128). -1 for a name it does
// not know.
int SuiteStrengthBits(std::string_view iana);
// A CBC-mode bulk cipher (AES, ARIA, CAMELLIA, SEED, IDEA, DES, 3DES, RC2 in CBC mode): the
// suites of BEAST, POODLE and LUCKY13 (CHECKS.md CIPH-02, TLSF-10, TLSF-15).
bool IsCbcSuite(std::string_view iana);

// Key-exchange groups (supported_groups code points: RFC 8422, RFC 7919, RFC 8446 §4.2.7,
// RFC 8734) with Internet.nl's verdict (CHECKS.md CIPH-06 for curves, CIPH-07 for finite-field
// groups): kGood passes, kPhaseOut warns, kInsufficient fails.
struct GroupInfo {
  uint16_t id;
  std::string_view name;  // OpenSSL's name: "x25519", "secp256r1", "ffdhe2048"
  SuiteClass cls;
  bool finite_field;  // an RFC 7919 DHE group
  bool tls13;         // defined for TLS 1.3
  bool tls12;         // a TLS 1.2 ECDHE curve
};
std::span<const GroupInfo> Groups();
const GroupInfo* FindGroup(uint16_t id);

}  // namespace mailsec::tls
