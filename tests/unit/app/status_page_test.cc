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
  d.plan = std::make_shared<const plan::Plan>(plan::Plan{.targets = {a, b, dom}});
  probe::EndpointReport r;
  r.target.service = config::Service::kSmtp;
  r.ip = "192.0.2.1";
  r.success = false;
  r.error = "greeting: <script>alert(1)</script>";
  r.finished_at = 90;
  probe::RaiseSignal(&r, probe::Signal::kStartTlsMasked, "capability <XXXXXXXA>");
  d.now = 100;
  auto result = std::make_shared<probe::TargetResult>();
  result->target_id = a.id;
  result->endpoints.push_back(r);
  d.results[a.id] = result;
  std::string html = RenderStatusPage(d);
  EXPECT_NE(html.find("smtp://mx.example.org:25"), std::string::npos);
  EXPECT_NE(html.find("imaps://pending.example.org:993"), std::string::npos);
  EXPECT_NE(html.find("pending"), std::string::npos);
  EXPECT_NE(html.find("10s ago"), std::string::npos);
  EXPECT_NE(html.find("example.org"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("starttls_masked (STARTTLS masked by a device on the path: capability "
                      "&lt;XXXXXXXA&gt;)"),
            std::string::npos)
      << html;
}

// A domain target: its checks that do not pass, its DNS errors, and the MX it probed.
TEST(StatusPageTest, DomainShowsFailingChecksAndDiscoveredEndpoints) {
  StatusPageData d;
  plan::Target dom;
  dom.id = "example.org";
  dom.kind = plan::Kind::kDomain;
  d.plan = std::make_shared<const plan::Plan>(plan::Plan{.targets = {dom}});
  auto shared = std::make_shared<probe::TargetResult>();
  d.results[dom.id] = shared;
  probe::TargetResult& res = *shared;
  res.target_id = dom.id;
  probe::DomainReport report;
  report.domain = "example.org";
  report.dns_ok = false;
  report.dns_errors = {"TXT _dmarc.example.org: servfail"};
  report.findings.push_back({"spf_lookup_limit", checks::CheckVerdict::kFail, "11 lookups <b>"});
  report.findings.push_back({"dmarc_present", checks::CheckVerdict::kPass, "fine"});
  report.finished_at = 95;
  res.domain = std::make_shared<const probe::DomainReport>(report);
  probe::EndpointReport mx;
  mx.target.service = config::Service::kSmtp;
  mx.target.host = "mx.example.org";
  mx.target.port = 25;
  mx.ip = "192.0.2.25";
  mx.success = true;
  mx.discovered_by = "mx";
  auto mx_scan = std::make_shared<probe::ScanReport>();
  mx_scan->findings.push_back({"tls_weak_ciphers", checks::CheckVerdict::kFail, "RC4"});
  mx.scan = mx_scan;
  res.endpoints.push_back(mx);
  d.now = 100;
  const std::string html = RenderStatusPage(d);
  EXPECT_NE(html.find("spf_lookup_limit (fail): 11 lookups &lt;b&gt;"), std::string::npos) << html;
  EXPECT_EQ(html.find("dmarc_present"), std::string::npos);  // passing checks are not listed
  EXPECT_NE(html.find("TXT _dmarc.example.org: servfail"), std::string::npos);
  EXPECT_NE(html.find("smtp://mx.example.org:25"), std::string::npos);
  EXPECT_NE(html.find("tls_weak_ciphers fail"), std::string::npos);
  EXPECT_NE(html.find("5s ago"), std::string::npos);
}

}  // namespace
}  // namespace mailsec::app
