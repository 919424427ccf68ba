// The deep scan's ROBOT probe (CHECKS.md TLSF-09) against `openssl s_server` with an RSA
// certificate, and against a relay in front of it that turns the server into a Bleichenbacher
// oracle: it decrypts each ClientKeyExchange with the server's key and answers mis-padded ones
// itself with a different alert.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "deep_scan_fixture.h"

namespace mailsec::probe::scan_testing {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

PkeyPtr LoadKey(const std::string& pem_file) {
  BIO* bio = BIO_new_file(pem_file.c_str(), "r");
  if (bio == nullptr) return nullptr;
  PkeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return key;
}

// Raw RSA decryption of the encrypted premaster; empty on failure.
std::string DecryptRaw(EVP_PKEY* key, std::string_view in) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key, nullptr),
                                                                  EVP_PKEY_CTX_free);
  std::string out(static_cast<size_t>(EVP_PKEY_get_size(key)), '\0');
  size_t len = out.size();
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING) != 1 ||
      EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                       reinterpret_cast<const unsigned char*>(in.data()), in.size()) != 1) {
    ERR_clear_error();
    return "";
  }
  out.resize(len);
  return out;
}

// Which paddings the oracle tells apart: a strong one only looks at the leading 00 02 (the
// paper's most useful oracle), a weak one wants the whole block well formed (00 02, eight or
// more nonzero bytes, the 0x00 separator right before a 48-byte premaster).
// kOnce: a strong oracle for the first mis-padded block only (noise, not an oracle); `spent`
// says whether that one came.
enum class Oracle { kStrong, kWeak, kOnce };
std::atomic<bool> once_spent{false};

bool PaddingOk(const std::string& m, Oracle o) {
  if (m.size() < 64 || m[0] != '\0' || m[1] != '\x02') {
    return o == Oracle::kOnce && once_spent.exchange(true);
  }
  if (o != Oracle::kWeak) return true;
  const size_t sep = m.find('\0', 2);
  return sep == m.size() - 49 && sep >= 10;
}

int ConnectLoopback(int port) {
  int up = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(up);
    return -1;
  }
  return up;
}

// Checks the client's whole records before passing them on. True: pass `rec` on; false: the
// oracle answered the ClientKeyExchange itself.
bool PassRecord(int fd, const std::string& rec, EVP_PKEY* key, Oracle o) {
  const size_t k = static_cast<size_t>(EVP_PKEY_get_size(key));
  const bool cke = rec.size() == 5 + 4 + 2 + k && rec[0] == 22 && rec[5] == 16;
  if (!cke || PaddingOk(DecryptRaw(key, std::string_view(rec).substr(11)), o)) return true;
  const std::string alert = Bytes({21, 3, 3, 0, 2, 2, 51});  // decrypt_error
  ::send(fd, alert.data(), alert.size(), MSG_NOSIGNAL);
  return false;
}

