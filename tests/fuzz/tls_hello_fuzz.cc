// Fuzzes the parser of a server's first answer to a hand-built ClientHello (TLS/SSLv3 records,
// alerts, SSLv2 SERVER-HELLO).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mailsec/tls/hello.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mailsec::tls::kMaxServerReplyBytes;
  using mailsec::tls::ServerReply;
  // Room past the read limit so the "no decision within the limit" path is reached, no more.
  if (size > kMaxServerReplyBytes + 4096) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = mailsec::tls::ParseServerReply(in);
  // More than kMaxServerReplyBytes without a decision is Malformed, never kIncomplete (hello.h).
  if (r.ok() && r->kind == ServerReply::Kind::kIncomplete && size > kMaxServerReplyBytes) {
    std::abort();
  }
  return 0;
}
