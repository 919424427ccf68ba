#include "tls/inspect.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <climits>
#include <ctime>
#include <optional>

#include "mailsec/base/text.h"

namespace mailsec::tls {

// Our keyUsage bits are OpenSSL's, so X509_get_key_usage can be copied as it is.
static_assert(kKeyUsageDigitalSignature == KU_DIGITAL_SIGNATURE);
static_assert(kKeyUsageNonRepudiation == KU_NON_REPUDIATION);
static_assert(kKeyUsageKeyEncipherment == KU_KEY_ENCIPHERMENT);
static_assert(kKeyUsageDataEncipherment == KU_DATA_ENCIPHERMENT);
static_assert(kKeyUsageKeyAgreement == KU_KEY_AGREEMENT);
static_assert(kKeyUsageKeyCertSign == KU_KEY_CERT_SIGN);
static_assert(kKeyUsageCrlSign == KU_CRL_SIGN);
static_assert(kKeyUsageEncipherOnly == KU_ENCIPHER_ONLY);
static_assert(kKeyUsageDecipherOnly == KU_DECIPHER_ONLY);

namespace {

// The TLS extension type a TLS Feature extension (RFC 7633) lists for "must staple":
// status_request (RFC 6066 §8).
constexpr long kTlsFeatureStatusRequest = 5;

// Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m in 1..12); negative before 1970.
// Howard Hinnant's days_from_civil, so no time zone or libc state is involved.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                   // [0, 399]
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
  return era * 146097 + doe - 719468;
}

std::string AsciiString(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

// The last (most specific) commonName of "name" as UTF-8; empty when none or unconvertible.
std::string LastCommonName(const X509_NAME* name) {
  if (name == nullptr) return {};
  int last = -1;
  for (int i = -1; (i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0;) last = i;
  if (last < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string HexBytes(const unsigned char* p, size_t n, const char* digits) {
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 0xf]);
  }
  return out;
}

// Upper-case hex of the serial's magnitude, leading zeros stripped, "0" for zero, "-" prefixed
// for the (invalid but seen) negative serials.
std::string SerialHex(const ASN1_INTEGER* serial) {
  if (serial == nullptr) return "0";
  std::string hex = HexBytes(ASN1_STRING_get0_data(serial),
                             static_cast<size_t>(ASN1_STRING_length(serial)), "0123456789ABCDEF");
  const size_t first = hex.find_first_not_of('0');
  hex = first == std::string::npos ? "0" : hex.substr(first);
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER && hex != "0") hex.insert(0, "-");
  return hex;
}

std::string KeyType(const EVP_PKEY* key) {
  if (key == nullptr) return "unknown";
  if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) return "RSA";
  if (EVP_PKEY_is_a(key, "EC")) return "EC";
  if (EVP_PKEY_is_a(key, "ED25519")) return "ED25519";
  if (EVP_PKEY_is_a(key, "ED448")) return "ED448";
  if (EVP_PKEY_is_a(key, "DSA")) return "DSA";
  return "unknown";
}

// OpenSSL's long name of the signature algorithm, or its dotted OID when OpenSSL has no name.
std::string SignatureAlgorithm(const X509* cert) {
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(nullptr, &alg, cert);
  if (alg == nullptr) return "unknown";
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  if (obj == nullptr) return "unknown";
  std::array<char, 128> buf{};
  const int len = OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 0);
  if (len <= 0) return "unknown";
  return std::string(buf.data(), std::min(static_cast<size_t>(len), buf.size() - 1));
}

// The whole name as an RFC 2253 string, UTF-8 kept (only controls and RFC 2253 specials are
// escaped), cut to kMaxNameBytes; empty when it cannot be printed.
std::string NameString(const X509_NAME* name) {
  if (name == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  constexpr unsigned long kFlags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, kFlags) < 0) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, std::min(static_cast<size_t>(len), kMaxNameBytes));
}

// OpenSSL's name of the curve of an EC key ("prime256v1"); empty for an unnamed (explicit) curve.
std::string CurveName(const EVP_PKEY* key) {
  std::array<char, 80> buf{};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, buf.data(), buf.size(), &len) != 1) {
    ERR_clear_error();
    return {};
  }
  return std::string(buf.data(), std::min(len, buf.size() - 1));
}

