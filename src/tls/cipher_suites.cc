#include "mailsec/tls/cipher_suites.h"

#include <algorithm>
#include <utility>

#include "mailsec/tls/hello.h"

namespace mailsec::tls {
namespace {

// Classes per CHECKS.md CIPH-01: good = TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256;
// sufficient = TLS_AES_128_GCM_SHA256, TLS_AES_128_CCM_SHA256, ECDHE-ECDSA/RSA with AES-GCM or
// ChaCha20-Poly1305, ECDHE-ECDSA with AES-CCM; phase_out = ECDHE CBC-SHA256/384, ECDHE with
// CAMELLIA or ARIA, DHE-RSA AEAD and CBC-SHA256/384; everything else insufficient (RSA key
// transport, SHA-1 CBC, DHE-DSS, static ECDH, NULL, anonymous, EXPORT, RC4, DES, 3DES and every
// CCM_8 suite: 64-bit tags, as TLS_AES_128_CCM_8_SHA256).
using C = SuiteClass;
// One suite per line, as in the IANA registry.
// clang-format off
constexpr CipherSuite kSuites[] = {
    {0x0001, "NULL-MD5", "TLS_RSA_WITH_NULL_MD5", C::kInsufficient, false, false, kSsl3},
    {0x0002, "NULL-SHA", "TLS_RSA_WITH_NULL_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0003, "EXP-RC4-MD5", "TLS_RSA_EXPORT_WITH_RC4_40_MD5", C::kInsufficient, false, false, kSsl3},
    {0x0004, "RC4-MD5", "TLS_RSA_WITH_RC4_128_MD5", C::kInsufficient, false, false, kSsl3},
    {0x0005, "RC4-SHA", "TLS_RSA_WITH_RC4_128_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0006, "EXP-RC2-CBC-MD5", "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", C::kInsufficient, false, false, kSsl3},
    {0x0007, "IDEA-CBC-SHA", "TLS_RSA_WITH_IDEA_CBC_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0008, "EXP-DES-CBC-SHA", "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0009, "DES-CBC-SHA", "TLS_RSA_WITH_DES_CBC_SHA", C::kInsufficient, false, false, kSsl3},
    {0x000A, "DES-CBC3-SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0011, "EXP-EDH-DSS-DES-CBC-SHA", "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0012, "EDH-DSS-DES-CBC-SHA", "TLS_DHE_DSS_WITH_DES_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0013, "EDH-DSS-DES-CBC3-SHA", "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0014, "EXP-EDH-RSA-DES-CBC-SHA", "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0015, "EDH-RSA-DES-CBC-SHA", "TLS_DHE_RSA_WITH_DES_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0016, "EDH-RSA-DES-CBC3-SHA", "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0017, "EXP-ADH-RC4-MD5", "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", C::kInsufficient, true, false, kSsl3},
    {0x0018, "ADH-RC4-MD5", "TLS_DH_anon_WITH_RC4_128_MD5", C::kInsufficient, true, false, kSsl3},
    {0x0019, "EXP-ADH-DES-CBC-SHA", "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x001A, "ADH-DES-CBC-SHA", "TLS_DH_anon_WITH_DES_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x001B, "ADH-DES-CBC3-SHA", "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x002F, "AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0032, "DHE-DSS-AES128-SHA", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0033, "DHE-RSA-AES128-SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0034, "ADH-AES128-SHA", "TLS_DH_anon_WITH_AES_128_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0035, "AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0038, "DHE-DSS-AES256-SHA", "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0039, "DHE-RSA-AES256-SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x003A, "ADH-AES256-SHA", "TLS_DH_anon_WITH_AES_256_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x003B, "NULL-SHA256", "TLS_RSA_WITH_NULL_SHA256", C::kInsufficient, false, false, kTls12},
    {0x003C, "AES128-SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256", C::kInsufficient, false, false, kTls12},
    {0x003D, "AES256-SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256", C::kInsufficient, false, false, kTls12},
    {0x0040, "DHE-DSS-AES128-SHA256", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", C::kInsufficient, true, false, kTls12},
    {0x0041, "CAMELLIA128-SHA", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0044, "DHE-DSS-CAMELLIA128-SHA", "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0045, "DHE-RSA-CAMELLIA128-SHA", "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0046, "ADH-CAMELLIA128-SHA", "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0062, "EXP1024-DES-CBC-SHA", "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0064, "EXP1024-RC4-SHA", "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0066, "DHE-DSS-RC4-SHA", "TLS_DHE_DSS_WITH_RC4_128_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0067, "DHE-RSA-AES128-SHA256", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", C::kPhaseOut, true, false, kTls12},
    {0x006A, "DHE-DSS-AES256-SHA256", "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", C::kInsufficient, true, false, kTls12},
    {0x006B, "DHE-RSA-AES256-SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", C::kPhaseOut, true, false, kTls12},
    {0x006C, "ADH-AES128-SHA256", "TLS_DH_anon_WITH_AES_128_CBC_SHA256", C::kInsufficient, true, false, kTls12},
    {0x006D, "ADH-AES256-SHA256", "TLS_DH_anon_WITH_AES_256_CBC_SHA256", C::kInsufficient, true, false, kTls12},
    {0x0084, "CAMELLIA256-SHA", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0087, "DHE-DSS-CAMELLIA256-SHA", "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0088, "DHE-RSA-CAMELLIA256-SHA", "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0089, "ADH-CAMELLIA256-SHA", "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x0096, "SEED-SHA", "TLS_RSA_WITH_SEED_CBC_SHA", C::kInsufficient, false, false, kSsl3},
    {0x0099, "DHE-DSS-SEED-SHA", "TLS_DHE_DSS_WITH_SEED_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x009A, "DHE-RSA-SEED-SHA", "TLS_DHE_RSA_WITH_SEED_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x009B, "ADH-SEED-SHA", "TLS_DH_anon_WITH_SEED_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0x009C, "AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", C::kInsufficient, false, true, kTls12},
    {0x009D, "AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384", C::kInsufficient, false, true, kTls12},
    {0x009E, "DHE-RSA-AES128-GCM-SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", C::kPhaseOut, true, true, kTls12},
    {0x009F, "DHE-RSA-AES256-GCM-SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", C::kPhaseOut, true, true, kTls12},
    {0x00A2, "DHE-DSS-AES128-GCM-SHA256", "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", C::kInsufficient, true, true, kTls12},
    {0x00A3, "DHE-DSS-AES256-GCM-SHA384", "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", C::kInsufficient, true, true, kTls12},
    {0x00A6, "ADH-AES128-GCM-SHA256", "TLS_DH_anon_WITH_AES_128_GCM_SHA256", C::kInsufficient, true, true, kTls12},
    {0x00A7, "ADH-AES256-GCM-SHA384", "TLS_DH_anon_WITH_AES_256_GCM_SHA384", C::kInsufficient, true, true, kTls12},
    {0x00BA, "CAMELLIA128-SHA256", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256", C::kInsufficient, false, false, kTls12},
    {0x00BD, "DHE-DSS-CAMELLIA128-SHA256", "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256", C::kInsufficient, true, false, kTls12},
    {0x00BE, "DHE-RSA-CAMELLIA128-SHA256", "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", C::kPhaseOut, true, false, kTls12},
    {0x00BF, "ADH-CAMELLIA128-SHA256", "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256", C::kInsufficient, true, false, kTls12},
    {0x00C0, "CAMELLIA256-SHA256", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256", C::kInsufficient, false, false, kTls12},
    {0x00C3, "DHE-DSS-CAMELLIA256-SHA256", "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256", C::kInsufficient, true, false, kTls12},
    {0x00C4, "DHE-RSA-CAMELLIA256-SHA256", "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256", C::kPhaseOut, true, false, kTls12},
    {0x00C5, "ADH-CAMELLIA256-SHA256", "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256", C::kInsufficient, true, false, kTls12},
    {0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", C::kSufficient, true, true, kTls13},
    {0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", C::kGood, true, true, kTls13},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", C::kGood, true, true, kTls13},
    {0x1304, "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_SHA256", C::kSufficient, true, true, kTls13},
    {0x1305, "TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_8_SHA256", C::kInsufficient, true, true, kTls13},
    {0xC001, "ECDH-ECDSA-NULL-SHA", "TLS_ECDH_ECDSA_WITH_NULL_SHA", C::kInsufficient, false, false, kSsl3},
    {0xC006, "ECDHE-ECDSA-NULL-SHA", "TLS_ECDHE_ECDSA_WITH_NULL_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC007, "ECDHE-ECDSA-RC4-SHA", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC008, "ECDHE-ECDSA-DES-CBC3-SHA", "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC009, "ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC00A, "ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC00B, "ECDH-RSA-NULL-SHA", "TLS_ECDH_RSA_WITH_NULL_SHA", C::kInsufficient, false, false, kSsl3},
    {0xC010, "ECDHE-RSA-NULL-SHA", "TLS_ECDHE_RSA_WITH_NULL_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC011, "ECDHE-RSA-RC4-SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC012, "ECDHE-RSA-DES-CBC3-SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC013, "ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC014, "ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC015, "AECDH-NULL-SHA", "TLS_ECDH_anon_WITH_NULL_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC016, "AECDH-RC4-SHA", "TLS_ECDH_anon_WITH_RC4_128_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC017, "AECDH-DES-CBC3-SHA", "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC018, "AECDH-AES128-SHA", "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC019, "AECDH-AES256-SHA", "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", C::kInsufficient, true, false, kSsl3},
    {0xC023, "ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", C::kPhaseOut, true, false, kTls12},
    {0xC024, "ECDHE-ECDSA-AES256-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", C::kPhaseOut, true, false, kTls12},
    {0xC027, "ECDHE-RSA-AES128-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", C::kPhaseOut, true, false, kTls12},
    {0xC028, "ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", C::kPhaseOut, true, false, kTls12},
    {0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", C::kSufficient, true, true, kTls12},
    {0xC02C, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", C::kSufficient, true, true, kTls12},
    {0xC02F, "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", C::kSufficient, true, true, kTls12},
    {0xC030, "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", C::kSufficient, true, true, kTls12},
    {0xC050, "ARIA128-GCM-SHA256", "TLS_RSA_WITH_ARIA_128_GCM_SHA256", C::kInsufficient, false, true, kTls12},
    {0xC051, "ARIA256-GCM-SHA384", "TLS_RSA_WITH_ARIA_256_GCM_SHA384", C::kInsufficient, false, true, kTls12},
    {0xC052, "DHE-RSA-ARIA128-GCM-SHA256", "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256", C::kPhaseOut, true, true, kTls12},
    {0xC053, "DHE-RSA-ARIA256-GCM-SHA384", "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384", C::kPhaseOut, true, true, kTls12},
    {0xC056, "DHE-DSS-ARIA128-GCM-SHA256", "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256", C::kInsufficient, true, true, kTls12},
    {0xC057, "DHE-DSS-ARIA256-GCM-SHA384", "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384", C::kInsufficient, true, true, kTls12},
    {0xC05C, "ECDHE-ECDSA-ARIA128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256", C::kPhaseOut, true, true, kTls12},
    {0xC05D, "ECDHE-ECDSA-ARIA256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384", C::kPhaseOut, true, true, kTls12},
    {0xC060, "ECDHE-ARIA128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", C::kPhaseOut, true, true, kTls12},
    {0xC061, "ECDHE-ARIA256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384", C::kPhaseOut, true, true, kTls12},
    {0xC072, "ECDHE-ECDSA-CAMELLIA128-SHA256", "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", C::kPhaseOut, true, false, kTls12},
    {0xC073, "ECDHE-ECDSA-CAMELLIA256-SHA384", "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384", C::kPhaseOut, true, false, kTls12},
    {0xC076, "ECDHE-RSA-CAMELLIA128-SHA256", "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", C::kPhaseOut, true, false, kTls12},
    {0xC077, "ECDHE-RSA-CAMELLIA256-SHA384", "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384", C::kPhaseOut, true, false, kTls12},
    {0xC09C, "AES128-CCM", "TLS_RSA_WITH_AES_128_CCM", C::kInsufficient, false, true, kTls12},
    {0xC09D, "AES256-CCM", "TLS_RSA_WITH_AES_256_CCM", C::kInsufficient, false, true, kTls12},
    {0xC09E, "DHE-RSA-AES128-CCM", "TLS_DHE_RSA_WITH_AES_128_CCM", C::kPhaseOut, true, true, kTls12},
    {0xC09F, "DHE-RSA-AES256-CCM", "TLS_DHE_RSA_WITH_AES_256_CCM", C::kPhaseOut, true, true, kTls12},
    {0xC0A0, "AES128-CCM8", "TLS_RSA_WITH_AES_128_CCM_8", C::kInsufficient, false, true, kTls12},
    {0xC0A1, "AES256-CCM8", "TLS_RSA_WITH_AES_256_CCM_8", C::kInsufficient, false, true, kTls12},
    {0xC0A2, "DHE-RSA-AES128-CCM8", "TLS_DHE_RSA_WITH_AES_128_CCM_8", C::kInsufficient, true, true, kTls12},
    {0xC0A3, "DHE-RSA-AES256-CCM8", "TLS_DHE_RSA_WITH_AES_256_CCM_8", C::kInsufficient, true, true, kTls12},
    {0xC0AC, "ECDHE-ECDSA-AES128-CCM", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", C::kSufficient, true, true, kTls12},
    {0xC0AD, "ECDHE-ECDSA-AES256-CCM", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", C::kSufficient, true, true, kTls12},
    {0xC0AE, "ECDHE-ECDSA-AES128-CCM8", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", C::kInsufficient, true, true, kTls12},
    {0xC0AF, "ECDHE-ECDSA-AES256-CCM8", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", C::kInsufficient, true, true, kTls12},
    {0xCCA8, "ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", C::kSufficient, true, true, kTls12},
    {0xCCA9, "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", C::kSufficient, true, true, kTls12},
    {0xCCAA, "DHE-RSA-CHACHA20-POLY1305", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", C::kPhaseOut, true, true, kTls12},
};
// clang-format on

constexpr bool SortedUnique() {
  for (size_t i = 1; i < std::size(kSuites); ++i) {
    if (kSuites[i - 1].id >= kSuites[i].id) return false;
  }
  return true;
}
static_assert(SortedUnique(), "kSuites must be sorted by code point, each once");

// CIPH-06: the NIST P curves from 256 bits, X25519, X448 and the brainpool curves are good,
// secp224r1 phase out, other curves insufficient. CIPH-07: ffdhe3072 and larger phase out,
// ffdhe2048 insufficient.
// clang-format off
constexpr GroupInfo kGroups[] = {
    {0x0013, "secp192r1", C::kInsufficient, false, false, true},
    {0x0015, "secp224r1", C::kPhaseOut, false, false, true},
    {0x0016, "secp256k1", C::kInsufficient, false, false, true},
    {0x0017, "secp256r1", C::kGood, false, true, true},
    {0x0018, "secp384r1", C::kGood, false, true, true},
    {0x0019, "secp521r1", C::kGood, false, true, true},
    {0x001A, "brainpoolP256r1", C::kGood, false, false, true},
    {0x001B, "brainpoolP384r1", C::kGood, false, false, true},
    {0x001C, "brainpoolP512r1", C::kGood, false, false, true},
    {0x001D, "x25519", C::kGood, false, true, true},
    {0x001E, "x448", C::kGood, false, true, true},
    {0x001F, "brainpoolP256r1tls13", C::kGood, false, true, false},
    {0x0020, "brainpoolP384r1tls13", C::kGood, false, true, false},
    {0x0021, "brainpoolP512r1tls13", C::kGood, false, true, false},
    {0x0100, "ffdhe2048", C::kInsufficient, true, true, false},
    {0x0101, "ffdhe3072", C::kPhaseOut, true, true, false},
    {0x0102, "ffdhe4096", C::kPhaseOut, true, true, false},
    {0x0103, "ffdhe6144", C::kPhaseOut, true, true, false},
    {0x0104, "ffdhe8192", C::kPhaseOut, true, true, false},
};
// clang-format on

}  // namespace

std::span<const GroupInfo> Groups() { return kGroups; }

const GroupInfo* FindGroup(uint16_t id) {
  for (const GroupInfo& g : kGroups) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

std::string_view SuiteClassName(SuiteClass c) {
  switch (c) {
    case SuiteClass::kGood:
      return "good";
    case SuiteClass::kSufficient:
      return "sufficient";
    case SuiteClass::kPhaseOut:
      return "phase_out";
    case SuiteClass::kInsufficient:
      return "insufficient";
  }
  return "insufficient";
}

std::span<const CipherSuite> CipherSuites() { return kSuites; }

const CipherSuite* FindCipherSuite(uint16_t id) {
  const auto* it = std::lower_bound(std::begin(kSuites), std::end(kSuites), id,
                                    [](const CipherSuite& s, uint16_t v) { return s.id < v; });
  return it != std::end(kSuites) && it->id == id ? it : nullptr;
}

std::vector<uint16_t> SuitesFor(uint16_t version) {
  std::vector<uint16_t> out;
  for (const CipherSuite& s : kSuites) {
    const bool fits = version == kTls13 ? s.min_version == kTls13
                                        : s.min_version != kTls13 && s.min_version <= version;
    if (fits) out.push_back(s.id);
  }
  return out;
}

namespace {

// The bulk-cipher part of an IANA name: after "_WITH_" (TLS_RSA_WITH_AES_128_CBC_SHA), or after
// "TLS_" for TLS 1.3 (TLS_AES_128_GCM_SHA256).
std::string_view BulkCipher(std::string_view iana) {
  const size_t with = iana.find("_WITH_");
  if (with != std::string_view::npos) return iana.substr(with + 6);
  if (iana.starts_with("TLS_")) return iana.substr(4);
  return iana;
}

}  // namespace

int SuiteStrengthBits(std::string_view iana) {
  const std::string_view c = BulkCipher(iana);
  // Longest prefixes first: DES40 and DES_CBC_40 before DES, RC4_40/56 before RC4_128.
  constexpr std::pair<std::string_view, int> kPrefixes[] = {
      {"NULL", 0},          {"DES40_", 40},        {"DES_CBC_40", 40},   {"RC2_CBC_40", 40},
      {"RC4_40", 40},       {"RC4_56", 56},        {"RC4_128", 128},     {"3DES_EDE", 112},
      {"DES_CBC", 56},      {"IDEA", 128},         {"SEED", 128},        {"AES_128", 128},
      {"AES_256", 256},     {"ARIA_128", 128},     {"ARIA_256", 256},    {"CAMELLIA_128", 128},
      {"CAMELLIA_256", 256}, {"CHACHA20", 256}};
  for (const auto& [prefix, bits] : kPrefixes) {
    if (c.starts_with(prefix)) return bits;
  }
  return -1;
}

bool IsCbcSuite(std::string_view iana) {
  return BulkCipher(iana).find("_CBC") != std::string_view::npos;
}

}  // namespace mailsec::tls
