#include "lists/matcher.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lists/domain.h"

namespace vigie {
namespace {

// Word loads below mask the tail of a label by byte position.
static_assert(std::endian::native == std::endian::little, "matcher assumes little endian");

// A node id that names no node: the parent of TLD nodes, and "not found".
constexpr uint32_t kNone = 0xFFFFFFFF;
// Rule field of a node: low 30 bits are the suffix rule index (kNoRule if
// none); the top bit says an exact (`full:`) rule sits at this node, the next
// one that the node is the parent of label patterns (Impl::pattern_ranges).
constexpr uint32_t kNoRule = 0x3FFFFFFF;
constexpr uint32_t kHasPattern = 0x40000000;
constexpr uint32_t kHasExact = 0x80000000;
// Probe groups of 16 control bytes: one SSE2 compare.
constexpr size_t kGroup = 16;
// Control byte of an empty slot (high bit set; a full slot holds 7 hash bits).
constexpr uint8_t kEmpty = 0x80;
// Maximum load 7/8 (SwissTable's): unsuccessful probes stay ~1 group.
constexpr size_t kLoadNum = 7, kLoadDen = 8;
// A 253-character name has at most 127 labels.
constexpr size_t kMaxLabels = 127;
// Name buffer: 253 characters + trailing dot, plus zero padding so that the
// 8-byte word loads of the last label never leave the buffer.
constexpr size_t kNameBuf = 288;
// Zero padding after the label pool, for the same word loads.
constexpr size_t kPoolPad = 16;

inline uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline void Store64(char* p, uint64_t w) { std::memcpy(p, &w, 8); }

// Keeps the first `n` (1..8) bytes of a little-endian word.
inline uint64_t KeepBytes(uint64_t w, size_t n) {
  return n >= 8 ? w : w & (~uint64_t{0} >> (64 - 8 * n));
}

__extension__ typedef unsigned __int128 U128;

inline uint64_t Mum(uint64_t a, uint64_t b) {
  U128 r = static_cast<U128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

constexpr uint64_t kSeed = 0x243F6A8885A308D3;  // hash of the root (the empty suffix)

// Hash of the reversed label path: the parent's hash extended by one label.
// `p` must be readable up to p + len + 7.
// Bytes of a label's word `i` (0 or 1) kept by a mask, without branches.
inline uint64_t WordMask(size_t len, size_t i) {
  size_t n = len > 8 * i ? len - 8 * i : 0;
  return n >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1;
}

// `w0`, `w1`: the label's first 16 bytes as words, zero past its end; `p`
// (readable up to p + len + 7) is read only for labels over 16 bytes.
inline uint64_t HashWords(uint64_t h, size_t len, uint64_t w0, uint64_t w1, const char* p) {
  // Labels of up to 16 bytes (most) take two words and no branch.
  uint64_t x = h ^ (len * 0x9E3779B97F4A7C15);
  x = Mum(x ^ w0, w1 ^ 0xA0761D6478BD642F);
  for (size_t i = 16; i < len; i += 8) {
    x = Mum(x ^ KeepBytes(Load64(p + i), len - i), 0xA0761D6478BD642F);
  }
  return Mum(x ^ 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3);
}

inline uint64_t HashLabel(uint64_t h, const char* p, size_t len) {
  return HashWords(h, len, Load64(p) & WordMask(len, 0), Load64(p + 8) & WordMask(len, 1), p);
}

// ASCII lower case of 8 bytes (all < 0x80).
inline uint64_t FoldWord(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHigh = 0x8080808080808080;
  uint64_t ge_a = w + kOnes * (0x80 - 'A');
  uint64_t gt_z = w + kOnes * (0x80 - 'Z' - 1);
  return w | ((ge_a & ~gt_z & kHigh) >> 2);
}

// A name folded to lower case and split into labels.
struct Name {
  char buf[kNameBuf];
  uint8_t start[kMaxLabels + 1];
  uint8_t len[kMaxLabels + 1];
  size_t labels = 0;
};

enum class Split : uint8_t { kOk, kInvalid, kSlowPath };

// Folds ASCII case and splits `in` into labels with 8-byte word operations,
// applying NormalizeDomain's rules (one trailing dot removed, 253 / 63,
// no empty label). kSlowPath: non-ASCII bytes or a raw name too long for the
// fast path; the caller runs NormalizeDomain, which decides.
Split FoldAndSplit(std::string_view in, Name* out) {
  size_t n = in.size();
  if (n > kMaxDomainLength + 1) return Split::kSlowPath;
  std::memcpy(out->buf, in.data(), n);
  if (n > 0 && out->buf[n - 1] == '.') --n;
  std::memset(out->buf + n, 0, 16);
  if (n == 0) return Split::kInvalid;
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHigh = 0x8080808080808080;
  uint64_t any_high = 0;
  uint16_t dots[kNameBuf];
  size_t ndots = 0;
  for (size_t k = 0; k < n; k += 8) {
    uint64_t w = Load64(out->buf + k);
    any_high |= w;
    // For 7-bit bytes no addition below carries into the next byte.
    uint64_t ge_a = w + kOnes * (0x80 - 'A');      // high bit: byte >= 'A'
    uint64_t gt_z = w + kOnes * (0x80 - 'Z' - 1);  // high bit: byte > 'Z'
    uint64_t upper = ge_a & ~gt_z & kHigh;
    Store64(out->buf + k, w | (upper >> 2));  // 0x80 >> 2 == 0x20
    uint64_t d = w ^ (kOnes * '.');
    uint64_t is_dot = ~(d + kOnes * 0x7F) & kHigh;  // zero bytes of d
    while (is_dot != 0) {
      size_t pos = k + (static_cast<size_t>(std::countr_zero(is_dot)) >> 3);
      if (pos < n) dots[ndots++] = static_cast<uint16_t>(pos);
      is_dot &= is_dot - 1;
    }
  }
  if ((any_high & kHigh) != 0) return Split::kSlowPath;
  if (n > kMaxDomainLength) return Split::kInvalid;
  size_t prev = 0;
  size_t nl = 0;
  for (size_t i = 0; i <= ndots; ++i) {
    size_t end = i < ndots ? dots[i] : n;
    size_t len = end - prev;
    if (len == 0 || len > kMaxLabelLength) return Split::kInvalid;
    out->start[nl] = static_cast<uint8_t>(prev);
    out->len[nl] = static_cast<uint8_t>(len);
    ++nl;
    prev = end + 1;
  }
  out->labels = nl;
  return Split::kOk;
}

// A raw name folded to lower case, with a bitmap of its dots: the lookup's
// view. Unlike Name it is not validated up front: a name the walk does not
// find matches nothing whether valid or not, so the 253 / 63 / empty-label
// checks run only when a rule matched (Valid()).
struct RawName {
  char buf[kNameBuf];
  uint64_t dots[4];  // bit p: byte p is a dot (p < 256)
  size_t n = 0;
  const char* src = nullptr;  // the caller's bytes (unfolded), n of them

  // Words of label [s, e) as HashWords takes them, folded. Read from the
  // caller's bytes, anchored at the label's end so that no load leaves them
  // (and none waits on the stores that filled `buf`); empty labels, labels
  // over 16 bytes and labels ending before byte 8 read `buf`.
  void Words(size_t s, size_t e, uint64_t* w0, uint64_t* w1) const {
    const size_t len = e - s;
    if (__builtin_expect(e >= 8 && len - 1 < 16, 1)) {  // 1 <= len <= 16
      uint64_t tail = Load64(src + e - 8);
      uint64_t a = len >= 8 ? Load64(src + s) : tail >> (8 * (8 - len));
      uint64_t b = len > 8 ? tail >> (8 * (16 - len)) : 0;
      *w0 = FoldWord(a);
      *w1 = FoldWord(b);
    } else {
      *w0 = Load64(buf + s) & WordMask(len, 0);
      *w1 = Load64(buf + s + 8) & WordMask(len, 1);
    }
  }

  // Position of the last dot before `end`, or -1.
  int DotBefore(size_t end) const {
    for (int w = static_cast<int>((end - 1) >> 6); w >= 0; --w) {
      uint64_t m = dots[w];
      if (static_cast<size_t>(w) == ((end - 1) >> 6)) {
        size_t bits = end - (static_cast<size_t>(w) << 6);
        if (bits < 64) m &= (uint64_t{1} << bits) - 1;
      }
      if (m != 0) return (w << 6) + 63 - std::countl_zero(m);
    }
    return -1;
  }
  bool Valid() const {
    if (n > kMaxDomainLength) return false;
    size_t end = n;
    for (;;) {
      int dot = DotBefore(end);
      size_t start = static_cast<size_t>(dot + 1);
      if (end == start || end - start > kMaxLabelLength) return false;
      if (dot < 0) return true;
      end = static_cast<size_t>(dot);
      if (end == 0) return false;  // leading dot
    }
  }
};

enum class Fold : uint8_t { kOk, kEmpty, kSlowPath };

// Copies `in` into `out` folded to lower case, with its dot bitmap; one
// trailing dot is dropped. kSlowPath: bytes >= 0x80 or too long for the
// buffer (NormalizeDomain decides). 16 bytes at a time with SSE2 (a memcpy
// into the zero-padded buffer first, so no load leaves the caller's bytes).
inline Fold FoldRaw(std::string_view in, RawName* out) {
  size_t n = in.size();
  if (n > 0 && in[n - 1] == '.') --n;
  if (n == 0) return Fold::kEmpty;
  if (n > kMaxDomainLength) return Fold::kSlowPath;
  out->n = n;
  out->src = in.data();
  out->dots[0] = out->dots[1] = out->dots[2] = out->dots[3] = 0;
#if defined(__SSE2__)
  // Blocks are loaded from the caller's bytes (never past them), folded and
  // stored; the last block is the last 16 bytes (it may overlap the one
  // before: folding is idempotent, dot bits are OR-ed).
  const char* p = in.data();
  const __m128i dot = _mm_set1_epi8('.');
  const __m128i a1 = _mm_set1_epi8('A' - 1);
  const __m128i z1 = _mm_set1_epi8('Z' + 1);
  const __m128i bit5 = _mm_set1_epi8(0x20);
  __m128i any = _mm_setzero_si128();
  auto block = [&](__m128i w, size_t k) {
    any = _mm_or_si128(any, w);
    // Signed compares: bytes >= 0x80 are negative, never in 'A'..'Z'.
    __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(w, a1), _mm_cmpgt_epi8(z1, w));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out->buf + k),
                     _mm_or_si128(w, _mm_and_si128(upper, bit5)));
    uint64_t bits = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(w, dot)));
    size_t sh = k & 63;
    out->dots[k >> 6] |= bits << sh;
    if (sh > 48) out->dots[(k >> 6) + 1] |= bits >> (64 - sh);
  };
  if (n >= 16) {
    size_t k = 0;
    for (; k + 16 < n; k += 16) block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k)), k);
    block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16)), n - 16);
  } else {
    uint64_t lo, hi = 0;
    if (n >= 8) {
      lo = Load64(p);
      if (n > 8) hi = Load64(p + n - 8) >> (8 * (16 - n));
    } else if (n >= 4) {
      uint32_t x, y;
      std::memcpy(&x, p, 4);
      std::memcpy(&y, p + n - 4, 4);
      lo = x | (uint64_t{y} << (8 * (n - 4)));
    } else {
      lo = 0;
      for (size_t j = 0; j < n; ++j) lo |= uint64_t{static_cast<uint8_t>(p[j])} << (8 * j);
    }
    block(_mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo)), 0);
  }
  // Zero padding for the word loads of the last label (up to 15 bytes past it).
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out->buf + n), _mm_setzero_si128());
  if (_mm_movemask_epi8(any) != 0) return Fold::kSlowPath;
