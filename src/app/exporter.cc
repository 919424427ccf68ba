#include "mailsec/app/exporter.h"

#include <fnmatch.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "app/status_page.h"
#include "mailsec/base/clock.h"
#include "mailsec/base/text.h"
#include "mailsec/export/snapshot.h"
#include "mailsec/findings/history.h"
#include "mailsec/plan/plan.h"
#include "mailsec/probe/endpoint_probe.h"
#include "mailsec/sched/scheduler.h"
#include "mailsec/tls/client.h"

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
  // Declared before the io_context so they outlive it: coroutine frames that the io_context
  // destroys at the end may still hold gate tickets of the scheduler.
  std::unique_ptr<Jitter> jitter = MakeRandomJitter(std::random_device{}());
  std::unique_ptr<sched::Scheduler> scheduler;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::vector<std::thread> threads;

  mutable std::mutex mu;  // guards everything below
  std::shared_ptr<const config::Config> config;
  plan::Plan plan;
  std::set<std::string> planned_ids;
  std::shared_ptr<const tls::TlsContext> tls;
  std::map<std::string, probe::TargetResult> results;
  exporter::ExporterState state;
  bool ready = false;

  // Persisted history (thread-safe on its own). Written by `saver` every kSaveEvery when it
  // changed, and once more at Stop.
  findings::History history;
  std::thread saver;
  std::mutex saver_mu;  // guards saver_stop
  std::condition_variable saver_cv;
  bool saver_stop = false;
  std::string last_save_error;  // touched by the saver thread only

  static constexpr std::chrono::seconds kSaveEvery{60};

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
      saver_cv.wait_for(lock, kSaveEvery, [this] { return saver_stop; });
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
    return o;
  }

  asio::awaitable<void> RunProbe(const plan::Target& target) {
    probe::ProbeOptions options;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!planned_ids.count(target.id)) co_return;
      options = OptionsLocked();
    }
    // Domain checks (MX, SPF, DMARC, ...) arrive with the DNS layer; until then a domain target
    // is planned and counted in mailsec_targets but not probed, so it shows up in no probe count.
    if (target.kind != plan::Kind::kEndpoint) co_return;
    probe::TargetResult result = co_await probe::ProbeEndpointTarget(target.endpoint, options);
    for (auto& e : result.endpoints) history.Observe(&e, e.finished_at);
    bool ok = !result.endpoints.empty();
    for (const auto& e : result.endpoints) ok = ok && e.success;
    for (const auto& e : result.endpoints) {
      if (!e.success) {
        spdlog::debug("probe {} {} failed: {}", target.id, e.ip, e.error);
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    // A target removed by a reload while its probe ran must not come back.
    if (!planned_ids.count(target.id)) co_return;
    results[target.id] = std::move(result);
    state.probes_total[{std::string(plan::KindName(target.kind)), ok ? "success" : "failure"}]++;
  }

  // Installs a loaded config: new trust store, plan, scheduler loops. Caller holds no lock.
  Status Install(config::Config cfg) {
    Result<std::shared_ptr<tls::TlsContext>> tls_ctx = tls::TlsContext::Create(cfg.global.ca_file);
    if (!tls_ctx.ok()) {
      return Status::InvalidArgument(cfg.source +
                                     ":0: global.ca_file: " + tls_ctx.status().message());
    }
    plan::Plan new_plan = plan::BuildPlan(cfg);
    int concurrency = cfg.global.concurrency;
    {
      std::lock_guard<std::mutex> lock(mu);
      planned_ids.clear();
      for (const auto& t : new_plan.targets) planned_ids.insert(t.id);
      for (auto it = results.begin(); it != results.end();) {
        it = planned_ids.count(it->first) ? std::next(it) : results.erase(it);
      }
      state.targets_by_kind["endpoint"] =
          static_cast<int64_t>(new_plan.Count(plan::Kind::kEndpoint));
      state.targets_by_kind["domain"] = static_cast<int64_t>(new_plan.Count(plan::Kind::kDomain));
      config = std::make_shared<const config::Config>(std::move(cfg));
      tls = std::move(tls_ctx).value();
      plan = new_plan;
      state.last_reload_successful = true;
      state.last_reload_success_timestamp = ToUnixSeconds(SystemClock().Now());
      ready = true;
    }
    scheduler->Apply(new_plan, concurrency);
    return Status::Ok();
  }

  Result<config::Config> Load() const {
    if (config_path.empty()) return config::EmbeddedDefaultConfig();
    return config::LoadConfigFile(config_path);
  }
};

