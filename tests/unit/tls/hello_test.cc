#include "mailsec/tls/hello.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace mailsec::tls {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

// A ServerHello record: version, cipher, a session id of sid_len bytes, null compression.
std::string ServerHello(uint16_t version, uint16_t cipher, uint8_t sid_len = 0) {
  std::string body = Bytes({version >> 8, version & 0xff});
  body.append(32, '\x11');
  body.push_back(static_cast<char>(sid_len));
  body.append(sid_len, '\x22');
  body += Bytes({cipher >> 8, cipher & 0xff, 0});
  std::string hs =
      Bytes({2, 0, static_cast<int>(body.size() >> 8), static_cast<int>(body.size() & 0xff)});
  hs += body;
  std::string rec = Bytes({22, version >> 8, version & 0xff, static_cast<int>(hs.size() >> 8),
                           static_cast<int>(hs.size() & 0xff)});
  return rec + hs;
}

// A ServerHello record with `extensions` (the raw extension list, its length added here),
// compression method `compression` and `random` (32 bytes).
std::string ServerHelloExt(uint16_t version, uint16_t cipher, const std::string& extensions,
                           uint8_t compression = 0, std::string random = std::string(32, '\x11')) {
  std::string body = Bytes({version >> 8, version & 0xff});
  body += random;
  body += Bytes({0, cipher >> 8, cipher & 0xff, compression});
  body +=
      Bytes({static_cast<int>(extensions.size() >> 8), static_cast<int>(extensions.size() & 0xff)});
  body += extensions;
  std::string hs =
      Bytes({2, 0, static_cast<int>(body.size() >> 8), static_cast<int>(body.size() & 0xff)});
  hs += body;
  return Bytes({22, 3, 3, static_cast<int>(hs.size() >> 8), static_cast<int>(hs.size() & 0xff)}) +
         hs;
}

std::string Ext(uint16_t type, const std::string& data) {
  return Bytes({type >> 8, type & 0xff, static_cast<int>(data.size() >> 8),
                static_cast<int>(data.size() & 0xff)}) +
         data;
}

const std::string kHrrRandom =
    Bytes({0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
           0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
           0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C});

TEST(HelloTest, VersionNames) {
  EXPECT_EQ(VersionName(kSsl2), "SSLv2");
  EXPECT_EQ(VersionName(kSsl3), "SSLv3");
  EXPECT_EQ(VersionName(kTls10), "TLSv1");
  EXPECT_EQ(VersionName(kTls11), "TLSv1.1");
  EXPECT_EQ(VersionName(kTls12), "TLSv1.2");
  EXPECT_EQ(VersionName(kTls13), "TLSv1.3");
  EXPECT_EQ(VersionName(0x7f1c), "0x7f1c");
}

TEST(HelloTest, WeakTableIsConsistent) {
  std::set<uint16_t> ids;
  for (const SuiteInfo& s : WeakSuites()) {
    EXPECT_TRUE(ids.insert(s.id).second) << s.iana;
    EXPECT_TRUE(s.iana.starts_with("TLS_")) << s.iana;
    EXPECT_FALSE(s.openssl.empty());
  }
  EXPECT_LE(ids.size(), kMaxSuitesPerHello);
  ASSERT_NE(FindWeakSuite(0x0005), nullptr);
  EXPECT_EQ(FindWeakSuite(0x0005)->iana, "TLS_RSA_WITH_RC4_128_SHA");
  EXPECT_EQ(FindWeakSuite(0x000A)->kind, WeakKind::k3Des);
  EXPECT_EQ(FindWeakSuite(0xC018)->openssl, "AECDH-AES128-SHA");
  EXPECT_EQ(FindWeakSuite(0x002F), nullptr);  // AES128-SHA: obsolete CBC, not in this category
  EXPECT_EQ(FindWeakSuite(0xC02F), nullptr);
  EXPECT_EQ(WeakKindName(WeakKind::kExport), "EXPORT");
}

