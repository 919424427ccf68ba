#include "mailsec/proto/dialogue.h"

#include <algorithm>

namespace mailsec::proto {

Dialogue::Dialogue(net::Transport* transport, const ReplyLimits& reply,
                   const DialogueLimits& dialogue)
    : transport_(transport),
      reader_(transport, reply.max_line, dialogue.max_total_bytes),
      reply_limits_(reply),
      dialogue_limits_(dialogue) {}

std::string Dialogue::SwitchTransport(net::Transport* transport) {
  transport_ = transport;
  std::string left = reader_.SetTransport(transport);
  if (transport != nullptr) {
    switched_ = true;
    OnTransportSwitched();
  }
  return left;
}

asio::awaitable<Result<SmtpReply>> Dialogue::SmtpCommand(std::string_view line,
                                                         net::Deadline deadline) {
  (void)line;
  (void)deadline;
  co_return Status::Unavailable("not an SMTP dialogue");
}

asio::awaitable<Status> Dialogue::Send(std::string_view line, net::Deadline deadline) {
  if (++commands_sent_ > dialogue_limits_.max_commands) {
    co_return Status::Internal("too many commands in one dialogue");
  }
  if (!switched_ && reader_.buffered() > 0) {
    // Plaintext nobody asked for: read as the answer to this command it would let whoever put
    // it there speak for the server. Drop it; keep the start as evidence.
    std::string extra = reader_.TakeBuffered();
    const size_t room = kMaxUnsolicitedKept - std::min(kMaxUnsolicitedKept, unsolicited_.size());
    unsolicited_.append(extra, 0, std::min(room, extra.size()));
  }
  std::string wire(line);
  wire += "\r\n";
  co_return co_await transport_->WriteAll(wire, deadline);
}

}  // namespace mailsec::proto
