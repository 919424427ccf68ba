// gzip (RFC 1952) of a body handed over in pieces, with zlib.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mailsec::http {

// One gzip member of everything given to Add, in order. zlib's level 1 by default: a scrape of
// 10,000 endpoints (~87 MB of text) compresses in about a third of the time of level 6, the
// level cpp-httplib uses, for ~14% more bytes (docs/benchmarks.md).
class GzipStream {
 public:
  explicit GzipStream(int level = 1);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // False once zlib has failed (then Finish returns nullopt).
  bool Add(std::string_view piece);
  // The whole member; nullopt when zlib failed. Call once.
  std::optional<std::string> Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailsec::http
