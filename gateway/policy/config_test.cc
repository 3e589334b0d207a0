#include "gateway/policy/config.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const char kPath[] = "/etc/vigie/test.toml";

// A minimal valid config; tests append or replace lines.
constexpr char kMinimal[] = R"(# line 1
[scope]
managed = ["10.0.0.0/8"]

[lists]
dir = "/srv/lists"
)";

absl::StatusOr<Config> Parse(const std::string& text) { return ParseConfig(text, kPath); }

// The error must name the file and the line.
void ExpectErrorAt(const std::string& text, int line, const std::string& what) {
  auto c = Parse(text);
  ASSERT_FALSE(c.ok()) << text;
  std::string msg(c.status().message());
  EXPECT_THAT(msg, StartsWith(std::string(kPath) + ":" + std::to_string(line) + ": ")) << msg;
  EXPECT_THAT(msg, HasSubstr(what)) << msg;
}

TEST(ConfigTest, DefaultDeployConfigLoads) {
  std::string path = std::string(VIGIE_SOURCE_DIR) + "/deploy/vigie.toml";
  auto c = LoadConfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->path, path);
  EXPECT_EQ(c->mode, "inline");
  EXPECT_EQ(c->queues, (std::vector<int>{0, 1}));
  EXPECT_EQ(c->interfaces, (std::vector<std::string>{"eth1"}));
  EXPECT_EQ(c->enforce, "inject");
  EXPECT_EQ(c->fail, "open");
  EXPECT_EQ(c->managed_text.size(), 4u);
  EXPECT_TRUE(c->managed.Contains(*IpAddress::Parse("192.168.1.10")));
  EXPECT_TRUE(c->managed.Contains(*IpAddress::Parse("fd12::1")));
  EXPECT_FALSE(c->managed.Contains(*IpAddress::Parse("8.8.8.8")));
  EXPECT_EQ(c->lists_dir, std::filesystem::path(std::string(VIGIE_SOURCE_DIR) + "/lists/apps").lexically_normal());
  // The policies DESIGN.md names (the file may grow more).
  ASSERT_GE(c->policies.size(), 3u);
  EXPECT_EQ(c->policies[0].action, Action::kBlock);
  EXPECT_EQ(c->policies[0].apps.front(), "tiktok");
  EXPECT_EQ(c->policies[1].action, Action::kAllow);
  EXPECT_EQ(c->policies[1].apps.front(), "olvid");
  EXPECT_GT(c->policies[1].line, c->policies[0].line);
  bool facebook_logged = false;
  for (const PolicyRule& p : c->policies) {
    facebook_logged |= p.apps == std::vector<std::string>{"facebook"} && p.action == Action::kLog;
  }
  EXPECT_TRUE(facebook_logged);
  EXPECT_EQ(c->block_answer, "nxdomain");
  EXPECT_EQ(c->sinkhole_v4.ToString(), "0.0.0.0");
  EXPECT_EQ(c->sinkhole_v6.ToString(), "::");
  EXPECT_EQ(c->log_path, "-");
  EXPECT_EQ(c->log_mode, LogMode::kDecisions);
}

TEST(ConfigTest, QueueLengthAndInspectPolicies) {
  auto c = Parse(std::string(kMinimal) +
                 "[gateway]\nqueue_length = 1024\n[inspect]\nech = \"block\"\nno_sni = \"log\"\ndot = \"allow\"\n"
                 "[dns]\nsvcb = \"nodata\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->queue_length, 1024u);
  EXPECT_EQ(c->ech_action, Action::kBlock);
  EXPECT_EQ(c->no_sni_action, Action::kLog);
  EXPECT_EQ(c->dot_action, Action::kAllow);
  EXPECT_TRUE(c->svcb_nodata);
  ExpectErrorAt(std::string(kMinimal) + "[gateway]\nqueue_length = 0\n", 8, "queue_length");
  ExpectErrorAt(std::string(kMinimal) + "[inspect]\nech = \"drop\"\n", 8, "ech");
  ExpectErrorAt(std::string(kMinimal) + "[dns]\nsvcb = \"yes\"\n", 8, "svcb");
}

TEST(ConfigTest, MinimalDefaults) {
  auto c = Parse(kMinimal);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->lists_dir, "/srv/lists");
  EXPECT_TRUE(c->policies.empty());
  EXPECT_EQ(c->log_mode, LogMode::kDecisions);
  EXPECT_EQ(c->malformed_action, Action::kAllow);
  EXPECT_EQ(c->dns_ports, (std::vector<uint16_t>{53, 5353, 5355}));
}

