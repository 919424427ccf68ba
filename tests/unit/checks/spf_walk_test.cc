// SpfWalk against a scripted zone: lookup counting, void lookups, loops, the final all, the MX
// name limit, temporary errors, and the verdict of every SPF check.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mailsec/checks/spf.h"

namespace mailsec::checks {
namespace {

using V = CheckVerdict;
using AK = SpfDnsAnswer::Kind;

// A zone answering SpfWalk's queries; names not in it are NXDOMAIN.
class FakeZone {
 public:
  void Txt(const std::string& name, std::vector<std::string> txts) {
    answers_[{name, SpfQueryType::kTxt}] = SpfDnsAnswer{AK::kOk, std::move(txts)};
  }
  void Spf(const std::string& name, const std::string& record) { Txt(name, {record}); }
  void Mx(const std::string& name, int exchanges) {
    SpfDnsAnswer a{AK::kOk, {}};
    for (int i = 0; i < exchanges; ++i) a.records.push_back("mx" + std::to_string(i) + "." + name);
    answers_[{name, SpfQueryType::kMx}] = a;
  }
  void Host(const std::string& name) {
    answers_[{name, SpfQueryType::kAddress}] = SpfDnsAnswer{AK::kOk, {"192.0.2.1"}};
    answers_[{name, SpfQueryType::kA}] = SpfDnsAnswer{AK::kOk, {"192.0.2.1"}};
  }
  void Fail(const std::string& name, SpfQueryType type, AK kind) {
    answers_[{name, type}] = SpfDnsAnswer{kind, {}};
  }
  // Answers generated on the fly (a hostile, endless tree).
  std::function<std::optional<SpfDnsAnswer>(const SpfQuery&)> dynamic;

  SpfResult Walk(const std::string& domain) {
    SpfWalk walk(domain);
    asked.clear();
    while (std::optional<SpfQuery> q = walk.NextQuery()) {
      asked.push_back(*q);
      if (asked.size() > 1000) {
        ADD_FAILURE() << "walk does not end";
        break;
      }
      walk.Feed(Answer(*q));
    }
    EXPECT_TRUE(walk.done());
    return walk.result();
  }

  std::vector<SpfQuery> asked;

