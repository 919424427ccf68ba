// Fuzzes the TLS-RPT record parser and the record evaluator.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mailsec/checks/tlsrpt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = mailsec::checks::ParseTlsRptRecord(in);
  (void)r;
  mailsec::checks::TlsRptInputs inputs;
  inputs.domain = "example.com";
  inputs.txts = {std::string(in)};
  auto a = mailsec::checks::AssessTlsRpt(inputs);
  (void)a;
  return 0;
}
