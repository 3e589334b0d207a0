#include "gateway/policy/policy.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gateway/policy/policy_test_util.h"
#include "lists/domain.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr uint64_t k2025 = 1748736000ull * 1'000'000;  // 2025-06-01T00:00:00Z
constexpr uint64_t k2031 = 1924992000ull * 1'000'000;  // 2031-01-01T00:00:00Z

constexpr char kConfig[] = R"([scope]
managed = ["10.0.0.0/8", "fd00::/8"]

[lists]
dir = "lists"

[[policy]]
apps = ["tiktok", "twitter", "bigcorp", "cdnblock", "blockedcom"]
action = "block"

[[policy]]
apps = ["olvid", "goodcorp", "cdnallow", "mailallow"]
action = "allow"

[[policy]]
apps = ["facebook", "tiktok"]   # tiktok again: the first policy already decided it
action = "log"

[[exception]]
id = "press-office-twitter"
devices = ["10.20.5.17/32"]
apps = ["twitter"]
until = "2030-12-31"
ticket = "SEC-1234"

[[exception]]
id = "expired-lab"
devices = ["10.30.0.0/16"]
until = "2020-01-01"

[[exception]]
id = "v6-lab-tiktok"
devices = ["fd00:1::/32"]
apps = ["tiktok"]
action = "allow"

[[exception]]
id = "research"
devices = ["10.40.0.0/16"]
apps = ["tiktok", "twitter"]

[[exception]]
id = "research-allow"
devices = ["10.40.0.0/16"]
apps = ["tiktok"]
action = "allow"
)";

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setup_.List("tiktok", "# TikTok\ntiktok.com\nfull:exact.tiktokv.com\n");
    setup_.List("twitter", "twitter.com\nx.com\n");
    setup_.List("olvid", "olvid.io\n");
    setup_.List("bigcorp", "example.org\n");
    setup_.List("goodcorp", "example.org\n");            // same rule, allow: allow wins
    setup_.List("cdnblock", "cdn.example.net\n");        // more specific block
    setup_.List("cdnallow", "example.net\n");            // less specific allow
    setup_.List("blockedcom", "blocked.com\n");
    setup_.List("mailallow", "mail.blocked.com\n");      // more specific allow
    setup_.List("facebook", "facebook.com\n");
    auto c = LoadConfig(setup_.Config(kConfig));
    ASSERT_TRUE(c.ok()) << c.status();
    auto p = Policy::Build(*std::move(c));
    ASSERT_TRUE(p.ok()) << p.status();
    policy_ = *std::move(p);
  }

  Verdict Decide(const std::string& src, const std::string& name, uint64_t now = k2025) {
    DomainBuf buf;
    EXPECT_EQ(NormalizeDomain(name, &buf), DomainError::kOk);
    return policy_->Decide(*IpAddress::Parse(src), buf.view(), now);
  }
  std::string App(const Verdict& v) { return v.match ? policy_->matcher().app_name(v.match.app) : "-"; }

  TempSetup setup_{"policy"};
  std::shared_ptr<const Policy> policy_;
};

TEST_F(PolicyTest, Scope) {
  EXPECT_TRUE(policy_->IsManaged(*IpAddress::Parse("10.1.2.3")));
  EXPECT_TRUE(policy_->IsManaged(*IpAddress::Parse("fd12::1")));
  EXPECT_FALSE(policy_->IsManaged(*IpAddress::Parse("192.168.1.1")));
  EXPECT_FALSE(policy_->IsManaged(*IpAddress::Parse("2001:db8::1")));
  EXPECT_FALSE(policy_->IsManaged(*IpAddress::Parse("::ffff:10.1.2.3")));  // v4-mapped is not v4

  for (const char* src : {"192.168.1.1", "2001:db8::1", "11.0.0.1"}) {
    Verdict v = Decide(src, "www.tiktok.com");
    EXPECT_EQ(v.action, Action::kAllow) << src;
    EXPECT_EQ(v.reason, Reason::kUnmanaged) << src;
    EXPECT_TRUE(v.match) << src;  // still matched, for the log
  }
  for (const char* src : {"10.1.2.3", "fd12::1"}) {
    Verdict v = Decide(src, "www.tiktok.com");
    EXPECT_EQ(v.action, Action::kBlock) << src;
    EXPECT_EQ(v.reason, Reason::kList) << src;
  }
}