// The public exponent of an RSA key; 0 when it cannot be read or does not fit 64 bits.
uint64_t RsaExponent(const EVP_PKEY* key) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &raw) != 1) {
    ERR_clear_error();
    return 0;
  }
  const BignumPtr e(raw);
  if (BN_num_bits(e.get()) > 64) return 0;
  std::array<unsigned char, 8> be{};
  if (BN_bn2binpad(e.get(), be.data(), static_cast<int>(be.size())) != 8) return 0;
  uint64_t out = 0;
  for (unsigned char b : be) out = (out << 8) | b;
  return out;
}

// The digest of the signature (also the one inside RSASSA-PSS parameters), lower-case short name;
// empty for EdDSA and for signatures OpenSSL cannot classify.
std::string SignatureHash(X509* cert) {
  int md_nid = NID_undef;
  if (X509_get_signature_info(cert, &md_nid, nullptr, nullptr, nullptr) != 1 ||
      md_nid == NID_undef) {
    ERR_clear_error();
    return {};
  }
  const char* sn = OBJ_nid2sn(md_nid);
  return sn != nullptr ? AsciiLower(sn) : std::string();
}

// Subject equals issuer and the certificate's own key verifies its signature.
bool SelfSigned(X509* cert) {
  if (X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) != 0) return false;
  EVP_PKEY* key = X509_get0_pubkey(cert);
  const bool ok = key != nullptr && X509_verify(cert, key) == 1;
  ERR_clear_error();
  return ok;
}

bool MustStaple(X509* cert) {
  TLS_FEATURE* features =
      static_cast<TLS_FEATURE*>(X509_get_ext_d2i(cert, NID_tlsfeature, nullptr, nullptr));
  if (features == nullptr) {
    ERR_clear_error();
    return false;
  }
  bool found = false;
  for (int i = 0; i < sk_ASN1_INTEGER_num(features); ++i) {
    if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, i)) == kTlsFeatureStatusRequest) {
      found = true;
    }
  }
  TLS_FEATURE_free(features);
  ERR_clear_error();
  return found;
}

// The first certificate of "chain" other than "leaf" that issued "leaf"; null when none.
X509* FindIssuer(X509* leaf, STACK_OF(X509) * chain) {
  if (chain == nullptr) return nullptr;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* c = sk_X509_value(chain, i);
    if (X509_cmp(c, leaf) != 0 && X509_check_issued(c, leaf) == X509_V_OK) return c;
  }
  return nullptr;
}

// The status of the single response about "leaf", matched with the CertID hash each single
// response uses (SHA-1 is usual, SHA-256 is allowed).
std::string SingleStatus(OCSP_BASICRESP* basic, X509* leaf, X509* issuer) {
  for (int i = 0; i < OCSP_resp_count(basic); ++i) {
    OCSP_SINGLERESP* single = OCSP_resp_get0(basic, i);
    const OCSP_CERTID* id = single != nullptr ? OCSP_SINGLERESP_get0_id(single) : nullptr;
    ASN1_OBJECT* md_obj = nullptr;
    if (id == nullptr ||
        OCSP_id_get0_info(nullptr, &md_obj, nullptr, nullptr, const_cast<OCSP_CERTID*>(id)) != 1) {
      continue;
    }
    const EVP_MD* md = EVP_get_digestbyobj(md_obj);
    if (md == nullptr) continue;
    const OcspCertIdPtr ours(OCSP_cert_to_id(md, leaf, issuer));
    if (!ours || OCSP_id_cmp(ours.get(), id) != 0) continue;
    switch (OCSP_single_get0_status(single, nullptr, nullptr, nullptr, nullptr)) {
      case V_OCSP_CERTSTATUS_GOOD:
        return "good";
      case V_OCSP_CERTSTATUS_REVOKED:
        return "revoked";
      case V_OCSP_CERTSTATUS_UNKNOWN:
        return "unknown";
      default:
        return {};
    }
  }
  return {};
}

