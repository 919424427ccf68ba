#include "mailsec/plan/plan.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace mailsec::plan
