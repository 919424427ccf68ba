// DANE for mail hosts (RFC 6698, RFC 7671, RFC 7672): TLSA record matching against a served
// certificate chain and the verdicts of ../shared/CHECKS.md section 9 (DANE-01, -03, -04, -05,
// -06). Pure functions: the caller looks up `_<port>._tcp.<host>` TLSA (with the AD bit) and
// hands over the chain the tls layer saw (tls::CertFacts::der / spki_der). Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/checks/verdict.h"

namespace mailsec::checks {

// Check ids (CHECKS.md section 9 in brackets).
inline constexpr std::string_view kDaneTlsaPresentCheck = "dane_tlsa_present";  // DANE-01
inline constexpr std::string_view kDaneMatchCheck = "dane_match";               // DANE-03, -05
inline constexpr std::string_view kDaneParametersCheck = "dane_parameters";     // DANE-04
inline constexpr std::string_view kDaneRolloverCheck = "dane_rollover";         // DANE-06

// One TLSA RR (RFC 6698 §2.1), fields as on the wire.
struct TlsaRecord {
  uint8_t usage = 0;          // 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE
  uint8_t selector = 0;       // 0 full certificate, 1 SubjectPublicKeyInfo
  uint8_t matching_type = 0;  // 0 exact, 1 SHA2-256, 2 SHA2-512
  std::vector<uint8_t> data;  // certificate association data
};

// One served certificate: its DER and the DER of its SubjectPublicKeyInfo.
struct DaneChainCert {
  std::vector<uint8_t> der;
  std::vector<uint8_t> spki_der;
};

struct DaneInputs {
  // Port 25: only usages 2 and 3 are usable (RFC 7672 §3.1.3); other ports: 0..3 all count.
  bool smtp = true;
  // The TLSA lookup: ok (no records = NODATA), NotFound = NXDOMAIN, anything else a failure.
  Status tlsa_status;
  bool tlsa_secure = false;          // the AD bit on the TLSA answer (DNSSEC-validated)
  std::vector<TlsaRecord> tlsa;      // the RRset
  std::vector<DaneChainCert> chain;  // served chain, leaf first; empty when no handshake
  bool hostname_match = false;       // the leaf matched the host name (DANE-TA, RFC 7672 §3.2)
};

struct DaneAssessment {
  bool present = false;  // any TLSA RR at the name (contract: mailsec_dane_tlsa_present)
  // At least one record usable for this port with known parameters and well-formed data,
  // whether or not the answer was secure (see tlsa_secure for that).
  bool usable = false;
  // The kDaneMatchCheck verdict is pass: a usable record matches the served chain, the answer
  // was secure, and DANE-TA matches have a leaf naming the host (contract: mailsec_dane_match).
  bool match = false;
  std::vector<Finding> findings;
};

// True when `r` matches `cert`: selector 0 the certificate DER, 1 the SPKI DER; matching type 0
// the bytes themselves, 1 their SHA-256, 2 their SHA-512. False for unknown selectors or matching
// types and for empty certificate bytes. The usage is not looked at.
bool TlsaMatches(const TlsaRecord& r, const DaneChainCert& cert);

// Applies CHECKS.md DANE-01, -03/-05, -04 and -06.
//
// No findings at all when the lookup succeeded without records (DANE not deployed does not
// apply). A failed lookup yields only kDaneTlsaPresentCheck error. With records:
// kDaneTlsaPresentCheck pass when usable and secure, warn when the answer was insecure (an
// insecure TLSA RRset is unusable, RFC 7672 §2.2) or no record is usable.
// kDaneMatchCheck, only when a usable record exists, the answer was secure and a chain was served:
// pass when a usage 3/1 record matches the leaf, or a usage 2/0 record matches a non-leaf element
// and the leaf matched the host name; fail otherwise (DANE-05 for the name). Not checked here:
// that the chain from the matched trust anchor to the leaf verifies (DANE-03), which needs
// signatures the tls layer checks.
// kDaneParametersCheck over every record: fail for an unknown usage, selector or matching type or
// a digest of the wrong length (SHA-256 32 bytes, SHA-512 64, full data non-empty); warn for
// usage 0/1 on port 25, matching type 0, or "3 0 x" (breaks on every renewal, RFC 7671 §5.1).
// kDaneRolloverCheck, only when a usable record exists: pass with two usable records forming
// 3xx + 3xx or 3xx + 2xx; warn otherwise.
DaneAssessment AssessDane(const DaneInputs& in);

// Every check id AssessDane can yield.
const std::vector<std::string_view>& DaneCheckIds();

}  // namespace mailsec::checks
