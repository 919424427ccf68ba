// What a TLS session and its served certificate chain tell us: plain data, filled by the tls
// layer and read by probe/export. No OpenSSL types here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsec::tls {

// keyUsage bits (RFC 5280 §4.2.1.3) as CertFacts::key_usage holds them. The values are those of
// the first octet of the DER bit string (digitalSignature is its most significant bit), then
// decipherOnly; they equal OpenSSL's KU_* values (checked where the facts are filled).
inline constexpr uint32_t kKeyUsageDigitalSignature = 0x0080;
inline constexpr uint32_t kKeyUsageNonRepudiation = 0x0040;
inline constexpr uint32_t kKeyUsageKeyEncipherment = 0x0020;
inline constexpr uint32_t kKeyUsageDataEncipherment = 0x0010;
inline constexpr uint32_t kKeyUsageKeyAgreement = 0x0008;
inline constexpr uint32_t kKeyUsageKeyCertSign = 0x0004;
inline constexpr uint32_t kKeyUsageCrlSign = 0x0002;
inline constexpr uint32_t kKeyUsageEncipherOnly = 0x0001;
inline constexpr uint32_t kKeyUsageDecipherOnly = 0x8000;

struct CertFacts {
  int64_t not_before = 0;  // Unix seconds
  int64_t not_after = 0;   // Unix seconds
  std::string subject_cn;
  std::string issuer_cn;
  std::string subject;             // whole subject name, RFC 2253 order and escaping, UTF-8
  std::string issuer;              // whole issuer name, same form
  std::string serial;              // upper-case hex, no separators
  std::string fingerprint_sha256;  // lower-case hex, no separators
  std::string spki_sha256;         // SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex
  std::string key_type;            // "RSA", "EC", "ED25519", "ED448", "DSA", "unknown"
  int key_bits = 0;
  std::string curve;                // EC only: OpenSSL's group name ("prime256v1", "secp384r1",
                                    // "brainpoolP256r1"); empty for other keys or unnamed curves
  uint64_t rsa_exponent = 0;        // RSA only: the public exponent; 0 when not RSA or above 2^64-1
  std::string signature_algorithm;  // OpenSSL long name, e.g. "sha256WithRSAEncryption"
  std::string signature_hash;       // digest of the signature, lower-case OpenSSL short name
                                    // ("sha256", "sha1", "md5"); empty for EdDSA (no separate
                                    // digest) and for algorithms OpenSSL does not know
  std::vector<std::string> dns_names;  // SAN dNSName entries, as served
  bool has_san = false;           // a subjectAltName with at least one dNSName or iPAddress entry
  bool self_signed = false;       // subject == issuer and the signature verifies with its own key
  bool has_eku = false;           // an extendedKeyUsage extension is present
  bool eku_server_auth = false;   // ... and lists id-kp-serverAuth
  bool has_key_usage = false;     // a keyUsage extension is present
  uint32_t key_usage = 0;         // its bits (kKeyUsage*), 0 when absent
  bool must_staple = false;       // TLS Feature extension (RFC 7633) lists status_request (5)
  bool has_embedded_sct = false;  // embedded Signed Certificate Timestamps (RFC 6962 §3.3)
  // The certificate's DER and the DER of its SubjectPublicKeyInfo: what TLSA selectors 0 and 1
  // match (RFC 6698 §2.1.2). Empty when OpenSSL cannot encode them.
  std::vector<uint8_t> der;
  std::vector<uint8_t> spki_der;
};

// A certificate's facts, shared and read-only: the same certificate served to many probes (the
// ports of one host, a fleet behind one certificate, every probe of an endpoint until it changes
// its certificate) is held once, not once per report kept. Never null: a default CertRef reads
// as empty facts. Read with -> and *; Edit() makes the facts this CertRef's own before changing
// them (copy-on-write), so no other holder sees the change.
class CertRef {
 public:
  // Header-only: every layer that holds a report (findings, export, the fuzz targets' layers)
  // uses it without linking the tls layer.
  CertRef() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): a new, unshared copy
  CertRef(CertFacts facts) : p_(std::make_shared<CertFacts>(std::move(facts))) {}
  explicit CertRef(std::shared_ptr<const CertFacts> shared) : p_(std::move(shared)) {}

  const CertFacts& operator*() const { return p_ ? *p_ : Empty(); }
  const CertFacts* operator->() const { return p_ ? p_.get() : &Empty(); }
  CertFacts& Edit() {
    if (p_ == nullptr || p_.use_count() != 1) p_ = std::make_shared<CertFacts>(**this);
    // Every p_ is made by make_shared<CertFacts> (see the member's comment), and no one else
    // holds this one: writing to it is writing to a non-const object of ours alone.
    return const_cast<CertFacts&>(*p_);
  }
  // The same object (not merely equal facts).
  bool SharesWith(const CertRef& other) const { return p_ != nullptr && p_ == other.p_; }

 private:
  static const CertFacts& Empty() {
    static const CertFacts empty;
    return empty;
  }
  // Always made by std::make_shared<CertFacts> (a non-const object), so Edit() may write to it
  // when no one else holds it.
  std::shared_ptr<const CertFacts> p_;
};

struct TlsFacts {
  bool handshake_ok = false;
  std::string version;            // "TLSv1.2", "TLSv1.3", ...
  std::string cipher;             // OpenSSL name
  std::string group;              // key-exchange group, e.g. "x25519"; empty when unknown
  bool rsa_key_exchange = false;  // the negotiated suite uses RSA key transport (TLS_RSA_*)
  bool ocsp_stapled = false;
  // The stapled OCSP response's status for the leaf: "good", "revoked", "unknown"; empty when
  // nothing was stapled, or when the staple could not be parsed, was not a successful response,
  // or holds no answer for the served leaf. Not signature-checked: a staple is read, not trusted.
  std::string ocsp_staple_status;
  bool revoked = false;  // ocsp_staple_status == "revoked"

  bool has_leaf = false;
  // The facts of the served leaf: the same object as chain.front().
  CertRef leaf;
  // Every certificate the server sent, in served order, leaf first (the leaf is prepended when
  // the stack handed over lacks it). Empty without a leaf. Shared with every other report of a
  // probe that was served the same certificate (tls::CertFactsCache).
  std::vector<CertRef> chain;
  int chain_length = 0;
  int64_t chain_not_after = 0;  // earliest notAfter over the served chain
  // Chain composition (CERT-13), over the chain without its repeats: every element's issuer name
  // equals the next element's subject name. True for a chain of one.
  bool chain_in_order = false;
  bool chain_has_root = false;  // a self-signed certificate was sent after the leaf
  int chain_duplicates = 0;     // elements whose SHA-256 fingerprint repeats an earlier one

  bool trusted = false;            // the chain verifies against the trust store, now
  std::string verify_result = "";  // short name: ok, expired, self_signed, untrusted_root, ...
  int verify_code = 0;             // OpenSSL X509_V_ERR_*
  bool hostname_match = false;     // RFC 6125 against the target host
};

// The facts of one DER-encoded certificate, as the tls layer fills them for a served one;
// nullopt when `der` is not exactly one certificate (empty, malformed, or with bytes after it).
// For the layers above that hold a certificate as bytes.
std::optional<CertFacts> CertFactsFromDer(std::string_view der);

}  // namespace mailsec::tls
