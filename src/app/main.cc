// The command line: the exporter daemon and the `check` subcommand.
#include <malloc.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "mailsec/app/exporter.h"
#include "mailsec/base/clock.h"
#include "mailsec/base/text.h"
#include "mailsec/config/config.h"
#include "mailsec/dns/resolver.h"
#include "mailsec/findings/host_leaves.h"
#include "mailsec/findings/verdicts.h"
#include "mailsec/http/server.h"
#include "mailsec/plan/plan.h"
#include "mailsec/probe/domain_probe.h"
#include "mailsec/probe/endpoint_probe.h"
#include "mailsec/probe/scan_target.h"
#include "mailsec/tls/client.h"

namespace mailsec::app {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitCritical = 1;
constexpr int kExitUsage = 2;

std::string FormatTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

struct CheckLine {
  std::string check;
  int verdict = 0;  // mailsec_check_result's value
  std::string detail;
};

// Every endpoint-scoped check of one report, as the exporter reports them (without the deep
// scan's, which are listed with the scan).
std::vector<CheckLine> EndpointChecks(const probe::EndpointReport& r) {
  std::vector<CheckLine> out;
  const auto now = static_cast<int64_t>(ToUnixSeconds(SystemClock().Now()));
  for (const auto& v : findings::EvaluateEndpoint(r, now)) {
    out.push_back({std::string(v.check), static_cast<int>(v.verdict), v.detail});
  }
  for (const auto* list : {&r.dane.findings, &r.operator_findings, &r.host_findings}) {
    for (const auto& f : *list) {
      out.push_back({std::string(f.check), static_cast<int>(f.verdict), f.detail});
    }
  }
  return out;
}

nlohmann::json ReportJson(const probe::EndpointReport& r) {
  nlohmann::json j;
  j["target"] = r.target.ToString();
  j["service"] = config::ServiceName(r.target.service);
  j["host"] = r.target.host;
  j["port"] = r.target.port;
  j["ip"] = r.ip;
  j["success"] = r.success;
  j["critical"] = probe::IsCritical(r);
  j["duration_seconds"] = r.duration_seconds;
  if (r.failure != probe::Failure::kNone) {
    j["failure"] = {{"phase", probe::PhaseName(r.failure_phase)},
                    {"reason", probe::FailureName(r.failure)},
                    {"error", r.error}};
  }
  j["greeting"] = r.greeting;
  if (config::ServiceTlsMode(r.target.service) == config::TlsMode::kStartTls) {
    j["starttls_offered"] = r.starttls_offered;
  }
  j["capabilities"] = r.capabilities;
  j["tls_capabilities"] = r.tls_capabilities;
  nlohmann::json signals = nlohmann::json::array();
  nlohmann::json evidence = nlohmann::json::object();
  for (int i = 0; i < probe::kSignalCount; ++i) {
    if (!r.signals[i]) continue;
    const auto s = static_cast<probe::Signal>(i);
    signals.push_back(probe::SignalName(s));
    evidence[std::string(probe::SignalName(s))] = {{"description", probe::SignalDescription(s)},
                                                   {"evidence", r.signal_evidence[i]}};
  }
  j["downgrade_signals"] = signals;
  j["downgrade_evidence"] = evidence;
  nlohmann::json endpoint_checks = nlohmann::json::array();
  for (const auto& v : EndpointChecks(r)) {
    endpoint_checks.push_back({{"check", v.check}, {"verdict", v.verdict}, {"detail", v.detail}});
  }
  j["checks"] = endpoint_checks;
  if (r.tls.handshake_ok || r.tls.has_leaf) {
    nlohmann::json t;
    t["handshake_success"] = r.tls.handshake_ok;
    t["version"] = r.tls.version;
    t["cipher"] = r.tls.cipher;
    t["group"] = r.tls.group;
    t["ocsp_stapled"] = r.tls.ocsp_stapled;
    if (r.tls.has_leaf) {
      const tls::CertFacts& c = *r.tls.leaf;
      t["certificate"] = {{"subject_cn", c.subject_cn},
                          {"issuer_cn", c.issuer_cn},
                          {"serial", c.serial},
                          {"fingerprint_sha256", c.fingerprint_sha256},
                          {"key_type", c.key_type},
                          {"key_bits", c.key_bits},
                          {"signature_algorithm", c.signature_algorithm},
                          {"not_before", c.not_before},
                          {"not_after", c.not_after},
                          {"dns_names", c.dns_names},
                          {"chain_length", r.tls.chain_length},
                          {"chain_not_after", r.tls.chain_not_after},
                          {"trusted", r.tls.trusted},
                          {"verify_result", r.tls.verify_result},
                          {"hostname_match", r.tls.hostname_match}};
    }
    j["tls"] = t;
  }
  if (r.scan && r.scan->ran) {
    const probe::ScanReport& sc = *r.scan;
    nlohmann::json scan;
    scan["handshakes"] = sc.handshakes;
    scan["versions"] = sc.versions;
    if (sc.weak_tested) scan["weak_cipher_accepted"] = sc.weak_cipher_accepted;
    nlohmann::json weak = nlohmann::json::array();
    for (const auto& [version, cipher] : sc.accepted_weak) {
      weak.push_back({{"version", version}, {"cipher", cipher}});
    }
    scan["accepted_weak"] = weak;
    if (sc.command_injection) scan["command_injection"] = *sc.command_injection;
    if (sc.hello_robust) scan["hello_robust"] = *sc.hello_robust;
    if (sc.many_suites_ok) scan["many_suites_ok"] = *sc.many_suites_ok;
    if (sc.record_version_ok) scan["record_version_ok"] = *sc.record_version_ok;
    if (sc.version_tolerant) scan["version_tolerant"] = *sc.version_tolerant;
    nlohmann::json leaves = nlohmann::json::array();
    for (const probe::ScanReport::LeafByKey& l : sc.leaves) {
      leaves.push_back({{"auth", l.auth},
                        {"served", l.served},
                        {"key_type", l.key_type},
                        {"not_after", l.not_after},
                        {"fingerprint_sha256", l.fingerprint}});
    }
    if (!leaves.empty()) scan["leaves"] = leaves;
    if (!sc.resumption.empty()) scan["resumption"] = sc.resumption;
    if (sc.ticket_lifetime_hint >= 0) scan["ticket_lifetime_hint"] = sc.ticket_lifetime_hint;
    if (const std::optional<probe::WeakestCipher> w = probe::MinCipherStrength(sc)) {
      scan["min_cipher_bits"] = w->bits;
      scan["weakest_cipher"] = {{"version", w->version}, {"cipher", w->suite}};
    }
    if (sc.heartbleed) scan["heartbleed"] = *sc.heartbleed;
    if (sc.ccs_injection) scan["ccs_injection"] = *sc.ccs_injection;
    if (sc.dhe) {
      scan["dhe"] = {{"version", sc.dhe->version},
                     {"suite", sc.dhe->suite},
                     {"bits", sc.dhe->bits},
                     {"group", sc.dhe->group}};
    }
    if (sc.plaintext_mail_refused) scan["plaintext_mail_refused"] = *sc.plaintext_mail_refused;
    if (sc.open_relay) scan["open_relay"] = *sc.open_relay;
    if (sc.robot_vulnerable) scan["robot_vulnerable"] = *sc.robot_vulnerable;
    if (sc.revoked) scan["revoked"] = *sc.revoked;
    scan["revocation_source"] = sc.revocation_source;
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& f : sc.findings) {
      checks.push_back(
          {{"check", f.check}, {"verdict", static_cast<int>(f.verdict)}, {"detail", f.detail}});
    }
    scan["checks"] = checks;
    scan["error"] = sc.error;
    j["scan"] = scan;
  }
  return j;
}

