// A Resolver for unit tests of the probes: answers from a table filled by the test, with no
// network. Names not in the table are NXDOMAIN; a name with records of another type only is
// NODATA. A whole-resolver failure mode (every query SERVFAIL or timeout) tests the error paths.
// Header-only; the table must not change while queries run. Counts the queries it answered.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mailsec/dns/resolver.h"

namespace mailsec::testing {

class FakeResolver final : public dns::Resolver {
 public:
  // Every query fails with this outcome (kOk: use the table).
  void FailEverything(dns::Outcome outcome) { fail_ = outcome; }
  // Every name under `zone` is bogus: SERVFAIL, but answered when asked with the CD bit.
  void SetBogus(std::string zone) { bogus_.push_back(Lower(std::move(zone))); }
  // Answers with the AD bit for every name under `zone` (the zone itself included).
  void SetSecure(std::string zone) { secure_.push_back(Lower(std::move(zone))); }

  void Add(const std::string& name, dns::Rdata data, dns::RrType type) {
    dns::Record rr;
    rr.name = Lower(name);
    rr.type = type;
    rr.data = std::move(data);
    table_[{Lower(name), type}].push_back(std::move(rr));
  }
  void A(const std::string& name, const std::array<uint8_t, 4>& ip) {
    Add(name, dns::AData{ip}, dns::RrType::kA);
  }
  void Txt(const std::string& name, std::vector<std::string> strings) {
    Add(name, dns::TxtData{std::move(strings)}, dns::RrType::kTxt);
  }
  void Mx(const std::string& name, uint16_t preference, const std::string& exchange) {
    Add(name, dns::MxData{preference, exchange}, dns::RrType::kMx);
  }
  void Ptr(const std::string& name, const std::string& target) {
    Add(name, dns::PtrData{target}, dns::RrType::kPtr);
  }
  void Soa(const std::string& name) { Add(name, dns::RawData{}, dns::RrType::kSoa); }
  // Makes `name` answer `outcome` for `type` (SERVFAIL for one name, say).
  void Outcome(const std::string& name, dns::RrType type, dns::Outcome outcome) {
    outcomes_[{Lower(name), type}] = outcome;
  }

  // `name` is a CNAME of `canonical`: its answers are canonical's, with canonical_name set.
  void Alias(const std::string& name, const std::string& canonical) {
    aliases_[Lower(name)] = Lower(canonical);
  }

  int queries() const { return queries_.load(); }

  asio::awaitable<dns::DnsAnswer> Query(std::string name, dns::RrType type,
                                        net::Deadline) override {
    co_return Answer(std::move(name), type, /*validate=*/true);
  }
  asio::awaitable<dns::DnsAnswer> QueryUnvalidated(std::string name, dns::RrType type,
                                                   net::Deadline) override {
    co_return Answer(std::move(name), type, /*validate=*/false);
  }

 private:
  dns::DnsAnswer Answer(std::string name, dns::RrType type, bool validate) {
    ++queries_;
    dns::DnsAnswer a;
    name = Lower(std::move(name));
    if (auto it = aliases_.find(name); it != aliases_.end()) name = it->second;
    a.canonical_name = name;
    if (fail_ != dns::Outcome::kOk) {
      a.outcome = fail_;
      return a;
    }
    if (auto it = outcomes_.find({name, type}); it != outcomes_.end()) {
      a.outcome = it->second;
      return a;
    }
    if (validate && InZones(bogus_, name)) {
      a.outcome = dns::Outcome::kServFail;
      return a;
    }
    a.authenticated_data = validate && InZones(secure_, name);
    if (auto it = table_.find({name, type}); it != table_.end()) {
      a.outcome = dns::Outcome::kOk;
      a.records = it->second;
      return a;
    }
    a.outcome = dns::Outcome::kNxDomain;
    for (const auto& [key, records] : table_) {
      if (key.first == name) a.outcome = dns::Outcome::kNoData;
    }
    return a;
  }

  static std::string Lower(std::string s) {
    for (char& c : s) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
  }
  static bool InZones(const std::vector<std::string>& zones, const std::string& name) {
    for (const std::string& z : zones) {
      if (name == z || (name.size() > z.size() && name.ends_with("." + z))) return true;
    }
    return false;
  }

  dns::Outcome fail_ = dns::Outcome::kOk;
  std::vector<std::string> secure_;
  std::vector<std::string> bogus_;
  std::map<std::pair<std::string, dns::RrType>, std::vector<dns::Record>> table_;
  std::map<std::pair<std::string, dns::RrType>, dns::Outcome> outcomes_;
  std::map<std::string, std::string> aliases_;
  std::atomic<int> queries_{0};
};

}  // namespace mailsec::testing