// Relays one connection to `backend`, record by record from the client (TLS only; anything else
// is relayed as it comes). At most 5 s, every poll at most 200 ms.
void ServeOracle(int fd, int backend, EVP_PKEY* key, Oracle o) {
  int up = ConnectLoopback(backend);
  if (up < 0) return;
  std::string pending;
  bool records = true, first = true, answered = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!answered && std::chrono::steady_clock::now() < until) {
    pollfd p[2] = {{fd, POLLIN, 0}, {up, POLLIN, 0}};
    if (::poll(p, 2, 200) <= 0) continue;
    char buf[8192];
    if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ssize_t n = ::read(up, buf, sizeof buf);
      if (n <= 0 || ::send(fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    if (first) records = buf[0] == 22;
    first = false;
    pending.append(buf, static_cast<size_t>(n));
    while (records && pending.size() >= 5 && !answered) {
      const size_t len = 5 + U16At(pending, 3);
      if (pending.size() < len) break;
      const std::string rec = pending.substr(0, len);
      pending.erase(0, len);
      answered = !PassRecord(fd, rec, key, o);
      if (!answered) ::send(up, rec.data(), rec.size(), MSG_NOSIGNAL);
    }
    if (!records) {
      ::send(up, pending.data(), pending.size(), MSG_NOSIGNAL);
      pending.clear();
    }
  }
  ::close(up);
  if (!answered) return;
  // Like a server that closes after its alert: the FIN once the client has read it; the client's
  // rest (ChangeCipherSpec, Finished) is read first, so that no reset replaces the FIN.
  ::shutdown(fd, SHUT_WR);
  char sink[1024];
  for (int i = 0; i < 20 && ::read(fd, sink, sizeof sink) > 0; ++i) {
  }
}

class DeepScanRobotTest : public DeepScanTest {};

// The servers below: an RSA key-transport suite (and nothing else) on TLS 1.2 only.
TEST_F(DeepScanRobotTest, OpenSslAnswersEveryVectorAlike) {
  SServer s({"-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"}, /*rsa=*/true);
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
  RecordProperty("robot_detail", r.robot_detail);
  EXPECT_EQ(Accepted(r, "TLSv1.2"), (std::set<std::string>{"AES128-SHA"})) << r.error;
  EXPECT_EQ(r.robot_vulnerable, false) << r.error;
  EXPECT_EQ(VerdictOf(r, kScanRobotCheck), CheckVerdict::kPass);
  EXPECT_NE(r.robot_detail.find("all five vectors: alert "), std::string::npos) << r.robot_detail;
}

TEST_F(DeepScanRobotTest, StrongPaddingOracleFails) {
  SServer backend({"-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"}, /*rsa=*/true);
  ASSERT_TRUE(backend.up());
  PkeyPtr key = LoadKey(Certs().rsa_key);
  ASSERT_TRUE(key);
  const int port = backend.port();
  EVP_PKEY* k = key.get();
  FakeServer fake([port, k](int fd) { ServeOracle(fd, port, k, Oracle::kStrong); });
  ScanResult r = Scan(Target("imaps", fake.port()), TestOptions());
  RecordProperty("robot_detail", r.robot_detail);
  EXPECT_EQ(r.robot_vulnerable, true) << r.robot_detail << " / " << r.error;
  EXPECT_FALSE(r.robot_weak_oracle);
  EXPECT_EQ(VerdictOf(r, kScanRobotCheck), CheckVerdict::kFail);
  // Only the block that does not start with 00 02 gets the oracle's alert.
  EXPECT_NE(r.robot_detail.find("wrong first bytes: alert 51, then closed; 0x00 misplaced: alert"),
            std::string::npos)
      << r.robot_detail;
  EXPECT_EQ(r.robot_detail.find("0x00 misplaced: alert 51"), std::string::npos) << r.robot_detail;
}

TEST_F(DeepScanRobotTest, WeakPaddingOracleWarns) {
  SServer backend({"-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"}, /*rsa=*/true);
  ASSERT_TRUE(backend.up());
  PkeyPtr key = LoadKey(Certs().rsa_key);
  ASSERT_TRUE(key);
  const int port = backend.port();
  EVP_PKEY* k = key.get();
  FakeServer fake([port, k](int fd) { ServeOracle(fd, port, k, Oracle::kWeak); });
  ScanResult r = Scan(Target("imaps", fake.port()), TestOptions());
  RecordProperty("robot_detail", r.robot_detail);
  EXPECT_EQ(r.robot_vulnerable, true) << r.robot_detail << " / " << r.error;
  EXPECT_TRUE(r.robot_weak_oracle);
  EXPECT_EQ(VerdictOf(r, kScanRobotCheck), CheckVerdict::kWarn);
}

TEST_F(DeepScanRobotTest, DifferencesNotSeenTwiceAreUndecided) {
  SServer backend({"-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"}, /*rsa=*/true);
  ASSERT_TRUE(backend.up());
  PkeyPtr key = LoadKey(Certs().rsa_key);
  ASSERT_TRUE(key);
  const int port = backend.port();
  EVP_PKEY* k = key.get();
  once_spent = false;
  FakeServer fake([port, k](int fd) { ServeOracle(fd, port, k, Oracle::kOnce); });
  ScanResult r = Scan(Target("imaps", fake.port()), TestOptions());
  RecordProperty("robot_detail", r.robot_detail);
  EXPECT_FALSE(r.robot_vulnerable.has_value()) << r.robot_detail << " / " << r.error;
  EXPECT_EQ(VerdictOf(r, kScanRobotCheck), CheckVerdict::kError);
  EXPECT_NE(r.robot_detail.find("not alike twice"), std::string::npos) << r.robot_detail;
}

TEST_F(DeepScanRobotTest, NoRsaKeyTransportNoFinding) {
  SServer s({"-tls1_2"});  // an EC certificate: ECDHE-ECDSA suites only
  ASSERT_TRUE(s.up());
  ScanResult r = Scan(Target("imaps", s.port()), TestOptions());
  EXPECT_EQ(Version(r, "TLSv1.2"), true) << r.error;
  EXPECT_FALSE(r.robot_vulnerable.has_value());
  EXPECT_TRUE(r.robot_detail.empty());
  EXPECT_EQ(VerdictOf(r, kScanRobotCheck), std::nullopt);
}

}  // namespace
}  // namespace mailsec::probe::scan_testing