 private:
  SpfDnsAnswer Answer(const SpfQuery& q) {
    if (dynamic) {
      if (std::optional<SpfDnsAnswer> a = dynamic(q)) return *a;
    }
    auto it = answers_.find({q.name, q.type});
    if (it != answers_.end()) return it->second;
    return SpfDnsAnswer{AK::kNxDomain, {}};
  }
  std::map<std::pair<std::string, SpfQueryType>, SpfDnsAnswer> answers_;
};

// The verdict of `check`, or nullopt when it reported none.
std::optional<V> VerdictOf(const SpfResult& r, std::string_view check) {
  const Finding* f = r.Find(check);
  if (f == nullptr) return std::nullopt;
  return f->verdict;
}

std::string DetailOf(const SpfResult& r, std::string_view check) {
  const Finding* f = r.Find(check);
  return f == nullptr ? "(none)" : f->detail;
}

TEST(SpfWalk, GoogleShape) {
  FakeZone z;
  z.Txt("google.com",
        {"google-site-verification=x", "v=spf1 include:_spf.google.com ~all", "MS=ms123"});
  z.Spf("_spf.google.com",
        "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com "
        "include:_netblocks3.google.com ~all");
  z.Spf("_netblocks.google.com", "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ~all");
  z.Spf("_netblocks2.google.com", "v=spf1 ip6:2001:4860:4000::/36 ~all");
  z.Spf("_netblocks3.google.com", "v=spf1 ip4:172.217.0.0/19 ~all");
  SpfResult r = z.Walk("Google.COM.");
  EXPECT_TRUE(r.present);
  EXPECT_TRUE(r.valid);
  EXPECT_FALSE(r.temperror);
  EXPECT_EQ(r.dns_lookups, 4);
  EXPECT_EQ(r.void_lookups, 0);
  EXPECT_EQ(r.all_qualifier, "~");
  EXPECT_EQ(r.record, "v=spf1 include:_spf.google.com ~all");
  ASSERT_EQ(r.visited.size(), 5u);
  EXPECT_EQ(r.visited[0].domain, "google.com");
  EXPECT_EQ(r.visited[0].lookups, 1);
  EXPECT_EQ(r.visited[1].domain, "_spf.google.com");
  EXPECT_EQ(r.visited[1].via, SpfVisited::Via::kInclude);
  EXPECT_EQ(r.visited[1].lookups, 3);
  EXPECT_EQ(r.visited[2].depth, 2);
  EXPECT_EQ(z.asked.front(), (SpfQuery{"google.com", SpfQueryType::kTxt}));
  for (std::string_view id : {kSpfPresentCheck, kSpfObsoleteCheck, kSpfSyntaxCheck,
                              kSpfLookupLimitCheck, kSpfVoidLimitCheck, kSpfIncludeCheck,
                              kSpfPtrCheck, kSpfAllCheck, kSpfAfterAllCheck, kSpfRecordSizeCheck}) {
    EXPECT_EQ(VerdictOf(r, id), V::kPass) << id << ": " << DetailOf(r, id);
  }
  // No mx mechanism and no exp: those checks do not apply.
  EXPECT_EQ(VerdictOf(r, kSpfMxLimitCheck), std::nullopt);
  EXPECT_EQ(VerdictOf(r, kSpfExpCheck), std::nullopt);
}

TEST(SpfWalk, MicrosoftShapeWithMechanismsThatQuery) {
  FakeZone z;
  z.Spf("microsoft.com",
        "v=spf1 include:_spf-a.microsoft.com include:_spf-b.microsoft.com "
        "include:_spf-c.microsoft.com include:_spf-ssg-a.msft.net include:spf-a.hotmail.com "
        "include:_spf1-meo.microsoft.com -all");
  z.Spf("_spf-a.microsoft.com", "v=spf1 ip4:157.55.9.128/25 ip4:207.46.100.0/24 ~all");
  z.Spf("_spf-b.microsoft.com", "v=spf1 ip4:207.68.169.173/30 ~all");
  z.Spf("_spf-c.microsoft.com", "v=spf1 ip4:65.54.121.120/29 ~all");
  z.Spf("_spf-ssg-a.msft.net", "v=spf1 ip4:20.94.180.64/28 ~all");
  z.Spf("spf-a.hotmail.com", "v=spf1 ip4:157.55.0.192/26 a:out.hotmail.com mx ~all");
  z.Spf("_spf1-meo.microsoft.com", "v=spf1 ip4:52.102.0.0/16 ~all");
  z.Host("out.hotmail.com");
  z.Mx("spf-a.hotmail.com", 2);
  SpfResult r = z.Walk("microsoft.com");
  EXPECT_TRUE(r.valid) << DetailOf(r, kSpfLookupLimitCheck);
  EXPECT_EQ(r.dns_lookups, 8);
  EXPECT_EQ(r.void_lookups, 0);
  EXPECT_EQ(r.all_qualifier, "-");
  EXPECT_EQ(VerdictOf(r, kSpfMxLimitCheck), V::kPass);
  // "mx" with no domain asks for the MX of the record's own domain.
  bool asked_mx = false;
  for (const SpfQuery& q : z.asked) {
    if (q == SpfQuery{"spf-a.hotmail.com", SpfQueryType::kMx}) asked_mx = true;
  }
  EXPECT_TRUE(asked_mx);
}

// An ESP-heavy record: 11 DNS-querying terms over the tree.
TEST(SpfWalk, ElevenLookupsFail) {
  FakeZone z;
  z.Spf("shop.example",
        "v=spf1 mx include:sendgrid.net include:mailgun.org include:servers.mcsv.net "
        "include:_spf.salesforce.com include:amazonses.com include:spf.protection.outlook.com "
        "~all");
  z.Mx("shop.example", 2);
  z.Spf("sendgrid.net", "v=spf1 ip4:167.89.0.0/17 ~all");
  z.Spf("mailgun.org", "v=spf1 include:_spf.mailgun.org ~all");
  z.Spf("_spf.mailgun.org", "v=spf1 ip4:209.61.151.0/24 ~all");
  z.Spf("servers.mcsv.net", "v=spf1 ip4:205.201.128.0/20 ~all");
  z.Spf("_spf.salesforce.com", "v=spf1 exists:%{i}._spf.salesforce.com ~all");
  z.Spf("amazonses.com", "v=spf1 ip4:199.255.192.0/22 ~all");
  z.Spf("spf.protection.outlook.com",
        "v=spf1 include:spfa.protection.outlook.com include:spfb.protection.outlook.com -all");
  z.Spf("spfa.protection.outlook.com", "v=spf1 ip4:40.92.0.0/15 -all");
  z.Spf("spfb.protection.outlook.com", "v=spf1 ip4:104.47.0.0/17 -all");
  SpfResult r = z.Walk("shop.example");
  EXPECT_EQ(r.dns_lookups, 11);
  EXPECT_TRUE(r.present);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(VerdictOf(r, kSpfLookupLimitCheck), V::kFail);
  EXPECT_EQ(DetailOf(r, kSpfLookupLimitCheck), "11 DNS-querying terms (limit 10)");
  // The exists with a macro is counted but not asked for.
  for (const SpfQuery& q : z.asked) EXPECT_EQ(q.name.find('%'), std::string::npos);
}

TEST(SpfWalk, LookupCountBoundaries) {
  for (int n : {8, 9, 10}) {
    FakeZone z;
    std::string rec = "v=spf1";
    for (int i = 0; i < n; ++i) {
      const std::string host = "h" + std::to_string(i) + ".example.com";
      rec += " a:" + host;
      z.Host(host);
    }
    z.Spf("example.com", rec + " -all");
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(r.dns_lookups, n);
    EXPECT_TRUE(r.valid);
    EXPECT_EQ(VerdictOf(r, kSpfLookupLimitCheck), n >= 9 ? V::kWarn : V::kPass) << n;
  }
}

TEST(SpfWalk, NoRecord) {
  for (AK kind : {AK::kNxDomain, AK::kNoData}) {
    FakeZone z;
    z.Fail("example.com", SpfQueryType::kTxt, kind);
    SpfResult r = z.Walk("example.com");
    EXPECT_FALSE(r.present);
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(r.all_qualifier, "none");
    EXPECT_EQ(VerdictOf(r, kSpfPresentCheck), V::kFail);
    EXPECT_EQ(DetailOf(r, kSpfPresentCheck), "no SPF record");
    // Nothing to judge beyond presence.
    EXPECT_EQ(r.findings.size(), 2u);  // spf_present, spf_obsolete_records
  }
  FakeZone z;
  z.Txt("example.com", {"v=spf1-all", "hello"});
  SpfResult r = z.Walk("example.com");
  EXPECT_EQ(VerdictOf(r, kSpfPresentCheck), V::kFail);
  EXPECT_EQ(DetailOf(r, kSpfPresentCheck),
            "no SPF record; a TXT starts with \"v=spf1\" without a space");
}

TEST(SpfWalk, MultipleRecords) {
  FakeZone z;
  z.Txt("example.com", {"v=spf1 mx -all", "v=spf1 include:_spf.example.com -all"});
  SpfResult r = z.Walk("example.com");
  EXPECT_FALSE(r.present);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(VerdictOf(r, kSpfPresentCheck), V::kFail);
  EXPECT_EQ(DetailOf(r, kSpfPresentCheck), "2 SPF records (RFC 7208 §4.5 permerror)");
  EXPECT_EQ(z.asked.size(), 1u);
}

TEST(SpfWalk, SenderIdIsObsolete) {
  FakeZone z;
  z.Txt("example.com", {"spf2.0/mfrom,pra -all", "v=spf1 -all"});
  SpfResult r = z.Walk("example.com");
  EXPECT_EQ(VerdictOf(r, kSpfPresentCheck), V::kPass);
  EXPECT_EQ(VerdictOf(r, kSpfObsoleteCheck), V::kWarn);
}

TEST(SpfWalk, TopLevelTempErrorIsErrorNotFail) {
  for (AK kind : {AK::kServFail, AK::kTimeout, AK::kMalformed}) {
    FakeZone z;
    z.Fail("example.com", SpfQueryType::kTxt, kind);
    SpfResult r = z.Walk("example.com");
    EXPECT_FALSE(r.present);
    EXPECT_TRUE(r.temperror);
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings[0].check, kSpfPresentCheck);
    EXPECT_EQ(r.findings[0].verdict, V::kError);
  }
}

TEST(SpfWalk, TempErrorInIncludeIsError) {
  FakeZone z;
  z.Spf("example.com", "v=spf1 include:_spf.example.net mx -all");
  z.Fail("_spf.example.net", SpfQueryType::kTxt, AK::kServFail);
  z.Mx("example.com", 1);
  SpfResult r = z.Walk("example.com");
  EXPECT_TRUE(r.present);
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(r.temperror);
  EXPECT_EQ(r.dns_lookups, 2);
  EXPECT_EQ(VerdictOf(r, kSpfIncludeCheck), V::kError);
  EXPECT_EQ(DetailOf(r, kSpfIncludeCheck), "include:_spf.example.net: SERVFAIL");
  EXPECT_EQ(VerdictOf(r, kSpfLookupLimitCheck), V::kError);
  EXPECT_EQ(VerdictOf(r, kSpfVoidLimitCheck), V::kError);
  EXPECT_EQ(VerdictOf(r, kSpfPtrCheck), V::kError);
  EXPECT_EQ(VerdictOf(r, kSpfMxLimitCheck), V::kError);
  EXPECT_EQ(VerdictOf(r, kSpfAllCheck), V::kPass);  // the top record's own -all
  EXPECT_EQ(VerdictOf(r, kSpfSyntaxCheck), V::kPass);
  for (const Finding& f : r.findings) EXPECT_NE(f.verdict, V::kFail) << f.check;
}

TEST(SpfWalk, TempErrorDoesNotHideAKnownFailure) {
  FakeZone z;
  std::string rec = "v=spf1 include:down.example.net";
  for (int i = 0; i < 11; ++i) rec += " a:h" + std::to_string(i) + ".example.com";
  z.Spf("example.com", rec + " -all");
  for (int i = 0; i < 11; ++i) z.Host("h" + std::to_string(i) + ".example.com");
  z.Fail("down.example.net", SpfQueryType::kTxt, AK::kTimeout);
  SpfResult r = z.Walk("example.com");
  EXPECT_EQ(VerdictOf(r, kSpfLookupLimitCheck), V::kFail);
  EXPECT_EQ(r.dns_lookups, 12);
}

TEST(SpfWalk, RedirectAndAllPrecedence) {
  {  // No all: the redirected record's all is final, and the redirect counts.
    FakeZone z;
    z.Spf("example.com", "v=spf1 ip4:192.0.2.0/24 redirect=_spf.example.com");
    z.Spf("_spf.example.com", "v=spf1 ip4:198.51.100.0/24 -all");
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(r.all_qualifier, "-");
    EXPECT_EQ(r.dns_lookups, 1);
    EXPECT_TRUE(r.valid);
    EXPECT_EQ(VerdictOf(r, kSpfAllCheck), V::kPass);
    EXPECT_EQ(VerdictOf(r, kSpfIncludeCheck), V::kPass);
    ASSERT_EQ(r.visited.size(), 2u);
    EXPECT_EQ(r.visited[1].via, SpfVisited::Via::kRedirect);
  }
  {  // An all anywhere: the redirect is ignored (RFC 7208 §6.1), neither asked nor counted.
    FakeZone z;
    z.Spf("example.com", "v=spf1 redirect=_spf.example.com ~all");
    z.Spf("_spf.example.com", "v=spf1 -all");
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(r.all_qualifier, "~");
    EXPECT_EQ(r.dns_lookups, 0);
    EXPECT_EQ(z.asked.size(), 1u);
    EXPECT_EQ(VerdictOf(r, kSpfAfterAllCheck), V::kPass);
  }
  {  // Through a chain of redirects; ?all at the end is neutral at the top level.
    FakeZone z;
    z.Spf("example.com", "v=spf1 redirect=b.example.com");
    z.Spf("b.example.com", "v=spf1 mx redirect=c.example.com");
    z.Mx("b.example.com", 1);
    z.Spf("c.example.com", "v=spf1 ?all");
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(r.all_qualifier, "?");
    EXPECT_EQ(r.dns_lookups, 3);
    EXPECT_EQ(VerdictOf(r, kSpfAllCheck), V::kFail);
    EXPECT_EQ(DetailOf(r, kSpfAllCheck), "?all (neutral) at the top level");
  }
  {  // The all of an included record never becomes final.
    FakeZone z;
    z.Spf("example.com", "v=spf1 include:_spf.example.net");
    z.Spf("_spf.example.net", "v=spf1 -all");
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(r.all_qualifier, "none");
    EXPECT_EQ(VerdictOf(r, kSpfAllCheck), V::kFail);
    EXPECT_EQ(DetailOf(r, kSpfAllCheck), "no all and no redirect");
    EXPECT_TRUE(r.valid);  // a weak policy, not a broken one
  }
  {  // A redirect to nothing: permerror, no final all.
    FakeZone z;
    z.Spf("example.com", "v=spf1 redirect=gone.example.com");
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(r.all_qualifier, "none");
    EXPECT_EQ(r.void_lookups, 1);
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(VerdictOf(r, kSpfIncludeCheck), V::kFail);
    EXPECT_EQ(DetailOf(r, kSpfIncludeCheck), "redirect=gone.example.com: no SPF record (NXDOMAIN)");
    EXPECT_EQ(DetailOf(r, kSpfAllCheck), "redirect target has no valid SPF record");
  }
  {  // A redirect whose answer times out: the final all is unknown.
    FakeZone z;
    z.Spf("example.com", "v=spf1 redirect=slow.example.com");
    z.Fail("slow.example.com", SpfQueryType::kTxt, AK::kTimeout);
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(VerdictOf(r, kSpfAllCheck), V::kError);
  }
}

TEST(SpfWalk, AllQualifiers) {
  struct Case {
    std::string record;
    std::string qualifier;
    V verdict;
  };
  const Case kCases[] = {
      {"v=spf1 mx -all", "-", V::kPass}, {"v=spf1 mx ~all", "~", V::kPass},
      {"v=spf1 mx ?all", "?", V::kFail}, {"v=spf1 mx +all", "+", V::kFail},
      {"v=spf1 mx all", "+", V::kFail},  {"v=spf1 mx", "none", V::kFail},
      {"v=spf1 MX -ALL", "-", V::kPass},
  };
  for (const Case& c : kCases) {
    FakeZone z;
    z.Spf("example.com", c.record);
    z.Mx("example.com", 1);
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(r.all_qualifier, c.qualifier) << c.record;
    EXPECT_EQ(VerdictOf(r, kSpfAllCheck), c.verdict) << c.record;
  }
}

TEST(SpfWalk, IncludeLoop) {
  FakeZone z;
  z.Spf("a.example", "v=spf1 include:b.example -all");
  z.Spf("b.example", "v=spf1 include:A.Example. ~all");
  SpfResult r = z.Walk("a.example");
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.dns_lookups, 2);
  EXPECT_EQ(VerdictOf(r, kSpfIncludeCheck), V::kFail);
  EXPECT_EQ(DetailOf(r, kSpfIncludeCheck), "include loop at include:A.Example.");
  EXPECT_EQ(z.asked.size(), 2u);
}

