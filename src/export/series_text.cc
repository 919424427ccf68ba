#include "export/series_text.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "export/label_value.h"
#include "export/series.h"
#include "export/text_format.h"

namespace mailsec::exporter {

namespace {

// The distinct texts that reports share (ReportText::kShared), each held while a report holds
// it: an entry leaves the pool when its last holder lets go. Thread-safe; never destroyed, so
// that reports destroyed at exit still find it.
class InternPool {
 public:
  static InternPool& Get() {
    static InternPool* pool = new InternPool;
    return *pool;
  }

  std::shared_ptr<const std::string> Intern(std::string_view text) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = texts_.find(text); it != texts_.end()) {
      if (std::shared_ptr<const std::string> held = it->second.held.lock()) return held;
      texts_.erase(it);  // its last holder is letting go; Release will not find it
    }
    std::shared_ptr<const std::string> held(new std::string(text),
                                            [this](const std::string* s) { Release(s); });
    texts_.emplace(std::string_view(*held), Entry{held, held.get()});
    return held;
  }

 private:
  struct Entry {
    std::weak_ptr<const std::string> held;
    const std::string* text;  // who owns the key
  };

  void Release(const std::string* s) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = texts_.find(std::string_view(*s));
      if (it != texts_.end() && it->second.text == s) texts_.erase(it);
    }
    delete s;
  }

  std::mutex mu_;                                      // guards texts_
  std::unordered_map<std::string_view, Entry> texts_;  // keys point into the texts held
};

std::shared_ptr<const std::string> Intern(std::string_view text) {
  return InternPool::Get().Intern(text);
}

}  // namespace

// Collects a report's lines in the order the series functions emit them, then groups them by
// family (stable: within a family, the emitted order is kept).
class ReportTextBuilder final : public SeriesSink {
 public:
  void Add(Metric m, std::span<const std::string_view> head,
           std::initializer_list<std::string_view> tail, double value) override {
    const MetricDef& def = Def(m);
    assert(head.size() + tail.size() == def.labels.size());
    if (!head.empty() && !have_prefix_) {
      for (size_t i = 0; i < head.size(); ++i) {
        if (i > 0) prefix_.push_back(',');
        prefix_.append(def.labels[i]).append("=\"");
        AppendEscapedLabelValue(&prefix_, SafeLabelValue(head[i]));
        prefix_.push_back('"');
      }
      have_prefix_ = true;
    }
    const size_t begin = scratch_.size();
    size_t i = head.size();
    for (std::string_view v : tail) {
      scratch_.push_back(i == 0 ? '{' : ',');
      scratch_.append(def.labels[i++]).append("=\"");
      AppendEscapedLabelValue(&scratch_, SafeLabelValue(v));
      scratch_.push_back('"');
    }
    if (i > 0) scratch_.push_back('}');
    scratch_.push_back(' ');
    AppendSampleValue(&scratch_, value);
    scratch_.push_back('\n');
    entries_.push_back({m, begin, scratch_.size() - begin});
  }

  ReportText Finish() && {
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const Entry& a, const Entry& b) { return a.metric < b.metric; });
    size_t shared_size = 0;
    for (const Entry& entry : entries_) {
      if (ReportText::SharedIndex(entry.metric) >= 0) shared_size += entry.size;
    }
    std::string& text = text_.text_;
    text.reserve(prefix_.size() + scratch_.size() - shared_size);
    text = prefix_;
    text_.prefix_size_ = static_cast<uint32_t>(prefix_.size());
    std::string shared;
    shared.reserve(shared_size);
    size_t e = 0;
    for (size_t m = 0; m < kMetricCount; ++m) {
      const int k = ReportText::SharedIndex(static_cast<Metric>(m));
      text_.start_[m] = static_cast<uint32_t>(text.size());
      if (k >= 0)
        text_.shared_start_[static_cast<size_t>(k)] = static_cast<uint32_t>(shared.size());
      std::string* out = k >= 0 ? &shared : &text;
      for (; e < entries_.size() && static_cast<size_t>(entries_[e].metric) == m; ++e) {
        out->append(scratch_, entries_[e].begin, entries_[e].size);
      }
    }
    text_.start_[kMetricCount] = static_cast<uint32_t>(text.size());
    text_.shared_start_[ReportText::kShared.size()] = static_cast<uint32_t>(shared.size());
    if (!shared.empty()) {
      text_.shared_ = Intern(shared);
      text_.shared_data_ = text_.shared_->data();
    }
    const size_t before_each = prefix_.empty() ? 0 : 1 + prefix_.size();
    for (size_t m = 0; m < kMetricCount; ++m) {
      const std::string_view lines = text_.Lines(static_cast<Metric>(m));
      if (lines.empty()) continue;
      const auto count = static_cast<size_t>(std::count(lines.begin(), lines.end(), '\n'));
      text_.present_.set(m);
      text_.written_size_ +=
          lines.size() + count * (Def(static_cast<Metric>(m)).name.size() + before_each);
    }
    return std::move(text_);
  }

 private:
  struct Entry {
    Metric metric;
    size_t begin;
    size_t size;
  };
  ReportText text_;
  std::string prefix_;
  bool have_prefix_ = false;
  std::string scratch_;
  std::vector<Entry> entries_;
};