GeneralNamesPtr SubjectAltNames(X509* cert) {
  return GeneralNamesPtr(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
}

// Index of the ex_data slot that carries a VerifyCollector into the verify callback.
int CollectorIndex() {
  static const int index = X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

struct VerifyCollector {
  int first_error = X509_V_OK;
  int errors = 0;
};

// Accepts every error so that verification runs to the end; records the first one.
int CollectingVerifyCallback(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  auto* collector =
      static_cast<VerifyCollector*>(X509_STORE_CTX_get_ex_data(ctx, CollectorIndex()));
  if (collector == nullptr) return ok;  // not our context: keep OpenSSL's decision
  int err = X509_STORE_CTX_get_error(ctx);
  if (err == X509_V_OK) err = X509_V_ERR_UNSPECIFIED;
  if (collector->errors++ == 0) collector->first_error = err;
  return 1;
}

// Splits "s" on '.'; false when any label is empty.
bool SplitLabels(std::string_view s, std::vector<std::string_view>* labels) {
  labels->clear();
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view label =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return false;
    labels->push_back(label);
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string_view StripTrailingDot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

// Parses an IPv4 or IPv6 literal (IPv6 optionally in brackets, zone id ignored) into network-order
// bytes. False when "host" is not an IP literal.
bool ParseIpLiteral(std::string_view host, std::string* bytes) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() > 64) return false;
  const std::string text(host);
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, text.c_str(), buf.data()) == 1) {
    bytes->assign(reinterpret_cast<const char*>(buf.data()), 4);
    return true;
  }
  const std::string v6 = text.substr(0, text.find('%'));
  if (v6.find(':') != std::string::npos && inet_pton(AF_INET6, v6.c_str(), buf.data()) == 1) {
    bytes->assign(reinterpret_cast<const char*>(buf.data()), 16);
    return true;
  }
  return false;
}

// The DER encoding of `obj` by its i2d function; empty when encoding fails.
template <typename T>
std::vector<uint8_t> DerOf(const T* obj, int (*i2d)(const T*, unsigned char**)) {
  if (obj == nullptr) return {};
  const int len = i2d(obj, nullptr);
  if (len <= 0) return {};
  std::vector<uint8_t> der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  if (i2d(obj, &p) != len) return {};
  return der;
}

}  // namespace

X509Ptr UpRef(X509* cert) {
  if (cert == nullptr || X509_up_ref(cert) != 1) return X509Ptr();
  return X509Ptr(cert);
}

std::string OpenSslErrors() {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  unsigned long e;
  while ((e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    if (!out.empty()) out += "; ";
    out += buf.data();
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') {
      out += " (";
      out += data;
      out += ")";
    }
  }
  if (out.empty()) return "no OpenSSL error reported";
  return Printable(out, 1024);
}

bool Asn1TimeToUnix(const ASN1_TIME* t, int64_t* out) {
  if (t == nullptr) return false;
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return false;
  }
  *out = DaysFromCivil(int64_t{tm.tm_year} + 1900, int64_t{tm.tm_mon} + 1, tm.tm_mday) * 86400 +
         int64_t{tm.tm_hour} * 3600 + int64_t{tm.tm_min} * 60 + tm.tm_sec;
  return true;
}

