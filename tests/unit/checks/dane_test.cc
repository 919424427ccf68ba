#include "mailsec/checks/dane.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "unit/checks/checks_test_util.h"

namespace mailsec::checks {
namespace {

// ---- Certificates made with OpenSSL ----------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

// A certificate named `cn`, for `key`, signed by `issuer_key` under `issuer_cn`.
X509Ptr MakeCert(const char* cn, EVP_PKEY* key, const char* issuer_cn, EVP_PKEY* issuer_key,
                 long serial) {
  X509Ptr x(X509_new());
  EXPECT_EQ(X509_set_version(x.get(), X509_VERSION_3), 1);
  EXPECT_EQ(ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial), 1);
  EXPECT_NE(X509_gmtime_adj(X509_getm_notBefore(x.get()), 0), nullptr);
  EXPECT_NE(X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400L * 90), nullptr);
  auto set_cn = [](X509_NAME* n, const char* v) {
    EXPECT_EQ(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                                         reinterpret_cast<const unsigned char*>(v), -1, -1, 0),
              1);
  };
  set_cn(X509_get_subject_name(x.get()), cn);
  set_cn(X509_get_issuer_name(x.get()), issuer_cn);
  EXPECT_EQ(X509_set_pubkey(x.get(), key), 1);
  EXPECT_GT(X509_sign(x.get(), issuer_key, EVP_sha256()), 0);
  return x;
}

std::vector<uint8_t> CertDer(X509* x) {
  const int len = i2d_X509(x, nullptr);
  EXPECT_GT(len, 0);
  std::vector<uint8_t> der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  EXPECT_EQ(i2d_X509(x, &p), len);
  return der;
}

std::vector<uint8_t> SpkiDer(X509* x) {
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), nullptr);
  EXPECT_GT(len, 0);
  std::vector<uint8_t> der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  EXPECT_EQ(i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &p), len);
  return der;
}

std::vector<uint8_t> Digest(const EVP_MD* md, const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(in.data(), in.size(), out.data(), &len, md, nullptr), 1);
  out.resize(len);
  return out;
}

// A CA (EC P-256, self-signed) issuing a leaf (EC P-256), and an unrelated self-signed
// certificate; keys and certificates are made once for every test.
struct Pki {
  PkeyPtr ca_key, leaf_key, other_key;
  X509Ptr ca, leaf, other;
  DaneChainCert ca_cert, leaf_cert, other_cert;
};

DaneChainCert ChainCert(X509* x) { return DaneChainCert{CertDer(x), SpkiDer(x)}; }

const Pki& TestPki() {
  static const Pki* pki = [] {
    auto* p = new Pki;
    p->ca_key.reset(EVP_EC_gen("P-256"));
    p->leaf_key.reset(EVP_EC_gen("P-256"));
    p->other_key.reset(EVP_EC_gen("P-256"));
    p->ca = MakeCert("Test CA", p->ca_key.get(), "Test CA", p->ca_key.get(), 1);
    p->leaf = MakeCert("mx.example.org", p->leaf_key.get(), "Test CA", p->ca_key.get(), 2);
    p->other = MakeCert("other", p->other_key.get(), "other", p->other_key.get(), 3);
    p->ca_cert = ChainCert(p->ca.get());
    p->leaf_cert = ChainCert(p->leaf.get());
    p->other_cert = ChainCert(p->other.get());
    return p;
  }();
  return *pki;
}

// A record `u s m` over `cert` with the real digest (or the bytes for m = 0).
TlsaRecord Tlsa(uint8_t u, uint8_t s, uint8_t m, const DaneChainCert& cert) {
  const std::vector<uint8_t>& bytes = s == 0 ? cert.der : cert.spki_der;
  std::vector<uint8_t> data = m == 0   ? bytes
                              : m == 1 ? Digest(EVP_sha256(), bytes)
                                       : Digest(EVP_sha512(), bytes);
  return TlsaRecord{u, s, m, std::move(data)};
}

