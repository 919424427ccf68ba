// The deep scan against servers started here on 127.0.0.1: `openssl s_server` processes (real
// TLS 1.0-1.3, anonymous suites at SECLEVEL 0), a fake that answers hand-built hellos with canned
// ServerHellos (SSLv2, SSLv3, RC4, 3DES: what Debian's OpenSSL 3 cannot serve), and a fake
// STARTTLS SMTP server, vulnerable or not to command injection. Every wait is bounded.
#include "mailsec/probe/deep_scan.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "mailsec/probe/scan_target.h"
#include "mailsec/tls/client.h"
#include "mailsec/tls/hello.h"
#include "testing/scripted_server.h"
#include "unit/probe/deep_scan_fixture.h"

namespace mailsec::probe {
namespace {

using namespace scan_testing;  // NOLINT(google-build-using-namespace): the fixture kit

// ---- versions with real OpenSSL servers ---------------------------------------------------

TEST_F(DeepScanTest, ModernServerOffersOnlyTls12And13) {
  SServer s({"-no_ssl3", "-no_tls1", "-no_tls1_1"});
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("submissions", s.port()), TestOptions());
  EXPECT_TRUE(r.ran);
  EXPECT_EQ(Version(r, "TLSv1.3"), true);
  EXPECT_EQ(Version(r, "TLSv1.2"), true);
  EXPECT_EQ(Version(r, "TLSv1.1"), false);
  EXPECT_EQ(Version(r, "TLSv1"), false);
  EXPECT_EQ(Version(r, "SSLv3"), false);
  EXPECT_EQ(Version(r, "SSLv2"), false);
  EXPECT_TRUE(r.weak_tested);
  EXPECT_FALSE(r.weak_cipher_accepted);
  EXPECT_TRUE(r.accepted_weak.empty());
  EXPECT_FALSE(r.command_injection.has_value());  // implicit TLS: no STARTTLS to inject into
  EXPECT_EQ(r.error, "");
  // 6 versions, the features hello, the fallback hello, then the suites: one connection per
  // accepted suite plus one per chunk (TLS 1.3: one chunk, TLS 1.2: two). The weak suites
  // need none: the finished enumeration offered them all.
  size_t n13 = 0, n12 = 0;
  for (const auto& c : r.accepted_ciphers) (c.version == "TLSv1.3" ? n13 : n12) += 1;
  EXPECT_EQ(n13, 3u);  // OpenSSL's default TLS 1.3 suites: AES-128/256-GCM, ChaCha20
  EXPECT_GT(n12, 3u);
  // ... and two for the cipher order, one for the many-suites hello, one for the GREASE and
  // padding hello (both accepted) and two for TLS 1.2 version tolerance (record layer,
  // client_version).
  // ... and one per TLS 1.3 group (13). No TLS 1.2 curves: ECDSA suites only (an ECDHE_ECDSA
  // hello must also name the certificate's curve, RFC 8422 §5.1).
  // ... two TLS 1.2 connections for the key-exchange hash (SHA-1, SHA-224), one TLS 1.3 for the
  // session ticket (it allows no early data: no resumption), and one for client-initiated
  // renegotiation, four for session resumption (session ID, ticket: two each), two for the leaf
  // per authentication (ECDSA, RSA), then one each for Heartbleed and CCS injection.
  EXPECT_EQ(r.handshakes, static_cast<int>(6 + 2 + (n13 + 1) + (n12 + 2) + 2 + 2 + 2 + 13 + 2 + 1 +
                                           1 + 4 + 2 + 2));
  EXPECT_EQ(r.many_suites_ok, true);
  EXPECT_GT(r.many_suites_offered, 128u);
  EXPECT_EQ(r.hello_robust, true);
  EXPECT_EQ(VerdictOf(r, kScanHelloRobustnessCheck), CheckVerdict::kPass);
  EXPECT_EQ(r.groups_asked, (std::vector<std::string>{"TLSv1.3"}));
  // OpenSSL 3.0 offers the RFC 7919 groups on TLS 1.3 by default: ffdhe2048 fails CIPH-07.
  EXPECT_TRUE(Groups(r, "TLSv1.3").count("x25519"));
  EXPECT_EQ(VerdictOf(r, kScanDheGroupsCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanEcdheGroupsCheck), CheckVerdict::kPass);
  EXPECT_EQ(r.ciphers_complete, (std::vector<std::string>{"TLSv1.3", "TLSv1.2"}));
  // OpenSSL 3 never compresses, and answers RFC 5746, RFC 7627 and RFC 7507.
  EXPECT_EQ(r.features_version, "TLSv1.2");
  EXPECT_EQ(r.compression_method, 0);
  EXPECT_TRUE(r.secure_renegotiation);
  EXPECT_EQ(r.extended_master_secret, true);
  EXPECT_EQ(r.fallback_scsv, true);
  EXPECT_EQ(r.fallback_version, "TLSv1.2");
  EXPECT_EQ(VerdictOf(r, kScanCompressionCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanSecureRenegotiationCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanExtendedMasterSecretCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanFallbackScsvCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanSsl2Check), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanSsl3Check), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanLegacyTlsCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanModernTlsCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanTls13Check), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanWeakCiphersCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanCommandInjectionCheck), std::nullopt);
  EXPECT_GT(r.finished_at, 0);
}

TEST_F(DeepScanTest, LegacyServerAtSecurityLevelZero) {
  // Debian's OpenSSL 3 serves TLS 1.0 and 1.1 once the security level is 0.
  SServer s({"-cipher", "DEFAULT:@SECLEVEL=0", "-no_tls1_3"});
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
  EXPECT_EQ(Version(r, "TLSv1"), true);
  EXPECT_EQ(Version(r, "TLSv1.1"), true);
  EXPECT_EQ(Version(r, "TLSv1.2"), true);
  EXPECT_EQ(Version(r, "TLSv1.3"), false);
  EXPECT_EQ(Version(r, "SSLv3"), false);
  EXPECT_EQ(VerdictOf(r, kScanLegacyTlsCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanModernTlsCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanTls13Check), CheckVerdict::kWarn);
  // DEFAULT excludes NULL and anonymous suites (ALL would include the anonymous ones).
  EXPECT_FALSE(r.weak_cipher_accepted) << r.accepted_weak.size();
  // Falling back from TLS 1.2 to TLS 1.1 is detected.
  EXPECT_EQ(r.fallback_version, "TLSv1.1");
  EXPECT_EQ(VerdictOf(r, kScanFallbackScsvCheck), CheckVerdict::kPass);
}

