// Stage flow: the flow table and stream reassembly. May depend on: decode,
// base. Knows nothing of protocols' meaning, policy or output. Ownership: the
// table owns every Flow and reassembly buffer; callers hold Flow* only until
// the next Get/Expire.
//
// Flows: a bounded 5-tuple table with idle expiry, and the client-to-server
// TCP reassembly that holds a stream until its first message (a ClientHello,
// a DNS message) is whole.
//
// Bounds, each hit counted:
//   - at most `max_flows` flows; when full, the least recently seen flow is
//     evicted (flows_evicted);
//   - idle flows expire after tcp_idle_us / udp_idle_us of packet time;
//   - a stream is reassembled into one of `reassembly_buffers` fixed buffers of
//     kReassemblyCap bytes, taken only when a message does not fit in the
//     first segment; past the cap the stream is decided as it is
//     (tcp_reasm_cap_hit); when no buffer is free, tcp_reasm_pool_empty.
// Each buffer carries a bitmap of the bytes it holds (one bit per byte of the
// buffer: kReassemblyBitmapWords * 8 bytes, about 2 KiB, allocated with the
// buffer), so segments of any size may arrive in any order up to the cap;
// a pool buffer thus costs kReassemblyCap + ~2 KiB.
// Overlaps are resolved as Linux's receiver does (tcp_data_queue,
// tcp_data_queue_ofo, tcp_ofo_queue): bytes already contiguous (delivered in
// order) are kept; among out-of-order bytes the segment that starts lower
// wins, at an equal start the longer one, at an equal range the first (QUIC
// CRYPTO offsets keep the first bytes). Bytes that differ are counted
// (tcp_overlap_conflicts) and the losing bytes become the flow's alternate
// reading (AltReading below), which the pipeline also decides.
// Like the receiver (Linux): data on a SYN (TCP Fast Open, RFC 7413) is
// stream bytes from ISN + 1; a SYN with another ISN inside an open connection
// is ignored (RFC 5961 §4: the receiver answers with a challenge ACK); a
// segment starting past the cap is not held and does not end the stream.
// The urgent byte (seq + urgent pointer - 1, tcp_stdurg = 0) is not in the
// stream (tcp_urgent); segments with a TCP MD5 option (tcp_md5_unkeyed, the
// server has no key) or a TTL below the SYN's (tcp_ttl_suspect, it may expire
// before the server) are not read: each goes to the alternate reading only,
// as does the other reading of a segment whose IP fragments conflicted.
// Fair shares: each source holds at most max_per_source flows and
// reassembly_per_source buffers (flow_quota_hit, tcp_reasm_quota_hit, and
// per source in sources()). The sources with the most refusals and
// evictions are kept for the report after their flows are gone
// (TopSources(), at most kTopSources of them).
//
// Memory: bounded by the options alone (MemoryBound(): the slot array is
// reserved at max_flows, the hash tables and pools are counted at their
// largest, rehash included); README "Caps and sizing".
//
// Thread safety: one FlowTable per worker (flows are sharded by hash); none
// of it is shared. No allocation per packet once the table has grown.
#ifndef VIGIE_GATEWAY_FLOW_FLOW_H_
#define VIGIE_GATEWAY_FLOW_FLOW_H_

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/types/span.h"
#include "gateway/base/counters.h"
#include "classifiers/http.h"
#include "classifiers/tls.h"
#include "gateway/decode/decode.h"

