#include "mailsec/net/line_reader.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

namespace mailsec::net {
namespace {

// A transport that hands out scripted chunks, then EOF.
class ChunkTransport final : public Transport {
 public:
  explicit ChunkTransport(std::vector<std::string> chunks) : chunks_(std::move(chunks)) {}
  asio::awaitable<Result<size_t>> ReadSome(std::span<char> buf, Deadline) override {
    if (next_ >= chunks_.size()) co_return size_t{0};
    std::string& c = chunks_[next_];
    size_t n = std::min(buf.size(), c.size());
    std::copy(c.begin(), c.begin() + static_cast<long>(n), buf.begin());
    c.erase(0, n);
    if (c.empty()) ++next_;
    co_return n;
  }
  asio::awaitable<Status> WriteAll(std::string_view, Deadline) override { co_return Status::Ok(); }

 private:
  std::vector<std::string> chunks_;
  size_t next_ = 0;
};

std::vector<Result<std::string>> ReadAll(std::vector<std::string> chunks, size_t max_line,
                                         size_t max_total, int count) {
  asio::io_context io;
  ChunkTransport t(std::move(chunks));
  LineReader reader(&t, max_line, max_total);
  std::vector<Result<std::string>> out;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < count; ++i) {
          out.push_back(co_await reader.ReadLine(SteadyClock::now() + std::chrono::seconds(1)));
          if (!out.back().ok()) break;
        }
      },
      [](std::exception_ptr) {});
  io.run();
  return out;
}

TEST(LineReaderTest, SplitsAcrossChunksAndLineEndings) {
  auto r = ReadAll({"220 a\r", "\n250-b\n25", "0 c\r\n"}, 100, 1000, 3);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(*r[0], "220 a");
  EXPECT_EQ(*r[1], "250-b");
  EXPECT_EQ(*r[2], "250 c");
}

TEST(LineReaderTest, LineTooLong) {
  auto r = ReadAll({std::string(50, 'a') + "\r\n"}, 10, 1000, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status().code(), Status::Code::kMalformed);
}

TEST(LineReaderTest, EndlessLineWithoutNewlineStopsAtTheLimit) {
  auto r = ReadAll(std::vector<std::string>(100, std::string(1000, 'x')), 2048, 1 << 20, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status().code(), Status::Code::kMalformed);
}

TEST(LineReaderTest, TotalBudget) {
  auto r = ReadAll(std::vector<std::string>(100, "250-xxxxxxxx\r\n"), 100, 200, 100);
  EXPECT_LT(r.size(), 20u);
  EXPECT_EQ(r.back().status().code(), Status::Code::kMalformed);
}

TEST(LineReaderTest, ClosedMidLine) {
  auto r = ReadAll({"220 partial"}, 100, 1000, 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status().code(), Status::Code::kClosed);
}

TEST(LineReaderTest, SwitchTransportReturnsAndDropsBufferedBytes) {
  asio::io_context io;
  ChunkTransport t({"220 go ahead\r\n250 injected\r\n"});
  ChunkTransport t2({"250 after\r\n"});
  LineReader reader(&t, 100, 1000);
  std::string first, left, after;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        first = *(co_await reader.ReadLine(SteadyClock::now() + std::chrono::seconds(1)));
        left = reader.SetTransport(&t2);
        after = *(co_await reader.ReadLine(SteadyClock::now() + std::chrono::seconds(1)));
      },
      [](std::exception_ptr) {});
  io.run();
  EXPECT_EQ(first, "220 go ahead");
  EXPECT_EQ(left, "250 injected\r\n");
  EXPECT_EQ(after, "250 after");
}

}  // namespace
}  // namespace mailsec::net
