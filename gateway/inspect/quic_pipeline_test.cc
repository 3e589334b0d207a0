// QUIC through the whole packet path: generated client Initials (protected by the
// independent test-side encryptor of classifiers/testing/quic_builder.h) carried
// in IPv4 / IPv6 UDP frames, Ethernet or raw IP, fed to Pipeline::Process.
//
// The differential requirement: however the ClientHello's CRYPTO data is cut
// (1-byte frames over many packets), ordered (reverse, shuffled) or repeated
// (duplicates, overlaps), the verdict (action, app, domain) is the one the whole
// ClientHello in one packet gets.

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
namespace {

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

const TestVersion& Version(std::string_view name) {
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
Bytes ShortHeader(const Bytes& dcid, size_t n = 60) {
  Bytes p;
  PutU8(&p, 0x41);
  PutBytes(&p, dcid);
  for (size_t i = 0; i < n; ++i) PutU8(&p, static_cast<uint8_t>(i * 37 + 11));
  return p;
}

Bytes Hello(const std::string& sni, bool pq = false, bool ech = false) {
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
testing::SuitePolicy* QuicPipelineTest::suite_ = nullptr;

// ---- One Initial, per version and link / IP family --------------------------------------

struct Case {
  const char* version;
  int linktype;
  bool ipv6;
};

class QuicVersionPipelineTest : public QuicPipelineTest, public ::testing::WithParamInterface<Case> {};

TEST_P(QuicVersionPipelineTest, BlockedClientHelloInOneInitial) {
  const Case& c = GetParam();
  const TestVersion& v = Version(c.version);
  if (c.ipv6) {
    client_ = Ep("fd00::10", 52000);
    server_ = Ep("2a00:1450:4007:80c::2004", 443);
  }
  const Bytes ch = Hello("www.tiktok.com");
  const Bytes first = Initial(v, CryptoFrame(0, ch));
  PacketVerdict pv = FromClient(first, c.linktype);  // frame 1
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.decided);
  EXPECT_TRUE(pv.flow_final);
  EXPECT_EQ(pv.proto, Proto::kQuic);
  EXPECT_TRUE(pv.has_app);
  ASSERT_EQ(sink_.got.size(), 1u);
  const Captured& d = sink_.got[0];
  EXPECT_EQ(d.proto, Proto::kQuic);
  EXPECT_EQ(d.action, Action::kBlock);
  EXPECT_EQ(d.reason, Reason::kList);
  EXPECT_EQ(d.app, "tiktok");
  EXPECT_EQ(d.domain, "www.tiktok.com");
  EXPECT_EQ(d.frame, 1u);
  EXPECT_EQ(d.crypto_frames, 1);
  EXPECT_FALSE(d.ech);
  EXPECT_NE(d.json.find("\"proto\":\"quic\""), std::string::npos) << d.json;
  EXPECT_EQ(Count(Counter::k_quic_initials), 1u);
  EXPECT_EQ(Count(Counter::k_quic_client_hellos), 1u);
  EXPECT_EQ(Count(c.ipv6 ? Counter::k_packets_ipv6 : Counter::k_packets_ipv4), 1u);

  // The rest of the flow from the client: the flow's verdict, no new decision.
  pv = FromClient(first, c.linktype);  // retransmitted as is
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.flow_final);
  EXPECT_FALSE(pv.decided);
  pv = FromClient(Initial(v, CryptoFrame(0, ch), 1), c.linktype);  // retransmitted with a new packet number
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_FALSE(pv.decided);
  pv = FromClient(ShortHeader(FromHex("c1c2c3c4")), c.linktype);
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.flow_final);
  EXPECT_FALSE(pv.decided);
  // The server's packets are not the client's: passed.
  pv = FromServer(ShortHeader(FromHex("c1c2c3c4")), c.linktype);
  EXPECT_FALSE(pv.decided);
  EXPECT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);
}

