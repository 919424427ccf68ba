#include "app/status_page.h"

#include <gtest/gtest.h>

namespace mailsec::app {
namespace {

TEST(StatusPageTest, EscapesAndListsEveryTarget) {
  StatusPageData d;
  d.version = "1.0";
  d.config_source = "/etc/x.toml";
  plan::Target a;
  a.id = "smtp://mx.example.org:25";
  plan::Target b;
  b.id = "imaps://pending.example.org:993";
  plan::Target dom;
  dom.id = "example.org";
  dom.kind = plan::Kind::kDomain;
  d.plan.targets = {a, b, dom};
  probe::EndpointReport r;
  r.target.service = config::Service::kSmtp;
  r.ip = "192.0.2.1";
  r.success = false;
  r.error = "greeting: <script>alert(1)</script>";
  r.finished_at = 90;
  d.now = 100;
  d.results[a.id].target_id = a.id;
  d.results[a.id].endpoints.push_back(r);
  std::string html = RenderStatusPage(d);
  EXPECT_NE(html.find("smtp://mx.example.org:25"), std::string::npos);
  EXPECT_NE(html.find("imaps://pending.example.org:993"), std::string::npos);
  EXPECT_NE(html.find("pending"), std::string::npos);
  EXPECT_NE(html.find("10s ago"), std::string::npos);
  EXPECT_NE(html.find("not probed: domain checks arrive with the DNS layer"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
}

}  // namespace
}  // namespace mailsec::app
