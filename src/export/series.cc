#include "export/series.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "mailsec/config/target.h"
#include "mailsec/findings/verdicts.h"

namespace mailsec::exporter {
namespace {

using probe::EndpointReport;
using probe::Failure;
using probe::Phase;

double Bool(bool b) { return b ? 1 : 0; }

bool Reached(const EndpointReport& r, Phase p) {
  return r.phase_seconds[static_cast<size_t>(p)] >= 0;
}

// The probe has a TCP connection to talk over: past resolve and connect.
bool GotConnection(const EndpointReport& r) {
  if (r.ip.empty() || !Reached(r, Phase::kConnect)) return false;
  switch (r.failure) {
    case Failure::kResolve:
    case Failure::kConnectRefused:
    case Failure::kConnectTimeout:
    case Failure::kConnectError:
      return false;
    default:
      break;
  }
  return r.failure == Failure::kNone ||
         (r.failure_phase != Phase::kResolve && r.failure_phase != Phase::kConnect);
}

// Writes the series of one endpoint report.
class EndpointWriter {
 public:
  EndpointWriter(SeriesSink* set, const EndpointReport& r)
      : set_(set), port_(std::to_string(r.target.port)) {
    head_ = {config::ServiceName(r.target.service), r.target.host, port_, r.ip};
  }

  void Add(Metric m, double value, std::initializer_list<std::string_view> extra = {}) {
    set_->Add(m, head_, extra, value);
  }

