#include "mailsec/tls/robot.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "mailsec/tls/hello.h"

namespace mailsec::tls {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

std::string U24(size_t n) {
  return Bytes(
      {static_cast<int>(n >> 16), static_cast<int>((n >> 8) & 0xff), static_cast<int>(n & 0xff)});
}

std::string Message(int type, const std::string& body) {
  return Bytes({type}) + U24(body.size()) + body;
}

std::string Rec(int type, const std::string& fragment) {
  return Bytes({type, 3, 3, static_cast<int>(fragment.size() >> 8),
                static_cast<int>(fragment.size() & 0xff)}) +
         fragment;
}

std::string HelloMsg(uint16_t version, uint16_t cipher) {
  std::string body = Bytes({version >> 8, version & 0xff});
  body.append(32, '\x11');
  body += Bytes({0, cipher >> 8, cipher & 0xff, 0});
  return Message(2, body);
}

std::string CertMsg(const std::vector<std::string>& ders) {
  std::string list;
  for (const std::string& d : ders) list += U24(d.size()) + d;
  return Message(11, U24(list.size()) + list);
}

// ServerHello, Certificate (leaf "LEAF" and one more), ServerHelloDone in one record.
std::string Flight() {
  return Rec(22, HelloMsg(kTls12, 0x002F) + CertMsg({"LEAF", "CA"}) + Message(14, ""));
}

TEST(RobotTest, FlightGivesVersionSuiteAndLeaf) {
  Result<RsaFlight> f = ParseRsaFlight(Flight());
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->kind, RsaFlight::Kind::kDone);
  EXPECT_EQ(f->version, kTls12);
  EXPECT_EQ(f->cipher, 0x002F);
  EXPECT_EQ(f->leaf_der, "LEAF");
}

TEST(RobotTest, FlightAcrossRecordsAndWithCertificateRequest) {
  const std::string hs =
      HelloMsg(kTls12, 0x009C) + CertMsg({"LEAF"}) + Message(13, "xx") + Message(14, "");
  // A message split over two records (RFC 5246 §6.2.1).
  const std::string split = Rec(22, hs.substr(0, 10)) + Rec(22, hs.substr(10));
  Result<RsaFlight> f = ParseRsaFlight(split);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->kind, RsaFlight::Kind::kDone);
  EXPECT_EQ(f->cipher, 0x009C);
}

TEST(RobotTest, EveryPrefixOfAFlightIsIncomplete) {
  const std::string flight = Flight();
  for (size_t n = 0; n < flight.size(); ++n) {
    Result<RsaFlight> f = ParseRsaFlight(flight.substr(0, n));
    ASSERT_TRUE(f.ok()) << n << ": " << f.status().message();
    EXPECT_EQ(f->kind, RsaFlight::Kind::kIncomplete) << n;
    EXPECT_TRUE(f->leaf_der.empty()) << n;
  }
}

TEST(RobotTest, AlertInsteadOfAFlight) {
  Result<RsaFlight> f = ParseRsaFlight(Rec(21, Bytes({2, 40})));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->kind, RsaFlight::Kind::kAlert);
  EXPECT_EQ(f->alert_description, 40);
}

TEST(RobotTest, HostileFlightsAreMalformed) {
  const std::string hello = HelloMsg(kTls12, 0x002F);
  const std::string cert = CertMsg({"LEAF"});
  const std::string done = Message(14, "");
  std::string many = hello + cert;
  for (int i = 0; i < 10; ++i) many += Message(13, "");
  const struct {
    const char* name;
    std::string bytes;
  } kCases[] = {
      {"plaintext banner", "220 mail.example ESMTP\r\n"},
      {"application data", Rec(23, "abc")},
      {"short alert", Rec(21, Bytes({2}))},
      {"zero-length record", Bytes({22, 3, 3, 0, 0})},
      {"not ServerHello first", Rec(22, cert + hello + done)},
      {"ServerKeyExchange", Rec(22, hello + cert + Message(12, "k") + done)},
      {"done without certificate", Rec(22, hello + done)},
      {"two certificates", Rec(22, hello + cert + cert + done)},
      {"empty certificate list", Rec(22, hello + Message(11, U24(0)) + done)},
      {"list length too long", Rec(22, hello + Message(11, U24(9) + U24(4) + "LEAF") + done)},
      {"certificate overruns", Rec(22, hello + Message(11, U24(7) + U24(9) + "LEAF") + done)},
      {"empty certificate", Rec(22, hello + Message(11, U24(3) + U24(0)) + done)},
      {"session id too long", Rec(22, Message(2, Bytes({3, 3}) + std::string(32, 'r') +
                                                     Bytes({33}) + std::string(40, 's')))},
      {"ServerHello truncated", Rec(22, Message(2, Bytes({3, 3})))},
      {"unknown message", Rec(22, hello + Message(99, ""))},
      {"too many messages", Rec(22, many)},
  };
  for (const auto& c : kCases) {
    Result<RsaFlight> f = ParseRsaFlight(c.bytes);
    EXPECT_FALSE(f.ok()) << c.name;
    if (f.ok()) continue;
    EXPECT_EQ(f.status().code(), Status::Code::kMalformed) << c.name;
  }
}

