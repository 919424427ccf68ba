// CERT-16 across ports: CompareAcrossPorts' verdicts and HostLeaves' bookkeeping.
#include "mailsec/findings/host_leaves.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace mailsec::findings {
namespace {

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kDay = 86'400;

PortLeaf Leaf(uint16_t port, const std::string& fp, int64_t not_after = kNow + 30 * kDay,
              int64_t not_before = kNow - 30 * kDay) {
  return PortLeaf{port, port == 25 ? "smtp" : "submission", fp, not_before, not_after};
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(CompareAcrossPortsTest, NothingToCompareGivesNoFinding) {
  EXPECT_FALSE(CompareAcrossPorts(Leaf(25, "aa"), {}, kNow).has_value());
  // The same port seen by another target is not another port.
  EXPECT_FALSE(CompareAcrossPorts(Leaf(25, "aa"), {Leaf(25, "bb")}, kNow).has_value());
}

TEST(CompareAcrossPortsTest, OneLeafEverywherePasses) {
  auto f = CompareAcrossPorts(Leaf(25, "aa"), {Leaf(465, "aa"), Leaf(587, "aa")}, kNow);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->check, kCertConsistentAcrossPortsCheck);
  EXPECT_EQ(f->verdict, checks::CheckVerdict::kPass);
  EXPECT_TRUE(Contains(f->detail, "the same leaf on port 465")) << f->detail;
  EXPECT_TRUE(Contains(f->detail, "587")) << f->detail;
}

TEST(CompareAcrossPortsTest, DifferentValidLeavesPassAndSaySo) {
  auto f = CompareAcrossPorts(Leaf(25, "aa"), {Leaf(587, "bb")}, kNow);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->verdict, checks::CheckVerdict::kPass);
  EXPECT_TRUE(Contains(f->detail, "other leaves on port 587")) << f->detail;
}

TEST(CompareAcrossPortsTest, ExpiredBesideValidWarnsOnBothSides) {
  const PortLeaf valid = Leaf(25, "aa");
  const PortLeaf expired = Leaf(587, "bb", kNow - kDay);
  auto on_valid = CompareAcrossPorts(valid, {expired}, kNow);
  ASSERT_TRUE(on_valid.has_value());
  EXPECT_EQ(on_valid->verdict, checks::CheckVerdict::kWarn);
  EXPECT_TRUE(Contains(on_valid->detail, "587 (submission, bb..., expired)")) << on_valid->detail;
  auto on_expired = CompareAcrossPorts(expired, {valid}, kNow);
  ASSERT_TRUE(on_expired.has_value());
  EXPECT_EQ(on_expired->verdict, checks::CheckVerdict::kWarn);
  EXPECT_TRUE(Contains(on_expired->detail, "outside its validity period")) << on_expired->detail;
  // Not yet valid counts as invalid too.
  auto early = CompareAcrossPorts(valid, {Leaf(465, "cc", kNow + 60 * kDay, kNow + kDay)}, kNow);
  ASSERT_TRUE(early.has_value());
  EXPECT_EQ(early->verdict, checks::CheckVerdict::kWarn);
  EXPECT_TRUE(Contains(early->detail, "not yet valid")) << early->detail;
  // Both expired: consistent (cert_expiry fails each of them).
  auto both = CompareAcrossPorts(expired, {Leaf(25, "aa", kNow - kDay)}, kNow);
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(both->verdict, checks::CheckVerdict::kPass);
}

TEST(CompareAcrossPortsTest, ManyPortsGiveABoundedDetail) {
  std::vector<PortLeaf> others;
  for (uint16_t p = 1000; p < 1100; ++p) others.push_back(Leaf(p, std::string(64, 'f')));
  auto f = CompareAcrossPorts(Leaf(25, "aa"), others, kNow);
  ASSERT_TRUE(f.has_value());
  EXPECT_LT(f->detail.size(), 400u) << f->detail;
}

probe::EndpointReport Endpoint(const std::string& host, const std::string& ip, uint16_t port,
                               const std::string& fp, int64_t not_after = kNow + 30 * kDay) {
  probe::EndpointReport e;
  e.target.service = port == 25 ? config::Service::kSmtp : config::Service::kSubmission;
  e.target.host = host;
  e.target.port = port;
  e.ip = ip;
  e.tls.has_leaf = !fp.empty();
  tls::CertFacts& leaf = e.tls.leaf.Edit();
  leaf.fingerprint_sha256 = fp;
  leaf.not_before = kNow - 30 * kDay;
  leaf.not_after = not_after;
  return e;
}

probe::TargetResult Result(const std::string& id, std::vector<probe::EndpointReport> endpoints) {
  probe::TargetResult r;
  r.target_id = id;
  r.endpoints = std::move(endpoints);
  return r;
}

const checks::Finding* Find(const probe::EndpointReport& e) {
  for (const auto& f : e.host_findings) {
    if (f.check == kCertConsistentAcrossPortsCheck) return &f;
  }
  return nullptr;
}

