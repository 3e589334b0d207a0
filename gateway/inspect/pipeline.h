// Stage inspect. May depend on: policy, flow, decode, base, classifiers,
// lists. Knows nothing of enforcement, output formats or sources.
//
// The packet path of one worker (DESIGN.md "The data path"): decode -> scope
// -> flow -> inspect -> decide, as a thin dispatcher.
//
// Pipeline::Process decodes a frame (reassembling IP fragments), applies the
// managed scope, finds the flow, recognises the protocol by content (TLS
// record, HTTP request line, QUIC long header, DNS message; DNS also by the
// configured DNS ports) and hands the flow's bytes to that protocol's
// inspector (dns_inspector.h, tls_inspector.h, quic_inspector.h,
// http_inspector.h). The inspectors decide through the Decider (decider.h),
// which builds every Decision, asks the policy and records it.
//
// Depends on: decode, flow, policy, classifiers, lists. Not on enforcement,
// output formats or sources: decisions leave through a DecisionSink.
// Ownership: a Pipeline owns its flow table, fragment reassembler, counters,
// inspectors and scratch buffers; it borrows the sink.
// Thread safety: one Pipeline per worker thread. SetPolicy may be called from
// the worker between packets (the snapshot is immutable and shared).
// Allocation: none per packet once warm (decisions allocate only when a sink
// formats them).
#ifndef VIGIE_GATEWAY_INSPECT_PIPELINE_H_
#define VIGIE_GATEWAY_INSPECT_PIPELINE_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "gateway/base/counters.h"
#include "gateway/decode/decode.h"
#include "gateway/decode/ip_reassembly.h"
#include "gateway/flow/flow.h"
#include "gateway/inspect/alt_reading.h"
#include "gateway/inspect/decider.h"
#include "gateway/inspect/decision.h"
#include "gateway/inspect/dns_inspector.h"
#include "gateway/inspect/http_inspector.h"
#include "gateway/inspect/quic_inspector.h"
#include "gateway/inspect/tls_inspector.h"
#include "gateway/policy/policy.h"

namespace vigie {

struct PipelineOptions {
  LogMode log_mode = LogMode::kDecisions;
};

// What Process decoded of a frame, for a caller that acts on the packet
// itself (inline verdicts, answers) and so need not decode it again.
struct FrameDecode {
  // The frame's own status: kFragment for a fragment, also when it completed
  // a datagram (then `pkt` is the reassembled datagram's).
  DecodeStatus status = DecodeStatus::kNotIp;
  // Views into the frame (or the reassembler's buffer): valid until the next
  // Process. Meaningful only when status is kOk.
  DecodedPacket pkt;
};

class Pipeline {
 public:
  Pipeline(std::shared_ptr<const Policy> policy, DecisionSink* sink, PipelineOptions opts,
           uint64_t flow_id_base = 1, uint64_t flow_id_step = 1);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // One captured frame. `frame_no` is the 1-based capture index (0 if none).
  PacketVerdict Process(int linktype, absl::Span<const uint8_t> frame, uint64_t ts_us, uint64_t frame_no);
  // The same, and the decode it made into `*decoded`.
  PacketVerdict Process(int linktype, absl::Span<const uint8_t> frame, uint64_t ts_us, uint64_t frame_no,
                        FrameDecode* decoded);

  // Name of the capture being replayed, carried in decisions (replay only).
  void SetCaptureName(std::string_view name) { decider_.SetCaptureName(name); }

  void SetPolicy(std::shared_ptr<const Policy> policy) { policy_ = std::move(policy); }
  const Policy& policy() const { return *policy_; }
  const Counters& counters() const { return counters_; }
  void Count(Anomaly a) { counters_.Inc(a); }
  // Decisions by app (index = AppId; the last slot = no app) and action.
  const std::vector<std::array<uint64_t, 3>>& by_app() const { return decider_.by_app(); }
  // By app name, surviving reloads (Decider::by_app_name).
  std::vector<AppDecisions> by_app_name() const { return decider_.by_app_name(); }
  size_t flows() const { return flows_.size(); }
  // The sources with the most flow/buffer refusals and evictions (flow.h).
  std::vector<SourceReport> top_sources() const { return flows_.TopSources(); }
  // Bytes one pipeline holds at most beyond the policy it reads: its flow
  // table and IP reassembler (README "Caps and sizing").
  struct MemoryBound {
    FlowMemoryBound flows;
    size_t fragments = 0;
    size_t total = 0;
  };
  static MemoryBound Bound(const FlowTableOptions& opts);

 private:
  PacketVerdict ProcessFrame(int linktype, absl::Span<const uint8_t> frame, uint64_t ts_us, uint64_t frame_no,
                             FrameDecode* decoded);
  PacketVerdict Handle(DecodedPacket& pkt, uint64_t ts_us, uint64_t frame_no);
  // A datagram whose IP fragments conflicted (ip_reassembly.h): `first` (the
  // first-wins reading, decoded with status `st`) is handled with the
  // last-wins one as its alternate (frag_alt_), or as a packet of its own when
  // their transport headers differ; the strictest verdict wins (DESIGN.md
  // "Soundness").
  PacketVerdict HandleReadings(DecodedPacket& first, DecodeStatus st, const DecodedPacket& frag,
                               const ReassembledDatagram& whole, uint64_t ts_us, uint64_t frame_no);
  // A UDP datagram with another reading (frag_alt_, or frag_lost_): that
  // reading's names are decided (DNS questions, a QUIC ClientHello whole in
  // it), then HandleUdp; one that cannot be read is uninspected unless the
  // packet is blocked. True when the other reading blocked the flow.
  bool DecideUdpReading(const PacketContext& cx, PacketVerdict* v);
  void HandleUdp(const PacketContext& cx, PacketVerdict* v);
  void HandleTcp(const PacketContext& cx, bool from_client, PacketVerdict* v);
  // The client stream's contiguous bytes (AddSegment's) to its inspector.
  void InspectStream(const PacketContext& cx, absl::Span<const uint8_t> data, bool in_place, PacketVerdict* v);
  // DNS over TLS / QUIC on port 853 (a client packet opening the flow): a way
  // around the DNS policy, decided by port.
  bool DecideDotPort(const PacketContext& cx, PacketVerdict* v);
  bool IsDnsPort(uint16_t port) const;
  // Flows evicted or expired mid-message (FlowTable::TakeEvicted): uninspected.
  void DecideEvicted(const DecodedPacket& pkt, uint64_t ts_us, uint64_t frame_no);
  // A client packet the server would drop for its transport checksum
  // ([inspect] checksums): not read.
  bool ServerDrops(const DecodedPacket& pkt, const Flow& flow);

  std::shared_ptr<const Policy> policy_;
  PipelineOptions opts_;
  Counters counters_;
  FlowTable flows_;
  IpReassembler frags_;
  Decider decider_;
  DnsInspector dns_;
  TlsInspector tls_;
  QuicInspector quic_;
  HttpInspector http_;
  AltReader alt_;
  // While HandleReadings runs: the other reading of the packet being handled
  // (null if none) and whether one could not be held.
  const DecodedPacket* frag_alt_ = nullptr;
  bool frag_lost_ = false;
  DnsMessageInfo frag_dns_;
  std::string_view frag_names_[std::max(kMaxTlsSniNames, kDnsMaxQuestions)];
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_PIPELINE_H_
