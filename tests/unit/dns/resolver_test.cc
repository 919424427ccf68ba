#include "mailsec/dns/resolver.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include "testing/mock_dns_server.h"

namespace mailsec::dns {
namespace {

using mailsec::testing::MockDnsReply;
using mailsec::testing::MockDnsServer;
using mailsec::testing::MockRr;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
namespace mock = mailsec::testing;

uint16_t T(RrType t) { return static_cast<uint16_t>(t); }

MockDnsReply Answer(std::vector<MockRr> rrs, bool ad = false) {
  MockDnsReply r;
  r.answers = std::move(rrs);
  r.ad = ad;
  return r;
}

class ResolverTest : public ::testing::Test {
 protected:
  std::unique_ptr<AresResolver> MakeResolver(milliseconds attempt = milliseconds(2000)) {
    ResolverOptions o;
    o.servers = {server_.address()};
    o.attempt_timeout = attempt;
    o.tries = 2;
    auto r = AresResolver::Create(io_.get_executor(), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  // Runs one query on the test's loop; every wait is bounded by the deadline plus slack.
  DnsAnswer Run(Resolver& r, const std::string& name, RrType type,
                milliseconds timeout = milliseconds(3000)) {
    std::optional<DnsAnswer> out;
    asio::co_spawn(io_, r.Query(name, type, steady_clock::now() + timeout),
                   [&](std::exception_ptr e, DnsAnswer a) {
                     EXPECT_FALSE(e) << "query threw";
                     out = std::move(a);
                   });
    RunUntil([&] { return out.has_value(); }, timeout + milliseconds(3000));
    EXPECT_TRUE(out.has_value()) << name << ": no completion";
    return out.value_or(DnsAnswer{});
  }

  template <typename Pred>
  void RunUntil(Pred done, milliseconds limit) {
    const auto wall = steady_clock::now() + limit;
    io_.restart();
    while (!done() && steady_clock::now() < wall) io_.run_one_for(milliseconds(20));
  }

  void RunFor(milliseconds d) {
    RunUntil([] { return false; }, d);
  }

  asio::io_context io_;
  MockDnsServer server_;
};

TEST_F(ResolverTest, TypedAnswersForEachType) {
  server_.Set("ex.test", T(RrType::kA), Answer({{"ex.test", 1, mock::RdataA("192.0.2.1")}}));
  server_.Set("ex.test", T(RrType::kAaaa),
              Answer({{"ex.test", 28, mock::RdataAaaa("2001:db8::1")}}));
  server_.Set("ex.test", T(RrType::kMx),
              Answer({{"ex.test", 15, mock::RdataMx(20, "mx2.ex.test")},
                      {"ex.test", 15, mock::RdataMx(10, "mx1.ex.test")}}));
  server_.Set("ex.test", T(RrType::kTxt),
              Answer({{"ex.test", 16, mock::RdataTxt({"v=spf1 ", "-all"})}}));
  server_.Set("_25._tcp.mx1.ex.test", T(RrType::kTlsa),
              Answer({{"_25._tcp.mx1.ex.test", 52, mock::RdataTlsa(3, 1, 1, {0xab, 0xcd})}}));
  server_.Set("1.2.0.192.in-addr.arpa", T(RrType::kPtr),
              Answer({{"1.2.0.192.in-addr.arpa", 12, mock::RdataName("mx1.ex.test")}}));
  server_.Set(
      "_submissions._tcp.ex.test", T(RrType::kSrv),
      Answer({{"_submissions._tcp.ex.test", 33, mock::RdataSrv(0, 1, 465, "smtp.ex.test")}}));
  server_.Set("ex.test", T(RrType::kCaa),
              Answer({{"ex.test", 257, mock::RdataCaa(0, "issue", "ca.example")}}));
  auto r = MakeResolver();
  ASSERT_TRUE(r);

  DnsAnswer a = Run(*r, "ex.test", RrType::kA);
  ASSERT_EQ(a.outcome, Outcome::kOk) << a.error;
  EXPECT_EQ(std::get<AData>(a.records.at(0).data).ToString(), "192.0.2.1");
  EXPECT_EQ(a.records[0].ttl, 300u);

  DnsAnswer aaaa = Run(*r, "ex.test", RrType::kAaaa);
  ASSERT_EQ(aaaa.outcome, Outcome::kOk) << aaaa.error;
  EXPECT_EQ(std::get<AaaaData>(aaaa.records.at(0).data).ToString(), "2001:db8::1");

  DnsAnswer mx = Run(*r, "EX.test.", RrType::kMx);
  ASSERT_EQ(mx.outcome, Outcome::kOk) << mx.error;
  ASSERT_EQ(mx.records.size(), 2u);
  EXPECT_EQ(std::get<MxData>(mx.records[1].data).exchange, "mx1.ex.test");
  EXPECT_EQ(std::get<MxData>(mx.records[1].data).preference, 10);

  DnsAnswer txt = Run(*r, "ex.test", RrType::kTxt);
  ASSERT_EQ(txt.outcome, Outcome::kOk) << txt.error;
  EXPECT_EQ(std::get<TxtData>(txt.records.at(0).data).Joined(), "v=spf1 -all");

  DnsAnswer tlsa = Run(*r, "_25._tcp.mx1.ex.test", RrType::kTlsa);
  ASSERT_EQ(tlsa.outcome, Outcome::kOk) << tlsa.error;
  const auto& t = std::get<TlsaData>(tlsa.records.at(0).data);
  EXPECT_EQ(t.usage, 3);
  EXPECT_EQ(t.data, (std::vector<uint8_t>{0xab, 0xcd}));

  DnsAnswer ptr = Run(*r, "1.2.0.192.in-addr.arpa", RrType::kPtr);
  ASSERT_EQ(ptr.outcome, Outcome::kOk) << ptr.error;
  EXPECT_EQ(std::get<PtrData>(ptr.records.at(0).data).name, "mx1.ex.test");

  DnsAnswer srv = Run(*r, "_submissions._tcp.ex.test", RrType::kSrv);
  ASSERT_EQ(srv.outcome, Outcome::kOk) << srv.error;
  EXPECT_EQ(std::get<SrvData>(srv.records.at(0).data).port, 465);

  DnsAnswer caa = Run(*r, "ex.test", RrType::kCaa);
  ASSERT_EQ(caa.outcome, Outcome::kOk) << caa.error;
  EXPECT_EQ(std::get<CaaData>(caa.records.at(0).data).value, "ca.example");

  // Every query asked for recursion, for the AD bit and for DNSSEC records, with EDNS0.
  auto seen = server_.queries();
  ASSERT_GE(seen.size(), 8u);
  for (const auto& q : seen) {
    EXPECT_TRUE(q.rd);
    EXPECT_TRUE(q.ad);
    EXPECT_TRUE(q.has_opt);
    EXPECT_TRUE(q.dnssec_ok);
    EXPECT_EQ(q.udp_payload, kEdnsUdpPayload);
    EXPECT_FALSE(q.tcp);
  }
}

TEST_F(ResolverTest, AdBitIsReported) {
  server_.Set("signed.test", T(RrType::kA),
              Answer({{"signed.test", 1, mock::RdataA("192.0.2.2")}}, /*ad=*/true));
  server_.Set("unsigned.test", T(RrType::kA),
              Answer({{"unsigned.test", 1, mock::RdataA("192.0.2.3")}}, /*ad=*/false));
  auto r = MakeResolver();
  ASSERT_TRUE(r);
  EXPECT_TRUE(Run(*r, "signed.test", RrType::kA).authenticated_data);
  EXPECT_FALSE(Run(*r, "unsigned.test", RrType::kA).authenticated_data);
}

TEST_F(ResolverTest, NegativeAndFailureOutcomes) {
  MockDnsReply nx;
  nx.rcode = 3;
  nx.ad = true;
  server_.Set("gone.test", T(RrType::kMx), nx);
  server_.Set("ex.test", T(RrType::kTlsa), MockDnsReply{});  // NOERROR, no records
  MockDnsReply servfail;
  servfail.rcode = 2;
  server_.Set("broken.test", T(RrType::kA), servfail);
  auto r = MakeResolver();
  ASSERT_TRUE(r);

  DnsAnswer gone = Run(*r, "gone.test", RrType::kMx);
  EXPECT_EQ(gone.outcome, Outcome::kNxDomain);
  EXPECT_TRUE(gone.authenticated_data);  // authenticated denial
  EXPECT_EQ(Run(*r, "ex.test", RrType::kTlsa).outcome, Outcome::kNoData);
  EXPECT_EQ(Run(*r, "broken.test", RrType::kA).outcome, Outcome::kServFail);
  DnsAnswer refused = Run(*r, "unscripted.test", RrType::kA);
  EXPECT_EQ(refused.outcome, Outcome::kRefused) << refused.error;
}

TEST_F(ResolverTest, CnameInsideTheAnswerIsChased) {
  server_.Set("alias.test", T(RrType::kA),
              Answer({{"alias.test", 5, mock::RdataName("target.test")},
                      {"target.test", 1, mock::RdataA("192.0.2.9")}}));
  auto r = MakeResolver();
  ASSERT_TRUE(r);
  DnsAnswer a = Run(*r, "alias.test", RrType::kA);
  ASSERT_EQ(a.outcome, Outcome::kOk) << a.error;
  EXPECT_EQ(a.canonical_name, "target.test");
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0].name, "target.test");
}

TEST_F(ResolverTest, SilentServerTimesOutAtTheDeadline) {
  MockDnsReply silent;
  silent.kind = MockDnsReply::Kind::kSilent;
  server_.Set("slow.test", T(RrType::kA), silent);
  auto r = MakeResolver(milliseconds(5000));  // c-ares would wait longer: the deadline decides
  ASSERT_TRUE(r);
  const auto start = steady_clock::now();
  DnsAnswer a = Run(*r, "slow.test", RrType::kA, milliseconds(300));
  const auto took = steady_clock::now() - start;
  EXPECT_EQ(a.outcome, Outcome::kTimeout);
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(1500));
}

TEST_F(ResolverTest, CaresGivingUpIsATimeoutToo) {
  MockDnsReply silent;
  silent.kind = MockDnsReply::Kind::kSilent;
  server_.Set("slow.test", T(RrType::kA), silent);
  auto r = MakeResolver(milliseconds(100));  // 2 tries of 100 ms, well inside the deadline
  ASSERT_TRUE(r);
  const auto start = steady_clock::now();
  DnsAnswer a = Run(*r, "slow.test", RrType::kA, milliseconds(3000));
  EXPECT_EQ(a.outcome, Outcome::kTimeout);
  EXPECT_EQ(a.error, "no server answered");
  EXPECT_LT(steady_clock::now() - start, milliseconds(2000));
}

TEST_F(ResolverTest, GarbageIsMalformed) {
  MockDnsReply garbage;
  garbage.kind = MockDnsReply::Kind::kGarbage;
  server_.Set("junk.test", T(RrType::kTxt), garbage);
  auto r = MakeResolver();
  ASSERT_TRUE(r);
  DnsAnswer a = Run(*r, "junk.test", RrType::kTxt);
  EXPECT_EQ(a.outcome, Outcome::kMalformed);
  EXPECT_FALSE(a.error.empty());
}

TEST_F(ResolverTest, TruncatedUdpReplyIsRetriedOverTcp) {
  MockDnsReply big = Answer({{"big.test", 16, mock::RdataTxt({std::string(200, 'a')})},
                             {"big.test", 16, mock::RdataTxt({std::string(200, 'b')})}},
                            /*ad=*/true);
  big.truncate_udp = true;
  server_.Set("big.test", T(RrType::kTxt), big);
  auto r = MakeResolver();
  ASSERT_TRUE(r);
  DnsAnswer a = Run(*r, "big.test", RrType::kTxt);
  ASSERT_EQ(a.outcome, Outcome::kOk) << a.error;
  EXPECT_EQ(a.records.size(), 2u);
  EXPECT_TRUE(a.authenticated_data);
  bool saw_udp = false, saw_tcp = false;
  for (const auto& q : server_.queries()) (q.tcp ? saw_tcp : saw_udp) = true;
  EXPECT_TRUE(saw_udp);
  EXPECT_TRUE(saw_tcp);

  // The TCP connection stays usable for the next truncated answer.
  DnsAnswer again = Run(*r, "big.test", RrType::kTxt);
  EXPECT_EQ(again.outcome, Outcome::kOk) << again.error;
}

TEST_F(ResolverTest, LateReplyAfterTheDeadlineIsDroppedSafely) {
  MockDnsReply late = Answer({{"late.test", 1, mock::RdataA("192.0.2.7")}});
  late.delay_ms = 500;
  server_.Set("late.test", T(RrType::kA), late);
  server_.Set("ok.test", T(RrType::kA), Answer({{"ok.test", 1, mock::RdataA("192.0.2.8")}}));
  auto r = MakeResolver();
  ASSERT_TRUE(r);
  EXPECT_EQ(Run(*r, "late.test", RrType::kA, milliseconds(150)).outcome, Outcome::kTimeout);
  RunFor(milliseconds(800));  // the late reply arrives and finds nobody waiting
  DnsAnswer a = Run(*r, "ok.test", RrType::kA);
  EXPECT_EQ(a.outcome, Outcome::kOk) << a.error;
}

TEST_F(ResolverTest, DeadlineAlreadyPassedAndBadNames) {
  auto r = MakeResolver();
  ASSERT_TRUE(r);
  EXPECT_EQ(Run(*r, "ex.test", RrType::kA, milliseconds(0)).outcome, Outcome::kTimeout);
  EXPECT_EQ(Run(*r, "a..b", RrType::kA).outcome, Outcome::kMalformed);
  EXPECT_EQ(Run(*r, std::string(64, 'x') + ".test", RrType::kA).outcome, Outcome::kMalformed);
  EXPECT_TRUE(server_.queries().empty());
}

TEST_F(ResolverTest, DestroyingTheResolverEndsAWaitingQuery) {
  MockDnsReply silent;
  silent.kind = MockDnsReply::Kind::kSilent;
  server_.Set("slow.test", T(RrType::kA), silent);
  auto r = MakeResolver();
  ASSERT_TRUE(r);
  std::optional<DnsAnswer> out;
  asio::co_spawn(io_, r->Query("slow.test", RrType::kA, steady_clock::now() + milliseconds(5000)),
                 [&](std::exception_ptr, DnsAnswer a) { out = std::move(a); });
  RunUntil([&] { return !server_.queries().empty(); }, milliseconds(2000));
  const auto start = steady_clock::now();
  r.reset();
  RunUntil([&] { return out.has_value(); }, milliseconds(2000));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->outcome, Outcome::kTimeout);
  EXPECT_EQ(out->error, "resolver shut down");
  EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
}

