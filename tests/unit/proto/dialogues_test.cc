// The IMAP, POP3 and ManageSieve dialogues driven directly against scripted servers on
// 127.0.0.1: the plaintext path up to the STARTTLS go-ahead (no TLS here), the exact commands the
// server received, refusals, and the findings a dialogue makes on its own.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <functional>

#include "mailsec/net/transport.h"
#include "mailsec/proto/dialogue.h"
#include "testing/scripted_server.h"

namespace mailsec::proto {
namespace {

using testing::ScriptedServer;
using testing::Step;
using Body = std::function<asio::awaitable<void>(net::TcpTransport&)>;
using Strings = std::vector<std::string>;

net::Deadline In(std::chrono::milliseconds ms) { return net::SteadyClock::now() + ms; }
net::Deadline Soon() { return In(std::chrono::seconds(3)); }

// Connects to the scripted server and runs `body` on the connection in an io_context; closes the
// connection afterwards so that the server thread ends.
void RunAgainst(const ScriptedServer& server, const Body& body) {
  asio::io_context io;
  bool finished = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::unique_ptr<net::TcpTransport> tcp;
        asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"),
                                   static_cast<uint16_t>(server.port()));
        net::ConnectOutcome c = co_await net::Connect(ep, Soon(), &tcp);
        EXPECT_EQ(c.error, net::ConnectError::kNone) << c.message;
        if (c.error != net::ConnectError::kNone) co_return;
        co_await body(*tcp);
        tcp->Close();
        finished = true;
      },
      [](std::exception_ptr ep) { EXPECT_FALSE(ep); });
  io.run();
  EXPECT_TRUE(finished);
}

Status NotRun() { return Status::Internal("not run"); }

