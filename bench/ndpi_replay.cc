#include "bench/ndpi_replay.h"

extern "C" {
#include <ndpi/ndpi_api.h>
}

#include <cstring>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace vigie::bench {
namespace {

// ndpiReader's limits (reader_util.c): packets dissected before giving up.
constexpr uint32_t kMaxTcpPackets = 80;
constexpr uint32_t kMaxUdpPackets = 24;

struct Key {
  uint8_t a[16], b[16];
  uint16_t pa, pb;
  uint8_t proto;
  friend bool operator==(const Key& x, const Key& y) { return std::memcmp(&x, &y, sizeof(Key)) == 0; }
  template <typename H>
  friend H AbslHashValue(H h, const Key& k) {
    return H::combine_contiguous(std::move(h), reinterpret_cast<const unsigned char*>(&k), sizeof(Key));
  }
};

struct FlowState {
  ndpi_flow_struct* flow = nullptr;
  uint32_t packets = 0;
  bool completed = false;
  bool extra = false;
};

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// The IP header of an Ethernet frame (through VLAN tags) and its flow key.
bool Parse(absl::Span<const uint8_t> f, size_t* l3, Key* k) {
  size_t off = 12;
  while (off + 2 <= f.size() && (Be16(&f[off]) == 0x8100 || Be16(&f[off]) == 0x88a8)) off += 4;
  if (off + 2 > f.size()) return false;
  const uint16_t type = Be16(&f[off]);
  off += 2;
  std::memset(k, 0, sizeof(Key));
  size_t l4;
  const uint8_t *src, *dst;
  size_t alen;
  if (type == 0x0800 && off + 20 <= f.size()) {
    k->proto = f[off + 9];
    l4 = off + size_t{f[off] & 0x0fu} * 4;
    src = &f[off + 12], dst = &f[off + 16], alen = 4;
  } else if (type == 0x86dd && off + 40 <= f.size()) {
    k->proto = f[off + 6];
    l4 = off + 40;
    src = &f[off + 8], dst = &f[off + 24], alen = 16;
  } else {
    return false;
  }
  uint16_t sp = 0, dp = 0;
  if ((k->proto == 6 || k->proto == 17) && l4 + 4 <= f.size()) sp = Be16(&f[l4]), dp = Be16(&f[l4 + 2]);
  // Canonical order, so both directions share the flow.
  bool swap = std::memcmp(src, dst, alen) > 0 || (std::memcmp(src, dst, alen) == 0 && sp > dp);
  std::memcpy(k->a, swap ? dst : src, alen);
  std::memcpy(k->b, swap ? src : dst, alen);
  k->pa = swap ? dp : sp;
  k->pb = swap ? sp : dp;
  *l3 = off;
  return true;
}

}  // namespace

struct NdpiReplay::Impl {
  ndpi_detection_module_struct* ndpi = nullptr;
};

NdpiReplay::NdpiReplay() : impl_(std::make_unique<Impl>()) {
  impl_->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
  NDPI_PROTOCOL_BITMASK all;
  NDPI_BITMASK_SET_ALL(all);
  ndpi_set_protocol_detection_bitmask2(impl_->ndpi, &all);
  ndpi_finalize_initialization(impl_->ndpi);
}

NdpiReplay::~NdpiReplay() { ndpi_exit_detection_module(impl_->ndpi); }

NdpiRun NdpiReplay::Run(const MemoryCapture& capture) {
  NdpiRun run;
  absl::flat_hash_map<Key, FlowState> flows;
  ndpi_detection_module_struct* ndpi = impl_->ndpi;
  for (size_t i = 0; i < capture.size(); ++i) {
    absl::Span<const uint8_t> f = capture.Frame(i);
    size_t l3;
    Key k;
    if (!Parse(f, &l3, &k)) continue;
    ++run.packets;
    FlowState& s = flows[k];
    if (s.flow == nullptr) {
      s.flow = static_cast<ndpi_flow_struct*>(ndpi_flow_malloc(SIZEOF_FLOW_STRUCT));
      std::memset(s.flow, 0, SIZEOF_FLOW_STRUCT);
    }
    const uint8_t* ip = f.data() + l3;
    const auto len = static_cast<unsigned short>(f.size() - l3);
    const uint64_t ms = capture.record(i).ts_us / 1000;
    ++s.packets;
    if (s.completed) {
      if (!s.extra) continue;
      ndpi_process_extra_packet(ndpi, s.flow, ip, len, ms);
      s.extra = ndpi_extra_dissection_possible(ndpi, s.flow) != 0;
      continue;
    }
    ndpi_protocol p = ndpi_detection_process_packet(ndpi, s.flow, ip, len, ms);
    const uint32_t cap = k.proto == 17 ? kMaxUdpPackets : kMaxTcpPackets;
    if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN || s.packets > cap) {
      s.completed = true;
      s.extra = ndpi_extra_dissection_possible(ndpi, s.flow) != 0;
    }
  }
  for (auto& [key, s] : flows) {
    ++run.flows;
    if (!s.completed) {
      uint8_t guessed = 0;
      ndpi_detection_giveup(ndpi, s.flow, 1, &guessed);
    }
    if (s.flow->host_server_name[0] != '\0') ++run.named_flows;
    ndpi_free_flow(s.flow);
  }
  return run;
}

}  // namespace vigie::bench
