#include "mailsec/checks/srv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>

#include "unit/checks/checks_test_util.h"

namespace mailsec::checks {
namespace {

SrvLookup Ok(std::string_view label, std::vector<SrvRecordIn> records) {
  return SrvLookup{label, LookupStatus::kOk, std::move(records)};
}
SrvLookup WithStatus(std::string_view label, LookupStatus s) { return SrvLookup{label, s, {}}; }

struct FindingsView {
  std::vector<Finding> findings;
};

struct AssessCase {
  const char* name;
  std::vector<SrvLookup> lookups;
  std::string_view check;
  std::optional<CheckVerdict> verdict;  // nullopt: no finding expected
};

class SrvAssessTest : public ::testing::TestWithParam<AssessCase> {};

TEST_P(SrvAssessTest, Rule) {
  const AssessCase& c = GetParam();
  FindingsView v{AssessSrv(c.lookups)};
  if (!c.verdict) {
    EXPECT_EQ(Find(v, c.check), nullptr);
  } else {
    ExpectVerdict(v, c.check, *c.verdict);
  }
}

const SrvRecordIn kImap10{10, 1, 143, "imap.example.org."};
const SrvRecordIn kImaps0{0, 1, 993, "imap.example.org."};
const SrvRecordIn kImaps20{20, 1, 993, "imap.example.org."};
const SrvRecordIn kDot{0, 0, 0, "."};

INSTANTIATE_TEST_SUITE_P(
    Table, SrvAssessTest,
    ::testing::Values(
        AssessCase{"implicit_preferred",
                   {Ok("_imaps._tcp", {kImaps0}), Ok("_imap._tcp", {kImap10})},
                   kSrvImplicitTlsPreferredCheck,
                   CheckVerdict::kPass},
        AssessCase{"equal_priority_passes",
                   {Ok("_submissions._tcp", {{5, 0, 465, "smtp.example.org"}}),
                    Ok("_submission._tcp", {{5, 0, 587, "smtp.example.org"}})},
                   kSrvImplicitTlsPreferredCheck,
                   CheckVerdict::kPass},
        AssessCase{"starttls_preferred",
                   {Ok("_imaps._tcp", {kImaps20}), Ok("_imap._tcp", {kImap10})},
                   kSrvImplicitTlsPreferredCheck,
                   CheckVerdict::kWarn},
        AssessCase{"submission_preferred",
                   {Ok("_submissions._tcp", {{10, 0, 465, "smtp.example.org"}}),
                    Ok("_submission._tcp", {{0, 0, 587, "smtp.example.org"}}),
                    Ok("_imaps._tcp", {kImaps0}), Ok("_imap._tcp", {kImap10})},
                   kSrvImplicitTlsPreferredCheck,
                   CheckVerdict::kWarn},
        AssessCase{
            "best_priority_counts",
            {Ok("_pop3s._tcp", {{30, 0, 995, "a.example.org"}, {1, 0, 995, "b.example.org"}}),
             Ok("_pop3._tcp", {{2, 0, 110, "a.example.org"}})},
            kSrvImplicitTlsPreferredCheck,
            CheckVerdict::kPass},
        AssessCase{"only_implicit",
                   {Ok("_imaps._tcp", {kImaps0})},
                   kSrvImplicitTlsPreferredCheck,
                   std::nullopt},
        AssessCase{"only_starttls",
                   {Ok("_imap._tcp", {kImap10})},
                   kSrvImplicitTlsPreferredCheck,
                   std::nullopt},
        AssessCase{"cleartext_declined_with_dot",
                   {Ok("_imaps._tcp", {kImaps20}), Ok("_imap._tcp", {kDot})},
                   kSrvImplicitTlsPreferredCheck,
                   std::nullopt},
        AssessCase{"sieve_has_no_pair",
                   {Ok("_sieve._tcp", {{0, 0, 4190, "sieve.example.org"}})},
                   kSrvImplicitTlsPreferredCheck,
                   std::nullopt},
        AssessCase{"pair_with_failed_lookup",
                   {Ok("_imaps._tcp", {kImaps20}), WithStatus("_imap._tcp", LookupStatus::kError)},
                   kSrvImplicitTlsPreferredCheck,
                   std::nullopt},
        AssessCase{
            "lookup_pass",
            {Ok("_imaps._tcp", {kImaps0}), WithStatus("_imap._tcp", LookupStatus::kNxDomain)},
            kSrvLookupCheck,
            CheckVerdict::kPass},
        AssessCase{"lookup_error",
                   {Ok("_imaps._tcp", {kImaps0}), WithStatus("_pop3._tcp", LookupStatus::kError)},
                   kSrvLookupCheck,
                   CheckVerdict::kError},
        AssessCase{"lookup_none", {}, kSrvLookupCheck, std::nullopt}),
    CaseName());

TEST(Srv, LookupErrorNamesLabels) {
  std::vector<Finding> f = AssessSrv({WithStatus("_imap._tcp", LookupStatus::kError),
                                      WithStatus("_pop3s._tcp", LookupStatus::kError)});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].detail.find("_imap._tcp, _pop3s._tcp"), std::string::npos) << f[0].detail;
}

