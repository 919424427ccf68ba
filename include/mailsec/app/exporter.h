// The running exporter: owns the io_context and its threads, the loaded config and plan, the
// scheduler, the latest result of every target, and the reload logic. main() wires it to the
// HTTP front and to signals.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mailsec/base/status.h"
#include "mailsec/config/config.h"
#include "mailsec/export/snapshot.h"
#include "mailsec/http/server.h"
#include "mailsec/plan/plan.h"

namespace mailsec::app {

class Exporter {
 public:
  // config_path empty: the embedded default config. `shard`: which slice of the configured
  // targets this process probes (plan::Shard; every target by default), at start and on every
  // reload. /probe still serves every configured target.
  explicit Exporter(std::string config_path, int threads = 4, plan::Shard shard = {});
  ~Exporter();

  // Loads the config and starts probing. Error on a bad config (nothing started).
  Status Start();
  // Re-reads the config; on error keeps the running one and sets the reload metrics.
  Status Reload();
  void Stop();

  std::string RenderMetrics() const;
  // What RenderMetrics returns, as a body of known size written in pieces (see
  // exporter::ScrapeBody): the published results as they are now.
  std::shared_ptr<const exporter::ScrapeBody> Scrape() const;
  http::ProbeReply ProbeNow(const std::string& target, bool scan, double budget_seconds);
  std::string StatusPage() const;
  bool Ready() const;
  http::Handlers MakeHandlers();

  // The listen address from the config (flags may override it).
  std::string ConfiguredListenAddress() const;
  // The [web] section of the running config.
  config::WebConfig ConfiguredWeb() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The whole command line: `mailsec_exporter [flags]` and `mailsec_exporter check ...`.
// Returns the process exit status.
int Main(int argc, char** argv);

}  // namespace mailsec::app
