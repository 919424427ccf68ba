// The immutable result snapshot that /metrics renders, and the Collectable that renders it.
//
// The scheduler builds a new Snapshot after each probe and publishes it with
// SnapshotStore::Publish; scrapes read the current one without locks held during rendering. A
// metric is a view of the snapshot: nothing here keeps per-target state, so a target that leaves
// the config leaves /metrics with the next published snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
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

class RenderedTarget;  // internal to the export layer: a result's series as text

// One target's result as it is published: the report, and its series rendered as text once,
// here, because results change once per interval while scrapes come more often and then only
// concatenate the pieces. Immutable after construction; shared by every snapshot that holds it,
// so a snapshot copies pointers, never reports. Thread-safe to read.
class PublishedResult {
 public:
  explicit PublishedResult(probe::TargetResult result);
  ~PublishedResult();
  PublishedResult(const PublishedResult&) = delete;
  PublishedResult& operator=(const PublishedResult&) = delete;

  const probe::TargetResult& result() const { return result_; }
  const RenderedTarget& rendered() const { return *rendered_; }

 private:
  const probe::TargetResult result_;
  std::unique_ptr<const RenderedTarget> rendered_;  // points into result_
};

// Publishes a result: renders its series (the cost of a scrape, paid once per result).
std::shared_ptr<const PublishedResult> Publish(probe::TargetResult result);

struct Snapshot {
  ExporterState exporter;
  // Keyed by target id; only targets of the running plan. Never null.
  std::map<std::string, std::shared_ptr<const PublishedResult>> results;
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

// The same text as RenderSnapshot, handed to "write" in pieces of a few hundred KB (the last
// one may be shorter) instead of one string: a scrape of 10,000 endpoints is ~90 MB. Stops and
// returns false as soon as "write" returns false (the client went away).
bool WriteSnapshot(const Snapshot& snapshot, const std::function<bool(std::string_view)>& write);

// A scrape's body, fixed when it is made: the exposition of {exporter, results} (results in
// target-id order, none null), whose size is known before a byte of it is written, so that
// /metrics can send it with a Content-Length instead of in chunks. Holds the results it was
// made from. Write may be called more than once, from any thread; each call writes the same
// size() bytes, in pieces of a few hundred KB: the same bytes as WriteSnapshot of the snapshot
// {exporter, results}. What a scrape takes under the exporter's lock is then one vector of
// pointers, not a copy of the results map.
class ScrapeBody {
 public:
  ScrapeBody(const ExporterState& exporter,
             std::vector<std::shared_ptr<const PublishedResult>> results);
  ~ScrapeBody();
  ScrapeBody(const ScrapeBody&) = delete;
  ScrapeBody& operator=(const ScrapeBody&) = delete;

  size_t size() const { return size_; }
  // Stops and returns false as soon as "write" returns false.
  bool Write(const std::function<bool(std::string_view)>& write) const;

 private:
  struct Parts;
  std::vector<std::shared_ptr<const PublishedResult>> results_;
  std::unique_ptr<const Parts> parts_;  // the texts to write, pointing into results_
  size_t size_ = 0;
};

}  // namespace mailsec::exporter