bool Contains(const Strings& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// ---------------------------------------------------------------- IMAP

const char kDovecotImapGreeting[] =
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
    "LOGINDISABLED] Dovecot (Debian) ready.\r\n";
const char kDovecotImapCapability[] =
    "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
    "LOGINDISABLED\r\n"
    "a1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n";

TEST(ImapDialogueTest, DovecotUpToStartTlsAndAgainAfterSwitch) {
  // The go-ahead arrives together with a forged line; it must come back from SwitchTransport and
  // never be read as an answer. The second CAPABILITY goes over the "new" transport (the same
  // socket here, standing in for TLS) with the next tag.
  ScriptedServer server({{"", kDovecotImapGreeting},
                         {"a1 CAPABILITY", kDovecotImapCapability},
                         {"a2 STARTTLS", "a2 OK Begin TLS negotiation now.\r\n* forged\r\n"},
                         {"a3 CAPABILITY",
                          "* CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN AUTH=LOGIN\r\n"
                          "a3 OK Pre-login capabilities listed.\r\n"},
                         {"a4 LOGOUT", "* BYE Logging out\r\na4 OK Logout completed.\r\n"}});
  Status greeting = NotRun(), starttls = NotRun(), quit = NotRun();
  Result<Capabilities> before = NotRun(), after = NotRun();
  std::string injected;
  bool preauth = true;
  std::string greeting_line;
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
    greeting = co_await d->Greeting(Soon());
    greeting_line = d->greeting_line();
    preauth = d->preauth();
    before = co_await d->AskCapabilities(Soon());
    starttls = co_await d->StartTls(Soon());
    injected = d->SwitchTransport(nullptr);
    d->SwitchTransport(&t);
    after = co_await d->AskCapabilities(Soon());
    quit = co_await d->Quit(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(server.received(),
            (Strings{"a1 CAPABILITY", "a2 STARTTLS", "a3 CAPABILITY", "a4 LOGOUT"}));
  EXPECT_TRUE(greeting.ok()) << greeting.ToString();
  EXPECT_FALSE(preauth);
  std::string sent = kDovecotImapGreeting;
  EXPECT_EQ(greeting_line, sent.substr(0, sent.size() - 2));  // without CRLF
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_TRUE(before->starttls);
  EXPECT_FALSE(before->plaintext_login);
  EXPECT_TRUE(Contains(before->keywords, "LOGINDISABLED"));
  EXPECT_TRUE(starttls.ok()) << starttls.ToString();
  EXPECT_EQ(injected, "* forged\r\n");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_FALSE(after->starttls);
  EXPECT_EQ(after->auth, (Strings{"PLAIN", "LOGIN"}));
  EXPECT_TRUE(quit.ok()) << quit.ToString();
}

TEST(ImapDialogueTest, ExchangeWithoutGreetingCapabilities) {
  ScriptedServer server(
      {{"", "* OK The Microsoft Exchange IMAP4 service is ready.\r\n"},
       {"a1 CAPABILITY",
        "* CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN STARTTLS SASL-IR UIDPLUS "
        "ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+\r\n"
        "* 1 RECENT\r\n"
        "a1 OK CAPABILITY completed.\r\n"},
       {"a2 STARTTLS", "a2 OK Begin TLS negotiation now.\r\n"}});
  Result<Capabilities> caps = NotRun();
  Status starttls = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok()) << g.ToString();
    caps = co_await d->AskCapabilities(Soon());
    starttls = co_await d->StartTls(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(server.received(), (Strings{"a1 CAPABILITY", "a2 STARTTLS"}));
  ASSERT_TRUE(caps.ok()) << caps.status().ToString();
  EXPECT_TRUE(caps->starttls);
  EXPECT_TRUE(caps->plaintext_login);  // AUTH=PLAIN and no LOGINDISABLED before TLS
  EXPECT_EQ(caps->auth, (Strings{"NTLM", "GSSAPI", "PLAIN"}));
  EXPECT_TRUE(starttls.ok());
}

TEST(ImapDialogueTest, StartTlsRefused) {
  ScriptedServer server({{"", "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"},
                         {"a1 CAPABILITY", "* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n"},
                         {"a2 STARTTLS", "a2 NO [UNAVAILABLE] TLS not available\r\n"},
                         {"a3 LOGOUT", "* BYE bye\r\n"}});  // and hangs up without "a3 OK"
  Status starttls = NotRun(), quit = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok());
    Result<Capabilities> caps = co_await d->AskCapabilities(Soon());
    EXPECT_TRUE(caps.ok());
    starttls = co_await d->StartTls(Soon());
    quit = co_await d->Quit(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(server.received(), (Strings{"a1 CAPABILITY", "a2 STARTTLS", "a3 LOGOUT"}));
  EXPECT_EQ(starttls.code(), Status::Code::kRefused) << starttls.ToString();
  EXPECT_NE(starttls.message().find("NO TLS not available"), std::string::npos);
  EXPECT_TRUE(quit.ok()) << quit.ToString();
}

TEST(ImapDialogueTest, StartTlsBad) {
  ScriptedServer server({{"", "* OK ready\r\n"}, {"a1 STARTTLS", "a1 BAD Unknown command\r\n"}});
  Status starttls = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok());
    starttls = co_await d->StartTls(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(starttls.code(), Status::Code::kRefused);
}

TEST(ImapDialogueTest, PreauthRefusesStartTlsWithoutSending) {
  ScriptedServer server({{"", "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in as bob\r\n"},
                         {"a1 CAPABILITY", "* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n"}},
                        1000);
  Status greeting = NotRun(), starttls = NotRun();
  bool preauth = false;
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
    greeting = co_await d->Greeting(Soon());
    preauth = d->preauth();
    Result<Capabilities> caps = co_await d->AskCapabilities(Soon());
    EXPECT_TRUE(caps.ok() && caps->starttls);
    starttls = co_await d->StartTls(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(server.received(), (Strings{"a1 CAPABILITY"}));  // no STARTTLS went out
  EXPECT_TRUE(greeting.ok()) << greeting.ToString();
  EXPECT_TRUE(preauth);
  EXPECT_EQ(starttls.code(), Status::Code::kRefused);
  EXPECT_NE(starttls.message().find("PREAUTH"), std::string::npos);
}

TEST(ImapDialogueTest, ByeGreetingIsRefused) {
  ScriptedServer server({{"", "* BYE Too many connections from your IP\r\n"}}, 500);
  Status greeting = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
    greeting = co_await d->Greeting(Soon());
  });
  EXPECT_EQ(greeting.code(), Status::Code::kRefused);
  EXPECT_NE(greeting.message().find("Too many connections"), std::string::npos);
}

TEST(ImapDialogueTest, SmtpBannerOnImapPortIsMalformed) {
  ScriptedServer server({{"", "220 mx.example.org ESMTP Postfix\r\n"}}, 500);
  Status greeting = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
    greeting = co_await d->Greeting(Soon());
  });
  EXPECT_EQ(greeting.code(), Status::Code::kMalformed);
}

