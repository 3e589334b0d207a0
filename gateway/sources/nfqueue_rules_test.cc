#include "gateway/sources/nfqueue_rules.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const char kPath[] = "/etc/vigie/rules-test.toml";

Config Parse(const std::string& extra_gateway, const std::string& managed = R"("10.20.5.0/24", "fd00:20::/64")",
             const std::string& extra = "") {
  std::string text = "[gateway]\nmode = \"inline\"\n" + extra_gateway + "\n[scope]\nmanaged = [" + managed +
                     "]\n[lists]\ndir = \"/srv/lists\"\n" + extra;
  auto c = ParseConfig(text, kPath);
  EXPECT_TRUE(c.ok()) << c.status() << "\n" << text;
  return c.ok() ? *c : Config{};
}

// The rule lines (no comments, no blank lines).
std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  for (absl::string_view l : absl::StrSplit(s, '\n')) {
    if (!l.empty() && l[0] != '#') out.emplace_back(l);
  }
  return out;
}

size_t IndexOf(const std::vector<std::string>& lines, const std::string& line) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] == line) return i;
  }
  ADD_FAILURE() << "missing line: " << line;
  return lines.size();
}

constexpr char kBalanceOpen[] = "-j NFQUEUE --queue-balance 0:1 --queue-bypass";

TEST(NfqueueRulesTest, IptablesIpv4BalancedFailOpenIsTheWholeRuleSet) {
  Config c = Parse("queues = [0, 1]\nfail = \"open\"");
  auto r = IptablesRules(c, IpFamily::kIpv4);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string q = kBalanceOpen;
  std::vector<std::string> want = {
      "*filter",
      ":VIGIE - [0:0]",
      ":VIGIE_INSPECT - [0:0]",
      "-A VIGIE -m mark --mark 0x2/0x3 -j CONNMARK --save-mark --nfmask 0x3 --ctmask 0x3",
      "-A VIGIE -m mark --mark 0x2/0x3 -j DROP",
      "-A VIGIE -m mark --mark 0x1/0x3 -j CONNMARK --save-mark --nfmask 0x3 --ctmask 0x3",
      "-A VIGIE -m mark --mark 0x1/0x3 -j RETURN",
      "-A VIGIE -m connmark --mark 0x2/0x3 -j DROP",
      "-A VIGIE -s 10.20.5.0/24 -m conntrack --ctdir ORIGINAL -j VIGIE_INSPECT",
      "-A VIGIE_INSPECT -p udp -m multiport --dports 53,5353,5355 " + q,
      "-A VIGIE_INSPECT -p tcp -m multiport --dports 53,5353,5355 " + q,
      "-A VIGIE_INSPECT -p tcp -m connmark --mark 0x0/0x3 " + q,
      "-A VIGIE_INSPECT -p udp -m connmark --mark 0x0/0x3 " + q,
      "-I FORWARD 1 -j VIGIE",
      "COMMIT",
  };
  EXPECT_EQ(Lines(*r), want) << *r;
  EXPECT_THAT(*r, HasSubstr(kPath));  // the header says where it came from
}

TEST(NfqueueRulesTest, NoFixedPacketCountAndNoPortListForInspection) {
  // Regression (issue 9): the shipped rules queued ports 53/80/443 and the
  // first 10 packets only.
  Config c = Parse("queues = [0, 1]");
  auto r = IptablesRules(c, IpFamily::kIpv4);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, Not(HasSubstr("connbytes")));
  EXPECT_THAT(*r, Not(HasSubstr("443")));
  EXPECT_THAT(*r, Not(HasSubstr("--dport ")));
}

TEST(NfqueueRulesTest, OnlyTheInspectChainQueuesAndOnlyManagedSourcesReachIt) {
  Config c = Parse("queues = [0, 1]", R"("10.20.5.0/24", "192.168.7.0/24", "fd00:20::/64")");
  for (IpFamily f : {IpFamily::kIpv4, IpFamily::kIpv6}) {
    auto r = IptablesRules(c, f);
    ASSERT_TRUE(r.ok());
    for (const std::string& l : Lines(*r)) {
      if (l.find("NFQUEUE") != std::string::npos) {
        EXPECT_EQ(l.rfind("-A VIGIE_INSPECT ", 0), 0u) << l;
      }
      if (l.find("-j VIGIE_INSPECT") != std::string::npos) {
        EXPECT_THAT(l, HasSubstr(" -s "));
        EXPECT_THAT(l, HasSubstr("--ctdir ORIGINAL"));  // replies never queued
      }
    }
  }
  auto v4 = IptablesRules(c, IpFamily::kIpv4);
  EXPECT_THAT(*v4, HasSubstr("-A VIGIE -s 192.168.7.0/24 -m conntrack --ctdir ORIGINAL -j VIGIE_INSPECT"));
  EXPECT_THAT(*v4, Not(HasSubstr("fd00:20::")));
  auto v6 = IptablesRules(c, IpFamily::kIpv6);
  EXPECT_THAT(*v6, HasSubstr("-A VIGIE -s fd00:20::/64 -m conntrack --ctdir ORIGINAL -j VIGIE_INSPECT"));
  EXPECT_THAT(*v6, Not(HasSubstr("10.20.5.")));
}

