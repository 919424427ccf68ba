#include "mailsec/tls/cipher_suites.h"

#include <gtest/gtest.h>

#include <set>

#include "mailsec/tls/hello.h"

namespace mailsec::tls {
namespace {

TEST(CipherSuitesTest, TableIsConsistent) {
  std::set<std::string_view> names;
  for (const CipherSuite& s : CipherSuites()) {
    EXPECT_TRUE(names.insert(s.openssl).second) << s.openssl;
    EXPECT_TRUE(s.iana.starts_with("TLS_")) << s.iana;
    EXPECT_EQ(FindCipherSuite(s.id), &s);
    EXPECT_TRUE(s.min_version == kSsl3 || s.min_version == kTls12 || s.min_version == kTls13);
    // Good and sufficient suites are all forward secret and AEAD (CHECKS.md CIPH-01, CIPH-03).
    if (s.cls == SuiteClass::kGood || s.cls == SuiteClass::kSufficient) {
      EXPECT_TRUE(s.forward_secret && s.aead) << s.openssl;
    }
  }
  // Every weak suite of the weak-suite probe is known here, and insufficient.
  for (const SuiteInfo& w : WeakSuites()) {
    const CipherSuite* s = FindCipherSuite(w.id);
    ASSERT_NE(s, nullptr) << w.iana;
    EXPECT_EQ(s->iana, w.iana);
    EXPECT_EQ(s->cls, SuiteClass::kInsufficient) << w.iana;
  }
  EXPECT_EQ(FindCipherSuite(0x5600), nullptr);
  EXPECT_EQ(FindCipherSuite(0x00FF), nullptr);
}

TEST(CipherSuitesTest, InternetNlClasses) {
  const struct {
    uint16_t id;
    SuiteClass cls;
    bool fs;
    bool aead;
  } cases[] = {
      {0x1302, SuiteClass::kGood, true, true},            // TLS_AES_256_GCM_SHA384
      {0x1303, SuiteClass::kGood, true, true},            // TLS_CHACHA20_POLY1305_SHA256
      {0x1301, SuiteClass::kSufficient, true, true},      // TLS_AES_128_GCM_SHA256
      {0x1304, SuiteClass::kSufficient, true, true},      // TLS_AES_128_CCM_SHA256
      {0x1305, SuiteClass::kInsufficient, true, true},    // TLS_AES_128_CCM_8_SHA256
      {0xC02F, SuiteClass::kSufficient, true, true},      // ECDHE-RSA-AES128-GCM-SHA256
      {0xCCA9, SuiteClass::kSufficient, true, true},      // ECDHE-ECDSA-CHACHA20-POLY1305
      {0xC0AD, SuiteClass::kSufficient, true, true},      // ECDHE-ECDSA-AES256-CCM
      {0xC028, SuiteClass::kPhaseOut, true, false},       // ECDHE-RSA-AES256-SHA384
      {0xC077, SuiteClass::kPhaseOut, true, false},       // ECDHE-RSA-CAMELLIA256-SHA384
      {0xC061, SuiteClass::kPhaseOut, true, true},        // ECDHE-ARIA256-GCM-SHA384
      {0x009F, SuiteClass::kPhaseOut, true, true},        // DHE-RSA-AES256-GCM-SHA384
      {0x0067, SuiteClass::kPhaseOut, true, false},       // DHE-RSA-AES128-SHA256
      {0xCCAA, SuiteClass::kPhaseOut, true, true},        // DHE-RSA-CHACHA20-POLY1305
      {0xC013, SuiteClass::kInsufficient, true, false},   // ECDHE-RSA-AES128-SHA (SHA-1 CBC)
      {0x0033, SuiteClass::kInsufficient, true, false},   // DHE-RSA-AES128-SHA
      {0x009C, SuiteClass::kInsufficient, false, true},   // AES128-GCM-SHA256 (RSA kx)
      {0x002F, SuiteClass::kInsufficient, false, false},  // AES128-SHA
      {0x00A3, SuiteClass::kInsufficient, true, true},    // DHE-DSS-AES256-GCM-SHA384
      {0xC0AE, SuiteClass::kInsufficient, true, true},    // ECDHE-ECDSA-AES128-CCM8
      {0x00A7, SuiteClass::kInsufficient, true, true},    // ADH-AES256-GCM-SHA384
      {0x000A, SuiteClass::kInsufficient, false, false},  // DES-CBC3-SHA
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    const CipherSuite* s = FindCipherSuite(c.id);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->cls, c.cls) << s->openssl;
    EXPECT_EQ(s->forward_secret, c.fs) << s->openssl;
    EXPECT_EQ(s->aead, c.aead) << s->openssl;
  }
  EXPECT_EQ(SuiteClassName(SuiteClass::kPhaseOut), "phase_out");
  EXPECT_EQ(FindCipherSuite(0xC02F)->openssl, "ECDHE-RSA-AES128-GCM-SHA256");
}

TEST(CipherSuitesTest, SuitesPerVersion) {
  const std::vector<uint16_t> tls13 = SuitesFor(kTls13);
  EXPECT_EQ(tls13, (std::vector<uint16_t>{0x1301, 0x1302, 0x1303, 0x1304, 0x1305}));
  const std::vector<uint16_t> tls12 = SuitesFor(kTls12);
  const std::vector<uint16_t> tls10 = SuitesFor(kTls10);
  EXPECT_EQ(SuitesFor(kSsl3), tls10);
  EXPECT_LT(tls10.size(), tls12.size());
  // No TLS 1.3 suite below 1.3, no TLS 1.2-only (AEAD, SHA-256) suite below 1.2.
  for (uint16_t id : tls12) EXPECT_NE(FindCipherSuite(id)->min_version, kTls13);
  for (uint16_t id : tls10) EXPECT_FALSE(FindCipherSuite(id)->aead) << id;
  EXPECT_NE(std::find(tls10.begin(), tls10.end(), 0xC013), tls10.end());
}

TEST(CipherSuitesTest, GroupVerdicts) {
  std::set<uint16_t> ids;
  size_t tls13 = 0, tls12 = 0;
  for (const GroupInfo& g : Groups()) {
    EXPECT_TRUE(ids.insert(g.id).second) << g.name;
    EXPECT_EQ(FindGroup(g.id), &g);
    EXPECT_TRUE(g.tls13 || g.tls12) << g.name;
    EXPECT_FALSE(g.finite_field && g.tls12) << g.name;  // TLS 1.2 DHE does not name groups here
    tls13 += g.tls13;
    tls12 += g.tls12;
  }
  EXPECT_EQ(tls13, 13u);
  EXPECT_EQ(tls12, 11u);
  EXPECT_EQ(FindGroup(0x001D)->name, "x25519");
  EXPECT_EQ(FindGroup(0x001D)->cls, SuiteClass::kGood);
  EXPECT_EQ(FindGroup(0x0015)->cls, SuiteClass::kPhaseOut);      // secp224r1 (CIPH-06)
  EXPECT_EQ(FindGroup(0x0016)->cls, SuiteClass::kInsufficient);  // secp256k1
  EXPECT_EQ(FindGroup(0x0100)->cls, SuiteClass::kInsufficient);  // ffdhe2048 (CIPH-07)
  EXPECT_EQ(FindGroup(0x0101)->cls, SuiteClass::kPhaseOut);      // ffdhe3072
  EXPECT_EQ(FindGroup(0x11EC), nullptr);                         // X25519MLKEM768: not asked
}

TEST(CipherSuitesTest, StrengthBitsAsTestsslCountsThem) {
  EXPECT_EQ(SuiteStrengthBits("TLS_RSA_WITH_NULL_SHA"), 0);
  EXPECT_EQ(SuiteStrengthBits("TLS_RSA_EXPORT_WITH_RC4_40_MD5"), 40);
  EXPECT_EQ(SuiteStrengthBits("TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"), 40);
  EXPECT_EQ(SuiteStrengthBits("TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5"), 40);
  EXPECT_EQ(SuiteStrengthBits("TLS_RSA_EXPORT1024_WITH_RC4_56_SHA"), 56);
  EXPECT_EQ(SuiteStrengthBits("TLS_RSA_WITH_DES_CBC_SHA"), 56);
  EXPECT_EQ(SuiteStrengthBits("TLS_RSA_WITH_3DES_EDE_CBC_SHA"), 112);
  EXPECT_EQ(SuiteStrengthBits("TLS_RSA_WITH_RC4_128_SHA"), 128);
  EXPECT_EQ(SuiteStrengthBits("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), 128);
  EXPECT_EQ(SuiteStrengthBits("TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384"), 256);
  EXPECT_EQ(SuiteStrengthBits("TLS_AES_256_GCM_SHA384"), 256);
  EXPECT_EQ(SuiteStrengthBits("TLS_CHACHA20_POLY1305_SHA256"), 256);
  EXPECT_EQ(SuiteStrengthBits("TLS_AES_128_CCM_8_SHA256"), 128);
  EXPECT_EQ(SuiteStrengthBits("TLS_RSA_WITH_SEED_CBC_SHA"), 128);
  EXPECT_EQ(SuiteStrengthBits("TLS_EMPTY_RENEGOTIATION_INFO_SCSV"), -1);
  EXPECT_EQ(SuiteStrengthBits(""), -1);
  // Every suite of the table has a known strength.
  for (const CipherSuite& c : CipherSuites()) {
    EXPECT_GE(SuiteStrengthBits(c.iana), 0) << c.iana;
  }
}

TEST(CipherSuitesTest, CbcSuites) {
  EXPECT_TRUE(IsCbcSuite("TLS_RSA_WITH_AES_128_CBC_SHA"));
  EXPECT_TRUE(IsCbcSuite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"));
  EXPECT_TRUE(IsCbcSuite("TLS_RSA_WITH_3DES_EDE_CBC_SHA"));
  EXPECT_TRUE(IsCbcSuite("TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"));
  EXPECT_TRUE(IsCbcSuite("TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA"));
  EXPECT_FALSE(IsCbcSuite("TLS_RSA_WITH_RC4_128_SHA"));
  EXPECT_FALSE(IsCbcSuite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
  EXPECT_FALSE(IsCbcSuite("TLS_AES_128_GCM_SHA256"));
  EXPECT_FALSE(IsCbcSuite("TLS_RSA_WITH_NULL_SHA"));
  EXPECT_FALSE(IsCbcSuite("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"));
}

}  // namespace
}  // namespace mailsec::tls
