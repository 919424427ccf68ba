// The plan: what to probe and how often, derived from a validated Config. Pure; no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"
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

// One slice of the configured targets, for running N exporters side by side on a large fleet
// (`--shard=i/N`): replica i probes exactly the targets whose StableHash(id) % count == index.
// The default {0, 1} is every target.
struct Shard {
  uint32_t index = 0;
  uint32_t count = 1;

  bool Contains(std::string_view target_id) const;
  std::string ToString() const;  // "i/N"
};

// The limit on N: a shard count beyond this is a typo, not a fleet.
inline constexpr uint32_t kMaxShards = 1024;

// "i/N" with decimal integers, 0 <= i < N <= kMaxShards. The error message is one line and says
// what is wrong ("3/2": index must be below the count).
[[nodiscard]] Result<Shard> ParseShard(std::string_view text);

// FNV-1a, 64 bits, over the bytes of `s`: the same value on every platform, build and restart,
// so replicas agree on who probes what without talking to each other.
uint64_t StableHash(std::string_view s);

struct Plan {
  std::vector<Target> targets;  // unique ids, in config order (domains first); this shard's only
  Shard shard;
  size_t configured = 0;  // unique targets in the config, over every shard
  size_t Count(Kind k) const;
};

// The targets of `config` that fall in `shard`.
Plan BuildPlan(const config::Config& config, Shard shard = {});

}  // namespace mailsec::plan