TEST(NfqueueRulesTest, VerdictRulesComeBeforeAnyQueueAndDnsBeforeAnyPort) {
  Config c = Parse("queues = [0, 1]");
  auto r = IptablesRules(c, IpFamily::kIpv4);
  ASSERT_TRUE(r.ok());
  std::vector<std::string> l = Lines(*r);
  size_t drop = IndexOf(l, "-A VIGIE -m connmark --mark 0x2/0x3 -j DROP");
  size_t jump = IndexOf(l, "-A VIGIE -s 10.20.5.0/24 -m conntrack --ctdir ORIGINAL -j VIGIE_INSPECT");
  size_t dns = IndexOf(l, std::string("-A VIGIE_INSPECT -p udp -m multiport --dports 53,5353,5355 ") + kBalanceOpen);
  size_t any = IndexOf(l, std::string("-A VIGIE_INSPECT -p udp -m connmark --mark 0x0/0x3 ") + kBalanceOpen);
  EXPECT_LT(drop, jump);
  EXPECT_LT(dns, any);
}

TEST(NfqueueRulesTest, SingleQueueFailClosedHasNoBypass) {
  Config c = Parse("queues = [3]\nfail = \"closed\"");
  auto r = IptablesRules(c, IpFamily::kIpv6);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, HasSubstr("-A VIGIE_INSPECT -p tcp -m connmark --mark 0x0/0x3 -j NFQUEUE --queue-num 3\n"));
  EXPECT_THAT(*r, Not(HasSubstr("bypass")));
  EXPECT_THAT(*r, Not(HasSubstr("balance")));
  auto n = NftRules(c);
  ASSERT_TRUE(n.ok());
  EXPECT_THAT(*n, HasSubstr("meta l4proto { tcp, udp } ct mark & 0x3 == 0x0 queue num 3\n"));
  EXPECT_THAT(*n, Not(HasSubstr("bypass")));
}

TEST(NfqueueRulesTest, NestedManagedPrefixesAreMergedIntoTheWiderOne) {
  Config c = Parse("queues = [0]", R"("10.1.0.0/16", "10.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "fd00::/8", "fd00:20::/64")");
  auto r = IptablesRules(c, IpFamily::kIpv4);
  ASSERT_TRUE(r.ok());
  std::vector<std::string> jumps;
  for (const std::string& l : Lines(*r)) {
    if (l.find("-j VIGIE_INSPECT") != std::string::npos) jumps.push_back(l);
  }
  EXPECT_EQ(jumps, (std::vector<std::string>{
                       "-A VIGIE -s 10.0.0.0/8 -m conntrack --ctdir ORIGINAL -j VIGIE_INSPECT",
                       "-A VIGIE -s 172.16.0.0/12 -m conntrack --ctdir ORIGINAL -j VIGIE_INSPECT",
                   }));
  auto n = NftRules(c);
  ASSERT_TRUE(n.ok());
  EXPECT_THAT(*n, HasSubstr("ip saddr { 10.0.0.0/8, 172.16.0.0/12 } ct direction original jump inspect\n"));
  EXPECT_THAT(*n, HasSubstr("ip6 saddr { fd00::/8 } ct direction original jump inspect\n"));
}