TlsaRecord Leaf(uint8_t u, uint8_t s, uint8_t m) { return Tlsa(u, s, m, TestPki().leaf_cert); }
TlsaRecord Ca(uint8_t u, uint8_t s, uint8_t m) { return Tlsa(u, s, m, TestPki().ca_cert); }
TlsaRecord Other(uint8_t u, uint8_t s, uint8_t m) { return Tlsa(u, s, m, TestPki().other_cert); }

TlsaRecord Truncated(TlsaRecord r) {
  r.data.pop_back();
  return r;
}

std::vector<DaneChainCert> LeafAndCa() { return {TestPki().leaf_cert, TestPki().ca_cert}; }

// ---- TlsaMatches -----------------------------------------------------------------------------

TEST(TlsaMatchesTest, RealDigests) {
  const Pki& p = TestPki();
  for (uint8_t s = 0; s <= 1; ++s) {
    for (uint8_t m = 0; m <= 2; ++m) {
      SCOPED_TRACE(std::to_string(s) + " " + std::to_string(m));
      EXPECT_TRUE(TlsaMatches(Leaf(3, s, m), p.leaf_cert));
      EXPECT_FALSE(TlsaMatches(Leaf(3, s, m), p.ca_cert));
      EXPECT_FALSE(TlsaMatches(Other(3, s, m), p.leaf_cert));
    }
  }
  // The SPKI digest under selector 0 (and the reverse) does not match.
  TlsaRecord wrong_selector = Leaf(3, 1, 1);
  wrong_selector.selector = 0;
  EXPECT_FALSE(TlsaMatches(wrong_selector, p.leaf_cert));
  TlsaRecord wrong_matching = Leaf(3, 1, 1);
  wrong_matching.matching_type = 2;  // a 32-byte value as SHA-512
  EXPECT_FALSE(TlsaMatches(wrong_matching, p.leaf_cert));
  EXPECT_FALSE(TlsaMatches(Truncated(Leaf(3, 1, 1)), p.leaf_cert));
  TlsaRecord unknown = Leaf(3, 1, 1);
  unknown.selector = 2;
  EXPECT_FALSE(TlsaMatches(unknown, p.leaf_cert));
  unknown = Leaf(3, 1, 1);
  unknown.matching_type = 3;
  EXPECT_FALSE(TlsaMatches(unknown, p.leaf_cert));
  // Usage is not looked at; empty certificate bytes never match.
  EXPECT_TRUE(TlsaMatches(Leaf(0, 1, 1), p.leaf_cert));
  EXPECT_FALSE(TlsaMatches(TlsaRecord{3, 0, 0, {}}, DaneChainCert{}));
}

// ---- AssessDane ------------------------------------------------------------------------------

struct DaneCase {
  const char* name;
  DaneInputs in;
  bool present, usable, match;
  // nullopt: no such finding.
  std::optional<CheckVerdict> tlsa_present, dane_match, parameters, rollover;
  std::string detail;  // substring of some finding's detail
};

class DaneAssessTest : public ::testing::TestWithParam<DaneCase> {};

void ExpectFinding(const DaneAssessment& a, std::string_view id, std::optional<CheckVerdict> v) {
  if (v) {
    ExpectVerdict(a, id, *v);
  } else {
    const Finding* f = Find(a, id);
    EXPECT_EQ(f, nullptr) << id << ": " << (f ? f->detail : "");
  }
}

TEST_P(DaneAssessTest, Verdicts) {
  const DaneCase& c = GetParam();
  const DaneAssessment a = AssessDane(c.in);
  EXPECT_EQ(a.present, c.present);
  EXPECT_EQ(a.usable, c.usable);
  EXPECT_EQ(a.match, c.match);
  ExpectFinding(a, kDaneTlsaPresentCheck, c.tlsa_present);
  ExpectFinding(a, kDaneMatchCheck, c.dane_match);
  ExpectFinding(a, kDaneParametersCheck, c.parameters);
  ExpectFinding(a, kDaneRolloverCheck, c.rollover);
  if (!c.detail.empty()) {
    EXPECT_TRUE(std::any_of(a.findings.begin(), a.findings.end(), [&](const Finding& f) {
      return f.detail.find(c.detail) != std::string::npos;
    })) << c.detail;
  }
  const auto& ids = DaneCheckIds();
  for (const Finding& f : a.findings) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), f.check), ids.end()) << f.check;
  }
}