const char* VerdictName(checks::CheckVerdict v) {
  switch (v) {
    case checks::CheckVerdict::kPass:
      return "pass";
    case checks::CheckVerdict::kWarn:
      return "WARN";
    case checks::CheckVerdict::kFail:
      return "FAIL";
    case checks::CheckVerdict::kError:
      return "ERROR";
  }
  return "?";
}

void PrintReport(const probe::EndpointReport& r, std::ostream& out) {
  const char* mark = probe::IsCritical(r) ? "CRITICAL" : "OK";
  out << r.target.ToString() << " (" << (r.ip.empty() ? "-" : r.ip) << "): " << mark << "\n";
  if (!r.greeting.empty()) out << "  greeting:      " << r.greeting << "\n";
  if (config::ServiceTlsMode(r.target.service) == config::TlsMode::kStartTls &&
      r.phase_seconds[static_cast<int>(probe::Phase::kCapabilities)] >= 0) {
    out << "  STARTTLS:      " << (r.starttls_offered ? "offered" : "NOT offered") << "\n";
  }
  if (r.tls.handshake_ok) {
    out << "  TLS:           " << r.tls.version << ", " << r.tls.cipher;
    if (!r.tls.group.empty()) out << ", " << r.tls.group;
    out << (r.tls.ocsp_stapled ? ", OCSP stapled" : "") << "\n";
  }
  if (r.tls.has_leaf) {
    const tls::CertFacts& c = *r.tls.leaf;
    out << "  certificate:   CN=" << Printable(c.subject_cn, 80)
        << ", issuer CN=" << Printable(c.issuer_cn, 80) << ", " << c.key_type << " " << c.key_bits
        << " bits, " << c.signature_algorithm << "\n";
    out << "  valid:         " << FormatTime(c.not_before) << " .. " << FormatTime(c.not_after)
        << " (chain ends " << FormatTime(r.tls.chain_not_after) << ", " << r.tls.chain_length
        << " certificates)\n";
    out << "  verification:  " << r.tls.verify_result
        << (r.tls.trusted ? " (trusted)" : " (NOT trusted)") << ", host name "
        << (r.tls.hostname_match ? "matches" : "does NOT match") << "\n";
    out << "  sha256:        " << c.fingerprint_sha256 << "\n";
  }
  for (int i = 0; i < probe::kSignalCount; ++i) {
    if (r.signals[i]) {
      const auto s = static_cast<probe::Signal>(i);
      out << "  downgrade:     " << probe::SignalName(s) << ": " << probe::SignalDescription(s)
          << (r.signal_evidence[i].empty() ? "" : " (" + r.signal_evidence[i] + ")") << "\n";
    }
  }
  if (r.scan && r.scan->ran) {
    const probe::ScanReport& sc = *r.scan;
    out << "  scan:          " << sc.handshakes << " handshakes;";
    for (const auto& [version, accepted] : sc.versions) {
      out << " " << version << (accepted ? "+" : "-");
    }
    out << "\n";
    if (sc.weak_tested) {
      out << "  weak ciphers:  " << (sc.weak_cipher_accepted ? "ACCEPTED" : "refused");
      for (const auto& [version, cipher] : sc.accepted_weak) out << " " << version << ":" << cipher;
      out << "\n";
    }
    if (sc.command_injection) {
      out << "  injection:     " << (*sc.command_injection ? "VULNERABLE" : "not executed") << "\n";
    }
    if (sc.revoked) {
      out << "  revocation:    " << (*sc.revoked ? "REVOKED" : "good") << " ("
          << sc.revocation_source << ")\n";
    }
    for (const auto& f : sc.findings) {
      if (f.verdict != checks::CheckVerdict::kPass) {
        out << "  " << VerdictName(f.verdict) << " " << f.check << ": " << Printable(f.detail, 200)
            << "\n";
      }
    }
    if (!sc.error.empty()) out << "  scan stopped:  " << Printable(sc.error, 200) << "\n";
  }
  for (const auto& c : EndpointChecks(r)) {
    if (c.verdict == 0) continue;
    out << "  " << VerdictName(static_cast<checks::CheckVerdict>(c.verdict)) << " " << c.check
        << ": " << Printable(c.detail, 200) << "\n";
  }
  if (!r.success) {
    out << "  failure:       " << probe::FailureName(r.failure) << ": " << r.error << "\n";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", r.duration_seconds);
  out << "  duration:      " << buf << "\n";
}

nlohmann::json DomainJson(const probe::DomainReport& d) {
  nlohmann::json j;
  j["domain"] = d.domain;
  j["critical"] = probe::IsCritical(d);
  j["dns_ok"] = d.dns_ok;
  j["dns_errors"] = d.dns_errors;
  j["dnssec_secure"] = d.dnssec_secure;
  nlohmann::json mx = nlohmann::json::array();
  for (const auto& m : d.mx) mx.push_back({{"host", m.host}, {"preference", m.preference}});
  j["mx"] = mx;
  j["spf"] = {{"present", d.spf_present},
              {"valid", d.spf_valid},
              {"dns_lookups", d.spf_dns_lookups},
              {"all", d.spf_all_qualifier}};
  j["dmarc"] = {{"present", d.dmarc_present},
                {"valid", d.dmarc_valid},
                {"policy", d.dmarc_policy},
                {"subdomain_policy", d.dmarc_subdomain_policy},
                {"pct", d.dmarc_pct}};
  nlohmann::json dkim = nlohmann::json::array();
  for (const auto& k : d.dkim) {
    dkim.push_back({{"selector", k.selector}, {"present", k.present}, {"key_bits", k.key_bits}});
  }
  j["dkim"] = dkim;
  j["mta_sts"] = {{"present", d.mta_sts_present},
                  {"policy_valid", d.mta_sts_policy_valid},
                  {"mode", d.mta_sts_mode}};
  if (d.mta_sts_max_age) j["mta_sts"]["max_age"] = *d.mta_sts_max_age;
  if (d.mta_sts_mx_covered) j["mta_sts"]["mx_covered"] = *d.mta_sts_mx_covered;
  j["tlsrpt"] = {{"present", d.tlsrpt_present}, {"valid", d.tlsrpt_valid}};
  nlohmann::json fcrdns = nlohmann::json::array();
  for (const auto& f : d.fcrdns) {
    fcrdns.push_back({{"host", f.host}, {"ip", f.ip}, {"match", f.match}});
  }
  j["fcrdns"] = fcrdns;
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : d.findings) {
    findings.push_back(
        {{"check", f.check}, {"verdict", static_cast<int>(f.verdict)}, {"detail", f.detail}});
  }
  j["checks"] = findings;
  return j;
}

