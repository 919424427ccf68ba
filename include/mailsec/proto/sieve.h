// ManageSieve (RFC 5804) responses and the capability list: pure, bounded parsers over untrusted
// bytes. No I/O here; the dialogue is MakeSieveDialogue in dialogue.h.
//
// A response is any number of capability lines ("NAME" or "NAME" SP "value") followed by a
// status line: OK, NO or BYE, optionally with a response code in parentheses and a quoted text.
// The greeting is such a response, and so is what the server sends unasked after a TLS handshake
// (RFC 5804 §2.2). Quoted strings take the escapes \" and \\ only. Literals ({n}, {n+}) are
// legal on the wire but no server uses them for these short strings, so they are Malformed
// rather than read on: a probe must not follow a peer-chosen length.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/limits.h"
#include "mailsec/base/status.h"
#include "mailsec/proto/capabilities.h"

namespace mailsec::proto {

struct SieveCapability {
  std::string name;   // unquoted, as sent
  std::string value;  // unquoted; empty when absent
  bool has_value = false;
};

struct SieveResponse {
  enum class Kind : uint8_t { kOk, kNo, kBye };
  Kind kind = Kind::kOk;
  std::string code;  // inside the parentheses, raw ("TRYLATER", "SASL \"...\"", ...)
  std::string text;  // the quoted text, unquoted
  std::vector<SieveCapability> capabilities;  // the lines before the status line
};

// Assembles one response from lines fed one at a time (without CRLF). Errors are Malformed and
// name the problem; after an error the builder is spent.
class SieveResponseBuilder {
 public:
  explicit SieveResponseBuilder(const ReplyLimits& limits) : limits_(limits) {}
  // Feeds the next line. OK while the response is incomplete or just completed; see done().
  Status AddLine(std::string_view line);
  bool done() const { return done_; }
  SieveResponse Take() { return std::move(response_); }

 private:
  ReplyLimits limits_;
  SieveResponse response_;
  size_t lines_ = 0;
  size_t total_ = 0;
  bool done_ = false;
};

// Parses one whole response from bytes (lines end in CRLF or LF; the last one must end too). For
// tests and fuzzing. Bytes after the status line are an error.
Result<SieveResponse> ParseSieveResponse(std::string_view bytes, const ReplyLimits& limits);

// The capability lines of a response as Capabilities. Keywords are the upper-cased names,
// deduplicated; "STARTTLS" sets starttls; the words of the "SASL" value are auth mechanisms.
// plaintext_login: SASL offers PLAIN or LOGIN. starttls_masked: an eight-character name of at
// least six 'X', as middleboxes overwrite STARTTLS.
Capabilities SieveCapabilities(const SieveResponse& response);

}  // namespace mailsec::proto