constexpr auto kPass = CheckVerdict::kPass;
constexpr auto kWarn = CheckVerdict::kWarn;
constexpr auto kFail = CheckVerdict::kFail;
constexpr auto kError = CheckVerdict::kError;
constexpr std::nullopt_t kNone = std::nullopt;

// Secure SMTP answer with `tlsa` and the leaf + CA chain, leaf naming the host.
DaneInputs Smtp(std::vector<TlsaRecord> tlsa) {
  return DaneInputs{.smtp = true,
                    .tlsa_status = Status::Ok(),
                    .tlsa_secure = true,
                    .tlsa = std::move(tlsa),
                    .chain = LeafAndCa(),
                    .hostname_match = true};
}

DaneInputs With(DaneInputs in, void (*edit)(DaneInputs*)) {
  edit(&in);
  return in;
}

INSTANTIATE_TEST_SUITE_P(
    Table, DaneAssessTest,
    ::testing::Values(
        // name, inputs, present, usable, match, tlsa_present, match, parameters, rollover
        DaneCase{"ee_spki_sha256", Smtp({Leaf(3, 1, 1)}), true, true, true, kPass, kPass, kPass,
                 kWarn, "3 1 1"},
        DaneCase{"ee_spki_sha512", Smtp({Leaf(3, 1, 2)}), true, true, true, kPass, kPass, kPass,
                 kWarn, ""},
        DaneCase{"ee_cert_sha256", Smtp({Leaf(3, 0, 1)}), true, true, true, kPass, kPass, kWarn,
                 kWarn, "breaks on every renewal"},
        DaneCase{"ee_full_spki", Smtp({Leaf(3, 1, 0)}), true, true, true, kPass, kPass, kWarn,
                 kWarn, "full data"},
        DaneCase{"mismatch", Smtp({Other(3, 1, 1)}), true, true, false, kPass, kFail, kPass, kWarn,
                 "no usable TLSA record matches"},
        DaneCase{"wrong_selector", Smtp({[] {
                   TlsaRecord r = Leaf(3, 1, 1);
                   r.selector = 0;  // SPKI digest published as a certificate digest
                   return r;
                 }()}),
                 true, true, false, kPass, kFail, kWarn, kWarn, ""},
        DaneCase{"digest_31_bytes", Smtp({Truncated(Leaf(3, 1, 1))}), true, false, false, kWarn,
                 kNone, kFail, kNone, "31-byte data is wrong for matching type 1"},
        DaneCase{"digest_31_bytes_next_to_good", Smtp({Leaf(3, 1, 1), Truncated(Other(3, 1, 1))}),
                 true, true, true, kPass, kPass, kFail, kWarn, ""},
        DaneCase{"ta_issuer", Smtp({Ca(2, 1, 1)}), true, true, true, kPass, kPass, kPass, kWarn,
                 "matches a served issuer"},
        DaneCase{"ta_issuer_hostname_mismatch",
                 With(Smtp({Ca(2, 0, 1)}), [](DaneInputs* in) { in->hostname_match = false; }),
                 true, true, false, kPass, kFail, kPass, kWarn, "does not name the host"},
        DaneCase{"ta_on_leaf_only", Smtp({Leaf(2, 1, 1)}), true, true, false, kPass, kFail, kPass,
                 kWarn, "trust-anchor certificate must be served"},
        DaneCase{
            "ta_not_served",
            With(Smtp({Ca(2, 1, 1)}), [](DaneInputs* in) { in->chain = {TestPki().leaf_cert}; }),
            true, true, false, kPass, kFail, kPass, kWarn, "must be served"},
        DaneCase{"ee_beats_ta_hostname",
                 With(Smtp({Leaf(3, 1, 1), Ca(2, 1, 1)}),
                      [](DaneInputs* in) { in->hostname_match = false; }),
                 true, true, true, kPass, kPass, kPass, kPass, "3xx + 2xx"},
        DaneCase{"rollover_two_ee", Smtp({Leaf(3, 1, 1), Other(3, 1, 1)}), true, true, true, kPass,
                 kPass, kPass, kPass, "3xx + 3xx"},
        DaneCase{"rollover_two_ta_only", Smtp({Ca(2, 1, 1), Other(2, 1, 1)}), true, true, true,
                 kPass, kPass, kPass, kWarn, "no 3xx + 3xx"},
        DaneCase{"pkix_on_smtp_unusable", Smtp({Leaf(1, 1, 1), Ca(0, 1, 1)}), true, false, false,
                 kWarn, kNone, kWarn, kNone, "ignored by SMTP senders"},
        DaneCase{"pkix_ee_on_submission",
                 With(Smtp({Leaf(1, 1, 1)}), [](DaneInputs* in) { in->smtp = false; }), true, true,
                 true, kPass, kPass, kPass, kWarn, ""},
        DaneCase{"pkix_ta_on_imaps",
                 With(Smtp({Ca(0, 1, 1)}), [](DaneInputs* in) { in->smtp = false; }), true, true,
                 true, kPass, kPass, kPass, kWarn, ""},
        DaneCase{"unknown_usage", Smtp({TlsaRecord{4, 1, 1, Leaf(3, 1, 1).data}}), true, false,
                 false, kWarn, kNone, kFail, kNone, "unknown usage"},
        DaneCase{"unknown_selector", Smtp({TlsaRecord{3, 2, 1, Leaf(3, 1, 1).data}}), true, false,
                 false, kWarn, kNone, kFail, kNone, ""},
        DaneCase{"unknown_matching", Smtp({TlsaRecord{3, 1, 3, Leaf(3, 1, 1).data}}), true, false,
                 false, kWarn, kNone, kFail, kNone, ""},
        DaneCase{"sha512_length_wrong", Smtp({TlsaRecord{3, 1, 2, Leaf(3, 1, 1).data}}), true,
                 false, false, kWarn, kNone, kFail, kNone, "32-byte data"},
        DaneCase{"insecure_answer",
                 With(Smtp({Leaf(3, 1, 1)}), [](DaneInputs* in) { in->tlsa_secure = false; }), true,
                 true, false, kWarn, kNone, kPass, kWarn, "insecure"},
        DaneCase{"no_handshake",
                 With(Smtp({Leaf(3, 1, 1)}), [](DaneInputs* in) { in->chain.clear(); }), true, true,
                 false, kPass, kNone, kPass, kWarn, ""},
        DaneCase{
            "nxdomain",
            With(Smtp({}), [](DaneInputs* in) { in->tlsa_status = Status::NotFound("NXDOMAIN"); }),
            false, false, false, kNone, kNone, kNone, kNone, ""},
        DaneCase{"nodata", Smtp({}), false, false, false, kNone, kNone, kNone, kNone, ""},
        DaneCase{"servfail",
                 With(Smtp({Leaf(3, 1, 1)}),
                      [](DaneInputs* in) { in->tlsa_status = Status::Unavailable("SERVFAIL"); }),
                 false, false, false, kError, kNone, kNone, kNone, "SERVFAIL"},
        DaneCase{"timeout",
                 With(Smtp({}), [](DaneInputs* in) { in->tlsa_status = Status::Timeout("5s"); }),
                 false, false, false, kError, kNone, kNone, kNone, "TLSA lookup failed"}),
    CaseName());

TEST(DaneAssessTest, NotDeployedYieldsNothing) {
  EXPECT_TRUE(AssessDane(Smtp({})).findings.empty());
  DaneInputs nx = Smtp({});
  nx.tlsa_status = Status::NotFound("NXDOMAIN");
  EXPECT_TRUE(AssessDane(nx).findings.empty());
}

}  // namespace
}  // namespace mailsec::checks
