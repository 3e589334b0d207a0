// Matcher benchmark: vigie's trie against hash-set baselines walking suffixes.
//
//   BM_Lookup/<impl>/<dataset>  one raw (mixed-case) query per iteration
//   BM_Build/<impl>/1M          building the structure from 1M names
//   BM_MissLatency/<bytes>      one dependent cache miss into an array of
//                               that size (2 MiB: the 1M trie's prefilter)
// impl: vigie (Matcher::MatchRaw, fused normalisation), vigie-split
// (NormalizeDomain then Matcher::Match), absl (absl::flat_hash_set<std::string>),
// std (std::unordered_set<std::string> with transparent lookup). Every impl
// gets the raw query and normalises it (the baselines with NormalizeDomain,
// into a stack buffer, then look up each suffix: no allocation per query).
// dataset: 1M (generated registrable domains), apps (lists/apps/*.list, or a
// generated stand-in when that directory holds no list), patterns (the 1M
// rules plus label patterns such as "p16-*.cdn-x.net" under shared-parent-like
// nodes, and a query stream where a quarter of the names sit directly under
// those parents, half fitting a pattern: vigie only, the hash-set baselines
// cannot express a pattern).
//
// Every lookup loop counts hits and checks the count against a reference
// computed at setup after each pass over the query stream.
//
// Environment: VIGIE_BENCH_DOMAINS (size of the "1M" dataset) and
// VIGIE_BENCH_QUERIES (length of the query stream, 2^18) for the smoke test;
// VIGIE_SOURCE_DIR (where lists/apps lives).
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "benchmark/benchmark.h"
#include "lists/domain.h"
#include "lists/list_loader.h"
#include "lists/matcher.h"

namespace vigie {
namespace {

// ---------------------------------------------------------------- helpers

// Bytes in use on the heap (glibc): small chunks plus mmapped blocks.
size_t HeapInUse() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

class Rng {  // splitmix64: deterministic, fast, good enough for data
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  bool Chance(double p) { return (Next() >> 11) * 0x1.0p-53 < p; }

 private:
  uint64_t s_;
};

// ---------------------------------------------------------------- generator

struct WeightedSuffix {
  const char* suffix;
  double weight;
};
// Roughly the registration mix of the public DNS, with multi-part suffixes.
constexpr WeightedSuffix kSuffixes[] = {
    {"com", 46},    {"net", 4.5},   {"org", 4.5},   {"de", 6},       {"co.uk", 2.5},
    {"org.uk", 0.4}, {"uk", 0.6},   {"fr", 2.5},    {"gouv.fr", 0.1}, {"ru", 3.5},
    {"jp", 0.4},    {"co.jp", 0.5}, {"com.br", 2},  {"com.au", 1.2}, {"net.au", 0.2},
    {"nl", 2},      {"it", 1.5},    {"pl", 1.3},    {"es", 1},       {"io", 1.2},
    {"info", 1.3},  {"xyz", 1.4},   {"cn", 0.8},    {"com.cn", 0.5}, {"in", 0.8},
    {"co.in", 0.4}, {"ca", 1},      {"eu", 0.6},    {"ch", 0.6},     {"be", 0.5},
    {"app", 0.5},   {"online", 0.9}, {"top", 1.4},  {"site", 0.7},   {"shop", 0.7},
    {"us", 0.5},    {"me", 0.4},    {"tv", 0.3},    {"co", 0.5},     {"ac.uk", 0.1},
};

constexpr const char* kWords[] = {
    "shop", "net", "web", "tech", "cloud", "data", "my", "the", "best", "info", "media",
    "news", "app", "game", "bank", "home", "art", "pro", "lab", "hub", "soft", "smart",
    "green", "blue", "city", "go", "one", "top", "box", "link", "zone", "line", "star",
    "max", "bit", "mail", "book", "travel", "food", "auto", "photo", "music", "studio",
    "design", "group", "market", "store", "online", "digital", "global", "world", "france",
    "paris", "berlin", "london", "sport", "health", "immo", "voyage", "maison", "bio"};
constexpr const char* kSyllables[] = {"ka", "ro", "mi", "ne", "ta", "lo", "vi", "sa", "de",
                                      "ra", "po", "li", "to", "ma", "ni", "co", "be", "ga",
                                      "fu", "zu", "an", "er", "in", "or", "el", "tri", "sto"};
constexpr const char* kSubdomains[] = {"www",    "api",    "cdn",   "m",      "static", "img",
                                       "mail",   "edge",   "login", "app",    "video",  "s3",
                                       "assets", "media",  "auth",  "ws",     "v16-web", "graph",
                                       "eu-west-1", "p16-sign"};

class DomainGenerator {
 public:
  explicit DomainGenerator(uint64_t seed) : rng_(seed) {
    double total = 0;
    for (const auto& s : kSuffixes) total += s.weight;
    double acc = 0;
    for (const auto& s : kSuffixes) {
      acc += s.weight / total;
      cdf_.push_back(acc);
      public_suffixes_.insert(s.suffix);
    }
  }
  Rng& rng() { return rng_; }

