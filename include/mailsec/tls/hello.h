// Hand-built ClientHello records and a parser for the server's first answer, for the deep scan's
// probes that the local OpenSSL cannot make (SSLv2, SSLv3, suites it was built without: CHECKS.md
// META-01). A probe never completes such a handshake: the ServerHello (or the alert) is the
// answer. Pure functions, no I/O; the parser never trusts a length and reads at most
// kMaxServerReplyBytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"

namespace mailsec::tls {

// Wire versions (RFC 5246 §6.2.1; SSLv2 is 0x0002).
inline constexpr uint16_t kSsl2 = 0x0002;
inline constexpr uint16_t kSsl3 = 0x0300;
inline constexpr uint16_t kTls10 = 0x0301;
inline constexpr uint16_t kTls11 = 0x0302;
inline constexpr uint16_t kTls12 = 0x0303;
inline constexpr uint16_t kTls13 = 0x0304;

// "SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" (the names of
// mailsec_tls_version_supported{version}); "0xNNNN" for anything else.
std::string VersionName(uint16_t version);

// Enough of a server's answer to decide: a ServerHello fits in far less (RFC 5246 §7.4.1.3: at
// most ~70 bytes plus extensions), and a server that sends more before it is a different story.
inline constexpr size_t kMaxServerReplyBytes = 16 * 1024 + 5;
// META-02: some servers break on ClientHellos with more suites than this.
inline constexpr size_t kMaxSuitesPerHello = 64;
inline constexpr size_t kMaxSuitesRobustHello = 256;
// Extensions read from one ServerHello: a server answers only what the client offered (ours
// offer fewer than ten), so a longer list is not a server we understand.
inline constexpr size_t kMaxServerHelloExtensions = 32;

// TLS_FALLBACK_SCSV (RFC 7507 §6): a client's mark on a hello for a lower version than its best.
inline constexpr uint16_t kFallbackScsv = 0x5600;
// Alert descriptions the scan tells apart (RFC 8446 §6, RFC 7507 §2).
inline constexpr uint8_t kAlertHandshakeFailure = 40;
inline constexpr uint8_t kAlertProtocolVersion = 70;
inline constexpr uint8_t kAlertInappropriateFallback = 86;
// Compression methods (RFC 3749).
inline constexpr uint8_t kCompressionNull = 0;
inline constexpr uint8_t kCompressionDeflate = 1;

// Why a suite is weak (CHECKS.md CIPH-02): each is a FAIL.
// IDEA is a 64-bit block cipher like 3DES (SWEET32; testssl.sh's "3DES_IDEA" list).
enum class WeakKind : uint8_t { kNull, kAnonymous, kExport, kRc4, kDes, k3Des, kIdea };
// "NULL", "anonymous", "EXPORT", "RC4", "DES", "3DES", "IDEA"
std::string_view WeakKindName(WeakKind k);

struct SuiteInfo {
  uint16_t id;
  std::string_view iana;     // "TLS_RSA_WITH_RC4_128_SHA"
  std::string_view openssl;  // "RC4-SHA"
  WeakKind kind;
};

// Every weak suite the scan offers (fewer than kMaxSuitesPerHello), by IANA code point.
std::span<const SuiteInfo> WeakSuites();
// The table entry of a weak suite; null when `id` is not in WeakSuites().
const SuiteInfo* FindWeakSuite(uint16_t id);
// Common non-weak and weak suites that SSLv3..TLS 1.2 servers accept, for version probes.
std::span<const uint16_t> CommonSuites();

struct HelloSpec {
  // SSLv3..TLS 1.2: client_version; the record carries min(version, TLS 1.0). TLS 1.3 (RFC 8446
  // §4.1.2): legacy_version TLS 1.2 and supported_versions naming TLS 1.3 alone, with an EMPTY
  // key_share, so that a server that would accept answers with a HelloRetryRequest naming its
  // suite and group: decided without any key exchange.
  uint16_t version = kTls12;
  std::vector<uint16_t> suites;  // at most kMaxSuitesPerHello, in order of preference
  // TLSV-07: a hello with more than 128 suites (servers that truncate long lists choke on it):
  // up to kMaxSuitesRobustHello suites allowed.
  bool many_suites = false;
  std::string sni;  // server_name; empty: none (IP-literal targets)
  std::array<uint8_t, 32> random{};
  // Compression methods DEFLATE then null (TLSF-01); otherwise null only.
  bool offer_deflate = false;
  // TLS 1.0-1.2: the heartbeat extension (RFC 6520, 0x000f) in mode peer_allowed_to_send, for
  // the Heartbleed probe (TLSF-07). Ignored for SSLv3 and TLS 1.3.
  bool offer_heartbeat = false;
  // supported_groups, at most kMaxGroupsPerHello; empty: x25519, secp256r1, secp384r1,
  // secp521r1 (and for TLS 1.3 also x448 and ffdhe2048..ffdhe8192).
  std::vector<uint16_t> groups;
  // TLSV-07 (RFC 8701): GREASE values a tolerant server ignores: a suite first in the list, an
  // empty extension first and a one-byte one last, a group first in supported_groups, a
  // signature algorithm first (TLS 1.2, 1.3), a version first in supported_versions (TLS 1.3).
  bool grease = false;
  // TLSV-07 (RFC 7685): a padding extension grows the handshake message to this many bytes
  // (at most kMaxPaddedHello); 0, or a hello already that long: none.
  size_t pad_to = 0;
  // TLSV-07: the record layer's version (0x0300..0x0304); 0: min(version, TLS 1.0).
  uint16_t record_version = 0;
  // TLSV-07 (RFC 5246 Appendix E.1, RFC 8446 §4.1.2): the client_version of an SSLv3..TLS 1.2
  // hello when higher than `version` (0x0304 without supported_versions: a tolerant server
  // answers with the best version it has up to TLS 1.2); 0: `version`. Ignored for TLS 1.3.
  uint16_t client_version = 0;
  // TLS 1.0-1.2 get supported_groups, ec_point_formats, signature_algorithms (1.2), SNI,
  // extended_master_secret and renegotiation_info; SSLv3 gets none (many SSLv3 stacks choke on
  // them). TLS_FALLBACK_SCSV is a suite: put kFallbackScsv in `suites`. TLS 1.3 gets SNI,
  // supported_groups, signature_algorithms, supported_versions and the empty key_share.
};
inline constexpr size_t kMaxGroupsPerHello = 32;
inline constexpr size_t kMaxPaddedHello = 4096;
// RFC 8701 reserves {0x0A0A, 0x1A1A, ..., 0xFAFA} in every code point registry of TLS.
inline constexpr bool IsGrease(uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 12) == ((v >> 4) & 0xf);
}

