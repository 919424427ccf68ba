// ParseSpfRecord and SelectSpfRecord: one table of good records, one of bad records with the
// exact reason each is refused.
#include "mailsec/checks/spf.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailsec::checks {
namespace {

using K = SpfTerm::Kind;

TEST(ParseSpfRecord, AcceptsValidRecords) {
  const char* kValid[] = {
      // Shapes of real records.
      "v=spf1 include:_spf.google.com ~all",
      "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com "
      "include:_netblocks3.google.com ~all",
      "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.0.0/20 ip4:66.249.80.0/20 "
      "ip4:72.14.192.0/18 ip4:74.125.0.0/16 ip4:108.177.8.0/21 ip4:173.194.0.0/16 ~all",
      "v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 ip6:2607:f8b0:4000::/36 "
      "ip6:2800:3f0:4000::/36 ip6:2a00:1450:4000::/36 ip6:2c0f:fb50:4000::/36 ~all",
      "v=spf1 include:_spf-a.microsoft.com include:_spf-b.microsoft.com "
      "include:_spf-c.microsoft.com include:_spf-ssg-a.msft.net include:spf-a.hotmail.com "
      "include:_spf1-meo.microsoft.com -all",
      "v=spf1 ip4:198.2.128.0/18 include:sendgrid.net include:mailgun.org "
      "include:servers.mcsv.net include:_spf.salesforce.com include:amazonses.com "
      "include:spf.protection.outlook.com ~all",
      "v=spf1 redirect=_spf.facebook.com",
      // Version and spacing.
      "v=spf1",
      "v=spf1 ",
      "V=SPF1 IP4:192.0.2.1 -ALL",
      "v=spf1  mx   -all  ",
      // Mechanism forms.
      "v=spf1 a mx a/24 mx//64 a:mail.example.com/24//64 mx:example.org/0 -all",
      "v=spf1 a:example.com//128 mx:example.com/32 ?all",
      "v=spf1 ptr ptr:example.com -all",
      "v=spf1 +all",
      "v=spf1 include:example.com. -all",
      "v=spf1 a:host.1-2 -all",
      "v=spf1 exists:example.net -all",
      // ip4/ip6 and CIDR edges.
      "v=spf1 ip4:0.0.0.0/0 ip4:255.255.255.255/32 ip4:10.0.0.0 -all",
      "v=spf1 ip6:::/0 ip6:::1/128 ip6:2001:db8::/32 ip6:::ffff:192.0.2.1 -all",
      "v=spf1 ip6:1:2:3:4:5:6:7:8 ip6:1:2:3:4:5:6:1.2.3.4 ip6:fe80:: ip6:1::8 -all",
      // Macros (RFC 7208 §7).
      "v=spf1 exists:%{i}._spf.%{d} -all",
      "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
      "v=spf1 include:%{d2}.example.com ~all",
      "v=spf1 a:%{o}%%%_%-.example.com -all",
      "v=spf1 exists:%{I}.%{D4R}.x.example -all",
      "v=spf1 exists:%{s}.%{v}.%{h}.%{p}.%{d128}.example.com -all",
      "v=spf1 exists:%{ir.-+,/_=}.example.com -all",
      "v=spf1 include:example.%{d}",
      // Modifiers.
      "v=spf1 mx -all exp=explain._spf.%{d}",
      "v=spf1 foo=bar ra=postmaster rp=100 rr=e:f:s:r -all",
      "v=spf1 x-custom=%{c}%{r}%{t} -all",
      "v=spf1 foo= -all",
      "v=spf1 a=unknown.modifier -all",
  };
  for (const char* rec : kValid) {
    Result<SpfRecord> r = ParseSpfRecord(rec);
    EXPECT_TRUE(r.ok()) << rec << ": " << r.status().message();
  }
}

TEST(ParseSpfRecord, RefusesEachErrorClass) {
  struct Case {
    std::string record;
    std::string error;  // the exact message
  };
  const std::string kStart = "record does not start with \"v=spf1\" and a space";
  const Case kCases[] = {
      // Version.
      {"", kStart},
      {"v=spf1-all", kStart},
      {"v=spf10 -all", kStart},
      {" v=spf1 -all", kStart},
      {"v=spf1\t-all", kStart},
      {"spf2.0/pra -all", kStart},
      {"v=spf", kStart},
      // Unknown mechanisms and glued terms.
      {"v=spf1 foo -all", "term 1 \"foo\": unknown mechanism"},
      {"v=spf1 +", "term 1 \"+\": unknown mechanism"},
      {"v=spf1 =foo", "term 1 \"=foo\": unknown mechanism"},
      {"v=spf1 1foo=bar", "term 1 \"1foo=bar\": unknown mechanism"},
      {"v=spf1 mx !all", "term 2 \"!all\": unknown mechanism"},
      {"v=spf1 mx-all", "term 1 \"mx-all\": unexpected value"},
      {"v=spf1 ip4:192.0.2.7~all", "term 1 \"ip4:192.0.2.7~all\": invalid IPv4 address"},
      {"v=spf1 -all/24", "term 1 \"-all/24\": \"all\" takes no value"},
      {"v=spf1 all:example.com", "term 1 \"all:example.com\": \"all\" takes no value"},
      // ip4.
      {"v=spf1 ip4:300.1.1.1 -all", "term 1 \"ip4:300.1.1.1\": invalid IPv4 address"},
      {"v=spf1 ip4:1.2.3", "term 1 \"ip4:1.2.3\": invalid IPv4 address"},
      {"v=spf1 ip4:1.2.3.4.5", "term 1 \"ip4:1.2.3.4.5\": invalid IPv4 address"},
      {"v=spf1 ip4:01.2.3.4", "term 1 \"ip4:01.2.3.4\": invalid IPv4 address"},
      {"v=spf1 ip4:1.2.3.", "term 1 \"ip4:1.2.3.\": invalid IPv4 address"},
      {"v=spf1 ip4:1234.2.3.4", "term 1 \"ip4:1234.2.3.4\": invalid IPv4 address"},
      {"v=spf1 ip4:::1", "term 1 \"ip4:::1\": invalid IPv4 address"},
      {"v=spf1 ip4:", "term 1 \"ip4:\": invalid IPv4 address"},
      {"v=spf1 ip4", "term 1 \"ip4\": missing \":address\""},
      {"v=spf1 ip4:1.2.3.4/33", "term 1 \"ip4:1.2.3.4/33\": invalid IPv4 CIDR length"},
      {"v=spf1 ip4:1.2.3.4/", "term 1 \"ip4:1.2.3.4/\": invalid IPv4 CIDR length"},
      {"v=spf1 ip4:1.2.3.4/08", "term 1 \"ip4:1.2.3.4/08\": invalid IPv4 CIDR length"},
      {"v=spf1 ip4:1.2.3.4/-1", "term 1 \"ip4:1.2.3.4/-1\": invalid IPv4 CIDR length"},
      {"v=spf1 ip4:1.2.3.4/24/24", "term 1 \"ip4:1.2.3.4/24/24\": invalid IPv4 CIDR length"},
      {"v=spf1 ip4:%{i}", "term 1 \"ip4:%{i}\": macro in an address"},
      // ip6.
      {"v=spf1 ip6:1.2.3.4", "term 1 \"ip6:1.2.3.4\": invalid IPv6 address"},
      {"v=spf1 ip6:2001:db8::/129", "term 1 \"ip6:2001:db8::/129\": invalid IPv6 CIDR length"},
      {"v=spf1 ip6:2001:db8::/0128", "term 1 \"ip6:2001:db8::/0128\": invalid IPv6 CIDR length"},
      {"v=spf1 ip6:1:2:3:4:5:6:7:8:9", "term 1 \"ip6:1:2:3:4:5:6:7:8:9\": invalid IPv6 address"},
      {"v=spf1 ip6:1:2:3:4:5:6:7", "term 1 \"ip6:1:2:3:4:5:6:7\": invalid IPv6 address"},
      {"v=spf1 ip6:1:2:3:4:5:6:7::8", "term 1 \"ip6:1:2:3:4:5:6:7::8\": invalid IPv6 address"},
      {"v=spf1 ip6:1::2::3", "term 1 \"ip6:1::2::3\": invalid IPv6 address"},
      {"v=spf1 ip6:12345::", "term 1 \"ip6:12345::\": invalid IPv6 address"},
      {"v=spf1 ip6::::", "term 1 \"ip6::::\": invalid IPv6 address"},
      {"v=spf1 ip6::1", "term 1 \"ip6::1\": invalid IPv6 address"},
      {"v=spf1 ip6:1.2.3.4::", "term 1 \"ip6:1.2.3.4::\": invalid IPv6 address"},
      {"v=spf1 ip6:g::1", "term 1 \"ip6:g::1\": invalid IPv6 address"},
      {"v=spf1 ip6:%{i}", "term 1 \"ip6:%{i}\": macro in an address"},
      // Required values and domain-specs.
      {"v=spf1 include: -all", "term 1 \"include:\": empty domain"},
      {"v=spf1 include -all", "term 1 \"include\": missing \":domain\""},
      {"v=spf1 exists -all", "term 1 \"exists\": missing \":domain\""},
      {"v=spf1 ptr/24", "term 1 \"ptr/24\": unexpected value"},
      {"v=spf1 include:localhost",
       "term 1 \"include:localhost\": domain does not end in a "
       "valid top label"},
      {"v=spf1 include:example.123",
       "term 1 \"include:example.123\": domain does not end in a "
       "valid top label"},
      {"v=spf1 include:example.com-",
       "term 1 \"include:example.com-\": domain does not end in "
       "a valid top label"},
      {"v=spf1 include:example..com", "term 1 \"include:example..com\": empty label in domain"},
      {"v=spf1 include:" + std::string(64, 'a') + ".com",
       "term 1 \"include:" + std::string(64, 'a') + ".com\": label longer than 63 octets"},
      {"v=spf1 include:ex\xc3\xa4mple.com",
       "term 1 \"include:ex\\xc3\\xa4mple.com\": invalid "
       "character '\\xc3'"},
      {"v=spf1 redirect=", "term 1 \"redirect=\": empty domain"},
      {"v=spf1 exp=", "term 1 \"exp=\": empty domain"},
      // a and mx CIDR lengths.
      {"v=spf1 a:/24", "term 1 \"a:/24\": empty domain"},
      {"v=spf1 a/33", "term 1 \"a/33\": invalid IPv4 CIDR length"},
      {"v=spf1 mx//129", "term 1 \"mx//129\": invalid IPv6 CIDR length"},
      {"v=spf1 a//064", "term 1 \"a//064\": invalid IPv6 CIDR length"},
      {"v=spf1 a/24/", "term 1 \"a/24/\": invalid CIDR length"},
      {"v=spf1 mx/", "term 1 \"mx/\": invalid CIDR length"},
      {"v=spf1 a:example.com/24/",
       "term 1 \"a:example.com/24/\": domain does not end in a "
       "valid top label"},
      // Macros.
      {"v=spf1 include:%{x}.example.com",
       "term 1 \"include:%{x}.example.com\": unknown macro "
       "letter 'x'"},
      {"v=spf1 exists:%{d0}.example.com",
       "term 1 \"exists:%{d0}.example.com\": macro "
       "transformer of zero parts"},
      {"v=spf1 exists:%{d", "term 1 \"exists:%{d\": malformed macro"},
      {"v=spf1 exists:%{", "term 1 \"exists:%{\": unterminated macro"},
      {"v=spf1 exists:%{d2r+-=x}.example.com",
       "term 1 \"exists:%{d2r+-=x}.example.com\": "
       "malformed macro"},
      {"v=spf1 exists:%x.example.com", "term 1 \"exists:%x.example.com\": '%x' is not a macro"},
      {"v=spf1 exists:example.com%", "term 1 \"exists:example.com%\": '%' at the end"},
      {"v=spf1 exists:%{c}.example.com",
       "term 1 \"exists:%{c}.example.com\": macro letter 'c' "
       "is only allowed in exp text"},
      {"v=spf1 exists:%{i}com",
       "term 1 \"exists:%{i}com\": domain does not end in a valid top "
       "label"},
      {"v=spf1 foo=%{z}", "term 1 \"foo=%{z}\": unknown macro letter 'z'"},
      // Repeats (RFC 7208 §6; CHECKS.md SPF-03 for "all").
      {"v=spf1 redirect=a.example.com redirect=b.example.com",
       "term 2 \"redirect=b.example.com\": appears more than once"},
      {"v=spf1 -all exp=a.example.com EXP=b.example.com",
       "term 3 \"EXP=b.example.com\": appears more than once"},
      {"v=spf1 -all ~all", "term 2 \"~all\": appears more than once"},
      // Size.
      {"v=spf1 " + std::string(kSpfMaxRecordBytes, 'a'), "record longer than 4096 bytes"},
  };
  for (const Case& c : kCases) {
    Result<SpfRecord> r = ParseSpfRecord(c.record);
    ASSERT_FALSE(r.ok()) << c.record;
    EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
    EXPECT_EQ(r.status().message(), c.error) << c.record;
  }
}

TEST(ParseSpfRecord, ReadsTerms) {
  Result<SpfRecord> r = ParseSpfRecord(
      "v=spf1 a:Mail.Example.com/24//64 -ip6:2001:db8::/48 ~mx//96 ?include:%{d}.x.example "
      "Foo.Bar=baz redirect=_spf.example.com ip4:192.0.2.0/24 -all");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const std::vector<SpfTerm>& t = r->terms;
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[0].kind, K::kA);
  EXPECT_EQ(t[0].qualifier, SpfQualifier::kPass);
  EXPECT_EQ(t[0].domain, "Mail.Example.com");
  EXPECT_EQ(t[0].cidr4, 24);
  EXPECT_EQ(t[0].cidr6, 64);
  EXPECT_EQ(t[1].kind, K::kIp6);
  EXPECT_EQ(t[1].qualifier, SpfQualifier::kFail);
  EXPECT_EQ(t[1].network, "2001:db8::");
  EXPECT_EQ(t[1].cidr6, 48);
  EXPECT_EQ(t[2].kind, K::kMx);
  EXPECT_EQ(t[2].qualifier, SpfQualifier::kSoftFail);
  EXPECT_TRUE(t[2].domain.empty());
  EXPECT_EQ(t[2].cidr4, -1);
  EXPECT_EQ(t[2].cidr6, 96);
  EXPECT_EQ(t[3].kind, K::kInclude);
  EXPECT_EQ(t[3].qualifier, SpfQualifier::kNeutral);
  EXPECT_TRUE(t[3].domain_has_macros);
  EXPECT_EQ(t[4].kind, K::kUnknownModifier);
  EXPECT_EQ(t[4].name, "foo.bar");
  EXPECT_EQ(t[4].value, "baz");
  EXPECT_FALSE(t[4].IsMechanism());
  EXPECT_EQ(t[5].kind, K::kRedirect);
  EXPECT_EQ(t[5].domain, "_spf.example.com");
  EXPECT_TRUE(t[5].CountsAsLookup());
  EXPECT_EQ(t[6].cidr4, 24);
  EXPECT_FALSE(t[6].CountsAsLookup());
  EXPECT_EQ(r->All(), &t[7]);
  EXPECT_EQ(r->Redirect(), &t[5]);
  EXPECT_EQ(r->Exp(), nullptr);
}