  // A label of realistic length (mean ~10, 2..30), lower case.
  std::string Label() {
    static constexpr size_t kLen[] = {3, 4, 5, 6, 6, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10, 10,
                                      11, 11, 12, 12, 13, 14, 15, 16, 18, 20, 24, 30};
    size_t target = kLen[rng_.Below(std::size(kLen))];
    std::string s;
    bool random_letters = rng_.Chance(0.3);
    while (s.size() < target) {
      if (!s.empty() && rng_.Chance(0.08)) s += '-';
      if (random_letters) {
        s += kSyllables[rng_.Below(std::size(kSyllables))];
      } else {
        s += rng_.Chance(0.5) ? kWords[rng_.Below(std::size(kWords))]
                              : kSyllables[rng_.Below(std::size(kSyllables))];
      }
    }
    if (s.size() > target + 3) s.resize(target + 3);
    if (s.back() == '-') s.back() = 'x';
    if (rng_.Chance(0.06)) s += std::to_string(rng_.Below(1000));
    return s;
  }

  const char* Suffix() {
    double u = (rng_.Next() >> 11) * 0x1.0p-53;
    for (size_t i = 0; i < cdf_.size(); ++i) {
      if (u < cdf_[i]) return kSuffixes[i].suffix;
    }
    return kSuffixes[0].suffix;
  }

  // A registrable domain: one label under a public suffix (never itself a
  // public suffix, like "co.uk").
  std::string Registrable() {
    for (;;) {
      std::string d = Label() + "." + Suffix();
      if (public_suffixes_.count(d) == 0) return d;
    }
  }

  std::string SubdomainLabel() {
    return rng_.Chance(0.8) ? kSubdomains[rng_.Below(std::size(kSubdomains))] : Label();
  }

  // Prefixes `d` with subdomain labels until it has `labels` labels.
  std::string WithLabels(std::string d, size_t labels) {
    size_t have = static_cast<size_t>(std::count(d.begin(), d.end(), '.')) + 1;
    while (have < labels) {
      d = SubdomainLabel() + "." + d;
      ++have;
    }
    return d;
  }

  // Raw query spelling: mixed case, sometimes the DNS trailing dot.
  std::string Spell(std::string d) {
    double u = (rng_.Next() >> 11) * 0x1.0p-53;
    if (u < 0.2) {
      for (char& c : d) {
        if (c >= 'a' && c <= 'z' && rng_.Chance(0.3)) c = static_cast<char>(c - 32);
      }
    } else if (u < 0.3) {
      for (char& c : d) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      }
    } else if (u < 0.4) {
      bool start = true;
      for (char& c : d) {
        if (start && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
        start = c == '.';
      }
    }
    if (rng_.Chance(0.05)) d += '.';
    return d;
  }

