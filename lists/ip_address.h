// IP addresses and CIDR prefixes, IPv4 and IPv6, as plain values.
//
// Thread safety: values. No allocation except ToString()/Parse at the edges.
#ifndef VIGIE_LISTS_IP_ADDRESS_H_
#define VIGIE_LISTS_IP_ADDRESS_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace vigie {

struct IpAddress {
  uint8_t family = 0;  // 4 or 6; 0 = unset
  uint8_t bytes[16] = {};  // IPv4 uses bytes[0..3], the rest stay zero

  static IpAddress V4(const uint8_t* p) {
    IpAddress a;
    a.family = 4;
    std::memcpy(a.bytes, p, 4);
    return a;
  }
  static IpAddress V6(const uint8_t* p) {
    IpAddress a;
    a.family = 6;
    std::memcpy(a.bytes, p, 16);
    return a;
  }
  // Sets *this to the IPv4 address at p in place. On a hot path this beats
  // `x = V4(p)`, which builds the 17 bytes on the stack with a 4-byte store
  // and reloads them as 16 (a store-forwarding stall, ~60% of the decoder's
  // IPv4 time in the replay profile).
  void SetV4(const uint8_t* p) {
    family = 4;
    std::memcpy(bytes, p, 4);
    std::memset(bytes + 4, 0, 12);
  }
  static absl::StatusOr<IpAddress> Parse(std::string_view text);

  size_t size() const { return family == 4 ? 4 : 16; }
  // Writes the text form into buf (at least 46 bytes); returns its length.
  size_t Format(char* buf) const;
  std::string ToString() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family == b.family && std::memcmp(a.bytes, b.bytes, 16) == 0;
  }
  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& a) {
    return H::combine_contiguous(std::move(h), a.bytes, 16) ;
  }
};

struct Cidr {
  IpAddress base;  // masked
  uint8_t prefix = 0;
  bool Contains(const IpAddress& a) const;
  static absl::StatusOr<Cidr> Parse(std::string_view text);  // "10.0.0.0/8", "fc00::/7", "10.1.2.3" (= /32)
  std::string ToString() const;
};

// A set of prefixes. Add() also merges them into disjoint, sorted address
// ranges per family, so Contains() (the managed-scope test of every packet)
// is one binary search, whatever the number of prefixes.
class CidrSet {
 public:
  void Add(const Cidr& c);
  bool Contains(const IpAddress& a) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }
  // The prefixes as added, longest first.
  const std::vector<Cidr>& v4() const { return v4_; }
  const std::vector<Cidr>& v6() const { return v6_; }

 private:
  // An address as a 128-bit number (IPv4: the low 32 bits), high word first.
  struct Key {
    uint64_t hi = 0, lo = 0;
    friend bool operator<(const Key& x, const Key& y) { return x.hi < y.hi || (x.hi == y.hi && x.lo < y.lo); }
  };
  struct Range {
    Key first, last;  // inclusive
  };
  static Key KeyOf(const IpAddress& a);
  std::vector<Cidr> v4_, v6_;
  std::vector<Range> ranges4_, ranges6_;  // disjoint, sorted, not adjacent
};

}  // namespace vigie

#endif  // VIGIE_LISTS_IP_ADDRESS_H_
