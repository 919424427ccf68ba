#include "mailsec/proto/smtp.h"

#include "mailsec/base/text.h"
#include "mailsec/proto/capabilities.h"
#include "proto/whole_reply.h"

namespace mailsec::proto {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Status SmtpReplyBuilder::AddLine(std::string_view line) {
  if (done_) return Status::Malformed("reply already complete");
  total_ += line.size() + 2;
  if (line.size() > limits_.max_line) return Status::Malformed("reply line too long");
  if (total_ > limits_.max_total) return Status::Malformed("reply too long");
  if (reply_.lines.size() >= limits_.max_lines)
    return Status::Malformed("reply has too many lines");
  if (line.size() < 3 || !IsDigit(line[0]) || !IsDigit(line[1]) || !IsDigit(line[2])) {
    return Status::Malformed("reply line without a code: \"" + Printable(line, 60) + "\"");
  }
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (code < 200 || code > 599) {
    return Status::Malformed("reply code out of range: " + std::to_string(code));
  }
  if (!reply_.lines.empty() && code != reply_.code) {
    return Status::Malformed("reply code changed within a reply: " + std::to_string(reply_.code) +
                             " then " + std::to_string(code));
  }
  reply_.code = code;
  char sep = line.size() > 3 ? line[3] : ' ';
  if (sep != '-' && sep != ' ') {
    return Status::Malformed("bad separator after reply code: \"" + Printable(line, 60) + "\"");
  }
  reply_.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
  if (sep == ' ') done_ = true;
  return Status::Ok();
}

Result<SmtpReply> ParseSmtpReply(std::string_view bytes, const ReplyLimits& limits) {
  SmtpReplyBuilder builder(limits);
  Status s = FeedWholeReply(bytes, "reply", &builder);
  if (!s.ok()) return s;
  return builder.Take();
}

EhloCapabilities ParseEhlo(const SmtpReply& reply) {
  EhloCapabilities caps;
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    std::string_view line = TrimSpace(reply.lines[i]);
    size_t sp = line.find_first_of(" =");
    std::string keyword = AsciiUpper(line.substr(0, sp));
    if (keyword.empty()) continue;
    caps.keywords.push_back(keyword);
    if (keyword == "STARTTLS") caps.starttls = true;
    if (keyword == "PIPELINING") caps.pipelining = true;
    if (LooksMasked(keyword, 8)) caps.starttls_masked = true;
    if (keyword == "AUTH" && sp != std::string_view::npos) {
      std::string_view rest = line.substr(sp + 1);
      size_t p = 0;
      while (p < rest.size()) {
        size_t q = rest.find(' ', p);
        std::string_view mech = rest.substr(p, q == std::string_view::npos ? rest.npos : q - p);
        if (!mech.empty()) {
          std::string m = AsciiUpper(mech);
          bool seen = false;
          for (const auto& a : caps.auth) seen = seen || a == m;
          if (!seen) caps.auth.push_back(m);
        }
        if (q == std::string_view::npos) break;
        p = q + 1;
      }
    }
  }
  return caps;
}

}  // namespace mailsec::proto
