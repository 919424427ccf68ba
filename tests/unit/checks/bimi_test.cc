#include "mailsec/checks/bimi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>

#include "unit/checks/checks_test_util.h"

namespace mailsec::checks {
namespace {

class BimiParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(BimiParseTest, Parses) {
  const ParseCase& c = GetParam();
  ExpectParsed(c, ParseBimiRecord(c.in));
}

const std::string kLogo = "https://example.org/logo.svg";
const std::string kPem = "https://example.org/vmc.pem";

INSTANTIATE_TEST_SUITE_P(
    Table, BimiParseTest,
    ::testing::Values(
        ParseCase{"minimal", "v=BIMI1; l=" + kLogo, true, ""},
        ParseCase{"with_authority", "v=BIMI1; l=" + kLogo + "; a=" + kPem, true, ""},
        ParseCase{"declination", "v=BIMI1; l=; a=;", true, ""},
        ParseCase{"version_only", "v=BIMI1", true, ""},
        ParseCase{"version_only_semicolon", "v=BIMI1;", true, ""},
        ParseCase{"avp_brand", "v=BIMI1; l=" + kLogo + "; avp=brand", true, ""},
        ParseCase{"avp_personal_upper", "v=BIMI1; l=" + kLogo + "; avp=Personal", true, ""},
        ParseCase{"lps", "v=BIMI1; l=" + kLogo + "; lps=news, billing,x-1", true, ""},
        ParseCase{"s_tag", "v=BIMI1; l=" + kLogo + "; s=brand1", true, ""},
        ParseCase{"no_spaces", "v=BIMI1;l=" + kLogo + ";a=" + kPem + ";", true, ""},
        ParseCase{"url_with_port", "v=BIMI1; l=https://cdn.example.org:8443/l.svg", true, ""},
        ParseCase{"empty", "", false, "must start with v=BIMI1"},
        ParseCase{"version_lower", "v=bimi1; l=" + kLogo, false, "must start with v=BIMI1"},
        ParseCase{"version_wrong", "v=BIMI2; l=" + kLogo, false, "must start with v=BIMI1"},
        ParseCase{"version_not_first", "l=" + kLogo + "; v=BIMI1", false,
                  "must start with v=BIMI1"},
        ParseCase{"leading_space", " v=BIMI1; l=" + kLogo, false, "must start with v=BIMI1"},
        ParseCase{"unknown_tag", "v=BIMI1; l=" + kLogo + "; q=1", false, "q: unknown tag"},
        ParseCase{"upper_case_tag_unknown", "v=BIMI1; L=" + kLogo, false, "L: unknown tag"},
        ParseCase{"duplicate_tag", "v=BIMI1; l=" + kLogo + "; l=" + kLogo, false,
                  "l: duplicate tag"},
        ParseCase{"duplicate_v", "v=BIMI1; v=BIMI1", false, "v: duplicate tag"},
        ParseCase{"avp_bad", "v=BIMI1; l=" + kLogo + "; avp=logo", false,
                  "avp: \"logo\" is not brand or personal"},
        ParseCase{"l_http", "v=BIMI1; l=http://example.org/logo.svg", false,
                  "l: \"http://example.org/logo.svg\" is not an https:// URL"},
        ParseCase{"l_two_urls", "v=BIMI1; l=" + kLogo + " " + kLogo, false, "l:"},
        ParseCase{"l_no_host", "v=BIMI1; l=https:///logo.svg", false, "no valid host"},
        ParseCase{"l_single_label_host", "v=BIMI1; l=https://localhost/logo.svg", false,
                  "no valid host"},
        ParseCase{"a_self", "v=BIMI1; l=" + kLogo + "; a=self", false, "a:"},
        ParseCase{"lps_empty_item", "v=BIMI1; l=" + kLogo + "; lps=a,,b", false,
                  "lps: bad local part"},
        ParseCase{"lps_bad_char", "v=BIMI1; l=" + kLogo + "; lps=a.b", false, "lps:"},
        ParseCase{"s_empty", "v=BIMI1; l=" + kLogo + "; s=", false, "s: bad value"},
        ParseCase{"tag_without_equals", "v=BIMI1; l=" + kLogo + "; brand", false, "without '='"},
        ParseCase{"empty_segment", "v=BIMI1;; l=" + kLogo, false, "empty tag"},
        ParseCase{"bad_tag_name", "v=BIMI1; 1x=2", false, "bad tag name"},
        ParseCase{"control_char", "v=BIMI1; l=" + kLogo + "\n", false, "control"},
        ParseCase{"too_long", "v=BIMI1; l=https://example.org/" + std::string(3000, 'a'), false,
                  "longer than"}),
    CaseName());

TEST(BimiParse, Values) {
  Result<BimiRecord> r =
      ParseBimiRecord("v=BIMI1; l=" + kLogo + "; a=" + kPem + "; avp=personal; lps=a, b");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->l, kLogo);
  EXPECT_EQ(r->a, kPem);
  EXPECT_TRUE(r->has_l);
  EXPECT_TRUE(r->has_a);
  EXPECT_EQ(r->avp, BimiAvp::kPersonal);
  EXPECT_EQ(r->lps, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->tags, (std::vector<std::string>{"v", "l", "a", "avp", "lps"}));
  Result<BimiRecord> d = ParseBimiRecord("v=BIMI1; l=");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->has_l);
  EXPECT_TRUE(d->l.empty());
  EXPECT_FALSE(d->has_a);
  EXPECT_FALSE(d->avp.has_value());
}

