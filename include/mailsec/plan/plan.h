// The plan: what to probe and how often, derived from a validated Config. Pure; no I/O.
#pragma once

#include <string>
#include <vector>

#include "mailsec/config/config.h"

namespace mailsec::plan {

enum class Kind : uint8_t { kEndpoint, kDomain };
std::string_view KindName(Kind k);  // "endpoint", "domain"

struct Target {
  std::string id;  // canonical: "smtp://host:25" for endpoints, "example.org" for domains
  Kind kind = Kind::kEndpoint;
  config::EndpointTarget endpoint;  // kEndpoint
  config::DomainConfig domain;      // kDomain
  config::Duration interval{0};
  config::Duration timeout{0};

  // Same target with the same schedule: a reload keeps its loop running.
  bool SameSchedule(const Target& o) const {
    return id == o.id && interval == o.interval && timeout == o.timeout;
  }
};

struct Plan {
  std::vector<Target> targets;  // unique ids, in config order (domains first)
  size_t Count(Kind k) const;
};

Plan BuildPlan(const config::Config& config);

}  // namespace mailsec::plan