INSTANTIATE_TEST_SUITE_P(Quic, QuicVersionPipelineTest,
                         ::testing::Values(Case{"V1", kEthernet, false}, Case{"V1", kRaw, true},
                                           Case{"V2", kEthernet, false}, Case{"V2", kRaw, true},
                                           Case{"Draft29", kRaw, false}, Case{"Draft29", kEthernet, true}),
                         [](const auto& p) {
                           return std::string(p.param.version) + (p.param.linktype == kRaw ? "Raw" : "Ether") +
                                  (p.param.ipv6 ? "V6" : "V4");
                         });

// ---- A post-quantum ClientHello over two Initials ----------------------------------------

class QuicSplitTest : public QuicPipelineTest, public ::testing::WithParamInterface<TestVersion> {};

// Two CRYPTO pieces out of order in the first Initial (with PING, PADDING and an
// ACK between them) and a coalesced 0-RTT packet; the middle piece in the second.
TEST_P(QuicSplitTest, PostQuantumHelloOverTwoInitialsOutOfOrder) {
  const TestVersion& v = GetParam();
  const Bytes ch = Hello("www.tiktok.com", /*pq=*/true);
  ASSERT_GT(ch.size(), 1300u);  // does not fit in one 1200-byte Initial
  const size_t a = 300, b = 1000;
  const absl::Span<const uint8_t> all(ch);
  Bytes f1 = CryptoFrame(b, all.subspan(b), v.gquic);  // third piece first
  f1.push_back(v.gquic ? 0x07 : 0x01);                 // PING
  testing::PutFill(&f1, 5, 0x00);                      // PADDING
  PutBytes(&f1, CryptoFrame(0, all.subspan(0, a), v.gquic));
  if (!v.gquic) PutBytes(&f1, FromHex("02 05 00 01 00 03 01"));  // ACK with one extra range
  PacketSpec p1;
  p1.dcid = kDcid;
  p1.frames = f1;
  PacketSpec z;
  z.type = LongType::kZeroRtt;
  z.dcid = kDcid;
  z.pn = 1;
  z.frames = Bytes(200, 0x42);
  const Bytes dgram1 = Concat(Protect(v, p1), Protect(v, z));

  PacketVerdict pv = FromClient(dgram1);  // frame 1
  EXPECT_EQ(pv.action, Action::kAllow);
  EXPECT_FALSE(pv.decided);
  EXPECT_FALSE(pv.flow_final);
  EXPECT_TRUE(sink_.got.empty());
  pv = FromClient(Initial(v, CryptoFrame(a, all.subspan(a, b - a), v.gquic), 2));  // frame 2
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.decided);
  EXPECT_TRUE(pv.flow_final);
  ASSERT_EQ(sink_.got.size(), 1u);
  const Captured& d = sink_.got[0];
  EXPECT_EQ(d.frame, 2u);
  EXPECT_EQ(d.proto, Proto::kQuic);
  EXPECT_EQ(d.app, "tiktok");
  EXPECT_EQ(d.domain, "www.tiktok.com");
  EXPECT_EQ(d.crypto_frames, 3);
  EXPECT_NE(d.json.find("\"crypto_frames\":3"), std::string::npos) << d.json;
  EXPECT_EQ(Count(Counter::k_quic_initials), 2u);
  EXPECT_EQ(Count(Counter::k_quic_multi_crypto), 1u);
  EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);
  // A later 0-RTT packet alone: the flow's verdict.
  pv = FromClient(Protect(v, z));
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_EQ(sink_.got.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Quic, QuicSplitTest, ::testing::ValuesIn(testing::kQuicTestVersions),
                         [](const auto& p) { return std::string(p.param.name); });

// ---- Differential: any cut, order or repetition of the CRYPTO data ------------------------

struct Piece {
  uint64_t offset;
  Bytes data;
};

struct Outcome {
  size_t decisions = 0;
  Action action = Action::kAllow;
  Reason reason = Reason::kNoMatch;
  std::string app, domain;
  Action last_verdict = Action::kAllow;  // of the packet that decided
  bool final = false;
};

