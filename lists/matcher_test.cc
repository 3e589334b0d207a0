#include "lists/matcher.h"

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lists/domain.h"

namespace vigie {
namespace {

// Builds an AppList from "domain" / "full:domain" entries; line = position.
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

std::shared_ptr<const Matcher> MustBuild(std::vector<AppList> lists) {
  auto m = Matcher::Build(std::move(lists));
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : nullptr;
}

// "app:rule text" or "-" for no match.
std::string Describe(const Matcher& m, const RuleMatch& r) {
  if (!r) return "-";
  return m.app_name(r.app) + ":" + r.rule->text;
}

std::string WithLine(const Matcher& m, const RuleMatch& r) {
  if (!r) return "-";
  return Describe(m, r) + "@" + std::to_string(r.rule->line);
}

// The naive reference: every rule against the name. Most labels wins (a
// pattern ranks between its parent's label count and the host's: key
// 2 * labels for exact and suffix rules, 2 * labels - 1 for a pattern); then
// allow beats block; then exact beats suffix; then the first loaded.
struct Reference {
  // "pre*suf.parent" against q, by string operations only.
  static bool PatternHit(std::string_view q, const std::string& d) {
    size_t dot = d.find('.');
    size_t star = d.find('*');
    std::string_view parent = std::string_view(d).substr(dot + 1);
    std::string_view pre = std::string_view(d).substr(0, star);
    std::string_view suf = std::string_view(d).substr(star + 1, dot - star - 1);
    if (q.size() <= parent.size() + 1 || !q.ends_with(parent)) return false;
    if (q[q.size() - parent.size() - 1] != '.') return false;
    std::string_view label = q.substr(0, q.size() - parent.size() - 1);
    if (label.find('.') != std::string_view::npos) return false;
    return label.size() > pre.size() + suf.size() && label.starts_with(pre) &&
           label.ends_with(suf);
  }
  const std::vector<AppList>& lists;
  struct Hit {
    size_t app;
    size_t rule;
  };
  std::optional<Hit> Match(std::string_view q) const {
    std::optional<Hit> best;
    size_t best_labels = 0;
    bool best_allow = false, best_exact = false;
    for (size_t a = 0; a < lists.size(); ++a) {
      for (size_t i = 0; i < lists[a].rules.size(); ++i) {
        const Rule& r = lists[a].rules[i];
        const std::string& d = r.domain;
        bool hit;
        size_t labels = 2 * (static_cast<size_t>(std::count(d.begin(), d.end(), '.')) + 1);
        if (r.pattern) {
          hit = PatternHit(q, d);
          labels -= 1;
        } else {
          hit = q == d;
          if (!hit && !r.exact && q.size() > d.size() && q.substr(q.size() - d.size()) == d &&
              q[q.size() - d.size() - 1] == '.') {
            hit = true;
          }
        }
        if (!hit) continue;
        bool allow = lists[a].allow;
        bool better = !best || labels > best_labels ||
                      (labels == best_labels &&
                       ((allow && !best_allow) || (allow == best_allow && r.exact && !best_exact)));
        if (better) {
          best = Hit{a, i};
          best_labels = labels;
          best_allow = allow;
          best_exact = r.exact;
        }
      }
    }
    return best;
  }
};

TEST(MatcherTest, QueryAnswerTable) {
  auto m = MustBuild({
      List("tiktok", false, {"tiktok.com", "full:exact.tiktok.com", "tiktokcdn.com"}),
      List("twitter", false, {"twitter.com", "t.co"}),
      List("olvid", true, {"olvid.io", "api.tiktok.com", "full:www.twitter.com"}),
      List("infra", true, {"cdn.example.net"}),
      List("ads", false, {"example.net", "deep.cdn.example.net"}),
  });
  ASSERT_NE(m, nullptr);
  struct Case {
    const char* query;
    const char* want;
  } cases[] = {
      {"tiktok.com", "tiktok:tiktok.com"},
      {"www.tiktok.com", "tiktok:tiktok.com"},
      {"a.b.c.d.tiktok.com", "tiktok:tiktok.com"},
      {"nottiktok.com", "-"},          // label boundary
      {"tiktok.com.evil.org", "-"},    // suffix, not infix
      {"tiktok.co", "-"},
      {"com", "-"},
      {"exact.tiktok.com", "tiktok:full:exact.tiktok.com"},
      {"x.exact.tiktok.com", "tiktok:tiktok.com"},  // full: is exact only
      {"api.tiktok.com", "olvid:api.tiktok.com"},   // allow, more specific
      {"v1.api.tiktok.com", "olvid:api.tiktok.com"},
      {"twitter.com", "twitter:twitter.com"},
      {"www.twitter.com", "olvid:full:www.twitter.com"},  // allow exact beats block suffix
      {"m.www.twitter.com", "twitter:twitter.com"},
      {"t.co", "twitter:t.co"},
      {"example.net", "ads:example.net"},
      {"cdn.example.net", "infra:cdn.example.net"},
      {"img.cdn.example.net", "infra:cdn.example.net"},
      {"deep.cdn.example.net", "ads:deep.cdn.example.net"},  // more specific block wins
      {"x.deep.cdn.example.net", "ads:deep.cdn.example.net"},
      {"olvid.io", "olvid:olvid.io"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Describe(*m, m->Match(c.query)), c.want) << c.query;
    EXPECT_EQ(Describe(*m, m->MatchRaw(c.query)), c.want) << c.query;
  }
}

TEST(MatcherTest, LabelPatternsUnderAParent) {
  auto m = MustBuild({
      List("tiktok", false, {"*-tiktokcdn-com.akamaized.net", "p16-*.ibyteimg.com",
                             "tiktokcdn.com"}),
      List("instagram", false, {"igcdn-photos-*.akamaihd.net", "full:x-tiktokcdn-com.akamaized.net"}),
      List("infra", false, {"akamaihd.net", "v16-tiktokcdn-com.akamaized.net"}),
      List("okapp", true, {"ok-*.akamaihd.net", "igcdn-photos-*.akamaihd.net"}),
  });
  ASSERT_NE(m, nullptr);
  struct Case {
    const char* query;
    const char* want;
  } cases[] = {
      {"p16-tiktokcdn-com.akamaized.net", "tiktok:*-tiktokcdn-com.akamaized.net"},
      {"V77-TikTokCDN-com.akamaized.net.", "tiktok:*-tiktokcdn-com.akamaized.net"},
      {"-tiktokcdn-com.akamaized.net", "-"},        // '*' is one or more characters
      {"a.p16-tiktokcdn-com.akamaized.net", "-"},   // never deeper names
      {"akamaized.net", "-"},                       // never the parent
      {"p16-tiktokcdn-comx.akamaized.net", "-"},
      {"p16-tiktokcdn-com.x.akamaized.net", "-"},
      {"p16-tiktokcdn-com.akamaized.com", "-"},
      {"p16-sg.ibyteimg.com", "tiktok:p16-*.ibyteimg.com"},
      {"p16-.ibyteimg.com", "-"},
      {"p17-sg.ibyteimg.com", "-"},
      // full: on the host beats the pattern; so does a suffix rule on the host.
      {"x-tiktokcdn-com.akamaized.net", "instagram:full:x-tiktokcdn-com.akamaized.net"},
      {"v16-tiktokcdn-com.akamaized.net", "infra:v16-tiktokcdn-com.akamaized.net"},
      {"a.v16-tiktokcdn-com.akamaized.net", "infra:v16-tiktokcdn-com.akamaized.net"},
      // A pattern beats a suffix rule on its parent; allow beats block between
      // equal patterns.
      {"igcdn-photos-a-a.akamaihd.net", "okapp:igcdn-photos-*.akamaihd.net"},
      {"ok-1.akamaihd.net", "okapp:ok-*.akamaihd.net"},
      {"other.akamaihd.net", "infra:akamaihd.net"},
      {"a.igcdn-photos-a-a.akamaihd.net", "infra:akamaihd.net"},
      {"akamaihd.net", "infra:akamaihd.net"},
      {"www.tiktokcdn.com", "tiktok:tiktokcdn.com"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Describe(*m, m->MatchRaw(c.query)), c.want) << c.query;
  }
  EXPECT_EQ(m->stats().patterns, 4u);  // igcdn-photos-* twice: okapp (allow) replaced instagram
  EXPECT_EQ(m->stats().duplicates, 1u);
  EXPECT_EQ(m->stats().pattern_parents, 3u);
  RuleMatch r = m->Match("p16-tiktokcdn-com.akamaized.net");
  ASSERT_TRUE(r);
  EXPECT_EQ(r.rule->source(), "tiktok.list:1");
  EXPECT_TRUE(r.rule->pattern);
}

TEST(MatcherTest, BuildRejectsMalformedPatternsNamingFileLine) {
  for (const char* bad : {"*.akamaized.net", "a*b*.akamaized.net", "x.a*.akamaized.net",
                          "tiktok*.com", "*", "a*", "p16-*.akamaized..net"}) {
    auto m = Matcher::Build({List("a", false, {"ok.com", bad})});
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_NE(m.status().message().find("a.list:2"), std::string_view::npos) << m.status();
  }
  // A pattern cannot be full:, and '*' only comes with a pattern rule.
  AppList l = List("a", false, {"full:p*.akamaized.net"});
  EXPECT_FALSE(Matcher::Build({l}).ok());
  l = List("a", false, {"p*.akamaized.net"});
  l.rules[0].pattern = false;
  EXPECT_FALSE(Matcher::Build({l}).ok());
}

TEST(MatcherTest, PatternDuplicatesKeepFirstLoadedUnlessAllow) {
  auto m = MustBuild({
      List("one", false, {"p-*.cdn.net", "p-*.cdn.net"}),
      List("two", false, {"p-*.cdn.net"}),
      List("three", true, {"p-*.cdn.net"}),
  });
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Describe(*m, m->Match("p-1.cdn.net")), "three:p-*.cdn.net");
  EXPECT_EQ(m->stats().duplicates, 3u);
  EXPECT_EQ(m->stats().patterns, 1u);
}

TEST(MatcherTest, EqualSpecificityAllowBeatsBlockThenExactBeatsSuffix) {
  auto m = MustBuild({
      List("block", false, {"a.com", "full:b.com", "c.com", "full:d.com"}),
      List("allow", true, {"a.com", "b.com", "full:c.com"}),
      List("block2", false, {"d.com"}),
  });
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Describe(*m, m->Match("a.com")), "allow:a.com");       // same kind: allow
  EXPECT_EQ(Describe(*m, m->Match("b.com")), "allow:b.com");       // allow suffix beats block exact
  EXPECT_EQ(Describe(*m, m->Match("x.b.com")), "allow:b.com");
  EXPECT_EQ(Describe(*m, m->Match("c.com")), "allow:full:c.com");  // allow exact beats block suffix
  EXPECT_EQ(Describe(*m, m->Match("x.c.com")), "block:c.com");
  EXPECT_EQ(Describe(*m, m->Match("d.com")), "block:full:d.com");  // both block: exact wins
  EXPECT_EQ(Describe(*m, m->Match("x.d.com")), "block2:d.com");
  EXPECT_TRUE(m->Match("a.com").allow);
  EXPECT_FALSE(m->Match("d.com").allow);
}

