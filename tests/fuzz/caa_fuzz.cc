// Fuzzes CAA record validation. Input layout: byte 0 is the flags octet, the rest is the tag and
// the value separated by the first 0x00 byte (no 0x00: all tag, empty value).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mailsec/checks/caa.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Room past the value limit so the length check is reached, no more.
  if (size < 1 || size > 2 * mailsec::checks::kMaxCaaValueBytes) return 0;
  mailsec::checks::CaaRecordIn rec;
  rec.flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nul = rest.find('\0');
  if (nul == std::string_view::npos) {
    rec.tag = std::string(rest);
  } else {
    rec.tag = std::string(rest.substr(0, nul));
    rec.value = std::string(rest.substr(nul + 1));
  }
  auto s = mailsec::checks::ValidateCaaRecord(rec);
  (void)s;
  return 0;
}
