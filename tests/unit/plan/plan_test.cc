#include "mailsec/plan/plan.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace mailsec::plan {
namespace {

TEST(PlanTest, EndpointsAndDomainsWithIntervals) {
  config::Config c;
  c.global.interval = std::chrono::minutes(1);
  c.global.timeout = std::chrono::seconds(9);
  config::DomainConfig d;
  d.name = "example.org";
  c.domains.push_back(d);
  config::EndpointConfig e;
  e.target.service = config::Service::kImaps;
  e.target.host = "mail.example.org";
  e.target.port = 993;
  c.endpoints.push_back(e);
  Plan p = BuildPlan(c);
  ASSERT_EQ(p.targets.size(), 2u);
  EXPECT_EQ(p.targets[0].id, "example.org");
  EXPECT_EQ(p.targets[0].kind, Kind::kDomain);
  EXPECT_EQ(p.targets[1].id, "imaps://mail.example.org:993");
  EXPECT_EQ(p.targets[1].kind, Kind::kEndpoint);
  EXPECT_EQ(p.targets[1].interval, std::chrono::minutes(1));
  EXPECT_EQ(p.targets[1].timeout, std::chrono::seconds(9));
  EXPECT_EQ(p.Count(Kind::kEndpoint), 1u);
  EXPECT_EQ(p.Count(Kind::kDomain), 1u);
}

TEST(PlanTest, EmbeddedDefaultPlansEightServicesOfLocalhost) {
  Plan p = BuildPlan(config::EmbeddedDefaultConfig());
  ASSERT_EQ(p.targets.size(), 8u);
  EXPECT_EQ(p.targets[0].id, "smtp://localhost:25");
  EXPECT_EQ(p.targets[7].id, "sieve://localhost:4190");
}

// FNV-1a 64 reference values (the published test vectors, and one canonical target computed
// independently): a change here would move targets between replicas of a running fleet.
TEST(StableHashTest, KnownValues) {
  EXPECT_EQ(StableHash(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(StableHash("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(StableHash("foobar"), 0x85944171f73967e8ULL);
  EXPECT_EQ(StableHash("smtp://mx.example.org:25"), 0x70fc4a3905c8deb9ULL);
  EXPECT_EQ(StableHash("example.org"), 0xee7160631269bf51ULL);
}

config::Config ManyTargets(int domains, int endpoints) {
  config::Config c;
  for (int i = 0; i < domains; ++i) {
    config::DomainConfig d;
    d.name = "d" + std::to_string(i) + ".example.org";
    c.domains.push_back(d);
  }
  for (int i = 0; i < endpoints; ++i) {
    config::EndpointConfig e;
    e.target.service = i % 2 ? config::Service::kImaps : config::Service::kSmtp;
    e.target.host = "mx" + std::to_string(i) + ".example.org";
    e.target.port = i % 2 ? 993 : 25;
    c.endpoints.push_back(e);
  }
  return c;
}

TEST(ShardTest, EveryTargetInExactlyOneShard) {
  const config::Config c = ManyTargets(40, 160);
  const Plan all = BuildPlan(c);
  ASSERT_EQ(all.targets.size(), 200u);
  for (uint32_t n = 1; n <= 5; ++n) {
    std::map<std::string, int> owners;
    size_t total = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const Plan p = BuildPlan(c, Shard{i, n});
      EXPECT_EQ(p.configured, 200u);
      total += p.targets.size();
      // Each shard gets a fair share (200 targets, a good hash: well within half to double).
      EXPECT_GT(p.targets.size(), 200u / n / 2) << i << "/" << n;
      EXPECT_LT(p.targets.size(), 200u / n * 2) << i << "/" << n;
      for (const auto& t : p.targets) {
        ++owners[t.id];
        EXPECT_EQ(StableHash(t.id) % n, i) << t.id;
      }
      EXPECT_EQ(p.Count(Kind::kEndpoint) + p.Count(Kind::kDomain), p.targets.size());
    }
    EXPECT_EQ(total, 200u) << "N=" << n;
    EXPECT_EQ(owners.size(), 200u) << "N=" << n;
    for (const auto& [id, count] : owners) EXPECT_EQ(count, 1) << id << " N=" << n;
  }
}

TEST(ShardTest, ShardKeepsConfigOrder) {
  const config::Config c = ManyTargets(5, 20);
  const Plan all = BuildPlan(c);
  const Plan one = BuildPlan(c, Shard{1, 3});
  size_t j = 0;
  for (const auto& t : all.targets) {
    if (j < one.targets.size() && one.targets[j].id == t.id) ++j;
  }
  EXPECT_EQ(j, one.targets.size());
}

TEST(ShardTest, ParsesGoodValues) {
  for (const auto& [text, index, count] : std::vector<std::tuple<std::string, uint32_t, uint32_t>>{
           {"0/1", 0, 1}, {"0/3", 0, 3}, {"2/3", 2, 3}, {"1023/1024", 1023, 1024}}) {
    Result<Shard> s = ParseShard(text);
    ASSERT_TRUE(s.ok()) << text << ": " << s.status().message();
    EXPECT_EQ(s->index, index) << text;
    EXPECT_EQ(s->count, count) << text;
    EXPECT_EQ(s->ToString(), text);
  }
}

TEST(ShardTest, RejectsBadValues) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"3/2", "shard index must be below the count (0..1)"},
      {"2/2", "shard index must be below the count (0..1)"},
      {"0/0", "shard count must be at least 1"},
      {"0/1025", "shard count must be at most 1024"},
      {"a/b", "shard must be INDEX/COUNT with decimal numbers, e.g. 0/3"},
      {"-1/2", "shard must be INDEX/COUNT with decimal numbers, e.g. 0/3"},
      {"+1/2", "shard must be INDEX/COUNT with decimal numbers, e.g. 0/3"},
      {"1/ 2", "shard must be INDEX/COUNT with decimal numbers, e.g. 0/3"},
      {"1/2/3", "shard must be INDEX/COUNT with decimal numbers, e.g. 0/3"},
      {"/2", "shard must be INDEX/COUNT with decimal numbers, e.g. 0/3"},
      {"99999999999/2", "shard must be INDEX/COUNT with decimal numbers, e.g. 0/3"},
      {"1", "shard must be INDEX/COUNT, e.g. 0/3"},
      {"", "shard must be INDEX/COUNT, e.g. 0/3"},
  };
  for (const auto& [text, message] : cases) {
    Result<Shard> s = ParseShard(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().message(), message) << text;
  }
}

}  // namespace
}  // namespace mailsec::plan
