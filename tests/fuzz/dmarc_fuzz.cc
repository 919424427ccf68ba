// Fuzzes the DMARC record parser, record selection and the external-report name builder.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mailsec/checks/dmarc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = mailsec::checks::ParseDmarcRecord(in);
  if (r.ok()) {
    auto names = mailsec::checks::ExternalReportNames("example.org", r->rua);
    (void)names;
  }
  mailsec::checks::DmarcInputs inputs;
  inputs.domain = "mail.example.org";
  inputs.at_domain.txts = {std::string(in)};
  auto a = mailsec::checks::AssessDmarc(inputs);
  (void)a;
  return 0;
}
