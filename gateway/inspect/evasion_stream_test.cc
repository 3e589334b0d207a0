// A determined client against the TCP reassembly through the real Pipeline:
// overlapping segments, urgent data, MD5-signed and low-TTL segments, and
// flows evicted mid-hello. Each test is named after its trick; the same
// tricks with approved names stay allowed.
#include "gateway/inspect/pipeline_test_fixture.h"

namespace vigie {
namespace {

// Names of equal length, so that one hello can overlay the other.
constexpr char kBanned[] = "tiktok.com";
constexpr char kApproved[] = "w.olvid.io";

struct Seg {
  uint8_t ttl = 64;
  bool md5 = false;
  uint16_t urgent = 0;  // urgent pointer (URG set when non-zero)
};

class StreamEvasionTest : public PipelineTest {
 protected:
  void SetUp() override { Make(); }
  // A client TCP segment at stream offset `off` (after a handshake with
  // kIsn), with the IP TTL, an MD5 option and the urgent pointer.
  static Bytes Segment(const Endpoint& c, const Endpoint& s, const Bytes& stream, size_t off, size_t len, Seg o = {}) {
    Bytes t;
    PutU16(&t, c.port);
    PutU16(&t, s.port);
    PutU32(&t, kIsn + 1 + static_cast<uint32_t>(off));
    PutU32(&t, kServerIsn + 1);
    PutU8(&t, (o.md5 ? 10 : 5) << 4);  // data offset: 5 words, or 10 with the MD5 option
    PutU8(&t, kTcpAck | 0x08 | (o.urgent ? kTcpUrg : 0));
    PutU16(&t, 65535);
    PutU16(&t, 0);         // checksum
    PutU16(&t, o.urgent);  // urgent pointer
    if (o.md5) {
      PutU8(&t, 19);  // kind: MD5 signature (RFC 2385)
      PutU8(&t, 18);  // length
      PutBytes(&t, Bytes(16, 0xA5));
      PutU16(&t, 0x0101);  // NOP NOP
    }
    PutBytes(&t, absl::MakeConstSpan(stream.data() + off, len));
    Bytes f = testing::IpFrame(c, s, 6, t);
    f[14 + 8] = o.ttl;  // IPv4 TTL (Ethernet + 8)
    return f;
  }

  // A handshake on a fresh client port.
  Endpoint Open() {
    Endpoint c = Ep("10.0.0.5", static_cast<uint16_t>(port_++));
    Handshake(c, server_);
    return c;
  }
  PacketVerdict Send(const Endpoint& c, const Bytes& stream, size_t off, size_t len, Seg o = {}) {
    return Feed(Segment(c, server_, stream, off, len, o));
  }
  // The strictest action of the packets fed by `fn`.
  template <typename F>
  Action Worst(F fn) {
    Action worst = Action::kAllow;
    fn([&](PacketVerdict v) { worst = std::max(worst, v.action); });
    return worst;
  }
  const Captured& Last() const { return sink_.got.back(); }
  int port_ = 52000;
};

TEST_F(StreamEvasionTest, OverlapCoveringSegmentReplacesTheQueuedDecoy) {
  // For both orders: the decoy queued first and the real hello covering it
  // from lower (Linux reads the real one), and the other way round (Linux
  // reads the decoy; the first-arrival reading is the real one): blocked.
  for (bool real_covers : {true, false}) {
    Bytes real = Hello(kBanned), decoy = Hello(kApproved);
    ASSERT_EQ(real.size(), decoy.size());
    const Bytes& first = real_covers ? decoy : real;
    const Bytes& second = real_covers ? real : decoy;
    Endpoint c = Open();
    size_t n = sink_.got.size();
    Action a = Worst([&](auto see) {
      see(Send(c, real, 0, 10));
      see(Send(c, first, 30, real.size() - 30));   // queued
      see(Send(c, second, 20, real.size() - 20));  // starts lower: replaces it
      see(Send(c, real, 10, 10));                  // fills the gap
    });
    EXPECT_EQ(a, Action::kBlock) << real_covers;
    ASSERT_EQ(sink_.got.size(), n + 1);
    EXPECT_EQ(Last().domain, kBanned);
    EXPECT_EQ(Last().reason, Reason::kConflict);
  }
  EXPECT_EQ(Count(Counter::k_tcp_overlap_conflicts), 2u);
  EXPECT_EQ(Count(Counter::k_conflicts), 2u);
}

TEST_F(StreamEvasionTest, OverlapOfTwoApprovedHellosStaysAllowed) {
  Bytes a = Hello(kApproved), b = Hello("x.olvid.io");
  ASSERT_EQ(a.size(), b.size());
  Endpoint c = Open();
  Action worst = Worst([&](auto see) {
    see(Send(c, a, 0, 10));
    see(Send(c, a, 30, a.size() - 30));
    see(Send(c, b, 20, b.size() - 20));
    see(Send(c, a, 10, 10));
  });
  EXPECT_EQ(worst, Action::kAllow);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Last().action, Action::kAllow);
}

// The hello with one byte inserted at `at` and sent as urgent: Linux skips
// it (tcp_stdurg = 0, no SO_OOBINLINE).
Bytes WithUrgentByte(const Bytes& hello, size_t at) {
  Bytes s = hello;
  s.insert(s.begin() + static_cast<long>(at), 0x58);
  return s;
}

TEST_F(StreamEvasionTest, UrgentByteInsideTheHelloIsSkippedAsTheServerDoes) {
  Bytes hello = Hello(kBanned);
  Bytes wire = WithUrgentByte(hello, 3);  // inside the record header
  Endpoint c = Open();
  PacketVerdict v = Send(c, wire, 0, wire.size(), Seg{64, false, 4});
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Last().domain, kBanned);
  EXPECT_EQ(Count(Counter::k_tcp_urgent), 1u);
}

