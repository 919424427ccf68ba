// Integration test: the bundled dashboards and alert rules against a real Prometheus.
//
// The fleet (Postfix, plus NSD, Unbound and nginx for the test domains; see fleet.h) is probed by
// one exporter with a 5 s interval; Debian's /usr/bin/prometheus scrapes it every second with
// deploy/prometheus/alerts.yml loaded, on fleet.address() with its own storage under the fleet
// directory. Once the samples the dashboards need are in Prometheus (fast probes, domain runs,
// a deep scan; every wait bounded), every PromQL expression of every panel and query variable of
// dashboards/*.json and every rule Prometheus loaded goes through /api/v1/query: each must parse
// and evaluate, and every panel query must return data, except where kMayBeEmpty says why not.
// ShardTest runs three exporters with --shard=i/3 on one config and checks the split (also after
// a reload) against the documented hash.
// Every address is on 127.0.0.0/8; Prometheus and the exporter are stopped by pid at the end.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exporter_process.h"
#include "fleet.h"
#include "fleet_main.h"
#include "metrics_assert.h"

#ifndef MAILSEC_FLEET_BASE_DIR
#error "MAILSEC_FLEET_BASE_DIR must name a directory in the build tree"
#endif
#ifndef MAILSEC_SOURCE_DIR
#error "MAILSEC_SOURCE_DIR must name the source tree (dashboards/, deploy/)"
#endif
#ifndef MAILSEC_EXPORTER_BIN
#error "MAILSEC_EXPORTER_BIN must name the exporter binary"
#endif

namespace mailsec::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr char kPrometheusBin[] = "/usr/bin/prometheus";

std::string SourcePath(const std::string& relative) {
  return std::string(MAILSEC_SOURCE_DIR) + "/" + relative;
}

// Panel targets that may legitimately return nothing against the test fleet, keyed by
// "<dashboard file>: <panel title> [<refId>]", with the reason. Keep it short: a panel that
// shows nothing here shows nothing to a user with a similar fleet.
const std::map<std::string, std::string>& MayBeEmpty() {
  static const std::map<std::string, std::string> m = {};
  return m;
}

// ---------------------------------------------------------------------------------------------
// Debian's Prometheus as a child process.

class PrometheusProcess {
 public:
  explicit PrometheusProcess(Fleet& fleet)
      : dir_(fleet.dir() + "/prometheus"), address_(fleet.address()), port_(fleet.AllocatePort()) {}
  ~PrometheusProcess() { Stop(); }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  std::string listen_address() const { return address_ + ":" + std::to_string(port_); }
  std::string LogTail() const { return FileTail(dir_ + "/prometheus.log", 30); }

  // Writes prometheus.yml (scrape `scrape_target` every second, load `rules_file`), starts
  // Prometheus, records its pid in prometheus.pid and waits (bounded) for /-/ready.
  ::testing::AssertionResult Start(const std::string& scrape_target,
                                   const std::string& rules_file) {
    std::error_code ec;
    std::filesystem::create_directories(dir_ + "/data", ec);
    if (ec) return ::testing::AssertionFailure() << "mkdir " << dir_ << ": " << ec.message();
    const std::string config = dir_ + "/prometheus.yml";
    if (!WriteFile(config,
                   "global:\n"
                   "  scrape_interval: 1s\n"
                   "  scrape_timeout: 1s\n"
                   "  evaluation_interval: 1s\n"
                   "rule_files:\n"
                   "  - \"" +
                       rules_file +
                       "\"\n"
                       "scrape_configs:\n"
                       "  - job_name: mailsec\n"
                       "    static_configs:\n"
                       "      - targets: [\"" +
                       scrape_target + "\"]\n")) {
      return ::testing::AssertionFailure() << "cannot write " << config;
    }
    pid_ = SpawnProcess(
        {kPrometheusBin, "--config.file=" + config, "--storage.tsdb.path=" + dir_ + "/data",
         "--web.listen-address=" + listen_address(), "--log.level=warn"},
        dir_ + "/prometheus.log");
    if (pid_ <= 0) return ::testing::AssertionFailure() << "cannot start " << kPrometheusBin;
    WriteFile(dir_ + "/prometheus.pid", std::to_string(pid_) + "\n");
    const auto deadline = Clock::now() + seconds(20);
    while (Clock::now() < deadline) {
      if (WaitForExit(pid_, milliseconds(0))) {
        pid_ = -1;
        return ::testing::AssertionFailure() << "prometheus exited:\n" << LogTail();
      }
      httplib::Client c(address_, port_);
      c.set_connection_timeout(1, 0);
      c.set_read_timeout(2, 0);
      if (auto r = c.Get("/-/ready"); r && r->status == 200) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(milliseconds(200));
    }
    return ::testing::AssertionFailure() << "prometheus not ready within 20 s:\n" << LogTail();
  }