TEST(SpfWalk, RedirectLoop) {
  FakeZone z;
  z.Spf("a.example", "v=spf1 redirect=b.example");
  z.Spf("b.example", "v=spf1 redirect=a.example");
  SpfResult r = z.Walk("a.example");
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(VerdictOf(r, kSpfIncludeCheck), V::kFail);
  EXPECT_EQ(DetailOf(r, kSpfIncludeCheck), "redirect loop at redirect=a.example");
  EXPECT_EQ(DetailOf(r, kSpfAllCheck), "redirect loop");
}

TEST(SpfWalk, SameIncludeTwiceWarnsButDiamondsDoNot) {
  FakeZone z;
  z.Spf("example.com",
        "v=spf1 include:_spf.example.net include:b.example.org include:_spf.example.net -all");
  z.Spf("b.example.org", "v=spf1 include:_spf.example.net -all");
  z.Spf("_spf.example.net", "v=spf1 ip4:192.0.2.0/24 -all");
  SpfResult r = z.Walk("example.com");
  EXPECT_EQ(r.dns_lookups, 4);  // every include is evaluated and paid again
  EXPECT_EQ(VerdictOf(r, kSpfIncludeCheck), V::kWarn);
  EXPECT_EQ(DetailOf(r, kSpfIncludeCheck), "include:_spf.example.net twice in example.com");
}

