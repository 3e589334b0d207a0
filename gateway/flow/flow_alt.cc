// The alternate reading of a TCP stream and the urgent byte (flow.h,
// AltReading; DESIGN.md "Soundness").
#include <algorithm>
#include <cstring>

#include "gateway/flow/flow.h"
#include "gateway/flow/held_bits.h"

namespace vigie {
using namespace held_bits;  // NOLINT(build/namespaces): the stage's own helpers

bool FlowTable::AltEnsure(Flow* flow, uint8_t why) {
  AltReading& alt = flow->alt;
  alt.why |= why;
  if (alt.lost) return false;
  if (alt.buffer >= 0) return true;
  alt.dirty = true;
  TcpStream& s = flow->stream;
  // The alternate starts at the stream's unconsumed start: a message
  // boundary, unless a hello or a body was partly consumed already.
  if (flow->tls.header_have > 0 || flow->http_body_left > 0 || flow->http_chunked) {
    alt.lost = true;
    return false;
  }
  TcpStream::NoBuffer keep = s.no_buffer;  // the stream itself is still held
  int32_t b = TakeBuffer(flow);
  s.no_buffer = keep;
  if (b < 0) {
    alt.lost = true;
    return false;
  }
  alt.buffer = b;
  alt.base_seq = s.base_seq;
  alt.high = 0;
  if (s.buffer >= 0 && s.high > 0) {
    std::memcpy(BufferData(b), BufferData(s.buffer), s.high);
    std::memcpy(BufferBits(b), BufferBits(s.buffer), (s.high + 63) / 64 * sizeof(uint64_t));
    alt.high = s.high;
  }
  return true;
}

namespace {
// Writes [a, b) of the alternate's own offsets: over held bytes (`force`) or
// only where none is held.
void WriteAlt(AltReading& alt, uint8_t* buf, uint64_t* bits, int64_t a, int64_t b, const uint8_t* bytes,
              bool force) {
  if (a < 0) {
    bytes += -a;
    a = 0;
  }
  if (b > int64_t{kReassemblyCap}) {
    alt.truncated = true;
    b = kReassemblyCap;
  }
  if (a >= b) return;
  uint32_t from = static_cast<uint32_t>(a), to = static_cast<uint32_t>(b);
  if (force) {
    if (std::memcmp(buf + from, bytes, to - from) != 0 || FindBit(bits, from, to, false) < to) alt.dirty = true;
    std::memcpy(buf + from, bytes, to - from);
    SetBits(bits, from, to);
  } else {
    for (uint32_t cur = from; cur < to;) {
      uint32_t gap = FindBit(bits, cur, to, false);
      if (gap >= to) break;
      uint32_t ge = FindBit(bits, gap, to, true);
      std::memcpy(buf + gap, bytes + (gap - from), ge - gap);
      SetBits(bits, gap, ge);
      alt.dirty = true;
      cur = ge;
    }
  }
  alt.high = std::max(alt.high, to);
}
}  // namespace

void FlowTable::AltWrite(Flow* flow, uint32_t start, uint32_t end, const uint8_t* bytes, bool force) {
  TcpStream& s = flow->stream;
  AltReading& alt = flow->alt;
  if (s.has_urgent) {
    // The alternate keeps the urgent byte: its offsets are not the stream's.
    if (force) {
      alt.why |= kAltOverlap;
      alt.dirty |= !alt.lost;
      alt.lost = true;
    }
    return;
  }
  if (force ? !AltEnsure(flow, kAltOverlap) : alt.buffer < 0) return;
  int64_t shift = static_cast<int32_t>(s.base_seq - alt.base_seq);
  WriteAlt(alt, BufferData(alt.buffer), BufferBits(alt.buffer), start + shift, end + shift, bytes, force);
}

void FlowTable::AltWriteRaw(Flow* flow, uint32_t seq, absl::Span<const uint8_t> data) {
  AltReading& alt = flow->alt;
  if (alt.buffer < 0) return;
  int64_t a = static_cast<int32_t>(seq - alt.base_seq);
  // Segments the server may drop win in the alternate; the urgent byte's
  // stream is the raw one, filled where not held.
  bool force = !flow->stream.has_urgent;
  WriteAlt(alt, BufferData(alt.buffer), BufferBits(alt.buffer), a, a + int64_t(data.size()), data.data(), force);
}

absl::Span<const uint8_t> FlowTable::AltContiguous(Flow* flow) {
  const AltReading& alt = flow->alt;
  if (alt.buffer < 0) return {};
  uint32_t n = FindBit(BufferBits(alt.buffer), 0, alt.high, false);
  return absl::Span<const uint8_t>(BufferData(alt.buffer), n);
}

void FlowTable::NoteUrgent(Flow* flow, uint32_t seq, absl::Span<const uint8_t> data, uint16_t ptr) {
  counters_->Inc(Counter::k_tcp_urgent);
  TcpStream& s = flow->stream;
  AltReading& alt = flow->alt;
  // tcp_check_urg with tcp_stdurg = 0: the byte before seq + pointer.
  uint32_t u = seq + (ptr != 0 ? ptr - 1u : 0u);
  int64_t h = static_cast<int32_t>(u - s.base_seq);
  // A pointer into bytes already delivered is ignored (before rcv_nxt).
  if (h < int64_t{s.contiguous} || h >= int64_t{kReassemblyCap} || data.empty()) return;
  if (s.has_urgent) {
    if (u != s.urgent_seq) {
      // A second urgent byte: which one the application skipped depends on
      // when it read. Not one reading more: unknowable.
      alt.why |= kAltUrgent;
      alt.dirty |= !alt.lost;
      alt.lost = true;
    }
    return;
  }
  if (alt.buffer >= 0 || alt.lost) {
    alt.why |= kAltUrgent;  // the alternate already reads otherwise
    alt.dirty |= !alt.lost;
    alt.lost = true;
  } else {
    AltEnsure(flow, kAltUrgent);  // the raw stream, byte inline
  }
  s.has_urgent = true;
  s.urgent_seq = u;
  if (s.buffer >= 0 && h < int64_t{s.high}) {
    // Held already, out of order: taken out, later bytes move down.
    uint32_t at = static_cast<uint32_t>(h);
    uint8_t* buf = BufferData(s.buffer);
    std::memmove(buf + at, buf + at + 1, s.high - at - 1);
    RemoveBit(BufferBits(s.buffer), at, s.high);
    --s.high;
  }
}

bool FlowTable::InsertAroundUrgent(Flow* flow, int64_t off, absl::Span<const uint8_t> data) {
  TcpStream& s = flow->stream;
  const int64_t hole = static_cast<int32_t>(s.urgent_seq - s.base_seq);
  if (s.buffer < 0) {
    s.buffer = TakeBuffer(flow);
    if (s.buffer < 0) return false;
  }
  uint32_t before = s.contiguous;
  bool fresh = false;
  auto put = [&](int64_t at, absl::Span<const uint8_t> piece) {
    if (piece.empty() || at >= int64_t{kReassemblyCap}) return;
    uint32_t a = static_cast<uint32_t>(at);
    uint32_t b = static_cast<uint32_t>(std::min<int64_t>(at + int64_t(piece.size()), kReassemblyCap));
    fresh |= Insert(flow, a, b, piece.data());
  };
  const int64_t n = static_cast<int64_t>(data.size());
  // Bytes before the hole keep their offset; those after it move down one.
  int64_t cut = std::clamp<int64_t>(hole - off, 0, n);
  put(off, data.first(static_cast<size_t>(cut)));
  int64_t after = std::clamp<int64_t>(hole + 1 - off, 0, n);
  put(std::max(off, hole + 1) - 1, data.subspan(static_cast<size_t>(after)));
  counters_->Inc(Counter::k_tcp_segments_buffered);
  if (!fresh) return false;
  ++s.segments;
  if (s.contiguous >= kReassemblyCap) s.cap_hit = true;
  if (s.contiguous == before) {
    counters_->Inc(Counter::k_tcp_out_of_order);
    return false;
  }
  return true;
}

}  // namespace vigie
