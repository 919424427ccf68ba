// Internal to the checks layer: the character classes, name syntax and TXT-record grammar that
// the SPF, DMARC, MTA-STS and TLS-RPT parsers share. Pure functions over untrusted text, no I/O;
// thread-safe. Returned string_views point into the argument and live as long as it does.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"

namespace mailsec::checks::internal {

// RFC 1035 §2.3.4: a DNS name is at most 253 octets in text form (255 on the wire), a label 63.
inline constexpr size_t kMaxDomainNameBytes = 253;
inline constexpr size_t kMaxLabelBytes = 63;
// sts-ext-name (RFC 8461 §3.1) and tlsrpt-ext-name (RFC 8460 §3).
inline constexpr size_t kMaxExtNameBytes = 32;

// ASCII only: bytes above 0x7f are never letters, digits or whitespace here.
inline bool IsWsp(char c) { return c == ' ' || c == '\t'; }
inline bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

// `s` without leading and trailing SP and HTAB (the WSP of RFC 5234).
std::string_view TrimWsp(std::string_view s);

// Splits on `sep`, keeping empty pieces: "a,,b," gives "a", "", "b", "".
std::vector<std::string_view> Split(std::string_view s, char sep);

// True when every byte is visible ASCII (%x21-7E): no whitespace, controls or 8-bit bytes.
bool VisibleAscii(std::string_view s);

// True when `s` holds a control character other than HTAB, or DEL.
bool HasControlChar(std::string_view s);

// "Example.ORG." -> "example.org": one trailing dot dropped, ASCII lower case.
std::string NormalizeName(std::string_view name);

// RFC 5321 Domain: LDH labels (letters, digits, '-' not first or last) of 1..kMaxLabelBytes
// octets, kMaxDomainNameBytes in all. No trailing dot.
bool ValidDomain(std::string_view d);
// ValidDomain, with one trailing dot allowed.
bool ValidHostName(std::string_view d);

// A record `version` opens exactly: `t` starts with it and ';', WSP or the end follows.
bool StartsRecord(std::string_view t, std::string_view prefix);

// kMalformed "<noun> longer than <max_bytes> bytes" when `s` is longer, else Ok.
Status CheckSize(std::string_view s, size_t max_bytes, std::string_view noun);

// sts-ext-name / sts-policy-ext-name / tlsrpt-ext-name: (ALPHA / DIGIT) then at most 31 of
// ALPHA / DIGIT / "_" / "-" / ".".
bool ValidExtName(std::string_view n);

// Parses the shape MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3) records share: `version`
// exactly and first, optional WSP, then ';'-delimited `name=value` fields with optional WSP
// around ';' and a trailing ';' allowed. The field named `required` must appear once; its value
// goes to `on_required`, whose error is returned as is. Every other field must be a well-formed
// extension (sts-ext-name "=" sts-ext-value) and its name is appended to *extensions. Errors are
// kMalformed and name the field: a bad version, "<required>: missing", an empty field, a field
// without '=', a duplicate field (a second "v" included), a bad extension name or value.
Status ParseRecordFields(std::string_view txt, std::string_view version, std::string_view required,
                         const std::function<Status(std::string_view value)>& on_required,
                         std::vector<std::string>* extensions);

// True for a DNS failure: not ok and not "no such name" (which means "no records").
bool LookupFailed(const Status& s);

// Untrusted text for a finding's detail: printable, cut short, in double quotes.
std::string Quote(std::string_view s);

// "a, b, c".
std::string Join(const std::vector<std::string>& v);

}  // namespace mailsec::checks::internal
