#include "mailsec/config/config.h"

#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "mailsec/base/limits.h"

namespace mailsec::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

std::string TestFile(const std::string& name) {
  return std::string(MAILSEC_TESTDATA) + "/config/" + name;
}

Config MustLoad(const std::string& name) {
  Result<Config> cfg = LoadConfigFile(TestFile(name));
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  return cfg.ok() ? std::move(cfg).value() : Config();
}

std::vector<std::string> Targets(const Config& c) {
  std::vector<std::string> out;
  for (const EndpointConfig& e : c.endpoints) out.push_back(e.target.ToString());
  return out;
}

TEST(LoadConfigFileTest, EmptyFileIsAllDefaults) {
  const Config c = MustLoad("good-empty.toml");
  const GlobalConfig g;
  EXPECT_EQ(c.global.interval, minutes(5));
  EXPECT_EQ(c.global.scan_interval, hours(6));
  EXPECT_EQ(c.global.timeout, seconds(20));
  EXPECT_EQ(c.global.concurrency, g.concurrency);
  EXPECT_EQ(c.global.helo_name, g.helo_name);
  EXPECT_TRUE(c.global.resolvers.empty());
  EXPECT_EQ(c.global.ca_file, "");
  EXPECT_EQ(c.global.state_file, g.state_file);
  EXPECT_EQ(c.global.ip_family, IpFamily::kAny);
  EXPECT_EQ(c.web.listen_address, ":9525");
  EXPECT_TRUE(c.web.probe_allow.empty());
  EXPECT_TRUE(c.domains.empty());
  EXPECT_TRUE(c.endpoints.empty());
  EXPECT_EQ(c.source, TestFile("good-empty.toml"));
  EXPECT_FALSE(c.is_embedded_default);
}

