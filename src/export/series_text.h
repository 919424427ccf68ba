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
//
// A scrape visits every report once per family, and 10,000 reports do not stay in the caches
// between two families: the members a visit reads come first (one cache line: which families
// are present, where the shared lines are, the text), and the prefix and the report's own lines
// are one block of memory. A visit still reads a few cache lines (this first one, the offsets,
// the prefix, the lines), which WriteText fetches ahead (PrefetchHead, PrefetchOffsets,
// PrefetchLines) instead of waiting for one after another.
class alignas(64) ReportText {
 public:
  // The lines of family "m", each ending in '\n': what follows the metric name and, when
  // prefix() is not empty, "{" + prefix(). Empty when the report has no sample of "m".
  std::string_view Lines(Metric m) const {
    const size_t i = static_cast<size_t>(m);
    if (const int k = kSharedIndex[i]; k >= 0) {
      const auto j = static_cast<size_t>(k);
      const uint32_t begin = shared_start_[j], end = shared_start_[j + 1];
      return begin == end ? std::string_view() : std::string_view(shared_data_ + begin, end - begin);
    }
    return {text_.data() + start_[i], start_[i + 1] - start_[i]};
  }
  // The labels every line of the report starts with, escaped (`service="smtp",host="…",…` or
  // `domain="…"`); empty for the exporter's metrics.
  std::string_view prefix() const { return {text_.data(), prefix_size_}; }
  // The families this report has lines of (Lines(m) not empty).
  const std::bitset<kMetricCount>& present() const { return present_; }
  bool has(Metric m) const { return present_.test(static_cast<size_t>(m)); }
  // What the report's lines take once written: every line of Lines(m), for every family, with
  // the metric name and, when prefix() is not empty, "{" + prefix() before it.
  size_t written_size() const { return written_size_; }
  // This report's lines of the shared families are the very bytes `o` holds (interned).
  bool SharesLinesWith(const ReportText& o) const { return shared_ && shared_ == o.shared_; }

  // Hints for a walk over many reports (no effect on results), each best called once the one
  // before had time to bring its cache line: the object's first line (which families it has);
  // the offsets of Lines(m); the prefix and the first bytes of Lines(m).
  void PrefetchHead() const { __builtin_prefetch(this); }
  void PrefetchOffsets(Metric m) const {
    if (!has(m)) return;
    const size_t i = static_cast<size_t>(m);
    const int k = kSharedIndex[i];
    __builtin_prefetch(k >= 0 ? static_cast<const void*>(&shared_start_[static_cast<size_t>(k)])
                              : static_cast<const void*>(&start_[i]));
  }
  void PrefetchLines(Metric m) const {
    if (!has(m)) return;
    __builtin_prefetch(text_.data());
    const std::string_view lines = Lines(m);
    __builtin_prefetch(lines.data());
    if (lines.size() > 64) __builtin_prefetch(lines.data() + 64);
  }

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
  static constexpr int SharedIndex(Metric m) { return kSharedIndex[static_cast<size_t>(m)]; }

 private:
  friend class ReportTextBuilder;
  // kShared's index of each family, -1 for the others.
  static constexpr std::array<int8_t, kMetricCount> kSharedIndex = [] {
    std::array<int8_t, kMetricCount> index{};
    index.fill(-1);
    for (size_t k = 0; k < kShared.size(); ++k) {
      index[static_cast<size_t>(kShared[k])] = static_cast<int8_t>(k);
    }
    return index;
  }();

  // Read by every visit of a scrape: the first cache line.
  std::bitset<kMetricCount> present_;
  const char* shared_data_ = nullptr;  // shared_->data(), or null
  uint32_t prefix_size_ = 0;
  // The prefix, then the other families' lines grouped by Metric, in Metric order.
  std::string text_;
  // The shared families' lines, in kShared order (null when none), from an intern pool that
  // holds each distinct text while a report uses it; family kShared[k] is
  // [shared_start_[k], shared_start_[k + 1]) of *shared_.
  std::array<uint32_t, kShared.size() + 1> shared_start_{};
  std::array<uint32_t, kMetricCount + 1> start_{};  // Lines(m) is text_[start_[m], start_[m + 1])
  std::shared_ptr<const std::string> shared_;
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