// Packs pieces, in the given order, into Initials of at most `per_packet` CRYPTO
// frames each (consecutive packet numbers), and feeds them in that order.
Outcome SendPieces(const std::vector<Piece>& pieces, size_t per_packet,
            const std::function<PacketVerdict(const Bytes&)>& send, const CaptureSink& sink,
            const TestVersion& v, const Bytes& dcid) {
  Outcome o;
  uint64_t pn = 0;
  for (size_t i = 0; i < pieces.size(); i += per_packet) {
    Bytes frames;
    for (size_t j = i; j < std::min(pieces.size(), i + per_packet); ++j) {
      PutBytes(&frames, CryptoFrame(pieces[j].offset, pieces[j].data));
    }
    PacketSpec p;
    p.dcid = dcid;
    p.pn = pn++;
    p.pn_len = 4;
    p.frames = frames;
    p.pad_to = 1200;
    const size_t before = sink.got.size();
    PacketVerdict pv = send(Protect(v, p));
    if (sink.got.size() > before) {
      o.last_verdict = pv.action;
      o.final = pv.flow_final;
    }
  }
  o.decisions = sink.got.size();
  if (!sink.got.empty()) {
    o.action = sink.got.back().action;
    o.reason = sink.got.back().reason;
    o.app = sink.got.back().app;
    o.domain = sink.got.back().domain;
  }
  return o;
}

std::vector<Piece> OneBytePieces(const Bytes& ch) {
  std::vector<Piece> out;
  for (size_t i = 0; i < ch.size(); ++i) out.push_back({i, Bytes{ch[i]}});
  return out;
}

class QuicDifferentialTest : public QuicPipelineTest {
 protected:
  // The verdict with the whole hello in one CRYPTO frame (the reference), then
  // each variant on its own 5-tuple of a fresh pipeline.
  Outcome Reference(const Bytes& ch) {
    Make();
    return Go({{0, ch}}, 1);
  }
  Outcome Go(const std::vector<Piece>& pieces, size_t per_packet) {
    Make();
    client_.port = static_cast<uint16_t>(client_.port + 1);
    auto send = [this](const Bytes& payload) { return FromClient(payload); };
    return SendPieces(pieces, per_packet, send, sink_, Version("V1"), kDcid);
  }
  void ExpectSame(const Outcome& ref, const Outcome& got, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(got.decisions, 1u);
    EXPECT_EQ(got.action, ref.action);
    EXPECT_EQ(got.reason, ref.reason);
    EXPECT_EQ(got.app, ref.app);
    EXPECT_EQ(got.domain, ref.domain);
    EXPECT_EQ(got.last_verdict, ref.last_verdict);
    EXPECT_TRUE(got.final);
    EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);
    EXPECT_EQ(Count(Anomaly::k_tls_malformed), 0u);
  }
};

TEST_F(QuicDifferentialTest, OneByteFramesInOrderAndReversed) {
  for (bool pq : {false, true}) {
    const Bytes ch = Hello("www.tiktok.com", pq);
    const Outcome ref = Reference(ch);
    ASSERT_EQ(ref.decisions, 1u);
    ASSERT_EQ(ref.action, Action::kBlock);
    ASSERT_EQ(ref.app, "tiktok");
    std::vector<Piece> pieces = OneBytePieces(ch);
    ExpectSame(ref, Go(pieces, 7), "in order, 7 per packet");
    ExpectSame(ref, Go(pieces, 64), "in order, 64 per packet");
    std::reverse(pieces.begin(), pieces.end());
    ExpectSame(ref, Go(pieces, 7), "reversed, 7 per packet");
    ExpectSame(ref, Go(pieces, 1), "reversed, 1 per packet");
  }
}

// 1-byte frames shuffled within blocks of 32 bytes, blocks in order.
TEST_F(QuicDifferentialTest, OneByteFramesShuffledWithinBlocks) {
  const Bytes ch = Hello("www.tiktok.com", /*pq=*/true);
  const Outcome ref = Reference(ch);
  for (uint32_t seed : {1u, 2u, 3u, 42u, 2024u}) {
    std::vector<Piece> pieces = OneBytePieces(ch);
    std::mt19937 rng(seed);
    for (size_t i = 0; i < pieces.size(); i += 32) {
      std::shuffle(pieces.begin() + i, pieces.begin() + std::min(pieces.size(), i + 32), rng);
    }
    ExpectSame(ref, Go(pieces, 10), "shuffled within blocks, seed " + std::to_string(seed));
  }
}

