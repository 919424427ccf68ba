#include "mailsec/checks/dkim.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "unit/checks/checks_test_util.h"

namespace mailsec::checks {
namespace {

// ---- Keys made with OpenSSL, shared by every test (RSA generation is slow) -------------------

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string Base64(const std::vector<unsigned char>& der) {
  std::string out(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), der.data(),
                                static_cast<int>(der.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

EVP_PKEY* Rsa(unsigned bits) {
  static auto* keys = new std::vector<std::pair<unsigned, PkeyPtr>>;
  for (auto& [b, k] : *keys) {
    if (b == bits) return k.get();
  }
  PkeyPtr k(EVP_RSA_gen(bits));
  EXPECT_TRUE(k) << bits;
  keys->emplace_back(bits, std::move(k));
  return keys->back().second.get();
}

EVP_PKEY* Ed25519() {
  static auto* key = new PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return key->get();
}

// base64 of the DER SubjectPublicKeyInfo.
std::string Spki(EVP_PKEY* k) {
  const int len = i2d_PUBKEY(k, nullptr);
  EXPECT_GT(len, 0);
  std::vector<unsigned char> der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  EXPECT_EQ(i2d_PUBKEY(k, &p), len);
  return Base64(der);
}

// base64 of the bare PKCS#1 RSAPublicKey.
std::string Pkcs1(EVP_PKEY* k) {
  const int len = i2d_PublicKey(k, nullptr);
  EXPECT_GT(len, 0);
  std::vector<unsigned char> der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  EXPECT_EQ(i2d_PublicKey(k, &p), len);
  return Base64(der);
}

// base64 of the raw 32-byte ed25519 key (RFC 8463 §4.2).
std::string RawEd25519() {
  std::vector<unsigned char> raw(32);
  size_t len = raw.size();
  EXPECT_EQ(EVP_PKEY_get_raw_public_key(Ed25519(), raw.data(), &len), 1);
  EXPECT_EQ(len, 32u);
  return Base64(raw);
}

std::string Rsa2048Record() { return "v=DKIM1; k=rsa; p=" + Spki(Rsa(2048)); }

// ---- Parser ----------------------------------------------------------------------------------

class DkimParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(DkimParseTest, Parses) {
  const ParseCase& c = GetParam();
  ExpectParsed(c, ParseDkimKeyRecord(c.in));
}

std::string WithFws(const std::string& b64) {
  // Split the base64 with FWS every 60 characters, as zone files and TXT splitting leave it.
  std::string out;
  for (size_t i = 0; i < b64.size(); i += 60) out += (i ? " \r\n\t" : "") + b64.substr(i, 60);
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Table, DkimParseTest,
    ::testing::Values(
        ParseCase{"rsa_2048", Rsa2048Record(), true, ""},
        ParseCase{"no_version", "k=rsa; p=" + Spki(Rsa(2048)), true, ""},
        ParseCase{"p_only", "p=" + Spki(Rsa(2048)), true, ""},
        ParseCase{"fws_everywhere",
                  " v = DKIM1 ;\r\n k = rsa ; p = " + WithFws(Spki(Rsa(2048))) + " ;", true, ""},
        ParseCase{"pkcs1", "v=DKIM1; p=" + Pkcs1(Rsa(2048)), true, ""},
        ParseCase{"ed25519", "v=DKIM1; k=ed25519; p=" + RawEd25519(), true, ""},
        ParseCase{"revoked", "v=DKIM1; p=", true, ""},
        ParseCase{"unknown_tags_and_notes", "v=DKIM1; n=hello world; s=email; x_y=1; p=", true, ""},
        ParseCase{"h_and_t", "v=DKIM1; h=sha256:sha1; t=y:s; p=" + Spki(Rsa(2048)), true, ""},
        ParseCase{"unpadded", "k=ed25519; p=" + RawEd25519().substr(0, 43), true, ""},
        ParseCase{"empty", "", false, "p: missing"},
        ParseCase{"no_p", "v=DKIM1; k=rsa", false, "p: missing"},
        ParseCase{"version_not_first", "k=rsa; v=DKIM1; p=", false, "v: must be the first tag"},
        ParseCase{"version_wrong", "v=DKIM2; p=", false, "v: version must be DKIM1"},
        ParseCase{"version_case", "v=dkim1; p=", false, "v: version must be DKIM1"},
        ParseCase{"duplicate_p", "v=DKIM1; p=; p=", false, "p: duplicate tag"},
        ParseCase{"duplicate_k", "v=DKIM1; k=rsa; k=rsa; p=", false, "k: duplicate tag"},
        ParseCase{"duplicate_v", "v=DKIM1; v=DKIM1; p=", false, "v: duplicate tag"},
        ParseCase{"tag_without_equals", "v=DKIM1; p", false, "without '='"},
        ParseCase{"bad_tag_name", "v=DKIM1; 1p=x; p=", false, "bad tag name"},
        ParseCase{"unknown_k", "v=DKIM1; k=dsa; p=", false, "k: unknown key type"},
        ParseCase{"empty_h_element", "v=DKIM1; h=sha256:; p=", false, "h: empty list element"},
        ParseCase{"garbage_base64", "v=DKIM1; p=MIIB!!notbase64", false, "bad base64 character"},
        ParseCase{"bad_padding", "v=DKIM1; p=QUJD=", false, "base64 padding"},
        ParseCase{"truncated_base64", "v=DKIM1; p=QUJDR", false, "truncated base64"},
        ParseCase{"not_a_key", "v=DKIM1; p=QUJDRA==", false, "not a DER RSA public key"},
        ParseCase{"truncated_key", "v=DKIM1; p=" + Spki(Rsa(2048)).substr(0, 200), false,
                  "not a DER RSA public key"},
        ParseCase{"ed25519_spki_under_rsa", "v=DKIM1; k=rsa; p=" + Spki(Ed25519()), false,
                  "not RSA"},
        ParseCase{"ed25519_wrong_length", "v=DKIM1; k=ed25519; p=" + Spki(Ed25519()), false,
                  "32 bytes"},
        ParseCase{"control_char", "v=DKIM1; p=\x01", false, "control"},
        ParseCase{"too_long", "v=DKIM1; n=" + std::string(5000, 'a') + "; p=", false,
                  "longer than"}),
    CaseName());

TEST(DkimParse, Values) {
  Result<DkimKeyRecord> r = ParseDkimKeyRecord(Rsa2048Record());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, "DKIM1");
  EXPECT_EQ(r->key_type, "rsa");
  EXPECT_EQ(r->key_bits, 2048);
  EXPECT_FALSE(r->revoked);
  EXPECT_FALSE(r->testing);
  EXPECT_TRUE(r->hashes.empty());

  Result<DkimKeyRecord> f =
      ParseDkimKeyRecord("h=SHA256 : sha1; t=s:y; k=RSA; p=" + WithFws(Pkcs1(Rsa(1024))));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->version, "");
  EXPECT_EQ(f->key_bits, 1024);
  EXPECT_EQ(f->hashes, (std::vector<std::string>{"sha256", "sha1"}));
  EXPECT_EQ(f->flags, (std::vector<std::string>{"s", "y"}));
  EXPECT_TRUE(f->testing);

  Result<DkimKeyRecord> e = ParseDkimKeyRecord("v=DKIM1; k=ed25519; p=" + RawEd25519());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->key_type, "ed25519");
  EXPECT_EQ(e->key_bits, 256);

