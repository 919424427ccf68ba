#include "mailsec/http/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace mailsec::http {
namespace {

TEST(SendBufferTest, AskedOnlyWhenItGivesMoreThanAutotuning) {
  EXPECT_EQ(SendBufferToAsk(4 << 20, 4 << 20), 4 << 20);  // 8 MiB against autotuning's 4
  EXPECT_EQ(SendBufferToAsk(64 << 20, 4 << 20), 4 << 20);
  EXPECT_EQ(SendBufferToAsk(3 << 20, 4 << 20), 3 << 20);   // 6 MiB
  EXPECT_EQ(SendBufferToAsk(212992, 4 << 20), 0);          // Linux's default wmem_max: 416 KiB
  EXPECT_EQ(SendBufferToAsk(4 << 20, 16 << 20), 0);        // autotuning goes further
  EXPECT_EQ(SendBufferToAsk(0, 0), 0);                     // unreadable
  EXPECT_EQ(SendBufferToAsk(-5, 4 << 20), 0);
}

TEST(ListenAddressTest, Forms) {
  auto a = ParseListenAddress(":9525");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "0.0.0.0");
  EXPECT_EQ(a->second, 9525);
  a = ParseListenAddress("[::1]:80");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "::1");
  a = ParseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->second, 0);
  EXPECT_FALSE(ParseListenAddress("9525").ok());
  EXPECT_FALSE(ParseListenAddress("::1:80").ok());
  EXPECT_FALSE(ParseListenAddress("host:99999").ok());
  EXPECT_FALSE(ParseListenAddress("host:").ok());
  EXPECT_FALSE(ParseListenAddress("host:8x").ok());
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Handlers h;
    h.metrics = [] { return std::string("mailsec_up 1\n"); };
    h.probe = [this](const std::string& t, bool scan, double budget) {
      last_target = t;
      last_scan = scan;
      last_budget = budget;
      return ProbeReply{200, "probe\n"};
    };
    h.status_page = [] { return std::string("<html></html>"); };
    h.ready = [] { return true; };
    h.reload = [this] {
      return reload_ok ? Status::Ok() : Status::InvalidArgument("f.toml:3: global.interval: bad");
    };
    server = std::make_unique<Server>(h);
    ASSERT_TRUE(server->Start("127.0.0.1:0").ok());
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
    client->set_connection_timeout(2);
    client->set_read_timeout(5);
  }
  std::unique_ptr<Server> server;
  std::unique_ptr<httplib::Client> client;
  std::string last_target;
  bool last_scan = false;
  double last_budget = -1;
  bool reload_ok = true;
};

TEST_F(ServerTest, Routes) {
  auto r = client->Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "mailsec_up 1\n");
  EXPECT_EQ(client->Get("/-/healthy")->status, 200);
  EXPECT_EQ(client->Get("/-/ready")->status, 200);
  EXPECT_EQ(client->Get("/")->status, 200);
  EXPECT_EQ(client->Get("/nope")->status, 404);
}

