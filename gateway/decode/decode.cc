#include "gateway/decode/decode.h"

#include <cstring>

#include "classifiers/byte_reader.h"

namespace vigie {
namespace {

// Link types (pcap LINKTYPE_ values and the DLT_ aliases libpcap reports).
constexpr int kLinkNull = 0;
constexpr int kLinkEthernet = 1;
constexpr int kLinkPpp = 9;
constexpr int kLinkRawDlt = 12;
constexpr int kLinkRawOpenBsd = 14;
constexpr int kLinkPppSerial = 50;
constexpr int kLinkRaw = 101;
constexpr int kLinkLoop = 108;
constexpr int kLinkSll = 113;
constexpr int kLinkIpv4 = 228;
constexpr int kLinkIpv6 = 229;
constexpr int kLinkPktap = 258;
constexpr int kLinkSll2 = 276;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88A8;
constexpr uint16_t kEtherQinQOld = 0x9100;
constexpr uint16_t kEtherMplsUc = 0x8847;
constexpr uint16_t kEtherMplsMc = 0x8848;
constexpr uint16_t kEtherPppoeSession = 0x8864;
constexpr uint16_t kEtherTeb = 0x6558;  // transparent Ethernet bridging (GRE, Geneve)
constexpr uint16_t kEtherPpp = 0x880B;  // PPP in GRE (PPTP)
constexpr uint16_t kEtherErspan2 = 0x88BE;

constexpr uint16_t kPppIpv4 = 0x0021;
constexpr uint16_t kPppIpv6 = 0x0057;

constexpr uint16_t kUdpVxlan = 4789;
constexpr uint16_t kUdpGeneve = 6081;
constexpr uint16_t kUdpGtpU = 2152;

class Decoder {
 public:
  explicit Decoder(DecodedPacket* out) : out_(out) {}

  DecodeStatus Link(int linktype, absl::Span<const uint8_t> frame);
  DecodeStatus Ethernet(absl::Span<const uint8_t> frame);
  DecodeStatus EtherPayload(uint16_t type, absl::Span<const uint8_t> p);
  DecodeStatus Ppp(absl::Span<const uint8_t> p, bool allow_address_control);
  DecodeStatus Mpls(absl::Span<const uint8_t> p);
  DecodeStatus GuessIp(absl::Span<const uint8_t> p);
  DecodeStatus Ipv4(absl::Span<const uint8_t> p);
  DecodeStatus Ipv6(absl::Span<const uint8_t> p);
  DecodeStatus Transport(uint8_t proto, absl::Span<const uint8_t> p);
  DecodeStatus Gre(absl::Span<const uint8_t> p);