TEST(SpfWalk, InvalidIncludeTargets) {
  struct Case {
    std::vector<std::string> txts;
    std::string detail;
    int voids;
  };
  const Case kCases[] = {
      {{}, "include:_spf.example.net: no SPF record (no records)", 1},
      {{"some-verification=1"}, "include:_spf.example.net: no SPF record", 0},
      {{"v=spf1 -all", "v=spf1 ~all"}, "include:_spf.example.net: 2 SPF records", 0},
      {{"v=spf1 ip4:1.2.3.4/40 -all"},
       "include:_spf.example.net: invalid record: term 1 \"ip4:1.2.3.4/40\": invalid IPv4 CIDR "
       "length",
       0},
  };
  for (const Case& c : kCases) {
    FakeZone z;
    z.Spf("example.com", "v=spf1 include:_spf.example.net -all");
    z.Txt("_spf.example.net", c.txts);
    SpfResult r = z.Walk("example.com");
    EXPECT_FALSE(r.valid) << c.detail;
    EXPECT_EQ(r.void_lookups, c.voids) << c.detail;
    EXPECT_EQ(VerdictOf(r, kSpfIncludeCheck), V::kFail) << c.detail;
    EXPECT_EQ(DetailOf(r, kSpfIncludeCheck), c.detail);
    EXPECT_EQ(VerdictOf(r, kSpfSyntaxCheck), V::kPass);  // SPF-03 judges the domain's own record
  }
}

