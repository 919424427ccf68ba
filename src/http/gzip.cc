#include "mailsec/http/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

namespace mailsec::http {

struct GzipStream::Impl {
  z_stream z{};
  bool ok = false;
  std::string out;

  // Runs deflate over what z holds with "flush", growing "out" as it fills.
  bool Deflate(int flush) {
    for (int rounds = 0; rounds < 1 << 20; ++rounds) {  // bounded: each round adds output room
      if (out.size() - z.total_out < 64 * 1024) {
        out.resize(std::max<size_t>(out.size() * 2, z.total_out + 256 * 1024));
      }
      const size_t room = std::min<size_t>(out.size() - z.total_out, UINT_MAX);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + z.total_out);
      z.avail_out = static_cast<uInt>(room);
      const int rc = deflate(&z, flush);
      if (rc == Z_STREAM_END) return true;
      if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
      // Done with this input when deflate left output room unused.
      if (flush == Z_NO_FLUSH && z.avail_in == 0 && z.avail_out > 0) return true;
    }
    return false;
  }
};

GzipStream::GzipStream(int level) : impl_(std::make_unique<Impl>()) {
  // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
  impl_->ok = deflateInit2(&impl_->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipStream::~GzipStream() {
  deflateEnd(&impl_->z);  // harmless (Z_STREAM_ERROR) once ended or when never started
}

bool GzipStream::Add(std::string_view piece) {
  Impl& i = *impl_;
  while (i.ok && !piece.empty()) {
    const size_t n = std::min<size_t>(piece.size(), UINT_MAX);
    i.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
    i.z.avail_in = static_cast<uInt>(n);
    i.ok = i.Deflate(Z_NO_FLUSH) && i.z.avail_in == 0;
    piece.remove_prefix(n);
  }
  return i.ok;
}

std::optional<std::string> GzipStream::Finish() {
  Impl& i = *impl_;
  if (!i.ok) return std::nullopt;
  i.z.next_in = nullptr;
  i.z.avail_in = 0;
  i.ok = i.Deflate(Z_FINISH);
  if (!i.ok) return std::nullopt;
  i.out.resize(i.z.total_out);
  i.ok = false;  // once
  deflateEnd(&i.z);
  return std::move(i.out);
}

}  // namespace mailsec::http
