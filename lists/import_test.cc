#include "lists/import.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lists/list_loader.h"

namespace vigie {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Sample(const std::string& name) {
  std::string path = std::string(VIGIE_SOURCE_DIR) + "/lists/testdata/import/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ImportResult MustImport(ImportFormat f, std::vector<ImportSource> src) {
  auto r = ImportLists(f, src);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : ImportResult{};
}

std::vector<std::string> Entries(const ImportResult& r) {
  std::vector<std::string> out;
  for (const ImportedEntry& e : r.entries) out.push_back(e.entry);
  return out;
}

// "file:line why-prefix" of each note.
std::vector<std::string> Notes(const std::vector<ImportNote>& v) {
  std::vector<std::string> out;
  for (const ImportNote& n : v) out.push_back(n.file + ":" + std::to_string(n.line) + " " + n.text);
  return out;
}

TEST(ImportTest, V2flyNetflixSample) {
  ImportResult r = MustImport(ImportFormat::kV2fly, {{"data/netflix", Sample("v2fly_netflix")}});
  EXPECT_THAT(Entries(r),
              ElementsAre("fast.com", "netflix.ca", "netflix.com", "netflix.net", "netflixinvestor.com",
                          "netflixtechblog.com", "nflxext.com", "nflximg.com", "nflximg.net",
                          "nflxsearch.net", "nflxso.net", "nflxvideo.net", "netflixdnstest0.com",
                          "netflixdnstest1.com", "netflixdnstest2.com", "netflixdnstest3.com",
                          "netflixdnstest4.com", "netflixdnstest5.com", "netflixdnstest6.com",
                          "netflixdnstest7.com", "netflixdnstest8.com", "netflixdnstest9.com",
                          "netflixdnstest10.com", "full:netflix.com.edgesuite.net"));
  ASSERT_EQ(r.skipped.size(), 4u);
  EXPECT_EQ(r.skipped[0].file, "data/netflix");
  EXPECT_EQ(r.skipped[0].line, 28u);
  EXPECT_THAT(r.skipped[0].why, HasSubstr("regexp:"));
  EXPECT_EQ(r.skipped[3].line, 31u);
  EXPECT_THAT(r.removed, IsEmpty());
}

TEST(ImportTest, V2flyTiktokAttributesCoverageAndInclude) {
  ImportResult r = MustImport(ImportFormat::kV2fly, {{"data/tiktok", Sample("v2fly_tiktok")},
                                                     {"data/x", Sample("v2fly_x")}});
  std::vector<std::string> e = Entries(r);
  EXPECT_EQ(e.size(), 35u);
  EXPECT_EQ(e.front(), "bytedapm.com");  // "@!cn" dropped
  EXPECT_THAT(e, ::testing::Contains("full:p16-tiktokcdn-com.akamaized.net"));
  EXPECT_THAT(e, ::testing::Contains("tiktokcdn.com.akamaized.net"));
  EXPECT_THAT(e, ::testing::Not(::testing::Contains("analytics.tiktok.com")));
  // analytics.tiktok.com @ads is under tiktok.com.
  EXPECT_THAT(Notes(r.removed), ElementsAre("data/tiktok:39 analytics.tiktok.com @ads"));
  EXPECT_THAT(r.removed[0].why, HasSubstr("covered by tiktok.com (data/tiktok:7)"));
  EXPECT_THAT(Notes(r.skipped), ElementsAre("data/x:1 include:twitter", "data/x:2 include:xai"));
  EXPECT_THAT(r.skipped[0].why, HasSubstr("include: is not followed"));
}

TEST(ImportTest, AdguardServicesSamples) {
  ImportResult r = MustImport(ImportFormat::kAdguardServices,
                              {{"services/tiktok.yml", Sample("adguard_tiktok.yml")}});
  std::vector<std::string> e = Entries(r);
  ASSERT_EQ(e.size(), 28u);
  EXPECT_EQ(e[0], "full:p16-tiktokcdn-com.akamaized.net");  // "|x^": the host only
  EXPECT_EQ(e[1], "amemv.com");
  EXPECT_EQ(e[4], "bytedance.map.fastly.net");
  EXPECT_EQ(e.back(), "p16-tiktok-*.ibyteimg.com");  // wildcard -> label pattern
  EXPECT_EQ(r.entries.back().line, 31u);
  EXPECT_THAT(Notes(r.narrowed), ElementsAre("services/tiktok.yml:31 ||p16-tiktok-*.ibyteimg.com^"));
  EXPECT_THAT(r.skipped, IsEmpty());
  // "||ttlivecdn.com.c.bytefcdn-oversea.com^" stays: not under ttlivecdn.com.
  EXPECT_THAT(e, ::testing::Contains("ttlivecdn.com.c.bytefcdn-oversea.com"));

  ImportResult n = MustImport(ImportFormat::kAdguardServices,
                              {{"services/netflix.yml", Sample("adguard_netflix.yml")}});
  EXPECT_EQ(Entries(n).size(), 23u);
  EXPECT_EQ(Entries(n)[0], "full:netflix.com.edgesuite.net");
  // "*" outside the leftmost label: skipped, with its line.
  EXPECT_THAT(Notes(n.skipped), ElementsAre("services/netflix.yml:5 ||dualstack.apiproxy-*.amazonaws.com^",
                                            "services/netflix.yml:6 ||dualstack.ichnaea-web-*.amazonaws.com^"));
  EXPECT_THAT(n.skipped[0].why, HasSubstr("wildcard"));
}

TEST(ImportTest, AdguardYamlOutsideTheSubsetFailsWithFileLine) {
  auto r = ImportLists(ImportFormat::kAdguardServices, {{"s.yml", "id: x\nrules:\n  - '||a.com^'\n  - [b]\n"}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("s.yml:4: YAML construct"));
  r = ImportLists(ImportFormat::kAdguardServices, {{"s.yml", "id: x\nrules: ['||a.com^']\n"}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("s.yml:2:"));
  r = ImportLists(ImportFormat::kAdguardServices, {{"s.yml", "id: x\nname: y\n"}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no top-level rules"));
  r = ImportLists(ImportFormat::kAdguardServices, {{"s.yml", "rules:\n  - 'a.com^\n"}});
  EXPECT_FALSE(r.ok());
  // Quoting variants inside the subset.
  ImportResult ok = MustImport(ImportFormat::kAdguardServices,
                               {{"s.yml", "rules:\n  - \"||a.com^\"\n  - ||b.com^ # c\n  - '||c.com^$important'\n"
                                          "group: z\n  - '||not-a-rule.com^'\n"}});
  EXPECT_THAT(Entries(ok), ElementsAre("a.com", "b.com", "c.com"));
}

TEST(ImportTest, AdblockShapes) {
  ImportResult r = MustImport(ImportFormat::kAdblock, {{"f.txt",
      "! comment\n"
      "[Adblock Plus 2.0]\n"
      "||a.com^\n"                     // 3
      "|https://b.com/\n"              // 4: full:
      "@@||c.com^\n"                   // 5: skipped
      "||d.com^$third-party\n"         // 6: skipped
      "||e.com^$important\n"           // 7
      "||f.com/path^\n"                // 8: skipped
      "||*.g.com^\n"                   // 9: skipped (bare *)
      "||p16-*.akamaized.net^\n"       // 10: pattern
      "||x*^\n"                        // 11: skipped
      "example.org\n"                  // 12: skipped (substring)
      "/ads[0-9]+/\n"                  // 13: skipped
      "example.org##.ad\n"             // 14: skipped
      "||sub.a.com^\n"                 // 15: covered
      "||a.com^\n"                     // 16: duplicate
      "||WWW.Bücher.de^\n"}});         // 17: IDN
  EXPECT_THAT(Entries(r), ElementsAre("a.com", "full:b.com", "e.com", "p16-*.akamaized.net",
                                      "www.xn--bcher-kva.de"));
  EXPECT_THAT(Notes(r.skipped), ElementsAre("f.txt:5 @@||c.com^", "f.txt:6 ||d.com^$third-party",
                                            "f.txt:8 ||f.com/path^", "f.txt:9 ||*.g.com^", "f.txt:11 ||x*^",
                                            "f.txt:12 example.org", "f.txt:13 /ads[0-9]+/",
                                            "f.txt:14 example.org##.ad"));
  EXPECT_THAT(Notes(r.removed), ElementsAre("f.txt:15 ||sub.a.com^", "f.txt:16 ||a.com^"));
  EXPECT_THAT(r.removed[1].why, HasSubstr("duplicate"));
}

TEST(ImportTest, HostsAndPlain) {
  ImportResult h = MustImport(ImportFormat::kHosts, {{"hosts",
      "127.0.0.1 localhost\n0.0.0.0 a.com www.a.com # c\n:: b.net\nnot a hosts line\n0.0.0.0 a.com\n"}});
  // hosts names hosts: full: each, so www.a.com is not covered by a.com.
  EXPECT_THAT(Entries(h), ElementsAre("full:a.com", "full:www.a.com", "full:b.net"));
  EXPECT_THAT(Notes(h.skipped), ElementsAre("hosts:1 localhost", "hosts:4 not a hosts line"));
  EXPECT_THAT(Notes(h.removed), ElementsAre("hosts:5 0.0.0.0 a.com"));

  ImportResult p = MustImport(ImportFormat::kPlain, {{"p.list",
      "# c\ntiktok.com\nfull:www.tiktok.com\nx-*.tiktok.com\np16-*.akamaized.net\nfull:v.akamaized.net\n"
      "*.bad.net\ntwo words\ncom\nfull:p16-sg.akamaized.net\nfull:a.p16-sg.akamaized.net\n"}});
  EXPECT_THAT(Entries(p), ElementsAre("tiktok.com", "p16-*.akamaized.net", "full:v.akamaized.net",
                                      "full:a.p16-sg.akamaized.net"));
  EXPECT_THAT(Notes(p.removed), ElementsAre("p.list:3 full:www.tiktok.com", "p.list:4 x-*.tiktok.com",
                                            "p.list:10 full:p16-sg.akamaized.net"));
  EXPECT_THAT(p.removed[2].why, HasSubstr("covered by p16-*.akamaized.net (p.list:5)"));
  EXPECT_THAT(Notes(p.skipped), ElementsAre("p.list:7 *.bad.net", "p.list:8 two words", "p.list:9 com"));
}

TEST(ImportTest, HostileFilesFailWithFileLine) {
  auto nul = ImportLists(ImportFormat::kPlain, {{"h", std::string("a.com\nb\0.com\n", 13)}});
  ASSERT_FALSE(nul.ok());
  EXPECT_THAT(std::string(nul.status().message()), HasSubstr("h:2: NUL byte"));
  std::string big = "a.com\nb.com\n" + std::string(10 * 1024 * 1024, 'a') + "\n";
  auto longline = ImportLists(ImportFormat::kV2fly, {{"h", big}});
  ASSERT_FALSE(longline.ok());
  EXPECT_THAT(std::string(longline.status().message()), HasSubstr("h:3: line longer than 65536"));
  // Exactly at the cap passes the text check (and is then skipped as a name).
  std::string at_cap(kMaxImportLineLength, 'a');
  auto cap = ImportLists(ImportFormat::kPlain, {{"h", at_cap + "\n"}});
  ASSERT_TRUE(cap.ok()) << cap.status();
  EXPECT_EQ(cap->skipped.size(), 1u);
  EXPECT_FALSE(ImportLists(ImportFormat::kPlain, {{"h", at_cap + "a\n"}}).ok());
  for (const char* bad : {"\xff.com", "a\xc3.com", "\xc0\xaf.com", "\xed\xa0\x80.com", "\xf4\x90\x80\x80"}) {
    auto u = ImportLists(ImportFormat::kAdblock, {{"h", std::string("||ok.com^\n||") + bad + "^\n"}});
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_THAT(std::string(u.status().message()), HasSubstr("h:2: invalid UTF-8"));
  }
  auto yml = ImportLists(ImportFormat::kAdguardServices, {{"s.yml", std::string("rules:\n  - '||a\0.com^'\n", 22)}});
  ASSERT_FALSE(yml.ok());
  EXPECT_THAT(std::string(yml.status().message()), HasSubstr("s.yml:2: NUL"));
}

TEST(ImportTest, WrittenListLoadsAndNamesItsSources) {
  ImportResult r = MustImport(ImportFormat::kAdguardServices,
                              {{"services/tiktok.yml", Sample("adguard_tiktok.yml")}});
  std::ostringstream out, report;
  WriteImportedList(r, {ImportFormat::kAdguardServices, "tiktok", "2026-12-01", {"services/tiktok.yml"}}, out);
  WriteImportReport(r, report);
  EXPECT_THAT(out.str(), HasSubstr("# Imported by vigie lists import --format adguard-services --app tiktok\n"
                                   "# Date: 2026-12-01\n# Source: services/tiktok.yml\n"));
  EXPECT_THAT(report.str(), HasSubstr("services/tiktok.yml:31: narrowed: ||p16-tiktok-*.ibyteimg.com^"));
  auto list = ParseList(out.str(), "tiktok", "tiktok.list", false);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->rules.size(), 28u);
  EXPECT_TRUE(list->rules.back().pattern);
  EXPECT_TRUE(list->rules.front().exact);
}

TEST(ImportTest, ImportFilesReadsPathsAndFormatsParse) {
  std::ostringstream out, report;
  std::string path = std::string(VIGIE_SOURCE_DIR) + "/lists/testdata/import/v2fly_netflix";
  ASSERT_TRUE(ImportFiles(ImportFormat::kV2fly, "netflix", {path}, "2026-01-02", out, report).ok());
  EXPECT_THAT(out.str(), HasSubstr("# Source: " + path));
  EXPECT_THAT(report.str(), HasSubstr("v2fly_netflix:28: skipped: regexp:"));
  EXPECT_FALSE(ImportFiles(ImportFormat::kV2fly, "", {path + ".missing"}, "", out, report).ok());
  for (const char* f : {"v2fly", "adguard-services", "adblock", "hosts", "plain"}) {
    auto p = ParseImportFormat(f);
    ASSERT_TRUE(p.ok()) << f;
    EXPECT_EQ(ImportFormatName(*p), f);
  }
  EXPECT_FALSE(ParseImportFormat("yaml").ok());
  EXPECT_EQ(TodayUtc().size(), 10u);
}

AppList L(std::string app, std::string text) {
  auto l = ParseList(text, app, app + ".list", false);
  EXPECT_TRUE(l.ok()) << l.status();
  return *l;
}

TEST(ImportTest, DiffListsPerApp) {
  std::vector<AppList> before = {L("tiktok", "tiktok.com\nfull:a.tiktokv.com\nip:1.2.3.0/24\n"),
                                 L("gone", "gone.com\n"), L("same", "same.com\n")};
  std::vector<AppList> after = {L("tiktok", "tiktok.com\np16-*.akamaized.net\nip:1.2.4.0/24\n"),
                                L("new", "new.com\n"), L("same", "# reordered\nsame.com\n")};
  std::vector<ListDiff> d = DiffLists(before, after);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].app, "gone");
  EXPECT_THAT(d[0].removed, ElementsAre("gone.com"));
  EXPECT_EQ(d[1].app, "new");
  EXPECT_THAT(d[1].added, ElementsAre("new.com"));
  EXPECT_EQ(d[2].app, "tiktok");
  EXPECT_THAT(d[2].added, ElementsAre("ip:1.2.4.0/24", "p16-*.akamaized.net"));
  EXPECT_THAT(d[2].removed, ElementsAre("full:a.tiktokv.com", "ip:1.2.3.0/24"));
  std::ostringstream out;
  WriteListDiff(d, out);
  EXPECT_THAT(out.str(), HasSubstr("tiktok: +p16-*.akamaized.net\n"));
  EXPECT_THAT(out.str(), HasSubstr("tiktok: -full:a.tiktokv.com\n"));
  EXPECT_THAT(out.str(), HasSubstr("tiktok: 2 added, 2 removed\n"));
}

TEST(ImportTest, DiffListPathsFilesAndDirs) {
  namespace fs = std::filesystem;
  fs::path base = fs::temp_directory_path() / ("vigie_diff_" + std::to_string(::getpid()));
  fs::create_directories(base / "old");
  fs::create_directories(base / "new");
  auto write = [](const fs::path& p, const std::string& s) { std::ofstream(p) << s; };
  write(base / "old" / "a.list", "a.com\n");
  write(base / "new" / "a.list", "a.com\nb.a2.com\n");
  write(base / "new" / "b.list", "b.com\n");
  auto d = DiffListPaths((base / "old").string(), (base / "new").string());
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_THAT((*d)[0].added, ElementsAre("b.a2.com"));
  EXPECT_EQ((*d)[1].app, "b");
  auto f = DiffListPaths((base / "old" / "a.list").string(), (base / "new" / "a.list").string());
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->size(), 1u);
  EXPECT_EQ((*f)[0].app, "a");
  EXPECT_FALSE(DiffListPaths((base / "old").string(), (base / "new" / "a.list").string()).ok());
  write(base / "new" / "bad.list", "not a domain\n");
  auto bad = DiffListPaths((base / "old").string(), (base / "new").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("bad.list:1"));
  fs::remove_all(base);
}

// An address in a hosts file's name column is skipped with a note, never
// imported as a name (written back it would read as a hosts line).
TEST(ImportTest, AnAddressInTheNameColumnIsSkipped) {
  auto r = ImportLists(ImportFormat::kHosts, {{"h.txt", "0.0.0.0 a.com\n0.0.0.0 0.20.0.0\n"}});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].entry, "full:a.com");  // a hosts name is exact
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].line, 2u);
  EXPECT_THAT(r->skipped[0].why, HasSubstr("an IPv4 address"));
}

}  // namespace
}  // namespace vigie