TEST(SpfWalk, ThreeVoidLookupsFail) {
  FakeZone z;
  z.Spf("example.com", "v=spf1 a:missing-1.test a:missing-2.test mx:missing-3.test -all");
  z.Fail("missing-2.test", SpfQueryType::kAddress, AK::kNoData);
  SpfResult r = z.Walk("example.com");
  EXPECT_EQ(r.void_lookups, 3);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(VerdictOf(r, kSpfVoidLimitCheck), V::kFail);
  EXPECT_EQ(DetailOf(r, kSpfVoidLimitCheck), "3 void lookups (limit 2)");
  EXPECT_EQ(VerdictOf(r, kSpfLookupLimitCheck), V::kPass);
}

TEST(SpfWalk, TwoVoidLookupsPass) {
  FakeZone z;
  z.Spf("example.com", "v=spf1 a:missing-1.test exists:missing-2.test a -all");
  z.Host("example.com");
  SpfResult r = z.Walk("example.com");
  EXPECT_EQ(r.void_lookups, 2);
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(VerdictOf(r, kSpfVoidLimitCheck), V::kPass);
  EXPECT_EQ(z.asked[2], (SpfQuery{"missing-2.test", SpfQueryType::kA}));
  EXPECT_EQ(z.asked[3], (SpfQuery{"example.com", SpfQueryType::kAddress}));
}