  // Stops the process recorded in prometheus.pid (SIGTERM, bounded wait, SIGKILL). Idempotent.
  void Stop() {
    if (pid_ > 0) TerminateProcess(pid_, seconds(5));
    pid_ = -1;
  }

  // POST /api/v1/query (form-encoded), evaluated now. On a transport or HTTP error the returned
  // object has "status": "transport_error" and an "error".
  nlohmann::json Query(const std::string& expr) const {
    httplib::Client c(address_, port_);
    c.set_connection_timeout(2, 0);
    c.set_read_timeout(10, 0);
    httplib::Params params{{"query", expr}};
    auto r = c.Post("/api/v1/query", params);
    return Decode(r);
  }

  nlohmann::json Get(const std::string& path) const {
    httplib::Client c(address_, port_);
    c.set_connection_timeout(2, 0);
    c.set_read_timeout(10, 0);
    return Decode(c.Get(path.c_str()));
  }

 private:
  static nlohmann::json Decode(const httplib::Result& r) {
    if (!r) {
      return {{"status", "transport_error"}, {"error", httplib::to_string(r.error())}};
    }
    nlohmann::json j = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return {{"status", "transport_error"},
              {"error", "HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 200)}};
    }
    return j;
  }

  std::string dir_;
  std::string address_;
  std::uint16_t port_;
  pid_t pid_ = -1;
};

// Number of series (vector/matrix) or 1 for a scalar/string result; -1 when the query failed.
int ResultSize(const nlohmann::json& reply) {
  if (reply.value("status", "") != "success") return -1;
  const nlohmann::json& data = reply["data"];
  const std::string type = data.value("resultType", "");
  if (type == "scalar" || type == "string") return 1;
  return static_cast<int>(data["result"].size());
}

std::string ReplyError(const nlohmann::json& reply) {
  return reply.value("errorType", std::string()) + " " + reply.value("error", std::string());
}

// Grafana's variables as "All" would set them, and its interval macros, for a query run now.
std::string SubstituteVariables(std::string expr) {
  static const std::vector<std::pair<std::regex, std::string>> kRules = {
      {std::regex(R"(\$\{?__rate_interval\}?)"), "1m"},
      {std::regex(R"(\$\{?__interval\}?)"), "15s"},
      {std::regex(R"(\$\{?__range\}?)"), "1m"},
      // $domain, ${host}, ${service:regex}: multi-value variables, allValue ".*".
      {std::regex(R"(\$\{?(domain|host|service)(:[a-z]+)?\}?)"), ".*"},
  };
  for (const auto& [re, value] : kRules) expr = std::regex_replace(expr, re, value);
  return expr;
}

struct PanelQuery {
  std::string where;  // "<file>: <panel title> [<refId>]"
  std::string expr;
};

// Every target of every panel (rows' nested panels included) and the selector of every query
// variable (label_values(SELECTOR, label)) of one dashboard.
void CollectQueries(const std::string& file, const nlohmann::json& dash,
                    std::vector<PanelQuery>* panels, std::vector<PanelQuery>* variables) {
  std::vector<nlohmann::json> stack(dash["panels"].begin(), dash["panels"].end());
  while (!stack.empty()) {
    nlohmann::json p = stack.back();
    stack.pop_back();
    if (p.contains("panels")) {
      for (const auto& inner : p["panels"]) stack.push_back(inner);
    }
    if (!p.contains("targets")) continue;
    for (const auto& t : p["targets"]) {
      panels->push_back({file + ": " + p.value("title", "?") + " [" + t.value("refId", "?") + "]",
                         t.value("expr", "")});
    }
  }
  static const std::regex kLabelValues(R"(^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$)");
  for (const auto& v : dash["templating"]["list"]) {
    if (v.value("type", "") != "query") continue;
    const std::string q =
        v["query"].is_object() ? v["query"].value("query", "") : v["query"].get<std::string>();
    std::smatch m;
    if (std::regex_match(q, m, kLabelValues)) {
      variables->push_back({file + ": variable " + v.value("name", "?"), m[1].str()});
    } else {
      variables->push_back({file + ": variable " + v.value("name", "?"), q});
    }
  }
}

// ---------------------------------------------------------------------------------------------

class PrometheusIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto started = Clock::now();
    exporter_ = new ExporterProcess(*g_fleet, "prometheus");
    const std::string a = g_fleet->address();
    auto endpoint = [&](const std::string& service, std::uint16_t port) {
      return "\n[[endpoint]]\ntarget = " +
             TomlString(service + "://" + a + ":" + std::to_string(port)) + "\n";
    };
    std::string toml =
        "[global]\n"
        "interval = \"5s\"\n"
        "scan_interval = \"1h\"\n"
        "timeout = \"4s\"\n"
        "helo_name = \"probe.test\"\n"
        "resolvers = [" +
        TomlString(g_fleet->dns_resolver()) +
        "]\n"
        "ca_file = " +
        TomlString(g_fleet->ca_bundle_path()) +
        "\n"
        "state_file = " +
        TomlString(exporter_->state_file_path()) + "\n";
    toml += "\n[[domain]]\nname = \"good.test\"\ndkim_selectors = [\"s1\"]\n";
    toml += "\n[[domain]]\nname = \"weak.test\"\ndkim_selectors = [\"s1\"]\n";
    toml += endpoint("smtp", Fleet::kSmtpGoodPort);     // good certificate
    toml += endpoint("smtp", Fleet::kSmtpExpiredPort);  // expired certificate: failing checks
    toml += endpoint("smtp", Fleet::kSmtpNotlsPort);    // no STARTTLS: a downgrade signal
    toml += endpoint("submissions", Fleet::kSubmissionsPort);
    ASSERT_TRUE(exporter_->WriteConfig(toml));
    ASSERT_TRUE(exporter_->StartAndWait()) << exporter_->LogTail();