TEST_F(DeepScanTest, ScriptedServerCompressesWithoutRfc5746Or7627AndIgnoresFallback) {
  SServer backend({"-no_ssl3", "-no_tls1", "-no_tls1_1"});
  ASSERT_TRUE(backend.up());
  const int port = backend.port();
  FakeServer fake([port](int fd) {
    ServeRewriting(fd, port,
                   {.deflate = true, .reneg_info = false, .ems = false, .ignore_fallback = true});
  });
  ScanResult r = Scan(Target("submissions", fake.port()), TestOptions());
  EXPECT_EQ(Version(r, "TLSv1.3"), true) << r.error;  // relayed full handshakes
  EXPECT_EQ(Version(r, "TLSv1.2"), true);
  EXPECT_EQ(r.features_version, "TLSv1.2");
  EXPECT_EQ(r.compression_method, 1);
  EXPECT_FALSE(r.secure_renegotiation);
  EXPECT_EQ(r.extended_master_secret, false);
  EXPECT_EQ(r.fallback_scsv, false);
  EXPECT_EQ(VerdictOf(r, kScanCompressionCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanSecureRenegotiationCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanExtendedMasterSecretCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanFallbackScsvCheck), CheckVerdict::kWarn);

  // The same relay answering like OpenSSL does on those two hellos: all four pass, so the
  // failures above are the rewrites' doing.
  FakeServer good([port](int fd) { ServeRewriting(fd, port, {}); });
  r = Scan(Target("submissions", good.port()), TestOptions());
  EXPECT_EQ(VerdictOf(r, kScanCompressionCheck), CheckVerdict::kPass) << r.error;
  EXPECT_EQ(VerdictOf(r, kScanSecureRenegotiationCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanExtendedMasterSecretCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanFallbackScsvCheck), CheckVerdict::kPass);
}

TEST_F(DeepScanTest, CipherSuitesEnumeratedAndClassified) {
  SServer s({"-no_tls1", "-no_tls1_1", "-cipher",
             "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384", "-ciphersuites",
             "TLS_AES_256_GCM_SHA384:TLS_AES_128_CCM_8_SHA256"});
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
  EXPECT_EQ(Accepted(r, "TLSv1.3"),
            (std::set<std::string>{"TLS_AES_256_GCM_SHA384", "TLS_AES_128_CCM_8_SHA256"}))
      << r.error;
  EXPECT_EQ(Accepted(r, "TLSv1.2"),
            (std::set<std::string>{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-SHA384"}));
  // CCM_8 in TLS 1.3 is insufficient (Internet.nl), the CBC-SHA384 suite phase-out.
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanForwardSecrecyCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanAeadCheck), CheckVerdict::kPass);
  // 6 versions, features, fallback, TLS 1.3: 2 + 1 chunk, TLS 1.2: 2 + 2 chunks, the order,
  // the many-suites and GREASE hellos, the two version-tolerance hellos, the groups, the
  // key-exchange hash (SHA-1, SHA-224), the TLS 1.3 session ticket, TLS 1.2 session resumption
  // (4), the leaf per authentication (2), Heartbleed and CCS injection.
  EXPECT_EQ(r.handshakes, 6 + 2 + 3 + 4 + 2 + 2 + 2 + 13 + 1 + 2 + 1 + 4 + 2 + 2);

  // Without the CCM_8 suite only the phase-out one is left to complain about.
  SServer warn({"-no_tls1", "-no_tls1_1", "-cipher",
                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384", "-ciphersuites",
                "TLS_AES_256_GCM_SHA384"});
  ASSERT_TRUE(warn.up());
  r = Scan(Target("imaps", warn.port()), TestOptions());
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kWarn) << r.error;
  for (const auto& f : r.findings) {
    if (f.check == kScanCipherSuitesCheck) {
      EXPECT_NE(f.detail.find("ECDHE-ECDSA-AES256-SHA384 (TLSv1.2)"), std::string::npos);
    }
  }
}

