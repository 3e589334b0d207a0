// Inline verdicts (nfqueue_source.h), as pure logic that tests reach without
// a kernel queue:
//  - ChooseInlineVerdict: what a queued packet's verdict is, from the
//    pipeline's verdict and the decode the pipeline made of the packet (the
//    packet is decoded once: Pipeline::Process's FrameDecode);
//  - VerdictBatch: which verdicts may share one netlink message.
//
// Batches: libnetfilter_queue's batch verdict (NFQNL_MSG_VERDICT_BATCH) applies
// one verdict, and one mark, to every packet of the queue whose id is at most
// the given one. The kernel delivers a queue's packets in id order and keeps
// only those it delivered, so the packets a batch covers are exactly those the
// worker has read and not yet given a verdict. A batch therefore only holds
// consecutive packets with the same verdict and the same mark; the worker
// sends it before any packet with another verdict joins, once it holds
// kVerdictBatchMax packets, and before it waits for the socket (nothing waits
// for a verdict while the worker is idle).
//
// Thread safety: plain values, one per worker.
#ifndef VIGIE_GATEWAY_SOURCES_NFQUEUE_VERDICT_H_
#define VIGIE_GATEWAY_SOURCES_NFQUEUE_VERDICT_H_

#include <linux/netfilter.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

#include "gateway/enforce/enforce.h"
#include "gateway/inspect/pipeline.h"

namespace vigie {

// Packets one verdict message covers at most. A packet's verdict waits at most
// for the inspection of this many packets behind it in the socket (a few
// microseconds each); one message per packet was the cost before.
inline constexpr size_t kVerdictBatchMax = 32;

// The server port whose connections are never marked allowed: each DNS query
// is decided afresh. (A blocked DNS query over UDP, on any port, is dropped
// alone, not its connection: the decision says it was DNS.)
inline constexpr uint16_t kInlineDnsPort = 53;

enum class InlineVerdict : uint8_t {
  kAccept,     // NF_ACCEPT: still inspecting (or a DNS query allowed)
  kMarkAllow,  // NF_REPEAT + kMarkAllow: the connection is no longer queued
  kDrop,       // NF_DROP: a blocked DNS query over UDP
  kMarkBlock,  // NF_REPEAT + kMarkBlock: the kernel drops the connection
};

// The verdict of a queued packet. `managed(src)` is the policy's scope test,
// called only when it matters. The marks act on the packet's own connection
// (conntrack's): a connection is marked allowed only when the pipeline read
// that connection, i.e. a TCP or UDP packet that is not a fragment and not a
// tunnel (marking a tunnel allowed would stop inspecting every flow inside
// it); a block marks whatever carried the blocked packet.
template <typename ManagedFn>
InlineVerdict ChooseInlineVerdict(const PacketVerdict& v, const FrameDecode& d, ManagedFn&& managed) {
  const DecodedPacket& p = d.pkt;
  const bool own = d.status == DecodeStatus::kOk && p.encap_depth == 0 &&
                   (p.l4_proto == kProtoTcp || p.l4_proto == kProtoUdp);
  const bool dns = own && p.dst_port == kInlineDnsPort;
  if (v.action == Action::kBlock) {
    // A DNS message over UDP decided on this packet (port 53, another DNS
    // port, or a query recognised on any port): that datagram only. (A later
    // packet of a blocked flow carries no decision of its own: its connection.)
    const bool dns_datagram = own && p.l4_proto == kProtoUdp && v.decided && v.proto == Proto::kDns;
    return dns_datagram ? InlineVerdict::kDrop : InlineVerdict::kMarkBlock;
  }
  if (own && !dns && (v.flow_final || !managed(p.src))) return InlineVerdict::kMarkAllow;
  return InlineVerdict::kAccept;
}

// One verdict as the kernel gets it. `set_mark`: the packet's mark becomes
// `mark` (NFQA_MARK); without it the mark is left alone.
struct NfVerdict {
  uint32_t verdict = NF_ACCEPT;
  bool set_mark = false;
  uint32_t mark = 0;
  bool operator==(const NfVerdict&) const = default;
};

// `mark`: the packet's own mark (nfq_get_nfmark); Vigie's bits replace its
// low two bits.
inline NfVerdict ToNfVerdict(InlineVerdict v, uint32_t mark) {
  const uint32_t keep = mark & ~kMarkMask;
  switch (v) {
    case InlineVerdict::kMarkAllow:
      return NfVerdict{NF_REPEAT, true, keep | kMarkAllow};
    case InlineVerdict::kDrop:
      return NfVerdict{NF_DROP, false, 0};
    case InlineVerdict::kMarkBlock:
      return NfVerdict{NF_REPEAT, true, keep | kMarkBlock};
    case InlineVerdict::kAccept:
      break;
  }
  return NfVerdict{NF_ACCEPT, false, 0};
}

// The pending verdicts of one queue: consecutive packets with one verdict,
// each with the time the worker got it (latency is observed at the send).
// `send(last_id, verdict, received)` sends one message for the packets up to
// `last_id` (`received.size()` of them) and returns whether it was sent.
class VerdictBatch {
 public:
  using Clock = std::chrono::steady_clock;

  // Packet `id`, got at `in`, has verdict `v`: the pending packets are sent
  // first when `v` differs from theirs, and the batch is sent once full.
  template <typename SendFn>
  void Add(uint32_t id, const NfVerdict& v, Clock::time_point in, SendFn&& send) {
    if (count_ > 0 && !(v == verdict_)) Flush(send);
    if (count_ == 0) verdict_ = v;
    last_id_ = id;
    received_[count_++] = in;
    if (count_ == kVerdictBatchMax) Flush(send);
  }
  // Sends the pending packets, if any (before the worker waits).
  template <typename SendFn>
  void Flush(SendFn&& send) {
    if (count_ == 0) return;
    send(last_id_, verdict_, absl::Span<const Clock::time_point>(received_.data(), count_));
    count_ = 0;
  }
  size_t pending() const { return count_; }

 private:
  NfVerdict verdict_;
  uint32_t last_id_ = 0;
  size_t count_ = 0;
  std::array<Clock::time_point, kVerdictBatchMax> received_{};
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_SOURCES_NFQUEUE_VERDICT_H_