namespace vigie {

// What a stream buffer holds at most: one whole TLS record (header plus
// kTlsMaxRecordLength, classifiers/tls.h), since the TLS inspector consumes
// records as they complete; also an HTTP request head, a DNS-over-TCP message
// or a QUIC ClientHello's CRYPTO bytes up to this size. Rounded up to 8.
inline constexpr uint32_t kReassemblyCap = (5 + kTlsMaxRecordLength + 7) / 8 * 8;
// A ClientHello spread over several records is joined into a flow's aux
// buffer (taken from its own pool, within the source's share).
inline constexpr size_t kAuxBufferBytes = kMaxClientHelloBytes;
// 64-bit words of the held-bytes bitmap kept after each reassembly buffer.
inline constexpr uint32_t kReassemblyBitmapWords = (kReassemblyCap + 63) / 64;
// 4-tuples of flows evicted mid-hello remembered, so that their later
// mid-stream packets are not taken for a new, uninspectable-but-allowed flow.
inline constexpr size_t kEvictedRemembered = 4096;

struct FlowKey {
  IpAddress a, b;  // canonical order: (a, pa) < (b, pb)
  uint16_t pa = 0, pb = 0;
  uint8_t proto = 0;
  friend bool operator==(const FlowKey& x, const FlowKey& y) {
    return x.proto == y.proto && x.pa == y.pa && x.pb == y.pb && x.a == y.a && x.b == y.b;
  }
  template <typename H>
  friend H AbslHashValue(H h, const FlowKey& k) {
    return H::combine(std::move(h), k.a, k.b, k.pa, k.pb, k.proto);
  }
};

// The flow index's hash of a FlowKey: the key's five 64-bit words folded by
// three independent 64x64->128-bit multiplies and a final one (wyhash's
// "mum"), a few cycles of latency where absl::Hash chains six dependent
// rounds (5% of the replay profile, on every packet). The secrets come from
// std::random_device per table, so a client that chooses its 5-tuples cannot
// aim them at one probe chain.
class FlowKeyHash {
 public:
  FlowKeyHash();  // random secrets
  explicit FlowKeyHash(uint64_t seed);  // secrets derived from `seed` (tests)
  size_t operator()(const FlowKey& k) const {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, k.a.bytes, 8);
    std::memcpy(&a1, k.a.bytes + 8, 8);
    std::memcpy(&b0, k.b.bytes, 8);
    std::memcpy(&b1, k.b.bytes + 8, 8);
    const uint64_t rest = uint64_t{k.pa} | uint64_t{k.pb} << 16 | uint64_t{k.proto} << 32 |
                          uint64_t{k.a.family} << 40 | uint64_t{k.b.family} << 48;
    const uint64_t m = Mum(a0 ^ s_[0], a1 ^ s_[1]) ^ Mum(b0 ^ s_[2], b1 ^ s_[3]) ^ Mum(rest ^ s_[4], s_[5]);
    return static_cast<size_t>(Mum(m ^ s_[6], s_[7]));
  }

 private:
  static uint64_t Mum(uint64_t x, uint64_t y) {
    const absl::uint128 r = absl::uint128(x) * y;
    return absl::Uint128Low64(r) ^ absl::Uint128High64(r);
  }
  uint64_t s_[8];
};

enum class FlowState : uint8_t {
  kNew,         // no client payload seen yet
  kInspecting,  // reassembling / waiting for a whole message
  kDecided,     // a decision was made for the flow (TLS)
  kIgnored,     // nothing to inspect (not a protocol we classify)
};

// kQuic: the stream is the client's Initial CRYPTO data, by offset.
enum class StreamKind : uint8_t { kUnknown, kTls, kDnsTcp, kQuic, kHttp };

// Client-to-server byte stream, from the first payload byte (offset 0).
struct TcpStream {
  bool has_base = false;
  uint32_t base_seq = 0;     // sequence number of offset 0
  int32_t buffer = -1;       // reassembly pool slot, -1 = none
  uint32_t contiguous = 0;   // bytes [0, contiguous) are held
  uint32_t high = 0;         // end of the highest byte held in the buffer (>= contiguous)
  uint16_t segments = 0;     // segments that brought new bytes
  bool cap_hit = false;
  bool syn_seen = false;
  bool base_fixed = false;   // bytes were consumed: offset 0 can no longer move back
  uint32_t isn = 0;          // the client's initial sequence number (syn_seen)
  // Why the stream could not be held: a message needed a buffer and none
  // was free (kPool) or its source held its share (kQuota).
  enum class NoBuffer : uint8_t { kNone, kPool, kQuota } no_buffer = NoBuffer::kNone;
  uint8_t syn_ttl = 0;       // the SYN's TTL / hop limit (0: unknown)
  bool has_urgent = false;   // urgent_seq is not in the stream
  uint32_t urgent_seq = 0;   // sequence number of the urgent byte
};

// Why a flow has an alternate reading (bits).
// kAltFragment: the segment's IP fragments conflicted and this is their
// other reading (decode/ip_reassembly.h).
enum AltWhy : uint8_t { kAltOverlap = 1, kAltUrgent = 2, kAltMd5 = 4, kAltTtl = 8, kAltFragment = 16 };

