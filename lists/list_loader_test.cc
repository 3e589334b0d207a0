#include "lists/list_loader.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TestData(const std::string& name) {
  return std::string(VIGIE_SOURCE_DIR) + "/lists/testdata/" + name;
}

// "domain" or "full:domain" for each rule.
std::vector<std::string> Domains(const AppList& l) {
  std::vector<std::string> out;
  for (const Rule& r : l.rules) out.push_back((r.exact ? "full:" : "") + r.domain);
  return out;
}

AppList MustParse(std::string_view text) {
  auto l = ParseList(text, "app", "test.list", false);
  EXPECT_TRUE(l.ok()) << l.status();
  return l.ok() ? *std::move(l) : AppList{};
}

std::string ParseError(std::string_view text) {
  auto l = ParseList(text, "app", "test.list", false);
  return l.ok() ? "ok" : std::string(l.status().message());
}

TEST(ListLoaderTest, PlainFullCommentsAndRuleText) {
  AppList l = MustParse(
      "# header\n"
      "\n"
      "TikTok.com  # trailing comment\n"
      "full:www.Example.org.\n"
      "domain:v2fly.net\n"
      "  spaced.com  \r\n");
  EXPECT_THAT(Domains(l), ElementsAre("tiktok.com", "full:www.example.org", "v2fly.net",
                                      "spaced.com"));
  EXPECT_EQ(l.rules[0].text, "TikTok.com");
  EXPECT_EQ(l.rules[0].line, 3u);
  EXPECT_EQ(l.rules[0].file, "test.list");
  EXPECT_EQ(l.rules[1].text, "full:www.Example.org.");
  EXPECT_EQ(l.rules[3].line, 6u);
  EXPECT_EQ(l.app, "app");
}

TEST(ListLoaderTest, ByteOrderMarkIsIgnored) {
  EXPECT_THAT(Domains(MustParse("\xEF\xBB\xBFtiktok.com\n")), ElementsAre("tiktok.com"));
}

TEST(ListLoaderTest, HostsFormat) {
  AppList l = MustParse(
      "127.0.0.1 localhost\n"
      "::1 localhost ip6-localhost ip6-loopback\n"
      "fe00::0 ip6-localnet\n"
      "ff02::3 ip6-allhosts\n"
      "0.0.0.0 0.0.0.0\n"
      "0.0.0.0 a.com b.com\n"
      "192.0.2.1\tc.com\n"
      "fe80::1%lo0 d.com\n");
  EXPECT_THAT(Domains(l), ElementsAre("a.com", "b.com", "c.com", "d.com"));
  EXPECT_EQ(l.rules[1].line, 6u);
  EXPECT_THAT(ParseError("0.0.0.0\n"), HasSubstr("test.list:1: hosts line without a name"));
}

// Found by fuzz_replay_list: "0.0.0.0 0.20.0.0" loaded an entry that, written
// back, reads as a hosts line without a name. An address is never a name.
TEST(ListLoaderTest, AnAddressIsNotAName) {
  EXPECT_THAT(ParseError("a.com\n0.0.0.0 0.20.0.0\n"), HasSubstr("test.list:2: '0.20.0.0': an IPv4 address, not a name"));
  EXPECT_THAT(ParseError("||192.0.2.1^\n"), HasSubstr("test.list:1: '192.0.2.1': an IPv4 address"));
  EXPECT_THAT(ParseError("address=/198.51.100.7/0.0.0.0\n"), HasSubstr("an IPv4 address"));
  // Dotted numbers that are no address stay names, as resolvers treat them.
  EXPECT_THAT(Domains(MustParse("1.2.3\n0.0.0.0 1.2.3.4.5\n")), ElementsAre("1.2.3", "1.2.3.4.5"));
}

