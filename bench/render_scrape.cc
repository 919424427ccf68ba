// In-process figures of a /metrics scrape's rendering, without HTTP, sockets or probes: a
// snapshot of N synthetic endpoints shaped like the fake fleet's (STARTTLS, TLS 1.3, a leaf and
// a CA, one deep scan each) rendered through the collector's prometheus-cpp families (the path
// /metrics took before the series were rendered per published result) and through
// WriteSnapshot (the path it takes now). Prints the median of R rounds of each; run it under
// `valgrind --tool=callgrind` with a small N for instruction counts on a loaded machine.
//
//   render_scrape [N=10000] [R=5] [old|new|both]
//   render_scrape N 0 serve PORT
//
// `serve` answers HTTP on 127.0.0.1 until killed, to find what a scrape costs beyond the
// rendering (curl -o /dev/null against each): PORT is mailsec's own /metrics
// (mailsec::http::Server streaming WriteSnapshot), PORT+1 is a bare cpp-httplib server with the
// same bytes rendered once beforehand: /static (one set_content), /chunked/K (a chunked provider
// writing pieces of K KiB) and /sized/K (a provider of known length, pieces of K KiB).
#include <httplib.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "export/collector.h"
#include "export/series_text.h"
#include "export/text_format.h"
#include "mailsec/export/snapshot.h"
#include "mailsec/http/server.h"