// 1-byte frames in a fully shuffled (seeded) order: the CRYPTO stream is
// reassembled by the TCP reassembly, whose held-bytes bitmap has no bound on
// holes, so the ClientHello completes and is decided as the whole hello is.
TEST_F(QuicDifferentialTest, OneByteFramesFullyShuffled) {
  for (bool pq : {false, true}) {
    const Bytes ch = Hello("www.tiktok.com", pq);
    const Outcome ref = Reference(ch);
    ASSERT_EQ(ref.decisions, 1u);
    ASSERT_EQ(ref.action, Action::kBlock);
    ASSERT_EQ(ref.app, "tiktok");
    for (uint32_t seed : {1u, 2u, 3u, 42u, 2024u}) {
      std::vector<Piece> pieces = OneBytePieces(ch);
      std::mt19937 rng(seed);
      std::shuffle(pieces.begin(), pieces.end(), rng);
      ExpectSame(ref, Go(pieces, 10), "shuffled, seed " + std::to_string(seed) + (pq ? ", pq" : ""));
    }
  }
}

// Chrome-style CRYPTO "chaos protection": the hello cut into a few dozen pieces of
// random sizes, shuffled, over several packets.
TEST_F(QuicDifferentialTest, RandomPiecesShuffled) {
  const Bytes ch = Hello("www.tiktok.com", /*pq=*/true);
  const Outcome ref = Reference(ch);
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    std::vector<Piece> pieces;
    for (size_t off = 0; off < ch.size();) {
      const size_t n = std::min<size_t>(ch.size() - off, 1 + rng() % 120);
      pieces.push_back({off, Bytes(ch.begin() + off, ch.begin() + off + n)});
      off += n;
    }
    std::shuffle(pieces.begin(), pieces.end(), rng);
    ExpectSame(ref, Go(pieces, 8), "random pieces, seed " + std::to_string(seed));
  }
}

TEST_F(QuicDifferentialTest, DuplicatedAndOverlappingFrames) {
  const Bytes ch = Hello("www.tiktok.com", /*pq=*/true);
  const Outcome ref = Reference(ch);
  // Every byte twice, one byte per frame, the copy right after the original.
  std::vector<Piece> twice;
  for (const Piece& p : OneBytePieces(ch)) {
    twice.push_back(p);
    twice.push_back(p);
  }
  ExpectSame(ref, Go(twice, 16), "each 1-byte frame twice");
  // Overlapping windows: [0,40), [20,60), [40,80), ... then the whole set again, reversed.
  std::vector<Piece> windows;
  for (size_t off = 0; off < ch.size(); off += 20) {
    const size_t n = std::min<size_t>(40, ch.size() - off);
    windows.push_back({off, Bytes(ch.begin() + off, ch.begin() + off + n)});
  }
  std::vector<Piece> overlap = windows;
  std::reverse(windows.begin(), windows.end());
  overlap.insert(overlap.begin(), windows.begin(), windows.end());
  ExpectSame(ref, Go(overlap, 6), "overlapping windows, reversed then in order");
  // Random overlapping pieces, shuffled, covering every byte.
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    std::mt19937 rng(seed);
    std::vector<Piece> pieces;
    for (size_t off = 0; off < ch.size();) {
      const size_t n = std::min<size_t>(ch.size() - off, 1 + rng() % 100);
      pieces.push_back({off, Bytes(ch.begin() + off, ch.begin() + off + n)});
      const size_t back = rng() % (n + 1);  // the next piece starts up to n bytes earlier
      off += std::max<size_t>(1, n - back / 2);
    }
    const size_t dups = pieces.size() / 4;
    for (size_t i = 0; i < dups; ++i) pieces.push_back(pieces[rng() % pieces.size()]);
    std::shuffle(pieces.begin(), pieces.end(), rng);
    ExpectSame(ref, Go(pieces, 6), "random overlaps and duplicates, seed " + std::to_string(seed));
  }
}

