// Fuzzes the ManageSieve response parser (quoted strings, response codes) and the capability
// reader with arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mailsec/proto/sieve.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mailsec::ReplyLimits limits;
  limits.max_lines = 50;
  auto r = mailsec::proto::ParseSieveResponse(in, limits);
  if (r.ok()) {
    auto caps = mailsec::proto::SieveCapabilities(*r);
    (void)caps;
  }
  return 0;
}