TEST(ImapDialogueTest, CapabilityRefusedAndByeMidResponse) {
  ScriptedServer server({{"", "* OK ready\r\n"},
                         {"a1 CAPABILITY", "a1 BAD not now\r\n"},
                         {"a2 CAPABILITY", "* BYE Autologout; idle for too long\r\n"}});
  Result<Capabilities> bad = NotRun(), bye = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok());
    bad = co_await d->AskCapabilities(Soon());
    bye = co_await d->AskCapabilities(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(bad.status().code(), Status::Code::kRefused);
  EXPECT_EQ(bye.status().code(), Status::Code::kRefused);
  EXPECT_NE(bye.status().message().find("Autologout"), std::string::npos);
}

TEST(ImapDialogueTest, LiteralAndEofAndEndlessLine) {
  {
    ScriptedServer server({{"", "* OK ready\r\n"}, {"a1 CAPABILITY", "* CAPABILITY {64}\r\n"}},
                          500);
    Result<Capabilities> caps = NotRun();
    RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
      std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
      Status g = co_await d->Greeting(Soon());
      EXPECT_TRUE(g.ok());
      caps = co_await d->AskCapabilities(Soon());
    });
    EXPECT_EQ(caps.status().code(), Status::Code::kMalformed);
  }
  {
    // The completion never comes: the server hangs up. Closed passes through.
    ScriptedServer server(
        {{"", "* OK ready\r\n"}, {"a1 CAPABILITY", "* CAPABILITY IMAP4rev1 STARTTLS\r\n"}});
    Result<Capabilities> caps = NotRun();
    RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
      std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
      Status g = co_await d->Greeting(Soon());
      EXPECT_TRUE(g.ok());
      caps = co_await d->AskCapabilities(Soon());
    });
    EXPECT_EQ(caps.status().code(), Status::Code::kClosed);
  }
  {
    ScriptedServer server({{"", "* OK " + std::string(100000, 'a')}}, 500);
    Status greeting = NotRun();
    RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
      std::unique_ptr<Dialogue> d = MakeImapDialogue(&t);
      greeting = co_await d->Greeting(Soon());
    });
    EXPECT_EQ(greeting.code(), Status::Code::kMalformed);
  }
}

// ---------------------------------------------------------------- POP3

const char kDovecotCapa[] =
    "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\n"
    "SASL PLAIN LOGIN\r\n.\r\n";

