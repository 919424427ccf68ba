#include "mailsec/app/exporter.h"

#include <fnmatch.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "app/status_page.h"
#include "mailsec/base/clock.h"
#include "mailsec/base/text.h"
#include "mailsec/dns/resolver.h"
#include "mailsec/export/snapshot.h"
#include "mailsec/findings/history.h"
#include "mailsec/findings/host_leaves.h"
#include "mailsec/findings/verdicts.h"
#include "mailsec/net/gate.h"
#include "mailsec/plan/plan.h"
#include "mailsec/probe/domain_probe.h"
#include "mailsec/probe/endpoint_probe.h"
#include "mailsec/probe/scan_target.h"
#include "mailsec/sched/scheduler.h"
#include "mailsec/tls/client.h"

namespace mailsec::app {
namespace {

// The background probes and scans run 10 below the HTTP threads (nice 10): when the probes keep
// every core busy, a scrape or a /probe still gets the CPU it needs at once (a 10,000-endpoint
// scrape took 3-6x as long under full probe load at equal priority), and the probes take what is
// left. Not the lowest priority: on a host busy with other work the probes keep a share and do
// not time out for want of CPU (nice 19 scraped ~40 ms faster in one bench run, no faster in
// another; docs/benchmarks.md, session 7). Lowering one's own priority needs no privilege.
constexpr int kBackgroundNice = 10;

void LowerThisThreadsPriority(int by) {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (errno != 0) return;
  if (::setpriority(PRIO_PROCESS, tid, std::min(now + by, 19)) != 0) {
    spdlog::debug("cannot lower the priority of a probe thread: {}", std::strerror(errno));
  }
}

}  // namespace
}  // namespace mailsec::app

#ifndef MAILSEC_VERSION
#define MAILSEC_VERSION "0.0.0"
#endif
#ifndef MAILSEC_REVISION
#define MAILSEC_REVISION "unknown"
#endif

namespace mailsec::app {

struct Exporter::Impl {
  std::string config_path;
  int threads_wanted;
  plan::Shard shard;
  // Declared before the io_context so they outlive it: coroutine frames that the io_context
  // destroys at the end may still hold gate tickets of the scheduler.
  std::unique_ptr<Jitter> jitter = MakeRandomJitter(std::random_device{}());
  std::unique_ptr<sched::Scheduler> scheduler;
  // Background deep scans in flight, max(1, concurrency / 8): they run after the fast probe has
  // released its slot of the scheduler's gate (Scheduler's follow-up), so a first cycle does not
  // hold every slot with minutes of scans, and only a few scans' SSL state is alive at once.
  // Never waited for: a target that finds no free slot scans at a later probe, so that no
  // target's loop queues behind other targets' scans.
  net::Gate scan_gate{16};
  // One background deep scan per server address at a time, across targets.
  probe::AddressLocks scan_locks;
  // TLSF-14: the keys of the SSLv2 services every scan found, across targets.
  probe::Ssl2Keys ssl2_keys;
  findings::HostLeaves host_leaves;  // CERT-16 across the ports of a host
  // Set by Stop(): deep scans in flight end at their next connection, so that the drain is
  // bounded by one connection, not by a scan's budget of minutes.
  std::atomic<bool> stopping{false};
  // Blocking work (the MTA-STS HTTPS fetch); outlives the io_context whose coroutines wait on it.
  asio::thread_pool fetch_pool{2};
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::vector<std::thread> threads;

  mutable std::mutex mu;  // guards everything below
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const plan::Plan> plan;  // shared with the scheduler's loops
  std::set<std::string> planned_ids;       // this shard's targets
  std::set<std::string> configured_ids;    // every configured target (what /probe may run)
  std::map<std::string, config::CertPins> pins_by_id;  // endpoint targets that have pins
  std::shared_ptr<const tls::TlsContext> tls;
  // Replaced on reload; probes in flight keep the one they started with (shared ownership).
  std::shared_ptr<dns::Resolver> resolver;
  // Published results are immutable and shared with the snapshots of scrapes in flight. The
  // latest deep scan of each address rides along with every fast probe's result: a fresh result
  // takes it from the result it replaces (AttachKeptScans), so a scan is held once, not also in
  // a map of its own.
  std::map<std::string, std::shared_ptr<const exporter::PublishedResult>> results;
  // When each target was last scanned (Unix seconds).
  std::map<std::string, double> last_scan;
  // Targets whose last fast probe found a deep scan due; RunScan takes them out.
  std::set<std::string> scan_wanted;
  // Deep scans of addresses missing from their target's latest result, by target id and address
  // (findings::HistoryKey): they ride along again when the address comes back. Usually empty.
  std::map<std::string, std::map<std::string, std::shared_ptr<const probe::ScanReport>>> parked;
  exporter::ExporterState state;
  bool ready = false;