TEST(RobotTest, NoDoneWithinTheLimitIsMalformed) {
  // A CertificateRequest announced at 1 MB, its bytes arriving in whole records: no decision
  // until the cap, then Malformed.
  std::string bytes =
      Rec(22, HelloMsg(kTls12, 0x002F) + CertMsg({"LEAF"}) + Bytes({13}) + U24(1 << 20));
  const std::string filler = Rec(22, std::string(16000, 'x'));
  while (bytes.size() + filler.size() < kMaxRsaFlightBytes) bytes += filler;
  Result<RsaFlight> below = ParseRsaFlight(bytes);
  ASSERT_TRUE(below.ok()) << below.status().message();
  EXPECT_EQ(below->kind, RsaFlight::Kind::kIncomplete);
  bytes += filler;
  EXPECT_FALSE(ParseRsaFlight(bytes).ok());
}

TEST(RobotTest, PlaintextVectorsHaveTheLayoutOfThePaper) {
  const size_t k = 256;
  auto block = [&](RobotVector v) {
    Result<std::string> b = RobotPlaintext(v, k, kTls12);
    EXPECT_TRUE(b.ok());
    EXPECT_EQ(b.ok() ? b->size() : 0, k);
    return b.ok() ? *b : std::string(k, '\0');
  };
  auto zeros_after = [](const std::string& b, size_t from) {
    std::vector<size_t> at;
    for (size_t i = from; i < b.size(); ++i) {
      if (b[i] == '\0') at.push_back(i);
    }
    return at;
  };
  const std::string ok = block(RobotVector::kCorrect);
  EXPECT_EQ(ok.substr(0, 2), Bytes({0, 2}));
  EXPECT_EQ(zeros_after(ok, 2), std::vector<size_t>{k - 49});
  EXPECT_EQ(ok.substr(k - 48, 2), Bytes({3, 3}));

  const std::string first = block(RobotVector::kWrongFirstBytes);
  EXPECT_EQ(first.substr(0, 2), Bytes({0x41, 0x17}));
  EXPECT_EQ(first.substr(2), ok.substr(2));

  const std::string misplaced = block(RobotVector::kZeroMisplaced);
  EXPECT_EQ(misplaced.substr(0, 2), Bytes({0, 2}));
  EXPECT_EQ(zeros_after(misplaced, 2), std::vector<size_t>{k - 2});

  const std::string no_zero = block(RobotVector::kNoZero);
  EXPECT_EQ(no_zero.substr(0, 2), Bytes({0, 2}));
  EXPECT_TRUE(zeros_after(no_zero, 2).empty());

  const std::string version = block(RobotVector::kWrongVersion);
  EXPECT_EQ(zeros_after(version, 2), std::vector<size_t>{k - 49});
  EXPECT_EQ(version.substr(k - 48, 2), Bytes({2, 2}));
  EXPECT_EQ(version.substr(k - 46), ok.substr(k - 46));
}

TEST(RobotTest, PlaintextRefusesOddModulusSizes) {
  EXPECT_FALSE(RobotPlaintext(RobotVector::kCorrect, 0, kTls12).ok());
  EXPECT_FALSE(RobotPlaintext(RobotVector::kCorrect, kMinRsaModulusBytes - 1, kTls12).ok());
  EXPECT_FALSE(RobotPlaintext(RobotVector::kCorrect, kMaxRsaModulusBytes + 1, kTls12).ok());
  EXPECT_TRUE(RobotPlaintext(RobotVector::kNoZero, kMinRsaModulusBytes, kTls12).ok());
}

