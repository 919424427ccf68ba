#include "mailsec/proto/capabilities.h"

#include <algorithm>

namespace mailsec::proto {

bool LooksMasked(std::string_view keyword, size_t real_length) {
  if (keyword.size() != real_length) return false;
  const auto xs = static_cast<size_t>(std::count(keyword.begin(), keyword.end(), 'X'));
  return xs * 4 >= real_length * 3;
}

}  // namespace mailsec::proto
