#include "gateway/policy/lint.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gateway/policy/config.h"
#include "gateway/policy/policy_test_util.h"

namespace vigie {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t k2026 = 1780000000ull * 1'000'000;  // 2026-05-28

std::vector<std::string> Lint(const TempSetup& t, const std::string& config_text) {
  auto cfg = LoadConfig(t.Config(config_text));
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  auto pol = Policy::Build(*std::move(cfg));
  EXPECT_TRUE(pol.ok()) << pol.status();
  auto lists = ReloadLists(**pol);
  EXPECT_TRUE(lists.ok()) << lists.status();
  std::vector<std::string> out;
  for (const LintWarning& w : LintPolicy(**pol, *lists, k2026)) out.push_back(w.where + ": " + w.why);
  return out;
}

constexpr char kBase[] = R"([scope]
managed = ["10.0.0.0/8"]
[lists]
dir = "lists"
[[policy]]
apps = ["tiktok"]
action = "block"
[[policy]]
apps = ["tchap"]
action = "allow"
)";

TEST(LintTest, CleanConfigHasNoWarnings) {
  TempSetup t("lint_clean");
  t.List("tiktok", "tiktok.com\nfull:tiktokcdn.example\n");
  t.List("tchap", "tchap.gouv.fr\n");
  EXPECT_THAT(Lint(t, kBase), ::testing::IsEmpty());
}

TEST(LintTest, RuleShadowedByBroaderRuleOfTheSameList) {
  TempSetup t("lint_shadow");
  t.List("tiktok", "tiktok.com\nwww.tiktok.com\nfull:api.tiktok.com\nfull:other.example\n");
  t.List("tchap", "tchap.gouv.fr\n");
  auto w = Lint(t, kBase);
  ASSERT_EQ(w.size(), 2u) << ::testing::PrintToString(w);
  EXPECT_THAT(w[0], HasSubstr("tiktok.list:2: 'www.tiktok.com' is shadowed by the broader rule 'tiktok.com' (tiktok.list:1)"));
  EXPECT_THAT(w[1], HasSubstr("tiktok.list:3: 'full:api.tiktok.com' is shadowed"));
}

TEST(LintTest, BlockRuleHiddenByAllowList) {
  TempSetup t("lint_hidden");
  // At equal specificity the allow-list wins (DESIGN.md rule semantics).
  t.List("tiktok", "tiktok.com\ntchap.gouv.fr\n");
  t.List("tchap", "tchap.gouv.fr\n");
  auto w = Lint(t, kBase);
  ASSERT_EQ(w.size(), 1u) << ::testing::PrintToString(w);
  EXPECT_THAT(w[0], HasSubstr("tiktok.list:2: block rule 'tchap.gouv.fr' of tiktok is hidden by allow-list "
                              "rule 'tchap.gouv.fr' of tchap (tchap.list:1)"));
}

TEST(LintTest, ExpiredExceptionAndDeviceOutsideScope) {
  TempSetup t("lint_exc");
  t.List("tiktok", "tiktok.com\n");
  t.List("tchap", "tchap.gouv.fr\n");
  std::string cfg = std::string(kBase) + R"([[exception]]
id = "old"
devices = ["10.1.2.3/32"]
apps = ["tiktok"]
until = "2020-01-31"
reason = "press"
ticket = "SEC-1"
[[exception]]
id = "outside"
devices = ["192.168.7.0/24", "10.9.0.0/16"]
apps = ["tiktok"]
reason = "lab"
ticket = "SEC-2"
)";
  auto w = Lint(t, cfg);
  ASSERT_EQ(w.size(), 2u) << ::testing::PrintToString(w);
  EXPECT_THAT(w[0], HasSubstr("vigie.toml:11: exception 'old' expired on 2020-01-31"));
  EXPECT_THAT(w[1], HasSubstr("vigie.toml:18: exception 'outside' names device 192.168.7.0/24 outside the managed"));
}

TEST(PolicyBuildTest, ListInNoPolicyIsAnError) {
  // A list no [[policy]] names would still match as the most specific rule and
  // allow its names, un-blocking them (issue: "a list with no policy").
  TempSetup t("lint_nopolicy");
  t.List("tiktok", "tiktok.com\n");
  t.List("tchap", "tchap.gouv.fr\n");
  t.List("stray", "www.tiktok.com\n");
  auto cfg = LoadConfig(t.Config(kBase));
  ASSERT_TRUE(cfg.ok());
  auto pol = Policy::Build(*std::move(cfg));
  ASSERT_FALSE(pol.ok());
  EXPECT_THAT(std::string(pol.status().message()),
              HasSubstr("vigie.toml:4: [lists] dir: stray.list is in no [[policy]]"));
}

}  // namespace
}  // namespace vigie
