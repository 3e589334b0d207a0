#include "lists/ip_matcher.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vigie {
namespace {

// Longest-prefix match by brute force over the rules (the reference).
const Rule* Reference(const std::vector<Cidr>& cidrs, const std::vector<const Rule*>& rules, const IpAddress& a) {
  int best = -1;
  const Rule* hit = nullptr;
  for (size_t i = 0; i < cidrs.size(); ++i) {
    if (cidrs[i].Contains(a) && int{cidrs[i].prefix} > best) {
      best = cidrs[i].prefix;
      hit = rules[i];
    }
  }
  return hit;
}

// Prefixes of every length (short ones span many /16s: the quick-miss bitmap
// must cover them), addresses inside, next to and far from them.
TEST(IpMatcherTest, MatchesTheLongestPrefixByBruteForce) {
  std::mt19937 rng(13);
  std::vector<AppList> lists(1);
  lists[0].app = "x";
  std::vector<Cidr> cidrs;
  for (int i = 0; i < 300; ++i) {
    const bool v6 = i % 3 == 0;
    IpAddress base;
    base.family = v6 ? 6 : 4;
    for (size_t b = 0; b < base.size(); ++b) base.bytes[b] = static_cast<uint8_t>(rng());
    if (i % 5 == 0) base.bytes[0] = 149;  // nested prefixes
    // IPv4 /9 to /32, IPv6 /12 to /128: some shorter than /16, none covering
    // so much that random addresses never miss.
    const int prefix = v6 ? 12 + static_cast<int>(rng() % 117) : 9 + static_cast<int>(rng() % 24);
    Rule r;
    r.domain = base.ToString() + "/" + std::to_string(prefix);
    auto c = Cidr::Parse(r.domain);
    ASSERT_TRUE(c.ok()) << r.domain;
    bool dup = false;
    for (const Cidr& o : cidrs) dup |= o.base == c->base && o.prefix == c->prefix;
    if (dup) continue;
    cidrs.push_back(*c);
    lists[0].ip_rules.push_back(r);
  }
  auto m = IpMatcher::Build(lists);
  ASSERT_TRUE(m.ok()) << m.status();
  std::vector<const Rule*> rules;
  for (const Rule& r : lists[0].ip_rules) rules.push_back(&r);
  int hits = 0, misses = 0;
  for (int i = 0; i < 50000; ++i) {
    IpAddress a;
    if (i % 2 == 0) {
      a = cidrs[rng() % cidrs.size()].base;  // inside or next to a prefix
      a.bytes[a.size() - 1 - rng() % 3] ^= static_cast<uint8_t>(rng());
    } else {
      a.family = rng() % 3 == 0 ? 6 : 4;
      for (size_t b = 0; b < a.size(); ++b) a.bytes[b] = static_cast<uint8_t>(rng());
    }
    const Rule* want = Reference(cidrs, rules, a);
    RuleMatch got = m->Match(a);
    ASSERT_EQ(got ? got.rule->domain : "-", want != nullptr ? want->domain : "-") << a.ToString();
    (want != nullptr ? hits : misses)++;
  }
  EXPECT_GT(hits, 5000);
  EXPECT_GT(misses, 5000);
}

}  // namespace
}  // namespace vigie
