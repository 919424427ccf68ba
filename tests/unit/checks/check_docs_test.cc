// docs/checks.md documents every domain, DANE and deep-scan check id: one table row per id,
// starting "| `id` |". The endpoint ids are held to the same by
// tests/unit/findings/verdicts_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "mailsec/checks/bimi.h"
#include "mailsec/checks/caa.h"
#include "mailsec/checks/dane.h"
#include "mailsec/checks/dkim.h"
#include "mailsec/checks/dmarc.h"
#include "mailsec/checks/mta_sts.h"
#include "mailsec/checks/mx.h"
#include "mailsec/checks/spf.h"
#include "mailsec/checks/srv.h"
#include "mailsec/checks/tlsrpt.h"
#include "mailsec/probe/deep_scan.h"

namespace mailsec::checks {
namespace {

std::string ReadChecksDoc() {
  const std::filesystem::path path =
      std::filesystem::path(MAILSEC_TESTDATA "/../../../docs/checks.md").lexically_normal();
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every id the domain probe and the endpoint probe's DANE step can report.
std::vector<std::string_view> DocumentedIds() {
  std::vector<std::string_view> ids = {
      kSpfPresentCheck,    kSpfObsoleteCheck,  kSpfSyntaxCheck,  kSpfLookupLimitCheck,
      kSpfMxLimitCheck,    kSpfVoidLimitCheck, kSpfIncludeCheck, kSpfPtrCheck,
      kSpfAllCheck,        kSpfAfterAllCheck,  kSpfExpCheck,     kSpfRecordSizeCheck,
      kCaaCheck,
  };
  for (const auto* list : {&DmarcCheckIds(), &MtaStsCheckIds(), &TlsRptCheckIds(), &DkimCheckIds(),
                           &DaneCheckIds(), &MxCheckIds(), &BimiCheckIds(), &SrvCheckIds()}) {
    ids.insert(ids.end(), list->begin(), list->end());
  }
  return ids;
}

// Occurrences of `needle` at the start of a line of `doc`.
size_t RowsStartingWith(const std::string& doc, const std::string& needle) {
  size_t n = 0;
  for (size_t at = doc.find(needle); at != std::string::npos; at = doc.find(needle, at + 1)) {
    if (at == 0 || doc[at - 1] == '\n') ++n;
  }
  return n;
}

TEST(CheckDocsTest, EveryDomainAndDaneCheckHasExactlyOneRow) {
  const std::string doc = ReadChecksDoc();
  ASSERT_FALSE(doc.empty());
  const std::vector<std::string_view> ids = DocumentedIds();
  EXPECT_GE(ids.size(), 40u);
  for (std::string_view id : ids) {
    SCOPED_TRACE(std::string(id));
    EXPECT_EQ(RowsStartingWith(doc, "| `" + std::string(id) + "` |"), 1u)
        << "want exactly one row \"| `" << id << "` |\" in docs/checks.md";
  }
}

TEST(CheckDocsTest, EveryDeepScanCheckHasExactlyOneRow) {
  const std::string doc = ReadChecksDoc();
  ASSERT_FALSE(doc.empty());
  const std::span<const std::string_view> ids = probe::ScanCheckIds();
  EXPECT_GE(ids.size(), 7u);
  for (std::string_view id : ids) {
    SCOPED_TRACE(std::string(id));
    EXPECT_EQ(RowsStartingWith(doc, "| `" + std::string(id) + "` |"), 1u)
        << "want exactly one row \"| `" << id << "` |\" in docs/checks.md";
  }
}

}  // namespace
}  // namespace mailsec::checks