TEST_F(DeepScanTest, CipherOrderFollowedOrEnforced) {
  // OpenSSL follows the client's order unless told otherwise: listed first, the phase-out suite
  // is taken.
  const std::vector<std::string> suites = {
      "-no_tls1_3", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384"};
  SServer client_order(suites);
  ASSERT_TRUE(client_order.up());
  ScanResult r = Scan(Target("imaps", client_order.port()), TestOptions());
  EXPECT_EQ(r.order_version, "TLSv1.2") << r.error;
  EXPECT_EQ(r.order_best, "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(r.order_worst, "ECDHE-ECDSA-AES256-SHA384");
  EXPECT_EQ(r.order_pick_worst_first, "ECDHE-ECDSA-AES256-SHA384");
  EXPECT_EQ(r.order_pick_best_first, "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(VerdictOf(r, kScanCipherOrderCheck), CheckVerdict::kFail);

  std::vector<std::string> preferring = suites;
  preferring.push_back("-serverpref");
  SServer server_order(preferring);
  ASSERT_TRUE(server_order.up());
  r = Scan(Target("imaps", server_order.port()), TestOptions());
  EXPECT_EQ(r.order_pick_worst_first, "ECDHE-ECDSA-AES128-GCM-SHA256") << r.error;
  EXPECT_EQ(r.order_pick_best_first, "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(VerdictOf(r, kScanCipherOrderCheck), CheckVerdict::kPass);
}

TEST_F(DeepScanTest, KeyExchangeGroups) {
  // An RSA certificate: the TLS 1.2 curves are asked with ECDHE_RSA suites.
  // ECDHE suites only: no TLS 1.2 DHE whose group the scan cannot read.
  SServer s({"-no_tls1", "-no_tls1_1", "-groups", "X25519:P-256", "-cipher",
             "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"},
            /*rsa=*/true);
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
  EXPECT_EQ(Groups(r, "TLSv1.3"), (std::set<std::string>{"x25519", "secp256r1"})) << r.error;
  EXPECT_EQ(Groups(r, "TLSv1.2"), (std::set<std::string>{"x25519", "secp256r1"}));
  EXPECT_EQ(r.groups_complete, (std::vector<std::string>{"TLSv1.3", "TLSv1.2"}));
  size_t refused = 0;
  for (const auto& g : r.groups) refused += g.accepted ? 0 : 1;
  EXPECT_EQ(refused, r.groups.size() - 4);  // every other group asked and refused
  EXPECT_EQ(VerdictOf(r, kScanEcdheGroupsCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanDheGroupsCheck), CheckVerdict::kPass);

  // P-224 (phase out) for TLS 1.2 and ffdhe2048 (insufficient) for TLS 1.3.
  SServer weak({"-no_tls1", "-no_tls1_1", "-groups", "P-224:P-256:ffdhe2048"}, /*rsa=*/true);
  ASSERT_TRUE(weak.up());
  r = Scan(Target("imaps", weak.port()), TestOptions());
  EXPECT_EQ(Groups(r, "TLSv1.2"), (std::set<std::string>{"secp224r1", "secp256r1"})) << r.error;
  EXPECT_TRUE(Groups(r, "TLSv1.3").count("ffdhe2048"));
  EXPECT_EQ(VerdictOf(r, kScanEcdheGroupsCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanDheGroupsCheck), CheckVerdict::kFail);

  // OpenSSL's default list has DHE-RSA suites for TLS 1.2: their group is the one of the
  // ServerKeyExchange, OpenSSL's automatic choice for an RSA-2048 key: RFC 3526's 2048-bit MODP
  // group (not RFC 7919's: insufficient; widely shared: a LOGJAM warning, as testssl.sh says).
  SServer dhe({"-no_tls1", "-no_tls1_1", "-groups", "X25519"}, /*rsa=*/true);
  ASSERT_TRUE(dhe.up());
  r = Scan(Target("imaps", dhe.port()), TestOptions());
  ASSERT_TRUE(r.dhe.has_value()) << r.error;
  EXPECT_EQ(r.dhe->group, "modp_2048");
  EXPECT_EQ(r.dhe->bits, 2048);
  EXPECT_FALSE(r.dhe->rfc7919);
  EXPECT_TRUE(r.dhe->well_known);
  EXPECT_EQ(VerdictOf(r, kScanDheGroupsCheck), CheckVerdict::kFail) << r.error;
  EXPECT_EQ(VerdictOf(r, kScanLogjamCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanEcdheGroupsCheck), CheckVerdict::kPass);
}

// DH parameters (PKCS#3 PEM, what `s_server -dhparam` reads) of a named group of the local
// OpenSSL ("ffdhe3072", "modp_2048") or RFC 2409's 1024-bit prime ("rfc2409_1024"), in the
// test's certificate directory. Empty on failure.
std::string WriteDhParams(const std::string& name) {
  const std::string path = Certs().dir + "/dh_" + name + ".pem";
  EVP_PKEY* params = nullptr;
  if (name == "rfc2409_1024") {
    BIGNUM* p = BN_get_rfc2409_prime_1024(nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p);
    OSSL_PARAM_BLD_push_uint(bld, OSSL_PKEY_PARAM_FFC_G, 2);
    OSSL_PARAM* ps = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
    if (EVP_PKEY_fromdata_init(ctx) == 1) {
      EVP_PKEY_fromdata(ctx, &params, EVP_PKEY_KEY_PARAMETERS, ps);
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(ps);
    OSSL_PARAM_BLD_free(bld);
    BN_free(p);
  } else {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
    if (EVP_PKEY_paramgen_init(ctx) == 1 && EVP_PKEY_CTX_set_group_name(ctx, name.c_str()) == 1) {
      EVP_PKEY_paramgen(ctx, &params);
    }
    EVP_PKEY_CTX_free(ctx);
  }
  if (params == nullptr) return "";
  BIO* out = BIO_new_file(path.c_str(), "w");
  const bool ok = out != nullptr && PEM_write_bio_Parameters(out, params) == 1;
  BIO_free(out);
  EVP_PKEY_free(params);
  return ok ? path : "";
}

TEST_F(DeepScanTest, DheGroupBelowTls13FromTheServerKeyExchange) {
  struct Row {
    std::string params;
    int bits;
    std::string group;
    CheckVerdict dhe_groups, logjam;
  };
  const Row rows[] = {
      // RFC 7919, phase out.
      {"ffdhe3072", 3072, "ffdhe3072", CheckVerdict::kWarn, CheckVerdict::kPass},
      // A widely shared prime of 2048 bits: not RFC 7919's (CIPH-07 fail), a LOGJAM target.
      {"modp_2048", 2048, "modp_2048", CheckVerdict::kFail, CheckVerdict::kWarn},
      // 1024 bits: LOGJAM.
      {"rfc2409_1024", 1024, "rfc2409_1024", CheckVerdict::kFail, CheckVerdict::kFail},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.params);
    const std::string file = WriteDhParams(row.params);
    ASSERT_FALSE(file.empty());
    SServer s({"-no_tls1_3", "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0", "-dhparam", file},
              /*rsa=*/true);
    ASSERT_TRUE(s.up());
    ScanResult r = Scan(Target("pop3s", s.port()), TestOptions());
    ASSERT_TRUE(r.dhe.has_value()) << r.error;
    EXPECT_EQ(r.dhe->version, "TLSv1.2");
    EXPECT_EQ(r.dhe->suite, "DHE-RSA-AES128-GCM-SHA256");
    EXPECT_EQ(r.dhe->bits, row.bits);
    EXPECT_EQ(r.dhe->group, row.group);
    EXPECT_EQ(VerdictOf(r, kScanDheGroupsCheck), row.dhe_groups);
    EXPECT_EQ(VerdictOf(r, kScanLogjamCheck), row.logjam);
  }
  // No DHE suite at all: nothing for LOGJAM, once the enumeration finished.
  SServer ecdhe({"-no_tls1_3", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"}, /*rsa=*/true);
  ASSERT_TRUE(ecdhe.up());
  ScanResult r = Scan(Target("pop3s", ecdhe.port()), TestOptions());
  EXPECT_FALSE(r.dhe.has_value());
  EXPECT_EQ(VerdictOf(r, kScanLogjamCheck), CheckVerdict::kPass) << r.error;
}

TEST_F(DeepScanTest, RsaKeyTransportHasNoForwardSecrecyNorAead) {
  SServer s({"-no_tls1_3", "-cipher", "AES128-SHA"}, /*rsa=*/true);
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("pop3s", s.port()), TestOptions());
  EXPECT_EQ(Version(r, "TLSv1.2"), true) << r.error;
  EXPECT_EQ(Accepted(r, "TLSv1.2"), (std::set<std::string>{"AES128-SHA"}));
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanForwardSecrecyCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanAeadCheck), CheckVerdict::kFail);

  SServer good({"-no_tls1_3", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"},
               /*rsa=*/true);
  ASSERT_TRUE(good.up());
  r = Scan(Target("pop3s", good.port()), TestOptions());
  EXPECT_EQ(Accepted(r, "TLSv1.2"),
            (std::set<std::string>{"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"}))
      << r.error;
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanForwardSecrecyCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanAeadCheck), CheckVerdict::kPass);
}

TEST_F(DeepScanTest, ClientInitiatedRenegotiation) {
  // OpenSSL 3 servers refuse client-initiated renegotiation unless told otherwise.
  SServer refuses({"-no_tls1_3"});
  ASSERT_TRUE(refuses.up());
  ScanResult r = Scan(Target("imaps", refuses.port()), TestOptions());
  EXPECT_EQ(r.client_renegotiations, 0) << r.error;
  EXPECT_EQ(VerdictOf(r, kScanClientRenegotiationCheck), CheckVerdict::kPass);

  SServer allows({"-no_tls1_3", "-client_renegotiation"});
  ASSERT_TRUE(allows.up());
  r = Scan(Target("imaps", allows.port()), TestOptions());
  EXPECT_EQ(r.client_renegotiations, 11) << r.error;
  EXPECT_EQ(VerdictOf(r, kScanClientRenegotiationCheck), CheckVerdict::kWarn);
}

TEST_F(DeepScanTest, Tls13OnlyHasNoFeatureOrFallbackSeries) {
  SServer s({"-tls1_3"});
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
  EXPECT_EQ(Version(r, "TLSv1.3"), true) << r.error;
  EXPECT_EQ(Version(r, "TLSv1.2"), false);
  EXPECT_EQ(r.features_version, "");
  EXPECT_EQ(VerdictOf(r, kScanCompressionCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanSecureRenegotiationCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanExtendedMasterSecretCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanFallbackScsvCheck), std::nullopt);  // one version: nothing to fall to
  EXPECT_EQ(VerdictOf(r, kScanClientRenegotiationCheck), std::nullopt);  // no TLS 1.2
}

TEST_F(DeepScanTest, AnonymousSuitesAreWeak) {
  SServer s({"-tls1_2", "-cipher", "aNULL:ALL:@SECLEVEL=0"});
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("pop3s", s.port()), TestOptions());
  EXPECT_EQ(Version(r, "TLSv1.2"), true);
  EXPECT_EQ(Version(r, "TLSv1.3"), false);
  EXPECT_TRUE(r.weak_cipher_accepted);
  ASSERT_FALSE(r.accepted_weak.empty());
  for (const auto& [v, c] : r.accepted_weak) {
    EXPECT_EQ(v, "TLSv1.2");
    EXPECT_NE(c.find("anon"), std::string::npos) << c;
  }
  EXPECT_EQ(VerdictOf(r, kScanWeakCiphersCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanModernTlsCheck), CheckVerdict::kPass);
}

// ---- hand-built hellos against canned answers ---------------------------------------------

TEST_F(DeepScanTest, ScriptedServerWithIdeaAndSeed) {
  // IDEA (64-bit blocks: weak, as 3DES) and SEED (CBC: obsolete, not weak), on SSLv3.
  FakeServer fake([](int fd) { ServeLegacyHello(fd, {0x0007, 0x0096}, false); });
  ScanResult r = Scan(Target("submissions", fake.port()), TestOptions());
  ASSERT_EQ(Version(r, "SSLv3"), true) << r.error;
  EXPECT_EQ(Accepted(r, "SSLv3"), (std::set<std::string>{"IDEA-CBC-SHA", "SEED-SHA"}));
  EXPECT_TRUE(r.weak_cipher_accepted);
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(r.accepted_weak, (std::vector<P>{{"SSLv3", "TLS_RSA_WITH_IDEA_CBC_SHA"}}));
  EXPECT_EQ(VerdictOf(r, kScanWeakCiphersCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanCbcSuitesCheck), CheckVerdict::kWarn);
  ASSERT_TRUE(MinCipherStrength(r).has_value());
  EXPECT_EQ(MinCipherStrength(r)->bits, 128);  // IDEA and SEED: 128-bit keys
}

TEST_F(DeepScanTest, ScriptedSsl3ServerWithRc4And3Des) {
  FakeServer fake([](int fd) { ServeLegacyHello(fd, {0x0005, 0x000A, 0x002F}, false); });
  ScanResult r = Scan(Target("submissions", fake.port()), TestOptions());
  EXPECT_EQ(Version(r, "SSLv3"), true);
  EXPECT_EQ(Version(r, "SSLv2"), false);
  EXPECT_EQ(Version(r, "TLSv1"), false);
  EXPECT_EQ(Version(r, "TLSv1.2"), false);
  EXPECT_EQ(Version(r, "TLSv1.3"), false);
  EXPECT_TRUE(r.weak_tested);
  EXPECT_TRUE(r.weak_cipher_accepted);
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(r.accepted_weak, (std::vector<P>{{"SSLv3", "TLS_RSA_WITH_RC4_128_SHA"},
                                             {"SSLv3", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"}}));
  EXPECT_EQ(VerdictOf(r, kScanSsl3Check), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanModernTlsCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanWeakCiphersCheck), CheckVerdict::kFail);
  // An SSLv3 ServerHello without renegotiation_info (our SSLv3 hello signals RFC 5746 with the
  // SCSV); no TLS 1.2, so no extended master secret to ask for; one version, no fallback.
  EXPECT_EQ(r.features_version, "SSLv3");
  EXPECT_EQ(VerdictOf(r, kScanSecureRenegotiationCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanCompressionCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanExtendedMasterSecretCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanFallbackScsvCheck), std::nullopt);
  // 6 versions + the features hello + the SSLv3 suites in one chunk (RC4, 3DES, AES128-SHA,
  // then refused); the weak suites come from that list, without another connection.
  // ... and two for the order (all three insufficient: the server's order, nothing to blame),
  // one for CCS injection (SSLv3 has no heartbeat extension to offer), and one for ROBOT (RSA
  // key transport accepted; a ServerHello without Certificate and a close: untested, no series).
  EXPECT_EQ(r.handshakes, 15);
  EXPECT_EQ(fake.connections(), 15);
  EXPECT_EQ(VerdictOf(r, kScanRobotCheck), std::nullopt);
  EXPECT_EQ(r.order_pick_worst_first, "RC4-SHA");
  EXPECT_EQ(r.order_pick_best_first, "RC4-SHA");
  EXPECT_EQ(VerdictOf(r, kScanCipherOrderCheck), CheckVerdict::kPass);
  EXPECT_EQ(Accepted(r, "SSLv3"), (std::set<std::string>{"RC4-SHA", "DES-CBC3-SHA", "AES128-SHA"}));
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanForwardSecrecyCheck), CheckVerdict::kFail);
}

TEST_F(DeepScanTest, ScriptedSsl2Server) {
  FakeServer fake([](int fd) { ServeLegacyHello(fd, {}, true); });
  ScanResult r = Scan(Target("pop3s", fake.port()), TestOptions());
  EXPECT_EQ(Version(r, "SSLv2"), true);
  EXPECT_EQ(Version(r, "SSLv3"), false);
  EXPECT_FALSE(r.weak_tested);
  EXPECT_EQ(VerdictOf(r, kScanSsl2Check), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanWeakCiphersCheck), std::nullopt);  // nothing to test it on
}

TEST_F(DeepScanTest, SilentServerRefusesNothingItWasNotAsked) {
  // A plaintext banner on an "implicit TLS" port: no version can be judged.
  FakeServer fake([](int fd) {
    const std::string banner = "220 plaintext.test ESMTP\r\n";
    ::send(fd, banner.data(), banner.size(), MSG_NOSIGNAL);
    char sink[512];
    (void)::read(fd, sink, sizeof sink);
  });
  ScanResult r = Scan(Target("submissions", fake.port()), TestOptions());
  EXPECT_TRUE(r.versions.empty()) << r.versions.size();
  EXPECT_EQ(VerdictOf(r, kScanLegacyTlsCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanModernTlsCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanWeakCiphersCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanSsl3Check), CheckVerdict::kError);
  EXPECT_NE(r.error.find("SSLv3 untested"), std::string::npos) << r.error;
}

// ---- STARTTLS and command injection -------------------------------------------------------

class InjectionTest : public DeepScanTest {
 protected:
  void SetUp() override {
    DeepScanTest::SetUp();
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    ASSERT_TRUE(ctx_);
    ASSERT_EQ(SSL_CTX_use_certificate_file(ctx_.get(), Certs().cert.c_str(), SSL_FILETYPE_PEM), 1);
    ASSERT_EQ(SSL_CTX_use_PrivateKey_file(ctx_.get(), Certs().key.c_str(), SSL_FILETYPE_PEM), 1);
  }
  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx_;
};

TEST_F(InjectionTest, VulnerableServerAnswersInsideTls) {
  SSL_CTX* ctx = ctx_.get();
  FakeServer fake([ctx](int fd) { ServeStartTls(fd, ctx, /*vulnerable=*/true, /*imap=*/false); });
  ScanResult r = Scan(Target("submission", fake.port()), TestOptions());
  EXPECT_EQ(Version(r, "TLSv1.2"), true);  // through STARTTLS
  EXPECT_EQ(Version(r, "TLSv1.3"), true);
  ASSERT_TRUE(r.command_injection.has_value()) << r.error;
  EXPECT_TRUE(*r.command_injection);
  EXPECT_EQ(VerdictOf(r, kScanCommandInjectionCheck), CheckVerdict::kFail);
  EXPECT_NE(r.error.find("250 2.0.0 OK"), std::string::npos) << r.error;
}

TEST_F(InjectionTest, SafeServerDropsPipelinedPlaintext) {
  SSL_CTX* ctx = ctx_.get();
  FakeServer fake([ctx](int fd) { ServeStartTls(fd, ctx, /*vulnerable=*/false, /*imap=*/false); });
  ScanResult r = Scan(Target("smtp", fake.port()), TestOptions());
  ASSERT_TRUE(r.command_injection.has_value()) << r.error;
  EXPECT_FALSE(*r.command_injection);
  EXPECT_EQ(VerdictOf(r, kScanCommandInjectionCheck), CheckVerdict::kPass);
  EXPECT_EQ(r.error, "");
}

TEST_F(InjectionTest, ImapVulnerableAndSafe) {
  SSL_CTX* ctx = ctx_.get();
  for (bool vulnerable : {true, false}) {
    SCOPED_TRACE(vulnerable ? "vulnerable" : "safe");
    FakeServer fake([ctx, vulnerable](int fd) { ServeStartTls(fd, ctx, vulnerable, true); });
    ScanResult r = Scan(Target("imap", fake.port()), TestOptions());
    EXPECT_EQ(Version(r, "TLSv1.2"), true) << r.error;
    ASSERT_TRUE(r.command_injection.has_value()) << r.error;
    EXPECT_EQ(*r.command_injection, vulnerable);
    EXPECT_EQ(VerdictOf(r, kScanCommandInjectionCheck),
              vulnerable ? CheckVerdict::kFail : CheckVerdict::kPass);
  }
}

TEST_F(InjectionTest, NoStartTlsStopsTheScan) {
  testing::ScriptedServer server({{"", "220 x ESMTP\r\n"}, {"EHLO", "250 x\r\n"}, {"QUIT", ""}},
                                 200);
  ScanResult r = Scan(Target("smtp", server.port()), TestOptions());
  EXPECT_TRUE(r.ran);
  EXPECT_EQ(r.handshakes, 1);
  EXPECT_TRUE(r.versions.empty());
  EXPECT_NE(r.error.find("STARTTLS not offered"), std::string::npos) << r.error;
  EXPECT_EQ(VerdictOf(r, kScanCommandInjectionCheck), CheckVerdict::kError);
}

// ---- TX-10: the implicit-TLS sibling of a STARTTLS service -----------------------------------

TEST_F(DeepScanTest, ImplicitTlsSiblingOffered) {
  SServer sibling({"-no_tls1", "-no_tls1_1"});
  ASSERT_TRUE(sibling.up());
  testing::ScriptedServer server({{"", "220 x ESMTP\r\n"}, {"EHLO", "250 x\r\n"}, {"QUIT", ""}},
                                 200);
  ScanOptions o = TestOptions();
  o.implicit_sibling_port = static_cast<uint16_t>(sibling.port());
  ScanResult r = Scan(Target("submission", server.port()), o);
  ASSERT_TRUE(r.implicit_tls_sibling.has_value()) << r.error;
  EXPECT_TRUE(*r.implicit_tls_sibling);
  EXPECT_EQ(VerdictOf(r, kScanImplicitTlsCheck), CheckVerdict::kPass);
  // The sibling costs one connection, then the STARTTLS service's own (which offers none here).
  EXPECT_EQ(r.handshakes, 2);
}

TEST_F(DeepScanTest, ImplicitTlsSiblingMissingIsAWarning) {
  testing::ScriptedServer server(
      {{"", "+OK ready\r\n"}, {"CAPA", "+OK\r\nUSER\r\n.\r\n"}, {"QUIT", "+OK\r\n"}}, 200);
  ScanOptions o = TestOptions();
  o.implicit_sibling_port = static_cast<uint16_t>(testing::UnusedLoopbackPort());
  ScanResult r = Scan(Target("pop3", server.port()), o);
  ASSERT_TRUE(r.implicit_tls_sibling.has_value()) << r.error;
  EXPECT_FALSE(*r.implicit_tls_sibling);
  EXPECT_EQ(VerdictOf(r, kScanImplicitTlsCheck), CheckVerdict::kWarn);

  // SMTP on port 25 has no implicit-TLS variant to prefer: not tried.
  testing::ScriptedServer smtp({{"", "220 x ESMTP\r\n"}, {"EHLO", "250 x\r\n"}, {"QUIT", ""}}, 200);
  r = Scan(Target("smtp", smtp.port()), o);
  EXPECT_FALSE(r.implicit_tls_sibling.has_value());
  EXPECT_EQ(VerdictOf(r, kScanImplicitTlsCheck), std::nullopt);
}

// ---- CIPH-08: the hash that signs the TLS 1.2 key exchange ---------------------------------

TEST_F(DeepScanTest, KeyExchangeHash) {
  struct Row {
    const char* server_sigalgs;
    std::optional<bool> sha1, sha224;
    CheckVerdict verdict;
  };
  const Row rows[] = {
      {"RSA+SHA1:RSA+SHA256", true, std::nullopt, CheckVerdict::kFail},
      {"RSA+SHA224:RSA+SHA256", false, true, CheckVerdict::kWarn},
      {"RSA+SHA256:RSA+SHA384", false, false, CheckVerdict::kPass},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.server_sigalgs);
    SServer s({"-no_tls1_3", "-sigalgs", row.server_sigalgs, "-cipher",
               "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"},
              /*rsa=*/true);
    ASSERT_TRUE(s.up());
    ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
    EXPECT_EQ(r.kex_sha1, row.sha1) << r.error;
    if (row.sha1 != true) {
      EXPECT_EQ(r.kex_sha224, row.sha224) << r.error;
    }
    EXPECT_EQ(VerdictOf(r, kScanKexHashCheck), row.verdict);
  }
}

