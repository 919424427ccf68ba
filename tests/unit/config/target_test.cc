#include "mailsec/config/target.h"

#include <string>

#include "gtest/gtest.h"

namespace mailsec::config {
namespace {

TEST(ServiceTest, ContractTable) {
  const struct {
    Service service;
    const char* name;
    uint16_t port;
    TlsMode tls;
  } rows[] = {
      {Service::kSmtp, "smtp", 25, TlsMode::kStartTls},
      {Service::kSubmission, "submission", 587, TlsMode::kStartTls},
      {Service::kSubmissions, "submissions", 465, TlsMode::kImplicit},
      {Service::kImap, "imap", 143, TlsMode::kStartTls},
      {Service::kImaps, "imaps", 993, TlsMode::kImplicit},
      {Service::kPop3, "pop3", 110, TlsMode::kStartTls},
      {Service::kPop3s, "pop3s", 995, TlsMode::kImplicit},
      {Service::kSieve, "sieve", 4190, TlsMode::kStartTls},
  };
  ASSERT_EQ(std::size(rows), std::size(kAllServices));
  for (size_t i = 0; i < std::size(rows); ++i) {
    SCOPED_TRACE(rows[i].name);
    EXPECT_EQ(kAllServices[i], rows[i].service);
    EXPECT_EQ(ServiceName(rows[i].service), rows[i].name);
    EXPECT_EQ(DefaultPort(rows[i].service), rows[i].port);
    EXPECT_EQ(ServiceTlsMode(rows[i].service), rows[i].tls);
    EXPECT_EQ(ServiceFromName(rows[i].name), rows[i].service);
  }
  EXPECT_EQ(ServiceFromName("IMAPS"), Service::kImaps);
  EXPECT_EQ(ServiceFromName("Pop3"), Service::kPop3);
  EXPECT_EQ(ServiceFromName("smtpx"), std::nullopt);
  EXPECT_EQ(ServiceFromName(""), std::nullopt);
  EXPECT_EQ(ServiceFromName("smtps"), std::nullopt);
}

TEST(ParseEndpointTargetTest, Good) {
  const struct {
    const char* text;
    Service service;
    const char* host;
    uint16_t port;
    bool is_ip;
    const char* canonical;
  } cases[] = {
      {"smtp://mail.example.org", Service::kSmtp, "mail.example.org", 25, false,
       "smtp://mail.example.org:25"},
      {"SMTP://Mail.Example.ORG.:2525", Service::kSmtp, "mail.example.org", 2525, false,
       "smtp://mail.example.org:2525"},
      {"submission://localhost", Service::kSubmission, "localhost", 587, false,
       "submission://localhost:587"},
      {"submissions://smtp-1.example.org:465", Service::kSubmissions, "smtp-1.example.org", 465,
       false, "submissions://smtp-1.example.org:465"},
      {"imap://192.0.2.1", Service::kImap, "192.0.2.1", 143, true, "imap://192.0.2.1:143"},
      {"imaps://[2001:db8::1]:993", Service::kImaps, "2001:db8::1", 993, true,
       "imaps://[2001:db8::1]:993"},
      {"imaps://[2001:DB8:0:0::1]", Service::kImaps, "2001:db8::1", 993, true,
       "imaps://[2001:db8::1]:993"},
      {"smtp://[::1]", Service::kSmtp, "::1", 25, true, "smtp://[::1]:25"},
      {"smtp://[::ffff:192.0.2.1]:25", Service::kSmtp, "::ffff:192.0.2.1", 25, true,
       "smtp://[::ffff:192.0.2.1]:25"},
      {"pop3://0.0.0.0:110", Service::kPop3, "0.0.0.0", 110, true, "pop3://0.0.0.0:110"},
      {"pop3s://x.example:1", Service::kPop3s, "x.example", 1, false, "pop3s://x.example:1"},
      {"sieve://mx.example.org:65535", Service::kSieve, "mx.example.org", 65535, false,
       "sieve://mx.example.org:65535"},
      {"sieve://3com.example", Service::kSieve, "3com.example", 4190, false,
       "sieve://3com.example:4190"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    Result<EndpointTarget> t = ParseEndpointTarget(c.text);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->service, c.service);
    EXPECT_EQ(t->host, c.host);
    EXPECT_EQ(t->port, c.port);
    EXPECT_EQ(t->host_is_ip, c.is_ip);
    EXPECT_EQ(t->ToString(), c.canonical);
    Result<EndpointTarget> again = ParseEndpointTarget(t->ToString());
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, *t);
  }
}

TEST(ParseEndpointTargetTest, Bad) {
  const std::string long_label(64, 'a');
  const std::string long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                                std::string(63, 'c') + "." + std::string(63, 'd');  // 255
  const struct {
    std::string text;
    std::string message;
  } cases[] = {
      {"", "missing \"://\" (want SERVICE://HOST[:PORT])"},
      {"mail.example.org", "missing \"://\" (want SERVICE://HOST[:PORT])"},
      {"smtp:/mail.example.org", "missing \"://\" (want SERVICE://HOST[:PORT])"},
      {"://mail.example.org", "missing service"},
      {"smtpx://mail.example.org", "unknown service \"smtpx\""},
      {"https://mail.example.org", "unknown service \"https\""},
      {"smtp://", "missing host"},
      {"smtp://:25", "missing host"},
      {"smtp://.", "empty name"},
      {"smtp://a..b", "empty label"},
      {"smtp://.a", "empty label"},
      {"smtp://mail_1.example.org", "bad character \"_\" in label \"mail_1\""},
      {"smtp://_dmarc.example.org", "bad character \"_\" in label \"_dmarc\""},
      {"smtp://mail example.org", "bad character \" \" in label \"mail example\""},
      {"smtp://b\xc3\xbc.example", "bad character \"\\xc3\" in label \"b\\xc3\\xbc\""},
      {"smtp://-mail.example.org", "label \"-mail\" starts or ends with \"-\""},
      {"smtp://mail-.example.org", "label \"mail-\" starts or ends with \"-\""},
      {"smtp://" + long_label + ".org",
       "label \"" + long_label.substr(0, 64) + "\" longer than 63 characters"},
      {"smtp://" + long_name, "name longer than 253 characters"},
      {"smtp://example.123", "last label \"123\" is all digits"},
      {"smtp://1.2.3", "bad ipv4 address \"1.2.3\""},
      {"smtp://1.2.3.256", "bad ipv4 address \"1.2.3.256\""},
      {"smtp://01.2.3.4", "bad ipv4 address \"01.2.3.4\""},
      {"smtp://1.2.3.4.5", "bad ipv4 address \"1.2.3.4.5\""},
      {"smtp://1.2.3.4.", "bad ipv4 address \"1.2.3.4.\""},
      {"smtp://2001:db8::1", "ipv6 address must be in brackets"},
      {"smtp://::1", "ipv6 address must be in brackets"},
      {"smtp://[2001:db8::1", "unterminated \"[\""},
      {"smtp://[2001:db8::g]", "bad ipv6 address \"2001:db8::g\""},
      {"smtp://[192.0.2.1]", "bad ipv6 address \"192.0.2.1\""},
      {"smtp://[fe80::1%eth0]", "bad ipv6 address \"fe80::1%eth0\""},
      {"smtp://[]", "bad ipv6 address \"\""},
      {"smtp://[::1]25", "unexpected \"25\" after \"]\""},
      {"smtp://[::1]:", "bad port \"\""},
      {"smtp://host:", "bad port \"\""},
      {"smtp://host:0", "bad port \"0\""},
      {"smtp://host:65536", "bad port \"65536\""},
      {"smtp://host:100000", "bad port \"100000\""},
      {"smtp://host:-1", "bad port \"-1\""},
      {"smtp://host:+25", "bad port \"+25\""},
      {"smtp://host:25a", "bad port \"25a\""},
      {"smtp://host: 25", "bad port \" 25\""},
      {"smtp://host:25:26", "ipv6 address must be in brackets"},
      {"smtp://user@host", "userinfo is not allowed"},
      {"smtp://a@b", "userinfo is not allowed"},
      {"smtp://host/x", "path is not allowed"},
      {"smtp://host/", "path is not allowed"},
      {"smtp://host?x=1", "query is not allowed"},
      {"smtp://host#x", "fragment is not allowed"},
      {" smtp://host", "unknown service \" smtp\""},
      {"smtp://host ", "bad character \" \" in label \"host \""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    Result<EndpointTarget> t = ParseEndpointTarget(c.text);
    ASSERT_FALSE(t.ok()) << t->ToString();
    EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(t.status().message(), c.message);
  }
}

TEST(ParseDomainNameTest, Good) {
  const struct {
    std::string text;
    std::string want;
  } cases[] = {
      {"example.org", "example.org"},
      {"Example.ORG.", "example.org"},
      {"mail-1.sub.example.co.uk", "mail-1.sub.example.co.uk"},
      {"xn--bcher-kva.example", "xn--bcher-kva.example"},
      {"1.example", "1.example"},
      {std::string(63, 'a') + ".org", std::string(63, 'a') + ".org"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    Result<std::string> d = ParseDomainName(c.text);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(*d, c.want);
  }
}

TEST(ParseDomainNameTest, Bad) {
  const struct {
    std::string text;
    std::string message;
  } cases[] = {
      {"", "empty domain name"},
      {".", "empty domain name"},
      {"localhost", "a domain needs at least two labels"},
      {"localhost.", "a domain needs at least two labels"},
      {"smtp://example.org", "expected a bare domain, not a SERVICE:// target"},
      {"example..org", "empty label"},
      {".example.org", "empty label"},
      {"exa_mple.org", "bad character \"_\" in label \"exa_mple\""},
      {"example.org:25", "bad character \":\" in label \"org:25\""},
      {"example.org/", "bad character \"/\" in label \"org/\""},
      {"-example.org", "label \"-example\" starts or ends with \"-\""},
      {std::string(64, 'a') + ".org",
       "label \"" + std::string(64, 'a') + "\" longer than 63 characters"},
      {"192.0.2.1", "last label \"1\" is all digits"},
      {"b\xc3\xbc"
       "cher.example",
       "bad character \"\\xc3\" in label \"b\\xc3\\xbccher\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    Result<std::string> d = ParseDomainName(c.text);
    ASSERT_FALSE(d.ok()) << *d;
    EXPECT_EQ(d.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(d.status().message(), c.message);
  }
}

}  // namespace
}  // namespace mailsec::config