TEST(HelloTest, Tls12HelloLayout) {
  HelloSpec spec;
  spec.version = kTls12;
  spec.suites = {0xC02F, 0x0005};
  spec.sni = "mx.example.org";
  Result<std::string> r = BuildClientHello(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string& h = *r;
  ASSERT_GT(h.size(), 50u);
  EXPECT_EQ(h.substr(0, 3), Bytes({22, 3, 1}));  // handshake record, version TLS 1.0
  const size_t rec_len = (static_cast<uint8_t>(h[3]) << 8) | static_cast<uint8_t>(h[4]);
  EXPECT_EQ(rec_len + 5, h.size());
  EXPECT_EQ(h[5], 1);  // client_hello
  const size_t hs_len = (static_cast<uint8_t>(h[6]) << 16) | (static_cast<uint8_t>(h[7]) << 8) |
                        static_cast<uint8_t>(h[8]);
  EXPECT_EQ(hs_len + 4, rec_len);
  EXPECT_EQ(h.substr(9, 2), Bytes({3, 3}));     // client_version
  EXPECT_EQ(h.substr(11 + 32, 1), Bytes({0}));  // empty session id
  EXPECT_EQ(h.substr(44, 6), Bytes({0, 4, 0xC0, 0x2F, 0, 5}));
  EXPECT_NE(h.find("mx.example.org"), std::string::npos);
  EXPECT_NE(h.find(Bytes({0x00, 0x0d})), std::string::npos);  // signature_algorithms
  // Our parser refuses a ClientHello as an answer.
  Result<ServerReply> p = ParseServerReply(h);
  EXPECT_FALSE(p.ok());
}

TEST(HelloTest, Ssl3HelloHasNoExtensions) {
  HelloSpec spec;
  spec.version = kSsl3;
  spec.suites = {0x000A};
  spec.sni = "ignored.example";
  Result<std::string> r = BuildClientHello(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->substr(0, 3), Bytes({22, 3, 0}));
  EXPECT_EQ(r->substr(9, 2), Bytes({3, 0}));
  // header 5 + hs 4 + version 2 + random 32 + sid 1 + suites 2+2 + compression 2
  EXPECT_EQ(r->size(), 5u + 4 + 2 + 32 + 1 + 4 + 2);
  EXPECT_EQ(r->find("ignored"), std::string::npos);
}

TEST(HelloTest, BuildRejectsBadSpecs) {
  HelloSpec spec;
  spec.suites = {};
  EXPECT_EQ(BuildClientHello(spec).status().code(), Status::Code::kInvalidArgument);
  spec.suites.assign(kMaxSuitesPerHello + 1, 0x002F);
  EXPECT_EQ(BuildClientHello(spec).status().code(), Status::Code::kInvalidArgument);
  spec.suites = {0x002F};
  spec.version = 0x0305;
  EXPECT_EQ(BuildClientHello(spec).status().code(), Status::Code::kInvalidArgument);
  spec.version = kTls13;
  spec.groups.assign(kMaxGroupsPerHello + 1, 0x001d);
  EXPECT_EQ(BuildClientHello(spec).status().code(), Status::Code::kInvalidArgument);
  spec.groups.clear();
  spec.version = kSsl2;
  EXPECT_EQ(BuildClientHello(spec).status().code(), Status::Code::kInvalidArgument);
  spec.version = kTls12;
  spec.sni.assign(300, 'a');
  EXPECT_EQ(BuildClientHello(spec).status().code(), Status::Code::kInvalidArgument);
}

TEST(HelloTest, Ssl2HelloLayout) {
  std::array<uint8_t, 32> random{};
  random.fill(0x5a);
  std::string h = BuildSsl2ClientHello(random);
  ASSERT_GE(h.size(), 11u);
  EXPECT_EQ(static_cast<uint8_t>(h[0]) & 0x80, 0x80);
  const size_t len = ((static_cast<uint8_t>(h[0]) & 0x7f) << 8) | static_cast<uint8_t>(h[1]);
  EXPECT_EQ(len + 2, h.size());
  EXPECT_EQ(h.substr(2, 3), Bytes({1, 0, 2}));  // CLIENT-HELLO, version 2
  EXPECT_EQ(h.substr(5, 6), Bytes({0, 21, 0, 0, 0, 16}));
  EXPECT_EQ(h.substr(h.size() - 16), std::string(16, '\x5a'));
}

struct ParseCase {
  const char* name;
  std::string bytes;
  bool ok;
  ServerReply::Kind kind;
  uint16_t version;
  uint16_t cipher;
};

TEST(HelloTest, ParseServerReplyTable) {
  const std::string sh3 = ServerHello(kSsl3, 0x0005, 32);
  const std::string sh12 = ServerHello(kTls12, 0xC02F);
  // The same ServerHello split over two handshake records.
  std::string split;
  {
    const std::string hs = sh12.substr(5);
    split = Bytes({22, 3, 3, 0, 10}) + hs.substr(0, 10);
    const size_t rest = hs.size() - 10;
    split += Bytes({22, 3, 3, 0, static_cast<int>(rest)}) + hs.substr(10);
  }
  std::string bad_sid = ServerHello(kTls12, 0xC02F, 32);
  bad_sid[5 + 4 + 2 + 32] = 33;
  const ParseCase cases[] = {
      {"empty", "", true, ServerReply::Kind::kIncomplete, 0, 0},
      {"sslv3 hello", sh3, true, ServerReply::Kind::kServerHello, kSsl3, 0x0005},
      {"tls12 hello", sh12, true, ServerReply::Kind::kServerHello, kTls12, 0xC02F},
      {"hello then more", sh12 + Bytes({22, 3, 3, 0, 4, 11, 0, 0, 0}), true,
       ServerReply::Kind::kServerHello, kTls12, 0xC02F},
      {"split over records", split, true, ServerReply::Kind::kServerHello, kTls12, 0xC02F},
      {"header only", sh12.substr(0, 5), true, ServerReply::Kind::kIncomplete, 0, 0},
      {"cut in random", sh12.substr(0, 20), true, ServerReply::Kind::kIncomplete, 0, 0},
      {"alert", Bytes({21, 3, 1, 0, 2, 2, 40}), true, ServerReply::Kind::kAlert, 0, 0},
      {"alert cut", Bytes({21, 3, 1, 0, 2, 2}), true, ServerReply::Kind::kIncomplete, 0, 0},
      {"sslv2 server hello", Bytes({0x80, 14, 4, 0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 1, 0, 0x80}), true,
       ServerReply::Kind::kSsl2ServerHello, kSsl2, 0},
      {"sslv2 error", Bytes({0x80, 3, 0, 0, 1}), true, ServerReply::Kind::kAlert, 0, 0},
      {"plaintext banner", "220 mx.example.org ESMTP\r\n", false, {}, 0, 0},
      {"sslv2 lengths lie", Bytes({0x80, 11, 4, 0, 1, 0, 2, 0, 9, 0, 3, 0, 0}), false, {}, 0, 0},
      {"sslv2 other message", Bytes({0x80, 3, 7, 0, 0}), false, {}, 0, 0},
      {"bad record version", Bytes({22, 7, 1, 0, 4, 2, 0, 0, 0}), false, {}, 0, 0},
      {"zero length record", Bytes({22, 3, 1, 0, 0}), false, {}, 0, 0},
      {"certificate first", Bytes({22, 3, 3, 0, 4, 11, 0, 0, 0}), false, {}, 0, 0},
      {"session id too long", bad_sid, false, {}, 0, 0},
      {"hello body too short", Bytes({22, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3}), false, {}, 0, 0},
  };
  for (const ParseCase& c : cases) {
    SCOPED_TRACE(c.name);
    Result<ServerReply> r = ParseServerReply(c.bytes);
    ASSERT_EQ(r.ok(), c.ok) << r.status().ToString();
    if (!c.ok) {
      EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
      continue;
    }
    EXPECT_EQ(r->kind, c.kind);
    EXPECT_EQ(r->version, c.version);
    EXPECT_EQ(r->cipher, c.cipher);
  }
  Result<ServerReply> alert = ParseServerReply(Bytes({21, 3, 1, 0, 2, 2, 70}));
  ASSERT_TRUE(alert.ok());
  EXPECT_EQ(alert->alert_level, 2);
  EXPECT_EQ(alert->alert_description, 70);
}

TEST(HelloTest, HelloOffersDeflateAndEms) {
  HelloSpec spec;
  spec.version = kTls12;
  spec.suites = {0xC02F, kFallbackScsv};
  Result<std::string> plain = BuildClientHello(spec);
  ASSERT_TRUE(plain.ok());
  // suites at 44: length 4, two suites; then compression: one method, null.
  EXPECT_EQ(plain->substr(44, 8), Bytes({0, 4, 0xC0, 0x2F, 0x56, 0x00, 1, 0}));
  EXPECT_NE(plain->find(Bytes({0x00, 0x17, 0, 0})), std::string::npos);     // EMS, empty
  EXPECT_NE(plain->find(Bytes({0xff, 0x01, 0, 1, 0})), std::string::npos);  // reneg info
  spec.offer_deflate = true;
  Result<std::string> deflate = BuildClientHello(spec);
  ASSERT_TRUE(deflate.ok());
  EXPECT_EQ(deflate->substr(50, 3), Bytes({2, 1, 0}));  // DEFLATE first, then null
  EXPECT_EQ(deflate->size(), plain->size() + 1);
  spec.version = kSsl3;
  Result<std::string> ssl3 = BuildClientHello(spec);
  ASSERT_TRUE(ssl3.ok());
  EXPECT_EQ(ssl3->find(Bytes({0x00, 0x17, 0, 0})), std::string::npos);  // no extensions at all
}

TEST(HelloTest, Tls13HelloAsksForARetry) {
  HelloSpec spec;
  spec.version = kTls13;
  spec.suites = {0x1302, 0x1301};
  spec.groups = {0x0018};
  Result<std::string> r = BuildClientHello(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string& h = *r;
  EXPECT_EQ(h.substr(0, 3), Bytes({22, 3, 1}));
  EXPECT_EQ(h.substr(9, 2), Bytes({3, 3}));  // legacy_version TLS 1.2
  EXPECT_EQ(h.substr(44, 8), Bytes({0, 4, 0x13, 0x02, 0x13, 0x01, 1, 0}));
  EXPECT_NE(h.find(Bytes({0x00, 0x2b, 0, 3, 2, 3, 4})), std::string::npos);  // TLS 1.3 only
  EXPECT_NE(h.find(Bytes({0x00, 0x33, 0, 2, 0, 0})), std::string::npos);     // empty key_share
  EXPECT_NE(h.find(Bytes({0x00, 0x0a, 0, 4, 0, 2, 0, 0x18})), std::string::npos);  // one group
  EXPECT_EQ(h.find(Bytes({0xff, 0x01})), std::string::npos);  // no renegotiation in TLS 1.3
  // TLS 1.2 with one curve: supported_groups carries just it.
  spec.version = kTls12;
  spec.suites = {0xC02F};
  spec.groups = {0x0017};
  r = BuildClientHello(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->find(Bytes({0x00, 0x0a, 0, 4, 0, 2, 0, 0x17})), std::string::npos);
}

TEST(HelloTest, Ssl2ServerHelloCertificate) {
  // SERVER-HELLO, no session hit, X.509, version 2, a 3-byte "certificate", one cipher kind, a
  // 1-byte connection id.
  const std::string hello =
      Bytes({0x80, 18, 4, 0, 1, 0, 2, 0, 3, 0, 3, 0, 1}) + "DER" + Bytes({1, 0, 0x80, 0x44});
  Result<ServerReply> r = ParseServerReply(hello);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, ServerReply::Kind::kSsl2ServerHello);
  EXPECT_EQ(r->ssl2_certificate, "DER");
  // Cut inside the certificate: wait for the rest.
  r = ParseServerReply(hello.substr(0, 14));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, ServerReply::Kind::kIncomplete);
}