// ---- TLSF-05: 0-RTT ---------------------------------------------------------------------------

TEST_F(DeepScanTest, EarlyData) {
  // OpenSSL servers send tickets without early data unless told.
  SServer plain({"-tls1_3"});
  ASSERT_TRUE(plain.up());
  ScanResult r = Scan(Target("imaps", plain.port()), TestOptions());
  ASSERT_TRUE(r.early_data_accepted.has_value()) << r.error;
  EXPECT_FALSE(*r.early_data_accepted);
  EXPECT_EQ(r.early_data_detail, "the session ticket allows no early data");
  EXPECT_EQ(VerdictOf(r, kScanEarlyDataCheck), CheckVerdict::kPass);

  SServer zero_rtt({"-tls1_3", "-early_data"});
  ASSERT_TRUE(zero_rtt.up());
  r = Scan(Target("imaps", zero_rtt.port()), TestOptions());
  ASSERT_TRUE(r.early_data_accepted.has_value()) << r.error;
  EXPECT_TRUE(*r.early_data_accepted) << r.early_data_detail;
  EXPECT_EQ(VerdictOf(r, kScanEarlyDataCheck), CheckVerdict::kFail);

  // Without TLS 1.3 there is nothing to ask.
  SServer tls12({"-no_tls1_3"});
  ASSERT_TRUE(tls12.up());
  r = Scan(Target("imaps", tls12.port()), TestOptions());
  EXPECT_FALSE(r.early_data_accepted.has_value());
  EXPECT_EQ(VerdictOf(r, kScanEarlyDataCheck), std::nullopt);
}

