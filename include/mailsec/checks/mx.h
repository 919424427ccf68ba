// Mail routing: the MX RRset (RFC 5321 §5.1, RFC 7505), reverse DNS of the MX addresses
// (RFC 1912 §2.1) and DNSSEC state of the domain and its MX hosts, as ../shared/CHECKS.md sections
// 2 (MX-01..05), 3 (PTR-01..02) and 4 (DNSSEC-01..04) grade them. Pure functions over answers the
// caller fetched: no DNS here. Thread-safe.
//
// Verdicts: CHECKS.md's INFO never alerts; here it is "pass" when something was published that
// works (a null MX on a name without A/AAAA: null_mx pass) and "no finding" when nothing applies
// (no MX and no A/AAAA: the domain receives no mail, so mx_present is silent). Checks over several
// hosts or addresses yield one finding, the worst by the rank fail > warn > error > pass: a
// definite problem outranks one we could not evaluate, and the detail names the first offender.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/checks/dns_outcome.h"
#include "mailsec/checks/verdict.h"

namespace mailsec::checks {

// Check ids (CHECKS.md row in brackets).
inline constexpr std::string_view kMxPresentCheck = "mx_present";             // MX-01
inline constexpr std::string_view kNullMxCheck = "null_mx";                   // MX-02
inline constexpr std::string_view kMxResolvesCheck = "mx_resolves";           // MX-03
inline constexpr std::string_view kMxDuplicateCheck = "mx_duplicate";         // MX-04
inline constexpr std::string_view kMxRoutableCheck = "mx_routable";           // MX-05
inline constexpr std::string_view kPtrPresentCheck = "ptr_present";           // PTR-01
inline constexpr std::string_view kFcrdnsCheck = "fcrdns";                    // PTR-02
inline constexpr std::string_view kDnssecSignedCheck = "dnssec_signed";       // DNSSEC-01
inline constexpr std::string_view kDnssecValidCheck = "dnssec_valid";         // DNSSEC-02
inline constexpr std::string_view kDnssecMxSignedCheck = "dnssec_mx_signed";  // DNSSEC-03
inline constexpr std::string_view kDnssecMxValidCheck = "dnssec_mx_valid";    // DNSSEC-04

// One MX record and what the caller found about its exchange.
struct MxHostInput {
  // The validating resolver's view of the name's zone: secure, insecure (unsigned, no DS chain),
  // bogus (signed but failing validation) or unknown (the lookup failed).
  enum class Dnssec : uint8_t { kSecure, kInsecure, kBogus, kUnknown };

  std::string name;  // the exchange, presentation form; a trailing dot is ignored
  uint16_t preference = 0;
  bool is_cname = false;  // the exchange name was an alias (RFC 2181 §10.3)
  LookupStatus a_status = LookupStatus::kNoData;
  LookupStatus aaaa_status = LookupStatus::kNoData;
  std::vector<std::string> addresses;  // A and AAAA in text form
  Dnssec dnssec = Dnssec::kUnknown;
};

// Reverse DNS of one MX address.
struct PtrInput {
  std::string host;  // the MX host the address belongs to, for details
  std::string ip;
  LookupStatus ptr_status = LookupStatus::kNoData;
  std::vector<std::string> ptr_names;
  // Some PTR name has an A/AAAA record equal to `ip` (the caller resolved the names).
  bool forward_confirmed = false;
};

struct MxInputs {
  std::string domain;
  LookupStatus mx_status = LookupStatus::kNoData;
  // In answer order. A null MX is a host named "." or "" (IsNullMx).
  std::vector<MxHostInput> mx;
  // A/AAAA at the domain itself: with no MX, RFC 5321 §5.1 delivers there ("implicit MX").
  LookupStatus apex_address_status = LookupStatus::kNoData;
  bool apex_has_address = false;
  // One entry per address of the hosts AssessMx returns (the caller looks them up).
  std::vector<PtrInput> ptrs;
  MxHostInput::Dnssec domain_dnssec = MxHostInput::Dnssec::kUnknown;
};

struct MxAssessment {
  // Only "." exchanges: the domain accepts no mail (RFC 7505); transport checks do not apply. A
  // null MX next to other MX is a failure, and those other hosts are still listed.
  bool null_mx = false;
  // No MX, but A/AAAA at the domain: senders deliver to the domain itself, which `hosts` holds.
  bool implicit_mx = false;
  // The hosts senders deliver to: MX exchanges in preference order (ties in answer order),
  // normalized (lower case, no trailing dot), each once; without "." targets, "localhost" and IP
  // literals, which no sender can use. The probe tests these.
  std::vector<std::string> hosts;
  std::vector<Finding> findings;
};

// Applies CHECKS.md rows MX-01..05, PTR-01..02 and DNSSEC-01..04:
//  mx_present: error when the MX lookup failed (then only the DNSSEC findings of the domain
//    follow), or when there is no MX and the A/AAAA lookup failed; pass with >= 1 usable
//    exchange; warn for an implicit MX, or when every exchange is "localhost"; no finding for a
//    null MX or when neither MX nor A/AAAA exists (INFO).
//  null_mx: pass when the null MX is the only MX (the detail notes the INFO "unnecessary" case of
//    a name without A/AAAA); fail next to other MX, or with a preference other than 0; no finding
//    without a null MX.
//  mx_resolves (per exchange): fail for an IP literal or no A/AAAA, warn for a CNAME, error when
//    the address lookups failed and gave nothing; mx_duplicate: warn when a name repeats;
//    mx_routable: warn for "localhost" or only loopback/private/ULA/link-local/documentation
//    addresses. None of the three when there is no usable exchange.
//  ptr_present / fcrdns over `ptrs`: see PtrInput; none without addresses.
//  dnssec_signed: pass secure or bogus, fail insecure, error unknown. dnssec_valid: pass secure,
//    fail bogus, error unknown, none when insecure. dnssec_mx_signed / dnssec_mx_valid: the same
//    per host in `hosts` (not for an implicit MX).
MxAssessment AssessMx(const MxInputs& in);

// Every check id AssessMx can yield.
const std::vector<std::string_view>& MxCheckIds();

// A null MX (RFC 7505 §3): exchange "." (or "", how some decoders print the root) with preference
// 0.
bool IsNullMx(std::string_view exchange, uint16_t preference);

// "localhost" or a name under it (RFC 6761 §6.3), any case, with or without a trailing dot.
bool IsLocalhostName(std::string_view name);

// True for an IPv4 or IPv6 address literal, bare or in brackets ("192.0.2.1", "[2001:db8::1]").
bool IsIpLiteral(std::string_view name);

// The PTR query name of an address: "4.3.2.1.in-addr.arpa" for 1.2.3.4, the 32-nibble
// "...ip6.arpa" form for IPv6 (RFC 3596 §2.5). "" for anything that is not an address.
std::string ReverseName(std::string_view ip);

// True when `ip` is an address no Internet sender can reach: unspecified, loopback (127/8, ::1),
// private (RFC 1918), shared (100.64/10), link-local (169.254/16, fe80::/10), ULA (fc00::/7) or
// documentation (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20); IPv4-mapped
// IPv6 is judged by its IPv4 address. False for routable addresses and for non-addresses.
bool IsUnroutable(std::string_view ip);

}  // namespace mailsec::checks