TEST(SpfWalk, MxWithElevenNamesFails) {
  for (int names : {10, 11}) {
    FakeZone z;
    z.Spf("example.com", "v=spf1 mx mx:big.test -all");
    z.Mx("example.com", 1);
    z.Mx("big.test", names);
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(r.valid, names == 10);
    EXPECT_EQ(VerdictOf(r, kSpfMxLimitCheck), names == 10 ? V::kPass : V::kFail);
    if (names == 11) {
      EXPECT_EQ(DetailOf(r, kSpfMxLimitCheck), "mx:big.test has 11 MX names (limit 10)");
    }
  }
}

TEST(SpfWalk, PtrWarns) {
  FakeZone z;
  z.Spf("example.com", "v=spf1 include:_spf.example.com -all");
  z.Spf("_spf.example.com", "v=spf1 ptr ~all");
  SpfResult r = z.Walk("example.com");
  EXPECT_EQ(r.dns_lookups, 2);
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(VerdictOf(r, kSpfPtrCheck), V::kWarn);
  EXPECT_EQ(DetailOf(r, kSpfPtrCheck), "ptr used in _spf.example.com");
}

TEST(SpfWalk, MacroTargetsCountButAreNotWalked) {
  FakeZone z;
  z.Spf("example.com",
        "v=spf1 include:%{d}.spf.example.net exists:%{i}.x.example.com mx:%{d} "
        "redirect=%{d}.example.org");
  SpfResult r = z.Walk("example.com");
  EXPECT_EQ(r.dns_lookups, 4);
  EXPECT_EQ(z.asked.size(), 1u);
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.all_qualifier, "none");
  EXPECT_EQ(VerdictOf(r, kSpfMxLimitCheck), std::nullopt);
  EXPECT_EQ(DetailOf(r, kSpfAllCheck), "the final all is behind a redirect with macros");
}

