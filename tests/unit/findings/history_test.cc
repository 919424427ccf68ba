#include "mailsec/findings/history.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mailsec::findings {
namespace {

using probe::EndpointReport;
using probe::Phase;
using probe::Signal;

EndpointReport Report(bool starttls, const std::string& version, const std::string& fp) {
  EndpointReport r;
  r.target.service = config::Service::kSmtp;
  r.target.host = "mx.example.org";
  r.target.port = 25;
  r.ip = "192.0.2.1";
  r.phase_seconds[static_cast<int>(Phase::kConnect)] = 0.01;
  r.phase_seconds[static_cast<int>(Phase::kGreeting)] = 0.01;
  r.phase_seconds[static_cast<int>(Phase::kCapabilities)] = 0.01;
  r.starttls_offered = starttls;
  if (!version.empty()) {
    r.tls.handshake_ok = true;
    r.tls.version = version;
  }
  if (!fp.empty()) {
    r.tls.has_leaf = true;
    r.tls.leaf.Edit().fingerprint_sha256 = fp;
    r.tls.leaf.Edit().issuer_cn = "Test CA";
  }
  return r;
}

bool Has(const EndpointReport& r, Signal s) { return r.signals[static_cast<int>(s)]; }

TEST(HistoryTest, StartTlsLostFiresAndStaysUntilItComesBack) {
  History h;
  EndpointReport r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 100);
  EXPECT_FALSE(Has(r, Signal::kStartTlsLost));
  for (double t : {200.0, 300.0}) {
    r = Report(false, "", "");
    h.Observe(&r, t);
    EXPECT_TRUE(Has(r, Signal::kStartTlsLost)) << t;
  }
  r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 400);
  EXPECT_FALSE(Has(r, Signal::kStartTlsLost));
}

TEST(HistoryTest, NeverSeenStartTlsIsNotLost) {
  History h;
  EndpointReport r = Report(false, "", "");
  h.Observe(&r, 100);
  EXPECT_FALSE(Has(r, Signal::kStartTlsLost));
}

TEST(HistoryTest, UnreachedCapabilitiesSayNothingAboutStartTls) {
  History h;
  EndpointReport r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 100);
  r = Report(false, "", "");
  r.phase_seconds[static_cast<int>(Phase::kCapabilities)] = -1;  // e.g. greeting timed out
  h.Observe(&r, 200);
  EXPECT_FALSE(Has(r, Signal::kStartTlsLost));
}

TEST(HistoryTest, TlsDowngrade) {
  History h;
  EndpointReport r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 100);
  r = Report(true, "TLSv1.2", "aa");
  h.Observe(&r, 200);
  EXPECT_TRUE(Has(r, Signal::kTlsDowngraded));
  r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 300);
  EXPECT_FALSE(Has(r, Signal::kTlsDowngraded));
}

TEST(HistoryTest, CertificateSwapIsCountedAndDated) {
  History h;
  EndpointReport r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 100);
  EXPECT_EQ(r.cert_first_seen, 100);
  EXPECT_EQ(r.cert_changes, 0u);
  r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 200);
  EXPECT_EQ(r.cert_first_seen, 100);
  r = Report(true, "TLSv1.3", "bb");
  h.Observe(&r, 300);
  EXPECT_EQ(r.cert_first_seen, 300);
  EXPECT_EQ(r.cert_changes, 1u);
  r = Report(true, "TLSv1.3", "aa");  // swapped back: first seen stays the original
  h.Observe(&r, 400);
  EXPECT_EQ(r.cert_first_seen, 100);
  EXPECT_EQ(r.cert_changes, 2u);
}