 private:
  Rng rng_;
  std::vector<double> cdf_;
  std::set<std::string> public_suffixes_;
};

// ---------------------------------------------------------------- datasets

struct Dataset {
  std::string name;
  std::string source;
  std::vector<AppList> lists;  // what vigie compiles (copied per build)
  std::vector<std::string> suffix_names, exact_names;  // what the baselines hold
  std::vector<std::string> pattern_names;  // label patterns (only vigie runs these)
  std::string query_bytes;
  std::vector<std::string_view> queries;
  size_t expected_hits = 0;  // per pass over `queries`
  size_t entries() const { return suffix_names.size() + exact_names.size(); }
};

size_t QueryCount() {
  const char* env = std::getenv("VIGIE_BENCH_QUERIES");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : size_t{1} << 18;
}
constexpr double kHitRate = 0.05;

size_t DomainCount() {
  const char* env = std::getenv("VIGIE_BENCH_DOMAINS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 1000000;
}

std::string SourceDir() {
  const char* env = std::getenv("VIGIE_SOURCE_DIR");
  return env != nullptr ? env : VIGIE_SOURCE_DIR;
}

// Independent reference for the expected hit count: ordered sets, no trie.
size_t ReferenceHits(const Dataset& ds) {
  std::set<std::string, std::less<>> suffix(ds.suffix_names.begin(), ds.suffix_names.end());
  std::set<std::string, std::less<>> exact(ds.exact_names.begin(), ds.exact_names.end());
  // parent -> (prefix, suffix) of its patterns.
  std::multimap<std::string, std::pair<std::string, std::string>, std::less<>> patterns;
  for (const std::string& p : ds.pattern_names) {
    size_t star = p.find('*'), dot = p.find('.');
    patterns.emplace(p.substr(dot + 1),
                     std::make_pair(p.substr(0, star), p.substr(star + 1, dot - star - 1)));
  }
  size_t hits = 0;
  for (std::string_view q : ds.queries) {
    DomainBuf buf;
    if (NormalizeDomain(q, &buf) != DomainError::kOk) continue;
    std::string_view s = buf.view();
    bool hit = exact.count(s) > 0;
    if (size_t dot = s.find('.'); !hit && dot != std::string_view::npos) {
      std::string_view label = s.substr(0, dot);
      auto [lo, hi] = patterns.equal_range(s.substr(dot + 1));
      for (auto it = lo; it != hi && !hit; ++it) {
        const auto& [pre, suf] = it->second;
        hit = label.size() > pre.size() + suf.size() && label.starts_with(pre) &&
              label.ends_with(suf);
      }
    }
    for (size_t pos = 0; !hit;) {
      if (suffix.count(s.substr(pos)) > 0) hit = true;
      size_t dot = s.find('.', pos);
      if (dot == std::string_view::npos) break;
      pos = dot + 1;
    }
    hits += hit;
  }
  return hits;
}

void FinishQueries(Dataset* ds, const std::vector<std::string>& raw) {
  for (const std::string& q : raw) ds->query_bytes += q;
  size_t off = 0;
  for (const std::string& q : raw) {
    ds->queries.emplace_back(ds->query_bytes.data() + off, q.size());
    off += q.size();
  }
  for (const AppList& l : ds->lists) {
    for (const Rule& r : l.rules) {
      (r.pattern ? ds->pattern_names : r.exact ? ds->exact_names : ds->suffix_names)
          .push_back(r.domain);
    }
  }
  ds->expected_hits = ReferenceHits(*ds);
}

Dataset* MakeGenerated() {
  auto* ds = new Dataset;
  ds->name = "1M";
  size_t n = DomainCount();
  ds->source = "generated: " + std::to_string(n) + " registrable domains";
  DomainGenerator gen(1);
  absl::flat_hash_set<std::string> seen;
  seen.reserve(n);
  AppList list;
  list.app = "generated";
  list.file = "generated.list";
  list.rules.reserve(n);
  while (list.rules.size() < n) {
    std::string d = gen.Registrable();
    if (!seen.insert(d).second) continue;
    Rule r;
    r.domain = d;
    r.text = d;
    r.file = list.file;
    r.line = static_cast<uint32_t>(list.rules.size() + 1);
    list.rules.push_back(std::move(r));
  }
  std::vector<std::string> raw;
  raw.reserve(QueryCount());
  for (size_t i = 0; i < QueryCount(); ++i) {
    size_t labels = 2 + gen.rng().Below(4);  // 2..5
    std::string d;
    if (gen.rng().Chance(kHitRate)) {
      d = list.rules[gen.rng().Below(list.rules.size())].domain;
    } else {
      do d = gen.Registrable();
      while (seen.contains(d));
    }
    raw.push_back(gen.Spell(gen.WithLabels(d, labels)));
  }
  ds->lists.push_back(std::move(list));
  FinishQueries(ds, raw);
  return ds;
}

// The 1M rules plus kPatternParents parents (new registrable-style names, like
// a CDN's) holding kPatternsPerParent patterns each; queries: a quarter
// directly under a pattern parent (half of them fit one of its patterns, half
// fit none), the rest as in 1M.
Dataset& Get(const std::string& name);

constexpr size_t kPatternParents = 500;
constexpr size_t kPatternsPerParent = 4;

Dataset* MakePatterns() {
  const Dataset& base = Get("1M");
  auto* ds = new Dataset;
  ds->name = "patterns";
  ds->lists = base.lists;
  DomainGenerator gen(3);
  AppList list;
  list.app = "patterns";
  list.file = "patterns.list";
  std::vector<std::string> parents;
  std::vector<std::vector<std::pair<std::string, std::string>>> fits;
  absl::flat_hash_set<std::string> seen;
  for (const AppList& l : base.lists) {
    for (const Rule& r : l.rules) seen.insert(r.domain);
  }
  while (parents.size() < kPatternParents) {
    std::string parent = "cdn-" + gen.Registrable();
    if (!seen.insert(parent).second) continue;
    parents.push_back(parent);
    fits.emplace_back();
    for (size_t k = 0; k < kPatternsPerParent; ++k) {
      std::string pre = "p" + std::to_string(k) + "-", suf = k % 2 == 0 ? "-" + gen.Label() : "";
      std::string pat = pre + "*" + suf + "." + parent;
      Rule r;
      r.domain = pat;
      r.pattern = true;
      r.text = pat;
      r.file = list.file;
      r.line = static_cast<uint32_t>(list.rules.size() + 1);
      list.rules.push_back(std::move(r));
      fits.back().emplace_back(pre, suf);
    }
  }
  ds->lists.push_back(std::move(list));
  ds->source = "generated: 1M rules + " + std::to_string(kPatternParents * kPatternsPerParent) +
               " label patterns";
  std::vector<std::string> raw;
  raw.reserve(QueryCount());
  for (size_t i = 0; i < QueryCount(); ++i) {
    std::string d;
    if (gen.rng().Chance(0.25)) {
      size_t p = gen.rng().Below(parents.size());
      const auto& [pre, suf] = fits[p][gen.rng().Below(kPatternsPerParent)];
      // Fits: "p2-" + label + "-suffix"; misses: the prefix of another index.
      d = (gen.rng().Chance(0.5) ? pre : std::string("q-")) + gen.Label() + suf + "." + parents[p];
      d = gen.Spell(d);
    } else {
      d = std::string(base.queries[gen.rng().Below(base.queries.size())]);
    }
    raw.push_back(std::move(d));
  }
  FinishQueries(ds, raw);
  return ds;
}

// Stand-in per-app lists, used only when lists/apps holds no *.list file.
struct StandIn {
  const char* app;
  bool allow;
  std::vector<const char*> domains;
};
const std::vector<StandIn>& StandInApps() {
  static const auto* apps = new std::vector<StandIn>{
      {"candycrush", false, {"king.com", "candycrushsaga.com", "midasplayer.com", "kingdom.king.com"}},
      {"dating", false, {"tinder.com", "gotinder.com", "bumble.com", "bumbleapp.com", "hinge.co",
                         "meetic.fr", "happn.com", "happn.fr", "badoo.com", "okcupid.com"}},
      {"instagram", false, {"instagram.com", "cdninstagram.com", "ig.me", "instagram.fr",
                            "full:i.instagram.com"}},
      {"netflix", false, {"netflix.com", "netflix.net", "nflxvideo.net", "nflximg.net",
                          "nflxext.com", "nflxso.net", "nflximg.com"}},
      {"olvid", true, {"olvid.io", "full:server.olvid.io"}},
      {"signal", false, {"signal.org", "whispersystems.org", "signal.group", "signal.me"}},
      {"snapchat", false, {"snapchat.com", "snap.com", "snapkit.com", "sc-cdn.net", "snapads.com",
                           "sc-static.net", "snap-dev.net"}},
      {"tchap", true, {"tchap.gouv.fr", "agent.tchap.gouv.fr"}},
      {"telegram", false, {"telegram.org", "t.me", "telegram.me", "telesco.pe", "tdesktop.com",
                           "telegra.ph", "full:web.telegram.org"}},
      {"tiktok", false, {"tiktok.com", "tiktokcdn.com", "tiktokv.com", "tiktokcdn-us.com",
                         "byteoversea.com", "ibytedtos.com", "ibyteimg.com", "musical.ly",
                         "tiktokw.us", "ttwstatic.com", "bytedance.map.fastly.net"}},
      {"twitter", false, {"twitter.com", "x.com", "twimg.com", "t.co", "twttr.com",
                          "twitter.fr", "periscope.tv", "pscp.tv"}},
      {"whatsapp", false, {"whatsapp.com", "whatsapp.net", "wa.me", "whatsapp.biz"}},
      {"wimi", true, {"wimi-teamwork.com", "wimi.pro"}},
  };
  return *apps;
}

Dataset* MakeApps() {
  auto* ds = new Dataset;
  ds->name = "apps";
  std::string dir = SourceDir() + "/lists/apps";
  bool real = false;
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".list") real = true;
    }
  }
  if (real) {
    auto lists = LoadListDir(dir, [](std::string_view app) {
      return app == "olvid" || app == "tchap" || app == "wimi";  // deploy/vigie.toml allow policy
    });
    if (!lists.ok()) {
      std::fprintf(stderr, "%s\n", std::string(lists.status().message()).c_str());
      std::abort();
    }
    ds->lists = *std::move(lists);
    ds->source = dir;
  } else {
    // A stand-in of the same shape: the apps' known domains plus generated
    // CDN-style names, ~60 entries per app.
    DomainGenerator gen(7);
    for (const StandIn& s : StandInApps()) {
      AppList l;
      l.app = s.app;
      l.allow = s.allow;
      l.file = "standin/" + l.app + ".list";
      std::vector<std::string> entries(s.domains.begin(), s.domains.end());
      while (entries.size() < 60) {
        entries.push_back(gen.rng().Chance(0.5) ? l.app + "-" + gen.Label() + ".com"
                                                : gen.Registrable());
      }
      for (const std::string& e : entries) {
        Rule r;
        r.exact = e.rfind("full:", 0) == 0;
        r.domain = r.exact ? e.substr(5) : e;
        r.text = e;
        r.file = l.file;
        r.line = static_cast<uint32_t>(l.rules.size() + 1);
        l.rules.push_back(std::move(r));
      }
      ds->lists.push_back(std::move(l));
    }
    ds->source = "generated stand-in (" + dir + " holds no *.list)";
  }
  std::vector<const Rule*> all;
  for (const AppList& l : ds->lists) {
    for (const Rule& r : l.rules) all.push_back(&r);
  }
  DomainGenerator gen(11);
  std::vector<std::string> raw;
  for (size_t i = 0; i < QueryCount(); ++i) {
    size_t labels = 2 + gen.rng().Below(4);
    std::string d;
    if (gen.rng().Chance(kHitRate) && !all.empty()) {
      const Rule* r = all[gen.rng().Below(all.size())];
      d = r->exact ? r->domain : gen.WithLabels(r->domain, labels);
    } else {
      d = gen.WithLabels(gen.Registrable(), labels);
    }
    raw.push_back(gen.Spell(d));
  }
  FinishQueries(ds, raw);
  return ds;
}