TEST(Pop3DialogueTest, DovecotUpToStls) {
  ScriptedServer server({{"", "+OK Dovecot (Debian) ready.\r\n"},
                         {"CAPA", kDovecotCapa},
                         {"STLS", "+OK Begin TLS negotiation now.\r\n"}});
  Status greeting = NotRun(), starttls = NotRun();
  Result<Capabilities> caps = NotRun();
  std::string greeting_line;
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakePop3Dialogue(&t);
    greeting = co_await d->Greeting(Soon());
    greeting_line = d->greeting_line();
    caps = co_await d->AskCapabilities(Soon());
    starttls = co_await d->StartTls(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(server.received(), (Strings{"CAPA", "STLS"}));
  EXPECT_TRUE(greeting.ok()) << greeting.ToString();
  EXPECT_EQ(greeting_line, "+OK Dovecot (Debian) ready.");
  ASSERT_TRUE(caps.ok()) << caps.status().ToString();
  EXPECT_TRUE(caps->starttls);
  EXPECT_TRUE(caps->plaintext_login);
  EXPECT_EQ(caps->auth, (Strings{"PLAIN", "LOGIN"}));
  EXPECT_EQ(caps->keywords.size(), 9u);
  EXPECT_TRUE(starttls.ok()) << starttls.ToString();
}

TEST(Pop3DialogueTest, CapaRefusedIsEmptyNotAnError) {
  ScriptedServer server({{"", "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"},
                         {"CAPA", "-ERR unknown command\r\n"},
                         {"QUIT", "+OK dewey POP3 server signing off\r\n"}});
  Result<Capabilities> caps = NotRun();
  Status quit = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakePop3Dialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok());
    caps = co_await d->AskCapabilities(Soon());
    quit = co_await d->Quit(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(server.received(), (Strings{"CAPA", "QUIT"}));
  ASSERT_TRUE(caps.ok()) << caps.status().ToString();
  EXPECT_TRUE(caps->keywords.empty());
  EXPECT_FALSE(caps->starttls);
  EXPECT_FALSE(caps->plaintext_login);
  EXPECT_TRUE(quit.ok());
}

TEST(Pop3DialogueTest, StlsRefused) {
  ScriptedServer server({{"", "+OK ready\r\n"},
                         {"CAPA", "+OK\r\nSTLS\r\n.\r\n"},
                         {"STLS", "-ERR TLS not available\r\n"},
                         {"QUIT", "+OK bye\r\n"}});
  Status starttls = NotRun(), quit = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakePop3Dialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok());
    Result<Capabilities> caps = co_await d->AskCapabilities(Soon());
    EXPECT_TRUE(caps.ok() && caps->starttls);
    starttls = co_await d->StartTls(Soon());
    quit = co_await d->Quit(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(starttls.code(), Status::Code::kRefused);
  EXPECT_NE(starttls.message().find("TLS not available"), std::string::npos);
  EXPECT_TRUE(quit.ok());
}

TEST(Pop3DialogueTest, ErrGreetingIsRefusedGarbageIsMalformed) {
  {
    ScriptedServer server({{"", "-ERR [SYS/TEMP] too many connections\r\n"}}, 500);
    Status greeting = NotRun();
    RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
      std::unique_ptr<Dialogue> d = MakePop3Dialogue(&t);
      greeting = co_await d->Greeting(Soon());
    });
    EXPECT_EQ(greeting.code(), Status::Code::kRefused);
  }
  {
    ScriptedServer server({{"", "* OK IMAP4rev1 ready\r\n"}}, 500);
    Status greeting = NotRun();
    RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
      std::unique_ptr<Dialogue> d = MakePop3Dialogue(&t);
      greeting = co_await d->Greeting(Soon());
    });
    EXPECT_EQ(greeting.code(), Status::Code::kMalformed);
  }
}

TEST(Pop3DialogueTest, CapaWithoutTerminatorThenEof) {
  ScriptedServer server({{"", "+OK ready\r\n"}, {"CAPA", "+OK\r\nTOP\r\nSTLS\r\n"}});
  Result<Capabilities> caps = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakePop3Dialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok());
    caps = co_await d->AskCapabilities(Soon());
  });
  EXPECT_EQ(caps.status().code(), Status::Code::kClosed);
}