TEST(ValidateSpfExplanation, MacrosAndSpaces) {
  EXPECT_TRUE(ValidateSpfExplanation("%{i} is not one of %{d}'s designated mail servers.").ok());
  EXPECT_TRUE(ValidateSpfExplanation("See http://%{d}/why.html?s=%{S}&i=%{I}&c=%{c}&t=%{t}").ok());
  EXPECT_TRUE(ValidateSpfExplanation("").ok());
  EXPECT_FALSE(ValidateSpfExplanation("100% sure").ok());
  EXPECT_FALSE(ValidateSpfExplanation("bad %{q}").ok());
  EXPECT_FALSE(ValidateSpfExplanation("tab\there").ok());
}

TEST(IsNonSendingSpfPolicy, OnlyFailAllAndExp) {
  EXPECT_TRUE(IsNonSendingSpfPolicy("v=spf1 -all"));
  EXPECT_TRUE(IsNonSendingSpfPolicy("v=spf1  -all "));
  EXPECT_TRUE(IsNonSendingSpfPolicy("v=spf1 exp=why.example.com -all"));
  EXPECT_FALSE(IsNonSendingSpfPolicy("v=spf1 ~all"));
  EXPECT_FALSE(IsNonSendingSpfPolicy("v=spf1 mx -all"));
  EXPECT_FALSE(IsNonSendingSpfPolicy("v=spf1"));
  EXPECT_FALSE(IsNonSendingSpfPolicy("v=spf1 -all -all"));
}