#else
  std::memcpy(out->buf, in.data(), n);
  std::memset(out->buf + n, 0, 32);
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHigh = 0x8080808080808080;
  uint64_t any_high = 0;
  for (size_t k = 0; k < n; k += 8) {
    uint64_t w = Load64(out->buf + k);
    any_high |= w;
    // For 7-bit bytes no addition below carries into the next byte.
    uint64_t ge_a = w + kOnes * (0x80 - 'A');
    uint64_t gt_z = w + kOnes * (0x80 - 'Z' - 1);
    Store64(out->buf + k, w | ((ge_a & ~gt_z & kHigh) >> 2));
    uint64_t d = w ^ (kOnes * '.');
    uint64_t is_dot = ~(d + kOnes * 0x7F) & kHigh;  // zero padding is no dot
    uint64_t bits = ((is_dot >> 7) * 0x0102040810204080) >> 56;
    out->dots[k >> 6] |= bits << (k & 63);
  }
  if ((any_high & kHigh) != 0) return Fold::kSlowPath;
#endif
  return Fold::kOk;
}

// 12 bytes; its index in the table is the node id.
struct Node {
  uint32_t parent;  // node id, kNone for a TLD
  uint32_t label;   // offset in the pool of [length byte][label bytes]
  uint32_t rule;    // kNoRule or suffix rule index, | kHasExact, | kHasPattern
};
static_assert(sizeof(Node) == 12);

