// SHA-1 through the low-level interface: a stack context, no allocation (see
// community_id.h). Deprecated in OpenSSL 3.0 but kept, like classifiers/quic.cc.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "gateway/output/community_id.h"

#include <cstring>
#include <utility>

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace vigie {
namespace {

// Hash input: seed (2) . saddr (16) . daddr (16) . proto (1) . pad (1) .
// sport (2) . dport (2) at most (spec "Pseudo code").
constexpr size_t kMaxHashInput = 2 + 16 + 16 + 1 + 1 + 2 + 2;
constexpr size_t kSha1Length = 20;

// ICMPv4 request/reply pairs (RFC 792, 950, 1256): echo, timestamp,
// information, router solicitation/advertisement, address mask.
int Icmp4Counterpart(uint8_t type) {
  switch (type) {
    case 8: return 0;    case 0: return 8;      // echo request / reply
    case 13: return 14;  case 14: return 13;    // timestamp
    case 15: return 16;  case 16: return 15;    // information
    case 10: return 9;   case 9: return 10;     // router solicitation / advertisement
    case 17: return 18;  case 18: return 17;    // address mask
    default: return -1;
  }
}

// ICMPv6 pairs (RFC 4443, 4861, 2710, 4620, 6275).
int Icmp6Counterpart(uint8_t type) {
  switch (type) {
    case 128: return 129;  case 129: return 128;  // echo request / reply
    case 133: return 134;  case 134: return 133;  // router solicitation / advertisement
    case 135: return 136;  case 136: return 135;  // neighbor solicitation / advertisement
    case 130: return 131;  case 131: return 130;  // MLD query / report
    case 139: return 140;  case 140: return 139;  // node information query / reply
    case 144: return 145;  case 145: return 144;  // home agent address discovery
    default: return -1;
  }
}

bool HasPorts(uint8_t proto) {
  return proto == kIpProtoTcp || proto == kIpProtoUdp || proto == kIpProtoSctp ||
         proto == kIpProtoIcmp || proto == kIpProtoIcmpv6;
}

void PutU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace

IcmpPorts CommunityIdIcmpPorts(bool v6, uint8_t type, uint8_t code) {
  const int counter = v6 ? Icmp6Counterpart(type) : Icmp4Counterpart(type);
  if (counter < 0) return {type, code, true};
  return {type, static_cast<uint16_t>(counter), false};
}

std::string_view CommunityIdHasher::Compute(const CommunityIdTuple& t, CommunityIdBuffer* out) const {
  (*out)[0] = '\0';
  if (t.family != 4 && t.family != 6) return {};
  const size_t alen = t.family == 4 ? 4 : 16;

  uint16_t sport = t.src_port, dport = t.dst_port;
  bool one_way = false;
  if (t.proto == kIpProtoIcmp || t.proto == kIpProtoIcmpv6) {
    const IcmpPorts p = CommunityIdIcmpPorts(t.proto == kIpProtoIcmpv6, t.icmp_type, t.icmp_code);
    sport = p.src;
    dport = p.dst;
    one_way = p.one_way;
  }
  const bool ports = HasPorts(t.proto);

  // Smaller (address, port) endpoint first; one-way ICMP keeps the wire order.
  const int cmp = std::memcmp(t.src, t.dst, alen);
  const bool keep = one_way || cmp < 0 || (cmp == 0 && (!ports || sport <= dport));
  const uint8_t* a = keep ? t.src : t.dst;
  const uint8_t* b = keep ? t.dst : t.src;
  if (!keep) std::swap(sport, dport);

  uint8_t in[kMaxHashInput];
  size_t n = 0;
  PutU16(in + n, seed_);
  n += 2;
  std::memcpy(in + n, a, alen);
  n += alen;
  std::memcpy(in + n, b, alen);
  n += alen;
  in[n++] = t.proto;
  in[n++] = 0;  // padding: the input stays 32-bit aligned
  if (ports) {
    PutU16(in + n, sport);
    PutU16(in + n + 2, dport);
    n += 4;
  }

  static_assert(SHA_DIGEST_LENGTH == kSha1Length);
  uint8_t digest[kSha1Length];
  SHA_CTX ctx;
  if (SHA1_Init(&ctx) != 1 || SHA1_Update(&ctx, in, n) != 1 || SHA1_Final(digest, &ctx) != 1) return {};
  char* p = out->data();
  p[0] = '1';
  p[1] = ':';
  // EVP_EncodeBlock writes 28 characters and a NUL for 20 bytes.
  const int b64 = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(p + 2), digest, kSha1Length);
  if (b64 != static_cast<int>(kCommunityIdLength - 2)) {
    p[0] = '\0';
    return {};
  }
  return std::string_view(p, kCommunityIdLength);
}

}  // namespace vigie