TEST(ConfigTest, FullConfig) {
  auto c = Parse(std::string(kMinimal) + R"(
[[policy]]
apps = ["tiktok", "twitter"]
action = "block"

[[policy]]
apps = ["olvid"]
action = "allow"

[dns]
block_answer = "sinkhole"
sinkhole_v4 = "10.9.9.9"
sinkhole_v6 = "fd00::53"
ports = [53, 5300]
any_port = false

[[exception]]
id = "press-office-twitter"
devices = ["10.20.5.17/32", "fd00::/64"]
apps = ["twitter"]
until = "2026-12-31"
reason = "public communication"
ticket = "SEC-1234"

[[exception]]
id = "lab"
devices = ["10.99.0.0/16"]
until = 2027-01-15
action = "allow"

[log]
path = "logs/decisions.jsonl"
mode = "all"
syslog = "udp://127.0.0.1:514"

[metrics]
listen = "127.0.0.1:9108"

[flows]
max = 1000
reassembly_buffers = 10
tcp_idle_seconds = 30
udp_idle_seconds = 5

[inspect]
malformed = "block"
)");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->policies.size(), 2u);
  EXPECT_EQ(c->policies[0].line, 8u);
  EXPECT_EQ(c->sinkhole_v4.ToString(), "10.9.9.9");
  EXPECT_EQ(c->sinkhole_v6.ToString(), "fd00::53");
  EXPECT_EQ(c->dns_ports, (std::vector<uint16_t>{53, 5300}));
  EXPECT_FALSE(c->dns_any_port);
  ASSERT_EQ(c->exceptions.size(), 2u);
  const ExceptionRule& x = c->exceptions[0];
  EXPECT_EQ(x.id, "press-office-twitter");
  EXPECT_TRUE(x.devices.Contains(*IpAddress::Parse("10.20.5.17")));
  EXPECT_FALSE(x.devices.Contains(*IpAddress::Parse("10.20.5.18")));
  EXPECT_TRUE(x.devices.Contains(*IpAddress::Parse("fd00::99")));
  EXPECT_EQ(x.apps, (std::vector<std::string>{"twitter"}));
  ASSERT_TRUE(x.until_us.has_value());
  EXPECT_EQ(*x.until_us, 1798761600ull * 1'000'000);  // 2027-01-01T00:00:00Z
  EXPECT_EQ(x.until_text, "2026-12-31");
  EXPECT_EQ(x.ticket, "SEC-1234");
  EXPECT_EQ(x.action, Action::kLog);
  EXPECT_EQ(c->exceptions[1].action, Action::kAllow);
  EXPECT_EQ(c->exceptions[1].until_text, "2027-01-15");  // a TOML date works too
  EXPECT_EQ(c->log_path, "/etc/vigie/logs/decisions.jsonl");
  EXPECT_EQ(c->log_mode, LogMode::kAll);
  EXPECT_EQ(c->syslog, "udp://127.0.0.1:514");
  EXPECT_EQ(c->metrics_listen, "127.0.0.1:9108");
  EXPECT_EQ(c->flows.max_flows, 1000u);
  EXPECT_EQ(c->flows.reassembly_buffers, 10u);
  EXPECT_EQ(c->flows.tcp_idle_us, 30'000'000u);
  EXPECT_EQ(c->flows.udp_idle_us, 5'000'000u);
  EXPECT_EQ(c->malformed_action, Action::kBlock);
}