TEST_F(PolicyTest, PerAppActions) {
  struct Case {
    const char* name;
    Action action;
    Reason reason;
    const char* app;
  } cases[] = {
      {"tiktok.com", Action::kBlock, Reason::kList, "tiktok"},
      {"WWW.TikTok.COM.", Action::kBlock, Reason::kList, "tiktok"},
      {"nottiktok.com", Action::kAllow, Reason::kNoMatch, "-"},
      {"exact.tiktokv.com", Action::kBlock, Reason::kList, "tiktok"},
      {"a.exact.tiktokv.com", Action::kAllow, Reason::kNoMatch, "-"},
      {"x.com", Action::kBlock, Reason::kList, "twitter"},
      {"www.facebook.com", Action::kLog, Reason::kList, "facebook"},
      {"olvid.io", Action::kAllow, Reason::kAllowlist, "olvid"},
      {"example.com", Action::kAllow, Reason::kNoMatch, "-"},
  };
  for (const Case& c : cases) {
    Verdict v = Decide("10.1.1.1", c.name);
    EXPECT_EQ(v.action, c.action) << c.name;
    EXPECT_EQ(v.reason, c.reason) << c.name;
    EXPECT_EQ(App(v), c.app) << c.name;
  }
  AppId id;
  ASSERT_TRUE(policy_->matcher().FindApp("tiktok", &id));
  EXPECT_EQ(policy_->app_action(id), Action::kBlock);  // first policy wins over the later "log"
}

TEST_F(PolicyTest, AllowListBeatsBlockAtEqualSpecificity) {
  Verdict v = Decide("10.1.1.1", "www.example.org");
  EXPECT_EQ(v.action, Action::kAllow);
  EXPECT_EQ(v.reason, Reason::kAllowlist);
  EXPECT_EQ(App(v), "goodcorp");
  EXPECT_EQ(v.match.rule->file, (setup_.dir() / "lists" / "goodcorp.list").string());
  EXPECT_EQ(v.match.rule->line, 1u);
}

TEST_F(PolicyTest, AllowListWinsWhenMoreSpecific) {
  Verdict v = Decide("10.1.1.1", "smtp.mail.blocked.com");
  EXPECT_EQ(v.action, Action::kAllow);
  EXPECT_EQ(v.reason, Reason::kAllowlist);
  EXPECT_EQ(App(v), "mailallow");
  v = Decide("10.1.1.1", "www.blocked.com");
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(App(v), "blockedcom");
}

TEST_F(PolicyTest, MostSpecificRuleDecides) {
  Verdict v = Decide("10.1.1.1", "img.cdn.example.net");
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(App(v), "cdnblock");
  v = Decide("10.1.1.1", "www.example.net");
  EXPECT_EQ(v.action, Action::kAllow);
  EXPECT_EQ(App(v), "cdnallow");
}

TEST_F(PolicyTest, ExceptionForDeviceAndAppUntilInTheFuture) {
  Verdict v = Decide("10.20.5.17", "twitter.com", k2025);
  EXPECT_EQ(v.action, Action::kLog);
  EXPECT_EQ(v.reason, Reason::kException);
  ASSERT_NE(v.exception, nullptr);
  EXPECT_EQ(v.exception->id, "press-office-twitter");
  EXPECT_EQ(App(v), "twitter");
  // Another app on the same device: not covered.
  v = Decide("10.20.5.17", "tiktok.com", k2025);
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(v.exception, nullptr);
  // Another device: not covered.
  v = Decide("10.20.5.18", "twitter.com", k2025);
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(v.reason, Reason::kList);
}

