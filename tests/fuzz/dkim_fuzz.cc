// Fuzzes the DKIM key-record parser (RFC 6376 §3.6.1 tag-list, base64 p=, DER/raw key decoding).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mailsec/checks/dkim.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Room past the record limit so the length check is reached, no more.
  if (size > 2 * mailsec::checks::kMaxDkimRecordBytes) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = mailsec::checks::ParseDkimKeyRecord(in);
  // A record over the limit is an error (dkim.h).
  if (r.ok() && size > mailsec::checks::kMaxDkimRecordBytes) std::abort();
  return 0;
}