TEST_F(DeepScanTest, CancelledScanStopsBeforeItsNextConnection) {
  SServer s({"-no_tls1", "-no_tls1_1"});
  ASSERT_TRUE(s.up());
  std::atomic<bool> cancel{true};
  ScanOptions o = TestOptions();
  o.cancel = &cancel;
  ScanResult r = Scan(Target("imaps", s.port()), o);
  EXPECT_EQ(r.handshakes, 0);
  EXPECT_NE(r.error.find("cancelled (shutdown)"), std::string::npos) << r.error;
  EXPECT_TRUE(r.versions.empty());
}

// ---- META-03: one background scan per address across targets --------------------------------

TEST(AddressLocksTest, AllOrNothingAndReleasedWithTheLease) {
  AddressLocks locks;
  std::optional<AddressLocks::Lease> a = locks.TryLock({"192.0.2.1", "2001:db8::1"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(locks.held(), 2u);
  // Another address is free; one held address makes the whole request fail, taking nothing.
  std::optional<AddressLocks::Lease> b = locks.TryLock({"192.0.2.2"});
  EXPECT_TRUE(b.has_value());
  EXPECT_FALSE(locks.TryLock({"192.0.2.3", "2001:db8::1"}).has_value());
  EXPECT_EQ(locks.held(), 3u);
  // Duplicates are one address; an empty list always succeeds.
  EXPECT_TRUE(locks.TryLock({"192.0.2.4", "192.0.2.4"}).has_value());
  EXPECT_TRUE(locks.TryLock({}).has_value());
  EXPECT_EQ(locks.held(), 3u);  // the temporaries let go
  a.reset();
  EXPECT_EQ(locks.held(), 1u);
  EXPECT_TRUE(locks.TryLock({"192.0.2.3", "2001:db8::1"}).has_value());
  // A moved lease releases once.
  std::optional<AddressLocks::Lease> moved;
  moved.emplace(std::move(*b));
  b.reset();
  EXPECT_EQ(locks.held(), 1u);
  moved.reset();
  EXPECT_EQ(locks.held(), 0u);
}

// ---- TX-02 / TX-13: plaintext delivery and relaying ----------------------------------------

// A fake SMTP server for the envelope tests: STARTTLS, then MAIL/RCPT/RSET/QUIT in plaintext or
// inside TLS. `require_tls`: MAIL before STARTTLS gets 530. `relay`: RCPT to anything but
// postmaster@ is accepted. Every line received is appended to `log`.
struct MailPolicy {
  bool require_tls = false;
  bool relay = false;
};

class LineIo {
 public:
  explicit LineIo(int fd) : fd_(fd) {}
  void set_ssl(SSL* ssl) { ssl_ = ssl; }
  bool ReadLine(std::string* line) {
    for (int i = 0; i < 100; ++i) {
      if (size_t nl = buf_.find('\n'); nl != std::string::npos) {
        *line = buf_.substr(0, nl);
        if (!line->empty() && line->back() == '\r') line->pop_back();
        buf_.erase(0, nl + 1);
        return true;
      }
      char chunk[1024];
      const int n = ssl_ != nullptr ? SSL_read(ssl_, chunk, sizeof chunk)
                                    : static_cast<int>(::read(fd_, chunk, sizeof chunk));
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<size_t>(n));
    }
    return false;
  }
  void Send(const std::string& s) {
    if (ssl_ != nullptr) {
      SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
    } else {
      ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
    }
  }

 private:
  int fd_;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

void ServeMail(int fd, SSL_CTX* ctx, MailPolicy policy, std::mutex* mu,
               std::vector<std::string>* log) {
  LineIo io(fd);
  SSL* ssl = nullptr;
  io.Send("220 fake.test ESMTP\r\n");
  std::string line;
  for (int i = 0; i < 20 && io.ReadLine(&line); ++i) {
    {
      std::lock_guard<std::mutex> lock(*mu);
      log->push_back(line);
    }
    const std::string verb = line.substr(0, 4);
    if (verb == "EHLO") {
      io.Send(ssl != nullptr ? "250-fake.test\r\n250 AUTH PLAIN\r\n"
                             : "250-fake.test\r\n250 STARTTLS\r\n");
    } else if (verb == "STAR" && ssl == nullptr) {
      io.Send("220 2.0.0 Ready to start TLS\r\n");
      ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) break;
      io.set_ssl(ssl);
    } else if (verb == "MAIL") {
      io.Send(policy.require_tls && ssl == nullptr
                  ? "530 5.7.0 Must issue a STARTTLS command first\r\n"
                  : "250 2.1.0 Ok\r\n");
    } else if (verb == "RCPT") {
      io.Send(line.find("postmaster@") != std::string::npos || policy.relay
                  ? "250 2.1.5 Ok\r\n"
                  : "554 5.7.1 Relay access denied\r\n");
    } else if (verb == "RSET") {
      io.Send("250 2.0.0 Ok\r\n");
    } else if (verb == "QUIT") {
      io.Send("221 2.0.0 Bye\r\n");
      break;
    } else {
      io.Send("502 5.5.2 Error: command not recognized\r\n");
    }
  }
  if (ssl != nullptr) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  ERR_clear_error();
}

class EnvelopeTest : public InjectionTest {
 protected:
  // The envelope tests come first in the scan; two connections cover both.
  static ScanOptions Options() {
    ScanOptions o = TestOptions();
    o.max_handshakes = 2;
    return o;
  }
  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  static bool Has(const std::vector<std::string>& log, const std::string& line) {
    return std::find(log.begin(), log.end(), line) != log.end();
  }
  static bool HasVerb(const std::vector<std::string>& log, const std::string& verb) {
    return std::any_of(log.begin(), log.end(),
                       [&](const std::string& l) { return l.rfind(verb, 0) == 0; });
  }
  std::mutex mu_;
  std::vector<std::string> log_;
};

TEST_F(EnvelopeTest, TlsRequiredBeforeMailIsAWarningAndRelayRefusedPasses) {
  SSL_CTX* ctx = ctx_.get();
  FakeServer fake([&](int fd) { ServeMail(fd, ctx, {.require_tls = true}, &mu_, &log_); });
  ScanOptions o = Options();
  o.open_relay_recipient = "relay-test@elsewhere.example";
  ScanResult r = Scan(Target("smtp", fake.port()), o);
  ASSERT_TRUE(r.plaintext_mail_refused.has_value()) << r.plaintext_mail_detail;
  EXPECT_TRUE(*r.plaintext_mail_refused);
  EXPECT_NE(r.plaintext_mail_detail.find("530 5.7.0 Must issue a STARTTLS"), std::string::npos)
      << r.plaintext_mail_detail;
  EXPECT_EQ(VerdictOf(r, kScanPlaintextMailCheck), CheckVerdict::kWarn);
  ASSERT_TRUE(r.open_relay.has_value()) << r.open_relay_detail;
  EXPECT_FALSE(*r.open_relay);
  EXPECT_NE(r.open_relay_detail.find("554 5.7.1 Relay access denied"), std::string::npos);
  EXPECT_EQ(VerdictOf(r, kScanOpenRelayCheck), CheckVerdict::kPass);
  const std::vector<std::string> log = Log();
  EXPECT_TRUE(Has(log, "MAIL FROM:<>"));
  EXPECT_TRUE(Has(log, "RCPT TO:<relay-test@elsewhere.example>"));
  EXPECT_TRUE(Has(log, "RSET"));
  EXPECT_FALSE(HasVerb(log, "DATA"));
  EXPECT_FALSE(HasVerb(log, "AUTH"));
}

TEST_F(EnvelopeTest, PlaintextMailAcceptedAndOpenRelayFails) {
  SSL_CTX* ctx = ctx_.get();
  FakeServer fake([&](int fd) { ServeMail(fd, ctx, {.relay = true}, &mu_, &log_); });
  ScanOptions o = Options();
  o.open_relay_recipient = "relay-test@elsewhere.example";
  ScanResult r = Scan(Target("smtp", fake.port()), o);
  ASSERT_TRUE(r.plaintext_mail_refused.has_value()) << r.plaintext_mail_detail;
  EXPECT_FALSE(*r.plaintext_mail_refused);
  EXPECT_EQ(VerdictOf(r, kScanPlaintextMailCheck), CheckVerdict::kPass);
  ASSERT_TRUE(r.open_relay.has_value()) << r.open_relay_detail;
  EXPECT_TRUE(*r.open_relay);
  EXPECT_EQ(VerdictOf(r, kScanOpenRelayCheck), CheckVerdict::kFail);
  const std::vector<std::string> log = Log();
  // An IP target's postmaster is at its address literal (RFC 5321 §4.1.3).
  EXPECT_TRUE(Has(log, "RCPT TO:<postmaster@[127.0.0.1]>"));
  EXPECT_FALSE(HasVerb(log, "DATA"));
}

TEST_F(EnvelopeTest, NoRecipientNoRelayTestAndThePostmasterOfTheDomain) {
  SSL_CTX* ctx = ctx_.get();
  FakeServer fake([&](int fd) { ServeMail(fd, ctx, {.relay = true}, &mu_, &log_); });
  ScanOptions o = Options();
  o.postmaster_domain = "example.org";
  ScanResult r = Scan(Target("smtp", fake.port()), o);
  EXPECT_EQ(r.plaintext_mail_refused, false) << r.plaintext_mail_detail;
  EXPECT_FALSE(r.open_relay.has_value());
  EXPECT_EQ(VerdictOf(r, kScanOpenRelayCheck), std::nullopt);
  const std::vector<std::string> log = Log();
  EXPECT_TRUE(Has(log, "RCPT TO:<postmaster@example.org>"));
  EXPECT_FALSE(HasVerb(log, "RCPT TO:<relay"));
}

TEST_F(DeepScanTest, PlaintextMailRefusalsNamingTlsAndOthers) {
  struct Row {
    std::string mail, rcpt;
    std::optional<CheckVerdict> verdict;
  };
  const std::vector<Row> rows = {
      // Refusals for want of TLS in other words than 530.
      {"550 5.7.10 Encryption needed\r\n", "", CheckVerdict::kWarn},
      {"454 4.7.0 TLS required for this server\r\n", "", CheckVerdict::kWarn},
      {"250 2.1.0 Ok\r\n", "530 5.7.0 Must issue a STARTTLS command first\r\n",
       CheckVerdict::kWarn},
      // A relay refusal or greylisting at RCPT is not about TLS: plaintext is accepted.
      {"250 2.1.0 Ok\r\n", "450 4.2.0 Greylisted, try again later\r\n", CheckVerdict::kPass},
      // MAIL refused for another reason decides nothing.
      {"554 5.7.1 Access denied\r\n", "", CheckVerdict::kError},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.mail + row.rcpt);
    std::vector<testing::Step> steps = {
        {"", "220 x ESMTP\r\n"}, {"EHLO", "250-x\r\n250 STARTTLS\r\n"}, {"MAIL FROM:<>", row.mail}};
    if (!row.rcpt.empty()) steps.push_back({"RCPT TO:<postmaster@", row.rcpt});
    steps.push_back({"RSET", "250 Ok\r\n"});
    steps.push_back({"QUIT", "221 Bye\r\n"});
    testing::ScriptedServer server(steps, 200);
    ScanOptions o = TestOptions();
    o.max_handshakes = 1;
    ScanResult r = Scan(Target("smtp", server.port()), o);
    EXPECT_EQ(VerdictOf(r, kScanPlaintextMailCheck), row.verdict) << r.plaintext_mail_detail;
  }
}