CertFacts ExtractCertFacts(X509* cert) {
  CertFacts f;
  if (cert == nullptr) return f;
  if (!Asn1TimeToUnix(X509_get0_notBefore(cert), &f.not_before)) f.not_before = 0;
  if (!Asn1TimeToUnix(X509_get0_notAfter(cert), &f.not_after)) f.not_after = 0;
  f.subject_cn = LastCommonName(X509_get_subject_name(cert));
  f.issuer_cn = LastCommonName(X509_get_issuer_name(cert));
  f.subject = NameString(X509_get_subject_name(cert));
  f.issuer = NameString(X509_get_issuer_name(cert));
  f.serial = SerialHex(X509_get0_serialNumber(cert));

  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md.data(), &md_len) == 1) {
    f.fingerprint_sha256 = HexBytes(md.data(), md_len, "0123456789abcdef");
  } else {
    ERR_clear_error();
  }

  const EVP_PKEY* key = X509_get0_pubkey(cert);  // null for keys OpenSSL cannot decode
  f.key_type = KeyType(key);
  f.key_bits = key != nullptr ? std::max(0, EVP_PKEY_get_bits(key)) : 0;
  if (f.key_type == "EC") f.curve = CurveName(key);
  if (f.key_type == "RSA") f.rsa_exponent = RsaExponent(key);
  f.signature_algorithm = SignatureAlgorithm(cert);
  f.signature_hash = SignatureHash(cert);

  if (GeneralNamesPtr sans = SubjectAltNames(cert)) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
      if (gn->type == GEN_DNS) f.dns_names.push_back(AsciiString(gn->d.dNSName));
      if (gn->type == GEN_DNS || gn->type == GEN_IPADD) f.has_san = true;
    }
  }
  f.self_signed = SelfSigned(cert);

  // Extension flags come from OpenSSL's cache of the decoded extensions (filled on first use).
  const uint32_t flags = X509_get_extension_flags(cert);
  f.has_eku = (flags & EXFLAG_XKUSAGE) != 0;
  f.eku_server_auth = f.has_eku && (X509_get_extended_key_usage(cert) & XKU_SSL_SERVER) != 0;
  f.has_key_usage = (flags & EXFLAG_KUSAGE) != 0;
  f.key_usage = f.has_key_usage ? X509_get_key_usage(cert) : 0;
  f.must_staple = MustStaple(cert);
  f.has_embedded_sct = X509_get_ext_by_NID(cert, NID_ct_precert_scts, -1) >= 0;
  f.der = DerOf(cert, i2d_X509);
  f.spki_der = DerOf(X509_get_X509_PUBKEY(cert), i2d_X509_PUBKEY);
  if (!f.spki_der.empty() && EVP_Digest(f.spki_der.data(), f.spki_der.size(), md.data(), &md_len,
                                        EVP_sha256(), nullptr) == 1) {
    f.spki_sha256 = HexBytes(md.data(), md_len, "0123456789abcdef");
  }
  ERR_clear_error();  // X509_get0_pubkey and the extension decoders may leave noise on failure
  return f;
}

std::optional<CertFacts> CertFactsFromDer(std::string_view der) {
  if (der.empty() || der.size() > static_cast<size_t>(LONG_MAX)) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* const end = p + der.size();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != end) {
    ERR_clear_error();
    return std::nullopt;
  }
  return ExtractCertFacts(cert.get());
}

int64_t EarliestNotAfter(STACK_OF(X509) * chain) {
  if (chain == nullptr) return 0;
  int64_t earliest = 0;
  bool any = false;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    int64_t t = 0;
    if (!Asn1TimeToUnix(X509_get0_notAfter(sk_X509_value(chain, i)), &t)) continue;
    if (!any || t < earliest) earliest = t;
    any = true;
  }
  return earliest;
}

Result<X509StorePtr> LoadTrustStore(const std::string& ca_file) {
  ERR_clear_error();
  X509StorePtr store(X509_STORE_new());
  if (!store) return Status::Internal("X509_STORE_new: " + OpenSslErrors());
  if (ca_file.empty()) {
    if (X509_STORE_set_default_paths(store.get()) != 1) {
      return Status::IoError("system trust store: " + OpenSslErrors());
    }
    return store;
  }

  BioPtr bio(BIO_new_file(ca_file.c_str(), "r"));
  if (!bio) return Status::IoError("ca_file " + Printable(ca_file) + ": " + OpenSslErrors());
  using InfoStack = STACK_OF(X509_INFO);
  const std::unique_ptr<InfoStack, void (*)(InfoStack*)> infos(
      PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr),
      [](InfoStack* s) { sk_X509_INFO_pop_free(s, X509_INFO_free); });
  if (!infos) return Status::IoError("ca_file " + Printable(ca_file) + ": " + OpenSslErrors());

  int certs = 0;
  for (int i = 0; i < sk_X509_INFO_num(infos.get()); ++i) {
    const X509_INFO* info = sk_X509_INFO_value(infos.get(), i);
    if (info->x509 != nullptr) {
      if (X509_STORE_add_cert(store.get(), info->x509) != 1) {
        return Status::Internal("ca_file " + Printable(ca_file) + ": " + OpenSslErrors());
      }
      ++certs;
    }
    if (info->crl != nullptr && X509_STORE_add_crl(store.get(), info->crl) != 1) {
      return Status::Internal("ca_file " + Printable(ca_file) + ": " + OpenSslErrors());
    }
  }
  if (certs == 0) {
    ERR_clear_error();
    return Status::InvalidArgument("ca_file " + Printable(ca_file) + ": holds no PEM certificate");
  }
  return store;
}

