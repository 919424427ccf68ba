#include "mailsec/checks/mta_sts.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/checks/checks_test_util.h"

namespace mailsec::checks {
namespace {

class MtaStsRecordTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(MtaStsRecordTest, Parses) {
  const ParseCase& c = GetParam();
  ExpectParsed(c, ParseMtaStsRecord(c.in));
}

INSTANTIATE_TEST_SUITE_P(
    Table, MtaStsRecordTest,
    ::testing::Values(
        ParseCase{"google_shape", "v=STSv1; id=20190429T010101;", true, ""},
        ParseCase{"no_trailing", "v=STSv1; id=1", true, ""},
        ParseCase{"no_spaces", "v=STSv1;id=abc123", true, ""},
        ParseCase{"tabs", "v=STSv1\t;\tid=abc\t;", true, ""},
        ParseCase{"id_32", "v=STSv1; id=" + std::string(32, 'a'), true, ""},
        ParseCase{"extension", "v=STSv1; id=1; ext-1.x=val:ue", true, ""},
        ParseCase{"id_after_ext", "v=STSv1; foo=bar; id=1", true, ""},
        ParseCase{"empty", "", false, "must start with v=STSv1"},
        ParseCase{"lower_version", "v=stsv1; id=1", false, "must start with v=STSv1"},
        ParseCase{"space_before_eq", "v =STSv1; id=1", false, "must start with v=STSv1"},
        ParseCase{"leading_space", " v=STSv1; id=1", false, "must start with v=STSv1"},
        ParseCase{"version_suffix", "v=STSv10; id=1", false, "bad version"},
        ParseCase{"version_only", "v=STSv1", false, "id: missing"},
        ParseCase{"version_semicolon", "v=STSv1;", false, "id: missing"},
        ParseCase{"no_id", "v=STSv1; foo=bar", false, "id: missing"},
        ParseCase{"id_empty", "v=STSv1; id=", false, "id:"},
        ParseCase{"id_hyphen", "v=STSv1; id=2024-01-01", false, "id:"},
        ParseCase{"id_33", "v=STSv1; id=" + std::string(33, 'a'), false, "id:"},
        ParseCase{"id_space", "v=STSv1; id = 1", false, "id"},
        ParseCase{"dup_id", "v=STSv1; id=1; id=2", false, "id: duplicate"},
        ParseCase{"dup_v", "v=STSv1; v=STSv1; id=2", false, "v: duplicate"},
        ParseCase{"empty_field", "v=STSv1; ; id=1", false, "empty field"},
        ParseCase{"no_equals", "v=STSv1; id=1; enforce", false, "without '='"},
        ParseCase{"bad_ext_name", "v=STSv1; id=1; _x=1", false, "bad field name"},
        ParseCase{"bad_ext_value", "v=STSv1; id=1; x=a b", false, "x: bad value"},
        ParseCase{"too_long", "v=STSv1; id=1; x=" + std::string(2000, 'a'), false, "longer than"}),
    CaseName());

TEST(MtaStsRecord, Values) {
  Result<MtaStsRecord> r = ParseMtaStsRecord("v=STSv1; id=ABC123; ext=1;");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id, "ABC123");
  EXPECT_EQ(r->extensions, std::vector<std::string>{"ext"});
}

TEST(MtaStsRecord, Select) {
  EXPECT_EQ(SelectMtaStsRecord({}).count, MtaStsSelection::Count::kNone);
  MtaStsSelection one = SelectMtaStsRecord({"v=STSv1; id=1", "hello", "v=spf1 -all"});
  EXPECT_EQ(one.count, MtaStsSelection::Count::kOne);
  EXPECT_EQ(one.record, "v=STSv1; id=1");
  EXPECT_EQ(one.unrelated, 1u);
  EXPECT_EQ(one.spf, 1u);
  EXPECT_EQ(SelectMtaStsRecord({"v=STSv1; id=1", "v=STSv1; id=2"}).count,
            MtaStsSelection::Count::kMultiple);
  EXPECT_EQ(SelectMtaStsRecord({"v=STSv10; id=1"}).count, MtaStsSelection::Count::kNone);
}

class MtaStsPolicyTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(MtaStsPolicyTest, Parses) {
  const ParseCase& c = GetParam();
  ExpectParsed(c, ParseMtaStsPolicy(c.in));
}

const std::string kGood =
    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
    "max_age: 604800\r\n";

std::string ManyMx(int n) {
  std::string s = "version: STSv1\nmode: enforce\nmax_age: 1\n";
  for (int i = 0; i < n; ++i) s += "mx: m" + std::to_string(i) + ".example.com\n";
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Table, MtaStsPolicyTest,
    ::testing::Values(
        ParseCase{"crlf", kGood, true, ""},
        ParseCase{"lf", "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n", true,
                  ""},
        ParseCase{"no_final_newline", "version: STSv1\nmode: none\nmax_age: 0", true, ""},
        ParseCase{"any_order", "max_age: 1\nmx: a.example\nmode: enforce\nversion: STSv1\n", true,
                  ""},
        ParseCase{"no_space_after_colon", "version:STSv1\nmode:none\nmax_age:5\n", true, ""},
        ParseCase{"trailing_ws", "version: STSv1 \nmode: none\t\nmax_age: 5  \n", true, ""},
        ParseCase{"blank_lines", "\nversion: STSv1\n\nmode: none\nmax_age: 5\n\n", true, ""},
        ParseCase{"none_without_mx", "version: STSv1\nmode: none\nmax_age: 86400\n", true, ""},
        ParseCase{"max_age_limit", "version: STSv1\nmode: none\nmax_age: 31557600\n", true, ""},
        ParseCase{"unknown_key", kGood + "comment: hello world\n", true, ""},
        ParseCase{"max_mx", ManyMx(256), true, ""},
        ParseCase{"empty", "", false, "version: missing"},
        ParseCase{"no_version", "mode: none\nmax_age: 5\n", false, "version: missing"},
        ParseCase{"no_mode", "version: STSv1\nmax_age: 5\n", false, "mode: missing"},
        ParseCase{"no_max_age", "version: STSv1\nmode: none\n", false, "max_age: missing"},
        ParseCase{"bad_version", "version: STSv2\nmode: none\nmax_age: 5\n", false, "version:"},
        ParseCase{"version_case", "version: stsv1\nmode: none\nmax_age: 5\n", false, "version:"},
        ParseCase{"bad_mode", "version: STSv1\nmode: enforcing\nmax_age: 5\n", false, "mode:"},
        ParseCase{"mode_case", "version: STSv1\nmode: Enforce\nmax_age: 5\n", false, "mode:"},
        ParseCase{"key_case", "Version: STSv1\nmode: none\nmax_age: 5\n", false,
                  "version: missing"},
        ParseCase{"max_age_over", "version: STSv1\nmode: none\nmax_age: 31557601\n", false,
                  "max_age:"},
        ParseCase{"max_age_11_digits", "version: STSv1\nmode: none\nmax_age: 00000000001\n", false,
                  "max_age:"},
        ParseCase{"max_age_negative", "version: STSv1\nmode: none\nmax_age: -1\n", false,
                  "max_age:"},
        ParseCase{"enforce_without_mx", "version: STSv1\nmode: enforce\nmax_age: 5\n", false,
                  "mx: missing"},
        ParseCase{"testing_without_mx", "version: STSv1\nmode: testing\nmax_age: 5\n", false,
                  "mx: missing"},
        ParseCase{"dup_mode", kGood + "mode: testing\n", false, "mode: duplicate"},
        ParseCase{"dup_version", kGood + "version: STSv1\n", false, "version: duplicate"},
        ParseCase{"dup_max_age", kGood + "max_age: 5\n", false, "max_age: duplicate"},
        ParseCase{"not_key_value", kGood + "just text\n", false, "line 6: not a key: value"},
        ParseCase{"leading_space_key", " version: STSv1\nmode: none\nmax_age: 5\n", false,
                  "line 1: bad key"},
        ParseCase{"empty_value", "version: STSv1\nmode:\nmax_age: 5\n", false, "mode: empty value"},
        ParseCase{"bad_mx", "version: STSv1\nmode: enforce\nmax_age: 5\nmx: bad_host\n", false,
                  "mx:"},
        ParseCase{"mx_wildcard_middle",
                  "version: STSv1\nmode: enforce\nmax_age: 5\nmx: a.*.example\n", false, "mx:"},
        ParseCase{"mx_trailing_dot", "version: STSv1\nmode: enforce\nmax_age: 5\nmx: a.example.\n",
                  false, "mx:"},
        ParseCase{"mx_star_only", "version: STSv1\nmode: enforce\nmax_age: 5\nmx: *\n", false,
                  "mx:"},
        ParseCase{"bare_cr", "version: STSv1\rmode: none\nmax_age: 5\n", false, "control"},
        ParseCase{"nul", std::string("version: STSv1\0\nmode: none\nmax_age: 5\n", 37), false,
                  "control"},
        ParseCase{"too_many_mx", ManyMx(257), false, "more than 256"},
        ParseCase{"too_large", kGood + "x: " + std::string(70000, 'a') + "\n", false,
                  "longer than"}),
    CaseName());

TEST(MtaStsPolicy, Values) {
  Result<MtaStsPolicy> p = ParseMtaStsPolicy(kGood + "foo: bar\nfoo: baz\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->mode, MtaStsMode::kEnforce);
  EXPECT_EQ(p->max_age, 604800u);
  EXPECT_EQ(p->mx, (std::vector<std::string>{"mail.example.com", "*.example.net"}));
  EXPECT_EQ(p->unknown_keys, std::vector<std::string>{"foo"});
}

struct MatchCase {
  const char* host;
  const char* pattern;
  bool match;
};

class MxMatchTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(MxMatchTest, Rfc8461Section41) {
  const MatchCase& c = GetParam();
  EXPECT_EQ(MxMatchesPattern(c.host, c.pattern), c.match) << c.host << " vs " << c.pattern;
}

INSTANTIATE_TEST_SUITE_P(Table, MxMatchTest,
                         ::testing::Values(MatchCase{"mail.example.com", "mail.example.com", true},
                                           MatchCase{"MAIL.Example.COM", "mail.example.com", true},
                                           MatchCase{"mail.example.com", "Mail.EXAMPLE.com", true},
                                           MatchCase{"mail.example.com.", "mail.example.com", true},
                                           MatchCase{"mail.example.com", "mail.example.com.", true},
                                           MatchCase{"mail.example.com", "example.com", false},
                                           MatchCase{"example.com", "mail.example.com", false},
                                           MatchCase{"mx.example.com", "*.example.com", true},
                                           MatchCase{"MX.EXAMPLE.COM.", "*.Example.Com", true},
                                           MatchCase{"a.b.example.com", "*.example.com", false},
                                           MatchCase{"example.com", "*.example.com", false},
                                           MatchCase{".example.com", "*.example.com", false},
                                           MatchCase{"mx.example.com", "*.com", false},
                                           MatchCase{"x.mx.example.com", "*.mx.example.com", true},
                                           MatchCase{"mx.example.org", "*.example.com", false},
                                           MatchCase{"mxexample.com", "*.example.com", false},
                                           MatchCase{"*.example.com", "*.example.com", false},
                                           MatchCase{"mx.example.com", "mx.*.com", false},
                                           MatchCase{"mx.example.com", "*", false},
                                           MatchCase{"mx.example.com", "*.", false},
                                           MatchCase{"mx.example.com", "", false},
                                           MatchCase{"", "*.example.com", false},
                                           MatchCase{"mx..example.com", "mx..example.com", false},
                                           MatchCase{"a.example.com", "**.example.com", false}));

TEST(MxCovered, Lists) {
  MtaStsPolicy p;
  p.mx = {"mx1.example.com", "*.backup.example.com"};
  MxCoverage all = MxCovered({"mx1.example.com.", "b1.backup.example.com"}, p);
  EXPECT_TRUE(all.all);
  EXPECT_TRUE(all.uncovered.empty());
  MxCoverage some = MxCovered({"mx1.example.com", "a.b.backup.example.com", "mx2.example.com"}, p);
  EXPECT_FALSE(some.all);
  EXPECT_EQ(some.uncovered,
            (std::vector<std::string>{"a.b.backup.example.com", "mx2.example.com"}));
  EXPECT_TRUE(MxCovered({}, p).all);
}

TEST(MtaSts, ContentTypeAndHistory) {
  EXPECT_TRUE(IsTextPlain("text/plain"));
  EXPECT_TRUE(IsTextPlain("Text/Plain; charset=utf-8"));
  EXPECT_TRUE(IsTextPlain(" text/plain ;charset=us-ascii"));
  EXPECT_FALSE(IsTextPlain("text/html"));
  EXPECT_FALSE(IsTextPlain(""));
  EXPECT_FALSE(IsTextPlain("text/plainx"));
  // FNV-1a 64 reference values: they are persisted, so they must never change.
  EXPECT_EQ(MtaStsBodyHash(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(MtaStsBodyHash("a"), 0xaf63dc4c8601ec8cull);
  const MtaStsSeen cur{"1", MtaStsBodyHash("x")};
  EXPECT_EQ(DetectPolicyChange(std::nullopt, cur), PolicyChange::kFirstSeen);
  EXPECT_EQ(DetectPolicyChange(MtaStsSeen{"1", MtaStsBodyHash("x")}, cur),
            PolicyChange::kUnchanged);
  EXPECT_EQ(DetectPolicyChange(MtaStsSeen{"1", MtaStsBodyHash("y")}, cur),
            PolicyChange::kChangedWithoutNewId);
  EXPECT_EQ(DetectPolicyChange(MtaStsSeen{"0", MtaStsBodyHash("y")}, cur), PolicyChange::kNewId);
}

// A domain with one record, a fetched policy and two MX, all good unless a test changes it.
MtaStsInputs Good() {
  MtaStsInputs in;
  in.domain = "example.com";
  in.record_txts = {"v=STSv1; id=20240101"};
  PolicyFetch f;
  f.http_status = 200;
  f.content_type = "text/plain; charset=utf-8";
  f.body = kGood;
  in.fetch = f;
  in.mx_hosts = {"mail.example.com", "mx2.example.net"};
  in.mx_tls = {{"mail.example.com", true, true}, {"mx2.example.net", true, true}};
  return in;
}

TEST(MtaStsAssess, AllGood) {
  MtaStsAssessment a = AssessMtaSts(Good());
  EXPECT_TRUE(a.present);
  EXPECT_TRUE(a.policy_valid);
  EXPECT_EQ(a.mx_covered, true);
  EXPECT_EQ(a.findings.size(), MtaStsCheckIds().size());
  for (const Finding& f : a.findings) {
    EXPECT_EQ(f.verdict, CheckVerdict::kPass) << f.check << ": " << f.detail;
  }
  ASSERT_TRUE(a.current.has_value());
  EXPECT_EQ(a.current->id, "20240101");
  EXPECT_EQ(a.current->body_hash, MtaStsBodyHash(kGood));
}

TEST(MtaStsAssess, Discovery) {
  MtaStsInputs none = Good();
  none.record_txts.clear();
  MtaStsAssessment n = AssessMtaSts(none);
  EXPECT_FALSE(n.present);
  EXPECT_TRUE(n.findings.empty());  // NA: no MTA-STS

  MtaStsInputs nx = Good();
  nx.record_txts.clear();
  nx.record_status = Status::NotFound("NXDOMAIN");
  EXPECT_TRUE(AssessMtaSts(nx).findings.empty());

  MtaStsInputs apex = none;
  apex.apex_txts = std::vector<std::string>{"v=STSv1; id=1"};
  ExpectVerdict(AssessMtaSts(apex), kMtaStsRecordCheck, CheckVerdict::kFail);

  MtaStsInputs err = Good();
  err.record_status = Status::Timeout("SERVFAIL");
  MtaStsAssessment e = AssessMtaSts(err);
  ExpectVerdict(e, kMtaStsRecordCheck, CheckVerdict::kError);
  EXPECT_EQ(e.findings.size(), 1u);

  MtaStsInputs two = Good();
  two.record_txts.push_back("v=STSv1; id=2");
  MtaStsAssessment t = AssessMtaSts(two);
  ExpectVerdict(t, kMtaStsRecordCheck, CheckVerdict::kFail);
  EXPECT_EQ(t.findings.size(), 1u);
  EXPECT_FALSE(t.policy_valid);

  MtaStsInputs spf = Good();
  spf.record_txts.push_back("v=spf1 -all");
  ExpectVerdict(AssessMtaSts(spf), kMtaStsRecordCheck, CheckVerdict::kFail);

  MtaStsInputs other = Good();
  other.record_txts.push_back("something else");
  MtaStsAssessment o = AssessMtaSts(other);
  ExpectVerdict(o, kMtaStsRecordCheck, CheckVerdict::kWarn);
  EXPECT_TRUE(o.policy_valid);
}

TEST(MtaStsAssess, RecordSyntax) {
  MtaStsInputs bad = Good();
  bad.record_txts = {"v=STSv1; id=2024-01-01"};
  MtaStsAssessment b = AssessMtaSts(bad);
  ExpectVerdict(b, kMtaStsRecordSyntaxCheck, CheckVerdict::kFail);
  EXPECT_EQ(Find(b, kMtaStsPolicyFetchCheck), nullptr);
  MtaStsInputs ext = Good();
  ext.record_txts = {"v=STSv1; id=1; foo=bar"};
  ExpectVerdict(AssessMtaSts(ext), kMtaStsRecordSyntaxCheck, CheckVerdict::kWarn);
}

struct FetchCase {
  const char* name;
  PolicyFetchOutcome outcome;
  int status;
  const char* content_type;
  CheckVerdict verdict;
  bool parsed;  // the policy checks follow
};

class MtaStsFetchTest : public ::testing::TestWithParam<FetchCase> {};

TEST_P(MtaStsFetchTest, Rule) {
  const FetchCase& c = GetParam();
  MtaStsInputs in = Good();
  in.fetch->outcome = c.outcome;
  in.fetch->http_status = c.status;
  in.fetch->content_type = c.content_type;
  MtaStsAssessment a = AssessMtaSts(in);
  ExpectVerdict(a, kMtaStsPolicyFetchCheck, c.verdict);
  EXPECT_EQ(Find(a, kMtaStsPolicySyntaxCheck) != nullptr, c.parsed);
  EXPECT_EQ(a.policy_valid, c.parsed);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MtaStsFetchTest,
    ::testing::Values(
        FetchCase{"ok", PolicyFetchOutcome::kOk, 200, "text/plain", CheckVerdict::kPass, true},
        FetchCase{"html", PolicyFetchOutcome::kOk, 200, "text/html", CheckVerdict::kWarn, true},
        FetchCase{"no_type", PolicyFetchOutcome::kOk, 200, "", CheckVerdict::kWarn, true},
        FetchCase{"redirect", PolicyFetchOutcome::kOk, 301, "text/plain", CheckVerdict::kFail,
                  false},
        FetchCase{"not_found", PolicyFetchOutcome::kOk, 404, "text/plain", CheckVerdict::kFail,
                  false},
        FetchCase{"no_host", PolicyFetchOutcome::kNoHost, 0, "", CheckVerdict::kFail, false},
        FetchCase{"dns_error", PolicyFetchOutcome::kDnsError, 0, "", CheckVerdict::kError, false},
        FetchCase{"refused", PolicyFetchOutcome::kConnectFailed, 0, "", CheckVerdict::kFail, false},
        FetchCase{"timeout", PolicyFetchOutcome::kTimeout, 0, "", CheckVerdict::kFail, false},
        FetchCase{"tls", PolicyFetchOutcome::kTlsFailed, 0, "", CheckVerdict::kFail, false},
        FetchCase{"cert", PolicyFetchOutcome::kCertInvalid, 0, "", CheckVerdict::kFail, false},
        FetchCase{"too_large", PolicyFetchOutcome::kTooLarge, 0, "", CheckVerdict::kFail, false}),
    CaseName());

MtaStsInputs WithBody(const std::string& body) {
  MtaStsInputs in = Good();
  in.fetch->body = body;
  return in;
}

TEST(MtaStsAssess, PolicyRules) {
  MtaStsAssessment bad = AssessMtaSts(WithBody("version: STSv1\nmode: enforcing\nmax_age: 5\n"));
  ExpectVerdict(bad, kMtaStsPolicySyntaxCheck, CheckVerdict::kFail);
  EXPECT_FALSE(bad.policy_valid);
  EXPECT_EQ(Find(bad, kMtaStsModeCheck), nullptr);
  ExpectVerdict(AssessMtaSts(WithBody(kGood + "x: y\n")), kMtaStsPolicySyntaxCheck,
                CheckVerdict::kWarn);

  const std::string mx = "mx: mail.example.com\nmx: *.example.net\n";
  MtaStsAssessment testing =
      AssessMtaSts(WithBody("version: STSv1\nmode: testing\nmax_age: 3600\n" + mx));
  ExpectVerdict(testing, kMtaStsModeCheck, CheckVerdict::kWarn);
  ExpectVerdict(testing, kMtaStsMaxAgeCheck, CheckVerdict::kWarn);
  MtaStsAssessment none = AssessMtaSts(WithBody("version: STSv1\nmode: none\nmax_age: 3600\n"));
  ExpectVerdict(none, kMtaStsModeCheck, CheckVerdict::kPass);
  ExpectVerdict(none, kMtaStsMaxAgeCheck, CheckVerdict::kPass);
  EXPECT_EQ(Find(none, kMtaStsMxCoveredCheck), nullptr);
  EXPECT_EQ(Find(none, kMtaStsMxTlsCheck), nullptr);
  ExpectVerdict(AssessMtaSts(WithBody("version: STSv1\nmode: enforce\nmax_age: 604799\n" + mx)),
                kMtaStsMaxAgeCheck, CheckVerdict::kWarn);
}

TEST(MtaStsAssess, MxCoveredAndTls) {
  MtaStsInputs in = Good();
  in.mx_hosts.push_back("a.b.example.net");
  MtaStsAssessment enforce = AssessMtaSts(in);
  ExpectVerdict(enforce, kMtaStsMxCoveredCheck, CheckVerdict::kFail);
  EXPECT_EQ(enforce.mx_covered, false);
  in.fetch->body =
      "version: STSv1\nmode: testing\nmax_age: 604800\nmx: mail.example.com\n"
      "mx: *.example.net\n";
  ExpectVerdict(AssessMtaSts(in), kMtaStsMxCoveredCheck, CheckVerdict::kWarn);

  MtaStsInputs nomx = Good();
  nomx.mx_hosts.clear();
  EXPECT_EQ(Find(AssessMtaSts(nomx), kMtaStsMxCoveredCheck), nullptr);

  MtaStsInputs tls = Good();
  tls.mx_tls[1].cert_valid = false;
  ExpectVerdict(AssessMtaSts(tls), kMtaStsMxTlsCheck, CheckVerdict::kFail);
  tls.fetch->body =
      "version: STSv1\nmode: testing\nmax_age: 604800\nmx: *.example.net\n"
      "mx: mail.example.com\n";
  ExpectVerdict(AssessMtaSts(tls), kMtaStsMxTlsCheck, CheckVerdict::kWarn);
  MtaStsInputs nostarttls = Good();
  nostarttls.mx_tls[0].starttls = false;
  ExpectVerdict(AssessMtaSts(nostarttls), kMtaStsMxTlsCheck, CheckVerdict::kFail);
  // An MX the policy does not name is judged by mta_sts_mx_covered, not here.
  MtaStsInputs unnamed = Good();
  unnamed.mx_tls = {{"other.example.org", false, false}};
  EXPECT_EQ(Find(AssessMtaSts(unnamed), kMtaStsMxTlsCheck), nullptr);
}

TEST(MtaStsAssess, PolicyIdChange) {
  MtaStsInputs in = Good();
  in.previous = MtaStsSeen{"20240101", MtaStsBodyHash("version: STSv1\nmode: testing\n")};
  ExpectVerdict(AssessMtaSts(in), kMtaStsPolicyIdCheck, CheckVerdict::kWarn);
  in.previous = MtaStsSeen{"20230101", 1};
  ExpectVerdict(AssessMtaSts(in), kMtaStsPolicyIdCheck, CheckVerdict::kPass);
  in.previous = MtaStsSeen{"20240101", MtaStsBodyHash(kGood)};
  ExpectVerdict(AssessMtaSts(in), kMtaStsPolicyIdCheck, CheckVerdict::kPass);
}

}  // namespace
}  // namespace mailsec::checks
