// DNS wire format: a pure parser for replies and a builder for queries (RFC 1035, RFC 6891 EDNS0).
//
// ParseDnsMessage never trusts a length: every read goes through a bounds-checked cursor,
// compression pointers may only point backwards (before every byte of the name read so far) and
// are followed at most kMaxCompressionHops times, so any input ends in a DnsMessage or
// Status::Malformed, never a crash or a loop. Pure functions; the types are plain values.
//
// Names are given in presentation form without the trailing dot ("mx.example.com"; the root is
// "."), with '.', '\' and bytes outside printable ASCII escaped as "\.", "\\" and "\DDD", so a
// label holding a dot can never pass for two labels. Case is kept as received.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mailsec/base/status.h"

namespace mailsec::dns {

// Hard limits of the parser, each with its reason. They sit here rather than in base/limits.h
// because they are properties of the DNS wire format, not tunables.
//
// The TCP length prefix is 16 bits: nothing larger is a DNS message.
inline constexpr size_t kMaxMessageBytes = 65535;
// RFC 1035 §2.3.4: a name is at most 255 octets on the wire, a label at most 63.
inline constexpr size_t kMaxNameOctets = 255;
inline constexpr size_t kMaxLabelOctets = 63;
// Pointers only go backwards, so they cannot loop; the hop limit bounds the work a hostile reply
// can cause with chains of pointers to pointers (a name has at most 127 labels, and real encoders
// use one pointer per name).
inline constexpr int kMaxCompressionHops = 64;
// Records in all sections together. A mail domain's answers are tens of records; a 64 KiB reply of
// compressed A records could hold ~4000, which is abuse, not an answer worth keeping.
inline constexpr size_t kMaxRecords = 1024;
// The EDNS0 UDP payload we advertise: the DNS flag day 2020 value, which avoids IP fragmentation.
inline constexpr uint16_t kEdnsUdpPayload = 1232;

enum class RrType : uint16_t {
  kA = 1,
  kNs = 2,
  kCname = 5,
  kSoa = 6,
  kPtr = 12,
  kMx = 15,
  kTxt = 16,
  kAaaa = 28,
  kSrv = 33,
  kOpt = 41,
  kDs = 43,
  kRrsig = 46,
  kDnskey = 48,
  kTlsa = 52,
  kCaa = 257,
};
// "A", "MX", ..., or "TYPE123" for a type without a name here (RFC 3597).
std::string RrTypeName(RrType type);

inline constexpr uint16_t kClassIn = 1;

// Response codes (RFC 1035 §4.1.1; values above 15 only with EDNS, RFC 6891 §6.1.3).
inline constexpr uint16_t kRcodeNoError = 0;
inline constexpr uint16_t kRcodeFormErr = 1;
inline constexpr uint16_t kRcodeServFail = 2;
inline constexpr uint16_t kRcodeNxDomain = 3;
inline constexpr uint16_t kRcodeNotImp = 4;
inline constexpr uint16_t kRcodeRefused = 5;

struct DnsHeader {
  uint16_t id = 0;
  bool qr = false;  // a response
  uint8_t opcode = 0;
  bool aa = false;  // authoritative answer
  bool tc = false;  // truncated
  bool rd = false;  // recursion desired
  bool ra = false;  // recursion available
  bool ad = false;  // authenticated data (RFC 4035 §3.2.3): the resolver validated the answer
  bool cd = false;  // checking disabled
  // The full response code: the header's 4 bits, extended by the OPT record's 8 upper bits.
  uint16_t rcode = 0;
};

struct Question {
  std::string name;
  RrType type = RrType::kA;
  uint16_t qclass = kClassIn;
};

struct AData {
  std::array<uint8_t, 4> address{};
  std::string ToString() const;  // dotted quad
};
struct AaaaData {
  std::array<uint8_t, 16> address{};
  std::string ToString() const;  // RFC 5952 text
};
struct CnameData {
  std::string target;
};
struct PtrData {
  std::string name;
};
struct MxData {
  uint16_t preference = 0;
  std::string exchange;  // "." for a null MX (RFC 7505)
};
struct TxtData {
  // The character-strings as received (each at most 255 bytes); consumers of SPF, DMARC and the
  // like want them concatenated without separator (RFC 7208 §3.3): Joined().
  std::vector<std::string> strings;
  std::string Joined() const;
};
struct SrvData {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;  // "." when the service is decidedly not available (RFC 2782)
};
struct TlsaData {
  uint8_t usage = 0;          // 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 7218)
  uint8_t selector = 0;       // 0 full certificate, 1 SubjectPublicKeyInfo
  uint8_t matching_type = 0;  // 0 exact, 1 SHA-256, 2 SHA-512
  std::vector<uint8_t> data;  // certificate association data, unchecked length
};
struct CaaData {
  uint8_t flags = 0;
  std::string tag;    // as received; RFC 8659 says ASCII alphanumerics, checked by the consumer
  std::string value;  // raw bytes
  bool critical() const { return (flags & 0x80) != 0; }
};
// Any other type (and a known type in a class other than IN): the rdata bytes as received, with
// any compressed names in them left compressed.
struct RawData {
  std::vector<uint8_t> bytes;
};

using Rdata = std::variant<RawData, AData, AaaaData, CnameData, PtrData, MxData, TxtData, SrvData,
                           TlsaData, CaaData>;

struct ResourceRecord {
  std::string name;
  RrType type = RrType::kA;
  uint16_t rr_class = kClassIn;
  uint32_t ttl = 0;
  Rdata data;
};

// The OPT pseudo-record (RFC 6891), taken out of the additional section.
struct Edns {
  uint16_t udp_payload = 0;
  uint8_t version = 0;
  bool dnssec_ok = false;  // DO bit
};

struct DnsMessage {
  DnsHeader header;
  std::vector<Question> questions;
  std::vector<ResourceRecord> answers;
  std::vector<ResourceRecord> authority;
  std::vector<ResourceRecord> additional;  // without the OPT record
  std::optional<Edns> edns;
};

// Parses a whole message (a UDP payload or a TCP message without its length prefix). Trailing
// bytes after the counted records are ignored, as resolvers do. Malformed on any violation: short
// read, forward or looping pointer, over-long name or label, rdata that does not fill exactly its
// rdlength for the typed records, more than one OPT record, more than kMaxRecords records.
[[nodiscard]] Result<DnsMessage> ParseDnsMessage(std::span<const uint8_t> wire);

// Builds a recursive query for one name: RD=1, AD=1 (RFC 6840 §5.7: asks the resolver to say
// whether it validated), one EDNS0 OPT record advertising kEdnsUdpPayload with the DO bit when
// dnssec_ok, and CD=1 (RFC 4035 §3.2.2: the resolver skips validation) when checking_disabled.
// `name` is in presentation form (trailing dot optional; "\." and "\DDD" escapes).
// InvalidArgument when the name cannot be encoded (empty label, label > 63, name > 255 octets).
[[nodiscard]] Result<std::vector<uint8_t>> BuildQuery(std::string_view name, RrType type,
                                                      uint16_t id, bool dnssec_ok,
                                                      bool checking_disabled = false);

// Case-insensitive comparison of two presentation-form names (ASCII only, RFC 4343), ignoring a
// trailing dot.
bool SameName(std::string_view a, std::string_view b);

}  // namespace mailsec::dns
