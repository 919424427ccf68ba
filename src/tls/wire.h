// Byte-level helpers shared by the hand-built handshake code (hello.cc, robot.cc): a
// bounds-checked reader over untrusted bytes and big-endian writers. Internal to the tls layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mailsec::tls::wire {

// Bounds-checked reader over untrusted bytes: every read checks first and fails without moving.
class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}
  bool U8(uint8_t* v) {
    if (left() < 1) return false;
    *v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool U16(uint16_t* v) {
    if (left() < 2) return false;
    *v = static_cast<uint16_t>((static_cast<uint8_t>(in_[pos_]) << 8) |
                               static_cast<uint8_t>(in_[pos_ + 1]));
    pos_ += 2;
    return true;
  }
  bool U24(size_t* v) {
    if (left() < 3) return false;
    *v = (size_t{static_cast<uint8_t>(in_[pos_])} << 16) |
         (size_t{static_cast<uint8_t>(in_[pos_ + 1])} << 8) | static_cast<uint8_t>(in_[pos_ + 2]);
    pos_ += 3;
    return true;
  }
  bool Skip(size_t n) {
    if (left() < n) return false;
    pos_ += n;
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (left() < n) return false;
    *out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t left() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

inline void Put8(std::string* s, unsigned v) { s->push_back(static_cast<char>(v & 0xff)); }
inline void Put16(std::string* s, unsigned v) {
  Put8(s, v >> 8);
  Put8(s, v);
}
inline void Put24(std::string* s, size_t v) {
  Put8(s, static_cast<unsigned>(v >> 16));
  Put16(s, static_cast<unsigned>(v & 0xffff));
}

}  // namespace mailsec::tls::wire
