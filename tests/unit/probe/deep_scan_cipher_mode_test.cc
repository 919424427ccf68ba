// The deep scan's judgement of the accepted suites' bulk ciphers: CIPH-04 strength
// (tls_cipher_strength, mailsec_tls_min_cipher_bits), CIPH-02's obsolete CBC and LUCKY13
// (tls_cbc_suites), BEAST (tls_beast), POODLE (tls_poodle); and TLSV-07, the hello with GREASE
// values and padding (tls_hello_robustness). Rules on hand-made results, then real
// `openssl s_server` processes, a scripted SSLv3 server and intolerant relays on 127.0.0.1.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <map>
#include <string>

#include "mailsec/probe/deep_scan.h"
#include "mailsec/probe/report.h"
#include "unit/probe/deep_scan_fixture.h"

namespace mailsec::probe {
namespace {

using namespace scan_testing;  // NOLINT(google-build-using-namespace): the fixture kit

const config::EndpointTarget kSmtp{config::Service::kSmtp, "mx.test", 25, false};

ScanResult Judged(ScanResult r) {
  r.ran = true;
  r.findings = ScanFindings(kSmtp, r);
  return r;
}

TEST(CipherModeFindingsTest, ModernOnlyPassesEverything) {
  ScanResult r;
  r.versions = {
      {"SSLv3", false}, {"TLSv1", false}, {"TLSv1.1", false}, {"TLSv1.2", true}, {"TLSv1.3", true}};
  r.ciphers_complete = {"TLSv1.3", "TLSv1.2"};
  r.accepted_ciphers = {{"TLSv1.3", 0x1302, "TLS_AES_256_GCM_SHA384"},
                        {"TLSv1.2", 0xC02F, "ECDHE-RSA-AES128-GCM-SHA256"}};
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanCipherStrengthCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanBeastCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanPoodleCheck), CheckVerdict::kPass);
  const std::optional<WeakestCipher> w = MinCipherStrength(r);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->bits, 128);
  EXPECT_EQ(w->suite, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
}

TEST(CipherModeFindingsTest, Tls13OnlyHasNoCbcAndNothingOld) {
  ScanResult r;
  r.versions = {{"SSLv3", false},
                {"TLSv1", false},
                {"TLSv1.1", false},
                {"TLSv1.2", false},
                {"TLSv1.3", true}};
  r.ciphers_complete = {"TLSv1.3"};
  r.accepted_ciphers = {{"TLSv1.3", 0x1301, "TLS_AES_128_GCM_SHA256"}};
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanBeastCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanPoodleCheck), CheckVerdict::kPass);
  // TLS 1.2 untested: no telling whether CBC is there.
  r.versions.erase("TLSv1.2");
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), std::nullopt);
}

TEST(CipherModeFindingsTest, CbcOnTls10IsBeastAndObsolete) {
  ScanResult r;
  r.versions = {{"SSLv3", false}, {"TLSv1", true}, {"TLSv1.2", true}};
  r.ciphers_complete = {"TLSv1", "TLSv1.2"};
  r.accepted_ciphers = {{"TLSv1.2", 0xC02F, "ECDHE-RSA-AES128-GCM-SHA256"},
                        {"TLSv1", 0xC013, "ECDHE-RSA-AES128-SHA"}};
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanBeastCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanPoodleCheck), CheckVerdict::kPass);  // SSLv3 refused
  EXPECT_EQ(VerdictOf(r, kScanCipherStrengthCheck), CheckVerdict::kPass);
  // The same CBC suite on TLS 1.2 only: not BEAST (explicit IVs), still obsolete.
  r.accepted_ciphers[1].version = "TLSv1.2";
  r.versions["TLSv1"] = false;
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanBeastCheck), CheckVerdict::kPass);
}

TEST(CipherModeFindingsTest, UnfinishedEnumerationDecidesOnlyWhatItSaw) {
  ScanResult r;
  r.versions = {{"SSLv3", true}, {"TLSv1", true}, {"TLSv1.2", true}};
  r.ciphers_complete = {"TLSv1.2"};  // SSLv3 and TLS 1.0 cut short
  r.accepted_ciphers = {{"TLSv1.2", 0xC02F, "ECDHE-RSA-AES128-GCM-SHA256"}};
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanCipherStrengthCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanBeastCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanPoodleCheck), CheckVerdict::kError);
  // ... but what it saw (the weak probe counts too) decides.
  r.accepted_weak = {{"SSLv3", "TLS_RSA_WITH_DES_CBC_SHA"}};
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanCipherStrengthCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanBeastCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanPoodleCheck), CheckVerdict::kFail);
  EXPECT_EQ(MinCipherStrength(r)->bits, 56);
}