Dataset& Get(const std::string& name) {
  static Dataset* generated = nullptr;
  static Dataset* apps = nullptr;
  static Dataset* patterns = nullptr;
  if (name == "1M") {
    if (generated == nullptr) generated = MakeGenerated();
    return *generated;
  }
  if (name == "patterns") {
    if (patterns == nullptr) patterns = MakePatterns();
    return *patterns;
  }
  if (apps == nullptr) apps = MakeApps();
  return *apps;
}

// ---------------------------------------------------------------- baselines

struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StdSet = std::unordered_set<std::string, SvHash, std::equal_to<>>;
using AbslSet = absl::flat_hash_set<std::string>;

inline bool Contains(const StdSet& s, std::string_view k) { return s.find(k) != s.end(); }
inline bool Contains(const AbslSet& s, std::string_view k) {
  // Debian's abseil has its own string_view type.
  return s.find(absl::string_view(k.data(), k.size())) != s.end();
}

// The baselines' matcher: normalise, then the exact set, then each suffix
// from the longest (the most specific rule first).
template <typename Set>
bool SuffixWalk(const Set& suffix, const Set& exact, std::string_view raw) {
  DomainBuf buf;
  if (NormalizeDomain(raw, &buf) != DomainError::kOk) return false;
  std::string_view s = buf.view();
  if (!exact.empty() && Contains(exact, s)) return true;
  for (;;) {
    if (Contains(suffix, s)) return true;
    size_t dot = s.find('.');
    if (dot == std::string_view::npos) return false;
    s.remove_prefix(dot + 1);
  }
}

