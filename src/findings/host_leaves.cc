#include "mailsec/findings/host_leaves.h"

#include <algorithm>
#include <utility>

#include "mailsec/config/target.h"

namespace mailsec::findings {
namespace {

bool Valid(const PortLeaf& l, int64_t now) { return l.not_before <= now && now < l.not_after; }

std::string Describe(const PortLeaf& l, int64_t now) {
  std::string s =
      std::to_string(l.port) + " (" + l.service + ", " + l.fingerprint_sha256.substr(0, 16) + "...";
  if (now >= l.not_after) {
    s += ", expired";
  } else if (now < l.not_before) {
    s += ", not yet valid";
  }
  return s + ")";
}

// CompareAcrossPorts over pointers: the exporter's host table is not copied per probe.
std::optional<checks::Finding> ComparePeers(const PortLeaf& mine,
                                            const std::vector<const PortLeaf*>& others,
                                            int64_t now_unix) {
  std::vector<const PortLeaf*> peers;
  for (const PortLeaf* o : others) {
    if (o->port != mine.port && !o->fingerprint_sha256.empty()) peers.push_back(o);
  }
  if (peers.empty() || mine.fingerprint_sha256.empty()) return std::nullopt;
  std::sort(peers.begin(), peers.end(), [](const PortLeaf* a, const PortLeaf* b) {
    return std::tie(a->port, a->fingerprint_sha256) < std::tie(b->port, b->fingerprint_sha256);
  });
  peers.erase(std::unique(peers.begin(), peers.end(),
                          [](const PortLeaf* a, const PortLeaf* b) {
                            return a->port == b->port &&
                                   a->fingerprint_sha256 == b->fingerprint_sha256;
                          }),
              peers.end());
  constexpr size_t kMaxNamed = 8;  // ports named in the detail
  if (peers.size() > kMaxNamed) peers.resize(kMaxNamed);

  checks::Finding f;
  f.check = kCertConsistentAcrossPortsCheck;
  const bool mine_valid = Valid(mine, now_unix);
  std::vector<const PortLeaf*> opposite;  // valid where mine is not, or the reverse
  bool same = true;
  for (const PortLeaf* p : peers) {
    if (Valid(*p, now_unix) != mine_valid) opposite.push_back(p);
    same = same && p->fingerprint_sha256 == mine.fingerprint_sha256;
  }
  std::string list;
  for (const PortLeaf* p : opposite.empty() ? peers : opposite) {
    list += (list.empty() ? "" : ", ") + Describe(*p, now_unix);
  }
  if (!opposite.empty()) {
    f.verdict = checks::CheckVerdict::kWarn;
    f.detail = mine_valid ? "this port's leaf is valid, but the same host and address serve an "
                            "invalid one on port " +
                                list
                          : "this port's leaf is outside its validity period, while the same host "
                            "and address serve a valid one on port " +
                                list;
  } else if (same) {
    f.verdict = checks::CheckVerdict::kPass;
    f.detail = "the same leaf on port " + list;
  } else {
    f.verdict = checks::CheckVerdict::kPass;
    f.detail = "this port serves " + Describe(mine, now_unix) + "; other leaves on port " + list;
  }
  return f;
}

}  // namespace

std::optional<checks::Finding> CompareAcrossPorts(const PortLeaf& mine,
                                                  const std::vector<PortLeaf>& others,
                                                  int64_t now_unix) {
  std::vector<const PortLeaf*> peers;
  peers.reserve(others.size());
  for (const PortLeaf& o : others) peers.push_back(&o);
  return ComparePeers(mine, peers, now_unix);
}

void HostLeaves::ForgetLocked(const std::string& target_id) {
  auto it = by_target_.find(target_id);
  if (it == by_target_.end()) return;
  for (const auto& [host, entry] : it->second) {
    auto h = by_host_.find(host);
    if (h == by_host_.end()) continue;
    entries_ -= h->second.erase(entry);
    if (h->second.empty()) by_host_.erase(h);
  }
  by_target_.erase(it);
  if (auto s = target_seq_.find(target_id); s != target_seq_.end()) {
    target_order_.erase(s->second);
    target_seq_.erase(s);
  }
}

void HostLeaves::RecordAndEvaluate(probe::TargetResult* result, int64_t now_unix, bool record) {
  std::lock_guard<std::mutex> lock(mu_);
  if (record) ForgetLocked(result->target_id);
  std::vector<std::pair<HostKey, EntryKey>> recorded;
  for (const probe::EndpointReport& e : result->endpoints) {
    if (!record) break;
    if (!e.tls.has_leaf || e.ip.empty() || e.tls.leaf->fingerprint_sha256.empty()) continue;
    while (entries_ >= kMaxEntries && !target_order_.empty()) {
      ForgetLocked(target_order_.begin()->second);  // the oldest target's leaves
    }
    HostKey host{e.target.host, e.ip};
    EntryKey entry{result->target_id, e.target.port};
    PortLeaf leaf{e.target.port, std::string(config::ServiceName(e.target.service)),
                  e.tls.leaf->fingerprint_sha256, e.tls.leaf->not_before, e.tls.leaf->not_after};
    if (by_host_[host].insert_or_assign(entry, std::move(leaf)).second) ++entries_;
    recorded.emplace_back(std::move(host), std::move(entry));
  }
  if (!recorded.empty()) {
    by_target_[result->target_id] = recorded;
    target_order_[++seq_] = result->target_id;
    target_seq_[result->target_id] = seq_;
  }

  for (probe::EndpointReport& e : result->endpoints) {
    std::erase_if(e.host_findings, [](const checks::Finding& f) {
      return f.check == kCertConsistentAcrossPortsCheck;
    });
    if (!e.tls.has_leaf || e.ip.empty()) continue;
    auto h = by_host_.find(HostKey{e.target.host, e.ip});
    if (h == by_host_.end()) continue;
    std::vector<const PortLeaf*> others;
    for (const auto& [entry, leaf] : h->second) {
      if (leaf.port != e.target.port && entry.first != result->target_id) others.push_back(&leaf);
    }
    const PortLeaf mine{e.target.port, std::string(config::ServiceName(e.target.service)),
                        e.tls.leaf->fingerprint_sha256, e.tls.leaf->not_before,
                        e.tls.leaf->not_after};
    if (auto f = ComparePeers(mine, others, now_unix)) {
      e.host_findings.push_back(std::move(*f));
    }
  }
}

void HostLeaves::Retain(const std::set<std::string>& ids) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> gone;
  for (const auto& [id, entries] : by_target_) {
    if (!ids.count(id)) gone.push_back(id);
  }
  for (const std::string& id : gone) ForgetLocked(id);
}

size_t HostLeaves::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_;
}

}  // namespace mailsec::findings