TEST(MatcherTest, DuplicatesKeepFirstLoaded) {
  auto m = MustBuild({
      List("one", false, {"dup.com", "dup.com", "full:x.dup.com"}),
      List("two", false, {"dup.com", "full:x.dup.com"}),
  });
  ASSERT_NE(m, nullptr);
  RuleMatch r = m->Match("dup.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(m->app_name(r.app), "one");
  EXPECT_EQ(r.rule->line, 1u);
  EXPECT_EQ(m->app_name(m->Match("x.dup.com").app), "one");
  EXPECT_EQ(m->stats().entries, 2u);
  EXPECT_EQ(m->stats().duplicates, 3u);
}

TEST(MatcherTest, MatchReportsFileLineAndApp) {
  auto m = MustBuild({List("a", false, {"x.org"}), List("b", true, {"y.org", "z.org"})});
  ASSERT_NE(m, nullptr);
  RuleMatch r = m->Match("www.z.org");
  ASSERT_TRUE(r);
  EXPECT_EQ(r.rule->file, "b.list");
  EXPECT_EQ(r.rule->line, 2u);
  EXPECT_EQ(r.rule->text, "z.org");
  EXPECT_EQ(r.rule->domain, "z.org");
  EXPECT_TRUE(r.allow);
  EXPECT_EQ(r.app, 1);
  AppId id;
  ASSERT_TRUE(m->FindApp("b", &id));
  EXPECT_EQ(id, 1);
  EXPECT_TRUE(m->app_allowed(id));
  EXPECT_FALSE(m->FindApp("c", &id));
  EXPECT_EQ(m->app_count(), 2u);
}

TEST(MatcherTest, RawNamesAreNormalisedOnTheFly) {
  auto m = MustBuild({List("t", false, {"tiktok.com", "xn--bcher-kva.de", "full:exact.org"})});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Describe(*m, m->MatchRaw("WWW.TikTok.COM")), "t:tiktok.com");
  EXPECT_EQ(Describe(*m, m->MatchRaw("www.tiktok.com.")), "t:tiktok.com");
  EXPECT_EQ(Describe(*m, m->MatchRaw("EXACT.org.")), "t:full:exact.org");
  EXPECT_EQ(Describe(*m, m->MatchRaw("www.tiktok.com..")), "-");  // one dot only
  EXPECT_EQ(Describe(*m, m->MatchRaw("www..tiktok.com")), "-");
  EXPECT_EQ(Describe(*m, m->MatchRaw(".tiktok.com")), "-");
  EXPECT_EQ(Describe(*m, m->MatchRaw("")), "-");
  EXPECT_EQ(Describe(*m, m->MatchRaw(".")), "-");
  EXPECT_EQ(Describe(*m, m->MatchRaw("www.Bücher.de")), "t:xn--bcher-kva.de");
  EXPECT_EQ(Describe(*m, m->MatchRaw(std::string("tiktok.com\0\xc3\xbc", 13))), "-");
  std::string long_label(64, 'a');
  EXPECT_EQ(Describe(*m, m->MatchRaw(long_label + ".tiktok.com")), "-");
  EXPECT_EQ(Describe(*m, m->MatchRaw(long_label.substr(1) + ".tiktok.com")), "t:tiktok.com");
  // 253 characters match, 254 do not (a trailing dot is not counted).
  std::string name = ".tiktok.com";
  std::string pre;
  while (pre.size() + name.size() < 253) pre += pre.size() % 2 == 0 ? "a" : ".";
  if (pre.back() == '.') pre.back() = 'b';
  std::string n253 = pre + name;
  ASSERT_EQ(n253.size(), 253u);
  EXPECT_EQ(Describe(*m, m->MatchRaw(n253)), "t:tiktok.com");
  EXPECT_EQ(Describe(*m, m->MatchRaw(n253 + ".")), "t:tiktok.com");
  EXPECT_EQ(Describe(*m, m->MatchRaw(std::string("c") + n253)), "-");
  EXPECT_EQ(Describe(*m, m->Match(n253)), "t:tiktok.com");
}