// ---------------------------------------------------------------- built structures

enum class Impl { kVigie, kVigieSplit, kAbsl, kStd };

struct Built {
  std::shared_ptr<const Matcher> vigie;
  StdSet std_suffix, std_exact;
  AbslSet absl_suffix, absl_exact;
  size_t heap_bytes = 0;  // heap in use after building minus before
  double seconds = 0;
};

std::vector<AppList> CopyLists(const Dataset& ds) { return ds.lists; }

// Builds `impl` over `ds`, measuring the heap it keeps. The input (the
// AppList copy for vigie, the name vectors for the baselines) exists before
// and is not counted; vigie keeps the Rule objects it was given (moved in),
// reported apart as rule_bytes.
std::unique_ptr<Built> Build(Impl impl, const Dataset& ds) {
  auto b = std::make_unique<Built>();
  std::vector<AppList> input;
  if (impl == Impl::kVigie || impl == Impl::kVigieSplit) input = CopyLists(ds);
  size_t before = HeapInUse();
  auto start = std::chrono::steady_clock::now();
  switch (impl) {
    case Impl::kVigie:
    case Impl::kVigieSplit: {
      auto m = Matcher::Build(std::move(input));
      if (!m.ok()) {
        std::fprintf(stderr, "%s\n", std::string(m.status().message()).c_str());
        std::abort();
      }
      b->vigie = *std::move(m);
      break;
    }
    case Impl::kAbsl:
      for (const std::string& s : ds.suffix_names) b->absl_suffix.insert(s);
      for (const std::string& s : ds.exact_names) b->absl_exact.insert(s);
      break;
    case Impl::kStd:
      for (const std::string& s : ds.suffix_names) b->std_suffix.insert(s);
      for (const std::string& s : ds.exact_names) b->std_exact.insert(s);
      break;
  }
  b->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  size_t after = HeapInUse();
  b->heap_bytes = after > before ? after - before : 0;
  return b;
}