TEST(CipherModeFindingsTest, NothingAcceptedNothingJudged) {
  ScanResult r;
  r = Judged(r);  // nothing tested at all
  EXPECT_EQ(VerdictOf(r, kScanCipherStrengthCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanBeastCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanPoodleCheck), std::nullopt);
  EXPECT_FALSE(MinCipherStrength(r).has_value());
}

// ---- against servers ----------------------------------------------------------------------

TEST_F(DeepScanTest, CbcOnTls10FromARealServer) {
  // Debian's OpenSSL 3 at security level 0 serves TLS 1.0 with its CBC suites.
  SServer s({"-cipher", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0",
             "-no_tls1_3", "-no_tls1_1"});
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
  ASSERT_EQ(Version(r, "TLSv1"), true) << r.error;
  EXPECT_EQ(Accepted(r, "TLSv1"), (std::set<std::string>{"ECDHE-ECDSA-AES128-SHA"}));
  EXPECT_EQ(VerdictOf(r, kScanBeastCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanPoodleCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanCipherStrengthCheck), CheckVerdict::kPass);
  ASSERT_TRUE(MinCipherStrength(r).has_value());
  EXPECT_EQ(MinCipherStrength(r)->bits, 128);
}

TEST_F(DeepScanTest, AeadOnlyServerHasNoCbc) {
  SServer s({"-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384", "-no_tls1", "-no_tls1_1"});
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
  ASSERT_EQ(Version(r, "TLSv1.2"), true) << r.error;
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), CheckVerdict::kPass) << r.error;
  EXPECT_EQ(VerdictOf(r, kScanBeastCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanPoodleCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanCipherStrengthCheck), CheckVerdict::kPass);
  // TLSF-17: s_server caches sessions and issues tickets.
  EXPECT_EQ(r.resumption, (std::map<std::string, bool>{{"session_id", true}, {"ticket", true}}))
      << r.error;
  EXPECT_GT(r.ticket_lifetime_hint, 0);
}

TEST_F(DeepScanTest, SessionResumptionRefusedWithoutCacheOrTickets) {
  SServer s({"-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384", "-no_tls1", "-no_tls1_1", "-no_tls1_3",
             "-no_cache", "-no_ticket"});
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
  ASSERT_EQ(Version(r, "TLSv1.2"), true) << r.error;
  EXPECT_EQ(r.resumption, (std::map<std::string, bool>{{"session_id", false}, {"ticket", false}}))
      << r.error;
  EXPECT_EQ(r.ticket_lifetime_hint, -1);
}

TEST_F(DeepScanTest, ScriptedSsl3ServerWithDesIsPoodleAndTooWeak) {
  // SSLv3 only, preferring DES-CBC-SHA (56 bits), also AES128-SHA.
  FakeServer fake([](int fd) { ServeLegacyHello(fd, {0x0009, 0x002F}, false); });
  ScanResult r = Scan(Target("submissions", fake.port()), TestOptions());
  ASSERT_EQ(Version(r, "SSLv3"), true) << r.error;
  EXPECT_EQ(VerdictOf(r, kScanPoodleCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanBeastCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanCipherStrengthCheck), CheckVerdict::kFail);
  ASSERT_TRUE(MinCipherStrength(r).has_value());
  EXPECT_EQ(MinCipherStrength(r)->bits, 56);
}

// ---- TLSV-07: GREASE and a 400-byte hello ---------------------------------------------------

// What an intolerant TLS terminator in front of the real server drops (it closes instead).
enum class Intolerance { kGrease, kPadding, kManySuites, kRecordVersion, kClientVersion };

