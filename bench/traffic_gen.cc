#include "bench/traffic_gen.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <queue>
#include <random>

#include "absl/strings/str_cat.h"
#include "classifiers/testing/builders.h"
#include "classifiers/testing/quic_builder.h"
#include "gateway/testing/pipeline_fixture.h"
#include "lists/list_loader.h"

namespace vigie::bench {
namespace {

using testing::Bytes;
using testing::Endpoint;

// Packet and flow shares per kind (DNS, TLS, QUIC, HTTP, other TCP, other UDP).
constexpr double kPacketShare[kFlowKinds] = {0.07, 0.31, 0.15, 0.06, 0.26, 0.15};
constexpr double kFlowShare[kFlowKinds] = {0.20, 0.40, 0.15, 0.05, 0.10, 0.10};
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;
constexpr size_t kMss = 1448;        // TCP payload per full segment (1500 MTU, timestamps)
constexpr size_t kQuicDatagram = 1252;
constexpr double kFullSegmentShare = 0.3;   // bulk data segments that are full size

uint16_t Sum16(const uint8_t* p, size_t n, uint32_t acc) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t{p[i]} << 8 | p[i + 1];
  if (n & 1) acc += uint32_t{p[n - 1]} << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

// Fills the IPv4 header checksum and the TCP/UDP checksum of an Ethernet frame
// built by testing::IpFrame (no options, no extension headers).
void FillChecksums(Bytes* f) {
  uint8_t* ip = f->data() + 14;
  const bool v4 = (ip[0] >> 4) == 4;
  const size_t l3 = v4 ? 20 : 40;
  const uint8_t proto = v4 ? ip[9] : ip[6];
  uint8_t* l4 = ip + l3;
  const size_t l4_len = f->size() - 14 - l3;
  if (v4) {
    uint16_t c = static_cast<uint16_t>(~Sum16(ip, 20, 0));
    ip[10] = static_cast<uint8_t>(c >> 8);
    ip[11] = static_cast<uint8_t>(c);
  }
  uint32_t acc = Sum16(ip + (v4 ? 12 : 8), v4 ? 8 : 32, 0);
  acc += proto + static_cast<uint32_t>(l4_len);
  const size_t at = proto == 6 ? 16 : 6;
  l4[at] = l4[at + 1] = 0;
  uint16_t c = static_cast<uint16_t>(~Sum16(l4, l4_len, acc));
  if (c == 0 && proto == 17) c = 0xffff;  // RFC 768: 0 means "no checksum"
  l4[at] = static_cast<uint8_t>(c >> 8);
  l4[at + 1] = static_cast<uint8_t>(c);
}

struct Gen;

// One flow being written: the frames of its current step, queued.
struct FlowGen {
  FlowKind kind;
  bool banned = false;
  Endpoint client, server;
  uint32_t left = 0;  // frames still to emit
  uint32_t step = 0;  // steps generated so far
  uint32_t cseq = 0, sseq = 0;
  uint32_t gap_us = 1000;
  uint64_t next_us = 0;
  std::deque<std::pair<bool, Bytes>> queued;  // (from client, frame)
};

struct Gen {
  const TrafficOptions& o;
  std::mt19937_64 rng;
  Cidr v4net, v6net;
  std::vector<std::string> benign;
  TrafficStats st;

  uint64_t U64() { return rng(); }
  uint32_t Below(uint64_t n) { return static_cast<uint32_t>(rng() % n); }
  double Unit() { return std::uniform_real_distribution<double>(0, 1)(rng); }
  Bytes Random(size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; i += 8) {
      uint64_t v = rng();
      for (size_t j = 0; j < 8 && i + j < n; ++j) b[i + j] = static_cast<uint8_t>(v >> (8 * j));
    }
    return b;
  }

