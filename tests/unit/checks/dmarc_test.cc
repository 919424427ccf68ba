#include "mailsec/checks/dmarc.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/checks/checks_test_util.h"

namespace mailsec::checks {
namespace {

class DmarcParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(DmarcParseTest, Parses) {
  const ParseCase& c = GetParam();
  ExpectParsed(c, ParseDmarcRecord(c.in));
}

INSTANTIATE_TEST_SUITE_P(
    Table, DmarcParseTest,
    ::testing::Values(
        ParseCase{"minimal", "v=DMARC1; p=none", true, ""},
        ParseCase{"google_shape", "v=DMARC1; p=reject; rua=mailto:mailauth-reports@google.com",
                  true, ""},
        ParseCase{"full",
                  "v=DMARC1; p=quarantine; sp=reject; np=reject; adkim=s; aspf=r; pct=50; "
                  "rua=mailto:a@example.org,mailto:b@example.net!10m; ruf=mailto:f@example.org; "
                  "fo=0:1:d:s; rf=afrf; ri=86400; t=n; psd=u",
                  true, ""},
        ParseCase{"no_spaces_trailing_semicolon", "v=DMARC1;p=reject;", true, ""},
        ParseCase{"spaces_around_equals", "v = DMARC1 ; p = reject ;", true, ""},
        ParseCase{"tabs", "v=DMARC1;\tp=reject\t;\tsp=none", true, ""},
        ParseCase{"double_semicolon", "v=DMARC1;; p=reject", true, ""},
        ParseCase{"upper_case_tags_and_values", "v=DMARC1; P=REJECT; ADKIM=S", true, ""},
        ParseCase{"unknown_tag_ignored", "v=DMARC1; p=none; foo=bar; x_y=", true, ""},
        ParseCase{"no_p", "v=DMARC1; rua=mailto:a@example.org", true, ""},
        ParseCase{"https_rua_is_a_uri", "v=DMARC1; p=none; rua=https://example.org/r", true, ""},
        ParseCase{"empty", "", false, "must start with v=DMARC1"},
        ParseCase{"version_lower", "v=dmarc1; p=none", false, "must start with v=DMARC1"},
        ParseCase{"version_wrong", "v=DMARC2; p=none", false, "must start with v=DMARC1"},
        ParseCase{"version_not_first", "p=none; v=DMARC1", false, "must start with v=DMARC1"},
        ParseCase{"leading_space", " v=DMARC1; p=none", false, "whitespace"},
        ParseCase{"spf", "v=spf1 -all", false, "must start with v=DMARC1"},
        ParseCase{"bad_p", "v=DMARC1; p=block", false, "p: \"block\""},
        ParseCase{"bad_sp", "v=DMARC1; p=none; sp=maybe", false, "sp:"},
        ParseCase{"bad_np", "v=DMARC1; p=none; np=x", false, "np:"},
        ParseCase{"dup_p", "v=DMARC1; p=reject; p=none", false, "p: duplicate"},
        ParseCase{"dup_case", "v=DMARC1; p=reject; P=none", false, "p: duplicate"},
        ParseCase{"dup_v", "v=DMARC1; v=DMARC1; p=none", false, "v: duplicate"},
        ParseCase{"bad_adkim", "v=DMARC1; p=none; adkim=x", false, "adkim:"},
        ParseCase{"bad_aspf", "v=DMARC1; p=none; aspf=strict", false, "aspf:"},
        ParseCase{"pct_101", "v=DMARC1; p=none; pct=101", false, "pct:"},
        ParseCase{"pct_neg", "v=DMARC1; p=none; pct=-1", false, "pct:"},
        ParseCase{"pct_empty", "v=DMARC1; p=none; pct=", false, "pct: empty"},
        ParseCase{"ri_too_big", "v=DMARC1; p=none; ri=4294967296", false, "ri:"},
        ParseCase{"bad_fo", "v=DMARC1; p=none; fo=2", false, "fo:"},
        ParseCase{"bad_rf", "v=DMARC1; p=none; rf=iodef", false, "rf:"},
        ParseCase{"bad_t", "v=DMARC1; p=none; t=maybe", false, "t:"},
        ParseCase{"bad_psd", "v=DMARC1; p=none; psd=x", false, "psd:"},
        ParseCase{"rua_not_uri", "v=DMARC1; p=none; rua=reports@example.org", false,
                  "rua: \"reports@example.org\" is not a URI"},
        ParseCase{"rua_empty_item", "v=DMARC1; p=none; rua=mailto:a@b.org,", false,
                  "rua: empty URI"},
        ParseCase{"rua_bad_size", "v=DMARC1; p=none; rua=mailto:a@b.org!10x", false,
                  "bad size suffix"},
        ParseCase{"rua_size_overflow", "v=DMARC1; p=none; rua=mailto:a@b.org!99999999999999999999t",
                  false, "size"},
        ParseCase{"tag_without_equals", "v=DMARC1; p=none; reject", false, "without '='"},
        ParseCase{"bad_tag_name", "v=DMARC1; p=none; 1x=2", false, "bad tag name"},
        ParseCase{"control_char", std::string("v=DMARC1; p=none\n"), false, "control"},
        ParseCase{"too_long", "v=DMARC1; p=none; x=" + std::string(5000, 'a'), false,
                  "longer than"}),
    CaseName());

TEST(DmarcParse, Values) {
  Result<DmarcRecord> r = ParseDmarcRecord(
      "v=DMARC1; p=quarantine; rua=mailto:a@Example.ORG, mailto:b@x.net!10m, https://h/r; "
      "pct=25; fo=1:D; t=y; foo=1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->p, DmarcPolicy::kQuarantine);
  EXPECT_FALSE(r->sp.has_value());
  EXPECT_EQ(r->SubdomainPolicy(), DmarcPolicy::kQuarantine);
  EXPECT_EQ(r->EffectivePct(), 25);
  ASSERT_EQ(r->rua.size(), 3u);
  EXPECT_TRUE(r->rua[0].valid_mailto);
  EXPECT_EQ(r->rua[0].domain, "example.org");
  EXPECT_EQ(r->rua[1].max_size_bytes, uint64_t{10} << 20);
  EXPECT_EQ(r->rua[1].uri, "mailto:b@x.net");
  EXPECT_FALSE(r->rua[2].valid_mailto);
  EXPECT_EQ(r->rua[2].scheme, "https");
  EXPECT_EQ(r->fo, "1:d");
  EXPECT_EQ(r->t, true);
  EXPECT_EQ(r->unknown_tags, std::vector<std::string>{"foo"});
  EXPECT_EQ(r->tags, (std::vector<std::string>{"v", "p", "rua", "pct", "fo", "t", "foo"}));
  Result<DmarcRecord> d = ParseDmarcRecord("v=DMARC1; p=reject; sp=none");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->EffectivePct(), 100);
  EXPECT_EQ(d->SubdomainPolicy(), DmarcPolicy::kNone);
  EXPECT_EQ(d->adkim, 'r');
}

TEST(DmarcSelect, Counts) {
  EXPECT_EQ(SelectDmarcRecord({}).count, DmarcSelection::Count::kNone);
  DmarcSelection one = SelectDmarcRecord({"v=DMARC1; p=none", "google-site-verification=x"});
  EXPECT_EQ(one.count, DmarcSelection::Count::kOne);
  EXPECT_EQ(one.record, "v=DMARC1; p=none");
  EXPECT_EQ(one.unrelated, 1u);
  DmarcSelection two = SelectDmarcRecord({"v=DMARC1; p=none", "v=DMARC1; p=reject"});
  EXPECT_EQ(two.count, DmarcSelection::Count::kMultiple);
  EXPECT_EQ(two.records, 2u);
  DmarcSelection ws = SelectDmarcRecord({" v=DMARC1; p=none", "v=spf1 -all"});
  EXPECT_EQ(ws.count, DmarcSelection::Count::kNone);
  EXPECT_EQ(ws.leading_whitespace, 1u);
  EXPECT_EQ(ws.spf, 1u);
  EXPECT_TRUE(LooksLikeDmarcRecord("v=dmarc1;p=none"));
  EXPECT_TRUE(LooksLikeDmarcRecord("v = DMARC1"));
  EXPECT_FALSE(LooksLikeDmarcRecord("v=DMARC10; p=none"));
  EXPECT_FALSE(LooksLikeDmarcRecord("v=DMARC"));
}

TEST(DmarcNames, LookupAndOrgDomain) {
  EXPECT_EQ(DmarcLookupNames("Mail.Example.ORG."),
            (std::vector<std::string>{"_dmarc.mail.example.org", "_dmarc.example.org"}));
  EXPECT_EQ(DmarcLookupNames("example.org"), std::vector<std::string>{"_dmarc.example.org"});
  EXPECT_EQ(DmarcLookupNames(""), std::vector<std::string>{});
  EXPECT_EQ(OrganizationalDomain("a.b.c.example.org"), "example.org");
  EXPECT_EQ(OrganizationalDomain("org"), "org");
  // The documented limitation: no Public Suffix List.
  EXPECT_EQ(OrganizationalDomain("shop.example.co.uk"), "co.uk");
}

TEST(DmarcNames, ExternalReports) {
  Result<DmarcRecord> r = ParseDmarcRecord(
      "v=DMARC1; p=none; rua=mailto:d@example.org,mailto:d@reports.example.org,"
      "mailto:x@Vendor.NET,mailto:y@vendor.net,https://h.example/r");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ExternalReportNames("example.org", r->rua),
            std::vector<std::string>{"example.org._report._dmarc.vendor.net"});
  EXPECT_EQ(ExternalReportNames("sub.example.org", r->rua),
            std::vector<std::string>{"sub.example.org._report._dmarc.vendor.net"});
  EXPECT_TRUE(AuthorizesExternalReports({"v=DMARC1"}));
  EXPECT_TRUE(AuthorizesExternalReports({"other", "v=DMARC1;"}));
  EXPECT_FALSE(AuthorizesExternalReports({}));
  EXPECT_FALSE(AuthorizesExternalReports({"v=spf1 -all"}));
}

DmarcInputs With(std::vector<std::string> txts, std::string domain = "example.org") {
  DmarcInputs in;
  in.domain = std::move(domain);
  in.at_domain.txts = std::move(txts);
  return in;
}

TEST(DmarcAssess, GoodRecord) {
  DmarcAssessment a = AssessDmarc(With({"v=DMARC1; p=reject; rua=mailto:d@example.org"}));
  EXPECT_TRUE(a.present);
  EXPECT_TRUE(a.valid);
  for (const Finding& f : a.findings) {
    EXPECT_EQ(f.verdict, CheckVerdict::kPass) << f.check << ": " << f.detail;
  }
  EXPECT_EQ(Find(a, kDmarcExternalRuaAuthorizedCheck), nullptr);  // no external destination
  for (const Finding& f : a.findings) {
    EXPECT_NE(std::find(DmarcCheckIds().begin(), DmarcCheckIds().end(), f.check),
              DmarcCheckIds().end());
  }
}

TEST(DmarcAssess, Discovery) {
  DmarcAssessment none = AssessDmarc(With({}, "mail.example.org"));
  ExpectVerdict(none, kDmarcPresentCheck, CheckVerdict::kFail);
  EXPECT_FALSE(none.present);
  EXPECT_EQ(Find(none, kDmarcSingleRecordCheck), nullptr);

  DmarcInputs org = With({}, "mail.example.org");
  org.at_org = DmarcLookup{Status::Ok(), {"v=DMARC1; p=reject; sp=quarantine"}};
  DmarcAssessment o = AssessDmarc(org);
  ExpectVerdict(o, kDmarcPresentCheck, CheckVerdict::kPass);
  EXPECT_TRUE(o.at_org_domain);
  EXPECT_EQ(o.policy_domain, "example.org");
  ExpectVerdict(o, kDmarcPolicyCheck, CheckVerdict::kPass);
  EXPECT_NE(Find(o, kDmarcPolicyCheck)->detail.find("sp=quarantine"), std::string::npos);

  DmarcInputs nx = With({});
  nx.at_domain.status = Status::NotFound("NXDOMAIN");
  ExpectVerdict(AssessDmarc(nx), kDmarcPresentCheck, CheckVerdict::kFail);

  DmarcInputs err = With({});
  err.at_domain.status = Status::Timeout("SERVFAIL");
  DmarcAssessment e = AssessDmarc(err);
  ExpectVerdict(e, kDmarcPresentCheck, CheckVerdict::kError);
  EXPECT_EQ(e.findings.size(), 1u);

  DmarcInputs org_err = With({}, "a.example.org");
  org_err.at_org = DmarcLookup{Status::Unavailable("SERVFAIL"), {}};
  ExpectVerdict(AssessDmarc(org_err), kDmarcPresentCheck, CheckVerdict::kError);

  DmarcAssessment multi = AssessDmarc(With({"v=DMARC1; p=none", "v=DMARC1; p=reject"}));
  ExpectVerdict(multi, kDmarcPresentCheck, CheckVerdict::kPass);
  ExpectVerdict(multi, kDmarcSingleRecordCheck, CheckVerdict::kFail);
  EXPECT_FALSE(multi.present);
  EXPECT_EQ(Find(multi, kDmarcSyntaxCheck), nullptr);
}

TEST(DmarcAssess, Placement) {
  ExpectVerdict(AssessDmarc(With({" v=DMARC1; p=reject"})), kDmarcRecordPlacementCheck,
                CheckVerdict::kFail);
  ExpectVerdict(AssessDmarc(With({"v=spf1 -all"})), kDmarcRecordPlacementCheck,
                CheckVerdict::kFail);
  DmarcInputs apex = With({});
  apex.apex = DmarcLookup{Status::Ok(), {"v=spf1 -all", "v=DMARC1; p=reject"}};
  ExpectVerdict(AssessDmarc(apex), kDmarcRecordPlacementCheck, CheckVerdict::kFail);
  DmarcInputs both = With({"v=DMARC1; p=reject"});
  both.apex = DmarcLookup{Status::Ok(), {"v=DMARC1; p=reject"}};
  ExpectVerdict(AssessDmarc(both), kDmarcRecordPlacementCheck, CheckVerdict::kWarn);
  ExpectVerdict(AssessDmarc(With({"v=DMARC1; p=reject", "hello"})), kDmarcRecordPlacementCheck,
                CheckVerdict::kWarn);
}

struct VerdictCase {
  const char* name;
  std::string record;
  std::string_view check;
  CheckVerdict verdict;  // kError here means "no finding expected"
};

class DmarcVerdictTest : public ::testing::TestWithParam<VerdictCase> {};

TEST_P(DmarcVerdictTest, Rule) {
  const VerdictCase& c = GetParam();
  DmarcAssessment a = AssessDmarc(With({c.record}));
  if (c.verdict == CheckVerdict::kError) {
    EXPECT_EQ(Find(a, c.check), nullptr);
  } else {
    ExpectVerdict(a, c.check, c.verdict);
  }
}

constexpr auto kNoFinding = CheckVerdict::kError;
const std::string kRua = "; rua=mailto:d@example.org";

INSTANTIATE_TEST_SUITE_P(
    Table, DmarcVerdictTest,
    ::testing::Values(
        VerdictCase{"syntax_fail", "v=DMARC1; p=block", kDmarcSyntaxCheck, CheckVerdict::kFail},
        VerdictCase{"syntax_fail_no_policy", "v=DMARC1; p=block", kDmarcPolicyCheck, kNoFinding},
        VerdictCase{"syntax_unknown", "v=DMARC1; p=reject; x=1" + kRua, kDmarcSyntaxCheck,
                    CheckVerdict::kWarn},
        VerdictCase{"syntax_ri", "v=DMARC1; p=reject; ri=3600" + kRua, kDmarcSyntaxCheck,
                    CheckVerdict::kWarn},
        VerdictCase{"syntax_rf", "v=DMARC1; p=reject; rf=afrf" + kRua, kDmarcSyntaxCheck,
                    CheckVerdict::kWarn},
        VerdictCase{"syntax_fo_0_1", "v=DMARC1; p=reject; fo=0:1" + kRua, kDmarcSyntaxCheck,
                    CheckVerdict::kWarn},
        VerdictCase{"syntax_fo_1", "v=DMARC1; p=reject; fo=1" + kRua, kDmarcSyntaxCheck,
                    CheckVerdict::kPass},
        VerdictCase{"pct_absent", "v=DMARC1; p=reject", kDmarcPctCheck, CheckVerdict::kPass},
        VerdictCase{"pct_50", "v=DMARC1; p=reject; pct=50", kDmarcPctCheck, CheckVerdict::kWarn},
        VerdictCase{"pct_100", "v=DMARC1; p=reject; pct=100", kDmarcPctCheck, CheckVerdict::kWarn},
        VerdictCase{"policy_none", "v=DMARC1; p=none", kDmarcPolicyCheck, CheckVerdict::kFail},
        VerdictCase{"policy_missing", "v=DMARC1; rua=mailto:d@example.org", kDmarcPolicyCheck,
                    CheckVerdict::kFail},
        VerdictCase{"policy_quarantine", "v=DMARC1; p=quarantine", kDmarcPolicyCheck,
                    CheckVerdict::kPass},
        VerdictCase{"policy_quarantine_t", "v=DMARC1; p=quarantine; t=y", kDmarcPolicyCheck,
                    CheckVerdict::kFail},
        VerdictCase{"policy_reject_t", "v=DMARC1; p=reject; t=y", kDmarcPolicyCheck,
                    CheckVerdict::kPass},
        VerdictCase{"policy_sp_ignored_at_domain", "v=DMARC1; p=reject; sp=none", kDmarcPolicyCheck,
                    CheckVerdict::kPass},
        VerdictCase{"policy_np_accepted", "v=DMARC1; p=reject; np=reject", kDmarcPolicyCheck,
                    CheckVerdict::kPass},
        VerdictCase{"sp_none_under_reject", "v=DMARC1; p=reject; sp=none",
                    kDmarcSubdomainPolicyCheck, CheckVerdict::kWarn},
        VerdictCase{"sp_none_under_none", "v=DMARC1; p=none; sp=none", kDmarcSubdomainPolicyCheck,
                    CheckVerdict::kPass},
        VerdictCase{"sp_absent", "v=DMARC1; p=reject", kDmarcSubdomainPolicyCheck,
                    CheckVerdict::kPass},
        VerdictCase{"p_second", "v=DMARC1; p=reject; rua=mailto:d@example.org",
                    kDmarcPPositionCheck, CheckVerdict::kPass},
        VerdictCase{"p_third", "v=DMARC1; rua=mailto:d@example.org; p=reject", kDmarcPPositionCheck,
                    CheckVerdict::kWarn},
        VerdictCase{"rua_ok", "v=DMARC1; p=reject" + kRua, kDmarcRuaCheck, CheckVerdict::kPass},
        VerdictCase{"rua_absent", "v=DMARC1; p=reject", kDmarcRuaCheck, CheckVerdict::kWarn},
        VerdictCase{"rua_https", "v=DMARC1; p=reject; rua=https://x.example.org/r", kDmarcRuaCheck,
                    CheckVerdict::kFail},
        VerdictCase{"rua_bad_mailto", "v=DMARC1; p=reject; rua=mailto:nobody", kDmarcRuaCheck,
                    CheckVerdict::kFail},
        VerdictCase{"ruf_https", "v=DMARC1; p=reject" + kRua + "; ruf=https://x/", kDmarcRuaCheck,
                    CheckVerdict::kFail},
        VerdictCase{"rua_size", "v=DMARC1; p=reject; rua=mailto:d@example.org!10m", kDmarcRuaCheck,
                    CheckVerdict::kWarn},
        VerdictCase{"rua_three",
                    "v=DMARC1; p=reject; rua=mailto:a@example.org,mailto:b@example.org,"
                    "mailto:c@example.org",
                    kDmarcRuaCheck, CheckVerdict::kWarn}),
    CaseName());

TEST(DmarcAssess, ReportDomainWithoutMx) {
  DmarcInputs in = With({"v=DMARC1; p=reject; rua=mailto:d@nomx.example.org"});
  in.report_domains_without_mx = {"nomx.example.org"};
  ExpectVerdict(AssessDmarc(in), kDmarcRuaCheck, CheckVerdict::kWarn);
}

TEST(DmarcAssess, ExternalDestinations) {
  const std::string rec = "v=DMARC1; p=reject; rua=mailto:d@example.org,mailto:r@vendor.net";
  const std::string name = "example.org._report._dmarc.vendor.net";
  DmarcInputs missing = With({rec});
  ExpectVerdict(AssessDmarc(missing), kDmarcExternalRuaAuthorizedCheck, CheckVerdict::kError);

  DmarcInputs ok = With({rec});
  ok.external.push_back({name, DmarcLookup{Status::Ok(), {"v=DMARC1"}}});
  ExpectVerdict(AssessDmarc(ok), kDmarcExternalRuaAuthorizedCheck, CheckVerdict::kPass);

  DmarcInputs nx = With({rec});
  nx.external.push_back({name, DmarcLookup{Status::NotFound("NXDOMAIN"), {}}});
  ExpectVerdict(AssessDmarc(nx), kDmarcExternalRuaAuthorizedCheck, CheckVerdict::kWarn);

  DmarcInputs other = With({rec});
  other.external.push_back({name, DmarcLookup{Status::Ok(), {"v=spf1 -all"}}});
  ExpectVerdict(AssessDmarc(other), kDmarcExternalRuaAuthorizedCheck, CheckVerdict::kWarn);

  DmarcInputs fail = With({rec});
  fail.external.push_back({name, DmarcLookup{Status::Timeout("t"), {}}});
  ExpectVerdict(AssessDmarc(fail), kDmarcExternalRuaAuthorizedCheck, CheckVerdict::kError);

  // ruf destinations count too.
  DmarcInputs ruf = With({"v=DMARC1; p=reject; ruf=mailto:f@other.example"});
  ruf.external.push_back(
      {"example.org._report._dmarc.other.example", DmarcLookup{Status::Ok(), {"v=DMARC1;"}}});
  ExpectVerdict(AssessDmarc(ruf), kDmarcExternalRuaAuthorizedCheck, CheckVerdict::kPass);
}

}  // namespace
}  // namespace mailsec::checks
