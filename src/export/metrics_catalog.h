// The catalog: every metric family the export layer emits, declared once as data (name, help,
// type, label names in order). The collector creates samples only through it, and a unit test
// checks every entry against prometheus-cpp's name rules, CONTRACT.md and docs/metrics.md.
// Immutable, static storage: safe to read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace mailsec::exporter {

enum class MetricType : uint8_t { kGauge, kCounter };

// One id per family. The order is the catalog's order (by name); Def() indexes by it. One name,
// mailsec_check_result, has two entries (endpoint and domain labels): the collector merges them
// into one family.
enum class Metric : uint8_t {
  kBuildInfo,
  kCertChainLength,
  kCertChainNotAfter,
  kCertChangesTotal,
  kCertFirstSeen,
  kCertHostnameMatch,
  kCertInfo,
  kCertNotAfter,
  kCertNotBefore,
  kCertRevoked,
  kCertTrusted,
  kCertVerifyResultInfo,
  kCheckResult,
  kCheckResultDomain,  // the same family as kCheckResult, with the domain labels
  kConfigLastReloadSuccessTimestamp,
  kConfigLastReloadSuccessful,
  kDaneMatch,
  kDaneTlsaPresent,
  kDkimKeyBits,
  kDkimPresent,
  kDmarcPct,
  kDmarcPolicyInfo,
  kDmarcPresent,
  kDmarcValid,
  kDnssecSecure,
  kDomainCheckSuccess,
  kDomainProbeDuration,
  kDomainProbeTimestamp,
  kDowngradeSignal,
  kFcrdnsMatch,
  kMtaStsMaxAge,
  kMtaStsModeInfo,
  kMtaStsMxCovered,
  kMtaStsPolicyValid,
  kMtaStsPresent,
  kMxInfo,
  kOcspStapled,
  kProbeDuration,
  kProbeFailureInfo,
  kProbePhaseDuration,
  kProbeSuccess,
  kProbeTimestamp,
  kProbesTotal,
  kScanHandshakes,
  kScanTimestamp,
  kSpfAllInfo,
  kSpfDnsLookups,
  kSpfPresent,
  kSpfValid,
  kStartTlsOffered,
  kTargets,
  kTlsCipherAcceptedInfo,
  kTlsCipherInfo,
  kTlsGroupInfo,
  kTlsGroupSupported,
  kTlsHandshakeSuccess,
  kTlsLeafNotAfter,
  kTlsLeafServed,
  kTlsMinCipherBits,
  kTlsSessionResumption,
  kTlsTicketLifetimeHint,
  kTlsVersionInfo,
  kTlsVersionSupported,
  kTlsWeakCipherAccepted,
  kTlsWeakCipherInfo,
  kTlsRptPresent,
  kTlsRptValid,
};

struct MetricDef {
  Metric id;
  std::string_view name;
  std::string_view help;  // one line, no backslash: TextSerializer 1.0.1 prints help unescaped
  MetricType type;
  // Label names, in the order samples carry them; endpoint metrics start with service, host,
  // port, ip.
  std::span<const std::string_view> labels;
};

// Every family, in Metric order.
std::span<const MetricDef> Catalog();

// The definition of one family.
const MetricDef& Def(Metric m);

// "gauge" / "counter", as the text format spells the type.
std::string_view TypeName(MetricType t);

}  // namespace mailsec::exporter