TEST_F(ServerTest, ProbeQueryAndBudget) {
  EXPECT_EQ(client->Get("/probe")->status, 400);
  EXPECT_EQ(client->Get("/probe?target=")->status, 400);
  EXPECT_EQ(client->Get("/probe?target=smtp://a&scan=maybe")->status, 400);
  auto r = client->Get("/probe?target=smtp://a:25&scan=1",
                       {{"X-Prometheus-Scrape-Timeout-Seconds", "10"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(last_target, "smtp://a:25");
  EXPECT_TRUE(last_scan);
  EXPECT_DOUBLE_EQ(last_budget, 9.5);
  EXPECT_EQ(
      client->Get("/probe?target=x", {{"X-Prometheus-Scrape-Timeout-Seconds", "abc"}})->status,
      400);
}

TEST_F(ServerTest, Reload) {
  auto r = client->Post("/-/reload");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  reload_ok = false;
  r = client->Post("/-/reload");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, "f.toml:3: global.interval: bad\n");
  EXPECT_EQ(client->Get("/-/reload")->status, 404);
}

// Handlers that answer every path simply; a test sets what it looks at.
Handlers SimpleHandlers() {
  Handlers h;
  h.metrics = [] { return std::string("not this\n"); };
  h.probe = [](const std::string&, bool, double) { return ProbeReply{200, "mailsec_up 1\n"}; };
  h.status_page = [] { return std::string(); };
  h.ready = [] { return true; };
  h.reload = [] { return Status::Ok(); };
  return h;
}

// The status page and /probe answers are gzipped when the client accepts it, and never
// compressed otherwise: a browser's "gzip, deflate, br" used to get cpp-httplib's brotli at
// quality 11, seconds per MB of a big fleet's status page.
TEST(TextBodiesTest, GzipWhenAcceptedNeverBrotli) {
  std::string page = "<html><table>\n";
  for (int i = 0; i < 20000; ++i) {  // ~1.3 MB, the page of a fleet of a few thousand targets
    page += "<tr><td>smtp://mx" + std::to_string(i) + ".example.org:25</td><td>ok</td></tr>\n";
  }
  page += "</table></html>\n";
  Handlers h = SimpleHandlers();
  h.status_page = [&page] { return page; };
  Server server(h);
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(5);
  client.set_decompress(false);

  auto r = client.Get("/", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(r->get_header_value("Content-Length"), std::to_string(r->body.size()));
  EXPECT_LT(r->body.size(), page.size() / 4);
  r = client.Get("/", {{"Accept-Encoding", "br"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Content-Encoding"));
  EXPECT_EQ(r->body, page);
  r = client.Get("/");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Content-Encoding"));
  EXPECT_EQ(r->body, page);
  client.set_decompress(true);
  r = client.Get("/", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, page);

  client.set_decompress(false);
  r = client.Get("/probe?target=smtp://a:25", {{"Accept-Encoding", "br"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Content-Encoding"));
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r->body, "mailsec_up 1\n");
  client.set_decompress(true);
  r = client.Get("/probe?target=smtp://a:25", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(r->body, "mailsec_up 1\n");
  r = client.Get("/probe?target=", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain");
  EXPECT_FALSE(r->body.empty());
}

// With metrics_body, /metrics is streamed from the pieces the handler writes: with its length to
// a client that asks for no compression, chunked and compressed to one that accepts gzip; a
// client that goes away stops the writer.
TEST(StreamedMetricsTest, PiecesArriveWholeAndInOrder) {
  std::string expected;
  // ~9 MB: more than the sockets buffer, so the last case below stops the writer.
  for (int i = 0; i < 300000; ++i) {
    expected += "mailsec_series{i=\"" + std::to_string(i) + "\"} 1\n";
  }
  std::atomic<int> aborted{0};
  Handlers h = SimpleHandlers();
  std::atomic<int> bodies{0};
  h.metrics_body = [&] {
    ++bodies;
    return MetricsBody{expected.size(), [&](const PieceWriter& write) {
                         for (size_t at = 0; at < expected.size(); at += 7000) {
                           if (!write(std::string_view(expected).substr(at, 7000))) {
                             ++aborted;
                             return false;
                           }
                         }
                         return true;
                       }};
  };
  Server server(h);
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(5);
  auto r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r->get_header_value("Content-Length"), std::to_string(expected.size()));
  EXPECT_FALSE(r->has_header("Transfer-Encoding"));
  EXPECT_EQ(r->body, expected);
  // The connection is kept: the next scrape on it gets the whole body again.
  r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, expected);
  // A range asked for: that part (206); to the end; then the whole body again on the connection.
  r = client.Get("/metrics", {{"Range", "bytes=10-20"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, expected.substr(10, 11));
  r = client.Get("/metrics", {{"Range", "bytes=7000-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, expected.substr(7000));
  EXPECT_EQ(aborted, 1);  // the writer stopped once past the first part asked for
  aborted = 0;
  r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, expected);

  // gzip: compressed whole by us, then sent with its length.
  client.set_decompress(false);
  r = client.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(r->get_header_value("Vary"), "Accept-Encoding");
  EXPECT_EQ(r->get_header_value("Content-Length"), std::to_string(r->body.size()));
  EXPECT_FALSE(r->has_header("Transfer-Encoding"));
  EXPECT_LT(r->body.size(), expected.size() / 4);
  // br and not gzip: the text as it is (cpp-httplib's brotli needs seconds per MB).
  r = client.Get("/metrics", {{"Accept-Encoding", "br"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Content-Encoding"));
  EXPECT_EQ(r->body, expected);
  // Both: gzip.
  r = client.Get("/metrics", {{"Accept-Encoding", "br, gzip"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "gzip");
  // gzip refused: plain, with its length.
  r = client.Get("/metrics", {{"Accept-Encoding", "gzip;q=0, identity"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Content-Encoding"));
  EXPECT_EQ(r->get_header_value("Content-Length"), std::to_string(expected.size()));
  EXPECT_EQ(r->body, expected);
  client.set_decompress(true);
  r = client.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, expected);
  EXPECT_EQ(aborted, 0);

  // A client that stops reading after the first bytes: the writer is told to stop.
  size_t received = 0;
  r = client.Get("/metrics", [&](const char*, size_t n) {
    received += n;
    return false;
  });
  EXPECT_FALSE(r);
  for (int i = 0; i < 250 && aborted == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(received, 0u);
  EXPECT_EQ(aborted, 1);
  EXPECT_EQ(bodies, 11);
}

// A body whose writer hands over fewer or more bytes than its size said (a bug): the client never
// gets a wrong body of the announced length; the connection is closed instead.
TEST(StreamedMetricsTest, ABodyOfTheWrongSizeClosesTheConnection) {
  const std::string text(300000, 'x');
  std::atomic<long> skew{-1};
  Handlers h = SimpleHandlers();
  h.metrics_body = [&] {
    const size_t size = text.size() + static_cast<size_t>(-skew.load());
    return MetricsBody{size, [&](const PieceWriter& write) { return write(text); }};
  };
  Server server(h);
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(5);
  EXPECT_FALSE(client.Get("/metrics"));  // one byte short
  skew = 1;
  EXPECT_FALSE(client.Get("/metrics"));  // one byte too many
  skew = 0;
  auto r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, text);
}

}  // namespace
}  // namespace mailsec::http
