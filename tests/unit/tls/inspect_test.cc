#include "tls/inspect.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace mailsec::tls {
namespace {

constexpr int64_t kNow = 1'700'000'000;  // 2023-11-14T22:13:20Z
constexpr int64_t kDay = 86400;

// ---- Certificates made in memory --------------------------------------------------------------

EvpPkeyPtr MakeKey(const std::string& type) {
  EvpPkeyPtr key;
  if (type == "RSA") {
    key.reset(EVP_RSA_gen(2048));
  } else if (type == "EC") {
    key.reset(EVP_EC_gen("P-256"));
  } else {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, type.c_str()));
  }
  EXPECT_TRUE(key) << OpenSslErrors();
  return key;
}

// Keys are slow to make (RSA); every test shares these.
EVP_PKEY* RsaKey() {
  static EvpPkeyPtr* key = new EvpPkeyPtr(MakeKey("RSA"));
  return key->get();
}
EVP_PKEY* EcKey() {
  static EvpPkeyPtr* key = new EvpPkeyPtr(MakeKey("EC"));
  return key->get();
}
EVP_PKEY* EcKey2() {
  static EvpPkeyPtr* key = new EvpPkeyPtr(MakeKey("EC"));
  return key->get();
}
EVP_PKEY* Ed25519Key() {
  static EvpPkeyPtr* key = new EvpPkeyPtr(MakeKey("ED25519"));
  return key->get();
}

enum class Role { kCa, kServer, kBare };

struct CertSpec {
  std::string cn;
  std::string san;  // OpenSSL syntax: "DNS:a.example.org,IP:192.0.2.1"; empty for none
  int64_t not_before = kNow - 30 * kDay;
  int64_t not_after = kNow + 60 * kDay;
  Role role = Role::kServer;
  std::string eku = "serverAuth";
  std::string serial_hex = "1001";
  const EVP_MD* md = nullptr;  // signature digest; null: SHA-256 (none for EdDSA issuers)
  bool must_staple = false;    // TLS Feature status_request
};

void AddExt(X509* x, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  ASSERT_TRUE(ext) << OBJ_nid2sn(nid) << "=" << value << ": " << OpenSslErrors();
  ASSERT_EQ(X509_add_ext(x, ext.get(), -1), 1);
}