 private:
  SeriesSink* set_;
  std::string port_;
  std::array<std::string_view, 4> head_;
};

}  // namespace

void AddEndpointSeries(SeriesSink* set, const EndpointReport& r) {
  EndpointWriter w(set, r);
  w.Add(Metric::kProbeSuccess, Bool(r.success));
  w.Add(Metric::kProbeDuration, r.duration_seconds);
  w.Add(Metric::kProbeTimestamp, r.finished_at);
  for (int i = 0; i < probe::kPhaseCount; ++i) {
    if (r.phase_seconds[i] >= 0) {
      w.Add(Metric::kProbePhaseDuration, r.phase_seconds[i],
            {probe::PhaseName(static_cast<Phase>(i))});
    }
  }
  if (r.failure != Failure::kNone) {
    w.Add(Metric::kProbeFailureInfo, 1,
          {probe::PhaseName(r.failure_phase), probe::FailureName(r.failure)});
  }
  if (config::ServiceTlsMode(r.target.service) == config::TlsMode::kStartTls &&
      Reached(r, Phase::kCapabilities)) {
    w.Add(Metric::kStartTlsOffered, Bool(r.starttls_offered));
  }

  const bool connected = GotConnection(r);
  if (connected) {
    w.Add(Metric::kTlsHandshakeSuccess, Bool(r.tls.handshake_ok));
    for (int i = 0; i < probe::kSignalCount; ++i) {
      w.Add(Metric::kDowngradeSignal, Bool(r.signals[i]),
            {probe::SignalName(static_cast<probe::Signal>(i))});
    }
  }

  const tls::TlsFacts& t = r.tls;
  if (t.handshake_ok) {
    if (!t.version.empty()) w.Add(Metric::kTlsVersionInfo, 1, {t.version});
    if (!t.cipher.empty()) w.Add(Metric::kTlsCipherInfo, 1, {t.cipher});
    if (!t.group.empty()) w.Add(Metric::kTlsGroupInfo, 1, {t.group});
    w.Add(Metric::kOcspStapled, Bool(t.ocsp_stapled));
  }
  if (t.has_leaf) {
    const tls::CertFacts& c = *t.leaf;
    w.Add(Metric::kCertNotAfter, static_cast<double>(c.not_after));
    w.Add(Metric::kCertNotBefore, static_cast<double>(c.not_before));
    w.Add(Metric::kCertChainNotAfter, static_cast<double>(t.chain_not_after));
    w.Add(Metric::kCertChainLength, t.chain_length);
    w.Add(Metric::kCertTrusted, Bool(t.trusted));
    w.Add(Metric::kCertVerifyResultInfo, 1,
          {t.verify_result.empty() ? std::string_view("unknown") : t.verify_result});
    w.Add(Metric::kCertHostnameMatch, Bool(t.hostname_match));
    if (r.cert_first_seen > 0) {  // only with a history (state_file) behind the report
      w.Add(Metric::kCertFirstSeen, r.cert_first_seen);
      w.Add(Metric::kCertChangesTotal, static_cast<double>(r.cert_changes));
    }
    const std::string bits = std::to_string(c.key_bits);
    w.Add(Metric::kCertInfo, 1,
          {c.subject_cn, c.issuer_cn, c.serial, c.fingerprint_sha256, c.key_type, bits,
           c.signature_algorithm});
  }
  if (r.scan && r.scan->ran) {
    const probe::ScanReport& sc = *r.scan;
    w.Add(Metric::kScanHandshakes, sc.handshakes);
    w.Add(Metric::kScanTimestamp, sc.finished_at);
    for (const auto& [version, accepted] : sc.versions) {
      w.Add(Metric::kTlsVersionSupported, Bool(accepted), {version});
    }
    if (sc.weak_tested) w.Add(Metric::kTlsWeakCipherAccepted, Bool(sc.weak_cipher_accepted));
    for (const auto& [version, cipher] : sc.accepted_weak) {
      w.Add(Metric::kTlsWeakCipherInfo, 1, {version, cipher});
    }
    for (const probe::ScanReport::AcceptedCipher& c : sc.accepted_ciphers) {
      w.Add(Metric::kTlsCipherAcceptedInfo, 1, {c.version, c.name});
    }
    if (const std::optional<probe::WeakestCipher> weakest = probe::MinCipherStrength(sc)) {
      w.Add(Metric::kTlsMinCipherBits, weakest->bits);
    }
    for (const probe::ScanReport::LeafByKey& l : sc.leaves) {
      w.Add(Metric::kTlsLeafServed, Bool(l.served), {l.auth});
      if (l.served) w.Add(Metric::kTlsLeafNotAfter, static_cast<double>(l.not_after), {l.auth});
    }
    for (const auto& [mechanism, resumed] : sc.resumption) {
      w.Add(Metric::kTlsSessionResumption, Bool(resumed), {mechanism});
    }
    if (sc.ticket_lifetime_hint >= 0) {
      w.Add(Metric::kTlsTicketLifetimeHint, static_cast<double>(sc.ticket_lifetime_hint));
    }
    for (const probe::ScanReport::GroupResult& g : sc.groups) {
      w.Add(Metric::kTlsGroupSupported, Bool(g.accepted), {g.version, g.name});
    }
    if (sc.revoked) w.Add(Metric::kCertRevoked, Bool(*sc.revoked));
    for (const checks::Finding& f : sc.findings) {
      w.Add(Metric::kCheckResult, static_cast<double>(f.verdict), {f.check});
    }
  }
  if (r.dane.looked_up) {
    w.Add(Metric::kDaneTlsaPresent, Bool(r.dane.tlsa_present));
    if (r.dane.tlsa_present) w.Add(Metric::kDaneMatch, Bool(r.dane.match));
  }
  // Verdicts as of the probe, so a rendering depends on the report alone.
  for (const findings::CheckVerdict& v :
       findings::EvaluateEndpoint(r, static_cast<int64_t>(r.finished_at))) {
    w.Add(Metric::kCheckResult, static_cast<double>(v.verdict), {v.check});
  }
  for (const checks::Finding& f : r.dane.findings) {
    w.Add(Metric::kCheckResult, static_cast<double>(f.verdict), {f.check});
  }
  for (const auto* list : {&r.operator_findings, &r.host_findings}) {
    for (const checks::Finding& f : *list) {
      w.Add(Metric::kCheckResult, static_cast<double>(f.verdict), {f.check});
    }
  }
}

void AddDomainSeries(SeriesSink* set, const probe::DomainReport& d) {
  const std::array<std::string_view, 1> head = {d.domain};
  auto add = [&](Metric m, double value, std::initializer_list<std::string_view> extra = {}) {
    set->Add(m, head, extra, value);
  };
  add(Metric::kDomainCheckSuccess, Bool(d.dns_ok));
  add(Metric::kDomainProbeDuration, d.duration_seconds);
  add(Metric::kDomainProbeTimestamp, d.finished_at);
  add(Metric::kDnssecSecure, Bool(d.dnssec_secure));
  for (const probe::DomainReport::Mx& mx : d.mx) {
    add(Metric::kMxInfo, 1, {mx.host, std::to_string(mx.preference)});
  }
  add(Metric::kSpfPresent, Bool(d.spf_present));
  add(Metric::kSpfValid, Bool(d.spf_valid));
  if (d.spf_present) {
    add(Metric::kSpfDnsLookups, d.spf_dns_lookups);
    add(Metric::kSpfAllInfo, 1, {d.spf_all_qualifier});
  }
  add(Metric::kDmarcPresent, Bool(d.dmarc_present));
  add(Metric::kDmarcValid, Bool(d.dmarc_valid));
  if (d.dmarc_valid) {
    add(Metric::kDmarcPolicyInfo, 1,
        {d.dmarc_policy.empty() ? std::string_view("none") : d.dmarc_policy,
         d.dmarc_subdomain_policy.empty() ? std::string_view("none") : d.dmarc_subdomain_policy});
    add(Metric::kDmarcPct, d.dmarc_pct);
  }
  for (const probe::DomainReport::Dkim& k : d.dkim) {
    add(Metric::kDkimPresent, Bool(k.present), {k.selector});
    add(Metric::kDkimKeyBits, k.key_bits, {k.selector});
  }
  add(Metric::kMtaStsPresent, Bool(d.mta_sts_present));
  if (d.mta_sts_present) add(Metric::kMtaStsPolicyValid, Bool(d.mta_sts_policy_valid));
  if (!d.mta_sts_mode.empty()) add(Metric::kMtaStsModeInfo, 1, {d.mta_sts_mode});
  if (d.mta_sts_max_age) add(Metric::kMtaStsMaxAge, *d.mta_sts_max_age);
  if (d.mta_sts_mx_covered) add(Metric::kMtaStsMxCovered, Bool(*d.mta_sts_mx_covered));
  add(Metric::kTlsRptPresent, Bool(d.tlsrpt_present));
  add(Metric::kTlsRptValid, Bool(d.tlsrpt_valid));
  for (const probe::DomainReport::Fcrdns& f : d.fcrdns) {
    add(Metric::kFcrdnsMatch, Bool(f.match), {f.host, f.ip});
  }
  for (const checks::Finding& f : d.findings) {
    add(Metric::kCheckResultDomain, static_cast<double>(f.verdict), {f.check});
  }
}

void AddExporterSeries(SeriesSink* set, const ExporterState& s) {
  set->Add(Metric::kBuildInfo, {}, {s.version, s.revision, s.openssl_version}, 1);
  set->Add(Metric::kConfigLastReloadSuccessful, {}, {}, Bool(s.last_reload_successful));
  set->Add(Metric::kConfigLastReloadSuccessTimestamp, {}, {}, s.last_reload_success_timestamp);
  for (const auto& [kind, count] : s.targets_by_kind) {
    set->Add(Metric::kTargets, {}, {kind}, static_cast<double>(count));
  }
  for (const auto& [key, count] : s.probes_total) {
    set->Add(Metric::kProbesTotal, {}, {key.first, key.second}, static_cast<double>(count));
  }
}

namespace {

// What makes two reports the same series set.
auto EndpointKey(const EndpointReport& r) {
  return std::make_tuple(config::ServiceName(r.target.service), std::string_view(r.target.host),
                         r.target.port, std::string_view(r.ip));
}

}  // namespace

std::vector<const EndpointReport*> SortedEndpoints(const std::vector<EndpointReport>& reports) {
  std::vector<const EndpointReport*> group;
  group.reserve(reports.size());
  for (const EndpointReport& r : reports) group.push_back(&r);
  std::stable_sort(group.begin(), group.end(),
                   [](const auto* a, const auto* b) { return EndpointKey(*a) < EndpointKey(*b); });
  return group;
}

uint64_t EndpointKeyHash(const EndpointReport& r) {
  // splitmix64's finalizer over the parts' hashes.
  auto mix = [](uint64_t h, uint64_t v) {
    uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  uint64_t h = mix(0, static_cast<uint64_t>(r.target.service));
  h = mix(h, std::hash<std::string_view>()(r.target.host));
  h = mix(h, r.target.port);
  return mix(h, std::hash<std::string_view>()(r.ip));
}

std::vector<size_t> DeduplicateIndices(const std::vector<const EndpointReport*>& in) {
  std::vector<uint64_t> hashes;
  hashes.reserve(in.size());
  for (const EndpointReport* r : in) hashes.push_back(EndpointKeyHash(*r));
  return DeduplicateIndices(in, hashes);
}

std::vector<size_t> DeduplicateIndices(const std::vector<const EndpointReport*>& in,
                                       std::span<const uint64_t> hashes) {
  assert(hashes.size() == in.size());
  // Open addressing, linear probing, at most half full: (hash, place in "out" + 1; 0 = empty).
  struct Entry {
    uint64_t hash;
    size_t place;
  };
  size_t capacity = 16;
  while (capacity < 2 * in.size()) capacity *= 2;
  std::vector<Entry> table(capacity, Entry{0, 0});
  const size_t mask = capacity - 1;
  std::vector<size_t> out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    for (size_t at = hashes[i] & mask;; at = (at + 1) & mask) {  // ends: the table has room
      Entry& e = table[at];
      if (e.place == 0) {
        e = Entry{hashes[i], out.size() + 1};
        out.push_back(i);
        break;
      }
      const size_t kept = out[e.place - 1];
      if (e.hash == hashes[i] && EndpointKey(*in[kept]) == EndpointKey(*in[i])) {
        if (in[i]->finished_at > in[kept]->finished_at) out[e.place - 1] = i;
        break;
      }
    }
  }
  return out;
}

std::vector<const EndpointReport*> Deduplicate(const std::vector<const EndpointReport*>& in) {
  std::vector<const EndpointReport*> out;
  for (size_t i : DeduplicateIndices(in)) out.push_back(in[i]);
  return out;
}

}  // namespace mailsec::exporter
