#include "mailsec/proto/pop3.h"

#include <algorithm>
#include <utility>

#include "mailsec/base/text.h"

namespace mailsec::proto {
namespace {

// capa-tag and its parameters are runs of printable ASCII without spaces (RFC 2449 §6).
bool IsWordChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f;
}

bool IsWord(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsWordChar);
}

// "+OK" / "-ERR" followed by the end of the line or a space.
bool HasIndicator(std::string_view line, std::string_view indicator, std::string_view* text) {
  if (line.size() < indicator.size() ||
      !EqualsIgnoreCase(line.substr(0, indicator.size()), indicator)) {
    return false;
  }
  std::string_view rest = line.substr(indicator.size());
  if (rest.empty()) {
    *text = rest;
    return true;
  }
  if (rest.front() != ' ') return false;
  *text = rest.substr(1);
  return true;
}

void AddUnique(std::vector<std::string>* v, std::string s) {
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(std::move(s));
}

}  // namespace

Result<Pop3Status> ParsePop3Status(std::string_view line, const ReplyLimits& limits) {
  if (line.size() > limits.max_line) return Status::Malformed("status line too long");
  Pop3Status st;
  std::string_view text;
  if (HasIndicator(line, "+OK", &text)) {
    st.ok = true;
  } else if (HasIndicator(line, "-ERR", &text)) {
    st.ok = false;
  } else {
    return Status::Malformed("not a POP3 status line: \"" + Printable(line, 60) + "\"");
  }
  st.text = std::string(text);
  return st;
}

Status Pop3MultilineBuilder::AddLine(std::string_view line) {
  if (done_) return Status::Malformed("response already complete");
  total_ += line.size() + 2;
  if (line.size() > limits_.max_line) return Status::Malformed("response line too long");
  if (total_ > limits_.max_total) return Status::Malformed("response too long");
  if (line == ".") {
    done_ = true;
    return Status::Ok();
  }
  if (lines_.size() >= limits_.max_lines) return Status::Malformed("response has too many lines");
  if (!line.empty() && line.front() == '.') line.remove_prefix(1);
  lines_.emplace_back(line);
  return Status::Ok();
}

Result<Pop3Response> ParsePop3Response(std::string_view bytes, bool multiline,
                                       const ReplyLimits& limits) {
  Pop3Response out;
  Pop3MultilineBuilder body(limits);
  bool have_status = false;
  bool complete = false;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) return Status::Malformed("response line without line ending");
    size_t end = nl;
    if (end > pos && bytes[end - 1] == '\r') --end;
    std::string_view line = bytes.substr(pos, end - pos);
    pos = nl + 1;
    if (complete) return Status::Malformed("bytes after the end of the response");
    if (!have_status) {
      Result<Pop3Status> st = ParsePop3Status(line, limits);
      if (!st.ok()) return st.status();
      out.status = std::move(*st);
      have_status = true;
      complete = !multiline || !out.status.ok;
      continue;
    }
    Status s = body.AddLine(line);
    if (!s.ok()) return s;
    complete = body.done();
  }
  if (!complete) return Status::Malformed("response incomplete");
  out.lines = body.Take();
  return out;
}

Result<Capabilities> ParsePop3Capa(const std::vector<std::string>& lines) {
  Capabilities caps;
  for (const std::string& raw : lines) {
    std::string_view line = TrimSpace(raw);
    if (line.empty()) continue;
    size_t sp = line.find(' ');
    std::string_view word = line.substr(0, sp);
    if (!IsWord(word)) {
      return Status::Malformed("bad character in capability: \"" + Printable(line, 60) + "\"");
    }
    std::string keyword = AsciiUpper(word);
    if (keyword == "STLS") caps.starttls = true;
    if (keyword == "USER") caps.plaintext_login = true;
    if (LooksMasked(keyword, 4)) caps.starttls_masked = true;
    if (keyword == "SASL" && sp != std::string_view::npos) {
      std::string_view rest = line.substr(sp + 1);
      while (!rest.empty()) {
        size_t q = rest.find(' ');
        std::string_view mech = rest.substr(0, q);
        rest = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
        if (mech.empty()) continue;  // doubled spaces
        if (!IsWord(mech)) {
          return Status::Malformed("bad character in SASL mechanism: \"" + Printable(mech, 60) +
                                   "\"");
        }
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