  IpAddress InNet(const Cidr& net, uint64_t h) {
    IpAddress a = net.base;
    for (int bit = net.prefix; bit < (net.base.family == 4 ? 32 : 128); ++bit) {
      if ((h >> (bit % 64)) & 1) a.bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
      if (bit % 64 == 63) h = h * 0x9e3779b97f4a7c15ULL + 1;
    }
    if (a.family == 4 && (a.bytes[3] == 0 || a.bytes[3] == 255)) a.bytes[3] = 7;
    return a;
  }
  // Client `j` of the pool: the same address every time it is drawn.
  IpAddress Client(uint64_t j) {
    uint64_t h = (j + 1) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    const bool v6 = static_cast<double>(h % 10000) < o.ipv6_share * 10000;
    return InNet(v6 ? v6net : v4net, h ^ (h >> 31));
  }
  IpAddress PublicServer(bool v6) {
    IpAddress a;
    a.family = v6 ? 6 : 4;
    static constexpr uint8_t kFirst[] = {23, 31, 52, 104, 142, 151, 157, 185, 199, 216};
    uint64_t r = rng();
    if (v6) {
      a.bytes[0] = 0x2a;
      a.bytes[1] = static_cast<uint8_t>(r & 0x0f);
      for (int i = 2; i < 16; ++i) a.bytes[i] = static_cast<uint8_t>(rng() >> 13);
    } else {
      a.bytes[0] = kFirst[r % 10];
      for (int i = 1; i < 4; ++i) a.bytes[i] = static_cast<uint8_t>(r >> (8 * i));
      if (a.bytes[3] == 0) a.bytes[3] = 1;
    }
    return a;
  }
  std::string Name(const FlowGen& f) {
    if (f.banned) {
      static constexpr const char* kPrefix[] = {"", "www.", "api.", "m.", "static."};
      return absl::StrCat(kPrefix[Below(5)], o.banned_names[Below(o.banned_names.size())]);
    }
    return benign[Below(benign.size())];
  }

  void Tcp(FlowGen& f, bool from_client, uint8_t flags, absl::Span<const uint8_t> payload) {
    const Endpoint& src = from_client ? f.client : f.server;
    const Endpoint& dst = from_client ? f.server : f.client;
    uint32_t& seq = from_client ? f.cseq : f.sseq;
    uint32_t ack = from_client ? f.sseq : f.cseq;
    Bytes fr = testing::TcpFrame(src, dst, seq, (flags & kAck) ? ack : 0, flags, payload);
    seq += static_cast<uint32_t>(payload.size()) + ((flags & (kSyn | kFin)) ? 1 : 0);
    f.queued.emplace_back(from_client, std::move(fr));
  }
  void Udp(FlowGen& f, bool from_client, const Bytes& payload) {
    f.queued.emplace_back(from_client, from_client ? testing::UdpFrame(f.client, f.server, payload)
                                                   : testing::UdpFrame(f.server, f.client, payload));
  }
  void Handshake(FlowGen& f) {
    Tcp(f, true, kSyn, {});
    Tcp(f, false, kSyn | kAck, {});
    Tcp(f, true, kAck, {});
  }
  // Server data segments (some full, some not) and the client's ACK.
  void Bulk(FlowGen& f, bool tcp) {
    const uint32_t n = 1 + Below(2);
    for (uint32_t i = 0; i < n; ++i) {
      size_t len = Unit() < kFullSegmentShare ? (tcp ? kMss : kQuicDatagram - 28) : 40 + Below(460);
      Bytes data = Random(len);
      if (tcp) {
        data[0] = 0x17;  // TLS application data (opaque to Vigie either way)
        Tcp(f, false, kAck | kPsh, data);
      } else {
        data[0] = 0x40 | (data[0] & 0x3f);  // QUIC short header
        Udp(f, false, data);
      }
    }
    if (tcp) {
      Tcp(f, true, kAck, {});
    } else {
      Bytes ack = Random(40 + Below(30));
      ack[0] = 0x40 | (ack[0] & 0x3f);
      Udp(f, true, ack);
    }
  }