// The other reading of a TCP stream, for what the server may read otherwise:
// every ambiguous choice taken the other way at once (overlap losers, the
// urgent byte inline as with SO_OOBINLINE, MD5 and low-TTL segments
// delivered). Held from the first divergence in one reassembly buffer (within
// the source's share), from the stream's unconsumed start; `lost` when it
// could not be held (no buffer, a divergence in a hello already partly
// consumed, a second kind of divergence with an urgent byte).
struct AltReading {
  int32_t buffer = -1;    // reassembly pool slot, -1 = none
  uint32_t base_seq = 0;  // sequence number of alternate offset 0
  uint32_t high = 0;      // end of the highest byte held
  uint8_t why = 0;        // AltWhy bits
  bool lost = false;
  bool truncated = false;  // bytes past the cap were not held
  bool dirty = false;      // changed since the pipeline last decided it
};

// What the receiver may do with a segment besides its bytes.
struct SegmentMeta {
  uint8_t ttl = 0;          // IPv4 TTL / IPv6 hop limit (0: unknown)
  bool md5 = false;         // carries a TCP MD5 signature option (RFC 2385)
  bool urgent = false;      // URG set
  uint16_t urgent_ptr = 0;
  bool fragment_alt = false;  // the other reading of conflicting IP fragments: alternate only
};

struct Flow {
  FlowKey key;
  uint64_t id = 0;
  uint64_t last_us = 0;
  IpAddress client_ip, server_ip;
  uint16_t client_port = 0, server_port = 0;
  uint8_t proto = 0;
  FlowState state = FlowState::kNew;
  StreamKind kind = StreamKind::kUnknown;
  uint8_t action = 0;  // strongest Action (config.h) decided for the flow, for enforcement
  uint8_t hellos = 0;  // messages decided: TLS ClientHellos, HTTP requests, DNS-over-TCP messages
  bool closed = false;  // a FIN or RST was seen (either way): the 4-tuple may be reused
  bool was_evicted = false;  // its 4-tuple's last flow was evicted while inspecting
  int32_t aux = -1;     // aux pool slot (a ClientHello joined across records), -1 = none
  TlsHelloAssembler tls{};  // the ClientHello being assembled from records
  // HTTP keep-alive: the body of the last request still to skip.
  uint64_t http_body_left = 0;
  bool http_chunked = false;
  HttpChunkedState http_chunk{};
  // QUIC: the DCID the client's Initial keys derive from (its first Initial's,
  // or the one a Retry gave), RFC 9001 §5.2.
  uint8_t quic_dcid_len = 0;
  uint8_t quic_dcid[20] = {};
  TcpStream stream;
  AltReading alt;
  // LRU links (indices into the slot array), per protocol class.
  uint32_t prev = 0, next = 0;
  bool in_use = false;
};

// Sources kept in the report of the heaviest ones (TopSources()).
inline constexpr size_t kTopSources = 10;

// One source's refusals and evictions over the table's life.
struct SourceReport {
  IpAddress ip;
  uint64_t quota_hits = 0;  // flows and buffers refused by its share
  uint64_t evicted = 0;     // its flows evicted because the table was full
  uint32_t flows = 0;       // flows it holds now
};

// The most a FlowTable can hold, in bytes, from its options alone.
struct FlowMemoryBound {
  size_t per_flow = 0;     // slot, index and source entries, free list
  size_t per_buffer = 0;   // one reassembly buffer with its bitmap
  size_t per_aux = 0;      // one aux (ClientHello join) buffer
  size_t aux_buffers = 0;  // how many aux buffers at most
  size_t total = 0;
};

struct FlowTableOptions {
  size_t max_flows = 262144;
  size_t reassembly_buffers = 1024;
  // Fair shares: one source (client address) holds at most this many flows
  // and reassembly buffers, so one device cannot starve the others.
  size_t max_per_source = 16384;
  size_t reassembly_per_source = 64;
  uint64_t tcp_idle_us = 300'000'000;
  uint64_t udp_idle_us = 60'000'000;
};

class FlowTable {
 public:
  FlowTable(const FlowTableOptions& opts, Counters* counters, uint64_t id_base = 1, uint64_t id_step = 1);
  // The index refers to slots_ by address: not copied or moved.
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // Finds or creates the flow of `pkt` (UDP or TCP). *from_client tells the
  // packet's direction. Returns nullptr if max_flows is 0 or if a new flow is
  // refused because its source holds its share (flow_quota_hit).
  Flow* Get(const DecodedPacket& pkt, uint64_t now_us, bool* from_client);

