// A bounded line reader over a Transport: lines end at LF (a preceding CR is dropped); a line
// longer than max_line, or more than max_total bytes over the reader's life, is an error, so a
// hostile peer cannot make a probe buffer without bound. Not thread-safe: use from the owning
// coroutine.
#pragma once

#include <string>

#include "mailsec/net/transport.h"

namespace mailsec::net {

class LineReader {
 public:
  // "*transport" must outlive the reader (or be replaced with SetTransport).
  LineReader(Transport* transport, size_t max_line, size_t max_total);

  // Switches to another transport (after a TLS handshake). Bytes still buffered from the old one
  // are dropped and returned: after STARTTLS nothing read in plaintext may be used.
  std::string SetTransport(Transport* transport);

  // The next line without its line ending. Errors: Timeout, Closed (peer closed, also mid-line),
  // IoError, Malformed ("line too long", "dialogue too long").
  asio::awaitable<Result<std::string>> ReadLine(Deadline deadline);

  size_t buffered() const { return buf_.size() - pos_; }
  // Removes and returns what is buffered but not yet read as a line (bytes the peer sent
  // unasked); the transport stays.
  std::string TakeBuffered();
  size_t total_read() const { return total_; }

 private:
  Transport* transport_;
  size_t max_line_;
  size_t max_total_;
  std::string buf_;
  size_t pos_ = 0;
  size_t total_ = 0;
};

}  // namespace mailsec::net