TEST(Srv, Services) {
  const std::vector<SrvService>& s = MailSrvServices();
  ASSERT_EQ(s.size(), 7u);
  EXPECT_EQ(s[0].label, "_submissions._tcp");
  EXPECT_EQ(s[0].service, "submissions");
  EXPECT_EQ(s[0].default_port, 465);
  EXPECT_TRUE(s[0].implicit_tls);
  EXPECT_EQ(s[6].label, "_sieve._tcp");
  EXPECT_EQ(s[6].default_port, 4190);
  EXPECT_FALSE(s[6].implicit_tls);
  int implicit = 0;
  for (const SrvService& x : s) implicit += x.implicit_tls ? 1 : 0;
  EXPECT_EQ(implicit, 3);
}

// "service host:port" per target, for readable comparisons.
std::vector<std::string> Show(const std::vector<SrvTarget>& v) {
  std::vector<std::string> out;
  for (const SrvTarget& t : v)
    out.push_back(t.service + " " + t.host + ":" + std::to_string(t.port));
  return out;
}

TEST(Srv, EndpointsOrderedDeduplicatedWithoutDots) {
  std::vector<SrvTarget> t = SrvEndpoints({
      Ok("_imaps._tcp", {{20, 0, 993, "b.example.org."},
                         {10, 5, 993, "A.example.org."},
                         {10, 50, 993, "c.example.org"},
                         {10, 5, 993, "a.example.org"}}),
      Ok("_imap._tcp", {kDot}),
      Ok("_pop3s._tcp", {{0, 0, 0, "pop.example.org"}, {0, 0, 995, "bad_name!"}}),
      WithStatus("_submissions._tcp", LookupStatus::kError),
      Ok("_unknown._tcp", {{0, 0, 1, "x.example.org"}}),
      Ok("_sieve._tcp", {{0, 0, 4190, "sieve.example.org"}}),
  });
  EXPECT_EQ(Show(t),
            (std::vector<std::string>{"imaps c.example.org:993", "imaps a.example.org:993",
                                      "imaps b.example.org:993", "sieve sieve.example.org:4190"}));
}

TEST(Srv, EndpointsAreCapped) {
  std::vector<SrvRecordIn> many;
  for (int i = 0; i < 40; ++i) {
    many.push_back({static_cast<uint16_t>(i), 0, 993, "h" + std::to_string(i) + ".example.org"});
  }
  std::vector<SrvTarget> t = SrvEndpoints({Ok("_imaps._tcp", many)});
  ASSERT_EQ(t.size(), kMaxSrvEndpoints);
  EXPECT_EQ(t.front().host, "h0.example.org");  // the most preferred are kept
  EXPECT_EQ(t.back().host, "h15.example.org");
}

TEST(Srv, CheckIds) {
  std::vector<Finding> f = AssessSrv({Ok("_imaps._tcp", {kImaps0}), Ok("_imap._tcp", {kImap10})});
  ASSERT_EQ(f.size(), 2u);
  for (const Finding& x : f) {
    EXPECT_NE(std::find(SrvCheckIds().begin(), SrvCheckIds().end(), x.check), SrvCheckIds().end());
  }
}

}  // namespace
}  // namespace mailsec::checks
