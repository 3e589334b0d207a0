#include "lists/shared_parents.h"

#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lists/list_loader.h"

namespace vigie {
namespace {

using ::testing::HasSubstr;

std::string TestData(const std::string& name) {
  return std::string(VIGIE_SOURCE_DIR) + "/lists/testdata/shared_parents/" + name;
}

PublicSuffixList Excerpt() {
  auto psl = PublicSuffixList::Load(TestData("psl_excerpt.dat"));
  EXPECT_TRUE(psl.ok()) << psl.status();
  return *std::move(psl);
}

TEST(SharedParentsTest, PublicSuffixRulesWildcardsExceptionsSections) {
  PublicSuffixList psl = Excerpt();
  struct Case {
    const char* name;
    bool suffix;
    const char* section;
    const char* rule;
  } cases[] = {
      {"com", true, "ICANN", "com"},
      {"co.uk", true, "ICANN", "co.uk"},
      {"bbc.co.uk", false, "", ""},
      {"foo.ck", true, "ICANN", "*.ck"},   // wildcard
      {"www.ck", false, "", ""},           // exception
      {"a.foo.ck", false, "", ""},
      {"ck", true, "implicit", "*"},       // no "ck" rule: the implicit "*" (single label)
      {"x.kawasaki.jp", true, "ICANN", "*.kawasaki.jp"},
      {"city.kawasaki.jp", false, "", ""},
      {"xn--55qx5d.cn", true, "ICANN", "公司.cn"},  // U-label rule, A-label query
      {"s3.amazonaws.com", true, "PRIVATE", "s3.amazonaws.com"},
      {"bucket.s3.amazonaws.com", false, "", ""},
      {"appspot.com", true, "PRIVATE", "appspot.com"},
      {"amazonaws.com", false, "", ""},
      {"zz", true, "implicit", "*"},       // the implicit "*" rule
  };
  for (const Case& c : cases) {
    PublicSuffixList::Hit hit;
    bool got = psl.IsPublicSuffix(c.name, &hit);
    EXPECT_EQ(got, c.suffix) << c.name;
    if (got && c.suffix) {
      EXPECT_EQ(SectionName(hit.section), c.section) << c.name;
      EXPECT_EQ(hit.rule, c.rule) << c.name;
    }
  }
}

TEST(SharedParentsTest, ParseErrorsNameFileAndLine) {
  auto bad = PublicSuffixList::Parse("// x\ncom\na..b\n", "psl.dat");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("psl.dat:3: 'a..b': empty label"));
  EXPECT_FALSE(PublicSuffixList::Parse("a.*.b\n", "psl.dat").ok());
  EXPECT_FALSE(PublicSuffixList::Parse("// only comments\n", "psl.dat").ok());
  auto set = SharedParentSet::Parse("a.net\nnot one\n", "shared.list");
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(std::string(set.status().message()), HasSubstr("shared.list:2: expected one domain"));
  EXPECT_FALSE(SharedParentSet::Parse("net\n", "shared.list").ok());
}

TEST(SharedParentsTest, CheckFlagsEqualEntriesNotHostsUnderThem) {
  PublicSuffixList psl = Excerpt();
  auto parents = SharedParentSet::Load(TestData("shared.list"));
  ASSERT_TRUE(parents.ok()) << parents.status();
  EXPECT_EQ(parents->size(), 2u);
  auto list = LoadListFile(TestData("tiktok.list"), "tiktok", false);
  ASSERT_TRUE(list.ok()) << list.status();
  std::vector<SharedParentWarning> w = CheckSharedParents({*list}, &psl, &*parents);
  std::vector<std::string> got;
  for (const SharedParentWarning& x : w) got.push_back(x.file + ":" + std::to_string(x.line) + " " + x.entry);
  EXPECT_THAT(got, ::testing::ElementsAre("tiktok.list:3 akamaized.net", "tiktok.list:7 s3.amazonaws.com",
                                          "tiktok.list:8 full:appspot.com", "tiktok.list:10 co.uk",
                                          "tiktok.list:11 full:cloudfront.net", "tiktok.list:12 foo.ck",
                                          "tiktok.list:14 xn--55qx5d.cn"));
  ASSERT_EQ(w.size(), 7u);
  EXPECT_THAT(w[0].why, HasSubstr("shared infrastructure parent"));
  EXPECT_THAT(w[0].why, HasSubstr("shared.list:2"));
  EXPECT_THAT(w[1].why, HasSubstr("public suffix (PRIVATE section, rule 's3.amazonaws.com'"));
  EXPECT_THAT(w[3].why, HasSubstr("ICANN"));
  // Without the PSL only the shared parents are flagged.
  EXPECT_EQ(CheckSharedParents({*list}, nullptr, &*parents).size(), 2u);
  EXPECT_EQ(CheckSharedParents({*list}, nullptr, nullptr).size(), 0u);
}

// The Debian file (package publicsuffix) and the shipped guard list load,
// and hold what the guard relies on.
TEST(SharedParentsTest, DebianListAndShippedGuardListLoad) {
  auto parents = SharedParentSet::Load(std::string(VIGIE_SOURCE_DIR) + "/lists/shared_parents.list");
  ASSERT_TRUE(parents.ok()) << parents.status();
  for (const char* p : {"akamaized.net", "akamaihd.net", "cloudfront.net", "s3.amazonaws.com",
                        "appspot.com", "app.link", "sendbird.com", "cloudinary.com", "footprint.net"}) {
    EXPECT_NE(parents->LineOf(p), 0u) << p;
  }
  if (!std::filesystem::exists(kDebianPublicSuffixList)) {
    GTEST_SKIP() << kDebianPublicSuffixList << " missing: apt-get install publicsuffix";
  }
  auto psl = PublicSuffixList::Load(kDebianPublicSuffixList);
  ASSERT_TRUE(psl.ok()) << psl.status();
  EXPECT_GT(psl->rule_count(), 5000u);
  PublicSuffixList::Hit hit;
  EXPECT_TRUE(psl->IsPublicSuffix("appspot.com", &hit));
  EXPECT_EQ(hit.section, PublicSuffixList::Section::kPrivate);
  EXPECT_TRUE(psl->IsPublicSuffix("gouv.fr", &hit));
  EXPECT_EQ(hit.section, PublicSuffixList::Section::kIcann);
  EXPECT_FALSE(psl->IsPublicSuffix("tiktok.com", &hit));
  EXPECT_FALSE(psl->IsPublicSuffix("impots.gouv.fr", &hit));
  EXPECT_FALSE(psl->IsPublicSuffix("www.ck", &hit));
  EXPECT_TRUE(psl->IsPublicSuffix("foo.ck", &hit));
}

}  // namespace
}  // namespace vigie