TEST(Pop3DialogueTest, EndlessCapaIsBounded) {
  std::string flood = "+OK\r\n";
  for (int i = 0; i < 500; ++i) flood += "X-FILLER-" + std::to_string(i) + "\r\n";
  ScriptedServer server({{"", "+OK ready\r\n"}, {"CAPA", flood}}, 500);
  Result<Capabilities> caps = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakePop3Dialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok());
    caps = co_await d->AskCapabilities(Soon());
  });
  EXPECT_EQ(caps.status().code(), Status::Code::kMalformed);
  EXPECT_NE(caps.status().message().find("too many lines"), std::string::npos);
}

// ---------------------------------------------------------------- ManageSieve

const char kDovecotSieveGreeting[] =
    "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n"
    "\"SIEVE\" \"fileinto reject envelope encoded-character vacation subaddress "
    "comparator-i;ascii-numeric relational regex imap4flags copy include variables body enotify "
    "environment mailbox date index ihave duplicate mime foreverypart extracttext\"\r\n"
    "\"NOTIFY\" \"mailto\"\r\n"
    "\"SASL\" \"\"\r\n"
    "\"STARTTLS\"\r\n"
    "\"VERSION\" \"1.0\"\r\n"
    "OK \"Dovecot (Debian) ready.\"\r\n";
const char kDovecotSieveAfterTls[] =
    "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n"
    "\"SIEVE\" \"fileinto reject envelope\"\r\n"
    "\"NOTIFY\" \"mailto\"\r\n"
    "\"SASL\" \"PLAIN LOGIN\"\r\n"
    "\"VERSION\" \"1.0\"\r\n"
    "OK \"TLS negotiation successful.\"\r\n";

TEST(SieveDialogueTest, DovecotUpToStartTlsAndCapabilitiesAfterSwitch) {
  // The capability list after "TLS" comes unasked, a little after the go-ahead (a real server
  // sends it once the handshake is done).
  ScriptedServer server({{"", kDovecotSieveGreeting},
                         {"STARTTLS", "OK \"Begin TLS negotiation now.\"\r\n"},
                         {"", kDovecotSieveAfterTls, 300},
                         {"LOGOUT", "OK \"Logout completed.\"\r\n"}});
  Status greeting = NotRun(), starttls = NotRun(), quit = NotRun();
  Result<Capabilities> before = NotRun(), again = NotRun(), after = NotRun();
  std::string greeting_line;
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeSieveDialogue(&t);
    greeting = co_await d->Greeting(Soon());
    greeting_line = d->greeting_line();
    before = co_await d->AskCapabilities(Soon());
    again = co_await d->AskCapabilities(Soon());  // still nothing sent
    starttls = co_await d->StartTls(Soon());
    std::string injected = d->SwitchTransport(nullptr);
    EXPECT_EQ(injected, "");
    d->SwitchTransport(&t);
    after = co_await d->AskCapabilities(Soon());
    quit = co_await d->Quit(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(server.received(), (Strings{"STARTTLS", "LOGOUT"}));
  EXPECT_TRUE(greeting.ok()) << greeting.ToString();
  EXPECT_EQ(greeting_line, "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_TRUE(before->starttls);
  EXPECT_FALSE(before->plaintext_login);
  EXPECT_TRUE(before->auth.empty());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->keywords, before->keywords);
  EXPECT_TRUE(starttls.ok()) << starttls.ToString();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_FALSE(after->starttls);
  EXPECT_EQ(after->auth, (Strings{"PLAIN", "LOGIN"}));
  EXPECT_TRUE(quit.ok()) << quit.ToString();
}

TEST(SieveDialogueTest, SilentAfterTlsIsTimeout) {
  ScriptedServer server(
      {{"", kDovecotSieveGreeting}, {"STARTTLS", "OK \"Begin TLS negotiation now.\"\r\n"}}, 3000);
  Result<Capabilities> after = NotRun();
  auto t0 = std::chrono::steady_clock::now();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeSieveDialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok());
    Status s = co_await d->StartTls(Soon());
    EXPECT_TRUE(s.ok());
    d->SwitchTransport(nullptr);
    d->SwitchTransport(&t);
    after = co_await d->AskCapabilities(In(std::chrono::milliseconds(300)));
  });
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(server.received(), (Strings{"STARTTLS"}));  // no CAPABILITY was sent
  EXPECT_EQ(after.status().code(), Status::Code::kTimeout) << after.status().ToString();
  EXPECT_NE(after.status().message().find("5804"), std::string::npos);
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));
}

