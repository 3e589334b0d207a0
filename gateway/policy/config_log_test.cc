// The [log] section's output keys: format, community_id_seed, dedup_seconds.
#include <string>

#include "gateway/policy/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const char kPath[] = "/etc/vigie/log.toml";
constexpr char kMinimal[] = R"(# line 1
[scope]
managed = ["10.0.0.0/8"]

[lists]
dir = "/srv/lists"

[log]
)";

absl::StatusOr<Config> Parse(const std::string& extra) { return ParseConfig(std::string(kMinimal) + extra, kPath); }

void ExpectErrorAt(const std::string& extra, int line, const std::string& what) {
  auto c = Parse(extra);
  ASSERT_FALSE(c.ok()) << extra;
  const std::string msg(c.status().message());
  EXPECT_THAT(msg, StartsWith(std::string(kPath) + ":" + std::to_string(line) + ": ")) << msg;
  EXPECT_THAT(msg, HasSubstr(what)) << msg;
}

TEST(ConfigLogTest, Defaults) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_format, LogFormat::kVigie);
  EXPECT_EQ(c->community_id_seed, 0);
  EXPECT_EQ(c->dedup_seconds, 0u);
}

TEST(ConfigLogTest, ReadsFormatSeedAndDedup) {
  auto c = Parse("format = \"eve\"\ncommunity_id_seed = 65535\ndedup_seconds = 86400\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_format, LogFormat::kEve);
  EXPECT_EQ(c->community_id_seed, 65535);
  EXPECT_EQ(c->dedup_seconds, kMaxDedupSeconds);
  c = Parse("format = \"vigie\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_format, LogFormat::kVigie);
}

TEST(ConfigLogTest, ErrorsNameTheLine) {
  ExpectErrorAt("format = \"suricata\"\n", 9, "not 'suricata'");
  ExpectErrorAt("\ncommunity_id_seed = 65536\n", 10, "[0, 65535]");
  ExpectErrorAt("community_id_seed = -1\n", 9, "[0, 65535]");
  ExpectErrorAt("dedup_seconds = 86401\n", 9, "[0, 86400]");
  ExpectErrorAt("dedup_seconds = \"60\"\n", 9, "dedup_seconds");
  ExpectErrorAt("dedup = 60\n", 9, "unknown key 'dedup'");
}

}  // namespace
}  // namespace vigie
