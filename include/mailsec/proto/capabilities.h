// What a mail server says it can do, in one shape for every protocol, and the rule that spots a
// STARTTLS keyword overwritten by a middlebox. Pure; no I/O (parsers and fuzzers include this
// without Asio).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailsec::proto {

struct Capabilities {
  std::vector<std::string> keywords;  // as the protocol names them, upper-cased
  bool starttls = false;              // STARTTLS / STLS advertised
  bool starttls_masked = false;       // a keyword looks like an overwritten STARTTLS
  std::vector<std::string> auth;      // SASL mechanisms offered
  bool plaintext_login = false;       // credentials may be sent now (protocol-specific rule)
};

// Middleboxes (Cisco "inspect esmtp", STRIPTLS proxies) overwrite the keyword in place: same
// length as the real one (8 for STARTTLS, 4 for STLS), at least three quarters 'X'
// ("XXXXXXXA"). IMC15; Cisco ESA note 118550.
bool LooksMasked(std::string_view keyword, size_t real_length);

}  // namespace mailsec::proto
