// Matcher::MatchAll: every rule covering a name, most specific first, with
// Match()'s winner among them.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lists/matcher.h"

namespace vigie {
namespace {

AppList List(std::string app, bool allow, std::vector<std::string> entries) {
  AppList l;
  l.app = app;
  l.allow = allow;
  l.file = app + ".list";
  uint32_t line = 0;
  for (std::string& e : entries) {
    Rule r;
    r.line = ++line;
    r.text = e;
    r.file = l.file;
    r.exact = e.rfind("full:", 0) == 0;
    r.domain = r.exact ? e.substr(5) : e;
    r.pattern = !r.exact && r.domain.find('*') != std::string::npos;
    l.rules.push_back(std::move(r));
  }
  return l;
}

std::string All(const Matcher& m, std::string_view name) {
  std::string s;
  for (const RuleMatch& r : m.MatchAll(name)) {
    if (!s.empty()) s += ' ';
    s += m.app_name(r.app) + ":" + r.rule->text + "@" + std::to_string(r.rule->line);
  }
  return s.empty() ? "-" : s;
}

TEST(MatcherAllTest, EveryCandidateAlongTheLabelPath) {
  auto built = Matcher::Build({
      List("tiktok", false, {"tiktok.com", "full:www.tiktok.com", "cdn.tiktok.com", "p16-*.tiktokcdn.com",
                             "tiktokcdn.com"}),
      List("olvid", true, {"olvid.io"}),
      List("shadow", false, {"tiktok.com", "api.tiktok.com"}),
  });
  ASSERT_TRUE(built.ok()) << built.status();
  const Matcher& m = **built;
  EXPECT_EQ(All(m, "tiktok.com"), "tiktok:tiktok.com@1 shadow:tiktok.com@1");
  EXPECT_EQ(All(m, "www.tiktok.com"), "tiktok:full:www.tiktok.com@2 tiktok:tiktok.com@1 shadow:tiktok.com@1");
  EXPECT_EQ(All(m, "a.cdn.tiktok.com"), "tiktok:cdn.tiktok.com@3 tiktok:tiktok.com@1 shadow:tiktok.com@1");
  EXPECT_EQ(All(m, "x.www.tiktok.com"), "tiktok:tiktok.com@1 shadow:tiktok.com@1");  // full: is exact
  EXPECT_EQ(All(m, "p16-sign.tiktokcdn.com"), "tiktok:p16-*.tiktokcdn.com@4 tiktok:tiktokcdn.com@5");
  EXPECT_EQ(All(m, "a.p16-sign.tiktokcdn.com"), "tiktok:tiktokcdn.com@5");  // one label only
  // Label boundaries: a look-alike matches nothing.
  EXPECT_EQ(All(m, "nottiktok.com"), "-");
  EXPECT_EQ(All(m, "tiktok.com.evil.net"), "-");
  EXPECT_EQ(All(m, "chat.olvid.io"), "olvid:olvid.io@1");
  // Match()'s winner is the first candidate for every name above.
  for (const char* n : {"tiktok.com", "www.tiktok.com", "a.cdn.tiktok.com", "p16-sign.tiktokcdn.com",
                        "chat.olvid.io", "api.tiktok.com"}) {
    const auto all = m.MatchAll(n);
    ASSERT_FALSE(all.empty()) << n;
    const RuleMatch w = m.Match(n);
    bool found = false;
    for (const RuleMatch& r : all) found |= r.rule == w.rule;
    EXPECT_TRUE(found) << n;
  }
}

}  // namespace
}  // namespace vigie
