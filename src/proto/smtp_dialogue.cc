// The SMTP dialogue: greeting (multi-line 220- greetings included), EHLO, STARTTLS, QUIT.
// Like Postfix's smtp client, it never speaks before the whole greeting has arrived (postscreen
// rejects clients that do) and asks EHLO again after the handshake.
#include "mailsec/base/text.h"
#include "mailsec/proto/dialogue.h"
#include "mailsec/proto/smtp.h"

namespace mailsec::proto {
namespace {

class SmtpDialogue final : public Dialogue {
 public:
  SmtpDialogue(net::Transport* t, std::string helo, const ReplyLimits& r, const DialogueLimits& d)
      : Dialogue(t, r, d), helo_(std::move(helo)) {}

  asio::awaitable<Status> Greeting(net::Deadline deadline) override {
    Result<SmtpReply> r = co_await ReadReply(deadline);
    if (!r.ok()) co_return r.status();
    greeting_line_ = r->FirstLine();
    if (r->code != 220) {
      co_return Status::Refused("greeting " + std::to_string(r->code) + " " +
                                Printable(r->FirstLine(), 100));
    }
    co_return Status::Ok();
  }

  asio::awaitable<Result<Capabilities>> AskCapabilities(net::Deadline deadline) override {
    Status s = co_await Send("EHLO " + helo_, deadline);
    if (!s.ok()) co_return s;
    Result<SmtpReply> r = co_await ReadReply(deadline);
    if (!r.ok()) co_return r.status();
    if (r->code == 500 || r->code == 502) {
      // A server without ESMTP (RFC 5321 §3.2: the client then falls back to HELO). It has
      // no extensions, so no STARTTLS either: that is what the probe then reports.
      s = co_await Send("HELO " + helo_, deadline);
      if (!s.ok()) co_return s;
      r = co_await ReadReply(deadline);
      if (!r.ok()) co_return r.status();
      if (r->code != 250) {
        co_return Status::Refused("EHLO and HELO refused: " + std::to_string(r->code) + " " +
                                  Printable(r->FirstLine(), 100));
      }
      co_return Capabilities{};
    }
    if (r->code != 250) {
      co_return Status::Refused("EHLO answered " + std::to_string(r->code) + " " +
                                Printable(r->FirstLine(), 100));
    }
    EhloCapabilities ehlo = ParseEhlo(*r);
    Capabilities caps;
    caps.keywords = std::move(ehlo.keywords);
    caps.starttls = ehlo.starttls;
    caps.starttls_masked = ehlo.starttls_masked;
    caps.auth = std::move(ehlo.auth);
    caps.plaintext_login = !caps.auth.empty();
    co_return caps;
  }

  asio::awaitable<Status> StartTls(net::Deadline deadline) override {
    Status s = co_await Send("STARTTLS", deadline);
    if (!s.ok()) co_return s;
    Result<SmtpReply> r = co_await ReadReply(deadline);
    if (!r.ok()) co_return r.status();
    if (r->code != 220) {
      // 500: "command not recognized" for a command the server just advertised.
      starttls_unrecognized_ = r->code == 500;
      co_return Status::Refused("STARTTLS answered " + std::to_string(r->code) + " " +
                                Printable(r->FirstLine(), 100));
    }
    co_return Status::Ok();
  }

  asio::awaitable<Status> Quit(net::Deadline deadline) override {
    Status s = co_await Send("QUIT", deadline);
    if (!s.ok()) co_return s;
    Result<SmtpReply> r = co_await ReadReply(deadline);
    co_return r.status();
  }

  asio::awaitable<Result<SmtpReply>> SmtpCommand(std::string_view line,
                                                 net::Deadline deadline) override {
    Status s = co_await Send(line, deadline);
    if (!s.ok()) co_return s;
    co_return co_await ReadReply(deadline);
  }

 private:
  asio::awaitable<Result<SmtpReply>> ReadReply(net::Deadline deadline) {
    SmtpReplyBuilder builder(reply_limits_);
    // Bounded by max_lines inside the builder and by the reader's byte budget.
    while (!builder.done()) {
      Result<std::string> line = co_await reader_.ReadLine(deadline);
      if (!line.ok()) co_return line.status();
      Status s = builder.AddLine(*line);
      if (!s.ok()) co_return s;
    }
    co_return builder.Take();
  }

  std::string helo_;
};

}  // namespace

std::unique_ptr<Dialogue> MakeSmtpDialogue(net::Transport* transport, std::string helo_name,
                                           const ReplyLimits& reply,
                                           const DialogueLimits& dialogue) {
  return std::make_unique<SmtpDialogue>(transport, std::move(helo_name), reply, dialogue);
}

}  // namespace mailsec::proto
