// The integration-test fleet: real mail servers started by the test binary itself, bound to a
// fresh 127.x.y.z address, with every file under a fresh directory inside the build tree.
//
// The fleet runs one private Postfix instance (several smtpd services, postscreen, implicit-TLS
// submissions, STARTTLS submissions) and, on request (FleetOptions::dovecot), two private Dovecot
// instances (IMAP, IMAPS, POP3, POP3S, ManageSieve; one with the good certificate, one with the
// expired one), behind certificates issued by a test CA made with the openssl CLI. Each server
// family has its own section (MakeCertificates, StartPostfix, StartDovecot, StartNsd,
// StartUnbound, StartNginx, ...).
//
// With FleetOptions::dns the fleet also serves DNS and MTA-STS for a handful of test domains
// (zones generated per run, see MakeZones in fleet.cc): NSD, authoritative for good.test
// (DNSSEC-signed), weak.test, bogus.test (signed, signatures expired), nullmx.test and
// 77.127.in-addr.arpa, on address():10053; a validating Unbound on address():10054 that trusts
// the keys of good.test and bogus.test (answers for good.test carry AD, bogus.test is SERVFAIL,
// the unsigned zones are insecure); nginx on address():443 serving the MTA-STS policies of
// mta-sts.good.test and mta-sts.weak.test; and one more Postfix smtpd on address():25 (cert "mx"),
// the MX of good.test. The MX of weak.test is address2(), where nothing listens.
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

// An `openssl s_server -www -quiet -accept HOSTPORT` with `options` (certificate, key, versions,
// ...), its output in `log_path`; up once a TLS handshake with `openssl s_client` completes
// (at most ~5 s; `client_options` are added to s_client, e.g. a version). Terminated by pid when
// destroyed.
class SServerProcess {
 public:
  SServerProcess(const std::string& hostport, const std::vector<std::string>& options,
                 const std::string& log_path, const std::vector<std::string>& client_options = {});
  ~SServerProcess();
  SServerProcess(const SServerProcess&) = delete;
  SServerProcess& operator=(const SServerProcess&) = delete;
  bool up() const { return up_; }

 private:
  pid_t pid_ = -1;
  bool up_ = false;
};

bool WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
// The last `lines` lines of a file (empty when unreadable).
std::string FileTail(const std::string& path, std::size_t lines = 40);

// The greeting a fleet service sends.
enum class Protocol {
  kSmtp,   // "220-..." lines up to the final "220 "
  kImap,   // "* OK ..."
  kPop3,   // "+OK ..."
  kSieve,  // capability lines, then "OK ..."
};
const char* ProtocolName(Protocol protocol);

// Connects to address:port (with a TLS handshake first when `implicit_tls`, without verifying the
// certificate) and reads the greeting of `protocol` up to and including its final line (SMTP: the
// "NNN " line, which must be 220; IMAP: "* OK"; POP3: "+OK"; ManageSieve: the capability lines and
// "OK"). Fails when no complete greeting arrives within `timeout`, or when it is a refusal
// ("* BYE", "-ERR", "NO", "BYE", a non-220 code). *greeting gets every byte read.
::testing::AssertionResult ReadServiceGreeting(const std::string& address, std::uint16_t port,
                                               Protocol protocol, bool implicit_tls,
                                               std::chrono::milliseconds timeout,
                                               std::string* greeting);

// ReadServiceGreeting for SMTP.
::testing::AssertionResult ReadGreeting(const std::string& address, std::uint16_t port,
                                        bool implicit_tls, std::chrono::milliseconds timeout,
                                        std::string* greeting);

// notAfter of the first certificate in a PEM file, as Unix seconds (-1 when unreadable).
std::time_t CertNotAfter(const std::string& pem_path);

// ---------------------------------------------------------------------------------------------

// What Fleet::Start() starts besides Postfix (which always runs).
struct FleetOptions {
  // Two Dovecot instances: "dovecot" (good certificate) and "dovecot_expired" (expired one).
  bool dovecot = false;
  // NSD + validating Unbound with the test zones, nginx serving MTA-STS policies, and the
  // Postfix service "smtp_mx" on address():25 (see the comment at the top of this file).
  bool dns = false;
};

