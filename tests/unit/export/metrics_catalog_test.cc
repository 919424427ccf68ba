#include "export/metrics_catalog.h"

#include <gtest/gtest.h>
#include <prometheus/check_names.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace mailsec::exporter {
namespace {

const MetricDef* Find(std::string_view name) {
  for (const MetricDef& d : Catalog()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

TEST(MetricsCatalogTest, NamesAndLabelsPassPrometheusChecks) {
  std::set<std::string_view> names;
  for (const MetricDef& d : Catalog()) {
    SCOPED_TRACE(d.name);
    EXPECT_TRUE(prometheus::CheckMetricName(std::string(d.name)));
    EXPECT_TRUE(d.name.starts_with("mailsec_"));
    // mailsec_check_result has two entries (endpoint and domain labels), merged when rendered.
    EXPECT_TRUE(names.insert(d.name).second || d.id == Metric::kCheckResultDomain) << "duplicate";
    EXPECT_EQ(&Def(d.id), &d);
    std::set<std::string_view> labels;
    for (std::string_view l : d.labels) {
      EXPECT_TRUE(prometheus::CheckLabelName(std::string(l))) << l;
      EXPECT_TRUE(labels.insert(l).second) << "duplicate label " << l;
    }
    // The text serializer prints help as is.
    EXPECT_FALSE(d.help.empty());
    EXPECT_EQ(d.help.find_first_of("\\\n"), std::string_view::npos);
    // Prometheus naming conventions.
    EXPECT_EQ(d.type == MetricType::kCounter, d.name.ends_with("_total"));
    if (d.name.ends_with("_info")) {
      EXPECT_FALSE(d.labels.empty());
    }
  }
}

TEST(MetricsCatalogTest, CatalogIsSortedByName) {
  const auto catalog = Catalog();
  for (size_t i = 1; i < catalog.size(); ++i) {
    // mailsec_check_result is listed twice: endpoint labels, then domain labels.
    if (catalog[i].id == Metric::kCheckResultDomain) {
      EXPECT_EQ(catalog[i - 1].name, catalog[i].name);
      continue;
    }
    EXPECT_LT(catalog[i - 1].name, catalog[i].name);
  }
}

std::string ReadDocs() {
  const std::filesystem::path path =
      std::filesystem::path(MAILSEC_TESTDATA "/../../../docs/metrics.md").lexically_normal();
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Each metric has one row in docs/metrics.md: "| `name` | type | `label`, ... | ...".
TEST(MetricsCatalogTest, EveryMetricIsDocumentedWithItsTypeAndLabels) {
  const std::string docs = ReadDocs();
  for (const MetricDef& d : Catalog()) {
    SCOPED_TRACE(d.name);
    const std::string head = "\n| `" + std::string(d.name) + "` |";
    const size_t at = docs.find(head);
    ASSERT_NE(at, std::string::npos) << "no row in docs/metrics.md";
    EXPECT_EQ(docs.find(head, at + 1), std::string::npos) << "two rows";
    // Both label sets of mailsec_check_result are named in its one row.
    const size_t end = docs.find('\n', at + 1);
    const std::string row = docs.substr(at + 1, end - at - 1);
    EXPECT_NE(row.find("| " + std::string(TypeName(d.type)) + " |"), std::string::npos) << row;
    for (std::string_view l : d.labels) {
      EXPECT_NE(row.find("`" + std::string(l) + "`"), std::string::npos) << l << " in " << row;
    }
  }
}

// CONTRACT.md: the names and labels the outside world relies on. Deep-scan and DANE metrics are
// not rendered from EndpointReport yet and so are not listed.
TEST(MetricsCatalogTest, ContractMetricsAreInTheCatalogWithExactLabels) {
  const std::vector<std::string_view> kEndpoint = {"service", "host", "port", "ip"};
  struct Want {
    std::string_view name;
    std::vector<std::string_view> extra;
    bool endpoint = true;
  };
  const std::vector<Want> kContract = {
      {"mailsec_probe_success", {}},
      {"mailsec_probe_duration_seconds", {}},
      {"mailsec_probe_timestamp_seconds", {}},
      {"mailsec_starttls_offered", {}},
      {"mailsec_tls_handshake_success", {}},
      {"mailsec_tls_version_info", {"version"}},
      {"mailsec_tls_cipher_info", {"cipher"}},
      {"mailsec_cert_not_after_timestamp_seconds", {}},
      {"mailsec_cert_not_before_timestamp_seconds", {}},
      {"mailsec_cert_chain_not_after_timestamp_seconds", {}},
      {"mailsec_cert_trusted", {}},
      {"mailsec_cert_verify_result_info", {"result"}},
      {"mailsec_cert_hostname_match", {}},
      {"mailsec_cert_info",
       {"subject_cn", "issuer_cn", "serial", "fingerprint_sha256", "key_type", "key_bits",
        "signature_algorithm"}},
      {"mailsec_ocsp_stapled", {}},
      {"mailsec_tls_group_info", {"group"}},
      {"mailsec_downgrade_signal", {"signal"}},
      {"mailsec_dane_tlsa_present", {}},
      {"mailsec_tls_version_supported", {"version"}},
      {"mailsec_tls_weak_cipher_accepted", {}},
      {"mailsec_cert_revoked", {}},
      {"mailsec_dane_match", {}},
      {"mailsec_build_info", {"version", "revision", "openssl_version"}, false},
      {"mailsec_config_last_reload_successful", {}, false},
      {"mailsec_config_last_reload_success_timestamp_seconds", {}, false},
      {"mailsec_targets", {"kind"}, false},
      {"mailsec_probes_total", {"kind", "result"}, false},
      {"mailsec_domain_check_success", {"domain"}, false},
      {"mailsec_dnssec_secure", {"domain"}, false},
      {"mailsec_mx_info", {"domain", "mx", "preference"}, false},
      {"mailsec_spf_present", {"domain"}, false},
      {"mailsec_spf_valid", {"domain"}, false},
      {"mailsec_spf_dns_lookups", {"domain"}, false},
      {"mailsec_spf_all_info", {"domain", "qualifier"}, false},
      {"mailsec_dmarc_present", {"domain"}, false},
      {"mailsec_dmarc_valid", {"domain"}, false},
      {"mailsec_dmarc_policy_info", {"domain", "policy", "subdomain_policy"}, false},
      {"mailsec_dmarc_pct", {"domain"}, false},
      {"mailsec_dkim_present", {"domain", "selector"}, false},
      {"mailsec_dkim_key_bits", {"domain", "selector"}, false},
      {"mailsec_mta_sts_present", {"domain"}, false},
      {"mailsec_mta_sts_policy_valid", {"domain"}, false},
      {"mailsec_mta_sts_mode_info", {"domain", "mode"}, false},
      {"mailsec_mta_sts_max_age_seconds", {"domain"}, false},
      {"mailsec_mta_sts_mx_covered", {"domain"}, false},
      {"mailsec_tlsrpt_present", {"domain"}, false},
      {"mailsec_tlsrpt_valid", {"domain"}, false},
      {"mailsec_fcrdns_match", {"domain", "host", "ip"}, false},
  };
  for (const Want& w : kContract) {
    SCOPED_TRACE(w.name);
    const MetricDef* d = Find(w.name);
    ASSERT_NE(d, nullptr) << "missing from the catalog";
    std::vector<std::string_view> want = w.endpoint ? kEndpoint : std::vector<std::string_view>{};
    want.insert(want.end(), w.extra.begin(), w.extra.end());
    EXPECT_EQ(std::vector<std::string_view>(d->labels.begin(), d->labels.end()), want);
  }
  EXPECT_EQ(Find("mailsec_probes_total")->type, MetricType::kCounter);
}

}  // namespace
}  // namespace mailsec::exporter
