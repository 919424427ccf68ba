#include "mailsec/net/line_reader.h"

#include <array>

namespace mailsec::net {

LineReader::LineReader(Transport* transport, size_t max_line, size_t max_total)
    : transport_(transport), max_line_(max_line), max_total_(max_total) {}

std::string LineReader::SetTransport(Transport* transport) {
  transport_ = transport;
  std::string left = buf_.substr(pos_);
  buf_.clear();
  pos_ = 0;
  return left;
}

std::string LineReader::TakeBuffered() {
  std::string left = buf_.substr(pos_);
  buf_.clear();
  pos_ = 0;
  return left;
}

asio::awaitable<Result<std::string>> LineReader::ReadLine(Deadline deadline) {
  std::array<char, 4096> chunk;
  // Bounded: every turn either returns or reads at least one byte, and total_ is capped.
  for (;;) {
    size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      size_t end = nl;
      if (end > pos_ && buf_[end - 1] == '\r') --end;
      if (end - pos_ > max_line_) co_return Status::Malformed("line too long");
      std::string line = buf_.substr(pos_, end - pos_);
      pos_ = nl + 1;
      if (pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
      }
      co_return line;
    }
    if (buf_.size() - pos_ > max_line_) co_return Status::Malformed("line too long");
    if (total_ >= max_total_) co_return Status::Malformed("dialogue too long");
    size_t want = std::min(chunk.size(), max_total_ - total_);
    Result<size_t> n = co_await transport_->ReadSome(std::span<char>(chunk.data(), want), deadline);
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      co_return Status::Closed(buffered() ? "connection closed mid-line" : "connection closed");
    }
    total_ += *n;
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    buf_.append(chunk.data(), *n);
  }
}

}  // namespace mailsec::net
