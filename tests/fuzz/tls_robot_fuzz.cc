// Fuzzes the ROBOT probe's parsers of what a server sends: its first flight for an RSA
// key-transport hello (ServerHello, Certificate, ServerHelloDone; the leaf's RSA key is read from
// it) and its first record after our key exchange.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mailsec/tls/robot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mailsec::tls::kMaxRsaFlightBytes;
  using mailsec::tls::RsaFlight;
  // Room past the read limit so the "no decision within the limit" path is reached, no more.
  if (size > kMaxRsaFlightBytes + 4096) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto f = mailsec::tls::ParseRsaFlight(in);
  // More than the limit without a decision is Malformed, never kIncomplete (robot.h).
  if (f.ok() && f->kind == RsaFlight::Kind::kIncomplete && size >= kMaxRsaFlightBytes) {
    std::abort();
  }
  if (f.ok() && f->kind == RsaFlight::Kind::kDone) {
    // A leaf that parses as a certificate must give a modulus size or a clean error.
    (void)mailsec::tls::RsaModulusBytes(f->leaf_der);
  }
  (void)mailsec::tls::ParseRobotReply(in);
  return 0;
}