// A ClientHello record (SSLv3, TLS 1.0-1.2 or TLS 1.3 format). InvalidArgument for an empty or
// too long suite or group list, or a version outside SSLv3..TLS 1.3.
[[nodiscard]] Result<std::string> BuildClientHello(const HelloSpec& spec);

// An SSLv2 CLIENT-HELLO (SSLv2 record format) offering the SSLv2 cipher kinds below, with a
// 16-byte challenge taken from `random`.
[[nodiscard]] std::string BuildSsl2ClientHello(const std::array<uint8_t, 32>& random);

struct ServerReply {
  enum class Kind : uint8_t {
    kIncomplete,       // a valid start; read more bytes and parse again
    kServerHello,      // TLS/SSLv3 ServerHello: version, cipher
    kAlert,            // a TLS alert record: alert_level, alert_description
    kSsl2ServerHello,  // SSLv2 SERVER-HELLO: version 0x0002, ssl2_cipher_count
  };
  Kind kind = Kind::kIncomplete;
  uint16_t version = 0;  // ServerHello.server_version (legacy_version: 0x0303 for TLS 1.3)
  uint16_t cipher = 0;
  uint8_t alert_level = 0;
  uint8_t alert_description = 0;
  size_t ssl2_cipher_count = 0;
  // The SSLv2 SERVER-HELLO's certificate (DER, X.509 type), when the whole record fit in
  // kMaxServerReplyBytes; empty otherwise (TLSF-14 compares its key with other endpoints').
  std::string ssl2_certificate;
  // The rest of a kServerHello, read from the whole message (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3).
  uint8_t compression = kCompressionNull;  // compression_method
  bool hello_retry_request = false;        // the random is RFC 8446's HelloRetryRequest value
  bool renegotiation_info = false;         // extension 0xff01 (RFC 5746 §3.6)
  bool extended_master_secret = false;     // extension 0x0017 (RFC 7627 §5.1)
  uint16_t selected_version = 0;           // supported_versions 0x002b (RFC 8446); 0: absent
  uint16_t key_share_group = 0;            // key_share 0x0033: the server's (or HRR's) group
  bool heartbeat = false;                  // heartbeat 0x000f echoed (RFC 6520 §2)
  // The version the server chose: supported_versions when present, else server_version.
  uint16_t NegotiatedVersion() const { return selected_version != 0 ? selected_version : version; }
};

