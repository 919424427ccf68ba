// Fuzzes the DNS wire parser with arbitrary bytes, then interprets the same bytes as the reply to
// a query (rcode, AD bit, CNAME chasing), checking the invariants the resolver relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <variant>

#include "mailsec/dns/message.h"
#include "mailsec/dns/resolver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mailsec::dns;
  std::span<const uint8_t> in(data, size);
  auto m = ParseDnsMessage(in);
  if (m.ok()) {
    if (m->answers.size() + m->authority.size() + m->additional.size() + m->questions.size() >
        kMaxRecords) {
      std::abort();
    }
    for (const ResourceRecord& rr : m->answers) {
      // A presentation name is at most 4 characters per wire octet ("\DDD").
      if (rr.name.empty() || rr.name.size() > 4 * kMaxNameOctets) std::abort();
      if (const auto* mx = std::get_if<MxData>(&rr.data)) {
        if (mx->exchange.empty()) std::abort();
      }
    }
    // The question, asked again, must encode (its name came from the wire, so it fits).
    for (const Question& q : m->questions) {
      auto built = BuildQuery(q.name, q.type, 1, true);
      if (!built.ok()) std::abort();
      auto again = ParseDnsMessage(*built);
      if (!again.ok() || !SameName(again->questions.at(0).name, q.name)) std::abort();
    }
  }
  std::string qname = "example.com";
  RrType qtype = RrType::kA;
  if (m.ok() && !m->questions.empty()) {
    qname = m->questions[0].name;
    qtype = m->questions[0].type;
  }
  DnsAnswer a = InterpretReply(in, qname, qtype);
  if (a.outcome != Outcome::kOk && !a.records.empty()) std::abort();
  if (a.outcome == Outcome::kOk && a.records.empty()) std::abort();
  for (const Record& r : a.records) {
    if (r.type != qtype) std::abort();
  }
  return 0;
}
