// Community ID v1 flow hashes (github.com/corelight/community-id-spec), the
// string Zeek, Suricata, tshark and Arkime attach to a flow so that a SOC can
// pivot between their logs: "1:" + base64(SHA-1(seed . addr . addr . proto .
// 0 . port . port)), endpoints ordered so both directions give the same value.
//
//   TCP (6), UDP (17), SCTP (132): the ports.
//   ICMP (1), ICMPv6 (58): type and counter-type (request/reply pairs, e.g.
//     echo 8 <-> 0, ND 135 <-> 136) or, for one-way types (errors, redirects),
//     type and code with the endpoints left as seen (spec "ICMP"; Zeek's
//     ICMP4_counterpart / ICMP6_counterpart, pycommunityid icmp.py/icmp6.py).
//   Any other protocol number: addresses and protocol only (no ports).
// Compute the value on the innermost IP header, as Zeek and tshark do.
//
// Cost: SHA-1 through OpenSSL's low-level SHA1_Init/Update/Final on a stack
// SHA_CTX, as classifiers/quic.cc does for SHA-256: OpenSSL 3.0's EVP_MD_CTX
// frees and re-creates its provider context on every EVP_DigestInit_ex (one
// malloc per call, measured), so a reused EVP context is not allocation-free.
// Compute() allocates nothing (community_id_test counts OpenSSL's
// allocations) and writes into the caller's fixed CommunityIdBuffer.
// Thread safety: a hasher is an immutable value; Compute() is const and safe
// from any number of threads.
#ifndef VIGIE_GATEWAY_OUTPUT_COMMUNITY_ID_H_
#define VIGIE_GATEWAY_OUTPUT_COMMUNITY_ID_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigie {

// IP protocol numbers with their own tuple rules (IANA "Protocol Numbers").
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;
inline constexpr uint8_t kIpProtoSctp = 132;

// "1:" and the base64 of a 20-byte SHA-1 digest (4 * ceil(20 / 3) = 28).
inline constexpr size_t kCommunityIdLength = 2 + 28;
// The value plus the NUL that EVP_EncodeBlock writes.
using CommunityIdBuffer = std::array<char, kCommunityIdLength + 1>;

// One packet's flow tuple, as seen on the wire (source = the packet's source).
struct CommunityIdTuple {
  uint8_t family = 0;        // 4 or 6; anything else gives no value
  uint8_t src[16] = {};      // IPv4 uses src[0..3]
  uint8_t dst[16] = {};
  uint8_t proto = 0;         // IP protocol number (innermost header)
  uint16_t src_port = 0;     // TCP, UDP, SCTP; host byte order
  uint16_t dst_port = 0;
  uint8_t icmp_type = 0;     // ICMP, ICMPv6
  uint8_t icmp_code = 0;
};

class CommunityIdHasher {
 public:
  // `seed`: the spec's seed (default 0; Suricata `community-id-seed`, Zeek
  // `CommunityID::seed`).
  explicit CommunityIdHasher(uint16_t seed = 0) : seed_(seed) {}

  // Writes "1:<base64>" (kCommunityIdLength chars, NUL-terminated) into
  // `out` and returns a view of it; returns an empty view (and `out` holds
  // "") when the family is neither 4 nor 6.
  std::string_view Compute(const CommunityIdTuple& t, CommunityIdBuffer* out) const;

  uint16_t seed() const { return seed_; }

 private:
  uint16_t seed_ = 0;
};

// The ICMP "ports" of the spec: {type, counter-type} for request/reply types,
// else {type, code} with one_way set (the endpoints are not reordered).
// `v6`: ICMPv6 type numbers. Exposed for tests and for explain output.
struct IcmpPorts {
  uint16_t src = 0;
  uint16_t dst = 0;
  bool one_way = false;
};
IcmpPorts CommunityIdIcmpPorts(bool v6, uint8_t type, uint8_t code);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_COMMUNITY_ID_H_