TEST(HelloTest, RecordAndClientVersionsCanBeRaised) {
  HelloSpec spec;
  spec.version = kTls12;
  spec.suites = {0xC02F};
  Result<std::string> plain = BuildClientHello(spec);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(static_cast<uint8_t>((*plain)[1]), 0x03);
  EXPECT_EQ(static_cast<uint8_t>((*plain)[2]), 0x01);   // record: TLS 1.0
  EXPECT_EQ(static_cast<uint8_t>((*plain)[10]), 0x03);  // client_version: TLS 1.2
  spec.record_version = kTls12;
  spec.client_version = kTls13;
  Result<std::string> raised = BuildClientHello(spec);
  ASSERT_TRUE(raised.ok());
  EXPECT_EQ(static_cast<uint8_t>((*raised)[2]), 0x03);   // record: TLS 1.2
  EXPECT_EQ(static_cast<uint8_t>((*raised)[9]), 0x03);
  EXPECT_EQ(static_cast<uint8_t>((*raised)[10]), 0x04);  // client_version 0x0304
  EXPECT_EQ(raised->size(), plain->size());
  spec.record_version = 0x0201;
  EXPECT_FALSE(BuildClientHello(spec).ok());
  spec.record_version = 0;
  spec.client_version = kTls10;  // below the version
  EXPECT_FALSE(BuildClientHello(spec).ok());
}