// ---- Connection IDs -------------------------------------------------------------------------

// RFC 9001 §5.2: once the server's Initial chose a connection ID, the client
// addresses it but keeps its first DCID's keys.
TEST_F(QuicPipelineTest, ClientSwitchesToServerChosenDcidMidHello) {
  const TestVersion& v = Version("V1");
  const Bytes ch = Hello("www.tiktok.com", /*pq=*/true);
  const absl::Span<const uint8_t> all(ch);
  const Bytes server_cid = FromHex("0164bccb0bceb2de8f64afc9a9cea6a36437ab44");
  FromClient(Initial(v, CryptoFrame(0, all.first(800)), 0, kDcid));  // frame 1
  EXPECT_TRUE(sink_.got.empty());
  PacketSpec s;  // the server's Initial (its own keys; opaque to us): passed
  s.dcid = FromHex("c1c2c3c4");
  s.scid = server_cid;
  s.frames = FromHex("02 00 00 00 00");
  s.pad_to = 1200;
  EXPECT_FALSE(FromServer(Protect(v, s)).decided);  // frame 2
  const Bytes second = Initial(v, CryptoFrame(800, all.subspan(800)), 1, server_cid, kDcid);
  PacketVerdict pv = FromClient(second);  // frame 3
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.flow_final);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].frame, 3u);
  EXPECT_EQ(sink_.got[0].app, "tiktok");
  EXPECT_EQ(sink_.got[0].crypto_frames, 2);
  EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);

  // The client's later packets, all to the server's connection ID: blocked, no
  // new decision. (A retransmission of the second Initial would otherwise
  // complete the ClientHello at the server.)
  pv = FromClient(second);
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.flow_final);
  pv = FromClient(Initial(v, FromHex("02 00 00 00 00"), 2, server_cid, kDcid));  // ACK-only Initial
  EXPECT_EQ(pv.action, Action::kBlock);
  PacketSpec hs;
  hs.type = LongType::kHandshake;
  hs.dcid = server_cid;
  hs.frames = Bytes(100, 0x33);
  pv = FromClient(Protect(v, hs));
  EXPECT_EQ(pv.action, Action::kBlock);
  pv = FromClient(ShortHeader(server_cid));
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);
}

// After a Retry the client starts over: a new DCID (with its own keys) and a new
// ClientHello from offset 0, on the same 5-tuple: decided again.
TEST_F(QuicPipelineTest, RetryLikeRestartIsDecidedAgain) {
  const TestVersion& v = Version("V2");
  FromClient(Initial(v, CryptoFrame(0, Hello("www.facebook.com")), 0, kDcid));  // frame 1: log
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].action, Action::kLog);
  EXPECT_EQ(sink_.got[0].app, "facebook");
  const Bytes retry_dcid = FromHex("e0e1e2e3e4e5e6e7e8e9");
  const Bytes ch = Hello("www.tiktok.com", /*pq=*/true);
  const absl::Span<const uint8_t> all(ch);
  PacketVerdict pv = FromClient(Initial(v, CryptoFrame(0, all.first(700)), 0, retry_dcid));  // frame 2
  EXPECT_FALSE(pv.decided);
  EXPECT_EQ(sink_.got.size(), 1u);
  pv = FromClient(Initial(v, CryptoFrame(700, all.subspan(700)), 1, retry_dcid));  // frame 3
  EXPECT_EQ(pv.action, Action::kBlock);
  EXPECT_TRUE(pv.decided);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[1].frame, 3u);
  EXPECT_EQ(sink_.got[1].app, "tiktok");
  EXPECT_EQ(sink_.got[1].flow_id, sink_.got[0].flow_id);
  // Retransmissions under either DCID: the flow's (strongest) verdict.
  EXPECT_EQ(FromClient(Initial(v, CryptoFrame(700, all.subspan(700)), 1, retry_dcid)).action, Action::kBlock);
  EXPECT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(Count(Counter::k_quic_client_hellos), 2u);
}

