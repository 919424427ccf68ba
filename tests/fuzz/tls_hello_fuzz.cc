// Fuzzes the parsers of what a server sends back to a hand-built ClientHello: its first answer
// (TLS/SSLv3 records, alerts, SSLv2 SERVER-HELLO), its whole first flight up to ServerHelloDone,
// and the record header read after it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mailsec/tls/hello.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mailsec::tls::kMaxServerFlightBytes;
  using mailsec::tls::kMaxServerReplyBytes;
  using mailsec::tls::ServerFlight;
  using mailsec::tls::ServerReply;
  // Room past the read limits so the "no decision within the limit" paths are reached, no more.
  if (size > kMaxServerFlightBytes + 4096) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = mailsec::tls::ParseServerReply(in);
  // More than kMaxServerReplyBytes without a decision is Malformed, never kIncomplete (hello.h).
  if (r.ok() && r->kind == ServerReply::Kind::kIncomplete && size > kMaxServerReplyBytes) {
    std::abort();
  }
  auto f = mailsec::tls::ParseServerFlight(in);
  if (f.ok() && f->kind == ServerFlight::Kind::kIncomplete && size >= kMaxServerFlightBytes) {
    std::abort();
  }
  if (f.ok() && f->kind == ServerFlight::Kind::kDone && (f->consumed == 0 || f->consumed > size)) {
    std::abort();
  }
  (void)mailsec::tls::ParseRecordHead(in);
  return 0;
}
