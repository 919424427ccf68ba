// One mailsec_exporter process under test: its config file, its log, its HTTP face.
#ifndef MAILSEC_TESTS_INTEGRATION_EXPORTER_PROCESS_H_
#define MAILSEC_TESTS_INTEGRATION_EXPORTER_PROCESS_H_

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fleet.h"

namespace mailsec::testing {

using Labels = std::map<std::string, std::string>;

// One sample of the Prometheus text exposition format.
struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// Every sample of a text-format body (comments and malformed lines skipped).
std::vector<Sample> ParseMetrics(const std::string& body);

// The value of the first sample named `name` whose labels include every pair of `labels`.
std::optional<double> MetricValue(const std::string& body, const std::string& name,
                                  const Labels& labels);

// `name{a="b",...}` for messages.
std::string FormatSeries(const std::string& name, const Labels& labels);

struct HttpResponse {
  int status = -1;  // -1: no HTTP response at all (see error)
  std::string body;
  std::string error;
};

class ExporterProcess {
 public:
  // Files go to fleet.dir()/exporter-<name>; listens on fleet.address() at a fresh port.
  ExporterProcess(Fleet& fleet, const std::string& name);
  ~ExporterProcess();
  ExporterProcess(const ExporterProcess&) = delete;
  ExporterProcess& operator=(const ExporterProcess&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }
  std::string state_file_path() const { return dir_ + "/state.json"; }
  const std::string& log_path() const { return log_path_; }
  std::string listen_address() const { return address_ + ":" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

  // (Re)writes config_path() with `toml`.
  ::testing::AssertionResult WriteConfig(const std::string& toml);
  // Flags appended to the command line by the next Start() (e.g. {"--shard=1/3"}).
  void set_extra_args(std::vector<std::string> args) { extra_args_ = std::move(args); }
  // Starts MAILSEC_EXPORTER_BIN --config.file --web.listen-address --log.level=debug, then
  // extra_args.
  ::testing::AssertionResult Start();
  // Polls GET /-/ready until 200 (bounded); fails at once when the process exits.
  ::testing::AssertionResult WaitReady(
      std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Start() + WaitReady().
  ::testing::AssertionResult StartAndWait();

  HttpResponse Get(const std::string& path, const httplib::Headers& headers = {});
  HttpResponse Post(const std::string& path, const std::string& body = "");
  HttpResponse Reload() { return Post("/-/reload"); }
  bool Sighup();
  // SIGTERM, bounded wait, SIGKILL. Idempotent.
  void Stop();
  // Whether the process is still alive (reaps it, recording the exit status, when not).
  bool Running();
  // The exit status Running() recorded (128+signal when killed); -1 before.
  int exit_status() const { return exit_status_; }

  std::string LogTail(std::size_t lines = 60) const;

  // Polls /metrics until a sample `name` with `labels` exists (and satisfies `accept`, when
  // given); returns its value, or nullopt on timeout or when the process exits.
  std::optional<double> WaitForMetric(const std::string& name, const Labels& labels,
                                      std::chrono::milliseconds timeout,
                                      const std::function<bool(double)>& accept = nullptr);
  // The body of the latest /metrics fetched by WaitForMetric.
  const std::string& last_metrics() const { return last_metrics_; }

 private:
  std::string dir_;
  std::string address_;
  std::uint16_t port_;
  std::string config_path_;
  std::string log_path_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::string last_metrics_;
  std::vector<std::string> extra_args_;
};

}  // namespace mailsec::testing

#endif  // MAILSEC_TESTS_INTEGRATION_EXPORTER_PROCESS_H_
