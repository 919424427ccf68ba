#include "mailsec/tls/hello.h"

#include <algorithm>

#include "mailsec/tls/cipher_suites.h"
#include "tls/wire.h"

namespace mailsec::tls {
namespace {

using wire::Cursor;
using wire::Put16;
using wire::Put24;
using wire::Put8;

// An extension: type, then its body with a 16-bit length.
void PutExtension(std::string* s, unsigned type, const std::string& body) {
  Put16(s, type);
  Put16(s, static_cast<unsigned>(body.size()));
  s->append(body);
}

// A signature_algorithms body: `grease` first when not 0, then `algs`.
template <size_t N>
std::string SignatureAlgorithms(const uint16_t (&algs)[N], uint16_t grease) {
  std::string sigs;
  Put16(&sigs, static_cast<unsigned>((N + (grease != 0 ? 1 : 0)) * 2));
  if (grease != 0) Put16(&sigs, grease);
  for (uint16_t a : algs) Put16(&sigs, a);
  return sigs;
}

constexpr SuiteInfo kWeak[] = {
    // NULL encryption
    {0x0001, "TLS_RSA_WITH_NULL_MD5", "NULL-MD5", WeakKind::kNull},
    {0x0002, "TLS_RSA_WITH_NULL_SHA", "NULL-SHA", WeakKind::kNull},
    {0x003B, "TLS_RSA_WITH_NULL_SHA256", "NULL-SHA256", WeakKind::kNull},
    {0xC001, "TLS_ECDH_ECDSA_WITH_NULL_SHA", "ECDH-ECDSA-NULL-SHA", WeakKind::kNull},
    {0xC006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", "ECDHE-ECDSA-NULL-SHA", WeakKind::kNull},
    {0xC00B, "TLS_ECDH_RSA_WITH_NULL_SHA", "ECDH-RSA-NULL-SHA", WeakKind::kNull},
    {0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA", "ECDHE-RSA-NULL-SHA", WeakKind::kNull},
    {0xC015, "TLS_ECDH_anon_WITH_NULL_SHA", "AECDH-NULL-SHA", WeakKind::kNull},
    // anonymous (no authentication)
    {0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", "ADH-RC4-MD5", WeakKind::kAnonymous},
    {0x001A, "TLS_DH_anon_WITH_DES_CBC_SHA", "ADH-DES-CBC-SHA", WeakKind::kAnonymous},
    {0x001B, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", "ADH-DES-CBC3-SHA", WeakKind::kAnonymous},
    {0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", "ADH-AES128-SHA", WeakKind::kAnonymous},
    {0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA", "ADH-AES256-SHA", WeakKind::kAnonymous},
    {0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA", "ADH-CAMELLIA128-SHA", WeakKind::kAnonymous},
    {0x006C, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", "ADH-AES128-SHA256", WeakKind::kAnonymous},
    {0x006D, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", "ADH-AES256-SHA256", WeakKind::kAnonymous},
    {0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", "ADH-CAMELLIA256-SHA", WeakKind::kAnonymous},
    {0x00A6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", "ADH-AES128-GCM-SHA256", WeakKind::kAnonymous},
    {0x00A7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", "ADH-AES256-GCM-SHA384", WeakKind::kAnonymous},
    {0xC016, "TLS_ECDH_anon_WITH_RC4_128_SHA", "AECDH-RC4-SHA", WeakKind::kAnonymous},
    {0xC017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", "AECDH-DES-CBC3-SHA", WeakKind::kAnonymous},
    {0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", "AECDH-AES128-SHA", WeakKind::kAnonymous},
    {0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "AECDH-AES256-SHA", WeakKind::kAnonymous},
    {0x009B, "TLS_DH_anon_WITH_SEED_CBC_SHA", "ADH-SEED-SHA", WeakKind::kAnonymous},
    // EXPORT grade
    {0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "EXP-RC4-MD5", WeakKind::kExport},
    {0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", "EXP-RC2-CBC-MD5", WeakKind::kExport},
    {0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXP-DES-CBC-SHA", WeakKind::kExport},
    {0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", "EXP-EDH-DSS-DES-CBC-SHA", WeakKind::kExport},
    {0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXP-EDH-RSA-DES-CBC-SHA", WeakKind::kExport},
    {0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", "EXP-ADH-RC4-MD5", WeakKind::kExport},
    {0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", "EXP-ADH-DES-CBC-SHA", WeakKind::kExport},
    {0x0062, "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", "EXP1024-DES-CBC-SHA", WeakKind::kExport},
    {0x0064, "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA", "EXP1024-RC4-SHA", WeakKind::kExport},
    // RC4
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RC4-MD5", WeakKind::kRc4},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA", WeakKind::kRc4},
    {0x0066, "TLS_DHE_DSS_WITH_RC4_128_SHA", "DHE-DSS-RC4-SHA", WeakKind::kRc4},
    {0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA", WeakKind::kRc4},
    {0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA", WeakKind::kRc4},
    // single DES
    {0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "DES-CBC-SHA", WeakKind::kDes},
    {0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA", "EDH-DSS-DES-CBC-SHA", WeakKind::kDes},
    {0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", "EDH-RSA-DES-CBC-SHA", WeakKind::kDes},
    // 3DES (SWEET32)
    {0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", WeakKind::k3Des},
    {0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "EDH-DSS-DES-CBC3-SHA", WeakKind::k3Des},
    {0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "EDH-RSA-DES-CBC3-SHA", WeakKind::k3Des},
    {0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-ECDSA-DES-CBC3-SHA", WeakKind::k3Des},
    {0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA", WeakKind::k3Des},
    // IDEA (64-bit blocks, SWEET32)
    {0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", "IDEA-CBC-SHA", WeakKind::kIdea},
};
static_assert(std::size(kWeak) <= kMaxSuitesPerHello);

constexpr uint16_t kCommon[] = {
    0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,  // ECDHE AEAD (TLS 1.2)
    0xC009, 0xC013, 0xC00A, 0xC014,                  // ECDHE CBC-SHA
    0x009E, 0x009F, 0x0033, 0x0039,                  // DHE
    0x009C, 0x009D, 0x002F, 0x0035, 0x003C, 0x003D,  // RSA key transport
    0x0041, 0x0084, 0x0096,                          // CAMELLIA, SEED
    0x000A, 0x0016, 0xC012, 0x0005, 0x0004, 0x0009,  // 3DES, RC4, DES: SSLv3-era servers
    0x00FF,                                          // TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746)
};

// SSLv2 cipher kinds (RFC-less; the SSL 2.0 draft, appendix C).
constexpr uint32_t kSsl2Kinds[] = {
    0x010080,  // SSL_CK_RC4_128_WITH_MD5
    0x020080,  // SSL_CK_RC4_128_EXPORT40_WITH_MD5
    0x030080,  // SSL_CK_RC2_128_CBC_WITH_MD5
    0x040080,  // SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5
    0x050080,  // SSL_CK_IDEA_128_CBC_WITH_MD5
    0x060040,  // SSL_CK_DES_64_CBC_WITH_MD5
    0x0700C0,  // SSL_CK_DES_192_EDE3_CBC_WITH_MD5
};

constexpr uint8_t kHandshakeServerHello = 2;
constexpr uint8_t kHandshakeServerKeyExchange = 12;
constexpr uint8_t kHandshakeServerHelloDone = 14;
constexpr uint8_t kCurveTypeNamed = 3;  // RFC 8422 §5.4 ECCurveType named_curve
// The largest record a server may send (RFC 5246 §6.2.3: 2^14 plus expansion), and the most
// payload bytes a heartbeat request of ours carries.
constexpr size_t kMaxRecordLength = (1 << 14) + 2048;
constexpr size_t kMaxHeartbeatPayload = 64;
constexpr uint8_t kHeartbeatRequest = 1;

constexpr uint16_t kExtHeartbeat = 0x000f;
constexpr uint16_t kExtExtendedMasterSecret = 0x0017;
constexpr uint16_t kExtSupportedVersions = 0x002b;
constexpr uint16_t kExtKeyShare = 0x0033;
constexpr uint16_t kExtPadding = 0x0015;  // RFC 7685
constexpr uint16_t kExtRenegotiationInfo = 0xff01;

// SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest (RFC 8446 §4.1.3).
constexpr uint8_t kHelloRetryRandom[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

// The body of a complete ServerHello message (after its 4-byte header): the fixed fields and the
// extensions, each checked against what is left of the body.
Status ParseServerHelloBody(std::string_view body, ServerReply* reply) {
  Cursor b(body);
  uint8_t sid_len = 0;
  std::string_view random;
  if (!b.U16(&reply->version) || !b.Bytes(32, &random) || !b.U8(&sid_len)) {
    return Status::Malformed("ServerHello truncated");
  }
  if (sid_len > 32) return Status::Malformed("ServerHello session id longer than 32");
  if (!b.Skip(sid_len) || !b.U16(&reply->cipher) || !b.U8(&reply->compression)) {
    return Status::Malformed("ServerHello truncated");
  }
  reply->hello_retry_request =
      std::equal(random.begin(), random.end(), std::begin(kHelloRetryRandom),
                 [](char got, uint8_t want) { return static_cast<uint8_t>(got) == want; });
  if (b.left() == 0) return Status::Ok();  // no extensions (SSLv3, or none offered)
  uint16_t ext_len = 0;
  if (!b.U16(&ext_len) || ext_len != b.left()) {
    return Status::Malformed("ServerHello extensions length does not match the message");
  }
  uint16_t seen[kMaxServerHelloExtensions];
  size_t count = 0;
  while (b.left() > 0) {
    uint16_t type = 0, len = 0;
    std::string_view data;
    if (!b.U16(&type) || !b.U16(&len) || !b.Bytes(len, &data)) {
      return Status::Malformed("ServerHello extension overruns the message");
    }
    if (count == kMaxServerHelloExtensions) {
      return Status::Malformed("more than " + std::to_string(kMaxServerHelloExtensions) +
                               " ServerHello extensions");
    }
    if (std::find(seen, seen + count, type) != seen + count) {
      return Status::Malformed("ServerHello extension " + std::to_string(type) + " twice");
    }
    seen[count++] = type;
    Cursor e(data);
    switch (type) {
      case kExtRenegotiationInfo: {
        uint8_t n = 0;  // renegotiated_connection<0..255>
        if (!e.U8(&n) || e.left() != n) return Status::Malformed("bad renegotiation_info");
        reply->renegotiation_info = true;
        break;
      }
      case kExtHeartbeat: {
        uint8_t mode = 0;  // peer_allowed_to_send (1) or peer_not_allowed_to_send (2)
        if (!e.U8(&mode) || e.left() != 0 || (mode != 1 && mode != 2)) {
          return Status::Malformed("bad heartbeat extension");
        }
        reply->heartbeat = true;
        break;
      }
      case kExtExtendedMasterSecret:
        if (len != 0) return Status::Malformed("extended_master_secret is not empty");
        reply->extended_master_secret = true;
        break;
      case kExtSupportedVersions:
        if (len != 2 || !e.U16(&reply->selected_version)) {
          return Status::Malformed("bad supported_versions");
        }
        break;
      case kExtKeyShare: {
        // HelloRetryRequest: selected_group; ServerHello: a KeyShareEntry.
        uint16_t key_len = 0;
        if (!e.U16(&reply->key_share_group)) return Status::Malformed("bad key_share");
        if (e.left() != 0 && (!e.U16(&key_len) || key_len == 0 || e.left() != key_len)) {
          return Status::Malformed("bad key_share");
        }
        break;
      }
      default:
        break;  // not ours to judge
    }
  }
  return Status::Ok();
}

}  // namespace

std::string VersionName(uint16_t v) {
  switch (v) {
    case kSsl2:
      return "SSLv2";
    case kSsl3:
      return "SSLv3";
    case kTls10:
      return "TLSv1";
    case kTls11:
      return "TLSv1.1";
    case kTls12:
      return "TLSv1.2";
    case kTls13:
      return "TLSv1.3";
  }
  static const char kHex[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 12; shift >= 0; shift -= 4) s.push_back(kHex[(v >> shift) & 0xf]);
  return s;
}

std::string_view WeakKindName(WeakKind k) {
  switch (k) {
    case WeakKind::kNull:
      return "NULL";
    case WeakKind::kAnonymous:
      return "anonymous";
    case WeakKind::kExport:
      return "EXPORT";
    case WeakKind::kRc4:
      return "RC4";
    case WeakKind::kDes:
      return "DES";
    case WeakKind::kIdea:
      return "IDEA";
    case WeakKind::k3Des:
      return "3DES";
  }
  return "?";
}

std::span<const SuiteInfo> WeakSuites() { return kWeak; }

const SuiteInfo* FindWeakSuite(uint16_t id) {
  for (const SuiteInfo& s : kWeak) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::span<const uint16_t> CommonSuites() { return kCommon; }

Result<std::string> BuildClientHello(const HelloSpec& spec) {
  if (spec.version < kSsl3 || spec.version > kTls13) {
    return Status::InvalidArgument("hello version " + VersionName(spec.version) +
                                   " is not SSLv3..TLSv1.3");
  }
  if (spec.groups.size() > kMaxGroupsPerHello) {
    return Status::InvalidArgument("hello needs at most " + std::to_string(kMaxGroupsPerHello) +
                                   " groups");
  }
  const bool tls13 = spec.version == kTls13;
  const size_t max_suites = spec.many_suites ? kMaxSuitesRobustHello : kMaxSuitesPerHello;
  if (spec.suites.empty() || spec.suites.size() > max_suites) {
    return Status::InvalidArgument("hello needs 1.." + std::to_string(max_suites) + " suites");
  }
  if (spec.sni.size() > 253) return Status::InvalidArgument("server name too long");
  if (spec.pad_to > kMaxPaddedHello) return Status::InvalidArgument("padding too long");
  if (spec.record_version != 0 && (spec.record_version >> 8) != 3) {
    return Status::InvalidArgument("record version is not 0x03xx");
  }
  if (spec.client_version != 0 &&
      ((spec.client_version >> 8) != 3 || spec.client_version < spec.version)) {
    return Status::InvalidArgument("client_version is not 0x03xx at or above the version");
  }
  // GREASE code points (RFC 8701 §2), one of each kind, distinct so a server cannot mix them up.
  constexpr uint16_t kGreaseSuite = 0x0a0a, kGreaseExtFirst = 0x1a1a, kGreaseExtLast = 0x2a2a,
                     kGreaseGroup = 0x3a3a, kGreaseSig = 0x4a4a, kGreaseVersion = 0x5a5a;

  std::string body;
  Put16(&body, tls13 ? kTls12 : spec.client_version != 0 ? spec.client_version : spec.version);
  body.append(reinterpret_cast<const char*>(spec.random.data()), spec.random.size());
  Put8(&body, 0);  // no session id
  Put16(&body, static_cast<unsigned>((spec.suites.size() + (spec.grease ? 1 : 0)) * 2));
  if (spec.grease) Put16(&body, kGreaseSuite);
  for (uint16_t s : spec.suites) Put16(&body, s);
  if (spec.offer_deflate) {
    Put8(&body, 2);
    Put8(&body, kCompressionDeflate);
    Put8(&body, kCompressionNull);
  } else {
    Put8(&body, 1);  // compression methods: null only
    Put8(&body, kCompressionNull);
  }

  if (spec.version >= kTls10) {
    std::string ext;
    if (spec.grease) PutExtension(&ext, kGreaseExtFirst, std::string());
    if (!spec.sni.empty()) {
      std::string sni;
      Put16(&sni, static_cast<unsigned>(spec.sni.size() + 3));
      Put8(&sni, 0);  // host_name
      Put16(&sni, static_cast<unsigned>(spec.sni.size()));
      sni.append(spec.sni);
      PutExtension(&ext, 0x0000, sni);
    }
    // supported_groups (ECDHE/AECDH suites need one; TLS 1.3 takes its group from it).
    std::vector<uint16_t> group_list = spec.groups;
    if (group_list.empty()) {
      group_list = {0x001d, 0x0017, 0x0018, 0x0019};  // x25519, secp256r1, secp384r1, secp521r1
      if (tls13)
        group_list.insert(group_list.end(), {0x001e, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104});
    }
    if (spec.grease) group_list.insert(group_list.begin(), kGreaseGroup);
    std::string groups;
    Put16(&groups, static_cast<unsigned>(group_list.size() * 2));
    for (uint16_t g : group_list) Put16(&groups, g);
    PutExtension(&ext, 0x000a, groups);
    if (!tls13) {
      PutExtension(&ext, 0x000b, std::string("\x01\x00", 2));  // ec_point_formats: uncompressed
    }
    if (tls13) {
      // signature_algorithms: ECDSA, RSA-PSS, EdDSA, then PKCS#1 (certificates only).
      const uint16_t kSigs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806,
                                0x0807, 0x0808, 0x0401, 0x0501, 0x0601};
      PutExtension(&ext, 0x000d, SignatureAlgorithms(kSigs, spec.grease ? kGreaseSig : 0));
      std::string versions;
      Put8(&versions, spec.grease ? 4 : 2);
      if (spec.grease) Put16(&versions, kGreaseVersion);
      Put16(&versions, kTls13);
      PutExtension(&ext, kExtSupportedVersions, versions);
      PutExtension(&ext, kExtKeyShare, std::string("\x00\x00", 2));  // no shares: ask for HRR
    } else if (spec.version == kTls12) {
      // signature_algorithms: ECDSA/RSA-PSS/RSA with SHA-256/384/512, then SHA-1 (old servers).
      const uint16_t kSigs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806,
                                0x0401, 0x0501, 0x0601, 0x0203, 0x0201};
      PutExtension(&ext, 0x000d, SignatureAlgorithms(kSigs, spec.grease ? kGreaseSig : 0));
    }
    if (!tls13) {
      PutExtension(&ext, kExtExtendedMasterSecret, std::string());        // RFC 7627: empty
      PutExtension(&ext, kExtRenegotiationInfo, std::string("\x00", 1));  // initial: empty
    }
    if (!tls13 && spec.offer_heartbeat) {
      PutExtension(&ext, kExtHeartbeat, std::string("\x01", 1));  // peer_allowed_to_send
    }
    if (spec.grease) PutExtension(&ext, kGreaseExtLast, std::string("\x00", 1));
    // The handshake message is 4 + body + 2 + ext bytes; the padding extension adds 4 + n.
    const size_t so_far = 4 + body.size() + 2 + ext.size();
    if (spec.pad_to >= so_far + 4) {
      PutExtension(&ext, kExtPadding, std::string(spec.pad_to - so_far - 4, '\0'));
    }
    Put16(&body, static_cast<unsigned>(ext.size()));
    body.append(ext);
  }

  std::string hs;
  Put8(&hs, 1);  // client_hello
  Put24(&hs, body.size());
  hs.append(body);

  std::string record;
  Put8(&record, kContentHandshake);
  // The record layer version of a first ClientHello: TLS 1.0 for any TLS hello (RFC 5246
  // appendix E.1: some servers refuse higher ones), 0x0300 for SSLv3; unless asked otherwise.
  Put16(&record,
        spec.record_version != 0 ? spec.record_version : std::min<uint16_t>(spec.version, kTls10));
  Put16(&record, static_cast<unsigned>(hs.size()));
  record.append(hs);
  return record;
}

std::string BuildSsl2ClientHello(const std::array<uint8_t, 32>& random) {
  std::string body;
  Put8(&body, 1);  // CLIENT-HELLO
  Put16(&body, kSsl2);
  Put16(&body, static_cast<unsigned>(std::size(kSsl2Kinds) * 3));
  Put16(&body, 0);   // session id length
  Put16(&body, 16);  // challenge length
  for (uint32_t k : kSsl2Kinds) {
    Put8(&body, k >> 16);
    Put16(&body, k & 0xffff);
  }
  body.append(reinterpret_cast<const char*>(random.data()), 16);
  std::string record;
  Put16(&record, 0x8000 | static_cast<unsigned>(body.size()));  // 2-byte header, no padding
  record.append(body);
  return record;
}

Result<ServerReply> ParseServerReply(std::string_view bytes) {
  if (bytes.size() > kMaxServerReplyBytes) bytes = bytes.substr(0, kMaxServerReplyBytes);
  const bool capped = bytes.size() == kMaxServerReplyBytes;
  ServerReply reply;
  if (bytes.empty()) return reply;  // incomplete
  const uint8_t first = static_cast<uint8_t>(bytes[0]);

  if ((first & 0x80) != 0) {
    // SSLv2 record with a 2-byte header: length (15 bits), then the message.
    Cursor c(bytes);
    uint16_t header = 0;
    uint8_t type = 0;
    if (!c.U16(&header) || !c.U8(&type)) return reply;
    const size_t length = header & 0x7fff;
    if (type == 0) {  // ERROR: a 2-byte error code
      uint16_t code = 0;
      if (length < 3) return Status::Malformed("SSLv2 error message too short");
      if (!c.U16(&code)) return reply;
      reply.kind = ServerReply::Kind::kAlert;
      reply.alert_level = 2;
      reply.alert_description = static_cast<uint8_t>(code & 0xff);
      return reply;
    }
    if (type != 4) return Status::Malformed("SSLv2 record is not a SERVER-HELLO");
    if (length < 11) return Status::Malformed("SSLv2 SERVER-HELLO too short");
    uint8_t session_id_hit = 0, cert_type = 0;
    uint16_t version = 0, cert_len = 0, specs_len = 0, conn_id_len = 0;
    if (!c.U8(&session_id_hit) || !c.U8(&cert_type) || !c.U16(&version) || !c.U16(&cert_len) ||
        !c.U16(&specs_len) || !c.U16(&conn_id_len)) {
      return reply;
    }
    if (size_t{11} + cert_len + specs_len + conn_id_len > length) {
      return Status::Malformed("SSLv2 SERVER-HELLO lengths exceed the record");
    }
    std::string_view certificate;
    if (!c.Bytes(cert_len, &certificate) && !capped) {
      return ServerReply{};  // the certificate is still arriving
    }
    reply.kind = ServerReply::Kind::kSsl2ServerHello;
    reply.version = version;
    reply.ssl2_cipher_count = specs_len / 3;
    if (cert_type == 1) reply.ssl2_certificate = std::string(certificate);  // SSL_CT_X509
    return reply;
  }

  // TLS records: gather the handshake bytes of leading handshake records until the whole
  // ServerHello message is in (RFC 5246 §6.2.1 allows a message to span records).
  Cursor c(bytes);
  std::string hs;
  while (c.left() > 0) {
    uint8_t type = 0;
    uint16_t version = 0, length = 0;
    if (!c.U8(&type)) break;
    if (type != kContentHandshake && type != kContentAlert) {
      return Status::Malformed("not a TLS answer (record type " + std::to_string(type) + ")");
    }
    if (!c.U16(&version) || !c.U16(&length)) break;
    if ((version >> 8) != 3) return Status::Malformed("not a TLS record version");
    if (length == 0 || length > kMaxRecordLength) {
      return Status::Malformed("bad TLS record length " + std::to_string(length));
    }
    std::string_view fragment;
    const bool whole = c.Bytes(length, &fragment);
    if (type == kContentAlert) {
      if (!hs.empty()) return Status::Malformed("alert in the middle of the ServerHello");
      if (!whole) {
        if (c.left() < 2) break;  // wait for the two alert bytes
        if (!c.Bytes(2, &fragment)) break;
      }
      Cursor a(fragment);
      if (!a.U8(&reply.alert_level) || !a.U8(&reply.alert_description)) {
        return Status::Malformed("alert record too short");
      }
      reply.kind = ServerReply::Kind::kAlert;
      return reply;
    }
    if (!whole) {
      if (!c.Bytes(c.left(), &fragment)) break;
      hs.append(fragment);
      break;
    }
    hs.append(fragment);
    if (hs.size() >= 4) {
      const size_t need =
          4 + ((size_t{static_cast<uint8_t>(hs[1])} << 16) |
               (size_t{static_cast<uint8_t>(hs[2])} << 8) | static_cast<uint8_t>(hs[3]));
      if (hs.size() >= need) break;  // the whole first message; what follows is not ours
    }
  }
  if (hs.empty()) {
    if (capped) return Status::Malformed("no ServerHello within the size limit");
    return reply;
  }
  Cursor h(hs);
  uint8_t msg = 0;
  if (!h.U8(&msg)) return reply;
  if (msg != kHandshakeServerHello) {
    return Status::Malformed("first handshake message is type " + std::to_string(msg) +
                             ", not ServerHello");
  }
  uint8_t l1 = 0;
  uint16_t l2 = 0;
  if (!h.U8(&l1) || !h.U16(&l2)) {
    if (capped) return Status::Malformed("ServerHello cut by the size limit");
    return reply;
  }
  const size_t body_len = (size_t{l1} << 16) | l2;
  if (body_len < 2 + 32 + 1 + 2 + 1) return Status::Malformed("ServerHello too short");
  std::string_view body;
  if (!h.Bytes(body_len, &body)) {
    if (capped) return Status::Malformed("ServerHello cut by the size limit");
    return reply;
  }
  Status parsed = ParseServerHelloBody(body, &reply);
  if (!parsed.ok()) return parsed;
  reply.kind = ServerReply::Kind::kServerHello;
  return reply;
}

namespace {

// The whole handshake messages in hs[*at..]: the first must be a ServerHello below TLS 1.3, the
// flight ends with an empty ServerHelloDone that ends hs too. *done when it did.
Status ReadFlightMessages(std::string_view hs, size_t* at, ServerFlight* flight, bool* done) {
  while (hs.size() - *at >= 4) {
    Cursor m(hs.substr(*at));
    uint8_t type = 0, l1 = 0;
    uint16_t l2 = 0;
    if (!m.U8(&type) || !m.U8(&l1) || !m.U16(&l2)) break;
    const size_t len = (size_t{l1} << 16) | l2;
    if (len > kMaxServerFlightBytes) return Status::Malformed("handshake message too long");
    std::string_view body;
    if (!m.Bytes(len, &body)) break;  // the rest is in a later record
    if (++flight->messages > kMaxServerFlightMessages) {
      return Status::Malformed("more than " + std::to_string(kMaxServerFlightMessages) +
                               " handshake messages before ServerHelloDone");
    }
    *at += 4 + len;
    if (flight->messages == 1) {
      if (type != kHandshakeServerHello) {
        return Status::Malformed("first handshake message is type " + std::to_string(type) +
                                 ", not ServerHello");
      }
      if (len < 2 + 32 + 1 + 2 + 1) return Status::Malformed("ServerHello too short");
      Status parsed = ParseServerHelloBody(body, &flight->hello);
      if (!parsed.ok()) return parsed;
      flight->hello.kind = ServerReply::Kind::kServerHello;
      if (flight->hello.NegotiatedVersion() >= kTls13 || flight->hello.hello_retry_request) {
        return Status::Malformed("a TLS 1.3 ServerHello: the rest of the flight is encrypted");
      }
    } else if (type == kHandshakeServerHello) {
      return Status::Malformed("a second ServerHello");
    } else if (type == kHandshakeServerHelloDone) {
      if (len != 0) return Status::Malformed("ServerHelloDone is not empty");
      if (*at != hs.size()) return Status::Malformed("handshake bytes after ServerHelloDone");
      *done = true;
      return Status::Ok();
    }
    if (type == kHandshakeServerKeyExchange && body.size() >= 3 &&
        static_cast<uint8_t>(body[0]) == kCurveTypeNamed) {
      // Only an ECDHE suite's ServerKeyExchange starts with ECParameters; a DHE one starts with
      // the length of p, whose first byte may be 3 as well.
      const CipherSuite* suite = FindCipherSuite(flight->hello.cipher);
      if (suite != nullptr && suite->iana.starts_with("TLS_ECDHE_")) {
        flight->ske_named_group =
            (static_cast<uint8_t>(body[1]) << 8) | static_cast<uint8_t>(body[2]);
      }
    }
    // Certificate, CertificateStatus, CertificateRequest: not ours to judge.
  }
  return Status::Ok();
}

}  // namespace

Result<ServerFlight> ParseServerFlight(std::string_view bytes) {
  const bool capped = bytes.size() >= kMaxServerFlightBytes;
  if (capped) bytes = bytes.substr(0, kMaxServerFlightBytes);
  ServerFlight flight;
  std::string hs;  // the handshake bytes of the records so far
  size_t at = 0;   // where the next handshake message starts in hs
  size_t pos = 0;  // where the next record starts in bytes
  while (pos < bytes.size()) {
    Result<RecordHead> head = ParseRecordHead(bytes.substr(pos));
    if (!head.ok()) return head.status();
    if (!head->complete) break;
    if (head->type == kContentAlert) {
      flight.kind = ServerFlight::Kind::kAlert;
      flight.alert_level = head->alert_level;
      flight.alert_description = head->alert_description;
      return flight;
    }
    if (head->type != kContentHandshake) {
      return Status::Malformed("record type " + std::to_string(head->type) +
                               " before ServerHelloDone");
    }
    if (bytes.size() - pos - 5 < head->length) break;  // the record's body is still coming
    hs.append(bytes.substr(pos + 5, head->length));
    pos += 5 + head->length;
    bool done = false;
    Status s = ReadFlightMessages(hs, &at, &flight, &done);
    if (!s.ok()) return s;
    if (done) {
      flight.kind = ServerFlight::Kind::kDone;
      flight.consumed = pos;
      return flight;
    }
  }
  if (capped) return Status::Malformed("no ServerHelloDone within the size limit");
  return flight;
}

std::string BuildHeartbeatRequest(uint16_t version, uint16_t claimed_length,
                                  std::string_view payload) {
  payload = payload.substr(0, kMaxHeartbeatPayload);
  std::string record;
  Put8(&record, kContentHeartbeat);
  Put16(&record, version);
  Put16(&record, static_cast<unsigned>(1 + 2 + payload.size()));
  Put8(&record, kHeartbeatRequest);
  Put16(&record, claimed_length);
  record.append(payload);
  return record;
}

std::string BuildChangeCipherSpec(uint16_t version) {
  std::string record;
  Put8(&record, kContentChangeCipherSpec);
  Put16(&record, version);
  Put16(&record, 1);
  Put8(&record, 1);  // change_cipher_spec (RFC 5246 §7.1)
  return record;
}

Result<RecordHead> ParseRecordHead(std::string_view bytes) {
  RecordHead head;
  Cursor c(bytes);
  if (!c.U8(&head.type) || !c.U16(&head.version) || !c.U16(&head.length)) return head;
  if (head.type < kContentChangeCipherSpec || head.type > kContentHeartbeat) {
    return Status::Malformed("not a TLS record (type " + std::to_string(head.type) + ")");
  }
  if ((head.version >> 8) != 3) return Status::Malformed("not a TLS record version");
  if (head.length == 0 || head.length > kMaxRecordLength) {
    return Status::Malformed("bad TLS record length " + std::to_string(head.length));
  }
  if (head.type == kContentAlert) {
    if (head.length < 2) return Status::Malformed("alert record too short");
    if (!c.U8(&head.alert_level) || !c.U8(&head.alert_description)) return head;
  }
  head.complete = true;
  return head;
}

}  // namespace mailsec::tls