 private:
  DecodeStatus Bad(Anomaly a) {
    out_->anomaly = a;
    return DecodeStatus::kMalformed;
  }
  // Entering a tunnel: addresses of the outer packet are replaced by the inner ones.
  bool EnterTunnel() {
    if (out_->encap_depth >= kMaxEncapsulationDepth) return false;
    ++out_->encap_depth;
    return true;
  }
  DecodedPacket* out_;
};

DecodeStatus Decoder::Link(int linktype, absl::Span<const uint8_t> frame) {
  ByteReader r(frame);
  switch (linktype) {
    case kLinkEthernet:
      return Ethernet(frame);
    case kLinkRaw:
    case kLinkRawDlt:
    case kLinkRawOpenBsd:
      return GuessIp(frame);
    case kLinkIpv4:
      return Ipv4(frame);
    case kLinkIpv6:
      return Ipv6(frame);
    case kLinkNull:
    case kLinkLoop: {
      // 4-byte address family: host order for NULL, network order for LOOP.
      auto fam = r.ReadBytes(4);
      if (!r.ok()) return Bad(Anomaly::k_link_truncated);
      uint32_t af_le = fam[0] | (fam[1] << 8) | (fam[2] << 16) | (uint32_t{fam[3]} << 24);
      uint32_t af_be = (uint32_t{fam[0]} << 24) | (fam[1] << 16) | (fam[2] << 8) | fam[3];
      uint32_t af = (af_le < 256) ? af_le : af_be;
      if (af == 2) return Ipv4(r.rest());
      if (af == 10 || af == 24 || af == 28 || af == 30) return Ipv6(r.rest());
      return DecodeStatus::kNotIp;
    }
    case kLinkPpp:
    case kLinkPppSerial:
      return Ppp(frame, true);
    case kLinkSll: {
      // Linux cooked v1: type(2) arphrd(2) addrlen(2) addr(8) protocol(2).
      r.Skip(14);
      uint16_t proto = r.ReadU16();
      if (!r.ok()) return Bad(Anomaly::k_link_truncated);
      return EtherPayload(proto, r.rest());
    }
    case kLinkSll2: {
      // Linux cooked v2: protocol(2) reserved(2) ifindex(4) arphrd(2) type(1) addrlen(1) addr(8).
      uint16_t proto = r.ReadU16();
      r.Skip(18);
      if (!r.ok()) return Bad(Anomaly::k_link_truncated);
      return EtherPayload(proto, r.rest());
    }
    case kLinkPktap: {
      // Apple PKTAP: little-endian header; pth_length(4) pth_type_next(4) ...
      auto hdr = r.ReadBytes(8);
      if (!r.ok()) return Bad(Anomaly::k_link_truncated);
      uint32_t len = hdr[0] | (hdr[1] << 8) | (hdr[2] << 16) | (uint32_t{hdr[3]} << 24);
      uint32_t next = hdr[4] | (hdr[5] << 8) | (hdr[6] << 16) | (uint32_t{hdr[7]} << 24);
      if (len < 8 || len > frame.size()) return Bad(Anomaly::k_link_truncated);
      if (next == kLinkPktap) return Bad(Anomaly::k_link_unsupported);
      return Link(static_cast<int>(next), frame.subspan(len));
    }
    default:
      return Bad(Anomaly::k_link_unsupported);
  }
}

DecodeStatus Decoder::Ethernet(absl::Span<const uint8_t> frame) {
  ByteReader r(frame);
  r.Skip(12);  // destination and source MAC
  uint16_t type = r.ReadU16();
  if (!r.ok()) return Bad(Anomaly::k_link_truncated);
  if (type < 0x0600) return DecodeStatus::kNotIp;  // 802.3 length: LLC, STP, ...
  return EtherPayload(type, r.rest());
}

DecodeStatus Decoder::EtherPayload(uint16_t type, absl::Span<const uint8_t> p) {
  ByteReader r(p);
  // VLAN tags, any depth (QinQ and the old 0x9100 alike).
  int tags = 0;
  while (type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld) {
    r.Skip(2);  // PCP, DEI, VID
    type = r.ReadU16();
    if (!r.ok()) return Bad(Anomaly::k_vlan_truncated);
    if (++tags > kMaxEncapsulationDepth) return Bad(Anomaly::k_vlan_truncated);
  }
  switch (type) {
    case kEtherIpv4:
      return Ipv4(r.rest());
    case kEtherIpv6:
      return Ipv6(r.rest());
    case kEtherMplsUc:
    case kEtherMplsMc:
      return Mpls(r.rest());
    case kEtherPppoeSession: {
      // RFC 2516: ver/type(1) code(1) session(2) length(2), then PPP protocol.
      r.Skip(4);
      uint16_t len = r.ReadU16();
      if (!r.ok()) return Bad(Anomaly::k_pppoe_truncated);
      absl::Span<const uint8_t> body = r.rest();
      if (len < body.size()) body = body.first(len);
      return Ppp(body, false);
    }
    default:
      return DecodeStatus::kNotIp;
  }
}

DecodeStatus Decoder::Ppp(absl::Span<const uint8_t> p, bool allow_address_control) {
  ByteReader r(p);
  if (allow_address_control && r.remaining() >= 2 && p[0] == 0xFF && p[1] == 0x03) r.Skip(2);
  // Protocol field: 1 byte when its low bit is set (RFC 1661 §6.5 compression).
  uint16_t proto = r.ReadU8();
  if (!(proto & 1)) proto = static_cast<uint16_t>((proto << 8) | r.ReadU8());
  if (!r.ok()) return Bad(Anomaly::k_pppoe_truncated);
  if (proto == kPppIpv4) return Ipv4(r.rest());
  if (proto == kPppIpv6) return Ipv6(r.rest());
  return DecodeStatus::kNotIp;
}

DecodeStatus Decoder::Mpls(absl::Span<const uint8_t> p) {
  ByteReader r(p);
  for (int i = 0; i < kMaxMplsLabels; ++i) {
    uint32_t entry = r.ReadU32();
    if (!r.ok()) return Bad(Anomaly::k_mpls_truncated);
    if (entry & 0x100) {  // bottom of stack
      absl::Span<const uint8_t> rest = r.rest();
      if (rest.empty()) return Bad(Anomaly::k_mpls_truncated);
      uint8_t nibble = rest[0] >> 4;
      if (nibble == 4 || nibble == 6) return GuessIp(rest);
      if (nibble == 0 && rest.size() > 4) return Ethernet(rest.subspan(4));  // PW control word
      return DecodeStatus::kNotIp;
    }
  }
  return Bad(Anomaly::k_mpls_truncated);
}

DecodeStatus Decoder::GuessIp(absl::Span<const uint8_t> p) {
  if (p.empty()) return Bad(Anomaly::k_link_truncated);
  uint8_t v = p[0] >> 4;
  if (v == 4) return Ipv4(p);
  if (v == 6) return Ipv6(p);
  return DecodeStatus::kNotIp;
}

DecodeStatus Decoder::Ipv4(absl::Span<const uint8_t> p) {
  ByteReader r(p);
  uint8_t vihl = r.ReadU8();
  r.Skip(1);  // DSCP/ECN
  uint16_t total = r.ReadU16();
  uint16_t id = r.ReadU16();
  uint16_t frag = r.ReadU16();
  out_->ip_ttl = r.ReadU8();
  uint8_t proto = r.ReadU8();
  r.Skip(2);  // checksum (not verified: captures are often offloaded)
  auto addrs = r.ReadBytes(8);
  if (!r.ok()) return Bad(Anomaly::k_ipv4_truncated);
  size_t ihl = size_t{vihl & 0x0Fu} * 4;
  if ((vihl >> 4) != 4 || ihl < 20) return Bad(Anomaly::k_ipv4_bad_header);
  if (ihl > p.size()) return Bad(Anomaly::k_ipv4_truncated);
  size_t end = total;
  if (total < ihl) {
    // A total length of 0 is what TSO offload leaves in captures; trust the frame.
    out_->note = Anomaly::k_ipv4_bad_total_length;
    end = p.size();
  } else if (total > p.size()) {
    out_->note = Anomaly::k_ipv4_bad_total_length;
    end = p.size();
  }
  out_->src.SetV4(addrs.data());
  out_->dst.SetV4(addrs.data() + 4);
  absl::Span<const uint8_t> payload = p.subspan(ihl, end - ihl);
  uint16_t offset = static_cast<uint16_t>((frag & 0x1FFF) * 8);
  bool more = frag & 0x2000;
  if (offset != 0 || more) {
    out_->l4_proto = proto;
    out_->frag.id = id;
    out_->frag.offset = offset;
    out_->frag.more = more;
    out_->frag.proto = proto;
    out_->frag.data = payload;
    return DecodeStatus::kFragment;
  }
  return Transport(proto, payload);
}

DecodeStatus Decoder::Ipv6(absl::Span<const uint8_t> p) {
  ByteReader r(p);
  uint32_t vtcfl = r.ReadU32();
  uint16_t plen = r.ReadU16();
  uint8_t next = r.ReadU8();
  out_->ip_ttl = r.ReadU8();  // hop limit
  auto addrs = r.ReadBytes(32);
  if (!r.ok()) return Bad(Anomaly::k_ipv6_truncated);
  if ((vtcfl >> 28) != 6) return Bad(Anomaly::k_ipv6_truncated);
  out_->src = IpAddress::V6(addrs.data());
  out_->dst = IpAddress::V6(addrs.data() + 16);
  absl::Span<const uint8_t> payload = r.rest();
  if (plen == 0) {
    // Jumbogram or TSO capture: use what was captured.
  } else if (plen > payload.size()) {
    out_->note = Anomaly::k_ipv6_bad_payload_length;
  } else {
    payload = payload.first(plen);
  }
  ByteReader x(payload);
  bool fragment = false;
  for (int i = 0;; ++i) {
    if (i > kMaxIpv6ExtensionHeaders) return Bad(Anomaly::k_ipv6_ext_too_many);
    switch (next) {
      case 0:    // hop-by-hop options
      case 43:   // routing
      case 60:   // destination options
      case 135:  // mobility
      case 139:  // HIP
      case 140: {  // shim6
        uint8_t n = x.ReadU8();
        uint8_t len = x.ReadU8();
        x.Skip(size_t{len} * 8 + 6);
        if (!x.ok()) return Bad(Anomaly::k_ipv6_truncated);
        next = n;
        continue;
      }
      case 51: {  // AH: length in 4-byte units minus 2
        uint8_t n = x.ReadU8();
        uint8_t len = x.ReadU8();
        x.Skip(size_t{len} * 4 + 6);
        if (!x.ok()) return Bad(Anomaly::k_ipv6_truncated);
        next = n;
        continue;
      }
      case 44: {  // fragment
        uint8_t n = x.ReadU8();
        x.Skip(1);
        uint16_t off = x.ReadU16();
        uint32_t id = x.ReadU32();
        if (!x.ok()) return Bad(Anomaly::k_ipv6_truncated);
        next = n;
        uint32_t offset = static_cast<uint32_t>(off & 0xFFF8);
        bool more = off & 1;
        if (offset != 0 || more) {
          out_->frag.id = id;
          out_->frag.offset = offset;
          out_->frag.more = more;
          out_->frag.proto = n;
          out_->frag.data = x.rest();
          out_->l4_proto = n;
          fragment = true;
        }
        if (fragment) return DecodeStatus::kFragment;
        continue;  // atomic fragment (RFC 6946): go on
      }
      default:
        return Transport(next, x.rest());
    }
  }
}

DecodeStatus Decoder::Gre(absl::Span<const uint8_t> p) {
  ByteReader r(p);
  uint16_t flags = r.ReadU16();
  uint16_t type = r.ReadU16();
  if (!r.ok()) return Bad(Anomaly::k_tunnel_truncated);
  uint8_t version = flags & 0x7;
  if (flags & 0x8000) r.Skip(4);  // checksum + reserved (C)
  if (flags & 0x2000) r.Skip(4);  // key (K); PPTP: payload length + call id
  if (flags & 0x1000) r.Skip(4);  // sequence (S)
  if (version == 1 && (flags & 0x0080)) r.Skip(4);  // PPTP acknowledgment (A)
  if (!r.ok()) return Bad(Anomaly::k_tunnel_truncated);
  if (type == kEtherPpp) return Ppp(r.rest(), true);
  if (type == kEtherTeb) return Ethernet(r.rest());
  if (type == kEtherErspan2) {
    r.Skip(8);  // ERSPAN type II header
    if (!r.ok()) return Bad(Anomaly::k_tunnel_truncated);
    return Ethernet(r.rest());
  }
  return EtherPayload(type, r.rest());
}

DecodeStatus Decoder::Transport(uint8_t proto, absl::Span<const uint8_t> p) {
  out_->l4_proto = proto;
  ByteReader r(p);
  switch (proto) {
    case 4:   // IPv4 in IP
    case 41:  // IPv6 in IP (6in4)
    case 47:  // GRE
      if (!EnterTunnel()) return Bad(Anomaly::k_tunnel_too_deep);
      if (proto == 4) return Ipv4(p);
      if (proto == 41) return Ipv6(p);
      return Gre(p);
    case kProtoUdp: {
      out_->l4 = p;
      uint16_t sport = r.ReadU16();
      uint16_t dport = r.ReadU16();
      uint16_t len = r.ReadU16();
      r.Skip(2);  // checksum
      if (!r.ok()) return Bad(Anomaly::k_udp_truncated);
      absl::Span<const uint8_t> payload = r.rest();
      if (len >= 8 && size_t{len} - 8 < payload.size()) payload = payload.first(len - 8);
      if (dport == kUdpVxlan || dport == kUdpGeneve || dport == kUdpGtpU) {
        // Tunnels are followed only when their header is well formed and it
        // carries a packet that decodes; else the datagram is ordinary UDP
        // (QUIC or DNS on a tunnel's port is still read).
        const DecodedPacket outer = *out_;
        auto inner = [&](DecodeStatus st) {
          if (st == DecodeStatus::kOk || st == DecodeStatus::kFragment) return true;
          *out_ = outer;
          return false;
        };
        ByteReader t(payload);
        if (dport == kUdpVxlan) {
          uint8_t flags = t.ReadU8();
          t.Skip(7);
          if (t.ok() && (flags & 0x08) && EnterTunnel() && inner(Ethernet(t.rest()))) {
            return out_->frag.data.empty() ? DecodeStatus::kOk : DecodeStatus::kFragment;
          }
        } else if (dport == kUdpGeneve) {
          uint8_t vlen = t.ReadU8();
          t.Skip(1);
          uint16_t ptype = t.ReadU16();
          t.Skip(4 + size_t{vlen & 0x3Fu} * 4);
          if (t.ok() && (vlen >> 6) == 0 && EnterTunnel() &&
              inner(ptype == kEtherTeb ? Ethernet(t.rest()) : EtherPayload(ptype, t.rest()))) {
            return out_->frag.data.empty() ? DecodeStatus::kOk : DecodeStatus::kFragment;
          }
        } else {
          // GTP-U (3GPP TS 29.281): flags(1) type(1) length(2) TEID(4) [seq npdu next-ext].
          uint8_t flags = t.ReadU8();
          uint8_t type = t.ReadU8();
          t.Skip(6);
          if (t.ok() && (flags >> 5) == 1 && type == 0xFF) {
            if (flags & 0x07) {
              t.Skip(3);
              uint8_t ext = t.ReadU8();
              int hops = 0;
              while (t.ok() && ext != 0 && hops++ < kMaxEncapsulationDepth) {
                uint8_t elen = t.ReadU8();  // in 4-byte units, including this byte and next-type
                if (elen == 0) {
                  t.Fail();
                  break;
                }
                t.Skip(size_t{elen} * 4 - 2);
                ext = t.ReadU8();
              }
            }
            if (t.ok() && EnterTunnel() && inner(GuessIp(t.rest()))) return out_->frag.data.empty() ? DecodeStatus::kOk : DecodeStatus::kFragment;
          }
        }
      }
      out_->src_port = sport;
      out_->dst_port = dport;
      out_->payload = payload;
      return DecodeStatus::kOk;
    }
    case kProtoTcp: {
      out_->l4 = p;
      uint16_t sport = r.ReadU16();
      uint16_t dport = r.ReadU16();
      uint32_t seq = r.ReadU32();
      uint32_t ack = r.ReadU32();
      uint8_t off = r.ReadU8();
      uint8_t flags = r.ReadU8();
      if (!r.ok()) return Bad(Anomaly::k_tcp_truncated);
      size_t hlen = static_cast<size_t>(off >> 4) * 4;
      if (hlen < 20) return Bad(Anomaly::k_tcp_bad_offset);
      if (hlen > p.size()) return Bad(Anomaly::k_tcp_truncated);
      out_->src_port = sport;
      out_->dst_port = dport;
      out_->tcp_seq = seq;
      out_->tcp_ack = ack;
      out_->tcp_flags = flags;
      out_->payload = p.subspan(hlen);
      out_->tcp_urgent = static_cast<uint16_t>(p.size() >= 20 ? (p[18] << 8) | p[19] : 0);
      out_->tcp_md5 = HasTcpMd5Option(p.subspan(20, hlen - 20));
      return DecodeStatus::kOk;
    }
    default:
      out_->payload = p;
      return DecodeStatus::kOk;
  }
}

}  // namespace

bool HasTcpMd5Option(absl::Span<const uint8_t> options) {
  ByteReader r(options);
  while (r.ok() && r.remaining() > 0) {
    uint8_t kind = r.ReadU8();
    if (kind == 0) break;     // end of option list
    if (kind == 1) continue;  // no-operation
    uint8_t len = r.ReadU8();
    if (!r.ok() || len < 2) break;
    if (kind == 19) return true;  // TCP MD5 signature (RFC 2385)
    r.Skip(size_t{len} - 2);
  }
  return false;
}

DecodeStatus DecodeFrame(int linktype, absl::Span<const uint8_t> frame, DecodedPacket* out) {
  // Copied from a constant rather than `*out = DecodedPacket()`: that builds a
  // temporary, clears it with `rep stos` (tens of cycles to start) and copies
  // it; this is ten 16-byte moves (2% of the replay profile before).
  static const DecodedPacket kEmpty;
  *out = kEmpty;
  return Decoder(out).Link(linktype, frame);
}

DecodeStatus DecodeIpPayload(uint8_t proto, absl::Span<const uint8_t> payload, DecodedPacket* out) {
  out->frag = FragmentInfo();
  return Decoder(out).Transport(proto, payload);
}

namespace {
// One's-complement sum (RFC 1071) of `n` bytes in the host's byte order: the
// 16-bit words are added as loaded, 8 bytes at a time with the carries kept,
// which gives the big-endian sum byte-swapped on a little-endian host
// (RFC 1071 §2(B)); a sum is compared with 0xFFFF, the same either way.
uint64_t AddCarry(uint64_t sum, uint64_t w) {
  sum += w;
  return sum + (sum < w);
}

uint64_t SumNative(const uint8_t* p, size_t n, uint64_t sum) {
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    sum = AddCarry(sum, w);
  }
  uint8_t tail[8] = {};  // the last 0-7 bytes, zero-padded (an odd last byte is a word's high byte on the wire)
  if (n > 0) std::memcpy(tail, p, n);
  uint64_t w;
  std::memcpy(&w, tail, 8);
  return AddCarry(sum, w);
}

// A pseudo-header field of the wire's value `v` (16 bits), as SumNative sees it.
uint64_t WireWord(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  uint16_t w;
  std::memcpy(&w, b, 2);
  return w;
}

uint16_t Fold(uint64_t sum) {
  sum = (sum & 0xFFFFFFFF) + (sum >> 32);  // <= 2^33 - 2
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}
}  // namespace