TEST(MatcherTest, BuildRejectsUnnormalisedDomainsNamingFileLine) {
  std::vector<AppList> lists = {List("a", false, {"ok.com", "Bad.com"})};
  auto m = Matcher::Build(lists);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("a.list:2"), std::string_view::npos) << m.status();
  for (const char* bad : {"x..com", "x.com.", "", "b\xc3\xbc.de"}) {
    auto m2 = Matcher::Build({List("a", false, {bad})});
    EXPECT_FALSE(m2.ok()) << bad;
  }
}

TEST(MatcherTest, EmptyAndSingleLabel) {
  auto empty = MustBuild({});
  ASSERT_NE(empty, nullptr);
  EXPECT_FALSE(empty->Match("a.com"));
  EXPECT_EQ(empty->stats().entries, 0u);
  auto m = MustBuild({List("tld", false, {"zip", "full:mov"})});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Describe(*m, m->Match("a.b.zip")), "tld:zip");
  EXPECT_EQ(Describe(*m, m->Match("mov")), "tld:full:mov");
  EXPECT_EQ(Describe(*m, m->Match("a.mov")), "-");
}

TEST(MatcherTest, StatsAreTruthful) {
  auto m = MustBuild({List("a", false, {"a.example.com", "b.example.com", "full:example.com",
                                         "x.co.uk"})});
  ASSERT_NE(m, nullptr);
  const Matcher::Stats& s = m->stats();
  EXPECT_EQ(s.apps, 1u);
  EXPECT_EQ(s.entries, 4u);
  // com, example, a, b, uk, co, x
  EXPECT_EQ(s.nodes, 7u);
  EXPECT_GT(s.memory_bytes, s.nodes * 13);  // at least a node and a control byte each
  EXPECT_LT(s.memory_bytes, 4096u);
  EXPECT_GT(s.rule_bytes, 4 * sizeof(Rule));
  EXPECT_GE(s.build_seconds, 0.0);
}

