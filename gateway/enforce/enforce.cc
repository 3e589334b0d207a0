#include "gateway/enforce/enforce.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "classifiers/dns.h"
#include "gateway/base/absl_compat.h"
#include "gateway/decode/decode.h"

// ldns/common.h defines `bool`: last, and only here.
#include <ldns/ldns.h>

namespace vigie {
namespace {

constexpr uint8_t kTcpFlagRst = 0x04;
constexpr uint8_t kTcpFlagPsh = 0x08;
constexpr uint8_t kTcpFlagAck = 0x10;
constexpr size_t kIpv4HeaderBytes = 20;
constexpr size_t kIpv6HeaderBytes = 40;
constexpr size_t kTcpHeaderBytes = 20;
constexpr size_t kUdpHeaderBytes = 8;
// DNS over TCP length prefix (RFC 1035 §4.2.2).
constexpr size_t kDnsTcpPrefix = 2;

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

uint32_t SumBytes(const uint8_t* p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}
uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// IP header + transport bytes (`l4`, checksum field at `csum_off` zero) ->
// a whole packet with the transport checksum (RFC 768, RFC 9293 §3.1, RFC 8200
// §8.1 pseudo-headers) and the IPv4 header checksum filled in.
std::vector<uint8_t> Wrap(const IpAddress& src, const IpAddress& dst, uint8_t proto, std::vector<uint8_t> l4,
                          size_t csum_off) {
  std::vector<uint8_t> out;
  uint32_t sum = 0;
  if (src.family == 4) {
    out.resize(kIpv4HeaderBytes);
    uint8_t* h = out.data();
    h[0] = 0x45;
    Put16(h + 2, static_cast<uint16_t>(kIpv4HeaderBytes + l4.size()));
    Put16(h + 6, 0x4000);  // DF
    h[8] = kForgedTtl;
    h[9] = proto;
    std::memcpy(h + 12, src.bytes, 4);
    std::memcpy(h + 16, dst.bytes, 4);
    Put16(h + 10, Fold(SumBytes(h, kIpv4HeaderBytes, 0)));
    sum = SumBytes(src.bytes, 4, sum);
    sum = SumBytes(dst.bytes, 4, sum);
  } else {
    out.resize(kIpv6HeaderBytes);
    uint8_t* h = out.data();
    h[0] = 0x60;
    Put16(h + 4, static_cast<uint16_t>(l4.size()));
    h[6] = proto;
    h[7] = kForgedTtl;
    std::memcpy(h + 8, src.bytes, 16);
    std::memcpy(h + 24, dst.bytes, 16);
    sum = SumBytes(src.bytes, 16, sum);
    sum = SumBytes(dst.bytes, 16, sum);
  }
  sum += proto;
  sum += static_cast<uint32_t>(l4.size() & 0xffff);
  sum += static_cast<uint32_t>(l4.size() >> 16);
  uint16_t c = Fold(SumBytes(l4.data(), l4.size(), sum));
  if (proto == kProtoUdp && c == 0) c = 0xffff;  // RFC 768: zero means "no checksum"
  Put16(l4.data() + csum_off, c);
  out.insert(out.end(), l4.begin(), l4.end());
  return out;
}

}  // namespace

DnsBlockOptions DnsBlockOptionsFrom(const Config& c) {
  DnsBlockOptions o;
  o.sinkhole = c.block_answer == "sinkhole";
  o.sinkhole_v4 = c.sinkhole_v4;
  o.sinkhole_v6 = c.sinkhole_v6;
  return o;
}

std::string BlockedText(std::string_view app) {
  if (app.empty()) return "vigie: blocked";
  return absl::StrCat("vigie: blocked app ", AV(app));
}

std::vector<uint8_t> BuildUdpPacket(const IpAddress& src, const IpAddress& dst, uint16_t sport, uint16_t dport,
                                    absl::Span<const uint8_t> payload) {
  std::vector<uint8_t> l4(kUdpHeaderBytes + payload.size());
  Put16(l4.data(), sport);
  Put16(l4.data() + 2, dport);
  Put16(l4.data() + 4, static_cast<uint16_t>(l4.size()));
  if (!payload.empty()) std::memcpy(l4.data() + kUdpHeaderBytes, payload.data(), payload.size());
  return Wrap(src, dst, kProtoUdp, std::move(l4), 6);
}

std::vector<uint8_t> BuildTcpPacket(const IpAddress& src, const IpAddress& dst, uint16_t sport, uint16_t dport,
                                    uint32_t seq, uint32_t ack, uint8_t flags, absl::Span<const uint8_t> payload) {
  std::vector<uint8_t> l4(kTcpHeaderBytes + payload.size());
  uint8_t* t = l4.data();
  Put16(t, sport);
  Put16(t + 2, dport);
  Put32(t + 4, seq);
  Put32(t + 8, ack);
  t[12] = (kTcpHeaderBytes / 4) << 4;
  t[13] = flags;
  Put16(t + 14, (flags & kTcpFlagRst) ? 0 : 65535);  // window
  if (!payload.empty()) std::memcpy(t + kTcpHeaderBytes, payload.data(), payload.size());
  return Wrap(src, dst, kProtoTcp, std::move(l4), 16);
}

std::vector<uint8_t> BuildBlockedDnsAnswer(absl::Span<const uint8_t> query, std::string_view app,
                                           const DnsBlockOptions& opts) {
  DnsMessageInfo info;
  DnsParseResult r = ParseDnsMessage(query, &info);
  if (r.status != ParseStatus::kOk || info.is_response || info.opcode != 0 || info.question_count == 0) return {};
  for (uint8_t i = 0; i < info.question_count; ++i) {
    if (info.questions[i].odd_bytes) return {};  // ldns's text form would not carry it back unchanged
  }
  const bool rd = query[2] & 0x01;  // header is whole: ParseDnsMessage returned kOk
  const bool edns = info.arcount > 0;  // the only additional record a query carries is its OPT

  ldns_pkt* pkt = ldns_pkt_new();
  if (pkt == nullptr) return {};
  ldns_pkt_set_id(pkt, info.id);
  ldns_pkt_set_qr(pkt, true);
  ldns_pkt_set_opcode(pkt, LDNS_PACKET_QUERY);
  ldns_pkt_set_rd(pkt, rd);
  ldns_pkt_set_ra(pkt, true);
  bool any_answer = false;
  bool ok = true;
  for (uint8_t i = 0; i < info.question_count && ok; ++i) {
    const DnsQuestion& q = info.questions[i];
    std::string name = q.name_len ? std::string(q.view()) : std::string(".");
    ldns_rdf* owner = ldns_dname_new_frm_str(name.c_str());
    if (owner == nullptr) {
      ok = false;
      break;
    }
    ldns_rr* qrr = ldns_rr_new();
    ldns_rr_set_question(qrr, true);
    ldns_rr_set_owner(qrr, owner);
    ldns_rr_set_type(qrr, static_cast<ldns_rr_type>(q.qtype));
    ldns_rr_set_class(qrr, static_cast<ldns_rr_class>(q.qclass));
    ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, qrr);
    if (!opts.sinkhole || opts.nodata) continue;
    const IpAddress* addr = nullptr;
    ldns_rr_type type = LDNS_RR_TYPE_A;
    ldns_rdf_type rdf_type = LDNS_RDF_TYPE_A;
    if (q.qtype == LDNS_RR_TYPE_A && opts.sinkhole_v4.family == 4) {
      addr = &opts.sinkhole_v4;
    } else if (q.qtype == LDNS_RR_TYPE_AAAA && opts.sinkhole_v6.family == 6) {
      addr = &opts.sinkhole_v6;
      type = LDNS_RR_TYPE_AAAA;
      rdf_type = LDNS_RDF_TYPE_AAAA;
    }
    if (addr == nullptr) continue;  // other types: NOERROR, no data
    ldns_rr* arr = ldns_rr_new_frm_type(type);
    ldns_rr_set_owner(arr, ldns_rdf_clone(owner));
    ldns_rr_set_class(arr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(arr, kSinkholeTtl);
    ldns_rr_set_rdf(arr, ldns_rdf_new_frm_data(rdf_type, addr->size(), addr->bytes), 0);
    ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, arr);
    any_answer = true;
  }
  std::vector<uint8_t> out;
  if (ok) {
    ldns_pkt_set_rcode(pkt, opts.sinkhole || opts.nodata ? LDNS_RCODE_NOERROR : LDNS_RCODE_NXDOMAIN);
    ldns_pkt_set_aa(pkt, false);
    (void)any_answer;
    if (edns) {
      // OPT RR (RFC 6891 §6.1.2) with one EDE option: INFO-CODE, EXTRA-TEXT.
      std::string text = BlockedText(app);
      std::vector<uint8_t> ede(2 + text.size());
      Put16(ede.data(), kEdeBlocked);
      std::memcpy(ede.data() + 2, text.data(), text.size());
      ldns_pkt_set_edns_udp_size(pkt, kAnswerEdnsUdpSize);
      ldns_edns_option_list* list = ldns_edns_option_list_new();
      ldns_edns_option* opt = ldns_edns_new_from_data(LDNS_EDNS_EDE, ede.size(), ede.data());
      if (list != nullptr && opt != nullptr && ldns_edns_option_list_push(list, opt)) {
        ldns_pkt_set_edns_option_list(pkt, list);  // the packet owns it now
      } else {
        if (opt) ldns_edns_deep_free(opt);
        if (list) ldns_edns_option_list_deep_free(list);
      }
    }
    uint8_t* wire = nullptr;
    size_t size = 0;
    if (ldns_pkt2wire(&wire, pkt, &size) == LDNS_STATUS_OK && wire != nullptr) out.assign(wire, wire + size);
    std::free(wire);
  }
  ldns_pkt_free(pkt);
  return out;
}

