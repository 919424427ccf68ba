#include "probe/http_guard.h"

#include <charconv>
#include <string>

namespace mailsec::probe::internal {

bool ContentLengthOver(const httplib::Response& res, size_t cap) {
  if (!res.has_header("Content-Length")) return false;
  const std::string v = res.get_header_value("Content-Length");
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec == std::errc::result_out_of_range) return true;
  return ec == std::errc() && end == v.data() + v.size() && n > cap;
}

}  // namespace mailsec::probe::internal
