#include "mailsec/tls/dh_groups.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <map>
#include <string>

namespace mailsec::tls {
namespace {

std::string Bytes(const BIGNUM* p) {
  std::string out(static_cast<size_t>(BN_num_bytes(p)), '\0');
  BN_bn2bin(p, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// The prime of one of OpenSSL's named finite-field groups ("ffdhe2048", "modp_2048", ...);
// empty when this OpenSSL does not know the name.
std::string NamedGroupPrime(const char* name) {
  std::string out;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
  EVP_PKEY* params = nullptr;
  BIGNUM* p = nullptr;
  if (ctx != nullptr && EVP_PKEY_paramgen_init(ctx) == 1 &&
      EVP_PKEY_CTX_set_group_name(ctx, name) == 1 && EVP_PKEY_paramgen(ctx, &params) == 1 &&
      EVP_PKEY_get_bn_param(params, OSSL_PKEY_PARAM_FFC_P, &p) == 1) {
    out = Bytes(p);
  }
  BN_free(p);
  EVP_PKEY_free(params);
  EVP_PKEY_CTX_free(ctx);
  ERR_clear_error();
  return out;
}

struct Table {
  std::map<std::string, KnownDhPrime> by_prime;

  Table() {
    struct Named {
      const char* name;
      DhPrimeFamily family;
      bool generator2;
    };
    const Named named[] = {
        {"ffdhe2048", DhPrimeFamily::kRfc7919, true},
        {"ffdhe3072", DhPrimeFamily::kRfc7919, true},
        {"ffdhe4096", DhPrimeFamily::kRfc7919, true},
        {"ffdhe6144", DhPrimeFamily::kRfc7919, true},
        {"ffdhe8192", DhPrimeFamily::kRfc7919, true},
        {"modp_1536", DhPrimeFamily::kRfc3526, true},
        {"modp_2048", DhPrimeFamily::kRfc3526, true},
        {"modp_3072", DhPrimeFamily::kRfc3526, true},
        {"modp_4096", DhPrimeFamily::kRfc3526, true},
        {"modp_6144", DhPrimeFamily::kRfc3526, true},
        {"modp_8192", DhPrimeFamily::kRfc3526, true},
        {"dh_1024_160", DhPrimeFamily::kRfc5114, false},
        {"dh_2048_224", DhPrimeFamily::kRfc5114, false},
        {"dh_2048_256", DhPrimeFamily::kRfc5114, false},
    };
    for (const Named& n : named) {
      std::string p = NamedGroupPrime(n.name);
      if (!p.empty()) by_prime.emplace(std::move(p), KnownDhPrime{n.name, n.family, n.generator2});
    }
    Add(BN_get_rfc2409_prime_768(nullptr), "rfc2409_768");
    Add(BN_get_rfc2409_prime_1024(nullptr), "rfc2409_1024");
  }

  void Add(BIGNUM* p, std::string_view name) {
    if (p != nullptr) {
      by_prime.emplace(Bytes(p), KnownDhPrime{name, DhPrimeFamily::kRfc2409, true});
    }
    BN_free(p);
  }
};

}  // namespace

KnownDhPrime FindDhPrime(std::string_view p) {
  static const Table* table = new Table();  // never destroyed: used until exit
  auto it = table->by_prime.find(std::string(p));
  return it == table->by_prime.end() ? KnownDhPrime{} : it->second;
}

}  // namespace mailsec::tls
