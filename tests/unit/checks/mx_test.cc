#include "mailsec/checks/mx.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>

#include "unit/checks/checks_test_util.h"

namespace mailsec::checks {
namespace {

using Dnssec = MxHostInput::Dnssec;

MxHostInput Host(std::string name, uint16_t pref, std::vector<std::string> addrs,
                 Dnssec dnssec = Dnssec::kSecure) {
  MxHostInput h;
  h.name = std::move(name);
  h.preference = pref;
  h.a_status = addrs.empty() ? LookupStatus::kNoData : LookupStatus::kOk;
  h.aaaa_status = LookupStatus::kNoData;
  h.addresses = std::move(addrs);
  h.dnssec = dnssec;
  return h;
}

PtrInput Ptr(std::string host, std::string ip, bool confirmed = true) {
  return PtrInput{std::move(host), std::move(ip), LookupStatus::kOk, {"mx.example.org"}, confirmed};
}

// A domain that passes every check: two signed MX hosts with routable, forward-confirmed
// addresses.
MxInputs Good() {
  MxInputs in;
  in.domain = "Example.ORG.";
  in.mx_status = LookupStatus::kOk;
  in.mx = {Host("mx1.example.org.", 10, {"93.184.216.34", "2606:2800:220:1::25"}),
           Host("mx2.example.org", 20, {"93.184.216.35"})};
  in.apex_address_status = LookupStatus::kOk;
  in.apex_has_address = true;
  in.ptrs = {Ptr("mx1.example.org", "93.184.216.34"), Ptr("mx1.example.org", "2606:2800:220:1::25"),
             Ptr("mx2.example.org", "93.184.216.35")};
  in.domain_dnssec = Dnssec::kSecure;
  return in;
}

MxInputs NoMx(LookupStatus apex, bool has_address) {
  MxInputs in = Good();
  in.mx_status = LookupStatus::kNoData;
  in.mx.clear();
  in.ptrs.clear();
  in.apex_address_status = apex;
  in.apex_has_address = has_address;
  return in;
}

MxInputs NullOnly() {
  MxInputs in = NoMx(LookupStatus::kOk, true);
  in.mx_status = LookupStatus::kOk;
  in.mx = {Host(".", 0, {})};
  return in;
}

struct MxCase {
  const char* name;
  std::function<MxInputs()> in;
  std::string_view check;
  std::optional<CheckVerdict> verdict;  // nullopt: no finding expected
};

class MxRuleTest : public ::testing::TestWithParam<MxCase> {};

TEST_P(MxRuleTest, Rule) {
  const MxCase& c = GetParam();
  MxAssessment a = AssessMx(c.in());
  if (!c.verdict) {
    const Finding* f = Find(a, c.check);
    EXPECT_EQ(f, nullptr) << c.check << ": " << (f ? f->detail : "");
  } else {
    ExpectVerdict(a, c.check, *c.verdict);
  }
  // Every finding is one of ours, at most once.
  for (const Finding& f : a.findings) {
    EXPECT_NE(std::find(MxCheckIds().begin(), MxCheckIds().end(), f.check), MxCheckIds().end());
    EXPECT_EQ(std::count_if(a.findings.begin(), a.findings.end(),
                            [&](const Finding& g) { return g.check == f.check; }),
              1)
        << f.check;
  }
}

constexpr auto kPass = CheckVerdict::kPass;
constexpr auto kWarn = CheckVerdict::kWarn;
constexpr auto kFail = CheckVerdict::kFail;
constexpr auto kError = CheckVerdict::kError;
constexpr std::optional<CheckVerdict> kNone;

// Good() changed by `edit`.
std::function<MxInputs()> GoodWith(std::function<void(MxInputs&)> edit) {
  return [edit] {
    MxInputs in = Good();
    edit(in);
    return in;
  };
}

INSTANTIATE_TEST_SUITE_P(
    Table, MxRuleTest,
    ::testing::Values(
        // MX-01.
        MxCase{"present_pass", Good, kMxPresentCheck, kPass},
        MxCase{"present_lookup_error",
               GoodWith([](MxInputs& in) { in.mx_status = LookupStatus::kError; }), kMxPresentCheck,
               kError},
        MxCase{"present_implicit_mx", [] { return NoMx(LookupStatus::kOk, true); }, kMxPresentCheck,
               kWarn},
        MxCase{"present_no_mx_no_address_info", [] { return NoMx(LookupStatus::kNoData, false); },
               kMxPresentCheck, kNone},
        MxCase{"present_nxdomain",
               [] {
                 MxInputs in = NoMx(LookupStatus::kNxDomain, false);
                 in.mx_status = LookupStatus::kNxDomain;
                 return in;
               },
               kMxPresentCheck, kNone},
        MxCase{"present_no_mx_apex_error", [] { return NoMx(LookupStatus::kError, false); },
               kMxPresentCheck, kError},
        MxCase{"present_only_localhost",
               GoodWith([](MxInputs& in) { in.mx = {Host("localhost.", 10, {"127.0.0.1"})}; }),
               kMxPresentCheck, kWarn},
        MxCase{"present_null_mx_not_applicable", NullOnly, kMxPresentCheck, kNone},
        MxCase{"present_null_and_other",
               GoodWith([](MxInputs& in) { in.mx.push_back(Host(".", 0, {})); }), kMxPresentCheck,
               kPass},
        // MX-02.
        MxCase{"null_absent", Good, kNullMxCheck, kNone},
        MxCase{"null_only", NullOnly, kNullMxCheck, kPass},
        MxCase{"null_empty_name",
               [] {
                 MxInputs in = NullOnly();
                 in.mx[0].name = "";
                 return in;
               },
               kNullMxCheck, kPass},
        MxCase{"null_without_address_info",
               [] {
                 MxInputs in = NullOnly();
                 in.apex_address_status = LookupStatus::kNoData;
                 in.apex_has_address = false;
                 return in;
               },
               kNullMxCheck, kPass},
        MxCase{"null_with_other_mx",
               GoodWith([](MxInputs& in) { in.mx.push_back(Host(".", 0, {})); }), kNullMxCheck,
               kFail},
        MxCase{"null_nonzero_preference",
               [] {
                 MxInputs in = NullOnly();
                 in.mx[0].preference = 10;
                 return in;
               },
               kNullMxCheck, kFail},
        // MX-03.
        MxCase{"resolves_pass", Good, kMxResolvesCheck, kPass},
        MxCase{"resolves_ip_literal",
               GoodWith([](MxInputs& in) { in.mx.push_back(Host("192.0.2.1.", 30, {})); }),
               kMxResolvesCheck, kFail},
        MxCase{"resolves_no_address", GoodWith([](MxInputs& in) { in.mx[1].addresses.clear(); }),
               kMxResolvesCheck, kFail},
        MxCase{"resolves_cname", GoodWith([](MxInputs& in) { in.mx[0].is_cname = true; }),
               kMxResolvesCheck, kWarn},
        MxCase{"resolves_lookup_error", GoodWith([](MxInputs& in) {
                 in.mx[1].addresses.clear();
                 in.mx[1].a_status = LookupStatus::kError;
               }),
               kMxResolvesCheck, kError},
        MxCase{"resolves_one_family_failed",
               GoodWith([](MxInputs& in) { in.mx[1].aaaa_status = LookupStatus::kError; }),
               kMxResolvesCheck, kPass},
        MxCase{"resolves_warn_outranks_error", GoodWith([](MxInputs& in) {
                 in.mx[0].is_cname = true;
                 in.mx[1].addresses.clear();
                 in.mx[1].a_status = LookupStatus::kError;
               }),
               kMxResolvesCheck, kWarn},
        MxCase{"resolves_fail_outranks_warn", GoodWith([](MxInputs& in) {
                 in.mx[0].is_cname = true;
                 in.mx[1].addresses.clear();
               }),
               kMxResolvesCheck, kFail},
        MxCase{"resolves_null_mx", NullOnly, kMxResolvesCheck, kNone},
        MxCase{"resolves_no_mx", [] { return NoMx(LookupStatus::kOk, true); }, kMxResolvesCheck,
               kNone},
        // MX-04.
        MxCase{"duplicate_pass", Good, kMxDuplicateCheck, kPass},
        MxCase{"duplicate_same_host", GoodWith([](MxInputs& in) {
                 in.mx.push_back(Host("MX1.example.org", 30, {"93.184.216.34"}));
               }),
               kMxDuplicateCheck, kWarn},
        MxCase{"duplicate_null_mx", NullOnly, kMxDuplicateCheck, kNone},
        // MX-05.
        MxCase{"routable_pass", Good, kMxRoutableCheck, kPass},
        MxCase{"routable_localhost",
               GoodWith([](MxInputs& in) { in.mx.push_back(Host("localhost", 5, {"127.0.0.1"})); }),
               kMxRoutableCheck, kWarn},
        MxCase{"routable_rfc1918",
               GoodWith([](MxInputs& in) { in.mx[1].addresses = {"10.0.0.25"}; }), kMxRoutableCheck,
               kWarn},
        MxCase{"routable_loopback_integration_fleet", GoodWith([](MxInputs& in) {
                 in.mx = {Host("mx.good.test", 10, {"127.0.0.25", "::1"})};
               }),
               kMxRoutableCheck, kWarn},
        MxCase{"routable_one_public_address", GoodWith([](MxInputs& in) {
                 in.mx[1].addresses = {"10.0.0.25", "93.184.216.35"};
               }),
               kMxRoutableCheck, kPass},
        MxCase{"routable_ula_and_link_local", GoodWith([](MxInputs& in) {
                 in.mx[1].addresses = {"fd00::25", "fe80::1"};
               }),
               kMxRoutableCheck, kWarn},
        MxCase{"routable_null_mx", NullOnly, kMxRoutableCheck, kNone},
        // PTR-01.
        MxCase{"ptr_pass", Good, kPtrPresentCheck, kPass},
        MxCase{"ptr_missing", GoodWith([](MxInputs& in) {
                 in.ptrs[1].ptr_status = LookupStatus::kNxDomain;
                 in.ptrs[1].ptr_names.clear();
               }),
               kPtrPresentCheck, kWarn},
        MxCase{"ptr_lookup_error",
               GoodWith([](MxInputs& in) { in.ptrs[2].ptr_status = LookupStatus::kError; }),
               kPtrPresentCheck, kError},
        MxCase{"ptr_warn_outranks_error", GoodWith([](MxInputs& in) {
                 in.ptrs[0].ptr_status = LookupStatus::kError;
                 in.ptrs[2].ptr_status = LookupStatus::kNoData;
                 in.ptrs[2].ptr_names.clear();
               }),
               kPtrPresentCheck, kWarn},
        MxCase{"ptr_no_addresses", GoodWith([](MxInputs& in) { in.ptrs.clear(); }),
               kPtrPresentCheck, kNone},
        // PTR-02.
        MxCase{"fcrdns_pass", Good, kFcrdnsCheck, kPass},
        MxCase{"fcrdns_not_confirmed",
               GoodWith([](MxInputs& in) { in.ptrs[2].forward_confirmed = false; }), kFcrdnsCheck,
               kWarn},
        MxCase{"fcrdns_lookup_error",
               GoodWith([](MxInputs& in) { in.ptrs[0].ptr_status = LookupStatus::kError; }),
               kFcrdnsCheck, kError},
        MxCase{"fcrdns_no_ptr_anywhere", GoodWith([](MxInputs& in) {
                 for (PtrInput& p : in.ptrs) {
                   p.ptr_status = LookupStatus::kNxDomain;
                   p.ptr_names.clear();
                 }
               }),
               kFcrdnsCheck, kNone},
        MxCase{"fcrdns_no_addresses", GoodWith([](MxInputs& in) { in.ptrs.clear(); }), kFcrdnsCheck,
               kNone},
        // DNSSEC-01.
        MxCase{"signed_secure", Good, kDnssecSignedCheck, kPass},
        MxCase{"signed_bogus", GoodWith([](MxInputs& in) { in.domain_dnssec = Dnssec::kBogus; }),
               kDnssecSignedCheck, kPass},
        MxCase{"signed_insecure",
               GoodWith([](MxInputs& in) { in.domain_dnssec = Dnssec::kInsecure; }),
               kDnssecSignedCheck, kFail},
        MxCase{"signed_unknown",
               GoodWith([](MxInputs& in) { in.domain_dnssec = Dnssec::kUnknown; }),
               kDnssecSignedCheck, kError},
        MxCase{"signed_after_mx_lookup_error",
               GoodWith([](MxInputs& in) { in.mx_status = LookupStatus::kError; }),
               kDnssecSignedCheck, kPass},
        // DNSSEC-02.
        MxCase{"valid_secure", Good, kDnssecValidCheck, kPass},
        MxCase{"valid_bogus", GoodWith([](MxInputs& in) { in.domain_dnssec = Dnssec::kBogus; }),
               kDnssecValidCheck, kFail},
        MxCase{"valid_unsigned",
               GoodWith([](MxInputs& in) { in.domain_dnssec = Dnssec::kInsecure; }),
               kDnssecValidCheck, kNone},
        MxCase{"valid_unknown", GoodWith([](MxInputs& in) { in.domain_dnssec = Dnssec::kUnknown; }),
               kDnssecValidCheck, kError},
        // DNSSEC-03.
        MxCase{"mx_signed_pass", Good, kDnssecMxSignedCheck, kPass},
        MxCase{"mx_signed_one_insecure",
               GoodWith([](MxInputs& in) { in.mx[1].dnssec = Dnssec::kInsecure; }),
               kDnssecMxSignedCheck, kFail},
        MxCase{"mx_signed_bogus_counts_as_signed",
               GoodWith([](MxInputs& in) { in.mx[1].dnssec = Dnssec::kBogus; }),
               kDnssecMxSignedCheck, kPass},
        MxCase{"mx_signed_unknown",
               GoodWith([](MxInputs& in) { in.mx[0].dnssec = Dnssec::kUnknown; }),
               kDnssecMxSignedCheck, kError},
        MxCase{"mx_signed_null_mx", NullOnly, kDnssecMxSignedCheck, kNone},
        MxCase{"mx_signed_implicit_mx", [] { return NoMx(LookupStatus::kOk, true); },
               kDnssecMxSignedCheck, kNone},
        // DNSSEC-04.
        MxCase{"mx_valid_pass", Good, kDnssecMxValidCheck, kPass},
        MxCase{"mx_valid_bogus", GoodWith([](MxInputs& in) { in.mx[0].dnssec = Dnssec::kBogus; }),
               kDnssecMxValidCheck, kFail},
        MxCase{"mx_valid_some_unsigned",
               GoodWith([](MxInputs& in) { in.mx[0].dnssec = Dnssec::kInsecure; }),
               kDnssecMxValidCheck, kPass},
        MxCase{"mx_valid_all_unsigned", GoodWith([](MxInputs& in) {
                 for (MxHostInput& h : in.mx) h.dnssec = Dnssec::kInsecure;
               }),
               kDnssecMxValidCheck, kNone},
        MxCase{"mx_valid_unknown",
               GoodWith([](MxInputs& in) { in.mx[1].dnssec = Dnssec::kUnknown; }),
               kDnssecMxValidCheck, kError}),
    CaseName());

TEST(MxAssess, GoodDomainPassesEverything) {
  MxAssessment a = AssessMx(Good());
  EXPECT_FALSE(a.null_mx);
  EXPECT_FALSE(a.implicit_mx);
  EXPECT_EQ(a.hosts, (std::vector<std::string>{"mx1.example.org", "mx2.example.org"}));
  for (const Finding& f : a.findings) {
    EXPECT_EQ(f.verdict, CheckVerdict::kPass) << f.check << ": " << f.detail;
  }
  EXPECT_EQ(a.findings.size(), MxCheckIds().size() - 1);  // all but null_mx
}

TEST(MxAssess, HostsInPreferenceOrderDeduplicatedWithoutUnusableTargets) {
  MxInputs in = Good();
  in.mx = {Host("b.example.org", 20, {"93.184.216.1"}),
           Host("A.example.org.", 10, {"93.184.216.2"}),
           Host("c.example.org", 20, {"93.184.216.3"}),
           Host("a.example.org", 30, {"93.184.216.2"}),
           Host("localhost", 0, {"127.0.0.1"}),
           Host("[192.0.2.7]", 0, {}),
           Host("192.0.2.8", 0, {})};
  MxAssessment a = AssessMx(in);
  EXPECT_EQ(a.hosts, (std::vector<std::string>{"a.example.org", "b.example.org", "c.example.org"}));
}

TEST(MxAssess, NullMxAndImplicitMxFlags) {
  MxAssessment null_only = AssessMx(NullOnly());
  EXPECT_TRUE(null_only.null_mx);
  EXPECT_TRUE(null_only.hosts.empty());
  EXPECT_EQ(Find(null_only, kNullMxCheck)->detail.find("unnecessary"), std::string::npos);

  MxInputs no_addr = NullOnly();
  no_addr.apex_address_status = LookupStatus::kNxDomain;
  no_addr.apex_has_address = false;
  EXPECT_NE(Find(AssessMx(no_addr), kNullMxCheck)->detail.find("unnecessary"), std::string::npos);

  MxInputs mixed = Good();
  mixed.mx.push_back(Host(".", 0, {}));
  MxAssessment m = AssessMx(mixed);
  EXPECT_FALSE(m.null_mx);
  EXPECT_EQ(m.hosts.size(), 2u);

  MxAssessment implicit = AssessMx(NoMx(LookupStatus::kOk, true));
  EXPECT_TRUE(implicit.implicit_mx);
  EXPECT_EQ(implicit.hosts, std::vector<std::string>{"example.org"});

  MxAssessment none = AssessMx(NoMx(LookupStatus::kNoData, false));
  EXPECT_FALSE(none.implicit_mx);
  EXPECT_FALSE(none.null_mx);
  EXPECT_TRUE(none.hosts.empty());
}

TEST(MxAssess, LookupErrorYieldsOnlyPresenceAndDomainDnssec) {
  MxInputs in = Good();
  in.mx_status = LookupStatus::kError;
  MxAssessment a = AssessMx(in);
  ASSERT_EQ(a.findings.size(), 3u);
  EXPECT_EQ(a.findings[0].check, kMxPresentCheck);
  EXPECT_EQ(a.findings[1].check, kDnssecSignedCheck);
  EXPECT_EQ(a.findings[2].check, kDnssecValidCheck);
  EXPECT_TRUE(a.hosts.empty());
}

TEST(MxAssess, DetailNamesFirstOffender) {
  MxInputs in = Good();
  in.ptrs[1].forward_confirmed = false;
  in.ptrs[2].forward_confirmed = false;
  const MxAssessment a = AssessMx(in);  // Find points into it: keep it alive
  const Finding* f = Find(a, kFcrdnsCheck);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("2606:2800:220:1::25"), std::string::npos) << f->detail;
  EXPECT_EQ(f->detail.find("93.184.216.35"), std::string::npos) << f->detail;

