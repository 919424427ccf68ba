#include "mailsec/plan/plan.h"

#include <set>

namespace mailsec::plan {

std::string_view KindName(Kind k) { return k == Kind::kDomain ? "domain" : "endpoint"; }

size_t Plan::Count(Kind k) const {
  size_t n = 0;
  for (const auto& t : targets) n += (t.kind == k);
  return n;
}

Plan BuildPlan(const config::Config& config) {
  Plan plan;
  std::set<std::string> seen;
  for (const auto& d : config.domains) {
    Target t;
    t.id = d.name;
    t.kind = Kind::kDomain;
    t.domain = d;
    t.interval = config.global.interval;
    t.timeout = config.global.timeout;
    if (seen.insert(t.id).second) plan.targets.push_back(std::move(t));
  }
  for (const auto& e : config.endpoints) {
    Target t;
    t.id = e.target.ToString();
    t.kind = Kind::kEndpoint;
    t.endpoint = e.target;
    t.interval = config.global.interval;
    t.timeout = config.global.timeout;
    if (seen.insert(t.id).second) plan.targets.push_back(std::move(t));
  }
  return plan;
}

}  // namespace mailsec::plan