TEST(RobotTest, KeyExchangeRecords) {
  const std::string enc(128, 'E');
  const std::string tls = BuildRobotKeyExchange(kTls12, enc);
  // ClientKeyExchange: record 5 + message 4 + length 2 + 128.
  ASSERT_EQ(tls.size(), 5 + 4 + 2 + 128 + 6 + 5 + 64);
  EXPECT_EQ(tls.substr(0, 11), Bytes({22, 3, 3, 0, 134, 16, 0, 0, 130, 0, 128}));
  EXPECT_EQ(tls.substr(139, 6), Bytes({20, 3, 3, 0, 1, 1}));
  EXPECT_EQ(tls.substr(145, 5), Bytes({22, 3, 3, 0, 64}));
  // SSLv3 (RFC 6101 §5.6.7.1): the encrypted premaster without a length.
  const std::string ssl3 = BuildRobotKeyExchange(kSsl3, enc);
  EXPECT_EQ(ssl3.substr(0, 9), Bytes({22, 3, 0, 0, 132, 16, 0, 0, 128}));
  EXPECT_EQ(ssl3.substr(9, 128), enc);
}

TEST(RobotTest, ReplyIsAnAlertAnotherRecordOrIncomplete) {
  Result<RobotReply> alert = ParseRobotReply(Rec(21, Bytes({2, 51})) + "more");
  ASSERT_TRUE(alert.ok());
  EXPECT_EQ(alert->kind, RobotReply::Kind::kAlert);
  EXPECT_EQ(alert->alert_description, 51);
  Result<RobotReply> ccs = ParseRobotReply(Rec(20, Bytes({1})));
  ASSERT_TRUE(ccs.ok());
  EXPECT_EQ(ccs->kind, RobotReply::Kind::kOther);
  EXPECT_EQ(ccs->record_type, 20);
  for (const std::string& part : {std::string(), Bytes({21, 3}), Bytes({21, 3, 3, 0, 2, 2})}) {
    Result<RobotReply> r = ParseRobotReply(part);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, RobotReply::Kind::kIncomplete);
  }
  EXPECT_FALSE(ParseRobotReply("HTTP/1.1 400").ok());
  EXPECT_FALSE(ParseRobotReply(Rec(21, Bytes({2}))).ok());
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

// A self-signed certificate for `key`, as DER.
std::string SelfSigned(EVP_PKEY* key) {
  std::unique_ptr<X509, X509Free> x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("robot.test"), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  EXPECT_GT(X509_sign(x.get(), key, EVP_sha256()), 0);
  unsigned char* der = nullptr;
  const int len = i2d_X509(x.get(), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(std::max(len, 0)));
  OPENSSL_free(der);
  return out;
}

TEST(RobotTest, RawRsaRoundTripsThroughTheCertificateKey) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_RSA_gen(1024));
  ASSERT_TRUE(key);
  const std::string der = SelfSigned(key.get());
  Result<size_t> k = RsaModulusBytes(der);
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(*k, 128u);
  Result<std::string> block = RobotPlaintext(RobotVector::kNoZero, *k, kTls12);
  ASSERT_TRUE(block.ok());
  Result<std::string> enc = RsaEncryptRaw(der, *block);
  ASSERT_TRUE(enc.ok()) << enc.status().message();
  ASSERT_EQ(enc->size(), 128u);
  EXPECT_NE(*enc, *block);

  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new(key.get(), nullptr), EVP_PKEY_CTX_free);
  ASSERT_EQ(EVP_PKEY_decrypt_init(ctx.get()), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING), 1);
  std::string plain(128, '\0');
  size_t len = plain.size();
  ASSERT_EQ(EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                             reinterpret_cast<const unsigned char*>(enc->data()), enc->size()),
            1);
  EXPECT_EQ(plain.substr(0, len), *block);

  // A block of the wrong size, or not below the modulus, is refused.
  EXPECT_FALSE(RsaEncryptRaw(der, block->substr(1)).ok());
  EXPECT_FALSE(RsaEncryptRaw(der, std::string(128, '\xff')).ok());
}

TEST(RobotTest, RsaRefusesOtherKeysAndGarbage) {
  std::unique_ptr<EVP_PKEY, PkeyFree> ec(EVP_EC_gen("P-256"));
  ASSERT_TRUE(ec);
  const std::string der = SelfSigned(ec.get());
  EXPECT_EQ(RsaModulusBytes(der).status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(RsaEncryptRaw(der, std::string(64, 'x')).ok());
  EXPECT_FALSE(RsaModulusBytes("").ok());
  EXPECT_FALSE(RsaModulusBytes("LEAF").ok());
  EXPECT_FALSE(RsaModulusBytes(der.substr(0, der.size() / 2)).ok());
}

}  // namespace
}  // namespace mailsec::tls