// Open addressing over groups of 16 slots; slot = node. Keys are unique and
// never deleted, so a probe ends at the first group holding an empty slot.
class NodeTable {
 public:
  void Init(size_t max_nodes) {
    size_t slots = max_nodes * kLoadDen / kLoadNum + 1;
    groups_ = std::max<size_t>(1, (slots + kGroup - 1) / kGroup);
    ctrl_.assign(groups_ * kGroup, kEmpty);
    nodes_.assign(groups_ * kGroup, Node{kNone, 0, kNoRule});
  }
  size_t capacity() const { return nodes_.size(); }
  size_t bytes() const { return ctrl_.capacity() + nodes_.capacity() * sizeof(Node); }
  const Node& node(uint32_t id) const { return nodes_[id]; }
  Node& node(uint32_t id) { return nodes_[id]; }

  size_t GroupOf(uint64_t h) const {
    return static_cast<size_t>((static_cast<U128>(h) * groups_) >> 64);
  }
  static uint8_t TagOf(uint64_t h) { return static_cast<uint8_t>(h & 0x7F); }

  void Prefetch(uint64_t h) const { __builtin_prefetch(ctrl_.data() + GroupOf(h) * kGroup); }

  // The node with hash `h`, parent `parent` and a label for which
  // `label_eq(pool offset)` holds; kNone if absent.
  template <typename Eq>
  uint32_t Find(uint64_t h, uint32_t parent, const Eq& label_eq) const {
    size_t g = GroupOf(h);
    const uint8_t tag = TagOf(h);
    for (size_t probes = 0; probes < groups_; ++probes) {
      const uint8_t* c = ctrl_.data() + g * kGroup;
#if defined(__SSE2__)
      __m128i cv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c));
      uint32_t match = static_cast<uint32_t>(
          _mm_movemask_epi8(_mm_cmpeq_epi8(cv, _mm_set1_epi8(static_cast<char>(tag)))));
      uint32_t empty = static_cast<uint32_t>(_mm_movemask_epi8(cv));
#else
      uint32_t match = 0, empty = 0;
      for (size_t j = 0; j < kGroup; ++j) {
        match |= static_cast<uint32_t>(c[j] == tag) << j;
        empty |= static_cast<uint32_t>(c[j] == kEmpty) << j;
      }
#endif
      while (match != 0) {
        uint32_t id = static_cast<uint32_t>(g * kGroup) + std::countr_zero(match);
        const Node& nd = nodes_[id];
        if (nd.parent == parent && label_eq(nd.label)) return id;
        match &= match - 1;
      }
      if (empty != 0) return kNone;
      if (++g == groups_) g = 0;
    }
    return kNone;
  }

  // Claims an empty slot for a key known to be absent.
  uint32_t Insert(uint64_t h) {
    size_t g = GroupOf(h);
    for (;;) {
      uint8_t* c = ctrl_.data() + g * kGroup;
      for (size_t j = 0; j < kGroup; ++j) {
        if (c[j] == kEmpty) {
          c[j] = TagOf(h);
          return static_cast<uint32_t>(g * kGroup + j);
        }
      }
      if (++g == groups_) g = 0;
    }
  }

 private:
  size_t groups_ = 0;
  std::vector<uint8_t> ctrl_;
  std::vector<Node> nodes_;
};