  Result<DkimKeyRecord> rev = ParseDkimKeyRecord("v=DKIM1; k=rsa; p= ;");
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  EXPECT_TRUE(rev->revoked);
  EXPECT_EQ(rev->key_bits, 0);
}

TEST(DkimLooksLike, Candidates) {
  EXPECT_TRUE(LooksLikeDkimKeyRecord("v=DKIM1; p="));
  EXPECT_TRUE(LooksLikeDkimKeyRecord("  v = DKIM1"));
  EXPECT_TRUE(LooksLikeDkimKeyRecord("v=dkim1; p=x"));  // a candidate that will not parse
  EXPECT_TRUE(LooksLikeDkimKeyRecord("k=rsa; p=abc"));
  EXPECT_TRUE(LooksLikeDkimKeyRecord("p="));
  EXPECT_FALSE(LooksLikeDkimKeyRecord("v=spf1 -all"));
  EXPECT_FALSE(LooksLikeDkimKeyRecord("v=DKIM2; p=abc"));
  EXPECT_FALSE(LooksLikeDkimKeyRecord("google-site-verification=abc"));
  EXPECT_FALSE(LooksLikeDkimKeyRecord("k=rsa; pp=abc"));
  EXPECT_FALSE(LooksLikeDkimKeyRecord(""));
}

// ---- Assessment: DKIM-02 per selector --------------------------------------------------------

struct SelectorCase {
  const char* name;
  Status status;
  std::vector<std::string> txts;
  CheckVerdict verdict;
  std::string detail;  // substring
  bool present;
  int key_bits;
};

class DkimSelectorTest : public ::testing::TestWithParam<SelectorCase> {};

TEST_P(DkimSelectorTest, Verdict) {
  const SelectorCase& c = GetParam();
  DkimInputs in{.domain = "Example.ORG.",
                .domainkey_status = std::nullopt,
                .selectors = {{"s1", c.status, c.txts}}};
  DkimAssessment a = AssessDkim(in);
  ASSERT_EQ(a.selectors.size(), 1u);
  const DkimSelectorResult& r = a.selectors[0];
  EXPECT_EQ(r.selector, "s1");
  EXPECT_EQ(r.verdict, c.verdict) << r.detail;
  EXPECT_NE(r.detail.find(c.detail), std::string::npos) << r.detail;
  EXPECT_EQ(r.present, c.present);
  EXPECT_EQ(r.key_bits, c.key_bits);
  ExpectVerdict(a, kDkimKeyCheck, c.verdict);
  const Finding* f = Find(a, kDkimKeyCheck);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("selector s1: "), std::string::npos) << f->detail;
  // A present selector proves _domainkey exists; otherwise DKIM-01 was not looked at.
  if (c.present) {
    ExpectVerdict(a, kDkimDomainkeyCheck, CheckVerdict::kPass);
  } else {
    EXPECT_EQ(Find(a, kDkimDomainkeyCheck), nullptr);
  }
}

