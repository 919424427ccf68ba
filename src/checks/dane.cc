#include "mailsec/checks/dane.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <string>

#include "checks/text_util.h"

namespace mailsec::checks {
namespace {

using internal::Join;

constexpr uint8_t kPkixTa = 0;
constexpr uint8_t kPkixEe = 1;
constexpr uint8_t kDaneTa = 2;
constexpr uint8_t kDaneEe = 3;

constexpr size_t kSha256Bytes = 32;
constexpr size_t kSha512Bytes = 64;

bool KnownParameters(const TlsaRecord& r) {
  return r.usage <= kDaneEe && r.selector <= 1 && r.matching_type <= 2;
}

// Data length right for the matching type (known types only).
bool DataLengthOk(const TlsaRecord& r) {
  switch (r.matching_type) {
    case 0:
      return !r.data.empty();
    case 1:
      return r.data.size() == kSha256Bytes;
    case 2:
      return r.data.size() == kSha512Bytes;
    default:
      return false;
  }
}

bool UsageCounts(const TlsaRecord& r, bool smtp) {
  return smtp ? (r.usage == kDaneTa || r.usage == kDaneEe) : r.usage <= kDaneEe;
}

bool Usable(const TlsaRecord& r, bool smtp) {
  return UsageCounts(r, smtp) && KnownParameters(r) && DataLengthOk(r);
}

bool EndEntityUsage(uint8_t usage) { return usage == kPkixEe || usage == kDaneEe; }

// "3 1 1 0a1b2c3d..." for details: the parameters and the first bytes of the data.
std::string Describe(const TlsaRecord& r) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = std::to_string(r.usage) + " " + std::to_string(r.selector) + " " +
                  std::to_string(r.matching_type) + " ";
  if (r.data.empty()) return s + "(empty)";
  const size_t shown = std::min<size_t>(r.data.size(), 4);
  for (size_t i = 0; i < shown; ++i) {
    s += kHex[r.data[i] >> 4];
    s += kHex[r.data[i] & 0xf];
  }
  if (r.data.size() > shown) s += "...";
  return s;
}

bool DigestEquals(const EVP_MD* md, const std::vector<uint8_t>& in,
                  const std::vector<uint8_t>& want) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (EVP_Digest(in.data(), in.size(), out.data(), &len, md, nullptr) != 1) return false;
  return len == want.size() && std::equal(want.begin(), want.end(), out.begin());
}

}  // namespace

bool TlsaMatches(const TlsaRecord& r, const DaneChainCert& cert) {
  const std::vector<uint8_t>* bytes = nullptr;
  switch (r.selector) {
    case 0:
      bytes = &cert.der;
      break;
    case 1:
      bytes = &cert.spki_der;
      break;
    default:
      return false;
  }
  if (bytes->empty()) return false;
  switch (r.matching_type) {
    case 0:
      return *bytes == r.data;
    case 1:
      return r.data.size() == kSha256Bytes && DigestEquals(EVP_sha256(), *bytes, r.data);
    case 2:
      return r.data.size() == kSha512Bytes && DigestEquals(EVP_sha512(), *bytes, r.data);
    default:
      return false;
  }
}

