#include "mailsec/checks/dkim.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "checks/text_util.h"
#include "mailsec/base/text.h"

namespace mailsec::checks {
namespace {

using internal::IsAlnum;
using internal::IsAlpha;
using internal::Join;
using internal::Quote;
using internal::Split;

struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// FWS as it survives in a TXT string (RFC 6376 §2.8): SP, HTAB, and the CR LF of a folded line.
bool IsFws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimFws(std::string_view s) {
  while (!s.empty() && IsFws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsFws(s.back())) s.remove_suffix(1);
  return s;
}

// Control bytes other than FWS, or DEL.
bool HasBadControl(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && !IsFws(c)) || u == 0x7f) return true;
  }
  return false;
}

// tag-name = ALPHA *ALNUMPUNC (RFC 6376 §3.2).
bool ValidTagName(std::string_view n) {
  if (n.empty() || !IsAlpha(n[0])) return false;
  for (char c : n) {
    if (!IsAlnum(c) && c != '_') return false;
  }
  return true;
}

// One tag=value of a tag-list; name and value trimmed of FWS.
struct Tag {
  std::string_view name;
  std::string_view value;
  bool has_equals = false;
};

// The non-empty segments of a tag-list, in order.
std::vector<Tag> SplitTags(std::string_view txt) {
  std::vector<Tag> tags;
  for (std::string_view seg : Split(txt, ';')) {
    seg = TrimFws(seg);
    if (seg.empty()) continue;
    size_t eq = seg.find('=');
    Tag t;
    t.name = TrimFws(seg.substr(0, eq));
    if (eq != std::string_view::npos) {
      t.has_equals = true;
      t.value = TrimFws(seg.substr(eq + 1));
    }
    tags.push_back(t);
  }
  return tags;
}

// A colon-separated list (h=, t=), each element trimmed of FWS; empty elements are an error.
Result<std::vector<std::string>> ParseColonList(std::string_view tag, std::string_view v,
                                                bool lower) {
  std::vector<std::string> out;
  for (std::string_view item : Split(v, ':')) {
    item = TrimFws(item);
    if (item.empty()) return Status::Malformed(std::string(tag) + ": empty list element");
    out.push_back(lower ? AsciiLower(item) : std::string(item));
  }
  return out;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict base64 (RFC 4648 §4) with FWS allowed anywhere and the padding optional.
Result<std::vector<uint8_t>> DecodeBase64(std::string_view in) {
  std::string s;
  s.reserve(in.size());
  for (char c : in) {
    if (!IsFws(c)) s.push_back(c);
  }
  size_t pad = 0;
  while (!s.empty() && s.back() == '=' && pad < 2) {
    s.pop_back();
    ++pad;
  }
  if (pad > 0 && (s.size() + pad) % 4 != 0) return Status::Malformed("p: bad base64 padding");
  if (s.size() % 4 == 1) return Status::Malformed("p: truncated base64");
  std::vector<uint8_t> out;
  out.reserve(s.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = Base64Value(c);
    if (v < 0) return Status::Malformed("p: bad base64 character " + Quote(std::string(1, c)));
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits of the last quantum must be zero (canonical encoding).
  if ((acc & ((1u << bits) - 1)) != 0) return Status::Malformed("p: non-canonical base64");
  return out;
}

// RSA public key bits from a DER SubjectPublicKeyInfo or, failing that, a bare PKCS#1
// RSAPublicKey; the whole input must be consumed.
Result<int> RsaKeyBits(const std::vector<uint8_t>& der) {
  const long len = static_cast<long>(der.size());
  const unsigned char* p = der.data();
  EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, len));
  if (key && p == der.data() + der.size()) {
    if (!EVP_PKEY_is_a(key.get(), "RSA")) {
      ERR_clear_error();
      return Status::Malformed(std::string("p: the key is ") + EVP_PKEY_get0_type_name(key.get()) +
                               ", not RSA as k= says");
    }
  } else {
    p = der.data();
    key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
    if (!key || p != der.data() + der.size()) {
      ERR_clear_error();
      return Status::Malformed("p: not a DER RSA public key (SubjectPublicKeyInfo or PKCS#1)");
    }
  }
  ERR_clear_error();
  return std::max(0, EVP_PKEY_get_bits(key.get()));
}

// True when the first tag is v=DKIM1, the version compared case-insensitively so that a
// misspelt "v=dkim1" is still taken as a key record (and then fails to parse, saying why).
bool StartsWithV1(const std::vector<Tag>& tags) {
  return !tags.empty() && tags[0].name == "v" && tags[0].has_equals &&
         EqualsIgnoreCase(tags[0].value, "DKIM1");
}