  // Persisted history (thread-safe on its own). Written by `saver` every
  // global.state_save_interval when it changed, and once more at Stop.
  findings::History history;
  std::thread saver;
  std::mutex saver_mu;  // guards saver_stop
  std::condition_variable saver_cv;
  bool saver_stop = false;
  std::string last_save_error;  // touched by the saver thread only

  std::chrono::milliseconds SaveEvery() {
    std::lock_guard<std::mutex> lock(mu);
    if (!config) return std::chrono::seconds(60);
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        config->global.state_save_interval);
  }

  void SaveHistory() {
    std::string path;
    double retention = 0;
    std::set<std::string> live;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!config || config->global.state_file.empty()) return;
      path = config->global.state_file;
      retention = std::chrono::duration<double>(config->global.history_retention).count();
      live = planned_ids;
    }
    history.Prune(live, ToUnixSeconds(SystemClock().Now()), retention);
    if (!history.dirty()) return;
    Status s = history.Save(path);
    if (!s.ok() && s.message() != last_save_error) {
      spdlog::warn("cannot save history: {}", s.message());  // once per distinct error
    }
    last_save_error = s.ok() ? "" : s.message();
  }

  void SaverLoop() {
    std::unique_lock<std::mutex> lock(saver_mu);
    // Bounded by Stop(), which sets saver_stop and notifies.
    while (!saver_stop) {
      lock.unlock();
      const std::chrono::milliseconds every = SaveEvery();  // a reload may change it
      lock.lock();
      saver_cv.wait_for(lock, every, [this] { return saver_stop; });
      lock.unlock();
      SaveHistory();
      lock.lock();
    }
  }

  probe::ProbeOptions OptionsLocked() const {
    probe::ProbeOptions o;
    o.helo_name = config->global.helo_name;
    o.timeout = config->global.timeout;
    o.ip_family = config->global.ip_family;
    o.tls = tls;
    o.resolver = resolver;
    return o;
  }

  probe::ScanTargetOptions ScanOptionsLocked() {
    probe::ScanTargetOptions o;
    o.scan.probe = OptionsLocked();
    o.scan.budget =
        std::min<std::chrono::milliseconds>(std::chrono::minutes(5), config->global.scan_interval);
    o.scan.open_relay_recipient = config->global.open_relay_recipient;
    o.scan.cancel = &stopping;
    o.scan.ssl2_keys = &ssl2_keys;
    o.revocation.timeout =
        std::min<std::chrono::milliseconds>(config->global.timeout, std::chrono::seconds(10));
    o.pool = &fetch_pool;
    return o;
  }

  probe::DomainProbeOptions DomainOptionsLocked(const config::DomainConfig& d) {
    probe::DomainProbeOptions o;
    o.endpoint = OptionsLocked();
    o.dkim_selectors = d.dkim_selectors;
    o.policy_fetch.ca_file = config->global.ca_file;
    o.policy_fetch.timeout =
        std::min<std::chrono::milliseconds>(config->global.timeout, std::chrono::seconds(10));
    o.fetch_pool = &fetch_pool;
    checks::MtaStsSeen seen;
    if (history.GetMtaSts(d.name, &seen)) o.previous_mta_sts = seen;
    return o;
  }

  asio::awaitable<void> RunProbe(const plan::Target& target) {
    probe::ProbeOptions options;
    probe::DomainProbeOptions domain_options;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!planned_ids.count(target.id)) co_return;
      if (target.kind == plan::Kind::kDomain) {
        domain_options = DomainOptionsLocked(target.domain);
      } else {
        options = OptionsLocked();
      }
    }
    // Not a conditional expression: GCC 12 miscompiles co_await inside ?: (the result object
    // is destroyed twice).
    probe::TargetResult result;
    if (target.kind == plan::Kind::kDomain) {
      result = co_await probe::ProbeDomainTarget(target.domain.name, std::move(domain_options));
    } else {
      result = co_await probe::ProbeEndpointTarget(target.endpoint, options);
    }
    AttachKeptScans(target.id, &result);
    const bool ok = Observe(&result);
    for (const auto& e : result.endpoints) {
      if (!e.success) spdlog::debug("probe {} {} failed: {}", target.id, e.ip, e.error);
    }
    if (result.domain) {
      for (const auto& err : result.domain->dns_errors) {
        spdlog::debug("domain {}: {}", target.id, err);
      }
    }
    // The fast result is published first; a deep scan (once per scan_interval) follows in
    // RunScan, after this probe's slot is released, and republishes the result with its
    // findings. This target's loop waits for it, so no newer fast result can be overwritten.
    // Rendered here, outside the lock: the series of a result are made once, not per scrape.
    std::shared_ptr<const exporter::PublishedResult> published =
        exporter::Publish(std::move(result));
    std::lock_guard<std::mutex> lock(mu);
    // A target removed by a reload while its probe ran must not come back.
    if (!planned_ids.count(target.id)) co_return;
    results[target.id] = std::move(published);
    state.probes_total[{std::string(plan::KindName(target.kind)), ok ? "success" : "failure"}]++;
    const double now = ToUnixSeconds(SystemClock().Now());
    const double every = std::chrono::duration<double>(config->global.scan_interval).count();
    auto [it, first] = last_scan.try_emplace(target.id, 0.0);
    if (first || now - it->second >= every) scan_wanted.insert(target.id);
  }

  // The scheduler's follow-up of RunProbe, outside its concurrency gate: the deep scan of the
  // target's latest result when one is due and a slot of scan_gate is free.
  asio::awaitable<void> RunScan(const plan::Target& target) {
    std::optional<net::Gate::Ticket> ticket;
    std::optional<probe::AddressLocks::Lease> lease;
    std::shared_ptr<const exporter::PublishedResult> current;
    probe::ScanTargetOptions scan_options;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (scan_wanted.erase(target.id) == 0 || stopping || !planned_ids.count(target.id)) {
        co_return;
      }
      auto it = results.find(target.id);
      if (it == results.end()) co_return;
      current = it->second;
      // Every scan slot is taken, or another target's scan of one of these addresses runs: not
      // now, but at the next probe (last_scan stays, so it is still due then). Waiting would
      // hold up this target's loop behind other targets' scans.
      ticket = scan_gate.TryAcquire();
      if (!ticket) co_return;
      std::vector<std::string> ips;
      for (const auto& e : current->result().endpoints) {
        if (!e.ip.empty()) ips.push_back(e.ip);
      }
      if (auto l = scan_locks.TryLock(std::move(ips))) lease.emplace(std::move(*l));
      if (!lease) co_return;
      last_scan[target.id] = ToUnixSeconds(SystemClock().Now());
      scan_options = ScanOptionsLocked();
    }
    probe::TargetResult result = current->result();  // immutable: copied without the lock
    current.reset();
    co_await probe::ScanTargetResult(&result, scan_options);
    lease.reset();
    ticket.reset();  // the scan's SSL state is gone: let the next one start
    std::shared_ptr<const exporter::PublishedResult> published =
        exporter::Publish(std::move(result));
    std::lock_guard<std::mutex> lock(mu);
    if (!planned_ids.count(target.id)) co_return;
    results[target.id] = std::move(published);
  }

  // CERT-17: the configured expectations of an endpoint target's leaf. A lookup by target id:
  // walking the configured endpoints here made every probe cost O(endpoints), a cycle O(n²).
  void ApplyPins(probe::TargetResult* result) {
    config::CertPins pins;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!config) return;
      if (auto it = pins_by_id.find(result->target_id); it != pins_by_id.end()) pins = it->second;
    }
    for (auto& e : result->endpoints) {
      e.operator_findings.clear();
      if (auto f = findings::EvaluatePins(e, pins)) e.operator_findings.push_back(std::move(*f));
    }
  }

  // Attaches to a fresh result the scan of each of its addresses that the target's current
  // result (or the parked scans) holds.
  void AttachKeptScans(const std::string& id, probe::TargetResult* result) {
    std::shared_ptr<const exporter::PublishedResult> previous;
    std::map<std::string, std::shared_ptr<const probe::ScanReport>> parked_scans;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (auto it = results.find(id); it != results.end()) {
        previous = it->second;  // immutable: read below without the lock
      }
      if (auto it = parked.find(id); it != parked.end()) {
        parked_scans = std::move(it->second);
        parked.erase(it);
      }
    }
    std::map<std::string, std::shared_ptr<const probe::ScanReport>> kept;
    if (previous) {
      for (const auto& e : previous->result().endpoints) {
        if (e.scan) kept[findings::HistoryKey(e)] = e.scan;
      }
    }
    for (auto& [key, scan] : parked_scans) kept.try_emplace(key, std::move(scan));
    if (kept.empty()) return;
    std::set<std::string> attached;
    for (auto& e : result->endpoints) {
      const std::string key = findings::HistoryKey(e);
      if (auto it = kept.find(key); it != kept.end()) {
        probe::AttachScan(it->second, &e);
        attached.insert(key);
      }
    }
    // Addresses missing from this result (a DNS answer without them, a failed resolution) keep
    // their scan aside until they come back or the target leaves the plan.
    std::map<std::string, std::shared_ptr<const probe::ScanReport>> missing;
    for (auto& [key, scan] : kept) {
      if (!attached.count(key)) missing.emplace(key, std::move(scan));
    }
    if (missing.empty()) return;
    std::lock_guard<std::mutex> lock(mu);
    if (planned_ids.count(id)) parked[id] = std::move(missing);
  }

  // Feeds a result to the history (and the history's findings back into it); true when the
  // probe succeeded as a whole.
  bool Observe(probe::TargetResult* result) {
    for (auto& e : result->endpoints) history.Observe(&e, e.finished_at);
    ApplyPins(result);
    bool planned = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      planned = planned_ids.count(result->target_id) > 0;
    }
    const auto now = static_cast<int64_t>(ToUnixSeconds(SystemClock().Now()));
    host_leaves.RecordAndEvaluate(result, now, planned);
    bool ok = result->domain ? result->domain->dns_ok : !result->endpoints.empty();
    for (const auto& e : result->endpoints) ok = ok && e.success;
    if (result->domain && !result->domain->mta_sts_id.empty()) {
      history.ObserveMtaSts(result->domain->domain,
                            {result->domain->mta_sts_id, result->domain->mta_sts_body_hash},
                            result->domain->finished_at);
    }
    return ok;
  }

  // Installs a loaded config: new trust store, plan, scheduler loops. Caller holds no lock.
  Status Install(config::Config cfg) {
    Result<std::shared_ptr<tls::TlsContext>> tls_ctx = tls::TlsContext::Create(cfg.global.ca_file);
    if (!tls_ctx.ok()) {
      return Status::InvalidArgument(cfg.source +
                                     ":0: global.ca_file: " + tls_ctx.status().message());
    }
    dns::ResolverOptions ro;
    ro.servers = cfg.global.resolvers;
    Result<std::unique_ptr<dns::AresResolver>> new_resolver =
        dns::AresResolver::Create(io.get_executor(), ro);
    if (!new_resolver.ok()) {
      return Status::InvalidArgument(cfg.source +
                                     ":0: global.resolvers: " + new_resolver.status().message());
    }
    auto new_plan = std::make_shared<const plan::Plan>(plan::BuildPlan(cfg, shard));
    std::set<std::string> new_configured_ids;
    for (const auto& t : plan::BuildPlan(cfg).targets) new_configured_ids.insert(t.id);
    int concurrency = cfg.global.concurrency;
    {
      std::lock_guard<std::mutex> lock(mu);
      planned_ids.clear();
      for (const auto& t : new_plan->targets) planned_ids.insert(t.id);
      configured_ids = std::move(new_configured_ids);
      for (auto it = results.begin(); it != results.end();) {
        it = planned_ids.count(it->first) ? std::next(it) : results.erase(it);
      }
      std::erase_if(last_scan, [&](const auto& kv) { return !planned_ids.count(kv.first); });
      std::erase_if(parked, [&](const auto& kv) { return !planned_ids.count(kv.first); });
      std::erase_if(scan_wanted, [&](const std::string& id) { return !planned_ids.count(id); });
      host_leaves.Retain(planned_ids);
      state.targets_by_kind["endpoint"] =
          static_cast<int64_t>(new_plan->Count(plan::Kind::kEndpoint));
      state.targets_by_kind["domain"] = static_cast<int64_t>(new_plan->Count(plan::Kind::kDomain));
      pins_by_id.clear();
      for (const auto& e : cfg.endpoints) {
        if (!e.pins.empty()) pins_by_id[e.target.ToString()] = e.pins;
      }
      config = std::make_shared<const config::Config>(std::move(cfg));
      tls = std::move(tls_ctx).value();
      resolver = std::shared_ptr<dns::Resolver>(std::move(new_resolver).value());
      plan = new_plan;
      state.last_reload_successful = true;
      state.last_reload_success_timestamp = ToUnixSeconds(SystemClock().Now());
      ready = true;
    }
    if (shard.count > 1) {
      spdlog::info("shard {}: probing {} endpoint and {} domain targets of {} configured",
                   shard.ToString(), new_plan->Count(plan::Kind::kEndpoint),
                   new_plan->Count(plan::Kind::kDomain), new_plan->configured);
    }
    scan_gate.SetLimit(std::max(1, concurrency / 8));
    scheduler->Apply(std::move(new_plan), concurrency);
    return Status::Ok();
  }

  Result<config::Config> Load() const {
    if (config_path.empty()) return config::EmbeddedDefaultConfig();
    return config::LoadConfigFile(config_path);
  }
};

