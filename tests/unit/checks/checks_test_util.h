// Helpers shared by the checks-layer unit tests: the parser table case and its expectation, the
// test-name generator of the tables, and finding lookup in an assessment. Header-only.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "mailsec/base/status.h"
#include "mailsec/checks/verdict.h"

// Test-only, so declared straight in the namespace the tests live in.
namespace mailsec::checks {

// One row of a parser table.
struct ParseCase {
  const char* name;
  std::string in;
  bool ok;
  std::string error;  // substring of the error
};

// Expects `r`, what a parser made of c.in, to be ok as c.ok says; a failure must be kMalformed
// and mention c.error.
template <typename T>
void ExpectParsed(const ParseCase& c, const Result<T>& r) {
  ASSERT_EQ(r.ok(), c.ok) << r.status().ToString();
  if (!c.ok) {
    EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
  }
}

// INSTANTIATE_TEST_SUITE_P's name generator for table rows with a `name` member.
struct CaseName {
  template <typename Param>
  std::string operator()(const ::testing::TestParamInfo<Param>& info) const {
    return std::string(info.param.name);
  }
};

// The finding `id` of an assessment (anything with a `findings` vector), or nullptr.
template <typename Assessment>
const Finding* Find(const Assessment& a, std::string_view id) {
  for (const Finding& f : a.findings) {
    if (f.check == id) return &f;
  }
  return nullptr;
}

// Expects the assessment to hold finding `id` with verdict `v`.
template <typename Assessment>
void ExpectVerdict(const Assessment& a, std::string_view id, CheckVerdict v) {
  const Finding* f = Find(a, id);
  ASSERT_NE(f, nullptr) << id;
  EXPECT_EQ(f->verdict, v) << id << ": " << f->detail;
}

}  // namespace mailsec::checks