// Where the data of extension `type` starts in the ClientHello record `in` (whole); 0 when it has
// none or is malformed.
size_t ExtensionAt(const std::string& in, uint16_t type) {
  size_t at = 5 + 4 + 2 + 32;
  if (at >= in.size()) return 0;
  at += 1 + static_cast<uint8_t>(in[at]);  // session id
  if (at + 2 > in.size()) return 0;
  at += 2 + U16At(in, at);  // cipher suites
  if (at >= in.size()) return 0;
  at += 1 + static_cast<uint8_t>(in[at]);  // compression methods
  if (at + 2 > in.size()) return 0;
  const size_t end = std::min(in.size(), at + 2 + U16At(in, at));
  at += 2;
  for (int i = 0; i < 64 && at + 4 <= end; ++i) {
    if (U16At(in, at) == type) return at + 4;
    at += 4 + U16At(in, at + 2);
  }
  return 0;
}

// Whether the ClientHello record `in` (whole) carries extension `type`; false when malformed.
bool HasExtension(const std::string& in, uint16_t type) {
  size_t at = 5 + 4 + 2 + 32;
  if (at >= in.size()) return false;
  at += 1 + static_cast<uint8_t>(in[at]);  // session id
  if (at + 2 > in.size()) return false;
  at += 2 + U16At(in, at);  // cipher suites
  if (at >= in.size()) return false;
  at += 1 + static_cast<uint8_t>(in[at]);  // compression methods
  if (at + 2 > in.size()) return false;
  const size_t end = std::min(in.size(), at + 2 + U16At(in, at));
  at += 2;
  for (int i = 0; i < 64 && at + 4 <= end; ++i) {
    if (U16At(in, at) == type) return true;
    at += 4 + U16At(in, at + 2);
  }
  return false;
}

// Relays to `backend`, except hellos that carry a GREASE extension (kGrease), or the padding
// extension (kPadding: a terminator that chokes on an extension it does not know; the F5 bug's
// 256..511-byte window cannot be staged in front of OpenSSL, whose own hellos fall into it):
// those are closed on.
void ServeIntolerant(int fd, int backend, Intolerance what) {
  std::string in;
  if (!ReadN(fd, &in, 5)) return;
  const bool hello = static_cast<uint8_t>(in[0]) == 22;
  const size_t len = hello ? U16At(in, 3) : 0;
  if (hello && !ReadN(fd, &in, 5 + len)) return;
  if (hello && what == Intolerance::kGrease && HasExtension(in, 0x1A1A)) return;
  if (hello && what == Intolerance::kPadding && HasExtension(in, 0x0015)) return;
  // More than 128 suites: the suite list (after the 32-byte random and the session id) is
  // longer than 256 bytes.
  if (hello && what == Intolerance::kManySuites && in.size() > 5 + 4 + 2 + 32 + 1) {
    const size_t at = 5 + 4 + 2 + 32 + 1 + static_cast<uint8_t>(in[5 + 4 + 2 + 32]);
    if (at + 2 <= in.size() && U16At(in, at) > 256) return;
  }
  // A record layer above TLS 1.0, or a client_version above TLS 1.2 (version intolerance).
  if (hello && what == Intolerance::kRecordVersion && U16At(in, 1) > 0x0301) return;
  if (hello && what == Intolerance::kClientVersion && in.size() >= 11 && U16At(in, 9) > 0x0303) {
    return;
  }
  RelayTo(fd, backend, in);
}

TEST_F(DeepScanTest, GreaseIntolerantServerWarns) {
  SServer backend({"-no_ssl3", "-no_tls1", "-no_tls1_1"});
  ASSERT_TRUE(backend.up());
  const int port = backend.port();
  FakeServer fake([port](int fd) { ServeIntolerant(fd, port, Intolerance::kGrease); });
  ScanResult r = Scan(Target("imaps", fake.port()), TestOptions());
  ASSERT_EQ(Version(r, "TLSv1.3"), true) << r.error;
  EXPECT_EQ(r.robustness_version, "TLSv1.3");
  EXPECT_EQ(r.hello_robust, false);
  EXPECT_EQ(VerdictOf(r, kScanHelloRobustnessCheck), CheckVerdict::kWarn);
  EXPECT_NE(r.robustness_detail.find("GREASE"), std::string::npos) << r.robustness_detail;
}

