#include "mailsec/dns/message.h"

#include <arpa/inet.h>

#include <cstdio>
#include <utility>

#include "dns/wire_reader.h"

namespace mailsec::dns {
namespace {

using internal::WireReader;

constexpr size_t kHeaderBytes = 12;

void AppendEscaped(std::span<const uint8_t> label, std::string* out) {
  for (uint8_t b : label) {
    if (b == '.' || b == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(b));
    } else if (b < 0x21 || b > 0x7e) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03u", static_cast<unsigned>(b));
      out->append(buf);
    } else {
      out->push_back(static_cast<char>(b));
    }
  }
}

// Reads a possibly compressed name at r's position into presentation form and leaves r after the
// name as it appears in place (after the first pointer, if any). Each pointer must point before
// the lowest offset read so far for this name, so pointers cannot loop; kMaxCompressionHops bounds
// the work of pointer chains.
Status ReadName(WireReader& r, std::string* out) {
  std::span<const uint8_t> msg = r.whole();
  size_t pos = r.pos();
  size_t limit = pos;
  size_t resume = 0;
  bool jumped = false;
  size_t wire_len = 0;
  int hops = 0;
  out->clear();
  for (;;) {
    if (pos >= msg.size()) return Status::Malformed("name runs past the end");
    const uint8_t len = msg[pos];
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= msg.size()) return Status::Malformed("truncated compression pointer");
      const size_t target = (size_t{len & 0x3fu} << 8) | msg[pos + 1];
      if (!jumped) {
        resume = pos + 2;
        jumped = true;
      }
      if (target >= limit) return Status::Malformed("compression pointer does not point back");
      if (++hops > kMaxCompressionHops) return Status::Malformed("too many compression pointers");
      limit = target;
      pos = target;
      continue;
    }
    if ((len & 0xc0) != 0) return Status::Malformed("unsupported label type");
    wire_len += 1 + size_t{len};
    if (wire_len > kMaxNameOctets) return Status::Malformed("name longer than 255 octets");
    if (len == 0) break;
    if (msg.size() - pos - 1 < len) return Status::Malformed("label runs past the end");
    if (!out->empty()) out->push_back('.');
    AppendEscaped(msg.subspan(pos + 1, len), out);
    pos += 1 + size_t{len};
  }
  if (out->empty()) *out = ".";
  if (!r.Seek(jumped ? resume : pos + 1)) return Status::Malformed("name runs past the end");
  return Status::Ok();
}

