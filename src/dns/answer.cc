// The pure half of the resolver: what a raw reply means for a query. No I/O, no c-ares.
#include <string>
#include <utility>
#include <variant>

#include "mailsec/dns/resolver.h"

namespace mailsec::dns {
namespace {

DnsAnswer Fail(Outcome outcome, std::string_view name, std::string error) {
  DnsAnswer a;
  a.outcome = outcome;
  a.canonical_name = std::string(name);
  a.error = std::move(error);
  return a;
}

}  // namespace

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kNxDomain:
      return "nxdomain";
    case Outcome::kNoData:
      return "nodata";
    case Outcome::kServFail:
      return "servfail";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kMalformed:
      return "malformed";
    case Outcome::kRefused:
      return "refused";
  }
  return "unknown";
}

DnsAnswer InterpretReply(std::span<const uint8_t> reply, std::string_view name, RrType type) {
  auto parsed = ParseDnsMessage(reply);
  if (!parsed.ok()) return Fail(Outcome::kMalformed, name, parsed.status().message());
  const DnsMessage& m = *parsed;
  if (!m.header.qr) return Fail(Outcome::kMalformed, name, "reply is not a response");
  if (m.questions.size() > 1 || (m.questions.size() == 1 && (!SameName(m.questions[0].name, name) ||
                                                             m.questions[0].type != type))) {
    return Fail(Outcome::kMalformed, name, "reply to another question");
  }
  DnsAnswer a;
  a.authenticated_data = m.header.ad;
  a.canonical_name = std::string(name);
  switch (m.header.rcode) {
    case kRcodeNoError:
      break;
    case kRcodeNxDomain:
      a.outcome = Outcome::kNxDomain;
      return a;
    case kRcodeRefused:
      a.outcome = Outcome::kRefused;
      a.error = "server refused the query";
      return a;
    default:
      a.outcome = Outcome::kServFail;
      a.error = "rcode " + std::to_string(m.header.rcode);
      return a;
  }
  // Follow CNAMEs inside the answer from the asked name; records of the type are taken only at
  // the end of the chain, so an unrelated record in the answer cannot pass for the asked one.
  std::string current(name);
  if (type != RrType::kCname) {
    for (int hops = 0;; ++hops) {
      const CnameData* next = nullptr;
      for (const ResourceRecord& rr : m.answers) {
        if (rr.type != RrType::kCname || !SameName(rr.name, current)) continue;
        next = std::get_if<CnameData>(&rr.data);
        if (next != nullptr) break;
      }
      if (next == nullptr) break;
      if (hops == kMaxCnameChain) {
        a.outcome = Outcome::kServFail;
        a.error = "CNAME chain longer than " + std::to_string(kMaxCnameChain) + " or looping";
        return a;
      }
      current = next->target;
    }
  }
  a.canonical_name = current;
  for (const ResourceRecord& rr : m.answers) {
    if (rr.type == type && SameName(rr.name, current)) a.records.push_back(rr);
  }
  a.outcome = a.records.empty() ? Outcome::kNoData : Outcome::kOk;
  return a;
}

}  // namespace mailsec::dns
