#include "mailsec/proto/sieve.h"

#include <gtest/gtest.h>

namespace mailsec::proto {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

const char kDovecotGreeting[] =
    "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n"
    "\"SIEVE\" \"fileinto reject envelope encoded-character vacation subaddress "
    "comparator-i;ascii-numeric relational regex imap4flags copy include variables body enotify "
    "environment mailbox date index ihave duplicate mime foreverypart extracttext\"\r\n"
    "\"NOTIFY\" \"mailto\"\r\n"
    "\"SASL\" \"\"\r\n"
    "\"STARTTLS\"\r\n"
    "\"VERSION\" \"1.0\"\r\n"
    "OK \"Dovecot (Debian) ready.\"\r\n";

// Cyrus timsieved before TLS: plaintext mechanisms offered.
const char kCyrusGreeting[] =
    "\"IMPLEMENTATION\" \"Cyrus timsieved v3.6.1\"\r\n"
    "\"SASL\" \"PLAIN LOGIN\"\r\n"
    "\"SIEVE\" \"comparator-i;ascii-numeric fileinto reject vacation imapflags notify envelope "
    "relational regex subaddress copy\"\r\n"
    "\"STARTTLS\"\r\n"
    "\"UNAUTHENTICATE\"\r\n"
    "OK\r\n";

using Kind = SieveResponse::Kind;

struct ResponseCase {
  const char* name;
  std::string in;
  bool ok;
  Kind kind;
  std::string code;
  std::string text;
  size_t capabilities;
  std::string error;  // substring of the error
};

class SieveResponseTest : public ::testing::TestWithParam<ResponseCase> {};

TEST_P(SieveResponseTest, Parses) {
  const ResponseCase& c = GetParam();
  ReplyLimits lim;
  lim.max_lines = 20;
  Result<SieveResponse> r = ParseSieveResponse(c.in, lim);
  ASSERT_EQ(r.ok(), c.ok) << r.status().ToString();
  if (c.ok) {
    EXPECT_EQ(r->kind, c.kind);
    EXPECT_EQ(r->code, c.code);
    EXPECT_EQ(r->text, c.text);
    EXPECT_EQ(r->capabilities.size(), c.capabilities);
  } else {
    EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, SieveResponseTest,
    ::testing::Values(
        ResponseCase{"dovecot", kDovecotGreeting, true, Kind::kOk, "", "Dovecot (Debian) ready.", 6,
                     ""},
        ResponseCase{"cyrus", kCyrusGreeting, true, Kind::kOk, "", "", 5, ""},
        ResponseCase{"starttls_go_ahead", "OK \"Begin TLS negotiation now.\"\r\n", true, Kind::kOk,
                     "", "Begin TLS negotiation now.", 0, ""},
        ResponseCase{"lower_case_ok", "ok\n", true, Kind::kOk, "", "", 0, ""},
        ResponseCase{"trailing_space", "OK \r\n", true, Kind::kOk, "", "", 0, ""},
        ResponseCase{"no_with_code", "NO (TRYLATER) \"Server busy\"\r\n", true, Kind::kNo,
                     "TRYLATER", "Server busy", 0, ""},
        ResponseCase{"code_only", "NO (QUOTA/MAXSIZE)\r\n", true, Kind::kNo, "QUOTA/MAXSIZE", "", 0,
                     ""},
        ResponseCase{"code_with_string", "OK (SASL \"a)b\\\"c\") \"done\"\r\n", true, Kind::kOk,
                     "SASL \"a)b\\\"c\"", "done", 0, ""},
        ResponseCase{"bye", "BYE \"Too many connections\"\r\n", true, Kind::kBye, "",
                     "Too many connections", 0, ""},
        ResponseCase{"escapes", "\"IMPLEMENTATION\" \"say \\\"hi\\\" \\\\o/\"\r\nOK\r\n", true,
                     Kind::kOk, "", "", 1, ""},
        ResponseCase{"utf8", "\"IMPLEMENTATION\" \"S\xc3\xa9ve \xff\"\r\nOK \"pr\xc3\xaat\"\r\n",
                     true, Kind::kOk, "", "pr\xc3\xaat", 1, ""},
        ResponseCase{"smtp_banner", "220 mx.example.org ESMTP\r\n", false, Kind::kOk, "", "", 0,
                     "not a ManageSieve response"},
        ResponseCase{"imap_banner", "* OK ready\r\n", false, Kind::kOk, "", "", 0,
                     "not a ManageSieve response"},
        ResponseCase{"unquoted_text", "OK ready\r\n", false, Kind::kOk, "", "", 0,
                     "expected a quoted string"},
        ResponseCase{"unterminated_name", "\"STARTTLS\r\nOK\r\n", false, Kind::kOk, "", "", 0,
                     "unterminated quoted string"},
        ResponseCase{"unterminated_value", "\"SASL\" \"PLAIN\r\nOK\r\n", false, Kind::kOk, "", "",
                     0, "unterminated quoted string"},
        ResponseCase{"unterminated_text", "OK \"ready\r\n", false, Kind::kOk, "", "", 0,
                     "unterminated quoted string"},
        ResponseCase{"dangling_escape", "OK \"ready\\\r\n", false, Kind::kOk, "", "", 0,
                     "unterminated quoted string"},
        ResponseCase{"bad_escape", "\"SIEVE\" \"a\\nb\"\r\nOK\r\n", false, Kind::kOk, "", "", 0,
                     "bad escape"},
        ResponseCase{"nul_in_string", std::string("\"SIEVE\" \"a\0b\"\r\nOK\r\n", 19), false,
                     Kind::kOk, "", "", 0, "control character"},
        ResponseCase{"literal_value", "\"SIEVE\" {5}\r\nOK\r\n", false, Kind::kOk, "", "", 0,
                     "literal"},
        ResponseCase{"literal_plus_name", "{8+}\r\nOK\r\n", false, Kind::kOk, "", "", 0, "literal"},
        ResponseCase{"literal_text", "NO {12}\r\n", false, Kind::kOk, "", "", 0, "literal"},
        ResponseCase{"literal_in_code", "NO (SASL {4}\r\n", false, Kind::kOk, "", "", 0, "literal"},
        ResponseCase{"unterminated_code", "NO (TRYLATER \"x\"\r\n", false, Kind::kOk, "", "", 0,
                     "unterminated response code"},
        ResponseCase{"three_strings", "\"SASL\" \"PLAIN\" \"LOGIN\"\r\nOK\r\n", false, Kind::kOk,
                     "", "", 0, "bytes after capability value"},
        ResponseCase{"glued_strings", "\"SASL\"\"PLAIN\"\r\nOK\r\n", false, Kind::kOk, "", "", 0,
                     "bytes after capability name"},
        ResponseCase{"text_then_junk", "OK \"a\" b\r\n", false, Kind::kOk, "", "", 0,
                     "bytes after response text"},
        ResponseCase{"empty_line", "\r\nOK\r\n", false, Kind::kOk, "", "", 0, "empty"},
        ResponseCase{"missing_ok_then_eof", "\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\n", false,
                     Kind::kOk, "", "", 0, "incomplete"},
        ResponseCase{"missing_crlf", "OK", false, Kind::kOk, "", "", 0, "without line ending"},
        ResponseCase{"trailing", "OK\r\n\"STARTTLS\"\r\n", false, Kind::kOk, "", "", 0,
                     "after the end"},
        ResponseCase{"too_many_lines", Repeat("\"X\"\r\n", 30) + "OK\r\n", false, Kind::kOk, "", "",
                     0, "too many lines"},
        ResponseCase{"long_line", "\"SIEVE\" \"" + std::string(3000, 'a') + "\"\r\nOK\r\n", false,
                     Kind::kOk, "", "", 0, "too long"}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(SieveResponseBuilderTest, TotalLimit) {
  ReplyLimits lim;
  lim.max_total = 100;
  SieveResponseBuilder b(lim);
  Status s;
  for (int i = 0; i < 20 && s.ok(); ++i) s = b.AddLine("\"" + std::string(20, 'X') + "\"");
  EXPECT_EQ(s.code(), Status::Code::kMalformed);
  EXPECT_NE(s.message().find("response too long"), std::string::npos);
}

TEST(SieveResponseTest, CapabilityValuesAreUnquoted) {
  Result<SieveResponse> r = ParseSieveResponse(
      "\"IMPLEMENTATION\" \"say \\\"hi\\\" \\\\o/\"\r\n\"STARTTLS\"\r\nOK\r\n", ReplyLimits{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->capabilities.size(), 2u);
  EXPECT_EQ(r->capabilities[0].name, "IMPLEMENTATION");
  EXPECT_EQ(r->capabilities[0].value, "say \"hi\" \\o/");
  EXPECT_TRUE(r->capabilities[0].has_value);
  EXPECT_EQ(r->capabilities[1].name, "STARTTLS");
  EXPECT_FALSE(r->capabilities[1].has_value);
}

TEST(SieveCapabilitiesTest, DovecotBeforeTls) {
  Result<SieveResponse> r = ParseSieveResponse(kDovecotGreeting, ReplyLimits{});
  ASSERT_TRUE(r.ok());
  Capabilities c = SieveCapabilities(*r);
  EXPECT_TRUE(c.starttls);
  EXPECT_FALSE(c.starttls_masked);
  EXPECT_FALSE(c.plaintext_login);  // SASL "" : no mechanism before TLS
  EXPECT_TRUE(c.auth.empty());
  EXPECT_EQ(c.keywords, (std::vector<std::string>{"IMPLEMENTATION", "SIEVE", "NOTIFY", "SASL",
                                                  "STARTTLS", "VERSION"}));
}

TEST(SieveCapabilitiesTest, CyrusOffersPlaintext) {
  Result<SieveResponse> r = ParseSieveResponse(kCyrusGreeting, ReplyLimits{});
  ASSERT_TRUE(r.ok());
  Capabilities c = SieveCapabilities(*r);
  EXPECT_TRUE(c.starttls);
  EXPECT_TRUE(c.plaintext_login);
  EXPECT_EQ(c.auth, (std::vector<std::string>{"PLAIN", "LOGIN"}));
}

TEST(SieveCapabilitiesTest, LowerCaseAndDuplicates) {
  Result<SieveResponse> r = ParseSieveResponse(
      "\"sasl\" \"login  gssapi\"\r\n\"starttls\"\r\n\"StartTLS\"\r\n\"\"\r\nOK\r\n",
      ReplyLimits{});
  ASSERT_TRUE(r.ok());
  Capabilities c = SieveCapabilities(*r);
  EXPECT_TRUE(c.starttls);
  EXPECT_TRUE(c.plaintext_login);
  EXPECT_EQ(c.auth, (std::vector<std::string>{"LOGIN", "GSSAPI"}));
  EXPECT_EQ(c.keywords, (std::vector<std::string>{"SASL", "STARTTLS"}));
}

TEST(SieveCapabilitiesTest, MaskedStartTls) {
  Result<SieveResponse> r =
      ParseSieveResponse("\"IMPLEMENTATION\" \"x\"\r\n\"XXXXXXXA\"\r\nOK\r\n", ReplyLimits{});
  ASSERT_TRUE(r.ok());
  Capabilities c = SieveCapabilities(*r);
  EXPECT_FALSE(c.starttls);
  EXPECT_TRUE(c.starttls_masked);
}

}  // namespace
}  // namespace mailsec::proto