TEST(ConfigTest, UntilIsTheEndOfThatDayUtc) {
  for (auto [date, end_s] : std::vector<std::pair<std::string, uint64_t>>{
           {"2026-12-31", 1798761600},  // -> 2027-01-01
           {"2024-02-29", 1709251200},  // leap day -> 2024-03-01
           {"2026-02-28", 1772323200},  // -> 2026-03-01
       }) {
    auto c = Parse(std::string(kMinimal) + "[[exception]]\nid = \"x\"\napps = [\"a\"]\nuntil = \"" + date + "\"\n");
    ASSERT_TRUE(c.ok()) << date << ": " << c.status();
    EXPECT_EQ(*c->exceptions[0].until_us, end_s * 1'000'000) << date;
  }
}

// ---- Every error names file:line ----------------------------------------------------

TEST(ConfigErrorTest, TomlSyntaxError) {
  ExpectErrorAt(std::string(kMinimal) + "\n[log]\nmode = \"all\n", 9, "");
  ExpectErrorAt("[scope]\nmanaged = [\"10.0.0.0/8\",\n\n", 3, "end-of-file");
}

TEST(ConfigErrorTest, UnknownSection) {
  ExpectErrorAt(std::string(kMinimal) + "\n[gatway]\nmode = \"inline\"\n", 8, "unknown key 'gatway'");
}

TEST(ConfigErrorTest, UnknownKeyTypo) {
  ExpectErrorAt(std::string(kMinimal) + "\n[[policy]]\napps = [\"tiktok\"]\nacton = \"block\"\n", 10,
                "unknown key 'acton'");
  ExpectErrorAt(std::string(kMinimal) + "\n[log]\nmod = \"all\"\n", 9, "unknown key 'mod'");
  ExpectErrorAt("[scope]\nmanaged = [\"10.0.0.0/8\"]\nmanged = []\n[lists]\ndir = \"x\"\n", 3,
                "unknown key 'manged'");
}

TEST(ConfigErrorTest, PolicyWithoutAction) {
  ExpectErrorAt(std::string(kMinimal) + "\n[[policy]]\napps = [\"tiktok\"]\n", 8, "needs apps and action");
}

TEST(ConfigErrorTest, BadAction) {
  ExpectErrorAt(std::string(kMinimal) + "\n[[policy]]\napps = [\"tiktok\"]\naction = \"deny\"\n", 10,
                "must be block, log or allow, not 'deny'");
}

TEST(ConfigErrorTest, BadCidrInManaged) {
  ExpectErrorAt("[scope]\nmanaged = [\n  \"10.0.0.0/8\",\n  \"10.0.0.0/33\",\n]\n[lists]\ndir = \"x\"\n", 4,
                "10.0.0.0/33");
  ExpectErrorAt("[scope]\nmanaged = [\"10.0.0.0/8\", \"not-a-net\"]\n[lists]\ndir = \"x\"\n", 2, "not-a-net");
  ExpectErrorAt("[scope]\nmanaged = [\"fc00::/129\"]\n[lists]\ndir = \"x\"\n", 2, "fc00::/129");
}

TEST(ConfigErrorTest, MissingManaged) {
  ExpectErrorAt("[lists]\ndir = \"x\"\n", 1, "managed is missing");
  ExpectErrorAt("[scope]\nmanaged = []\n[lists]\ndir = \"x\"\n", 1, "managed is missing");
}

TEST(ConfigErrorTest, MissingListsDir) { ExpectErrorAt("[scope]\nmanaged = [\"10.0.0.0/8\"]\n", 1, "dir is missing"); }

TEST(ConfigErrorTest, ExceptionWithoutId) {
  ExpectErrorAt(std::string(kMinimal) + "\n[[exception]]\ndevices = [\"10.1.0.0/16\"]\n", 8, "needs an id");
}

TEST(ConfigErrorTest, ExceptionWithNeitherDevicesNorApps) {
  ExpectErrorAt(std::string(kMinimal) + "\n[[exception]]\nid = \"all\"\n", 8, "names neither devices nor apps");
}

TEST(ConfigErrorTest, BadUntilDate) {
  std::string head = std::string(kMinimal) + "\n[[exception]]\nid = \"x\"\napps = [\"twitter\"]\n";
  ExpectErrorAt(head + "until = \"2026-02-30\"\n", 11, "2026-02-30");
  ExpectErrorAt(head + "until = \"2026-04-31\"\n", 11, "2026-04-31");
  ExpectErrorAt(head + "until = \"2025-02-29\"\n", 11, "2025-02-29");
  ExpectErrorAt(head + "until = \"2026-13-01\"\n", 11, "2026-13-01");
  ExpectErrorAt(head + "until = \"2026-12-31x\"\n", 11, "2026-12-31x");
  ExpectErrorAt(head + "until = \"tomorrow\"\n", 11, "tomorrow");
}

