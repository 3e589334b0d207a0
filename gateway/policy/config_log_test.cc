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

TEST(ConfigLogTest, SizeRotation) {
  auto c = Parse("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_max_bytes, 0u);
  EXPECT_EQ(c->log_keep, 0u);
  c = Parse("max_bytes = 1048576\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_max_bytes, 1048576u);
  EXPECT_EQ(c->log_keep, kDefaultLogKeep);
  EXPECT_EQ(c->log_max_bytes_line, 9u);
  c = Parse("max_bytes = 4096\nkeep = 1000\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_max_bytes, 4096u);
  EXPECT_EQ(c->log_keep, kMaxLogKeep);
  c = Parse("max_bytes = 0\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_max_bytes, 0u);
}

TEST(ConfigLogTest, ErrorsNameTheLine) {
  ExpectErrorAt("max_bytes = 4095\n", 9, "at least 4096");
  ExpectErrorAt("\nmax_bytes = -1\n", 10, "'max_bytes' must be an integer");
  ExpectErrorAt("max_bytes = \"10M\"\n", 9, "'max_bytes' must be an integer");
  ExpectErrorAt("max_bytes = 1099511627777\n", 9, "'max_bytes' must be an integer");
  ExpectErrorAt("max_bytes = 65536\nkeep = 0\n", 10, "'keep' must be an integer in [1, 1000]");
  ExpectErrorAt("max_bytes = 65536\nkeep = 1001\n", 10, "'keep' must be an integer in [1, 1000]");
  ExpectErrorAt("keep = 3\n", 9, "'keep' needs 'max_bytes'");
  ExpectErrorAt("format = \"suricata\"\n", 9, "not 'suricata'");
  ExpectErrorAt("\ncommunity_id_seed = 65536\n", 10, "[0, 65535]");
  ExpectErrorAt("community_id_seed = -1\n", 9, "[0, 65535]");
  ExpectErrorAt("dedup_seconds = 86401\n", 9, "[0, 86400]");
  ExpectErrorAt("dedup_seconds = \"60\"\n", 9, "dedup_seconds");
  ExpectErrorAt("dedup = 60\n", 9, "unknown key 'dedup'");
}

}  // namespace
}  // namespace vigie
