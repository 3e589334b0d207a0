#include "lists/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lists/absl_compat.h"


namespace vigie {

absl::StatusOr<IpAddress> IpAddress::Parse(std::string_view text) {
  char buf[64];
  if (text.size() >= sizeof(buf)) return absl::InvalidArgumentError(absl::StrCat("not an IP address: '", AV(text), "'"));
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (inet_pton(AF_INET, buf, a.bytes) == 1) {
    a.family = 4;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes) == 1) {
    a.family = 6;
    return a;
  }
  return absl::InvalidArgumentError(absl::StrCat("not an IP address: '", AV(text), "'"));
}

size_t IpAddress::Format(char* buf) const {
  if (family == 0) {
    buf[0] = '\0';
    return 0;
  }
  if (inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes, buf, 46) == nullptr) {
    buf[0] = '\0';
    return 0;
  }
  return std::strlen(buf);
}

std::string IpAddress::ToString() const {
  char buf[46];
  size_t n = Format(buf);
  return std::string(buf, n);
}

namespace {
bool PrefixEqual(const uint8_t* a, const uint8_t* b, uint8_t prefix) {
  size_t full = prefix / 8;
  if (std::memcmp(a, b, full) != 0) return false;
  uint8_t rem = prefix % 8;
  if (rem == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rem));
  return (a[full] & mask) == (b[full] & mask);
}
}  // namespace

bool Cidr::Contains(const IpAddress& a) const {
  return a.family == base.family && PrefixEqual(a.bytes, base.bytes, prefix);
}

absl::StatusOr<Cidr> Cidr::Parse(std::string_view text) {
  std::string_view addr = text;
  int prefix = -1;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    if (!absl::SimpleAtoi(AV(text.substr(slash + 1)), &prefix))
      return absl::InvalidArgumentError(absl::StrCat("bad prefix length in '", AV(text), "'"));
  }
  auto ip = IpAddress::Parse(addr);
  if (!ip.ok()) return absl::InvalidArgumentError(absl::StrCat("not a CIDR prefix: '", AV(text), "'"));
  int max = ip->family == 4 ? 32 : 128;
  if (prefix < 0) prefix = max;
  if (prefix > max) return absl::InvalidArgumentError(absl::StrCat("prefix length over ", max, " in '", AV(text), "'"));
  Cidr c;
  c.base = *ip;
  c.prefix = static_cast<uint8_t>(prefix);
  for (int bit = prefix; bit < 128; ++bit) c.base.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  return c;
}

std::string Cidr::ToString() const { return absl::StrCat(base.ToString(), "/", prefix); }

CidrSet::Key CidrSet::KeyOf(const IpAddress& a) {
  Key k;
  if (a.family == 4) {
    for (int i = 0; i < 4; ++i) k.lo = k.lo << 8 | a.bytes[i];
    return k;
  }
  for (int i = 0; i < 8; ++i) k.hi = k.hi << 8 | a.bytes[i];
  for (int i = 8; i < 16; ++i) k.lo = k.lo << 8 | a.bytes[i];
  return k;
}

void CidrSet::Add(const Cidr& c) {
  auto& v = c.base.family == 4 ? v4_ : v6_;
  v.push_back(c);
  std::stable_sort(v.begin(), v.end(), [](const Cidr& a, const Cidr& b) { return a.prefix > b.prefix; });
  IpAddress last = c.base;
  for (int bit = c.prefix; bit < (c.base.family == 4 ? 32 : 128); ++bit) {
    last.bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  }
  auto& ranges = c.base.family == 4 ? ranges4_ : ranges6_;
  ranges.push_back(Range{KeyOf(c.base), KeyOf(last)});
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
  // Merge overlapping and adjacent ranges (last + 1 == next first).
  std::vector<Range> merged;
  for (const Range& r : ranges) {
    if (!merged.empty()) {
      Key next = merged.back().last;
      bool wraps = ++next.lo == 0 && ++next.hi == 0;  // the last address of the family's space
      if (wraps || !(next < r.first)) {
        if (merged.back().last < r.last) merged.back().last = r.last;
        continue;
      }
    }
    merged.push_back(r);
  }
  ranges = std::move(merged);
}

bool CidrSet::Contains(const IpAddress& a) const {
  const auto& ranges = a.family == 4 ? ranges4_ : ranges6_;
  if (ranges.empty() || (a.family != 4 && a.family != 6)) return false;
  const Key k = KeyOf(a);
  // The last range starting at or before k.
  auto it = std::upper_bound(ranges.begin(), ranges.end(), k, [](const Key& x, const Range& r) { return x < r.first; });
  if (it == ranges.begin()) return false;
  --it;
  return !(it->last < k);
}

}  // namespace vigie
