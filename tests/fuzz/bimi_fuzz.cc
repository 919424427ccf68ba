// Fuzzes the BIMI assertion-record parser (tag-list, https URL and lps validation).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mailsec/checks/bimi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Room past the record limit so the length check is reached, no more.
  if (size > 2 * mailsec::checks::kMaxBimiRecordBytes) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = mailsec::checks::ParseBimiRecord(in);
  // A record over the limit is an error (bimi.h).
  if (r.ok() && size > mailsec::checks::kMaxBimiRecordBytes) std::abort();
  return 0;
}