TEST(MatcherTest, ManyRulesEveryOneFound) {
  std::vector<std::string> entries;
  for (int i = 0; i < 20000; ++i) entries.push_back(std::string("d") + std::to_string(i) + ".example.com");
  auto m = MustBuild({List("many", false, entries)});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->stats().nodes, 20002u);
  for (int i = 0; i < 20000; ++i) {
    std::string q = std::string("www.D") + std::to_string(i) + ".example.com";
    RuleMatch r = m->MatchRaw(q);
    ASSERT_TRUE(r) << q;
    EXPECT_EQ(r.rule->line, static_cast<uint32_t>(i + 1));
    EXPECT_FALSE(m->Match(std::string("x") + std::to_string(i) + ".example.com"));
  }
}

// Randomised differential test: the trie against the naive reference on
// names built to hit the traps (label boundaries, case, trailing dots, deep
// subdomains, allow under block, exact and suffix at the same name).
TEST(MatcherTest, DifferentialAgainstNaiveReference) {
  std::mt19937_64 rng(20240611);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  const std::vector<std::string> tlds = {"com", "net", "fr", "gouv.fr", "co.uk", "uk", "io"};
  const std::vector<std::string> words = {"tiktok", "nottiktok", "tiktokv",  "ok",   "www",
                                          "api",    "cdn",       "a",        "b",    "co",
                                          "com",    "mail",      "xn--bcher-kva", "t", "x-y",
                                          "_dmarc", "k8s"};
  auto domain = [&](int max_extra) {
    std::string d = pick(tlds);
    int extra = static_cast<int>(rng() % (max_extra + 1));
    for (int i = 0; i < extra; ++i) d = pick(words) + "." + d;
    return d;
  };
  std::vector<AppList> lists;
  const char* apps[] = {"tiktok", "olvid", "ads", "infra", "twitter", "tchap"};
  for (int a = 0; a < 6; ++a) {
    std::vector<std::string> entries;
    int n = 20 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      std::string d = rng() % 10 == 0 ? pick(tlds) : domain(3);
      if (rng() % 6 == 0) {
        // A label pattern under a parent of at least two labels, built
        // from pieces of the words so that queries fit some of them.
        std::string parent = d.find('.') == std::string::npos ? pick(words) + "." + d : d;
        std::string w = pick(words);
        size_t cut = rng() % (w.size() + 1);
        std::string left = w.substr(0, cut) + "*" + w.substr(cut);
        if (left == "*") left = "x*";
        entries.push_back(left + "." + parent);
        continue;
      }
      entries.push_back(rng() % 4 == 0 ? std::string("full:") + d : d);
    }
    lists.push_back(List(apps[a], a % 2 == 1, entries));
  }
  Reference ref{lists};
  auto m = MustBuild(lists);
  ASSERT_NE(m, nullptr);
  std::vector<std::string> pattern_rules;
  for (const AppList& l : lists) {
    for (const Rule& r : l.rules) {
      if (r.pattern) pattern_rules.push_back(r.domain);
    }
  }
  ASSERT_GT(m->stats().patterns, 20u);

  auto mangle = [&](std::string s) {
    for (char& c : s) {
      if (rng() % 4 == 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    switch (rng() % 16) {
      case 0: s += "."; break;
      case 1: s += ".."; break;
      case 2: s = std::string(".") + s; break;
      case 3: s.insert(rng() % (s.size() + 1), "."); break;
      case 4: s = std::string(63 + rng() % 2, 'q') + "." + s; break;
      case 5: s = std::string("b\xc3\xbc" "cher.") + s; break;  // IDN: slow path
      case 6: s = std::string("not") + s; break;
      default: break;
    }
    return s;
  };
  size_t hits = 0, invalid = 0, pattern_hits = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string base = domain(6);
    if (rng() % 3 == 0) base = pick(words) + base;  // glue: "nottiktok.com", "okcom"
    if (rng() % 4 == 0) {
      // Glue two words into the leftmost label: fits patterns built above
      // ("tik*tok" fits "tiktoktok") and misses some ("tik*tok" vs "tiktok").
      base = pick(words) + pick(words) + "." + domain(4);
    } else if (rng() % 3 == 0 && !pattern_rules.empty()) {
      // A name at, under or beside a pattern: '*' replaced by 0 to 3
      // characters (0: must miss), sometimes one label deeper or at the parent.
      std::string p = pick(pattern_rules);
      size_t star = p.find('*');
      static const char* kFill[] = {"", "a", "-b", "k8s", "."};
      base = p.substr(0, star) + kFill[rng() % 5] + p.substr(star + 1);
      if (rng() % 5 == 0) base = pick(words) + "." + base;
      if (rng() % 7 == 0) base = p.substr(p.find('.') + 1);
    }
    std::string raw = mangle(base);
    DomainBuf buf;
    bool valid = NormalizeDomain(raw, &buf) == DomainError::kOk;
    std::string want = "-";
    if (valid) {
      auto h = ref.Match(buf.view());
      if (h) {
        const Rule& r = lists[h->app].rules[h->rule];
        want = lists[h->app].app + ":" + r.text + "@" + std::to_string(r.line);
        ++hits;
        if (r.pattern) ++pattern_hits;
      }
      ASSERT_EQ(WithLine(*m, m->Match(buf.view())), want) << "normalised " << buf.view();
    } else {
      ++invalid;
    }
    ASSERT_EQ(WithLine(*m, m->MatchRaw(raw)), want) << "raw " << raw;
  }
  // The generator must exercise both outcomes and the error path.
  EXPECT_GT(hits, 20000u);
  EXPECT_LT(hits, 80000u);
  EXPECT_GT(invalid, 1000u);
  EXPECT_GT(pattern_hits, 1000u);
}

}  // namespace
}  // namespace vigie