// What `dig` said (see Dig()).
struct DigResult {
  CommandResult command;
  bool replied = false;              // a reply was parsed (a header with a status)
  std::string status;                // "NOERROR", "NXDOMAIN", "SERVFAIL", ...
  std::vector<std::string> flags;    // header flags: "qr", "aa", "rd", "ra", "ad", ...
  std::vector<std::string> answers;  // the ANSWER section, one record per entry, as dig prints
  bool has_flag(const std::string& flag) const;
  // The rdata (after name, TTL, class, type) of each answer of `type` ("MX", "TXT", ...).
  std::vector<std::string> rdata(const std::string& type) const;
};

// Runs `dig @server -p port +time=2 +tries=1 <query...>` (query e.g. {"good.test", "MX"} or
// {"-x", "127.77.1.2"}; dig options such as "+dnssec" may be part of it) within `timeout`.
DigResult Dig(const std::string& server, std::uint16_t port, const std::vector<std::string>& query,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));

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
  // Postfix, one certificate defect each (see cert_path()).
  static constexpr std::uint16_t kSmtpNotyetvalidPort = 10030;     // STARTTLS, notBefore 2099
  static constexpr std::uint16_t kSmtpSelfsignedPort = 10031;      // STARTTLS, self-signed
  static constexpr std::uint16_t kSmtpNointermediatePort = 10032;  // STARTTLS, leaf only
  static constexpr std::uint16_t kSmtpExpiringPort = 10033;        // STARTTLS, expires in 3 d
  static constexpr std::uint16_t kSmtpRsaPort = 10034;             // STARTTLS, RSA-2048 leaf
  static constexpr std::uint16_t kSmtpTls12Port = 10035;           // STARTTLS, at most TLS 1.2
  // STARTTLS required before MAIL (530), relaying refused even to mynetworks (CHECKS.md TX-02,
  // TX-13).
  static constexpr std::uint16_t kSmtpEncryptPort = 10036;
  static constexpr std::uint16_t kSubmissionSelfsignedPort = 10588;  // as submission, self-signed
  // Dovecot "dovecot" (good certificate; only with FleetOptions::dovecot).
  static constexpr std::uint16_t kImapPort = 10143;   // STARTTLS
  static constexpr std::uint16_t kImapsPort = 10993;  // implicit TLS
  static constexpr std::uint16_t kPop3Port = 10110;   // STLS
  static constexpr std::uint16_t kPop3sPort = 10995;  // implicit TLS
  static constexpr std::uint16_t kSievePort = 14190;  // ManageSieve, STARTTLS
  // Dovecot "dovecot_expired" (expired certificate; only with FleetOptions::dovecot).
  static constexpr std::uint16_t kImapExpiredPort = 11143;   // STARTTLS
  static constexpr std::uint16_t kImapsExpiredPort = 11993;  // implicit TLS
  // Only with FleetOptions::dns.
  static constexpr std::uint16_t kSmtpMxPort = 25;      // "smtp_mx": STARTTLS, cert "mx"
  static constexpr std::uint16_t kHttpsPort = 443;      // nginx, MTA-STS policies, cert "mtasts"
  static constexpr std::uint16_t kNsdPort = 10053;      // NSD, authoritative (UDP and TCP)
  static constexpr std::uint16_t kUnboundPort = 10054;  // Unbound, validating (UDP and TCP)
  // The policies nginx serves at start-up (SetMtaStsPolicy() replaces them).
  static constexpr char kGoodMtaStsPolicy[] =
      "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 604800\r\n";
  static constexpr char kWeakMtaStsPolicy[] =
      "version: STSv1\nmode: testing\nmx: *.other.test\nmax_age: 86400\n";
  // AllocatePort() hands out ports from here on (exporters and helpers of the tests).
  static constexpr std::uint16_t kFirstFreePort = 19500;

  // `base_dir` is where the fresh fleet-XXXXXX directory is created (inside the build tree).
  explicit Fleet(std::string base_dir, FleetOptions options = {});
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
  // Every named service with its port, whether it is implicit TLS, what it greets with and which
  // server instance runs it ("postfix", "dovecot", "dovecot_expired").
  struct Service {
    std::string name;
    std::uint16_t port;
    bool implicit_tls;
    Protocol protocol = Protocol::kSmtp;
    std::string server = "postfix";
  };
  const std::vector<Service>& services() const { return services_; }

  // Leaf names (EC P-256 from the test intermediate unless noted; SAN DNS:localhost + IP:address()
  // unless noted; "mx" and "mtasts" only with FleetOptions::dns):
  //   "good", "expired" (2020-2021), "wronghost" (SAN DNS:wrong.example only),
  //   "notyetvalid" (notBefore 2099-01-01), "expiring" (notAfter = start + 3 days),
  //   "rsa" (RSA-2048), "selfsigned" (self-signed, no CA involved),
  //   "nointermediate" (cert_path() holds the leaf only),
  //   "mx" (SAN DNS:mx.good.test, DNS:mx.weak.test; served by "smtp_mx" on port 25),
  //   "mtasts" (SAN DNS:mta-sts.good.test, DNS:mta-sts.weak.test; served by nginx).
  // cert_path() is what servers present: leaf + intermediate, except as noted.
  std::string cert_path(const std::string& leaf) const;
  std::string key_path(const std::string& leaf) const;
  std::string leaf_path(const std::string& leaf) const;  // leaf alone
  // notAfter of the leaf (Unix seconds); -1 for an unknown name.
  std::time_t cert_not_after(const std::string& leaf) const;

  // A port on address() nobody listens on yet (never the same twice per fleet).
  std::uint16_t AllocatePort();

  // --- DNS and MTA-STS (FleetOptions::dns) -------------------------------------------------
  // A second 127.77.y.z address (same y as address()), where nothing listens: the MX of weak.test.
  const std::string& address2() const { return address2_; }
  // Unbound, the validating resolver: "ADDR:10054" (what the exporter's resolver setting takes).
  std::string dns_resolver() const { return address_ + ":" + std::to_string(kUnboundPort); }
  std::uint16_t resolver_port() const { return kUnboundPort; }
  std::uint16_t nsd_port() const { return kNsdPort; }  // on address()
  // Hex (lower case) SHA-256 of the "mx" leaf's DER SubjectPublicKeyInfo: the TLSA 3 1 1 data
  // of _25._tcp.mx.good.test.
  const std::string& mx_tlsa_sha256_hex() const { return mx_tlsa_sha256_hex_; }
  // The test zones, in the order they are served: good.test, weak.test, bogus.test,
  // nullmx.test, 77.127.in-addr.arpa.
  std::vector<std::string> zones() const;
  // The zone file NSD serves (the signed one for good.test and bogus.test) and its unsigned
  // source; empty for an unknown zone.
  std::string zone_file(const std::string& zone) const;
  std::string zone_source(const std::string& zone) const;
  // The base64 DER SubjectPublicKeyInfo published at s1._domainkey of "good.test" (RSA-2048) or
  // "weak.test" (RSA-1024), and the PEM private key beside it; empty for other domains.
  std::string dkim_public_key_base64(const std::string& domain) const;
  std::string dkim_key_path(const std::string& domain) const;
  // Replaces what https://mta-sts.<domain>/.well-known/mta-sts.txt serves ("good.test" or
  // "weak.test"); atomic (rename), and nginx reads the file per request, so it takes effect at
  // once. RemoveMtaStsPolicy makes that URL a 404.
  ::testing::AssertionResult SetMtaStsPolicy(const std::string& domain, const std::string& body);
  ::testing::AssertionResult RemoveMtaStsPolicy(const std::string& domain);
  std::string mta_sts_policy_path(const std::string& domain) const;

  std::string PostfixLogTail(std::size_t lines = 40) const;
  // Log tail of a Dovecot instance ("dovecot", "dovecot_expired"): its log file, then what the
  // master wrote to stdout/stderr (start-up errors).
  std::string DovecotLogTail(const std::string& instance, std::size_t lines = 40) const;
  // Postfix's, a Dovecot instance's, or "nsd", "unbound", "nginx" log tail, by server name.
  std::string ServerLogTail(const std::string& server, std::size_t lines = 40) const;

 private:
  struct LeafSpec;
  struct DovecotInstance {
    std::string name;  // "dovecot", "dovecot_expired"
    std::string cert;  // leaf name
    std::string dir;   // dir()/dovecot/<short name>
    std::vector<std::string> protocols;
    pid_t pid = -1;
  };

  ::testing::AssertionResult ChooseAddress();
  ::testing::AssertionResult MakeDirectory();

  // Test CA: root -> intermediate -> leaves, with the openssl CLI.
  ::testing::AssertionResult MakeCertificates();
  ::testing::AssertionResult Openssl(const std::vector<std::string>& args);
  ::testing::AssertionResult MakeLeaf(const LeafSpec& spec);

  // Postfix: a private instance under dir()/postfix, master run as our child.
  ::testing::AssertionResult StartPostfix();
  void StopPostfix();
  std::string PostfixMainCf() const;
  std::string PostfixMasterCf() const;

  // Dovecot: private instances under dir()/dovecot/*, each `dovecot -F -c` run as our child.
  ::testing::AssertionResult StartDovecot();
  void StopDovecot();
  std::string DovecotConf(const DovecotInstance& instance) const;
  // DNS (NSD + Unbound) and nginx, under dir()/dns and dir()/nginx (FleetOptions::dns).
  ::testing::AssertionResult MakeZones();
  ::testing::AssertionResult MakeDkimKey(const std::string& domain, int bits);
  // ldns-keygen KSK + ZSK in dir()/dns/keys; *ksk gets the KSK's base name.
  ::testing::AssertionResult MakeZoneKeys(const std::string& zone, std::string* ksk,
                                          std::string* zsk);
  ::testing::AssertionResult StartNsd();
  ::testing::AssertionResult StartUnbound();
  ::testing::AssertionResult StartNginx();
  void StopDnsAndNginx();
  std::string NsdConf() const;
  std::string UnboundConf() const;
  std::string NginxConf() const;
  ::testing::AssertionResult WaitForDns(std::chrono::milliseconds timeout);
  ::testing::AssertionResult WaitForNginx(std::chrono::milliseconds timeout);

  // The pid slot of a server by name ("postfix", "dovecot", "nsd", ...), null when unknown;
  // *hint says where its configuration is.
  pid_t* ServerPid(const std::string& server, std::string* hint);
  // Whether the server `server` is still running; when it is not, *why says what it left.
  bool ServerAlive(const std::string& server, std::string* why);

  ::testing::AssertionResult WaitForGreetings(std::chrono::milliseconds timeout);

  // A watchdog process that stops every server group still registered when the test binary
  // dies without Stop() (even by SIGKILL). PR_SET_PDEATHSIG alone does not cover Postfix's
  // master, which changes its effective uid at start-up and so loses the death signal.
  ::testing::AssertionResult StartWatchdog();
  void Watch(pid_t group);   // a server group we spawned
  void Forget(pid_t group);  // it has been stopped
  void StopWatchdog();

  std::string base_dir_;
  FleetOptions options_;
  std::string dir_;
  std::string address_;
  std::string ca_dir_;
  std::string ca_bundle_path_;
  std::vector<Service> services_;
  std::map<std::string, std::time_t> not_after_;
  std::uint16_t next_port_ = kFirstFreePort;

  std::string postfix_dir_;
  pid_t postfix_master_pid_ = -1;
  std::vector<DovecotInstance> dovecots_;

  std::string address2_;
  std::string dns_dir_;    // dir()/dns: zones/, keys/, nsd/, unbound/
  std::string nginx_dir_;  // dir()/nginx
  std::string mx_tlsa_sha256_hex_;
  std::map<std::string, std::string> zone_files_;    // zone -> file NSD serves
  std::map<std::string, std::string> zone_sources_;  // zone -> unsigned source
  std::map<std::string, std::string> dkim_public_;   // domain -> base64 SPKI
  std::vector<std::string> trust_anchor_files_;
  pid_t nsd_pid_ = -1;
  pid_t unbound_pid_ = -1;
  pid_t nginx_pid_ = -1;
  pid_t watchdog_pid_ = -1;
  int watchdog_fd_ = -1;  // our end of the socket pair the watchdog reads
  bool stopped_ = false;
};

}  // namespace mailsec::testing

#endif  // MAILSEC_TESTS_INTEGRATION_FLEET_H_
