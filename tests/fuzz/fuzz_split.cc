// Differential libFuzzer targets over the real reassembly and inspectors:
// the same client bytes delivered whole, one byte per segment / frame, and
// cut at split points drawn from the input must give the same decisions
// (name, raw name, action, reason, cause, protocol; fuzz_decision_check.h
// also checks every line). Input: [split seed (1 byte)][client bytes].
//   dns_tcp_split  the bytes are a TCP stream from a managed client to port
//                  53 (DNS over TCP when they frame a query; by content any
//                  protocol), one Pipeline per delivery: SYN, then the data
//                  segments in order, then FIN.
//   quic_split     the bytes are the CRYPTO stream (a ClientHello handshake
//                  message) of QUIC v1 Initials to port 443: whole (CRYPTO
//                  frames of up to 1000 bytes, one packet each), one byte per
//                  CRYPTO frame (kMaxCryptoFramesPerPacket frames a packet),
//                  and random cuts packed a few frames a packet, shuffled
//                  inside a packet.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "classifiers/quic.h"
#include "classifiers/testing/quic_builder.h"
#include "gateway/inspect/pipeline.h"
#include "gateway/testing/pipeline_fixture.h"
#include "tests/fuzz/fuzz_decision_check.h"

namespace {

using vigie::fuzz::DecisionSummary;
using vigie::testing::Bytes;

// Bounds the one-byte delivery (one Pipeline::Process per byte).
constexpr size_t kMaxStreamBytes = 4096;

struct Chunk {
  size_t offset, len;
};

// Cuts [0, n) into pieces of 1..max_len bytes.
std::vector<Chunk> Cut(size_t n, size_t max_len, std::mt19937* rng) {
  std::vector<Chunk> out;
  for (size_t off = 0; off < n;) {
    size_t len = max_len <= 1 ? 1 : 1 + (*rng)() % max_len;
    len = std::min(len, n - off);
    out.push_back({off, len});
    off += len;
  }
  return out;
}

void Describe(const char* plan, const std::vector<DecisionSummary>& d) {
  std::fprintf(stderr, "%s: %zu decisions\n", plan, d.size());
  for (const DecisionSummary& s : d) {
    std::fprintf(stderr, "  %s %s %s domain=%s raw=%s malformed=%s\n", s.proto.c_str(), s.action.c_str(),
                 s.reason.c_str(), s.domain.c_str(), s.domain_raw.c_str(), s.malformed.c_str());
  }
}

void Same(const std::vector<DecisionSummary>& a, const std::vector<DecisionSummary>& b, const char* plan) {
  if (a == b) return;
  Describe("whole", a);
  Describe(plan, b);
  vigie::fuzz::Fail("whole and cut deliveries decide differently", plan);
}

[[maybe_unused]] std::vector<DecisionSummary> DeliverTcp(const Bytes& stream, const std::vector<Chunk>& cuts) {
  using namespace vigie::testing;
  vigie::fuzz::CheckingSink sink;
  vigie::PipelineOptions opts;
  opts.log_mode = vigie::LogMode::kAll;
  vigie::Pipeline pipe(vigie::fuzz::DefaultPolicy(), &sink, opts);
  const Endpoint c = Ep("10.20.5.20", 40000), s = Ep("9.9.9.9", 53);
  constexpr uint32_t kIsn = 1000;
  uint64_t frame = 0;
  const auto send = [&](const Bytes& f) {
    ++frame;
    pipe.Process(kLinkEthernet, f, 1'700'000'000'000'000 + frame * 10, frame);
  };
  send(TcpFrame(c, s, kIsn, 0, 0x02, {}));  // SYN
  for (const Chunk& k : cuts) {
    send(TcpFrame(c, s, kIsn + 1 + static_cast<uint32_t>(k.offset), 1, 0x18,
                  absl::MakeConstSpan(stream).subspan(k.offset, k.len)));  // PSH|ACK
  }
  send(TcpFrame(c, s, kIsn + 1 + static_cast<uint32_t>(stream.size()), 1, 0x11, {}));  // FIN|ACK
  return sink.decisions;
}

[[maybe_unused]] void FuzzDnsTcpSplit(uint8_t seed, const Bytes& stream) {
  std::mt19937 rng(seed);
  const std::vector<DecisionSummary> whole = DeliverTcp(stream, {{0, stream.size()}});
  Same(whole, DeliverTcp(stream, Cut(stream.size(), 1, &rng)), "one byte per segment");
  Same(whole, DeliverTcp(stream, Cut(stream.size(), 2 + seed % 64, &rng)), "random cuts");
}

// `packets`: each packet's CRYPTO chunks, in the order they are written.
[[maybe_unused]] std::vector<DecisionSummary> DeliverQuic(const Bytes& hello,
                                                          const std::vector<std::vector<Chunk>>& packets) {
  using namespace vigie::testing;
  vigie::fuzz::CheckingSink sink;
  vigie::PipelineOptions opts;
  opts.log_mode = vigie::LogMode::kAll;
  vigie::Pipeline pipe(vigie::fuzz::DefaultPolicy(), &sink, opts);
  const Endpoint c = Ep("10.20.5.20", 40001), s = Ep("142.250.74.100", 443);
  uint64_t frame = 0;
  for (const std::vector<Chunk>& p : packets) {
    PacketSpec spec;
    spec.pn = frame;
    for (const Chunk& k : p) {
      PutBytes(&spec.frames, CryptoFrame(k.offset, absl::MakeConstSpan(hello).subspan(k.offset, k.len)));
    }
    ++frame;
    pipe.Process(kLinkEthernet, UdpFrame(c, s, Protect(kQuicTestVersions[0], spec)),
                 1'700'000'000'000'000 + frame * 10, frame);
  }
  return sink.decisions;
}

// Chunks packed `per_packet` to a packet (at most kMaxCryptoFramesPerPacket).
[[maybe_unused]] std::vector<std::vector<Chunk>> Pack(const std::vector<Chunk>& cuts, size_t per_packet) {
  std::vector<std::vector<Chunk>> out;
  for (size_t i = 0; i < cuts.size(); i += per_packet) {
    out.emplace_back(cuts.begin() + static_cast<long>(i),
                     cuts.begin() + static_cast<long>(std::min(cuts.size(), i + per_packet)));
  }
  return out;
}

[[maybe_unused]] void FuzzQuicSplit(uint8_t seed, const Bytes& hello) {
  std::mt19937 rng(seed);
  // Whole: 1000-byte frames, one a packet (a payload stays under the
  // builder's 16 KiB and a datagram under 1500 bytes).
  std::vector<Chunk> big;
  for (size_t off = 0; off < hello.size(); off += 1000) big.push_back({off, std::min<size_t>(1000, hello.size() - off)});
  const std::vector<DecisionSummary> whole = DeliverQuic(hello, Pack(big, 1));
  Same(whole, DeliverQuic(hello, Pack(Cut(hello.size(), 1, &rng), vigie::kMaxCryptoFramesPerPacket)),
       "one byte per CRYPTO frame");
  std::vector<std::vector<Chunk>> shuffled = Pack(Cut(hello.size(), 2 + seed % 200, &rng), 1 + seed % 8);
  for (auto& p : shuffled) std::shuffle(p.begin(), p.end(), rng);
  Same(whole, DeliverQuic(hello, shuffled), "random cuts, shuffled inside each packet");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t seed = data[0];
  // An exact-size heap copy of the client bytes (STYLE.md 12).
  Bytes stream(data + 1, data + std::min(size, 1 + kMaxStreamBytes));
  stream.shrink_to_fit();
#if defined(VIGIE_FUZZ_DNS_TCP_SPLIT)
  FuzzDnsTcpSplit(seed, stream);
#elif defined(VIGIE_FUZZ_QUIC_SPLIT)
  FuzzQuicSplit(seed, stream);
#else
#error "define one VIGIE_FUZZ_<TARGET>"
#endif
  return 0;
}
