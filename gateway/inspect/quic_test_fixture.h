// Shared by the quic_pipeline_test*.cc tests: frame builders and fixtures.
#ifndef VIGIE_GATEWAY_INSPECT_QUIC_TEST_FIXTURE_H_
#define VIGIE_GATEWAY_INSPECT_QUIC_TEST_FIXTURE_H_

//

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "classifiers/testing/builders.h"
#include "classifiers/testing/quic_builder.h"
#include "gateway/inspect/pipeline.h"
#include "gateway/testing/pipeline_fixture.h"
#include "gtest/gtest.h"

namespace vigie {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::Concat;
using testing::CryptoFrame;
using testing::FromHex;
using testing::LongType;
using testing::PacketSpec;
using testing::Protect;
using testing::PutBytes;
using testing::PutU16;
using testing::PutU32;
using testing::PutU8;
using testing::TestVersion;

constexpr int kEthernet = 1;  // LINKTYPE_ETHERNET
constexpr int kRaw = 101;     // LINKTYPE_RAW: the frame starts with the IP header

inline const TestVersion& Version(std::string_view name) {
  for (const TestVersion& v : testing::kQuicTestVersions) {
    if (name == v.name) return v;
  }
  std::abort();
}

// ---- Frames -------------------------------------------------------------------------

using testing::CaptureSink;
using testing::Captured;
using testing::Endpoint;
using testing::Ep;

// A 1-RTT (short header) packet: 0 1 S R R K PP, DCID, then opaque bytes.
inline Bytes ShortHeader(const Bytes& dcid, size_t n = 60) {
  Bytes p;
  PutU8(&p, 0x41);
  PutBytes(&p, dcid);
  for (size_t i = 0; i < n; ++i) PutU8(&p, static_cast<uint8_t>(i * 37 + 11));
  return p;
}

inline Bytes Hello(const std::string& sni, bool pq = false, bool ech = false) {
  testing::ClientHelloSpec s;
  s.sni = sni;
  s.alpn = {"h3"};
  s.grease = true;
  s.pq_key_share = pq;
  s.ech = ech;
  return testing::BuildClientHelloHandshake(s);
}

// ---- Fixture ----------------------------------------------------------------------------

class QuicPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { suite_ = new testing::SuitePolicy("vigie_quic_pipeline"); }
  static void TearDownTestSuite() { delete suite_; }

  void SetUp() override { Make(); }
  void Make(LogMode mode = LogMode::kDecisions) {
    PipelineOptions o;
    o.log_mode = mode;
    sink_.got.clear();
    frame_no_ = 0;
    pipe_ = std::make_unique<Pipeline>(suite_->policy(), &sink_, o);
  }
  // Feeds a frame (an exact-size heap copy, so ASan sees overreads) as the next
  // capture frame.
  PacketVerdict Feed(int linktype, const Bytes& frame) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[frame.size()]);
    std::memcpy(copy.get(), frame.data(), frame.size());
    ++frame_no_;
    ts_ += 1000;
    return pipe_->Process(linktype, absl::MakeConstSpan(copy.get(), frame.size()), ts_, frame_no_);
  }
  PacketVerdict FromClient(const Bytes& payload, int linktype = kEthernet) {
    return Feed(linktype, testing::UdpFrame(client_, server_, payload, linktype));
  }
  PacketVerdict FromServer(const Bytes& payload, int linktype = kEthernet) {
    return Feed(linktype, testing::UdpFrame(server_, client_, payload, linktype));
  }
  uint64_t Count(Counter c) const { return pipe_->counters().Get(c); }
  uint64_t Count(Anomaly a) const { return pipe_->counters().Get(a); }

  // One client Initial (padded to 1200 bytes, as clients must: RFC 9000 §14.1).
  static Bytes Initial(const TestVersion& v, const Bytes& frames, uint64_t pn = 0, const Bytes& dcid = kDcid,
                       const Bytes& key_dcid = {}) {
    PacketSpec p;
    p.dcid = dcid;
    p.key_dcid = key_dcid;
    p.pn = pn;
    p.frames = frames;
    p.pad_to = 1200;
    return Protect(v, p);
  }

  static inline const Bytes kDcid = FromHex("5a0f9b27e3c1d4a8");
  static testing::SuitePolicy* suite_;
  CaptureSink sink_;
  std::unique_ptr<Pipeline> pipe_;
  uint64_t frame_no_ = 0;
  uint64_t ts_ = 1748736000ull * 1'000'000;
  Endpoint client_ = Ep("10.20.5.20", 52000);
  Endpoint server_ = Ep("142.250.74.100", 443);
};
inline testing::SuitePolicy* QuicPipelineTest::suite_ = nullptr;

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_QUIC_TEST_FIXTURE_H_