// One structure alive at a time (the 1M ones are large); benchmarks run in
// registration order, so each is built once.
Built& Cached(Impl impl, const Dataset& ds) {
  static std::unique_ptr<Built> built;
  static std::string key;
  if (impl == Impl::kVigieSplit) impl = Impl::kVigie;  // same structure
  std::string k = std::to_string(static_cast<int>(impl)) + "/" + ds.name;
  if (k != key) {
    built.reset();
    built = Build(impl, ds);
    key = k;
  }
  return *built;
}

// ---------------------------------------------------------------- benchmarks

template <typename F>
void LookupLoop(benchmark::State& state, const Dataset& ds, F&& lookup) {
  const std::vector<std::string_view>& q = ds.queries;
  size_t i = 0, hits = 0, passes = 0;
  for (auto _ : state) {
    hits += lookup(q[i]) ? 1 : 0;
    if (++i == q.size()) {
      if (hits != ds.expected_hits) {
        state.SkipWithError(("hit count " + std::to_string(hits) + " != expected " +
                             std::to_string(ds.expected_hits)).c_str());
        break;
      }
      i = 0;
      hits = 0;
      ++passes;
    }
  }
  benchmark::DoNotOptimize(hits);
  state.counters["checked_passes"] = static_cast<double>(passes);
  state.counters["hit_rate"] = static_cast<double>(ds.expected_hits) / q.size();
}

