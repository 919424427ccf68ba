#include "mailsec/export/snapshot.h"

#include <utility>

#include "export/series.h"
#include "export/series_text.h"

namespace mailsec::exporter {

PublishedResult::PublishedResult(probe::TargetResult result)
    : result_(std::move(result)),
      rendered_(std::make_unique<const RenderedTarget>(
          result_.endpoints, result_.domain ? &*result_.domain : nullptr)) {}

PublishedResult::~PublishedResult() = default;

std::shared_ptr<const PublishedResult> Publish(probe::TargetResult result) {
  return std::make_shared<const PublishedResult>(std::move(result));
}

SnapshotStore::SnapshotStore() : current_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const Snapshot> SnapshotStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void SnapshotStore::Publish(std::shared_ptr<const Snapshot> s) {
  if (s == nullptr) s = std::make_shared<const Snapshot>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_.swap(s);
  }
  // "s" now holds the previous snapshot; if this was its last reference it is destroyed here,
  // outside the lock, so a large snapshot never stalls a concurrent Current().
}

namespace {

// The endpoint texts of the targets, in order, one per endpoint (see DeduplicateIndices).
std::vector<const ReportText*> EndpointTexts(std::span<const RenderedTarget* const> targets) {
  std::vector<const probe::EndpointReport*> reports;
  std::vector<uint64_t> hashes;
  std::vector<const ReportText*> texts;
  for (const RenderedTarget* t : targets) {
    reports.insert(reports.end(), t->endpoints().begin(), t->endpoints().end());
    hashes.insert(hashes.end(), t->endpoint_hashes().begin(), t->endpoint_hashes().end());
    for (const ReportText& text : t->endpoint_texts()) texts.push_back(&text);
  }
  std::vector<const ReportText*> out;
  const std::vector<size_t> keep = DeduplicateIndices(reports, hashes);
  out.reserve(keep.size());
  for (size_t i : keep) out.push_back(texts[i]);
  return out;
}

std::string WriteTarget(const RenderedTarget& target) {
  std::vector<const ReportText*> domains;
  if (target.domain()) domains.push_back(&*target.domain());
  const RenderedTarget* targets[] = {&target};
  std::string text;
  WriteText(nullptr, domains, EndpointTexts(targets), [&text](std::string_view piece) {
    text.append(piece);
    return true;
  });
  return text;
}

}  // namespace

std::string RenderReports(const std::vector<probe::EndpointReport>& reports) {
  return WriteTarget(RenderedTarget(reports, nullptr));
}

std::string RenderResult(const probe::TargetResult& result) {
  return WriteTarget(RenderedTarget(result.endpoints, result.domain ? &*result.domain : nullptr));
}

struct ScrapeBody::Parts {
  ReportText exporter;
  std::vector<const ReportText*> domains;
  std::vector<const ReportText*> endpoints;
};

ScrapeBody::ScrapeBody(const ExporterState& exporter,
                       std::vector<std::shared_ptr<const PublishedResult>> results)
    : results_(std::move(results)) {
  auto parts = std::make_unique<Parts>();
  parts->exporter = ExporterText(exporter);
  std::vector<const RenderedTarget*> targets;
  targets.reserve(results_.size());
  for (const auto& published : results_) {
    targets.push_back(&published->rendered());
    if (published->rendered().domain()) parts->domains.push_back(&*published->rendered().domain());
  }
  parts->endpoints = EndpointTexts(targets);
  size_ = TextSize(&parts->exporter, parts->domains, parts->endpoints);
  parts_ = std::move(parts);
}

ScrapeBody::~ScrapeBody() = default;

bool ScrapeBody::Write(const std::function<bool(std::string_view)>& write) const {
  return WriteText(&parts_->exporter, parts_->domains, parts_->endpoints, write);
}

bool WriteSnapshot(const Snapshot& snapshot, const std::function<bool(std::string_view)>& write) {
  std::vector<std::shared_ptr<const PublishedResult>> results;
  results.reserve(snapshot.results.size());
  for (const auto& [id, published] : snapshot.results) results.push_back(published);  // by id
  return ScrapeBody(snapshot.exporter, std::move(results)).Write(write);
}

std::string RenderSnapshot(const Snapshot& snapshot) {
  std::string text;
  WriteSnapshot(snapshot, [&text](std::string_view piece) {
    text.append(piece);
    return true;
  });
  return text;
}

}  // namespace mailsec::exporter
