#include "lists/ip_matcher.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lists/absl_compat.h"

namespace vigie {
namespace {

std::array<uint8_t, 16> Masked(const IpAddress& a, uint8_t prefix) {
  std::array<uint8_t, 16> k{};
  const size_t whole = prefix / 8;
  std::memcpy(k.data(), a.bytes, whole);
  if (prefix % 8 != 0) k[whole] = static_cast<uint8_t>(a.bytes[whole] & (0xFF00 >> (prefix % 8)));
  return k;
}

// The first 16 bits of an address (its /16 for IPv4, its /16 for IPv6).
uint32_t Top16(const IpAddress& a) { return (uint32_t{a.bytes[0]} << 8) | a.bytes[1]; }

}  // namespace

absl::StatusOr<IpMatcher> IpMatcher::Build(const std::vector<AppList>& lists) {
  IpMatcher m;
  for (size_t a = 0; a < lists.size(); ++a) {
    for (const Rule& r : lists[a].ip_rules) {
      auto cidr = Cidr::Parse(r.domain);
      if (!cidr.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(r.file, ":", r.line, ": ", cidr.status().message()));
      }
      auto& levels = cidr->base.family == 4 ? m.v4_ : m.v6_;
      auto it = std::find_if(levels.begin(), levels.end(), [&](const Level& l) { return l.prefix == cidr->prefix; });
      if (it == levels.end()) {
        levels.push_back(Level{cidr->prefix, {}});
        it = std::prev(levels.end());
      }
      Key key = Masked(cidr->base, cidr->prefix);
      uint32_t idx = static_cast<uint32_t>(m.rules_.size());
      auto [pos, inserted] = it->entries.emplace(key, idx);
      if (!inserted) {
        if (!lists[a].allow || m.rules_[pos->second].allow) continue;
        pos->second = idx;
      }
      m.rules_.push_back(Entry{static_cast<AppId>(a), lists[a].allow, r});
    }
  }
  // Which /16s hold a prefix, for the quick miss of Match.
  for (const Entry& e : m.rules_) {
    const Cidr c = *Cidr::Parse(e.rule.domain);  // parsed above
    auto& any = c.base.family == 4 ? m.any4_ : m.any6_;
    const uint32_t first = Top16(c.base);
    const uint32_t count = c.prefix >= 16 ? 1 : 1u << (16 - c.prefix);
    for (uint32_t t = first; t < first + count; ++t) any[t / 64] |= uint64_t{1} << (t % 64);
  }
  for (auto* levels : {&m.v4_, &m.v6_}) {
    std::sort(levels->begin(), levels->end(), [](const Level& x, const Level& y) { return x.prefix > y.prefix; });
  }
  return m;
}

RuleMatch IpMatcher::Match(const IpAddress& addr) const {
  const auto& levels = addr.family == 4 ? v4_ : v6_;
  const auto& any = addr.family == 4 ? any4_ : any6_;
  const uint32_t t = Top16(addr);
  if ((any[t / 64] >> (t % 64) & 1) == 0) return RuleMatch();  // no prefix in this /16
  for (const Level& l : levels) {
    auto it = l.entries.find(Masked(addr, l.prefix));
    if (it != l.entries.end()) {
      const Entry& e = rules_[it->second];
      RuleMatch m;
      m.app = e.app;
      m.allow = e.allow;
      m.rule = &e.rule;
      return m;
    }
  }
  return RuleMatch();
}

}  // namespace vigie
