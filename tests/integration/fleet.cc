#include "fleet.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace mailsec::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxCommandOutput = 1 << 20;

milliseconds Remaining(Clock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// argv as the char* array execv wants; built before fork so the child only calls exec.
class Argv {
 public:
  explicit Argv(const std::vector<std::string>& args) : args_(args) {
    for (auto& a : args_) ptrs_.push_back(a.data());
    ptrs_.push_back(nullptr);
  }
  char* const* get() { return ptrs_.data(); }

 private:
  std::vector<std::string> args_;
  std::vector<char*> ptrs_;
};

// In a freshly forked child: die with the test binary, default SIGPIPE, no stray descriptors.
void PrepareChild(pid_t parent, int stdout_fd) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(126);  // the parent died before prctl took effect
  signal(SIGPIPE, SIG_DFL);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0) _exit(126);
  if (dup2(stdout_fd, STDOUT_FILENO) < 0 || dup2(stdout_fd, STDERR_FILENO) < 0) _exit(126);
  close_range(3, ~0U, 0);
}

std::string Join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// A TCP connection to address:port within the deadline; -1 on failure (*error says why).
int ConnectTcp(const std::string& address, std::uint16_t port, Clock::time_point deadline,
               std::string* error) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) {
    *error = "bad IPv4 address " + address;
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (errno != EINPROGRESS) {
      *error = std::string("connect: ") + std::strerror(errno);
      close(fd);
      return -1;
    }
    pollfd pfd{fd, POLLOUT, 0};
    int n = poll(&pfd, 1, static_cast<int>(Remaining(deadline).count()));
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (n <= 0) {
      *error = "connect: timed out";
      close(fd);
      return -1;
    }
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
      *error = std::string("connect: ") + std::strerror(so_error);
      close(fd);
      return -1;
    }
  }
  return fd;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// What the complete lines of `buffer` say about a greeting of `protocol` so far.
struct GreetingState {
  bool complete = false;  // the greeting's final line has arrived
  bool ok = false;        // and it is a welcome, not a refusal
};

GreetingState EvaluateGreeting(Protocol protocol, const std::string& buffer) {
  std::size_t start = 0;
  while (true) {
    std::size_t end = buffer.find('\n', start);
    if (end == std::string::npos) return {};
    std::string line = buffer.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    start = end + 1;
    switch (protocol) {
      case Protocol::kSmtp:
        // "NNN text" or a bare "NNN" ends the reply; "NNN-text" continues it.
        if ((line.size() >= 4 && line[3] == ' ') || line.size() == 3) {
          return {true, line.substr(0, 3) == "220"};
        }
        break;
      case Protocol::kImap:
        return {true, StartsWith(line, "* OK")};  // "* PREAUTH" and "* BYE" are not for us
      case Protocol::kPop3:
        return {true, StartsWith(line, "+OK")};
      case Protocol::kSieve:
        // Capability lines ("IMPLEMENTATION" ..., "STARTTLS") until OK, NO or BYE (RFC 5804 §1.7).
        if (StartsWith(line, "OK")) return {true, true};
        if (StartsWith(line, "NO") || StartsWith(line, "BYE")) return {true, false};
        break;
    }
  }
}

bool PortIsFree(const std::string& address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return false;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // No SO_REUSEADDR: fails on listeners, wildcard listeners and lingering connections alike.
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(fd);
  return ok;
}

bool UdpPortIsFree(const std::string& address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return false;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(fd);
  return ok;
}

std::vector<std::string> Concat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// `openssl ca`/`openssl req` configuration of the test CAs (after a "dir = ..." line).
constexpr char kCaConfig[] =
    "database = $dir/index.txt\n"
    "new_certs_dir = $dir/newcerts\n"
    "serial = $dir/serial\n"
    "default_md = sha256\n"
    "policy = policy_any\n"
    "unique_subject = no\n"
    "copy_extensions = none\n"
    "email_in_dn = no\n"
    "[ policy_any ]\n"
    "commonName = supplied\n"
    "[ req ]\n"
    "distinguished_name = dn\n"
    "prompt = no\n"
    "[ dn ]\n"
    "CN = unused\n"
    "[ v3_root ]\n"
    "basicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[ v3_intermediate ]\n"
    "basicConstraints = critical,CA:TRUE,pathlen:0\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "authorityKeyIdentifier = keyid:always\n";

std::vector<std::string> EcKeyArgs() {
  return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"};
}

// Whether a process of group `pgid` is still running. Zombies do not count: they hold no sockets,
// and their reaping is up to whoever inherited them (pid 1 in a container, at its own pace).
bool GroupHasLiveProcess(pid_t pgid) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    // "pid (comm) state ppid pgrp ..."; comm may hold blanks and parentheses.
    std::size_t close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(close_paren + 1));
    char state = 0;
    long ppid = 0;
    long pgrp = 0;
    if (!(fields >> state >> ppid >> pgrp)) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') return true;
  }
  return false;
}

// Stops a server we spawned with SpawnProcess (so it leads its own session and process group):
// SIGTERM, bounded wait, SIGKILL, then waits (bounded) until no live process of its group is
// left. Its children are no longer ours once it exited; idle ones take a moment to notice its
// signal, and what is left after that gets SIGKILL, so the ports are free when this returns.
// Only ever signals the group of a pid we started. Sets *pid to -1.
void StopServerGroup(pid_t* pid) {
  if (*pid <= 0) return;
  const pid_t group = *pid;  // SpawnProcess: setsid(), so pid == pgid
  TerminateProcess(*pid, std::chrono::seconds(5));
  *pid = -1;
  auto wait_group = [group](milliseconds timeout) {
    Clock::time_point deadline = Clock::now() + timeout;
    while (GroupHasLiveProcess(group)) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return true;
  };
  if (!wait_group(milliseconds(500))) {
    kill(-group, SIGKILL);
    wait_group(std::chrono::seconds(5));
  }
}

// The watchdog's body, in a forked child: async-signal-safe calls only, no allocation. Reads
// "+PGID\n" / "-PGID\n" records from `fd`; at EOF (the test binary's end closed: it stopped the
// fleet, or died) it stops the groups still registered, SIGTERM then SIGKILL.
[[noreturn]] void WatchdogMain(int fd) {
  constexpr int kMaxGroups = 64;
  pid_t groups[kMaxGroups] = {};
  char buf[256];
  long value = 0;
  int sign = 0;
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      char c = buf[i];
      if (c == '+' || c == '-') {
        sign = c == '+' ? 1 : -1;
        value = 0;
      } else if (c >= '0' && c <= '9') {
        value = value * 10 + (c - '0');
      } else if (c == '\n' && sign != 0 && value > 1) {
        for (int g = 0; g < kMaxGroups; ++g) {
          if (sign > 0 && groups[g] == 0) {
            groups[g] = static_cast<pid_t>(value);
            break;
          }
          if (sign < 0 && groups[g] == value) groups[g] = 0;
        }
        sign = 0;
      }
    }
  }
  bool any = false;
  for (pid_t g : groups) any = (g > 0 && kill(-g, SIGTERM) == 0) || any;
  for (int i = 0; any && i < 40; ++i) {  // up to 2 s for the servers to stop their children
    timespec ts{0, 50 * 1000 * 1000};
    nanosleep(&ts, nullptr);
    any = false;
    for (pid_t g : groups) any = (g > 0 && kill(-g, 0) == 0) || any;
  }
  for (pid_t g : groups) {
    if (g > 0) kill(-g, SIGKILL);
  }
  _exit(0);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Helpers

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  CommandResult result;
  Clock::time_point deadline = Clock::now() + timeout;
  int fds[2];
  if (argv.empty() || pipe2(fds, O_CLOEXEC) != 0) {
    result.output = "cannot start: " + Join(argv);
    return result;
  }
  Argv args(argv);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    result.output = std::string("fork: ") + std::strerror(errno);
    return result;
  }
  if (pid == 0) {
    PrepareChild(parent, fds[1]);
    execvp(args.get()[0], args.get());
    static const char kMsg[] = "exec failed\n";
    [[maybe_unused]] auto n = write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    _exit(127);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  char buf[4096];
  while (true) {
    milliseconds left = Remaining(deadline);
    if (left.count() == 0) {
      result.timed_out = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    int n = poll(&pfd, 1, static_cast<int>(std::min<long>(left.count(), 200)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    ssize_t r = read(fds[0], buf, sizeof buf);
    if (r > 0) {
      if (result.output.size() < kMaxCommandOutput) result.output.append(buf, r);
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      break;  // EOF: every writer is gone
    }
  }
  close(fds[0]);
  int status = 0;
  if (result.timed_out || !WaitForExit(pid, Remaining(deadline), &status)) {
    result.timed_out = true;
    kill(pid, SIGKILL);
    WaitForExit(pid, std::chrono::seconds(5), &status);
    result.exit_code = -1;
    return result;
  }
  result.exit_code = DecodeStatus(status);
  return result;
}

SServerProcess::SServerProcess(const std::string& hostport, const std::vector<std::string>& options,
                               const std::string& log_path,
                               const std::vector<std::string>& client_options) {
  std::vector<std::string> argv = {"openssl", "s_server", "-www", "-quiet", "-accept", hostport};
  argv.insert(argv.end(), options.begin(), options.end());
  pid_ = SpawnProcess(argv, log_path);
  std::vector<std::string> client = {"openssl", "s_client", "-connect", hostport};
  client.insert(client.end(), client_options.begin(), client_options.end());
  for (int i = 0; i < 50 && pid_ > 0 && !up_; ++i) {
    up_ = RunCommand(client, std::chrono::seconds(5)).exit_code == 0;
    if (!up_) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

SServerProcess::~SServerProcess() { TerminateProcess(pid_); }

pid_t SpawnProcess(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) return -1;
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return -1;
  Argv args(argv);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    PrepareChild(parent, log_fd);
    execvp(args.get()[0], args.get());
    static const char kMsg[] = "exec failed\n";
    [[maybe_unused]] auto n = write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    _exit(127);
  }
  int saved = errno;
  close(log_fd);
  errno = saved;
  return pid;
}

bool WaitForExit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  if (pid <= 0) return true;
  Clock::time_point deadline = Clock::now() + timeout;
  int st = 0;
  while (true) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      if (status != nullptr) *status = st;
      return true;
    }
    if (r < 0 && errno != EINTR) return true;  // not our child (anymore)
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

void TerminateProcess(pid_t pid, std::chrono::milliseconds grace) {
  if (pid <= 0) return;
  if (kill(pid, SIGTERM) != 0 && errno == ESRCH) {
    WaitForExit(pid, milliseconds(0));
    return;
  }
  if (WaitForExit(pid, grace)) return;
  kill(pid, SIGKILL);
  WaitForExit(pid, std::chrono::seconds(5));
}

bool WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  return static_cast<bool>(out);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FileTail(const std::string& path, std::size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += l + "\n";
  return out;
}

const char* ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kSmtp:
      return "SMTP";
    case Protocol::kImap:
      return "IMAP";
    case Protocol::kPop3:
      return "POP3";
    case Protocol::kSieve:
      return "ManageSieve";
  }
  return "?";
}