ReportText EndpointText(const probe::EndpointReport& r) {
  ReportTextBuilder b;
  AddEndpointSeries(&b, r);
  return std::move(b).Finish();
}

ReportText DomainText(const probe::DomainReport& d) {
  ReportTextBuilder b;
  AddDomainSeries(&b, d);
  return std::move(b).Finish();
}

ReportText ExporterText(const ExporterState& s) {
  ReportTextBuilder b;
  AddExporterSeries(&b, s);
  return std::move(b).Finish();
}

RenderedTarget::RenderedTarget(const std::vector<probe::EndpointReport>& endpoints,
                               const probe::DomainReport* domain)
    : endpoints_(SortedEndpoints(endpoints)) {
  if (domain != nullptr) domain_ = std::make_unique<const ReportText>(DomainText(*domain));
  endpoint_texts_.reserve(endpoints_.size());
  endpoint_hashes_.reserve(endpoints_.size());
  for (const probe::EndpointReport* r : endpoints_) {
    endpoint_texts_.push_back(EndpointText(*r));
    endpoint_hashes_.push_back(EndpointKeyHash(*r));
  }
}

namespace {

// The catalog's entries grouped into families: by name (stable, so mailsec_check_result's
// endpoint entry comes before its domain entry), one group per name.
const std::vector<std::vector<Metric>>& Families() {
  static const std::vector<std::vector<Metric>> families = [] {
    std::vector<Metric> order;
    for (const MetricDef& d : Catalog()) order.push_back(d.id);
    std::stable_sort(order.begin(), order.end(),
                     [](Metric a, Metric b) { return Def(a).name < Def(b).name; });
    std::vector<std::vector<Metric>> out;
    for (Metric m : order) {
      if (out.empty() || Def(out.back().front()).name != Def(m).name) out.emplace_back();
      out.back().push_back(m);
    }
    return out;
  }();
  return families;
}

// Collects output and hands it on in pieces of about kPiece bytes.
class Output {
 public:
  static constexpr size_t kPiece = 256 * 1024;

  explicit Output(const std::function<bool(std::string_view)>& write) : write_(write) {
    buf_.reserve(kPiece + 4096);
  }

  std::string* buf() { return &buf_; }

  // Hands the buffer on once it is full; false once "write" failed.
  bool Spill() { return buf_.size() < kPiece ? ok_ : Flush(); }

  bool Flush() {
    if (ok_ && !buf_.empty()) ok_ = write_(buf_);
    buf_.clear();
    return ok_;
  }

 private:
  const std::function<bool(std::string_view)>& write_;
  std::string buf_;
  bool ok_ = true;
};

// A family's HELP and TYPE lines. As prometheus-cpp: no HELP line without help, and the help
// text as it is.
void WriteHeader(const MetricDef& def, std::string* out) {
  if (!def.help.empty()) {
    out->append("# HELP ").append(def.name).append(" ").append(def.help).push_back('\n');
  }
  out->append("# TYPE ").append(def.name).append(" ").append(TypeName(def.type)).push_back('\n');
}

size_t HeaderSize(const MetricDef& def) {
  const std::string_view type = TypeName(def.type);
  size_t n = 7 + def.name.size() + 1 + type.size() + 1;  // "# TYPE " name " " type "\n"
  if (!def.help.empty()) n += 7 + def.name.size() + 1 + def.help.size() + 1;
  return n;
}

// Writes the lines of "t" for family "def"; the HELP and TYPE lines first when "*header" says
// none were written yet.
void WriteLines(const MetricDef& def, const ReportText& t, bool* header, std::string* out) {
  if (!t.has(def.id)) return;
  const std::string_view lines = t.Lines(def.id);
  if (!*header) {
    WriteHeader(def, out);
    *header = true;
  }
  const char* p = lines.data();
  const char* const end = p + lines.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* next = nl == nullptr ? end : nl + 1;
    out->append(def.name);
    if (!t.prefix().empty()) out->append("{").append(t.prefix());
    out->append(p, static_cast<size_t>(next - p));
    p = next;
  }
}