TEST(HelloTest, GreaseAndPadding) {
  EXPECT_TRUE(IsGrease(0x0A0A));
  EXPECT_TRUE(IsGrease(0xFAFA));
  EXPECT_FALSE(IsGrease(0x0A1A));
  EXPECT_FALSE(IsGrease(0x1301));
  for (uint16_t version : {kTls12, kTls13}) {
    HelloSpec spec;
    spec.version = version;
    spec.suites = {version == kTls13 ? uint16_t{0x1301} : uint16_t{0xC02F}};
    Result<std::string> plain = BuildClientHello(spec);
    ASSERT_TRUE(plain.ok());
    spec.grease = true;
    Result<std::string> g = BuildClientHello(spec);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    // A GREASE suite first, then ours.
    EXPECT_EQ(g->substr(44, 6), Bytes({0, 4, 0x0A, 0x0A, spec.suites[0] >> 8, spec.suites[0] & 0xff}));
    EXPECT_NE(g->find(Bytes({0x1A, 0x1A, 0, 0})), std::string::npos);     // empty extension
    EXPECT_NE(g->find(Bytes({0x2A, 0x2A, 0, 1, 0})), std::string::npos);  // one-byte extension
    EXPECT_NE(g->find(Bytes({0x3A, 0x3A, 0x00, 0x1d})), std::string::npos);  // group, then x25519
    EXPECT_NE(g->find(Bytes({0x4A, 0x4A, 0x04, 0x03})), std::string::npos);  // signature algorithm
    if (version == kTls13) {
      EXPECT_NE(g->find(Bytes({0x00, 0x2b, 0, 5, 4, 0x5A, 0x5A, 3, 4})), std::string::npos);
    }
    // Lengths stay consistent: record = 5 + handshake, handshake = 4 + body.
    const size_t record_len = (static_cast<uint8_t>((*g)[3]) << 8) | static_cast<uint8_t>((*g)[4]);
    EXPECT_EQ(record_len + 5, g->size());
    EXPECT_GT(g->size(), plain->size());

    spec.pad_to = 400;
    Result<std::string> padded = BuildClientHello(spec);
    ASSERT_TRUE(padded.ok());
    EXPECT_EQ(padded->size(), 5u + 400u);  // the handshake message is exactly 400 bytes
    EXPECT_EQ(static_cast<uint8_t>((*padded)[6]) * 65536 +
                  static_cast<uint8_t>((*padded)[7]) * 256 + static_cast<uint8_t>((*padded)[8]),
              396);  // hello body length (24 bits)
    EXPECT_NE(padded->find(Bytes({0x00, 0x15})), std::string::npos);
    spec.pad_to = 10;  // already longer: no padding
    Result<std::string> short_pad = BuildClientHello(spec);
    ASSERT_TRUE(short_pad.ok());
    EXPECT_EQ(*short_pad, *g);
  }
  HelloSpec bad;
  bad.suites = {0xC02F};
  bad.pad_to = kMaxPaddedHello + 1;
  EXPECT_FALSE(BuildClientHello(bad).ok());
}