TEST(SpfWalk, SyntaxErrorStopsTheWalk) {
  FakeZone z;
  z.Spf("example.com", "v=spf1 include:_spf.example.com ip4:300.1.1.1 -all");
  SpfResult r = z.Walk("example.com");
  EXPECT_TRUE(r.present);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(VerdictOf(r, kSpfSyntaxCheck), V::kFail);
  EXPECT_EQ(DetailOf(r, kSpfSyntaxCheck), "term 2 \"ip4:300.1.1.1\": invalid IPv4 address");
  EXPECT_EQ(VerdictOf(r, kSpfRecordSizeCheck), V::kPass);
  EXPECT_EQ(VerdictOf(r, kSpfLookupLimitCheck), std::nullopt);
  EXPECT_EQ(z.asked.size(), 1u);
}

TEST(SpfWalk, TermsAfterAllWarn) {
  FakeZone z;
  z.Spf("example.com", "v=spf1 mx -all include:_spf.example.net exp=why.example.com");
  z.Mx("example.com", 1);
  z.Spf("_spf.example.net", "v=spf1 -all");
  z.Txt("why.example.com", {"%{i} is not allowed to send for %{d}"});
  SpfResult r = z.Walk("example.com");
  EXPECT_EQ(VerdictOf(r, kSpfAfterAllCheck), V::kWarn);
  EXPECT_EQ(DetailOf(r, kSpfAfterAllCheck), "ignored after all: include:_spf.example.net");
  EXPECT_EQ(VerdictOf(r, kSpfExpCheck), V::kPass);
  EXPECT_EQ(r.dns_lookups, 2);  // exp does not count
}