bool TransportChecksumOk(const DecodedPacket& pkt) {
  absl::Span<const uint8_t> l4 = pkt.l4;
  if (pkt.l4_proto == kProtoUdp) {
    if (l4.size() < 8) return false;
    // The UDP length may be shorter than the IP payload (trailing bytes are not summed).
    size_t len = (size_t{l4[4]} << 8) | l4[5];
    if (len >= 8 && len < l4.size()) l4 = l4.first(len);
    if (l4[6] == 0 && l4[7] == 0 && pkt.src.family == 4) return true;  // no checksum
  } else if (pkt.l4_proto != kProtoTcp || l4.size() < 20) {
    return false;
  }
  // Pseudo-header (RFC 768, RFC 9293 §3.1, RFC 8200 §8.1): addresses, protocol, length.
  const size_t alen = pkt.src.family == 4 ? 4 : 16;
  uint64_t sum = SumNative(pkt.src.bytes, alen, 0);
  sum = SumNative(pkt.dst.bytes, alen, sum);
  sum = AddCarry(sum, WireWord(pkt.l4_proto));
  sum = AddCarry(sum, WireWord(static_cast<uint16_t>(l4.size() >> 16)));
  sum = AddCarry(sum, WireWord(static_cast<uint16_t>(l4.size())));
  sum = SumNative(l4.data(), l4.size(), sum);
  return Fold(sum) == 0xFFFF;
}

}  // namespace vigie
