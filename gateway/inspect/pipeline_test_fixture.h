// Shared by the pipeline_test*.cc tests: frame builders and fixtures.
#ifndef VIGIE_GATEWAY_INSPECT_PIPELINE_TEST_FIXTURE_H_
#define VIGIE_GATEWAY_INSPECT_PIPELINE_TEST_FIXTURE_H_

#include "gateway/inspect/pipeline.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "classifiers/testing/builders.h"
#include "gateway/testing/pipeline_fixture.h"
#include "gtest/gtest.h"

namespace vigie {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::PutBytes;
using testing::PutU16;
using testing::PutU32;
using testing::PutU8;

constexpr int kEthernet = 1;

using testing::CaptureSink;
using testing::Captured;
using testing::Endpoint;
using testing::Ep;
using testing::IpFrame;
using testing::TcpFrame;
using testing::UdpFrame;

// ---- Fixture ----------------------------------------------------------------------

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { suite_ = new testing::SuitePolicy("vigie_pipeline"); }
  static void TearDownTestSuite() { delete suite_; }

  void Make(LogMode mode = LogMode::kDecisions) {
    PipelineOptions o;
    o.log_mode = mode;
    pipe_ = std::make_unique<Pipeline>(suite_->policy(), &sink_, o);
  }
  // Feeds a frame (exact-size heap copy) as the next capture frame.
  PacketVerdict Feed(const Bytes& frame) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[frame.size()]);
    std::memcpy(copy.get(), frame.data(), frame.size());
    ++frame_no_;
    ts_ += 1000;
    return pipe_->Process(kEthernet, absl::MakeConstSpan(copy.get(), frame.size()), ts_, frame_no_);
  }
  uint64_t Count(Counter c) const { return pipe_->counters().Get(c); }
  uint64_t Count(Anomaly a) const { return pipe_->counters().Get(a); }

  // TCP handshake: client SYN, server SYN-ACK, client ACK. Client data starts at kIsn + 1.
  static constexpr uint32_t kIsn = 0xFFFFFFF0u;  // client data crosses the 2^32 wrap
  static constexpr uint32_t kServerIsn = 5000;
  void Handshake(const Endpoint& c, const Endpoint& s) {
    Feed(TcpFrame(c, s, kIsn, 0, kTcpSyn, {}));
    Feed(TcpFrame(s, c, kServerIsn, kIsn + 1, kTcpSyn | kTcpAck, {}));
    Feed(TcpFrame(c, s, kIsn + 1, kServerIsn + 1, kTcpAck, {}));
  }
  // Client data at stream offset `off`.
  PacketVerdict Data(const Endpoint& c, const Endpoint& s, const Bytes& stream, size_t off, size_t len) {
    return Feed(TcpFrame(c, s, kIsn + 1 + static_cast<uint32_t>(off), kServerIsn + 1, kTcpAck | 0x08,
                         absl::MakeConstSpan(stream.data() + off, len)));
  }

  static testing::SuitePolicy* suite_;
  CaptureSink sink_;
  std::unique_ptr<Pipeline> pipe_;
  uint64_t frame_no_ = 0;
  uint64_t ts_ = 1748736000ull * 1'000'000;
  Endpoint client_ = Ep("10.0.0.5", 51000);
  Endpoint server_ = Ep("93.184.216.34", 443);
  Endpoint resolver_ = Ep("9.9.9.9", 53);
};
inline testing::SuitePolicy* PipelineTest::suite_ = nullptr;

inline Bytes Hello(const std::string& sni) {
  testing::ClientHelloSpec s;
  s.sni = sni;
  s.alpn = {"h2", "http/1.1"};
  return testing::BuildClientHello(s);
}

}  // namespace vigie

#endif  // VIGIE_GATEWAY_INSPECT_PIPELINE_TEST_FIXTURE_H_