TEST_F(DeepScanTest, PaddingIntolerantServerWarns) {
  SServer backend({"-no_ssl3", "-no_tls1", "-no_tls1_1", "-no_tls1_3"});
  ASSERT_TRUE(backend.up());
  const int port = backend.port();
  FakeServer fake([port](int fd) { ServeIntolerant(fd, port, Intolerance::kPadding); });
  ScanResult r = Scan(Target("imaps", fake.port()), TestOptions());
  ASSERT_EQ(Version(r, "TLSv1.2"), true) << r.error;
  EXPECT_EQ(r.robustness_version, "TLSv1.2");
  EXPECT_EQ(r.hello_robust, false);
  EXPECT_EQ(VerdictOf(r, kScanHelloRobustnessCheck), CheckVerdict::kWarn);
  EXPECT_NE(r.robustness_detail.find("padded to 400 bytes"), std::string::npos)
      << r.robustness_detail;
}

TEST_F(DeepScanTest, ManySuitesIntolerantServerWarns) {
  SServer backend({"-no_ssl3", "-no_tls1", "-no_tls1_1"});
  ASSERT_TRUE(backend.up());
  const int port = backend.port();
  FakeServer fake([port](int fd) { ServeIntolerant(fd, port, Intolerance::kManySuites); });
  ScanResult r = Scan(Target("imaps", fake.port()), TestOptions());
  ASSERT_EQ(Version(r, "TLSv1.3"), true) << r.error;
  EXPECT_EQ(r.hello_robust, true);  // GREASE and padding are fine
  EXPECT_EQ(r.many_suites_ok, false);
  EXPECT_GT(r.many_suites_offered, 128u);
  EXPECT_EQ(VerdictOf(r, kScanHelloRobustnessCheck), CheckVerdict::kWarn);
}

TEST_F(DeepScanTest, RecordVersionIntolerantServerWarns) {
  SServer backend({"-no_ssl3", "-no_tls1", "-no_tls1_1"});
  ASSERT_TRUE(backend.up());
  const int port = backend.port();
  FakeServer fake([port](int fd) { ServeIntolerant(fd, port, Intolerance::kRecordVersion); });
  ScanResult r = Scan(Target("imaps", fake.port()), TestOptions());
  ASSERT_EQ(Version(r, "TLSv1.2"), true) << r.error;
  EXPECT_EQ(r.hello_robust, true);
  EXPECT_EQ(r.record_version_ok, false);
  EXPECT_EQ(r.version_tolerant, true);
  EXPECT_EQ(VerdictOf(r, kScanHelloRobustnessCheck), CheckVerdict::kWarn);
  EXPECT_NE(DetailOf(r, kScanHelloRobustnessCheck).find("record of version TLS 1.2"),
            std::string::npos)
      << DetailOf(r, kScanHelloRobustnessCheck);
}

TEST_F(DeepScanTest, VersionIntolerantServerWarns) {
  SServer backend({"-no_ssl3", "-no_tls1", "-no_tls1_1", "-no_tls1_3"});
  ASSERT_TRUE(backend.up());
  const int port = backend.port();
  FakeServer fake([port](int fd) { ServeIntolerant(fd, port, Intolerance::kClientVersion); });
  ScanResult r = Scan(Target("imaps", fake.port()), TestOptions());
  ASSERT_EQ(Version(r, "TLSv1.2"), true) << r.error;
  EXPECT_EQ(r.record_version_ok, true);
  EXPECT_EQ(r.version_tolerant, false);
  EXPECT_EQ(VerdictOf(r, kScanHelloRobustnessCheck), CheckVerdict::kWarn);
  EXPECT_NE(DetailOf(r, kScanHelloRobustnessCheck).find("client_version 0x0304"), std::string::npos)
      << DetailOf(r, kScanHelloRobustnessCheck);
}

// ---- CIPH-06: TLS 1.2 curves from the ServerKeyExchange -------------------------------------

// Relays to `backend`, rewriting the single group of a TLS 1.2 hello's supported_groups to
// secp256r1: the server then uses P-256 whatever the client offered, as a server that ignores
// the client's list does.
void ServeCurveIgnoring(int fd, int backend) {
  std::string in;
  if (!ReadN(fd, &in, 5)) return;
  const bool hello = static_cast<uint8_t>(in[0]) == 22;
  if (hello && !ReadN(fd, &in, 5 + U16At(in, 3))) return;
  if (hello && in.size() > 11 && U16At(in, 9) == 0x0303) {
    const size_t at = ExtensionAt(in, 0x000a);
    if (at != 0 && at + 4 <= in.size() && U16At(in, at) == 2) {
      in[at + 2] = 0x00;
      in[at + 3] = 0x17;  // secp256r1
    }
  }
  RelayTo(fd, backend, in);
}