const Status kOk;
const Status kNxdomain = Status::NotFound("NXDOMAIN");
const Status kServfail = Status::Unavailable("SERVFAIL");

INSTANTIATE_TEST_SUITE_P(
    Table, DkimSelectorTest,
    ::testing::Values(
        SelectorCase{
            "rsa_2048", kOk, {Rsa2048Record()}, CheckVerdict::kPass, "RSA 2048 bits", true, 2048},
        SelectorCase{"rsa_2048_with_unrelated",
                     kOk,
                     {"google-site-verification=x", Rsa2048Record()},
                     CheckVerdict::kPass,
                     "RSA 2048",
                     true,
                     2048},
        SelectorCase{"pkcs1_2048",
                     kOk,
                     {"v=DKIM1; p=" + Pkcs1(Rsa(2048))},
                     CheckVerdict::kPass,
                     "RSA 2048",
                     true,
                     2048},
        SelectorCase{"ed25519",
                     kOk,
                     {"v=DKIM1; k=ed25519; p=" + RawEd25519()},
                     CheckVerdict::kPass,
                     "ed25519",
                     true,
                     256},
        SelectorCase{"rsa_1024",
                     kOk,
                     {"v=DKIM1; p=" + Spki(Rsa(1024))},
                     CheckVerdict::kWarn,
                     "RFC 8301 §3.2",
                     true,
                     1024},
        SelectorCase{"testing",
                     kOk,
                     {"v=DKIM1; t=y; p=" + Spki(Rsa(2048))},
                     CheckVerdict::kWarn,
                     "t=y",
                     true,
                     2048},
        SelectorCase{"t_s_only",
                     kOk,
                     {"v=DKIM1; t=s; p=" + Spki(Rsa(2048))},
                     CheckVerdict::kPass,
                     "RSA 2048",
                     true,
                     2048},
        SelectorCase{"rsa_512",
                     kOk,
                     {"v=DKIM1; p=" + Spki(Rsa(512))},
                     CheckVerdict::kFail,
                     "below 1024",
                     true,
                     512},
        SelectorCase{"revoked", kOk, {"v=DKIM1; p="}, CheckVerdict::kFail, "revoked", true, 0},
        SelectorCase{"h_sha1_only",
                     kOk,
                     {"v=DKIM1; h=sha1; p=" + Spki(Rsa(2048))},
                     CheckVerdict::kFail,
                     "only sha1",
                     true,
                     2048},
        SelectorCase{"h_sha1_and_sha256",
                     kOk,
                     {"v=DKIM1; h=sha1:sha256; p=" + Spki(Rsa(2048))},
                     CheckVerdict::kPass,
                     "RSA 2048",
                     true,
                     2048},
        SelectorCase{"h_unknown_only",
                     kOk,
                     {"v=DKIM1; h=md5; p=" + Spki(Rsa(2048))},
                     CheckVerdict::kFail,
                     "does not list sha256",
                     true,
                     2048},
        SelectorCase{"duplicate_tag",
                     kOk,
                     {"v=DKIM1; p=; p="},
                     CheckVerdict::kFail,
                     "duplicate tag",
                     false,
                     0},
        SelectorCase{"garbage_base64",
                     kOk,
                     {"v=DKIM1; p=%%%"},
                     CheckVerdict::kFail,
                     "unparseable",
                     false,
                     0},
        SelectorCase{"two_records",
                     kOk,
                     {Rsa2048Record(), "v=DKIM1; p="},
                     CheckVerdict::kFail,
                     "2 key records",
                     false,
                     0},
        SelectorCase{"nxdomain", kNxdomain, {}, CheckVerdict::kFail, "NXDOMAIN", false, 0},
        SelectorCase{"nodata", kOk, {}, CheckVerdict::kFail, "NODATA", false, 0},
        SelectorCase{"only_unrelated",
                     kOk,
                     {"v=spf1 -all"},
                     CheckVerdict::kFail,
                     "no key record among 1",
                     false,
                     0},
        SelectorCase{"servfail", kServfail, {}, CheckVerdict::kError, "SERVFAIL", false, 0},
        SelectorCase{
            "timeout", Status::Timeout("5s"), {}, CheckVerdict::kError, "lookup failed", false, 0}),
    CaseName());