int Rank(CheckVerdict v) {
  switch (v) {
    case CheckVerdict::kPass:
      return 0;
    case CheckVerdict::kWarn:
      return 1;
    case CheckVerdict::kError:
      return 2;
    case CheckVerdict::kFail:
      return 3;
  }
  return 0;
}

std::string KeyDescription(const DkimKeyRecord& r) {
  if (r.key_type == "ed25519") return "ed25519";
  return "RSA " + std::to_string(r.key_bits) + " bits";
}

DkimSelectorResult AssessSelector(const DkimSelectorLookup& l) {
  DkimSelectorResult out;
  out.selector = l.selector;
  if (internal::LookupFailed(l.status)) {
    out.verdict = CheckVerdict::kError;
    out.detail = "lookup failed: " + l.status.ToString();
    return out;
  }
  out.verdict = CheckVerdict::kFail;
  if (!l.status.ok()) {
    out.detail = "no key record: the name does not exist (NXDOMAIN)";
    return out;
  }
  const size_t n = std::min(l.txts.size(), kMaxDkimTxtStrings);
  size_t candidates = 0;
  const std::string* record = nullptr;
  for (size_t i = 0; i < n; ++i) {
    if (LooksLikeDkimKeyRecord(l.txts[i])) {
      if (candidates++ == 0) record = &l.txts[i];
    }
  }
  if (candidates == 0) {
    out.detail = l.txts.empty()
                     ? "no key record: no TXT record at the name (NODATA)"
                     : "no key record among " + std::to_string(l.txts.size()) + " TXT string(s)";
    return out;
  }
  if (candidates > 1) {
    out.detail = std::to_string(candidates) + " key records: verifiers fail on several";
    return out;
  }
  Result<DkimKeyRecord> parsed = ParseDkimKeyRecord(*record);
  if (!parsed.ok()) {
    out.detail = "unparseable key record: " + parsed.status().message();
    return out;
  }
  const DkimKeyRecord& r = *parsed;
  out.present = true;
  out.key_bits = r.key_bits;
  out.key_type = r.key_type;
  out.testing = r.testing;
  out.revoked = r.revoked;

  std::vector<std::string> fails, warns;
  if (r.revoked) {
    fails.push_back("p= is empty: the key is revoked");
  } else if (r.key_type == "rsa" && r.key_bits < 1024) {
    fails.push_back(KeyDescription(r) + ": below 1024, verifiers MUST NOT accept it (RFC 8301)");
  } else if (r.key_type == "rsa" && r.key_bits < 2048) {
    warns.push_back(KeyDescription(r) + ": signers SHOULD use 2048 or more (RFC 8301 §3.2)");
  }
  if (!r.hashes.empty() &&
      std::find(r.hashes.begin(), r.hashes.end(), "sha256") == r.hashes.end()) {
    bool only_sha1 = std::all_of(r.hashes.begin(), r.hashes.end(),
                                 [](const std::string& h) { return h == "sha1"; });
    fails.push_back(only_sha1 ? "h= lists only sha1 (RFC 8301 §3.1)"
                              : "h= does not list sha256: " + Quote(Join(r.hashes)));
  }
  if (r.testing) warns.push_back("t=y: the domain is testing DKIM");
  if (!fails.empty()) {
    fails.insert(fails.end(), warns.begin(), warns.end());
    out.detail = Join(fails);
  } else if (!warns.empty()) {
    out.verdict = CheckVerdict::kWarn;
    out.detail = Join(warns);
  } else {
    out.verdict = CheckVerdict::kPass;
    out.detail = KeyDescription(r);
  }
  return out;
}

}  // namespace