TEST(BimiSelect, Counts) {
  EXPECT_EQ(SelectBimiRecord({}).count, BimiSelection::Count::kNone);
  BimiSelection one = SelectBimiRecord({"v=BIMI1; l=" + kLogo, "hello"});
  EXPECT_EQ(one.count, BimiSelection::Count::kOne);
  EXPECT_EQ(one.record, "v=BIMI1; l=" + kLogo);
  EXPECT_EQ(one.unrelated, 1u);
  BimiSelection two = SelectBimiRecord({"v=BIMI1; l=", "v=BIMI1; l=" + kLogo, "v=spf1 -all"});
  EXPECT_EQ(two.count, BimiSelection::Count::kMultiple);
  EXPECT_EQ(two.records, 2u);
  EXPECT_EQ(two.spf, 1u);
  EXPECT_TRUE(two.record.empty());
  EXPECT_EQ(SelectBimiRecord({"v=bimi1; l="}).count, BimiSelection::Count::kNone);
  EXPECT_EQ(BimiLookupName("Example.ORG."), "default._bimi.example.org");
  EXPECT_EQ(BimiLookupName("example.org", "brand"), "brand._bimi.example.org");
  EXPECT_EQ(BimiLookupName(""), "");
}

struct AssessCase {
  const char* name;
  LookupStatus status;
  std::vector<std::string> txts;
  std::string_view check;
  std::optional<CheckVerdict> verdict;  // nullopt: no finding expected
};

class BimiAssessTest : public ::testing::TestWithParam<AssessCase> {};

TEST_P(BimiAssessTest, Rule) {
  const AssessCase& c = GetParam();
  BimiAssessment a = AssessBimi(BimiInputs{"example.org", c.status, c.txts});
  if (!c.verdict) {
    EXPECT_EQ(Find(a, c.check), nullptr);
  } else {
    ExpectVerdict(a, c.check, *c.verdict);
  }
}

constexpr auto kOk = LookupStatus::kOk;
const std::string kGood = "v=BIMI1; l=https://example.org/logo.svg";

INSTANTIATE_TEST_SUITE_P(
    Table, BimiAssessTest,
    ::testing::Values(
        AssessCase{"record_one", kOk, {kGood}, kBimiRecordCheck, CheckVerdict::kPass},
        AssessCase{
            "record_several", kOk, {kGood, "v=BIMI1; l="}, kBimiRecordCheck, CheckVerdict::kFail},
        AssessCase{
            "record_with_spf", kOk, {kGood, "v=spf1 -all"}, kBimiRecordCheck, CheckVerdict::kFail},
        AssessCase{"record_with_unrelated",
                   kOk,
                   {kGood, "site-verification=1"},
                   kBimiRecordCheck,
                   CheckVerdict::kWarn},
        AssessCase{"record_none_nodata", LookupStatus::kNoData, {}, kBimiRecordCheck, std::nullopt},
        AssessCase{
            "record_none_nxdomain", LookupStatus::kNxDomain, {}, kBimiRecordCheck, std::nullopt},
        AssessCase{
            "record_none_only_spf_wildcard", kOk, {"v=spf1 -all"}, kBimiRecordCheck, std::nullopt},
        AssessCase{"record_lookup_error",
                   LookupStatus::kError,
                   {},
                   kBimiRecordCheck,
                   CheckVerdict::kError},
        AssessCase{"syntax_pass", kOk, {kGood}, kBimiSyntaxCheck, CheckVerdict::kPass},
        AssessCase{
            "syntax_unknown_tag", kOk, {kGood + "; q=1"}, kBimiSyntaxCheck, CheckVerdict::kFail},
        AssessCase{"syntax_duplicate_tag",
                   kOk,
                   {kGood + "; l=https://example.org/b.svg"},
                   kBimiSyntaxCheck,
                   CheckVerdict::kFail},
        AssessCase{
            "syntax_bad_avp", kOk, {kGood + "; avp=both"}, kBimiSyntaxCheck, CheckVerdict::kFail},
        AssessCase{
            "syntax_not_with_several", kOk, {kGood, kGood + ";"}, kBimiSyntaxCheck, std::nullopt},
        AssessCase{"syntax_none", LookupStatus::kNoData, {}, kBimiSyntaxCheck, std::nullopt},
        AssessCase{
            "syntax_lookup_error", LookupStatus::kError, {}, kBimiSyntaxCheck, std::nullopt}),
    CaseName());

TEST(BimiAssess, Flags) {
  BimiAssessment good = AssessBimi(BimiInputs{"example.org", kOk, {kGood}});
  EXPECT_TRUE(good.present);
  EXPECT_TRUE(good.valid);
  ASSERT_TRUE(good.record.has_value());
  EXPECT_EQ(good.record->l, "https://example.org/logo.svg");
  BimiAssessment bad = AssessBimi(BimiInputs{"example.org", kOk, {"v=BIMI1; x=1"}});
  EXPECT_TRUE(bad.present);
  EXPECT_FALSE(bad.valid);
  for (const Finding& f : good.findings) {
    EXPECT_NE(std::find(BimiCheckIds().begin(), BimiCheckIds().end(), f.check),
              BimiCheckIds().end());
  }
}

}  // namespace
}  // namespace mailsec::checks