  // A new connection on the flow's 4-tuple (a SYN with another ISN after the
  // last one closed or was decided): the stream and state start afresh under
  // a new flow id.
  void Restart(Flow* flow);
  // The other side is the client after all (content showed it).
  void TurnRound(Flow* flow);

  // Per-source usage, for the fair shares and their report.
  struct SourceUsage {
    uint32_t flows = 0;
    uint32_t buffers = 0;
    uint64_t quota_hits = 0;  // flows and buffers refused
    uint64_t evicted = 0;     // flows evicted (table full)
    // [inspect] checksums = auto: transport checksums seen right / wrong.
    uint32_t checksum_good = 0, checksum_bad = 0;
  };
  // The usage entry of a source that holds flows (null otherwise).
  SourceUsage* Source(const IpAddress& ip) {
    auto it = sources_.find(ip);
    return it == sources_.end() ? nullptr : &it->second;
  }
  const absl::flat_hash_map<IpAddress, SourceUsage>& sources() const { return sources_; }

  // The sources with the most refusals plus evictions, heaviest first, at
  // most kTopSources: those holding flows now and those retired (their last
  // flow gone) that were among the heaviest when they left. A source whose
  // figures never reached the retired list's smallest is not listed.
  std::vector<SourceReport> TopSources() const;
  // Flows at most, buffers at most: bytes (see FlowMemoryBound).
  static FlowMemoryBound MemoryBound(const FlowTableOptions& opts);

  // Expires idle flows (called per packet; O(expired)).
  void Expire(uint64_t now_us);

  // Adds a client segment to the flow's stream. Returns the stream's
  // contiguous bytes from offset 0 (possibly the segment itself, not copied,
  // when it is the first one and starts at offset 0 — `in_place` then) so the
  // caller can try to parse; empty if nothing new became contiguous.
  absl::Span<const uint8_t> AddSegment(Flow* flow, uint32_t seq, bool syn, absl::Span<const uint8_t> data,
                                       bool* in_place) {
    return AddSegment(flow, seq, syn, data, SegmentMeta{}, in_place);
  }
  absl::Span<const uint8_t> AddSegment(Flow* flow, uint32_t seq, bool syn, absl::Span<const uint8_t> data,
                                       const SegmentMeta& meta, bool* in_place);
  // The alternate reading's contiguous bytes from its offset 0 (empty if none).
  absl::Span<const uint8_t> AltContiguous(Flow* flow);
  // Copies what `AddSegment` returned in place into a buffer (the message
  // needs more bytes). Returns false if no buffer was free.
  bool Retain(Flow* flow, absl::Span<const uint8_t> in_place);
  // The contiguous bytes held in the flow's buffer (empty if none).
  absl::Span<const uint8_t> Contiguous(Flow* flow) {
    if (flow->stream.buffer < 0) return {};
    return absl::Span<const uint8_t>(BufferData(flow->stream.buffer), flow->stream.contiguous);
  }
  // Drops the first n contiguous bytes (a consumed DNS message).
  void Consume(Flow* flow, uint32_t n);
  // Gives the stream's buffer and aux buffer back (flow decided or ignored).
  void Release(Flow* flow);
  // The flow's aux buffer (kAuxBufferBytes), taken on first use within the
  // source's share; empty (stream.no_buffer set) if none could be had.
  absl::Span<uint8_t> Aux(Flow* flow);

  // Flows evicted or expired while inspecting (a hello partly received),
  // since the last call: each is uninspected (Pipeline). Bounded by
  // kEvictedRemembered; later mid-stream packets of their 4-tuples come back
  // as flows with was_evicted.
  std::vector<Flow> TakeEvicted() { return std::exchange(evicted_, {}); }
  bool HasEvicted() const { return !evicted_.empty(); }

  size_t size() const { return index_.size(); }
  size_t buffers_in_use() const { return buffer_count_ - free_buffers_.size(); }

