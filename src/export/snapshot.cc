#include "mailsec/export/snapshot.h"

#include <utility>

#include "export/collector.h"
#include "export/text_format.h"

namespace mailsec::exporter {

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

std::string RenderReports(const std::vector<probe::EndpointReport>& reports) {
  return SerializeText(CollectReports(reports));
}

std::string RenderResult(const probe::TargetResult& result) {
  return SerializeText(CollectResult(result));
}

std::string RenderSnapshot(const Snapshot& snapshot) {
  return SerializeText(CollectSnapshot(snapshot));
}

}  // namespace mailsec::exporter
