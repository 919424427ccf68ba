// Fuzzes the POP3 status-line and multi-line parsers and the CAPA reader with arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mailsec/proto/pop3.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mailsec::ReplyLimits limits;
  limits.max_lines = 50;
  auto single = mailsec::proto::ParsePop3Response(in, false, limits);
  (void)single;
  auto r = mailsec::proto::ParsePop3Response(in, true, limits);
  if (r.ok()) {
    auto caps = mailsec::proto::ParsePop3Capa(r->lines);
    (void)caps;
  }
  return 0;
}
