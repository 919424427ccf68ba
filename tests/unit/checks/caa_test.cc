#include "mailsec/checks/caa.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/checks/checks_test_util.h"

namespace mailsec::checks {
namespace {

struct RecordCase {
  const char* name;
  CaaRecordIn record;
  bool ok;
  std::string error;  // substring of the message
};

class CaaRecordTest : public ::testing::TestWithParam<RecordCase> {};

TEST_P(CaaRecordTest, Validates) {
  const RecordCase& c = GetParam();
  Status s = ValidateCaaRecord(c.record);
  ASSERT_EQ(s.ok(), c.ok) << s.ToString();
  if (!c.ok) {
    EXPECT_EQ(s.code(), Status::Code::kMalformed);
    EXPECT_NE(s.message().find(c.error), std::string::npos) << s.message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, CaaRecordTest,
    ::testing::Values(
        RecordCase{"issue", {0, "issue", "letsencrypt.org"}, true, ""},
        RecordCase{"issue_upper_tag", {0, "ISSUE", "LetsEncrypt.org"}, true, ""},
        RecordCase{"issue_critical", {128, "issue", "letsencrypt.org"}, true, ""},
        RecordCase{"issue_nobody", {0, "issue", ";"}, true, ""},
        RecordCase{"issue_empty", {0, "issue", ""}, true, ""},
        RecordCase{"issue_wsp", {0, "issue", "  ca.example.net  "}, true, ""},
        RecordCase{"issue_parameters",
                   {0, "issue",
                    "letsencrypt.org; validationmethods=dns-01,http-01; "
                    "accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1"},
                   true,
                   ""},
        RecordCase{"issue_parameter_spaces", {0, "issue", "ca.example ; a = b ; c-d=e"}, true, ""},
        RecordCase{"issue_empty_parameter_value", {0, "issue", "ca.example; policy="}, true, ""},
        RecordCase{"issue_semicolon_only_params", {0, "issue", "ca.example;"}, true, ""},
        RecordCase{"issuewild_nobody", {0, "issuewild", ";"}, true, ""},
        RecordCase{"issuemail", {0, "issuemail", "ca.example"}, true, ""},
        RecordCase{"issuevmc", {0, "issuevmc", "digicert.com"}, true, ""},
        RecordCase{"iodef_mailto", {0, "iodef", "mailto:security@example.org"}, true, ""},
        RecordCase{"iodef_https", {0, "iodef", "https://iodef.example.org:8443/caa"}, true, ""},
        RecordCase{"contactemail", {0, "contactemail", "dns@example.org"}, true, ""},
        RecordCase{
            "contactphone_space", {0, "contactphone", "+1 (555) 0100"}, false, "contactphone"},
        RecordCase{"contactphone_ok", {0, "contactphone", "+1-555-0100"}, true, ""},
        RecordCase{"reserved_flag", {1, "issue", "letsencrypt.org"}, false, "reserved flag"},
        RecordCase{
            "reserved_flag_with_critical", {0x81, "issue", "ca.example"}, false, "reserved flag"},
        RecordCase{"unknown_tag", {0, "foo", "x"}, false, "unknown or reserved property"},
        RecordCase{"reserved_tag", {0, "policy", "x"}, false, "unknown or reserved property"},
        RecordCase{"critical_unknown_tag", {128, "foo", "x"}, false, "unknown"},
        RecordCase{"bad_tag_chars", {0, "is-sue", "ca.example"}, false, "bad tag"},
        RecordCase{"tag_too_long", {0, "abcdefghijklmnop", "x"}, false, "bad tag"},
        RecordCase{"empty_tag", {0, "", "x"}, false, "bad tag"},
        RecordCase{
            "issuer_bad_name", {0, "issue", "lets_encrypt.org"}, false, "bad issuer domain name"},
        RecordCase{
            "issuer_url", {0, "issue", "https://letsencrypt.org"}, false, "bad issuer domain name"},
        RecordCase{"issuer_two_names",
                   {0, "issue", "a.example b.example"},
                   false,
                   "bad issuer domain name"},
        RecordCase{
            "param_without_equals", {0, "issue", "ca.example; accounturi"}, false, "without '='"},
        RecordCase{"param_bad_name", {0, "issue", "ca.example; -x=1"}, false, "bad parameter name"},
        RecordCase{"param_value_space", {0, "issue", "ca.example; a=b c"}, false, "bad value"},
        RecordCase{
            "param_trailing_semicolon", {0, "issue", "ca.example; a=b;"}, false, "without '='"},
        RecordCase{"bad_validationmethods",
                   {0, "issue", "ca.example; validationmethods=dns-01,"},
                   false,
                   "validationmethods"},
        RecordCase{"iodef_ftp",
                   {0, "iodef", "ftp://example.org/caa"},
                   false,
                   "not a mailto: or https: URL"},
        RecordCase{"iodef_http", {0, "iodef", "http://example.org/caa"}, false, "iodef"},
        RecordCase{"iodef_bad_mailto", {0, "iodef", "mailto:nobody"}, false, "iodef"},
        RecordCase{"iodef_https_bad_port", {0, "iodef", "https://example.org:x/"}, false, "iodef"},
        RecordCase{
            "contactemail_bad", {0, "contactemail", "not an address"}, false, "contactemail"},
        RecordCase{"not_utf8", {0, "issue", std::string("ca.example; a=\xff")}, false, "UTF-8"},
        RecordCase{"overlong_utf8", {0, "foo", std::string("\xc0\xaf")}, false, "UTF-8"},
        RecordCase{
            "too_long", {0, "iodef", "mailto:a@" + std::string(3000, 'a')}, false, "longer than"}),
    CaseName());

CaaInputs Found(std::vector<CaaRecordIn> records) {
  CaaInputs in;
  in.host = "mx1.example.org";
  in.status = LookupStatus::kOk;
  in.records = std::move(records);
  in.found_at = "example.org";
  return in;
}

struct AssessCase {
  const char* name;
  CaaInputs in;
  CheckVerdict verdict;
  std::string detail;  // substring
};

class CaaAssessTest : public ::testing::TestWithParam<AssessCase> {};

TEST_P(CaaAssessTest, Rule) {
  const AssessCase& c = GetParam();
  CaaAssessment a = AssessCaa(c.in);
  ASSERT_EQ(a.findings.size(), 1u);
  EXPECT_EQ(a.findings[0].check, kCaaCheck);
  EXPECT_EQ(a.findings[0].verdict, c.verdict) << a.findings[0].detail;
  EXPECT_NE(a.findings[0].detail.find(c.detail), std::string::npos) << a.findings[0].detail;
}

CaaInputs WithStatus(LookupStatus s) {
  CaaInputs in;
  in.host = "mx1.example.org.";
  in.status = s;
  return in;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CaaAssessTest,
    ::testing::Values(
        AssessCase{"pass", Found({{0, "issue", "letsencrypt.org"}, {0, "issuewild", ";"}}),
                   CheckVerdict::kPass, "authorises letsencrypt.org"},
        AssessCase{"pass_with_parameters",
                   Found({{0, "issue", "letsencrypt.org; validationmethods=dns-01"},
                          {0, "iodef", "mailto:caa@example.org"}}),
                   CheckVerdict::kPass, "CAA at example.org"},
        AssessCase{"pass_issue_nobody", Found({{0, "issue", ";"}}), CheckVerdict::kPass, "no CA"},
        AssessCase{"warn_none_found", WithStatus(LookupStatus::kNoData), CheckVerdict::kWarn,
                   "no CAA record at mx1.example.org"},
        AssessCase{"warn_nxdomain", WithStatus(LookupStatus::kNxDomain), CheckVerdict::kWarn,
                   "no CAA"},
        AssessCase{"warn_ok_but_empty", Found({}), CheckVerdict::kWarn, "no CAA"},
        AssessCase{"error_lookup", WithStatus(LookupStatus::kError), CheckVerdict::kError,
                   "failed"},
        AssessCase{"warn_no_issue", Found({{0, "iodef", "mailto:caa@example.org"}}),
                   CheckVerdict::kWarn, "no issue property"},
        AssessCase{"warn_only_issuewild", Found({{0, "issuewild", "ca.example"}}),
                   CheckVerdict::kWarn, "no issue property"},
        AssessCase{"warn_iodef_ftp",
                   Found({{0, "issue", "ca.example"}, {0, "iodef", "ftp://example.org/"}}),
                   CheckVerdict::kWarn, "iodef"},
        AssessCase{"warn_reserved_flags", Found({{2, "issue", "ca.example"}}), CheckVerdict::kWarn,
                   "reserved flag"},
        AssessCase{"warn_unknown_noncritical",
                   Found({{0, "issue", "ca.example"}, {0, "foo", "bar"}}), CheckVerdict::kWarn,
                   "unknown or reserved property"},
        AssessCase{"warn_bad_issue", Found({{0, "issue", "ca.example; a=b c"}}),
                   CheckVerdict::kWarn, "bad value"},
        AssessCase{"fail_critical_unknown",
                   Found({{0, "issue", "ca.example"}, {128, "tbs", "Unknown"}}),
                   CheckVerdict::kFail, "critical flag"},
        AssessCase{"fail_outranks_warn", Found({{0, "iodef", "ftp://x/"}, {128, "foo", "x"}}),
                   CheckVerdict::kFail, "critical flag"}),
    CaseName());

TEST(Caa, ManyProblemsAreCut) {
  std::vector<CaaRecordIn> recs;
  for (int i = 0; i < 5; ++i) recs.push_back({0, "foo" + std::to_string(i), "x"});
  CaaAssessment a = AssessCaa(Found(recs));
  ASSERT_EQ(a.findings.size(), 1u);
  EXPECT_NE(a.findings[0].detail.find("(+3 more)"), std::string::npos) << a.findings[0].detail;
}

TEST(Caa, RecordsPastTheLimitAreIgnored) {
  std::vector<CaaRecordIn> recs(kMaxCaaRecords, CaaRecordIn{0, "issue", "ca.example"});
  recs.push_back({128, "foo", "x"});  // past the limit: not seen
  CaaAssessment a = AssessCaa(Found(recs));
  EXPECT_EQ(a.findings[0].verdict, CheckVerdict::kWarn) << a.findings[0].detail;
  EXPECT_NE(a.findings[0].detail.find("ignored"), std::string::npos);
}

TEST(Caa, Issuers) {
  EXPECT_EQ(CaaIssuers({{0, "issue", "LetsEncrypt.org; validationmethods=dns-01"},
                        {0, "issuewild", "wild.example"},
                        {0, "issue", ";"},
                        {0, "issue", "bad_name"},
                        {0, "Issue", "pki.goog"},
                        {0, "issue", "letsencrypt.org"}}),
            (std::vector<std::string>{"letsencrypt.org", "pki.goog"}));
  CaaAssessment a = AssessCaa(Found({{0, "issue", "pki.goog"}}));
  EXPECT_TRUE(a.found);
  EXPECT_EQ(a.issuers, std::vector<std::string>{"pki.goog"});
  EXPECT_FALSE(AssessCaa(WithStatus(LookupStatus::kNoData)).found);
}

TEST(Caa, LookupNames) {
  EXPECT_EQ(CaaLookupNames("MX1.mail.Example.org."),
            (std::vector<std::string>{"mx1.mail.example.org", "mail.example.org", "example.org"}));
  EXPECT_EQ(CaaLookupNames("example.org"), std::vector<std::string>{"example.org"});
  EXPECT_TRUE(CaaLookupNames("org").empty());
  EXPECT_TRUE(CaaLookupNames("").empty());
  EXPECT_TRUE(CaaLookupNames("bad..name.org").empty());
  EXPECT_TRUE(IsKnownCaaTag("IssueWild"));
  EXPECT_FALSE(IsKnownCaaTag("tbs"));
}

}  // namespace
}  // namespace mailsec::checks
