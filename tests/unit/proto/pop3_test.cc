#include "mailsec/proto/pop3.h"

#include <gtest/gtest.h>

namespace mailsec::proto {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

const char kDovecotCapa[] =
    "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\n"
    "SASL PLAIN LOGIN\r\n.\r\n";

struct ResponseCase {
  const char* name;
  std::string in;
  bool multiline;
  bool ok;
  bool positive;
  std::string text;
  std::vector<std::string> lines;
  std::string error;  // substring of the error
};

class Pop3ResponseTest : public ::testing::TestWithParam<ResponseCase> {};

TEST_P(Pop3ResponseTest, Parses) {
  const ResponseCase& c = GetParam();
  ReplyLimits lim;
  lim.max_lines = 20;
  Result<Pop3Response> r = ParsePop3Response(c.in, c.multiline, lim);
  ASSERT_EQ(r.ok(), c.ok) << r.status().ToString();
  if (c.ok) {
    EXPECT_EQ(r->status.ok, c.positive);
    EXPECT_EQ(r->status.text, c.text);
    EXPECT_EQ(r->lines, c.lines);
  } else {
    EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
  }
}

using V = std::vector<std::string>;

INSTANTIATE_TEST_SUITE_P(
    Table, Pop3ResponseTest,
    ::testing::Values(
        ResponseCase{"dovecot_greeting",
                     "+OK Dovecot (Debian) ready.\r\n",
                     false,
                     true,
                     true,
                     "Dovecot (Debian) ready.",
                     {},
                     ""},
        ResponseCase{"apop_greeting",
                     "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
                     false,
                     true,
                     true,
                     "POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
                     {},
                     ""},
        ResponseCase{"bare_ok", "+OK\r\n", false, true, true, "", {}, ""},
        ResponseCase{"lower_case", "+ok fine\n", false, true, true, "fine", {}, ""},
        ResponseCase{"err",
                     "-ERR [SYS/TEMP] too many connections\r\n",
                     false,
                     true,
                     false,
                     "[SYS/TEMP] too many connections",
                     {},
                     ""},
        ResponseCase{"dovecot_capa", kDovecotCapa, true, true, true, "",
                     V{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS",
                       "USER", "SASL PLAIN LOGIN"},
                     ""},
        ResponseCase{"capa_refused",
                     "-ERR Unknown command.\r\n",
                     true,
                     true,
                     false,
                     "Unknown command.",
                     {},
                     ""},
        ResponseCase{"dot_stuffing", "+OK\r\n..hidden\r\n.x\r\n..\r\n\r\n.\r\n", true, true, true,
                     "", V{".hidden", "x", ".", ""}, ""},
        ResponseCase{"high_bytes_in_text",
                     "+OK \xc3\xa9t\xe9\xff\r\n",
                     false,
                     true,
                     true,
                     "\xc3\xa9t\xe9\xff",
                     {},
                     ""},
        ResponseCase{"smtp_banner",
                     "220 mx.example.org ESMTP\r\n",
                     false,
                     false,
                     false,
                     "",
                     {},
                     "not a POP3 status line"},
        ResponseCase{"imap_banner",
                     "* OK IMAP4rev1 ready\r\n",
                     false,
                     false,
                     false,
                     "",
                     {},
                     "not a POP3 status line"},
        ResponseCase{
            "glued", "+OKready\r\n", false, false, false, "", {}, "not a POP3 status line"},
        ResponseCase{"empty_line", "\r\n", false, false, false, "", {}, "not a POP3 status line"},
        ResponseCase{"missing_terminator",
                     "+OK\r\nSTLS\r\nUSER\r\n",
                     true,
                     false,
                     false,
                     "",
                     {},
                     "incomplete"},
        ResponseCase{"missing_crlf", "+OK", false, false, false, "", {}, "without line ending"},
        ResponseCase{"trailing", "+OK\r\n+OK\r\n", false, false, false, "", {}, "after the end"},
        ResponseCase{"trailing_after_dot",
                     "+OK\r\nTOP\r\n.\r\nUSER\r\n",
                     true,
                     false,
                     false,
                     "",
                     {},
                     "after the end"},
        ResponseCase{"too_many_lines",
                     "+OK\r\n" + Repeat("TOP\r\n", 30) + ".\r\n",
                     true,
                     false,
                     false,
                     "",
                     {},
                     "too many lines"},
        ResponseCase{"long_status",
                     "+OK " + std::string(3000, 'a') + "\r\n",
                     false,
                     false,
                     false,
                     "",
                     {},
                     "too long"},
        ResponseCase{"long_body_line",
                     "+OK\r\n" + std::string(3000, 'A') + "\r\n.\r\n",
                     true,
                     false,
                     false,
                     "",
                     {},
                     "too long"}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(Pop3MultilineBuilderTest, TotalLimit) {
  ReplyLimits lim;
  lim.max_total = 100;
  Pop3MultilineBuilder b(lim);
  Status s;
  for (int i = 0; i < 20 && s.ok(); ++i) s = b.AddLine(std::string(20, 'X'));
  EXPECT_EQ(s.code(), Status::Code::kMalformed);
  EXPECT_NE(s.message().find("response too long"), std::string::npos);
}

TEST(Pop3MultilineBuilderTest, SpentAfterTerminator) {
  Pop3MultilineBuilder b(ReplyLimits{});
  EXPECT_TRUE(b.AddLine(".").ok());
  EXPECT_TRUE(b.done());
  EXPECT_EQ(b.AddLine("TOP").code(), Status::Code::kMalformed);
}

TEST(Pop3CapaTest, DovecotBeforeTls) {
  Result<Pop3Response> r = ParsePop3Response(kDovecotCapa, true, ReplyLimits{});
  ASSERT_TRUE(r.ok());
  Result<Capabilities> c = ParsePop3Capa(r->lines);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->starttls);
  EXPECT_FALSE(c->starttls_masked);
  EXPECT_TRUE(c->plaintext_login);
  EXPECT_EQ(c->auth, (std::vector<std::string>{"PLAIN", "LOGIN"}));
  EXPECT_EQ(c->keywords,
            (std::vector<std::string>{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING",
                                      "AUTH-RESP-CODE", "STLS", "USER", "SASL"}));
}

TEST(Pop3CapaTest, HardenedBeforeTls) {
  // Dovecot with disable_plaintext_auth = yes: neither USER nor a plaintext SASL mechanism.
  Result<Capabilities> c = ParsePop3Capa({"TOP", "UIDL", "STLS", "SASL"});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->starttls);
  EXPECT_FALSE(c->plaintext_login);
  EXPECT_TRUE(c->auth.empty());
}

TEST(Pop3CapaTest, SaslPlainAloneIsPlaintext) {
  Result<Capabilities> c = ParsePop3Capa({"sasl  cram-md5 plain", "top"});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->plaintext_login);
  EXPECT_EQ(c->auth, (std::vector<std::string>{"CRAM-MD5", "PLAIN"}));
  EXPECT_EQ(c->keywords, (std::vector<std::string>{"SASL", "TOP"}));
  EXPECT_FALSE(c->starttls);
}