// Makes a certificate for "key", issued by "issuer" with "issuer_key", or self-signed with
// "issuer_key" when "issuer" is null.
X509Ptr MakeCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr x(X509_new());
  EXPECT_EQ(X509_set_version(x.get(), X509_VERSION_3), 1);
  BIGNUM* bn = nullptr;
  EXPECT_GT(BN_hex2bn(&bn, spec.serial_hex.c_str()), 0);
  BignumPtr serial(bn);
  EXPECT_NE(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x.get())), nullptr);
  EXPECT_NE(ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(spec.not_before)),
            nullptr);
  EXPECT_NE(ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(spec.not_after)),
            nullptr);

  X509_NAME* name = X509_get_subject_name(x.get());
  EXPECT_EQ(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>("mailsec tests"), -1,
                                       -1, 0),
            1);
  if (!spec.cn.empty()) {
    EXPECT_EQ(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>(spec.cn.c_str()),
                                         -1, -1, 0),
              1);
  }
  EXPECT_EQ(X509_set_issuer_name(x.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name),
            1);
  EXPECT_EQ(X509_set_pubkey(x.get(), key), 1);

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x.get(), x.get(), nullptr, nullptr, 0);
  AddExt(x.get(), &ctx, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) AddExt(x.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  switch (spec.role) {
    case Role::kCa:
      AddExt(x.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
      AddExt(x.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case Role::kServer:
      AddExt(x.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
      AddExt(x.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment");
      AddExt(x.get(), &ctx, NID_ext_key_usage, spec.eku.c_str());
      break;
    case Role::kBare:  // like a quick "openssl req -x509" certificate
      break;
  }
  if (!spec.san.empty()) AddExt(x.get(), &ctx, NID_subject_alt_name, spec.san.c_str());
  if (spec.must_staple) AddExt(x.get(), &ctx, NID_tlsfeature, "status_request");

  const bool digestless =
      EVP_PKEY_is_a(issuer_key, "ED25519") || EVP_PKEY_is_a(issuer_key, "ED448");
  const EVP_MD* md = spec.md != nullptr ? spec.md : EVP_sha256();
  EXPECT_GT(X509_sign(x.get(), issuer_key, digestless ? nullptr : md), 0) << OpenSslErrors();
  return x;
}

X509StackPtr Stack(std::initializer_list<X509*> certs) {
  X509StackPtr s(sk_X509_new_null());
  for (X509* c : certs) EXPECT_GT(sk_X509_push(s.get(), UpRef(c).release()), 0);
  return s;
}

X509StorePtr StoreWith(std::initializer_list<X509*> certs) {
  X509StorePtr store(X509_STORE_new());
  for (X509* c : certs) EXPECT_EQ(X509_STORE_add_cert(store.get(), c), 1);
  return store;
}

// Root (RSA) -> intermediate (EC) -> leaf (EC), valid around kNow.
struct Pki {
  X509Ptr root;
  X509Ptr inter;
  X509Ptr leaf;
};

const Pki& TestPki() {
  static const Pki* pki = [] {
    auto* p = new Pki;
    CertSpec root{.cn = "Test Root",
                  .not_before = kNow - 3650 * kDay,
                  .not_after = kNow + 3650 * kDay,
                  .role = Role::kCa,
                  .serial_hex = "01"};
    p->root = MakeCert(root, RsaKey(), nullptr, RsaKey());
    CertSpec inter{.cn = "Test Intermediate",
                   .not_before = kNow - 365 * kDay,
                   .not_after = kNow + 365 * kDay,
                   .role = Role::kCa,
                   .serial_hex = "02"};
    p->inter = MakeCert(inter, EcKey(), p->root.get(), RsaKey());
    CertSpec leaf{.cn = "mail.example.org",
                  .san = "DNS:mail.example.org,DNS:*.example.net,IP:192.0.2.1,IP:2001:db8::1"};
    p->leaf = MakeCert(leaf, EcKey2(), p->inter.get(), EcKey());
    return p;
  }();
  return *pki;
}

std::string Sha256Hex(X509* cert) {
  const int len = i2d_X509(cert, nullptr);
  EXPECT_GT(len, 0);
  std::vector<unsigned char> der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  EXPECT_EQ(i2d_X509(cert, &p), len);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  EXPECT_EQ(EVP_Digest(der.data(), der.size(), md.data(), &md_len, EVP_sha256(), nullptr), 1);
  std::string hex;
  for (unsigned int i = 0; i < md_len; ++i) {
    std::array<char, 3> b{};
    std::snprintf(b.data(), b.size(), "%02x", md[i]);
    hex += b.data();
  }
  return hex;
}

// ---- Facts ------------------------------------------------------------------------------------

TEST(ExtractCertFactsTest, RsaSelfSigned) {
  X509Ptr cert = MakeCert({.cn = "rsa.example.org", .san = "DNS:rsa.example.org"}, RsaKey(),
                          nullptr, RsaKey());
  const CertFacts f = ExtractCertFacts(cert.get());
  EXPECT_EQ(f.subject_cn, "rsa.example.org");
  EXPECT_EQ(f.issuer_cn, "rsa.example.org");
  EXPECT_EQ(f.key_type, "RSA");
  EXPECT_EQ(f.key_bits, 2048);
  EXPECT_EQ(f.signature_algorithm, "sha256WithRSAEncryption");
  EXPECT_EQ(f.serial, "1001");
  EXPECT_EQ(f.not_before, kNow - 30 * kDay);
  EXPECT_EQ(f.not_after, kNow + 60 * kDay);
  EXPECT_EQ(f.dns_names, std::vector<std::string>{"rsa.example.org"});
}

TEST(ExtractCertFactsTest, EcSelfSigned) {
  X509Ptr cert = MakeCert({.cn = "ec.example.org"}, EcKey(), nullptr, EcKey());
  const CertFacts f = ExtractCertFacts(cert.get());
  EXPECT_EQ(f.key_type, "EC");
  EXPECT_EQ(f.key_bits, 256);
  EXPECT_EQ(f.signature_algorithm, "ecdsa-with-SHA256");
  EXPECT_TRUE(f.dns_names.empty());
}

TEST(ExtractCertFactsTest, Ed25519SelfSigned) {
  X509Ptr cert = MakeCert({.cn = "ed.example.org"}, Ed25519Key(), nullptr, Ed25519Key());
  const CertFacts f = ExtractCertFacts(cert.get());
  EXPECT_EQ(f.key_type, "ED25519");
  EXPECT_EQ(f.key_bits, EVP_PKEY_get_bits(Ed25519Key()));
  EXPECT_EQ(f.key_bits, 256);  // OpenSSL 3.0's figure (1.1.1 said 253)
  EXPECT_EQ(f.signature_algorithm, "ED25519");
}

TEST(ExtractCertFactsTest, IssuedLeaf) {
  const Pki& pki = TestPki();
  const CertFacts f = ExtractCertFacts(pki.leaf.get());
  EXPECT_EQ(f.subject_cn, "mail.example.org");
  EXPECT_EQ(f.issuer_cn, "Test Intermediate");
  EXPECT_EQ(f.key_type, "EC");
  EXPECT_EQ(f.signature_algorithm, "ecdsa-with-SHA256");  // the intermediate's key signs
  EXPECT_EQ(f.dns_names, (std::vector<std::string>{"mail.example.org", "*.example.net"}));
  const CertFacts inter = ExtractCertFacts(pki.inter.get());
  EXPECT_EQ(inter.issuer_cn, "Test Root");
  EXPECT_EQ(inter.signature_algorithm, "sha256WithRSAEncryption");
}

TEST(ExtractCertFactsTest, Fingerprint) {
  const Pki& pki = TestPki();
  for (X509* cert : {pki.root.get(), pki.inter.get(), pki.leaf.get()}) {
    const CertFacts f = ExtractCertFacts(cert);
    EXPECT_EQ(f.fingerprint_sha256.size(), 64u);
    EXPECT_EQ(f.fingerprint_sha256, Sha256Hex(cert));
    EXPECT_EQ(f.fingerprint_sha256.find_first_not_of("0123456789abcdef"), std::string::npos);
  }
}

TEST(ExtractCertFactsTest, DerAndSpki) {
  const Pki& pki = TestPki();
  const CertFacts f = ExtractCertFacts(pki.leaf.get());
  ASSERT_FALSE(f.der.empty());
  ASSERT_FALSE(f.spki_der.empty());
  const unsigned char* p = f.der.data();
  X509Ptr back(d2i_X509(nullptr, &p, static_cast<long>(f.der.size())));
  ASSERT_TRUE(back) << OpenSslErrors();
  EXPECT_EQ(X509_cmp(back.get(), pki.leaf.get()), 0);
  p = f.spki_der.data();
  EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(f.spki_der.size())));
  ASSERT_TRUE(key) << OpenSslErrors();
  EXPECT_EQ(p, f.spki_der.data() + f.spki_der.size());
  EXPECT_EQ(EVP_PKEY_eq(key.get(), EcKey2()), 1);
  EXPECT_TRUE(ExtractCertFacts(nullptr).der.empty());
  EXPECT_TRUE(ExtractCertFacts(nullptr).spki_der.empty());
}

TEST(ExtractCertFactsTest, SerialHex) {
  struct Case {
    std::string in;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"0", "0"},
      {"0A", "A"},
      {"00000a", "A"},
      {"1001", "1001"},
      {"0100", "100"},
      {"deadbeef0102030405060708090a0b0c0d0e0f10", "DEADBEEF0102030405060708090A0B0C0D0E0F10"},
  };
  for (const Case& c : cases) {
    X509Ptr cert = MakeCert({.cn = "s", .serial_hex = c.in}, EcKey(), nullptr, EcKey());
    EXPECT_EQ(ExtractCertFacts(cert.get()).serial, c.want) << c.in;
  }
}

TEST(ExtractCertFactsTest, TimesOutsideUtcTimeRange) {
  // 2052 is written as GeneralizedTime, 1969 as UTCTime "69...".
  X509Ptr cert = MakeCert({.cn = "t", .not_before = -365 * kDay, .not_after = 2'600'000'000},
                          EcKey(), nullptr, EcKey());
  const CertFacts f = ExtractCertFacts(cert.get());
  EXPECT_EQ(f.not_before, -365 * kDay);
  EXPECT_EQ(f.not_after, 2'600'000'000);
}

TEST(ExtractCertFactsTest, NamesWithoutCnAndUtf8) {
  X509Ptr no_cn = MakeCert({.cn = ""}, EcKey(), nullptr, EcKey());
  EXPECT_EQ(ExtractCertFacts(no_cn.get()).subject_cn, "");
  EXPECT_EQ(ExtractCertFacts(no_cn.get()).issuer_cn, "");
  X509Ptr utf8 = MakeCert({.cn = "B\xC3\xBC"
                                 "cher"},
                          EcKey(), nullptr, EcKey());
  EXPECT_EQ(ExtractCertFacts(utf8.get()).subject_cn,
            "B\xC3\xBC"
            "cher");
}

TEST(ExtractCertFactsTest, NullCert) {
  const CertFacts f = ExtractCertFacts(nullptr);
  EXPECT_EQ(f.not_after, 0);
  EXPECT_TRUE(f.fingerprint_sha256.empty());
}

TEST(EarliestNotAfterTest, Chain) {
  const Pki& pki = TestPki();
  X509StackPtr chain = Stack({pki.root.get(), pki.leaf.get(), pki.inter.get()});
  EXPECT_EQ(EarliestNotAfter(chain.get()), kNow + 60 * kDay);
  X509StackPtr empty = Stack({});
  EXPECT_EQ(EarliestNotAfter(empty.get()), 0);
  EXPECT_EQ(EarliestNotAfter(nullptr), 0);
}

// ---- Key, signature and extension facts (CERT-06 to CERT-15) ---------------------------------

EVP_PKEY* RsaKeyOf(int bits) {
  static std::map<int, EvpPkeyPtr>* keys = new std::map<int, EvpPkeyPtr>;
  EvpPkeyPtr& key = (*keys)[bits];
  if (!key) key.reset(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  EXPECT_TRUE(key) << OpenSslErrors();
  return key.get();
}

EVP_PKEY* EcKeyOn(const char* curve) {
  static std::map<std::string, EvpPkeyPtr>* keys = new std::map<std::string, EvpPkeyPtr>;
  EvpPkeyPtr& key = (*keys)[curve];
  if (!key) key.reset(EVP_EC_gen(curve));
  EXPECT_TRUE(key) << OpenSslErrors();
  return key.get();
}

// A leaf for "key", issued by the test intermediate.
CertFacts LeafFacts(EVP_PKEY* key,
                    CertSpec spec = {.cn = "mail.example.org", .san = "DNS:mail.example.org"}) {
  X509Ptr cert = MakeCert(spec, key, TestPki().inter.get(), EcKey());
  return ExtractCertFacts(cert.get());
}

TEST(CertKeyFactsTest, RsaSizesAndExponent) {
  for (int bits : {1024, 2048, 3072}) {
    const CertFacts f = LeafFacts(RsaKeyOf(bits));
    EXPECT_EQ(f.key_type, "RSA") << bits;
    EXPECT_EQ(f.key_bits, bits);
    EXPECT_EQ(f.rsa_exponent, 65537u) << bits;
    EXPECT_EQ(f.curve, "") << bits;
  }
}

TEST(CertKeyFactsTest, RsaExponentOne) {
  // Exponent 1 (the "public key" is the identity): built from the modulus of a real key.
  BIGNUM* n = nullptr;
  ASSERT_EQ(EVP_PKEY_get_bn_param(RsaKeyOf(2048), OSSL_PKEY_PARAM_RSA_N, &n), 1);
  BignumPtr owned_n(n);
  BignumPtr e(BN_new());
  ASSERT_EQ(BN_set_word(e.get(), 1), 1);
  using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<&OSSL_PARAM_BLD_free>>;
  using ParamsPtr = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<&OSSL_PARAM_free>>;
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  ASSERT_EQ(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n), 1);
  ASSERT_EQ(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()), 1);
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  ASSERT_TRUE(ctx);
  ASSERT_EQ(EVP_PKEY_fromdata_init(ctx.get()), 1);
  EVP_PKEY* raw = nullptr;
  ASSERT_EQ(EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()), 1)
      << OpenSslErrors();
  EvpPkeyPtr key(raw);
  const CertFacts f = LeafFacts(key.get());
  EXPECT_EQ(f.key_type, "RSA");
  EXPECT_EQ(f.rsa_exponent, 1u);
}

TEST(CertKeyFactsTest, EcCurvesAndEd25519) {
  EXPECT_EQ(LeafFacts(EcKeyOn("P-256")).curve, "prime256v1");
  EXPECT_EQ(LeafFacts(EcKeyOn("P-384")).curve, "secp384r1");
  const CertFacts p224 = LeafFacts(EcKeyOn("P-224"));
  EXPECT_EQ(p224.key_type, "EC");
  EXPECT_EQ(p224.key_bits, 224);
  EXPECT_EQ(p224.curve, "secp224r1");
  EXPECT_EQ(p224.rsa_exponent, 0u);
  const CertFacts ed = LeafFacts(Ed25519Key());
  EXPECT_EQ(ed.key_type, "ED25519");
  EXPECT_EQ(ed.curve, "");
}

TEST(CertSignatureFactsTest, Hashes) {
  EXPECT_EQ(LeafFacts(EcKey2()).signature_hash, "sha256");
  CertFacts sha1 = LeafFacts(EcKey2(), {.cn = "sha1", .md = EVP_sha1()});
  EXPECT_EQ(sha1.signature_algorithm, "ecdsa-with-SHA1");
  EXPECT_EQ(sha1.signature_hash, "sha1");
  X509Ptr rsa_sha1 = MakeCert({.cn = "rsa-sha1", .md = EVP_sha1()}, RsaKey(), nullptr, RsaKey());
  const CertFacts f = ExtractCertFacts(rsa_sha1.get());
  EXPECT_EQ(f.signature_algorithm, "sha1WithRSAEncryption");
  EXPECT_EQ(f.signature_hash, "sha1");
  EXPECT_TRUE(f.self_signed) << "SHA-1 still verifies as a self-signature";
  X509Ptr sha384 = MakeCert({.cn = "sha384", .md = EVP_sha384()}, EcKey(), nullptr, EcKey());
  EXPECT_EQ(ExtractCertFacts(sha384.get()).signature_hash, "sha384");
  X509Ptr ed = MakeCert({.cn = "ed"}, Ed25519Key(), nullptr, Ed25519Key());
  EXPECT_EQ(ExtractCertFacts(ed.get()).signature_algorithm, "ED25519");
  EXPECT_EQ(ExtractCertFacts(ed.get()).signature_hash, "") << "EdDSA has no separate digest";
}

TEST(CertNameFactsTest, SubjectIssuerAndSan) {
  const Pki& pki = TestPki();
  const CertFacts leaf = ExtractCertFacts(pki.leaf.get());
  EXPECT_EQ(leaf.subject, "CN=mail.example.org,O=mailsec tests");
  EXPECT_EQ(leaf.issuer, "CN=Test Intermediate,O=mailsec tests");
  EXPECT_TRUE(leaf.has_san);
  X509Ptr utf8 = MakeCert({.cn = "B\xC3\xBC"
                                 "cher"},
                          EcKey(), nullptr, EcKey());
  EXPECT_EQ(ExtractCertFacts(utf8.get()).subject,
            "CN=B\xC3\xBC"
            "cher,O=mailsec tests");

  EXPECT_FALSE(LeafFacts(EcKey2(), {.cn = "mail.example.org"}).has_san) << "CN only";
  EXPECT_TRUE(LeafFacts(EcKey2(), {.cn = "x", .san = "IP:192.0.2.1"}).has_san);
  EXPECT_FALSE(LeafFacts(EcKey2(), {.cn = "x", .san = "email:postmaster@example.org"}).has_san)
      << "only dNSName and iPAddress count";
}

TEST(CertSelfSignedFactsTest, NamesAndSignature) {
  const Pki& pki = TestPki();
  EXPECT_TRUE(ExtractCertFacts(pki.root.get()).self_signed);
  EXPECT_FALSE(ExtractCertFacts(pki.inter.get()).self_signed);
  EXPECT_FALSE(ExtractCertFacts(pki.leaf.get()).self_signed);
  // Subject == issuer, but signed by another key: not self-signed.
  X509Ptr forged = MakeCert({.cn = "forged"}, EcKey2(), nullptr, EcKey());
  const CertFacts f = ExtractCertFacts(forged.get());
  EXPECT_EQ(f.subject, f.issuer);
  EXPECT_FALSE(f.self_signed);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(CertUsageFactsTest, EkuKeyUsageMustStaple) {
  const CertFacts server = LeafFacts(EcKey2());
  EXPECT_TRUE(server.has_eku);
  EXPECT_TRUE(server.eku_server_auth);
  EXPECT_TRUE(server.has_key_usage);
  EXPECT_EQ(server.key_usage, kKeyUsageDigitalSignature | kKeyUsageKeyEncipherment);
  EXPECT_FALSE(server.must_staple);

  const CertFacts client = LeafFacts(EcKey2(), {.cn = "c", .eku = "clientAuth"});
  EXPECT_TRUE(client.has_eku);
  EXPECT_FALSE(client.eku_server_auth);
  const CertFacts both = LeafFacts(EcKey2(), {.cn = "c", .eku = "clientAuth,serverAuth"});
  EXPECT_TRUE(both.eku_server_auth);

  X509Ptr bare = MakeCert({.cn = "bare", .role = Role::kBare}, EcKey(), nullptr, EcKey());
  const CertFacts b = ExtractCertFacts(bare.get());
  EXPECT_FALSE(b.has_eku);
  EXPECT_FALSE(b.eku_server_auth);
  EXPECT_FALSE(b.has_key_usage);
  EXPECT_EQ(b.key_usage, 0u);

  const CertFacts ca = ExtractCertFacts(TestPki().inter.get());
  EXPECT_EQ(ca.key_usage, kKeyUsageKeyCertSign | kKeyUsageCrlSign);

  EXPECT_TRUE(LeafFacts(EcKey2(), {.cn = "ms", .must_staple = true}).must_staple);
}

TEST(CertFactsFromDerTest, OneWholeCertificateOnly) {
  const Pki& pki = TestPki();
  const int len = i2d_X509(pki.leaf.get(), nullptr);
  ASSERT_GT(len, 0);
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  ASSERT_EQ(i2d_X509(pki.leaf.get(), &p), len);

  const std::optional<CertFacts> f = CertFactsFromDer(der);
  ASSERT_TRUE(f.has_value());
  const CertFacts direct = ExtractCertFacts(pki.leaf.get());
  EXPECT_EQ(f->fingerprint_sha256, direct.fingerprint_sha256);
  EXPECT_EQ(f->subject_cn, "mail.example.org");
  EXPECT_EQ(f->not_after, direct.not_after);
  EXPECT_EQ(f->der, direct.der);

  EXPECT_FALSE(CertFactsFromDer("").has_value());
  EXPECT_FALSE(CertFactsFromDer(der + "x").has_value()) << "bytes after the certificate";
  EXPECT_FALSE(CertFactsFromDer(der.substr(0, der.size() - 1)).has_value());
  EXPECT_FALSE(CertFactsFromDer("not a certificate").has_value());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(CertValidityFactsTest, TwoYears) {
  const CertFacts f = LeafFacts(
      EcKey2(), {.cn = "long", .not_before = kNow - kDay, .not_after = kNow + 729 * kDay});
  EXPECT_EQ(f.not_after - f.not_before, 730 * kDay);
}

// ---- Chain composition (CERT-13) -------------------------------------------------------------

TEST(InspectServedChainTest, ChainFactsInServedOrder) {
  const Pki& pki = TestPki();
  X509StorePtr store = StoreWith({pki.root.get()});
  TlsFacts facts;
  X509StackPtr good = Stack({pki.leaf.get(), pki.inter.get()});
  InspectServedChain(pki.leaf.get(), good.get(), store.get(), "mail.example.org", kNow, &facts);
  ASSERT_EQ(facts.chain.size(), 2u);
  EXPECT_EQ(facts.leaf->subject_cn, "mail.example.org");
  EXPECT_EQ(facts.chain[1]->subject_cn, "Test Intermediate");
  EXPECT_EQ(facts.chain[1]->key_type, "EC");
  EXPECT_EQ(facts.chain[1]->signature_hash, "sha256");
  EXPECT_EQ(facts.chain[1]->issuer_cn, "Test Root");
  // The leaf's facts, DER included, are held once: `leaf` is chain.front().
  EXPECT_TRUE(facts.leaf.SharesWith(facts.chain[0]));
  EXPECT_FALSE(facts.chain[0]->der.empty());
  EXPECT_FALSE(facts.chain[0]->spki_der.empty());
  EXPECT_EQ(
      CertFactsFromDer(std::string_view(reinterpret_cast<const char*>(facts.chain[0]->der.data()),
                                        facts.chain[0]->der.size()))
          ->fingerprint_sha256,
      facts.leaf->fingerprint_sha256);
  EXPECT_TRUE(facts.chain_in_order);
  EXPECT_FALSE(facts.chain_has_root);
  EXPECT_EQ(facts.chain_duplicates, 0);

  X509StackPtr with_root = Stack({pki.leaf.get(), pki.inter.get(), pki.root.get()});
  InspectServedChain(pki.leaf.get(), with_root.get(), store.get(), "mail.example.org", kNow,
                     &facts);
  EXPECT_EQ(facts.chain.size(), 3u);
  EXPECT_TRUE(facts.chain_in_order);
  EXPECT_TRUE(facts.chain_has_root);
  EXPECT_TRUE(facts.chain[2]->self_signed);
  EXPECT_EQ(facts.chain_duplicates, 0);

  X509StackPtr disorder = Stack({pki.leaf.get(), pki.root.get(), pki.inter.get()});
  InspectServedChain(pki.leaf.get(), disorder.get(), store.get(), "mail.example.org", kNow, &facts);
  EXPECT_FALSE(facts.chain_in_order);
  EXPECT_TRUE(facts.chain_has_root);
  EXPECT_TRUE(facts.trusted) << "OpenSSL still builds the path: order is a finding of its own";

  X509StackPtr twice = Stack({pki.leaf.get(), pki.inter.get(), pki.inter.get()});
  InspectServedChain(pki.leaf.get(), twice.get(), store.get(), "mail.example.org", kNow, &facts);
  EXPECT_TRUE(facts.chain_in_order) << "a repeat is a duplicate, not disorder";
  EXPECT_EQ(facts.chain_duplicates, 1);
  EXPECT_EQ(facts.chain_length, 3);

  // A chain handed over without the leaf gets it in front.
  X509StackPtr no_leaf = Stack({pki.inter.get()});
  InspectServedChain(pki.leaf.get(), no_leaf.get(), store.get(), "mail.example.org", kNow, &facts);
  ASSERT_EQ(facts.chain.size(), 2u);
  EXPECT_EQ(facts.leaf->subject_cn, "mail.example.org");
  EXPECT_FALSE(facts.chain[0]->der.empty());
  EXPECT_TRUE(facts.chain_in_order);

  // A self-signed leaf alone: in order, and not "a root sent" (cert_self_signed covers it).
  X509Ptr self = MakeCert({.cn = "self"}, EcKey(), nullptr, EcKey());
  InspectServedChain(self.get(), nullptr, store.get(), "self", kNow, &facts);
  ASSERT_EQ(facts.chain.size(), 1u);
  EXPECT_TRUE(facts.leaf->self_signed);
  EXPECT_TRUE(facts.chain_in_order);
  EXPECT_FALSE(facts.chain_has_root);

  InspectServedChain(nullptr, nullptr, store.get(), "self", kNow, &facts);
  EXPECT_TRUE(facts.chain.empty());
  EXPECT_FALSE(facts.chain_in_order);
}

// ---- OCSP staple -----------------------------------------------------------------------------

// A DER OCSP response with one single response about "cert" (issued by "issuer"), signed by the
// intermediate's key.
std::string OcspDer(X509* cert, X509* issuer, int status, const EVP_MD* id_md = EVP_sha1(),
                    int response_status = OCSP_RESPONSE_STATUS_SUCCESSFUL) {
  OcspResponsePtr resp;
  if (response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    resp.reset(OCSP_response_create(response_status, nullptr));
  } else {
    OcspBasicRespPtr basic(OCSP_BASICRESP_new());
    OCSP_CERTID* id = OCSP_cert_to_id(id_md, cert, issuer);  // owned by the basic response
    using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OpenSslDeleter<&ASN1_TIME_free>>;
    Asn1TimePtr now(ASN1_TIME_set(nullptr, static_cast<time_t>(kNow)));
    Asn1TimePtr next(ASN1_TIME_set(nullptr, static_cast<time_t>(kNow + 7 * kDay)));
    const bool revoked = status == V_OCSP_CERTSTATUS_REVOKED;
    EXPECT_NE(OCSP_basic_add1_status(basic.get(), id, status,
                                     revoked ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0,
                                     revoked ? now.get() : nullptr, now.get(), next.get()),
              nullptr)
        << OpenSslErrors();
    OCSP_CERTID_free(id);
    EXPECT_EQ(OCSP_basic_sign(basic.get(), TestPki().inter.get(), EcKey(), EVP_sha256(), nullptr,
                              OCSP_NOCERTS),
              1)
        << OpenSslErrors();
    resp.reset(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  }
  EXPECT_TRUE(resp) << OpenSslErrors();
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_RESPONSE(resp.get(), &der);
  EXPECT_GT(len, 0);
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(std::max(len, 0)));
  OPENSSL_free(der);
  return out;
}

TEST(OcspStapleTest, StatusOfTheLeaf) {
  const Pki& pki = TestPki();
  X509* leaf = pki.leaf.get();
  X509* inter = pki.inter.get();
  X509StackPtr chain = Stack({leaf, inter});
  EXPECT_EQ(OcspStapleStatus(OcspDer(leaf, inter, V_OCSP_CERTSTATUS_GOOD), leaf, chain.get()),
            "good");
  EXPECT_EQ(OcspStapleStatus(OcspDer(leaf, inter, V_OCSP_CERTSTATUS_REVOKED), leaf, chain.get()),
            "revoked");
  EXPECT_EQ(OcspStapleStatus(OcspDer(leaf, inter, V_OCSP_CERTSTATUS_UNKNOWN), leaf, chain.get()),
            "unknown");
  EXPECT_EQ(OcspStapleStatus(OcspDer(leaf, inter, V_OCSP_CERTSTATUS_GOOD, EVP_sha256()), leaf,
                             chain.get()),
            "good")
      << "CertID hashed with SHA-256";
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(OcspStapleTest, NothingUsable) {
  const Pki& pki = TestPki();
  X509* leaf = pki.leaf.get();
  X509* inter = pki.inter.get();
  X509StackPtr chain = Stack({leaf, inter});
  EXPECT_EQ(OcspStapleStatus("", leaf, chain.get()), "");
  EXPECT_EQ(OcspStapleStatus("\x30\x03\x0a\x01", leaf, chain.get()), "") << "truncated";
  EXPECT_EQ(OcspStapleStatus("not der at all", leaf, chain.get()), "");
  EXPECT_EQ(OcspStapleStatus(OcspDer(leaf, inter, V_OCSP_CERTSTATUS_GOOD, EVP_sha1(),
                                     OCSP_RESPONSE_STATUS_TRYLATER),
                             leaf, chain.get()),
            "")
      << "not a successful response";
  EXPECT_EQ(OcspStapleStatus(OcspDer(inter, pki.root.get(), V_OCSP_CERTSTATUS_REVOKED), leaf,
                             chain.get()),
            "")
      << "about another certificate";
  X509StackPtr leaf_only = Stack({leaf});
  EXPECT_EQ(OcspStapleStatus(OcspDer(leaf, inter, V_OCSP_CERTSTATUS_GOOD), leaf, leaf_only.get()),
            "")
      << "issuer not served: no CertID";
  EXPECT_EQ(OcspStapleStatus(OcspDer(leaf, inter, V_OCSP_CERTSTATUS_GOOD), leaf, nullptr), "");
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(OcspStapleTest, InspectSetsTheFacts) {
  const Pki& pki = TestPki();
  X509StackPtr chain = Stack({pki.leaf.get(), pki.inter.get()});
  TlsFacts facts;
  InspectOcspStaple(OcspDer(pki.leaf.get(), pki.inter.get(), V_OCSP_CERTSTATUS_REVOKED),
                    pki.leaf.get(), chain.get(), &facts);
  EXPECT_TRUE(facts.ocsp_stapled);
  EXPECT_EQ(facts.ocsp_staple_status, "revoked");
  EXPECT_TRUE(facts.revoked);
  InspectOcspStaple("garbage", pki.leaf.get(), chain.get(), &facts);
  EXPECT_TRUE(facts.ocsp_stapled);
  EXPECT_EQ(facts.ocsp_staple_status, "");
  EXPECT_FALSE(facts.revoked);
  InspectOcspStaple("", pki.leaf.get(), chain.get(), &facts);
  EXPECT_FALSE(facts.ocsp_stapled);
  EXPECT_EQ(facts.ocsp_staple_status, "");
}

// ---- Verification -----------------------------------------------------------------------------

TEST(VerifyChainTest, Ok) {
  const Pki& pki = TestPki();
  X509StorePtr store = StoreWith({pki.root.get()});
  X509StackPtr chain = Stack({pki.leaf.get(), pki.inter.get()});
  const VerifyOutcome v = VerifyChain(pki.leaf.get(), chain.get(), store.get(), kNow);
  EXPECT_TRUE(v.trusted);
  EXPECT_EQ(v.code, X509_V_OK);
  EXPECT_EQ(v.name, "ok");
}

TEST(VerifyChainTest, ExpiredAndNotYetValidAtTheGivenTime) {
  const Pki& pki = TestPki();
  X509StorePtr store = StoreWith({pki.root.get()});
  X509StackPtr chain = Stack({pki.leaf.get(), pki.inter.get()});

  VerifyOutcome v = VerifyChain(pki.leaf.get(), chain.get(), store.get(), kNow + 61 * kDay);
  EXPECT_FALSE(v.trusted);
  EXPECT_EQ(v.code, X509_V_ERR_CERT_HAS_EXPIRED);
  EXPECT_EQ(v.name, "expired");

  v = VerifyChain(pki.leaf.get(), chain.get(), store.get(), kNow - 31 * kDay);
  EXPECT_FALSE(v.trusted);
  EXPECT_EQ(v.code, X509_V_ERR_CERT_NOT_YET_VALID);
  EXPECT_EQ(v.name, "not_yet_valid");

  // The time is the context's, not the store's: the same store still says ok at kNow.
  EXPECT_TRUE(VerifyChain(pki.leaf.get(), chain.get(), store.get(), kNow).trusted);
}

TEST(VerifyChainTest, StableUntilTheNextValidityBound) {
  const Pki& pki = TestPki();
  X509StorePtr store = StoreWith({pki.root.get()});
  X509StackPtr chain = Stack({pki.leaf.get(), pki.inter.get()});
  // The leaf's notAfter (kNow + 60 days) is the first bound of the leaf, intermediate and root.
  EXPECT_EQ(VerifyChain(pki.leaf.get(), chain.get(), store.get(), kNow).stable_until,
            kNow + 60 * kDay);
  // Before the leaf's notBefore, that is the next bound.
  EXPECT_EQ(VerifyChain(pki.leaf.get(), chain.get(), store.get(), kNow - 31 * kDay).stable_until,
            kNow - 30 * kDay);
  // Expired: the intermediate's notAfter comes next.
  EXPECT_EQ(VerifyChain(pki.leaf.get(), chain.get(), store.get(), kNow + 61 * kDay).stable_until,
            kNow + 365 * kDay);
}

TEST(VerifyCacheTest, ReusesAnOutcomeWithinItsWindowOnly) {
  const Pki& pki = TestPki();
  X509StorePtr store = StoreWith({pki.root.get()});
  X509StackPtr chain = Stack({pki.leaf.get(), pki.inter.get()});
  VerifyCache cache(/*capacity=*/8, /*max_age_seconds=*/300);

  VerifyOutcome v = cache.Verify(pki.leaf.get(), chain.get(), store.get(), kNow);
  EXPECT_TRUE(v.trusted);
  EXPECT_EQ(cache.hits(), 0u);
  v = cache.Verify(pki.leaf.get(), chain.get(), store.get(), kNow + 299);
  EXPECT_TRUE(v.trusted);
  EXPECT_EQ(v.name, "ok");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.size(), 1u);

  // Past max_age, and before the instant it was computed: verified again.
  EXPECT_TRUE(cache.Verify(pki.leaf.get(), chain.get(), store.get(), kNow + 300).trusted);
  EXPECT_TRUE(cache.Verify(pki.leaf.get(), chain.get(), store.get(), kNow - 1).trusted);
  EXPECT_EQ(cache.hits(), 1u);

  // Never across a validity bound: one second before the leaf's notAfter it is trusted (and
  // cached), at notAfter it is expired (OpenSSL's rule), however young the entry.
  EXPECT_TRUE(cache.Verify(pki.leaf.get(), chain.get(), store.get(), kNow + 60 * kDay - 1).trusted);
  v = cache.Verify(pki.leaf.get(), chain.get(), store.get(), kNow + 60 * kDay);
  EXPECT_FALSE(v.trusted);
  EXPECT_EQ(v.name, "expired");
  EXPECT_EQ(cache.hits(), 1u);

  // Another chain (without the intermediate) is another entry with its own outcome.
  v = cache.Verify(pki.leaf.get(), nullptr, store.get(), kNow);
  EXPECT_EQ(v.name, "missing_intermediate");
  v = cache.Verify(pki.leaf.get(), nullptr, store.get(), kNow + 1);
  EXPECT_EQ(v.name, "missing_intermediate");
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(VerifyCacheTest, BoundedInEntries) {
  const Pki& pki = TestPki();
  X509StorePtr store = StoreWith({pki.root.get()});
  VerifyCache cache(/*capacity=*/2, /*max_age_seconds=*/300);
  std::vector<X509Ptr> leaves;
  for (int i = 0; i < 5; ++i) {
    leaves.push_back(MakeCert({.cn = "n" + std::to_string(i)}, EcKey2(), pki.inter.get(), EcKey()));
    X509StackPtr chain = Stack({leaves.back().get(), pki.inter.get()});
    EXPECT_TRUE(cache.Verify(leaves.back().get(), chain.get(), store.get(), kNow).trusted);
    EXPECT_LE(cache.size(), 2u);
  }
  EXPECT_EQ(cache.hits(), 0u);
}

TEST(InspectServedChainTest, VerifiesThroughTheCacheWhenGivenOne) {
  const Pki& pki = TestPki();
  X509StorePtr store = StoreWith({pki.root.get()});
  X509StackPtr chain = Stack({pki.leaf.get(), pki.inter.get()});
  VerifyCache cache;
  TlsFacts a;
  TlsFacts b;
  InspectServedChain(pki.leaf.get(), chain.get(), store.get(), "mail.example.org", kNow, &a,
                     &cache);
  InspectServedChain(pki.leaf.get(), chain.get(), store.get(), "other.example.org", kNow + 1, &b,
                     &cache);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_TRUE(a.trusted);
  EXPECT_TRUE(b.trusted);
  EXPECT_EQ(b.verify_result, "ok");
  EXPECT_TRUE(a.hostname_match);
  EXPECT_FALSE(b.hostname_match) << "the host name is matched per probe, never cached";
}

TEST(CertFactsCacheTest, SharedFactsAreTheExtractedOnesAndBounded) {
  const Pki& pki = TestPki();
  CertFactsCache cache(2);
  const CertFacts direct = ExtractCertFacts(pki.leaf.get());
  const CertRef first = cache.Get(pki.leaf.get());
  const CertRef again = cache.Get(pki.leaf.get());
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_TRUE(first.SharesWith(again)) << "one copy for every holder";
  EXPECT_EQ(first->fingerprint_sha256, direct.fingerprint_sha256);
  EXPECT_EQ(first->subject, direct.subject);
  EXPECT_EQ(first->serial, direct.serial);
  EXPECT_EQ(first->dns_names, direct.dns_names);
  EXPECT_EQ(first->not_after, direct.not_after);
  EXPECT_EQ(first->key_usage, direct.key_usage);
  EXPECT_EQ(first->der, direct.der);
  EXPECT_EQ(first->spki_der, direct.spki_der);
  // Another certificate is another entry (which no one holds once this statement ends).
  EXPECT_EQ(cache.Get(pki.inter.get())->subject_cn, "Test Intermediate");
  EXPECT_EQ(cache.size(), 2u);
  // Full: the entry no one holds goes, the held leaf stays.
  const CertRef root = cache.Get(pki.root.get());
  EXPECT_EQ(root->subject_cn, "Test Root");
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.Get(pki.leaf.get()).SharesWith(first));
  EXPECT_EQ(cache.hits(), 2u);
  // Full, and every entry held: all of them go.
  EXPECT_EQ(cache.Get(pki.inter.get())->subject_cn, "Test Intermediate");
  EXPECT_EQ(cache.size(), 1u);
  const CertRef later = cache.Get(pki.leaf.get());
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_FALSE(later.SharesWith(first));
  EXPECT_EQ(later->fingerprint_sha256, direct.fingerprint_sha256);
  EXPECT_EQ(first->fingerprint_sha256, direct.fingerprint_sha256) << "held facts stay";
  EXPECT_EQ(cache.Get(nullptr)->fingerprint_sha256, "");
}

TEST(CertRefTest, EmptyByDefaultAndEditCopiesOnWrite) {
  CertRef none;
  EXPECT_EQ(none->fingerprint_sha256, "");
  EXPECT_EQ((*none).not_after, 0);
  EXPECT_FALSE(none.SharesWith(CertRef()));
  CertFacts f;
  f.subject_cn = "a";
  CertRef a = f;
  CertRef b = a;
  EXPECT_TRUE(a.SharesWith(b));
  b.Edit().subject_cn = "b";  // b was shared: it gets a copy of its own first
  EXPECT_EQ(a->subject_cn, "a");
  EXPECT_EQ(b->subject_cn, "b");
  EXPECT_FALSE(a.SharesWith(b));
  const CertFacts* mine = &*b;
  b.Edit().subject_cn = "c";  // b's own: changed in place
  EXPECT_EQ(&*b, mine);
  EXPECT_EQ(b->subject_cn, "c");
  none.Edit().subject_cn = "d";  // the empty facts are never written
  EXPECT_EQ(none->subject_cn, "d");
  EXPECT_EQ(CertRef()->subject_cn, "");
}

TEST(InspectServedChainTest, FactsThroughTheCacheAreTheSame) {
  const Pki& pki = TestPki();
  X509StorePtr store = StoreWith({pki.root.get()});
  X509StackPtr chain = Stack({pki.leaf.get(), pki.inter.get()});
  CertFactsCache cache;
  TlsFacts plain;
  TlsFacts cached[2];
  InspectServedChain(pki.leaf.get(), chain.get(), store.get(), "mail.example.org", kNow, &plain);
  for (TlsFacts& c : cached) {
    InspectServedChain(pki.leaf.get(), chain.get(), store.get(), "mail.example.org", kNow, &c,
                       nullptr, &cache);
  }
  EXPECT_EQ(cache.hits(), 2u);  // the leaf and the intermediate, the second time
  const TlsFacts& t = cached[1];
  EXPECT_EQ(t.leaf->fingerprint_sha256, plain.leaf->fingerprint_sha256);
  EXPECT_EQ(t.leaf->subject, plain.leaf->subject);
  ASSERT_EQ(t.chain.size(), 2u);
  EXPECT_TRUE(t.leaf.SharesWith(t.chain[0])) << "the leaf's facts are held once";
  EXPECT_EQ(t.chain[0]->der, plain.chain[0]->der);
  EXPECT_EQ(t.chain[1]->subject_cn, "Test Intermediate");
  EXPECT_TRUE(t.leaf.SharesWith(cached[0].leaf)) << "and once for every probe served it";
  EXPECT_TRUE(t.chain[1].SharesWith(cached[0].chain[1]));
  EXPECT_EQ(t.chain_in_order, plain.chain_in_order);
  EXPECT_TRUE(t.trusted);
}

TEST(VerifyChainTest, SelfSignedLeaf) {
  X509Ptr self =
      MakeCert({.cn = "self.example.org", .san = "DNS:self.example.org", .role = Role::kBare},
               EcKey(), nullptr, EcKey());
  X509StorePtr store = StoreWith({TestPki().root.get()});
  VerifyOutcome v = VerifyChain(self.get(), nullptr, store.get(), kNow);
  EXPECT_FALSE(v.trusted);
  EXPECT_EQ(v.code, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  EXPECT_EQ(v.name, "self_signed");

  // Untrusted and expired: the trust problem comes first in OpenSSL's order.
  v = VerifyChain(self.get(), nullptr, store.get(), kNow + 365 * kDay);
  EXPECT_FALSE(v.trusted);
  EXPECT_EQ(v.name, "self_signed");
}

TEST(VerifyChainTest, UntrustedRoot) {
  const Pki& pki = TestPki();
  X509StorePtr empty = StoreWith({});
  X509StackPtr chain = Stack({pki.leaf.get(), pki.inter.get(), pki.root.get()});
  const VerifyOutcome v = VerifyChain(pki.leaf.get(), chain.get(), empty.get(), kNow);
  EXPECT_FALSE(v.trusted);
  EXPECT_EQ(v.code, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
  EXPECT_EQ(v.name, "untrusted_root");
}

TEST(VerifyChainTest, MissingIntermediate) {
  const Pki& pki = TestPki();
  X509StorePtr store = StoreWith({pki.root.get()});
  X509StackPtr chain = Stack({pki.leaf.get()});
  VerifyOutcome v = VerifyChain(pki.leaf.get(), chain.get(), store.get(), kNow);
  EXPECT_FALSE(v.trusted);
  EXPECT_EQ(v.code, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(v.name, "missing_intermediate");

  v = VerifyChain(pki.leaf.get(), nullptr, store.get(), kNow);
  EXPECT_EQ(v.name, "missing_intermediate");
}

TEST(VerifyChainTest, WrongPurpose) {
  const Pki& pki = TestPki();
  X509Ptr client =
      MakeCert({.cn = "client", .eku = "clientAuth"}, EcKey2(), pki.inter.get(), EcKey());
  X509StorePtr store = StoreWith({pki.root.get()});
  X509StackPtr chain = Stack({client.get(), pki.inter.get()});
  const VerifyOutcome v = VerifyChain(client.get(), chain.get(), store.get(), kNow);
  EXPECT_FALSE(v.trusted);
  EXPECT_EQ(v.name, "invalid_purpose");
}

TEST(VerifyResultNameTest, ClosedSet) {
  EXPECT_EQ(VerifyResultName(X509_V_OK), "ok");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_CERT_HAS_EXPIRED), "expired");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_CERT_NOT_YET_VALID), "not_yet_valid");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT), "self_signed");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN), "untrusted_root");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY), "missing_intermediate");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT), "missing_intermediate");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE), "missing_intermediate");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_CERT_REVOKED), "revoked");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_CERT_SIGNATURE_FAILURE), "bad_signature");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_INVALID_PURPOSE), "invalid_purpose");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_CERT_UNTRUSTED), "untrusted");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_CERT_REJECTED), "untrusted");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_INVALID_CA), "invalid_ca");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_EE_KEY_TOO_SMALL), "weak_key");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_CA_KEY_TOO_SMALL), "weak_key");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_CA_MD_TOO_WEAK), "weak_key");
  EXPECT_EQ(VerifyResultName(X509_V_ERR_HOSTNAME_MISMATCH), "other");
  EXPECT_EQ(VerifyResultName(-12345), "other");
}