// ---- Direction, scope, policy --------------------------------------------------------------

TEST_F(QuicPipelineTest, ServerInitialsAreIgnored) {
  for (LogMode mode : {LogMode::kDecisions, LogMode::kAll}) {  // kAll: the server's packets pass the scope
    SCOPED_TRACE(static_cast<int>(mode));
    Make(mode);
    const TestVersion& v = Version("V1");
    const Bytes ch = Hello("www.facebook.com");
    const absl::Span<const uint8_t> all(ch);
    FromClient(Initial(v, CryptoFrame(0, all.first(100))));  // frame 1: the client opens the flow
    // A server-to-client Initial that would even decrypt with the client's keys
    // and name tiktok: not the client's, never inspected.
    PacketVerdict pv = FromServer(Initial(v, CryptoFrame(0, Hello("www.tiktok.com"))));  // frame 2
    EXPECT_FALSE(pv.decided);
    EXPECT_EQ(pv.action, Action::kAllow);
    EXPECT_TRUE(sink_.got.empty());
    pv = FromClient(Initial(v, CryptoFrame(100, all.subspan(100)), 1));  // frame 3
    EXPECT_TRUE(pv.decided);
    ASSERT_EQ(sink_.got.size(), 1u);
    EXPECT_EQ(sink_.got[0].app, "facebook");
    EXPECT_EQ(sink_.got[0].action, Action::kLog);
    EXPECT_EQ(sink_.got[0].frame, 3u);
    pv = FromServer(Initial(v, CryptoFrame(0, Hello("www.tiktok.com")), 1));
    EXPECT_FALSE(pv.decided);
    EXPECT_EQ(sink_.got.size(), 1u);
    EXPECT_EQ(Count(Counter::k_quic_client_hellos), 1u);
    EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 0u);
  }
}

TEST_F(QuicPipelineTest, UnmanagedClient) {
  const TestVersion& v = Version("V1");
  client_ = Ep("192.168.1.5", 40000);
  const Bytes initial = Initial(v, CryptoFrame(0, Hello("www.tiktok.com")));
  PacketVerdict pv = FromClient(initial);
  EXPECT_EQ(pv.action, Action::kAllow);
  EXPECT_FALSE(pv.decided);
  EXPECT_TRUE(sink_.got.empty());
  EXPECT_EQ(Count(Counter::k_decisions), 0u);

  Make(LogMode::kAll);
  pv = FromClient(initial);
  EXPECT_EQ(pv.action, Action::kAllow);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].proto, Proto::kQuic);
  EXPECT_EQ(sink_.got[0].action, Action::kAllow);
  EXPECT_EQ(sink_.got[0].reason, Reason::kUnmanaged);
  EXPECT_EQ(sink_.got[0].app, "tiktok");
}

TEST_F(QuicPipelineTest, ApprovedAppIsAllowed) {
  PacketVerdict pv = FromClient(Initial(Version("Draft29"), CryptoFrame(0, Hello("olvid.io"))));
  EXPECT_EQ(pv.action, Action::kAllow);
  EXPECT_TRUE(pv.decided);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].action, Action::kAllow);
  EXPECT_EQ(sink_.got[0].reason, Reason::kAllowlist);
  EXPECT_EQ(sink_.got[0].app, "olvid");
  EXPECT_EQ(sink_.got[0].domain, "olvid.io");
}

