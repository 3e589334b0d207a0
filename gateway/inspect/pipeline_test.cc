#include "gateway/inspect/pipeline_test_fixture.h"

namespace vigie {
namespace {

// ---- Whatever the bytes, never a crash -------------------------------------------------

TEST_F(PipelineTest, RandomTcpSegmentsNeverCrash) {
  Make(LogMode::kAll);
  std::mt19937 rng(4242);
  Bytes ch = Hello("www.tiktok.com");
  for (int conn = 0; conn < 200; ++conn) {
    Endpoint c = Ep("10.0.0.7", static_cast<uint16_t>(20000 + conn));
    Endpoint s = conn % 3 == 0 ? Ep("9.9.9.9", 53) : server_;
    Bytes stream = conn % 3 == 0 ? testing::DnsTcpFramed(testing::BuildDnsQuery("a.tiktok.com", 1)) : ch;
    if (conn % 2) stream[rng() % stream.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    if (conn % 5 == 0) Handshake(c, s);
    for (int k = 0; k < 12; ++k) {
      size_t off = rng() % stream.size();
      size_t len = 1 + rng() % std::min<size_t>(stream.size() - off, 400);
      Data(c, s, stream, off, len);
    }
  }
  for (const Captured& c : sink_.got) EXPECT_EQ(c.json.back(), '}');
}


}  // namespace
}  // namespace vigie
