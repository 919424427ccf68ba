// Well-known finite-field Diffie-Hellman primes, for the deep scan's judgement of a server's DHE
// group (CHECKS.md CIPH-07, TLSF-13): RFC 7919's ffdhe groups (the only ones Internet.nl accepts),
// and the widely shared primes that a precomputation attack (LOGJAM) would target first: RFC 2409
// (Oakley 768, 1024), RFC 3526 (MODP 1536..8192) and RFC 5114 (1024/160, 2048/224, 2048/256).
#pragma once

#include <cstdint>
#include <string_view>

namespace mailsec::tls {

enum class DhPrimeFamily : uint8_t { kUnknown, kRfc7919, kRfc2409, kRfc3526, kRfc5114 };

struct KnownDhPrime {
  std::string_view name;  // "ffdhe2048", "modp_2048", "rfc2409_1024", "dh_2048_256"; "" unknown
  DhPrimeFamily family = DhPrimeFamily::kUnknown;
  bool generator2 = false;  // the group's generator is 2 (RFC 7919, 2409, 3526; not RFC 5114)
};

// The well-known group whose prime is `p` (big-endian, without leading zero bytes); a
// default-constructed value (kUnknown, empty name) when none is. The table is built from the
// local OpenSSL's named groups once, on first use; thread-safe.
KnownDhPrime FindDhPrime(std::string_view p);

}  // namespace mailsec::tls