TEST(SelectSpfRecord, Table) {
  using SK = SpfSelection::Kind;
  struct Case {
    std::vector<std::string> txts;
    SK kind;
    std::string record;
    bool glued = false;
    bool sender_id = false;
  };
  const Case kCases[] = {
      {{}, SK::kNone, ""},
      {{"google-site-verification=abc", "MS=ms123"}, SK::kNone, ""},
      {{"MS=ms123", "v=spf1 -all"}, SK::kOne, "v=spf1 -all"},
      {{"V=SPF1 mx -all"}, SK::kOne, "V=SPF1 mx -all"},
      {{"v=spf1"}, SK::kOne, "v=spf1"},
      {{"v=spf1 mx -all", "v=spf1 -all"}, SK::kMultiple, ""},
      {{"v=spf1 -all", "v=spf1 -all"}, SK::kMultiple, ""},
      {{"v=spf1-all"}, SK::kNone, "", true},
      {{"v=spf10 -all"}, SK::kNone, ""},
      {{" v=spf1 -all"}, SK::kNone, ""},
      {{"spf2.0/pra,mfrom -all", "v=spf1 -all"}, SK::kOne, "v=spf1 -all", false, true},
      {{"SPF2.0/mfrom -all"}, SK::kNone, "", false, true},
  };
  for (const Case& c : kCases) {
    SpfSelection s = SelectSpfRecord(c.txts);
    const std::string first = c.txts.empty() ? "(none)" : c.txts.front();
    EXPECT_EQ(s.kind, c.kind) << first;
    EXPECT_EQ(s.record, c.record) << first;
    EXPECT_EQ(s.version_glued, c.glued) << first;
    EXPECT_EQ(s.sender_id, c.sender_id) << first;
  }
}

}  // namespace
}  // namespace mailsec::checks