inline bool LabelEq(const char* pool, uint32_t off, const char* q, size_t len) {
  const char* s = pool + off + 1;
  uint64_t diff = (static_cast<uint8_t>(pool[off]) ^ len) |
                  ((Load64(s) ^ Load64(q)) & WordMask(len, 0)) |
                  ((Load64(s + 8) ^ Load64(q + 8)) & WordMask(len, 1));
  if (diff != 0) return false;
  for (size_t i = 16; i < len; i += 8) {
    if (KeepBytes(Load64(s + i) ^ Load64(q + i), len - i) != 0) return false;
  }
  return true;
}

// Prefilter: a bitset over every node's path hash, blocked so that one key
// sets two bits of one 64-bit word. A walk checks it before probing the
// table and stops at a clear bit: most names leave at the second level, and
// this turns that probe (a cache miss into the node table) into one load
// from a bitset about 1/7 of the table's size (2 MiB at 1M nodes; measured:
// 16 bits per node beat 4, 8 and 32, and 3 bits per key did not beat 2).
// Bits from the hash: 0..6 are the table's tag, 7..12 and 13..18 the bit
// positions, 19.. the word.
constexpr size_t kFilterBitsPerNode = 16;
inline uint64_t FilterBits(uint64_t h) {
  return (uint64_t{1} << ((h >> 7) & 63)) | (uint64_t{1} << ((h >> 13) & 63));
}
inline size_t FilterWord(uint64_t h, size_t mask) { return static_cast<size_t>(h >> 19) & mask; }

// LabelEq with the query label's first two words already loaded.
inline bool LabelEqWords(const char* pool, uint32_t off, uint64_t w0, uint64_t w1, const char* q,
                         size_t len) {
  const char* s = pool + off + 1;
  uint64_t diff = (static_cast<uint8_t>(pool[off]) ^ len) |
                  ((Load64(s) & WordMask(len, 0)) ^ w0) | ((Load64(s + 8) & WordMask(len, 1)) ^ w1);
  if (diff != 0) return false;
  for (size_t i = 16; i < len; i += 8) {
    if (KeepBytes(Load64(s + i) ^ Load64(q + i), len - i) != 0) return false;
  }
  return true;
}

}  // namespace