TEST(HistoryTest, SignalsCarryEvidence) {
  History h;
  EndpointReport r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 1'700'000'000);
  r = Report(false, "", "");
  h.Observe(&r, 1'700'000'600);
  EXPECT_EQ(r.signal_evidence[static_cast<int>(Signal::kStartTlsLost)],
            "offered from 2023-11-14T22:13:20Z until 2023-11-14T22:13:20Z, missing since");
  r = Report(true, "TLSv1.2", "aa");
  h.Observe(&r, 1'700'001'200);
  EXPECT_EQ(r.signal_evidence[static_cast<int>(Signal::kTlsDowngraded)],
            "TLSv1.2 negotiated; TLSv1.3 was negotiated before");
}

// STRIP-03: what a renewal looks like, and what does not.
TEST(HistoryTest, UnexpectedCertificateChanges) {
  auto serve = [](History& h, const std::string& fp, const std::string& issuer, int64_t not_after,
                  double now) {
    EndpointReport r = Report(true, "TLSv1.3", fp);
    tls::CertFacts& leaf = r.tls.leaf.Edit();
    leaf.issuer_cn = issuer;
    leaf.not_after = not_after;
    leaf.spki_sha256 = "spki-" + fp;
    h.Observe(&r, now);
    return r;
  };
  const double t0 = 1'700'000'000;
  {
    History h;
    serve(h, "aa", "R3", 2000, t0);
    EndpointReport r = serve(h, "bb", "R3", 3000, t0 + 60);  // renewal: same issuer, later
    EXPECT_EQ(r.cert_changes, 1u);
    EXPECT_EQ(r.cert_unexpected_change, "");
  }
  {
    History h;
    serve(h, "aa", "R3", 2000, t0);
    EndpointReport r = serve(h, "bb", "Evil Proxy CA", 3000, t0 + 60);
    EXPECT_NE(r.cert_unexpected_change.find("issuer changed from \"R3\" to \"Evil Proxy CA\""),
              std::string::npos)
        << r.cert_unexpected_change;
    r = serve(h, "bb", "Evil Proxy CA", 3000, t0 + 3600);
    EXPECT_NE(r.cert_unexpected_change, "") << "stays for a day";
    r = serve(h, "bb", "Evil Proxy CA", 3000, t0 + 60 + kUnexpectedChangeWarnSeconds);
    EXPECT_EQ(r.cert_unexpected_change, "") << "and then ends";
  }
  {
    History h;
    serve(h, "aa", "R3", 3000, t0);
    EndpointReport r = serve(h, "bb", "R3", 2000, t0 + 60);  // expires earlier
    EXPECT_NE(r.cert_unexpected_change.find("expires no later"), std::string::npos);
  }
  {
    History h;
    serve(h, "aa", "R3", 2000, t0);
    serve(h, "bb", "R3", 3000, t0 + 60);
    EndpointReport r = serve(h, "aa", "R3", 2000, t0 + 120);  // back to the old one
    EXPECT_NE(r.cert_unexpected_change.find("swapped back"), std::string::npos);
    EXPECT_EQ(r.cert_changes, 2u);
    // The SPKI fingerprint and the change survive a save and a load.
    Result<std::map<std::string, EndpointHistory>> parsed = History::Parse(h.Serialize());
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    const EndpointHistory& e = parsed->begin()->second;
    ASSERT_EQ(e.certs.size(), 2u);
    EXPECT_EQ(e.certs.back().spki_sha256, "spki-aa");
    EXPECT_NE(e.unexpected_change.find("swapped back"), std::string::npos);
    EXPECT_EQ(e.unexpected_change_at, t0 + 120);
  }
}

TEST(HistoryTest, CertificatesPerEndpointAreBounded) {
  History h;
  for (int i = 0; i < 50; ++i) {
    EndpointReport r = Report(true, "TLSv1.3", "fp" + std::to_string(i));
    h.Observe(&r, 100 + i);
  }
  EndpointHistory e;
  ASSERT_TRUE(h.Get("smtp://mx.example.org:25 192.0.2.1", &e));
  EXPECT_EQ(e.certs.size(), kMaxCertsPerEndpoint);
  EXPECT_EQ(e.cert_changes, 49u);
}

class HistoryFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mailsec-history-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/state.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(HistoryFileTest, SaveAndLoadRoundTrip) {
  History h;
  EndpointReport r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 100);
  EXPECT_TRUE(h.dirty());
  ASSERT_TRUE(h.Save(path_).ok());
  EXPECT_FALSE(h.dirty());
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));

  History loaded;
  std::string warning;
  loaded.Load(path_, &warning);
  EXPECT_EQ(warning, "");
  EXPECT_EQ(loaded.size(), 1u);
  r = Report(false, "", "");
  loaded.Observe(&r, 200);
  EXPECT_TRUE(Has(r, Signal::kStartTlsLost)) << "history survived the restart";
}

