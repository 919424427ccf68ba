// The IMAP dialogue: greeting, CAPABILITY, STARTTLS, LOGOUT (RFC 9051, RFC 2595). Capabilities
// are always asked with a command, even when the greeting carries them, so that the list before
// TLS and the list after it come from the same question. A PREAUTH greeting means the session is
// already authenticated and STARTTLS is no longer allowed (RFC 9051 §6.2.1): the dialogue refuses
// it without sending anything.
#include "mailsec/base/text.h"
#include "mailsec/proto/dialogue.h"
#include "mailsec/proto/imap.h"

namespace mailsec::proto {
namespace {

class ImapDialogue final : public Dialogue {
 public:
  ImapDialogue(net::Transport* t, const ReplyLimits& r, const DialogueLimits& d)
      : Dialogue(t, r, d) {}

  asio::awaitable<Status> Greeting(net::Deadline deadline) override {
    Result<std::string> line = co_await reader_.ReadLine(deadline);
    if (!line.ok()) co_return line.status();
    greeting_line_ = *line;
    Result<ImapGreeting> g = ParseImapGreeting(*line, reply_limits_);
    if (!g.ok()) co_return g.status();
    if (g->kind == ImapGreeting::Kind::kBye) {
      co_return Status::Refused("greeting BYE " + Printable(g->text, 100));
    }
    if (g->kind == ImapGreeting::Kind::kPreauth) preauth_ = true;
    if (!g->capabilities.empty()) {
      Result<Capabilities> caps = ParseImapCapabilities(g->capabilities);
      if (!caps.ok()) co_return caps.status();
      greeting_capabilities_ = std::move(*caps);
    }
    co_return Status::Ok();
  }

  asio::awaitable<Result<Capabilities>> AskCapabilities(net::Deadline deadline) override {
    Result<ImapResponse> r = co_await Command("CAPABILITY", deadline);
    if (!r.ok()) co_return r.status();
    if (r->status != "OK") {
      co_return Status::Refused("CAPABILITY answered " + r->status + " " + Printable(r->text, 100));
    }
    co_return ParseImapCapabilities(r->capabilities);
  }

  asio::awaitable<Status> StartTls(net::Deadline deadline) override {
    if (preauth_) {
      co_return Status::Refused("PREAUTH greeting: already authenticated, STARTTLS not allowed");
    }
    Result<ImapResponse> r = co_await Command("STARTTLS", deadline);
    if (!r.ok()) co_return r.status();
    if (r->status != "OK") {
      starttls_unrecognized_ = r->status == "BAD";  // an unknown command (RFC 9051 §7.1.5)
      co_return Status::Refused("STARTTLS answered " + r->status + " " + Printable(r->text, 100));
    }
    co_return Status::Ok();
  }

  asio::awaitable<Status> Quit(net::Deadline deadline) override {
    Result<ImapResponse> r = co_await Command("LOGOUT", deadline, /*bye_expected=*/true);
    // Hanging up right after "* BYE" is a complete goodbye.
    if (!r.ok()) {
      const bool hung_up_after_bye = bye_seen_ && r.status().code() == Status::Code::kClosed;
      co_return hung_up_after_bye ? Status::Ok() : r.status();
    }
    if (r->status != "OK") {
      co_return Status::Refused("LOGOUT answered " + r->status + " " + Printable(r->text, 100));
    }
    co_return Status::Ok();
  }

  // The capabilities of the greeting's [CAPABILITY ...] code (empty without one), kept for a
  // comparison with the answer to CAPABILITY (a list that loses STARTTLS in between was edited on
  // the way). Not reachable through Dialogue yet.
  const Capabilities& greeting_capabilities() const { return greeting_capabilities_; }

 private:
  // Sends "<tag> <command>" and reads up to its tagged completion. An untagged BYE ends the
  // dialogue (Refused) unless it is the expected answer to LOGOUT.
  asio::awaitable<Result<ImapResponse>> Command(std::string_view command, net::Deadline deadline,
                                                bool bye_expected = false) {
    std::string tag = "a" + std::to_string(++tag_number_);
    Status s = co_await Send(tag + " " + std::string(command), deadline);
    if (!s.ok()) co_return s;
    ImapResponseBuilder builder(tag, reply_limits_);
    // Bounded by max_lines inside the builder and by the reader's byte budget.
    while (!builder.done()) {
      Result<std::string> line = co_await reader_.ReadLine(deadline);
      if (!line.ok()) co_return line.status();
      s = builder.AddLine(*line);
      if (!s.ok()) co_return s;
      if (builder.bye()) {
        bye_seen_ = true;
        if (!bye_expected) co_return Status::Refused("server said " + Printable(*line, 100));
      }
    }
    co_return builder.Take();
  }

  unsigned tag_number_ = 0;
  bool bye_seen_ = false;
  Capabilities greeting_capabilities_;
};

}  // namespace

std::unique_ptr<Dialogue> MakeImapDialogue(net::Transport* transport, const ReplyLimits& reply,
                                           const DialogueLimits& dialogue) {
  return std::make_unique<ImapDialogue>(transport, reply, dialogue);
}

}  // namespace mailsec::proto
