// CidrSet: the merged-range binary search agrees with a plain scan of the
// prefixes (Cidr::Contains), at the boundaries and on random sets.
#include "lists/ip_address.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace vigie {
namespace {

bool Scan(const std::vector<Cidr>& prefixes, const IpAddress& a) {
  for (const Cidr& c : prefixes) {
    if (c.Contains(a)) return true;
  }
  return false;
}

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

// SetV4 in place over an IPv6 address (an IPv4 tunnel inside IPv6 decodes
// the outer header first) leaves the same value as V4: the unused bytes zero.
TEST(IpAddressTest, SetV4OverwritesAnIpv6AddressWhole) {
  IpAddress a = Ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
  const uint8_t v4[4] = {192, 0, 2, 9};
  a.SetV4(v4);
  EXPECT_EQ(a, IpAddress::V4(v4));
  EXPECT_EQ(a, Ip("192.0.2.9"));
  EXPECT_EQ(a.ToString(), "192.0.2.9");
}

TEST(CidrSetTest, BoundariesAndFamilies) {
  CidrSet s;
  for (const char* p : {"10.0.0.0/8", "11.0.0.0/8", "192.168.1.0/24", "fc00::/7", "2001:db8::/128"}) {
    s.Add(*Cidr::Parse(p));
  }
  EXPECT_FALSE(s.Contains(Ip("9.255.255.255")));
  EXPECT_TRUE(s.Contains(Ip("10.0.0.0")));
  EXPECT_TRUE(s.Contains(Ip("11.255.255.255")));  // 10/8 and 11/8 merged
  EXPECT_FALSE(s.Contains(Ip("12.0.0.0")));
  EXPECT_FALSE(s.Contains(Ip("192.168.0.255")));
  EXPECT_TRUE(s.Contains(Ip("192.168.1.0")));
  EXPECT_TRUE(s.Contains(Ip("192.168.1.255")));
  EXPECT_FALSE(s.Contains(Ip("192.168.2.0")));
  EXPECT_TRUE(s.Contains(Ip("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(s.Contains(Ip("fe00::")));
  EXPECT_FALSE(s.Contains(Ip("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_TRUE(s.Contains(Ip("2001:db8::")));
  EXPECT_FALSE(s.Contains(Ip("2001:db8::1")));
  // An IPv4 address never matches an IPv6 prefix holding the same bits.
  CidrSet v6;
  v6.Add(*Cidr::Parse("::/96"));
  EXPECT_FALSE(v6.Contains(Ip("10.1.2.3")));
  EXPECT_TRUE(v6.Contains(Ip("::10.1.2.3")));
  EXPECT_FALSE(CidrSet().Contains(Ip("10.1.2.3")));
  EXPECT_FALSE(s.Contains(IpAddress()));  // unset family
}

TEST(CidrSetTest, WholeSpaces) {
  CidrSet s;
  s.Add(*Cidr::Parse("0.0.0.0/0"));
  s.Add(*Cidr::Parse("::/0"));
  s.Add(*Cidr::Parse("ffff::/16"));  // inside ::/0, ending at the last address
  EXPECT_TRUE(s.Contains(Ip("255.255.255.255")));
  EXPECT_TRUE(s.Contains(Ip("0.0.0.0")));
  EXPECT_TRUE(s.Contains(Ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_TRUE(s.Contains(Ip("::")));
}

TEST(CidrSetTest, AgreesWithAScanOnRandomSets) {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 200; ++round) {
    CidrSet s;
    std::vector<Cidr> prefixes;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      IpAddress a;
      a.family = rng() % 2 ? 4 : 6;
      for (size_t b = 0; b < a.size(); ++b) a.bytes[b] = static_cast<uint8_t>(rng());
      // Few distinct leading bytes, so prefixes overlap, nest and touch.
      a.bytes[0] = static_cast<uint8_t>(rng() % 4);
      Cidr c;
      c.prefix = static_cast<uint8_t>(rng() % (a.family == 4 ? 33 : 129));
      auto parsed = Cidr::Parse(a.ToString() + "/" + std::to_string(c.prefix));
      ASSERT_TRUE(parsed.ok());
      prefixes.push_back(*parsed);
      s.Add(*parsed);
    }
    for (int q = 0; q < 2000; ++q) {
      IpAddress a;
      a.family = rng() % 2 ? 4 : 6;
      for (size_t b = 0; b < a.size(); ++b) a.bytes[b] = static_cast<uint8_t>(rng());
      a.bytes[0] = static_cast<uint8_t>(rng() % 4);
      if (q % 3 == 0) {  // on a prefix's first or last address
        const Cidr& c = prefixes[rng() % prefixes.size()];
        a = c.base;
        if (q % 2) {
          for (int bit = c.prefix; bit < (a.family == 4 ? 32 : 128); ++bit) {
            a.bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
          }
        }
      }
      ASSERT_EQ(s.Contains(a), Scan(prefixes, a)) << a.ToString() << " round " << round;
    }
  }
}

}  // namespace
}  // namespace vigie