void PrintDomain(const probe::DomainReport& d, std::ostream& out) {
  out << d.domain << ": " << (probe::IsCritical(d) ? "CRITICAL" : "OK") << "\n";
  out << "  DNS:           " << (d.dns_ok ? "every query answered" : "some queries FAILED")
      << ", DNSSEC " << (d.dnssec_secure ? "secure" : "not validated") << "\n";
  for (const auto& e : d.dns_errors) out << "  DNS error:     " << e << "\n";
  for (const auto& m : d.mx) out << "  MX:            " << m.preference << " " << m.host << "\n";
  out << "  SPF:           " << (d.spf_present ? (d.spf_valid ? "valid" : "INVALID") : "none")
      << ", " << d.spf_dns_lookups << " lookups, all " << d.spf_all_qualifier << "\n";
  out << "  DMARC:         "
      << (d.dmarc_present ? (d.dmarc_valid ? "p=" + d.dmarc_policy : std::string("INVALID"))
                          : std::string("none"))
      << "\n";
  for (const auto& k : d.dkim) {
    out << "  DKIM " << k.selector << ":  "
        << (k.present ? std::to_string(k.key_bits) + " bits" : std::string("MISSING")) << "\n";
  }
  out << "  MTA-STS:       "
      << (d.mta_sts_present
              ? (d.mta_sts_policy_valid ? "mode " + d.mta_sts_mode : std::string("policy INVALID"))
              : std::string("none"))
      << "\n";
  out << "  TLS-RPT:       " << (d.tlsrpt_present ? (d.tlsrpt_valid ? "valid" : "INVALID") : "none")
      << "\n";
  for (const auto& f : d.findings) {
    if (f.verdict == checks::CheckVerdict::kPass) continue;
    out << "  " << VerdictName(f.verdict) << " " << f.check << ": " << Printable(f.detail, 200)
        << "\n";
  }
}