// One compiled label pattern: its prefix and suffix (the leftmost label
// without the '*') in Impl::pattern_pool, so that the patterns of one parent
// sit in one or two cache lines.
struct PatternRule {
  uint32_t off;      // prefix at pool[off], suffix right after it
  uint8_t pre_len;   // at most kMaxLabelLength - 1
  uint8_t suf_len;
  uint32_t rule;     // global rule index
};
// Build-time form: views into the Rule's domain.
struct PatternSrc {
  std::string_view prefix;
  std::string_view suffix;
  uint32_t rule;
};

struct Matcher::Impl {
  std::vector<AppList> lists;
  // rule_base[a]: global index of app a's first rule; rule_base[apps] = total.
  std::vector<uint32_t> rule_base;
  NodeTable table;
  std::vector<uint64_t> filter;  // power-of-two words
  size_t filter_mask = 0;        // filter.size() - 1
  // Bit (h >> 7) & 63 for each TLD node holding a rule (suffix or exact):
  // a name whose second level the filter rules out and whose TLD bit is
  // clear matches nothing, without touching the table.
  uint64_t tld_rules = 0;
  std::vector<char> pool;  // [length][bytes] per node, then kPoolPad zeros
  // Exact rules, by node id; nodes holding one have kHasExact set.
  absl::flat_hash_map<uint32_t, uint32_t> exact;
  // Label patterns, grouped by parent node: node id -> [begin, end) into
  // `patterns`; nodes holding some have kHasPattern set.
  absl::flat_hash_map<uint32_t, std::pair<uint32_t, uint32_t>> pattern_ranges;
  std::vector<PatternRule> patterns;
  std::string pattern_pool;  // prefix + suffix bytes of every pattern

  AppId AppOf(uint32_t rule) const {
    auto it = std::upper_bound(rule_base.begin(), rule_base.end(), rule);
    return static_cast<AppId>((it - rule_base.begin()) - 1);
  }
  RuleMatch Result(uint32_t rule) const {
    RuleMatch m;
    m.app = AppOf(rule);
    m.allow = lists[m.app].allow;
    m.rule = &lists[m.app].rules[rule - rule_base[m.app]];
    return m;
  }
  // Of two rules at the same node: allow beats block, else `a` stays.
  bool Beats(uint32_t b, uint32_t a) const {
    return lists[AppOf(b)].allow && !lists[AppOf(a)].allow;
  }
  bool MayHave(uint64_t h) const {
    const uint64_t b = FilterBits(h);
    return (filter[FilterWord(h, filter_mask)] & b) == b;
  }
  void PrefetchFilter(uint64_t h) const {
    __builtin_prefetch(filter.data() + FilterWord(h, filter_mask));
  }
  RuleMatch LookupRaw(const RawName& q) const;
  // The pattern at node `id` that the label `label` fits (kNoRule if none):
  // the first loaded, unless a later allow one beats it.
  uint32_t MatchPatterns(uint32_t id, std::string_view label) const;
};

uint32_t Matcher::Impl::MatchPatterns(uint32_t id, std::string_view label) const {
  auto it = pattern_ranges.find(id);
  uint32_t best = kNoRule;
  for (uint32_t i = it->second.first; i < it->second.second; ++i) {
    const PatternRule& pr = patterns[i];
    const char* t = pattern_pool.data() + pr.off;
    if (!LabelFitsPattern(std::string_view(t, pr.pre_len), std::string_view(t + pr.pre_len, pr.suf_len),
                          label)) {
      continue;
    }
    if (best == kNoRule || Beats(pr.rule, best)) best = pr.rule;
  }
  return best;
}