TEST_F(StreamEvasionTest, UrgentByteOfAnOobInlineServerIsReadToo) {
  // The byte is part of the hello for a server with SO_OOBINLINE: the inline
  // reading names the banned app, the Linux one is garbage: blocked.
  Bytes hello = Hello(kBanned);
  size_t at = 20;
  Bytes wire = hello;
  // The urgent pointer names the hello's own byte `at`: Linux drops it.
  Endpoint c = Open();
  PacketVerdict v = Send(c, wire, 0, wire.size(), Seg{64, false, static_cast<uint16_t>(at + 1)});
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_GE(sink_.got.size(), 1u);
  EXPECT_EQ(Last().domain, kBanned);
  EXPECT_EQ(Last().reason, Reason::kConflict);
}

TEST_F(StreamEvasionTest, UrgentByteInAnApprovedHelloStaysAllowed) {
  Bytes wire = WithUrgentByte(Hello(kApproved), 3);
  Endpoint c = Open();
  EXPECT_EQ(Send(c, wire, 0, wire.size(), Seg{64, false, 4}).action, Action::kAllow);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(Last().domain, kApproved);
}

TEST_F(StreamEvasionTest, Md5SignedDecoyIsNotReadButItsBannedHelloIs) {
  Bytes real = Hello(kBanned), decoy = Hello(kApproved);
  // An MD5-signed approved decoy, then the real hello: the server (no key)
  // drops the decoy and reads the real one.
  Endpoint c = Open();
  EXPECT_EQ(Send(c, decoy, 0, decoy.size(), Seg{64, true, 0}).action, Action::kAllow);
  EXPECT_EQ(Send(c, real, 0, real.size()).action, Action::kBlock);
  EXPECT_EQ(Last().domain, kBanned);
  // An MD5-signed banned hello before an approved one: a server with a key
  // reads it; blocked.
  Endpoint c2 = Open();
  EXPECT_EQ(Send(c2, real, 0, real.size(), Seg{64, true, 0}).action, Action::kBlock);
  EXPECT_EQ(Last().domain, kBanned);
  EXPECT_EQ(Last().reason, Reason::kConflict);
  EXPECT_EQ(Count(Counter::k_tcp_md5_unkeyed), 2u);
}