void BM_Lookup(benchmark::State& state, Impl impl, const std::string& dataset) {
  const Dataset& ds = Get(dataset);
  Built& b = Cached(impl, ds);
  switch (impl) {
    case Impl::kVigie: {
      const Matcher& m = *b.vigie;
      LookupLoop(state, ds, [&](std::string_view raw) { return bool(m.MatchRaw(raw)); });
      break;
    }
    case Impl::kVigieSplit: {
      const Matcher& m = *b.vigie;
      LookupLoop(state, ds, [&](std::string_view raw) {
        DomainBuf buf;
        return NormalizeDomain(raw, &buf) == DomainError::kOk && bool(m.Match(buf.view()));
      });
      break;
    }
    case Impl::kAbsl:
      LookupLoop(state, ds, [&](std::string_view raw) {
        return SuffixWalk(b.absl_suffix, b.absl_exact, raw);
      });
      break;
    case Impl::kStd:
      LookupLoop(state, ds, [&](std::string_view raw) {
        return SuffixWalk(b.std_suffix, b.std_exact, raw);
      });
      break;
  }
  const double entries = static_cast<double>(ds.entries());
  state.counters["entries"] = entries;
  state.counters["bytes_per_entry"] = b.heap_bytes / entries;
  if (b.vigie) {
    state.counters["stats_bytes_per_entry"] = b.vigie->stats().memory_bytes / entries;
    state.counters["rule_bytes_per_entry"] = b.vigie->stats().rule_bytes / entries;
    state.counters["nodes"] = static_cast<double>(b.vigie->stats().nodes);
  }
  state.SetLabel(ds.source);
}