Result<DkimKeyRecord> ParseDkimKeyRecord(std::string_view txt) {
  if (Status size = internal::CheckSize(txt, kMaxDkimRecordBytes, "record"); !size.ok()) {
    return size;
  }
  if (HasBadControl(txt)) return Status::Malformed("control character in record");
  DkimKeyRecord r;
  std::vector<std::string_view> seen;
  std::optional<std::string_view> p;
  for (const Tag& t : SplitTags(txt)) {
    if (!t.has_equals) return Status::Malformed("tag without '=': " + Quote(t.name));
    if (!ValidTagName(t.name)) return Status::Malformed("bad tag name " + Quote(t.name));
    if (std::find(seen.begin(), seen.end(), t.name) != seen.end()) {
      return Status::Malformed(std::string(t.name) + ": duplicate tag");
    }
    if (t.name == "v") {
      if (!seen.empty()) return Status::Malformed("v: must be the first tag");
      if (t.value != "DKIM1") {
        return Status::Malformed("v: version must be DKIM1, got " + Quote(t.value));
      }
      r.version = std::string(t.value);
    } else if (t.name == "h") {
      Result<std::vector<std::string>> h = ParseColonList("h", t.value, true);
      if (!h.ok()) return h.status();
      r.hashes = std::move(*h);
    } else if (t.name == "k") {
      std::string k = AsciiLower(t.value);
      if (k != "rsa" && k != "ed25519") {
        return Status::Malformed("k: unknown key type " + Quote(t.value));
      }
      r.key_type = std::move(k);
    } else if (t.name == "t") {
      if (!t.value.empty()) {
        Result<std::vector<std::string>> f = ParseColonList("t", t.value, false);
        if (!f.ok()) return f.status();
        r.flags = std::move(*f);
      }
      r.testing = std::find(r.flags.begin(), r.flags.end(), "y") != r.flags.end();
    } else if (t.name == "p") {
      p = t.value;
    }
    seen.push_back(t.name);
  }
  if (!p) return Status::Malformed("p: missing");
  Result<std::vector<uint8_t>> key = DecodeBase64(*p);
  if (!key.ok()) return key.status();
  if (key->empty()) {
    r.revoked = true;
    return r;
  }
  if (r.key_type == "ed25519") {
    if (key->size() != 32) {
      return Status::Malformed("p: an ed25519 key is 32 bytes, got " + std::to_string(key->size()));
    }
    r.key_bits = 256;
    return r;
  }
  Result<int> bits = RsaKeyBits(*key);
  if (!bits.ok()) return bits.status();
  r.key_bits = *bits;
  return r;
}

bool LooksLikeDkimKeyRecord(std::string_view txt) {
  std::vector<Tag> tags = SplitTags(txt.substr(0, kMaxDkimRecordBytes));
  if (StartsWithV1(tags)) return true;
  if (!tags.empty() && tags[0].name == "v") return false;
  return std::any_of(tags.begin(), tags.end(),
                     [](const Tag& t) { return t.name == "p" && t.has_equals; });
}

DkimAssessment AssessDkim(const DkimInputs& in) {
  DkimAssessment out;
  const std::string domain = internal::NormalizeName(TrimSpace(in.domain));

  // DKIM-02, per selector first: a present selector settles DKIM-01.
  const DkimSelectorResult* worst = nullptr;
  const DkimSelectorResult* found = nullptr;
  out.selectors.reserve(in.selectors.size());
  for (const DkimSelectorLookup& l : in.selectors) {
    out.selectors.push_back(AssessSelector(l));
  }
  for (const DkimSelectorResult& r : out.selectors) {
    if (worst == nullptr || Rank(r.verdict) > Rank(worst->verdict)) worst = &r;
    if (found == nullptr && r.present) found = &r;
  }

  // DKIM-01.
  if (!in.non_sending) {
    const std::string name = "_domainkey." + domain;
    if (found != nullptr) {
      out.findings.push_back(
          Finding{kDkimDomainkeyCheck, CheckVerdict::kPass,
                  "selector " + Printable(found->selector, 63) + " found under " + name});
    } else if (in.domainkey_status) {
      const Status& s = *in.domainkey_status;
      if (s.ok()) {
        out.findings.push_back(Finding{kDkimDomainkeyCheck, CheckVerdict::kPass, name + " exists"});
      } else if (!internal::LookupFailed(s)) {
        out.findings.push_back(
            Finding{kDkimDomainkeyCheck, CheckVerdict::kFail,
                    name + " does not exist (NXDOMAIN; some servers wrongly answer so for an "
                           "empty non-terminal)"});
      } else {
        out.findings.push_back(Finding{kDkimDomainkeyCheck, CheckVerdict::kError,
                                       "lookup of " + name + " failed: " + s.ToString()});
      }
    }
  }

  if (worst != nullptr) {
    std::string detail = "selector " + Printable(worst->selector, 63) + ": " + worst->detail;
    if (out.selectors.size() > 1) {
      detail += " (worst of " + std::to_string(out.selectors.size()) + " selectors)";
    }
    out.findings.push_back(Finding{kDkimKeyCheck, worst->verdict, std::move(detail)});
  }
  return out;
}

const std::vector<std::string_view>& DkimCheckIds() {
  static const std::vector<std::string_view> kIds = {kDkimDomainkeyCheck, kDkimKeyCheck};
  return kIds;
}

}  // namespace mailsec::checks
