// SMTP (RFC 5321) replies and the EHLO capability list: pure, bounded parsers over untrusted
// bytes. No I/O here; the dialogue lives in dialogue.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/limits.h"
#include "mailsec/base/status.h"

namespace mailsec::proto {

struct SmtpReply {
  int code = 0;                    // 200..599
  std::vector<std::string> lines;  // text after "NNN-" / "NNN " (may be empty)

  bool Positive() const { return code >= 200 && code < 400; }
  std::string FirstLine() const { return lines.empty() ? std::string() : lines.front(); }
};

// Assembles one reply from lines fed one at a time (without CRLF). Every line must start with
// three digits 2xx-5xx, the same code on every line, then '-' (more follows), ' ' or nothing
// (last line). Errors are Malformed and name the problem; after an error the builder is spent.
class SmtpReplyBuilder {
 public:
  explicit SmtpReplyBuilder(const ReplyLimits& limits) : limits_(limits) {}
  // Feeds the next line. OK while the reply is incomplete or just completed; see done().
  Status AddLine(std::string_view line);
  bool done() const { return done_; }
  SmtpReply Take() { return std::move(reply_); }

 private:
  ReplyLimits limits_;
  SmtpReply reply_;
  size_t total_ = 0;
  bool done_ = false;
};

// Parses exactly one whole reply from bytes (lines end in CRLF or LF; the last line must end
// too). For tests and fuzzing. Trailing bytes after the reply are an error.
Result<SmtpReply> ParseSmtpReply(std::string_view bytes, const ReplyLimits& limits);

struct EhloCapabilities {
  std::vector<std::string> keywords;  // upper-cased keyword of each line after the first
  bool starttls = false;
  // A keyword that looks like STARTTLS overwritten by a middlebox (LooksMasked).
  bool starttls_masked = false;
  std::vector<std::string> auth;  // mechanisms of AUTH (and the old "AUTH=" form), upper-cased
  bool pipelining = false;
};

// Reads the capability lines of a positive EHLO reply (the first line is the server's name).
EhloCapabilities ParseEhlo(const SmtpReply& reply);

}  // namespace mailsec::proto
