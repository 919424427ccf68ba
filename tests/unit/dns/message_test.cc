#include "mailsec/dns/message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mailsec/dns/resolver.h"

namespace mailsec::dns {
namespace {

// Hand-built wire messages.
class Wire {
 public:
  Wire& U8(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  Wire& U16(uint16_t v) { return U8(static_cast<uint8_t>(v >> 8)).U8(static_cast<uint8_t>(v)); }
  Wire& U32(uint32_t v) {
    return U16(static_cast<uint16_t>(v >> 16)).U16(static_cast<uint16_t>(v));
  }
  Wire& Raw(std::vector<uint8_t> v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  Wire& Str(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  // Uncompressed name ("" or "." is the root).
  Wire& Name(std::string_view n) {
    if (!n.empty() && n.back() == '.') n.remove_suffix(1);
    while (!n.empty()) {
      size_t dot = n.find('.');
      std::string_view label = n.substr(0, dot);
      U8(static_cast<uint8_t>(label.size())).Str(label);
      if (dot == std::string_view::npos) break;
      n.remove_prefix(dot + 1);
    }
    return U8(0);
  }
  Wire& Ptr(uint16_t offset) { return U16(static_cast<uint16_t>(0xc000 | offset)); }
  // Header: id 0x4242, flags, counts.
  Wire& Header(uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns = 0, uint16_t ar = 0) {
    return U16(0x4242).U16(flags).U16(qd).U16(an).U16(ns).U16(ar);
  }
  Wire& Question(std::string_view name, RrType type) {
    return Name(name).U16(static_cast<uint16_t>(type)).U16(kClassIn);
  }
  // Record header with a compressed owner pointing at the question name (offset 12).
  Wire& RrAtQname(RrType type, uint16_t rdlength, uint32_t ttl = 300) {
    return Ptr(12).U16(static_cast<uint16_t>(type)).U16(kClassIn).U32(ttl).U16(rdlength);
  }
  size_t size() const { return b.size(); }
  std::vector<uint8_t> b;
};

constexpr uint16_t kResponse = 0x8180;  // QR, RD, RA, NOERROR

Result<DnsMessage> Parse(const Wire& w) { return ParseDnsMessage(w.b); }

// A reply with one answer of `type` whose rdata is `rdata`.
Wire OneAnswer(RrType type, const std::vector<uint8_t>& rdata, std::string_view qname = "ex.test") {
  Wire w;
  w.Header(kResponse, 1, 1).Question(qname, type);
  w.RrAtQname(type, static_cast<uint16_t>(rdata.size())).Raw(rdata);
  return w;
}

TEST(DnsMessageTest, BuildQuerySetsRdAdAndEdnsDo) {
  auto q = BuildQuery("Example.COM.", RrType::kTlsa, 0x1234, true);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  const std::vector<uint8_t> expected = {
      0x12, 0x34, 0x01, 0x20, 0,    1,   0,   0,    0, 0,   0,   1,  // header: RD, AD; 1 q, 1 ar
      7,    'E',  'x',  'a',  'm',  'p', 'l', 'e',  3, 'C', 'O', 'M', 0,  // name
      0,    52,   0,    1,                                                // TLSA IN
      0,    0,    41,   0x04, 0xd0, 0,   0,   0x80, 0, 0,   0};           // OPT 1232, DO
  EXPECT_EQ(*q, expected);

  auto m = ParseDnsMessage(*q);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE(m->header.qr);
  EXPECT_TRUE(m->header.rd);
  EXPECT_TRUE(m->header.ad);
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_EQ(m->questions[0].name, "Example.COM");
  EXPECT_EQ(m->questions[0].type, RrType::kTlsa);
  ASSERT_TRUE(m->edns.has_value());
  EXPECT_TRUE(m->edns->dnssec_ok);
  EXPECT_EQ(m->edns->udp_payload, kEdnsUdpPayload);
  EXPECT_TRUE(m->additional.empty());

  auto no_do = BuildQuery("a", RrType::kA, 1, false);
  ASSERT_TRUE(no_do.ok());
  EXPECT_FALSE(ParseDnsMessage(*no_do)->edns->dnssec_ok);
  EXPECT_FALSE(ParseDnsMessage(*no_do)->header.cd);

  auto cd = BuildQuery("a", RrType::kA, 1, true, /*checking_disabled=*/true);
  ASSERT_TRUE(cd.ok());
  EXPECT_TRUE(ParseDnsMessage(*cd)->header.cd);
  EXPECT_TRUE(ParseDnsMessage(*cd)->header.ad);
}

TEST(DnsMessageTest, BuildQueryNames) {
  struct Case {
    std::string name;
    bool ok;
    std::string parsed;  // the question name as parsed back
  };
  const std::string l63(63, 'a');
  const std::string l64(64, 'a');
  // 4 labels of 63 = 256 wire octets with the root: too long; 3 of 63 + one of 61 = 255.
  const std::string n255 = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
  const std::string n256 = l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b');
  const std::vector<Case> cases = {
      {"mx.example.com", true, "mx.example.com"},
      {"mx.example.com.", true, "mx.example.com"},
      {".", true, "."},
      {"", true, "."},
      {"a\\.b.c", true, "a\\.b.c"},
      {"\\065\\098.c", true, "Ab.c"},
      {"a\\000b", true, "a\\000b"},
      {l63 + ".x", true, l63 + ".x"},
      {n255, true, n255},
      {"a..b", false, ""},
      {".a", false, ""},
      {"a.b..", false, ""},
      {l64 + ".x", false, ""},
      {n256, false, ""},
      {"a\\", false, ""},
      {"a\\25", false, ""},
      {"a\\256", false, ""},
      {"a\\0x1", false, ""},
  };
  for (const Case& c : cases) {
    auto q = BuildQuery(c.name, RrType::kA, 7, true);
    EXPECT_EQ(q.ok(), c.ok) << c.name;
    if (!q.ok() || !c.ok) continue;
    auto m = ParseDnsMessage(*q);
    ASSERT_TRUE(m.ok()) << c.name << ": " << m.status().ToString();
    EXPECT_EQ(m->questions.at(0).name, c.parsed);
  }
}

TEST(DnsMessageTest, HeaderFlagsAndRcodes) {
  struct Case {
    uint16_t flags;
    bool aa, tc, ad, cd;
    uint16_t rcode;
  };
  const std::vector<Case> cases = {
      {0x8180, false, false, false, false, kRcodeNoError},
      {0x81a0, false, false, true, false, kRcodeNoError},  // AD
      {0x8583, true, false, false, false, kRcodeNxDomain},
      {0x81a3, false, false, true, false, kRcodeNxDomain},  // authenticated denial
      {0x8182, false, false, false, false, kRcodeServFail},
      {0x8185, false, false, false, false, kRcodeRefused},
      {0x8380, false, true, false, false, kRcodeNoError},
      {0x8190, false, false, false, true, kRcodeNoError},
  };
  for (const Case& c : cases) {
    Wire w;
    w.Header(c.flags, 1, 0).Question("ex.test", RrType::kMx);
    auto m = Parse(w);
    ASSERT_TRUE(m.ok()) << std::hex << c.flags;
    EXPECT_TRUE(m->header.qr);
    EXPECT_EQ(m->header.aa, c.aa) << std::hex << c.flags;
    EXPECT_EQ(m->header.tc, c.tc) << std::hex << c.flags;
    EXPECT_EQ(m->header.ad, c.ad) << std::hex << c.flags;
    EXPECT_EQ(m->header.cd, c.cd) << std::hex << c.flags;
    EXPECT_EQ(m->header.rcode, c.rcode) << std::hex << c.flags;
    EXPECT_EQ(m->header.id, 0x4242);
  }
}

TEST(DnsMessageTest, ExtendedRcodeFromOpt) {
  Wire w;
  w.Header(0x8000, 1, 0, 0, 1).Question("ex.test", RrType::kA);
  w.Name(".").U16(41).U16(1232).U8(1).U8(0).U16(0x8000).U16(0);  // ext rcode 1 -> 16 (BADVERS)
  auto m = Parse(w);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->header.rcode, 16);
  EXPECT_TRUE(m->edns->dnssec_ok);
  EXPECT_EQ(m->edns->udp_payload, 1232);
}

TEST(DnsMessageTest, TypedRdata) {
  {
    auto m = Parse(OneAnswer(RrType::kA, {192, 0, 2, 25}));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    const auto& rr = m->answers.at(0);
    EXPECT_EQ(rr.name, "ex.test");
    EXPECT_EQ(rr.ttl, 300u);
    EXPECT_EQ(std::get<AData>(rr.data).ToString(), "192.0.2.25");
  }
  {
    std::vector<uint8_t> v6(16, 0);
    v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = 0xb8, v6[15] = 0x19;
    auto m = Parse(OneAnswer(RrType::kAaaa, v6));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(std::get<AaaaData>(m->answers.at(0).data).ToString(), "2001:db8::19");
  }
  {
    Wire rdata;
    rdata.U16(10).Name("mx1.ex.test");
    auto m = Parse(OneAnswer(RrType::kMx, rdata.b));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    const auto& mx = std::get<MxData>(m->answers.at(0).data);
    EXPECT_EQ(mx.preference, 10);
    EXPECT_EQ(mx.exchange, "mx1.ex.test");
  }
  {
    Wire rdata;  // null MX (RFC 7505)
    rdata.U16(0).Name(".");
    auto m = Parse(OneAnswer(RrType::kMx, rdata.b));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(std::get<MxData>(m->answers.at(0).data).exchange, ".");
  }
  {
    Wire rdata;
    rdata.U8(14).Str("v=spf1 ip4:1.2").U8(11).Str(".3.4 -all x").U8(0);
    auto m = Parse(OneAnswer(RrType::kTxt, rdata.b));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    const auto& txt = std::get<TxtData>(m->answers.at(0).data);
    EXPECT_EQ(txt.strings, (std::vector<std::string>{"v=spf1 ip4:1.2", ".3.4 -all x", ""}));
    EXPECT_EQ(txt.Joined(), "v=spf1 ip4:1.2.3.4 -all x");
  }
  {
    std::vector<uint8_t> rdata = {3, 1, 1};
    for (int i = 0; i < 32; ++i) rdata.push_back(static_cast<uint8_t>(i));
    auto m = Parse(OneAnswer(RrType::kTlsa, rdata, "_25._tcp.mx.ex.test"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    const auto& t = std::get<TlsaData>(m->answers.at(0).data);
    EXPECT_EQ(t.usage, 3);
    EXPECT_EQ(t.selector, 1);
    EXPECT_EQ(t.matching_type, 1);
    ASSERT_EQ(t.data.size(), 32u);
    EXPECT_EQ(t.data[31], 31);
    EXPECT_EQ(m->answers.at(0).name, "_25._tcp.mx.ex.test");
  }
  {
    Wire rdata;
    rdata.Name("mail.ex.test");
    auto m = Parse(OneAnswer(RrType::kPtr, rdata.b, "25.2.0.192.in-addr.arpa"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(std::get<PtrData>(m->answers.at(0).data).name, "mail.ex.test");
  }
  {
    Wire rdata;
    rdata.U16(0).U16(1).U16(587).Name("smtp.ex.test");
    auto m = Parse(OneAnswer(RrType::kSrv, rdata.b, "_submission._tcp.ex.test"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    const auto& s = std::get<SrvData>(m->answers.at(0).data);
    EXPECT_EQ(s.priority, 0);
    EXPECT_EQ(s.weight, 1);
    EXPECT_EQ(s.port, 587);
    EXPECT_EQ(s.target, "smtp.ex.test");
  }
  {
    Wire rdata;
    rdata.U8(0x80).U8(5).Str("issue").Str("letsencrypt.org");
    auto m = Parse(OneAnswer(RrType::kCaa, rdata.b));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    const auto& c = std::get<CaaData>(m->answers.at(0).data);
    EXPECT_TRUE(c.critical());
    EXPECT_EQ(c.tag, "issue");
    EXPECT_EQ(c.value, "letsencrypt.org");
  }
  {
    Wire rdata;
    rdata.Name("alias.ex.test");
    auto m = Parse(OneAnswer(RrType::kCname, rdata.b));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(std::get<CnameData>(m->answers.at(0).data).target, "alias.ex.test");
  }
  {
    auto m = Parse(OneAnswer(static_cast<RrType>(99), {1, 2, 3}));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(std::get<RawData>(m->answers.at(0).data).bytes, (std::vector<uint8_t>{1, 2, 3}));
    EXPECT_EQ(RrTypeName(m->answers.at(0).type), "TYPE99");
  }
}

TEST(DnsMessageTest, BadRdataIsMalformed) {
  Wire long_mx;
  long_mx.U16(10).Name("mx").U8(0);  // a byte after the name
  Wire short_txt;
  short_txt.U8(5).Str("abc");
  Wire empty_caa_tag;
  empty_caa_tag.U8(0).U8(0).Str("x");
  Wire short_srv;
  short_srv.U16(1).U16(2);
  const std::vector<std::pair<RrType, std::vector<uint8_t>>> cases = {
      {RrType::kA, {1, 2, 3}},
      {RrType::kA, {1, 2, 3, 4, 5}},
      {RrType::kAaaa, std::vector<uint8_t>(15)},
      {RrType::kMx, long_mx.b},
      {RrType::kMx, {0}},
      {RrType::kTxt, short_txt.b},
      {RrType::kTlsa, {3, 1}},
      {RrType::kCaa, empty_caa_tag.b},
      {RrType::kCaa, {0, 9, 'i'}},
      {RrType::kSrv, short_srv.b},
      {RrType::kPtr, {3, 'a', 'b'}},  // name runs past the rdata
  };
  for (const auto& [type, rdata] : cases) {
    auto m = Parse(OneAnswer(type, rdata));
    EXPECT_FALSE(m.ok()) << RrTypeName(type) << " rdata of " << rdata.size() << " bytes";
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), Status::Code::kMalformed);
    }
  }
}

TEST(DnsMessageTest, CompressionPointersAreFollowedBackwards) {
  Wire w;
  w.Header(kResponse, 1, 2).Question("ex.test", RrType::kMx);  // "ex" label at 12, "test" at 15
  const uint16_t rdlen = 2 + 4 + 2;
  w.RrAtQname(RrType::kMx, rdlen).U16(10).U8(3).Str("mx1").Ptr(12);  // mx1.ex.test
  const uint16_t mx1_at = static_cast<uint16_t>(w.size() - 6);
  // Second answer: owner is a pointer to the "test" suffix; exchange points at "mx1.ex.test".
  w.Ptr(15).U16(15).U16(kClassIn).U32(60).U16(4).U16(20).Ptr(mx1_at);
  auto m = Parse(w);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(std::get<MxData>(m->answers[0].data).exchange, "mx1.ex.test");
  EXPECT_EQ(m->answers[1].name, "test");
  EXPECT_EQ(std::get<MxData>(m->answers[1].data).exchange, "mx1.ex.test");
}

// Two answers: a raw record whose rdata holds the name "a" followed by hops-1 pointers, each
// to the one before; then an A record whose owner points at the last of them, so reading that
// owner takes `hops` pointer hops.
Wire PointerChain(int hops) {
  Wire w;
  w.Header(kResponse, 0, 2).U8(0).U16(99).U16(kClassIn).U32(0).U16(0);
  const size_t rdlength_at = w.size() - 2;
  const size_t start = w.size();
  w.U8(1).Str("a").U8(0);
  auto prev = static_cast<uint16_t>(start);
  for (int i = 0; i < hops - 1; ++i) {
    const auto at = static_cast<uint16_t>(w.size());
    w.Ptr(prev);
    prev = at;
  }
  const size_t rdlength = w.size() - start;
  w.b[rdlength_at] = static_cast<uint8_t>(rdlength >> 8);
  w.b[rdlength_at + 1] = static_cast<uint8_t>(rdlength);
  w.Ptr(prev).U16(1).U16(kClassIn).U32(0).U16(4).Raw({1, 2, 3, 4});
  return w;
}

TEST(DnsMessageTest, BadPointersAndNamesAreMalformed) {
  auto header_then = [](auto fill) {
    Wire w;
    w.Header(kResponse, 1, 0);
    fill(w);
    w.U16(1).U16(1);
    return w;
  };
  std::vector<std::pair<std::string, Wire>> cases;
  cases.emplace_back("pointer to itself", header_then([](Wire& w) { w.Ptr(12); }));
  cases.emplace_back("forward pointer",
                     header_then([](Wire& w) { w.Ptr(14).U8(1).Str("a").U8(0); }));
  cases.emplace_back("pointer into own labels",
                     header_then([](Wire& w) { w.U8(1).Str("a").Ptr(12); }));
  cases.emplace_back("label type 01", header_then([](Wire& w) { w.U8(0x41).Str("a").U8(0); }));
  cases.emplace_back("label type 10", header_then([](Wire& w) { w.U8(0x81).Str("a").U8(0); }));
  cases.emplace_back("name over 255 octets", header_then([](Wire& w) {
                       for (int i = 0; i < 4; ++i) w.U8(63).Str(std::string(63, 'x'));
                       w.U8(0);
                     }));
  for (const auto& [what, w] : cases) {
    auto m = Parse(w);
    EXPECT_FALSE(m.ok()) << what;
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), Status::Code::kMalformed) << what;
    }
  }

  // Chains of pointers to pointers: each points back, the hop limit bounds them.
  EXPECT_TRUE(Parse(PointerChain(kMaxCompressionHops)).ok());
  auto m = Parse(PointerChain(kMaxCompressionHops + 1));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("too many compression pointers"), std::string::npos);
}

TEST(DnsMessageTest, EscapedLabels) {
  Wire w;
  w.Header(kResponse, 1, 0).U8(3).Str("a.b").U8(3).U8('x').U8(0).U8(' ').U8(1).Str("\\").U8(0);
  w.U16(1).U16(1);
  auto m = Parse(w);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->questions[0].name, "a\\.b.x\\000\\032.\\\\");
}

TEST(DnsMessageTest, TooManyRecordsIsMalformed) {
  Wire w;
  w.Header(kResponse, 1, 0xffff).Question("ex.test", RrType::kA);
  auto m = Parse(w);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "too many records");
}

TEST(DnsMessageTest, TwoOptRecordsAreMalformed) {
  Wire w;
  w.Header(kResponse, 1, 0, 0, 2).Question("ex.test", RrType::kA);
  for (int i = 0; i < 2; ++i) w.U8(0).U16(41).U16(1232).U32(0).U16(0);
  EXPECT_FALSE(Parse(w).ok());
}

// A reply with every section and several types, used for the truncation sweep.
Wire RichReply() {
  Wire w;
  w.Header(0x81a0, 1, 3, 1, 2).Question("ex.test", RrType::kMx);
  w.RrAtQname(RrType::kMx, 2 + 4 + 2).U16(10).U8(3).Str("mx1").U8(0xc0).U8(12);
  w.RrAtQname(RrType::kTxt, 1 + 3 + 1 + 2).U8(3).Str("abc").U8(2).Str("de");
  w.RrAtQname(RrType::kCaa, 2 + 5 + 3).U8(0).U8(5).Str("issue").Str("x.y");
  w.Ptr(15).U16(6).U16(1).U32(60).U16(3).Raw({1, 2, 3});  // SOA kept raw
  w.Name("mx1.ex.test").U16(1).U16(1).U32(60).U16(4).Raw({192, 0, 2, 1});
  w.U8(0).U16(41).U16(1232).U32(0x8000).U16(0);
  return w;
}

TEST(DnsMessageTest, RichReplyParses) {
  auto m = Parse(RichReply());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->header.ad);
  EXPECT_EQ(m->answers.size(), 3u);
  EXPECT_EQ(m->authority.size(), 1u);
  ASSERT_EQ(m->additional.size(), 1u);
  EXPECT_EQ(m->additional[0].name, "mx1.ex.test");
  ASSERT_TRUE(m->edns.has_value());
  EXPECT_TRUE(m->edns->dnssec_ok);
}