TEST(HelloTest, ServerHelloExtensions) {
  const std::string reneg = Ext(0xff01, Bytes({0}));
  const std::string ems = Ext(0x0017, "");
  {
    Result<ServerReply> r = ParseServerReply(ServerHelloExt(kTls12, 0xC02F, reneg + ems));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->kind, ServerReply::Kind::kServerHello);
    EXPECT_TRUE(r->renegotiation_info);
    EXPECT_TRUE(r->extended_master_secret);
    EXPECT_EQ(r->compression, kCompressionNull);
    EXPECT_FALSE(r->hello_retry_request);
    EXPECT_EQ(r->NegotiatedVersion(), kTls12);
  }
  {
    // Neither extension, DEFLATE chosen: what CRIME-era servers without RFC 5746 answer.
    Result<ServerReply> r =
        ParseServerReply(ServerHelloExt(kTls12, 0x002F, Ext(0x000b, Bytes({1, 0})), 1));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->renegotiation_info);
    EXPECT_FALSE(r->extended_master_secret);
    EXPECT_EQ(r->compression, kCompressionDeflate);
  }
  {
    // TLS 1.3 ServerHello: supported_versions and an x25519 key share.
    const std::string share = Ext(0x0033, Bytes({0, 0x1d, 0, 32}) + std::string(32, '\x07'));
    Result<ServerReply> r =
        ParseServerReply(ServerHelloExt(kTls12, 0x1302, Ext(0x002b, Bytes({3, 4})) + share));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->version, kTls12);
    EXPECT_EQ(r->selected_version, kTls13);
    EXPECT_EQ(r->NegotiatedVersion(), kTls13);
    EXPECT_EQ(r->key_share_group, 0x001d);
    EXPECT_FALSE(r->hello_retry_request);
  }
  {
    // HelloRetryRequest naming secp384r1.
    Result<ServerReply> r = ParseServerReply(ServerHelloExt(
        kTls12, 0x1301, Ext(0x002b, Bytes({3, 4})) + Ext(0x0033, Bytes({0, 0x18})), 0, kHrrRandom));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->hello_retry_request);
    EXPECT_EQ(r->key_share_group, 0x0018);
    EXPECT_EQ(r->cipher, 0x1301);
  }
  {
    // A ServerHello split in the middle of its extensions stays incomplete until it is whole.
    const std::string whole = ServerHelloExt(kTls12, 0xC02F, reneg + ems);
    Result<ServerReply> r = ParseServerReply(whole.substr(0, whole.size() - 2));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, ServerReply::Kind::kIncomplete);
  }
  std::string many;
  for (int i = 0; i < static_cast<int>(kMaxServerHelloExtensions) + 1; ++i) {
    many += Ext(static_cast<uint16_t>(0x1000 + i), "");
  }
  std::string lying_length = ServerHelloExt(kTls12, 0xC02F, reneg);
  lying_length[5 + 4 + 2 + 32 + 1 + 2 + 1 + 1] += 1;  // extensions length one more than sent
  const struct {
    const char* name;
    std::string bytes;
  } bad[] = {
      {"reneg info length", ServerHelloExt(kTls12, 0xC02F, Ext(0xff01, Bytes({3, 0})))},
      {"reneg info empty", ServerHelloExt(kTls12, 0xC02F, Ext(0xff01, ""))},
      {"ems not empty", ServerHelloExt(kTls12, 0xC02F, Ext(0x0017, Bytes({0})))},
      {"versions too long", ServerHelloExt(kTls12, 0x1301, Ext(0x002b, Bytes({3, 4, 3})))},
      {"key share cut", ServerHelloExt(kTls12, 0x1301, Ext(0x0033, Bytes({0, 0x1d, 0, 32, 1})))},
      {"key share one byte", ServerHelloExt(kTls12, 0x1301, Ext(0x0033, Bytes({0})))},
      {"extension overruns", ServerHelloExt(kTls12, 0xC02F, Bytes({0xff, 0x01, 0, 9, 0}))},
      {"twice", ServerHelloExt(kTls12, 0xC02F, ems + ems)},
      {"too many", ServerHelloExt(kTls12, 0xC02F, many)},
      {"extensions length lies", lying_length},
  };
  for (const auto& c : bad) {
    SCOPED_TRACE(c.name);
    Result<ServerReply> r = ParseServerReply(c.bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
  }
}

