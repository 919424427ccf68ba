#include "export/text_format.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <limits>

namespace mailsec::exporter {
namespace {

prometheus::ClientMetric Sample(std::vector<std::pair<std::string, std::string>> labels,
                                double value) {
  prometheus::ClientMetric m;
  for (auto& [n, v] : labels) m.label.push_back({n, v});
  m.gauge.value = value;
  m.counter.value = value;
  return m;
}

// The fast serializer must render byte for byte what prometheus-cpp renders.
TEST(SerializeTextTest, SameBytesAsPrometheusCpp) {
  std::vector<prometheus::MetricFamily> families;
  prometheus::MetricFamily g;
  g.name = "mailsec_values";
  g.help = "Help with \"quotes\", a backslash \\ and a\nnewline.";
  g.type = prometheus::MetricType::Gauge;
  const double values[] = {0,
                           -0.0,
                           1,
                           -3,
                           0.1 + 0.2,
                           1e-5,
                           1.0145e-05,
                           0.002513927,
                           1795457498.597123,
                           1707000000,
                           1e21,
                           123456789012345678.0,
                           1.0 / 3,
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
  for (double v : values) g.metric.push_back(Sample({{"a", "x"}, {"b", "y"}}, v));
  g.metric.push_back(Sample({{"cn", "Example \"Test\" CA \\ with\nnewline"}}, 1));
  g.metric.push_back(Sample({}, 7));
  families.push_back(g);

  prometheus::MetricFamily c;
  c.name = "mailsec_probes_total";
  c.help = "Probes.";
  c.type = prometheus::MetricType::Counter;
  c.metric.push_back(Sample({{"kind", "endpoint"}, {"result", "success"}}, 12345));
  prometheus::ClientMetric stamped = Sample({}, 2);
  stamped.timestamp_ms = 1700000000123;
  c.metric.push_back(stamped);
  families.push_back(c);

  prometheus::MetricFamily empty;
  empty.name = "mailsec_empty";
  empty.help = "";
  empty.type = prometheus::MetricType::Gauge;
  families.push_back(empty);

  EXPECT_EQ(SerializeText(families), prometheus::TextSerializer().Serialize(families));
}

TEST(SerializeTextTest, OtherTypesFallBackToPrometheusCpp) {
  prometheus::MetricFamily untyped{std::string("mailsec_untyped"),
                                   std::string("x"),
                                   prometheus::MetricType::Untyped,
                                   {Sample({}, 1)}};
  const std::vector<prometheus::MetricFamily> families = {untyped};
  EXPECT_EQ(SerializeText(families), prometheus::TextSerializer().Serialize(families));
}

}  // namespace
}  // namespace mailsec::exporter
