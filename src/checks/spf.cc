// SPF record syntax: RFC 7208 §12 ABNF, read strictly over untrusted TXT text.
#include "mailsec/checks/spf.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checks/text_util.h"
#include "mailsec/base/text.h"

namespace mailsec::checks {
namespace {

using internal::IsAlnum;
using internal::IsAlpha;
using internal::IsDigit;

constexpr size_t kPrintTerm = 80;  // how much of a bad term an error quotes

bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// §7.1 macro-letter; c, r and t only in exp text (§7.2).
bool IsMacroLetter(char c, bool explanation) {
  switch (Lower(c)) {
    case 's':
    case 'l':
    case 'o':
    case 'd':
    case 'i':
    case 'p':
    case 'h':
    case 'v':
      return true;
    case 'c':
    case 'r':
    case 't':
      return explanation;
    default:
      return false;
  }
}

bool IsMacroDelimiter(char c) {
  return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

// macro-literal = %x21-24 / %x26-7E
bool IsMacroLiteral(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7e && c != '%';
}

// Reads one macro-expand at s[*i] == '%'. Advances *i past it.
Status ReadMacroExpand(std::string_view s, size_t* i, bool explanation) {
  size_t p = *i + 1;
  if (p >= s.size()) return Status::Malformed("'%' at the end");
  const char c = s[p];
  if (c == '%' || c == '_' || c == '-') {
    *i = p + 1;
    return Status::Ok();
  }
  if (c != '{') return Status::Malformed(std::string("'%") + c + "' is not a macro");
  ++p;
  if (p >= s.size()) return Status::Malformed("unterminated macro");
  if (!IsMacroLetter(s[p], explanation)) {
    const char l = Lower(s[p]);
    if (l == 'c' || l == 'r' || l == 't')
      return Status::Malformed(std::string("macro letter '") + s[p] +
                               "' is only allowed in exp text");
    return Status::Malformed("unknown macro letter '" + Printable(s.substr(p, 1)) + "'");
  }
  ++p;
  // transformers = *DIGIT [ "r" ]; a DIGIT transformer must be nonzero (§7.3).
  const size_t digits_begin = p;
  bool nonzero = false;
  while (p < s.size() && IsDigit(s[p])) {
    if (s[p] != '0') nonzero = true;
    ++p;
  }
  if (p > digits_begin && !nonzero) return Status::Malformed("macro transformer of zero parts");
  if (p < s.size() && Lower(s[p]) == 'r') ++p;
  while (p < s.size() && IsMacroDelimiter(s[p])) ++p;
  if (p >= s.size() || s[p] != '}') return Status::Malformed("malformed macro");
  *i = p + 1;
  return Status::Ok();
}

struct MacroScan {
  bool has_macros = false;
  bool ends_with_macro = false;
  size_t tail_begin = 0;  // start of the literal text after the last macro-expand
};

// Validates a macro-string (§7.1). `allow_space` for explain-strings.
Result<MacroScan> ScanMacroString(std::string_view s, bool explanation, bool allow_space) {
  MacroScan scan;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '%') {
      if (Status st = ReadMacroExpand(s, &i, explanation); !st.ok()) return st;
      scan.has_macros = true;
      scan.ends_with_macro = true;
      scan.tail_begin = i;
      continue;
    }
    if (!IsMacroLiteral(s[i]) && !(allow_space && s[i] == ' ')) {
      return Status::Malformed("invalid character '" + Printable(s.substr(i, 1)) + "'");
    }
    scan.ends_with_macro = false;
    ++i;
  }
  return scan;
}

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool IsTopLabel(std::string_view l) {
  if (l.empty() || !IsAlnum(l.front()) || !IsAlnum(l.back())) return false;
  bool alpha = false;
  bool hyphen = false;
  for (char c : l) {
    if (IsAlpha(c)) {
      alpha = true;
    } else if (c == '-') {
      hyphen = true;
    } else if (!IsDigit(c)) {
      return false;
    }
  }
  return alpha || hyphen;
}

// domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand.
// A domain without macros must also be a name DNS can ask for: no empty label, labels <= 63.
Status ValidateDomainSpec(std::string_view s, bool* has_macros) {
  if (s.empty()) return Status::Malformed("empty domain");
  Result<MacroScan> scan = ScanMacroString(s, /*explanation=*/false, /*allow_space=*/false);
  if (!scan.ok()) return scan.status();
  *has_macros = scan->has_macros;
  if (!scan->ends_with_macro) {
    std::string_view tail = s.substr(scan->tail_begin);
    if (!tail.empty() && tail.back() == '.') tail.remove_suffix(1);
    const size_t dot = tail.rfind('.');
    // The dot before the top label may not be the literal's first character when the literal
    // follows a macro ("%{d}.com" is fine); without a macro the name needs two labels.
    if (dot == std::string_view::npos || !IsTopLabel(tail.substr(dot + 1))) {
      return Status::Malformed("domain does not end in a valid top label");
    }
  }
  if (!scan->has_macros) {
    std::string_view name = s;
    if (name.back() == '.') name.remove_suffix(1);
    for (std::string_view label : internal::Split(name, '.')) {
      if (label.empty()) return Status::Malformed("empty label in domain");
      if (label.size() > internal::kMaxLabelBytes) {
        return Status::Malformed("label longer than 63 octets");
      }
    }
  }
  return Status::Ok();
}

// qnum: 0-255 without leading zeros.
bool ParseIp4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    const size_t begin = i;
    int value = 0;
    while (i < s.size() && IsDigit(s[i]) && i - begin < 3) value = value * 10 + (s[i++] - '0');
    const size_t len = i - begin;
    if (len == 0 || value > 255 || (len > 1 && s[begin] == '0')) return false;
    ++parts;
    if (i == s.size()) return parts == 4;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
}