::testing::AssertionResult ReadGreeting(const std::string& address, std::uint16_t port,
                                        bool implicit_tls, std::chrono::milliseconds timeout,
                                        std::string* greeting) {
  return ReadServiceGreeting(address, port, Protocol::kSmtp, implicit_tls, timeout, greeting);
}

::testing::AssertionResult ReadServiceGreeting(const std::string& address, std::uint16_t port,
                                               Protocol protocol, bool implicit_tls,
                                               std::chrono::milliseconds timeout,
                                               std::string* greeting) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::string where = std::string(ProtocolName(protocol)) + " " + address + ":" +
                      std::to_string(port) + (implicit_tls ? " (TLS)" : "");
  std::string error;
  int fd = ConnectTcp(address, port, deadline, &error);
  if (fd < 0) return ::testing::AssertionFailure() << where << ": " << error;
  std::string buffer;
  GreetingState state;
  if (!implicit_tls) {
    char buf[1024];
    while (!state.complete && buffer.size() < 64 * 1024) {
      milliseconds left = Remaining(deadline);
      if (left.count() == 0) break;
      pollfd pfd{fd, POLLIN, 0};
      int n = poll(&pfd, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      ssize_t r = recv(fd, buf, sizeof buf, 0);
      if (r <= 0) break;
      buffer.append(buf, r);
      state = EvaluateGreeting(protocol, buffer);
    }
  } else {
    // Blocking socket with per-call timeouts, bounded overall by the deadline checks below.
    fcntl(fd, F_SETFL, 0);
    timeval tv{};
    tv.tv_sec = std::max<long>(1, Remaining(deadline).count() / 1000);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = ctx != nullptr ? SSL_new(ctx) : nullptr;
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
      error = "TLS handshake failed";
    } else {
      char buf[1024];
      while (!state.complete && buffer.size() < 64 * 1024 && Remaining(deadline).count() > 0) {
        int r = SSL_read(ssl, buf, sizeof buf);
        if (r <= 0) break;
        buffer.append(buf, r);
        state = EvaluateGreeting(protocol, buffer);
      }
    }
    if (ssl != nullptr) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    SSL_CTX_free(ctx);
  }
  close(fd);
  if (greeting != nullptr) *greeting = buffer;
  if (!error.empty()) return ::testing::AssertionFailure() << where << ": " << error;
  if (!state.complete) {
    return ::testing::AssertionFailure()
           << where << ": no complete greeting before the deadline; read: \"" << buffer << "\"";
  }
  if (!state.ok) {
    return ::testing::AssertionFailure() << where << ": refused: \"" << buffer << "\"";
  }
  return ::testing::AssertionSuccess();
}

std::time_t CertNotAfter(const std::string& pem_path) {
  BIO* bio = BIO_new_file(pem_path.c_str(), "r");
  if (bio == nullptr) return -1;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return -1;
  std::tm tm{};
  std::time_t result = -1;
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) result = timegm(&tm);
  X509_free(cert);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Fleet

Fleet::Fleet(std::string base_dir, FleetOptions options)
    : base_dir_(std::move(base_dir)), options_(options) {
  services_ = {
      {"smtp_good", kSmtpGoodPort, false},
      {"smtp_expired", kSmtpExpiredPort, false},
      {"smtp_wronghost", kSmtpWronghostPort, false},
      {"smtp_notls", kSmtpNotlsPort, false},
      {"postscreen", kPostscreenPort, false},
      {"submissions", kSubmissionsPort, true},
      {"submission", kSubmissionPort, false},
      {"smtp_notyetvalid", kSmtpNotyetvalidPort, false},
      {"smtp_selfsigned", kSmtpSelfsignedPort, false},
      {"smtp_nointermediate", kSmtpNointermediatePort, false},
      {"smtp_expiring", kSmtpExpiringPort, false},
      {"smtp_rsa", kSmtpRsaPort, false},
      {"smtp_tls12", kSmtpTls12Port, false},
      {"smtp_encrypt", kSmtpEncryptPort, false},
      {"submission_selfsigned", kSubmissionSelfsignedPort, false},
  };
  if (options_.dovecot) {
    const std::vector<Service> dovecot = {
        {"imap", kImapPort, false, Protocol::kImap, "dovecot"},
        {"imaps", kImapsPort, true, Protocol::kImap, "dovecot"},
        {"pop3", kPop3Port, false, Protocol::kPop3, "dovecot"},
        {"pop3s", kPop3sPort, true, Protocol::kPop3, "dovecot"},
        {"sieve", kSievePort, false, Protocol::kSieve, "dovecot"},
        {"imap_expired", kImapExpiredPort, false, Protocol::kImap, "dovecot_expired"},
        {"imaps_expired", kImapsExpiredPort, true, Protocol::kImap, "dovecot_expired"},
    };
    services_.insert(services_.end(), dovecot.begin(), dovecot.end());
    dovecots_ = {{.name = "dovecot", .cert = "good", .protocols = {"imap", "pop3", "sieve"}},
                 {.name = "dovecot_expired", .cert = "expired", .protocols = {"imap"}}};
  }
  if (options_.dns) services_.push_back({"smtp_mx", kSmtpMxPort, false});
}

Fleet::~Fleet() { Stop(); }

::testing::AssertionResult Fleet::Start() {
  if (geteuid() != 0) {
    return ::testing::AssertionFailure()
           << "the integration fleet runs Postfix's master and Dovecot as root; run the tests as "
              "root";
  }
  if (auto r = ChooseAddress(); !r) return r;
  if (auto r = MakeDirectory(); !r) return r;
  if (auto r = StartWatchdog(); !r) return r;
  if (auto r = MakeCertificates(); !r) return r;
  if (auto r = StartPostfix(); !r) return r;
  if (options_.dovecot) {
    if (auto r = StartDovecot(); !r) return r;
  }
  if (options_.dns) {
    if (auto r = MakeZones(); !r) return r;
    if (auto r = StartNsd(); !r) return r;
    if (auto r = StartUnbound(); !r) return r;
    if (auto r = StartNginx(); !r) return r;
  }
  if (auto r = WaitForGreetings(std::chrono::seconds(20)); !r) return r;
  if (options_.dns) {
    if (auto r = WaitForDns(std::chrono::seconds(20)); !r) return r;
    if (auto r = WaitForNginx(std::chrono::seconds(10)); !r) return r;
  }
  return ::testing::AssertionSuccess();
}