Exporter::Exporter(std::string config_path, int threads, plan::Shard shard)
    : impl_(std::make_unique<Impl>()) {
  impl_->config_path = std::move(config_path);
  impl_->shard = shard;
  impl_->threads_wanted = threads < 1 ? 1 : threads;
  impl_->state.version = MAILSEC_VERSION;
  impl_->state.revision = MAILSEC_REVISION;
  impl_->state.openssl_version = OpenSSL_version(OPENSSL_VERSION_STRING);
  Impl* impl = impl_.get();
  impl_->scheduler = std::make_unique<sched::Scheduler>(
      impl_->io, [impl](const plan::Target& t) { return impl->RunProbe(t); }, impl_->jitter.get(),
      128, [impl](const plan::Target& t) { return impl->RunScan(t); });
}

Exporter::~Exporter() { Stop(); }

Status Exporter::Start() {
  Result<config::Config> cfg = impl_->Load();
  if (!cfg.ok()) return cfg.status();
  if (cfg->is_embedded_default) {
    spdlog::info(
        "no --config.file given: probing the eight mail services of localhost (embedded default "
        "config)");
  } else {
    spdlog::info("loaded config {}", cfg->source);
  }
  size_t endpoints = cfg->endpoints.size(), domains = cfg->domains.size();
  if (const std::string& path = cfg->global.state_file; !path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    std::string warning;
    impl_->history.Load(path, &warning);
    if (!warning.empty()) spdlog::warn("{}", warning);
    spdlog::info("history: {} endpoints from {}", impl_->history.size(), path);
  }
  Status s = impl_->Install(std::move(cfg).value());
  if (!s.ok()) return s;
  impl_->saver = std::thread([this] { impl_->SaverLoop(); });
  spdlog::info("planned {} endpoint and {} domain targets", endpoints, domains);
  for (int i = 0; i < impl_->threads_wanted; ++i) {
    impl_->threads.emplace_back([this] {
      LowerThisThreadsPriority(kBackgroundNice);
      impl_->io.run();
    });
  }
  return Status::Ok();
}

