#include "checks/text_util.h"

#include <algorithm>

#include "mailsec/base/text.h"

namespace mailsec::checks::internal {
namespace {

// sts-ext-value / tlsrpt-ext-value: 1*(%x21-3A / %x3C / %x3E-7E), i.e. visible ASCII but ';' and
// '='.
bool ValidExtValue(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (c < 0x21 || c > 0x7e || c == ';' || c == '=') return false;
  }
  return true;
}

}  // namespace

bool ValidExtName(std::string_view n) {
  if (n.empty() || n.size() > kMaxExtNameBytes || !IsAlnum(n[0])) return false;
  for (char c : n) {
    if (!IsAlnum(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

bool VisibleAscii(std::string_view s) {
  for (char c : s) {
    if (c <= ' ' || c >= 0x7f) return false;
  }
  return true;
}

bool HasControlChar(std::string_view s) {
  for (char c : s) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

std::string NormalizeName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return AsciiLower(name);
}

bool ValidDomain(std::string_view d) {
  if (d.empty() || d.size() > kMaxDomainNameBytes) return false;
  for (std::string_view label : Split(d, '.')) {
    if (label.empty() || label.size() > kMaxLabelBytes) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
  }
  return true;
}

bool ValidHostName(std::string_view d) {
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  return ValidDomain(d);
}

bool StartsRecord(std::string_view t, std::string_view prefix) {
  if (t.substr(0, prefix.size()) != prefix) return false;
  return t.size() == prefix.size() || t[prefix.size()] == ';' || IsWsp(t[prefix.size()]);
}

Status CheckSize(std::string_view s, size_t max_bytes, std::string_view noun) {
  if (s.size() <= max_bytes) return Status::Ok();
  return Status::Malformed(std::string(noun) + " longer than " + std::to_string(max_bytes) +
                           " bytes");
}

Status ParseRecordFields(std::string_view txt, std::string_view version, std::string_view required,
                         const std::function<Status(std::string_view value)>& on_required,
                         std::vector<std::string>* extensions) {
  const std::string missing = std::string(required) + ": missing";
  if (txt.substr(0, version.size()) != version) {
    return Status::Malformed("v: record must start with " + std::string(version) + ", got " +
                             Quote(txt.substr(0, 20)));
  }
  std::string_view rest = txt.substr(version.size());
  while (!rest.empty() && IsWsp(rest.front())) rest.remove_prefix(1);
  if (rest.empty()) return Status::Malformed(missing);
  if (rest.front() != ';') {
    return Status::Malformed("v: bad version " + Quote(txt.substr(0, txt.find(';'))));
  }
  rest.remove_prefix(1);
  bool have_required = false;
  std::vector<std::string_view> seen;
  std::vector<std::string_view> fields = Split(rest, ';');
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string_view field = TrimWsp(fields[i]);
    if (field.empty()) {
      if (i + 1 == fields.size()) break;  // a trailing delimiter
      return Status::Malformed("empty field between ';'");
    }
    size_t eq = field.find('=');
    if (eq == std::string_view::npos) {
      return Status::Malformed("field without '=': " + Quote(field));
    }
    std::string_view name = field.substr(0, eq);
    std::string_view value = field.substr(eq + 1);
    if (std::find(seen.begin(), seen.end(), name) != seen.end() || name == "v") {
      return Status::Malformed(Printable(name, 40) + ": duplicate field");
    }
    seen.push_back(name);
    if (name == required) {
      if (Status s = on_required(value); !s.ok()) return s;
      have_required = true;
    } else {
      if (!ValidExtName(name)) return Status::Malformed("bad field name " + Quote(name));
      if (!ValidExtValue(value)) {
        return Status::Malformed(std::string(name) + ": bad value " + Quote(value));
      }
      extensions->emplace_back(name);
    }
  }
  if (!have_required) return Status::Malformed(missing);
  return Status::Ok();
}

bool LookupFailed(const Status& s) { return !s.ok() && s.code() != Status::Code::kNotFound; }

std::string Quote(std::string_view s) { return "\"" + Printable(s, 80) + "\""; }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace mailsec::checks::internal
