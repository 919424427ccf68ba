// What each endpoint showed in earlier probes, kept across restarts in the state file: when
// STARTTLS was seen, the best TLS version seen, and the certificates seen. From it come the
// downgrade signals that one probe alone cannot see (starttls_lost, tls_downgraded) and the
// certificate-change facts.
//
// Thread-safe: every method may be called from any thread (one mutex inside).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/base/status.h"
#include "mailsec/checks/mta_sts.h"
#include "mailsec/probe/report.h"

namespace mailsec::findings {

// A state file larger than this is not ours (10,000 endpoints need well under 16 MiB).
inline constexpr size_t kMaxStateFileBytes = 64 * 1024 * 1024;
// Certificates remembered per endpoint: enough to see a renewal and a swap back.
inline constexpr size_t kMaxCertsPerEndpoint = 8;

struct CertSeen {
  std::string fingerprint_sha256;
  std::string spki_sha256;  // "" in state files written before it was recorded
  std::string issuer_cn;
  int64_t not_after = 0;
  double first_seen = 0;
  double last_seen = 0;
};

struct EndpointHistory {
  double starttls_first_seen = 0;  // 0: never
  double starttls_last_seen = 0;
  int best_tls_version = 0;     // TlsVersionRank of the best version ever negotiated
  std::vector<CertSeen> certs;  // oldest first
  uint64_t cert_changes = 0;    // times the served leaf differed from the previous probe's
  // The latest change that did not look like a renewal (CHECKS.md STRIP-03), and when.
  std::string unexpected_change;
  double unexpected_change_at = 0;
  double last_probe = 0;
  // A domain's entry (key "DOMAIN mta-sts") holds what its MTA-STS policy looked like last
  // (CHECKS.md STS-09); endpoint entries leave these empty.
  std::string mta_sts_id;
  uint64_t mta_sts_body_hash = 0;
};

// How long a certificate change that does not look like a renewal keeps the check
// cert_change_unexpected at warn (long enough for an alert's `for:` and a human to look).
inline constexpr double kUnexpectedChangeWarnSeconds = 24 * 3600;

// Why a change from the leaf served before (`before`) to the one served now is not a normal
// renewal, or "" when it is one: a renewal keeps the issuer and moves notAfter forward.
// `seen_before` is true when the new leaf was served earlier already (a swap back).
std::string UnexpectedCertChange(const CertSeen& before, const tls::CertFacts& now,
                                 bool seen_before);

// "TLSv1" -> 10, "TLSv1.1" -> 11, "TLSv1.2" -> 12, "TLSv1.3" -> 13, "SSLv3" -> 3; else 0.
int TlsVersionRank(std::string_view version);

// The key of one endpoint address: "smtp://mx.example.org:25 192.0.2.1".
std::string HistoryKey(const probe::EndpointReport& report);

class History {
 public:
  History() = default;

  // Compares the report with what was seen before, sets the history-derived signals on it
  // (starttls_lost, tls_downgraded) and its certificate facts (cert_first_seen, cert_changes),
  // then records what it shows. `now` is Unix seconds.
  void Observe(probe::EndpointReport* report, double now);

  // The MTA-STS policy a domain served last (id and body hash), and recording the one it serves
  // now. `now` is Unix seconds.
  bool GetMtaSts(const std::string& domain, checks::MtaStsSeen* out) const;
  void ObserveMtaSts(const std::string& domain, const checks::MtaStsSeen& seen, double now);

  // Drops endpoints whose target is not in `live_targets` (canonical target strings) and that
  // were last probed more than `retention_seconds` ago.
  void Prune(const std::set<std::string>& live_targets, double now, double retention_seconds);

  std::string Serialize() const;
  // Parses a state file's text; a malformed file is an error (the caller moves it aside).
  static Result<std::map<std::string, EndpointHistory>> Parse(std::string_view text);

  // Writes atomically: a temp file next to `path`, fsync, rename, fsync of the directory.
  Status Save(const std::string& path) const;
  // Loads `path`. A missing file is a fresh start; an unreadable or corrupt one is renamed to
  // `path.corrupt-<unix time>` and *warning says so; either way the history starts empty.
  void Load(const std::string& path, std::string* warning);

  bool dirty() const;
  size_t size() const;
  bool Get(const std::string& key, EndpointHistory* out) const;

 private:
  mutable std::mutex mu_;  // guards entries_ and dirty_
  std::map<std::string, EndpointHistory> entries_;
  mutable bool dirty_ = false;
};

}  // namespace mailsec::findings