TEST_F(ResolverTest, ConcurrentQueriesFromManyStrandsAndThreads) {
  constexpr int kQueries = 64;
  for (int i = 0; i < 8; ++i) {
    const std::string name = "h" + std::to_string(i) + ".test";
    server_.Set(name, T(RrType::kA),
                Answer({{name, 1, mock::RdataA("192.0.2." + std::to_string(i + 1))}}));
  }
  auto r = MakeResolver();
  ASSERT_TRUE(r);
  std::atomic<int> ok{0}, done{0};
  std::promise<void> all_done;
  for (int i = 0; i < kQueries; ++i) {
    const std::string name = "h" + std::to_string(i % 8) + ".test";
    auto executor = (i % 2 == 0) ? asio::any_io_executor(asio::make_strand(io_))
                                 : asio::any_io_executor(io_.get_executor());
    asio::co_spawn(executor, r->Query(name, RrType::kA, steady_clock::now() + milliseconds(5000)),
                   [&, i](std::exception_ptr e, DnsAnswer a) {
                     if (!e && a.outcome == Outcome::kOk && a.records.size() == 1 &&
                         std::get<AData>(a.records[0].data).ToString() ==
                             "192.0.2." + std::to_string(i % 8 + 1)) {
                       ++ok;
                     }
                     if (++done == kQueries) all_done.set_value();
                   });
  }
  auto guard = asio::make_work_guard(io_);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { io_.run(); });
  const bool finished =
      all_done.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  guard.reset();
  io_.stop();
  for (auto& t : threads) t.join();
  ASSERT_TRUE(finished);
  EXPECT_EQ(ok.load(), kQueries);
}