TEST(SpfWalk, ExpTarget) {
  struct Case {
    std::optional<std::vector<std::string>> txts;  // nullopt: NXDOMAIN
    V verdict;
    std::string detail;
  };
  const Case kCases[] = {
      {std::vector<std::string>{"Not authorised: see %{d}"}, V::kPass, ""},
      {std::nullopt, V::kWarn, "exp target has no TXT record"},
      {std::vector<std::string>{"one", "two"}, V::kWarn, "exp target has 2 TXT records"},
      {std::vector<std::string>{"50% off"}, V::kWarn, "exp text: '% ' is not a macro"},
  };
  for (const Case& c : kCases) {
    FakeZone z;
    z.Spf("example.com", "v=spf1 -all exp=why.example.com");
    if (c.txts) z.Txt("why.example.com", *c.txts);
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(VerdictOf(r, kSpfExpCheck), c.verdict) << c.detail;
    EXPECT_EQ(DetailOf(r, kSpfExpCheck), c.detail);
    EXPECT_EQ(r.void_lookups, 0);
  }
  FakeZone z;
  z.Spf("example.com", "v=spf1 -all exp=why.example.com");
  z.Fail("why.example.com", SpfQueryType::kTxt, AK::kServFail);
  SpfResult r = z.Walk("example.com");
  EXPECT_EQ(VerdictOf(r, kSpfExpCheck), V::kError);
}

TEST(SpfWalk, RecordSize) {
  struct Case {
    size_t size;
    V verdict;
  };
  for (Case c : {Case{450, V::kPass}, Case{451, V::kWarn}, Case{513, V::kWarn}}) {
    std::string rec = "v=spf1";
    while (rec.size() + 20 < c.size) rec += " ip4:192.0.2.1";
    rec += " -all";
    rec.insert(6, std::string(c.size - rec.size(), ' '));
    ASSERT_EQ(rec.size(), c.size);
    FakeZone z;
    z.Spf("example.com", rec);
    SpfResult r = z.Walk("example.com");
    EXPECT_EQ(VerdictOf(r, kSpfRecordSizeCheck), c.verdict) << c.size;
  }
}

TEST(SpfWalk, HostileEndlessTreeIsCut) {
  FakeZone z;
  // Every record includes two fresh names: the tree never ends by itself.
  z.dynamic = [](const SpfQuery& q) -> std::optional<SpfDnsAnswer> {
    if (q.type != SpfQueryType::kTxt) return std::nullopt;
    return SpfDnsAnswer{AK::kOk, {"v=spf1 include:a." + q.name + " include:b." + q.name + " -all"}};
  };
  SpfResult r = z.Walk("x.test");
  EXPECT_LE(static_cast<int>(z.asked.size()), kSpfMaxWalkQueries);
  EXPECT_TRUE(r.truncated);
  EXPECT_FALSE(r.valid);
  EXPECT_GT(r.dns_lookups, kSpfMaxDnsLookups);
  EXPECT_EQ(VerdictOf(r, kSpfLookupLimitCheck), V::kFail);
  EXPECT_EQ(DetailOf(r, kSpfLookupLimitCheck).rfind("at least ", 0), 0u);
}

TEST(SpfWalk, FeedAfterDoneIsIgnored) {
  SpfWalk walk("example.com");
  ASSERT_EQ(walk.NextQuery(), (SpfQuery{"example.com", SpfQueryType::kTxt}));
  EXPECT_FALSE(walk.done());
  walk.Feed(SpfDnsAnswer{AK::kOk, {"v=spf1 -all"}});
  EXPECT_TRUE(walk.done());
  EXPECT_EQ(walk.NextQuery(), std::nullopt);
  const size_t findings = walk.result().findings.size();
  walk.Feed(SpfDnsAnswer{AK::kOk, {"v=spf1 +all"}});
  EXPECT_EQ(walk.result().findings.size(), findings);
  EXPECT_EQ(walk.result().all_qualifier, "-");
  EXPECT_TRUE(IsNonSendingSpfPolicy(walk.result().record));
}

TEST(SpfWalk, OneFindingPerCheck) {
  FakeZone z;
  z.Spf("example.com", "v=spf1 mx ptr include:a.example -all ip4:192.0.2.1 exp=why.example");
  z.Mx("example.com", 1);
  z.Spf("a.example", "v=spf1 ptr -all");
  SpfResult r = z.Walk("example.com");
  std::map<std::string_view, int> seen;
  for (const Finding& f : r.findings) ++seen[f.check];
  for (const auto& [check, n] : seen) EXPECT_EQ(n, 1) << check;
  EXPECT_EQ(seen.size(), 12u);  // every SPF check applies here
}

}  // namespace
}  // namespace mailsec::checks