Status Exporter::Reload() {
  Result<config::Config> cfg = impl_->Load();
  Status s = cfg.ok() ? impl_->Install(std::move(cfg).value()) : cfg.status();
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->state.last_reload_successful = false;
    spdlog::error("reload failed, keeping the running config: {}", s.message());
    return s;
  }
  spdlog::info("reloaded config");
  return s;
}

void Exporter::Stop() {
  if (!impl_) return;
  impl_->stopping = true;
  impl_->scheduler->Stop();
  impl_->scan_gate.Close();
  impl_->work.reset();
  // Let probes in flight end by their own deadlines (the loop then runs out of work); a probe
  // cannot outlast its timeout, so this wait is bounded by it.
  std::chrono::milliseconds grace{1000};
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->config) grace += impl_->config->global.timeout;
  }
  const auto until = std::chrono::steady_clock::now() + grace;
  while (!impl_->threads.empty() && !impl_->io.stopped() &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  impl_->fetch_pool.stop();
  impl_->fetch_pool.join();
  if (impl_->saver.joinable()) {
    {
      std::lock_guard<std::mutex> lock(impl_->saver_mu);
      impl_->saver_stop = true;
    }
    impl_->saver_cv.notify_all();
    impl_->saver.join();  // its last turn saves what the final probes changed
  }
}