// The families any of "reports" has lines of, fetching ahead.
std::bitset<kMetricCount> PresentIn(std::span<const ReportText* const> reports) {
  constexpr size_t kAhead = 16;
  std::bitset<kMetricCount> present;
  const size_t n = reports.size();
  for (size_t j = 0; j < n; ++j) {
    if (j + kAhead < n) reports[j + kAhead]->PrefetchHead();
    present |= reports[j]->present();
  }
  return present;
}

// Writes family "m" of every report of "reports", fetching ahead in three steps: a report's
// first cache line 24 reports before it is written, its offsets of "m" 16 before, its prefix
// and lines 8 before. A visit is a few cache misses that would otherwise come one after
// another (the walk is over 10,000 reports per family, which the caches do not hold from one
// family to the next); false once "out" failed.
bool WriteFamily(const MetricDef& def, std::span<const ReportText* const> reports, bool* header,
                 Output* out) {
  constexpr size_t kStep = 8;
  const size_t n = reports.size();
  for (size_t j = 0; j < n && j < 3 * kStep; ++j) {
    reports[j]->PrefetchHead();
    if (j < 2 * kStep) reports[j]->PrefetchOffsets(def.id);
    if (j < kStep) reports[j]->PrefetchLines(def.id);
  }
  for (size_t j = 0; j < n; ++j) {
    if (j + 3 * kStep < n) reports[j + 3 * kStep]->PrefetchHead();
    if (j + 2 * kStep < n) reports[j + 2 * kStep]->PrefetchOffsets(def.id);
    if (j + kStep < n) reports[j + kStep]->PrefetchLines(def.id);
    WriteLines(def, *reports[j], header, out->buf());
    if (!out->Spill()) return false;
  }
  return true;
}

}  // namespace

bool WriteText(const ReportText* exporter, std::span<const ReportText* const> domains,
               std::span<const ReportText* const> endpoints,
               const std::function<bool(std::string_view)>& write) {
  // A walk over the reports costs the same whether they have a family or not: families that no
  // report has (the domains' at an endpoint, and the other way round) are not walked.
  const std::bitset<kMetricCount> in_domains = PresentIn(domains);
  const std::bitset<kMetricCount> in_endpoints = PresentIn(endpoints);
  Output out(write);
  for (const std::vector<Metric>& family : Families()) {
    bool header = false;
    for (Metric m : family) {
      const MetricDef& def = Def(m);
      if (exporter != nullptr) WriteLines(def, *exporter, &header, out.buf());
      const auto i = static_cast<size_t>(m);
      if (in_domains.test(i) && !WriteFamily(def, domains, &header, &out)) return false;
      if (in_endpoints.test(i) && !WriteFamily(def, endpoints, &header, &out)) return false;
    }
  }
  return out.Flush();
}

size_t TextSize(const ReportText* exporter, std::span<const ReportText* const> domains,
                std::span<const ReportText* const> endpoints) {
  std::bitset<kMetricCount> present;
  size_t n = 0;
  auto add = [&](const ReportText& t) {
    present |= t.present();
    n += t.written_size();
  };
  if (exporter != nullptr) add(*exporter);
  for (const ReportText* t : domains) add(*t);
  for (const ReportText* t : endpoints) add(*t);
  for (const std::vector<Metric>& family : Families()) {
    for (Metric m : family) {
      if (present.test(static_cast<size_t>(m))) {
        n += HeaderSize(Def(m));  // once per family: the first entry's, as WriteLines writes it
        break;
      }
    }
  }
  return n;
}

}  // namespace mailsec::exporter
