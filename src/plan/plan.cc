#include "mailsec/plan/plan.h"

#include <charconv>
#include <set>

namespace mailsec::plan {

std::string_view KindName(Kind k) { return k == Kind::kDomain ? "domain" : "endpoint"; }

size_t Plan::Count(Kind k) const {
  size_t n = 0;
  for (const auto& t : targets) n += (t.kind == k);
  return n;
}

uint64_t StableHash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  return h;
}

bool Shard::Contains(std::string_view target_id) const {
  return count <= 1 || StableHash(target_id) % count == index;
}

std::string Shard::ToString() const { return std::to_string(index) + "/" + std::to_string(count); }

namespace {

// A decimal number without sign, spaces or leading '+'; false when `s` is anything else.
bool ParseCount(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Result<Shard> ParseShard(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return Status::InvalidArgument("shard must be INDEX/COUNT, e.g. 0/3");
  }
  Shard s;
  if (!ParseCount(text.substr(0, slash), &s.index) ||
      !ParseCount(text.substr(slash + 1), &s.count)) {
    return Status::InvalidArgument("shard must be INDEX/COUNT with decimal numbers, e.g. 0/3");
  }
  if (s.count == 0) return Status::InvalidArgument("shard count must be at least 1");
  if (s.count > kMaxShards) {
    return Status::InvalidArgument("shard count must be at most " + std::to_string(kMaxShards));
  }
  if (s.index >= s.count) {
    return Status::InvalidArgument("shard index must be below the count (0.." +
                                   std::to_string(s.count - 1) + ")");
  }
  return s;
}

Plan BuildPlan(const config::Config& config, Shard shard) {
  Plan plan;
  plan.shard = shard;
  std::set<std::string> seen;
  for (const auto& d : config.domains) {
    Target t;
    t.id = d.name;
    t.kind = Kind::kDomain;
    t.domain = d;
    t.interval = config.global.interval;
    t.timeout = config.global.timeout;
    if (!seen.insert(t.id).second) continue;
    ++plan.configured;
    if (shard.Contains(t.id)) plan.targets.push_back(std::move(t));
  }
  for (const auto& e : config.endpoints) {
    Target t;
    t.id = e.target.ToString();
    t.kind = Kind::kEndpoint;
    t.endpoint = e.target;
    t.interval = config.global.interval;
    t.timeout = config.global.timeout;
    if (!seen.insert(t.id).second) continue;
    ++plan.configured;
    if (shard.Contains(t.id)) plan.targets.push_back(std::move(t));
  }
  return plan;
}

}  // namespace mailsec::plan
