#include "gateway/policy/explain.h"

#include <string>

#include "gateway/policy/policy_test_util.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

constexpr uint64_t kNow = 1'767'225'600ull * 1'000'000;  // 2026-01-01T00:00:00Z

class ExplainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.List("tiktok", "tiktok.com\napi.tiktok.com\n");
    t_.List("olvid", "olvid.io\n");
    t_.List("tracker", "olvid.io\n");
    const std::string path = t_.Config(R"([scope]
managed = ["10.0.0.0/8", "10.20.0.0/16", "fd00::/8"]
[lists]
dir = "lists"
[[policy]]
apps = ["tiktok", "tracker"]
action = "block"
[[policy]]
apps = ["olvid"]
action = "allow"
[[exception]]
id = "first"
devices = ["10.20.0.0/16"]
apps = ["tiktok"]
until = "2025-06-30"
[[exception]]
id = "second"
devices = ["10.20.0.0/16"]
until = "2026-12-31"
ticket = "SEC-2"
)");
    auto c = LoadConfig(path);
    ASSERT_TRUE(c.ok()) << c.status();
    auto p = Policy::Build(*std::move(c));
    ASSERT_TRUE(p.ok()) << p.status();
    policy_ = *p;
  }
  Explanation Run(const char* src, const char* name) {
    return Explain(*policy_, *IpAddress::Parse(src), name, ExplainProto::kDns, kNow);
  }
  TempSetup t_{"explain"};
  std::shared_ptr<const Policy> policy_;
};

TEST_F(ExplainTest, TheVerdictIsThePolicysAndTheStepsAroundIt) {
  Explanation e = Run("10.20.1.1", "V1.API.TikTok.com.");
  EXPECT_EQ(e.name, "v1.api.tiktok.com");
  EXPECT_TRUE(e.managed);
  EXPECT_EQ(e.managed_prefix, "10.20.0.0/16");  // the longest holding the device
  ASSERT_EQ(e.candidates.size(), 2u);
  EXPECT_EQ(e.candidates[0].rule->text, "api.tiktok.com");
  EXPECT_EQ(e.candidates[0].rule, e.winner.rule);
  EXPECT_EQ(e.candidates[1].rule->text, "tiktok.com");
  ASSERT_NE(e.policy, nullptr);
  EXPECT_EQ(e.policy->line, 5u);
  // "first" has expired; "second" (every app) applies.
  ASSERT_EQ(e.exceptions.size(), 2u);
  EXPECT_TRUE(e.exceptions[0].expired);
  EXPECT_FALSE(e.exceptions[0].applied);
  EXPECT_FALSE(e.exceptions[1].expired);
  EXPECT_TRUE(e.exceptions[1].applied);
  EXPECT_EQ(e.verdict.reason, Reason::kException);
  const Verdict direct = policy_->Decide(e.src, e.name, kNow);
  EXPECT_EQ(e.verdict.action, direct.action);
  EXPECT_EQ(e.verdict.exception, direct.exception);
}

TEST_F(ExplainTest, AllowListBeatsTheEqualBlockRule) {
  Explanation e = Run("fd00::1", "chat.olvid.io");
  ASSERT_EQ(e.candidates.size(), 2u);
  EXPECT_TRUE(e.winner.allow);
  EXPECT_EQ(e.verdict.reason, Reason::kAllowlist);
  EXPECT_EQ(e.managed_prefix, "fd00::/8");
}

TEST_F(ExplainTest, UnmanagedNoMatchAndInvalidNames) {
  Explanation u = Run("192.0.2.1", "tiktok.com");
  EXPECT_FALSE(u.managed);
  EXPECT_TRUE(u.managed_prefix.empty());
  EXPECT_EQ(u.verdict.reason, Reason::kUnmanaged);
  EXPECT_EQ(u.candidates.size(), 1u);  // the rules still show
  Explanation n = Run("10.1.1.1", "nottiktok.com");
  EXPECT_TRUE(n.candidates.empty());
  EXPECT_FALSE(n.winner);
  EXPECT_EQ(n.verdict.reason, Reason::kNoMatch);
  Explanation bad = Run("10.1.1.1", "a..b");
  EXPECT_FALSE(bad.name_error.empty());
  EXPECT_EQ(bad.verdict.action, Action::kAllow);
}

}  // namespace
}  // namespace vigie