TEST(HostLeavesTest, ComparesTheSameHostAndAddressOnly) {
  HostLeaves leaves;
  auto smtp = Result("smtp://mx:25", {Endpoint("mx", "192.0.2.1", 25, "aa"),
                                      Endpoint("mx", "192.0.2.2", 25, "aa")});
  leaves.RecordAndEvaluate(&smtp, kNow);
  EXPECT_EQ(Find(smtp.endpoints[0]), nullptr);  // alone so far
  // 587 on the first address only, with an expired leaf; another host on the same address.
  auto sub = Result("submission://mx:587", {Endpoint("mx", "192.0.2.1", 587, "bb", kNow - 1)});
  auto other = Result("submission://other:587", {Endpoint("other", "192.0.2.2", 587, "cc")});
  leaves.RecordAndEvaluate(&sub, kNow);
  leaves.RecordAndEvaluate(&other, kNow);
  ASSERT_NE(Find(sub.endpoints[0]), nullptr);
  EXPECT_EQ(Find(sub.endpoints[0])->verdict, checks::CheckVerdict::kWarn);
  EXPECT_EQ(Find(other.endpoints[0]), nullptr);
  EXPECT_EQ(leaves.size(), 4u);

  // The next probe of 25 sees 587 on the first address, nothing on the second.
  leaves.RecordAndEvaluate(&smtp, kNow);
  ASSERT_NE(Find(smtp.endpoints[0]), nullptr);
  EXPECT_EQ(Find(smtp.endpoints[0])->verdict, checks::CheckVerdict::kWarn);
  EXPECT_EQ(Find(smtp.endpoints[1]), nullptr);
  EXPECT_EQ(smtp.endpoints[0].host_findings.size(), 1u);  // replaced, not added
  leaves.RecordAndEvaluate(&smtp, kNow);
  EXPECT_EQ(smtp.endpoints[0].host_findings.size(), 1u);

  // 587 renewed: consistent again from both sides.
  sub.endpoints[0].tls.leaf.Edit().not_after = kNow + 60 * kDay;
  leaves.RecordAndEvaluate(&sub, kNow);
  leaves.RecordAndEvaluate(&smtp, kNow);
  EXPECT_EQ(Find(sub.endpoints[0])->verdict, checks::CheckVerdict::kPass);
  EXPECT_EQ(Find(smtp.endpoints[0])->verdict, checks::CheckVerdict::kPass);
}

TEST(HostLeavesTest, UnrecordedProbesAreJudgedButNotKept) {
  HostLeaves leaves;
  auto smtp = Result("smtp://mx:25", {Endpoint("mx", "192.0.2.1", 25, "aa")});
  leaves.RecordAndEvaluate(&smtp, kNow);
  auto adhoc = Result("submission://mx:587", {Endpoint("mx", "192.0.2.1", 587, "aa")});
  leaves.RecordAndEvaluate(&adhoc, kNow, /*record=*/false);
  ASSERT_NE(Find(adhoc.endpoints[0]), nullptr);
  EXPECT_EQ(Find(adhoc.endpoints[0])->verdict, checks::CheckVerdict::kPass);
  EXPECT_EQ(leaves.size(), 1u);
}

TEST(HostLeavesTest, RetainForgetsDroppedTargetsAndAFailedProbeForgetsItsLeaf) {
  HostLeaves leaves;
  auto smtp = Result("smtp://mx:25", {Endpoint("mx", "192.0.2.1", 25, "aa")});
  auto sub = Result("submission://mx:587", {Endpoint("mx", "192.0.2.1", 587, "bb", kNow - 1)});
  leaves.RecordAndEvaluate(&smtp, kNow);
  leaves.RecordAndEvaluate(&sub, kNow);
  leaves.Retain({"smtp://mx:25"});
  EXPECT_EQ(leaves.size(), 1u);
  leaves.RecordAndEvaluate(&smtp, kNow);
  EXPECT_EQ(Find(smtp.endpoints[0]), nullptr);
  // A probe without a leaf (the server is down) replaces what the target had.
  auto down = Result("smtp://mx:25", {Endpoint("mx", "192.0.2.1", 25, "")});
  leaves.RecordAndEvaluate(&down, kNow);
  EXPECT_EQ(leaves.size(), 0u);
}

TEST(HostLeavesTest, BoundedByDroppingTheOldestTargets) {
  HostLeaves leaves;
  const size_t n = HostLeaves::kMaxEntries + 10;
  for (size_t i = 0; i < n; ++i) {
    auto r = Result("smtp://h" + std::to_string(i) + ":25",
                    {Endpoint("h" + std::to_string(i), "192.0.2.1", 25, "aa")});
    leaves.RecordAndEvaluate(&r, kNow);
  }
  EXPECT_EQ(leaves.size(), HostLeaves::kMaxEntries);
}

}  // namespace
}  // namespace mailsec::findings