void Fleet::Stop() {
  if (stopped_) return;
  stopped_ = true;
  StopDnsAndNginx();
  StopDovecot();
  StopPostfix();
  StopWatchdog();
  if (!dir_.empty() && std::getenv("MAILSEC_KEEP_FLEET") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::uint16_t Fleet::port(const std::string& name) const {
  for (const auto& s : services_) {
    if (s.name == name) return s.port;
  }
  ADD_FAILURE() << "the fleet has no service named " << name;
  return 0;
}

std::string Fleet::cert_path(const std::string& leaf) const {
  return ca_dir_ + "/" + leaf + ".crt";
}
std::string Fleet::key_path(const std::string& leaf) const { return ca_dir_ + "/" + leaf + ".key"; }
std::string Fleet::leaf_path(const std::string& leaf) const {
  return ca_dir_ + "/" + leaf + ".leaf.pem";
}

std::time_t Fleet::cert_not_after(const std::string& leaf) const {
  auto it = not_after_.find(leaf);
  return it == not_after_.end() ? -1 : it->second;
}

std::uint16_t Fleet::AllocatePort() {
  while (next_port_ < 65000) {
    std::uint16_t p = next_port_++;
    if (PortIsFree(address_, p)) return p;
  }
  ADD_FAILURE() << "no free port left on " << address_;
  return 0;
}

std::string Fleet::PostfixLogTail(std::size_t lines) const {
  std::string out = FileTail(postfix_dir_ + "/postfix.log", lines);
  std::string master = FileTail(postfix_dir_ + "/master.out", 10);
  if (!master.empty()) out += "--- master stdout/stderr:\n" + master;
  return out;
}

std::string Fleet::DovecotLogTail(const std::string& instance, std::size_t lines) const {
  for (const auto& d : dovecots_) {
    if (d.name != instance || d.dir.empty()) continue;
    std::string out = FileTail(d.dir + "/dovecot.log", lines);
    std::string master = FileTail(d.dir + "/dovecot.out", 20);
    if (!master.empty()) out += "--- dovecot stdout/stderr:\n" + master;
    return out;
  }
  return "(no Dovecot instance " + instance + ")\n";
}

std::string Fleet::ServerLogTail(const std::string& server, std::size_t lines) const {
  if (server == "postfix") return PostfixLogTail(lines);
  // The DNS servers and nginx: their log file, then what they wrote to stdout/stderr.
  struct Logs {
    const char* name;
    std::string log;
    std::string out;
  };
  const Logs logs[] = {
      {"nsd", dns_dir_ + "/nsd/nsd.log", dns_dir_ + "/nsd/nsd.out"},
      {"unbound", dns_dir_ + "/unbound/unbound.log", dns_dir_ + "/unbound/unbound.out"},
      {"nginx", nginx_dir_ + "/error.log", nginx_dir_ + "/nginx.out"},
  };
  for (const auto& l : logs) {
    if (server != l.name) continue;
    std::string out = FileTail(l.log, lines);
    std::string console = FileTail(l.out, 20);
    if (!console.empty()) out += std::string("--- ") + l.name + " stdout/stderr:\n" + console;
    return out;
  }
  return DovecotLogTail(server, lines);
}

::testing::AssertionResult Fleet::ChooseAddress() {
  // 127.77.y.z with y.z derived from the pid, so a stale fleet of an earlier run (another pid)
  // cannot answer in place of ours; every port of the layout must be bindable.
  unsigned seed = static_cast<unsigned>(getpid());
  for (unsigned i = 0; i < 64; ++i) {
    unsigned v = (seed + i * 7919u) % (254u * 254u);
    std::string candidate =
        "127.77." + std::to_string(1 + v / 254) + "." + std::to_string(1 + v % 254);
    bool free = true;
    for (const auto& s : services_) free = free && PortIsFree(candidate, s.port);
    for (std::uint16_t p = kFirstFreePort; free && p < kFirstFreePort + 8; ++p) {
      free = PortIsFree(candidate, p);
    }
    // The second address (weak.test's MX, where nothing may listen): same y, z + 1 (254 -> 1).
    const unsigned z = 1 + v % 254;
    std::string candidate2 =
        "127.77." + std::to_string(1 + v / 254) + "." + std::to_string(z % 254 + 1);
    if (free && options_.dns) {
      for (std::uint16_t p : {kSmtpMxPort, kHttpsPort, kNsdPort, kUnboundPort}) {
        free = free && PortIsFree(candidate, p);
      }
      for (std::uint16_t p : {kNsdPort, kUnboundPort}) free = free && UdpPortIsFree(candidate, p);
      for (std::uint16_t p : {kSmtpMxPort, kHttpsPort, kSmtpGoodPort}) {
        free = free && PortIsFree(candidate2, p);
      }
    }
    if (free) {
      address_ = candidate;
      address2_ = candidate2;
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure()
         << "no free 127.77.y.z address for the fleet"
         << (options_.dns ? " (with ports 25, 443, 10053, 10054 free, and 25, 443, 10025 free on "
                            "the next address)"
                          : "");
}

::testing::AssertionResult Fleet::MakeDirectory() {
  std::error_code ec;
  std::filesystem::create_directories(base_dir_, ec);
  std::string templ = base_dir_ + "/fleet-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    return ::testing::AssertionFailure() << "mkdtemp " << templ << ": " << std::strerror(errno);
  }
  dir_ = templ;
  if (dir_.find_first_of(" \t\n\"'") != std::string::npos) {
    return ::testing::AssertionFailure()
           << "the fleet directory must not contain blanks or quotes (Postfix -o values): " << dir_;
  }
  // Postfix daemons drop to user postfix and must reach their files: every ancestor needs
  // search permission for others.
  chmod(dir_.c_str(), 0755);
  for (std::filesystem::path p = dir_; p != p.root_path(); p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) {
      return ::testing::AssertionFailure()
             << p << " is not searchable by others; user postfix cannot reach " << dir_;
    }
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// Test CA

// One leaf: key, CSR and `openssl ca` from the intermediate, or `openssl req -x509` for a
// self-signed one.
struct Fleet::LeafSpec {
  std::string name;
  std::string san;                    // subjectAltName value
  std::vector<std::string> validity;  // openssl ca (or req -x509) validity options
  bool rsa = false;                   // RSA-2048 instead of EC P-256
  bool self_signed = false;           // not from the CA; cert_path() holds the leaf only
  bool with_intermediate = true;      // cert_path() = leaf + intermediate (else leaf only)
};

::testing::AssertionResult Fleet::Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv, std::chrono::seconds(30));
  if (r.exit_code != 0) {
    return ::testing::AssertionFailure() << Join(argv) << " failed (" << r.exit_code
                                         << (r.timed_out ? ", timed out" : "") << "):\n"
                                         << r.output;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Fleet::MakeCertificates() {
  ca_dir_ = dir_ + "/ca";
  for (const char* sub : {"", "/root", "/root/newcerts", "/inter", "/inter/newcerts"}) {
    std::filesystem::create_directories(ca_dir_ + sub);
  }
  for (const char* ca : {"root", "inter"}) {
    WriteFile(ca_dir_ + "/" + ca + "/index.txt", "");
    WriteFile(ca_dir_ + "/" + ca + "/serial", "1000\n");
    WriteFile(ca_dir_ + "/" + ca + ".cnf",
              "[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\ndir = " + ca_dir_ + "/" + ca +
                  "\n" + kCaConfig);
  }
  const std::string root_cnf = ca_dir_ + "/root.cnf";
  const std::string root = ca_dir_ + "/root";
  const std::string inter = ca_dir_ + "/inter";
  // Root CA (self-signed), then the intermediate signed by the root with `openssl ca`.
  if (auto r = Openssl(Concat(
          {{"req", "-x509"},
           EcKeyArgs(),
           {"-keyout", root + ".key", "-out", root + ".crt", "-subj", "/CN=Mailsec Test Root CA",
            "-days", "3650", "-config", root_cnf, "-extensions", "v3_root"}}));
      !r) {
    return r;
  }
  if (auto r = Openssl(Concat({{"req", "-new"},
                               EcKeyArgs(),
                               {"-keyout", inter + ".key", "-out", inter + ".csr", "-subj",
                                "/CN=Mailsec Test Intermediate CA", "-config", root_cnf}}));
      !r) {
    return r;
  }
  if (auto r = Openssl({"ca", "-batch", "-notext", "-config", root_cnf, "-cert", root + ".crt",
                        "-keyfile", root + ".key", "-in", inter + ".csr", "-out", inter + ".crt",
                        "-days", "3650", "-extensions", "v3_intermediate"});
      !r) {
    return r;
  }
  ca_bundle_path_ = ca_dir_ + "/ca-bundle.pem";
  if (!WriteFile(ca_bundle_path_, ReadFile(root + ".crt"))) {
    return ::testing::AssertionFailure() << "cannot write " << ca_bundle_path_;
  }
  const std::string my_names = "DNS:localhost,IP:" + address_;
  // The expiring leaf ends 3 days from now (openssl ca starts it now).
  char in_3_days[32];
  std::time_t end = std::time(nullptr) + 3 * 86400;
  std::tm end_tm{};
  gmtime_r(&end, &end_tm);
  std::strftime(in_3_days, sizeof in_3_days, "%Y%m%d%H%M%SZ", &end_tm);
  const LeafSpec leaves[] = {
      {.name = "good", .san = my_names, .validity = {"-days", "365"}},
      {.name = "expired",
       .san = my_names,
       .validity = {"-startdate", "20200101000000Z", "-enddate", "20210101000000Z"}},
      {.name = "wronghost", .san = "DNS:wrong.example", .validity = {"-days", "365"}},
      {.name = "notyetvalid",
       .san = my_names,
       .validity = {"-startdate", "20990101000000Z", "-enddate", "21000101000000Z"}},
      {.name = "expiring", .san = my_names, .validity = {"-enddate", in_3_days}},
      {.name = "rsa", .san = my_names, .validity = {"-days", "365"}, .rsa = true},
      {.name = "selfsigned", .san = my_names, .validity = {"-days", "365"}, .self_signed = true},
      {.name = "nointermediate",
       .san = my_names,
       .validity = {"-days", "365"},
       .with_intermediate = false},
  };
  for (const LeafSpec& leaf : leaves) {
    if (auto r = MakeLeaf(leaf); !r) return r;
  }
  if (options_.dns) {
    const LeafSpec dns_leaves[] = {
        {.name = "mx", .san = "DNS:mx.good.test,DNS:mx.weak.test", .validity = {"-days", "365"}},
        {.name = "mtasts",
         .san = "DNS:mta-sts.good.test,DNS:mta-sts.weak.test",
         .validity = {"-days", "365"}},
    };
    for (const LeafSpec& leaf : dns_leaves) {
      if (auto r = MakeLeaf(leaf); !r) return r;
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Fleet::MakeLeaf(const LeafSpec& spec) {
  const std::string& name = spec.name;
  const std::string base = ca_dir_ + "/" + name;
  const std::string inter = ca_dir_ + "/inter";
  const std::vector<std::string> key_args =
      spec.rsa ? std::vector<std::string>{"-newkey", "rsa:2048", "-nodes"} : EcKeyArgs();
  WriteFile(base + ".ext",
            "[ v3_leaf ]\n"
            "basicConstraints = critical,CA:FALSE\n"
            "keyUsage = critical,digitalSignature" +
                std::string(spec.rsa ? ",keyEncipherment" : "") +
                "\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectKeyIdentifier = hash\n"
                "authorityKeyIdentifier = keyid\n"
                "subjectAltName = " +
                spec.san + "\n");
  const std::string subject = "/CN=" + name + ".fleet.test";
  if (spec.self_signed) {
    // The extension section comes from a config of its own: req reads -extensions from -config.
    WriteFile(base + ".cnf",
              "[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\nCN = unused\n" +
                  ReadFile(base + ".ext"));
    if (auto r = Openssl(Concat({{"req", "-x509"},
                                 key_args,
                                 {"-keyout", key_path(name), "-out", leaf_path(name), "-subj",
                                  subject, "-config", base + ".cnf", "-extensions", "v3_leaf"},
                                 spec.validity}));
        !r) {
      return r;
    }
  } else {
    if (auto r = Openssl(Concat({{"req", "-new"},
                                 key_args,
                                 {"-keyout", key_path(name), "-out", base + ".csr", "-subj",
                                  subject, "-config", ca_dir_ + "/inter.cnf"}}));
        !r) {
      return r;
    }
    if (auto r = Openssl(
            Concat({{"ca", "-batch", "-notext", "-config", ca_dir_ + "/inter.cnf", "-cert",
                     inter + ".crt", "-keyfile", inter + ".key", "-in", base + ".csr", "-out",
                     leaf_path(name), "-extfile", base + ".ext", "-extensions", "v3_leaf"},
                    spec.validity}));
        !r) {
      return r;
    }
  }
  // What servers present: leaf, then intermediate (unless the leaf is meant to be alone).
  std::string served = ReadFile(leaf_path(name));
  if (!spec.self_signed && spec.with_intermediate) served += ReadFile(inter + ".crt");
  if (!WriteFile(cert_path(name), served)) {
    return ::testing::AssertionFailure() << "cannot write " << cert_path(name);
  }
  chmod(key_path(name).c_str(), 0600);
  std::time_t not_after = CertNotAfter(leaf_path(name));
  if (not_after < 0) {
    return ::testing::AssertionFailure() << "cannot read notAfter of " << leaf_path(name);
  }
  not_after_[name] = not_after;
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// Postfix
//
// A private instance: main.cf/master.cf in dir()/postfix/etc, queue and data directories beside
// them, log through postlogd into dir()/postfix/postfix.log (no syslog in the container). The
// master runs as our child in the foreground (`master -c DIR -d`), in its own session: we own
// its pid, and `postfix -c` (whose check step runs post-install create-missing) is not needed.
// Should the test binary die, the watchdog stops it: PR_SET_PDEATHSIG does not survive master's
// effective-uid switches (setresuid to mail_owner and back) at start-up. Master's SIGTERM handler
// takes its whole process group (every smtpd, postscreen, ...) down with it.

std::string Fleet::PostfixMainCf() const {
  const std::string& d = postfix_dir_;
  std::ostringstream cf;
  cf << "# Generated by the mailsec_exporter integration tests.\n"
     << "compatibility_level = 3.6\n"
     << "queue_directory = " << d << "/queue\n"
     << "data_directory = " << d << "/data\n"
     << "mail_owner = postfix\n"
     << "setgid_group = postdrop\n"
     << "myhostname = mx.fleet.test\n"
     << "mydomain = fleet.test\n"
     << "myorigin = $myhostname\n"
     << "mydestination =\n"
     << "relay_domains =\n"
     << "mynetworks = 127.0.0.0/8\n"
     // Services carry their own address in master.cf. inet_interfaces must name an address
     // configured on an interface, which 127.77.y.z is not (lo only has 127.0.0.1/8), so the
     // instance-wide value is loopback-only; smtp_bind_address keeps any client on our address.
     << "inet_interfaces = loopback-only\n"
     << "inet_protocols = ipv4\n"
     << "smtp_bind_address = " << address_
     << "\n"
     // Nothing ever leaves the fleet: no delivery, no DNS-based client name lookups.
     << "default_transport = error:the test fleet does not deliver mail\n"
     << "relay_transport = error:the test fleet does not deliver mail\n"
     // Except to relayed.test, whose mail would be discarded (no test sends any): the open-relay
     // test (CHECKS.md TX-13) needs a recipient domain that a relaying server accepts.
     << "transport_maps = inline:{relayed.test=discard:}\n"
     << "smtpd_peername_lookup = no\n"
     << "maillog_file = " << d << "/postfix.log\n"
     << "maillog_file_prefixes = " << d << "\n"
     << "smtputf8_enable = yes\n"
     << "biff = no\n"
     << "alias_maps =\n"
     << "alias_database =\n"
     << "local_recipient_maps =\n"
     << "smtpd_tls_security_level = none\n"
     << "smtpd_tls_loglevel = 1\n"
     << "smtpd_tls_cert_file = " << cert_path("good") << "\n"
     << "smtpd_tls_key_file = " << key_path("good") << "\n"
     << "smtpd_tls_session_cache_database =\n"
     // postscreen: a "220-" line of its own, 2 s of silence, then the real smtpd's "220 ".
     // Clients that talk early are PREGREET and get the dummy engine (550 at RCPT). Loopback
     // clients are not exempt (empty access list), and with no cache every connection is
     // tested again, so each probe sees the multi-line greeting.
     << "postscreen_greet_banner = $myhostname ESMTP postscreen says: wait for the real banner\n"
     << "postscreen_greet_wait = 2s\n"
     << "postscreen_greet_action = enforce\n"
     << "postscreen_access_list =\n"
     << "postscreen_dnsbl_sites =\n"
     << "postscreen_cache_map =\n";
  return cf.str();
}

std::string Fleet::PostfixMasterCf() const {
  auto tls = [this](const std::string& leaf) {
    return " -o smtpd_tls_cert_file=" + cert_path(leaf) +
           " -o smtpd_tls_key_file=" + key_path(leaf);
  };
  auto inet = [this](std::uint16_t port, const std::string& process_limit) {
    return address_ + ":" + std::to_string(port) + " inet n - n - " + process_limit + " ";
  };
  std::ostringstream cf;
  cf << "# Generated by the mailsec_exporter integration tests. No chroot anywhere.\n"
     << "# service type private unpriv chroot wakeup maxproc command\n"
     << inet(kSmtpGoodPort, "-") << "smtpd -o syslog_name=postfix/smtp_good"
     << " -o smtpd_tls_security_level=may" << tls("good") << "\n"
     << inet(kSmtpExpiredPort, "-") << "smtpd -o syslog_name=postfix/smtp_expired"
     << " -o smtpd_tls_security_level=may" << tls("expired") << "\n"
     << inet(kSmtpWronghostPort, "-") << "smtpd -o syslog_name=postfix/smtp_wronghost"
     << " -o smtpd_tls_security_level=may" << tls("wronghost") << "\n"
     << inet(kSmtpNotlsPort, "-") << "smtpd -o syslog_name=postfix/smtp_notls"
     << " -o smtpd_tls_security_level=none\n"
     << inet(kSubmissionsPort, "-") << "smtpd -o syslog_name=postfix/submissions"
     << " -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt" << tls("good") << "\n"
     << inet(kSubmissionPort, "-") << "smtpd -o syslog_name=postfix/submission"
     << " -o smtpd_tls_security_level=encrypt -o smtpd_tls_auth_only=yes" << tls("good") << "\n"
     << inet(kSmtpNotyetvalidPort, "-") << "smtpd -o syslog_name=postfix/smtp_notyetvalid"
     << " -o smtpd_tls_security_level=may" << tls("notyetvalid") << "\n"
     << inet(kSmtpSelfsignedPort, "-") << "smtpd -o syslog_name=postfix/smtp_selfsigned"
     << " -o smtpd_tls_security_level=may" << tls("selfsigned") << "\n"
     << inet(kSmtpNointermediatePort, "-") << "smtpd -o syslog_name=postfix/smtp_nointermediate"
     << " -o smtpd_tls_security_level=may" << tls("nointermediate") << "\n"
     << inet(kSmtpExpiringPort, "-") << "smtpd -o syslog_name=postfix/smtp_expiring"
     << " -o smtpd_tls_security_level=may" << tls("expiring") << "\n"
     << inet(kSmtpRsaPort, "-") << "smtpd -o syslog_name=postfix/smtp_rsa"
     << " -o smtpd_tls_security_level=may" << tls("rsa") << "\n"
     << inet(kSmtpTls12Port, "-") << "smtpd -o syslog_name=postfix/smtp_tls12"
     << " -o smtpd_tls_security_level=may -o smtpd_tls_protocols=!SSLv2,!SSLv3,!TLSv1.3"
     << tls("good") << "\n"
     << inet(kSmtpEncryptPort, "-") << "smtpd -o syslog_name=postfix/smtp_encrypt"
     << " -o smtpd_tls_security_level=encrypt -o smtpd_relay_restrictions=reject_unauth_destination"
     << tls("good") << "\n"
     << inet(kSubmissionSelfsignedPort, "-") << "smtpd -o syslog_name=postfix/submission_selfsigned"
     << " -o smtpd_tls_security_level=encrypt -o smtpd_tls_auth_only=yes" << tls("selfsigned")
     << "\n"
     << (options_.dns ? inet(kSmtpMxPort, "-") + "smtpd -o syslog_name=postfix/smtp_mx" +
                            " -o smtpd_tls_security_level=may" + tls("mx") + "\n"
                      : std::string())
     << inet(kPostscreenPort, "1") << "postscreen -o syslog_name=postfix/postscreen\n"
     << "smtpd pass - - n - - smtpd -o syslog_name=postfix/postscreen-smtpd"
     << " -o smtpd_tls_security_level=may" << tls("good") << "\n"
     << "tlsproxy unix - - n - 0 tlsproxy\n"
     << "dnsblog unix - - n - 0 dnsblog\n"
     << "postlog unix-dgram n - n - 1 postlogd\n"
     << "tlsmgr unix - - n 1000? 1 tlsmgr\n"
     << "anvil unix - - n - 1 anvil\n"
     << "scache unix - - n - 1 scache\n"
     << "cleanup unix n - n - 0 cleanup\n"
     << "qmgr unix n - n 300 1 qmgr\n"
     << "rewrite unix - - n - - trivial-rewrite\n"
     << "bounce unix - - n - 0 bounce\n"
     << "defer unix - - n - 0 bounce\n"
     << "trace unix - - n - 0 bounce\n"
     << "verify unix - - n - 1 verify\n"
     << "flush unix n - n 1000? 0 flush\n"
     << "proxymap unix - - n - - proxymap\n"
     << "proxywrite unix - - n - 1 proxymap\n"
     << "showq unix n - n - - showq\n"
     << "error unix - - n - - error\n"
     << "retry unix - - n - - error\n"
     << "discard unix - - n - - discard\n";
  return cf.str();
}

::testing::AssertionResult Fleet::StartPostfix() {
  postfix_dir_ = dir_ + "/postfix";
  const std::string etc = postfix_dir_ + "/etc";
  const std::string queue = postfix_dir_ + "/queue";
  const std::string data = postfix_dir_ + "/data";
  passwd* pw = getpwnam("postfix");
  if (pw == nullptr) return ::testing::AssertionFailure() << "no user postfix";
  const uid_t postfix_uid = pw->pw_uid;
  gid_t postdrop_gid = pw->pw_gid;
  if (CommandResult r = RunCommand({"getent", "group", "postdrop"}, std::chrono::seconds(5));
      r.exit_code == 0) {
    // postdrop:x:GID:
    std::istringstream in(r.output);
    std::string name, x, gid;
    if (std::getline(in, name, ':') && std::getline(in, x, ':') && std::getline(in, gid, ':')) {
      postdrop_gid = static_cast<gid_t>(std::stoul(gid));
    }
  }
  std::filesystem::create_directories(etc);
  std::filesystem::create_directories(queue);
  // The queue layout `postfix check` would create (post-install create-missing), by hand.
  struct QueueDir {
    const char* name;
    mode_t mode;
    bool owned_by_postfix;
    bool group_postdrop;
  };
  const QueueDir queue_dirs[] = {
      {"active", 0700, true, false},   {"bounce", 0700, true, false},
      {"corrupt", 0700, true, false},  {"defer", 0700, true, false},
      {"deferred", 0700, true, false}, {"flush", 0700, true, false},
      {"hold", 0700, true, false},     {"incoming", 0700, true, false},
      {"private", 0700, true, false},  {"saved", 0700, true, false},
      {"trace", 0700, true, false},    {"maildrop", 0730, true, true},
      {"public", 0710, true, true},    {"pid", 0755, false, false},
  };
  for (const auto& q : queue_dirs) {
    std::string path = queue + "/" + q.name;
    if (mkdir(path.c_str(), q.mode) != 0 || chmod(path.c_str(), q.mode) != 0 ||
        chown(path.c_str(), q.owned_by_postfix ? postfix_uid : 0,
              q.group_postdrop ? postdrop_gid : 0) != 0) {
      return ::testing::AssertionFailure()
             << "cannot create " << path << ": " << std::strerror(errno);
    }
  }
  if (mkdir(data.c_str(), 0700) != 0 || chown(data.c_str(), postfix_uid, 0) != 0) {
    return ::testing::AssertionFailure()
           << "cannot create " << data << ": " << std::strerror(errno);
  }
  if (!WriteFile(etc + "/main.cf", PostfixMainCf()) ||
      !WriteFile(etc + "/master.cf", PostfixMasterCf())) {
    return ::testing::AssertionFailure() << "cannot write the Postfix configuration in " << etc;
  }
  // Postfix waits (up to ~2 s) for a configuration file modified within the last seconds to
  // settle; ours is complete, so date it back.
  for (const char* f : {"/main.cf", "/master.cf"}) {
    timeval past[2];
    gettimeofday(&past[0], nullptr);
    past[0].tv_sec -= 60;
    past[1] = past[0];
    utimes((etc + f).c_str(), past);
  }
  std::string daemon_directory = "/usr/lib/postfix/sbin";
  if (CommandResult r =
          RunCommand({"postconf", "-c", etc, "-h", "daemon_directory"}, std::chrono::seconds(10));
      r.exit_code == 0 && !Trim(r.output).empty()) {
    daemon_directory = Trim(r.output);
  }
  postfix_master_pid_ =
      SpawnProcess({daemon_directory + "/master", "-c", etc, "-d"}, postfix_dir_ + "/master.out");
  if (postfix_master_pid_ <= 0) {
    return ::testing::AssertionFailure() << "cannot start Postfix master: " << std::strerror(errno);
  }
  Watch(postfix_master_pid_);
  return ::testing::AssertionSuccess();
}

void Fleet::StopPostfix() {
  const pid_t group = postfix_master_pid_;
  StopServerGroup(&postfix_master_pid_);
  Forget(group);
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Dovecot
//
// Private instances, each under dir()/dovecot/<short name>: dovecot.conf, base_dir run/ (sockets,
// master.pid), state/, home/, dovecot.log (log_path and info_log_path), and dovecot.out (the
// master's stdout/stderr: what it says before its log process runs, i.e. configuration errors).
// `dovecot -F -c FILE` keeps the master in the foreground as our child, in its own session, with
// PR_SET_PDEATHSIG; on SIGTERM it stops its children and exits. The configuration is
// self-contained (no !include of /etc/dovecot/conf.d); base_dir and state_dir are ours, so nothing
// under /run/dovecot or /var/lib/dovecot is touched. Logins work (static passdb, password "test";
// static userdb as user dovecot), but the probes never log in.

namespace {

// The login service and inet_listener name Dovecot's built-in defaults use for a fleet service
// (overriding a listener of that name replaces its default port instead of adding one).
struct DovecotListener {
  const char* login_service;
  const char* listener;
};

DovecotListener ListenerFor(Protocol protocol, bool implicit_tls) {
  switch (protocol) {
    case Protocol::kImap:
      return implicit_tls ? DovecotListener{"imap-login", "imaps"}
                          : DovecotListener{"imap-login", "imap"};
    case Protocol::kPop3:
      return implicit_tls ? DovecotListener{"pop3-login", "pop3s"}
                          : DovecotListener{"pop3-login", "pop3"};
    case Protocol::kSieve:
      return {"managesieve-login", "sieve"};
    case Protocol::kSmtp:
      break;
  }
  return {"", ""};
}

// Longest socket path Dovecot creates below base_dir ("token-login/imap-urlauth") plus '/': the
// whole path must fit sockaddr_un.sun_path (108 bytes with its NUL).
constexpr std::size_t kDovecotSocketSuffix = 25;

}  // namespace

std::string Fleet::DovecotConf(const DovecotInstance& d) const {
  passwd* pw = getpwnam("dovecot");
  const std::string uid = pw != nullptr ? std::to_string(pw->pw_uid) : "dovecot";
  const std::string gid = pw != nullptr ? std::to_string(pw->pw_gid) : "dovecot";
  std::string protocols;
  for (const auto& p : d.protocols) protocols += (protocols.empty() ? "" : " ") + p;
  std::ostringstream cf;
  cf << "# Generated by the mailsec_exporter integration tests (Fleet::DovecotConf).\n"
     << "instance_name = mailsec-fleet-" << d.name << "\n"
     << "base_dir = " << d.dir << "/run\n"
     << "state_dir = " << d.dir << "/state\n"
     << "log_path = " << d.dir << "/dovecot.log\n"
     << "info_log_path = " << d.dir << "/dovecot.log\n"
     << "debug_log_path = " << d.dir << "/dovecot.log\n"
     << "listen = " << address_ << "\n"
     << "protocols = " << protocols << "\n"
     << "ssl = yes\n"
     << "ssl_cert = <" << cert_path(d.cert) << "\n"
     << "ssl_key = <" << key_path(d.cert) << "\n"
     << "ssl_min_protocol = TLSv1.2\n"
     // No AUTH=/LOGIN before TLS: IMAP advertises LOGINDISABLED, POP3 has no USER in CAPA,
     // ManageSieve an empty SASL capability. (Dovecot treats a connection as secured when the
     // client's address equals the local one; the probes connect from 127.0.0.1.)
     << "disable_plaintext_auth = yes\n"
     << "auth_mechanisms = plain login\n"
     << "login_trusted_networks =\n"
     << "default_login_user = dovenull\n"
     << "default_internal_user = dovecot\n"
     << "first_valid_uid = " << uid << "\n"
     << "first_valid_gid = " << gid << "\n"
     << "mail_location = maildir:~/Maildir\n"
     << "passdb {\n  driver = static\n  args = password=test\n}\n"
     << "userdb {\n  driver = static\n  args = uid=" << uid << " gid=" << gid << " home=" << d.dir
     << "/home/%u\n}\n";
  // One block per login service, with the listeners of this instance.
  std::map<std::string, std::string> blocks;
  for (const auto& s : services_) {
    if (s.server != d.name) continue;
    DovecotListener l = ListenerFor(s.protocol, s.implicit_tls);
    std::ostringstream b;
    b << "  inet_listener " << l.listener << " {\n"
      << "    address = " << address_ << "\n"
      << "    port = " << s.port << "\n"
      << "    ssl = " << (s.implicit_tls ? "yes" : "no") << "\n"
      << "  }\n";
    blocks[l.login_service] += b.str();
  }
  for (const auto& [service, listeners] : blocks) {
    cf << "service " << service << " {\n" << listeners << "}\n";
  }
  return cf.str();
}

::testing::AssertionResult Fleet::StartDovecot() {
  passwd* pw = getpwnam("dovecot");
  if (pw == nullptr) return ::testing::AssertionFailure() << "no user dovecot (dovecot-core)";
  const uid_t dovecot_uid = pw->pw_uid;  // copied: the next getpwnam() reuses *pw
  const gid_t dovecot_gid = pw->pw_gid;
  if (getpwnam("dovenull") == nullptr) {
    return ::testing::AssertionFailure() << "no user dovenull (dovecot-core)";
  }
  std::string binary = "/usr/sbin/dovecot";
  if (access(binary.c_str(), X_OK) != 0) binary = "dovecot";  // from PATH
  const std::string root = dir_ + "/dovecot";
  std::filesystem::create_directories(root);
  chmod(root.c_str(), 0755);
  for (auto& d : dovecots_) {
    // Short directory names keep the socket paths below base_dir within sun_path.
    d.dir = root + "/" + (d.name == "dovecot" ? "good" : d.cert);
    const std::string run = d.dir + "/run";
    if (run.size() + kDovecotSocketSuffix >= sizeof(sockaddr_un{}.sun_path)) {
      return ::testing::AssertionFailure()
             << "Dovecot's base_dir " << run << " is too long for its socket paths (" << run.size()
             << " + " << kDovecotSocketSuffix << " >= " << sizeof(sockaddr_un{}.sun_path)
             << "); build in a shorter directory";
    }
    const std::string home = d.dir + "/home";
    const std::string state = d.dir + "/state";
    for (const std::string& path : {d.dir, run, state, home}) {
      if (mkdir(path.c_str(), 0755) != 0 || chmod(path.c_str(), 0755) != 0) {
        return ::testing::AssertionFailure()
               << "cannot create " << path << ": " << std::strerror(errno);
      }
    }
    if (chown(home.c_str(), dovecot_uid, dovecot_gid) != 0) {
      return ::testing::AssertionFailure() << "chown " << home << ": " << std::strerror(errno);
    }
    const std::string conf = d.dir + "/dovecot.conf";
    if (!WriteFile(conf, DovecotConf(d))) {
      return ::testing::AssertionFailure() << "cannot write " << conf;
    }
    d.pid = SpawnProcess({binary, "-F", "-c", conf}, d.dir + "/dovecot.out");
    if (d.pid <= 0) {
      return ::testing::AssertionFailure()
             << "cannot start " << binary << " for " << d.name << ": " << std::strerror(errno);
    }
    Watch(d.pid);
  }
  return ::testing::AssertionSuccess();
}

void Fleet::StopDovecot() {
  for (auto& d : dovecots_) {
    const pid_t group = d.pid;
    StopServerGroup(&d.pid);
    Forget(group);
  }
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// DNS (NSD + Unbound) and nginx (FleetOptions::dns)
//
// Everything under dir()/dns and dir()/nginx, generated per run:
//   dns/zones/    the zone sources (<zone>.zone) and, for the signed ones, <zone>.zone.signed
//   dns/keys/     ldns-keygen KSK and ZSK of good.test and bogus.test (ECDSAP256SHA256)
//   dns/anchors/  the KSKs' DS records: Unbound's trust-anchor-files
//   dns/dkim/     the DKIM keys whose public halves are published at s1._domainkey
//   dns/nsd/      nsd.conf, nsd.log, nsd.out (stdout/stderr), pid, zone list, xfrd state
//   dns/unbound/  unbound.conf, unbound.log, unbound.out, pid
//   nginx/        nginx.conf, error.log, access.log, nginx.out, pid, tmp/, www/<domain>/
// NSD (`nsd -d -c`) and Unbound (`unbound -d -c`) stay in the foreground as our children, with
// no chroot, no user switch and no remote control; nginx runs with `daemon off; master_process
// on;`, so its master is our child. Each leads its own process group (SpawnProcess) and is
// registered with the watchdog; Stop() stops the groups by pid.
//
// Unbound has no root trust anchor and answers nothing outside the test zones: `local-zone: "."
// static` (NXDOMAIN), with the test zones transparent and stubbed to NSD. So no query ever leaves
// 127.0.0.0/8, and an unknown name (say *.other.test) is a quick NXDOMAIN.

namespace {

// A TXT rdata: `text` as quoted character-strings of at most 255 bytes each (RFC 1035 3.3.14);
// readers (SPF, DKIM) concatenate them without separators.
std::string TxtRdata(const std::string& text) {
  std::string out;
  std::size_t i = 0;
  do {
    if (!out.empty()) out += ' ';
    out += '"';
    for (char c : text.substr(i, 255)) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
    i += 255;
  } while (i < text.size());
  return out;
}

std::string Base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

std::string Hex(const unsigned char* data, std::size_t size) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

// Hex SHA-256 of the DER SubjectPublicKeyInfo of the first certificate in a PEM file (what a
// TLSA record with selector 1, matching type 1 holds); empty on failure.
std::string SpkiSha256Hex(const std::string& pem_path) {
  BIO* bio = BIO_new_file(pem_path.c_str(), "r");
  if (bio == nullptr) return "";
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return "";
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  std::string result;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (len > 0 &&
      EVP_Digest(der, static_cast<std::size_t>(len), md, &md_len, EVP_sha256(), nullptr) == 1) {
    result = Hex(md, md_len);
  }
  OPENSSL_free(der);
  X509_free(cert);
  return result;
}

// The 127.77.y.z address as the owner name relative to 77.127.in-addr.arpa ("z.y").
std::string ReverseOwner(const std::string& address) {
  std::vector<std::string> octets;
  std::istringstream in(address);
  for (std::string o; std::getline(in, o, '.');) octets.push_back(o);
  if (octets.size() != 4) return "";
  return octets[3] + "." + octets[2];
}

// SOA, NS and the name server's address of a test zone.
std::string ZoneHeader(const std::string& zone, const std::string& ns_name,
                       const std::string& ns_address) {
  std::ostringstream z;
  z << "; Generated by the mailsec_exporter integration tests (Fleet::MakeZones).\n"
    << "$ORIGIN " << zone << ".\n"
    << "$TTL 300\n"
    << "@ SOA " << ns_name << ". hostmaster." << zone << ". 1 3600 600 86400 300\n"
    << "@ NS " << ns_name << ".\n";
  if (!ns_address.empty()) z << "ns A " << ns_address << "\n";
  return z.str();
}

constexpr const char* kMtaStsDomains[] = {"good.test", "weak.test"};

bool IsMtaStsDomain(const std::string& domain) {
  for (const char* d : kMtaStsDomains) {
    if (domain == d) return true;
  }
  return false;
}

}  // namespace

bool DigResult::has_flag(const std::string& flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

std::vector<std::string> DigResult::rdata(const std::string& type) const {
  std::vector<std::string> out;
  for (const auto& line : answers) {
    std::istringstream in(line);
    std::string name, ttl, cls, t;
    if (!(in >> name >> ttl >> cls >> t) || t != type) continue;
    std::string rest;
    std::getline(in, rest);
    std::size_t start = rest.find_first_not_of(" \t");
    out.push_back(start == std::string::npos ? "" : Trim(rest.substr(start)));
  }
  return out;
}

DigResult Dig(const std::string& server, std::uint16_t port, const std::vector<std::string>& query,
              std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {"dig",     "@" + server, "-p", std::to_string(port),
                                   "+time=2", "+tries=1"};
  argv.insert(argv.end(), query.begin(), query.end());
  DigResult result;
  result.command = RunCommand(argv, timeout);
  std::istringstream in(result.command.output);
  bool in_answer = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (in_answer) {
      if (line.empty() || line[0] == ';') {
        in_answer = false;
      } else {
        result.answers.push_back(line);
        continue;
      }
    }
    if (line.rfind(";; ->>HEADER<<-", 0) == 0) {
      std::size_t at = line.find("status: ");
      if (at != std::string::npos) {
        at += 8;
        result.status = line.substr(at, line.find(',', at) - at);
      }
    } else if (line.rfind(";; flags:", 0) == 0) {
      std::istringstream flags(line.substr(9, line.find(';', 9) - 9));
      for (std::string f; flags >> f;) result.flags.push_back(f);
    } else if (line == ";; ANSWER SECTION:") {
      in_answer = true;
    }
  }
  result.replied = !result.status.empty();
  return result;
}

std::vector<std::string> Fleet::zones() const {
  return {"good.test", "weak.test", "bogus.test", "nullmx.test", "77.127.in-addr.arpa"};
}

std::string Fleet::zone_file(const std::string& zone) const {
  auto it = zone_files_.find(zone);
  return it == zone_files_.end() ? "" : it->second;
}

std::string Fleet::zone_source(const std::string& zone) const {
  auto it = zone_sources_.find(zone);
  return it == zone_sources_.end() ? "" : it->second;
}

std::string Fleet::dkim_public_key_base64(const std::string& domain) const {
  auto it = dkim_public_.find(domain);
  return it == dkim_public_.end() ? "" : it->second;
}

std::string Fleet::dkim_key_path(const std::string& domain) const {
  return dkim_public_.count(domain) != 0 ? dns_dir_ + "/dkim/" + domain + ".s1.key" : "";
}

std::string Fleet::mta_sts_policy_path(const std::string& domain) const {
  return nginx_dir_ + "/www/" + domain + "/.well-known/mta-sts.txt";
}

::testing::AssertionResult Fleet::SetMtaStsPolicy(const std::string& domain,
                                                  const std::string& body) {
  if (!IsMtaStsDomain(domain) || nginx_dir_.empty()) {
    return ::testing::AssertionFailure()
           << "no MTA-STS policy host for " << domain << " (good.test, weak.test; needs dns)";
  }
  const std::string path = mta_sts_policy_path(domain);
  const std::string tmp = path + ".tmp";
  if (!WriteFile(tmp, body) || rename(tmp.c_str(), path.c_str()) != 0) {
    return ::testing::AssertionFailure() << "cannot write " << path << ": " << std::strerror(errno);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Fleet::RemoveMtaStsPolicy(const std::string& domain) {
  if (!IsMtaStsDomain(domain) || nginx_dir_.empty()) {
    return ::testing::AssertionFailure() << "no MTA-STS policy host for " << domain;
  }
  const std::string path = mta_sts_policy_path(domain);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ::testing::AssertionFailure()
           << "cannot remove " << path << ": " << std::strerror(errno);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Fleet::MakeDkimKey(const std::string& domain, int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned>(bits));
  if (key == nullptr) return ::testing::AssertionFailure() << "RSA key generation failed";
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  const std::string path = dns_dir_ + "/dkim/" + domain + ".s1.key";
  BIO* out = BIO_new_file(path.c_str(), "w");
  bool written = out != nullptr &&
                 PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  BIO_free(out);
  if (len > 0) dkim_public_[domain] = Base64(der, static_cast<std::size_t>(len));
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  if (len <= 0 || !written) {
    return ::testing::AssertionFailure() << "cannot make the DKIM key of " << domain;
  }
  chmod(path.c_str(), 0600);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Fleet::MakeZoneKeys(const std::string& zone, std::string* ksk,
                                               std::string* zsk) {
  const std::string keys = dns_dir_ + "/keys";
  // ldns-keygen writes K<zone>+013+<id>.{key,private,ds} into its working directory and prints
  // the base name.
  for (bool is_ksk : {true, false}) {
    std::vector<std::string> argv = {"sh", "-c", "cd \"$0\" && exec ldns-keygen \"$@\"",
                                     keys, "-a", "ECDSAP256SHA256"};
    if (is_ksk) argv.push_back("-k");
    argv.push_back(zone);
    CommandResult r = RunCommand(argv, std::chrono::seconds(30));
    std::string base = Trim(r.output);
    if (base.find('\n') != std::string::npos) base = base.substr(base.rfind('\n') + 1);
    if (r.exit_code != 0 || base.empty() ||
        access((keys + "/" + base + ".private").c_str(), R_OK) != 0) {
      return ::testing::AssertionFailure() << Join(argv) << " failed (" << r.exit_code << "):\n"
                                           << r.output;
    }
    (is_ksk ? *ksk : *zsk) = keys + "/" + base;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Fleet::MakeZones() {
  dns_dir_ = dir_ + "/dns";
  const std::string zones_dir = dns_dir_ + "/zones";
  for (const char* sub : {"", "/zones", "/keys", "/anchors", "/dkim", "/nsd", "/unbound"}) {
    std::error_code ec;
    std::filesystem::create_directories(dns_dir_ + sub, ec);
    if (ec) {
      return ::testing::AssertionFailure()
             << "cannot create " << dns_dir_ << sub << ": " << ec.message();
    }
  }
  mx_tlsa_sha256_hex_ = SpkiSha256Hex(leaf_path("mx"));
  if (mx_tlsa_sha256_hex_.size() != 64) {
    return ::testing::AssertionFailure() << "cannot hash the public key of " << leaf_path("mx");
  }
  if (auto r = MakeDkimKey("good.test", 2048); !r) return r;
  if (auto r = MakeDkimKey("weak.test", 1024); !r) return r;
  const std::string& a = address_;

  std::ostringstream good;
  good << ZoneHeader("good.test", "ns.good.test", a)  //
       << "@ MX 10 mx.good.test.\n"
       << "mx A " << a << "\n"
       << "@ TXT " << TxtRdata("v=spf1 mx -all") << "\n"
       << "_dmarc TXT " << TxtRdata("v=DMARC1; p=reject; rua=mailto:dmarc@good.test") << "\n"
       << "_mta-sts TXT " << TxtRdata("v=STSv1; id=20261123T1") << "\n"
       << "mta-sts A " << a << "\n"
       << "_smtp._tls TXT " << TxtRdata("v=TLSRPTv1; rua=mailto:tlsrpt@good.test") << "\n"
       << "s1._domainkey TXT "
       << TxtRdata("v=DKIM1; k=rsa; p=" + dkim_public_key_base64("good.test")) << "\n"
       << "_25._tcp.mx TLSA 3 1 1 " << mx_tlsa_sha256_hex_ << "\n"
       << "@ CAA 0 issue \"ca.test\"\n"
       << "_submissions._tcp SRV 0 1 " << kSubmissionsPort << " mx.good.test.\n";

  std::string spf = "v=spf1";
  for (int i = 1; i <= 11; ++i) spf += " include:i" + std::to_string(i) + ".weak.test";
  spf += " -all";
  std::ostringstream weak;
  weak << ZoneHeader("weak.test", "ns.weak.test", a)  //
       << "@ MX 10 mx.weak.test.\n"
       << "mx A " << address2_ << "\n"
       << "@ TXT " << TxtRdata(spf) << "\n";
  for (int i = 1; i <= 11; ++i) weak << "i" << i << " TXT " << TxtRdata("v=spf1 ?all") << "\n";
  weak << "_dmarc TXT " << TxtRdata("v=DMARC1; p=none") << "\n"
       << "_mta-sts TXT " << TxtRdata("v=STSv1; id=1") << "\n"
       << "mta-sts A " << a << "\n"
       << "_smtp._tls TXT " << TxtRdata("v=TLSRPTv1; rua=ftp://x.weak.test") << "\n"
       << "s1._domainkey TXT "
       << TxtRdata("v=DKIM1; k=rsa; p=" + dkim_public_key_base64("weak.test")) << "\n";

  std::ostringstream bogus;
  bogus << ZoneHeader("bogus.test", "ns.bogus.test", a)  //
        << "@ MX 10 mx.good.test.\n"
        << "@ TXT " << TxtRdata("v=spf1 -all") << "\n";

  std::ostringstream nullmx;
  nullmx << ZoneHeader("nullmx.test", "ns.nullmx.test", a)  //
         << "@ MX 0 .\n"
         << "@ TXT " << TxtRdata("v=spf1 -all") << "\n"
         << "_dmarc TXT " << TxtRdata("v=DMARC1; p=reject") << "\n";

  std::ostringstream reverse;
  reverse << ZoneHeader("77.127.in-addr.arpa", "ns.good.test", "")  //
          << ReverseOwner(a) << " PTR mx.good.test.\n";

  enum class Signing { kNone, kValid, kExpired };
  struct ZoneSpec {
    std::string name;
    std::string text;
    Signing signing;
  };
  const ZoneSpec specs[] = {
      {"good.test", good.str(), Signing::kValid},
      {"weak.test", weak.str(), Signing::kNone},
      {"bogus.test", bogus.str(), Signing::kExpired},
      {"nullmx.test", nullmx.str(), Signing::kNone},
      {"77.127.in-addr.arpa", reverse.str(), Signing::kNone},
  };
  const std::time_t now = std::time(nullptr);
  for (const ZoneSpec& z : specs) {
    const std::string source = zones_dir + "/" + z.name + ".zone";
    if (!WriteFile(source, z.text)) {
      return ::testing::AssertionFailure() << "cannot write " << source;
    }
    zone_sources_[z.name] = source;
    zone_files_[z.name] = source;
    if (z.signing == Signing::kNone) continue;
    std::string ksk, zsk;
    if (auto r = MakeZoneKeys(z.name, &ksk, &zsk); !r) return r;
    // Valid: from a day ago for 30 days. Expired: all of 2020.
    const std::vector<std::string> validity =
        z.signing == Signing::kValid
            ? std::vector<std::string>{"-i", std::to_string(now - 86400), "-e",
                                       std::to_string(now + 30 * 86400)}
            : std::vector<std::string>{"-i", "20200101", "-e", "20210101"};
    const std::string signed_file = source + ".signed";
    std::vector<std::string> argv =
        Concat({{"ldns-signzone", "-o", z.name, "-f", signed_file}, validity, {source, ksk, zsk}});
    CommandResult r = RunCommand(argv, std::chrono::seconds(30));
    if (r.exit_code != 0) {
      return ::testing::AssertionFailure() << Join(argv) << " failed (" << r.exit_code << "):\n"
                                           << r.output;
    }
    zone_files_[z.name] = signed_file;
    const std::string anchor = dns_dir_ + "/anchors/" + z.name + ".ds";
    const std::string ds = ReadFile(ksk + ".ds");
    if (ds.find("DS") == std::string::npos || !WriteFile(anchor, ds)) {
      return ::testing::AssertionFailure()
             << "cannot make the trust anchor " << anchor << " from " << ksk << ".ds";
    }
    trust_anchor_files_.push_back(anchor);
  }
  return ::testing::AssertionSuccess();
}

std::string Fleet::NsdConf() const {
  const std::string nsd = dns_dir_ + "/nsd";
  std::ostringstream cf;
  cf << "# Generated by the mailsec_exporter integration tests (Fleet::NsdConf).\n"
     << "server:\n"
     << "  ip-address: " << address_ << "@" << kNsdPort << "\n"
     << "  port: " << kNsdPort << "\n"
     << "  do-ip4: yes\n"
     << "  do-ip6: no\n"
     << "  username: \"\"\n"
     << "  chroot: \"\"\n"
     << "  zonesdir: \"" << dns_dir_ << "/zones\"\n"
     << "  database: \"\"\n"
     << "  zonelistfile: \"" << nsd << "/zone.list\"\n"
     << "  xfrdfile: \"" << nsd << "/xfrd.state\"\n"
     << "  xfrdir: \"" << nsd << "\"\n"
     << "  pidfile: \"" << nsd << "/nsd.pid\"\n"
     << "  logfile: \"" << nsd << "/nsd.log\"\n"
     << "  server-count: 1\n"
     << "  verbosity: 1\n"
     << "  hide-version: yes\n"
     << "  zonefiles-write: 0\n"
     << "remote-control:\n"
     << "  control-enable: no\n";
  for (const auto& zone : zones()) {
    cf << "zone:\n"
       << "  name: \"" << zone << "\"\n"
       << "  zonefile: \"" << zone_file(zone) << "\"\n";
  }
  return cf.str();
}

std::string Fleet::UnboundConf() const {
  const std::string ub = dns_dir_ + "/unbound";
  std::ostringstream cf;
  cf << "# Generated by the mailsec_exporter integration tests (Fleet::UnboundConf).\n"
     << "server:\n"
     << "  interface: " << address_ << "@" << kUnboundPort << "\n"
     << "  port: " << kUnboundPort << "\n"
     << "  do-ip4: yes\n"
     << "  do-ip6: no\n"
     << "  do-udp: yes\n"
     << "  do-tcp: yes\n"
     << "  chroot: \"\"\n"
     << "  username: \"\"\n"
     << "  directory: \"" << ub << "\"\n"
     << "  pidfile: \"" << ub << "/unbound.pid\"\n"
     << "  logfile: \"" << ub << "/unbound.log\"\n"
     << "  use-syslog: no\n"
     << "  log-time-ascii: yes\n"
     << "  verbosity: 1\n"
     << "  val-log-level: 2\n"
     << "  num-threads: 1\n"
     << "  so-reuseport: no\n"
     << "  do-not-query-localhost: no\n"
     << "  access-control: 127.0.0.0/8 allow\n"
     << "  module-config: \"validator iterator\"\n"
     << "  harden-dnssec-stripped: yes\n"
     << "  trust-anchor-signaling: no\n"
     << "  root-key-sentinel: no\n"
     << "  qname-minimisation: no\n"
     << "  prefetch: no\n"
     << "  serve-expired: no\n";
  for (const auto& anchor : trust_anchor_files_) {
    cf << "  trust-anchor-file: \"" << anchor << "\"\n";
  }
  // Nothing outside the test zones: the built-in "test." and "127.in-addr.arpa." zones give way,
  // everything else is a local NXDOMAIN, and the test zones go to NSD.
  cf << "  local-zone: \"test.\" nodefault\n"
     << "  local-zone: \"127.in-addr.arpa.\" nodefault\n"
     << "  local-zone: \".\" static\n";
  for (const auto& zone : zones()) cf << "  local-zone: \"" << zone << ".\" transparent\n";
  cf << "remote-control:\n"
     << "  control-enable: no\n";
  for (const auto& zone : zones()) {
    cf << "stub-zone:\n"
       << "  name: \"" << zone << ".\"\n"
       << "  stub-addr: " << address_ << "@" << kNsdPort << "\n";
  }
  return cf.str();
}

std::string Fleet::NginxConf() const {
  const std::string& n = nginx_dir_;
  std::ostringstream cf;
  cf << "# Generated by the mailsec_exporter integration tests (Fleet::NginxConf).\n"
     << "# daemon off; master_process on; come from the command line.\n"
     << "user root;\n"
     << "worker_processes 1;\n"
     << "pid " << n << "/nginx.pid;\n"
     << "error_log " << n << "/error.log info;\n"
     << "events {\n  worker_connections 64;\n}\n"
     << "http {\n"
     << "  access_log " << n << "/access.log;\n"
     << "  client_body_temp_path " << n << "/tmp/body;\n"
     << "  proxy_temp_path " << n << "/tmp/proxy;\n"
     << "  fastcgi_temp_path " << n << "/tmp/fastcgi;\n"
     << "  uwsgi_temp_path " << n << "/tmp/uwsgi;\n"
     << "  scgi_temp_path " << n << "/tmp/scgi;\n"
     << "  types {\n    text/plain txt;\n  }\n"
     << "  default_type application/octet-stream;\n"
     << "  server_tokens off;\n"
     << "  sendfile off;\n"
     << "  ssl_certificate " << cert_path("mtasts") << ";\n"
     << "  ssl_certificate_key " << key_path("mtasts") << ";\n"
     << "  ssl_protocols TLSv1.2 TLSv1.3;\n";
  bool first = true;
  for (const char* domain : kMtaStsDomains) {
    cf << "  server {\n"
       << "    listen " << address_ << ":" << kHttpsPort << " ssl"
       << (first ? " default_server" : "") << ";\n"
       << "    server_name mta-sts." << domain << ";\n"
       << "    root " << n << "/www/" << domain << ";\n"
       << "    location = /.well-known/mta-sts.txt {\n"
       << "      default_type text/plain;\n"
       << "    }\n"
       << "    location / {\n"
       << "      return 404;\n"
       << "    }\n"
       << "  }\n";
    first = false;
  }
  cf << "}\n";
  return cf.str();
}

::testing::AssertionResult Fleet::StartNsd() {
  const std::string nsd = dns_dir_ + "/nsd";
  const std::string conf = nsd + "/nsd.conf";
  if (!WriteFile(conf, NsdConf())) return ::testing::AssertionFailure() << "cannot write " << conf;
  CommandResult check = RunCommand({"nsd-checkconf", conf}, std::chrono::seconds(10));
  if (check.exit_code != 0) {
    return ::testing::AssertionFailure()
           << "nsd-checkconf " << conf << " failed (" << check.exit_code << "):\n"
           << check.output;
  }
  for (const auto& zone : zones()) {
    CommandResult r =
        RunCommand({"nsd-checkzone", zone, zone_file(zone)}, std::chrono::seconds(10));
    if (r.exit_code != 0) {
      return ::testing::AssertionFailure() << "nsd-checkzone " << zone << " " << zone_file(zone)
                                           << " failed (" << r.exit_code << "):\n"
                                           << r.output;
    }
  }
  nsd_pid_ = SpawnProcess({"nsd", "-d", "-c", conf}, nsd + "/nsd.out");
  if (nsd_pid_ <= 0) {
    return ::testing::AssertionFailure() << "cannot start nsd: " << std::strerror(errno);
  }
  Watch(nsd_pid_);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Fleet::StartUnbound() {
  const std::string ub = dns_dir_ + "/unbound";
  const std::string conf = ub + "/unbound.conf";
  if (!WriteFile(conf, UnboundConf())) {
    return ::testing::AssertionFailure() << "cannot write " << conf;
  }
  CommandResult check = RunCommand({"unbound-checkconf", conf}, std::chrono::seconds(10));
  if (check.exit_code != 0) {
    return ::testing::AssertionFailure()
           << "unbound-checkconf " << conf << " failed (" << check.exit_code << "):\n"
           << check.output;
  }
  unbound_pid_ = SpawnProcess({"unbound", "-d", "-c", conf}, ub + "/unbound.out");
  if (unbound_pid_ <= 0) {
    return ::testing::AssertionFailure() << "cannot start unbound: " << std::strerror(errno);
  }
  Watch(unbound_pid_);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Fleet::StartNginx() {
  nginx_dir_ = dir_ + "/nginx";
  for (const char* sub : {"", "/tmp"}) {
    std::error_code ec;
    std::filesystem::create_directories(nginx_dir_ + sub, ec);
  }
  for (const char* domain : kMtaStsDomains) {
    std::error_code ec;
    std::filesystem::create_directories(nginx_dir_ + "/www/" + domain + "/.well-known", ec);
    const std::string body =
        std::string(domain) == "good.test" ? kGoodMtaStsPolicy : kWeakMtaStsPolicy;
    if (auto r = SetMtaStsPolicy(domain, body); !r) return r;
  }
  const std::string conf = nginx_dir_ + "/nginx.conf";
  if (!WriteFile(conf, NginxConf())) {
    return ::testing::AssertionFailure() << "cannot write " << conf;
  }
  // -e: the error log before the configuration is read (the default, /var/log/nginx, is not ours).
  nginx_pid_ = SpawnProcess({"nginx", "-e", nginx_dir_ + "/error.log", "-p", nginx_dir_ + "/", "-c",
                             conf, "-g", "daemon off; master_process on;"},
                            nginx_dir_ + "/nginx.out");
  if (nginx_pid_ <= 0) {
    return ::testing::AssertionFailure() << "cannot start nginx: " << std::strerror(errno);
  }
  Watch(nginx_pid_);
  return ::testing::AssertionSuccess();
}

void Fleet::StopDnsAndNginx() {
  for (pid_t* pid : {&nginx_pid_, &unbound_pid_, &nsd_pid_}) {
    const pid_t group = *pid;
    StopServerGroup(pid);
    Forget(group);
  }
}

::testing::AssertionResult Fleet::WaitForDns(std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  // Each zone from NSD (authoritative, no recursion), then good.test through Unbound with AD:
  // that needs NSD, the stub, and the trust anchor's DNSKEY validated.
  struct Probe {
    std::string server;
    std::uint16_t port;
    std::vector<std::string> query;
    bool want_ad;
  };
  std::vector<Probe> probes;
  for (const auto& zone : zones()) {
    probes.push_back({"nsd", kNsdPort, {"+norecurse", zone, "SOA"}, false});
  }
  probes.push_back({"unbound", kUnboundPort, {"+dnssec", "good.test", "SOA"}, true});
  for (const auto& p : probes) {
    int attempts = 0;
    while (true) {
      if (std::string why; !ServerAlive(p.server, &why)) {
        return ::testing::AssertionFailure() << p.server << ": " << why;
      }
      ++attempts;
      DigResult d = Dig(address_, p.port, p.query,
                        std::min(Remaining(deadline) + milliseconds(1), milliseconds(4000)));
      const bool ok =
          d.status == "NOERROR" && !d.answers.empty() && d.has_flag(p.want_ad ? "ad" : "aa");
      if (ok) break;
      if (Remaining(deadline).count() == 0) {
        return ::testing::AssertionFailure()
               << p.server << " on " << address_ << ":" << p.port << " did not answer "
               << Join(p.query) << " with NOERROR and " << (p.want_ad ? "AD" : "AA") << " within "
               << timeout.count() << " ms (" << attempts << " attempts); last dig output:\n"
               << d.command.output << "\n"
               << p.server << " log tail:\n"
               << ServerLogTail(p.server) << (p.server == "unbound" ? "nsd log tail:\n" : "")
               << (p.server == "unbound" ? ServerLogTail("nsd") : "");
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Fleet::WaitForNginx(std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::string error;
  while (true) {
    if (std::string why; !ServerAlive("nginx", &why)) {
      return ::testing::AssertionFailure() << "nginx: " << why;
    }
    int fd = ConnectTcp(address_, kHttpsPort, std::min(deadline, Clock::now() + milliseconds(1000)),
                        &error);
    if (fd >= 0) {
      close(fd);
      return ::testing::AssertionSuccess();
    }
    if (Remaining(deadline).count() == 0) {
      return ::testing::AssertionFailure()
             << "nginx did not accept on " << address_ << ":" << kHttpsPort << " within "
             << timeout.count() << " ms: " << error << "\nnginx log tail:\n"
             << ServerLogTail("nginx");
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Watchdog

::testing::AssertionResult Fleet::StartWatchdog() {
  // A socket pair rather than a pipe: send(MSG_NOSIGNAL) cannot raise SIGPIPE in the test binary.
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return ::testing::AssertionFailure() << "socketpair: " << std::strerror(errno);
  }
  pid_t pid = fork();
  if (pid < 0) {
    int saved = errno;
    close(fds[0]);
    close(fds[1]);
    return ::testing::AssertionFailure() << "fork: " << std::strerror(saved);
  }
  if (pid == 0) {
    // Its own session, so a signal to the test binary's process group spares it; every
    // descriptor but its end closed, so only the test binary holds the other one.
    setsid();
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    if (fds[0] != 3) {
      dup2(fds[0], 3);
    }
    close_range(4, ~0U, 0);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDOUT_FILENO);
      dup2(devnull, STDERR_FILENO);
      if (devnull > 3) close(devnull);
    }
    WatchdogMain(3);
  }
  close(fds[0]);
  watchdog_pid_ = pid;
  watchdog_fd_ = fds[1];
  return ::testing::AssertionSuccess();
}

void Fleet::Watch(pid_t group) {
  if (watchdog_fd_ < 0 || group <= 1) return;
  std::string record = "+" + std::to_string(group) + "\n";
  [[maybe_unused]] ssize_t n = send(watchdog_fd_, record.data(), record.size(), MSG_NOSIGNAL);
}

void Fleet::Forget(pid_t group) {
  if (watchdog_fd_ < 0 || group <= 1) return;
  std::string record = "-" + std::to_string(group) + "\n";
  [[maybe_unused]] ssize_t n = send(watchdog_fd_, record.data(), record.size(), MSG_NOSIGNAL);
}

void Fleet::StopWatchdog() {
  if (watchdog_fd_ >= 0) {
    close(watchdog_fd_);  // EOF: the watchdog stops what is still registered (nothing) and exits
    watchdog_fd_ = -1;
  }
  if (watchdog_pid_ > 0) {
    if (!WaitForExit(watchdog_pid_, std::chrono::seconds(5))) {
      kill(watchdog_pid_, SIGKILL);
      WaitForExit(watchdog_pid_, std::chrono::seconds(5));
    }
    watchdog_pid_ = -1;
  }
}

// ---------------------------------------------------------------------------------------------

pid_t* Fleet::ServerPid(const std::string& server, std::string* hint) {
  if (server == "postfix") {
    *hint = " (start-up errors go to syslog, which is absent; check main.cf/master.cf in " +
            postfix_dir_ + "/etc)";
    return &postfix_master_pid_;
  }
  if (server == "nsd") {
    *hint = " (configuration: " + dns_dir_ + "/nsd/nsd.conf)";
    return &nsd_pid_;
  }
  if (server == "unbound") {
    *hint = " (configuration: " + dns_dir_ + "/unbound/unbound.conf)";
    return &unbound_pid_;
  }
  if (server == "nginx") {
    *hint = " (configuration: " + nginx_dir_ + "/nginx.conf)";
    return &nginx_pid_;
  }
  for (auto& d : dovecots_) {
    if (d.name == server) {
      *hint = " (configuration: " + d.dir + "/dovecot.conf)";
      return &d.pid;
    }
  }
  return nullptr;
}

bool Fleet::ServerAlive(const std::string& server, std::string* why) {
  std::string hint;
  pid_t* pid = ServerPid(server, &hint);
  if (pid == nullptr) {
    *why = "no server " + server + " in this fleet";
    return false;
  }
  int status = 0;
  if (*pid > 0 && !WaitForExit(*pid, milliseconds(0), &status)) return true;
  std::ostringstream out;
  if (*pid > 0) {
    out << server << " exited with status " << DecodeStatus(status);
  } else {
    out << server << " is not running";
  }
  *pid = -1;
  out << hint << ". Log tail:\n" << ServerLogTail(server);
  *why = out.str();
  return false;
}

::testing::AssertionResult Fleet::WaitForGreetings(std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  for (const auto& s : services_) {
    ::testing::AssertionResult last = ::testing::AssertionFailure() << "not tried";
    int attempts = 0;
    while (true) {
      if (std::string why; !ServerAlive(s.server, &why)) {
        return ::testing::AssertionFailure() << "service " << s.name << ": " << why;
      }
      std::string greeting;
      ++attempts;
      last = ReadServiceGreeting(address_, s.port, s.protocol, s.implicit_tls,
                                 std::min(Remaining(deadline), milliseconds(5000)), &greeting);
      if (last) break;
      if (Remaining(deadline).count() == 0) {
        return ::testing::AssertionFailure()
               << "service " << s.name << " did not greet within " << timeout.count() << " ms ("
               << attempts << " attempts): " << last.message() << "\n"
               << s.server << " log tail:\n"
               << ServerLogTail(s.server);
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace mailsec::testing
