// The text exposition of reports, rendered once per report and concatenated per scrape.
//
// A report's series are rendered when its result is published (ReportText: every line without
// the metric name and without the labels all its lines share, grouped by family); a scrape then
// writes, family by family in name order, the name, the shared labels and the rendered rest of
// each line. The bytes are those of SerializeText over the collector's families (a unit test
// holds the two side by side): HELP and TYPE once per family, the samples of a family
// contiguous, the exporter's samples first, then the domains', then the endpoints', each in the
// order the caller gives. Immutable once built: safe to read from any thread.
#pragma once

#include <algorithm>
#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "export/metrics_catalog.h"
#include "mailsec/export/snapshot.h"
#include "mailsec/probe/report.h"

namespace mailsec::exporter {

inline constexpr size_t kMetricCount = static_cast<size_t>(Metric::kTlsRptValid) + 1;

// The series of one report (an endpoint, a domain, or the exporter's own state).
class ReportText {
 public:
  // The lines of family "m", each ending in '\n': what follows the metric name and, when
  // prefix() is not empty, "{" + prefix(). Empty when the report has no sample of "m".
  std::string_view Lines(Metric m) const {
    if (const int k = SharedIndex(m); k >= 0) {
      if (!shared_) return {};
      return std::string_view(*shared_).substr(shared_start_[k],
                                               shared_start_[k + 1] - shared_start_[k]);
    }
    const size_t i = static_cast<size_t>(m);
    return std::string_view(lines_).substr(start_[i], start_[i + 1] - start_[i]);
  }
  // The labels every line of the report starts with, escaped (`service="smtp",host="…",…` or
  // `domain="…"`); empty for the exporter's metrics.
  const std::string& prefix() const { return prefix_; }
  // The families this report has lines of (Lines(m) not empty).
  const std::bitset<kMetricCount>& present() const { return present_; }
  // What the report's lines take once written: every line of Lines(m), for every family, with
  // the metric name and, when prefix() is not empty, "{" + prefix() before it.
  size_t written_size() const { return written_size_; }
  // This report's lines of the shared families are the very bytes `o` holds (interned).
  bool SharesLinesWith(const ReportText& o) const { return shared_ && shared_ == o.shared_; }

  // The families whose lines are interned across reports, in Metric order: an endpoint's check
  // results and downgrade signals, and what its deep scan found accepted (versions, suites,
  // groups, resumption, the weakest suite). Each line is a label from a small set and a verdict
  // or 0/1: the same bytes on most endpoints of a fleet (~1 KB per endpoint, ~1–2 KB more once
  // scanned), held once per distinct text.
  static constexpr std::array<Metric, 9> kShared = {
      Metric::kCheckResult,         Metric::kDowngradeSignal,       Metric::kTlsCipherAcceptedInfo,
      Metric::kTlsGroupSupported,   Metric::kTlsMinCipherBits,      Metric::kTlsSessionResumption,
      Metric::kTlsVersionSupported, Metric::kTlsWeakCipherAccepted, Metric::kTlsWeakCipherInfo};
  static_assert(std::is_sorted(kShared.begin(), kShared.end()),
                "Lines() reads family k up to the start of family k + 1");
  static constexpr int SharedIndex(Metric m) {
    for (size_t k = 0; k < kShared.size(); ++k) {
      if (kShared[k] == m) return static_cast<int>(k);
    }
    return -1;
  }

 private:
  friend class ReportTextBuilder;
  std::string prefix_;
  std::string lines_;  // the other families, grouped by Metric, in Metric order
  std::array<uint32_t, kMetricCount + 1> start_{};  // Lines(m) is [start_[m], start_[m + 1])
  // The shared families' lines, in kShared order (null when none), from an intern pool that
  // holds each distinct text while a report uses it; family kShared[k] is
  // [shared_start_[k], shared_start_[k + 1]).
  std::shared_ptr<const std::string> shared_;
  std::array<uint32_t, kShared.size() + 1> shared_start_{};
  std::bitset<kMetricCount> present_;
  size_t written_size_ = 0;
};

ReportText EndpointText(const probe::EndpointReport& r);
ReportText DomainText(const probe::DomainReport& d);
ReportText ExporterText(const ExporterState& s);

// A target's reports rendered: its domain report (if any) and its endpoint reports sorted by
// service, host, port, ip. Holds pointers into the reports it was made from, which must outlive
// it and not change.
class RenderedTarget {
 public:
  RenderedTarget(const std::vector<probe::EndpointReport>& endpoints,
                 const probe::DomainReport* domain);

  const std::unique_ptr<const ReportText>& domain() const { return domain_; }  // null: none
  const std::vector<const probe::EndpointReport*>& endpoints() const { return endpoints_; }
  const std::vector<ReportText>& endpoint_texts() const { return endpoint_texts_; }  // parallel
  // EndpointKeyHash of each of endpoints(), parallel: a scrape finds duplicates without reading
  // the reports.
  const std::vector<uint64_t>& endpoint_hashes() const { return endpoint_hashes_; }

 private:
  std::unique_ptr<const ReportText> domain_;  // not inline: most targets are endpoints
  std::vector<const probe::EndpointReport*> endpoints_;
  std::vector<ReportText> endpoint_texts_;
  std::vector<uint64_t> endpoint_hashes_;
};

// Writes the exposition of the given reports (null "exporter": no exporter metrics) to "write"
// in pieces of about 256 KB. The endpoint texts must already be free of duplicate endpoints.
// Returns false as soon as "write" does.
bool WriteText(const ReportText* exporter, std::span<const ReportText* const> domains,
               std::span<const ReportText* const> endpoints,
               const std::function<bool(std::string_view)>& write);

// The number of bytes WriteText writes for the same arguments, from the reports' written_size()
// and present() alone (the lines are not read).
size_t TextSize(const ReportText* exporter, std::span<const ReportText* const> domains,
                std::span<const ReportText* const> endpoints);

}  // namespace mailsec::exporter
