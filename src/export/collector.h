// Turns reports and snapshots into prometheus-cpp metric families, through the catalog only.
//
// Families come out sorted by name, without empty ones. Samples within a family are ordered by
// target id (snapshots), then by service, host, port, ip. Two reports with the same endpoint
// labels (a domain target's MX that is also configured as an endpoint target) would make a scrape
// with duplicate series, which Prometheus rejects whole: only the most recently finished of them
// is rendered. Label values pass through SafeLabelValue.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <vector>

#include "mailsec/export/snapshot.h"
#include "mailsec/probe/report.h"

namespace mailsec::exporter {

// Endpoint metrics of the given reports, no exporter metrics.
std::vector<prometheus::MetricFamily> CollectReports(
    const std::vector<probe::EndpointReport>& reports);

// Domain and endpoint metrics of one target's result, no exporter metrics (/probe, `check`).
std::vector<prometheus::MetricFamily> CollectResult(const probe::TargetResult& result);

// Exporter metrics and the endpoint metrics of every target of the snapshot.
std::vector<prometheus::MetricFamily> CollectSnapshot(const Snapshot& snapshot);

// The Collectable seam: renders whatever snapshot the store holds at scrape time and keeps no
// state of its own. "store" must outlive the collector. Collect is thread-safe.
class SnapshotCollector final : public prometheus::Collectable {
 public:
  explicit SnapshotCollector(const SnapshotStore& store) : store_(store) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const SnapshotStore& store_;
};

}  // namespace mailsec::exporter
