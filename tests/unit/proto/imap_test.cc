#include "mailsec/proto/imap.h"

#include <gtest/gtest.h>

namespace mailsec::proto {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// Greetings as real servers send them, and hostile or foreign ones.
struct GreetingCase {
  const char* name;
  std::string line;
  bool ok;
  ImapGreeting::Kind kind;
  std::string capabilities;
  std::string text;
  std::string error;  // substring of the error
};

class ImapGreetingTest : public ::testing::TestWithParam<GreetingCase> {};

TEST_P(ImapGreetingTest, Parses) {
  const GreetingCase& c = GetParam();
  Result<ImapGreeting> g = ParseImapGreeting(c.line, ReplyLimits{});
  ASSERT_EQ(g.ok(), c.ok) << g.status().ToString();
  if (c.ok) {
    EXPECT_EQ(g->kind, c.kind);
    EXPECT_EQ(g->capabilities, c.capabilities);
    EXPECT_EQ(g->text, c.text);
  } else {
    EXPECT_EQ(g.status().code(), Status::Code::kMalformed);
    EXPECT_NE(g.status().message().find(c.error), std::string::npos) << g.status().message();
  }
}

using GK = ImapGreeting::Kind;

INSTANTIATE_TEST_SUITE_P(
    Table, ImapGreetingTest,
    ::testing::Values(
        GreetingCase{"dovecot",
                     "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
                     "STARTTLS LOGINDISABLED] Dovecot (Debian) ready.",
                     true, GK::kOk,
                     "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
                     "LOGINDISABLED",
                     "Dovecot (Debian) ready.", ""},
        GreetingCase{"courier",
                     "* OK [CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE "
                     "THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION "
                     "STARTTLS] Courier-IMAP ready. Copyright 1998-2018 Double Precision, Inc.  "
                     "See COPYING for distribution information.",
                     true, GK::kOk,
                     "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT "
                     "THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION STARTTLS",
                     "Courier-IMAP ready. Copyright 1998-2018 Double Precision, Inc.  See "
                     "COPYING for distribution information.",
                     ""},
        GreetingCase{"cyrus",
                     "* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE STARTTLS LOGINDISABLED "
                     "SASL-IR] imap.example.org Cyrus IMAP 3.6.1-Debian server ready",
                     true, GK::kOk, "IMAP4rev1 LITERAL+ ID ENABLE STARTTLS LOGINDISABLED SASL-IR",
                     "imap.example.org Cyrus IMAP 3.6.1-Debian server ready", ""},
        GreetingCase{"exchange", "* OK The Microsoft Exchange IMAP4 service is ready.", true,
                     GK::kOk, "", "The Microsoft Exchange IMAP4 service is ready.", ""},
        GreetingCase{"lower_case_ok", "* ok hello", true, GK::kOk, "", "hello", ""},
        GreetingCase{"bare_ok", "* OK", true, GK::kOk, "", "", ""},
        GreetingCase{"other_code", "* OK [ALERT] maintenance tonight", true, GK::kOk, "",
                     "maintenance tonight", ""},
        GreetingCase{"preauth", "* PREAUTH [CAPABILITY IMAP4rev1] logged in as bob", true,
                     GK::kPreauth, "IMAP4rev1", "logged in as bob", ""},
        GreetingCase{"bye", "* BYE Too many connections from your IP", true, GK::kBye, "",
                     "Too many connections from your IP", ""},
        GreetingCase{"utf8_text", "* OK Bienvenue \xc3\xa0 bord \xff", true, GK::kOk, "",
                     "Bienvenue \xc3\xa0 bord \xff", ""},
        GreetingCase{"smtp_banner", "220 mx.example.org ESMTP Postfix", false, GK::kOk, "", "",
                     "not an IMAP greeting"},
        GreetingCase{"pop3_banner", "+OK Dovecot ready.", false, GK::kOk, "", "",
                     "not an IMAP greeting"},
        GreetingCase{"no_greeting", "* NO go away", false, GK::kOk, "", "", "not an IMAP greeting"},
        GreetingCase{"tagged", "a1 OK hello", false, GK::kOk, "", "", "not an IMAP greeting"},
        GreetingCase{"empty", "", false, GK::kOk, "", "", "not an IMAP greeting"},
        GreetingCase{"star_only", "*", false, GK::kOk, "", "", "not an IMAP greeting"},
        GreetingCase{"unterminated_code", "* OK [CAPABILITY IMAP4rev1 STARTTLS", false, GK::kOk, "",
                     "", "unterminated response code"},
        GreetingCase{"literal", "* OK [CAPABILITY IMAP4rev1] {12}", false, GK::kOk, "", "",
                     "literal"},
        GreetingCase{"high_byte_name", "* \xc3\xa9 hello", false, GK::kOk, "", "",
                     "bad response name"},
        GreetingCase{"long_line", "* OK " + std::string(3000, 'a'), false, GK::kOk, "", "",
                     "too long"}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(ImapLineTest, Kinds) {
  Result<ImapLine> l = ParseImapLine("a7 NO [UNAVAILABLE] try later", ReplyLimits{});
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->kind, ImapLine::Kind::kTagged);
  EXPECT_EQ(l->tag, "a7");
  EXPECT_EQ(l->name, "NO");
  EXPECT_EQ(l->code, "UNAVAILABLE");
  EXPECT_EQ(l->text, "try later");
  EXPECT_TRUE(l->IsStatus());

  l = ParseImapLine("* 3 EXISTS", ReplyLimits{});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->kind, ImapLine::Kind::kUntagged);
  EXPECT_EQ(l->name, "3");
  EXPECT_EQ(l->text, "EXISTS");
  EXPECT_FALSE(l->IsStatus());

  l = ParseImapLine("+ go on", ReplyLimits{});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->kind, ImapLine::Kind::kContinuation);
  EXPECT_EQ(l->text, "go on");
  EXPECT_FALSE(l->IsStatus());
}