// ---- Assessment: DKIM-01 and the worst over selectors ----------------------------------------

TEST(DkimAssess, DomainkeyNode) {
  struct Row {
    const char* name;
    std::optional<Status> status;
    bool non_sending;
    std::optional<CheckVerdict> want;  // nullopt: no finding
  };
  const Row rows[] = {
      {"noerror", kOk, false, CheckVerdict::kPass},
      {"nxdomain", kNxdomain, false, CheckVerdict::kFail},
      {"servfail", kServfail, false, CheckVerdict::kError},
      {"not_looked", std::nullopt, false, std::nullopt},
      {"non_sending_nxdomain", kNxdomain, true, std::nullopt},
      {"non_sending_noerror", kOk, true, std::nullopt},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    DkimAssessment a = AssessDkim(DkimInputs{
        .domain = "example.org", .domainkey_status = row.status, .non_sending = row.non_sending});
    EXPECT_TRUE(a.selectors.empty());
    EXPECT_EQ(Find(a, kDkimKeyCheck), nullptr);  // no selectors configured
    if (row.want) {
      ExpectVerdict(a, kDkimDomainkeyCheck, *row.want);
    } else {
      EXPECT_TRUE(a.findings.empty());
    }
  }
  DkimAssessment nx =
      AssessDkim(DkimInputs{.domain = "Example.ORG.", .domainkey_status = kNxdomain});
  ASSERT_FALSE(nx.findings.empty());
  EXPECT_NE(nx.findings[0].detail.find("_domainkey.example.org"), std::string::npos);
}