DaneAssessment AssessDane(const DaneInputs& in) {
  DaneAssessment out;
  auto add = [&out](std::string_view id, CheckVerdict v, std::string detail) {
    out.findings.push_back(Finding{id, v, std::move(detail)});
  };

  // DANE-01.
  if (internal::LookupFailed(in.tlsa_status)) {
    add(kDaneTlsaPresentCheck, CheckVerdict::kError,
        "TLSA lookup failed: " + in.tlsa_status.ToString());
    return out;
  }
  if (!in.tlsa_status.ok() || in.tlsa.empty()) return out;  // DANE not deployed: not applicable
  out.present = true;

  std::vector<const TlsaRecord*> usable;
  for (const TlsaRecord& r : in.tlsa) {
    if (Usable(r, in.smtp)) usable.push_back(&r);
  }
  out.usable = !usable.empty();
  const std::string count = std::to_string(in.tlsa.size()) + " TLSA record(s)";
  if (!in.tlsa_secure) {
    add(kDaneTlsaPresentCheck, CheckVerdict::kWarn,
        count + " in an insecure answer (no DNSSEC validation): unusable (RFC 7672 §2.2)");
  } else if (!out.usable) {
    add(kDaneTlsaPresentCheck, CheckVerdict::kWarn,
        count + ", none usable" +
            std::string(in.smtp ? " (only usages 2 and 3 count for SMTP, RFC 7672 §3.1.3)" : ""));
  } else {
    add(kDaneTlsaPresentCheck, CheckVerdict::kPass,
        std::to_string(usable.size()) + " usable of " + count + ", DNSSEC-validated");
  }

  // DANE-03 and DANE-05.
  if (out.usable && in.tlsa_secure && !in.chain.empty()) {
    const TlsaRecord* ee_match = nullptr;
    const TlsaRecord* ta_match = nullptr;
    for (const TlsaRecord* r : usable) {
      if (EndEntityUsage(r->usage)) {
        if (ee_match == nullptr && TlsaMatches(*r, in.chain.front())) ee_match = r;
      } else if (ta_match == nullptr) {
        for (size_t i = 1; i < in.chain.size(); ++i) {
          if (TlsaMatches(*r, in.chain[i])) {
            ta_match = r;
            break;
          }
        }
      }
    }
    if (ee_match != nullptr) {
      out.match = true;
      add(kDaneMatchCheck, CheckVerdict::kPass, Describe(*ee_match) + " matches the leaf");
    } else if (ta_match != nullptr && in.hostname_match) {
      out.match = true;
      add(kDaneMatchCheck, CheckVerdict::kPass,
          Describe(*ta_match) + " matches a served issuer certificate");
    } else if (ta_match != nullptr) {
      add(kDaneMatchCheck, CheckVerdict::kFail,
          Describe(*ta_match) +
              " matches a served issuer, but the leaf does not name the host (RFC 7672 §3.2)");
    } else {
      const bool only_ta = std::none_of(usable.begin(), usable.end(), [](const TlsaRecord* r) {
        return EndEntityUsage(r->usage);
      });
      std::string detail = "no usable TLSA record matches the served chain of " +
                           std::to_string(in.chain.size()) + " certificate(s)";
      if (only_ta) {
        detail += "; the trust-anchor certificate must be served in the chain (RFC 7672 §3.1.2)";
      }
      add(kDaneMatchCheck, CheckVerdict::kFail, std::move(detail));
    }
  }

  // DANE-04.
  {
    std::vector<std::string> fails, warns;
    for (const TlsaRecord& r : in.tlsa) {
      if (!KnownParameters(r)) {
        fails.push_back(Describe(r) + ": unknown usage, selector or matching type");
        continue;
      }
      if (!DataLengthOk(r)) {
        fails.push_back(Describe(r) + ": " + std::to_string(r.data.size()) +
                        "-byte data is wrong for matching type " + std::to_string(r.matching_type));
        continue;
      }
      if (in.smtp && (r.usage == kPkixTa || r.usage == kPkixEe)) {
        warns.push_back(Describe(r) + ": usage " + std::to_string(r.usage) +
                        " is ignored by SMTP senders");
      }
      if (r.matching_type == 0) {
        warns.push_back(Describe(r) + ": full data rather than a SHA-256 digest");
      }
      if (r.usage == kDaneEe && r.selector == 0) {
        warns.push_back(Describe(r) +
                        ": bound to the certificate, breaks on every renewal; prefer 3 1 x");
      }
    }
    if (!fails.empty()) {
      add(kDaneParametersCheck, CheckVerdict::kFail, Join(fails));
    } else if (!warns.empty()) {
      add(kDaneParametersCheck, CheckVerdict::kWarn, Join(warns));
    } else {
      add(kDaneParametersCheck, CheckVerdict::kPass, "parameters of " + count + " are sound");
    }
  }

  // DANE-06.
  if (out.usable) {
    size_t ee = 0, ta = 0;
    for (const TlsaRecord* r : usable) {
      if (r->usage == kDaneEe) ++ee;
      if (r->usage == kDaneTa) ++ta;
    }
    if (ee >= 2) {
      add(kDaneRolloverCheck, CheckVerdict::kPass, "3xx + 3xx: current and next key");
    } else if (ee >= 1 && ta >= 1) {
      add(kDaneRolloverCheck, CheckVerdict::kPass, "3xx + 2xx: key and issuer");
    } else {
      add(kDaneRolloverCheck, CheckVerdict::kWarn,
          std::to_string(usable.size()) +
              " usable record(s), no 3xx + 3xx or 3xx + 2xx pair for a rollover");
    }
  }
  return out;
}

const std::vector<std::string_view>& DaneCheckIds() {
  static const std::vector<std::string_view> kIds = {kDaneTlsaPresentCheck, kDaneMatchCheck,
                                                     kDaneParametersCheck, kDaneRolloverCheck};
  return kIds;
}

}  // namespace mailsec::checks