// ---- Host names -------------------------------------------------------------------------------

TEST(DnsNameMatchesTest, Table) {
  struct Case {
    std::string pattern;
    std::string host;
    bool want;
  };
  const std::vector<Case> cases = {
      {"mail.example.org", "mail.example.org", true},
      {"MAIL.Example.ORG", "mail.example.org", true},
      {"mail.example.org", "Mail.EXAMPLE.org", true},
      {"mail.example.org", "mail.example.org.", true},
      {"mail.example.org.", "mail.example.org", true},
      {"mail.example.org", "mail.example.org..", false},
      {"mail.example.org", "mail..example.org", false},
      {"mail.example.org", "example.org", false},
      {"mail.example.org", "xmail.example.org", false},
      {"mail.example.org", "mail.example.org.evil", false},
      {"xn--bcher-kva.example", "XN--BCHER-KVA.example", true},
      {"*.example.org", "a.example.org", true},
      {"*.example.org", "A.EXAMPLE.ORG.", true},
      {"*.example.org", "example.org", false},
      {"*.example.org", "a.b.example.org", false},
      {"*.example.org", ".example.org", false},
      {"*.example.org", "*.example.org", false},
      {"f*.example.org", "foo.example.org", false},
      {"*o.example.org", "foo.example.org", false},
      {"f*o.example.org", "foo.example.org", false},
      {"*.*.org", "a.example.org", false},
      {"a.*.org", "a.example.org", false},
      {"a.example.*", "a.example.org", false},
      {"*.org", "example.org", false},
      {"*", "org", false},
      {"*.", "org", false},
      {"", "example.org", false},
      {"example.org", "", false},
      {".", ".", false},
      {std::string("mail.example.org\0.evil.net", 26), "mail.example.org", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DnsNameMatches(c.pattern, c.host), c.want)
        << "pattern=" << c.pattern << " host=" << c.host;
  }
}