VerifyOutcome VerifyChain(X509* leaf, STACK_OF(X509) * untrusted_chain, X509_STORE* store,
                          int64_t now_unix) {
  VerifyOutcome out;
  out.code = X509_V_ERR_UNSPECIFIED;
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  VerifyCollector collector;
  if (leaf == nullptr || store == nullptr || !ctx ||
      X509_STORE_CTX_init(ctx.get(), store, leaf, untrusted_chain) != 1 ||
      X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER) != 1 ||
      X509_STORE_CTX_set_ex_data(ctx.get(), CollectorIndex(), &collector) != 1) {
    ERR_clear_error();
    out.name = std::string(VerifyResultName(out.code));
    return out;
  }
  // Sets the time on the context's own parameters and the flag to use it; the store is untouched.
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now_unix));
  X509_STORE_CTX_set_verify_cb(ctx.get(), CollectingVerifyCallback);

  const int rc = X509_verify_cert(ctx.get());
  out.stable_until = INT64_MAX;
  auto bound = [&](X509* c) {
    int64_t t = 0;
    if (Asn1TimeToUnix(X509_get0_notBefore(c), &t) && t > now_unix) {
      out.stable_until = std::min(out.stable_until, t);
    }
    // OpenSSL counts a certificate as expired from its notAfter second on (X509_cmp_time).
    if (Asn1TimeToUnix(X509_get0_notAfter(c), &t) && t > now_unix) {
      out.stable_until = std::min(out.stable_until, t);
    }
  };
  bound(leaf);
  for (int i = 0; untrusted_chain != nullptr && i < sk_X509_num(untrusted_chain); ++i) {
    bound(sk_X509_value(untrusted_chain, i));
  }
  if (STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get())) {
    for (int i = 0; i < sk_X509_num(built); ++i) bound(sk_X509_value(built, i));
  }
  if (collector.errors > 0) {
    out.code = collector.first_error;
  } else if (rc != 1) {
    // Failed without calling back (out of memory, internal error).
    const int err = X509_STORE_CTX_get_error(ctx.get());
    out.code = err != X509_V_OK ? err : X509_V_ERR_UNSPECIFIED;
  } else {
    out.code = X509_V_OK;
    out.trusted = true;
  }
  ERR_clear_error();
  out.name = std::string(VerifyResultName(out.code));
  return out;
}

std::string_view VerifyResultName(int x509_v_code) {
  switch (x509_v_code) {
    case X509_V_OK:
      return "ok";
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "not_yet_valid";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return "self_signed";
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return "untrusted_root";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "missing_intermediate";
    case X509_V_ERR_CERT_REVOKED:
      return "revoked";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "bad_signature";
    case X509_V_ERR_INVALID_PURPOSE:
      return "invalid_purpose";
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return "untrusted";
    case X509_V_ERR_INVALID_CA:
      return "invalid_ca";
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
      return "weak_key";
    default:
      return "other";
  }
}

PresentedNames ExtractPresentedNames(X509* cert) {
  PresentedNames names;
  if (cert == nullptr) return names;
  if (GeneralNamesPtr sans = SubjectAltNames(cert)) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
      names.has_san = true;
      if (gn->type == GEN_DNS) names.dns_names.push_back(AsciiString(gn->d.dNSName));
      if (gn->type == GEN_IPADD) names.ip_addresses.push_back(AsciiString(gn->d.iPAddress));
    }
  }
  ERR_clear_error();
  names.common_name = LastCommonName(X509_get_subject_name(cert));
  return names;
}