TEST(LoadConfigFileTest, EveryKey) {
  const Config c = MustLoad("good-full.toml");
  EXPECT_EQ(c.global.interval, minutes(5));
  EXPECT_EQ(c.global.scan_interval, hours(6));
  EXPECT_EQ(c.global.timeout, seconds(20));
  EXPECT_EQ(c.global.concurrency, 64);
  EXPECT_EQ(c.global.helo_name, "probe.example.org");
  EXPECT_EQ(c.global.resolvers, (std::vector<std::string>{"127.0.0.1:53", "192.0.2.53",
                                                          "[2001:db8::53]:5353", "2001:db8::1"}));
  EXPECT_EQ(c.global.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(c.global.state_file, "/tmp/mailsec-state.json");
  EXPECT_EQ(c.global.state_save_interval, seconds(15));
  EXPECT_EQ(c.global.ip_family, IpFamily::kIpv4);
  EXPECT_EQ(c.web.listen_address, "127.0.0.1:9525");
  EXPECT_EQ(c.web.probe_allow, (std::vector<std::string>{"smtp://*.example.org", "example.*"}));

  ASSERT_EQ(c.domains.size(), 2u);
  EXPECT_EQ(c.domains[0].name, "example.org");
  EXPECT_EQ(c.domains[0].dkim_selectors, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(c.domains[0].line, 19);
  EXPECT_EQ(c.domains[1].name, "example.net");
  EXPECT_TRUE(c.domains[1].dkim_selectors.empty());
  EXPECT_EQ(c.domains[1].line, 23);

  EXPECT_EQ(Targets(c), (std::vector<std::string>{
                            "imaps://mail.example.org:993",
                            "smtp://mail.example.org:2525",
                            "submissions://[2001:db8::1]:465",
                            "sieve://192.0.2.10:4190",
                        }));
  ASSERT_EQ(c.endpoints.size(), 4u);
  EXPECT_EQ(c.endpoints[0].line, 26);
  EXPECT_EQ(c.endpoints[3].line, 35);
  EXPECT_TRUE(c.endpoints[2].target.host_is_ip);
  EXPECT_FALSE(c.endpoints[1].target.host_is_ip);
  EXPECT_TRUE(c.endpoints[0].pins.empty());
  // Fingerprints as openssl prints them (upper case, colons) are normalized.
  ASSERT_EQ(c.endpoints[3].pins.fingerprints_sha256.size(), 2u);
  std::string ab;
  for (int i = 0; i < 32; ++i) ab += "ab";
  std::string of;
  for (int i = 0; i < 32; ++i) of += "0f";
  EXPECT_EQ(c.endpoints[3].pins.fingerprints_sha256[0], ab);
  EXPECT_EQ(c.endpoints[3].pins.fingerprints_sha256[1], of);
  EXPECT_EQ(c.endpoints[3].pins.issuer_cn, "R*");
  EXPECT_EQ(c.endpoints[3].pins.serials, (std::vector<std::string>{"A1B", "FF"}));
}

TEST(LoadConfigFileTest, InlineTablesAndDottedKeys) {
  const Config c = MustLoad("good-inline.toml");
  EXPECT_EQ(c.global.interval, minutes(90));
  EXPECT_EQ(c.global.timeout, milliseconds(500));
  EXPECT_EQ(c.web.listen_address, "[::1]:0");
  ASSERT_EQ(c.domains.size(), 1u);
  EXPECT_EQ(c.domains[0].name, "example.com");
  EXPECT_EQ(Targets(c),
            (std::vector<std::string>{"pop3://localhost:110", "pop3s://localhost:995"}));
}

// One file per rejection, each with its exact message (without the "PATH:" prefix).
TEST(LoadConfigFileTest, BadFiles) {
  const struct {
    const char* file;
    const char* message;
  } cases[] = {
      {"bad-unknown-top-level.toml", "2: globals: unknown key"},
      {"bad-unknown-global-key.toml", "3: global.intervall: unknown key"},
      {"bad-unknown-nested-table.toml", "4: global.extra: unknown key"},
      {"bad-unknown-web-key.toml", "2: web.listen: unknown key"},
      {"bad-unknown-domain-key.toml", "3: domain[0].selectors: unknown key"},
      {"bad-unknown-endpoint-key.toml", "6: endpoint[1].port: unknown key"},
      {"bad-wrong-type.toml", "2: global.concurrency: expected an integer, got string"},
      {"bad-wrong-type-array.toml",
       "2: global.resolvers: expected an array of strings, got string"},
      {"bad-wrong-type-element.toml", "4: web.probe_allow[1]: expected a string, got integer"},
      {"bad-global-not-table.toml", "1: global: expected a table, got string"},
      {"bad-endpoint-not-array.toml", "1: endpoint: expected an array of tables, got table"},
      {"bad-duration-unit.toml", "2: global.interval: bad duration \"5x\": unknown unit \"x\""},
      {"bad-duration-negative.toml", "2: global.timeout: bad duration \"-1s\": negative"},
      {"bad-duration-order.toml",
       "2: global.scan_interval: bad duration \"30m6h\": unit \"h\" out of order"},
      {"bad-state-save-interval.toml",
       "2: global.state_save_interval: bad duration \"0s\": must be greater than zero"},
      {"bad-interval-zero.toml",
       "2: global.interval: bad duration \"0s\": must be greater than zero"},
      {"bad-concurrency.toml", "2: global.concurrency: 0 is out of range 1..100000"},
      {"bad-helo-name.toml", "2: global.helo_name: bad helo name \"probe example org\""},
      {"bad-open-relay-recipient.toml",
       "2: global.open_relay_recipient: bad mailbox \"postmaster\" (want LOCAL@DOMAIN)"},
      {"bad-ip-family.toml",
       "2: global.ip_family: unknown ip family \"ipv5\" (want \"any\", \"ipv4\" or \"ipv6\")"},
      {"bad-resolver.toml",
       "2: global.resolvers[1]: bad resolver \"10.0.0.300\": not an ipv4 address"},
      {"bad-listen-address.toml",
       "2: web.listen_address: bad listen address \"9525\": missing \":PORT\""},
      {"bad-target-service.toml", "2: endpoint[0].target: unknown service \"smtpx\""},
      {"bad-target-port.toml", "2: endpoint[0].target: bad port \"65536\""},
      {"bad-target-ipv6-brackets.toml", "2: endpoint[0].target: ipv6 address must be in brackets"},
      {"bad-target-path.toml", "2: endpoint[0].target: path is not allowed"},
      {"bad-duplicate-endpoint.toml",
       "5: endpoint[1].target: duplicate target \"smtp://mail.example.org:25\" (first at line 2)"},
      {"bad-duplicate-domain.toml",
       "5: domain[1].name: duplicate domain \"example.org\" (first at line 2)"},
      {"bad-missing-endpoint-target.toml", "4: endpoint[1].target: missing required key"},
      {"bad-missing-domain-name.toml", "1: domain[0].name: missing required key"},
      {"bad-domain-name.toml", "2: domain[0].name: bad character \"_\" in label \"exa_mple\""},
      {"bad-dkim-selector.toml",
       "3: domain[0].dkim_selectors[1]: bad selector \"s 2\": bad character \" \""},
      {"bad-fingerprint.toml",
       "3: endpoint[0].expect_fingerprint_sha256[0]: bad fingerprint \"abcd\": a SHA-256 "
       "fingerprint has 64 hex digits"},
      {"bad-fingerprint-empty.toml",
       "3: endpoint[0].expect_fingerprint_sha256: empty (leave the key out to expect nothing)"},
      {"bad-issuer-empty.toml", "3: endpoint[0].expect_issuer_cn: empty"},
      {"bad-serial.toml",
       "3: endpoint[0].expect_serial[1]: bad serial \"0x12\": not hexadecimal"},
      {"bad-serial-empty.toml",
       "3: endpoint[0].expect_serial: empty (leave the key out to expect nothing)"},
      {"bad-toml-syntax.toml",
       "3: toml: Error while parsing decimal integer: expected digit, saw 's'"},
  };
  std::set<std::string> tested;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    tested.insert(c.file);
    const std::string path = TestFile(c.file);
    Result<Config> cfg = LoadConfigFile(path);
    ASSERT_FALSE(cfg.ok());
    EXPECT_EQ(cfg.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(cfg.status().message(), path + ":" + c.message);
  }
  // Every bad-*.toml is in the table above, and every good-*.toml loads.
  for (const auto& entry : std::filesystem::directory_iterator(TestFile(""))) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("bad-", 0) == 0) {
      EXPECT_TRUE(tested.count(name)) << name << " has no expected message";
    } else if (name.rfind("good-", 0) == 0) {
      Result<Config> cfg = LoadConfigFile(entry.path().string());
      EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
    }
  }
}