TEST(DnsMessageTest, TruncatedAtEveryOffsetIsMalformed) {
  const Wire full = RichReply();
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> prefix(full.b.begin(), full.b.begin() + static_cast<long>(n));
    auto m = ParseDnsMessage(prefix);
    EXPECT_FALSE(m.ok()) << "prefix of " << n << " bytes";
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), Status::Code::kMalformed) << n;
    }
  }
}

TEST(DnsMessageTest, TrailingBytesAreIgnored) {
  Wire w = RichReply();
  w.Raw({0xde, 0xad});
  EXPECT_TRUE(Parse(w).ok());
}

TEST(DnsMessageTest, SameName) {
  EXPECT_TRUE(SameName("Mx.Example.COM", "mx.example.com."));
  EXPECT_TRUE(SameName(".", ""));
  EXPECT_FALSE(SameName("a\\.", "a"));  // an escaped dot is part of the label
  EXPECT_TRUE(SameName("a\\\\.", "a\\\\"));
  EXPECT_FALSE(SameName("mx1.example.com", "mx.example.com"));
}

// InterpretReply: rcode, AD and CNAME chasing over hand-built replies.
TEST(DnsInterpretTest, OutcomesAndCnameChasing) {
  {
    Wire w;
    w.Header(0x81a3, 1, 0).Question("gone.test", RrType::kA);
    DnsAnswer a = InterpretReply(w.b, "gone.test", RrType::kA);
    EXPECT_EQ(a.outcome, Outcome::kNxDomain);
    EXPECT_TRUE(a.authenticated_data);
  }
  {
    Wire w;
    w.Header(0x8180, 1, 0).Question("ex.test", RrType::kTlsa);
    EXPECT_EQ(InterpretReply(w.b, "ex.test", RrType::kTlsa).outcome, Outcome::kNoData);
  }
  {
    Wire w;
    w.Header(0x8182, 1, 0).Question("ex.test", RrType::kA);
    EXPECT_EQ(InterpretReply(w.b, "ex.test", RrType::kA).outcome, Outcome::kServFail);
  }
  {
    Wire w;
    w.Header(0x8185, 1, 0).Question("ex.test", RrType::kA);
    EXPECT_EQ(InterpretReply(w.b, "ex.test", RrType::kA).outcome, Outcome::kRefused);
  }
  {
    Wire w;  // a query, not a reply
    w.Header(0x0100, 1, 0).Question("ex.test", RrType::kA);
    EXPECT_EQ(InterpretReply(w.b, "ex.test", RrType::kA).outcome, Outcome::kMalformed);
  }
  {
    Wire w;  // a reply to another question
    w.Header(0x8180, 1, 0).Question("other.test", RrType::kA);
    EXPECT_EQ(InterpretReply(w.b, "ex.test", RrType::kA).outcome, Outcome::kMalformed);
  }
  {
    // ex.test CNAME b.test; b.test CNAME c.test; c.test A; plus an unrelated A for ex.test's
    // sibling that must not be taken.
    Wire w;
    w.Header(0x81a0, 1, 4).Question("ex.test", RrType::kA);
    w.RrAtQname(RrType::kCname, 8).Name("b.test");
    w.Name("B.TEST").U16(5).U16(1).U32(60).U16(8).Name("c.test");
    w.Name("other.test").U16(1).U16(1).U32(60).U16(4).Raw({10, 0, 0, 9});
    w.Name("c.test").U16(1).U16(1).U32(60).U16(4).Raw({10, 0, 0, 1});
    DnsAnswer a = InterpretReply(w.b, "Ex.Test", RrType::kA);
    ASSERT_EQ(a.outcome, Outcome::kOk) << a.error;
    EXPECT_TRUE(a.authenticated_data);
    EXPECT_EQ(a.canonical_name, "c.test");
    ASSERT_EQ(a.records.size(), 1u);
    EXPECT_EQ(std::get<AData>(a.records[0].data).ToString(), "10.0.0.1");

    // Asking for the CNAME itself does not chase.
    Wire c;
    c.Header(0x8180, 1, 1).Question("ex.test", RrType::kCname);
    c.RrAtQname(RrType::kCname, 8).Name("b.test");
    DnsAnswer ca = InterpretReply(c.b, "ex.test", RrType::kCname);
    ASSERT_EQ(ca.outcome, Outcome::kOk);
    EXPECT_EQ(ca.canonical_name, "ex.test");
  }
  {
    // A CNAME to a name without the record: NODATA at the end of the chain.
    Wire w;
    w.Header(0x8180, 1, 1).Question("ex.test", RrType::kMx);
    w.RrAtQname(RrType::kCname, 8).Name("b.test");
    DnsAnswer a = InterpretReply(w.b, "ex.test", RrType::kMx);
    EXPECT_EQ(a.outcome, Outcome::kNoData);
    EXPECT_EQ(a.canonical_name, "b.test");
  }
  {
    // A CNAME loop ends as a server failure, not a hang.
    Wire w;
    w.Header(0x8180, 1, 2).Question("ex.test", RrType::kA);
    w.RrAtQname(RrType::kCname, 8).Name("b.test");
    w.Name("b.test").U16(5).U16(1).U32(60).U16(9).Name("ex.test");
    DnsAnswer a = InterpretReply(w.b, "ex.test", RrType::kA);
    EXPECT_EQ(a.outcome, Outcome::kServFail);
  }
  EXPECT_EQ(InterpretReply(std::vector<uint8_t>{1, 2, 3}, "ex.test", RrType::kA).outcome,
            Outcome::kMalformed);
}

TEST(DnsInterpretTest, OutcomeNames) {
  EXPECT_EQ(OutcomeName(Outcome::kOk), "ok");
  EXPECT_EQ(OutcomeName(Outcome::kNxDomain), "nxdomain");
  EXPECT_EQ(OutcomeName(Outcome::kNoData), "nodata");
  EXPECT_EQ(OutcomeName(Outcome::kServFail), "servfail");
  EXPECT_EQ(OutcomeName(Outcome::kTimeout), "timeout");
  EXPECT_EQ(OutcomeName(Outcome::kMalformed), "malformed");
  EXPECT_EQ(OutcomeName(Outcome::kRefused), "refused");
}

}  // namespace
}  // namespace mailsec::dns