TEST_F(PolicyTest, ExceptionUntilInThePastIsNotApplied) {
  Verdict v = Decide("10.20.5.17", "twitter.com", k2031);
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(v.reason, Reason::kList);
  EXPECT_EQ(v.exception, nullptr);
  // Expired in 2020: never applies now.
  v = Decide("10.30.1.1", "tiktok.com", k2025);
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(v.exception, nullptr);
  // The last microsecond of the until day still applies; midnight after does not.
  constexpr uint64_t kEnd = 1924992000ull * 1'000'000;  // 2031-01-01T00:00:00Z, end of 2030-12-31
  EXPECT_EQ(Decide("10.20.5.17", "twitter.com", kEnd - 1).reason, Reason::kException);
  EXPECT_EQ(Decide("10.20.5.17", "twitter.com", kEnd).reason, Reason::kList);
}

TEST_F(PolicyTest, ExceptionForIpv6DeviceCidr) {
  Verdict v = Decide("fd00:1::42", "tiktok.com");
  EXPECT_EQ(v.action, Action::kAllow);
  EXPECT_EQ(v.reason, Reason::kException);
  EXPECT_EQ(v.exception->id, "v6-lab-tiktok");
  v = Decide("fd00:2::42", "tiktok.com");
  EXPECT_EQ(v.action, Action::kBlock);
}

TEST_F(PolicyTest, FirstMatchingExceptionWins) {
  // "research" (log) comes before "research-allow" (allow) for tiktok.
  Verdict v = Decide("10.40.0.9", "tiktok.com");
  EXPECT_EQ(v.action, Action::kLog);
  EXPECT_EQ(v.exception->id, "research");
  v = Decide("10.40.0.9", "twitter.com");
  EXPECT_EQ(v.exception->id, "research");
}

TEST_F(PolicyTest, ExceptionsDoNotTouchAllowOrUnmatched) {
  EXPECT_EQ(Decide("10.40.0.9", "olvid.io").reason, Reason::kAllowlist);
  EXPECT_EQ(Decide("10.40.0.9", "example.com").reason, Reason::kNoMatch);
}

TEST_F(PolicyTest, DecideNameAndMalformed) {
  DomainBuf b;
  NormalizeDomain("www.tiktok.com", &b);
  Verdict v = policy_->DecideName(b.view());
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(v.reason, Reason::kList);
  v = policy_->DecideMalformed(*IpAddress::Parse("10.0.0.1"));
  EXPECT_EQ(v.reason, Reason::kMalformed);
  EXPECT_EQ(v.action, Action::kAllow);
  v = policy_->DecideMalformed(*IpAddress::Parse("8.8.8.8"));
  EXPECT_EQ(v.reason, Reason::kUnmanaged);
}

// ---- Build errors ------------------------------------------------------------------

TEST(PolicyBuildTest, PolicyNamingAppWithoutListNamesConfigLine) {
  TempSetup s("nolist");
  s.List("tiktok", "tiktok.com\n");
  std::string path = s.Config(
      "[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"lists\"\n\n[[policy]]\napps = [\"tiktok\"]\n"
      "action = \"block\"\n\n[[policy]]\napps = [\"tiktk\"]\naction = \"log\"\n");
  auto c = LoadConfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  auto p = Policy::Build(*std::move(c));
  ASSERT_FALSE(p.ok());
  std::string msg(p.status().message());
  EXPECT_THAT(msg, HasSubstr(path + ":10: "));
  EXPECT_THAT(msg, HasSubstr("'tiktk'"));
}

TEST(PolicyBuildTest, ExceptionNamingAppWithoutListNamesConfigLine) {
  TempSetup s("exc_nolist");
  s.List("tiktok", "tiktok.com\n");
  std::string path = s.Config(
      "[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"lists\"\n\n[[exception]]\nid = \"x\"\n"
      "apps = [\"nope\"]\n[[policy]]\napps = [\"tiktok\"]\naction = \"block\"\n");
  auto p = Policy::Build(*LoadConfig(path));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr(path + ":6: "));
}