TEST(NfqueueRulesTest, ManyDnsPortsAreSplitAtTheMultiportLimit) {
  std::string ports;
  for (int p = 1000; p < 1020; ++p) ports += std::to_string(p) + ", ";  // 20 ports
  Config c = Parse("queues = [0]", R"("10.0.0.0/8")", "[dns]\nports = [" + ports + "53]\n");
  auto r = IptablesRules(c, IpFamily::kIpv4);
  ASSERT_TRUE(r.ok()) << r.status();
  int rules = 0;
  size_t ports_seen = 0;
  for (const std::string& l : Lines(*r)) {
    if (l.find("-p udp -m multiport") == std::string::npos) continue;
    ++rules;
    std::string list = l.substr(l.find("--dports ") + 9);
    list = list.substr(0, list.find(' '));
    size_t n = std::count(list.begin(), list.end(), ',') + 1;
    EXPECT_LE(n, kMultiportMax) << l;
    ports_seen += n;
  }
  EXPECT_EQ(rules, 2);
  EXPECT_EQ(ports_seen, 21u);
}

TEST(NfqueueRulesTest, NoDnsPortsLeavesOnlyAnyPortInspection) {
  Config c = Parse("queues = [0]", R"("10.0.0.0/8")", "[dns]\nports = []\n");
  auto r = IptablesRules(c, IpFamily::kIpv4);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, Not(HasSubstr("multiport")));
  EXPECT_THAT(*r, HasSubstr("-A VIGIE_INSPECT -p udp -m connmark --mark 0x0/0x3 -j NFQUEUE --queue-num 0 --queue-bypass"));
}

TEST(NfqueueRulesTest, NftRulesetStructure) {
  Config c = Parse("queues = [0, 1]\nfail = \"open\"");
  auto r = NftRules(c);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> want = {
      "table inet vigie",
      "delete table inet vigie",
      "table inet vigie {",
      "  chain forward {",
      "    type filter hook forward priority filter - 10; policy accept;",
      "    meta mark & 0x3 == 0x2 ct mark set ct mark & 0xfffffffc | 0x2 drop",
      "    meta mark & 0x3 == 0x1 ct mark set ct mark & 0xfffffffc | 0x1 accept",
      "    ct mark & 0x3 == 0x2 drop",
      "    ip saddr { 10.20.5.0/24 } ct direction original jump inspect",
      "    ip6 saddr { fd00:20::/64 } ct direction original jump inspect",
      "  }",
      "  chain inspect {",
      "    udp dport { 53, 5353, 5355 } queue num 0-1 bypass",
      "    tcp dport { 53, 5353, 5355 } queue num 0-1 bypass",
      "    meta l4proto { tcp, udp } ct mark & 0x3 == 0x0 queue num 0-1 bypass",
      "  }",
      "}",
  };
  std::vector<std::string> got;
  for (const std::string& l : Lines(*r)) {
    if (l.find_first_not_of(' ') != std::string::npos && l[l.find_first_not_of(' ')] != '#') got.push_back(l);
  }
  EXPECT_EQ(got, want) << *r;
}

TEST(NfqueueRulesTest, NftWithOnlyIpv4ManagedHasNoIpv6Jump) {
  Config c = Parse("queues = [0]", R"("10.0.0.0/8")");
  auto r = NftRules(c);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, Not(HasSubstr("ip6 saddr")));
  EXPECT_THAT(*r, HasSubstr("ip saddr { 10.0.0.0/8 }"));
}

TEST(NfqueueRulesTest, NonContiguousQueuesAreRefusedWithTheConfigPath) {
  Config c = Parse("queues = [0, 2]");
  auto r = IptablesRules(c, IpFamily::kIpv4);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(kPath));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("contiguous"));
  EXPECT_FALSE(NftRules(c).ok());
  Config d = Parse("queues = [1, 0]");
  EXPECT_FALSE(IptablesRules(d, IpFamily::kIpv4).ok());
}

TEST(NfqueueRulesTest, MonitorModeIsRefused) {
  Config c = Parse("queues = [0]");
  c.mode = "monitor";
  auto r = IptablesRules(c, IpFamily::kIpv4);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("monitor"));
  EXPECT_FALSE(NftRules(c).ok());
}

TEST(NfqueueRulesTest, ShippedNftExampleIsTheGeneratedRulesetForDeployConfig) {
  std::filesystem::current_path(VIGIE_SOURCE_DIR);  // the example names the config as deploy/vigie.toml
  auto c = LoadConfig("deploy/vigie.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  auto r = NftRules(*c);
  ASSERT_TRUE(r.ok()) << r.status();
  std::ifstream f("deploy/rules/vigie.nft");
  std::stringstream text;
  text << f.rdbuf();
  std::string shipped = text.str();
  size_t at = shipped.find("# Vigie inline rules");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(shipped.substr(at), *r)
      << "regenerate: build/vigie rules nft --config deploy/vigie.toml (see the file's first lines)";
}

}  // namespace
}  // namespace vigie
