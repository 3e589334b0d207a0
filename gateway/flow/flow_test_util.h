// Shared by the flow_test*.cc tests: frame builders and fixtures.
#ifndef VIGIE_GATEWAY_FLOW_FLOW_TEST_UTIL_H_
#define VIGIE_GATEWAY_FLOW_FLOW_TEST_UTIL_H_

#include "gateway/flow/flow.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vigie {

using Bytes = std::vector<uint8_t>;

inline IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const uint8_t x[4] = {a, b, c, d};
  return IpAddress::V4(x);
}

inline DecodedPacket Packet(IpAddress src, uint16_t sport, IpAddress dst, uint16_t dport, uint8_t proto,
                     uint8_t flags = 0) {
  DecodedPacket p;
  p.src = src;
  p.dst = dst;
  p.src_port = sport;
  p.dst_port = dport;
  p.l4_proto = proto;
  p.tcp_flags = flags;
  return p;
}

const IpAddress kClient = V4(10, 0, 0, 5);
const IpAddress kServer = V4(93, 184, 216, 34);

inline Bytes StreamBytes(size_t n, uint32_t salt = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 131 + salt) ^ (i >> 8));
  return b;
}

inline constexpr uint32_t kIsn = 0xFFFFFF00u;  // the stream wraps the 32-bit sequence space

// Drives one flow's client stream as the pipeline does: a message of `want`
// bytes; in-place data that is not whole yet is retained.
class StreamHarness {
 public:
  explicit StreamHarness(FlowTableOptions opts = {}, bool syn = true) : table_(opts, &counters_) {
    bool fc;
    flow_ = table_.Get(Packet(kClient, 50000, kServer, 443, kProtoTcp, syn ? kTcpSyn : kTcpAck), 1, &fc);
    if (syn) Segment(kIsn, {}, true);
  }

  // Feeds a segment; returns the contiguous bytes it exposed (copied).
  Bytes Segment(uint32_t seq, absl::Span<const uint8_t> data, bool syn = false) {
    // An exact-size heap copy: the table must not keep a view into it.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[data.size() + 1]);
    if (!data.empty()) std::memcpy(copy.get(), data.data(), data.size());
    bool in_place = false;
    absl::Span<const uint8_t> got =
        table_.AddSegment(flow_, seq, syn, absl::MakeConstSpan(copy.get(), data.size()), &in_place);
    Bytes out(got.begin(), got.end());
    if (in_place) {
      EXPECT_TRUE(got.data() >= copy.get() && got.data() + got.size() <= copy.get() + data.size());
      if (got.size() < want_) {
        EXPECT_TRUE(table_.Retain(flow_, got));
      }
    }
    if (!out.empty()) last_ = out;
    return out;
  }
  // Segment at stream offset `off` of `whole`, `len` bytes.
  Bytes At(const Bytes& whole, size_t off, size_t len) {
    return Segment(base_ + static_cast<uint32_t>(off), absl::MakeConstSpan(whole.data() + off, len));
  }

  Counters counters_;
  FlowTable table_;
  Flow* flow_;
  size_t want_ = SIZE_MAX;
  uint32_t base_ = kIsn + 1;
  Bytes last_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_FLOW_FLOW_TEST_UTIL_H_
