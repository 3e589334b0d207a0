#include "gateway/inspect/quic_test_fixture.h"

namespace vigie {
namespace {

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


}  // namespace
}  // namespace vigie