TEST(SieveDialogueTest, StartTlsRefused) {
  ScriptedServer server({{"", "\"IMPLEMENTATION\" \"x\"\r\n\"STARTTLS\"\r\nOK\r\n"},
                         {"STARTTLS", "NO \"TLS support not configured\"\r\n"},
                         {"LOGOUT", "OK\r\n"}});
  Status starttls = NotRun(), quit = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeSieveDialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok());
    starttls = co_await d->StartTls(Soon());
    quit = co_await d->Quit(Soon());
  });
  EXPECT_EQ(server.error(), "");
  EXPECT_EQ(server.received(), (Strings{"STARTTLS", "LOGOUT"}));
  EXPECT_EQ(starttls.code(), Status::Code::kRefused);
  EXPECT_NE(starttls.message().find("TLS support not configured"), std::string::npos);
  EXPECT_TRUE(quit.ok());
}

TEST(SieveDialogueTest, PlaintextSaslBeforeTls) {
  ScriptedServer server({{"",
                          "\"IMPLEMENTATION\" \"Cyrus timsieved v3.6.1\"\r\n"
                          "\"SASL\" \"PLAIN LOGIN\"\r\n\"STARTTLS\"\r\nOK\r\n"}},
                        500);
  Result<Capabilities> caps = NotRun();
  RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
    std::unique_ptr<Dialogue> d = MakeSieveDialogue(&t);
    Status g = co_await d->Greeting(Soon());
    EXPECT_TRUE(g.ok());
    caps = co_await d->AskCapabilities(Soon());
  });
  EXPECT_EQ(server.received(), Strings{});
  ASSERT_TRUE(caps.ok());
  EXPECT_TRUE(caps->plaintext_login);
  EXPECT_EQ(caps->auth, (Strings{"PLAIN", "LOGIN"}));
}

TEST(SieveDialogueTest, ByeGreetingIsRefusedGarbageIsMalformed) {
  {
    ScriptedServer server({{"", "BYE \"Too many connections\"\r\n"}}, 500);
    Status greeting = NotRun();
    RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
      std::unique_ptr<Dialogue> d = MakeSieveDialogue(&t);
      greeting = co_await d->Greeting(Soon());
    });
    EXPECT_EQ(greeting.code(), Status::Code::kRefused);
  }
  {
    ScriptedServer server({{"", "\"IMPLEMENTATION\" \"x\"\r\n\"SASL\" \"PLAIN\r\nOK\r\n"}}, 500);
    Status greeting = NotRun();
    RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
      std::unique_ptr<Dialogue> d = MakeSieveDialogue(&t);
      greeting = co_await d->Greeting(Soon());
    });
    EXPECT_EQ(greeting.code(), Status::Code::kMalformed);
    EXPECT_NE(greeting.message().find("unterminated"), std::string::npos);
  }
  {
    // Capability lines, then the server hangs up before OK.
    ScriptedServer server({Step{"", "\"IMPLEMENTATION\" \"x\"\r\n\"STARTTLS\"\r\n"}});
    Status greeting = NotRun();
    RunAgainst(server, [&](net::TcpTransport& t) -> asio::awaitable<void> {
      std::unique_ptr<Dialogue> d = MakeSieveDialogue(&t);
      greeting = co_await d->Greeting(Soon());
    });
    EXPECT_EQ(greeting.code(), Status::Code::kClosed);
  }
}

}  // namespace
}  // namespace mailsec::proto
