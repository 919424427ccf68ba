// The POP3 dialogue: greeting, CAPA, STLS, QUIT (RFC 1939, RFC 2449, RFC 2595 §4). A server
// without CAPA (RFC 1939 only) answers it "-ERR": that is an empty capability list, not a
// failure, so the probe reports STLS as not offered.
#include "mailsec/base/text.h"
#include "mailsec/proto/dialogue.h"
#include "mailsec/proto/pop3.h"

namespace mailsec::proto {
namespace {

class Pop3Dialogue final : public Dialogue {
 public:
  Pop3Dialogue(net::Transport* t, const ReplyLimits& r, const DialogueLimits& d)
      : Dialogue(t, r, d) {}

  asio::awaitable<Status> Greeting(net::Deadline deadline) override {
    Result<std::string> line = co_await reader_.ReadLine(deadline);
    if (!line.ok()) co_return line.status();
    greeting_line_ = *line;
    Result<Pop3Status> st = ParsePop3Status(*line, reply_limits_);
    if (!st.ok()) co_return st.status();
    if (!st->ok) co_return Status::Refused("greeting -ERR " + Printable(st->text, 100));
    co_return Status::Ok();
  }

  asio::awaitable<Result<Capabilities>> AskCapabilities(net::Deadline deadline) override {
    Result<Pop3Status> st = co_await Command("CAPA", deadline);
    if (!st.ok()) co_return st.status();
    if (!st->ok) co_return Capabilities{};
    Pop3MultilineBuilder builder(reply_limits_);
    // Bounded by max_lines inside the builder and by the reader's byte budget.
    while (!builder.done()) {
      Result<std::string> line = co_await reader_.ReadLine(deadline);
      if (!line.ok()) co_return line.status();
      Status s = builder.AddLine(*line);
      if (!s.ok()) co_return s;
    }
    co_return ParsePop3Capa(builder.Take());
  }

  asio::awaitable<Status> StartTls(net::Deadline deadline) override {
    Result<Pop3Status> st = co_await Command("STLS", deadline);
    if (!st.ok()) co_return st.status();
    if (!st->ok) co_return Status::Refused("STLS answered -ERR " + Printable(st->text, 100));
    co_return Status::Ok();
  }

  asio::awaitable<Status> Quit(net::Deadline deadline) override {
    Result<Pop3Status> st = co_await Command("QUIT", deadline);
    if (!st.ok()) co_return st.status();
    if (!st->ok) co_return Status::Refused("QUIT answered -ERR " + Printable(st->text, 100));
    co_return Status::Ok();
  }

 private:
  // Sends one command and reads its status line.
  asio::awaitable<Result<Pop3Status>> Command(std::string_view command, net::Deadline deadline) {
    Status s = co_await Send(command, deadline);
    if (!s.ok()) co_return s;
    Result<std::string> line = co_await reader_.ReadLine(deadline);
    if (!line.ok()) co_return line.status();
    co_return ParsePop3Status(*line, reply_limits_);
  }
};

}  // namespace

std::unique_ptr<Dialogue> MakePop3Dialogue(net::Transport* transport, const ReplyLimits& reply,
                                           const DialogueLimits& dialogue) {
  return std::make_unique<Pop3Dialogue>(transport, reply, dialogue);
}

}  // namespace mailsec::proto
