#include "mailsec/probe/scan_target.h"

#include <algorithm>
#include <asio/ip/address.hpp>
#include <string>
#include <system_error>

namespace mailsec::probe {
namespace {

// The fast probe reached the server: there is something to scan.
bool Connected(const EndpointReport& r) {
  return !r.ip.empty() && r.phase_seconds[static_cast<int>(Phase::kConnect)] >= 0 &&
         r.failure != Failure::kConnectRefused && r.failure != Failure::kConnectTimeout &&
         r.failure != Failure::kConnectError && r.failure != Failure::kResolve;
}

constexpr std::string_view kCertRevokedCheck = "cert_revoked";  // CERT-09, without a staple

void AddRevocation(const RevocationResult& rev, ScanReport* scan) {
  if (std::optional<checks::Finding> f = ChainRevocationFinding(rev)) {
    scan->findings.push_back(std::move(*f));
  }
  scan->revocation_source = rev.source;
  scan->revocation_detail = rev.detail;
  switch (rev.status) {
    case RevocationResult::Status::kGood:
      scan->revoked = false;
      break;
    case RevocationResult::Status::kRevoked:
      scan->revoked = true;
      break;
    case RevocationResult::Status::kUnknown:
    case RevocationResult::Status::kUntested:
      break;
  }
}

}  // namespace

AddressLocks::Lease::~Lease() {
  if (owner_ != nullptr) owner_->Unlock(ips_);
}

std::optional<AddressLocks::Lease> AddressLocks::TryLock(std::vector<std::string> ips) {
  std::sort(ips.begin(), ips.end());
  ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& ip : ips) {
    if (busy_.count(ip)) return std::nullopt;
  }
  busy_.insert(ips.begin(), ips.end());
  return std::optional<Lease>(std::in_place, this, std::move(ips));
}

size_t AddressLocks::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return busy_.size();
}

void AddressLocks::Unlock(const std::vector<std::string>& ips) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& ip : ips) busy_.erase(ip);
}

void AttachScan(std::shared_ptr<const ScanReport> shared, EndpointReport* report) {
  if (shared == nullptr) return;
  report->scan = std::move(shared);
  const ScanReport& scan = *report->scan;
  if (scan.command_injection.value_or(false)) {
    std::string detail = "a command pipelined behind STARTTLS was answered inside TLS";
    for (const checks::Finding& f : scan.findings) {
      if (f.check == kScanCommandInjectionCheck && !f.detail.empty()) detail = f.detail;
    }
    RaiseSignal(report, Signal::kCommandInjection, detail);
  }
  // With a staple, the endpoint's own cert_revoked check decided (findings/verdicts.cc).
  if (report->tls.ocsp_stapled || scan.revocation_source.empty() ||
      scan.revocation_source == "ocsp_staple") {
    return;
  }
  for (const checks::Finding& have : scan.findings) {
    if (have.check == kCertRevokedCheck) return;  // attached before (a kept scan)
  }
  checks::Finding f;
  f.check = kCertRevokedCheck;
  const std::string from = scan.revocation_source == "crl" ? "the CRL" : "the OCSP responder";
  if (scan.revoked.has_value()) {
    f.verdict = *scan.revoked ? checks::CheckVerdict::kFail : checks::CheckVerdict::kPass;
    f.detail = (*scan.revoked ? "revoked, says " : "good, says ") + from;
  } else {
    f.verdict = checks::CheckVerdict::kWarn;
    f.detail = from + " does not know the certificate";
  }
  auto copy = std::make_shared<ScanReport>(scan);
  copy->findings.push_back(std::move(f));
  report->scan = std::move(copy);
}

std::optional<checks::Finding> ChainRevocationFinding(const RevocationResult& rev) {
  using Status = RevocationResult::Status;
  bool any_revoked = false;
  bool any_unknown = false;
  bool any_good = false;
  std::string detail;
  for (const RevocationResult::Element& e : rev.intermediates) {
    any_revoked = any_revoked || e.status == Status::kRevoked;
    any_unknown = any_unknown || e.status == Status::kUnknown;
    any_good = any_good || e.status == Status::kGood;
    std::string what;
    switch (e.status) {
      case Status::kGood:
        what = "good";
        break;
      case Status::kRevoked:
        what = "REVOKED";
        break;
      case Status::kUnknown:
        what = "unknown to the responder";
        break;
      case Status::kUntested:
        what = "untested";
        break;
    }
    if (!detail.empty()) detail += "; ";
    detail += "depth " + std::to_string(e.depth) + " \"" + e.subject_cn + "\": " + what;
    if (!e.detail.empty()) detail += " (" + e.detail + ")";
  }
  if (!any_revoked && !any_unknown && !any_good) return std::nullopt;
  checks::Finding f;
  f.check = kScanChainRevokedCheck;
  f.verdict = any_revoked   ? checks::CheckVerdict::kFail
              : any_unknown ? checks::CheckVerdict::kWarn
                            : checks::CheckVerdict::kPass;
  constexpr size_t kMaxDetail = 1024;
  if (detail.size() > kMaxDetail) detail = detail.substr(0, kMaxDetail - 3) + "...";
  f.detail = std::move(detail);
  return f;
}

asio::awaitable<void> ScanTargetResult(TargetResult* result, ScanTargetOptions options) {
  // TX-02 asks for the postmaster of the domain whose MX this is.
  if (result->domain && options.scan.postmaster_domain.empty()) {
    options.scan.postmaster_domain = result->domain->domain;
  }
  for (EndpointReport& r : result->endpoints) {
    if (options.scan.cancel != nullptr && options.scan.cancel->load()) co_return;  // shutdown
    if (!Connected(r)) continue;
    std::error_code ec;
    asio::ip::address address = asio::ip::make_address(r.ip, ec);
    if (ec) continue;
    ScanReport scan = co_await ScanAddress(r.target, address, options.scan);
    if (r.tls.has_leaf && options.pool != nullptr) {
      if (!options.revocation.trust) options.revocation.trust = options.scan.probe.tls;
      RevocationResult rev = co_await CheckRevocation(r.tls, options.revocation, *options.pool);
      AddRevocation(rev, &scan);
    }
    AttachScan(std::make_shared<const ScanReport>(std::move(scan)), &r);
  }
}

}  // namespace mailsec::probe
