#include "export/label_value.h"

#include <gtest/gtest.h>

#include <string>

#include "export/collector.h"
#include "mailsec/base/text.h"
#include "mailsec/export/snapshot.h"

namespace mailsec::exporter {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(SafeLabelValueTest, Table) {
  struct Case {
    std::string in;
    std::string want;
  };
  const Case kCases[] = {
      {"", ""},
      {"mx.example.org", "mx.example.org"},
      {"quote\" back\\slash", "quote\" back\\slash"},  // the serializer escapes these
      {std::string("nul\0x", 5), "nul?x"},
      {"\t\r\n\x1b\x7f", "?????"},
      {"M\xC3\xBCller GmbH", "M\xC3\xBCller GmbH"},         // U+00FC kept
      {"\xC2\x85\xC2\x9F\xC2\xA0", "??\xC2\xA0"},           // C1 controls; NBSP kept
      {"\xF0\x9F\x94\x92", "\xF0\x9F\x94\x92"},             // U+1F512 kept
      {"\xFF", kFffd},                                      // never valid
      {"\xC0\xAF", kFffd + kFffd},                          // overlong '/'
      {"\xE0\x80\xAF", kFffd + kFffd + kFffd},              // overlong, 3 bytes
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},              // surrogate U+D800
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},  // above U+10FFFF
      {"a\xE2\x82", "a" + kFffd + kFffd},                   // truncated sequence
      {"\x80x", kFffd + "x"},                               // lone continuation
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(SafeLabelValue(c.in), c.want) << Printable(c.in);
  }
}

TEST(SafeLabelValueTest, CutsAtCharacterBoundary) {
  EXPECT_EQ(SafeLabelValue(std::string(10000, 'a')), std::string(kMaxLabelValueBytes, 'a'));
  std::string umlauts;
  for (int i = 0; i < 200; ++i) umlauts += "\xC3\xBC";
  EXPECT_EQ(SafeLabelValue(umlauts).size(), kMaxLabelValueBytes);
  EXPECT_EQ(SafeLabelValue("a\xC3\xBC", 3), "a\xC3\xBC");
  EXPECT_EQ(SafeLabelValue("a\xC3\xBC", 2), "a");
  EXPECT_EQ(SafeLabelValue("a\xFF", 3), "a");  // U+FFFD needs 3 bytes
  EXPECT_EQ(SafeLabelValue("abc", 0), "");
}

// True if s is well-formed UTF-8 without control characters.
bool CleanLine(const std::string& s) { return SafeLabelValue(s, s.size()) == s; }

TEST(HostileLabelsTest, RenderWithoutCrashingAndStayBounded) {
  probe::EndpointReport r;
  r.target = {config::Service::kSmtp, "evil\"host\\\n.example.org", 25, false};
  r.ip = std::string("192.0.2.1\0\r\n", 12);
  r.phase_seconds.fill(0.5);
  r.success = true;
  r.tls.handshake_ok = true;
  r.tls.version = "TLSv1.3\n# TYPE fake gauge\nfake 1";
  r.tls.cipher = "\xFF\xFE\xC0\xAF\xED\xA0\x80";
  r.tls.group = std::string(5000, '\x01');
  r.tls.has_leaf = true;
  r.tls.leaf.Edit().subject_cn = std::string(10 * 1024, 'A');
  r.tls.leaf.Edit().issuer_cn = std::string(10 * 1024, '\xFF');
  std::string mixed;
  for (int i = 0; i < 10 * 1024; ++i) mixed.push_back(static_cast<char>(i));
  tls::CertFacts& leaf = r.tls.leaf.Edit();
  leaf.serial = mixed;
  leaf.fingerprint_sha256 = "\"}\nmailsec_probe_success 1\n";
  leaf.key_type = std::string(1, '\0');
  leaf.signature_algorithm = "\xE2\x82";
  r.tls.verify_result = std::string(10 * 1024, '\\');

  const std::string text = RenderReports({r});
  // 9 signals + 8 phases + ~15 others, each line at most 12 labels of 256 bytes (x2 escaped).
  EXPECT_LT(text.size(), 64u * 1024);
  EXPECT_EQ(text.find("\nfake"), std::string::npos);
  EXPECT_EQ(text.find("\nmailsec_probe_success 1"), std::string::npos);
  EXPECT_EQ(text.find('\0'), std::string::npos);
  size_t start = 0;
  int lines = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "last line not terminated";
    const std::string line = text.substr(start, end - start);
    EXPECT_TRUE(line.starts_with("# ") || line.starts_with("mailsec_")) << Printable(line);
    EXPECT_LT(line.size(), 12u * 2 * kMaxLabelValueBytes + 200);
    EXPECT_TRUE(CleanLine(line)) << Printable(line);
    start = end + 1;
    ++lines;
  }
  EXPECT_GT(lines, 30);

  // The cert_info series carries every hostile value, each cut to the limit.
  for (const auto& family : CollectReports({r})) {
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        EXPECT_LE(label.value.size(), kMaxLabelValueBytes) << family.name << " " << label.name;
      }
    }
  }
}

}  // namespace
}  // namespace mailsec::exporter
