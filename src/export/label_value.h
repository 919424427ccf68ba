// Label values from untrusted peers (certificate CNs, MX host names, cipher names) made safe for
// the text exposition format. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "mailsec/base/limits.h"

namespace mailsec::exporter {

// Valid UTF-8 of at most max_bytes: each byte that does not start a well-formed UTF-8 sequence
// becomes U+FFFD, C0/C1 control characters and DEL become '?', and the result is cut at a
// character boundary. The serializer still escapes backslash and double quote.
std::string SafeLabelValue(std::string_view in, size_t max_bytes = kMaxLabelValueBytes);

}  // namespace mailsec::exporter
