// Shared by the whole-buffer parsers (ParseSmtpReply, ParseImapResponse, ParseSieveResponse):
// feeds bytes line by line to a reply builder and requires exactly one complete reply. The
// dialogues feed their builders from the bounded line reader instead; these entry points serve
// table tests and fuzzers.
#pragma once

#include <string>
#include <string_view>

#include "mailsec/base/status.h"

namespace mailsec::proto {

// Lines end in CRLF or LF, the last one too. `noun` names the thing in messages ("reply").
// Builder: Status AddLine(std::string_view), bool done().
template <typename Builder>
Status FeedWholeReply(std::string_view bytes, std::string_view noun, Builder* builder) {
  size_t pos = 0;
  // Bounded by bytes.size(): every turn consumes at least one byte.
  while (pos < bytes.size()) {
    const size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) {
      return Status::Malformed(std::string(noun) + " line without line ending");
    }
    size_t end = nl;
    if (end > pos && bytes[end - 1] == '\r') --end;
    if (builder->done()) {
      return Status::Malformed("bytes after the end of the " + std::string(noun));
    }
    Status s = builder->AddLine(bytes.substr(pos, end - pos));
    if (!s.ok()) return s;
    pos = nl + 1;
  }
  if (!builder->done()) return Status::Malformed(std::string(noun) + " incomplete");
  return Status::Ok();
}

}  // namespace mailsec::proto