TEST_F(DeepScanTest, EnvelopeTestsOnlyForSmtp) {
  testing::ScriptedServer server(
      {{"", "* OK ready\r\n"}, {"a1 CAPABILITY", "* CAPABILITY IMAP4rev1\r\na1 OK\r\n"}}, 200);
  ScanOptions o = TestOptions();
  o.open_relay_recipient = "relay-test@elsewhere.example";
  o.implicit_sibling_port = static_cast<uint16_t>(testing::UnusedLoopbackPort());
  ScanResult r = Scan(Target("imap", server.port()), o);
  EXPECT_FALSE(r.plaintext_mail_refused.has_value());
  EXPECT_FALSE(r.open_relay.has_value());
  EXPECT_EQ(VerdictOf(r, kScanPlaintextMailCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanOpenRelayCheck), std::nullopt);
}

// ---- pacing -------------------------------------------------------------------------------

TEST_F(DeepScanTest, HandshakeCapAndPause) {
  SServer s({"-no_tls1", "-no_tls1_1"});
  ASSERT_TRUE(s.up());
  ScanOptions o = TestOptions();
  o.max_handshakes = 3;
  o.pause = std::chrono::milliseconds(150);
  const auto t0 = std::chrono::steady_clock::now();
  ScanResult r = Scan(Target("imaps", s.port()), o);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.handshakes, 3);
  EXPECT_EQ(r.versions.size(), 3u);  // TLSv1.3, TLSv1.2, TLSv1.1
  EXPECT_NE(r.error.find("handshake cap of 3 reached"), std::string::npos) << r.error;
  EXPECT_GE(took, std::chrono::milliseconds(300));  // two pauses between three connections
  EXPECT_EQ(VerdictOf(r, kScanSsl3Check), CheckVerdict::kError);  // never tried: not "pass"
  // The cap stopped the scan before any suite was asked: untested, never "refused".
  EXPECT_TRUE(r.accepted_ciphers.empty());
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanForwardSecrecyCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanAeadCheck), CheckVerdict::kError);
}

