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

#include <array>
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
    if (IsShared(m)) {
      const std::string_view shared = shared_ ? std::string_view(*shared_) : std::string_view();
      return m == Metric::kCheckResult ? shared.substr(0, shared_split_)
                                       : shared.substr(shared_split_);
    }
    const size_t i = static_cast<size_t>(m);
    return std::string_view(lines_).substr(start_[i], start_[i + 1] - start_[i]);
  }
  // The labels every line of the report starts with, escaped (`service="smtp",host="…",…` or
  // `domain="…"`); empty for the exporter's metrics.
  const std::string& prefix() const { return prefix_; }
  // This report's check results and downgrade signals are the very bytes `o` holds (interned).
  bool SharesLinesWith(const ReportText& o) const { return shared_ && shared_ == o.shared_; }

  // The families whose lines are interned across reports: an endpoint's check results and
  // downgrade signals (a label from a fixed set and a verdict or 0/1 each, ~1 KB per endpoint)
  // are the same bytes on most endpoints of a fleet, and are held once per distinct text.
  static constexpr bool IsShared(Metric m) {
    return m == Metric::kCheckResult || m == Metric::kDowngradeSignal;
  }

 private:
  friend class ReportTextBuilder;
  std::string prefix_;
  std::string lines_;  // the other families, grouped by Metric, in Metric order
  std::array<uint32_t, kMetricCount + 1> start_{};  // Lines(m) is [start_[m], start_[m + 1])
  // kCheckResult's lines then kDowngradeSignal's (null when none), from an intern pool that
  // holds each distinct text while a report uses it.
  std::shared_ptr<const std::string> shared_;
  uint32_t shared_split_ = 0;  // where kDowngradeSignal's lines start in *shared_
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

 private:
  std::unique_ptr<const ReportText> domain_;  // not inline: most targets are endpoints
  std::vector<const probe::EndpointReport*> endpoints_;
  std::vector<ReportText> endpoint_texts_;
};

// Writes the exposition of the given reports (null "exporter": no exporter metrics) to "write"
// in pieces of about 256 KB. The endpoint texts must already be free of duplicate endpoints.
// Returns false as soon as "write" does.
bool WriteText(const ReportText* exporter, std::span<const ReportText* const> domains,
               std::span<const ReportText* const> endpoints,
               const std::function<bool(std::string_view)>& write);

}  // namespace mailsec::exporter
