// The packet path of one worker: decode -> scope -> flow -> classify ->
// match -> policy -> decision (DESIGN.md "The data path").
//
// A Pipeline owns its flow table, fragment reassembler, counters and scratch
// buffers; it is fed packets by a source (replay, NFQUEUE, live capture) and
// returns what to do with each. It never blocks and never allocates per
// packet once warm (decisions allocate only when formatted by a sink).
//
// Thread safety: one Pipeline per worker thread. SetPolicy may be called from
// the worker between packets (the snapshot is immutable and shared).
#ifndef VIGIE_GATEWAY_INSPECT_PIPELINE_H_
#define VIGIE_GATEWAY_INSPECT_PIPELINE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "classifiers/quic.h"
#include "classifiers/tls.h"
#include "gateway/base/counters.h"
#include "gateway/inspect/decision.h"
#include "gateway/flow/flow.h"
#include "gateway/decode/ip_reassembly.h"
#include "gateway/policy/policy.h"

namespace vigie {

// ClientHellos inspected per TCP connection: the first, and the second one
// sent after a HelloRetryRequest (RFC 8446 §4.1.4).
inline constexpr uint8_t kMaxClientHellosPerFlow = 2;

// What the source should do with the packet.
struct PacketVerdict {
  Action action = Action::kAllow;  // kBlock: drop (and answer / reset)
  bool decided = false;            // a decision was made on this packet
  bool flow_final = false;         // the flow needs no more inspection
  // What the strongest decision on this packet was about, for enforcement
  // (a DNS answer naming the app, or a TCP reset).
  Proto proto = Proto::kDns;
  bool has_app = false;
  AppId app = 0;
};

struct PipelineOptions {
  LogMode log_mode = LogMode::kDecisions;
};

class Pipeline {
 public:
  Pipeline(std::shared_ptr<const Policy> policy, DecisionSink* sink, PipelineOptions opts,
           uint64_t flow_id_base = 1, uint64_t flow_id_step = 1);

  // One captured frame. `frame_no` is the 1-based capture index (0 if none).
  PacketVerdict Process(int linktype, absl::Span<const uint8_t> frame, uint64_t ts_us, uint64_t frame_no);

  // Name of the capture being replayed, carried in decisions (replay only).
  void SetCaptureName(std::string_view name) { capture_ = name; }

  void SetPolicy(std::shared_ptr<const Policy> policy) { policy_ = std::move(policy); }
  const Policy& policy() const { return *policy_; }
  const Counters& counters() const { return counters_; }
  void Count(Anomaly a) { counters_.Inc(a); }
  // Decisions by app (index = AppId; the last slot = no app) and action.
  const std::vector<std::array<uint64_t, 3>>& by_app() const { return by_app_; }
  size_t flows() const { return flows_.size(); }

 private:
  PacketVerdict ProcessFrame(int linktype, absl::Span<const uint8_t> frame, uint64_t ts_us, uint64_t frame_no);
  PacketVerdict Handle(DecodedPacket& pkt, uint64_t ts_us, uint64_t frame_no);
  void HandleUdp(const DecodedPacket& pkt, Flow* flow, uint64_t ts_us, uint64_t frame_no, PacketVerdict* v);
  void HandleTcp(const DecodedPacket& pkt, Flow* flow, bool from_client, uint64_t ts_us, uint64_t frame_no,
                 PacketVerdict* v);
  // DNS message (UDP payload or one TCP-framed message) from the client.
  void ClassifyDns(absl::Span<const uint8_t> msg, const DecodedPacket& pkt, const Flow* flow, uint64_t ts_us,
                   uint64_t frame_no, PacketVerdict* v);
  // TLS stream bytes from the client: ClientHello(s) -> decisions.
  void InspectTls(absl::Span<const uint8_t> data, bool in_place, const DecodedPacket& pkt, Flow* flow,
                  uint64_t ts_us, uint64_t frame_no, PacketVerdict* v);
  // For a flow without a visible name: decides by the ip: rules on its
  // destination; false (nothing logged) when none matches.
  bool DecideByIp(const DecodedPacket& pkt, Flow* flow, uint64_t ts_us, uint64_t frame_no, PacketVerdict* v);
  // A decision about `flow` (client -> server), fields filled but the verdict.
  Decision FlowDecision(const Flow* flow, Proto proto, const DecodedPacket& pkt, uint64_t ts_us,
                        uint64_t frame_no) const;
  // Plain HTTP: the request's Host (or absolute-form target) decides.
  void InspectHttp(absl::Span<const uint8_t> data, bool in_place, const DecodedPacket& pkt, Flow* flow,
                   uint64_t ts_us, uint64_t frame_no, PacketVerdict* v);
  // QUIC: client Initial packets -> CRYPTO stream -> ClientHello -> decision.
  static bool LooksLikeQuicInitial(absl::Span<const uint8_t> payload);
  // The Destination Connection ID of a long-header packet (empty if none).
  static absl::Span<const uint8_t> QuicDcid(absl::Span<const uint8_t> payload);
  void InspectQuic(const DecodedPacket& pkt, Flow* flow, uint64_t ts_us, uint64_t frame_no, PacketVerdict* v);
  void ClassifyTls(const ClientHelloInfo& ch, Proto proto, const DecodedPacket& pkt, Flow* flow, uint64_t ts_us,
                   uint64_t frame_no, PacketVerdict* v);
  void Malformed(Proto proto, std::string_view why, const DecodedPacket& pkt, const Flow* flow, uint64_t ts_us,
                 uint64_t frame_no, PacketVerdict* v);
  // Normalises `name`, asks the policy, logs and counts. Returns the action.
  Action Decide(Decision* d);
  // Counts a decision and hands it to the sink per log mode.
  void Record(const Decision& d);
  bool IsDnsPort(uint16_t port) const;

  std::shared_ptr<const Policy> policy_;
  DecisionSink* sink_;
  PipelineOptions opts_;
  Counters counters_;
  FlowTable flows_;
  IpReassembler frags_;
  std::vector<uint8_t> tls_scratch_;
  QuicInitialDecryptor quic_;           // OpenSSL contexts, one per worker
  std::vector<uint8_t> quic_plain_;     // decrypted Initial packet
  std::vector<std::array<uint64_t, 3>> by_app_;
  std::string_view capture_;
  // The strongest decision recorded while processing the current packet.
  PacketVerdict current_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_PIPELINE_H_