  MxInputs dup = Good();
  dup.mx.push_back(Host("mx2.example.org.", 5, {"93.184.216.35"}));
  EXPECT_NE(Find(AssessMx(dup), kMxDuplicateCheck)->detail.find("mx2.example.org"),
            std::string::npos);
}

struct ReverseCase {
  const char* name;
  std::string ip;
  std::string want;
};

class ReverseNameTest : public ::testing::TestWithParam<ReverseCase> {};

TEST_P(ReverseNameTest, Name) { EXPECT_EQ(ReverseName(GetParam().ip), GetParam().want); }

INSTANTIATE_TEST_SUITE_P(
    Table, ReverseNameTest,
    ::testing::Values(
        ReverseCase{"v4", "192.0.2.1", "1.2.0.192.in-addr.arpa"},
        ReverseCase{"v4_zero", "10.0.0.0", "0.0.0.10.in-addr.arpa"},
        ReverseCase{"v6", "2001:db8::567:89ab",
                    "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
        ReverseCase{"v6_loopback", "::1",
                    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"},
        ReverseCase{"v6_upper", "2001:DB8::1",
                    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
        ReverseCase{"empty", "", ""}, ReverseCase{"name", "mx.example.org", ""},
        ReverseCase{"v4_out_of_range", "256.1.1.1", ""}, ReverseCase{"v4_short", "1.2.3", ""},
        ReverseCase{"trailing_space", "1.2.3.4 ", ""},
        ReverseCase{"huge", std::string(1000, '1'), ""}),
    CaseName());

struct RoutableCase {
  const char* name;
  std::string ip;
  bool unroutable;
};

class UnroutableTest : public ::testing::TestWithParam<RoutableCase> {};

TEST_P(UnroutableTest, Classifies) {
  EXPECT_EQ(IsUnroutable(GetParam().ip), GetParam().unroutable) << GetParam().ip;
}

INSTANTIATE_TEST_SUITE_P(
    Table, UnroutableTest,
    ::testing::Values(
        RoutableCase{"public_v4", "93.184.216.34", false},
        RoutableCase{"loopback", "127.0.0.25", true}, RoutableCase{"this_net", "0.0.0.0", true},
        RoutableCase{"rfc1918_10", "10.1.2.3", true},
        RoutableCase{"rfc1918_172_16", "172.16.0.1", true},
        RoutableCase{"rfc1918_172_31", "172.31.255.255", true},
        RoutableCase{"not_rfc1918_172_32", "172.32.0.1", false},
        RoutableCase{"rfc1918_192_168", "192.168.1.1", true},
        RoutableCase{"shared", "100.64.0.1", true},
        RoutableCase{"link_local_v4", "169.254.1.1", true},
        RoutableCase{"doc_1", "192.0.2.10", true}, RoutableCase{"doc_2", "198.51.100.1", true},
        RoutableCase{"doc_3", "203.0.113.9", true},
        RoutableCase{"public_v6", "2a00:1450:4001:82b::1b", false},
        RoutableCase{"v6_loopback", "::1", true}, RoutableCase{"v6_unspecified", "::", true},
        RoutableCase{"ula", "fd12:3456::1", true}, RoutableCase{"link_local_v6", "fe80::1", true},
        RoutableCase{"doc_v6", "2001:db8::25", true}, RoutableCase{"doc_v6_new", "3fff:1::1", true},
        RoutableCase{"mapped_private", "::ffff:10.0.0.1", true},
        RoutableCase{"mapped_public", "::ffff:93.184.216.34", false},
        RoutableCase{"garbage", "mx.example.org", false}, RoutableCase{"empty", "", false}),
    CaseName());

TEST(MxHelpers, NullMxLocalhostAndLiterals) {
  EXPECT_TRUE(IsNullMx(".", 0));
  EXPECT_TRUE(IsNullMx("", 0));
  EXPECT_FALSE(IsNullMx(".", 10));
  EXPECT_FALSE(IsNullMx("mx.example.org", 0));
  EXPECT_TRUE(IsLocalhostName("localhost"));
  EXPECT_TRUE(IsLocalhostName("LocalHost."));
  EXPECT_TRUE(IsLocalhostName("mx.localhost"));
  EXPECT_FALSE(IsLocalhostName("localhost.example.org"));
  EXPECT_FALSE(IsLocalhostName("mylocalhost"));
  EXPECT_TRUE(IsIpLiteral("192.0.2.1"));
  EXPECT_TRUE(IsIpLiteral("192.0.2.1."));
  EXPECT_TRUE(IsIpLiteral("[192.0.2.1]"));
  EXPECT_TRUE(IsIpLiteral("[2001:db8::1]"));
  EXPECT_FALSE(IsIpLiteral("mx1.example.org"));
  EXPECT_FALSE(IsIpLiteral("1.2.3.4.example.org"));
}

}  // namespace
}  // namespace mailsec::checks