namespace {

using mailsec::probe::EndpointReport;
using mailsec::probe::Phase;

EndpointReport Report(size_t i) {
  EndpointReport r;
  r.target = {mailsec::config::Service::kSmtp,
              "127.101." + std::to_string(i / 100 / 250) + "." + std::to_string(i / 100 % 250 + 1),
              static_cast<uint16_t>(20001 + i % 100), true};
  r.ip = r.target.host;
  r.success = true;
  r.started_at = 1765000000.0 + static_cast<double>(i) / 1000;
  r.finished_at = r.started_at + 0.0025;
  r.duration_seconds = 0.0025;
  for (int p = 0; p < mailsec::probe::kPhaseCount; ++p) r.phase_seconds[p] = 0.0001234 * (p + 1);
  r.starttls_offered = true;
  r.capabilities = {"PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME"};
  r.tls_capabilities = {"PIPELINING", "SIZE 10240000", "8BITMIME"};
  auto& t = r.tls;
  t.handshake_ok = true;
  t.version = "TLSv1.3";
  t.cipher = "TLS_AES_256_GCM_SHA384";
  t.group = "x25519";
  t.has_leaf = true;
  // Its own certificate (a fleet whose endpoints all serve different ones: nothing shared).
  mailsec::tls::CertFacts& leaf = t.leaf.Edit();
  leaf.not_before = 1765000000;
  leaf.not_after = 1765172800;
  leaf.subject_cn = "mx.bench.test";
  leaf.issuer_cn = "mailsec bench CA";
  leaf.serial = "3F0A9C1D22B7E6A15C0E4F7788D1A2B3C4D5E6F7";
  leaf.fingerprint_sha256 = std::string(64, 'c');
  leaf.key_type = "EC";
  leaf.key_bits = 256;
  leaf.signature_algorithm = "ecdsa-with-SHA256";
  leaf.der.assign(560, 0x30);
  t.chain = {t.leaf};
  t.chain_length = 1;
  t.chain_not_after = t.leaf->not_after;
  t.trusted = true;
  t.verify_result = "ok";
  t.hostname_match = true;
  mailsec::probe::ScanReport sc;
  sc.ran = true;
  sc.handshakes = 11;
  sc.finished_at = r.finished_at - 60;
  sc.versions = {
      {"SSLv3", false}, {"TLSv1", false}, {"TLSv1.1", false}, {"TLSv1.2", true}, {"TLSv1.3", true}};
  sc.weak_tested = true;
  sc.accepted_ciphers = {{"TLSv1.2", 0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256"},
                         {"TLSv1.2", 0xC02C, "ECDHE-ECDSA-AES256-GCM-SHA384"},
                         {"TLSv1.3", 0x1301, "TLS_AES_128_GCM_SHA256"},
                         {"TLSv1.3", 0x1302, "TLS_AES_256_GCM_SHA384"}};
  sc.groups = {{"TLSv1.3", 29, "x25519", true}, {"TLSv1.3", 23, "secp256r1", true}};
  r.scan = std::make_shared<const mailsec::probe::ScanReport>(std::move(sc));
  return r;
}

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Serves the snapshot as described at the top; never returns.
int Serve(const mailsec::exporter::Snapshot& snap, int port) {
  std::string text;
  mailsec::exporter::WriteSnapshot(snap, [&text](std::string_view piece) {
    text.append(piece);
    return true;
  });
  std::printf(
      "serving %zu bytes: 127.0.0.1:%d/metrics (ours), 127.0.0.1:%d/{static,chunked/K,"
      "sized/K} (bare cpp-httplib)\n",
      text.size(), port, port + 1);
  std::fflush(stdout);
  mailsec::http::Handlers h;
  h.metrics = [&text] { return text; };
  h.metrics_body = [&snap] {
    std::vector<std::shared_ptr<const mailsec::exporter::PublishedResult>> results;
    for (const auto& [id, published] : snap.results) results.push_back(published);
    auto body =
        std::make_shared<const mailsec::exporter::ScrapeBody>(snap.exporter, std::move(results));
    const size_t size = body->size();
    return mailsec::http::MetricsBody{
        size, [body](const mailsec::http::PieceWriter& write) { return body->Write(write); }};
  };
  h.ready = [] { return true; };
  h.status_page = [] { return std::string(); };
  mailsec::http::Server ours(h);
  if (mailsec::Status s = ours.Start("127.0.0.1:" + std::to_string(port)); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  constexpr const char* kType = "text/plain; version=0.0.4; charset=utf-8";
  httplib::Server bare;
  bare.Get("/static", [&text](const httplib::Request&, httplib::Response& res) {
    res.set_content(text, kType);
  });
  bare.Get(R"(/chunked/(\d+))", [&text](const httplib::Request& req, httplib::Response& res) {
    const size_t piece = std::stoul(req.matches[1]) * 1024;
    res.set_chunked_content_provider(kType, [&text, piece](size_t, httplib::DataSink& sink) {
      for (size_t off = 0; off < text.size(); off += piece) {
        if (!sink.write(text.data() + off, std::min(piece, text.size() - off))) return false;
      }
      sink.done();
      return true;
    });
  });
  bare.Get(R"(/sized/(\d+))", [&text](const httplib::Request& req, httplib::Response& res) {
    const size_t piece = std::stoul(req.matches[1]) * 1024;
    res.set_content_provider(text.size(), kType,
                             [&text, piece](size_t off, size_t len, httplib::DataSink& sink) {
                               return sink.write(text.data() + off, std::min(piece, len));
                             });
  });
  bare.listen("127.0.0.1", port + 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::string which = argc > 3 ? argv[3] : "both";
  using Clock = std::chrono::steady_clock;

  mailsec::exporter::Snapshot snap;
  snap.exporter.version = "0.1.0";
  snap.exporter.targets_by_kind = {{"domain", 0}, {"endpoint", static_cast<int64_t>(n)}};
  // Heap in use (glibc's count): the reports alone, then with their series rendered.
  size_t heap_reports = 0;
  {
    const size_t h0 = mallinfo2().uordblks;
    std::vector<EndpointReport> reports;
    reports.reserve(n);
    for (size_t i = 0; i < n; ++i) reports.push_back(Report(i));
    heap_reports = mallinfo2().uordblks - h0;
  }
  const size_t h0 = mallinfo2().uordblks;
  const auto t0 = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    EndpointReport r = Report(i);
    std::string id = "smtp://" + r.target.host + ":" + std::to_string(r.target.port);
    snap.results[id] = mailsec::exporter::Publish({id, {std::move(r)}});
  }
  const double publish_ms = Ms(Clock::now() - t0);
  const size_t heap_snapshot = mallinfo2().uordblks - h0;
  std::printf("endpoints %zu; publishing them (rendering their series once): %.1f ms\n", n,
              publish_ms);
  std::printf("heap per endpoint: report %zu bytes; published (report + series + map) %zu bytes\n",
              heap_reports / n, heap_snapshot / n);

  size_t text_bytes = 0;
  for (const auto& [id, published] : snap.results) {
    for (const auto& t : published->rendered().endpoint_texts()) {
      text_bytes += t.prefix().size() + sizeof(t);
      for (size_t m = 0; m < mailsec::exporter::kMetricCount; ++m) {
        text_bytes += t.Lines(static_cast<mailsec::exporter::Metric>(m)).size();
      }
    }
  }
  std::printf("of which the rendered series: %zu bytes per endpoint\n", text_bytes / n);
  if (which == "serve") return Serve(snap, argc > 4 ? std::atoi(argv[4]) : 19600);

  size_t bytes_old = 0, bytes_new = 0;
  std::vector<double> old_ms, new_ms;
  for (int k = 0; k < rounds; ++k) {
    if (which != "new") {
      const auto a = Clock::now();
      const std::string text =
          mailsec::exporter::SerializeText(mailsec::exporter::CollectSnapshot(snap));
      old_ms.push_back(Ms(Clock::now() - a));
      bytes_old = text.size();
    }
    if (which != "old") {
      const auto a = Clock::now();
      size_t bytes = 0;
      mailsec::exporter::WriteSnapshot(snap, [&bytes](std::string_view piece) {
        bytes += piece.size();
        return true;
      });
      new_ms.push_back(Ms(Clock::now() - a));
      bytes_new = bytes;
    }
  }
  if (!old_ms.empty()) {
    std::printf("old: families + SerializeText: median %.1f ms of %d, %zu bytes\n", Median(old_ms),
                rounds, bytes_old);
  }
  if (!new_ms.empty()) {
    std::printf("new: WriteSnapshot (pieces discarded): median %.1f ms of %d, %zu bytes\n",
                Median(new_ms), rounds, bytes_new);
  }
  return 0;
}