RuleMatch Matcher::Impl::LookupRaw(const RawName& q) const {
  const char* p = pool.data();
  size_t end = q.n;
  int dot = q.DotBefore(end);
  size_t start = static_cast<size_t>(dot + 1);
  uint64_t w0, w1;
  q.Words(start, end, &w0, &w1);
  uint64_t h = HashWords(kSeed, end - start, w0, w1, q.buf + start);
  // The second level is where most names leave: start its filter load now.
  size_t end2 = 0, start2 = 0;
  uint64_t h2 = 0, v0 = 0, v1 = 0;
  if (dot > 0) {
    end2 = static_cast<size_t>(dot);
    start2 = static_cast<size_t>(q.DotBefore(end2) + 1);
    q.Words(start2, end2, &v0, &v1);
    h2 = HashWords(h, end2 - start2, v0, v1, q.buf + start2);
    PrefetchFilter(h2);
  }
  if (dot > 0 && !MayHave(h2) && (tld_rules & (uint64_t{1} << ((h >> 7) & 63))) == 0) return {};
  uint32_t parent = kNone;
  uint32_t best = kNoRule;
  for (;;) {
    if (!MayHave(h)) break;
    const char* label = q.buf + start;
    const size_t len = end - start;
    uint32_t id = table.Find(
        h, parent, [&](uint32_t off) { return LabelEqWords(p, off, w0, w1, label, len); });
    if (id == kNone) break;
    const uint32_t r = table.node(id).rule;
    const uint32_t suffix = r & kNoRule;
    if (suffix != kNoRule) best = suffix;
    if (dot < 0) {  // the whole name: exact rules apply
      if ((r & kHasExact) != 0) {
        uint32_t ex = exact.find(id)->second;
        if (suffix == kNoRule || !Beats(suffix, ex)) best = ex;
      }
      break;
    }
    if (dot == 0) return {};  // ".name": an empty first label
    // The only cost patterns add to the walk: one bit of a word in hand.
    if (__builtin_expect((r & kHasPattern) != 0, 0) && q.DotBefore(static_cast<size_t>(dot)) < 0) {
      // One label left: a pattern here is more specific than any rule so
      // far; a rule on the host's own node (next step) still beats it.
      uint32_t pat = MatchPatterns(id, std::string_view(q.buf, static_cast<size_t>(dot)));
      if (pat != kNoRule) best = pat;
    }
    parent = id;
    if (end2 != 0) {
      end = end2;
      start = start2;
      h = h2;
      w0 = v0;
      w1 = v1;
      end2 = 0;
    } else {
      end = static_cast<size_t>(dot);
      start = static_cast<size_t>(q.DotBefore(end) + 1);
      q.Words(start, end, &w0, &w1);
      h = HashWords(h, end - start, w0, w1, q.buf + start);
    }
    dot = static_cast<int>(start) - 1;
  }
  if (best == kNoRule || !q.Valid()) return {};
  return Result(best);
}

Matcher::Matcher() : impl_(std::make_unique<Impl>()) {}
Matcher::~Matcher() = default;

