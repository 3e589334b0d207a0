// The held-bytes bitmap of a reassembly buffer (flow.h): bit i of word i / 64
// is set when byte i is held. Internal to the flow stage.
#ifndef VIGIE_GATEWAY_FLOW_HELD_BITS_H_
#define VIGIE_GATEWAY_FLOW_HELD_BITS_H_

#include <algorithm>
#include <bit>
#include <cstdint>

#include "gateway/flow/flow.h"

namespace vigie {
namespace held_bits {
// Held-bytes bitmap helpers (bit i of word i / 64 = byte i is held).
inline constexpr uint64_t kAllOnes = ~uint64_t{0};

// Sets bits [a, b).
inline void SetBits(uint64_t* bits, uint32_t a, uint32_t b) {
  if (a >= b) return;
  uint32_t wa = a / 64, wb = (b - 1) / 64;
  uint64_t first = kAllOnes << (a % 64);
  uint64_t last = kAllOnes >> (63 - (b - 1) % 64);
  if (wa == wb) {
    bits[wa] |= first & last;
    return;
  }
  bits[wa] |= first;
  for (uint32_t w = wa + 1; w < wb; ++w) bits[w] = kAllOnes;
  bits[wb] |= last;
}

// First position in [from, end) whose bit is `held`, or end.
inline uint32_t FindBit(const uint64_t* bits, uint32_t from, uint32_t end, bool held) {
  if (from >= end) return end;
  uint32_t w = from / 64;
  uint64_t v = held ? bits[w] : ~bits[w];
  v &= kAllOnes << (from % 64);
  uint32_t last = (end - 1) / 64;
  while (v == 0) {
    if (++w > last) return end;
    v = held ? bits[w] : ~bits[w];
  }
  uint32_t pos = w * 64 + static_cast<uint32_t>(std::countr_zero(v));
  return std::min(pos, end);
}

// Moves every bit up (shift > 0) or down (shift < 0) by |shift| positions;
// bits moved in are clear, bits moved past either end are lost.
inline void ShiftBits(uint64_t* bits, int64_t shift) {
  constexpr int64_t n = kReassemblyBitmapWords;
  if (shift > 0) {
    int64_t ws = shift / 64, bs = shift % 64;
    for (int64_t i = n - 1; i >= 0; --i) {
      int64_t src = i - ws;
      uint64_t v = src >= 0 ? bits[src] << bs : 0;
      if (bs && src - 1 >= 0) v |= bits[src - 1] >> (64 - bs);
      bits[i] = v;
    }
  } else if (shift < 0) {
    int64_t ws = -shift / 64, bs = -shift % 64;
    for (int64_t i = 0; i < n; ++i) {
      int64_t src = i + ws;
      uint64_t v = src < n ? bits[src] >> bs : 0;
      if (bs && src + 1 < n) v |= bits[src + 1] << (64 - bs);
      bits[i] = v;
    }
  }
}

// Whether byte i is held.
inline bool BitAt(const uint64_t* bits, uint32_t i) { return (bits[i / 64] >> (i % 64)) & 1; }

// Drops position `at`: bits [at + 1, end) move down by one, bit end - 1 clears.
inline void RemoveBit(uint64_t* bits, uint32_t at, uint32_t end) {
  for (uint32_t i = at; i + 1 < end; ++i) {
    uint64_t m = uint64_t{1} << (i % 64);
    bits[i / 64] = BitAt(bits, i + 1) ? bits[i / 64] | m : bits[i / 64] & ~m;
  }
  if (end > at) bits[(end - 1) / 64] &= ~(uint64_t{1} << ((end - 1) % 64));
}
}  // namespace held_bits

}  // namespace vigie

#endif  // VIGIE_GATEWAY_FLOW_HELD_BITS_H_