  void Step(FlowGen& f) {
    const uint32_t step = f.step++;
    switch (f.kind) {
      case FlowKind::kDns: {
        const std::string name = Name(f);
        const uint16_t qtype = f.client.ip.family == 6 && Below(2) ? 28 : 1;
        const uint16_t id = static_cast<uint16_t>(U64());
        Bytes q = testing::BuildDnsQuery(name, qtype, Below(2) == 0, id);
        Udp(f, true, q);
        Bytes a = q;  // the answer: QR, RA, one record (pointer to the question)
        a[2] |= 0x80;
        a[3] |= 0x80;
        a[7] = 1;
        testing::PutBytes(&a, Bytes{0xc0, 0x0c});
        testing::PutU16(&a, qtype);
        testing::PutU16(&a, 1);
        testing::PutU32(&a, 300);
        testing::PutPrefixed(&a, 2, Random(qtype == 28 ? 16 : 4));
        Udp(f, false, a);
        return;
      }
      case FlowKind::kTls:
      case FlowKind::kHttp: {
        const bool tls = f.kind == FlowKind::kTls;
        if (step > 0) return Bulk(f, true);
        Handshake(f);
        if (tls) {
          testing::ClientHelloSpec spec;
          spec.sni = Name(f);
          spec.alpn = {"h2", "http/1.1"};
          spec.grease = true;
          spec.pq_key_share = Below(10) < 3;  // Chrome's X25519MLKEM768: two segments
          spec.padding = spec.pq_key_share ? 0 : 200;
          Bytes ch = testing::BuildClientHello(spec);
          for (size_t off = 0; off < ch.size(); off += kMss) {
            Tcp(f, true, kAck | kPsh, absl::MakeConstSpan(ch).subspan(off, std::min(kMss, ch.size() - off)));
          }
          for (size_t len : {kMss, kMss, size_t{600 + Below(700)}}) {
            Bytes d = Random(len);
            d[0] = 0x16;
            Tcp(f, false, kAck | kPsh, d);
          }
          Tcp(f, true, kAck | kPsh, Random(80));  // client Finished
        } else {
          std::string req = absl::StrCat("GET /", Below(100000), " HTTP/1.1\r\nHost: ", Name(f),
                                         "\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                                         "Accept: */*\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n");
          Tcp(f, true, kAck | kPsh, absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(req.data()), req.size()));
          std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n";
          Bytes resp(head.begin(), head.end());
          testing::PutBytes(&resp, Random(kMss - head.size()));
          Tcp(f, false, kAck | kPsh, resp);
        }
        return;
      }
      case FlowKind::kQuic: {
        if (step > 0) return Bulk(f, false);
        testing::ClientHelloSpec spec;
        spec.sni = Name(f);
        spec.alpn = {"h3"};
        spec.pq_key_share = Below(10) < 3;
        Bytes ch = testing::BuildClientHelloHandshake(spec);
        testing::PacketSpec p;
        p.dcid = Random(8);
        p.scid = Random(8);
        p.pad_to = kQuicDatagram;
        constexpr size_t kFirst = 1100;  // CRYPTO bytes in the first Initial
        size_t first = std::min(ch.size(), kFirst);
        p.frames = testing::CryptoFrame(0, absl::MakeConstSpan(ch).subspan(0, first));
        Udp(f, true, testing::Protect(testing::kQuicTestVersions[0], p));
        if (first < ch.size()) {
          p.pn = 1;
          p.frames = testing::CryptoFrame(first, absl::MakeConstSpan(ch).subspan(first));
          Udp(f, true, testing::Protect(testing::kQuicTestVersions[0], p));
        }
        // The server's Handshake packet (opaque to an observer): long header,
        // version 1, DCID = the client's SCID, its own SCID, length, payload.
        Bytes server;
        testing::PutU8(&server, 0xe0 | static_cast<uint8_t>(U64() & 0x03));
        testing::PutU32(&server, 1);
        testing::PutPrefixed(&server, 1, p.scid);
        testing::PutPrefixed(&server, 1, Random(8));
        const size_t rest = kQuicDatagram - 28 - server.size() - 2;
        testing::PutU16(&server, static_cast<uint16_t>(0x4000 | rest));
        testing::PutBytes(&server, Random(rest));
        Udp(f, false, server);
        return;
      }
      case FlowKind::kOtherTcp: {
        if (step == 0) {
          Handshake(f);
          std::string banner = f.server.port == 22 ? "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n" : "";
          Bytes first = banner.empty() ? Random(60 + Below(400)) : Bytes(banner.begin(), banner.end());
          if (banner.empty()) first[0] = static_cast<uint8_t>(0x01 + Below(0x13));  // not TLS, not text
          Tcp(f, true, kAck | kPsh, first);
          return;
        }
        if (Below(3) == 0) Tcp(f, true, kAck | kPsh, Random(40 + Below(600)));
        return Bulk(f, true);
      }
      case FlowKind::kOtherUdp: {
        // NTP, STUN, WireGuard (handshake, then data), RTP.
        size_t len = f.server.port == 123 ? 48 : f.server.port == 3478 ? 20
                   : f.server.port == 51820 ? (step > 0 ? 100 + Below(1300) : 148) : 172;
        Bytes d = Random(len);
        d[0] = f.server.port == 123 ? 0x23 : static_cast<uint8_t>(0x01 + Below(0x3f));  // NTPv4 client; no QUIC long header
        Udp(f, true, d);
        Bytes r = Random(len);
        r[0] = f.server.port == 123 ? 0x24 : d[0];  // NTPv4 server
        Udp(f, false, r);
        return;
      }
    }
  }

  void Start(FlowGen& f, FlowKind kind, uint64_t client_index) {
    f.kind = kind;
    f.client.ip = Client(client_index);
    f.client.port = static_cast<uint16_t>(32768 + Below(28000));
    const bool v6 = f.client.ip.family == 6;
    static constexpr uint16_t kTcpPorts[] = {22, 993, 5222, 8883, 3389};
    static constexpr uint16_t kUdpPorts[] = {123, 3478, 51820, 16384};
    switch (kind) {
      case FlowKind::kDns: {
        static const IpAddress kResolvers[] = {*IpAddress::Parse("9.9.9.9"), *IpAddress::Parse("1.1.1.1"),
                                               *IpAddress::Parse("2620:fe::fe"),
                                               *IpAddress::Parse("2606:4700:4700::1111")};
        f.server = {kResolvers[(v6 ? 2 : 0) + Below(2)], 53};
        break;
      }
      case FlowKind::kTls: f.server = {PublicServer(v6), 443}; break;
      case FlowKind::kQuic: f.server = {PublicServer(v6), 443}; break;
      case FlowKind::kHttp: f.server = {PublicServer(v6), 80}; break;
      case FlowKind::kOtherTcp: f.server = {PublicServer(v6), kTcpPorts[Below(5)]}; break;
      case FlowKind::kOtherUdp:
        f.server = {PublicServer(v6), kUdpPorts[Below(4)]};
        if (f.server.port == 16384) f.server.port = static_cast<uint16_t>(16384 + 2 * Below(8000));
        break;
    }
    f.banned = kind != FlowKind::kOtherTcp && kind != FlowKind::kOtherUdp && Unit() < o.banned_share;
    f.cseq = static_cast<uint32_t>(U64());
    f.sseq = static_cast<uint32_t>(U64());
    f.gap_us = 50 + static_cast<uint32_t>(std::exponential_distribution<double>(1.0 / 5000)(rng));
  }

  void Count(const FlowGen& f, bool from_client, const Bytes& fr) {
    ++st.packets;
    st.bytes += fr.size();
    ++st.packets_by_kind[static_cast<size_t>(f.kind)];
    if (f.client.ip.family == 6) ++st.ipv6_packets;
    (void)from_client;
    if (f.server.port == 53) ++st.dns_packets;
    if (f.server.port == 443) ++(f.kind == FlowKind::kTls ? st.tcp443_packets : st.udp443_packets);
  }
};

// Frames per flow: exponential around the kind's mean, at least one, summing to exactly `packets`.
std::vector<uint32_t> FlowLengths(Gen& g, const std::vector<uint8_t>& kinds, uint64_t packets) {
  std::array<uint64_t, kFlowKinds> flows{};
  for (uint8_t k : kinds) ++flows[k];
  std::vector<uint32_t> n(kinds.size());
  uint64_t total = 0;
  for (size_t i = 0; i < kinds.size(); ++i) {
    double mean = static_cast<double>(packets) * kPacketShare[kinds[i]] / static_cast<double>(flows[kinds[i]]);
    double x = std::exponential_distribution<double>(1.0 / std::max(mean, 1.0))(g.rng);
    n[i] = static_cast<uint32_t>(std::clamp(std::llround(x), 1LL, 1LL << 24));
    total += n[i];
  }
  while (total != packets) {
    uint32_t& v = n[g.Below(n.size())];
    if (total < packets) {
      ++v, ++total;
    } else if (v > 1) {
      --v, --total;
    }
  }
  return n;
}

}  // namespace

const char* FlowKindName(FlowKind k) {
  static constexpr const char* kNames[] = {"dns", "tls", "quic", "http", "other_tcp", "other_udp"};
  return kNames[static_cast<size_t>(k)];
}

std::string TrafficStats::ToJson() const {
  std::string j = absl::StrCat("{\"packets\":", packets, ",\"bytes\":", bytes, ",\"flows\":", flows,
                               ",\"mean_frame_bytes\":", packets ? static_cast<double>(bytes) / packets : 0.0,
                               ",\"banned_flows\":", banned_flows, ",\"ipv6_packets\":", ipv6_packets,
                               ",\"dns_packets\":", dns_packets, ",\"tcp443_packets\":", tcp443_packets,
                               ",\"udp443_packets\":", udp443_packets, ",\"flows_by_kind\":{");
  for (size_t k = 0; k < kFlowKinds; ++k) {
    absl::StrAppend(&j, k ? "," : "", "\"", FlowKindName(static_cast<FlowKind>(k)), "\":", flows_by_kind[k]);
  }
  j += "},\"packets_by_kind\":{";
  for (size_t k = 0; k < kFlowKinds; ++k) {
    absl::StrAppend(&j, k ? "," : "", "\"", FlowKindName(static_cast<FlowKind>(k)), "\":", packets_by_kind[k]);
  }
  return j + "}}";
}

absl::StatusOr<TrafficStats> GenerateTraffic(const TrafficOptions& o, const FrameFn& emit) {
  Gen g{o, std::mt19937_64(o.seed), {}, {}, {}, {}};
  auto v4 = Cidr::Parse(o.client_v4);
  auto v6 = Cidr::Parse(o.client_v6);
  if (!v4.ok() || v4->base.family != 4) return absl::InvalidArgumentError("client_v4: not an IPv4 prefix: " + o.client_v4);
  if (!v6.ok() || v6->base.family != 6) return absl::InvalidArgumentError("client_v6: not an IPv6 prefix: " + o.client_v6);
  g.v4net = *v4;
  g.v6net = *v6;
  if (o.banned_share > 0 && o.banned_names.empty()) {
    return absl::InvalidArgumentError("banned_share > 0 but no banned names (config's block lists empty?)");
  }
  if (o.flows == 0 || o.packets == 0) return absl::InvalidArgumentError("flows and packets must be positive");
  static constexpr const char* kSyl[] = {"ka", "mo", "ri", "zen", "lu", "pa", "dor", "vi", "ne", "sa",
                                         "qu", "bel", "fi", "ro", "ma", "len", "ta", "gu", "xo", "wen"};
  static constexpr const char* kTld[] = {"com", "com", "com", "net", "org", "fr", "de", "io", "co.uk", "gouv.fr"};
  static constexpr const char* kSub[] = {"", "www.", "cdn.", "api.", "static.", "img."};
  for (int i = 0; i < 20000; ++i) {
    std::string n = kSub[g.Below(6)];
    for (uint32_t s = 0, k = 2 + g.Below(3); s < k; ++s) n += kSyl[g.Below(20)];
    g.benign.push_back(absl::StrCat(n, g.Below(4) == 0 ? absl::StrCat(g.Below(100)) : "", ".", kTld[g.Below(10)]));
  }
  const uint64_t packets = std::max(o.packets, o.flows);
  const uint64_t clients = o.clients ? o.clients : std::max<uint64_t>(1, o.flows / 8);
  std::discrete_distribution<int> pick_kind(std::begin(kFlowShare), std::end(kFlowShare));
  std::vector<uint8_t> kinds(o.flows);
  for (uint8_t& k : kinds) k = static_cast<uint8_t>(pick_kind(g.rng));
  std::vector<uint32_t> lengths = FlowLengths(g, kinds, packets);

  // Flows start as a Poisson process over the capture's duration; the
  // active ones are merged by their next frame's time.
  const double duration_us = 1e6 * static_cast<double>(packets) / static_cast<double>(o.packets_per_second);
  std::exponential_distribution<double> start_gap(static_cast<double>(o.flows) / duration_us);
  std::vector<FlowGen> slots;
  std::vector<uint32_t> free_slots;
  using Item = std::pair<uint64_t, uint32_t>;  // (next_us, slot)
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> active;
  const uint64_t t0 = 1'700'000'000ull * 1'000'000;  // 2023-11-14
  double next_start = 0;
  uint64_t started = 0;
  while (started < o.flows || !active.empty()) {
    if (started < o.flows && (active.empty() || t0 + static_cast<uint64_t>(next_start) <= active.top().first)) {
      uint32_t slot;
      if (!free_slots.empty()) {
        slot = free_slots.back();
        free_slots.pop_back();
        slots[slot] = FlowGen{};
      } else {
        slot = static_cast<uint32_t>(slots.size());
        slots.emplace_back();
      }
      FlowGen& f = slots[slot];
      g.Start(f, static_cast<FlowKind>(kinds[started]), g.rng() % clients);
      f.left = lengths[started];
      f.next_us = t0 + static_cast<uint64_t>(next_start);
      ++g.st.flows;
      ++g.st.flows_by_kind[kinds[started]];
      if (f.banned) ++g.st.banned_flows;
      ++started;
      next_start += start_gap(g.rng);
      active.push({f.next_us, slot});
      continue;
    }
    auto [ts, slot] = active.top();
    active.pop();
    FlowGen& f = slots[slot];
    if (f.queued.empty()) g.Step(f);
    auto [from_client, frame] = std::move(f.queued.front());
    f.queued.pop_front();
    FillChecksums(&frame);
    g.Count(f, from_client, frame);
    emit(ts, frame);
    if (--f.left == 0) {
      f.queued.clear();
      free_slots.push_back(slot);
      continue;
    }
    // The reply within the same step comes after a short turn-around; the
    // next step after the flow's own gap.
    f.next_us = ts + (f.queued.empty() ? f.gap_us : 1 + g.Below(200));
    active.push({f.next_us, slot});
  }
  return g.st;
}

absl::StatusOr<MemoryCapture> GenerateCapture(const TrafficOptions& opts, TrafficStats* stats) {
  MemoryCapture cap(testing::kLinkEthernet);
  cap.Reserve(std::max(opts.packets, opts.flows), std::max(opts.packets, opts.flows) * 420);
  auto st = GenerateTraffic(opts, [&](uint64_t ts, absl::Span<const uint8_t> f) { cap.Add(ts, f); });
  if (!st.ok()) return st.status();
  if (stats != nullptr) *stats = *st;
  return cap;
}

absl::StatusOr<std::vector<std::string>> BannedNames(const Config& config) {
  std::vector<std::string> blocked_apps;
  for (const PolicyRule& p : config.policies) {
    if (p.action == Action::kBlock) blocked_apps.insert(blocked_apps.end(), p.apps.begin(), p.apps.end());
  }
  auto lists = LoadListDir(config.lists_dir, [](std::string_view) { return false; });
  if (!lists.ok()) return lists.status();
  std::vector<std::string> names;
  for (const AppList& l : *lists) {
    if (std::find(blocked_apps.begin(), blocked_apps.end(), l.app) == blocked_apps.end()) continue;
    for (const Rule& r : l.rules) {
      if (!r.pattern) names.push_back(r.domain);
    }
  }
  return names;
}

}  // namespace vigie::bench