// Parses the rdata of a known type from r (a reader over the message cut at the end of the
// rdata, positioned at its start); the rdata must be consumed exactly.
Status ParseRdata(WireReader& r, RrType type, size_t rdlength, Rdata* out) {
  const size_t end = r.pos() + rdlength;
  auto need_exact = [&](const char* what) -> Status {
    if (r.pos() != end) return Status::Malformed(std::string(what) + " rdata has trailing bytes");
    return Status::Ok();
  };
  switch (type) {
    case RrType::kA: {
      if (rdlength != 4) return Status::Malformed("A rdata is not 4 bytes");
      AData a;
      std::span<const uint8_t> b;
      if (!r.Bytes(4, &b)) return Status::Malformed("A rdata short");
      std::copy(b.begin(), b.end(), a.address.begin());
      *out = a;
      return Status::Ok();
    }
    case RrType::kAaaa: {
      if (rdlength != 16) return Status::Malformed("AAAA rdata is not 16 bytes");
      AaaaData a;
      std::span<const uint8_t> b;
      if (!r.Bytes(16, &b)) return Status::Malformed("AAAA rdata short");
      std::copy(b.begin(), b.end(), a.address.begin());
      *out = a;
      return Status::Ok();
    }
    case RrType::kCname: {
      CnameData c;
      if (Status s = ReadName(r, &c.target); !s.ok()) return s;
      *out = std::move(c);
      return need_exact("CNAME");
    }
    case RrType::kPtr: {
      PtrData p;
      if (Status s = ReadName(r, &p.name); !s.ok()) return s;
      *out = std::move(p);
      return need_exact("PTR");
    }
    case RrType::kMx: {
      MxData m;
      if (!r.U16(&m.preference)) return Status::Malformed("MX rdata short");
      if (Status s = ReadName(r, &m.exchange); !s.ok()) return s;
      *out = std::move(m);
      return need_exact("MX");
    }
    case RrType::kTxt: {
      TxtData t;
      while (r.pos() < end) {
        uint8_t len = 0;
        std::span<const uint8_t> b;
        if (!r.U8(&len) || !r.Bytes(len, &b))
          return Status::Malformed("TXT string runs past rdata");
        t.strings.emplace_back(reinterpret_cast<const char*>(b.data()), b.size());
      }
      *out = std::move(t);
      return Status::Ok();
    }
    case RrType::kSrv: {
      SrvData s;
      if (!r.U16(&s.priority) || !r.U16(&s.weight) || !r.U16(&s.port)) {
        return Status::Malformed("SRV rdata short");
      }
      if (Status st = ReadName(r, &s.target); !st.ok()) return st;
      *out = std::move(s);
      return need_exact("SRV");
    }
    case RrType::kTlsa: {
      TlsaData t;
      std::span<const uint8_t> b;
      if (!r.U8(&t.usage) || !r.U8(&t.selector) || !r.U8(&t.matching_type)) {
        return Status::Malformed("TLSA rdata short");
      }
      if (!r.Bytes(end - r.pos(), &b)) return Status::Malformed("TLSA rdata short");
      t.data.assign(b.begin(), b.end());
      *out = std::move(t);
      return Status::Ok();
    }
    case RrType::kCaa: {
      CaaData c;
      uint8_t tag_len = 0;
      std::span<const uint8_t> tag, value;
      if (!r.U8(&c.flags) || !r.U8(&tag_len)) return Status::Malformed("CAA rdata short");
      if (tag_len == 0) return Status::Malformed("CAA tag is empty");
      if (!r.Bytes(tag_len, &tag)) return Status::Malformed("CAA tag runs past rdata");
      if (!r.Bytes(end - r.pos(), &value)) return Status::Malformed("CAA rdata short");
      c.tag.assign(reinterpret_cast<const char*>(tag.data()), tag.size());
      c.value.assign(reinterpret_cast<const char*>(value.data()), value.size());
      *out = std::move(c);
      return Status::Ok();
    }
    default: {
      std::span<const uint8_t> b;
      if (!r.Bytes(rdlength, &b)) return Status::Malformed("rdata short");
      *out = RawData{std::vector<uint8_t>(b.begin(), b.end())};
      return Status::Ok();
    }
  }
}

Status ReadRecord(WireReader& r, ResourceRecord* rr) {
  if (Status s = ReadName(r, &rr->name); !s.ok()) return s;
  uint16_t type = 0, rdlength = 0;
  if (!r.U16(&type) || !r.U16(&rr->rr_class) || !r.U32(&rr->ttl) || !r.U16(&rdlength)) {
    return Status::Malformed("record header short");
  }
  rr->type = static_cast<RrType>(type);
  if (r.remaining() < rdlength) return Status::Malformed("rdata runs past the end");
  const size_t start = r.pos();
  const size_t end = start + rdlength;
  // A reader cut at the end of the rdata: names in it can still reach earlier bytes through
  // (backward) pointers, but nothing can read past the rdata.
  WireReader sub(r.whole().first(end));
  if (!sub.Seek(start)) return Status::Malformed("rdata runs past the end");
  const bool typed = rr->rr_class == kClassIn || rr->type == RrType::kOpt;
  if (typed) {
    if (Status s = ParseRdata(sub, rr->type, rdlength, &rr->data); !s.ok()) {
      return Status::Malformed(RrTypeName(rr->type) + " record of " + rr->name + ": " +
                               s.message());
    }
  } else {
    if (Status s = ParseRdata(sub, static_cast<RrType>(0), rdlength, &rr->data); !s.ok()) return s;
  }
  if (!r.Seek(end)) return Status::Malformed("rdata runs past the end");
  return Status::Ok();
}

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Drops a final unescaped dot (an even number of backslashes before it).
std::string_view StripTrailingDot(std::string_view n) {
  if (n.empty() || n.back() != '.') return n;
  size_t backslashes = 0;
  for (size_t i = n.size() - 1; i > 0 && n[i - 1] == '\\'; --i) ++backslashes;
  if (backslashes % 2 == 0) n.remove_suffix(1);
  return n;
}

}  // namespace

