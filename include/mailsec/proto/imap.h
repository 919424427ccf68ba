// IMAP (RFC 9051, RFC 3501) response lines, the response to one tagged command, the greeting and
// the capability list: pure, bounded parsers over untrusted bytes. No I/O here; the dialogue is
// MakeImapDialogue in dialogue.h.
//
// Only what a probe needs before login is understood: status responses (OK, NO, BAD, PREAUTH,
// BYE) with their response codes, CAPABILITY data and the tagged completion. Literals ({n}) are
// never sent by servers in these responses, so a line announcing one is Malformed rather than
// read on: a probe must not follow a peer-chosen length.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mailsec/base/limits.h"
#include "mailsec/base/status.h"
#include "mailsec/proto/capabilities.h"

namespace mailsec::proto {

struct ImapLine {
  enum class Kind : uint8_t { kUntagged, kTagged, kContinuation };
  Kind kind = Kind::kUntagged;
  std::string tag;   // kTagged only, as sent
  std::string name;  // upper-cased first atom after the tag or "*": OK, NO, BAD, PREAUTH, BYE,
                     // CAPABILITY, "3" (of "* 3 EXISTS"), ...; empty for continuations
  std::string code;  // status responses: the response code without its brackets ("ALERT", ...)
  std::string text;  // the rest of the line (human-readable text, or the data of "* NAME ...")

  // OK, NO, BAD, PREAUTH or BYE.
  bool IsStatus() const;
};

// Parses one line (without CRLF). Malformed: longer than limits.max_line, empty, a bad tag, a
// tagged line without OK/NO/BAD, an unterminated response code, or a literal announcement.
Result<ImapLine> ParseImapLine(std::string_view line, const ReplyLimits& limits);

struct ImapGreeting {
  enum class Kind : uint8_t { kOk, kPreauth, kBye };
  Kind kind = Kind::kOk;
  std::string capabilities;  // atoms of a "[CAPABILITY ...]" response code, empty if none
  std::string text;
};

// Parses the greeting line: "* OK", "* PREAUTH" or "* BYE". Anything else (an SMTP "220" on an
// IMAP port, "* NO", a tagged line) is Malformed.
Result<ImapGreeting> ParseImapGreeting(std::string_view line, const ReplyLimits& limits);

// The response to one tagged command: the untagged lines we care about and the completion.
struct ImapResponse {
  std::string status;        // of the tagged completion: OK, NO or BAD
  std::string code;          // response code of the completion, without brackets
  std::string text;          // text of the completion
  std::string capabilities;  // atoms of every "* CAPABILITY" line and [CAPABILITY] code, joined
  bool bye = false;          // an untagged BYE arrived (the server is closing)
  std::string bye_text;
};

// Assembles the response to the command tagged `tag` from lines fed one at a time. Untagged lines
// other than CAPABILITY and BYE are skipped (but count against the limits); a continuation
// request or a completion with another tag is Malformed. After an error the builder is spent.
class ImapResponseBuilder {
 public:
  ImapResponseBuilder(std::string tag, const ReplyLimits& limits)
      : tag_(std::move(tag)), limits_(limits) {}
  // Feeds the next line. OK while the response is incomplete or just completed; see done().
  Status AddLine(std::string_view line);
  bool done() const { return done_; }
  bool bye() const { return response_.bye; }
  ImapResponse Take() { return std::move(response_); }

 private:
  std::string tag_;
  ReplyLimits limits_;
  ImapResponse response_;
  size_t lines_ = 0;
  size_t total_ = 0;
  bool done_ = false;
};

// Parses one whole response to the command tagged `tag` from bytes (lines end in CRLF or LF; the
// last one must end too). For tests and fuzzing. Bytes after the completion are an error.
Result<ImapResponse> ParseImapResponse(std::string_view bytes, std::string_view tag,
                                       const ReplyLimits& limits);

// Reads a space-separated capability list ("IMAP4rev1 STARTTLS AUTH=PLAIN ..."). Keywords are
// upper-cased and deduplicated; AUTH=<mech> adds <mech> to auth. plaintext_login is set when
// LOGINDISABLED is absent (the LOGIN command takes a password now) or AUTH=PLAIN / AUTH=LOGIN is
// offered (RFC 2595 §3.2, RFC 9051 §6.2.3). starttls_masked: an eight-character keyword of at
// least six 'X', as middleboxes overwrite STARTTLS. Malformed: a character that no atom holds.
Result<Capabilities> ParseImapCapabilities(std::string_view atoms);

}  // namespace mailsec::proto
