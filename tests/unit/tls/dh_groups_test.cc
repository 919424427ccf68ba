#include "mailsec/tls/dh_groups.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>

#include <string>

namespace mailsec::tls {
namespace {

std::string Bytes(BIGNUM* p) {
  std::string out(static_cast<size_t>(BN_num_bytes(p)), '\0');
  BN_bn2bin(p, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(p);
  return out;
}

// The RFC 7919 primes start and end with 64 one-bits; the 2048-bit one has the first 64 bits of
// e after them (RFC 7919 appendix A.1: FFFFFFFF FFFFFFFF ADF85458 A2BB4A9A ...).
TEST(DhGroupsTest, KnowsTheRfcPrimes) {
  KnownDhPrime oakley = FindDhPrime(Bytes(BN_get_rfc2409_prime_1024(nullptr)));
  EXPECT_EQ(oakley.name, "rfc2409_1024");
  EXPECT_EQ(oakley.family, DhPrimeFamily::kRfc2409);
  EXPECT_TRUE(oakley.generator2);

  KnownDhPrime modp = FindDhPrime(Bytes(BN_get_rfc3526_prime_2048(nullptr)));
  EXPECT_EQ(modp.name, "modp_2048");
  EXPECT_EQ(modp.family, DhPrimeFamily::kRfc3526);

  KnownDhPrime modp8192 = FindDhPrime(Bytes(BN_get_rfc3526_prime_8192(nullptr)));
  EXPECT_EQ(modp8192.name, "modp_8192");
}

TEST(DhGroupsTest, Ffdhe2048ByItsPublishedDigits) {
  // RFC 7919 A.1, ffdhe2048, as published.
  const char* hex =
      "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B"
      "3EF97D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E"
      "7F57C935984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108"
      "A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2EC"
      "C03404CD28342F619172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D16"
      "83B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF";
  BIGNUM* p = nullptr;
  ASSERT_GT(BN_hex2bn(&p, hex), 0);
  KnownDhPrime ff = FindDhPrime(Bytes(p));
  EXPECT_EQ(ff.name, "ffdhe2048");
  EXPECT_EQ(ff.family, DhPrimeFamily::kRfc7919);
  EXPECT_TRUE(ff.generator2);
}

TEST(DhGroupsTest, UnknownPrimes) {
  EXPECT_EQ(FindDhPrime("").family, DhPrimeFamily::kUnknown);
  EXPECT_EQ(FindDhPrime(std::string(256, '\xff')).name, "");
  std::string almost = Bytes(BN_get_rfc3526_prime_2048(nullptr));
  almost.back() ^= 2;
  EXPECT_EQ(FindDhPrime(almost).family, DhPrimeFamily::kUnknown);
}

}  // namespace
}  // namespace mailsec::tls
