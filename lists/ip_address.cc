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

void CidrSet::Add(const Cidr& c) {
  auto& v = c.base.family == 4 ? v4_ : v6_;
  v.push_back(c);
  std::stable_sort(v.begin(), v.end(), [](const Cidr& a, const Cidr& b) { return a.prefix > b.prefix; });
}

bool CidrSet::Contains(const IpAddress& a) const {
  const auto& v = a.family == 4 ? v4_ : v6_;
  for (const Cidr& c : v) {
    if (c.Contains(a)) return true;
  }
  return false;
}

}  // namespace vigie