TEST_F(QuicPipelineTest, EncryptedClientHello) {
  const TestVersion& v = Version("V1");
  // The outer name matches nothing: the ech policy (default log) decides.
  PacketVerdict pv = FromClient(Initial(v, CryptoFrame(0, Hello("public.example.net", false, /*ech=*/true))));
  EXPECT_GE(pv.action, Action::kLog);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_TRUE(sink_.got[0].ech);
  EXPECT_EQ(sink_.got[0].action, Action::kLog);
  EXPECT_EQ(sink_.got[0].reason, Reason::kEch);
  EXPECT_NE(sink_.got[0].json.find("\"ech\":true"), std::string::npos) << sink_.got[0].json;
  EXPECT_EQ(Count(Counter::k_tls_ech), 1u);
  // A listed outer name keeps its stronger action.
  client_.port++;
  pv = FromClient(Initial(v, CryptoFrame(0, Hello("www.tiktok.com", true, /*ech=*/true))));
  EXPECT_EQ(pv.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_TRUE(sink_.got[1].ech);
  EXPECT_EQ(sink_.got[1].action, Action::kBlock);
}

// ---- Bad input ------------------------------------------------------------------------------

TEST_F(QuicPipelineTest, UndecryptableInitialIsCounted) {
  const TestVersion& v = Version("V1");
  Bytes bad = Initial(v, CryptoFrame(0, Hello("www.tiktok.com")));
  bad.back() ^= 0x01;  // AEAD tag
  PacketVerdict pv = FromClient(bad);
  EXPECT_FALSE(pv.decided);
  EXPECT_TRUE(sink_.got.empty());
  EXPECT_EQ(Count(Anomaly::k_quic_undecryptable), 1u);
  // The flow is not spoiled: the genuine Initial still decides.
  pv = FromClient(Initial(v, CryptoFrame(0, Hello("www.tiktok.com"))));
  EXPECT_EQ(pv.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].frame, 2u);
}

TEST_F(QuicPipelineTest, MutatedInitialsNeverCrash) {
  Make(LogMode::kAll);
  std::mt19937 rng(7);
  const Bytes ch = Hello("www.tiktok.com", true);
  const absl::Span<const uint8_t> all(ch);
  for (int i = 0; i < 600; ++i) {
    const TestVersion& v = testing::kQuicTestVersions[i % std::size(testing::kQuicTestVersions)];
    client_.port = static_cast<uint16_t>(20000 + i / 3);
    Bytes p = Initial(v, CryptoFrame(0, all.first(600), v.gquic), static_cast<uint64_t>(i % 3));
    const int how = i % 4;
    if (how == 0) p.resize(rng() % (p.size() + 1));
    if (how == 1) p[rng() % p.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    if (how == 2) p[1 + rng() % 12] = static_cast<uint8_t>(rng());  // header fields
    if (how == 3) p = Concat(p, Bytes(rng() % 40, static_cast<uint8_t>(rng())));
    FromClient(p);
  }
  for (const Captured& c : sink_.got) EXPECT_EQ(c.json.back(), '}');
  EXPECT_GT(Count(Anomaly::k_quic_undecryptable), 0u);
}

TEST_F(QuicPipelineTest, CryptoBeyondTheCapIsCounted) {
  const TestVersion& v = Version("V1");
  const Bytes ch = Hello("www.tiktok.com");
  // A CRYPTO frame past 16 KiB (no ClientHello is that large), then the hello.
  Bytes frames = CryptoFrame(kMaxQuicCryptoBytes + 1000, Bytes(100, 0xaa));
  PutBytes(&frames, CryptoFrame(kMaxQuicCryptoBytes * 3, Bytes(10, 0xbb)));
  PacketVerdict pv = FromClient(Initial(v, frames));
  EXPECT_FALSE(pv.decided);
  EXPECT_EQ(Count(Counter::k_quic_crypto_capped), 2u);
  pv = FromClient(Initial(v, CryptoFrame(0, ch), 1));
  EXPECT_EQ(pv.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);

  // A ClientHello announced larger than 16 KiB, sent in full: over the cap.
  client_.port++;
  testing::ClientHelloSpec huge;
  huge.sni = "www.tiktok.com";
  huge.padding = kMaxQuicCryptoBytes;
  const Bytes big = testing::BuildClientHelloHandshake(huge);
  uint64_t pn = 0;
  for (size_t off = 0; off < big.size(); off += 1100) {
    const size_t n = std::min<size_t>(1100, big.size() - off);
    FromClient(Initial(v, CryptoFrame(off, absl::MakeConstSpan(big).subspan(off, n)), pn++));
  }
  EXPECT_EQ(Count(Anomaly::k_tls_too_large), 1u);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(sink_.got[1].reason, Reason::kMalformed);
}

}  // namespace
}  // namespace vigie
