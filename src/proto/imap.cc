#include "mailsec/proto/imap.h"

#include <algorithm>
#include <utility>

#include "mailsec/base/text.h"
#include "proto/whole_reply.h"

namespace mailsec::proto {
namespace {

// ATOM-CHAR of RFC 9051: any CHAR except atom-specials (SP, CTL, "(", ")", "{", "%", "*", DQUOTE,
// "\", "]").
bool IsAtomChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  return std::string_view("(){%*\"\\]").find(c) == std::string_view::npos;
}

// tag = 1*<any ASTRING-CHAR except "+">; ASTRING-CHAR adds "]" to ATOM-CHAR.
bool IsTagChar(char c) { return c != '+' && (c == ']' || IsAtomChar(c)); }

bool AllOf(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

bool IsStatusName(std::string_view n) {
  return n == "OK" || n == "NO" || n == "BAD" || n == "PREAUTH" || n == "BYE";
}

// A line ending in "{123}" or "{123+}" announces a literal of that many bytes on the next lines.
bool AnnouncesLiteral(std::string_view line) {
  if (line.empty() || line.back() != '}') return false;
  size_t open = line.rfind('{');
  if (open == std::string_view::npos) return false;
  std::string_view inner = line.substr(open + 1, line.size() - open - 2);
  if (!inner.empty() && inner.back() == '+') inner.remove_suffix(1);
  return !inner.empty() &&
         std::all_of(inner.begin(), inner.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits "word rest" at the first space.
std::pair<std::string_view, std::string_view> SplitWord(std::string_view s) {
  size_t sp = s.find(' ');
  if (sp == std::string_view::npos) return {s, std::string_view()};
  return {s.substr(0, sp), s.substr(sp + 1)};
}

// resp-text = ["[" resp-text-code "]" SP] text
Status ParseRespText(std::string_view rest, ImapLine* out) {
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return Status::Malformed("unterminated response code: \"" + Printable(rest, 60) + "\"");
    }
    out->code = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  }
  out->text = std::string(rest);
  return Status::Ok();
}

// The atoms of a "CAPABILITY a b c" response code, or false if the code is another one.
bool CapabilityCode(std::string_view code, std::string_view* atoms) {
  auto [name, rest] = SplitWord(code);
  if (!EqualsIgnoreCase(name, "CAPABILITY")) return false;
  *atoms = rest;
  return true;
}

void AppendAtoms(std::string_view atoms, std::string* out) {
  if (atoms.empty()) return;
  if (!out->empty()) out->push_back(' ');
  out->append(atoms);
}

void AddUnique(std::vector<std::string>* v, std::string s) {
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(std::move(s));
}

}  // namespace

bool ImapLine::IsStatus() const { return kind != Kind::kContinuation && IsStatusName(name); }

Result<ImapLine> ParseImapLine(std::string_view line, const ReplyLimits& limits) {
  if (line.size() > limits.max_line) return Status::Malformed("response line too long");
  if (line.empty()) return Status::Malformed("empty response line");
  if (AnnouncesLiteral(line)) {
    return Status::Malformed("literal announced in a response: \"" + Printable(line, 60) + "\"");
  }
  ImapLine out;
  if (line.front() == '+') {
    out.kind = ImapLine::Kind::kContinuation;
    line.remove_prefix(1);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    out.text = std::string(line);
    return out;
  }
  std::string_view rest;
  if (line.front() == '*') {
    if (line.size() < 2 || line[1] != ' ') {
      return Status::Malformed("bad untagged response: \"" + Printable(line, 60) + "\"");
    }
    out.kind = ImapLine::Kind::kUntagged;
    rest = line.substr(2);
  } else {
    auto [tag, after] = SplitWord(line);
    if (!AllOf(tag, IsTagChar)) {
      return Status::Malformed("bad tag: \"" + Printable(line, 60) + "\"");
    }
    out.kind = ImapLine::Kind::kTagged;
    out.tag = std::string(tag);
    rest = after;
  }
  auto [name, after] = SplitWord(rest);
  if (!AllOf(name, IsAtomChar)) {
    return Status::Malformed("bad response name: \"" + Printable(line, 60) + "\"");
  }
  out.name = AsciiUpper(name);
  if (out.kind == ImapLine::Kind::kTagged && out.name != "OK" && out.name != "NO" &&
      out.name != "BAD") {
    return Status::Malformed("tagged response without OK/NO/BAD: \"" + Printable(line, 60) + "\"");
  }
  if (IsStatusName(out.name)) {
    Status s = ParseRespText(after, &out);
    if (!s.ok()) return s;
  } else {
    out.text = std::string(after);
  }
  return out;
}

Result<ImapGreeting> ParseImapGreeting(std::string_view line, const ReplyLimits& limits) {
  if (line.size() < 2 || line[0] != '*' || line[1] != ' ') {
    return Status::Malformed("not an IMAP greeting: \"" + Printable(line, 60) + "\"");
  }
  Result<ImapLine> l = ParseImapLine(line, limits);
  if (!l.ok()) return l.status();
  ImapGreeting g;
  if (l->name == "OK") {
    g.kind = ImapGreeting::Kind::kOk;
  } else if (l->name == "PREAUTH") {
    g.kind = ImapGreeting::Kind::kPreauth;
  } else if (l->name == "BYE") {
    g.kind = ImapGreeting::Kind::kBye;
  } else {
    return Status::Malformed("not an IMAP greeting: \"" + Printable(line, 60) + "\"");
  }
  std::string_view atoms;
  if (CapabilityCode(l->code, &atoms)) g.capabilities = std::string(atoms);
  g.text = std::move(l->text);
  return g;
}

Status ImapResponseBuilder::AddLine(std::string_view line) {
  if (done_) return Status::Malformed("response already complete");
  total_ += line.size() + 2;
  if (line.size() > limits_.max_line) return Status::Malformed("response line too long");
  if (total_ > limits_.max_total) return Status::Malformed("response too long");
  if (lines_ >= limits_.max_lines) return Status::Malformed("response has too many lines");
  ++lines_;
  Result<ImapLine> l = ParseImapLine(line, limits_);
  if (!l.ok()) return l.status();
  std::string_view atoms;
  switch (l->kind) {
    case ImapLine::Kind::kContinuation:
      return Status::Malformed("unexpected continuation request: \"" + Printable(line, 60) + "\"");
    case ImapLine::Kind::kUntagged:
      if (l->name == "CAPABILITY") {
        AppendAtoms(l->text, &response_.capabilities);
      } else if (l->IsStatus() && CapabilityCode(l->code, &atoms)) {
        AppendAtoms(atoms, &response_.capabilities);
      }
      if (l->name == "BYE") {
        response_.bye = true;
        response_.bye_text = std::move(l->text);
      }
      return Status::Ok();
    case ImapLine::Kind::kTagged:
      if (l->tag != tag_) {
        return Status::Malformed("completion for another tag: \"" + Printable(line, 60) + "\"");
      }
      if (CapabilityCode(l->code, &atoms)) AppendAtoms(atoms, &response_.capabilities);
      response_.status = std::move(l->name);
      response_.code = std::move(l->code);
      response_.text = std::move(l->text);
      done_ = true;
      return Status::Ok();
  }
  return Status::Internal("unknown IMAP line kind");
}

Result<ImapResponse> ParseImapResponse(std::string_view bytes, std::string_view tag,
                                       const ReplyLimits& limits) {
  ImapResponseBuilder builder(std::string(tag), limits);
  Status s = FeedWholeReply(bytes, "response", &builder);
  if (!s.ok()) return s;
  return builder.Take();
}

Result<Capabilities> ParseImapCapabilities(std::string_view atoms) {
  Capabilities caps;
  bool login_disabled = false;
  while (!atoms.empty()) {
    auto [atom, rest] = SplitWord(atoms);
    atoms = rest;
    if (atom.empty()) continue;  // doubled spaces
    if (!AllOf(atom, IsAtomChar)) {
      return Status::Malformed("bad character in capability: \"" + Printable(atom, 60) + "\"");
    }
    std::string keyword = AsciiUpper(atom);
    if (keyword == "STARTTLS") caps.starttls = true;
    if (keyword == "LOGINDISABLED") login_disabled = true;
    if (LooksMasked(keyword, 8)) caps.starttls_masked = true;
    if (keyword.size() > 5 && keyword.compare(0, 5, "AUTH=") == 0) {
      AddUnique(&caps.auth, keyword.substr(5));
    }
    AddUnique(&caps.keywords, std::move(keyword));
  }
  bool plain_mech = false;
  for (const auto& m : caps.auth) plain_mech = plain_mech || m == "PLAIN" || m == "LOGIN";
  caps.plaintext_login = !login_disabled || plain_mech;
  return caps;
}

}  // namespace mailsec::proto