TEST(ConfigErrorTest, DuplicateExceptionId) {
  ExpectErrorAt(std::string(kMinimal) +
                    "\n[[exception]]\nid = \"x\"\napps = [\"a\"]\n\n[[exception]]\nid = \"x\"\napps = [\"b\"]\n",
                13, "duplicate exception id 'x'");
}

TEST(ConfigErrorTest, ExceptionActionBlock) {
  ExpectErrorAt(std::string(kMinimal) + "\n[[exception]]\nid = \"x\"\napps = [\"a\"]\naction = \"block\"\n", 11,
                "log or allow");
}

TEST(ConfigErrorTest, BadExceptionDevice) {
  ExpectErrorAt(std::string(kMinimal) + "\n[[exception]]\nid = \"x\"\ndevices = [\"10.1.2.300\"]\n", 10,
                "10.1.2.300");
}

TEST(ConfigErrorTest, BadSinkholeAddress) {
  ExpectErrorAt(std::string(kMinimal) + "\n[dns]\nsinkhole_v4 = \"::1\"\n", 9, "'sinkhole_v4' must be an IPv4");
  ExpectErrorAt(std::string(kMinimal) + "\n[dns]\nsinkhole_v6 = \"0.0.0.0\"\n", 9, "'sinkhole_v6' must be an IPv6");
  ExpectErrorAt(std::string(kMinimal) + "\n[dns]\nsinkhole_v4 = \"sinkhole\"\n", 9, "IPv4");
}

TEST(ConfigErrorTest, OtherBadValues) {
  ExpectErrorAt(std::string(kMinimal) + "\n[gateway]\nmode = \"bridge\"\n", 9, "not 'bridge'");
  ExpectErrorAt(std::string(kMinimal) + "\n[gateway]\nqueues = [0, 70000]\n", 9, "queues");
  ExpectErrorAt(std::string(kMinimal) + "\n[log]\nmode = \"verbose\"\n", 9, "not 'verbose'");
  ExpectErrorAt(std::string(kMinimal) + "\n[log]\nsyslog = \"127.0.0.1:514\"\n", 9, "udp://");
  ExpectErrorAt(std::string(kMinimal) + "\n[flows]\nmax = 0\n", 9, "'max'");
  ExpectErrorAt(std::string(kMinimal) + "\n[dns]\nports = [0]\n", 9, "'ports'");
  ExpectErrorAt("policy = \"block\"\n" + std::string(kMinimal), 1, "[[policy]]");
}

// ---- Paths --------------------------------------------------------------------------

TEST(ConfigTest, RelativeListsDirResolvedAgainstTheConfigDirectory) {
  auto c = ParseConfig("[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"../lists/apps\"\n",
                       "/opt/vigie/etc/vigie.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->lists_dir, "/opt/vigie/lists/apps");
  c = ParseConfig("[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"lists\"\n", "/opt/vigie/etc/vigie.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->lists_dir, "/opt/vigie/etc/lists");
  c = ParseConfig("[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"/abs/lists\"\n", "/opt/vigie/etc/vigie.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->lists_dir, "/abs/lists");
}

TEST(ConfigTest, LoadConfigFromDiskResolvesRelativeToTheFile) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / "vigie_config_test";
  fs::create_directories(dir / "conf");
  fs::path file = dir / "conf" / "v.toml";
  std::ofstream(file) << "[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"../lists\"\n";
  auto c = LoadConfig(file.string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(fs::path(c->lists_dir), (dir / "lists").lexically_normal());
  fs::remove_all(dir);
}

TEST(ConfigTest, MissingFileIsAnError) {
  auto c = LoadConfig("/nonexistent/vigie.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("/nonexistent/vigie.toml"));
}

}  // namespace
}  // namespace vigie