// Parses the start of what a server sent after our hello. Malformed: not TLS or SSLv2 at all
// (a plaintext banner), a record that breaks the format, a first handshake message that is not a
// ServerHello, a ServerHello whose fields or extensions overrun it (extensions: at most
// kMaxServerHelloExtensions, none twice, the known ones with their RFC lengths); more than
// kMaxServerReplyBytes without a decision is Malformed too. A ServerHello is decided only once
// the whole message is in.
[[nodiscard]] Result<ServerReply> ParseServerReply(std::string_view bytes);

// The whole first flight of a TLS 1.0-1.2 (or SSLv3) server: ServerHello, Certificate, ...,
// ServerHelloDone. A certificate chain rarely passes 20 KB; testssl.sh reads 32 KB.
inline constexpr size_t kMaxServerFlightBytes = 64 * 1024;
// Handshake messages in that flight: ServerHello, Certificate, CertificateStatus,
// ServerKeyExchange, CertificateRequest, ServerHelloDone are six; more is not a server we know.
inline constexpr size_t kMaxServerFlightMessages = 12;

struct ServerFlight {
  enum class Kind : uint8_t {
    kIncomplete,  // a valid start; read more bytes and parse again
    kDone,        // ServerHello ... ServerHelloDone: hello, messages, consumed
    kAlert,       // an alert record before ServerHelloDone: alert_level, alert_description
  };
  Kind kind = Kind::kIncomplete;
  ServerReply hello;    // the ServerHello (kDone)
  size_t messages = 0;  // handshake messages read, ServerHelloDone included (kDone)
  size_t consumed = 0;  // bytes up to the end of the record that ends ServerHelloDone (kDone)
  // The group of an ECDHE ServerKeyExchange (RFC 8422 §5.4: ECParameters with curve_type
  // named_curve), read only when the ServerHello chose a TLS_ECDHE_* suite; -1 otherwise.
  int32_t ske_named_group = -1;
  uint8_t alert_level = 0;
  uint8_t alert_description = 0;
};

// Reads a server's first flight record by record for the probes that go past the ServerHello
// (TLSF-07, TLSF-08). Malformed: a record that is not handshake or alert, breaks the format or is
// longer than 2^14 + 2048; a first message that is not a TLS 1.0-1.2/SSLv3 ServerHello (a TLS 1.3
// one encrypts the rest); a ServerHelloDone that is not empty or is followed by more handshake
// bytes; more than kMaxServerFlightMessages messages, or more than kMaxServerFlightBytes
// without a ServerHelloDone. Bytes after the record that ends ServerHelloDone are not looked at.
[[nodiscard]] Result<ServerFlight> ParseServerFlight(std::string_view bytes);

// Record content types (RFC 5246 §6.2.1, RFC 6520 §2).
inline constexpr uint8_t kContentChangeCipherSpec = 20;
inline constexpr uint8_t kContentAlert = 21;
inline constexpr uint8_t kContentHandshake = 22;
inline constexpr uint8_t kContentApplicationData = 23;
inline constexpr uint8_t kContentHeartbeat = 24;

// A HeartbeatMessage request record (RFC 6520 §4) on record version `version` whose
// payload_length field says `claimed_length` while it carries only `payload` (and no padding): a
// server that answers with more than it got reads past our record (Heartbleed, CVE-2014-0160).
// At most 64 payload bytes are sent (the rest of `payload` is cut).
[[nodiscard]] std::string BuildHeartbeatRequest(uint16_t version, uint16_t claimed_length,
                                                std::string_view payload);

// A ChangeCipherSpec record (body 0x01) on record version `version`; sent before any key
// exchange it tests for early CCS acceptance (CVE-2014-0224).
[[nodiscard]] std::string BuildChangeCipherSpec(uint16_t version);

// The header of the first record in `bytes`: what the probes after the first flight decide on
// without reading a record's body (an alert's two bytes excepted).
struct RecordHead {
  bool complete = false;  // false: read more (fewer than 5 bytes, or an alert without its body)
  uint8_t type = 0;
  uint16_t version = 0;
  uint16_t length = 0;
  uint8_t alert_level = 0;        // type kContentAlert only
  uint8_t alert_description = 0;  // type kContentAlert only
};

// Malformed: a type outside 20..24, a version whose major byte is not 3, a length of 0 or more
// than 2^14 + 2048 (RFC 5246 §6.2.3), an alert record shorter than 2 bytes.
[[nodiscard]] Result<RecordHead> ParseRecordHead(std::string_view bytes);

}  // namespace mailsec::tls