TEST_F(DeepScanTest, Tls12CurveIsTheOneTheServerKeyExchangeNames) {
  SServer backend({"-no_tls1", "-no_tls1_1", "-no_tls1_3", "-groups", "P-256:P-384:X25519",
                   "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"},
                  /*rsa=*/true);
  ASSERT_TRUE(backend.up());
  const int port = backend.port();
  FakeServer fake([port](int fd) { ServeCurveIgnoring(fd, port); });
  ScanResult r = Scan(Target("imaps", fake.port()), TestOptions());
  ASSERT_EQ(Version(r, "TLSv1.2"), true) << r.error;
  // Every curve offered alone got a ServerHello, but the key exchange was on P-256 each time.
  EXPECT_EQ(Groups(r, "TLSv1.2"), (std::set<std::string>{"secp256r1"})) << r.error;
  EXPECT_EQ(r.groups_complete, (std::vector<std::string>{"TLSv1.2"}));
  EXPECT_EQ(VerdictOf(r, kScanEcdheGroupsCheck), CheckVerdict::kPass);
}

TEST(CipherModeFindingsTest, RobustnessOnlyWhenAnswered) {
  ScanResult r;
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanHelloRobustnessCheck), std::nullopt);
  r.hello_robust = true;
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanHelloRobustnessCheck), CheckVerdict::kPass);
}

// ---- TLSF-14: DROWN across endpoints ---------------------------------------------------------

TEST(Ssl2KeysTest, RecordFindAndBounds) {
  Ssl2Keys keys;
  EXPECT_EQ(keys.Find("k1", "a"), "");
  keys.Record("k1", "a");
  EXPECT_EQ(keys.Find("k1", "a"), "");  // not itself
  EXPECT_EQ(keys.Find("k1", "b"), "a");
  keys.Record("k1", "b");
  EXPECT_EQ(keys.Find("k1", "a"), "b");
  for (size_t i = 0; i < Ssl2Keys::kMaxKeys + 10; ++i) keys.Record("x" + std::to_string(i), "c");
  EXPECT_EQ(keys.Find("x" + std::to_string(Ssl2Keys::kMaxKeys + 5), "d"), "");  // bounded
  EXPECT_EQ(keys.Find("k1", "c"), "a");
}

// The DER of the fixture's RSA certificate.
std::string RsaCertDer() {
  FILE* f = std::fopen(Certs().rsa_cert.c_str(), "r");
  if (f == nullptr) return "";
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  unsigned char* der = nullptr;
  const int len = cert != nullptr ? i2d_X509(cert, &der) : 0;
  std::string out =
      len > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len)) : "";
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

// An SSLv2-only server: its SERVER-HELLO carries `der`; every TLS hello gets protocol_version.
void ServeSsl2WithCertificate(int fd, const std::string& der) {
  std::string in;
  if (!ReadN(fd, &in, 5)) return;
  std::string reply;
  if ((static_cast<uint8_t>(in[0]) & 0x80) != 0) {
    std::string body = Bytes({4, 0, 1, 0, 2, static_cast<int>(der.size() >> 8),
                              static_cast<int>(der.size() & 0xff), 0, 3, 0, 16});
    body += der;
    body += Bytes({1, 0, 0x80});  // SSL_CK_RC4_128_WITH_MD5
    body.append(16, '\x44');
    reply =
        Bytes({0x80 | static_cast<int>(body.size() >> 8), static_cast<int>(body.size() & 0xff)}) +
        body;
  } else {
    reply = Bytes({21, 3, 0, 0, 2, 2, 70});
  }
  ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
}