TEST_F(HistoryFileTest, MissingFileIsAFreshStart) {
  History h;
  std::string warning;
  h.Load(path_, &warning);
  EXPECT_EQ(warning, "");
  EXPECT_EQ(h.size(), 0u);
}

TEST_F(HistoryFileTest, CorruptFileIsMovedAside) {
  { std::ofstream(path_) << "{\"version\": 1, \"endpoints\": {\"x\": {\"certs\": 5"; }
  History h;
  std::string warning;
  h.Load(path_, &warning);
  EXPECT_NE(warning.find("moved aside"), std::string::npos) << warning;
  EXPECT_EQ(h.size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(path_));
  int aside = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    aside += e.path().filename().string().rfind("state.json.corrupt-", 0) == 0;
  }
  EXPECT_EQ(aside, 1);
}

TEST_F(HistoryFileTest, WrongShapesAreRejectedNotCrashed) {
  for (const char* text : {"", "[]", "{\"version\": 2, \"endpoints\": {}}", "{\"version\": 1}",
                           "{\"version\": 1, \"endpoints\": {\"k\": {\"starttls_first_seen\": "
                           "\"x\"}}}",
                           "\xff\xfe",
                           // Numbers a type cannot hold (found by tests/fuzz/state_file_fuzz.cc).
                           "{\"version\": 1e85, \"endpoints\": {}}",
                           "{\"version\": 1, \"endpoints\": {\"k\": {\"starttls_first_seen\": 0, "
                           "\"starttls_last_seen\": 0, \"best_tls_version\": 5.5e85, "
                           "\"cert_changes\": 0, \"last_probe\": 0, \"certs\": []}}}",
                           "{\"version\": 1, \"endpoints\": {\"k\": {\"starttls_first_seen\": 0, "
                           "\"starttls_last_seen\": 0, \"best_tls_version\": 13, "
                           "\"cert_changes\": -1, \"last_probe\": 0, \"certs\": []}}}",
                           "{\"version\": 1, \"endpoints\": {\"k\": {\"starttls_first_seen\": 0, "
                           "\"starttls_last_seen\": 0, \"best_tls_version\": 13, "
                           "\"cert_changes\": 0, \"last_probe\": 0, \"certs\": [{"
                           "\"fingerprint_sha256\": \"aa\", \"issuer_cn\": \"R3\", "
                           "\"not_after\": 1e300, \"first_seen\": 0, \"last_seen\": 0}]}}}"}) {
    EXPECT_FALSE(History::Parse(text).ok()) << text;
  }
}

TEST_F(HistoryFileTest, UnwritableDirectoryIsAnError) {
  History h;
  EndpointReport r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 100);
  Status s = h.Save(dir_ + "/no/such/dir/state.json");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(h.dirty());
}

TEST(HistoryPruneTest, DropsOnlyGoneAndOldEndpoints) {
  History h;
  EndpointReport r = Report(true, "TLSv1.3", "aa");
  h.Observe(&r, 100);
  h.Prune({"smtp://mx.example.org:25"}, 10'000, 60);
  EXPECT_EQ(h.size(), 1u) << "still configured";
  h.Prune({}, 130, 60);
  EXPECT_EQ(h.size(), 1u) << "gone, but within retention";
  h.Prune({}, 200, 60);
  EXPECT_EQ(h.size(), 0u);
}

TEST(HistoryKeyTest, Versions) {
  EXPECT_EQ(TlsVersionRank("TLSv1.3"), 13);
  EXPECT_EQ(TlsVersionRank("TLSv1"), 10);
  EXPECT_EQ(TlsVersionRank("bogus"), 0);
}

}  // namespace
}  // namespace mailsec::findings