void BM_Build(benchmark::State& state, Impl impl, const std::string& dataset) {
  const Dataset& ds = Get(dataset);
  double heap = 0, stats_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<Built> b;
    std::vector<AppList> input;
    if (impl == Impl::kVigie) input = CopyLists(ds);
    size_t before = HeapInUse();
    state.ResumeTiming();
    if (impl == Impl::kVigie) {
      b = std::make_unique<Built>();
      auto m = Matcher::Build(std::move(input));
      if (!m.ok()) {
        state.SkipWithError("build failed");
        break;
      }
      b->vigie = *std::move(m);
    } else {
      b = Build(impl, ds);
    }
    state.PauseTiming();
    heap = static_cast<double>(HeapInUse() - before);
    if (b->vigie) stats_seconds = b->vigie->stats().build_seconds;
    b.reset();
    state.ResumeTiming();
  }
  state.counters["entries"] = static_cast<double>(ds.entries());
  state.counters["bytes_per_entry"] = heap / ds.entries();
  if (impl == Impl::kVigie) state.counters["stats_build_seconds"] = stats_seconds;
  state.SetLabel(ds.source);
}

// BM_MissLatency/<bytes>: one dependent load per iteration, chasing a random
// cycle through an array of that size, 64 bytes a step: what one cache miss
// into a structure of that size costs on this machine, in the same run. The
// 1M trie's lookup is bound by one such miss into its 2 MiB prefilter (the
// second-level check, where most names leave) while the hash-set walk's
// probes are independent and overlap, so the vigie/absl ratio follows this
// figure from machine to machine.
void BM_MissLatency(benchmark::State& state) {
  const size_t lines = static_cast<size_t>(state.range(0)) / 64;
  std::vector<uint64_t> order(lines);
  for (size_t i = 0; i < lines; ++i) order[i] = i;
  std::mt19937_64 rng(7);
  std::shuffle(order.begin() + 1, order.end(), rng);
  std::vector<uint64_t> next(lines * 8);  // a 64-byte line per step; word 0 holds the next line
  for (size_t i = 0; i < lines; ++i) next[order[i] * 8] = order[(i + 1) % lines];
  uint64_t at = 0, steps = 0;
  for (auto _ : state) {
    at = next[at * 8];
    if (++steps == lines) {
      if (at != 0) {  // a cycle through every line comes back to the start
        state.SkipWithError("chase did not come back to its start");
        break;
      }
      steps = 0;
    }
  }
  benchmark::DoNotOptimize(at);
}

const char* ImplName(Impl impl) {
  switch (impl) {
    case Impl::kVigie: return "vigie";
    case Impl::kVigieSplit: return "vigie-split";
    case Impl::kAbsl: return "absl";
    case Impl::kStd: return "std";
  }
  return "?";
}

void RegisterAll() {
  for (const char* dataset : {"1M", "apps"}) {
    for (Impl impl : {Impl::kVigie, Impl::kVigieSplit, Impl::kAbsl, Impl::kStd}) {
      std::string name = std::string("BM_Lookup/") + ImplName(impl) + "/" + dataset;
      std::string ds = dataset;
      benchmark::RegisterBenchmark(name.c_str(), [impl, ds](benchmark::State& st) {
        BM_Lookup(st, impl, ds);
      });
    }
  }
  for (Impl impl : {Impl::kVigie, Impl::kVigieSplit}) {
    std::string name = std::string("BM_Lookup/") + ImplName(impl) + "/patterns";
    benchmark::RegisterBenchmark(name.c_str(), [impl](benchmark::State& st) {
      BM_Lookup(st, impl, "patterns");
    });
  }
  benchmark::RegisterBenchmark("BM_MissLatency", BM_MissLatency)->Arg(2 << 20)->Arg(32 << 20);
  for (Impl impl : {Impl::kVigie, Impl::kAbsl, Impl::kStd}) {
    std::string name = std::string("BM_Build/") + ImplName(impl) + "/1M";
    benchmark::RegisterBenchmark(name.c_str(), [impl](benchmark::State& st) {
      BM_Build(st, impl, "1M");
    })->Unit(benchmark::kMillisecond)->Iterations(3);
  }
}

}  // namespace
}  // namespace vigie

int main(int argc, char** argv) {
  vigie::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
