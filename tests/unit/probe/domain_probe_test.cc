// DomainProbe over a fake resolver: the DNS half of a domain target (no endpoint probes, no
// network). The HTTPS fetch and the MX probes are covered by the integration tests.
#include "mailsec/probe/domain_probe.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <memory>
#include <string>

#include "mailsec/checks/mta_sts.h"
#include "testing/fake_resolver.h"

namespace mailsec::probe {
namespace {

using checks::CheckVerdict;
using testing::FakeResolver;

// Base64 of the DER SubjectPublicKeyInfo of a fresh RSA key of `bits`.
std::string RsaPublicKeyBase64(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned>(bits));
  EXPECT_NE(key, nullptr);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  EXPECT_GT(len, 0);
  std::string out(4 * ((static_cast<size_t>(len) + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), der, len);
  out.resize(static_cast<size_t>(n));
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  return out;
}

TargetResult Probe(std::shared_ptr<FakeResolver> resolver, const std::string& domain,
                   std::vector<std::string> selectors = {}) {
  DomainProbeOptions o;
  o.endpoint.resolver = resolver;
  o.endpoint.timeout = std::chrono::seconds(5);
  o.dkim_selectors = std::move(selectors);
  o.probe_endpoints = false;
  asio::io_context io;
  TargetResult out;
  bool done = false;
  asio::co_spawn(asio::make_strand(io), ProbeDomainTarget(domain, o),
                 [&](std::exception_ptr ep, TargetResult r) {
                   EXPECT_FALSE(ep);
                   out = std::move(r);
                   done = true;
                 });
  io.run();
  EXPECT_TRUE(done);
  return out;
}

const checks::Finding* Find(const DomainReport& r, std::string_view check) {
  for (const auto& f : r.findings) {
    if (f.check == check) return &f;
  }
  return nullptr;
}

// A well-kept domain: signed, one MX with FCrDNS, strict SPF, DMARC reject, TLS-RPT, DKIM.
std::shared_ptr<FakeResolver> GoodDomain() {
  auto r = std::make_shared<FakeResolver>();
  r->SetSecure("good.test");
  r->Soa("good.test");
  r->Mx("good.test", 10, "mx.good.test");
  r->A("mx.good.test", {198, 51, 100, 25});
  r->Ptr("25.100.51.198.in-addr.arpa", "mx.good.test");
  r->Txt("good.test", {"v=spf1 mx -all"});
  r->Txt("_dmarc.good.test", {"v=DMARC1; p=reject; rua=mailto:dmarc@good.test"});
  r->Txt("_smtp._tls.good.test", {"v=TLSRPTv1; rua=mailto:tlsrpt@good.test"});
  const std::string key = RsaPublicKeyBase64(2048);
  r->Txt("s1._domainkey.good.test", {"v=DKIM1; k=rsa; p=" + key.substr(0, 200), key.substr(200)});
  return r;
}

TEST(DomainProbeTest, WellKeptDomain) {
  auto resolver = GoodDomain();
  TargetResult result = Probe(resolver, "good.test", {"s1"});
  ASSERT_TRUE(result.domain != nullptr);
  const DomainReport& d = *result.domain;
  EXPECT_EQ(result.target_id, "good.test");
  EXPECT_TRUE(result.endpoints.empty());
  EXPECT_TRUE(d.dns_ok) << (d.dns_errors.empty() ? "" : d.dns_errors.front());
  EXPECT_TRUE(d.dnssec_secure);
  ASSERT_EQ(d.mx.size(), 1u);
  EXPECT_EQ(d.mx[0].host, "mx.good.test");
  EXPECT_EQ(d.mx[0].preference, 10);
  EXPECT_FALSE(d.null_mx);
  EXPECT_TRUE(d.spf_present);
  EXPECT_TRUE(d.spf_valid);
  EXPECT_EQ(d.spf_dns_lookups, 1);
  EXPECT_EQ(d.spf_all_qualifier, "-");
  EXPECT_TRUE(d.dmarc_present);
  EXPECT_TRUE(d.dmarc_valid);
  EXPECT_EQ(d.dmarc_policy, "reject");
  EXPECT_EQ(d.dmarc_subdomain_policy, "reject");
  EXPECT_EQ(d.dmarc_pct, 100);
  ASSERT_EQ(d.dkim.size(), 1u);
  EXPECT_EQ(d.dkim[0].selector, "s1");
  EXPECT_TRUE(d.dkim[0].present);
  EXPECT_EQ(d.dkim[0].key_bits, 2048);
  EXPECT_FALSE(d.mta_sts_present);
  EXPECT_TRUE(d.tlsrpt_present);
  EXPECT_TRUE(d.tlsrpt_valid);
  ASSERT_EQ(d.fcrdns.size(), 1u);
  EXPECT_EQ(d.fcrdns[0].ip, "198.51.100.25");
  EXPECT_TRUE(d.fcrdns[0].match);
  for (std::string_view id :
       {"spf_all_qualifier", "dmarc_policy", "dkim_key", "fcrdns", "dnssec_signed", "mx_present",
        "tlsrpt_valid", "tlsrpt_rua_reachable"}) {
    const checks::Finding* f = Find(d, id);
    ASSERT_NE(f, nullptr) << id;
    EXPECT_EQ(f->verdict, CheckVerdict::kPass) << id << ": " << f->detail;
  }
  // No MTA-STS record: its checks do not apply.
  EXPECT_EQ(Find(d, "mta_sts_policy_fetch"), nullptr);
  EXPECT_GT(d.dns_queries, 10);
  EXPECT_EQ(d.dns_queries, resolver->queries());
}

TEST(DomainProbeTest, ResolverDownIsAnErrorNotAFailure) {
  auto resolver = GoodDomain();
  resolver->FailEverything(dns::Outcome::kServFail);
  TargetResult result = Probe(resolver, "good.test", {"s1"});
  ASSERT_TRUE(result.domain != nullptr);
  const DomainReport& d = *result.domain;
  EXPECT_FALSE(d.dns_ok);
  EXPECT_FALSE(d.dns_errors.empty());
  EXPECT_FALSE(d.dnssec_secure);
  EXPECT_FALSE(d.spf_present);
  for (std::string_view id : {"spf_present", "dmarc_present", "dkim_key", "mx_present"}) {
    const checks::Finding* f = Find(d, id);
    ASSERT_NE(f, nullptr) << id;
    EXPECT_EQ(f->verdict, CheckVerdict::kError) << id << ": " << f->detail;
  }
  EXPECT_FALSE(IsCritical(d));
}

TEST(DomainProbeTest, BogusZoneIsToldApartFromABrokenServer) {
  auto r = GoodDomain();
  r->SetBogus("good.test");
  DomainReport d = *Probe(r, "good.test").domain;
  EXPECT_FALSE(d.dns_ok);
  EXPECT_FALSE(d.dnssec_secure);
  ASSERT_NE(Find(d, "dnssec_valid"), nullptr);
  EXPECT_EQ(Find(d, "dnssec_valid")->verdict, CheckVerdict::kFail)
      << Find(d, "dnssec_valid")->detail;

  // SERVFAIL with and without the CD bit: the server is broken, the signatures unknown.
  auto broken = GoodDomain();
  broken->Outcome("good.test", dns::RrType::kSoa, dns::Outcome::kServFail);
  d = *Probe(broken, "good.test").domain;
  ASSERT_NE(Find(d, "dnssec_valid"), nullptr);
  EXPECT_EQ(Find(d, "dnssec_valid")->verdict, CheckVerdict::kError);
}

TEST(DomainProbeTest, TlsRptAddressWithoutMxIsUnreachable) {
  auto fresh = std::make_shared<FakeResolver>();
  fresh->Soa("good.test");
  fresh->Txt("_smtp._tls.good.test", {"v=TLSRPTv1; rua=mailto:tls@nomx.test"});
  const DomainReport d = *Probe(fresh, "good.test").domain;
  ASSERT_NE(Find(d, "tlsrpt_rua_reachable"), nullptr);
  EXPECT_EQ(Find(d, "tlsrpt_rua_reachable")->verdict, CheckVerdict::kWarn)
      << Find(d, "tlsrpt_rua_reachable")->detail;
}

TEST(DomainProbeTest, NullMxAndWeakPolicies) {
  auto r = std::make_shared<FakeResolver>();
  r->Soa("null.test");
  r->Mx("null.test", 0, ".");
  r->Txt("null.test", {"v=spf1 +all"});
  r->Txt("_dmarc.null.test", {"v=DMARC1; p=none; pct=50"});
  TargetResult result = Probe(r, "null.test", {"missing"});
  const DomainReport& d = *result.domain;
  EXPECT_TRUE(d.dns_ok);
  EXPECT_FALSE(d.dnssec_secure);
  EXPECT_TRUE(d.null_mx);
  ASSERT_EQ(d.mx.size(), 1u);
  EXPECT_EQ(d.mx[0].host, ".");
  EXPECT_EQ(d.spf_all_qualifier, "+");
  EXPECT_EQ(d.dmarc_policy, "none");
  EXPECT_EQ(d.dmarc_pct, 50);
  ASSERT_EQ(d.dkim.size(), 1u);
  EXPECT_FALSE(d.dkim[0].present);
  EXPECT_TRUE(d.fcrdns.empty());
  ASSERT_NE(Find(d, "spf_all_qualifier"), nullptr);
  EXPECT_EQ(Find(d, "spf_all_qualifier")->verdict, CheckVerdict::kFail);
  ASSERT_NE(Find(d, "dnssec_signed"), nullptr);
  EXPECT_EQ(Find(d, "dnssec_signed")->verdict, CheckVerdict::kFail);
  EXPECT_TRUE(IsCritical(d));
}

TEST(DomainProbeTest, SpfOverTheLookupLimit) {
  auto r = std::make_shared<FakeResolver>();
  r->Soa("many.test");
  std::string spf = "v=spf1";
  for (int i = 1; i <= 11; ++i) {
    const std::string inc = "i" + std::to_string(i) + ".many.test";
    spf += " include:" + inc;
    r->Txt(inc, {"v=spf1 ?all"});
  }
  r->Txt("many.test", {spf + " -all"});
  const DomainReport d = *Probe(r, "many.test").domain;
  EXPECT_TRUE(d.spf_present);
  EXPECT_FALSE(d.spf_valid);
  EXPECT_EQ(d.spf_dns_lookups, 11);
  ASSERT_NE(Find(d, "spf_lookup_limit"), nullptr);
  EXPECT_EQ(Find(d, "spf_lookup_limit")->verdict, CheckVerdict::kFail);
}

TEST(DomainProbeTest, MtaStsRecordWithoutPolicyHost) {
  auto r = std::make_shared<FakeResolver>();
  r->Soa("sts.test");
  r->Mx("sts.test", 10, "mx.sts.test");
  r->A("mx.sts.test", {198, 51, 100, 26});
  r->Txt("_mta-sts.sts.test", {"v=STSv1; id=20261123"});
  const DomainReport d = *Probe(r, "sts.test").domain;
  EXPECT_TRUE(d.mta_sts_present);
  EXPECT_FALSE(d.mta_sts_policy_valid);
  EXPECT_FALSE(d.mta_sts_mx_covered.has_value());
  ASSERT_NE(Find(d, "mta_sts_policy_fetch"), nullptr);
  EXPECT_EQ(Find(d, "mta_sts_policy_fetch")->verdict, CheckVerdict::kFail);
  // A forward-only MX address: PTR missing, reported as such.
  ASSERT_EQ(d.fcrdns.size(), 1u);
  EXPECT_FALSE(d.fcrdns[0].match);
  ASSERT_NE(Find(d, "ptr_present"), nullptr);
  EXPECT_EQ(Find(d, "ptr_present")->verdict, CheckVerdict::kWarn);
}

TEST(DomainProbeTest, CnameMxIsAWarning) {
  auto r = std::make_shared<FakeResolver>();
  r->Soa("alias.test");
  r->Mx("alias.test", 10, "mail.alias.test");
  r->Alias("mail.alias.test", "real.alias.test");
  r->A("real.alias.test", {198, 51, 100, 27});
  const DomainReport d = *Probe(r, "alias.test").domain;
  ASSERT_EQ(d.mx.size(), 1u);
  ASSERT_NE(Find(d, "mx_resolves"), nullptr);
  EXPECT_EQ(Find(d, "mx_resolves")->verdict, CheckVerdict::kWarn) << Find(d, "mx_resolves")->detail;
}

TEST(DomainProbeTest, NoMxButAnAddressIsImplicitMx) {
  auto r = std::make_shared<FakeResolver>();
  r->Soa("implicit.test");
  r->A("implicit.test", {198, 51, 100, 28});
  const DomainReport d = *Probe(r, "implicit.test").domain;
  EXPECT_TRUE(d.mx.empty());
  ASSERT_NE(Find(d, "mx_present"), nullptr);
  EXPECT_EQ(Find(d, "mx_present")->verdict, CheckVerdict::kWarn);
}

}  // namespace
}  // namespace mailsec::probe