TEST(ListLoaderTest, AdblockFormat) {
  AppList l = MustParse("[Adblock Plus 2.0]\n! c\n||a.com^\n||b.com^|\n||c.com^$important\n");
  EXPECT_THAT(Domains(l), ElementsAre("a.com", "b.com", "c.com"));
  EXPECT_THAT(ParseError("||a.com^\n@@||b.com^\n"), HasSubstr("test.list:2: adblock exception"));
  EXPECT_THAT(ParseError("example.com##.banner\n"), HasSubstr("test.list:1: adblock cosmetic"));
  EXPECT_THAT(ParseError("||a.com^$third-party\n"), HasSubstr("modifier '$third-party'"));
  EXPECT_THAT(ParseError("||a.com^$domain=b.com\n"), HasSubstr("not supported"));
  EXPECT_THAT(ParseError("||a.com/path^\n"), HasSubstr("not a domain name"));
  EXPECT_THAT(ParseError("||a.com^/path\n"), HasSubstr("with a path"));
  EXPECT_THAT(ParseError("||a.com\n"), HasSubstr("without '^'"));
  EXPECT_THAT(ParseError("||*.a.com^\n"), HasSubstr("test.list:1: '*.a.com': a leftmost label of only '*'"));
}

TEST(ListLoaderTest, LabelPatterns) {
  AppList l = MustParse(
      "*-tiktokcdn-com.akamaized.net\n"
      "||IGCDN-photos-*.akamaihd.net^\n"
      "tiktok.com\n");
  ASSERT_EQ(l.rules.size(), 3u);
  EXPECT_TRUE(l.rules[0].pattern);
  EXPECT_EQ(l.rules[0].domain, "*-tiktokcdn-com.akamaized.net");
  EXPECT_TRUE(l.rules[1].pattern);
  EXPECT_EQ(l.rules[1].domain, "igcdn-photos-*.akamaihd.net");
  EXPECT_EQ(l.rules[1].text, "||IGCDN-photos-*.akamaihd.net^");
  EXPECT_FALSE(l.rules[2].pattern);
  EXPECT_EQ(l.rules[1].source(), "test.list:2");
  EXPECT_THAT(ParseError("ok.com\na*b*.cdn.net\n"), HasSubstr("test.list:2: 'a*b*.cdn.net': a pattern holds one '*'"));
  EXPECT_THAT(ParseError("x.a*.cdn.net\n"), HasSubstr("only in the leftmost label"));
  EXPECT_THAT(ParseError("*.cdn.net\n"), HasSubstr("leftmost label of only '*'"));
  EXPECT_THAT(ParseError("tiktok*.com\n"), HasSubstr("at least two labels"));
  EXPECT_THAT(ParseError("full:a*.cdn.net\n"), HasSubstr("test.list:1: 'a*.cdn.net': '*' is allowed only"));
  EXPECT_THAT(ParseError("0.0.0.0 a*.cdn.net\n"), HasSubstr("'*' is allowed only"));
  EXPECT_THAT(ParseError("address=/a*.cdn.net/0.0.0.0\n"), HasSubstr("'*' is allowed only"));
  EXPECT_THAT(ParseError("a*\n"), HasSubstr("needs a parent"));
  EXPECT_THAT(ParseError("a/*.cdn.net\n"), HasSubstr("not a domain name pattern"));
}

TEST(ListLoaderTest, DnsmasqFormat) {
  AppList l = MustParse(
      "address=/a.com/0.0.0.0\n"
      "address=/b.com/c.com/::\n"
      "server=/d.com/127.0.0.1\n"
      "local=/e.com/\n");
  EXPECT_THAT(Domains(l), ElementsAre("a.com", "b.com", "c.com", "d.com", "e.com"));
  EXPECT_THAT(ParseError("address=/#/0.0.0.0\n"), HasSubstr("every domain"));
  EXPECT_THAT(ParseError("address=//0.0.0.0\n"), HasSubstr("without names"));
}