TEST_F(ResolverTest, SilentFirstServerFailsOverToTheNext) {
  MockDnsReply silent;
  silent.kind = MockDnsReply::Kind::kSilent;
  server_.Set("ex.test", T(RrType::kA), silent);
  MockDnsServer second;
  second.Set("ex.test", T(RrType::kA), Answer({{"ex.test", 1, mock::RdataA("192.0.2.5")}}));
  ResolverOptions o;
  o.servers = {server_.address(), second.address()};
  o.attempt_timeout = milliseconds(200);
  auto r = AresResolver::Create(io_.get_executor(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  DnsAnswer a = Run(**r, "ex.test", RrType::kA);
  ASSERT_EQ(a.outcome, Outcome::kOk) << a.error;
  EXPECT_EQ(std::get<AData>(a.records.at(0).data).ToString(), "192.0.2.5");
}

TEST(ResolverCreateTest, RejectsBadOptions) {
  asio::io_context io;
  ResolverOptions bad_server;
  bad_server.servers = {"not-an-address"};
  auto r = AresResolver::Create(io.get_executor(), bad_server);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);

  ResolverOptions commas;
  commas.servers = {"127.0.0.1,127.0.0.2"};
  EXPECT_FALSE(AresResolver::Create(io.get_executor(), commas).ok());

  ResolverOptions zero_tries;
  zero_tries.servers = {"127.0.0.1"};
  zero_tries.tries = 0;
  EXPECT_FALSE(AresResolver::Create(io.get_executor(), zero_tries).ok());

  ResolverOptions good;
  good.servers = {"127.0.0.1:5353", "[::1]:53", "192.0.2.1"};
  EXPECT_TRUE(AresResolver::Create(io.get_executor(), good).ok());
}

}  // namespace
}  // namespace mailsec::dns
