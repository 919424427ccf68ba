// The integration-test fleet: real mail servers started by the test binary itself, bound to a
// fresh 127.x.y.z address, with every file under a fresh directory inside the build tree.
//
// Today the fleet runs one private Postfix instance (several smtpd services, postscreen,
// implicit-TLS submissions, STARTTLS submission) behind certificates issued by a test CA made with
// the openssl CLI. Each server family has its own section (MakeCertificates, StartPostfix, ...), so
// Dovecot, NSD+Unbound and nginx can be added next to it.
#ifndef MAILSEC_TESTS_INTEGRATION_FLEET_H_
#define MAILSEC_TESTS_INTEGRATION_FLEET_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <vector>

namespace mailsec::testing {

// ---------------------------------------------------------------------------------------------
// Process and file helpers shared by the fleet, the exporter process and the tests.

struct CommandResult {
  int exit_code = -1;  // exit status, or 128+signal when killed, or -1 when it could not start
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null and waits at most `timeout`; a
// command still running then is killed with SIGKILL. Output is capped at 1 MiB.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Forks and execs argv with stdin from /dev/null and stdout+stderr appended to `log_path`. The
// child gets its own session (so a server's own "kill my process group" cannot reach the test
// binary) and SIGTERM when the test binary dies. Returns the pid, or -1 (errno kept).
pid_t SpawnProcess(const std::vector<std::string>& argv, const std::string& log_path);

// Waits at most `timeout` for `pid` (a child of ours) to exit; true when it was reaped.
bool WaitForExit(pid_t pid, std::chrono::milliseconds timeout, int* status = nullptr);

// SIGTERM, bounded wait, then SIGKILL and reap. Safe to call with pid <= 0 or a reaped pid.
void TerminateProcess(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(5));

bool WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
// The last `lines` lines of a file (empty when unreadable).
std::string FileTail(const std::string& path, std::size_t lines = 40);

// Connects to address:port (with a TLS handshake first when `implicit_tls`, without verifying the
// certificate) and reads an SMTP-style greeting up to and including its final "NNN " line. Fails
// when nothing final arrives within `timeout`. On success *greeting holds every line read.
::testing::AssertionResult ReadGreeting(const std::string& address, std::uint16_t port,
                                        bool implicit_tls, std::chrono::milliseconds timeout,
                                        std::string* greeting);

// notAfter of the first certificate in a PEM file, as Unix seconds (-1 when unreadable).
std::time_t CertNotAfter(const std::string& pem_path);

// ---------------------------------------------------------------------------------------------

class Fleet {
 public:
  // Port layout on address() (fixed offsets; the address is fresh per run, so fixed ports cannot
  // collide with a stale fleet). Names are what port() accepts.
  static constexpr std::uint16_t kSmtpGoodPort = 10025;       // STARTTLS, good cert
  static constexpr std::uint16_t kSmtpExpiredPort = 10026;    // STARTTLS, expired cert
  static constexpr std::uint16_t kSmtpWronghostPort = 10027;  // STARTTLS, SAN wrong.example
  static constexpr std::uint16_t kSmtpNotlsPort = 10028;      // no STARTTLS at all
  static constexpr std::uint16_t kPostscreenPort = 10029;     // postscreen, multi-line greeting
  static constexpr std::uint16_t kSubmissionsPort = 10465;    // implicit TLS, good cert
  static constexpr std::uint16_t kSubmissionPort = 10587;     // STARTTLS + smtpd_tls_auth_only
  // AllocatePort() hands out ports from here on (exporters and helpers of the tests).
  static constexpr std::uint16_t kFirstFreePort = 19500;

  // `base_dir` is where the fresh fleet-XXXXXX directory is created (inside the build tree).
  explicit Fleet(std::string base_dir);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Picks the address, makes the directory and the certificates, starts every server and waits
  // until each port greets. On failure the message carries the servers' log tails; call Stop().
  ::testing::AssertionResult Start();
  // Stops every server (bounded), then removes the directory unless MAILSEC_KEEP_FLEET is set in
  // the environment. Idempotent.
  void Stop();

  const std::string& address() const { return address_; }
  const std::string& dir() const { return dir_; }
  // The root CA only: what the exporter's ca_file trusts.
  const std::string& ca_bundle_path() const { return ca_bundle_path_; }
  // Port of a named service; records a test failure and returns 0 when unknown.
  std::uint16_t port(const std::string& name) const;
  // Every named service with its port, and whether it is implicit TLS.
  struct Service {
    std::string name;
    std::uint16_t port;
    bool implicit_tls;
  };
  const std::vector<Service>& services() const { return services_; }

  // Leaf names: "good", "expired", "wronghost". cert_path() holds leaf + intermediate.
  std::string cert_path(const std::string& leaf) const;
  std::string key_path(const std::string& leaf) const;
  std::string leaf_path(const std::string& leaf) const;  // leaf alone
  std::time_t cert_not_after(const std::string& leaf) const;

  // A port on address() nobody listens on yet (never the same twice per fleet).
  std::uint16_t AllocatePort();

  std::string PostfixLogTail(std::size_t lines = 40) const;

 private:
  ::testing::AssertionResult ChooseAddress();
  ::testing::AssertionResult MakeDirectory();

  // Test CA: root -> intermediate -> leaves, with the openssl CLI.
  ::testing::AssertionResult MakeCertificates();
  ::testing::AssertionResult Openssl(const std::vector<std::string>& args);
  ::testing::AssertionResult MakeLeaf(const std::string& name, const std::string& san,
                                      const std::vector<std::string>& validity);

  // Postfix: a private instance under dir()/postfix, master run as our child.
  ::testing::AssertionResult StartPostfix();
  void StopPostfix();
  std::string PostfixMainCf() const;
  std::string PostfixMasterCf() const;

  ::testing::AssertionResult WaitForGreetings(std::chrono::milliseconds timeout);

  std::string base_dir_;
  std::string dir_;
  std::string address_;
  std::string ca_dir_;
  std::string ca_bundle_path_;
  std::vector<Service> services_;
  std::map<std::string, std::time_t> not_after_;
  std::uint16_t next_port_ = kFirstFreePort;

  std::string postfix_dir_;
  pid_t postfix_master_pid_ = -1;
  bool stopped_ = false;
};

}  // namespace mailsec::testing

#endif  // MAILSEC_TESTS_INTEGRATION_FLEET_H_