TEST_F(DeepScanTest, DrownAcrossEndpointsSharingAnRsaKey) {
  const std::string der = RsaCertDer();
  ASSERT_FALSE(der.empty());
  FakeServer ssl2([der](int fd) { ServeSsl2WithCertificate(fd, der); });
  SServer tls({"-no_tls1", "-no_tls1_1"}, /*rsa=*/true);
  ASSERT_TRUE(tls.up());
  Ssl2Keys keys;
  ScanOptions o = TestOptions();
  o.ssl2_keys = &keys;
  ScanResult old = Scan(Target("submissions", ssl2.port()), o);
  ASSERT_EQ(Version(old, "SSLv2"), true) << old.error;
  EXPECT_EQ(old.ssl2_spki_sha256.size(), 64u);
  EXPECT_EQ(VerdictOf(old, kScanDrownCheck), CheckVerdict::kFail);

  ScanResult shared = Scan(Target("imaps", tls.port()), o);
  ASSERT_EQ(Version(shared, "SSLv2"), false) << shared.error;
  EXPECT_EQ(shared.leaf_spki_sha256, old.ssl2_spki_sha256);
  EXPECT_EQ(VerdictOf(shared, kScanDrownCheck), CheckVerdict::kFail);
  EXPECT_NE(shared.drown_shared_with.find(std::to_string(ssl2.port())), std::string::npos)
      << shared.drown_shared_with;

  // Without the other scan's knowledge, the TLS server alone passes.
  ScanResult alone = Scan(Target("imaps", tls.port()), TestOptions());
  EXPECT_EQ(VerdictOf(alone, kScanDrownCheck), CheckVerdict::kPass);

  // The other order within one batch: the TLS endpoint's scan ended first, so it passed; once
  // every scan has ended, RefreshDrown finds the key and fails it.
  auto target = config::ParseEndpointTarget(Target("imaps", tls.port()));
  ASSERT_TRUE(target.ok());
  EXPECT_TRUE(RefreshDrown(*target, "127.0.0.1", keys, &alone));
  EXPECT_EQ(VerdictOf(alone, kScanDrownCheck), CheckVerdict::kFail);
  EXPECT_NE(alone.drown_shared_with.find(std::to_string(ssl2.port())), std::string::npos);
  size_t drown_findings = 0;
  for (const auto& f : alone.findings) drown_findings += f.check == kScanDrownCheck ? 1 : 0;
  EXPECT_EQ(drown_findings, 1u);
  EXPECT_FALSE(RefreshDrown(*target, "127.0.0.1", keys, &alone));  // already known
  // The SSLv2 endpoint itself is not its own sharer.
  auto ssl2_target = config::ParseEndpointTarget(Target("submissions", ssl2.port()));
  ASSERT_TRUE(ssl2_target.ok());
  EXPECT_FALSE(RefreshDrown(*ssl2_target, "127.0.0.1", keys, &old));
}

// ---- CERT-16: dual certificates ------------------------------------------------------------

TEST(CipherModeFindingsTest, DualCertificatesOneExpired) {
  ScanResult r;
  r.started_at = 1'000'000;
  r.leaves = {{"ecdsa", true, "EC", 2'000'000, "aa"}, {"rsa", true, "RSA", 500'000, "bb"}};
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanDualCertCheck), CheckVerdict::kWarn);
  r.leaves[1].not_after = 3'000'000;
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanDualCertCheck), CheckVerdict::kPass);
  r.leaves[1].served = false;  // an ECDSA-only server
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanDualCertCheck), CheckVerdict::kPass);
  r.leaves.clear();  // not asked
  r = Judged(r);
  EXPECT_EQ(VerdictOf(r, kScanDualCertCheck), std::nullopt);
}

TEST_F(DeepScanTest, DualCertificateServerServesBothLeaves) {
  SServer s({"-no_tls1", "-no_tls1_1", "-dcert", Certs().rsa_cert, "-dkey", Certs().rsa_key});
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
  ASSERT_EQ(Version(r, "TLSv1.2"), true) << r.error;
  ASSERT_EQ(r.leaves.size(), 2u) << r.error;
  EXPECT_TRUE(r.leaves[0].served);
  EXPECT_EQ(r.leaves[0].key_type, "EC");
  EXPECT_TRUE(r.leaves[1].served);
  EXPECT_EQ(r.leaves[1].key_type, "RSA");
  EXPECT_NE(r.leaves[0].fingerprint, r.leaves[1].fingerprint);
  EXPECT_GT(r.leaves[1].not_after, 0);
  EXPECT_EQ(VerdictOf(r, kScanDualCertCheck), CheckVerdict::kPass);
}

}  // namespace
}  // namespace mailsec::probe