TEST(HelloTest, ParserStopsAtTheSizeLimit) {
  // Valid-looking records that never finish a ServerHello: cut at the limit, then refused.
  std::string junk;
  while (junk.size() < kMaxServerReplyBytes + 100)
    junk += Bytes({22, 3, 3, 0x40, 0}) + std::string(0x4000, '\x02');
  Result<ServerReply> r = ParseServerReply(junk);
  // The first record holds a ServerHello header claiming a huge body: decided, or refused,
  // never an endless "incomplete".
  if (r.ok()) {
    EXPECT_NE(r->kind, ServerReply::Kind::kIncomplete);
  }
}

// A handshake record holding `messages` (each: type, 24-bit length, body) as one fragment.
std::string HandshakeRecord(const std::string& messages) {
  return Bytes({22, 3, 3, static_cast<int>(messages.size() >> 8),
                static_cast<int>(messages.size() & 0xff)}) +
         messages;
}

std::string Message(int type, const std::string& body) {
  return Bytes({type, static_cast<int>(body.size() >> 16),
                static_cast<int>((body.size() >> 8) & 0xff),
                static_cast<int>(body.size() & 0xff)}) +
         body;
}

// The handshake messages of ServerHelloExt's record (its 5-byte header dropped).
std::string HelloMessage(const std::string& extensions) {
  return ServerHelloExt(kTls12, 0xC02F, extensions).substr(5);
}

const std::string kHelloDone = Message(14, "");
const std::string kCertificate = Message(11, Bytes({0, 0, 3, 0, 0, 0}));  // one empty cert

TEST(HelloTest, HelloOffersHeartbeat) {
  HelloSpec spec;
  spec.version = kTls12;
  spec.suites = {0xC02F};
  Result<std::string> plain = BuildClientHello(spec);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->find(Bytes({0x00, 0x0f, 0, 1, 1})), std::string::npos);
  spec.offer_heartbeat = true;
  Result<std::string> hb = BuildClientHello(spec);
  ASSERT_TRUE(hb.ok());
  EXPECT_NE(hb->find(Bytes({0x00, 0x0f, 0, 1, 1})), std::string::npos);  // peer_allowed_to_send
  EXPECT_EQ(hb->size(), plain->size() + 5);
  spec.version = kTls13;  // TLS 1.3 has no heartbeat
  Result<std::string> tls13 = BuildClientHello(spec);
  ASSERT_TRUE(tls13.ok());
  EXPECT_EQ(tls13->find(Bytes({0x00, 0x0f, 0, 1, 1})), std::string::npos);
}

