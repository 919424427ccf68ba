#include <chrono>
#include <string>

#include "gtest/gtest.h"
#include "mailsec/config/config.h"

namespace mailsec::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

struct GoodDuration {
  const char* text;
  Duration want;
  const char* formatted;  // FormatDuration(want)
};

TEST(ParseDurationTest, Good) {
  const GoodDuration cases[] = {
      {"0s", Duration(0), "0s"},
      {"0ms", Duration(0), "0s"},
      {"500ms", milliseconds(500), "500ms"},
      {"5s", seconds(5), "5s"},
      {"5m", minutes(5), "5m"},
      {"90s", seconds(90), "1m30s"},
      {"1h30m", minutes(90), "1h30m"},
      {"6h", hours(6), "6h"},
      {"1d", hours(24), "1d"},
      {"2w", hours(24 * 14), "2w"},
      {"1w2d3h4m5s6ms", milliseconds(((((7 + 2) * 24 + 3) * 60 + 4) * 60 + 5) * 1000LL + 6),
       "1w2d3h4m5s6ms"},
      {"0005s", seconds(5), "5s"},
      {"3650d", milliseconds(int64_t{3650} * 86400 * 1000), "521w3d"},
  };
  for (const GoodDuration& c : cases) {
    SCOPED_TRACE(c.text);
    Result<Duration> d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(*d, c.want);
    EXPECT_EQ(FormatDuration(*d), c.formatted);
  }
}

TEST(ParseDurationTest, Bad) {
  const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"", "bad duration \"\": empty"},
      {"5", "bad duration \"5\": missing unit"},
      {"5x", "bad duration \"5x\": unknown unit \"x\""},
      {"5S", "bad duration \"5S\": unknown unit \"S\""},
      {"5sec", "bad duration \"5sec\": unknown unit \"sec\""},
      {"-1s", "bad duration \"-1s\": negative"},
      {"+1s", "bad duration \"+1s\": unexpected character \"+\""},
      {"1.5s", "bad duration \"1.5s\": fractions are not allowed"},
      {"s", "bad duration \"s\": missing number"},
      {" 5s", "bad duration \" 5s\": unexpected character \" \""},
      {"5s ", "bad duration \"5s \": unexpected character \" \""},
      {"5 s", "bad duration \"5 s\": unexpected character \" \""},
      {"5m1h", "bad duration \"5m1h\": unit \"h\" out of order"},
      {"5s5s", "bad duration \"5s5s\": unit \"s\" out of order"},
      {"1ms1s", "bad duration \"1ms1s\": unit \"s\" out of order"},
      {"1y", "bad duration \"1y\": unknown unit \"y\""},
      {"9223372036854775808ms", "bad duration \"9223372036854775808ms\": too large"},
      {"15250284452w3d7h12m55s808ms", "bad duration \"15250284452w3d7h12m55s808ms\": too large"},
      {"99999999999999999999s", "bad duration \"99999999999999999999s\": too large"},
      {"9999999999999999w", "bad duration \"9999999999999999w\": too large"},
      {"3650d1ms", "bad duration \"3650d1ms\": too large (more than 3650 days)"},
      {"2155555555s", "bad duration \"2155555555s\": too large (more than 3650 days)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    Result<Duration> d = ParseDuration(c.text);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(d.status().message(), c.message);
  }
}

TEST(FormatDurationTest, RoundTrips) {
  for (int64_t ms : {1LL, 999LL, 1000LL, 59999LL, 3600000LL, 86400001LL, 604800000LL * 3 + 7}) {
    SCOPED_TRACE(ms);
    Result<Duration> back = ParseDuration(FormatDuration(Duration(ms)));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->count(), ms);
  }
  EXPECT_EQ(FormatDuration(Duration(-1500)), "-1s500ms");
}

}  // namespace
}  // namespace mailsec::config