std::string Exporter::RenderMetrics() const {
  std::string text;
  Scrape()->Write([&text](std::string_view piece) {
    text.append(piece);
    return true;
  });
  return text;
}

std::shared_ptr<const exporter::ScrapeBody> Exporter::Scrape() const {
  exporter::ExporterState state;
  std::vector<std::shared_ptr<const exporter::PublishedResult>> results;
  {
    // Pointers to the published results, in target-id order, not copies of the reports nor of
    // the map: the probes wait on mu.
    std::lock_guard<std::mutex> lock(impl_->mu);
    state = impl_->state;
    results.reserve(impl_->results.size());
    for (const auto& [id, published] : impl_->results) results.push_back(published);
  }
  // The series were rendered when each result was published; a scrape concatenates them in
  // pieces and allocates little, so it needs no malloc_trim any more (docs/benchmarks.md).
  return std::make_shared<const exporter::ScrapeBody>(state, std::move(results));
}

bool Exporter::Ready() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->ready;
}

std::string Exporter::ConfiguredListenAddress() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->config ? impl_->config->web.listen_address : std::string(":9525");
}

config::WebConfig Exporter::ConfiguredWeb() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->config ? impl_->config->web : config::WebConfig{};
}

namespace {

// Runs `work` to its end on a private io_context driven by the calling thread (an HTTP worker),
// so that a /probe's handlers never hop between threads: on the shared io threads a quarter of a
// probe's CPU went to futex wake-ups and context switches. Work that runs elsewhere (a DNS query
// on the resolver's strand, an HTTPS fetch on the fetch pool) posts its completion back here; the
// work guard keeps the loop running until the result is in. Empty when `work` outlived `limit`,
// which its own deadlines prevent (a bug guard); it is then still run to its end, since
// operations elsewhere may post to this io_context until then. Rethrows what `work` threw.
// The io_context is the thread's own and lives as long as the thread (an HTTP worker serves one
// request at a time): creating one per request cost a dozen system calls (epoll, eventfd and
// timerfd descriptors). Every call runs it until it has no work left, so it is idle in between.
template <typename T>
std::optional<T> RunOnThisThread(asio::awaitable<T> work, std::chrono::milliseconds limit) {
  thread_local asio::io_context io(1);
  io.restart();
  auto guard = asio::make_work_guard(io);
  std::optional<T> value;
  std::exception_ptr error;
  // One thread runs it: its executor is a strand already, without a strand's locking.
  asio::co_spawn(io, std::move(work), [&value, &error, &guard](std::exception_ptr ep, T r) {
    if (ep) {
      error = ep;
    } else {
      value.emplace(std::move(r));
    }
    guard.reset();
  });
  io.run_for(limit);
  const bool late = !io.stopped();
  if (late) {
    spdlog::error("a /probe outlived its bound of {} ms; waiting for it to end", limit.count());
    io.run();
  }
  if (error) std::rethrow_exception(error);
  if (late) return std::nullopt;
  return value;
}

asio::awaitable<bool> ScanAndReturn(probe::TargetResult* result, probe::ScanTargetOptions options) {
  co_await probe::ScanTargetResult(result, std::move(options));
  co_return true;
}

}  // namespace

