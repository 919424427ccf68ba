// A bounds-checked cursor over untrusted bytes. Every read checks what is left first and, on a
// short read, fails without moving, so a parser cannot read past the end whatever lengths the
// peer claims. Not thread-safe; a view: the bytes must outlive the reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mailsec::dns::internal {

class WireReader {
 public:
  explicit WireReader(std::span<const uint8_t> data) : data_(data) {}

  size_t pos() const { return pos_; }
  size_t size() const { return data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  std::span<const uint8_t> whole() const { return data_; }

  [[nodiscard]] bool U8(uint8_t* out) {
    if (remaining() < 1) return false;
    *out = data_[pos_++];
    return true;
  }
  [[nodiscard]] bool U16(uint16_t* out) {
    if (remaining() < 2) return false;
    *out = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  [[nodiscard]] bool U32(uint32_t* out) {
    if (remaining() < 4) return false;
    *out = (uint32_t{data_[pos_]} << 24) | (uint32_t{data_[pos_ + 1]} << 16) |
           (uint32_t{data_[pos_ + 2]} << 8) | uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return true;
  }
  // A view of the next n bytes.
  [[nodiscard]] bool Bytes(size_t n, std::span<const uint8_t>* out) {
    if (remaining() < n) return false;
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  [[nodiscard]] bool Skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  [[nodiscard]] bool Seek(size_t pos) {
    if (pos > data_.size()) return false;
    pos_ = pos;
    return true;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

}  // namespace mailsec::dns::internal