    prometheus_ = new PrometheusProcess(*g_fleet);
    ASSERT_TRUE(prometheus_->Start(exporter_->listen_address(),
                                   SourcePath("deploy/prometheus/alerts.yml")));

    // What the panels need, first in the exporter: both domain runs (with the MX probes) and a
    // deep scan of the good endpoint and of good.test's MX.
    const auto budget = seconds(90);  // generous for sanitizer builds; about 20 s in Release
    for (const char* d : {"good.test", "weak.test"}) {
      ASSERT_TRUE(exporter_->WaitForMetric("mailsec_domain_probe_timestamp_seconds",
                                           {{"domain", d}}, budget))
          << d << "\n"
          << exporter_->LogTail();
    }
    ASSERT_TRUE(exporter_->WaitForMetric(
        "mailsec_scan_timestamp_seconds",
        {{"host", a}, {"port", std::to_string(Fleet::kSmtpGoodPort)}}, budget))
        << exporter_->LogTail();
    ASSERT_TRUE(exporter_->WaitForMetric("mailsec_scan_timestamp_seconds",
                                         {{"host", "mx.good.test"}}, budget))
        << exporter_->LogTail();
    // ... then in Prometheus: the latest of those scraped, and two scrapes of the counters so
    // rate() has a value.
    const auto deadline = Clock::now() + seconds(20);
    const std::vector<std::string> ready_queries = {
        "count(mailsec_tls_version_supported{host=\"mx.good.test\"})",
        "count(mailsec_domain_probe_timestamp_seconds)",
        "count(rate(mailsec_probes_total[1m]))",
        "count(count_over_time(mailsec_probe_success[1m]) >= 3)",
    };
    for (const auto& q : ready_queries) {
      while (ResultSize(prometheus_->Query(q)) < 1) {
        ASSERT_LT(Clock::now(), deadline) << "no data in Prometheus for " << q << "\n"
                                          << prometheus_->LogTail();
        std::this_thread::sleep_for(milliseconds(500));
      }
    }
    setup_seconds_ = std::chrono::duration<double>(Clock::now() - started).count();
  }

  static void TearDownTestSuite() {
    if (prometheus_ != nullptr) prometheus_->Stop();
    if (exporter_ != nullptr) exporter_->Stop();
    delete prometheus_;
    delete exporter_;
    prometheus_ = nullptr;
    exporter_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(prometheus_, nullptr);
    ASSERT_NE(exporter_, nullptr);
  }

  static std::vector<std::string> DashboardFiles() {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(SourcePath("dashboards"))) {
      if (e.path().extension() == ".json") files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  static ExporterProcess* exporter_;
  static PrometheusProcess* prometheus_;
  static double setup_seconds_;
};
ExporterProcess* PrometheusIntegrationTest::exporter_ = nullptr;
PrometheusProcess* PrometheusIntegrationTest::prometheus_ = nullptr;
double PrometheusIntegrationTest::setup_seconds_ = 0;

