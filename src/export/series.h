// The series of reports, as data: which samples an endpoint, domain or exporter state has, in
// which order, with which label values (through SafeLabelValue). Both renderings read them here:
// the prometheus-cpp families of the Collectable seam (collector.h) and the text that /metrics
// and /probe serve (series_text.h), so the two cannot drift apart. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "export/metrics_catalog.h"
#include "mailsec/export/snapshot.h"
#include "mailsec/probe/report.h"

namespace mailsec::exporter {

// Receives samples. "head" and "tail" together give one value per label of the family, in
// catalog order, not yet made safe (the sink passes them through SafeLabelValue). Within one
// Add*Series call, head is the same span (same data, same values) on every Add.
class SeriesSink {
 public:
  virtual ~SeriesSink() = default;
  virtual void Add(Metric m, std::span<const std::string_view> head,
                   std::initializer_list<std::string_view> tail, double value) = 0;
};

void AddEndpointSeries(SeriesSink* sink, const probe::EndpointReport& r);
void AddDomainSeries(SeriesSink* sink, const probe::DomainReport& d);
void AddExporterSeries(SeriesSink* sink, const ExporterState& s);

// The reports of one target, ordered by service, host, port, ip (stable).
std::vector<const probe::EndpointReport*> SortedEndpoints(
    const std::vector<probe::EndpointReport>& reports);

// The indices of "in" to keep, one per endpoint (service, host, port, ip): the most recently
// finished report, at the place of the first. Two reports of one endpoint (a domain's MX that is
// also configured as an endpoint target) would make duplicate series, and Prometheus rejects a
// scrape with duplicates whole.
std::vector<size_t> DeduplicateIndices(const std::vector<const probe::EndpointReport*>& in);

// A hash of an endpoint's identity (service, host, port, ip): the same for two reports of one
// endpoint.
uint64_t EndpointKeyHash(const probe::EndpointReport& r);

// The same as DeduplicateIndices, given each report's EndpointKeyHash (parallel to "in"): it
// reads a report only when its hash meets another's, so that a scrape of 10,000 endpoints does
// not walk 10,000 reports (cold in memory) to find the rare duplicate.
std::vector<size_t> DeduplicateIndices(const std::vector<const probe::EndpointReport*>& in,
                                       std::span<const uint64_t> hashes);

// Keeps one report per endpoint (service, host, port, ip): the most recently finished, at the
// place of the first. Two reports of one endpoint would make duplicate series.
std::vector<const probe::EndpointReport*> Deduplicate(
    const std::vector<const probe::EndpointReport*>& in);

}  // namespace mailsec::exporter