http::ProbeReply Exporter::ProbeNow(const std::string& text, bool scan, double budget_seconds) {
  const bool is_domain = text.find("://") == std::string::npos;
  std::string id;
  config::EndpointTarget endpoint;
  if (is_domain) {
    Result<std::string> d = config::ParseDomainName(text);
    if (!d.ok()) {
      return {400, "bad target \"" + Printable(text, 100) + "\": " + d.status().message() + "\n"};
    }
    id = *d;
  } else {
    Result<config::EndpointTarget> t = config::ParseEndpointTarget(text);
    if (!t.ok()) {
      return {400, "bad target \"" + Printable(text, 100) + "\": " + t.status().message() + "\n"};
    }
    endpoint = *t;
    id = t->ToString();
  }
  probe::ProbeOptions options;
  probe::DomainProbeOptions domain_options;
  probe::ScanTargetOptions scan_options;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->config) return {503, "not ready\n"};
    scan_options = impl_->ScanOptionsLocked();
    bool allowed = impl_->configured_ids.count(id) > 0;
    for (const auto& glob : impl_->config->web.probe_allow) {
      allowed = allowed || fnmatch(glob.c_str(), text.c_str(), 0) == 0 ||
                fnmatch(glob.c_str(), id.c_str(), 0) == 0;
    }
    if (!allowed) {
      return {400, "target \"" + id + "\" is neither configured nor allowed by web.probe_allow\n"};
    }
    if (is_domain) {
      config::DomainConfig d;
      d.name = id;
      for (const auto& configured : impl_->config->domains) {
        if (configured.name == id) d = configured;
      }
      domain_options = impl_->DomainOptionsLocked(d);
    } else {
      options = impl_->OptionsLocked();
    }
  }
  if (budget_seconds > 0) {
    auto budget = std::chrono::milliseconds(static_cast<int64_t>(budget_seconds * 1000));
    if (scan) {
      // Half for the fast probe, half for the scan of what it found.
      budget /= 2;
      scan_options.scan.budget = std::min(scan_options.scan.budget, budget);
      scan_options.revocation.timeout = std::min(scan_options.revocation.timeout, budget / 4);
    }
    options.timeout = std::min(options.timeout, budget);
    // A domain probe spends its budget on DNS, then on each MX: give each part a share.
    domain_options.endpoint.timeout = std::min(domain_options.endpoint.timeout, budget / 3);
    domain_options.policy_fetch.timeout = std::min(domain_options.policy_fetch.timeout, budget / 3);
  }
  // Every address is probed under its own deadline; this bound only guards against a bug.
  auto limit =
      std::max(options.timeout, domain_options.endpoint.timeout) * 4 + std::chrono::seconds(5) +
      (is_domain ? domain_options.endpoint.timeout * static_cast<int64_t>(probe::kMaxProbedMxHosts)
                 : std::chrono::milliseconds(0));
  try {
    std::optional<probe::TargetResult> probed =
        is_domain ? RunOnThisThread(probe::ProbeDomainTarget(id, std::move(domain_options)), limit)
                  : RunOnThisThread(probe::ProbeEndpointTarget(endpoint, options), limit);
    if (!probed) return {500, "probe did not finish in time\n"};
    probe::TargetResult r = std::move(*probed);
    if (scan) {
      // The scan keeps its own budget; this bound only guards against a bug.
      if (!RunOnThisThread(ScanAndReturn(&r, scan_options),
                           scan_options.scan.budget * 2 + std::chrono::seconds(30))) {
        return {500, "scan did not finish in time\n"};
      }
    }
    impl_->Observe(&r);
    return {200, exporter::RenderResult(r)};
  } catch (const std::exception& e) {
    return {500, std::string("probe failed: ") + e.what() + "\n"};
  }
}

