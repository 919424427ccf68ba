#include "exporter_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#ifndef MAILSEC_EXPORTER_BIN
#error "MAILSEC_EXPORTER_BIN must name the mailsec_exporter binary"
#endif

namespace mailsec::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Parses `{a="b",c="d"}` starting at s[i] == '{'; leaves i after '}'.
bool ParseLabels(const std::string& s, std::size_t& i, Labels* labels) {
  ++i;  // '{'
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
    if (i < s.size() && s[i] == '}') {
      ++i;
      return true;
    }
    std::size_t eq = s.find('=', i);
    if (eq == std::string::npos) return false;
    std::string key = s.substr(i, eq - i);
    while (!key.empty() && key.back() == ' ') key.pop_back();
    i = eq + 1;
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size() || s[i] != '"') return false;
    ++i;
    std::string value;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) {
        ++i;
        value += s[i] == 'n' ? '\n' : s[i];
      } else {
        value += s[i];
      }
      ++i;
    }
    if (i >= s.size()) return false;
    ++i;  // closing quote
    (*labels)[key] = value;
  }
  return false;
}

}  // namespace

std::vector<Sample> ParseMetrics(const std::string& body) {
  std::vector<Sample> samples;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ' && line[i] != '\t') ++i;
    sample.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{' && !ParseLabels(line, i, &sample.labels)) continue;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t end = line.find_first_of(" \t", i);
    std::string value = line.substr(i, end == std::string::npos ? std::string::npos : end - i);
    if (value.empty()) continue;
    char* stop = nullptr;
    sample.value = std::strtod(value.c_str(), &stop);
    if (stop == nullptr || *stop != '\0') continue;
    samples.push_back(std::move(sample));
  }
  return samples;
}

std::optional<double> MetricValue(const std::string& body, const std::string& name,
                                  const Labels& labels) {
  for (const Sample& s : ParseMetrics(body)) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (match) return s.value;
  }
  return std::nullopt;
}

std::string FormatSeries(const std::string& name, const Labels& labels) {
  std::string out = name + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + v + "\"";
  }
  return out + "}";
}

ExporterProcess::ExporterProcess(Fleet& fleet, const std::string& name)
    : dir_(fleet.dir() + "/exporter-" + name),
      address_(fleet.address()),
      port_(fleet.AllocatePort()),
      config_path_(dir_ + "/config.toml"),
      log_path_(dir_ + "/exporter.log") {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

ExporterProcess::~ExporterProcess() { Stop(); }

::testing::AssertionResult ExporterProcess::WriteConfig(const std::string& toml) {
  // Write to a temporary file and rename, so a reload never reads half a file.
  std::string tmp = config_path_ + ".tmp";
  if (!WriteFile(tmp, toml) || std::rename(tmp.c_str(), config_path_.c_str()) != 0) {
    return ::testing::AssertionFailure() << "cannot write " << config_path_;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ExporterProcess::Start() {
  const std::string bin = MAILSEC_EXPORTER_BIN;
  if (access(bin.c_str(), X_OK) != 0) {
    return ::testing::AssertionFailure() << "exporter binary " << bin << " is not executable";
  }
  if (port_ == 0) return ::testing::AssertionFailure() << "no port for the exporter";
  std::vector<std::string> argv = {bin, "--config.file=" + config_path_,
                                   "--web.listen-address=" + listen_address(), "--log.level=debug"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  pid_ = SpawnProcess(argv, log_path_);
  if (pid_ <= 0) {
    return ::testing::AssertionFailure() << "cannot start " << bin << ": " << std::strerror(errno);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ExporterProcess::WaitReady(std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  HttpResponse last;
  while (Clock::now() < deadline) {
    if (!Running()) {
      return ::testing::AssertionFailure()
             << "the exporter exited (status " << exit_status_ << ") before it was ready; log:\n"
             << LogTail();
    }
    last = Get("/-/ready");
    if (last.status == 200) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(milliseconds(100));
  }
  return ::testing::AssertionFailure()
         << "GET /-/ready on " << listen_address() << " not 200 within " << timeout.count()
         << " ms (last: " << last.status << " " << last.error << last.body << "); log:\n"
         << LogTail();
}

::testing::AssertionResult ExporterProcess::StartAndWait() {
  if (auto r = Start(); !r) return r;
  return WaitReady();
}

HttpResponse ExporterProcess::Get(const std::string& path, const httplib::Headers& headers) {
  httplib::Client client(address_, port_);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(30, 0);
  client.set_write_timeout(5, 0);
  HttpResponse out;
  if (auto res = client.Get(path, headers)) {
    out.status = res->status;
    out.body = res->body;
  } else {
    out.error = httplib::to_string(res.error());
  }
  return out;
}

HttpResponse ExporterProcess::Post(const std::string& path, const std::string& body) {
  httplib::Client client(address_, port_);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(30, 0);
  client.set_write_timeout(5, 0);
  HttpResponse out;
  if (auto res = client.Post(path, body, "text/plain")) {
    out.status = res->status;
    out.body = res->body;
  } else {
    out.error = httplib::to_string(res.error());
  }
  return out;
}

bool ExporterProcess::Sighup() { return pid_ > 0 && kill(pid_, SIGHUP) == 0; }

void ExporterProcess::Stop() {
  if (pid_ <= 0) return;
  TerminateProcess(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

bool ExporterProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return false;
  }
  return true;
}

std::string ExporterProcess::LogTail(std::size_t lines) const { return FileTail(log_path_, lines); }

std::optional<double> ExporterProcess::WaitForMetric(const std::string& name, const Labels& labels,
                                                     std::chrono::milliseconds timeout,
                                                     const std::function<bool(double)>& accept) {
  Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    HttpResponse r = Get("/metrics");
    if (r.status == 200) {
      last_metrics_ = r.body;
      std::optional<double> v = MetricValue(r.body, name, labels);
      if (v && (!accept || accept(*v))) return v;
    }
    if (!Running() || Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(250));
  }
}

}  // namespace mailsec::testing
