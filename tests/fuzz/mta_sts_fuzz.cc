// Fuzzes the MTA-STS TXT record and policy parsers and the MX pattern matcher.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mailsec/checks/mta_sts.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto rec = mailsec::checks::ParseMtaStsRecord(in);
  (void)rec;
  auto policy = mailsec::checks::ParseMtaStsPolicy(in);
  if (policy.ok()) {
    auto c = mailsec::checks::MxCovered({"mx.example.com", "a.b.example.com"}, *policy);
    (void)c;
  }
  // Split the input into host and pattern at the first newline.
  size_t nl = in.find('\n');
  if (nl != std::string_view::npos) {
    (void)mailsec::checks::MxMatchesPattern(in.substr(0, nl), in.substr(nl + 1));
  }
  return 0;
}