std::string Exporter::StatusPage() const {
  StatusPageData data;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    data.config_source = impl_->config ? impl_->config->source : "";
    data.last_reload_successful = impl_->state.last_reload_successful;
    data.version = impl_->state.version;
    data.plan = impl_->plan;  // shared, not copied
    for (const auto& [id, published] : impl_->results) {
      data.results[id] =
          std::shared_ptr<const probe::TargetResult>(published, &published->result());
    }
  }
  data.now = ToUnixSeconds(SystemClock().Now());
  return RenderStatusPage(data);
}

http::Handlers Exporter::MakeHandlers() {
  http::Handlers h;
  h.metrics = [this] { return RenderMetrics(); };
  h.metrics_body = [this] {
    std::shared_ptr<const exporter::ScrapeBody> body = Scrape();
    const size_t size = body->size();
    return http::MetricsBody{size, [body = std::move(body)](const http::PieceWriter& write) {
                               return body->Write(write);
                             }};
  };
  h.probe = [this](const std::string& t, bool scan, double budget) {
    return ProbeNow(t, scan, budget);
  };
  h.status_page = [this] { return StatusPage(); };
  h.ready = [this] { return Ready(); };
  h.basic_auth_users = [this] { return ConfiguredWeb().basic_auth_users; };
  h.reload = [this] { return Reload(); };
  return h;
}

}  // namespace mailsec::app