TEST(HelloTest, ServerHelloHeartbeatExtension) {
  Result<ServerReply> r = ParseServerReply(ServerHelloExt(kTls12, 0xC02F, Ext(0x000f, Bytes({1}))));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->heartbeat);
  r = ParseServerReply(ServerHelloExt(kTls12, 0xC02F, Ext(0x000f, Bytes({2}))));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->heartbeat);
  r = ParseServerReply(ServerHelloExt(kTls12, 0xC02F, Ext(0xff01, Bytes({0}))));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->heartbeat);
  for (const std::string& bad : {Bytes({}), Bytes({0}), Bytes({3}), Bytes({1, 1})}) {
    r = ParseServerReply(ServerHelloExt(kTls12, 0xC02F, Ext(0x000f, bad)));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
  }
}

TEST(HelloTest, HeartbeatAndCcsRecords) {
  // Type 24, TLS 1.2, length 3 + 4, request, claims 0x4000, four bytes.
  EXPECT_EQ(BuildHeartbeatRequest(kTls12, 0x4000, "abcd"),
            Bytes({24, 3, 3, 0, 7, 1, 0x40, 0}) + "abcd");
  EXPECT_EQ(BuildHeartbeatRequest(kTls10, 0x4000, ""), Bytes({24, 3, 1, 0, 3, 1, 0x40, 0}));
  EXPECT_EQ(BuildHeartbeatRequest(kTls12, 1, std::string(500, 'x')).size(), 5u + 3 + 64);
  EXPECT_EQ(BuildChangeCipherSpec(kTls11), Bytes({20, 3, 2, 0, 1, 1}));
}

TEST(HelloTest, ParseRecordHeadTable) {
  const struct {
    const char* name;
    std::string bytes;
    bool complete;
    uint8_t type;
    uint16_t length;
    uint8_t alert;
  } ok[] = {
      {"empty", "", false, 0, 0, 0},
      {"four bytes", Bytes({24, 3, 3, 0x40}), false, 24, 0, 0},
      {"heartbeat head only", Bytes({24, 3, 3, 0x40, 0x13}), true, 24, 0x4013, 0},
      {"alert without body", Bytes({21, 3, 3, 0, 2, 2}), false, 21, 2, 0},
      {"alert", Bytes({21, 3, 3, 0, 2, 2, 10}), true, 21, 2, 10},
      {"ccs", Bytes({20, 3, 1, 0, 1, 1}), true, 20, 1, 0},
  };
  for (const auto& c : ok) {
    SCOPED_TRACE(c.name);
    Result<RecordHead> h = ParseRecordHead(c.bytes);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(h->complete, c.complete);
    if (!c.complete) continue;
    EXPECT_EQ(h->type, c.type);
    EXPECT_EQ(h->length, c.length);
    EXPECT_EQ(h->alert_description, c.alert);
  }
  const struct {
    const char* name;
    std::string bytes;
  } bad[] = {
      {"banner", "220 mail.example ESMTP\r\n"},
      {"type 19", Bytes({19, 3, 3, 0, 1})},
      {"type 25", Bytes({25, 3, 3, 0, 1})},
      {"version 2", Bytes({22, 2, 0, 0, 1})},
      {"length 0", Bytes({22, 3, 3, 0, 0})},
      {"length too big", Bytes({23, 3, 3, 0x48, 1})},
      {"alert of one byte", Bytes({21, 3, 3, 0, 1, 2})},
  };
  for (const auto& c : bad) {
    SCOPED_TRACE(c.name);
    Result<RecordHead> h = ParseRecordHead(c.bytes);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.status().code(), Status::Code::kMalformed);
  }
}

TEST(HelloTest, ServerKeyExchangeCurveOfAnEcdheSuiteOnly) {
  // ECDHE_RSA (0xC02F): ECParameters named_curve secp384r1, then the point and a signature.
  const std::string ske = Message(12, Bytes({3, 0x00, 0x18, 1, 4, 2, 0, 0}));
  Result<ServerFlight> f = ParseServerFlight(
      HandshakeRecord(HelloMessage("") + kCertificate + ske + kHelloDone));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->kind, ServerFlight::Kind::kDone);
  EXPECT_EQ(f->ske_named_group, 0x0018);
  // Without a ServerKeyExchange: none.
  f = ParseServerFlight(HandshakeRecord(HelloMessage("") + kCertificate + kHelloDone));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->ske_named_group, -1);
  // A DHE suite (0x009E) whose p is 768 bytes long starts with the byte 3 too: not a curve.
  const std::string dhe_hello = ServerHelloExt(kTls12, 0x009E, "").substr(5);
  const std::string dhe_ske = Message(12, Bytes({3, 0x00, 0x18, 1}));
  f = ParseServerFlight(HandshakeRecord(dhe_hello + kCertificate + dhe_ske + kHelloDone));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->ske_named_group, -1);
  // explicit_prime (1) curves carry no name.
  const std::string explicit_ske = Message(12, Bytes({1, 0x00, 0x18, 1}));
  f = ParseServerFlight(HandshakeRecord(HelloMessage("") + explicit_ske + kHelloDone));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->ske_named_group, -1);
}

