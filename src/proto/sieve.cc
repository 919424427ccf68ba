#include "mailsec/proto/sieve.h"

#include <algorithm>
#include <utility>

#include "mailsec/base/text.h"
#include "proto/whole_reply.h"

namespace mailsec::proto {
namespace {

// Reads one line left to right; every read checks the end first.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool AtEnd() const { return pos_ >= s_.size(); }
  // The next byte without consuming it, or '\0' at the end.
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  bool Next(char* c) {
    if (AtEnd()) return false;
    *c = s_[pos_++];
    return true;
  }
  bool Consume(char c) {
    if (AtEnd() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  std::string_view Rest() const { return AtEnd() ? std::string_view() : s_.substr(pos_); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

Status LiteralError() {
  return Status::Malformed("literal string in a response (not supported here)");
}

// quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR = SAFE-UTF8-CHAR / "\" QUOTED-SPECIALS.
// SAFE-CHAR excludes NUL, CR and LF; bytes >127 are UTF-8 and kept as they are.
Status ReadQuoted(Cursor* c, std::string* out) {
  if (c->Peek() == '{') return LiteralError();
  if (!c->Consume('"')) {
    return Status::Malformed("expected a quoted string: \"" + Printable(c->Rest(), 60) + "\"");
  }
  // Bounded by the line, which is bounded by max_line.
  for (;;) {
    char ch;
    if (!c->Next(&ch)) return Status::Malformed("unterminated quoted string");
    if (ch == '"') return Status::Ok();
    if (ch == '\\') {
      if (!c->Next(&ch)) return Status::Malformed("unterminated quoted string");
      if (ch != '"' && ch != '\\') {
        return Status::Malformed("bad escape in quoted string: \\" + Printable({&ch, 1}));
      }
    } else if (ch == '\0' || ch == '\r') {
      return Status::Malformed("control character in quoted string");
    }
    out->push_back(ch);
  }
}

// "(" resp-code ")": copied raw; quoted strings inside may hold ")".
Status ReadCode(Cursor* c, std::string* out) {
  if (!c->Consume('(')) return Status::Internal("ReadCode without '('");
  for (;;) {
    char ch = c->Peek();
    if (c->AtEnd()) return Status::Malformed("unterminated response code");
    if (ch == ')') {
      c->Consume(')');
      return Status::Ok();
    }
    if (ch == '{') return LiteralError();
    if (ch == '"') {
      std::string s;
      Status st = ReadQuoted(c, &s);
      if (!st.ok()) return st;
      out->push_back('"');
      for (char q : s) {
        if (q == '"' || q == '\\') out->push_back('\\');
        out->push_back(q);
      }
      out->push_back('"');
      continue;
    }
    c->Next(&ch);
    out->push_back(ch);
  }
}

// response-oknobye = ("OK" / "NO" / "BYE") [SP "(" resp-code ")"] [SP string]
Status ParseStatusLine(std::string_view line, SieveResponse* out) {
  Cursor c(line);
  std::string atom;
  while (!c.AtEnd() && c.Peek() != ' ') {
    char ch;
    c.Next(&ch);
    atom.push_back(ch);
  }
  std::string upper = AsciiUpper(atom);
  if (upper == "OK") {
    out->kind = SieveResponse::Kind::kOk;
  } else if (upper == "NO") {
    out->kind = SieveResponse::Kind::kNo;
  } else if (upper == "BYE") {
    out->kind = SieveResponse::Kind::kBye;
  } else {
    return Status::Malformed("not a ManageSieve response: \"" + Printable(line, 60) + "\"");
  }
  c.Consume(' ');
  if (TrimSpace(c.Rest()).empty()) return Status::Ok();  // "OK" alone, perhaps with a stray space
  if (c.Peek() == '(') {
    Status s = ReadCode(&c, &out->code);
    if (!s.ok()) return s;
    if (c.AtEnd()) return Status::Ok();
    if (!c.Consume(' ')) {
      return Status::Malformed("bytes after response code: \"" + Printable(c.Rest(), 60) + "\"");
    }
  }
  Status s = ReadQuoted(&c, &out->text);
  if (!s.ok()) return s;
  if (!c.AtEnd()) {
    return Status::Malformed("bytes after response text: \"" + Printable(c.Rest(), 60) + "\"");
  }
  return Status::Ok();
}

// single-capability = capability-name [SP string]
Status ParseCapabilityLine(std::string_view line, SieveCapability* out) {
  Cursor c(line);
  Status s = ReadQuoted(&c, &out->name);
  if (!s.ok()) return s;
  if (c.AtEnd()) return Status::Ok();
  if (!c.Consume(' ')) {
    return Status::Malformed("bytes after capability name: \"" + Printable(c.Rest(), 60) + "\"");
  }
  out->has_value = true;
  s = ReadQuoted(&c, &out->value);
  if (!s.ok()) return s;
  if (!c.AtEnd()) {
    return Status::Malformed("bytes after capability value: \"" + Printable(c.Rest(), 60) + "\"");
  }
  return Status::Ok();
}

void AddUnique(std::vector<std::string>* v, std::string s) {
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(std::move(s));
}

}  // namespace

Status SieveResponseBuilder::AddLine(std::string_view line) {
  if (done_) return Status::Malformed("response already complete");
  total_ += line.size() + 2;
  if (line.size() > limits_.max_line) return Status::Malformed("response line too long");
  if (total_ > limits_.max_total) return Status::Malformed("response too long");
  if (lines_ >= limits_.max_lines) return Status::Malformed("response has too many lines");
  ++lines_;
  if (line.empty()) return Status::Malformed("empty response line");
  if (line.front() == '"' || line.front() == '{') {
    SieveCapability cap;
    Status s = ParseCapabilityLine(line, &cap);
    if (!s.ok()) return s;
    response_.capabilities.push_back(std::move(cap));
    return Status::Ok();
  }
  Status s = ParseStatusLine(line, &response_);
  if (!s.ok()) return s;
  done_ = true;
  return Status::Ok();
}

Result<SieveResponse> ParseSieveResponse(std::string_view bytes, const ReplyLimits& limits) {
  SieveResponseBuilder builder(limits);
  Status s = FeedWholeReply(bytes, "response", &builder);
  if (!s.ok()) return s;
  return builder.Take();
}

Capabilities SieveCapabilities(const SieveResponse& response) {
  Capabilities caps;
  for (const SieveCapability& cap : response.capabilities) {
    std::string keyword = AsciiUpper(cap.name);
    if (keyword.empty()) continue;
    if (keyword == "STARTTLS") caps.starttls = true;
    if (LooksMasked(keyword, 8)) caps.starttls_masked = true;
    if (keyword == "SASL") {
      std::string_view rest = cap.value;
      while (!rest.empty()) {
        size_t q = rest.find(' ');
        std::string_view mech = rest.substr(0, q);
        rest = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
        if (mech.empty()) continue;  // doubled spaces, or SASL "" (no mechanism before TLS)
        std::string m = AsciiUpper(mech);
        if (m == "PLAIN" || m == "LOGIN") caps.plaintext_login = true;
        AddUnique(&caps.auth, std::move(m));
      }
    }
    AddUnique(&caps.keywords, std::move(keyword));
  }
  return caps;
}

}  // namespace mailsec::proto
