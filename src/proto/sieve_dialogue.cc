// The ManageSieve dialogue (RFC 5804): the greeting is the capability list, so asking before TLS
// sends nothing. After the TLS handshake the server must send the list again unasked (§2.2);
// the dialogue waits for it and never sends CAPABILITY instead, because a server that stays
// silent there is the finding (STRIP-08), and asking would hide it.
#include "mailsec/base/text.h"
#include "mailsec/proto/dialogue.h"
#include "mailsec/proto/sieve.h"

namespace mailsec::proto {
namespace {

std::string_view KindName(SieveResponse::Kind k) {
  switch (k) {
    case SieveResponse::Kind::kOk:
      return "OK";
    case SieveResponse::Kind::kNo:
      return "NO";
    case SieveResponse::Kind::kBye:
      return "BYE";
  }
  return "?";
}

std::string Describe(const SieveResponse& r) {
  return std::string(KindName(r.kind)) + " " + Printable(r.text, 100);
}

class SieveDialogue final : public Dialogue {
 public:
  SieveDialogue(net::Transport* t, const ReplyLimits& r, const DialogueLimits& d)
      : Dialogue(t, r, d) {}

  asio::awaitable<Status> Greeting(net::Deadline deadline) override {
    Result<SieveResponse> r = co_await ReadResponse(deadline, &greeting_line_);
    if (!r.ok()) co_return r.status();
    if (r->kind != SieveResponse::Kind::kOk) co_return Status::Refused("greeting " + Describe(*r));
    caps_ = SieveCapabilities(*r);
    co_return Status::Ok();
  }

  asio::awaitable<Result<Capabilities>> AskCapabilities(net::Deadline deadline) override {
    if (awaiting_tls_capabilities_) {
      Result<SieveResponse> r = co_await ReadResponse(deadline, nullptr);
      if (!r.ok()) {
        if (r.status().code() == Status::Code::kTimeout) {
          co_return Status::Timeout(
              "no capabilities from the server after TLS (RFC 5804 section 2.2)");
        }
        co_return r.status();
      }
      if (r->kind != SieveResponse::Kind::kOk) {
        co_return Status::Refused("capabilities after TLS ended " + Describe(*r));
      }
      caps_ = SieveCapabilities(*r);
      awaiting_tls_capabilities_ = false;
    }
    co_return caps_;
  }

  asio::awaitable<Status> StartTls(net::Deadline deadline) override {
    Result<SieveResponse> r = co_await Command("STARTTLS", deadline);
    if (!r.ok()) co_return r.status();
    if (r->kind != SieveResponse::Kind::kOk) {
      co_return Status::Refused("STARTTLS answered " + Describe(*r));
    }
    co_return Status::Ok();
  }

  asio::awaitable<Status> Quit(net::Deadline deadline) override {
    Result<SieveResponse> r = co_await Command("LOGOUT", deadline);
    if (!r.ok()) co_return r.status();
    if (r->kind != SieveResponse::Kind::kOk) {
      co_return Status::Refused("LOGOUT answered " + Describe(*r));
    }
    co_return Status::Ok();
  }

 protected:
  void OnTransportSwitched() override {
    // What was learnt in plaintext is forgotten; the list over TLS is read from the server.
    caps_ = Capabilities{};
    awaiting_tls_capabilities_ = true;
  }

 private:
  // Reads one response up to its OK/NO/BYE line; *first_line (if given) gets the first raw line.
  asio::awaitable<Result<SieveResponse>> ReadResponse(net::Deadline deadline,
                                                      std::string* first_line) {
    SieveResponseBuilder builder(reply_limits_);
    // Bounded by max_lines inside the builder and by the reader's byte budget.
    while (!builder.done()) {
      Result<std::string> line = co_await reader_.ReadLine(deadline);
      if (!line.ok()) co_return line.status();
      if (first_line != nullptr && first_line->empty()) *first_line = *line;
      Status s = builder.AddLine(*line);
      if (!s.ok()) co_return s;
    }
    co_return builder.Take();
  }

  // Sends a command whose answer is a bare status line (capability lines there are Malformed).
  asio::awaitable<Result<SieveResponse>> Command(std::string_view command, net::Deadline deadline) {
    Status s = co_await Send(command, deadline);
    if (!s.ok()) co_return s;
    Result<SieveResponse> r = co_await ReadResponse(deadline, nullptr);
    if (r.ok() && !r->capabilities.empty()) {
      co_return Status::Malformed("capability lines in the answer to " + std::string(command));
    }
    co_return r;
  }

  Capabilities caps_;
  bool awaiting_tls_capabilities_ = false;
};

}  // namespace

std::unique_ptr<Dialogue> MakeSieveDialogue(net::Transport* transport, const ReplyLimits& reply,
                                            const DialogueLimits& dialogue) {
  return std::make_unique<SieveDialogue>(transport, reply, dialogue);
}

}  // namespace mailsec::proto