absl::StatusOr<std::unique_ptr<RawSocketInjector>> RawSocketInjector::Open() {
  int fd4 = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd4 < 0) return absl::PermissionDeniedError(absl::StrCat("raw IPv4 socket: ", std::strerror(errno)));
  int fd6 = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);  // may fail without IPv6: IPv4 answers still work
  return std::unique_ptr<RawSocketInjector>(new RawSocketInjector(fd4, fd6));
}

RawSocketInjector::~RawSocketInjector() {
  if (fd4_ >= 0) close(fd4_);
  if (fd6_ >= 0) close(fd6_);
}

bool RawSocketInjector::Send(absl::Span<const uint8_t> ip, int, absl::Span<const uint8_t>) {
  if (ip.empty()) return false;
  if ((ip[0] >> 4) == 4 && ip.size() >= kIpv4HeaderBytes) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, ip.data() + 16, 4);
    return sendto(fd4_, ip.data(), ip.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) ==
           static_cast<ssize_t>(ip.size());
  }
  if ((ip[0] >> 4) == 6 && ip.size() >= kIpv6HeaderBytes && fd6_ >= 0) {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    std::memcpy(&to.sin6_addr, ip.data() + 24, 16);
    return sendto(fd6_, ip.data(), ip.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) ==
           static_cast<ssize_t>(ip.size());
  }
  return false;
}

