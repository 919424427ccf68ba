#include "mailsec/checks/tlsrpt.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/checks/checks_test_util.h"

namespace mailsec::checks {
namespace {

class TlsRptParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(TlsRptParseTest, Parses) {
  const ParseCase& c = GetParam();
  ExpectParsed(c, ParseTlsRptRecord(c.in));
}

INSTANTIATE_TEST_SUITE_P(
    Table, TlsRptParseTest,
    ::testing::Values(
        ParseCase{"google_shape", "v=TLSRPTv1; rua=mailto:sts-reports@google.com", true, ""},
        ParseCase{"https", "v=TLSRPTv1; rua=https://reports.example.com/v1/tlsrpt", true, ""},
        ParseCase{"https_port_query", "v=TLSRPTv1;rua=https://r.example.com:8443/x?a=b", true, ""},
        ParseCase{"https_ipv6", "v=TLSRPTv1; rua=https://[2001:db8::1]/r", true, ""},
        ParseCase{"two_uris", "v=TLSRPTv1; rua=mailto:tls@example.com, https://r.example.com/r;",
                  true, ""},
        ParseCase{"tabs", "v=TLSRPTv1\t;\trua=mailto:a@example.com\t;", true, ""},
        ParseCase{"scheme_case", "v=TLSRPTv1; rua=MAILTO:a@Example.COM", true, ""},
        ParseCase{"mailto_query", "v=TLSRPTv1; rua=mailto:a@example.com?subject=x", true, ""},
        ParseCase{"extension", "v=TLSRPTv1; rua=mailto:a@example.com; ext=1", true, ""},
        ParseCase{"empty", "", false, "must start with v=TLSRPTv1"},
        ParseCase{"version_case", "v=tlsrptv1; rua=mailto:a@example.com", false,
                  "must start with v=TLSRPTv1"},
        ParseCase{"version_not_first", "rua=mailto:a@example.com; v=TLSRPTv1", false,
                  "must start with v=TLSRPTv1"},
        ParseCase{"version_suffix", "v=TLSRPTv10; rua=mailto:a@example.com", false, "bad version"},
        ParseCase{"no_rua", "v=TLSRPTv1", false, "rua: missing"},
        ParseCase{"no_rua_ext", "v=TLSRPTv1; ext=1", false, "rua: missing"},
        ParseCase{"rua_empty", "v=TLSRPTv1; rua=", false, "rua: empty URI"},
        ParseCase{"rua_trailing_comma", "v=TLSRPTv1; rua=mailto:a@example.com,", false,
                  "rua: empty URI"},
        ParseCase{"ftp", "v=TLSRPTv1; rua=ftp://x.example.com/", false,
                  "neither mailto: nor https:"},
        ParseCase{"http", "v=TLSRPTv1; rua=http://x.example.com/", false,
                  "neither mailto: nor https:"},
        ParseCase{"no_scheme", "v=TLSRPTv1; rua=tls@example.com", false, "is not a URI"},
        ParseCase{"mailto_no_at", "v=TLSRPTv1; rua=mailto:example.com", false, "local@domain"},
        ParseCase{"mailto_bad_domain", "v=TLSRPTv1; rua=mailto:a@exa_mple.com", false,
                  "bad domain"},
        ParseCase{"https_no_slashes", "v=TLSRPTv1; rua=https:r.example.com", false, "//host"},
        ParseCase{"https_bad_host", "v=TLSRPTv1; rua=https:///path", false, "bad host"},
        ParseCase{"https_bad_port", "v=TLSRPTv1; rua=https://r.example.com:http/", false,
                  "bad port"},
        ParseCase{"https_userinfo", "v=TLSRPTv1; rua=https://u@r.example.com/", false,
                  "user information"},
        ParseCase{"space_in_uri", "v=TLSRPTv1; rua=mailto:a b@example.com", false, "whitespace"},
        ParseCase{"dup_rua", "v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com",
                  false, "rua: duplicate"},
        ParseCase{"dup_v", "v=TLSRPTv1; v=TLSRPTv1; rua=mailto:a@example.com", false,
                  "v: duplicate"},
        ParseCase{"empty_field", "v=TLSRPTv1;; rua=mailto:a@example.com", false, "empty field"},
        ParseCase{"no_equals", "v=TLSRPTv1; rua=mailto:a@example.com; x", false, "without '='"},
        ParseCase{"bad_ext", "v=TLSRPTv1; rua=mailto:a@example.com; x=", false, "x: bad value"},
        ParseCase{"too_long", "v=TLSRPTv1; rua=https://r.example.com/" + std::string(3000, 'a'),
                  false, "longer than"}),
    CaseName());

TEST(TlsRptParse, Values) {
  Result<TlsRptRecord> r = ParseTlsRptRecord(
      "v=TLSRPTv1; rua=mailto:tls@Example.COM,https://R.example.net:443/x; foo=bar");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rua.size(), 2u);
  EXPECT_EQ(r->rua[0].scheme, "mailto");
  EXPECT_EQ(r->rua[0].host, "example.com");
  EXPECT_EQ(r->rua[1].scheme, "https");
  EXPECT_EQ(r->rua[1].host, "r.example.net");
  EXPECT_EQ(r->extensions, std::vector<std::string>{"foo"});
}

TEST(TlsRptSelect, Counts) {
  EXPECT_EQ(SelectTlsRptRecord({}).count, TlsRptSelection::Count::kNone);
  TlsRptSelection one = SelectTlsRptRecord({"x", "v=TLSRPTv1; rua=mailto:a@example.com"});
  EXPECT_EQ(one.count, TlsRptSelection::Count::kOne);
  EXPECT_EQ(one.unrelated, 1u);
  EXPECT_EQ(
      SelectTlsRptRecord({"v=TLSRPTv1;rua=mailto:a@b.c", "v=TLSRPTv1;rua=mailto:c@b.c"}).count,
      TlsRptSelection::Count::kMultiple);
  EXPECT_EQ(SelectTlsRptRecord({"v=TLSRPTv10;"}).count, TlsRptSelection::Count::kNone);
}

TlsRptInputs With(std::vector<std::string> txts) {
  TlsRptInputs in;
  in.domain = "example.com";
  in.txts = std::move(txts);
  return in;
}

TEST(TlsRptAssess, Present) {
  const std::string good = "v=TLSRPTv1; rua=mailto:tls@example.com";
  TlsRptAssessment a = AssessTlsRpt(With({good}));
  EXPECT_TRUE(a.present);
  EXPECT_TRUE(a.valid);
  ExpectVerdict(a, kTlsRptPresentCheck, CheckVerdict::kPass);
  ExpectVerdict(a, kTlsRptValidCheck, CheckVerdict::kPass);
  EXPECT_EQ(Find(a, kTlsRptRuaReachableCheck), nullptr);

  TlsRptAssessment none = AssessTlsRpt(With({}));
  ExpectVerdict(none, kTlsRptPresentCheck, CheckVerdict::kPass);
  EXPECT_FALSE(none.present);
  TlsRptInputs deployed = With({});
  deployed.mta_sts_or_dane = true;
  ExpectVerdict(AssessTlsRpt(deployed), kTlsRptPresentCheck, CheckVerdict::kWarn);
  TlsRptInputs apex = With({});
  apex.apex_txts = std::vector<std::string>{good};
  ExpectVerdict(AssessTlsRpt(apex), kTlsRptPresentCheck, CheckVerdict::kFail);

  TlsRptAssessment two = AssessTlsRpt(With({good, good}));
  ExpectVerdict(two, kTlsRptPresentCheck, CheckVerdict::kFail);
  EXPECT_FALSE(two.present);
  EXPECT_EQ(Find(two, kTlsRptValidCheck), nullptr);

  ExpectVerdict(AssessTlsRpt(With({good, "other"})), kTlsRptPresentCheck, CheckVerdict::kWarn);

  TlsRptInputs err = With({});
  err.status = Status::Timeout("SERVFAIL");
  ExpectVerdict(AssessTlsRpt(err), kTlsRptPresentCheck, CheckVerdict::kError);
  TlsRptInputs nx = With({});
  nx.status = Status::NotFound("NXDOMAIN");
  ExpectVerdict(AssessTlsRpt(nx), kTlsRptPresentCheck, CheckVerdict::kPass);
}

TEST(TlsRptAssess, ValidAndReachable) {
  TlsRptAssessment bad = AssessTlsRpt(With({"v=TLSRPTv1; rua=ftp://x.example.com"}));
  ExpectVerdict(bad, kTlsRptValidCheck, CheckVerdict::kFail);
  EXPECT_TRUE(bad.present);
  EXPECT_FALSE(bad.valid);
  ExpectVerdict(AssessTlsRpt(With({"v=TLSRPTv1; rua=mailto:a@example.com; x=1"})),
                kTlsRptValidCheck, CheckVerdict::kWarn);

  TlsRptInputs in = With({"v=TLSRPTv1; rua=mailto:a@nomx.example, https://r.example.com/"});
  in.reachability_checked = true;
  ExpectVerdict(AssessTlsRpt(in), kTlsRptRuaReachableCheck, CheckVerdict::kPass);
  in.unreachable_hosts = {"nomx.example"};
  ExpectVerdict(AssessTlsRpt(in), kTlsRptRuaReachableCheck, CheckVerdict::kWarn);
}

}  // namespace
}  // namespace mailsec::checks
