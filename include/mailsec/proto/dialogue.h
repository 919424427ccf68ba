// The protocol dialogue a probe drives, one implementation per protocol, up to "ready for TLS"
// and again over TLS. The probe calls, in order: Greeting, Capabilities, StartTls (STARTTLS
// services only), SwitchTransport (after the handshake), Capabilities again, Quit.
//
// A Dialogue owns its bounded line reader and is confined to the probe's coroutine. The
// transport passed in must outlive the dialogue or be replaced with SwitchTransport first.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mailsec/base/limits.h"
#include "mailsec/base/status.h"
#include "mailsec/net/line_reader.h"
#include "mailsec/net/transport.h"
#include "mailsec/proto/capabilities.h"
#include "mailsec/proto/smtp.h"

namespace mailsec::proto {

class Dialogue {
 public:
  Dialogue(net::Transport* transport, const ReplyLimits& reply, const DialogueLimits& dialogue);
  virtual ~Dialogue() = default;

  // Reads the server's greeting. Refused: the server turned us away (SMTP 554, IMAP BYE, ...).
  virtual asio::awaitable<Status> Greeting(net::Deadline deadline) = 0;
  // Asks for capabilities (EHLO, CAPABILITY, CAPA, ...). Refused when the server says no.
  virtual asio::awaitable<Result<Capabilities>> AskCapabilities(net::Deadline deadline) = 0;
  // Sends STARTTLS and waits for the go-ahead. Refused when the server declines.
  virtual asio::awaitable<Status> StartTls(net::Deadline deadline) = 0;
  // Says goodbye; errors are ignored by callers but reported for the log.
  virtual asio::awaitable<Status> Quit(net::Deadline deadline) = 0;
  // SMTP only: sends one command line and reads its whole reply, whatever its code (the deep
  // scan's envelope tests: MAIL, RCPT, RSET; never DATA). Other protocols: Unavailable.
  virtual asio::awaitable<Result<SmtpReply>> SmtpCommand(std::string_view line,
                                                         net::Deadline deadline);

  // Continues on another transport (TLS). Returns the plaintext bytes that were already
  // buffered after the go-ahead: they are a response-injection finding and are discarded.
  std::string SwitchTransport(net::Transport* transport);

  // The first greeting line, raw (callers make it printable).
  const std::string& greeting_line() const { return greeting_line_; }

  // Findings a dialogue can make on its own (for example IMAP PREAUTH on a STARTTLS port).
  bool preauth() const { return preauth_; }
  // STARTTLS was answered as an unknown command (SMTP 500, IMAP BAD) although the server had
  // advertised it: the signature of a middlebox that rewrote the command (CHECKS.md STRIP-01).
  bool starttls_unrecognized() const { return starttls_unrecognized_; }
  // Bytes the server sent before TLS that no command asked for (a second greeting, an extra
  // reply), found already buffered when the next command was about to be sent. They are
  // dropped, never read as a reply (CHECKS.md STRIP-05); at most kMaxUnsolicitedKept are kept
  // here as evidence.
  const std::string& unsolicited() const { return unsolicited_; }
  static constexpr size_t kMaxUnsolicitedKept = 512;

 protected:
  // Called by SwitchTransport once the new transport is in place (ManageSieve must then read
  // the capabilities the server sends unasked, RFC 5804 §2.2).
  virtual void OnTransportSwitched() {}

  asio::awaitable<Status> Send(std::string_view line, net::Deadline deadline);

  net::Transport* transport_;
  net::LineReader reader_;
  ReplyLimits reply_limits_;
  DialogueLimits dialogue_limits_;
  size_t commands_sent_ = 0;
  std::string greeting_line_;
  bool preauth_ = false;
  bool starttls_unrecognized_ = false;
  std::string unsolicited_;
  bool switched_ = false;  // SwitchTransport to a non-null transport happened
};

// SMTP/submission/submissions (RFC 5321, 3207, 8314).
std::unique_ptr<Dialogue> MakeSmtpDialogue(net::Transport* transport, std::string helo_name,
                                           const ReplyLimits& reply = {},
                                           const DialogueLimits& dialogue = {});
// IMAP/IMAPS (RFC 9051, 3501, 2595).
std::unique_ptr<Dialogue> MakeImapDialogue(net::Transport* transport, const ReplyLimits& reply = {},
                                           const DialogueLimits& dialogue = {});
// POP3/POP3S (RFC 1939, 2449, 2595).
std::unique_ptr<Dialogue> MakePop3Dialogue(net::Transport* transport, const ReplyLimits& reply = {},
                                           const DialogueLimits& dialogue = {});
// ManageSieve (RFC 5804).
std::unique_ptr<Dialogue> MakeSieveDialogue(net::Transport* transport,
                                            const ReplyLimits& reply = {},
                                            const DialogueLimits& dialogue = {});

}  // namespace mailsec::proto
