#include "mailsec/proto/smtp.h"

#include <gtest/gtest.h>

namespace mailsec::proto {
namespace {

struct ReplyCase {
  const char* name;
  std::string in;
  bool ok;
  int code;
  size_t lines;
  std::string error;  // substring of the error
};

class SmtpReplyTest : public ::testing::TestWithParam<ReplyCase> {};

TEST_P(SmtpReplyTest, Parses) {
  const ReplyCase& c = GetParam();
  Result<SmtpReply> r = ParseSmtpReply(c.in, ReplyLimits{});
  ASSERT_EQ(r.ok(), c.ok) << r.status().ToString();
  if (c.ok) {
    EXPECT_EQ(r->code, c.code);
    EXPECT_EQ(r->lines.size(), c.lines);
  } else {
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
  }
}

std::string Repeat(const std::string& line, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += line;
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Table, SmtpReplyTest,
    ::testing::Values(
        ReplyCase{"single", "220 mail.example.org ESMTP\r\n", true, 220, 1, ""},
        ReplyCase{"bare_lf", "220 mail.example.org ESMTP\n", true, 220, 1, ""},
        ReplyCase{"code_only", "250\r\n", true, 250, 1, ""},
        ReplyCase{"multi", "250-mail\r\n250-PIPELINING\r\n250 STARTTLS\r\n", true, 250, 3, ""},
        ReplyCase{"postscreen_greeting", "220-mx.example.org ESMTP\r\n220-wait\r\n220 mx ESMTP\r\n",
                  true, 220, 3, ""},
        ReplyCase{"high_bytes", "220 \xc3\xa9\xff\x80 hello\r\n", true, 220, 1, ""},
        ReplyCase{"missing_crlf", "220 mail", false, 0, 0, "without line ending"},
        ReplyCase{"incomplete", "250-mail\r\n", false, 0, 0, "incomplete"},
        ReplyCase{"no_code", "hello\r\n", false, 0, 0, "without a code"},
        ReplyCase{"short", "22\r\n", false, 0, 0, "without a code"},
        ReplyCase{"code_out_of_range", "999 x\r\n", false, 0, 0, "out of range"},
        ReplyCase{"code_changes", "250-a\r\n251 b\r\n", false, 0, 0, "changed"},
        ReplyCase{"bad_separator", "250xhello\r\n", false, 0, 0, "separator"},
        ReplyCase{"trailing", "250 a\r\n250 b\r\n", false, 0, 0, "after the end"},
        ReplyCase{"long_line", "250 " + std::string(5000, 'a') + "\r\n", false, 0, 0,
                  "line too long"},
        ReplyCase{"ten_thousand_lines", Repeat("250-x\r\n", 10000) + "250 end\r\n", false, 0, 0,
                  "too many lines"}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(SmtpReplyBuilderTest, TotalLimit) {
  ReplyLimits lim;
  lim.max_total = 100;
  SmtpReplyBuilder b(lim);
  Status s;
  for (int i = 0; i < 20 && s.ok(); ++i) s = b.AddLine("250-" + std::string(20, 'x'));
  EXPECT_EQ(s.code(), Status::Code::kMalformed);
  EXPECT_NE(s.message().find("reply too long"), std::string::npos);
}

TEST(EhloTest, Capabilities) {
  Result<SmtpReply> r = ParseSmtpReply(
      "250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN login\r\n"
      "250-AUTH=PLAIN LOGIN CRAM-MD5\r\n250-8BITMIME\r\n250 starttls\r\n",
      ReplyLimits{});
  ASSERT_TRUE(r.ok());
  EhloCapabilities c = ParseEhlo(*r);
  EXPECT_TRUE(c.starttls);  // last line, lower case
  EXPECT_TRUE(c.pipelining);
  EXPECT_FALSE(c.starttls_masked);
  EXPECT_EQ(c.auth, (std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5"}));
  EXPECT_EQ(c.keywords.size(), 6u);
}

TEST(EhloTest, MaskedStartTls) {
  Result<SmtpReply> r =
      ParseSmtpReply("250-mail\r\n250-PIPELINING\r\n250 XXXXXXXA\r\n", ReplyLimits{});
  ASSERT_TRUE(r.ok());
  EhloCapabilities c = ParseEhlo(*r);
  EXPECT_FALSE(c.starttls);
  EXPECT_TRUE(c.starttls_masked);
}

TEST(EhloTest, NoCapabilities) {
  Result<SmtpReply> r = ParseSmtpReply("250 mail\r\n", ReplyLimits{});
  ASSERT_TRUE(r.ok());
  EhloCapabilities c = ParseEhlo(*r);
  EXPECT_FALSE(c.starttls);
  EXPECT_TRUE(c.keywords.empty());
  EXPECT_TRUE(c.auth.empty());
}

}  // namespace
}  // namespace mailsec::proto
