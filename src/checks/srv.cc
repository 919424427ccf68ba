#include "mailsec/checks/srv.h"

#include <algorithm>
#include <optional>

#include "checks/text_util.h"
#include "mailsec/base/text.h"

namespace mailsec::checks {
namespace {

// RFC 8314 §5.1 / RFC 6186 §3.1: the implicit-TLS variant and the STARTTLS/cleartext one it
// should be preferred to.
struct TlsPair {
  std::string_view implicit_label;
  std::string_view starttls_label;
};
constexpr TlsPair kTlsPairs[] = {
    {"_submissions._tcp", "_submission._tcp"},
    {"_imaps._tcp", "_imap._tcp"},
    {"_pop3s._tcp", "_pop3._tcp"},
};

const SrvService* FindService(std::string_view label) {
  for (const SrvService& s : MailSrvServices()) {
    if (EqualsIgnoreCase(s.label, label)) return &s;
  }
  return nullptr;
}

bool IsDotTarget(std::string_view t) { return t.empty() || t == "."; }

// The lowest priority among the usable records of `label`, when it answered with one.
std::optional<uint16_t> BestPriority(const std::vector<SrvLookup>& lookups,
                                     std::string_view label) {
  std::optional<uint16_t> best;
  for (const SrvLookup& l : lookups) {
    if (!EqualsIgnoreCase(l.label, label) || l.status != LookupStatus::kOk) continue;
    for (const SrvRecordIn& r : l.records) {
      if (IsDotTarget(r.target)) continue;
      if (!best || r.priority < *best) best = r.priority;
    }
  }
  return best;
}

}  // namespace

const std::vector<SrvService>& MailSrvServices() {
  static const std::vector<SrvService> kServices = {
      {"_submissions._tcp", "submissions", 465, true},
      {"_submission._tcp", "submission", 587, false},
      {"_imaps._tcp", "imaps", 993, true},
      {"_imap._tcp", "imap", 143, false},
      {"_pop3s._tcp", "pop3s", 995, true},
      {"_pop3._tcp", "pop3", 110, false},
      {"_sieve._tcp", "sieve", 4190, false},  // RFC 5804 §1.8
  };
  return kServices;
}

std::vector<SrvTarget> SrvEndpoints(const std::vector<SrvLookup>& lookups) {
  std::vector<SrvTarget> out;
  for (const SrvLookup& l : lookups) {
    const SrvService* svc = FindService(l.label);
    if (svc == nullptr || l.status != LookupStatus::kOk) continue;
    std::vector<const SrvRecordIn*> recs;
    for (const SrvRecordIn& r : l.records) recs.push_back(&r);
    std::stable_sort(recs.begin(), recs.end(), [](const SrvRecordIn* a, const SrvRecordIn* b) {
      return a->priority != b->priority ? a->priority < b->priority : a->weight > b->weight;
    });
    for (const SrvRecordIn* r : recs) {
      if (out.size() == kMaxSrvEndpoints) return out;
      std::string host = internal::NormalizeName(TrimSpace(r->target));
      if (IsDotTarget(TrimSpace(r->target)) || r->port == 0 || !internal::ValidDomain(host)) {
        continue;
      }
      SrvTarget t{std::string(svc->service), std::move(host), r->port};
      bool dup = std::any_of(out.begin(), out.end(), [&t](const SrvTarget& o) {
        return o.service == t.service && o.host == t.host && o.port == t.port;
      });
      if (!dup) out.push_back(std::move(t));
    }
  }
  return out;
}

std::vector<Finding> AssessSrv(const std::vector<SrvLookup>& lookups) {
  std::vector<Finding> out;
  if (lookups.empty()) return out;
  std::vector<std::string> failed;
  for (const SrvLookup& l : lookups) {
    if (LookupFailed(l.status)) failed.push_back(Printable(l.label, 40));
  }
  if (!failed.empty()) {
    out.push_back(Finding{kSrvLookupCheck, CheckVerdict::kError,
                          "SRV lookup failed for " + internal::Join(failed)});
  } else {
    out.push_back(Finding{kSrvLookupCheck, CheckVerdict::kPass,
                          std::to_string(lookups.size()) + " SRV lookup(s) answered"});
  }

  std::vector<std::string> preferred_starttls;
  size_t pairs = 0;
  for (const TlsPair& p : kTlsPairs) {
    std::optional<uint16_t> implicit = BestPriority(lookups, p.implicit_label);
    std::optional<uint16_t> starttls = BestPriority(lookups, p.starttls_label);
    if (!implicit || !starttls) continue;
    ++pairs;
    if (*implicit > *starttls) {
      preferred_starttls.push_back(
          std::string(p.starttls_label) + " (priority " + std::to_string(*starttls) + ") over " +
          std::string(p.implicit_label) + " (priority " + std::to_string(*implicit) + ")");
    }
  }
  if (pairs == 0) return out;
  if (preferred_starttls.empty()) {
    out.push_back(Finding{kSrvImplicitTlsPreferredCheck, CheckVerdict::kPass,
                          "implicit TLS preferred in " + std::to_string(pairs) + " pair(s)"});
  } else {
    out.push_back(Finding{kSrvImplicitTlsPreferredCheck, CheckVerdict::kWarn,
                          "STARTTLS/cleartext preferred: " + internal::Join(preferred_starttls) +
                              " (RFC 8314 §5.1)"});
  }
  return out;
}

const std::vector<std::string_view>& SrvCheckIds() {
  static const std::vector<std::string_view> kIds = {kSrvLookupCheck,
                                                     kSrvImplicitTlsPreferredCheck};
  return kIds;
}

}  // namespace mailsec::checks