bool DnsNameMatches(std::string_view pattern, std::string_view host) {
  pattern = StripTrailingDot(pattern);
  host = StripTrailingDot(host);
  if (pattern.empty() || host.empty()) return false;
  if (pattern.find('\0') != std::string_view::npos || host.find('\0') != std::string_view::npos ||
      host.find('*') != std::string_view::npos) {
    return false;
  }
  std::vector<std::string_view> p;
  std::vector<std::string_view> h;
  if (!SplitLabels(pattern, &p) || !SplitLabels(host, &h)) return false;

  const bool wildcard = p.front() == "*";
  // Any other '*' (a partial wildcard, or one below the left-most label) never matches.
  for (size_t i = wildcard ? 1 : 0; i < p.size(); ++i) {
    if (p[i].find('*') != std::string_view::npos) return false;
  }
  if (wildcard && p.size() < 3) return false;  // "*.org": at least two labels after the '*'
  if (p.size() != h.size()) return false;
  for (size_t i = wildcard ? 1 : 0; i < p.size(); ++i) {
    if (!EqualsIgnoreCase(p[i], h[i])) return false;
  }
  return true;
}

bool HostnameMatchesNames(const PresentedNames& names, std::string_view host) {
  std::string ip;
  if (ParseIpLiteral(host, &ip)) {
    return std::find(names.ip_addresses.begin(), names.ip_addresses.end(), ip) !=
           names.ip_addresses.end();
  }
  if (names.has_san) {
    return std::any_of(names.dns_names.begin(), names.dns_names.end(),
                       [host](const std::string& dns) { return DnsNameMatches(dns, host); });
  }
  return DnsNameMatches(names.common_name, host);
}

bool HostnameMatches(X509* cert, std::string_view host) {
  if (cert == nullptr) return false;
  return HostnameMatchesNames(ExtractPresentedNames(cert), host);
}

namespace {

// SHA-256 over each certificate's DER, length-prefixed, leaf first; empty when one cannot be
// encoded (then nothing is cached).
std::string ChainKey(X509* leaf, STACK_OF(X509) * chain) {
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return {};
  auto add = [&](X509* c) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(c, &der);
    if (len <= 0) return false;
    const uint32_t n = static_cast<uint32_t>(len);
    const unsigned char size[4] = {
        static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
        static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
    const bool ok = EVP_DigestUpdate(md.get(), size, sizeof size) == 1 &&
                    EVP_DigestUpdate(md.get(), der, n) == 1;
    OPENSSL_free(der);
    return ok;
  };
  if (!add(leaf)) return {};
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    if (!add(sk_X509_value(chain, i))) return {};
  }
  std::string key(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(md.get(), reinterpret_cast<unsigned char*>(key.data()), &len) != 1) {
    return {};
  }
  key.resize(len);
  return key;
}

}  // namespace

VerifyOutcome VerifyCache::Verify(X509* leaf, STACK_OF(X509) * untrusted_chain, X509_STORE* store,
                                  int64_t now_unix) {
  const std::string key = ChainKey(leaf, untrusted_chain);
  ERR_clear_error();
  if (!key.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.from <= now_unix && now_unix < it->second.until) {
      ++hits_;
      return it->second.outcome;
    }
  }
  VerifyOutcome out = VerifyChain(leaf, untrusted_chain, store, now_unix);
  if (key.empty()) return out;
  Entry e{out, now_unix, std::min(out.stable_until, now_unix + max_age_)};
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= capacity_ && entries_.find(key) == entries_.end()) {
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.until <= now_unix; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  entries_[key] = std::move(e);
  return out;
}

size_t VerifyCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

uint64_t VerifyCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

