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

}  // namespace vigie

#endif  // VIGIE_GATEWAY_FLOW_FLOW_TEST_UTIL_H_
