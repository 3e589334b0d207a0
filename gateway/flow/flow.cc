#include "gateway/flow/flow.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <random>

#include "gateway/flow/held_bits.h"

namespace vigie {
using namespace held_bits;  // NOLINT(build/namespaces): the stage's own helpers

namespace {
// splitmix64 (Steele, Lea, Flood 2014): spreads one seed over the secrets.
uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// memcmp(a.bytes, b.bytes, 16) < 0 without the library call (2.4% of the
// replay profile): the bytes as two big-endian 64-bit words.
bool AddressBytesLess(const IpAddress& a, const IpAddress& b) {
  uint64_t a0, a1, b0, b1;
  std::memcpy(&a0, a.bytes, 8);
  std::memcpy(&a1, a.bytes + 8, 8);
  std::memcpy(&b0, b.bytes, 8);
  std::memcpy(&b1, b.bytes + 8, 8);
  if constexpr (std::endian::native == std::endian::little) {
    a0 = __builtin_bswap64(a0), a1 = __builtin_bswap64(a1);
    b0 = __builtin_bswap64(b0), b1 = __builtin_bswap64(b1);
  }
  return a0 != b0 ? a0 < b0 : a1 < b1;
}
}  // namespace

FlowKeyHash::FlowKeyHash() : FlowKeyHash(uint64_t{std::random_device{}()} << 32 | std::random_device{}()) {}

FlowKeyHash::FlowKeyHash(uint64_t seed) {
  for (uint64_t& s : s_) s = SplitMix64(&seed);
  s_[5] |= 1;  // the multipliers: odd, never zero
  s_[7] |= 1;
}

FlowTable::FlowTable(const FlowTableOptions& opts, Counters* counters, uint64_t id_base, uint64_t id_step)
    : opts_(opts), counters_(counters), next_id_(id_base), id_step_(id_step) {
  // Preallocated to the configured size, so the packet path never grows the
  // table (reserve only: pages are touched as flows arrive). A new source is
  // counted before a full table evicts, hence one source entry more.
  slots_.reserve(opts_.max_flows);
  free_slots_.reserve(opts_.max_flows);
  index_.reserve(opts_.max_flows);
  sources_.reserve(opts_.max_flows + 1);
  pool_.reserve(opts_.reassembly_buffers);
  free_buffers_.reserve(opts_.reassembly_buffers);
  aux_pool_.reserve(std::max<size_t>(1, opts_.reassembly_buffers / 4));
  aux_free_.reserve(std::max<size_t>(1, opts_.reassembly_buffers / 4));
  top_.reserve(kTopSources);
}

void FlowTable::Unlink(uint32_t i) {
  Flow& f = slots_[i];
  int c = f.proto == kProtoTcp ? 0 : 1;
  if (f.prev != kNil) {
    slots_[f.prev].next = f.next;
  } else {
    head_[c] = f.next;
    head_due_[c] = 0;  // another head: Expire looks again
  }
  if (f.next != kNil) slots_[f.next].prev = f.prev; else tail_[c] = f.prev;
  f.prev = f.next = kNil;
}

void FlowTable::PushBack(uint32_t i) {
  Flow& f = slots_[i];
  int c = f.proto == kProtoTcp ? 0 : 1;
  f.prev = tail_[c];
  f.next = kNil;
  if (tail_[c] != kNil) {
    slots_[tail_[c]].next = i;
  } else {
    head_[c] = i;
    head_due_[c] = 0;
  }
  tail_[c] = i;
}

void FlowTable::Remove(uint32_t i) {
  Flow& f = slots_[i];
  const bool partial = (f.stream.buffer >= 0 && f.stream.high > 0) || f.tls.header_have > 0;
  if (f.state == FlowState::kInspecting && f.proto == kProtoTcp && (f.hellos == 0 || partial)) {
    // Gone before its message was whole (not after a decided one, waiting
    // for the next): never a silent allow.
    counters_->Inc(Counter::k_flows_evicted_inspecting);
    if (evicted_.size() < kEvictedRemembered) evicted_.push_back(f);
    if (evicted_keys_.insert(f.key).second) {
      evicted_order_.push_back(f.key);
      if (evicted_order_.size() > kEvictedRemembered) {
        evicted_keys_.erase(evicted_order_.front());
        evicted_order_.pop_front();
      }
    }
  }
  Release(&f);
  if (auto it = sources_.find(f.client_ip); it != sources_.end() && --it->second.flows == 0 &&
                                            it->second.buffers == 0) {
    Retire(it->first, it->second);
    sources_.erase(it);
  }
  Unlink(i);
  index_.erase(f.key);
  f.in_use = false;
  free_slots_.push_back(i);
}

void FlowTable::Expire(uint64_t now_us) {
  for (int c = 0; c < 2; ++c) {
    uint64_t idle = c == 0 ? opts_.tcp_idle_us : opts_.udp_idle_us;
    if (now_us <= head_due_[c]) continue;  // the head is not idle long enough (no slot touched)
    while (head_[c] != kNil && slots_[head_[c]].last_us + idle < now_us) {
      Remove(head_[c]);
      counters_->Inc(Counter::k_flows_expired);
    }
    // A flow's last_us only grows while it stays the head: its expiry time
    // now is a lower bound until another flow becomes the head.
    head_due_[c] = head_[c] != kNil ? slots_[head_[c]].last_us + idle : 0;
  }
}

namespace {
// UDP services whose replies may be the first packet seen of a flow (a
// capture or a table that starts mid-conversation): DNS, QUIC/HTTP3, DoQ/DoT.
bool IsServicePort(uint16_t port) { return port == 53 || port == 443 || port == 853; }
}  // namespace

Flow* FlowTable::Get(const DecodedPacket& pkt, uint64_t now_us, bool* from_client) {
  if (opts_.max_flows == 0) return nullptr;
  FlowKey key;
  bool src_first = AddressBytesLess(pkt.src, pkt.dst) ||
                   (pkt.src == pkt.dst && pkt.src_port <= pkt.dst_port);
  key.proto = pkt.l4_proto;
  if (src_first) {
    key.a = pkt.src, key.b = pkt.dst, key.pa = pkt.src_port, key.pb = pkt.dst_port;
  } else {
    key.a = pkt.dst, key.b = pkt.src, key.pa = pkt.dst_port, key.pb = pkt.src_port;
  }
  if (auto it = index_.find(key); it != index_.end()) {
    const uint32_t i = *it;
    Flow& f = slots_[i];
    f.last_us = std::max(f.last_us, now_us);
    if (f.next != kNil) {  // not already the most recent of its class
      Unlink(i);
      PushBack(i);
    }
    *from_client = pkt.src == f.client_ip && pkt.src_port == f.client_port;
    return &f;
  }
  // Who is the client? For TCP the SYN says; a SYN-ACK names the other side.
  // Otherwise the sender of the first packet, unless it comes from a UDP
  // service port (DNS, QUIC, DoQ) to another port (a reply seen first).
  bool src_is_client = true;
  if (pkt.l4_proto == kProtoTcp && (pkt.tcp_flags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck)) {
    src_is_client = false;
  } else if (pkt.l4_proto == kProtoUdp && IsServicePort(pkt.src_port) && !IsServicePort(pkt.dst_port)) {
    src_is_client = false;
  }
  const IpAddress& client = src_is_client ? pkt.src : pkt.dst;
  SourceUsage* use = &sources_[client];
  if (use->flows >= opts_.max_per_source) {
    ++use->quota_hits;
    counters_->Inc(Counter::k_flow_quota_hit);
    return nullptr;
  }
  uint32_t i;
  if (!free_slots_.empty()) {
    i = free_slots_.back();
    free_slots_.pop_back();
  } else if (slots_.size() < opts_.max_flows) {
    i = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    // Full: evict the least recently seen flow, UDP first (cheaper to lose).
    uint32_t victim = head_[1] != kNil ? head_[1] : head_[0];
    if (SourceUsage* v = Source(slots_[victim].client_ip)) ++v->evicted;
    Remove(victim);
    counters_->Inc(Counter::k_flows_evicted);
    // (Remove may have erased the entry `use` pointed to.)
    use = &sources_[client];
    i = free_slots_.back();
    free_slots_.pop_back();
  }
  Flow& f = slots_[i];
  f = Flow();
  f.key = key;
  f.id = next_id_;
  next_id_ += id_step_;
  f.last_us = now_us;
  f.proto = pkt.l4_proto;
  f.in_use = true;
  ++use->flows;
  if (src_is_client) {
    f.client_ip = pkt.src, f.client_port = pkt.src_port, f.server_ip = pkt.dst, f.server_port = pkt.dst_port;
  } else {
    f.client_ip = pkt.dst, f.client_port = pkt.dst_port, f.server_ip = pkt.src, f.server_port = pkt.src_port;
  }
  if (!evicted_keys_.empty()) {  // (a lookup in an empty set still hashes the key)
    if (auto ev = evicted_keys_.find(key); ev != evicted_keys_.end()) {
      f.was_evicted = true;
      evicted_keys_.erase(ev);
    }
  }
  index_.insert(i);
  PushBack(i);
  counters_->Inc(Counter::k_flows_created);
  *from_client = src_is_client;
  return &f;
}


int32_t FlowTable::TakeBuffer(Flow* flow) {
  SourceUsage& use = sources_[flow->client_ip];
  if (use.buffers >= opts_.reassembly_per_source) {
    ++use.quota_hits;
    counters_->Inc(Counter::k_tcp_reasm_quota_hit);
    flow->stream.no_buffer = TcpStream::NoBuffer::kQuota;
    return -1;
  }
  int32_t b;
  if (!free_buffers_.empty()) {
    b = free_buffers_.back();
    free_buffers_.pop_back();
  } else if (buffer_count_ < opts_.reassembly_buffers) {
    // Value-initialized: the bitmap starts clear (Release keeps it so).
    pool_.push_back(std::make_unique<uint64_t[]>(kPoolEntryBytes / 8));
    b = static_cast<int32_t>(buffer_count_++);
  } else {
    counters_->Inc(Counter::k_tcp_reasm_pool_empty);
    flow->stream.no_buffer = TcpStream::NoBuffer::kPool;
    return -1;
  }
  ++use.buffers;
  return b;
}

absl::Span<uint8_t> FlowTable::Aux(Flow* flow) {
  if (flow->aux < 0) {
    SourceUsage& use = sources_[flow->client_ip];
    if (use.buffers >= opts_.reassembly_per_source) {
      ++use.quota_hits;
      counters_->Inc(Counter::k_tcp_reasm_quota_hit);
      flow->stream.no_buffer = TcpStream::NoBuffer::kQuota;
      return {};
    }
    if (!aux_free_.empty()) {
      flow->aux = aux_free_.back();
      aux_free_.pop_back();
    } else if (aux_pool_.size() < std::max<size_t>(1, opts_.reassembly_buffers / 4)) {
      aux_pool_.push_back(std::make_unique<uint8_t[]>(kAuxBufferBytes));
      flow->aux = static_cast<int32_t>(aux_pool_.size() - 1);
    } else {
      counters_->Inc(Counter::k_tcp_reasm_pool_empty);
      flow->stream.no_buffer = TcpStream::NoBuffer::kPool;
      return {};
    }
    ++use.buffers;
  }
  return absl::Span<uint8_t>(aux_pool_[size_t(flow->aux)].get(), kAuxBufferBytes);
}

void FlowTable::Release(Flow* flow) {
  if (flow->aux >= 0) {
    aux_free_.push_back(flow->aux);
    flow->aux = -1;
    if (auto it = sources_.find(flow->client_ip); it != sources_.end() && it->second.buffers > 0) {
      --it->second.buffers;
    }
  }
  TcpStream& s = flow->stream;
  if (s.buffer >= 0) {
    // Clear the bits this stream may have set, so the buffer is reused clean.
    std::memset(BufferBits(s.buffer), 0, (s.high + 63) / 64 * sizeof(uint64_t));
    free_buffers_.push_back(s.buffer);
    if (auto it = sources_.find(flow->client_ip); it != sources_.end() && it->second.buffers > 0) {
      --it->second.buffers;
    }
  }
  s.buffer = -1;
  s.contiguous = 0;
  s.high = 0;
  AltReading& alt = flow->alt;
  if (alt.buffer >= 0) {
    std::memset(BufferBits(alt.buffer), 0, (alt.high + 63) / 64 * sizeof(uint64_t));
    free_buffers_.push_back(alt.buffer);
    if (auto it = sources_.find(flow->client_ip); it != sources_.end() && it->second.buffers > 0) {
      --it->second.buffers;
    }
    alt.buffer = -1;
    alt.high = 0;
  }
}

bool FlowTable::Insert(Flow* flow, uint32_t start, uint32_t end, const uint8_t* bytes) {
  // Held bytes are those whose bit is set. Copy the rest; where the segment
  // overlaps held bytes that differ, Linux's rule picks the bytes kept and
  // the others go to the alternate reading.
  TcpStream& s = flow->stream;
  uint8_t* buf = BufferData(s.buffer);
  uint64_t* bits = BufferBits(s.buffer);
  const bool tcp = flow->proto == kProtoTcp;
  bool conflict = false;
  bool fresh = false;
  uint32_t cur = start;
  while (cur < end) {
    uint32_t held = FindBit(bits, cur, end, true);
    const bool after_gap = held > cur;  // (then the held run starts at `held`)
    if (held > cur) {
      if (tcp) AltWrite(flow, cur, held, bytes + (cur - start), false);
      std::memcpy(buf + cur, bytes + (cur - start), held - cur);
      SetBits(bits, cur, held);
      fresh = true;
    }
    if (held >= end) break;
    uint32_t he = FindBit(bits, held, end, false);
    const uint8_t* mine = bytes + (held - start);
    if (std::memcmp(buf + held, mine, he - held) != 0) {
      conflict = true;
      // Delivered (contiguous) bytes are kept. Out of order, the queued run
      // [rs, re) holding them loses to a segment starting lower, or at the
      // same start to a longer one (tcp_data_queue_ofo replaces it).
      bool take = false;
      if (tcp && held >= s.contiguous) {
        uint32_t rs = held;
        while (!after_gap && rs > s.contiguous && BitAt(bits, rs - 1)) --rs;
        uint32_t re = FindBit(bits, he, s.high, false);
        take = rs > start || (rs == start && re < end);
      }
      if (tcp) AltWrite(flow, held, he, take ? buf + held : mine, true);  // the losing bytes
      if (take) std::memcpy(buf + held, mine, he - held);
    } else if (tcp) {
      AltWrite(flow, held, he, mine, false);
    }
    cur = he;
  }
  if (conflict) counters_->Inc(Counter::k_tcp_overlap_conflicts);
  if (!fresh) {
    counters_->Inc(Counter::k_tcp_retransmissions);
    return false;
  }
  s.high = std::max(s.high, end);
  // Extend the contiguous prefix over the held bytes that now follow it.
  s.contiguous = FindBit(bits, s.contiguous, s.high, false);
  return true;
}

namespace {
// Moves every byte held in `buf` (and its bits) up by `shift` (an earlier
// segment arrived while offset 0 was a guess); the contiguous prefix becomes
// held bytes past a gap. False, changing nothing, if it would not fit.
bool ShiftHeld(TcpStream& s, uint8_t* buf, uint64_t* bits, uint32_t shift) {
  if (int64_t{shift} + s.high > int64_t{kReassemblyCap}) return false;
  std::memmove(buf + shift, buf, s.high);
  ShiftBits(bits, shift);
  s.high += shift;
  s.contiguous = 0;
  return true;
}
}  // namespace

bool FlowTable::MoveBaseBack(TcpStream& s, uint32_t new_base) {
  int64_t back = static_cast<int32_t>(s.base_seq - new_base);
  if (back <= 0) return back == 0;
  if (s.syn_seen || s.base_fixed || back > int64_t{kReassemblyCap}) return false;
  if (s.contiguous == 0 && s.buffer < 0 && s.high == 0) {
    s.base_seq = new_base;  // nothing held yet
    return true;
  }
  if (s.buffer >= 0 && ShiftHeld(s, BufferData(s.buffer), BufferBits(s.buffer), static_cast<uint32_t>(back))) {
    s.base_seq = new_base;  // later bytes held: shifted up
    return true;
  }
  return false;
}

absl::Span<const uint8_t> FlowTable::AddSegment(Flow* flow, uint32_t seq, bool syn,
                                                absl::Span<const uint8_t> data, const SegmentMeta& meta,
                                                bool* in_place) {
  *in_place = false;
  TcpStream& s = flow->stream;
  if (syn) {
    if (s.syn_seen && seq != s.isn) {
      // Another ISN inside an open connection: the receiver ignores it.
      counters_->Inc(Counter::k_tcp_syn_ignored);
      return {};
    }
    if (!s.syn_seen) {
      // Offset 0 is ISN + 1. Bytes seen before the SYN (a reordered capture)
      // move up when they can; else they stay where they are.
      if (!s.has_base) {
        s.has_base = true;
        s.base_seq = seq + 1;
      } else {
        MoveBaseBack(s, seq + 1);
      }
      s.syn_seen = true;
      s.isn = seq;
      s.syn_ttl = meta.ttl;
    }
    if (data.empty()) return {};
    // Data on a SYN (TCP Fast Open, RFC 7413 §3): stream bytes from ISN + 1,
    // which the server reads.
    counters_->Inc(Counter::k_tcp_syn_data);
    seq += 1;
  }
  if (data.empty()) return {};
  if (!s.has_base) {
    s.has_base = true;
    s.base_seq = seq;
  }
  // Segments the server may never read: only the alternate reading has them.
  uint8_t suspect = 0;
  if (meta.md5) {
    counters_->Inc(Counter::k_tcp_md5_unkeyed);  // Linux: TCPMD5Unexpected, dropped
    suspect = kAltMd5;
  } else if (s.syn_ttl != 0 && meta.ttl != 0 && meta.ttl < s.syn_ttl) {
    counters_->Inc(Counter::k_tcp_ttl_suspect);  // may expire on the way
    suspect = kAltTtl;
  } else if (meta.fragment_alt) {
    suspect = kAltFragment;  // the pipeline adds the segment's first-wins reading too
  }
  if (suspect != 0) {
    if (!s.has_urgent && AltEnsure(flow, suspect)) {
      AltWriteRaw(flow, seq, data);
    } else {
      flow->alt.lost = true;
    }
    return {};
  }
  if (meta.urgent) NoteUrgent(flow, seq, data, meta.urgent_ptr);
  int64_t off = static_cast<int32_t>(seq - s.base_seq);
  if (off < 0) {
    // Offset 0 may move back only while it is a guess: no SYN seen and
    // nothing consumed yet (else this is a retransmission of old bytes).
    if (!s.has_urgent && MoveBaseBack(s, seq)) {
      off = 0;
    } else if (off + int64_t(data.size()) <= 0) {
      counters_->Inc(Counter::k_tcp_retransmissions);
      return {};
    } else {
      data = data.subspan(static_cast<size_t>(-off));
      seq += static_cast<uint32_t>(-off);
      off = 0;
    }
  }
  if (off >= kReassemblyCap) {
    // Far past anything a first message needs (a stray byte, a decoy):
    // not held, and the stream goes on.
    counters_->Inc(Counter::k_tcp_beyond_cap);
    return {};
  }
  if (s.has_urgent) {
    AltWriteRaw(flow, seq, data);
    return InsertAroundUrgent(flow, off, data) ? absl::Span<const uint8_t>(BufferData(s.buffer), s.contiguous)
                                               : absl::Span<const uint8_t>();
  }
  uint32_t start = static_cast<uint32_t>(off);
  uint32_t end = static_cast<uint32_t>(std::min<int64_t>(off + int64_t(data.size()), kReassemblyCap));
  ++s.segments;
  if (s.buffer < 0 && s.contiguous == 0 && s.high == 0 && start == 0) {
    *in_place = true;
    if (flow->alt.buffer >= 0) AltWrite(flow, 0, end, data.data(), false);
    if (end == kReassemblyCap && data.size() > end) s.cap_hit = true;
    return data.first(end);
  }
  if (s.buffer < 0) {
    s.buffer = TakeBuffer(flow);
    if (s.buffer < 0) return {};
  }
  uint8_t* buf = BufferData(s.buffer);
  uint32_t before = s.contiguous;
  counters_->Inc(Counter::k_tcp_segments_buffered);
  if (!Insert(flow, start, end, data.data())) {
    --s.segments;
    return {};
  }
  // The cap is reached when the contiguous stream fills it.
  if (s.contiguous >= kReassemblyCap) s.cap_hit = true;
  if (s.contiguous == before) {
    counters_->Inc(Counter::k_tcp_out_of_order);
    return {};
  }
  return absl::Span<const uint8_t>(buf, s.contiguous);
}

void FlowTable::TurnRound(Flow* flow) {
  auto it = sources_.find(flow->client_ip);
  if (it != sources_.end() && it->second.flows > 0 && --it->second.flows == 0 && it->second.buffers == 0) {
    Retire(it->first, it->second);  // as Remove: an entry holding nothing is not kept
    sources_.erase(it);
  }
  std::swap(flow->client_ip, flow->server_ip);
  std::swap(flow->client_port, flow->server_port);
  ++sources_[flow->client_ip].flows;
}

void FlowTable::Restart(Flow* flow) {
  Release(flow);
  flow->stream = TcpStream();
  flow->alt = AltReading();
  flow->tls = TlsHelloAssembler{};
  flow->http_body_left = 0;
  flow->http_chunked = false;
  flow->http_chunk = HttpChunkedState{};
  flow->state = FlowState::kNew;
  flow->kind = StreamKind::kUnknown;
  flow->action = 0;
  flow->hellos = 0;
  flow->closed = false;
  flow->quic_dcid_len = 0;
  flow->id = next_id_;
  next_id_ += id_step_;
  counters_->Inc(Counter::k_tcp_port_reuse);
}

bool FlowTable::Retain(Flow* flow, absl::Span<const uint8_t> in_place) {
  TcpStream& s = flow->stream;
  if (s.buffer < 0) s.buffer = TakeBuffer(flow);
  if (s.buffer < 0) return false;
  uint32_t n = static_cast<uint32_t>(in_place.size());
  uint64_t* bits = BufferBits(s.buffer);
  std::memcpy(BufferData(s.buffer), in_place.data(), n);
  SetBits(bits, 0, n);
  s.high = std::max(s.high, n);
  s.contiguous = FindBit(bits, n, s.high, false);
  counters_->Inc(Counter::k_tcp_segments_buffered);
  return true;
}

void FlowTable::Consume(Flow* flow, uint32_t n) {
  TcpStream& s = flow->stream;
  if (s.has_urgent && static_cast<int32_t>(s.urgent_seq - s.base_seq) <= static_cast<int32_t>(n)) {
    s.base_seq += 1;  // the urgent byte was between the consumed bytes: behind us now
    s.has_urgent = false;
  }
  s.base_seq += n;
  if (n > 0) s.base_fixed = true;
  s.cap_hit = false;
  if (s.buffer < 0) return;  // in place: nothing held
  n = std::min(n, s.contiguous);
  uint8_t* buf = BufferData(s.buffer);
  std::memmove(buf, buf + n, s.high - n);
  ShiftBits(BufferBits(s.buffer), -int64_t{n});
  s.contiguous -= n;
  s.high -= n;
}

}  // namespace vigie