TEST(ListLoaderTest, ErrorsNameFileAndLine) {
  EXPECT_EQ(ParseError("ok.com\nnot a domain\n"), "test.list:2: expected one domain per line");
  EXPECT_EQ(ParseError("a..b\n"), "test.list:1: 'a..b': empty label");
  EXPECT_THAT(ParseError(std::string("x.com\ny\n") + std::string(64, 'a') + ".com\n"),
              HasSubstr("test.list:2: 'y': not a domain name"));
  EXPECT_THAT(ParseError(std::string(64, 'a') + ".com\n"),
              HasSubstr(std::string("test.list:1: '") + std::string(64, 'a') + ".com': label longer"));
  EXPECT_THAT(ParseError("localhost\n"), HasSubstr("not a domain name"));
  EXPECT_THAT(ParseError("*.a.com\n"), HasSubstr("test.list:1: '*.a.com': a leftmost label"));
  EXPECT_THAT(ParseError("keyword:tiktok\n"), HasSubstr("not a domain name"));
  EXPECT_THAT(ParseError("full:\n"), HasSubstr("empty name"));
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vigie_lists_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ListLoaderTest, LoadListDirSortedAllowAndFailure) {
  TempDir dir;
  dir.Write("twitter.list", "twitter.com\n");
  dir.Write("olvid.list", "olvid.io\n");
  dir.Write("notes.txt", "not a list\n");
  auto lists = LoadListDir(dir.path(), [](std::string_view app) { return app == "olvid"; });
  ASSERT_TRUE(lists.ok()) << lists.status();
  ASSERT_EQ(lists->size(), 2u);
  EXPECT_EQ((*lists)[0].app, "olvid");
  EXPECT_TRUE((*lists)[0].allow);
  EXPECT_EQ((*lists)[1].app, "twitter");
  EXPECT_FALSE((*lists)[1].allow);
  EXPECT_EQ((*lists)[1].rules[0].file, dir.path() + "/twitter.list");
  // Provenance for decisions: relative to the lists directory.
  EXPECT_EQ((*lists)[1].rules[0].rel_file, "twitter.list");
  EXPECT_EQ((*lists)[1].rules[0].source(), "twitter.list:1");
  EXPECT_EQ((*lists)[1].rel_file, "twitter.list");

  dir.Write("zz.list", "ok.com\nbad entry here\n");
  auto bad = LoadListDir(dir.path(), [](std::string_view) { return false; });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), dir.path() + "/zz.list:2: expected one domain per line");

  EXPECT_FALSE(LoadListDir(dir.path() + "/missing", [](std::string_view) { return false; }).ok());
  EXPECT_FALSE(LoadListFile(dir.path() + "/missing.list", "m", false).ok());
}

// Each importer turns its sample file into the same rules and so the same
// matches.
TEST(ListLoaderTest, EveryFormatImportsTheSameMatches) {
  const char* files[] = {"formats/plain.list", "formats/hosts.txt", "formats/adblock.txt",
                         "formats/dnsmasq.conf"};
  std::vector<std::shared_ptr<const Matcher>> matchers;
  std::vector<std::string> want = {"tiktok.com",        "tiktokcdn.com",   "musical.ly",
                                   "xn--bcher-kva.de",  "ads.example.co.uk", "tracker.gouv.fr",
                                   "byteoversea.com"};
  for (const char* f : files) {
    auto l = LoadListFile(TestData(f), "tiktok", false);
    ASSERT_TRUE(l.ok()) << l.status();
    EXPECT_EQ(Domains(*l), want) << f;
    auto m = Matcher::Build({*std::move(l)});
    ASSERT_TRUE(m.ok()) << m.status();
    matchers.push_back(*m);
  }
  const char* queries[] = {"tiktok.com",       "www.TikTok.com.",   "nottiktok.com",
                           "v16.tiktokcdn.com", "musical.ly",        "www.bücher.de",
                           "xn--bcher-kva.de",  "ads.example.co.uk", "example.co.uk",
                           "x.tracker.gouv.fr", "gouv.fr",           "byteoversea.com",
                           "localhost",         "0.0.0.0",           "ip6-localnet"};
  for (const char* q : queries) {
    RuleMatch first = matchers[0]->MatchRaw(q);
    for (size_t i = 1; i < matchers.size(); ++i) {
      RuleMatch r = matchers[i]->MatchRaw(q);
      ASSERT_EQ(bool(first), bool(r)) << q << " in " << files[i];
      if (!r) continue;
      EXPECT_EQ(r.app, first.app);
      EXPECT_EQ(r.allow, first.allow);
      EXPECT_EQ(r.rule->domain, first.rule->domain) << q << " in " << files[i];
      EXPECT_EQ(r.rule->exact, first.rule->exact);
      EXPECT_EQ(r.rule->file, TestData(files[i]));
      EXPECT_GT(r.rule->line, 0u);
    }
  }
  EXPECT_TRUE(matchers[0]->MatchRaw("www.TikTok.com."));
  EXPECT_FALSE(matchers[0]->MatchRaw("nottiktok.com"));
}

}  // namespace
}  // namespace vigie