TEST(ImapLineTest, Rejections) {
  const char* bad[] = {
      "a1 FOO bar",            // tagged without OK/NO/BAD
      "a(1 OK x",              // bad tag character
      "*OK glued",             // no space after '*'
      "* LIST () \"/\" {5}",   // literal
      "* LIST () \"/\" {5+}",  // non-synchronizing literal
      "a1",                    // tag alone
  };
  for (const char* line : bad) {
    Result<ImapLine> l = ParseImapLine(line, ReplyLimits{});
    EXPECT_FALSE(l.ok()) << line;
    EXPECT_EQ(l.status().code(), Status::Code::kMalformed) << line;
  }
  // Text that merely contains braces is no literal.
  EXPECT_TRUE(ParseImapLine("* OK {not a literal}", ReplyLimits{}).ok());
  EXPECT_TRUE(ParseImapLine("* OK {}", ReplyLimits{}).ok());
}

struct ResponseCase {
  const char* name;
  std::string in;
  bool ok;
  std::string status;
  std::string capabilities;
  bool bye;
  std::string error;
};

class ImapResponseTest : public ::testing::TestWithParam<ResponseCase> {};

TEST_P(ImapResponseTest, Parses) {
  const ResponseCase& c = GetParam();
  ReplyLimits lim;
  lim.max_lines = 20;
  Result<ImapResponse> r = ParseImapResponse(c.in, "a1", lim);
  ASSERT_EQ(r.ok(), c.ok) << r.status().ToString();
  if (c.ok) {
    EXPECT_EQ(r->status, c.status);
    EXPECT_EQ(r->capabilities, c.capabilities);
    EXPECT_EQ(r->bye, c.bye);
  } else {
    EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ImapResponseTest,
    ::testing::Values(
        ResponseCase{"dovecot",
                     "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
                     "STARTTLS LOGINDISABLED\r\na1 OK Pre-login capabilities listed, post-login "
                     "capabilities have more.\r\n",
                     true, "OK",
                     "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
                     "LOGINDISABLED",
                     false, ""},
        ResponseCase{"exchange",
                     "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=NTLM AUTH=GSSAPI SASL-IR "
                     "UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+\r\n"
                     "a1 OK CAPABILITY completed.\r\n",
                     true, "OK",
                     "IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=NTLM AUTH=GSSAPI SASL-IR UIDPLUS ID "
                     "UNSELECT CHILDREN IDLE NAMESPACE LITERAL+",
                     false, ""},
        ResponseCase{"two_lines_and_noise",
                     "* CAPABILITY IMAP4rev1 STARTTLS\r\n* 12 EXISTS\r\n* OK [ALERT] hi\r\n"
                     "* CAPABILITY IDLE\r\na1 OK done\r\n",
                     true, "OK", "IMAP4rev1 STARTTLS IDLE", false, ""},
        ResponseCase{"in_completion_code", "a1 OK [CAPABILITY IMAP4rev1 STARTTLS] done\r\n", true,
                     "OK", "IMAP4rev1 STARTTLS", false, ""},
        ResponseCase{"no", "a1 NO not now\r\n", true, "NO", "", false, ""},
        ResponseCase{"bad", "a1 BAD Error in IMAP command: Unknown command\r\n", true, "BAD", "",
                     false, ""},
        ResponseCase{"logout", "* BYE Logging out\r\na1 OK Logout completed.\r\n", true, "OK", "",
                     true, ""},
        ResponseCase{"bare_lf", "* CAPABILITY IMAP4rev1\na1 OK\n", true, "OK", "IMAP4rev1", false,
                     ""},
        ResponseCase{"other_tag", "a2 OK done\r\n", false, "", "", false, "another tag"},
        ResponseCase{"continuation", "+ ready\r\n", false, "", "", false, "continuation"},
        ResponseCase{"literal", "* CAPABILITY {20}\r\n", false, "", "", false, "literal"},
        ResponseCase{"missing_completion_then_eof", "* CAPABILITY IMAP4rev1\r\n", false, "", "",
                     false, "incomplete"},
        ResponseCase{"missing_crlf", "a1 OK", false, "", "", false, "without line ending"},
        ResponseCase{"trailing", "a1 OK\r\n* junk\r\n", false, "", "", false, "after the end"},
        ResponseCase{"too_many_lines", Repeat("* 1 EXISTS\r\n", 30) + "a1 OK\r\n", false, "", "",
                     false, "too many lines"},
        ResponseCase{"long_line", "* CAPABILITY " + std::string(3000, 'A') + "\r\na1 OK\r\n", false,
                     "", "", false, "too long"},
        ResponseCase{"smtp_reply", "250 OK\r\n", false, "", "", false, "another tag"}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(ImapResponseBuilderTest, TotalLimit) {
  ReplyLimits lim;
  lim.max_total = 100;
  ImapResponseBuilder b("a1", lim);
  Status s;
  for (int i = 0; i < 20 && s.ok(); ++i) s = b.AddLine("* CAPABILITY " + std::string(20, 'X'));
  EXPECT_EQ(s.code(), Status::Code::kMalformed);
  EXPECT_NE(s.message().find("response too long"), std::string::npos);
}

TEST(ImapResponseBuilderTest, SpentAfterCompletion) {
  ImapResponseBuilder b("a1", ReplyLimits{});
  EXPECT_TRUE(b.AddLine("a1 OK").ok());
  EXPECT_TRUE(b.done());
  EXPECT_EQ(b.AddLine("a1 OK").code(), Status::Code::kMalformed);
}

TEST(ImapCapabilitiesTest, DovecotBeforeTls) {
  Result<Capabilities> c = ParseImapCapabilities(
      "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->starttls);
  EXPECT_FALSE(c->starttls_masked);
  EXPECT_FALSE(c->plaintext_login);
  EXPECT_TRUE(c->auth.empty());
  EXPECT_EQ(c->keywords.size(), 9u);
  EXPECT_EQ(c->keywords.front(), "IMAP4REV1");
}

TEST(ImapCapabilitiesTest, DovecotAfterTls) {
  Result<Capabilities> c = ParseImapCapabilities(
      "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->starttls);
  EXPECT_EQ(c->auth, (std::vector<std::string>{"PLAIN", "LOGIN"}));
  EXPECT_TRUE(c->plaintext_login);
}

TEST(ImapCapabilitiesTest, LoginWithoutLoginDisabledIsPlaintext) {
  // Courier before TLS: no LOGINDISABLED, so LOGIN takes a password in the clear.
  Result<Capabilities> c = ParseImapCapabilities(
      "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA "
      "IDLE ACL ACL2=UNION STARTTLS");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->starttls);
  EXPECT_TRUE(c->plaintext_login);
  EXPECT_TRUE(c->auth.empty());
}

TEST(ImapCapabilitiesTest, AuthPlainDespiteLoginDisabledIsPlaintext) {
  Result<Capabilities> c = ParseImapCapabilities("IMAP4rev1 LOGINDISABLED auth=plain STARTTLS");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->plaintext_login);
  EXPECT_EQ(c->auth, (std::vector<std::string>{"PLAIN"}));
  EXPECT_EQ(c->keywords[2], "AUTH=PLAIN");
}

TEST(ImapCapabilitiesTest, GssapiOnlyWithLoginDisabledIsNotPlaintext) {
  Result<Capabilities> c =
      ParseImapCapabilities("IMAP4rev1  LOGINDISABLED AUTH=GSSAPI AUTH=GSSAPI STARTTLS ");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->plaintext_login);
  EXPECT_EQ(c->auth, (std::vector<std::string>{"GSSAPI"}));
  EXPECT_EQ(c->keywords.size(), 4u);  // duplicates and doubled spaces collapse
}

TEST(ImapCapabilitiesTest, MaskedStartTls) {
  for (const char* mask : {"XXXXXXXA", "XXXXXXXX", "xxxxxxTL"}) {
    Result<Capabilities> c = ParseImapCapabilities(std::string("IMAP4rev1 ") + mask);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->starttls_masked) << mask;
    EXPECT_FALSE(c->starttls);
  }
  for (const char* other : {"XXXXXA", "XXXXXXXXX", "XXXXXTLS"}) {
    Result<Capabilities> c = ParseImapCapabilities(std::string("IMAP4rev1 ") + other);
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->starttls_masked) << other;
  }
}

TEST(ImapCapabilitiesTest, HostileBytes) {
  for (const char* bad :
       {"IMAP4rev1 ST\xc3\x84RTTLS", "IMAP4rev1 \x01", "IMAP4rev1 (x)", "IMAP4rev1 \"STARTTLS\""}) {
    Result<Capabilities> c = ParseImapCapabilities(bad);
    EXPECT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), Status::Code::kMalformed);
    EXPECT_NE(c.status().message().find("bad character"), std::string::npos);
  }
}

TEST(ImapCapabilitiesTest, Empty) {
  Result<Capabilities> c = ParseImapCapabilities("");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->keywords.empty());
  EXPECT_FALSE(c->starttls);
}

}  // namespace
}  // namespace mailsec::proto