TEST(LoadConfigFileTest, MissingFile) {
  const std::string path = TestFile("does-not-exist.toml");
  Result<Config> cfg = LoadConfigFile(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(cfg.status().message(), path + ":0: file: cannot read: No such file or directory");
}

TEST(LoadConfigFileTest, Directory) {
  const std::string path = TestFile("");
  Result<Config> cfg = LoadConfigFile(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().message(), path + ":0: file: cannot read: Is a directory");
}

TEST(ParseConfigTest, TooLarge) {
  const std::string text(kMaxConfigBytes + 1, '#');
  Result<Config> cfg = ParseConfig(text, "big.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().message(), "big.toml:0: file: larger than 4194304 bytes");
}

// Messages for cases that do not need a file of their own.
TEST(ParseConfigTest, Messages) {
  const struct {
    const char* toml;
    const char* message;
  } cases[] = {
      {"[[global]]\ninterval = \"5m\"", "t.toml:1: global: expected a table, got array"},
      {"web = 1", "t.toml:1: web: expected a table, got integer"},
      // toml++ 3.3 has undefined behaviour on these (found by fuzzing).
      {"d\xcc\x9c"
       "4m5s6ms",
       "t.toml:1: toml: character U+031C is not accepted (the TOML parser mishandles "
       "it); write it as \\u031C in a \"basic string\""},
      {"\xe2\xbb\xbfimap://v",
       "t.toml:1: toml: character U+2EFF is not accepted (the TOML parser mishandles "
       "it); write it as \\u2EFF in a \"basic string\""},
      {"\xef\xbb\xa2O",
       "t.toml:1: toml: character U+FEE2 is not accepted (the TOML parser mishandles "
       "it); write it as \\uFEE2 in a \"basic string\""},
      {"# ok\n[global]\nstate_file = \"/tmp/caf\xc3\xa9.json\"",
       "t.toml:3: toml: character U+00E9 is not accepted (the TOML parser mishandles "
       "it); write it as \\u00E9 in a \"basic string\""},
      {"[global]\nstate_file = \"a\x01b\"", "t.toml:2: toml: control character"},
      {"[web]\ntls_cert_file = \"/nonexistent/cert.pem\"",
       "t.toml:2: web.tls_cert_file: cannot read \"/nonexistent/cert.pem\": No such file or "
       "directory"},
      {"[web]\ntls_cert_file = \"/dev/null\"",
       "t.toml:1: web: tls_cert_file and tls_key_file go together: set both for HTTPS, or "
       "neither"},
      {"[web]\nmax_concurrent_probes = 0",
       "t.toml:2: web.max_concurrent_probes: 0 is out of range 1..100000"},
      {"[web.basic_auth_users]\nprom = \"plaintext\"",
       "t.toml:2: web.basic_auth_users.prom: not a bcrypt hash (want \"$2y$...\", 60 "
       "characters, as htpasswd -nB prints it)"},
      {"[web.basic_auth_users]\n\"a:b\" = "
       "\"$2y$04$ZW2e1oxf0c1nLq7BAJXvfuJEE25qnbmlCYVW5.s9LwTH50dVl1zkG\"",
       "t.toml:2: web.basic_auth_users.a:b: a user name must be non-empty, without ':'"},
      {"[web]\nbasic_auth_users = [\"prom\"]",
       "t.toml:2: web.basic_auth_users: expected a table, got array"},
      {"[domain]\nname = \"example.org\"",
       "t.toml:1: domain: expected an array of tables, got table"},
      {"endpoint = [\"smtp://a\"]", "t.toml:1: endpoint[0]: expected a table, got string"},
      {"[global]\ninterval = 300", "t.toml:2: global.interval: expected a string, got integer"},
      {"[global]\nconcurrency = 1.5",
       "t.toml:2: global.concurrency: expected an integer, got float"},
      {"[global]\nconcurrency = 100001",
       "t.toml:2: global.concurrency: 100001 is out of range 1..100000"},
      {"[global]\nconcurrency = -9223372036854775808",
       "t.toml:2: global.concurrency: -9223372036854775808 is out of range 1..100000"},
      {"[global]\nhelo_name = \"\"", "t.toml:2: global.helo_name: empty"},
      {"[global]\nhelo_name = \"a_b\"", "t.toml:2: global.helo_name: bad helo name \"a_b\""},
      {"[global]\nhelo_name = \"[IPv6:zz]\"",
       "t.toml:2: global.helo_name: bad helo name \"[IPv6:zz]\""},
      {"[global]\nopen_relay_recipient = \"a b@example.net\"",
       "t.toml:2: global.open_relay_recipient: bad mailbox \"a b@example.net\" (want "
       "LOCAL@DOMAIN)"},
      {"[global]\nopen_relay_recipient = \"relay@exa_mple.net\"",
       "t.toml:2: global.open_relay_recipient: bad mailbox \"relay@exa_mple.net\" (want "
       "LOCAL@DOMAIN)"},
      {"[global]\nca_file = true", "t.toml:2: global.ca_file: expected a string, got boolean"},
      {"[global]\nstate_file = 1979-05-27",
       "t.toml:2: global.state_file: expected a string, got date"},
      {"[global]\nstate_file = \"a\\u0000b\"", "t.toml:2: global.state_file: contains NUL"},
      {"[global]\nip_family = \"IPv4\"",
       "t.toml:2: global.ip_family: unknown ip family \"IPv4\" (want \"any\", \"ipv4\" or "
       "\"ipv6\")"},
      {"[global]\nresolvers = [\"[::1]:0\"]",
       "t.toml:2: global.resolvers[0]: bad resolver \"[::1]:0\": bad port \"0\""},
      {"[global]\nresolvers = [\"[::1\"]",
       "t.toml:2: global.resolvers[0]: bad resolver \"[::1\": unterminated \"[\""},
      {"[global]\nresolvers = [\"[192.0.2.1]:53\"]",
       "t.toml:2: global.resolvers[0]: bad resolver \"[192.0.2.1]:53\": not an ipv6 address"},
      {"[global]\nresolvers = [\"ns.example.org\"]",
       "t.toml:2: global.resolvers[0]: bad resolver \"ns.example.org\": not an ipv4 address"},
      {"[global]\nresolvers = [\"1.1.1.1:53x\"]",
       "t.toml:2: global.resolvers[0]: bad resolver \"1.1.1.1:53x\": bad port \"53x\""},
      {"[web]\nlisten_address = \":65536\"",
       "t.toml:2: web.listen_address: bad listen address \":65536\": bad port \"65536\""},
      {"[web]\nlisten_address = \"::1:9525\"",
       "t.toml:2: web.listen_address: bad listen address \"::1:9525\": ipv6 address must be in "
       "brackets"},
      {"[web]\nlisten_address = \"a_b:9525\"",
       "t.toml:2: web.listen_address: bad listen address \"a_b:9525\": bad character \"_\" in "
       "label \"a_b\""},
      {"[web]\nprobe_allow = [\"\"]", "t.toml:2: web.probe_allow[0]: empty glob"},
      {"[[domain]]\nname = \"example.org\"\ndkim_selectors = [\"s1\", \"S1\"]",
       "t.toml:3: domain[0].dkim_selectors[1]: duplicate selector \"s1\""},
      {"[[domain]]\nname = \"example.org\"\ndkim_selectors = [\"a..b\"]",
       "t.toml:3: domain[0].dkim_selectors[0]: bad selector \"a..b\": empty label"},
      {"[[domain]]\nname = \"example.org\"\ndkim_selectors = \"s1\"",
       "t.toml:3: domain[0].dkim_selectors: expected an array of strings, got string"},
      {"[[domain]]\nname = \"localhost\"",
       "t.toml:2: domain[0].name: a domain needs at least two labels"},
      {"[[domain]]\nname = \"smtp://example.org\"",
       "t.toml:2: domain[0].name: expected a bare domain, not a SERVICE:// target"},
      {"[[endpoint]]\ntarget = 25", "t.toml:2: endpoint[0].target: expected a string, got integer"},
      {"[[endpoint]]\ntarget = \"smtp://[::1]:25\"\n[[endpoint]]\ntarget = \"SMTP://[0::1]\"",
       "t.toml:4: endpoint[1].target: duplicate target \"smtp://[::1]:25\" (first at line 2)"},
      {"[[endpoint]]\n[endpoint.tls]\nx = 1", "t.toml:2: endpoint[0].tls: unknown key"},
      {"\"a b\" = 1", "t.toml:1: a b: unknown key"},
      {"[\"\\u0007\"]", "t.toml:1: \\x07: unknown key"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.toml);
    Result<Config> cfg = ParseConfig(c.toml, "t.toml");
    ASSERT_FALSE(cfg.ok());
    EXPECT_EQ(cfg.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(cfg.status().message(), c.message);
  }
}

TEST(ParseConfigTest, OtherNonAsciiAndEscapesAreFine) {
  Result<Config> c = ParseConfig(
      "# \xe2\x9c\x93 \xc2\xa0\n[global] # \xe4\xb8\xad\n"
      "state_file = \"/tmp/caf\\u00E9 \xe4\xb8\xad.json\"\n",
      "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->global.state_file, "/tmp/caf\xc3\xa9 \xe4\xb8\xad.json");
}

TEST(ParseConfigTest, ProtectedWeb) {
  const std::string hash = "$2y$04$ZW2e1oxf0c1nLq7BAJXvfuJEE25qnbmlCYVW5.s9LwTH50dVl1zkG";
  Result<Config> c = ParseConfig(
      "[web]\ntls_cert_file = \"/dev/null\"\n"
      "tls_key_file = \"/dev/null\"\nmax_concurrent_probes = 3\n"
      "[web.basic_auth_users]\nprom = \"" +
          hash + "\"\n",
      "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->web.tls_cert_file, "/dev/null");
  EXPECT_EQ(c->web.tls_key_file, "/dev/null");
  EXPECT_EQ(c->web.max_concurrent_probes, 3);
  EXPECT_EQ(c->web.basic_auth_users, (std::map<std::string, std::string>{{"prom", hash}}));
  EXPECT_EQ(MustLoad("good-empty.toml").web.max_concurrent_probes, 8);
}

TEST(ParseConfigTest, SameTargetOnDifferentPortsOrServicesIsFine) {
  Result<Config> cfg = ParseConfig(
      "endpoint = [{target = \"smtp://a.example\"}, {target = \"smtp://a.example:587\"},"
      " {target = \"submission://a.example\"}]",
      "t.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->endpoints.size(), 3u);
}

TEST(ParseConfigTest, TargetLimit) {
  std::string text;
  for (size_t i = 0; i <= kMaxTargets; ++i) {
    text += "[[endpoint]]\ntarget = \"smtp://h" + std::to_string(i) + ".example\"\n";
  }
  Result<Config> cfg = ParseConfig(text, "t.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().message(), "t.toml:" + std::to_string(2 * kMaxTargets + 1) +
                                        ": endpoint[" + std::to_string(kMaxTargets) +
                                        "]: too many targets (limit 10000)");
}

TEST(EmbeddedDefaultTest, EightLocalServices) {
  const Config c = EmbeddedDefaultConfig();
  EXPECT_TRUE(c.is_embedded_default);
  EXPECT_EQ(c.source, "<embedded default>");
  EXPECT_EQ(Targets(c), (std::vector<std::string>{
                            "smtp://localhost:25",
                            "submission://localhost:587",
                            "submissions://localhost:465",
                            "imap://localhost:143",
                            "imaps://localhost:993",
                            "pop3://localhost:110",
                            "pop3s://localhost:995",
                            "sieve://localhost:4190",
                        }));
  EXPECT_TRUE(c.domains.empty());
  const Config defaults;
  EXPECT_EQ(c.global.interval, defaults.global.interval);
  EXPECT_EQ(c.global.timeout, defaults.global.timeout);
  EXPECT_EQ(c.global.concurrency, defaults.global.concurrency);
  EXPECT_EQ(c.global.helo_name, defaults.global.helo_name);
  EXPECT_EQ(c.web.listen_address, defaults.web.listen_address);

  Result<Config> again = ParseConfig(EmbeddedDefaultToml(), "x");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Targets(*again), Targets(c));
  EXPECT_FALSE(again->is_embedded_default);
}

TEST(ConfigTest, OpenRelayRecipient) {
  Result<Config> c =
      ParseConfig("[global]\nopen_relay_recipient = \"relay-test@example.net\"", "t");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->global.open_relay_recipient, "relay-test@example.net");
  EXPECT_EQ(Config().global.open_relay_recipient, "");  // off by default: the test is intrusive
}

TEST(ConfigTest, ValidMailbox) {
  for (const char* good : {"a@example.net", "relay.test+x@mx.example.org", "o'hara@example.net"}) {
    EXPECT_TRUE(ValidMailbox(good)) << good;
  }
  for (const char* bad : {"", "@example.net", "a@", "a", "a b@example.net", ".a@example.net",
                          "a.@example.net", "a..b@example.net", "a@b@example.net",
                          "<a@example.net>", "a@example..net", "a\r\n@example.net"}) {
    EXPECT_FALSE(ValidMailbox(bad)) << bad;
  }
  EXPECT_FALSE(ValidMailbox(std::string(65, 'a') + "@example.net"));
  EXPECT_TRUE(ValidMailbox(std::string(64, 'a') + "@example.net"));
}

}  // namespace
}  // namespace mailsec::config
