// libFuzzer target for the config parsers: ParseConfig on arbitrary bytes, plus the target,
// domain and duration parsers, which also read untrusted text (/probe?target=, flags).
// Checks that whatever parses also round-trips through its canonical form.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mailsec/config/config.h"
#include "mailsec/config/target.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mailsec::config;  // NOLINT: a fuzz entry point
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  mailsec::Result<Config> cfg = ParseConfig(text, "fuzz.toml");
  if (cfg.ok()) {
    // A timeout longer than the interval is allowed (the next probe waits).
    Check(cfg->global.timeout.count() > 0 && cfg->global.interval.count() > 0);
    Check(cfg->global.concurrency >= 1 && cfg->global.concurrency <= 100000);
    for (const EndpointConfig& e : cfg->endpoints) {
      mailsec::Result<EndpointTarget> again = ParseEndpointTarget(e.target.ToString());
      Check(again.ok() && *again == e.target);
    }
  } else {
    Check(cfg.status().message().rfind("fuzz.toml:", 0) == 0);
  }

  mailsec::Result<EndpointTarget> t = ParseEndpointTarget(text);
  if (t.ok()) {
    mailsec::Result<EndpointTarget> again = ParseEndpointTarget(t->ToString());
    Check(again.ok() && *again == *t);
  }

  mailsec::Result<std::string> d = ParseDomainName(text);
  if (d.ok()) {
    mailsec::Result<std::string> again = ParseDomainName(*d);
    Check(again.ok() && *again == *d);
  }

  mailsec::Result<Duration> dur = ParseDuration(text);
  if (dur.ok()) {
    mailsec::Result<Duration> again = ParseDuration(FormatDuration(*dur));
    Check(again.ok() && *again == *dur);
  }
  return 0;
}
