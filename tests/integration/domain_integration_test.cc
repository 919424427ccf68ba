// Integration tests: the exporter's domain checks (MX, SPF, DMARC, DKIM, MTA-STS, TLS-RPT, DANE,
// FCrDNS, DNSSEC) against the DNS fleet (fleet.h, FleetOptions::dns): NSD with the generated test
// zones, a validating Unbound at g_fleet->dns_resolver(), nginx serving the MTA-STS policies on
// port 443, and Postfix's "smtp_mx" on port 25, the MX of good.test.
//
// The test domains (zones generated per run by Fleet::MakeZones; see fleet.cc):
//   good.test    signed (AD); MX mx.good.test -> address():25 with a DANE-EE TLSA 3 1 1, SPF
//                "mx -all", DMARC p=reject, MTA-STS enforce, TLS-RPT mailto, DKIM s1 RSA-2048,
//                CAA, SRV _submissions._tcp, PTR of address() -> mx.good.test (FCrDNS holds).
//   weak.test    unsigned; MX mx.weak.test -> address2() (nothing listens, no PTR), SPF with 11
//                includes (over the 10-lookup limit), DMARC p=none, MTA-STS testing with an MX
//                pattern that does not match, TLS-RPT with an ftp: rua, DKIM s1 RSA-1024.
//   bogus.test   signed with expired signatures: Unbound answers SERVFAIL.
//   nullmx.test  unsigned; null MX ("0 ."), SPF -all, DMARC p=reject.
// The fleet starts once for the whole binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "check_run.h"
#include "exporter_process.h"
#include "fleet.h"
#include "fleet_main.h"
#include "metrics_assert.h"
#include "testing/mock_dns_server.h"
#include "testing/tls_smtp_server.h"

#ifndef MAILSEC_FLEET_BASE_DIR
#error "MAILSEC_FLEET_BASE_DIR must name a directory in the build tree"
#endif