TEST_F(StreamEvasionTest, LowTtlDecoyThenRealHelloAtTheSameSeqIsBlocked) {
  Bytes real = Hello(kBanned), decoy = Hello(kApproved);
  for (bool decoy_first : {true, false}) {
    Endpoint c = Open();  // handshake TTL 64
    Action worst = Worst([&](auto see) {
      if (decoy_first) see(Send(c, decoy, 0, decoy.size(), Seg{3, false, 0}));
      see(Send(c, real, 0, real.size()));
      if (!decoy_first) see(Send(c, decoy, 0, decoy.size(), Seg{3, false, 0}));
    });
    EXPECT_EQ(worst, Action::kBlock) << decoy_first;
    EXPECT_EQ(Last().domain, kBanned);
  }
  // A banned hello with a low TTL, then an approved one: blocked too.
  Endpoint c = Open();
  EXPECT_EQ(Send(c, real, 0, real.size(), Seg{3, false, 0}).action, Action::kBlock);
  EXPECT_EQ(Last().reason, Reason::kConflict);
  EXPECT_GE(Count(Counter::k_tcp_ttl_suspect), 2u);
}

TEST_F(StreamEvasionTest, ConstantTtlAndApprovedTricksStayAllowed) {
  Bytes ok = Hello(kApproved), other = Hello("x.olvid.io");
  Endpoint c = Open();
  Send(c, ok, 30, ok.size() - 30);
  EXPECT_EQ(Send(c, ok, 0, 30).action, Action::kAllow);
  Endpoint c2 = Open();  // a low-TTL approved decoy and an approved hello
  Send(c2, other, 0, other.size(), Seg{3, false, 0});
  EXPECT_EQ(Send(c2, ok, 0, ok.size()).action, Action::kAllow);
  Endpoint c3 = Open();  // an MD5 approved hello
  Send(c3, other, 0, other.size(), Seg{64, true, 0});
  EXPECT_EQ(Send(c3, ok, 0, ok.size()).action, Action::kAllow);
  for (const Captured& d : sink_.got) EXPECT_EQ(d.action, Action::kAllow) << d.domain;
  EXPECT_EQ(Count(Counter::k_tcp_ttl_suspect), 1u);
}

// A table of 4 flows: one half-sent hello, then other flows push it out.
class EvictionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vigie_evict_" + std::to_string(::getpid()));
    auto p = testing::WritePolicy(dir_, std::string(testing::kPipelineTestConfig) + "[flows]\nmax = 4\n");
    ASSERT_TRUE(p.ok()) << p.status();
    pipe_ = std::make_unique<Pipeline>(*p, &sink_, PipelineOptions());
  }
  void TearDown() override { fs::remove_all(dir_); }
  PacketVerdict Feed(const Bytes& f) {
    ts_ += 1000;
    return pipe_->Process(kEthernet, absl::MakeConstSpan(f), ts_, ++frame_);
  }
  fs::path dir_;
  CaptureSink sink_;
  std::unique_ptr<Pipeline> pipe_;
  uint64_t ts_ = 1748736000ull * 1'000'000, frame_ = 0;
};

TEST_F(EvictionTest, FlowEvictedMidHelloIsUninspectedAndSoIsItsRest) {
  Endpoint c = Ep("10.0.0.5", 50000), s = Ep("93.184.216.34", 443);
  Bytes hello = Hello(kApproved);
  Feed(TcpFrame(c, s, 1000, 0, kTcpSyn, {}));
  Feed(TcpFrame(c, s, 1001, 1, kTcpAck, absl::MakeConstSpan(hello.data(), 40)));  // half a hello
  for (int i = 0; i < 4; ++i) {
    Feed(TcpFrame(Ep("10.0.0.9", static_cast<uint16_t>(40000 + i)), s, 7, 0, kTcpSyn, {}));
  }
  EXPECT_EQ(pipe_->counters().Get(Counter::k_flows_evicted_inspecting), 1u);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].reason, Reason::kUninspected);
  EXPECT_EQ(sink_.got[0].malformed, "evicted");
  EXPECT_EQ(sink_.got[0].action, Action::kBlock);
  // The rest of the hello arrives mid-stream, as a new flow: not allowed.
  PacketVerdict v = Feed(TcpFrame(c, s, 1041, 1, kTcpAck, absl::MakeConstSpan(hello.data() + 40, hello.size() - 40)));
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_TRUE(v.flow_final);
  EXPECT_EQ(sink_.got.back().reason, Reason::kUninspected);
  // A mid-stream flow never seen before is read as before (no eviction).
  Endpoint other = Ep("10.0.0.6", 50001);
  EXPECT_EQ(Feed(TcpFrame(other, s, 5000, 1, kTcpAck, Hello(kApproved))).action, Action::kAllow);
}

}  // namespace
}  // namespace vigie