int RunCheck(const std::vector<std::string>& targets, const std::string& ca_file,
             const std::string& resolver, bool scan, bool json, const std::string& helo,
             const std::string& timeout_text, const std::string& open_relay_recipient) {
  Result<config::Duration> timeout = config::ParseDuration(timeout_text);
  if (!timeout.ok() || timeout->count() <= 0) {
    std::cerr << "check: bad --timeout \"" << Printable(timeout_text, 40) << "\"\n";
    return kExitUsage;
  }
  if (!open_relay_recipient.empty() && !config::ValidMailbox(open_relay_recipient)) {
    std::cerr << "check: bad --open-relay-recipient \"" << Printable(open_relay_recipient, 80)
              << "\" (want LOCAL@DOMAIN)\n";
    return kExitUsage;
  }
  if (!open_relay_recipient.empty() && !scan) {
    std::cerr << "check: --open-relay-recipient needs --scan (the relay test is part of it)\n";
    return kExitUsage;
  }
  std::vector<config::EndpointTarget> parsed;
  std::vector<std::string> domains;
  for (const auto& t : targets) {
    if (t.find("://") == std::string::npos) {
      Result<std::string> d = config::ParseDomainName(t);
      if (!d.ok()) {
        std::cerr << "check: bad target \"" << Printable(t, 100) << "\": " << d.status().message()
                  << "\n";
        return kExitUsage;
      }
      domains.push_back(*d);
      continue;
    }
    Result<config::EndpointTarget> e = config::ParseEndpointTarget(t);
    if (!e.ok()) {
      std::cerr << "check: bad target \"" << Printable(t, 100) << "\": " << e.status().message()
                << "\n";
      return kExitUsage;
    }
    parsed.push_back(*e);
  }
  Result<std::shared_ptr<tls::TlsContext>> tls = tls::TlsContext::Create(ca_file);
  if (!tls.ok()) {
    std::cerr << "check: --ca-file: " << tls.status().message() << "\n";
    return kExitUsage;
  }
  asio::io_context io;
  dns::ResolverOptions ro;
  if (!resolver.empty()) ro.servers.push_back(resolver);
  Result<std::unique_ptr<dns::AresResolver>> res = dns::AresResolver::Create(io.get_executor(), ro);
  if (!res.ok()) {
    std::cerr << "check: --resolver: " << res.status().message() << "\n";
    return kExitUsage;
  }
  probe::ProbeOptions options;
  options.helo_name = helo;
  options.timeout = *timeout;
  options.tls = *tls;
  options.resolver = std::shared_ptr<dns::Resolver>(std::move(res).value());

  asio::thread_pool fetch_pool(2);
  std::vector<probe::TargetResult> results(parsed.size() + domains.size());
  for (size_t i = 0; i < parsed.size(); ++i) {
    asio::co_spawn(
        asio::make_strand(io), probe::ProbeEndpointTarget(parsed[i], options),
        [&results, i](std::exception_ptr, probe::TargetResult r) { results[i] = std::move(r); });
  }
  for (size_t i = 0; i < domains.size(); ++i) {
    probe::DomainProbeOptions d;
    d.endpoint = options;
    d.policy_fetch.ca_file = ca_file;
    d.policy_fetch.timeout =
        std::min<std::chrono::milliseconds>(*timeout, std::chrono::seconds(10));
    d.fetch_pool = &fetch_pool;
    const size_t at = parsed.size() + i;
    asio::co_spawn(
        asio::make_strand(io), probe::ProbeDomainTarget(domains[i], std::move(d)),
        [&results, at](std::exception_ptr, probe::TargetResult r) { results[at] = std::move(r); });
  }
  io.run();
  {
    // CERT-16 across ports: each target against the other targets of this run on the same host
    // and address. Twice, so that the first ones see the later ones too.
    findings::HostLeaves host_leaves;
    const auto now = static_cast<int64_t>(ToUnixSeconds(SystemClock().Now()));
    for (int pass = 0; pass < 2; ++pass) {
      for (auto& result : results) host_leaves.RecordAndEvaluate(&result, now);
    }
  }
  if (scan) {
    // The deep scan of every address the probes reached, one target after the other's start.
    probe::ScanTargetOptions so;
    probe::Ssl2Keys ssl2_keys;  // TLSF-14 across this run's targets
    so.scan.ssl2_keys = &ssl2_keys;
    so.scan.probe = options;
    so.scan.open_relay_recipient = open_relay_recipient;
    so.revocation.timeout = std::min<std::chrono::milliseconds>(*timeout, std::chrono::seconds(10));
    so.pool = &fetch_pool;
    io.restart();
    for (auto& result : results) {
      asio::co_spawn(asio::make_strand(io), probe::ScanTargetResult(&result, so),
                     [](std::exception_ptr) {});
    }
    io.run();
    // DROWN across this run's targets: a scan that ended before another's SSLv2 was seen.
    for (auto& result : results) {
      for (auto& e : result.endpoints) {
        if (!e.scan) continue;
        auto refreshed = std::make_shared<probe::ScanReport>(*e.scan);
        probe::RefreshDrown(e.target, e.ip, ssl2_keys, refreshed.get());
        e.scan = std::move(refreshed);
      }
    }
  }
  options.resolver.reset();
  fetch_pool.join();

  bool critical = false;
  nlohmann::json all = nlohmann::json::array();
  for (const auto& result : results) {
    if (result.domain) {
      critical = critical || probe::IsCritical(*result.domain);
      if (json) {
        all.push_back(DomainJson(*result.domain));
      } else {
        PrintDomain(*result.domain, std::cout);
      }
    }
    for (const auto& r : result.endpoints) {
      critical = critical || probe::IsCritical(r);
      if (json) {
        all.push_back(ReportJson(r));
      } else {
        PrintReport(r, std::cout);
      }
    }
    if (result.endpoints.empty() && !result.domain) critical = true;
  }
  if (json) std::cout << all.dump(2) << "\n";
  return critical ? kExitCritical : kExitOk;
}