TEST(HelloTest, ParseServerFlight) {
  const std::string hello = HelloMessage(Ext(0x000f, Bytes({1})));
  {
    // One record holding the whole flight.
    const std::string flight = HandshakeRecord(hello + kCertificate + kHelloDone);
    Result<ServerFlight> f = ParseServerFlight(flight + "trailing");
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->kind, ServerFlight::Kind::kDone);
    EXPECT_EQ(f->messages, 3u);
    EXPECT_EQ(f->consumed, flight.size());
    EXPECT_TRUE(f->hello.heartbeat);
    EXPECT_EQ(f->hello.cipher, 0xC02F);
    // Every prefix is incomplete, never an error or a decision.
    for (size_t n = 0; n < flight.size(); ++n) {
      Result<ServerFlight> part = ParseServerFlight(flight.substr(0, n));
      ASSERT_TRUE(part.ok()) << n << ": " << part.status().ToString();
      EXPECT_EQ(part->kind, ServerFlight::Kind::kIncomplete) << n;
    }
  }
  {
    // One record per message, and the Certificate split over two records.
    const std::string flight = HandshakeRecord(hello) + HandshakeRecord(kCertificate.substr(0, 5)) +
                               HandshakeRecord(kCertificate.substr(5)) +
                               HandshakeRecord(kHelloDone);
    Result<ServerFlight> f = ParseServerFlight(flight);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->kind, ServerFlight::Kind::kDone);
    EXPECT_EQ(f->consumed, flight.size());
  }
  {
    // An alert after the ServerHello.
    Result<ServerFlight> f =
        ParseServerFlight(HandshakeRecord(hello) + Bytes({21, 3, 3, 0, 2, 2, 40}));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->kind, ServerFlight::Kind::kAlert);
    EXPECT_EQ(f->alert_description, 40);
  }
  std::string too_many = hello;
  for (size_t i = 0; i < kMaxServerFlightMessages; ++i) too_many += Message(22, "x");
  const std::string tls13 = ServerHelloExt(kTls12, 0x1301, Ext(0x002b, Bytes({3, 4}))).substr(5);
  const struct {
    const char* name;
    std::string bytes;
  } bad[] = {
      {"banner", "220 mail.example ESMTP\r\n"},
      {"certificate first", HandshakeRecord(kCertificate + kHelloDone)},
      {"ccs in the flight", HandshakeRecord(hello) + Bytes({20, 3, 3, 0, 1, 1})},
      {"application data", HandshakeRecord(hello) + Bytes({23, 3, 3, 0, 1, 1})},
      {"done not empty", HandshakeRecord(hello + Message(14, "x"))},
      {"bytes after done", HandshakeRecord(hello + kHelloDone + Message(11, ""))},
      {"second hello", HandshakeRecord(hello + hello)},
      {"tls 1.3 hello", HandshakeRecord(tls13)},
      {"too many messages", HandshakeRecord(too_many)},
      {"message longer than the limit", HandshakeRecord(hello + Bytes({11, 0x7f, 0xff, 0xff}))},
      {"bad hello extension", HandshakeRecord(HelloMessage(Ext(0x000f, Bytes({7}))) + kHelloDone)},
      {"record too long", HandshakeRecord(hello) + Bytes({22, 3, 3, 0xff, 0xff})},
  };
  for (const auto& c : bad) {
    SCOPED_TRACE(c.name);
    Result<ServerFlight> f = ParseServerFlight(c.bytes);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.status().code(), Status::Code::kMalformed);
  }
}

TEST(HelloTest, FlightParserStopsAtTheSizeLimit) {
  // A ServerHello, then Certificate records that never end in ServerHelloDone.
  std::string flight = HandshakeRecord(HelloMessage(""));
  const std::string cert_body(0x3ff0, '\x30');
  while (flight.size() < kMaxServerFlightBytes + 100) {
    flight += HandshakeRecord(Message(11, cert_body));
  }
  Result<ServerFlight> f = ParseServerFlight(flight);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), Status::Code::kMalformed);
}

}  // namespace
}  // namespace mailsec::tls