// ---- findings (pure) ----------------------------------------------------------------------

TEST(ScanFindingsTest, Rules) {
  config::EndpointTarget smtp{config::Service::kSmtp, "mx.test", 25, false};
  config::EndpointTarget imaps{config::Service::kImaps, "mx.test", 993, false};
  ScanResult r;
  r.ran = true;
  r.versions = {{"TLSv1", true}, {"TLSv1.1", false}, {"TLSv1.2", false}, {"TLSv1.3", true}};
  auto f = ScanFindings(smtp, r);
  r.findings = f;
  EXPECT_EQ(VerdictOf(r, kScanLegacyTlsCheck), CheckVerdict::kWarn);  // port 25: opportunistic
  EXPECT_EQ(VerdictOf(r, kScanModernTlsCheck), CheckVerdict::kWarn);  // 1.3 only
  EXPECT_EQ(VerdictOf(r, kScanSsl3Check), CheckVerdict::kError);      // untested
  EXPECT_EQ(VerdictOf(r, kScanWeakCiphersCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanCommandInjectionCheck), CheckVerdict::kError);
  r.findings = ScanFindings(imaps, r);
  EXPECT_EQ(VerdictOf(r, kScanLegacyTlsCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanCommandInjectionCheck), std::nullopt);  // implicit TLS

  r.versions = {{"TLSv1", false}, {"TLSv1.1", false}, {"TLSv1.2", false}, {"TLSv1.3", false}};
  r.weak_tested = true;
  r.command_injection = false;
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanModernTlsCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanLegacyTlsCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanWeakCiphersCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanCommandInjectionCheck), CheckVerdict::kPass);

  // Features and fallback: TLS 1.2 accepted but the hellos went unanswered: error, not pass.
  EXPECT_EQ(VerdictOf(r, kScanCompressionCheck), std::nullopt);  // nothing up to 1.2 accepted
  r.versions = {{"TLSv1.1", true}, {"TLSv1.2", true}, {"TLSv1.3", true}};
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanCompressionCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanSecureRenegotiationCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanExtendedMasterSecretCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanFallbackScsvCheck), CheckVerdict::kError);
  r.features_version = "TLSv1.2";
  r.compression_method = 0x40;  // LZS: any compression is CRIME's precondition
  r.secure_renegotiation = true;
  r.extended_master_secret = true;
  r.fallback_scsv = false;
  r.fallback_version = "TLSv1.2";
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanCompressionCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanSecureRenegotiationCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanExtendedMasterSecretCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanFallbackScsvCheck), CheckVerdict::kWarn);
  // Only TLS 1.1 up to 1.2 (with 1.3): the extended master secret does not apply.
  r.versions = {{"TLSv1.1", true}, {"TLSv1.2", false}, {"TLSv1.3", true}};
  r.extended_master_secret.reset();
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanExtendedMasterSecretCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanSecureRenegotiationCheck), CheckVerdict::kPass);

  // Suites: an unfinished enumeration proves only what it saw.
  r.versions = {{"TLSv1.2", true}, {"TLSv1.3", true}};
  r.ciphers_complete = {"TLSv1.3"};
  r.accepted_ciphers = {{"TLSv1.3", 0x1302, "TLS_AES_256_GCM_SHA384"}};
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanForwardSecrecyCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanAeadCheck), CheckVerdict::kPass);
  r.accepted_ciphers.push_back({"TLSv1.2", 0x009C, "AES128-GCM-SHA256"});
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanForwardSecrecyCheck), CheckVerdict::kFail);
  r.ciphers_complete = {"TLSv1.3", "TLSv1.2"};
  r.accepted_ciphers = {{"TLSv1.3", 0x1302, "TLS_AES_256_GCM_SHA384"},
                        {"TLSv1.2", 0xC02F, "ECDHE-RSA-AES128-GCM-SHA256"}};
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanForwardSecrecyCheck), CheckVerdict::kPass);
  r.accepted_ciphers = {{"TLSv1.2", 0xC028, "ECDHE-RSA-AES256-SHA384"}};
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kWarn);
  EXPECT_EQ(VerdictOf(r, kScanAeadCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanCipherOrderCheck), std::nullopt);  // not asked
  r.accepted_ciphers.push_back({"TLSv1.2", 0xC02F, "ECDHE-RSA-AES128-GCM-SHA256"});
  r.order_version = "TLSv1.2";
  r.order_best = "ECDHE-RSA-AES128-GCM-SHA256";
  r.order_worst = "ECDHE-RSA-AES256-SHA384";
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanCipherOrderCheck), CheckVerdict::kError);  // no ServerHello
  r.order_pick_worst_first = "ECDHE-RSA-AES256-SHA384";
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanCipherOrderCheck), CheckVerdict::kFail);
  r.order_pick_worst_first = "ECDHE-RSA-AES128-GCM-SHA256";
  r.order_pick_best_first = "ECDHE-RSA-AES128-GCM-SHA256";
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanCipherOrderCheck), CheckVerdict::kPass);
  r.order_version.clear();
  r.accepted_ciphers.clear();
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanCipherSuitesCheck), CheckVerdict::kError);  // nothing of ours

  // Groups: no series unless asked; an unfinished probe proves only what it saw.
  EXPECT_EQ(VerdictOf(r, kScanEcdheGroupsCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kScanDheGroupsCheck), std::nullopt);
  r.groups_asked = {"TLSv1.3"};
  r.groups = {{"TLSv1.3", 0x001D, "x25519", true}, {"TLSv1.3", 0x0100, "ffdhe2048", false}};
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanEcdheGroupsCheck), CheckVerdict::kError);
  EXPECT_EQ(VerdictOf(r, kScanDheGroupsCheck), CheckVerdict::kError);
  r.groups_complete = {"TLSv1.3"};
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanEcdheGroupsCheck), CheckVerdict::kPass);
  EXPECT_EQ(VerdictOf(r, kScanDheGroupsCheck), CheckVerdict::kPass);
  r.groups.push_back({"TLSv1.2", 0x0016, "secp256k1", true});
  r.groups.push_back({"TLSv1.3", 0x0102, "ffdhe4096", true});
  r.findings = ScanFindings(smtp, r);
  EXPECT_EQ(VerdictOf(r, kScanEcdheGroupsCheck), CheckVerdict::kFail);
  EXPECT_EQ(VerdictOf(r, kScanDheGroupsCheck), CheckVerdict::kWarn);

  // TLSF-03: refused passes, a few is information (pass), 11 is no limit (warn).
  EXPECT_EQ(VerdictOf(r, kScanClientRenegotiationCheck), std::nullopt);
  for (const auto& [n, v] : std::vector<std::pair<int, CheckVerdict>>{
           {0, CheckVerdict::kPass}, {3, CheckVerdict::kPass}, {11, CheckVerdict::kWarn}}) {
    r.client_renegotiations = n;
    r.findings = ScanFindings(smtp, r);
    EXPECT_EQ(VerdictOf(r, kScanClientRenegotiationCheck), v) << n;
  }

  ScanResult none;
  EXPECT_TRUE(ScanFindings(smtp, none).empty());  // never connected: no series

  // Every id is declared once.
  std::set<std::string_view> ids(ScanCheckIds().begin(), ScanCheckIds().end());
  EXPECT_EQ(ids.size(), ScanCheckIds().size());
  EXPECT_TRUE(ids.count("starttls_command_injection"));
}

}  // namespace
}  // namespace mailsec::probe