CertRef CertFactsCache::Get(X509* cert) {
  std::string key(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  if (cert == nullptr ||
      X509_digest(cert, EVP_sha256(), reinterpret_cast<unsigned char*>(key.data()), &len) != 1) {
    ERR_clear_error();
    return CertRef(ExtractCertFacts(cert));
  }
  key.resize(len);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      ++hits_;
      return CertRef(it->second);
    }
  }
  auto facts = std::make_shared<const CertFacts>(ExtractCertFacts(cert));
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= capacity_ && entries_.find(key) == entries_.end()) {
    // Certificates no report holds any more (renewed, or their endpoints gone) first.
    std::erase_if(entries_, [](const auto& e) { return e.second.use_count() == 1; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  // Another probe may have put the same certificate in meanwhile: keep and share that one.
  return CertRef(entries_.try_emplace(std::move(key), std::move(facts)).first->second);
}

size_t CertFactsCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

uint64_t CertFactsCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

void InspectServedChain(X509* leaf, STACK_OF(X509) * chain, X509_STORE* store,
                        std::string_view host, int64_t now_unix, TlsFacts* facts,
                        VerifyCache* cache, CertFactsCache* facts_cache) {
  facts->has_leaf = leaf != nullptr;
  facts->leaf = CertRef();
  facts->chain.clear();
  facts->trusted = false;
  facts->verify_result.clear();
  facts->verify_code = 0;
  facts->hostname_match = false;
  facts->chain_length = 0;
  facts->chain_not_after = 0;
  facts->chain_in_order = false;
  facts->chain_has_root = false;
  facts->chain_duplicates = 0;
  if (leaf == nullptr) return;

  const int served = chain != nullptr ? sk_X509_num(chain) : 0;
  const bool leaf_in_chain = served > 0 && X509_cmp(sk_X509_value(chain, 0), leaf) == 0;
  std::vector<X509*> certs;
  if (!leaf_in_chain) certs.push_back(leaf);
  for (int i = 0; i < served; ++i) certs.push_back(sk_X509_value(chain, i));
  facts->chain_length = static_cast<int>(certs.size());
  for (X509* c : certs) {
    facts->chain.push_back(facts_cache != nullptr ? facts_cache->Get(c)
                                                  : CertRef(ExtractCertFacts(c)));
  }
  facts->leaf = facts->chain.front();
  facts->chain_not_after = facts->leaf->not_after;
  if (served > 0)
    facts->chain_not_after = std::min(facts->chain_not_after, EarliestNotAfter(chain));

  // Composition (CERT-13): repeats are counted, then left out of the order check so that a
  // duplicated intermediate is reported as a duplicate, not as disorder.
  std::vector<size_t> distinct;
  for (size_t i = 0; i < certs.size(); ++i) {
    const bool repeat = std::any_of(distinct.begin(), distinct.end(),
                                    [&](size_t j) { return X509_cmp(certs[j], certs[i]) == 0; });
    if (repeat) {
      ++facts->chain_duplicates;
    } else {
      distinct.push_back(i);
    }
  }
  facts->chain_in_order = true;
  for (size_t k = 0; k + 1 < distinct.size(); ++k) {
    if (X509_NAME_cmp(X509_get_issuer_name(certs[distinct[k]]),
                      X509_get_subject_name(certs[distinct[k + 1]])) != 0) {
      facts->chain_in_order = false;
    }
  }
  for (size_t k = 1; k < distinct.size(); ++k) {
    if (facts->chain[distinct[k]]->self_signed) facts->chain_has_root = true;
  }

  if (store != nullptr) {
    const VerifyOutcome v = cache != nullptr ? cache->Verify(leaf, chain, store, now_unix)
                                             : VerifyChain(leaf, chain, store, now_unix);
    facts->trusted = v.trusted;
    facts->verify_code = v.code;
    facts->verify_result = v.name;
  }
  facts->hostname_match = HostnameMatches(leaf, host);
}

std::string OcspStapleStatus(std::string_view der, X509* leaf, STACK_OF(X509) * chain) {
  if (der.empty() || leaf == nullptr || der.size() > static_cast<size_t>(LONG_MAX)) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  std::string status;
  if (resp && OCSP_response_status(resp.get()) == OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    const OcspBasicRespPtr basic(OCSP_response_get1_basic(resp.get()));
    X509* issuer = FindIssuer(leaf, chain);
    if (basic && issuer != nullptr) status = SingleStatus(basic.get(), leaf, issuer);
  }
  ERR_clear_error();
  return status;
}

void InspectOcspStaple(std::string_view der, X509* leaf, STACK_OF(X509) * chain, TlsFacts* facts) {
  facts->ocsp_stapled = !der.empty();
  facts->ocsp_staple_status = OcspStapleStatus(der, leaf, chain);
  facts->revoked = facts->ocsp_staple_status == "revoked";
}

}  // namespace mailsec::tls
