#include "export/collector.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "export/label_value.h"
#include "export/metrics_catalog.h"
#include "export/series.h"

namespace mailsec::exporter {
namespace {

using probe::EndpointReport;

// One prometheus family per catalog entry, filled by Add and handed over by Finish.
class FamilySet final : public SeriesSink {
 public:
  FamilySet() {
    families_.reserve(Catalog().size());
    for (const MetricDef& d : Catalog()) {
      prometheus::MetricFamily f;
      f.name = std::string(d.name);
      f.help = std::string(d.help);
      f.type = d.type == MetricType::kCounter ? prometheus::MetricType::Counter
                                              : prometheus::MetricType::Gauge;
      families_.push_back(std::move(f));
    }
  }

  // head and tail together give one value per label of the family, in catalog order.
  void Add(Metric m, std::span<const std::string_view> head,
           std::initializer_list<std::string_view> tail, double value) override {
    const MetricDef& def = Def(m);
    assert(head.size() + tail.size() == def.labels.size());
    prometheus::ClientMetric sample;
    sample.label.reserve(def.labels.size());
    size_t i = 0;
    for (std::string_view v : head) {
      sample.label.push_back({std::string(def.labels[i++]), SafeLabelValue(v)});
    }
    for (std::string_view v : tail) {
      sample.label.push_back({std::string(def.labels[i++]), SafeLabelValue(v)});
    }
    if (def.type == MetricType::kCounter) {
      sample.counter.value = value;
    } else {
      sample.gauge.value = value;
    }
    families_[static_cast<size_t>(m)].metric.push_back(std::move(sample));
  }

  // Families with samples, sorted by name.
  std::vector<prometheus::MetricFamily> Finish() && {
    std::erase_if(families_, [](const prometheus::MetricFamily& f) { return f.metric.empty(); });
    std::stable_sort(families_.begin(), families_.end(),
                     [](const auto& a, const auto& b) { return a.name < b.name; });
    // Catalog entries that share a name (mailsec_check_result with endpoint and with domain
    // labels) become one family: a name may appear once in the exposition.
    std::vector<prometheus::MetricFamily> merged;
    merged.reserve(families_.size());
    for (auto& f : families_) {
      if (!merged.empty() && merged.back().name == f.name) {
        for (auto& m : f.metric) merged.back().metric.push_back(std::move(m));
      } else {
        merged.push_back(std::move(f));
      }
    }
    return merged;
  }

 private:
  std::vector<prometheus::MetricFamily> families_;  // indexed by Metric until Finish
};

void AddEndpoints(FamilySet* set, const std::vector<const EndpointReport*>& ordered) {
  for (const EndpointReport* r : Deduplicate(ordered)) AddEndpointSeries(set, *r);
}

}  // namespace

std::vector<prometheus::MetricFamily> CollectResult(const probe::TargetResult& result) {
  FamilySet set;
  if (result.domain) AddDomainSeries(&set, *result.domain);
  AddEndpoints(&set, SortedEndpoints(result.endpoints));
  return std::move(set).Finish();
}

std::vector<prometheus::MetricFamily> CollectReports(
    const std::vector<probe::EndpointReport>& reports) {
  FamilySet set;
  AddEndpoints(&set, SortedEndpoints(reports));
  return std::move(set).Finish();
}

std::vector<prometheus::MetricFamily> CollectSnapshot(const Snapshot& snapshot) {
  std::vector<const EndpointReport*> ordered;
  for (const auto& [id, published] : snapshot.results) {  // by target id
    const std::vector<const EndpointReport*> group = SortedEndpoints(published->result().endpoints);
    ordered.insert(ordered.end(), group.begin(), group.end());
  }
  FamilySet set;
  AddExporterSeries(&set, snapshot.exporter);
  for (const auto& [id, published] : snapshot.results) {
    if (published->result().domain) AddDomainSeries(&set, *published->result().domain);
  }
  AddEndpoints(&set, ordered);
  return std::move(set).Finish();
}

std::vector<prometheus::MetricFamily> SnapshotCollector::Collect() const {
  const std::shared_ptr<const Snapshot> s = store_.Current();
  if (s == nullptr) return {};
  return CollectSnapshot(*s);
}

}  // namespace mailsec::exporter