TEST(DkimAssess, PresentSelectorOverridesNxdomainForTheNode) {
  // An authoritative server that answers NXDOMAIN for the empty non-terminal `_domainkey`.
  DkimAssessment a = AssessDkim(DkimInputs{.domain = "example.org",
                                           .domainkey_status = kNxdomain,
                                           .selectors = {{"s1", kOk, {Rsa2048Record()}}}});
  ExpectVerdict(a, kDkimDomainkeyCheck, CheckVerdict::kPass);
  ExpectVerdict(a, kDkimKeyCheck, CheckVerdict::kPass);
  // Non-sending wins over a present selector for DKIM-01; DKIM-02 still reports.
  DkimAssessment ns = AssessDkim(DkimInputs{.domain = "example.org",
                                            .domainkey_status = kNxdomain,
                                            .selectors = {{"s1", kOk, {Rsa2048Record()}}},
                                            .non_sending = true});
  EXPECT_EQ(Find(ns, kDkimDomainkeyCheck), nullptr);
  ExpectVerdict(ns, kDkimKeyCheck, CheckVerdict::kPass);
  // A missing selector does not settle the node: its own lookup does.
  DkimAssessment miss = AssessDkim(DkimInputs{
      .domain = "example.org", .domainkey_status = kOk, .selectors = {{"s1", kNxdomain, {}}}});
  ExpectVerdict(miss, kDkimDomainkeyCheck, CheckVerdict::kPass);
  ExpectVerdict(miss, kDkimKeyCheck, CheckVerdict::kFail);
}

TEST(DkimAssess, WorstOverSelectors) {
  const DkimSelectorLookup good{"good", kOk, {Rsa2048Record()}};
  const DkimSelectorLookup weak{"weak", kOk, {"v=DKIM1; p=" + Spki(Rsa(1024))}};
  const DkimSelectorLookup weak2{"weak2", kOk, {"v=DKIM1; t=y; p=" + Spki(Rsa(2048))}};
  const DkimSelectorLookup broken{"broken", kOk, {"v=DKIM1; p="}};
  const DkimSelectorLookup failing{"failing", kServfail, {}};
  struct Row {
    const char* name;
    std::vector<DkimSelectorLookup> selectors;
    CheckVerdict want;
    std::string worst;
  };
  const std::vector<Row> rows = {
      {"all_pass", {good, good}, CheckVerdict::kPass, "selector good:"},
      {"warn_over_pass", {good, weak}, CheckVerdict::kWarn, "selector weak:"},
      {"error_over_warn", {weak, failing, good}, CheckVerdict::kError, "selector failing:"},
      {"fail_over_error", {failing, broken, weak}, CheckVerdict::kFail, "selector broken:"},
      {"tie_first_wins", {weak, weak2}, CheckVerdict::kWarn, "selector weak:"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    DkimAssessment a = AssessDkim(DkimInputs{.domain = "example.org", .selectors = row.selectors});
    ASSERT_EQ(a.selectors.size(), row.selectors.size());
    ExpectVerdict(a, kDkimKeyCheck, row.want);
    const Finding* f = Find(a, kDkimKeyCheck);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->detail.rfind(row.worst, 0), 0u) << f->detail;
    EXPECT_NE(f->detail.find("worst of " + std::to_string(row.selectors.size())), std::string::npos)
        << f->detail;
  }
}

TEST(DkimAssess, SelectorFacts) {
  DkimAssessment a = AssessDkim(
      DkimInputs{.domain = "example.org",
                 .selectors = {{"ed", kOk, {"v=DKIM1; k=ed25519; t=y; p=" + RawEd25519()}},
                               {"rev", kOk, {"v=DKIM1; k=rsa; p="}}}});
  ASSERT_EQ(a.selectors.size(), 2u);
  EXPECT_EQ(a.selectors[0].key_type, "ed25519");
  EXPECT_EQ(a.selectors[0].key_bits, 256);
  EXPECT_TRUE(a.selectors[0].testing);
  EXPECT_EQ(a.selectors[0].verdict, CheckVerdict::kWarn);
  EXPECT_TRUE(a.selectors[1].present);
  EXPECT_TRUE(a.selectors[1].revoked);
  EXPECT_EQ(a.selectors[1].key_type, "rsa");
}

TEST(DkimAssess, CheckIdsCoverFindings) {
  const auto& ids = DkimCheckIds();
  EXPECT_EQ(ids.size(), 2u);
  DkimAssessment a = AssessDkim(DkimInputs{.domain = "example.org",
                                           .domainkey_status = kOk,
                                           .selectors = {{"s1", kOk, {Rsa2048Record()}}}});
  for (const Finding& f : a.findings) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), f.check), ids.end()) << f.check;
  }
}

}  // namespace
}  // namespace mailsec::checks
