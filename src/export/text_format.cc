#include "export/text_format.h"

#include <prometheus/text_serializer.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace mailsec::exporter {
namespace {

bool Supported(const prometheus::MetricFamily& f) {
  return f.type == prometheus::MetricType::Gauge || f.type == prometheus::MetricType::Counter;
}

}  // namespace

void AppendEscapedLabelValue(std::string* out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '"':
        out->append("\\\"");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendSampleValue(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("Nan");
    return;
  }
  if (std::isinf(v)) {
    out->append(v < 0 ? "-Inf" : "+Inf");
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 16);
  if (ec != std::errc()) {
    const int n = std::snprintf(buf, sizeof buf, "%.16g", v);
    end = buf + (n > 0 ? n : 0);
  }
  out->append(buf, end);
}

std::string SerializeText(const std::vector<prometheus::MetricFamily>& families) {
  size_t estimate = 0;
  for (const auto& f : families) {
    if (!Supported(f)) return prometheus::TextSerializer().Serialize(families);
    estimate += f.name.size() + f.help.size() + 32;
    for (const auto& m : f.metric) {
      estimate += f.name.size() + 32;
      for (const auto& l : m.label) estimate += l.name.size() + l.value.size() + 4;
    }
  }
  std::string out;
  out.reserve(estimate + estimate / 16);
  for (const auto& f : families) {
    const bool counter = f.type == prometheus::MetricType::Counter;
    // As prometheus-cpp: no HELP line without help, and the help text as it is (the catalog's
    // help strings are plain one-line text).
    if (!f.help.empty())
      out.append("# HELP ").append(f.name).append(" ").append(f.help).push_back('\n');
    out.append("# TYPE ").append(f.name).append(counter ? " counter\n" : " gauge\n");
    for (const auto& m : f.metric) {
      out.append(f.name);
      if (!m.label.empty()) {
        out.push_back('{');
        for (size_t i = 0; i < m.label.size(); ++i) {
          if (i > 0) out.push_back(',');
          out.append(m.label[i].name).append("=\"");
          AppendEscapedLabelValue(&out, m.label[i].value);
          out.push_back('"');
        }
        out.push_back('}');
      }
      out.push_back(' ');
      AppendSampleValue(&out, counter ? m.counter.value : m.gauge.value);
      if (m.timestamp_ms != 0) out.append(" ").append(std::to_string(m.timestamp_ms));
      out.push_back('\n');
    }
  }
  return out;
}

}  // namespace mailsec::exporter