// Groups of 1-4 hex digits separated by ':'; the last may be a dotted quad (two groups).
// Returns the number of 16-bit groups, or -1.
int CountIp6Groups(std::string_view s, bool allow_ip4_tail) {
  if (s.empty()) return 0;
  int groups = 0;
  size_t start = 0;
  while (true) {
    size_t end = s.find(':', start);
    const bool last = end == std::string_view::npos;
    if (last) end = s.size();
    const std::string_view g = s.substr(start, end - start);
    if (last && allow_ip4_tail && g.find('.') != std::string_view::npos) {
      if (!ParseIp4(g)) return -1;
      return groups + 2;
    }
    if (g.empty() || g.size() > 4) return -1;
    for (char c : g) {
      if (!IsHex(c)) return -1;
    }
    ++groups;
    if (last) return groups;
    start = end + 1;
  }
}

// RFC 4291 §2.2 text forms.
bool ParseIp6(std::string_view s) {
  const size_t gap = s.find("::");
  if (gap == std::string_view::npos) return CountIp6Groups(s, true) == 8;
  const std::string_view left = s.substr(0, gap);
  const std::string_view right = s.substr(gap + 2);
  if (right.find("::") != std::string_view::npos) return false;
  const int l = CountIp6Groups(left, false);
  const int r = CountIp6Groups(right, true);
  return l >= 0 && r >= 0 && l + r <= 7;
}

// ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT); ip6-cidr-length = "/" ("0" / %x31-39 0*2DIGIT)
// Parses the digits after the '/'. Returns -1 when malformed or above `max`.
int ParseCidr(std::string_view digits, int max) {
  if (digits.empty() || digits.size() > 3) return -1;
  if (digits.size() > 1 && digits[0] == '0') return -1;
  int v = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return -1;
    v = v * 10 + (c - '0');
  }
  return v <= max ? v : -1;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Splits a trailing dual-cidr-length ("/24", "//64", "/24//64") off `*s` (taken from the end, as
// a domain-spec may itself contain '/').
Status TakeDualCidr(std::string_view* s, SpfTerm* t) {
  const size_t p6 = s->rfind("//");
  if (p6 != std::string_view::npos && AllDigits(s->substr(p6 + 2))) {
    t->cidr6 = ParseCidr(s->substr(p6 + 2), 128);
    if (t->cidr6 < 0) return Status::Malformed("invalid IPv6 CIDR length");
    *s = s->substr(0, p6);
  }
  const size_t p4 = s->rfind('/');
  if (p4 != std::string_view::npos && AllDigits(s->substr(p4 + 1))) {
    t->cidr4 = ParseCidr(s->substr(p4 + 1), 32);
    if (t->cidr4 < 0) return Status::Malformed("invalid IPv4 CIDR length");
    *s = s->substr(0, p4);
  }
  return Status::Ok();
}

bool IsNameChar(char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; }

// The argument of a mechanism, after its name.
Status ParseMechanismArgs(std::string_view arg, SpfTerm* t) {
  using K = SpfTerm::Kind;
  const bool has_colon = !arg.empty() && arg.front() == ':';
  switch (t->kind) {
    case K::kAll:
      if (!arg.empty()) return Status::Malformed("\"all\" takes no value");
      return Status::Ok();
    case K::kInclude:
    case K::kExists:
    case K::kPtr: {
      if (!has_colon) {
        if (t->kind == K::kPtr && arg.empty()) return Status::Ok();
        return Status::Malformed(arg.empty() ? "missing \":domain\"" : "unexpected value");
      }
      t->domain = std::string(arg.substr(1));
      return ValidateDomainSpec(t->domain, &t->domain_has_macros);
    }
    case K::kA:
    case K::kMx: {
      if (arg.empty()) return Status::Ok();
      if (!has_colon && arg.front() != '/') return Status::Malformed("unexpected value");
      std::string_view rest = arg;
      if (Status st = TakeDualCidr(&rest, t); !st.ok()) return st;
      if (!has_colon) {
        if (!rest.empty()) return Status::Malformed("invalid CIDR length");
        return Status::Ok();
      }
      t->domain = std::string(rest.substr(1));
      return ValidateDomainSpec(t->domain, &t->domain_has_macros);
    }
    case K::kIp4:
    case K::kIp6: {
      const bool v4 = t->kind == K::kIp4;
      if (!has_colon) return Status::Malformed("missing \":address\"");
      std::string_view rest = arg.substr(1);
      const size_t slash = rest.find('/');
      if (slash != std::string_view::npos) {
        const int cidr = ParseCidr(rest.substr(slash + 1), v4 ? 32 : 128);
        if (cidr < 0)
          return Status::Malformed(v4 ? "invalid IPv4 CIDR length" : "invalid IPv6 CIDR length");
        (v4 ? t->cidr4 : t->cidr6) = cidr;
        rest = rest.substr(0, slash);
      }
      t->network = std::string(rest);
      if (rest.find('%') != std::string_view::npos) return Status::Malformed("macro in an address");
      if (v4 ? !ParseIp4(rest) : !ParseIp6(rest))
        return Status::Malformed(v4 ? "invalid IPv4 address" : "invalid IPv6 address");
      return Status::Ok();
    }
    default:
      return Status::Internal("not a mechanism");
  }
}

Status ParseTerm(std::string_view term, SpfTerm* t) {
  t->text = std::string(term);
  // modifier = name "=" ...; name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
  size_t n = 0;
  while (n < term.size() && IsNameChar(term[n])) ++n;
  if (n > 0 && n < term.size() && term[n] == '=' && IsAlpha(term[0])) {
    const std::string name = AsciiLower(term.substr(0, n));
    const std::string_view value = term.substr(n + 1);
    if (name == "redirect" || name == "exp") {
      t->kind = name == "redirect" ? SpfTerm::Kind::kRedirect : SpfTerm::Kind::kExp;
      t->domain = std::string(value);
      return ValidateDomainSpec(value, &t->domain_has_macros);
    }
    t->kind = SpfTerm::Kind::kUnknownModifier;
    t->name = name;
    t->value = std::string(value);
    Result<MacroScan> scan = ScanMacroString(value, /*explanation=*/true, /*allow_space=*/false);
    return scan.status();
  }
  std::string_view rest = term;
  switch (rest.front()) {
    case '+':
    case '-':
    case '~':
    case '?':
      t->qualifier = static_cast<SpfQualifier>(rest.front());
      rest.remove_prefix(1);
      break;
    default:
      break;
  }
  size_t m = 0;
  while (m < rest.size() && IsAlnum(rest[m])) ++m;
  const std::string_view mech = rest.substr(0, m);
  struct Name {
    std::string_view name;
    SpfTerm::Kind kind;
  };
  static constexpr Name kMechanisms[] = {
      {"all", SpfTerm::Kind::kAll}, {"include", SpfTerm::Kind::kInclude},
      {"a", SpfTerm::Kind::kA},     {"mx", SpfTerm::Kind::kMx},
      {"ptr", SpfTerm::Kind::kPtr}, {"ip4", SpfTerm::Kind::kIp4},
      {"ip6", SpfTerm::Kind::kIp6}, {"exists", SpfTerm::Kind::kExists},
  };
  for (const Name& k : kMechanisms) {
    if (EqualsIgnoreCase(mech, k.name)) {
      t->kind = k.kind;
      return ParseMechanismArgs(rest.substr(m), t);
    }
  }
  return Status::Malformed("unknown mechanism");
}

const SpfTerm* FindKind(const std::vector<SpfTerm>& terms, SpfTerm::Kind kind) {
  for (const SpfTerm& t : terms) {
    if (t.kind == kind) return &t;
  }
  return nullptr;
}

}  // namespace