std::string RrTypeName(RrType type) {
  switch (type) {
    case RrType::kA:
      return "A";
    case RrType::kNs:
      return "NS";
    case RrType::kCname:
      return "CNAME";
    case RrType::kSoa:
      return "SOA";
    case RrType::kPtr:
      return "PTR";
    case RrType::kMx:
      return "MX";
    case RrType::kTxt:
      return "TXT";
    case RrType::kAaaa:
      return "AAAA";
    case RrType::kSrv:
      return "SRV";
    case RrType::kOpt:
      return "OPT";
    case RrType::kDs:
      return "DS";
    case RrType::kRrsig:
      return "RRSIG";
    case RrType::kDnskey:
      return "DNSKEY";
    case RrType::kTlsa:
      return "TLSA";
    case RrType::kCaa:
      return "CAA";
  }
  return "TYPE" + std::to_string(static_cast<uint16_t>(type));
}

std::string AData::ToString() const {
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, address.data(), buf, sizeof buf);
  return buf;
}

std::string AaaaData::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, address.data(), buf, sizeof buf);
  return buf;
}

std::string TxtData::Joined() const {
  std::string out;
  for (const std::string& s : strings) out += s;
  return out;
}

bool SameName(std::string_view a, std::string_view b) {
  a = StripTrailingDot(a);
  b = StripTrailingDot(b);
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

Result<DnsMessage> ParseDnsMessage(std::span<const uint8_t> wire) {
  if (wire.size() > kMaxMessageBytes) return Status::Malformed("message larger than 65535 bytes");
  WireReader r(wire);
  DnsMessage m;
  uint16_t flags = 0, qd = 0, an = 0, ns = 0, ar = 0;
  if (!r.U16(&m.header.id) || !r.U16(&flags) || !r.U16(&qd) || !r.U16(&an) || !r.U16(&ns) ||
      !r.U16(&ar)) {
    return Status::Malformed("dns header shorter than 12 bytes");
  }
  m.header.qr = (flags & 0x8000) != 0;
  m.header.opcode = static_cast<uint8_t>((flags >> 11) & 0x0f);
  m.header.aa = (flags & 0x0400) != 0;
  m.header.tc = (flags & 0x0200) != 0;
  m.header.rd = (flags & 0x0100) != 0;
  m.header.ra = (flags & 0x0080) != 0;
  m.header.ad = (flags & 0x0020) != 0;
  m.header.cd = (flags & 0x0010) != 0;
  m.header.rcode = flags & 0x000f;
  if (size_t{qd} + an + ns + ar > kMaxRecords) return Status::Malformed("too many records");

  for (uint16_t i = 0; i < qd; ++i) {
    Question q;
    uint16_t type = 0;
    if (Status s = ReadName(r, &q.name); !s.ok())
      return Status::Malformed("question: " + s.message());
    if (!r.U16(&type) || !r.U16(&q.qclass)) return Status::Malformed("question short");
    q.type = static_cast<RrType>(type);
    m.questions.push_back(std::move(q));
  }
  auto read_section = [&](uint16_t count, std::vector<ResourceRecord>* out,
                          const char* section) -> Status {
    out->reserve(count);
    for (uint16_t i = 0; i < count; ++i) {
      ResourceRecord rr;
      if (Status s = ReadRecord(r, &rr); !s.ok()) {
        return Status::Malformed(std::string(section) + ": " + s.message());
      }
      out->push_back(std::move(rr));
    }
    return Status::Ok();
  };
  if (Status s = read_section(an, &m.answers, "answer"); !s.ok()) return s;
  if (Status s = read_section(ns, &m.authority, "authority"); !s.ok()) return s;
  std::vector<ResourceRecord> additional;
  if (Status s = read_section(ar, &additional, "additional"); !s.ok()) return s;
  for (ResourceRecord& rr : additional) {
    if (rr.type != RrType::kOpt) {
      m.additional.push_back(std::move(rr));
      continue;
    }
    if (m.edns) return Status::Malformed("more than one OPT record");
    if (rr.name != ".") return Status::Malformed("OPT record not owned by the root");
    Edns e;
    e.udp_payload = rr.rr_class;
    e.version = static_cast<uint8_t>((rr.ttl >> 16) & 0xff);
    e.dnssec_ok = (rr.ttl & 0x8000) != 0;
    m.header.rcode = static_cast<uint16_t>(((rr.ttl >> 24) << 4) | m.header.rcode);
    m.edns = e;
  }
  return m;
}

Result<std::vector<uint8_t>> BuildQuery(std::string_view name, RrType type, uint16_t id,
                                        bool dnssec_ok, bool checking_disabled) {
  std::vector<uint8_t> out = {
      static_cast<uint8_t>(id >> 8),
      static_cast<uint8_t>(id & 0xff),
      0x01,  // RD
      static_cast<uint8_t>(checking_disabled ? 0x30 : 0x20),  // AD (RFC 6840 §5.7), CD
      0x00,
      0x01,  // QDCOUNT
      0x00,
      0x00,  // ANCOUNT
      0x00,
      0x00,  // NSCOUNT
      0x00,
      0x01,  // ARCOUNT: the OPT record
  };
  // Encode the name label by label, resolving escapes.
  std::string label;
  size_t wire_len = 1;  // the root label
  auto flush = [&]() -> bool {
    if (label.empty() || label.size() > kMaxLabelOctets) return false;
    wire_len += 1 + label.size();
    if (wire_len > kMaxNameOctets) return false;
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    label.clear();
    return true;
  };
  const std::string bad = "cannot encode name \"" + std::string(name.substr(0, 64)) + "\"";
  if (name != ".") {
    for (size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      if (c == '\\') {
        if (i + 1 >= name.size()) return Status::InvalidArgument(bad + ": trailing backslash");
        const char n1 = name[i + 1];
        if (n1 >= '0' && n1 <= '9') {
          if (i + 3 >= name.size()) {
            return Status::InvalidArgument(bad + ": short \\DDD escape");
          }
          int v = 0;
          for (size_t k = 1; k <= 3; ++k) {
            const char d = name[i + k];
            if (d < '0' || d > '9') return Status::InvalidArgument(bad + ": bad \\DDD escape");
            v = v * 10 + (d - '0');
          }
          if (v > 255) return Status::InvalidArgument(bad + ": bad \\DDD escape");
          label.push_back(static_cast<char>(v));
          i += 3;
        } else {
          label.push_back(n1);
          i += 1;
        }
      } else if (c == '.') {
        if (!flush()) return Status::InvalidArgument(bad + ": empty or over-long label");
        if (i + 1 == name.size()) break;  // the trailing dot
      } else {
        label.push_back(c);
      }
      if (label.size() > kMaxLabelOctets) {
        return Status::InvalidArgument(bad + ": label longer than 63 octets");
      }
    }
    if (!label.empty() && !flush()) {
      return Status::InvalidArgument(bad + ": name longer than 255 octets");
    }
  }
  out.push_back(0);
  const auto t = static_cast<uint16_t>(type);
  out.insert(out.end(), {static_cast<uint8_t>(t >> 8), static_cast<uint8_t>(t & 0xff), 0x00,
                         static_cast<uint8_t>(kClassIn)});
  // OPT: root owner, type 41, class = UDP payload, TTL = ext-rcode 0, version 0, DO flag.
  out.insert(out.end(), {0x00, 0x00, 0x29, static_cast<uint8_t>(kEdnsUdpPayload >> 8),
                         static_cast<uint8_t>(kEdnsUdpPayload & 0xff), 0x00, 0x00,
                         static_cast<uint8_t>(dnssec_ok ? 0x80 : 0x00), 0x00, 0x00, 0x00});
  return out;
}

}  // namespace mailsec::dns