namespace mailsec::testing {
namespace {

using std::chrono::seconds;

// ---------------------------------------------------------------------------------------------
// Helpers.

// A query through the fleet's validating resolver (Unbound), with the DO bit.
DigResult Resolve(const std::string& name, const std::string& type) {
  return Dig(g_fleet->address(), g_fleet->resolver_port(), {"+dnssec", name, type});
}

// The character-strings of a TXT rdata as dig prints it ("a" "b"), concatenated.
std::string JoinTxt(const std::string& rdata) {
  std::string out;
  bool quoted = false;
  for (std::size_t i = 0; i < rdata.size(); ++i) {
    char c = rdata[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (quoted && c == '\\' && i + 1 < rdata.size()) {
      out += rdata[++i];
    } else if (quoted) {
      out += c;
    }
  }
  return out;
}

// Every TXT record of `name` (each concatenated), through the resolver.
std::vector<std::string> TxtRecords(const DigResult& d) {
  std::vector<std::string> out;
  for (const auto& r : d.rdata("TXT")) out.push_back(JoinTxt(r));
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// An HTTPS GET of https://<host><path> from nginx on address():443, trusting the test CA.
struct HttpsResult {
  CommandResult command;
  int status = 0;
  std::string content_type;
  std::string body;
};

HttpsResult CurlGet(const std::string& host, const std::string& path) {
  static int counter = 0;
  const std::string body_file = g_fleet->dir() + "/curl-" + std::to_string(++counter) + ".body";
  HttpsResult r;
  r.command = RunCommand(
      {"curl", "-sS", "--max-time", "10", "--cacert", g_fleet->ca_bundle_path(), "--resolve",
       host + ":" + std::to_string(Fleet::kHttpsPort) + ":" + g_fleet->address(), "-o", body_file,
       "-w", "%{http_code} %{content_type}", "https://" + host + path},
      seconds(20));
  // "200 text/plain"
  const std::string& out = r.command.output;
  std::size_t space = out.find(' ');
  if (r.command.exit_code == 0 && space != std::string::npos) {
    r.status = std::atoi(out.substr(0, space).c_str());
    r.content_type = out.substr(space + 1);
  }
  r.body = ReadFile(body_file);
  return r;
}

// ---------------------------------------------------------------------------------------------
// 1. The fixture itself.

TEST(DomainFleetSmokeTest, GoodZoneIsSignedAndValidates) {
  ASSERT_NE(g_fleet, nullptr);
  DigResult soa = Resolve("good.test", "SOA");
  EXPECT_EQ(soa.status, "NOERROR") << soa.command.output;
  EXPECT_TRUE(soa.has_flag("ad")) << soa.command.output;
  EXPECT_FALSE(soa.rdata("RRSIG").empty()) << "no RRSIG with +dnssec:\n" << soa.command.output;

  DigResult mx = Resolve("good.test", "MX");
  EXPECT_TRUE(mx.has_flag("ad")) << mx.command.output;
  EXPECT_EQ(mx.rdata("MX"), std::vector<std::string>{"10 mx.good.test."}) << mx.command.output;
  DigResult a = Resolve("mx.good.test", "A");
  EXPECT_EQ(a.rdata("A"), std::vector<std::string>{g_fleet->address()}) << a.command.output;

  DigResult spf = Resolve("good.test", "TXT");
  EXPECT_EQ(TxtRecords(spf), std::vector<std::string>{"v=spf1 mx -all"}) << spf.command.output;
  DigResult dmarc = Resolve("_dmarc.good.test", "TXT");
  EXPECT_EQ(TxtRecords(dmarc),
            std::vector<std::string>{"v=DMARC1; p=reject; rua=mailto:dmarc@good.test"});
  DigResult sts = Resolve("_mta-sts.good.test", "TXT");
  EXPECT_EQ(TxtRecords(sts), std::vector<std::string>{"v=STSv1; id=20261123T1"});
  DigResult rpt = Resolve("_smtp._tls.good.test", "TXT");
  EXPECT_EQ(TxtRecords(rpt), std::vector<std::string>{"v=TLSRPTv1; rua=mailto:tlsrpt@good.test"});
  DigResult dkim = Resolve("s1._domainkey.good.test", "TXT");
  EXPECT_TRUE(dkim.has_flag("ad")) << dkim.command.output;
  EXPECT_EQ(
      TxtRecords(dkim),
      std::vector<std::string>{"v=DKIM1; k=rsa; p=" + g_fleet->dkim_public_key_base64("good.test")})
      << dkim.command.output;
  // 392 bytes of text: published as two character-strings (at most 255 bytes each).
  ASSERT_EQ(dkim.rdata("TXT").size(), 1u) << dkim.command.output;
  EXPECT_NE(dkim.rdata("TXT")[0].find("\" \""), std::string::npos) << dkim.command.output;
  DigResult caa = Resolve("good.test", "CAA");
  EXPECT_EQ(caa.rdata("CAA"), std::vector<std::string>{"0 issue \"ca.test\""})
      << caa.command.output;
  DigResult srv = Resolve("_submissions._tcp.good.test", "SRV");
  EXPECT_EQ(srv.rdata("SRV"), std::vector<std::string>{"0 1 10465 mx.good.test."})
      << srv.command.output;
}

TEST(DomainFleetSmokeTest, TlsaRecordMatchesTheMxCertificate) {
  ASSERT_NE(g_fleet, nullptr);
  ASSERT_EQ(g_fleet->mx_tlsa_sha256_hex().size(), 64u);
  // The fleet's hash agrees with the openssl CLI's.
  CommandResult cli =
      RunCommand({"sh", "-c",
                  "openssl x509 -in \"$0\" -noout -pubkey | openssl pkey -pubin -outform DER | "
                  "openssl dgst -sha256 -r",
                  g_fleet->leaf_path("mx")},
                 seconds(20));
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_EQ(cli.output.substr(0, 64), g_fleet->mx_tlsa_sha256_hex()) << cli.output;

  DigResult tlsa = Resolve("_25._tcp.mx.good.test", "TLSA");
  EXPECT_EQ(tlsa.status, "NOERROR") << tlsa.command.output;
  EXPECT_TRUE(tlsa.has_flag("ad")) << tlsa.command.output;
  std::vector<std::string> rdata = tlsa.rdata("TLSA");
  ASSERT_EQ(rdata.size(), 1u) << tlsa.command.output;
  std::string normalized = rdata[0];
  normalized.erase(std::remove(normalized.begin(), normalized.end(), ' '), normalized.end());
  EXPECT_EQ(Lower(normalized), "311" + g_fleet->mx_tlsa_sha256_hex()) << rdata[0];
}

TEST(DomainFleetSmokeTest, WeakZoneIsInsecure) {
  ASSERT_NE(g_fleet, nullptr);
  DigResult soa = Resolve("weak.test", "SOA");
  EXPECT_EQ(soa.status, "NOERROR") << soa.command.output;
  EXPECT_FALSE(soa.has_flag("ad")) << soa.command.output;

  DigResult mx = Resolve("weak.test", "MX");
  EXPECT_EQ(mx.rdata("MX"), std::vector<std::string>{"10 mx.weak.test."}) << mx.command.output;
  DigResult a = Resolve("mx.weak.test", "A");
  EXPECT_EQ(a.rdata("A"), std::vector<std::string>{g_fleet->address2()}) << a.command.output;
  EXPECT_NE(g_fleet->address2(), g_fleet->address());

  DigResult spf = Resolve("weak.test", "TXT");
  std::vector<std::string> txt = TxtRecords(spf);
  ASSERT_EQ(txt.size(), 1u) << spf.command.output;
  EXPECT_EQ(txt[0].rfind("v=spf1 include:i1.weak.test include:i2.weak.test ", 0), 0u) << txt[0];
  EXPECT_NE(txt[0].find(" include:i11.weak.test -all"), std::string::npos) << txt[0];
  std::size_t includes = 0;
  for (std::size_t at = 0; (at = txt[0].find(" include:", at)) != std::string::npos; ++at) {
    ++includes;
  }
  EXPECT_EQ(includes, 11u) << txt[0];
  DigResult include = Resolve("i11.weak.test", "TXT");
  EXPECT_EQ(TxtRecords(include), std::vector<std::string>{"v=spf1 ?all"});
  EXPECT_EQ(TxtRecords(Resolve("_dmarc.weak.test", "TXT")),
            std::vector<std::string>{"v=DMARC1; p=none"});
  EXPECT_EQ(TxtRecords(Resolve("_mta-sts.weak.test", "TXT")),
            std::vector<std::string>{"v=STSv1; id=1"});
  EXPECT_EQ(TxtRecords(Resolve("_smtp._tls.weak.test", "TXT")),
            std::vector<std::string>{"v=TLSRPTv1; rua=ftp://x.weak.test"});
  EXPECT_EQ(TxtRecords(Resolve("s1._domainkey.weak.test", "TXT")),
            std::vector<std::string>{"v=DKIM1; k=rsa; p=" +
                                     g_fleet->dkim_public_key_base64("weak.test")});
  EXPECT_EQ(Resolve("mta-sts.weak.test", "A").rdata("A"),
            std::vector<std::string>{g_fleet->address()});
}

TEST(DomainFleetSmokeTest, BogusZoneIsServfail) {
  ASSERT_NE(g_fleet, nullptr);
  DigResult soa = Resolve("bogus.test", "MX");
  EXPECT_EQ(soa.status, "SERVFAIL") << soa.command.output;
  // The data is there: with checking disabled the resolver hands it out unvalidated.
  DigResult cd = Dig(g_fleet->address(), g_fleet->resolver_port(), {"+cd", "bogus.test", "MX"});
  EXPECT_EQ(cd.status, "NOERROR") << cd.command.output;
  EXPECT_EQ(cd.rdata("MX"), std::vector<std::string>{"10 mx.good.test."}) << cd.command.output;
}

TEST(DomainFleetSmokeTest, NullMxZone) {
  ASSERT_NE(g_fleet, nullptr);
  DigResult mx = Resolve("nullmx.test", "MX");
  EXPECT_EQ(mx.status, "NOERROR") << mx.command.output;
  EXPECT_FALSE(mx.has_flag("ad")) << mx.command.output;
  EXPECT_EQ(mx.rdata("MX"), std::vector<std::string>{"0 ."}) << mx.command.output;
  EXPECT_EQ(TxtRecords(Resolve("nullmx.test", "TXT")), std::vector<std::string>{"v=spf1 -all"});
  EXPECT_EQ(TxtRecords(Resolve("_dmarc.nullmx.test", "TXT")),
            std::vector<std::string>{"v=DMARC1; p=reject"});
}

TEST(DomainFleetSmokeTest, ReverseZoneHasPtrForAddressOnly) {
  ASSERT_NE(g_fleet, nullptr);
  DigResult ptr = Dig(g_fleet->address(), g_fleet->resolver_port(), {"-x", g_fleet->address()});
  EXPECT_EQ(ptr.status, "NOERROR") << ptr.command.output;
  EXPECT_EQ(ptr.rdata("PTR"), std::vector<std::string>{"mx.good.test."}) << ptr.command.output;
  DigResult none = Dig(g_fleet->address(), g_fleet->resolver_port(), {"-x", g_fleet->address2()});
  EXPECT_EQ(none.status, "NXDOMAIN") << none.command.output;
}

TEST(DomainFleetSmokeTest, ResolverAnswersNothingOutsideTheTestZones) {
  ASSERT_NE(g_fleet, nullptr);
  // Local NXDOMAIN, no query leaves the fleet.
  for (const char* name : {"example.com", "other.test", "mx.other.test"}) {
    DigResult d = Resolve(name, "A");
    EXPECT_EQ(d.status, "NXDOMAIN") << name << ":\n" << d.command.output;
  }
  // NSD is authoritative for the test zones only.
  DigResult aa = Dig(g_fleet->address(), g_fleet->nsd_port(), {"+norecurse", "good.test", "MX"});
  EXPECT_TRUE(aa.has_flag("aa")) << aa.command.output;
}

TEST(DomainFleetSmokeTest, NginxServesMtaStsPolicies) {
  ASSERT_NE(g_fleet, nullptr);
  HttpsResult good = CurlGet("mta-sts.good.test", "/.well-known/mta-sts.txt");
  EXPECT_EQ(good.command.exit_code, 0) << good.command.output;
  EXPECT_EQ(good.status, 200) << good.command.output;
  EXPECT_EQ(good.content_type, "text/plain");
  EXPECT_EQ(good.body, Fleet::kGoodMtaStsPolicy);

  HttpsResult weak = CurlGet("mta-sts.weak.test", "/.well-known/mta-sts.txt");
  EXPECT_EQ(weak.status, 200) << weak.command.output;
  EXPECT_EQ(weak.content_type, "text/plain");
  EXPECT_EQ(weak.body, Fleet::kWeakMtaStsPolicy);

  HttpsResult other = CurlGet("mta-sts.good.test", "/.well-known/other.txt");
  EXPECT_EQ(other.status, 404) << other.command.output;
  HttpsResult root = CurlGet("mta-sts.good.test", "/");
  EXPECT_EQ(root.status, 404) << root.command.output;

  // A policy rewritten at runtime is served at once; a removed one is a 404.
  const std::string replaced = "version: STSv1\r\nmode: none\r\nmax_age: 60\r\n";
  ASSERT_TRUE(g_fleet->SetMtaStsPolicy("weak.test", replaced));
  EXPECT_EQ(CurlGet("mta-sts.weak.test", "/.well-known/mta-sts.txt").body, replaced);
  ASSERT_TRUE(g_fleet->RemoveMtaStsPolicy("weak.test"));
  EXPECT_EQ(CurlGet("mta-sts.weak.test", "/.well-known/mta-sts.txt").status, 404);
  ASSERT_TRUE(g_fleet->SetMtaStsPolicy("weak.test", Fleet::kWeakMtaStsPolicy));
  EXPECT_EQ(CurlGet("mta-sts.weak.test", "/.well-known/mta-sts.txt").body,
            Fleet::kWeakMtaStsPolicy);
  EXPECT_FALSE(g_fleet->SetMtaStsPolicy("nullmx.test", "x"));
}

TEST(DomainFleetSmokeTest, MxOnPort25OffersStarttlsWithTheMxCertificate) {
  ASSERT_NE(g_fleet, nullptr);
  EXPECT_EQ(g_fleet->port("smtp_mx"), 25);
  std::string greeting;
  ASSERT_TRUE(ReadGreeting(g_fleet->address(), Fleet::kSmtpMxPort, false, seconds(10), &greeting));
  EXPECT_EQ(greeting.rfind("220 ", 0), 0u) << greeting;

  // STARTTLS is offered (s_client -starttls smtp fails otherwise) and the certificate verifies
  // for mx.good.test against the test CA.
  CommandResult r = RunCommand({"openssl", "s_client", "-starttls", "smtp", "-connect",
                                g_fleet->address() + ":25", "-CAfile", g_fleet->ca_bundle_path(),
                                "-verify_return_error", "-verify_hostname", "mx.good.test"},
                               seconds(20));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Verify return code: 0 (ok)"), std::string::npos) << r.output;

  // Nothing listens on weak.test's MX.
  EXPECT_FALSE(ReadGreeting(g_fleet->address2(), Fleet::kSmtpMxPort, false, seconds(3), nullptr));
}

// ---------------------------------------------------------------------------------------------
// 2. The exporter against the test domains (CONTRACT.md domain metrics), with the fleet's
//    validating Unbound as its only resolver and the test CA as its trust store.

class DomainExporterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    exporter_ = new ExporterProcess(*g_fleet, "domains");
    std::string toml = "[global]\n"
                       "interval = \"10m\"\n"
                       "timeout = \"8s\"\n"
                       "helo_name = \"probe.test\"\n"
                       "resolvers = [" + TomlString(g_fleet->dns_resolver()) + "]\n"
                       "ca_file = " + TomlString(g_fleet->ca_bundle_path()) + "\n"
                       "state_file = " + TomlString(exporter_->state_file_path()) + "\n";
    toml += "\n[[domain]]\nname = \"good.test\"\ndkim_selectors = [\"s1\"]\n";
    toml += "\n[[domain]]\nname = \"weak.test\"\ndkim_selectors = [\"s1\", \"nokey\"]\n";
    toml += "\n[[domain]]\nname = \"bogus.test\"\n";
    toml += "\n[[domain]]\nname = \"nullmx.test\"\n";
    ASSERT_TRUE(exporter_->WriteConfig(toml));
    ASSERT_TRUE(exporter_->StartAndWait()) << exporter_->LogTail();
    // First runs start within 15 s; each domain then spends its DNS queries and MX probes.
    for (const char* d : {"good.test", "weak.test", "bogus.test", "nullmx.test"}) {
      ASSERT_TRUE(exporter_->WaitForMetric("mailsec_domain_probe_timestamp_seconds",
                                           {{"domain", d}}, seconds(60)))
          << d << "\n"
          << exporter_->LogTail();
    }
    metrics_ = new std::string(exporter_->Get("/metrics").body);
  }
  static void TearDownTestSuite() {
    if (exporter_ != nullptr) exporter_->Stop();
    delete exporter_;
    delete metrics_;
    exporter_ = nullptr;
    metrics_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(metrics_, nullptr);
  }
  static ::testing::AssertionResult Domain(const std::string& domain, const std::string& name,
                                           double want, Labels extra = {}) {
    extra["domain"] = domain;
    return HasValue(*metrics_, name, extra, want);
  }
  static ::testing::AssertionResult Check(const std::string& domain, const std::string& check,
                                          double want) {
    return HasValue(*metrics_, "mailsec_check_result", {{"domain", domain}, {"check", check}},
                    want);
  }
  static Labels Mx(const std::string& host, const std::string& ip) {
    return {{"service", "smtp"}, {"host", host}, {"port", "25"}, {"ip", ip}};
  }

  static ExporterProcess* exporter_;
  static std::string* metrics_;
};
ExporterProcess* DomainExporterTest::exporter_ = nullptr;
std::string* DomainExporterTest::metrics_ = nullptr;

TEST_F(DomainExporterTest, GoodDomainPassesEveryPolicy) {
  EXPECT_TRUE(Domain("good.test", "mailsec_domain_check_success", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_dnssec_secure", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_mx_info", 1, {{"mx", "mx.good.test"}, {"preference", "10"}}));
  EXPECT_TRUE(Domain("good.test", "mailsec_spf_present", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_spf_valid", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_spf_dns_lookups", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_spf_all_info", 1, {{"qualifier", "-"}}));
  EXPECT_TRUE(Domain("good.test", "mailsec_dmarc_present", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_dmarc_valid", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_dmarc_policy_info", 1,
                     {{"policy", "reject"}, {"subdomain_policy", "reject"}}));
  EXPECT_TRUE(Domain("good.test", "mailsec_dmarc_pct", 100));
  EXPECT_TRUE(Domain("good.test", "mailsec_dkim_present", 1, {{"selector", "s1"}}));
  EXPECT_TRUE(Domain("good.test", "mailsec_dkim_key_bits", 2048, {{"selector", "s1"}}));
  EXPECT_TRUE(Domain("good.test", "mailsec_mta_sts_present", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_mta_sts_policy_valid", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_mta_sts_mode_info", 1, {{"mode", "enforce"}}));
  EXPECT_TRUE(Domain("good.test", "mailsec_mta_sts_max_age_seconds", 604800));
  EXPECT_TRUE(Domain("good.test", "mailsec_mta_sts_mx_covered", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_tlsrpt_present", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_tlsrpt_valid", 1));
  EXPECT_TRUE(Domain("good.test", "mailsec_fcrdns_match", 1,
                     {{"host", "mx.good.test"}, {"ip", g_fleet->address()}}));
  for (const char* check : {"spf_lookup_limit", "spf_all_qualifier", "dmarc_policy", "dkim_key",
                            "mta_sts_policy_fetch", "mta_sts_mx_covered", "mta_sts_mx_tls",
                            "tlsrpt_valid", "dnssec_signed", "dnssec_mx_signed", "fcrdns",
                            "mx_present"}) {
    EXPECT_TRUE(Check("good.test", check, 0));
  }
}

TEST_F(DomainExporterTest, GoodMxIsProbedWithDane) {
  const Labels mx = Mx("mx.good.test", g_fleet->address());
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_probe_success", mx, 1));
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_starttls_offered", mx, 1));
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_cert_trusted", mx, 1));
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_cert_hostname_match", mx, 1));
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_dane_tlsa_present", mx, 1));
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_dane_match", mx, 1));
  Labels check = mx;
  check["check"] = "dane_match";
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_check_result", check, 0));
  check["check"] = "dane_tlsa_present";
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_check_result", check, 0));
  Labels signal = mx;
  signal["signal"] = "policy_violation";
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_downgrade_signal", signal, 0));
}

TEST_F(DomainExporterTest, SrvTargetsAreProbed) {
  // _submissions._tcp.good.test SRV 0 1 10465 mx.good.test: implicit TLS on the fleet's 465.
  const Labels sub = {{"service", "submissions"},
                      {"host", "mx.good.test"},
                      {"port", "10465"},
                      {"ip", g_fleet->address()}};
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_probe_success", sub, 1));
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_tls_handshake_success", sub, 1));
  // No TLSA at _10465._tcp.mx.good.test: looked up, not present.
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_dane_tlsa_present", sub, 0));
}

TEST_F(DomainExporterTest, WeakDomainShowsEveryWeakness) {
  EXPECT_TRUE(Domain("weak.test", "mailsec_domain_check_success", 1));
  EXPECT_TRUE(Domain("weak.test", "mailsec_dnssec_secure", 0));
  EXPECT_TRUE(Domain("weak.test", "mailsec_spf_present", 1));
  EXPECT_TRUE(Domain("weak.test", "mailsec_spf_valid", 0));
  EXPECT_TRUE(Domain("weak.test", "mailsec_spf_dns_lookups", 11));
  EXPECT_TRUE(Check("weak.test", "spf_lookup_limit", 2));
  EXPECT_TRUE(Domain("weak.test", "mailsec_dmarc_policy_info", 1,
                     {{"policy", "none"}, {"subdomain_policy", "none"}}));
  EXPECT_TRUE(Check("weak.test", "dmarc_policy", 2));
  EXPECT_TRUE(Domain("weak.test", "mailsec_dkim_present", 1, {{"selector", "s1"}}));
  EXPECT_TRUE(Domain("weak.test", "mailsec_dkim_key_bits", 1024, {{"selector", "s1"}}));
  EXPECT_TRUE(Domain("weak.test", "mailsec_dkim_present", 0, {{"selector", "nokey"}}));
  EXPECT_TRUE(Domain("weak.test", "mailsec_dkim_key_bits", 0, {{"selector", "nokey"}}));
  EXPECT_TRUE(Check("weak.test", "dkim_key", 2));  // the missing selector is the worst
  EXPECT_TRUE(Domain("weak.test", "mailsec_mta_sts_present", 1));
  EXPECT_TRUE(Domain("weak.test", "mailsec_mta_sts_policy_valid", 1));
  EXPECT_TRUE(Domain("weak.test", "mailsec_mta_sts_mode_info", 1, {{"mode", "testing"}}));
  EXPECT_TRUE(Domain("weak.test", "mailsec_mta_sts_max_age_seconds", 86400));
  EXPECT_TRUE(Domain("weak.test", "mailsec_mta_sts_mx_covered", 0));
  EXPECT_TRUE(Check("weak.test", "mta_sts_mx_covered", 1));  // testing: warn
  EXPECT_TRUE(Check("weak.test", "mta_sts_max_age", 1));
  EXPECT_TRUE(Domain("weak.test", "mailsec_tlsrpt_present", 1));
  EXPECT_TRUE(Domain("weak.test", "mailsec_tlsrpt_valid", 0));
  EXPECT_TRUE(Check("weak.test", "dnssec_signed", 2));
  // The MX address has no PTR, and nothing listens on it.
  EXPECT_TRUE(Domain("weak.test", "mailsec_fcrdns_match", 0,
                     {{"host", "mx.weak.test"}, {"ip", g_fleet->address2()}}));
  EXPECT_TRUE(Check("weak.test", "ptr_present", 1));
  const Labels mx = Mx("mx.weak.test", g_fleet->address2());
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_probe_success", mx, 0));
  Labels failure = mx;
  failure["phase"] = "connect";
  failure["reason"] = "connect_refused";
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_probe_failure_info", failure, 1));
}

TEST_F(DomainExporterTest, BogusDomainIsADnsFailure) {
  EXPECT_TRUE(Domain("bogus.test", "mailsec_domain_check_success", 0));
  EXPECT_TRUE(Domain("bogus.test", "mailsec_dnssec_secure", 0));
  EXPECT_TRUE(Domain("bogus.test", "mailsec_spf_present", 0));
  // SERVFAIL is "could not evaluate", never "fail".
  EXPECT_TRUE(Check("bogus.test", "spf_present", 3));
  EXPECT_TRUE(Check("bogus.test", "mx_present", 3));
  // ... but asked again with the CD bit, Unbound has the data: the signatures are bogus.
  EXPECT_TRUE(Check("bogus.test", "dnssec_valid", 2));
  EXPECT_TRUE(Check("bogus.test", "dnssec_signed", 0));
}

TEST_F(DomainExporterTest, NullMxDomainReceivesNoMail) {
  EXPECT_TRUE(Domain("nullmx.test", "mailsec_domain_check_success", 1));
  EXPECT_TRUE(Domain("nullmx.test", "mailsec_mx_info", 1, {{"mx", "."}, {"preference", "0"}}));
  EXPECT_TRUE(Check("nullmx.test", "null_mx", 0));
  EXPECT_TRUE(IsAbsent(*metrics_, "mailsec_probe_success", {{"host", "."}}));
  EXPECT_TRUE(Domain("nullmx.test", "mailsec_spf_all_info", 1, {{"qualifier", "-"}}));
}

TEST_F(DomainExporterTest, ExporterCountsDomainTargetsAndProbes) {
  EXPECT_TRUE(HasValue(*metrics_, "mailsec_targets", {{"kind", "domain"}}, 4));
  EXPECT_TRUE(MetricValue(*metrics_, "mailsec_probes_total", {{"kind", "domain"}}).has_value());
}

// STS-09: the policy body changes while the TXT id stays: senders keep the old policy.
TEST_F(DomainExporterTest, PolicyChangedWithoutNewIdIsFlagged) {
  // The scheduled run recorded the policy; /probe runs the domain again now.
  g_fleet->SetMtaStsPolicy("good.test",
                           "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\n"
                           "mx: backup.good.test\r\nmax_age: 604800\r\n");
  HttpResponse r = exporter_->Get("/probe?target=good.test",
                                  {{"X-Prometheus-Scrape-Timeout-Seconds", "30"}});
  g_fleet->SetMtaStsPolicy("good.test", Fleet::kGoodMtaStsPolicy);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(HasValue(r.body, "mailsec_check_result",
                       {{"domain", "good.test"}, {"check", "mta_sts_policy_id_unchanged"}}, 1));
  // /probe returns that target's metrics only, domain and MX endpoints alike.
  EXPECT_TRUE(HasValue(r.body, "mailsec_domain_check_success", {{"domain", "good.test"}}, 1));
  EXPECT_TRUE(HasValue(r.body, "mailsec_probe_success", Mx("mx.good.test", g_fleet->address()), 1));
  EXPECT_TRUE(IsAbsent(r.body, "mailsec_domain_check_success", {{"domain", "weak.test"}}));
  EXPECT_TRUE(IsAbsent(r.body, "mailsec_build_info", {}));
}

TEST_F(DomainExporterTest, ProbeRefusesUnconfiguredDomains) {
  HttpResponse r = exporter_->Get("/probe?target=example.org");
  EXPECT_EQ(r.status, 400) << r.body;
}

// `check` runs the same domain probe once, through the resolver given on the command line.
TEST(DomainCheckCommandTest, ReportsDomainAsJsonAndExitsOnFindings) {
  const std::string bin = MAILSEC_EXPORTER_BIN;
  CommandResult r = RunCommand({bin, "check", "--json", "--timeout", "6s", "--resolver",
                                g_fleet->dns_resolver(), "--ca-file", g_fleet->ca_bundle_path(),
                                "weak.test"},
                               seconds(60));
  EXPECT_EQ(r.exit_code, 1) << r.output;  // weak.test fails checks
  const std::size_t json_at = r.output.find('[');
  ASSERT_NE(json_at, std::string::npos) << r.output;
  nlohmann::json j = nlohmann::json::parse(r.output.substr(json_at), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  ASSERT_TRUE(j.is_array());
  bool found = false;
  for (const auto& e : j) {
    if (e.value("domain", "") != "weak.test") continue;
    found = true;
    EXPECT_EQ(e["spf"]["dns_lookups"], 11);
    EXPECT_EQ(e["dmarc"]["policy"], "none");
    EXPECT_EQ(e["dnssec_secure"], false);
    EXPECT_EQ(e["critical"], true);
  }
  EXPECT_TRUE(found) << r.output;

  r = RunCommand({bin, "check", "--resolver", "not-an-address", "good.test"}, seconds(20));
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

// RFC 8461 §5: good.test's MTA-STS policy (enforce, mx: mx.good.test, fetched for real from
// nginx) covers an MX that serves a self-signed certificate. A mock DNS server stands in for the
// zone so that mx.good.test can point at a hostile server on a side address's port 25.
TEST(DomainCheckCommandTest, MtaStsEnforceMxWithInvalidCertificateIsAPolicyViolation) {
  const std::string& a = g_fleet->address();
  const std::string side = "127.81" + a.substr(a.find('.', 4));
  TlsSmtpServer mx(side, {.cert_file = g_fleet->cert_path("selfsigned"),
                          .key_file = g_fleet->key_path("selfsigned"),
                          .ehlo_after_tls = "250-hostile.test\r\n250 PIPELINING\r\n"},
                   25);
  ASSERT_EQ(mx.error(), "");
  MockDnsServer dns;
  auto answer = [](std::vector<MockRr> rrs) {
    MockDnsReply r;
    r.answers = std::move(rrs);
    return r;
  };
  dns.Set("good.test", 15 /* MX */, answer({{"good.test", 15, RdataMx(10, "mx.good.test")}}));
  dns.Set("mx.good.test", 1 /* A */, answer({{"mx.good.test", 1, RdataA(side)}}));
  dns.Set("_mta-sts.good.test", 16 /* TXT */,
          answer({{"_mta-sts.good.test", 16, RdataTxt({"v=STSv1; id=20261123"})}}));
  dns.Set("mta-sts.good.test", 1 /* A */, answer({{"mta-sts.good.test", 1, RdataA(a)}}));
  CheckRun r = RunCheck(g_fleet->ca_bundle_path(), {"good.test"}, {"--resolver", dns.address()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  bool seen = false;
  for (const auto& e : r.reports) {
    if (e.value("host", "") != "mx.good.test") continue;
    seen = true;
    EXPECT_TRUE(HasSignal(e, "policy_violation")) << e.dump(2);
    EXPECT_EQ(CheckVerdict(e, "policy_violation"), 2) << e.dump(2);
    EXPECT_NE(SignalEvidence(e, "policy_violation").find("MTA-STS enforce policy of good.test"),
              std::string::npos)
        << e.dump(2);
    EXPECT_NE(SignalEvidence(e, "policy_violation").find("not trusted"), std::string::npos)
        << e.dump(2);
  }
  EXPECT_TRUE(seen) << r.output;
  EXPECT_GE(mx.connections(), 1);
}

}  // namespace
}  // namespace mailsec::testing

int main(int argc, char** argv) {
  return mailsec::testing::RunWithFleet(argc, argv, MAILSEC_FLEET_BASE_DIR,
                                        mailsec::testing::FleetOptions{.dns = true});
}
