// Fuzzes the SPF record parser, record selection and the explanation validator with arbitrary
// bytes, then walks the input as a domain's record (every query answered with the same bytes) to
// exercise the walk's bookkeeping on hostile records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/checks/spf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mailsec::checks;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = ParseSpfRecord(in);
  if (r.ok()) {
    for (const SpfTerm& t : r->terms) {
      if (t.cidr4 > 32 || t.cidr6 > 128) std::abort();
    }
  }
  (void)ValidateSpfExplanation(in);
  (void)IsNonSendingSpfPolicy(in);

  std::vector<std::string> txts;
  size_t start = 0;
  while (start <= in.size()) {
    size_t end = in.find('\n', start);
    if (end == std::string_view::npos) end = in.size();
    txts.emplace_back(in.substr(start, end - start));
    start = end + 1;
  }
  (void)SelectSpfRecord(txts);

  SpfWalk walk("fuzz.example");
  SpfDnsAnswer answer{SpfDnsAnswer::Kind::kOk, txts};
  int steps = 0;
  while (walk.NextQuery()) {
    if (++steps > kSpfMaxWalkQueries) std::abort();  // the walk must bound itself
    walk.Feed(answer);
  }
  const SpfResult& res = walk.result();
  if (res.findings.empty()) std::abort();
  return 0;
}