bool SpfTerm::CountsAsLookup() const {
  switch (kind) {
    case Kind::kInclude:
    case Kind::kA:
    case Kind::kMx:
    case Kind::kPtr:
    case Kind::kExists:
    case Kind::kRedirect:
      return true;
    default:
      return false;
  }
}

const SpfTerm* SpfRecord::All() const { return FindKind(terms, SpfTerm::Kind::kAll); }
const SpfTerm* SpfRecord::Redirect() const { return FindKind(terms, SpfTerm::Kind::kRedirect); }
const SpfTerm* SpfRecord::Exp() const { return FindKind(terms, SpfTerm::Kind::kExp); }

Result<SpfRecord> ParseSpfRecord(std::string_view txt) {
  if (txt.size() > kSpfMaxRecordBytes) {
    return Status::Malformed("record longer than " + std::to_string(kSpfMaxRecordBytes) + " bytes");
  }
  constexpr std::string_view kVersion = "v=spf1";
  if (!StartsWithIgnoreCase(txt, kVersion) ||
      (txt.size() > kVersion.size() && txt[kVersion.size()] != ' ')) {
    return Status::Malformed("record does not start with \"v=spf1\" and a space");
  }
  SpfRecord record;
  int index = 0;
  bool seen_all = false;
  bool seen_redirect = false;
  bool seen_exp = false;
  size_t i = kVersion.size();
  while (i < txt.size()) {
    if (txt[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = txt.find(' ', i);
    if (end == std::string_view::npos) end = txt.size();
    const std::string_view text = txt.substr(i, end - i);
    i = end;
    ++index;
    SpfTerm term;
    Status st = ParseTerm(text, &term);
    if (st.ok()) {
      bool* seen = term.kind == SpfTerm::Kind::kAll        ? &seen_all
                   : term.kind == SpfTerm::Kind::kRedirect ? &seen_redirect
                   : term.kind == SpfTerm::Kind::kExp      ? &seen_exp
                                                           : nullptr;
      if (seen != nullptr && *seen) st = Status::Malformed("appears more than once");
      if (seen != nullptr) *seen = true;
    }
    if (!st.ok()) {
      return Status::Malformed("term " + std::to_string(index) + " \"" +
                               Printable(text, kPrintTerm) + "\": " + st.message());
    }
    record.terms.push_back(std::move(term));
  }
  return record;
}

Status ValidateSpfExplanation(std::string_view txt) {
  Result<MacroScan> scan = ScanMacroString(txt, /*explanation=*/true, /*allow_space=*/true);
  return scan.status();
}

bool IsNonSendingSpfPolicy(std::string_view txt) {
  Result<SpfRecord> r = ParseSpfRecord(txt);
  if (!r.ok()) return false;
  bool fail_all = false;
  for (const SpfTerm& t : r->terms) {
    if (t.kind == SpfTerm::Kind::kAll && t.qualifier == SpfQualifier::kFail) {
      fail_all = true;
    } else if (t.kind != SpfTerm::Kind::kExp) {
      return false;
    }
  }
  return fail_all;
}

SpfSelection SelectSpfRecord(const std::vector<std::string>& txt_records) {
  constexpr std::string_view kVersion = "v=spf1";
  SpfSelection sel;
  for (const std::string& txt : txt_records) {
    if (StartsWithIgnoreCase(txt, "spf2.0/")) sel.sender_id = true;
    if (!StartsWithIgnoreCase(txt, kVersion)) continue;
    if (txt.size() > kVersion.size() && txt[kVersion.size()] != ' ') {
      if (!IsDigit(txt[kVersion.size()])) sel.version_glued = true;
      continue;
    }
    ++sel.candidates;
    if (sel.candidates == 1) sel.record = txt;
  }
  if (sel.candidates == 1) {
    sel.kind = SpfSelection::Kind::kOne;
  } else {
    sel.record.clear();
    sel.kind = sel.candidates == 0 ? SpfSelection::Kind::kNone : SpfSelection::Kind::kMultiple;
  }
  return sel;
}

}  // namespace mailsec::checks
