// CHECKS.md CERT-16 across ports: the leaves that the other ports of the same host and address
// serve (25, 465 and 587 of one MX, or its IMAP and POP3 ports), and the verdict of comparing
// them. The fast probe sees one target at a time, so the exporter (and one `check` run) keeps
// the latest leaf of every endpoint here and judges each new result against the others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mailsec/checks/verdict.h"
#include "mailsec/probe/report.h"

namespace mailsec::findings {

inline constexpr std::string_view kCertConsistentAcrossPortsCheck = "cert_consistent_across_ports";

// The leaf one endpoint served.
struct PortLeaf {
  uint16_t port = 0;
  std::string service;             // "smtp", "submissions", ...
  std::string fingerprint_sha256;  // lower-case hex
  int64_t not_before = 0;          // Unix seconds
  int64_t not_after = 0;
};

// The cert_consistent_across_ports finding of an endpoint that served `mine`, against the leaves
// of the host's other ports on the same address (`others`, ports other than mine). nullopt when
// there is nothing to compare with. warn: one of them is outside its validity period (expired or
// not yet valid) while another is inside it: clients of one port fail while the others work,
// the renewal missed a service. pass otherwise: the detail says whether one leaf is served on
// every port or which ports serve which (different valid leaves are a legitimate set-up, e.g.
// a submission name of its own).
std::optional<checks::Finding> CompareAcrossPorts(const PortLeaf& mine,
                                                  const std::vector<PortLeaf>& others,
                                                  int64_t now_unix);

// The latest leaf of every endpoint, by (host, address), across targets. Thread-safe. Bounded:
// at most kMaxEntries endpoints (the oldest target's are dropped first when full).
class HostLeaves {
 public:
  static constexpr size_t kMaxEntries = 100'000;

  // Replaces what `result` (by its target id) recorded before with the leaves its endpoints
  // served now (only when `record`: an ad-hoc /probe of a target outside the plan is judged but
  // not kept), then sets on each of its endpoints with a leaf the cert_consistent_across_ports
  // finding in `host_findings` (an earlier one is replaced; none when nothing to compare).
  void RecordAndEvaluate(probe::TargetResult* result, int64_t now_unix, bool record = true);

  // Forgets every target whose id is not in `ids` (targets dropped by a reload).
  void Retain(const std::set<std::string>& ids);

  size_t size() const;

 private:
  using HostKey = std::pair<std::string, std::string>;  // host, ip
  using EntryKey = std::pair<std::string, uint16_t>;    // target id, port
  void ForgetLocked(const std::string& target_id);

  mutable std::mutex mu_;  // guards everything below
  std::map<HostKey, std::map<EntryKey, PortLeaf>> by_host_;
  std::map<std::string, std::vector<std::pair<HostKey, EntryKey>>> by_target_;
  std::map<uint64_t, std::string> target_order_;  // record sequence -> target id, oldest first
  std::map<std::string, uint64_t> target_seq_;
  uint64_t seq_ = 0;
  size_t entries_ = 0;
};

}  // namespace mailsec::findings
