// Accept-Encoding (AcceptsCoding) and the gzip of /metrics (GzipStream).
#include <gtest/gtest.h>
#include <zlib.h>

#include <optional>
#include <string>
#include <string_view>

#include "mailsec/http/gzip.h"
#include "mailsec/http/request.h"

namespace mailsec::http {
namespace {

TEST(AcceptEncodingTest, NamedWithAWeightAboveZeroOrByTheWildcard) {
  EXPECT_TRUE(AcceptsCoding("gzip", "gzip"));
  EXPECT_TRUE(AcceptsCoding("gzip, deflate, br", "gzip"));  // curl --compressed, browsers
  EXPECT_TRUE(AcceptsCoding("deflate,GZip;q=0.5", "gzip"));
  EXPECT_TRUE(AcceptsCoding(" gzip ; q=1.000 ", "gzip"));
  EXPECT_TRUE(AcceptsCoding("gzip;level=9", "gzip"));  // a parameter other than q
  EXPECT_TRUE(AcceptsCoding("*", "gzip"));
  EXPECT_TRUE(AcceptsCoding("identity;q=0.1, *;q=0.2", "gzip"));
  EXPECT_TRUE(AcceptsCoding("gzip;q=0.001", "gzip"));
  EXPECT_TRUE(AcceptsCoding("gzip;q=bad", "gzip"));  // malformed weight: as if absent
  EXPECT_TRUE(AcceptsCoding("gzip;q=0, gzip", "gzip"));

  EXPECT_FALSE(AcceptsCoding("", "gzip"));
  EXPECT_FALSE(AcceptsCoding("identity", "gzip"));
  EXPECT_FALSE(AcceptsCoding("br, deflate", "gzip"));
  EXPECT_FALSE(AcceptsCoding("gzip;q=0", "gzip"));
  EXPECT_FALSE(AcceptsCoding("gzip; Q=0.000", "gzip"));
  EXPECT_FALSE(AcceptsCoding("*;q=0", "gzip"));
  EXPECT_FALSE(AcceptsCoding("gzip;q=0, *", "gzip"));  // named beats the wildcard
  EXPECT_FALSE(AcceptsCoding("xgzip, gzipx, x-gzip", "gzip"));
  EXPECT_TRUE(AcceptsCoding("x-gzip", "x-gzip"));
  EXPECT_FALSE(AcceptsCoding(",,;;,=", "gzip"));
  // Only the first 4 KiB are read.
  EXPECT_FALSE(AcceptsCoding(std::string(5000, ' ') + "gzip", "gzip"));
  EXPECT_TRUE(AcceptsCoding(std::string(4000, ' ') + "gzip", "gzip"));
}

std::optional<std::string> Gunzip(std::string_view in) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return std::nullopt;
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  for (int rounds = 0; rounds < 100000 && rc == Z_OK; ++rounds) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  const bool whole = rc == Z_STREAM_END && z.avail_in == 0;
  inflateEnd(&z);
  if (!whole) return std::nullopt;
  return out;
}

TEST(GzipStreamTest, OneMemberOfEveryPieceInOrder) {
  std::string text;
  for (int i = 0; i < 200000; ++i) {  // ~6 MB: the output grows several times
    text += "mailsec_series{i=\"" + std::to_string(i * 7919 % 100003) + "\"} 1\n";
  }
  GzipStream gzip;
  for (size_t at = 0; at < text.size(); at += 100000) {
    ASSERT_TRUE(gzip.Add(std::string_view(text).substr(at, 100000)));
  }
  ASSERT_TRUE(gzip.Add(""));
  const std::optional<std::string> zipped = gzip.Finish();
  ASSERT_TRUE(zipped);
  EXPECT_EQ(static_cast<unsigned char>((*zipped)[0]), 0x1f);  // RFC 1952 ID1 ID2
  EXPECT_EQ(static_cast<unsigned char>((*zipped)[1]), 0x8b);
  EXPECT_LT(zipped->size(), text.size() / 4);
  EXPECT_EQ(Gunzip(*zipped), text);
}

TEST(GzipStreamTest, NothingGivenIsAnEmptyMember) {
  GzipStream gzip;
  const std::optional<std::string> zipped = gzip.Finish();
  ASSERT_TRUE(zipped);
  EXPECT_EQ(Gunzip(*zipped), "");
}

TEST(GzipStreamTest, IncompressibleInputAndOtherLevels) {
  std::string noise;
  uint32_t x = 2463534242u;
  for (int i = 0; i < 1 << 20; ++i) {  // xorshift: 1 MiB that does not compress
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    noise.push_back(static_cast<char>(x));
  }
  for (int level : {0, 1, 6, 9}) {
    GzipStream gzip(level);
    ASSERT_TRUE(gzip.Add(noise)) << level;
    const std::optional<std::string> zipped = gzip.Finish();
    ASSERT_TRUE(zipped) << level;
    EXPECT_EQ(Gunzip(*zipped), noise) << level;
  }
  GzipStream bad(42);  // not a zlib level: every call fails, nothing is made up
  EXPECT_FALSE(bad.Add("x"));
  EXPECT_FALSE(bad.Finish());
}

}  // namespace
}  // namespace mailsec::http
