// POP3 (RFC 1939, RFC 2449) status lines, multi-line responses and the CAPA list: pure, bounded
// parsers over untrusted bytes. No I/O here; the dialogue is MakePop3Dialogue in dialogue.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/limits.h"
#include "mailsec/base/status.h"
#include "mailsec/proto/capabilities.h"

namespace mailsec::proto {

struct Pop3Status {
  bool ok = false;   // "+OK" (true) or "-ERR" (false)
  std::string text;  // after the indicator and one space
};

// Parses a status line (without CRLF): "+OK" or "-ERR", alone or followed by a space and text;
// the indicators are matched without regard to case. Anything else is Malformed.
Result<Pop3Status> ParsePop3Status(std::string_view line, const ReplyLimits& limits);

// Collects the body of a multi-line response (the lines after a "+OK" status line) fed one line
// at a time, up to the terminating ".". Byte-stuffing is undone: a line starting with "." loses
// that dot (RFC 1939 §3). After an error the builder is spent.
class Pop3MultilineBuilder {
 public:
  explicit Pop3MultilineBuilder(const ReplyLimits& limits) : limits_(limits) {}
  // Feeds the next line. OK while the body is incomplete or just completed; see done().
  Status AddLine(std::string_view line);
  bool done() const { return done_; }
  std::vector<std::string> Take() { return std::move(lines_); }

 private:
  ReplyLimits limits_;
  std::vector<std::string> lines_;
  size_t total_ = 0;
  bool done_ = false;
};

struct Pop3Response {
  Pop3Status status;
  std::vector<std::string> lines;  // multi-line body, unstuffed; empty after -ERR
};

// Parses one whole response from bytes (lines end in CRLF or LF; the last one must end too). With
// `multiline`, a "+OK" status is followed by a body up to "."; "-ERR" never is. For tests and
// fuzzing. Bytes after the response are an error.
Result<Pop3Response> ParsePop3Response(std::string_view bytes, bool multiline,
                                       const ReplyLimits& limits);

// Reads the body of a CAPA response (RFC 2449 §5). Each line's first word is a keyword,
// upper-cased and deduplicated. STLS sets starttls; the words after SASL are auth mechanisms.
// plaintext_login: USER (a password in the clear) or SASL PLAIN / LOGIN is offered.
// starttls_masked: a four-character keyword of at least three 'X', as middleboxes overwrite STLS.
// Malformed: a keyword or mechanism holding a control character or a byte >127.
Result<Capabilities> ParsePop3Capa(const std::vector<std::string>& lines);

}  // namespace mailsec::proto