// --config.check: what the daemon would refuse at start (keys, types, durations, targets, the
// trust store), without binding a port, probing or touching the state file.
int RunConfigCheck(const std::string& config_path) {
  Result<config::Config> cfg =
      config_path.empty() ? config::EmbeddedDefaultConfig() : config::LoadConfigFile(config_path);
  if (!cfg.ok()) {
    std::cerr << cfg.status().message() << "\n";
    return kExitCritical;
  }
  Result<std::shared_ptr<tls::TlsContext>> tls_ctx = tls::TlsContext::Create(cfg->global.ca_file);
  if (!tls_ctx.ok()) {
    std::cerr << cfg->source << ":0: global.ca_file: " << tls_ctx.status().message() << "\n";
    return kExitCritical;
  }
  std::cout << (config_path.empty() ? "embedded default config" : config_path) << ": OK ("
            << cfg->endpoints.size() << " endpoint and " << cfg->domains.size()
            << " domain targets)\n";
  return kExitOk;
}

int RunDaemon(const std::string& config_path, const std::string& listen_flag, plan::Shard shard) {
  // Signals are taken synchronously by the main thread; every other thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // glibc gives threads that allocate at once arenas of their own (up to 8 per core) and keeps
  // each at its high-water mark; the io threads and cpp-httplib's threads made RSS well above
  // the heap. Two arenas took 9% off RSS at 10,000 endpoints for no measurable CPU
  // (docs/benchmarks.md, 2026-12-07 session 6). MALLOC_ARENA_MAX in the environment wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);

  Exporter exporter(config_path, 4, shard);
  Status s = exporter.Start();
  if (!s.ok()) {
    spdlog::critical("{}", s.message());
    return 1;
  }
  const config::WebConfig web = exporter.ConfiguredWeb();
  std::string listen = listen_flag.empty() ? web.listen_address : listen_flag;
  http::Server server(exporter.MakeHandlers());
  http::ServerOptions web_options;
  web_options.listen_address = listen;
  web_options.tls_cert_file = web.tls_cert_file;
  web_options.tls_key_file = web.tls_key_file;
  web_options.max_concurrent_probes = web.max_concurrent_probes;
  s = server.Start(web_options);
  if (!s.ok()) {
    spdlog::critical("{}", s.message());
    exporter.Stop();
    return 1;
  }
  spdlog::info("listening on {}{}{}", web.tls_cert_file.empty() ? "http://" : "https://", listen,
               web.basic_auth_users.empty() ? "" : " (basic auth)");
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: reloading");
      if (exporter.Reload().ok())
        server.SetBasicAuthUsers(exporter.ConfiguredWeb().basic_auth_users);
      continue;
    }
    spdlog::info("signal {}: shutting down", sig);
    break;
  }
  server.Stop();
  exporter.Stop();
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "mailsec_exporter: probes mail servers and mail domains, exposes Prometheus metrics"};
  app.set_version_flag("--version", std::string(MAILSEC_VERSION));
  std::string config_path, listen, log_level = "info";
  app.add_option("--config.file", config_path,
                 "TOML configuration file (default: embedded, probes localhost)");
  app.add_option("--web.listen-address", listen,
                 "address to serve HTTP on (overrides web.listen_address)");
  app.add_option("--log.level", log_level, "debug, info, warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  bool config_check = false;
  app.add_flag("--config.check", config_check,
               "validate the configuration file, print OK or the error, and exit (0 valid, 1 not)");
  std::string shard_text;
  app.add_option("--shard", shard_text,
                 "INDEX/COUNT: probe only the targets whose stable hash (FNV-1a 64 of the "
                 "canonical target) modulo COUNT is INDEX (default: every target)");

  CLI::App* check = app.add_subcommand("check", "probe targets once and print a report");
  std::vector<std::string> targets;
  std::string ca_file, resolver, helo = "localhost", timeout = "20s", open_relay_recipient;
  bool scan = false, json = false;
  check->add_option("--resolver", resolver, "DNS resolver IP[:PORT]");
  check->add_option("--ca-file", ca_file, "PEM trust store (default: the system store)");
  check->add_option("--helo", helo, "EHLO name");
  check->add_option("--timeout", timeout, "per-probe timeout");
  check->add_flag("--scan", scan, "run the deep TLS scan too");
  check->add_option("--open-relay-recipient", open_relay_recipient,
                    "with --scan: ask SMTP endpoints to relay to this foreign mailbox (RSET "
                    "before DATA; intrusive, off by default)");
  check->add_flag("--json", json, "print JSON");
  check->add_option("TARGET", targets, "SERVICE://HOST[:PORT]")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    app.exit(e);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  plan::Shard shard;
  if (!shard_text.empty()) {
    Result<plan::Shard> parsed = plan::ParseShard(shard_text);
    if (!parsed.ok()) {
      std::cerr << "--shard: " << parsed.status().message() << "\n";
      return kExitUsage;
    }
    shard = *parsed;
  }

  auto logger = spdlog::stderr_color_mt("mailsec");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (config_check) return RunConfigCheck(config_path);
  if (*check)
    return RunCheck(targets, ca_file, resolver, scan, json, helo, timeout, open_relay_recipient);
  return RunDaemon(config_path, listen, shard);
}

}  // namespace mailsec::app