TEST(PolicyBuildTest, ListWithBadEntryNamesListFileLine) {
  TempSetup s("badlist");
  s.List("tiktok", "# comment\ntiktok.com\n\nbad..entry.com\n");
  std::string path = s.Config("[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"lists\"\n");
  auto p = Policy::Build(*LoadConfig(path));
  ASSERT_FALSE(p.ok());
  std::string msg(p.status().message());
  EXPECT_THAT(msg, HasSubstr((s.dir() / "lists" / "tiktok.list").string() + ":4: ")) << msg;
}

TEST(PolicyBuildTest, MissingListsDir) {
  TempSetup s("nodir");
  std::string path = s.Config("[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"missing\"\n");
  auto p = Policy::Build(*LoadConfig(path));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("missing"));
  // The config's line that names the directory.
  EXPECT_THAT(std::string(p.status().message()), HasSubstr(path + ":4: [lists] dir"));
}

TEST(PolicyBuildTest, IpEntriesMatchLongestPrefixOnTheDestination) {
  TempSetup s("iprules");
  s.List("telegram", "telegram.org\nip:149.154.160.0/20\nip:2001:b28:f23d::/48\n");
  s.List("wide", "ip:149.154.0.0/16\n");
  std::string path = s.Config(
      "[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"lists\"\n[[policy]]\napps = [\"telegram\"]\n"
      "action = \"block\"\n[[policy]]\napps = [\"wide\"]\naction = \"log\"\n");
  auto p = Policy::Build(*LoadConfig(path));
  ASSERT_TRUE(p.ok()) << p.status();
  IpAddress dev = *IpAddress::Parse("10.1.2.3");
  Verdict v = (*p)->DecideIp(dev, *IpAddress::Parse("149.154.167.50"), k2025);
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(v.reason, Reason::kIp);
  ASSERT_TRUE(v.match);
  EXPECT_EQ(v.match.rule->text, "ip:149.154.160.0/20");
  EXPECT_EQ(v.match.rule->line, 2u);
  // Inside the /16 only: the less specific rule.
  v = (*p)->DecideIp(dev, *IpAddress::Parse("149.154.1.1"), k2025);
  EXPECT_EQ(v.action, Action::kLog);
  EXPECT_EQ(v.match.rule->text, "ip:149.154.0.0/16");
  v = (*p)->DecideIp(dev, *IpAddress::Parse("2001:b28:f23d:1::a"), k2025);
  EXPECT_EQ(v.action, Action::kBlock);
  v = (*p)->DecideIp(dev, *IpAddress::Parse("8.8.8.8"), k2025);
  EXPECT_FALSE(v.match);
  EXPECT_EQ(v.reason, Reason::kNoMatch);
  // Unmanaged devices are not policed.
  v = (*p)->DecideIp(*IpAddress::Parse("198.51.100.7"), *IpAddress::Parse("149.154.167.50"), k2025);
  EXPECT_EQ(v.reason, Reason::kUnmanaged);
  EXPECT_EQ(v.action, Action::kAllow);
}

TEST(PolicyBuildTest, BadIpEntryNamesListFileLine) {
  TempSetup s("badip");
  s.List("telegram", "telegram.org\nip:149.154.160.0/33\n");
  std::string path = s.Config("[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"lists\"\n");
  auto p = Policy::Build(*LoadConfig(path));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr((s.dir() / "lists" / "telegram.list").string() + ":2: "));
}

TEST(PolicyBuildTest, DefaultDeployConfigBuilds) {
  auto c = LoadConfig(std::string(VIGIE_SOURCE_DIR) + "/deploy/vigie.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  auto p = Policy::Build(*std::move(c));
  ASSERT_TRUE(p.ok()) << p.status();
  DomainBuf b;
  NormalizeDomain("www.tiktok.com", &b);
  Verdict v = (*p)->Decide(*IpAddress::Parse("10.1.2.3"), b.view(), k2025);
  EXPECT_EQ(v.action, Action::kBlock);
}

}  // namespace
}  // namespace vigie