absl::StatusOr<std::shared_ptr<const Matcher>> Matcher::Build(std::vector<AppList> lists) {
  auto start = std::chrono::steady_clock::now();
  if (lists.size() > 0xFFFF) return absl::InvalidArgumentError("too many apps (more than 65535)");
  std::shared_ptr<Matcher> m(new Matcher());
  Impl& impl = *m->impl_;
  impl.lists = std::move(lists);

  // Pass 1: check every rule, count rules and labels (bounds for the arrays).
  size_t rules = 0, labels = 0, label_bytes = 0;
  impl.rule_base.reserve(impl.lists.size() + 1);
  for (const AppList& list : impl.lists) {
    impl.rule_base.push_back(static_cast<uint32_t>(rules));
    for (const Rule& r : list.rules) {
      DomainBuf buf;
      if (NormalizeDomain(r.domain, &buf) != DomainError::kOk || buf.view() != r.domain) {
        return absl::InvalidArgumentError(
            absl::StrCat(r.file, ":", r.line, ": domain not normalised: ", r.domain));
      }
      const bool has_star = r.domain.find(kPatternWildcard) != std::string::npos;
      if (r.pattern != has_star || (r.pattern && r.exact)) {
        return absl::InvalidArgumentError(absl::StrCat(
            r.file, ":", r.line, ": '*' only in a pattern rule, and a pattern is not full: ", r.domain));
      }
      if (r.pattern) {
        LabelPattern lp;
        std::string_view why = ParseLabelPattern(r.domain, &lp);
        if (!why.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(r.file, ":", r.line, ": ", r.domain, ": ", std::string(why)));
        }
      }
      labels += static_cast<size_t>(std::count(r.domain.begin(), r.domain.end(), '.')) + 1;
      label_bytes += r.domain.size() + 1;
      if (++rules >= kNoRule) return absl::InvalidArgumentError("too many rules (2^30)");
    }
  }
  impl.rule_base.push_back(static_cast<uint32_t>(rules));
  if (labels >= (size_t{1} << 31) / kLoadDen * kLoadNum || label_bytes >= 0xFFFFFF00) {
    return absl::InvalidArgumentError("lists too large for the matcher");
  }

  // Pass 2: insert every rule's label path into a table sized for the worst
  // case (no shared suffix), remembering each node's hash and creation order
  // (a parent is always created before its children).
  NodeTable tmp;
  tmp.Init(labels);
  std::vector<uint64_t> hash_of(tmp.capacity());
  std::vector<uint32_t> order;
  order.reserve(labels);
  std::vector<char> pool;
  pool.reserve(label_bytes + kPoolPad);
  absl::flat_hash_map<uint32_t, uint32_t> exact;
  absl::flat_hash_map<uint32_t, std::vector<PatternSrc>> pattern_at;  // by tmp node id
  std::vector<uint32_t> pattern_order;  // tmp node ids in the order they got a pattern
  size_t duplicates = 0;
  Name name;
  uint32_t gi = 0;
  for (const AppList& list : impl.lists) {
    for (const Rule& r : list.rules) {
      LabelPattern lp;
      if (r.pattern) ParseLabelPattern(r.domain, &lp);  // checked in pass 1
      if (FoldAndSplit(r.pattern ? lp.parent : std::string_view(r.domain), &name) != Split::kOk) {
        return absl::InvalidArgumentError(
            absl::StrCat(r.file, ":", r.line, ": domain not normalised: ", r.domain));
      }
      uint32_t parent = kNone;
      uint64_t h = kSeed;
      for (size_t i = name.labels; i-- > 0;) {
        const char* label = name.buf + name.start[i];
        const size_t len = name.len[i];
        h = HashLabel(h, label, len);
        pool.resize(pool.size() + kPoolPad);  // room for the comparison's word loads
        uint32_t id = tmp.Find(h, parent, [&](uint32_t off) {
          return LabelEq(pool.data(), off, label, len);
        });
        pool.resize(pool.size() - kPoolPad);
        if (id == kNone) {
          id = tmp.Insert(h);
          tmp.node(id) = Node{parent, static_cast<uint32_t>(pool.size()), kNoRule};
          pool.push_back(static_cast<char>(len));
          pool.insert(pool.end(), label, label + len);
          hash_of[id] = h;
          order.push_back(id);
        }
        parent = id;
      }
      Node& nd = tmp.node(parent);
      if (r.pattern) {
        std::vector<PatternSrc>& at = pattern_at[parent];
        if (at.empty()) pattern_order.push_back(parent);
        nd.rule |= kHasPattern;
        bool dup = false;
        for (PatternSrc& pr : at) {
          if (pr.prefix == lp.prefix && pr.suffix == lp.suffix) {
            dup = true;
            ++duplicates;
            if (impl.Beats(gi, pr.rule)) pr.rule = gi;
            break;
          }
        }
        if (!dup) at.push_back(PatternSrc{lp.prefix, lp.suffix, gi});
      } else if (r.exact) {
        auto [it, inserted] = exact.try_emplace(parent, gi);
        if (!inserted) {
          ++duplicates;
          if (impl.Beats(gi, it->second)) it->second = gi;
        }
        nd.rule |= kHasExact;
      } else if ((nd.rule & kNoRule) == kNoRule) {
        nd.rule = (nd.rule & ~kNoRule) | gi;
      } else {
        ++duplicates;
        if (impl.Beats(gi, nd.rule & kNoRule)) nd.rule = (nd.rule & ~kNoRule) | gi;
      }
      ++gi;
    }
  }

  // Pass 3: move the nodes into a table sized for the nodes that exist,
  // parents first, renumbering parent ids.
  impl.table.Init(order.size());
  std::vector<uint32_t> renum(tmp.capacity(), kNone);
  for (uint32_t old : order) {
    uint32_t id = impl.table.Insert(hash_of[old]);
    renum[old] = id;
    Node nd = tmp.node(old);
    if (nd.parent != kNone) nd.parent = renum[nd.parent];
    impl.table.node(id) = nd;
  }
  size_t words = std::bit_ceil(std::max<size_t>(1, order.size() * kFilterBitsPerNode / 64));
  impl.filter.assign(words, 0);
  impl.filter_mask = words - 1;
  for (uint32_t old : order) {
    uint64_t h = hash_of[old];
    impl.filter[FilterWord(h, impl.filter_mask)] |= FilterBits(h);
    const Node& nd = tmp.node(old);
    if (nd.parent == kNone && nd.rule != kNoRule) impl.tld_rules |= uint64_t{1} << ((h >> 7) & 63);
  }
  impl.exact.reserve(exact.size());
  for (const auto& [old, rule] : exact) impl.exact.emplace(renum[old], rule);
  impl.pattern_ranges.reserve(pattern_order.size());
  for (uint32_t old : pattern_order) {
    const std::vector<PatternSrc>& at = pattern_at[old];
    uint32_t begin = static_cast<uint32_t>(impl.patterns.size());
    for (const PatternSrc& ps : at) {
      impl.patterns.push_back(PatternRule{static_cast<uint32_t>(impl.pattern_pool.size()),
                                          static_cast<uint8_t>(ps.prefix.size()),
                                          static_cast<uint8_t>(ps.suffix.size()), ps.rule});
      impl.pattern_pool.append(ps.prefix);
      impl.pattern_pool.append(ps.suffix);
    }
    impl.pattern_ranges.emplace(renum[old],
                                std::make_pair(begin, static_cast<uint32_t>(impl.patterns.size())));
  }
  impl.patterns.shrink_to_fit();
  impl.pattern_pool.shrink_to_fit();
  pool.resize(pool.size() + kPoolPad, 0);
  impl.pool.assign(pool.begin(), pool.end());  // exact size

  Stats& st = m->stats_;
  st.apps = impl.lists.size();
  st.entries = rules - duplicates;
  st.duplicates = duplicates;
  st.nodes = order.size();
  st.patterns = impl.patterns.size();
  st.pattern_parents = impl.pattern_ranges.size();
  st.memory_bytes = sizeof(Impl) + impl.table.bytes() + impl.pool.capacity() +
                    impl.filter.capacity() * sizeof(uint64_t) +
                    impl.rule_base.capacity() * sizeof(uint32_t) +
                    // flat_hash_map: one control byte and one slot per bucket.
                    impl.exact.bucket_count() * (1 + sizeof(std::pair<uint32_t, uint32_t>)) +
                    impl.pattern_ranges.bucket_count() *
                        (1 + sizeof(std::pair<uint32_t, std::pair<uint32_t, uint32_t>>)) +
                    impl.patterns.capacity() * sizeof(PatternRule) + impl.pattern_pool.capacity();
  size_t rb = impl.lists.capacity() * sizeof(AppList);
  auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
  for (const AppList& list : impl.lists) {
    rb += heap(list.app) + heap(list.file) + heap(list.rel_file) +
          list.rules.capacity() * sizeof(Rule);
    for (const Rule& r : list.rules) {
      rb += heap(r.domain) + heap(r.text) + heap(r.file) + heap(r.rel_file);
    }
  }
  st.rule_bytes = rb;
  st.build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::shared_ptr<const Matcher>(std::move(m));
}

