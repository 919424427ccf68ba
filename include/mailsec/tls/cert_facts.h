// What a TLS session and its served certificate chain tell us: plain data, filled by the tls
// layer and read by probe/export. No OpenSSL types here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mailsec::tls {

struct CertFacts {
  int64_t not_before = 0;  // Unix seconds
  int64_t not_after = 0;   // Unix seconds
  std::string subject_cn;
  std::string issuer_cn;
  std::string serial;              // upper-case hex, no separators
  std::string fingerprint_sha256;  // lower-case hex, no separators
  std::string key_type;            // "RSA", "EC", "ED25519", "ED448", "DSA", "unknown"
  int key_bits = 0;
  std::string signature_algorithm;     // OpenSSL long name, e.g. "sha256WithRSAEncryption"
  std::vector<std::string> dns_names;  // SAN dNSName entries, as served
};

struct TlsFacts {
  bool handshake_ok = false;
  std::string version;  // "TLSv1.2", "TLSv1.3", ...
  std::string cipher;   // OpenSSL name
  std::string group;    // key-exchange group, e.g. "x25519"; empty when unknown
  bool ocsp_stapled = false;

  bool has_leaf = false;
  CertFacts leaf;
  int chain_length = 0;
  int64_t chain_not_after = 0;  // earliest notAfter over the served chain

  bool trusted = false;            // the chain verifies against the trust store, now
  std::string verify_result = "";  // short name: ok, expired, self_signed, untrusted_root, ...
  int verify_code = 0;             // OpenSSL X509_V_ERR_*
  bool hostname_match = false;     // RFC 6125 against the target host
};

}  // namespace mailsec::tls