TEST_F(PrometheusIntegrationTest, EveryDashboardPanelQueryReturnsData) {
  RecordProperty("setup_seconds", std::to_string(setup_seconds_));
  const std::vector<std::string> files = DashboardFiles();
  ASSERT_EQ(files.size(), 3u) << "dashboards/ should hold fleet_overview, domain, endpoint";
  int checked = 0, exempt = 0;
  for (const auto& path : files) {
    const nlohmann::json dash =
        nlohmann::json::parse(ReadFile(path), nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(dash.is_discarded()) << path;
    const std::string file = std::filesystem::path(path).filename().string();
    std::vector<PanelQuery> panels, variables;
    CollectQueries(file, dash, &panels, &variables);
    EXPECT_GE(panels.size(), 10u) << file;
    for (const auto& q : panels) {
      const std::string expr = SubstituteVariables(q.expr);
      const nlohmann::json reply = prometheus_->Query(expr);
      const int n = ResultSize(reply);
      ++checked;
      EXPECT_GE(n, 0) << q.where << ": " << ReplyError(reply) << "\n  " << expr;
      if (n != 0) continue;
      if (auto it = MayBeEmpty().find(q.where); it != MayBeEmpty().end()) {
        ++exempt;
        continue;
      }
      ADD_FAILURE() << q.where << ": no data\n  " << expr;
    }
    for (const auto& q : variables) {
      const std::string expr = SubstituteVariables(q.expr);
      const nlohmann::json reply = prometheus_->Query(expr);
      EXPECT_GT(ResultSize(reply), 0) << q.where << ": " << ReplyError(reply) << "\n  " << expr;
    }
  }
  EXPECT_GE(checked, 30);
  std::cout << "checked " << checked << " panel queries (" << exempt
            << " allowed empty), setup took " << setup_seconds_ << " s\n";
}

TEST_F(PrometheusIntegrationTest, EveryRuleIsLoadedAndEvaluatesWithoutError) {
  // Every rule of alerts.yml is loaded ...
  const std::string rules_text = ReadFile(SourcePath("deploy/prometheus/alerts.yml"));
  std::size_t in_file = 0;
  static const std::regex kAlertLine(R"((^|\n)\s*-\s+alert:\s)");
  for (auto it = std::sregex_iterator(rules_text.begin(), rules_text.end(), kAlertLine);
       it != std::sregex_iterator(); ++it) {
    ++in_file;
  }
  ASSERT_GE(in_file, 30u);
  // ... and evaluated at least once without error (evaluation_interval is 1 s; bounded wait).
  nlohmann::json groups;
  const auto deadline = Clock::now() + seconds(15);
  for (;;) {
    const nlohmann::json reply = prometheus_->Get("/api/v1/rules");
    ASSERT_EQ(reply.value("status", ""), "success") << ReplyError(reply);
    groups = reply["data"]["groups"];
    bool all_evaluated = true;
    for (const auto& g : groups) {
      for (const auto& r : g["rules"])
        all_evaluated = all_evaluated && r.value("health", "") != "unknown";
    }
    if (all_evaluated || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(milliseconds(500));
  }
  std::size_t loaded = 0;
  for (const auto& g : groups) {
    for (const auto& r : g["rules"]) {
      ++loaded;
      const std::string name = r.value("name", "?");
      EXPECT_EQ(r.value("health", ""), "ok") << name << ": " << r.value("lastError", "");
      // The expression as Prometheus loaded it, through the query API as well.
      const nlohmann::json reply = prometheus_->Query(r.value("query", ""));
      EXPECT_GE(ResultSize(reply), 0) << name << ": " << ReplyError(reply);
    }
  }
  EXPECT_EQ(loaded, in_file) << "rules loaded by Prometheus vs `- alert:` lines in alerts.yml";
}

// The fleet does fire some alerts (an expired certificate, a port without STARTTLS): the rules
// see the exporter's real series, not only promtool's synthetic ones.
TEST_F(PrometheusIntegrationTest, RulesSeeTheFleetsProblems) {
  const auto deadline = Clock::now() + seconds(15);
  for (const char* alert : {"MailsecCertificateExpired", "MailsecStartTLSDowngrade"}) {
    const std::string q = std::string("ALERTS{alertname=\"") + alert + "\"}";
    while (ResultSize(prometheus_->Query(q)) < 1) {
      ASSERT_LT(Clock::now(), deadline) << alert << " never became pending or firing";
      std::this_thread::sleep_for(milliseconds(500));
    }
  }
}

// FNV-1a 64, written out again here (not linked from src/plan) so that the test checks the
// exporter against the documented hash rather than against itself.
uint64_t Fnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The endpoint targets (ids as the exporter writes them) that an exporter's last probes cover:
// every `mailsec_probe_timestamp_seconds` series on the fleet's address.
std::set<std::string> ProbedEndpoints(const std::string& metrics) {
  std::set<std::string> out;
  for (const Sample& s : ParseMetrics(metrics)) {
    if (s.name != "mailsec_probe_timestamp_seconds") continue;
    if (s.labels.count("host") == 0 || s.labels.at("host") != g_fleet->address()) continue;
    out.insert(s.labels.at("service") + "://" + s.labels.at("host") + ":" + s.labels.at("port"));
  }
  return out;
}

// Three exporters with one config and --shard=i/3 probe disjoint sets of targets that together
// are the whole config, each the targets whose hash falls in its shard; mailsec_targets counts
// each shard's share; after a reload that adds targets, the same holds for the new config.
TEST(ShardTest, ReplicasSplitTheTargetsByStableHash) {
  ASSERT_NE(g_fleet, nullptr);
  const std::string a = g_fleet->address();
  const std::vector<std::pair<std::string, std::uint16_t>> first = {
      {"smtp", Fleet::kSmtpGoodPort},        {"smtp", Fleet::kSmtpExpiredPort},
      {"smtp", Fleet::kSmtpWronghostPort},   {"smtp", Fleet::kSmtpNotlsPort},
      {"smtp", Fleet::kSmtpRsaPort},         {"submissions", Fleet::kSubmissionsPort},
      {"submission", Fleet::kSubmissionPort}};
  const std::vector<std::pair<std::string, std::uint16_t>> added = {
      {"smtp", Fleet::kSmtpSelfsignedPort},
      {"smtp", Fleet::kSmtpTls12Port},
      {"smtp", Fleet::kSmtpNointermediatePort}};
  constexpr int kShards = 3;
  std::vector<std::unique_ptr<ExporterProcess>> replicas;
  auto config = [&](const std::vector<std::pair<std::string, std::uint16_t>>& endpoints,
                    const ExporterProcess& e) {
    std::string toml =
        "[global]\ninterval = \"3s\"\nscan_interval = \"24h\"\ntimeout = \"3s\"\n"
        "ca_file = " +
        TomlString(g_fleet->ca_bundle_path()) +
        "\n"
        "state_file = " +
        TomlString(e.state_file_path()) + "\n";
    for (const auto& [service, port] : endpoints) {
      toml += "\n[[endpoint]]\ntarget = " +
              TomlString(service + "://" + a + ":" + std::to_string(port)) + "\n";
    }
    return toml;
  };
  auto check = [&](const std::vector<std::pair<std::string, std::uint16_t>>& endpoints) {
    std::set<std::string> all;
    for (const auto& [service, port] : endpoints) {
      all.insert(service + "://" + a + ":" + std::to_string(port));
    }
    std::set<std::string> seen;
    double counted = 0;
    for (int i = 0; i < kShards; ++i) {
      std::set<std::string> mine;
      for (const auto& id : all) {
        if (Fnv1a64(id) % kShards == static_cast<uint64_t>(i)) mine.insert(id);
      }
      ExporterProcess& e = *replicas[i];
      // Every target of this shard probed once (first probes within one 3 s interval).
      std::set<std::string> probed;
      const auto deadline = Clock::now() + seconds(20);
      while (Clock::now() < deadline) {
        HttpResponse r = e.Get("/metrics");
        probed = ProbedEndpoints(r.body);
        if (std::includes(probed.begin(), probed.end(), mine.begin(), mine.end())) {
          counted += MetricValue(r.body, "mailsec_targets", {{"kind", "endpoint"}}).value_or(-1);
          EXPECT_TRUE(HasValue(r.body, "mailsec_targets", {{"kind", "endpoint"}},
                               static_cast<double>(mine.size())))
              << "shard " << i;
          break;
        }
        std::this_thread::sleep_for(milliseconds(300));
      }
      EXPECT_EQ(probed, mine) << "shard " << i << "/" << kShards << "\n" << e.LogTail(20);
      for (const auto& id : probed) {
        EXPECT_TRUE(seen.insert(id).second) << id << " probed by two shards";
      }
    }
    EXPECT_EQ(seen, all);
    EXPECT_EQ(counted, static_cast<double>(all.size()));
  };

  for (int i = 0; i < kShards; ++i) {
    replicas.push_back(std::make_unique<ExporterProcess>(*g_fleet, "shard" + std::to_string(i)));
    ExporterProcess& e = *replicas.back();
    e.set_extra_args({"--shard=" + std::to_string(i) + "/" + std::to_string(kShards)});
    ASSERT_TRUE(e.WriteConfig(config(first, e)));
    ASSERT_TRUE(e.StartAndWait()) << e.LogTail();
  }
  check(first);

  std::vector<std::pair<std::string, std::uint16_t>> second = first;
  second.insert(second.end(), added.begin(), added.end());
  for (auto& e : replicas) {
    ASSERT_TRUE(e->WriteConfig(config(second, *e)));
    HttpResponse r = e->Reload();
    ASSERT_EQ(r.status, 200) << r.body;
  }
  check(second);
  for (auto& e : replicas) e->Stop();
}

TEST(ShardFlagTest, BadValuesAreUsageErrors) {
  for (const char* bad : {"--shard=3/2", "--shard=a/b", "--shard=0/0"}) {
    CommandResult r = RunCommand({MAILSEC_EXPORTER_BIN, bad}, seconds(10));
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("--shard: "), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace mailsec::testing

int main(int argc, char** argv) {
  return mailsec::testing::RunWithFleet(argc, argv, MAILSEC_FLEET_BASE_DIR,
                                        mailsec::testing::FleetOptions{.dns = true});
}