void Enforcer::OnBlocked(int linktype, absl::Span<const uint8_t> frame, const PacketVerdict& v,
                         const Policy& policy) {
  FrameDecode decoded;
  decoded.status = DecodeFrame(linktype, frame, &decoded.pkt);
  OnBlocked(decoded, linktype, frame, v, policy);
}

void Enforcer::OnBlocked(const FrameDecode& decoded, int linktype, absl::Span<const uint8_t> frame,
                         const PacketVerdict& v, const Policy& policy) {
  const DecodedPacket& pkt = decoded.pkt;
  if (decoded.status != DecodeStatus::kOk || pkt.encap_depth > 0 ||
      (pkt.l4_proto != kProtoTcp && pkt.l4_proto != kProtoUdp) || v.proto == Proto::kQuic) {
    ++stats_.not_answered;  // fragments, tunnels and QUIC: dropped only
    return;
  }
  auto send = [&](const std::vector<uint8_t>& ip) {
    if (injector_->Send(ip, linktype, frame)) return true;
    ++stats_.not_answered;
    return false;
  };
  std::string_view app = v.has_app ? std::string_view(policy.matcher().app_name(v.app)) : std::string_view();
  const uint32_t next_seq = pkt.tcp_seq + static_cast<uint32_t>(pkt.payload.size()) +
                            ((pkt.tcp_flags & kTcpSyn) ? 1u : 0u) + ((pkt.tcp_flags & kTcpFin) ? 1u : 0u);

  if (v.proto == Proto::kDns) {
    DnsBlockOptions opts = DnsBlockOptionsFrom(policy.config());
    opts.nodata = v.reason == Reason::kSvcb;
    if (pkt.l4_proto == kProtoUdp) {
      std::vector<uint8_t> answer = BuildBlockedDnsAnswer(pkt.payload, app, opts);
      if (answer.empty()) {
        ++stats_.not_answered;
        return;
      }
      if (send(BuildUdpPacket(pkt.dst, pkt.src, pkt.dst_port, pkt.src_port, answer))) ++stats_.dns_answers;
      return;
    }
    // DNS over TCP: answer the message this segment starts with, when whole.
    absl::Span<const uint8_t> p = pkt.payload;
    if (p.size() > kDnsTcpPrefix) {
      size_t len = (size_t{p[0]} << 8) | p[1];
      if (len > 0 && p.size() >= kDnsTcpPrefix + len) {
        std::vector<uint8_t> answer = BuildBlockedDnsAnswer(p.subspan(kDnsTcpPrefix, len), app, opts);
        if (!answer.empty()) {
          std::vector<uint8_t> framed(kDnsTcpPrefix + answer.size());
          Put16(framed.data(), static_cast<uint16_t>(answer.size()));
          std::memcpy(framed.data() + kDnsTcpPrefix, answer.data(), answer.size());
          if (send(BuildTcpPacket(pkt.dst, pkt.src, pkt.dst_port, pkt.src_port, pkt.tcp_ack, next_seq,
                                  kTcpFlagAck | kTcpFlagPsh, framed))) {
            ++stats_.dns_answers;
          }
        } else {
          ++stats_.not_answered;
        }
      }
    }
    // The server never sees the query: reset its side.
    if (send(BuildTcpPacket(pkt.src, pkt.dst, pkt.src_port, pkt.dst_port, pkt.tcp_seq, 0, kTcpFlagRst, {}))) {
      ++stats_.tcp_resets;
    }
    return;
  }
  if (pkt.l4_proto != kProtoTcp) {
    ++stats_.not_answered;
    return;
  }
  // TLS / HTTP: reset both ends.
  if (send(BuildTcpPacket(pkt.dst, pkt.src, pkt.dst_port, pkt.src_port, pkt.tcp_ack, next_seq,
                          kTcpFlagRst | kTcpFlagAck, {}))) {
    ++stats_.tcp_resets;
  }
  if (send(BuildTcpPacket(pkt.src, pkt.dst, pkt.src_port, pkt.dst_port, pkt.tcp_seq, 0, kTcpFlagRst, {}))) {
    ++stats_.tcp_resets;
  }
}

}  // namespace vigie
