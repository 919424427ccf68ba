#include "export/label_value.h"

namespace mailsec::exporter {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool IsContinuation(unsigned char c) { return c >= 0x80 && c <= 0xBF; }

// Length of the well-formed UTF-8 sequence at the start of s (Unicode Table 3-7), or 0.
size_t SequenceLength(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (!IsContinuation(b(i))) return 0;
  }
  return len;
}

}  // namespace

std::string SafeLabelValue(std::string_view in, size_t max_bytes) {
  std::string out;
  out.reserve(in.size() < max_bytes ? in.size() : max_bytes);
  while (!in.empty()) {
    std::string_view piece;
    size_t consumed = SequenceLength(in);
    const unsigned char c = static_cast<unsigned char>(in[0]);
    if (consumed == 0) {
      piece = kReplacement;
      consumed = 1;
    } else if (c < 0x20 || c == 0x7F ||
               (c == 0xC2 && static_cast<unsigned char>(in[1]) <= 0x9F)) {  // C0, DEL, C1
      piece = "?";
    } else {
      piece = in.substr(0, consumed);
    }
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
    in.remove_prefix(consumed);
  }
  return out;
}

}  // namespace mailsec::exporter
