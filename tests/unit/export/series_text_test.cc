// The text /metrics and /probe serve is rendered per report and concatenated per scrape
// (series_text.h). It must be, byte for byte, the text of the collector's prometheus-cpp
// families (the path it replaced, still the Collectable seam): these tests render rich
// snapshots both ways and compare.
#include "export/series_text.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <string>
#include <vector>

#include "export/collector.h"
#include "export/series.h"
#include "export/text_format.h"
#include "mailsec/export/snapshot.h"

namespace mailsec::exporter {
namespace {

using probe::EndpointReport;
using probe::Failure;
using probe::Phase;
using probe::Signal;

// Label values a hostile or odd peer can put in a report: escapes, non-ASCII (valid and not),
// control characters, a value longer than the label limit.
const std::vector<std::string> kOddValues = {
    "back\\slash",
    "\"quoted\"",
    "new\nline",
    "Z\xC3\xBCrich \xE2\x9C\x93",
    "bad \xFF\xFE utf8",
    "tab\tand\x01"
    "ctl",
    "\xC2\x85nel",
    std::string(300, 'x'),
    "",
    "a\\\"b\\n\"",
};

const std::string& Odd(size_t i) { return kOddValues[i % kOddValues.size()]; }

void SetPhase(EndpointReport* r, Phase p, double seconds) {
  r->phase_seconds[static_cast<size_t>(p)] = seconds;
}

EndpointReport Success(size_t i) {
  EndpointReport r;
  r.target = {i % 3 == 0 ? config::Service::kSmtp : config::Service::kImaps,
              "mx" + std::to_string(i) + ".example.org",
              static_cast<uint16_t>(i % 3 == 0 ? 25 : 993), false};
  r.ip = "192.0.2." + std::to_string(i % 250);
  r.success = true;
  r.started_at = 1700000000 + static_cast<double>(i);
  r.finished_at = r.started_at + 0.1 * static_cast<double>(i % 7) + 0.000123;
  r.duration_seconds = r.finished_at - r.started_at;
  for (int p = 0; p < probe::kPhaseCount; ++p) {
    SetPhase(&r, static_cast<Phase>(p), 1.0 / (3 + static_cast<double>(p + i)));
  }
  r.starttls_offered = true;
  r.tls.handshake_ok = true;
  r.tls.version = i % 2 ? "TLSv1.3" : "TLSv1.2";
  r.tls.cipher = i % 5 == 0 ? Odd(i) : "TLS_AES_256_GCM_SHA384";
  r.tls.group = "x25519";
  r.tls.ocsp_stapled = i % 2 == 0;
  r.tls.has_leaf = true;
  tls::CertFacts& leaf = r.tls.leaf.Edit();
  leaf.not_before = 1700000000;
  leaf.not_after = 1707776000 + static_cast<int64_t>(i);
  leaf.subject_cn = Odd(i);
  leaf.issuer_cn = Odd(i + 1);
  leaf.serial = "0A1B2C" + std::to_string(i);
  leaf.fingerprint_sha256 = std::string(64, 'a' + static_cast<char>(i % 6));
  leaf.key_type = "EC";
  leaf.key_bits = 256;
  leaf.signature_algorithm = "ecdsa-with-SHA256";
  r.tls.chain = {r.tls.leaf};
  r.tls.chain_length = 1 + static_cast<int>(i % 3);
  r.tls.chain_not_after = 1707000000;
  r.tls.trusted = i % 4 != 0;
  r.tls.verify_result = i % 4 == 0 ? "self_signed" : (i % 9 == 0 ? "" : "ok");
  r.tls.hostname_match = i % 3 != 1;
  if (i % 2 == 0) {
    r.cert_first_seen = 1690000000.5;
    r.cert_changes = i;
  }
  r.signals[i % probe::kSignalCount] = true;
  if (i % 3 == 0) {
    probe::ScanReport sc;
    sc.ran = true;
    sc.handshakes = 12;
    sc.finished_at = 1700000050.25;
    sc.versions = {{"SSLv3", false}, {"TLSv1", i % 2 == 0}, {"TLSv1.2", true}, {"TLSv1.3", true}};
    sc.weak_tested = true;
    sc.weak_cipher_accepted = i % 2 == 0;
    sc.accepted_weak = {{"TLSv1", "DES-CBC3-SHA"}, {"TLSv1", Odd(i + 2)}};
    sc.accepted_ciphers = {{"TLSv1.2", 0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256"},
                           {"TLSv1.3", 0x1302, Odd(i + 3)}};
    sc.groups = {{"TLSv1.3", 29, "x25519", true}, {"TLSv1.2", 23, "secp256r1", false}};
    if (i % 2 == 0) sc.revoked = false;
    sc.findings = {{"tls_weak_cipher", checks::CheckVerdict::kFail, "x"},
                   {"tls_fallback_scsv", checks::CheckVerdict::kPass, ""}};
    r.scan = std::make_shared<const probe::ScanReport>(sc);
  }
  if (i % 4 == 1) {
    r.dane.looked_up = true;
    r.dane.tlsa_present = i % 8 == 1;
    r.dane.match = true;
    r.dane.findings = {{"dane_match", checks::CheckVerdict::kWarn, ""}};
  }
  if (i % 5 == 2) r.operator_findings = {{"cert_pinned", checks::CheckVerdict::kFail, "pin"}};
  return r;
}

EndpointReport Failed(size_t i) {
  EndpointReport r;
  r.target = {static_cast<config::Service>(i % 8), Odd(i) + ".example.org",
              static_cast<uint16_t>(1000 + i), false};
  r.started_at = 1700000300;
  r.finished_at = 1700000300.5 + static_cast<double>(i);
  r.duration_seconds = 0.5;
  r.error = Odd(i + 4);
  switch (i % 4) {
    case 0:  // no address
      r.failure = Failure::kResolve;
      r.failure_phase = Phase::kResolve;
      SetPhase(&r, Phase::kResolve, 0.25);
      break;
    case 1:  // refused
      r.ip = "2001:db8::" + std::to_string(i);
      r.failure = Failure::kConnectRefused;
      r.failure_phase = Phase::kConnect;
      SetPhase(&r, Phase::kResolve, 0.0);
      SetPhase(&r, Phase::kConnect, 0.001);
      break;
    case 2:  // STARTTLS not offered
      r.ip = "198.51.100." + std::to_string(i % 250);
      r.failure = Failure::kStartTlsRefused;
      r.failure_phase = Phase::kCapabilities;
      for (Phase p : {Phase::kResolve, Phase::kConnect, Phase::kGreeting, Phase::kCapabilities}) {
        SetPhase(&r, p, 0.01);
      }
      r.signals[static_cast<size_t>(Signal::kStartTlsMissing)] = true;
      break;
    default:  // handshake failed
      r.ip = "203.0.113." + std::to_string(i % 250);
      r.failure = Failure::kHandshakeFailed;
      r.failure_phase = Phase::kHandshake;
      for (Phase p : {Phase::kResolve, Phase::kConnect, Phase::kGreeting, Phase::kCapabilities,
                      Phase::kStartTls, Phase::kHandshake}) {
        SetPhase(&r, p, 0.02);
      }
      r.starttls_offered = true;
      break;
  }
  return r;
}

probe::DomainReport Domain(size_t i) {
  probe::DomainReport d;
  d.domain = i % 3 == 0 ? Odd(i) + ".example" : "d" + std::to_string(i) + ".example";
  d.finished_at = 1700000400.125;
  d.duration_seconds = 1.5;
  d.dns_ok = i % 5 != 0;
  d.dnssec_secure = i % 2 == 0;
  d.mx = {{"mx1." + d.domain, 10}, {Odd(i + 1), 20}};
  d.spf_present = i % 3 != 2;
  d.spf_valid = true;
  d.spf_dns_lookups = static_cast<int>(i % 12);
  d.spf_all_qualifier = "~";
  d.dmarc_present = true;
  d.dmarc_valid = i % 2 == 0;
  d.dmarc_policy = i % 4 == 0 ? "" : "reject";
  d.dmarc_subdomain_policy = "quarantine";
  d.dmarc_pct = 50;
  d.dkim = {{"s1", true, 2048}, {Odd(i + 2), false, 0}};
  d.mta_sts_present = i % 2 == 1;
  d.mta_sts_policy_valid = i % 2 == 1;
  if (i % 2 == 1) {
    d.mta_sts_mode = "enforce";
    d.mta_sts_max_age = 604800;
    d.mta_sts_mx_covered = i % 3 == 0;
  }
  d.tlsrpt_present = true;
  d.tlsrpt_valid = i % 3 == 0;
  d.fcrdns = {{"mx1." + d.domain, "192.0.2.1", true}, {Odd(i + 3), "2001:db8::1", false}};
  d.findings = {{"spf_lookup_limit", checks::CheckVerdict::kPass, ""},
                {"dmarc_policy", checks::CheckVerdict::kWarn, ""}};
  return d;
}

// 40 endpoint targets (one address, several, failed ones), 6 domain targets with their MX
// endpoints, one of them also configured as an endpoint target (a duplicate endpoint), exporter
// state with odd build labels.
Snapshot RichSnapshot() {
  Snapshot s;
  s.exporter.version = "0.1.0-\"dev\"";
  s.exporter.revision = "abc\\1234";
  s.exporter.openssl_version = "OpenSSL 3.0.11\n19 Sep 2023";
  s.exporter.last_reload_successful = false;
  s.exporter.last_reload_success_timestamp = 1700000000.5;
  s.exporter.targets_by_kind = {{"domain", 6}, {"endpoint", 40}};
  s.exporter.probes_total = {{{"domain", "success"}, 4},
                             {{"endpoint", "failure"}, 31},
                             {{"endpoint", "success"}, 123456789}};
  for (size_t i = 0; i < 40; ++i) {
    probe::TargetResult t;
    t.target_id = "t" + std::to_string(1000 - i);  // ids not in the reports' order
    if (i % 5 == 3) {
      t.endpoints = {Failed(i)};
    } else if (i % 5 == 4) {
      t.endpoints = {Success(i), Failed(i), Success(i + 100)};  // several addresses
      t.endpoints[2].target = t.endpoints[0].target;
    } else {
      t.endpoints = {Success(i)};
    }
    const std::string id = t.target_id;
    s.results[id] = Publish(std::move(t));
  }
  s.results["t_empty"] = Publish({"t_empty", {}});
  for (size_t i = 0; i < 6; ++i) {
    probe::TargetResult t;
    t.target_id = "dom" + std::to_string(i);
    t.domain = std::make_shared<const probe::DomainReport>(Domain(i));
    t.endpoints = {Success(200 + i), Failed(200 + i)};
    t.endpoints[0].discovered_by = "mx";
    const std::string id = t.target_id;
    s.results[id] = Publish(std::move(t));
  }
  // The MX of dom2 is configured as an endpoint too, probed later: only the newer is rendered.
  EndpointReport dup = Success(202);
  dup.finished_at += 30;
  s.results["imaps://mx202.example.org:993"] = Publish({"imaps://mx202.example.org:993", {dup}});
  return s;
}

TEST(SeriesTextTest, SnapshotSameBytesAsCollectorFamilies) {
  const Snapshot s = RichSnapshot();
  const std::vector<prometheus::MetricFamily> families = CollectSnapshot(s);
  const std::string expected = SerializeText(families);
  ASSERT_EQ(expected, prometheus::TextSerializer().Serialize(families));
  const std::string text = RenderSnapshot(s);
  EXPECT_GT(text.size(), 50000u);
  EXPECT_EQ(text, expected);
  // The odd values made it through, escaped.
  EXPECT_NE(text.find("subject_cn=\"back\\\\slash\""), std::string::npos);
  EXPECT_NE(text.find("subject_cn=\"\\\"quoted\\\"\""), std::string::npos);
  EXPECT_NE(text.find("Z\xC3\xBCrich"), std::string::npos);
  // The duplicate endpoint appears once.
  const std::string dup = "mailsec_probe_success{service=\"imaps\",host=\"mx202.example.org\"";
  ASSERT_NE(text.find(dup), std::string::npos);
  EXPECT_EQ(text.find(dup, text.find(dup) + 1), std::string::npos);
}

TEST(SeriesTextTest, EmptySnapshotSameBytes) {
  const Snapshot s;
  EXPECT_EQ(RenderSnapshot(s), SerializeText(CollectSnapshot(s)));
}

TEST(SeriesTextTest, ResultsAndReportsSameBytes) {
  const Snapshot s = RichSnapshot();
  for (const auto& [id, published] : s.results) {
    const probe::TargetResult& r = published->result();
    EXPECT_EQ(RenderResult(r), SerializeText(CollectResult(r))) << id;
    EXPECT_EQ(RenderReports(r.endpoints), SerializeText(CollectReports(r.endpoints))) << id;
  }
  std::vector<EndpointReport> all;
  for (size_t i = 0; i < 30; ++i) all.push_back(i % 2 ? Success(i) : Failed(i));
  all.push_back(Success(3));  // a duplicate
  EXPECT_EQ(RenderReports(all), SerializeText(CollectReports(all)));
}

TEST(SeriesTextTest, WriteSnapshotInPiecesAndStopsWhenTheWriterFails) {
  Snapshot s = RichSnapshot();
  // Enough endpoints for several pieces.
  for (size_t i = 0; i < 1500; ++i) {
    const std::string id = "bulk" + std::to_string(i);
    s.results[id] = Publish({id, {Success(1000 + i)}});
  }
  std::vector<size_t> sizes;
  std::string joined;
  ASSERT_TRUE(WriteSnapshot(s, [&](std::string_view piece) {
    sizes.push_back(piece.size());
    joined.append(piece);
    return true;
  }));
  ASSERT_GT(sizes.size(), 2u);
  EXPECT_EQ(joined, RenderSnapshot(s));
  EXPECT_EQ(joined, SerializeText(CollectSnapshot(s)));

  int calls = 0;
  EXPECT_FALSE(WriteSnapshot(s, [&](std::string_view) { return ++calls < 2; }));
  EXPECT_EQ(calls, 2);

  // The same results as a vector in the map's order (what a scrape takes): the same bytes, and
  // exactly as many as the body says before it is written, every time it is written.
  std::vector<std::shared_ptr<const PublishedResult>> results;
  for (const auto& [id, published] : s.results) results.push_back(published);
  const ScrapeBody body(s.exporter, results);
  for (int round = 0; round < 2; ++round) {
    std::string from_vector;
    ASSERT_TRUE(body.Write([&](std::string_view piece) {
      from_vector.append(piece);
      return true;
    }));
    EXPECT_EQ(from_vector, joined);
    EXPECT_EQ(body.size(), joined.size());
  }
  calls = 0;
  EXPECT_FALSE(body.Write([&](std::string_view) { return ++calls < 3; }));
  EXPECT_EQ(calls, 3);
}

// The size a scrape's body announces is the size of what it writes, whatever is in it: no
// results; domains alone (mailsec_check_result's header then comes from its domain entry);
// endpoints alone; failures alone; a duplicate endpoint (written once); odd label values.
TEST(SeriesTextTest, ScrapeBodySizeIsTheSizeOfItsBytes) {
  auto check = [](const Snapshot& s, const char* what) {
    std::vector<std::shared_ptr<const PublishedResult>> results;
    for (const auto& [id, published] : s.results) results.push_back(published);
    const ScrapeBody body(s.exporter, results);
    std::string text;
    ASSERT_TRUE(body.Write([&](std::string_view piece) {
      text.append(piece);
      return true;
    }));
    EXPECT_EQ(text, RenderSnapshot(s)) << what;
    EXPECT_EQ(body.size(), text.size()) << what;
  };
  check(Snapshot{}, "empty");
  const Snapshot rich = RichSnapshot();
  check(rich, "rich");
  Snapshot domains;
  Snapshot endpoints;
  Snapshot failures;
  for (const auto& [id, published] : rich.results) {
    probe::TargetResult domain_only = published->result();
    domain_only.endpoints.clear();
    if (domain_only.domain) domains.results[id] = Publish(std::move(domain_only));
    probe::TargetResult endpoints_only = published->result();
    endpoints_only.domain.reset();
    endpoints.results[id] = Publish(std::move(endpoints_only));
  }
  for (size_t i = 0; i < 5; ++i) {
    const std::string id = "f" + std::to_string(i);
    failures.results[id] = Publish({id, {Failed(i)}});
  }
  failures.results["dup"] = Publish({"dup", {Failed(1)}});
  ASSERT_FALSE(domains.results.empty());
  check(domains, "domains alone");
  check(endpoints, "endpoints alone");
  check(failures, "failures alone");
}

// One report per endpoint (service, host, port, ip), the most recently finished, at the place of
// the first; the same whether the hashes tell endpoints apart or all collide.
TEST(SeriesTextTest, DeduplicateKeepsTheLatestAtTheFirstPlaceWhateverTheHashes) {
  std::vector<EndpointReport> reports;
  for (size_t i = 0; i < 300; ++i) reports.push_back(Success(i % 100));  // each endpoint 3 times
  for (size_t i = 0; i < reports.size(); ++i) {
    reports[i].finished_at = static_cast<double>((i * 7) % 300);  // the latest is any of the 3
  }
  reports.push_back(Success(5));
  reports.back().ip = "192.0.2.250";  // another address of mx5: another endpoint
  reports.push_back(Success(6));
  reports.back().target.port = 587;  // another port: another endpoint
  std::vector<const EndpointReport*> in;
  for (const EndpointReport& r : reports) in.push_back(&r);

  std::vector<size_t> expected;  // by brute force
  for (size_t i = 0; i < in.size(); ++i) {
    auto same = [&](size_t j) {
      return in[j]->target.service == in[i]->target.service &&
             in[j]->target.host == in[i]->target.host &&
             in[j]->target.port == in[i]->target.port && in[j]->ip == in[i]->ip;
    };
    bool seen = false;
    for (size_t j = 0; j < i; ++j) seen = seen || same(j);
    if (seen) continue;
    size_t latest = i;
    for (size_t j = i; j < in.size(); ++j) {
      if (same(j) && in[j]->finished_at > in[latest]->finished_at) latest = j;
    }
    expected.push_back(latest);
  }
  ASSERT_EQ(expected.size(), 102u);

  EXPECT_EQ(DeduplicateIndices(in), expected);
  std::vector<uint64_t> hashes;
  for (const EndpointReport* r : in) hashes.push_back(EndpointKeyHash(*r));
  EXPECT_EQ(DeduplicateIndices(in, hashes), expected);
  EXPECT_EQ(EndpointKeyHash(*in[0]), EndpointKeyHash(*in[100]));
  EXPECT_NE(EndpointKeyHash(*in[5]), EndpointKeyHash(*in[300]));
  EXPECT_NE(EndpointKeyHash(*in[6]), EndpointKeyHash(*in[301]));
  const std::vector<uint64_t> colliding(in.size(), 42);
  EXPECT_EQ(DeduplicateIndices(in, colliding), expected);
  EXPECT_TRUE(DeduplicateIndices({}, {}).empty());
}

TEST(SeriesTextTest, ReportTextGroupsLinesByFamily) {
  EndpointReport r = Success(3);  // with a scan: check results from several places
  const ReportText t = EndpointText(r);
  EXPECT_EQ(t.prefix(), "service=\"smtp\",host=\"mx3.example.org\",port=\"25\",ip=\"192.0.2.3\"");
  EXPECT_EQ(t.Lines(Metric::kProbeSuccess), "} 1\n");
  EXPECT_EQ(t.Lines(Metric::kBuildInfo), "");
  const std::string_view checks = t.Lines(Metric::kCheckResult);
  EXPECT_EQ(checks.substr(0, 27), ",check=\"tls_weak_cipher\"} 2");
  const ReportText e = ExporterText(ExporterState{});
  EXPECT_EQ(e.prefix(), "");
  EXPECT_EQ(e.Lines(Metric::kConfigLastReloadSuccessful), " 1\n");
}

TEST(SeriesTextTest, CheckResultsAndSignalsAreHeldOncePerDistinctText) {
  EndpointReport a = Success(3);
  EndpointReport b = Success(3);
  b.target.host = "other.example.org";  // another endpoint, the same verdicts
  b.ip = "192.0.2.200";
  const ReportText ta = EndpointText(a);
  const ReportText tb = EndpointText(b);
  EXPECT_TRUE(ta.SharesLinesWith(tb));
  EXPECT_EQ(ta.Lines(Metric::kCheckResult), tb.Lines(Metric::kCheckResult));
  EXPECT_EQ(ta.Lines(Metric::kDowngradeSignal), tb.Lines(Metric::kDowngradeSignal));
  // What the deep scan found accepted is shared too; the scan's time is not.
  EXPECT_FALSE(ta.Lines(Metric::kTlsVersionSupported).empty());
  EXPECT_EQ(ta.Lines(Metric::kTlsVersionSupported).data(),
            tb.Lines(Metric::kTlsVersionSupported).data());
  EXPECT_FALSE(ta.Lines(Metric::kScanTimestamp).empty());
  EXPECT_NE(ta.Lines(Metric::kScanTimestamp).data(), tb.Lines(Metric::kScanTimestamp).data());
  EXPECT_NE(ta.prefix(), tb.prefix());
  EXPECT_EQ(tb.Lines(Metric::kDowngradeSignal).substr(0, 26), ",signal=\"starttls_missing\"");

  // A raised signal (and the check that judges it) makes another text; the families around the
  // shared ones are unchanged.
  probe::RaiseSignal(&b, probe::Signal::kStartTlsMasked, "masked");
  const ReportText tc = EndpointText(b);
  EXPECT_FALSE(ta.SharesLinesWith(tc));
  EXPECT_NE(ta.Lines(Metric::kCheckResult), tc.Lines(Metric::kCheckResult));
  EXPECT_NE(ta.Lines(Metric::kDowngradeSignal), tc.Lines(Metric::kDowngradeSignal));
  EXPECT_EQ(ta.Lines(Metric::kProbeSuccess), tc.Lines(Metric::kProbeSuccess));

  // A text that no report holds any more is made anew, equal (the pool let go of it).
  EndpointReport d = b;
  probe::RaiseSignal(&d, probe::Signal::kPlaintextAuth, "AUTH PLAIN before TLS");
  std::string first;
  {
    const ReportText only = EndpointText(d);
    EXPECT_FALSE(only.SharesLinesWith(tc));
    first = std::string(only.Lines(Metric::kDowngradeSignal));
  }
  const ReportText again = EndpointText(d);
  EXPECT_EQ(again.Lines(Metric::kDowngradeSignal), first);
  EXPECT_NE(first.find("plaintext_auth\"} 1"), std::string::npos) << first;

  // A report without any check or signal series has no shared text and empty lines for them.
  const ReportText e = ExporterText(ExporterState{});
  EXPECT_EQ(e.Lines(Metric::kCheckResult), "");
  EXPECT_EQ(e.Lines(Metric::kDowngradeSignal), "");
}

}  // namespace
}  // namespace mailsec::exporter