std::string V4(const char* text) {
  std::array<unsigned char, 4> b{};
  EXPECT_EQ(inet_pton(AF_INET, text, b.data()), 1);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string V6(const char* text) {
  std::array<unsigned char, 16> b{};
  EXPECT_EQ(inet_pton(AF_INET6, text, b.data()), 1);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

TEST(HostnameMatchesNamesTest, Table) {
  const PresentedNames san{.dns_names = {"mail.example.org", "*.example.net", "192.0.2.9"},
                           .ip_addresses = {V4("192.0.2.1"), V6("2001:db8::1")},
                           .has_san = true,
                           .common_name = "cn.example.org"};
  const PresentedNames cn_only{.common_name = "cn.example.org"};
  const PresentedNames cn_wildcard{.common_name = "*.example.org"};
  const PresentedNames ip_san_only{
      .ip_addresses = {V4("192.0.2.1")}, .has_san = true, .common_name = "cn.example.org"};

  struct Case {
    const PresentedNames* names;
    std::string host;
    bool want;
  };
  const std::vector<Case> cases = {
      {&san, "mail.example.org", true},
      {&san, "MAIL.example.org.", true},
      {&san, "x.example.net", true},
      {&san, "example.net", false},
      {&san, "cn.example.org", false},  // a SAN dNSName exists: the CN is ignored
      {&san, "192.0.2.1", true},
      {&san, "192.0.2.2", false},
      {&san, "192.0.2.9", false},  // an IP host never matches a dNSName
      {&san, "2001:db8::1", true},
      {&san, "2001:DB8:0:0::1", true},
      {&san, "[2001:db8::1]", true},
      {&san, "::1", false},
      {&san, "::ffff:192.0.2.1", false},  // bytes differ from the 4-byte entry
      {&cn_only, "cn.example.org", true},
      {&cn_only, "CN.Example.org.", true},
      {&cn_only, "other.example.org", false},
      {&cn_only, "192.0.2.1", false},
      {&cn_wildcard, "a.example.org", true},
      {&cn_wildcard, "example.org", false},
      {&ip_san_only, "cn.example.org", false},  // some SAN exists: no CN fallback
      {&ip_san_only, "192.0.2.1", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(HostnameMatchesNames(*c.names, c.host), c.want) << c.host;
  }
}

TEST(HostnameMatchesTest, FromCertificates) {
  const Pki& pki = TestPki();
  EXPECT_TRUE(HostnameMatches(pki.leaf.get(), "mail.example.org"));
  EXPECT_TRUE(HostnameMatches(pki.leaf.get(), "smtp.example.net"));
  EXPECT_TRUE(HostnameMatches(pki.leaf.get(), "192.0.2.1"));
  EXPECT_TRUE(HostnameMatches(pki.leaf.get(), "2001:db8::1"));
  EXPECT_FALSE(HostnameMatches(pki.leaf.get(), "192.0.2.2"));
  EXPECT_FALSE(HostnameMatches(pki.leaf.get(), "imap.example.org"));

  const PresentedNames names = ExtractPresentedNames(pki.leaf.get());
  EXPECT_TRUE(names.has_san);
  EXPECT_EQ(names.ip_addresses, (std::vector<std::string>{V4("192.0.2.1"), V6("2001:db8::1")}));
  EXPECT_EQ(names.common_name, "mail.example.org");

  X509Ptr legacy = MakeCert({.cn = "legacy.example.org"}, EcKey(), nullptr, EcKey());
  EXPECT_TRUE(HostnameMatches(legacy.get(), "legacy.example.org"));
  X509Ptr ip_only =
      MakeCert({.cn = "legacy.example.org", .san = "IP:192.0.2.7"}, EcKey(), nullptr, EcKey());
  EXPECT_FALSE(HostnameMatches(ip_only.get(), "legacy.example.org"));
  EXPECT_TRUE(HostnameMatches(ip_only.get(), "192.0.2.7"));
  EXPECT_FALSE(HostnameMatches(nullptr, "legacy.example.org"));
}

// ---- Trust store ------------------------------------------------------------------------------

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "inspect_test_" + std::to_string(getpid()) + "_" + name;
}

TEST(LoadTrustStoreTest, MissingFile) {
  const std::string path = TempPath("does_not_exist.pem");
  const Result<X509StorePtr> r = LoadTrustStore(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIoError);
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(LoadTrustStoreTest, FileWithoutCertificate) {
  const std::string path = TempPath("garbage.pem");
  std::ofstream(path) << "not a certificate\n";
  const Result<X509StorePtr> r = LoadTrustStore(path);
  std::remove(path.c_str());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
}

TEST(LoadTrustStoreTest, PemBundle) {
  const Pki& pki = TestPki();
  const std::string path = TempPath("bundle.pem");
  {
    BioPtr out(BIO_new_file(path.c_str(), "w"));
    ASSERT_TRUE(out) << OpenSslErrors();
    ASSERT_EQ(PEM_write_bio_X509(out.get(), pki.root.get()), 1);
  }
  Result<X509StorePtr> r = LoadTrustStore(path);
  std::remove(path.c_str());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  X509StackPtr chain = Stack({pki.leaf.get(), pki.inter.get()});
  EXPECT_EQ(VerifyChain(pki.leaf.get(), chain.get(), r->get(), kNow).name, "ok");
}

TEST(LoadTrustStoreTest, SystemDefault) {
  const Result<X509StorePtr> r = LoadTrustStore("");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->get(), nullptr);
}

// ---- The rest ---------------------------------------------------------------------------------

TEST(OpenSslErrorsTest, DrainsTheQueue) {
  ERR_clear_error();
  EXPECT_EQ(OpenSslErrors(), "no OpenSSL error reported");
  ERR_raise(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE);
  ERR_raise_data(ERR_LIB_PEM, PEM_R_NO_START_LINE, "file %s", "x.pem");
  const std::string text = OpenSslErrors();
  EXPECT_NE(text.find("; "), std::string::npos) << text;
  EXPECT_NE(text.find("(file x.pem)"), std::string::npos) << text;
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(InspectServedChainTest, FillsTheCertificatePart) {
  const Pki& pki = TestPki();
  X509StorePtr store = StoreWith({pki.root.get()});
  X509StackPtr chain = Stack({pki.leaf.get(), pki.inter.get()});
  TlsFacts facts;
  InspectServedChain(pki.leaf.get(), chain.get(), store.get(), "mail.example.org", kNow, &facts);
  EXPECT_TRUE(facts.has_leaf);
  EXPECT_EQ(facts.leaf->subject_cn, "mail.example.org");
  EXPECT_EQ(facts.chain_length, 2);
  EXPECT_EQ(facts.chain_not_after, kNow + 60 * kDay);
  EXPECT_TRUE(facts.trusted);
  EXPECT_EQ(facts.verify_result, "ok");
  EXPECT_EQ(facts.verify_code, X509_V_OK);
  EXPECT_TRUE(facts.hostname_match);

  InspectServedChain(pki.leaf.get(), nullptr, store.get(), "imap.example.org", kNow, &facts);
  EXPECT_EQ(facts.chain_length, 1);
  EXPECT_FALSE(facts.trusted);
  EXPECT_EQ(facts.verify_result, "missing_intermediate");
  EXPECT_FALSE(facts.hostname_match);

  InspectServedChain(nullptr, nullptr, store.get(), "mail.example.org", kNow, &facts);
  EXPECT_FALSE(facts.has_leaf);
  EXPECT_EQ(facts.verify_result, "");
  EXPECT_FALSE(facts.trusted);
}

}  // namespace
}  // namespace mailsec::tls