TEST(Pop3CapaTest, ParametersAndDuplicates) {
  Result<Capabilities> c =
      ParsePop3Capa({"EXPIRE 31 USER", "LOGIN-DELAY 900", "IMPLEMENTATION Shlemazle-Plotz-v302",
                     "TOP", "TOP", "", "  "});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->keywords,
            (std::vector<std::string>{"EXPIRE", "LOGIN-DELAY", "IMPLEMENTATION", "TOP"}));
  EXPECT_FALSE(c->plaintext_login);  // "USER" as a parameter of EXPIRE is not the USER command
}

TEST(Pop3CapaTest, MaskedStls) {
  for (const char* mask : {"XXXX", "XXXS", "xxlx"}) {
    Result<Capabilities> c = ParsePop3Capa({"TOP", mask});
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->starttls_masked) << mask;
    EXPECT_FALSE(c->starttls);
  }
  for (const char* other : {"XXLS", "XXXXX", "XXX"}) {
    Result<Capabilities> c = ParsePop3Capa({other});
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->starttls_masked) << other;
  }
}

TEST(Pop3CapaTest, HostileBytes) {
  for (const char* bad : {"ST\xc3\x8cS", "TOP\x01", "SASL PL\xff"}) {
    Result<Capabilities> c = ParsePop3Capa({bad});
    EXPECT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), Status::Code::kMalformed);
    EXPECT_NE(c.status().message().find("bad character"), std::string::npos);
  }
}

}  // namespace
}  // namespace mailsec::proto
