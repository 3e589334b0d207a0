#include "gateway/cli/reload_keys.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

using ::testing::ElementsAre;

absl::StatusOr<Config> Parse(const std::string& extra) {
  return ParseConfig("[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"/srv/lists\"\n" + extra, "/x.toml");
}

TEST(ReloadKeysTest, PolicyChangesApplyOthersAreNamed) {
  auto a = Parse("[gateway]\nqueues = [0]\n[log]\nformat = \"vigie\"\n");
  ASSERT_TRUE(a.ok()) << a.status();
  // Scope, policies and [inspect] are part of the snapshot: nothing to name.
  auto same = Parse("[gateway]\nqueues = [0]\n[log]\nformat = \"vigie\"\n[inspect]\nech = \"block\"\n");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(UnappliedReloadKeys(*a, *same).empty());
  auto b = Parse("[gateway]\nqueues = [0, 1]\n[log]\nformat = \"eve\"\ndedup_seconds = 60\n[flows]\nmax = 1000\n"
                 "[metrics]\nlisten = \"127.0.0.1:0\"\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(UnappliedReloadKeys(*a, *b), ElementsAre("[gateway] queues", "[log] format", "[log] dedup_seconds",
                                                       "[metrics] listen", "[flows] max"));
}

}  // namespace
}  // namespace vigie