Exporter::Exporter(std::string config_path, int threads) : impl_(std::make_unique<Impl>()) {
  impl_->config_path = std::move(config_path);
  impl_->threads_wanted = threads < 1 ? 1 : threads;
  impl_->state.version = MAILSEC_VERSION;
  impl_->state.revision = MAILSEC_REVISION;
  impl_->state.openssl_version = OpenSSL_version(OPENSSL_VERSION_STRING);
  Impl* impl = impl_.get();
  impl_->scheduler = std::make_unique<sched::Scheduler>(
      impl_->io, [impl](const plan::Target& t) { return impl->RunProbe(t); }, impl_->jitter.get(),
      128);
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
    impl_->threads.emplace_back([this] { impl_->io.run(); });
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
  impl_->scheduler->Stop();
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
  exporter::Snapshot snap;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    snap.exporter = impl_->state;
    snap.results = impl_->results;
  }
  return exporter::RenderSnapshot(snap);
}

bool Exporter::Ready() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->ready;
}

std::string Exporter::ConfiguredListenAddress() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->config ? impl_->config->web.listen_address : std::string(":9525");
}

http::ProbeReply Exporter::ProbeNow(const std::string& text, bool scan, double budget_seconds) {
  (void)scan;  // the deep scan arrives with its own issue; a fresh fast probe runs either way
  if (text.find("://") == std::string::npos) {
    Result<std::string> d = config::ParseDomainName(text);
    if (!d.ok())
      return {400, "bad target \"" + Printable(text, 100) + "\": " + d.status().message() + "\n"};
    return {400, "domain targets are not probed yet: \"" + *d + "\"\n"};
  }
  Result<config::EndpointTarget> t = config::ParseEndpointTarget(text);
  if (!t.ok()) {
    return {400, "bad target \"" + Printable(text, 100) + "\": " + t.status().message() + "\n"};
  }
  probe::ProbeOptions options;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->config) return {503, "not ready\n"};
    bool allowed = impl_->planned_ids.count(t->ToString()) > 0;
    for (const auto& glob : impl_->config->web.probe_allow) {
      allowed = allowed || fnmatch(glob.c_str(), text.c_str(), 0) == 0 ||
                fnmatch(glob.c_str(), t->ToString().c_str(), 0) == 0;
    }
    if (!allowed) {
      return {400, "target \"" + t->ToString() +
                       "\" is neither configured nor allowed by web.probe_allow\n"};
    }
    options = impl_->OptionsLocked();
  }
  if (budget_seconds > 0) {
    options.timeout = std::min(
        options.timeout, std::chrono::milliseconds(static_cast<int64_t>(budget_seconds * 1000)));
  }
  auto promise = std::make_shared<std::promise<probe::TargetResult>>();
  std::future<probe::TargetResult> future = promise->get_future();
  asio::co_spawn(asio::make_strand(impl_->io), probe::ProbeEndpointTarget(*t, options),
                 [promise](std::exception_ptr ep, probe::TargetResult r) {
                   if (ep) {
                     promise->set_exception(ep);
                   } else {
                     promise->set_value(std::move(r));
                   }
                 });
  // Every address is probed under its own deadline; this bound only guards against a bug.
  auto limit = options.timeout * 4 + std::chrono::seconds(5);
  if (future.wait_for(limit) != std::future_status::ready) {
    return {500, "probe did not finish in time\n"};
  }
  try {
    probe::TargetResult r = future.get();
    for (auto& e : r.endpoints) impl_->history.Observe(&e, e.finished_at);
    return {200, exporter::RenderReports(r.endpoints)};
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
    data.plan = impl_->plan;
    data.results = impl_->results;
  }
  data.now = ToUnixSeconds(SystemClock().Now());
  return RenderStatusPage(data);
}

http::Handlers Exporter::MakeHandlers() {
  http::Handlers h;
  h.metrics = [this] { return RenderMetrics(); };
  h.probe = [this](const std::string& t, bool scan, double budget) {
    return ProbeNow(t, scan, budget);
  };
  h.status_page = [this] { return StatusPage(); };
  h.ready = [this] { return Ready(); };
  h.reload = [this] { return Reload(); };
  return h;
}

}  // namespace mailsec::app