 private:
  static constexpr uint32_t kNil = 0xFFFFFFFFu;
  void Unlink(uint32_t i);
  void PushBack(uint32_t i);
  void Remove(uint32_t i);
  // Keeps a source leaving sources_ in top_ if it is among the heaviest.
  void Retire(const IpAddress& ip, const SourceUsage& use);
  // A pool entry: kReassemblyCap data bytes, then the held-bytes bitmap
  // (uint64_t words; the data size is a multiple of 4, padded to 8).
  static constexpr size_t kBitmapOffset = (size_t{kReassemblyCap} + 7) / 8 * 8;
  static constexpr size_t kPoolEntryBytes = kBitmapOffset + size_t{kReassemblyBitmapWords} * 8;
  uint8_t* BufferData(int32_t slot) { return reinterpret_cast<uint8_t*>(pool_[size_t(slot)].get()); }
  uint64_t* BufferBits(int32_t slot) { return pool_[size_t(slot)].get() + kBitmapOffset / 8; }
  // A buffer for `flow`'s stream within its source's share; -1 (and
  // stream.no_buffer set) if none.
  int32_t TakeBuffer(Flow* flow);
  // Takes [new_base, old base) in front of the stream when offset 0 was a
  // guess (no SYN, nothing consumed): held bytes move up. False if it cannot.
  bool MoveBaseBack(TcpStream& s, uint32_t new_base);
  // Copies [start, end) of the stream (bytes) into the buffer: where not yet
  // held, and over held out-of-order bytes the segment wins (Linux).
  bool Insert(Flow* flow, uint32_t start, uint32_t end, const uint8_t* bytes);
  // The alternate reading (flow_alt.cc): Ensure creates it from the stream's
  // held bytes (false if lost); Write copies stream offsets [start, end) into
  // it, over held bytes (`force`) or only where none is held.
  bool AltEnsure(Flow* flow, uint8_t why);
  void AltWrite(Flow* flow, uint32_t start, uint32_t end, const uint8_t* bytes, bool force);
  void AltWriteRaw(Flow* flow, uint32_t seq, absl::Span<const uint8_t> data);
  // The urgent byte of a segment, taken out of the stream (flow_alt.cc).
  void NoteUrgent(Flow* flow, uint32_t seq, absl::Span<const uint8_t> data, uint16_t ptr);
  // Inserts a segment at raw stream offset `off` around the urgent byte.
  bool InsertAroundUrgent(Flow* flow, int64_t off, absl::Span<const uint8_t> data);

  FlowTableOptions opts_;
  Counters* counters_;
  uint64_t next_id_, id_step_;
  std::vector<Flow> slots_;
  std::vector<uint32_t> free_slots_;
  // The index holds slot numbers (4 bytes each, not a copy of the 40-byte
  // key): found by FlowKey through the slot's own key, so that a lookup
  // touches a small table and then the flow it needs anyway.
  struct SlotHash {
    using is_transparent = void;
    const std::vector<Flow>* slots;
    FlowKeyHash hash;
    size_t operator()(const FlowKey& k) const { return hash(k); }
    size_t operator()(uint32_t i) const { return hash((*slots)[i].key); }
  };
  struct SlotEq {
    using is_transparent = void;
    const std::vector<Flow>* slots;
    bool operator()(uint32_t x, uint32_t y) const { return x == y; }
    bool operator()(const FlowKey& k, uint32_t i) const { return (*slots)[i].key == k; }
    bool operator()(uint32_t i, const FlowKey& k) const { return (*slots)[i].key == k; }
  };
  absl::flat_hash_set<uint32_t, SlotHash, SlotEq> index_{0, SlotHash{&slots_, FlowKeyHash()}, SlotEq{&slots_}};
  uint32_t head_[2] = {kNil, kNil}, tail_[2] = {kNil, kNil};  // LRU per class: 0 TCP, 1 other
  // Per class: the head's last_us + idle when Expire last looked at it (0:
  // the head changed since); before then nothing of the class expires.
  uint64_t head_due_[2] = {0, 0};
  // Reassembly buffers, allocated on first use and then reused.
  // Each is kPoolEntryBytes (data, then bitmap), as uint64_t for alignment.
  std::vector<std::unique_ptr<uint64_t[]>> pool_;
  size_t buffer_count_ = 0;
  std::vector<int32_t> free_buffers_;
  absl::flat_hash_map<IpAddress, SourceUsage> sources_;
  std::vector<SourceReport> top_;  // retired sources, at most kTopSources
  // Aux buffers, allocated on first use (at most reassembly_buffers / 4).
  std::vector<std::unique_ptr<uint8_t[]>> aux_pool_;
  std::vector<int32_t> aux_free_;
  std::vector<Flow> evicted_;
  absl::flat_hash_set<FlowKey> evicted_keys_;
  std::deque<FlowKey> evicted_order_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_FLOW_FLOW_H_
