// The immutable result snapshot that /metrics renders, and the Collectable that renders it.
//
// The scheduler builds a new Snapshot after each probe and publishes it with
// SnapshotStore::Publish; scrapes read the current one without locks held during rendering. A
// metric is a view of the snapshot: nothing here keeps per-target state, so a target that leaves
// the config leaves /metrics with the next published snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mailsec/probe/report.h"

namespace mailsec::exporter {

struct ExporterState {
  std::string version;
  std::string revision;
  std::string openssl_version;
  bool last_reload_successful = true;
  double last_reload_success_timestamp = 0;        // Unix seconds
  std::map<std::string, int64_t> targets_by_kind;  // "endpoint", "domain" -> count
  // (kind, result) -> count, kind "endpoint"/"domain", result "success"/"failure".
  std::map<std::pair<std::string, std::string>, uint64_t> probes_total;
};

struct Snapshot {
  ExporterState exporter;
  // Keyed by target id; only targets of the running plan.
  std::map<std::string, probe::TargetResult> results;
};

// Holds the current snapshot. Thread-safe: Publish and Current may be called from any thread.
class SnapshotStore {
 public:
  SnapshotStore();
  std::shared_ptr<const Snapshot> Current() const;
  void Publish(std::shared_ptr<const Snapshot> s);

 private:
  mutable std::mutex mu_;  // guards current_
  std::shared_ptr<const Snapshot> current_;
};

// Renders endpoint reports (only those, no exporter metrics) as Prometheus text exposition
// format 0.0.4. Used by /probe and `check`.
std::string RenderReports(const std::vector<probe::EndpointReport>& reports);

// Renders one target's result (domain metrics and endpoint metrics, no exporter metrics): what
// /probe returns.
std::string RenderResult(const probe::TargetResult& result);

// Renders a whole snapshot (exporter metrics + every target) as text.
std::string RenderSnapshot(const Snapshot& snapshot);

}  // namespace mailsec::exporter
