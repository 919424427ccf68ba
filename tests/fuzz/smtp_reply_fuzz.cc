// Fuzzes the SMTP reply parser and the EHLO capability reader with arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mailsec/proto/smtp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mailsec::ReplyLimits limits;
  limits.max_lines = 50;
  auto r = mailsec::proto::ParseSmtpReply(in, limits);
  if (r.ok()) {
    auto caps = mailsec::proto::ParseEhlo(*r);
    (void)caps;
  }
  return 0;
}