RuleMatch Matcher::Match(std::string_view domain) const { return MatchRaw(domain); }

RuleMatch Matcher::MatchRaw(std::string_view raw_name) const {
  RawName q;
  switch (FoldRaw(raw_name, &q)) {
    case Fold::kOk:
      return impl_->LookupRaw(q);
    case Fold::kEmpty:
      return {};
    case Fold::kSlowPath:
      break;
  }
  DomainBuf buf;
  if (NormalizeDomain(raw_name, &buf) != DomainError::kOk) return {};
  if (FoldRaw(buf.view(), &q) != Fold::kOk) return {};
  return impl_->LookupRaw(q);
}

std::vector<RuleMatch> Matcher::MatchAll(std::string_view domain) const {
  struct Ranked {
    RuleMatch m;
    size_t specificity;  // the rule domain's length
    int kind;            // 0 exact, 1 suffix, 2 pattern
    size_t order;
  };
  std::vector<Ranked> found;
  size_t order = 0;
  for (size_t a = 0; a < impl_->lists.size(); ++a) {
    const AppList& l = impl_->lists[a];
    for (const Rule& r : l.rules) {
      ++order;
      const std::string_view d = r.domain;
      bool hit = false;
      int kind = 1;
      if (r.pattern) {
        kind = 2;
        LabelPattern lp;
        const size_t dot = domain.find('.');
        if (dot != std::string_view::npos && ParseLabelPattern(d, &lp).empty() &&
            domain.substr(dot + 1) == lp.parent) {
          hit = LabelFitsPattern(lp.prefix, lp.suffix, domain.substr(0, dot));
        }
      } else if (r.exact) {
        kind = 0;
        hit = domain == d;
      } else {
        hit = domain == d || (domain.size() > d.size() && domain[domain.size() - d.size() - 1] == '.' &&
                              domain.substr(domain.size() - d.size()) == d);
      }
      if (!hit) continue;
      RuleMatch m;
      m.app = static_cast<AppId>(a);
      m.allow = l.allow;
      m.rule = &r;
      found.push_back({m, d.size(), kind, order});
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const Ranked& x, const Ranked& y) {
    if (x.specificity != y.specificity) return x.specificity > y.specificity;
    if (x.kind != y.kind) return x.kind < y.kind;
    return x.order < y.order;
  });
  std::vector<RuleMatch> out;
  out.reserve(found.size());
  for (const Ranked& r : found) out.push_back(r.m);
  return out;
}

const std::string& Matcher::app_name(AppId id) const { return impl_->lists[id].app; }
bool Matcher::app_allowed(AppId id) const { return impl_->lists[id].allow; }
size_t Matcher::app_count() const { return impl_->lists.size(); }
bool Matcher::FindApp(std::string_view name, AppId* id) const {
  for (size_t i = 0; i < impl_->lists.size(); ++i) {
    if (impl_->lists[i].app == name) {
      *id = static_cast<AppId>(i);
      return true;
    }
  }
  return false;
}

}  // namespace vigie
