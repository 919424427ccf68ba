// Fuzzes the IMAP greeting, line and tagged-response parsers and the capability reader with
// arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mailsec/proto/imap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mailsec::ReplyLimits limits;
  limits.max_lines = 50;
  std::string_view first = in.substr(0, in.find('\n'));
  auto greeting = mailsec::proto::ParseImapGreeting(first, limits);
  if (greeting.ok()) {
    auto caps = mailsec::proto::ParseImapCapabilities(greeting->capabilities);
    (void)caps;
  }
  auto line = mailsec::proto::ParseImapLine(first, limits);
  (void)line;
  auto r = mailsec::proto::ParseImapResponse(in, "a1", limits);
  if (r.ok()) {
    auto caps = mailsec::proto::ParseImapCapabilities(r->capabilities);
    (void)caps;
  }
  return 0;
}
