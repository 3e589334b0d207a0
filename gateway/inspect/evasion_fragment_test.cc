// Conflicting overlapping IP fragments through the real Pipeline (issue 9:
// "ambiguity never allows"): receivers keep the first or the last bytes (or
// drop the datagram), so both readings are decided and the strictest wins,
// reason conflict, conflict = ip_fragment. Each test is named after its trick.
#include "classifiers/testing/quic_builder.h"
#include "gateway/inspect/pipeline_test_fixture.h"

namespace vigie {
namespace {

// Two readings of one transport datagram (same length), cut into fragments:
// the differing 8-byte-aligned span once from each reading (`a` first, so
// first-wins reads `a` and last-wins `b`), then the bytes before and after
// it. Each is the l4 bytes of one IP fragment.
struct FragPiece {
  uint32_t offset;
  Bytes data;
  bool more;
};
std::vector<FragPiece> ConflictingPieces(const Bytes& a, const Bytes& b) {
  EXPECT_EQ(a.size(), b.size());
  size_t d0 = 0, d1 = a.size();
  while (d0 < a.size() && a[d0] == b[d0]) ++d0;
  while (d1 > d0 && a[d1 - 1] == b[d1 - 1]) --d1;
  size_t lo = d0 / 8 * 8, hi = std::min(a.size(), (d1 + 7) / 8 * 8);
  if (d0 == a.size()) lo = 0, hi = std::min<size_t>(a.size(), 16);  // identical: overlap the first bytes
  std::vector<FragPiece> v;
  auto piece = [&](const Bytes& src, size_t from, size_t to) {
    v.push_back({static_cast<uint32_t>(from), Bytes(src.begin() + from, src.begin() + to), to < src.size()});
  };
  // The differing span first (from both readings), then the rest: the
  // datagram completes only after both copies are in.
  EXPECT_TRUE(lo > 0 || hi < a.size()) << "no common bytes to complete the datagram with";
  piece(a, lo, hi);
  piece(b, lo, hi);
  if (lo > 0) piece(a, 0, lo);
  if (hi < a.size()) piece(a, hi, a.size());
  return v;
}

Bytes UdpL4(const Endpoint& src, const Endpoint& dst, const Bytes& payload) {
  Bytes u;
  PutU16(&u, src.port);
  PutU16(&u, dst.port);
  PutU16(&u, static_cast<uint16_t>(8 + payload.size()));
  PutU16(&u, 0);  // no checksum (IPv4)
  PutBytes(&u, payload);
  return u;
}

Bytes TcpL4(const Endpoint& src, const Endpoint& dst, uint32_t seq, uint32_t ack, const Bytes& payload) {
  Bytes t;
  PutU16(&t, src.port);
  PutU16(&t, dst.port);
  PutU32(&t, seq);
  PutU32(&t, ack);
  PutU8(&t, 5 << 4);
  PutU8(&t, kTcpAck | 0x08);
  PutU16(&t, 65535);
  PutU16(&t, 0);  // checksum (wrong everywhere: read as offload)
  PutU16(&t, 0);
  PutBytes(&t, payload);
  return t;
}

// One IPv6 fragment (Ethernet, IPv6, Fragment header, RFC 8200 §4.5).
Bytes Ip6Fragment(const Endpoint& src, const Endpoint& dst, uint8_t proto, const FragPiece& p, uint32_t id) {
  Bytes f;
  PutBytes(&f, Bytes{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2});
  PutU16(&f, 0x86DD);
  PutU32(&f, 0x60000000);
  PutU16(&f, static_cast<uint16_t>(8 + p.data.size()));  // payload length
  PutU8(&f, 44);                                          // next header: Fragment
  PutU8(&f, 64);
  PutBytes(&f, absl::MakeConstSpan(src.ip.bytes, 16));
  PutBytes(&f, absl::MakeConstSpan(dst.ip.bytes, 16));
  PutU8(&f, proto);                                                     // next header
  PutU8(&f, 0);                                                         // reserved
  PutU16(&f, static_cast<uint16_t>((p.offset & ~7u) | (p.more ? 1 : 0)));  // offset (8-byte units << 3), M
  PutU32(&f, id);
  PutBytes(&f, p.data);
  return f;
}

class FragmentEvasionTest : public PipelineTest {
 protected:
  void SetUp() override { Make(); }

  // Sends the pieces as IP fragments of one datagram.
  PacketVerdict SendPieces(const Endpoint& src, const Endpoint& dst, uint8_t proto,
                           const std::vector<FragPiece>& pieces, uint16_t id = 4242) {
    PacketVerdict last;
    for (const FragPiece& p : pieces) {
      if (src.ip.family == 6) {
        last = Feed(Ip6Fragment(src, dst, proto, p, id));
      } else {
        uint16_t field = static_cast<uint16_t>((p.more ? 0x2000 : 0) | (p.offset / 8));
        last = Feed(IpFrame(src, dst, proto, p.data, id, field));
      }
    }
    return last;
  }
  // A DNS query whose fragments read `a` first-wins and `b` last-wins.
  PacketVerdict DnsConflict(const std::string& a, const std::string& b, const Endpoint& client) {
    Endpoint resolver = client.ip.family == 6 ? Ep("2620:fe::fe", 53) : resolver_;
    return SendPieces(client, resolver, 17,
                      ConflictingPieces(UdpL4(client, resolver, testing::BuildDnsQuery(a, 1)),
                                        UdpL4(client, resolver, testing::BuildDnsQuery(b, 1))));
  }
  PacketVerdict HelloConflict(const std::string& a, const std::string& b) {
    Handshake(client_, server_);
    return SendPieces(client_, server_, 6,
                      ConflictingPieces(TcpL4(client_, server_, kIsn + 1, kServerIsn + 1, Hello(a)),
                                        TcpL4(client_, server_, kIsn + 1, kServerIsn + 1, Hello(b))));
  }
  bool AnyConflictLogged() const {
    for (const Captured& c : sink_.got) {
      if (c.json.find("\"conflict\":\"ip_fragment\"") != std::string::npos) return true;
    }
    return false;
  }
  const Captured& Strictest() const {
    const Captured* best = &sink_.got.front();
    for (const Captured& c : sink_.got) {
      if (c.action > best->action) best = &c;
    }
    return *best;
  }
};

TEST_F(FragmentEvasionTest, ConflictingFragmentsDnsDecoyFirstBlocks) {
  // First-wins reads the approved www.olvid.io, last-wins m.tiktok.com.
  PacketVerdict v = DnsConflict("www.olvid.io", "m.tiktok.com", client_);
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_FALSE(sink_.got.empty());
  EXPECT_EQ(Strictest().app, "tiktok");
  EXPECT_EQ(Strictest().reason, Reason::kConflict);
  EXPECT_TRUE(AnyConflictLogged());
  EXPECT_EQ(Count(Counter::k_ip_fragment_conflicts), 1u);
  EXPECT_EQ(Count(Counter::k_conflicts), 1u);
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsDnsDecoyLastBlocks) {
  PacketVerdict v = DnsConflict("m.tiktok.com", "www.olvid.io", client_);
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 1u);  // one decision, both readings in it
  EXPECT_EQ(sink_.got[0].app, "tiktok");
  EXPECT_EQ(sink_.got[0].reason, Reason::kConflict);
  EXPECT_TRUE(AnyConflictLogged());
  EXPECT_EQ(Count(Counter::k_ip_fragment_conflicts), 1u);
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsDnsIpv6Blocks) {
  Endpoint c6 = Ep("fd00::5", 51000);
  EXPECT_EQ(DnsConflict("www.olvid.io", "m.tiktok.com", c6).action, Action::kBlock);
  EXPECT_EQ(DnsConflict("m.tiktok.com", "www.olvid.io", c6).action, Action::kBlock);
  EXPECT_EQ(Count(Counter::k_ip_fragment_conflicts), 2u);
  EXPECT_EQ(Count(Counter::k_ip_reassembled), 2u);
}

TEST_F(FragmentEvasionTest, IdenticalOverlappingFragmentsStayAllowed) {
  PacketVerdict v = DnsConflict("www.olvid.io", "www.olvid.io", client_);
  EXPECT_EQ(v.action, Action::kAllow);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].app, "olvid");
  EXPECT_FALSE(AnyConflictLogged());
  EXPECT_EQ(Count(Counter::k_ip_fragment_conflicts), 0u);
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsApprovedInBothReadingsStayAllowed) {
  PacketVerdict v = DnsConflict("www.olvid.io", "api.olvid.io", client_);
  EXPECT_EQ(v.action, Action::kAllow);
  for (const Captured& c : sink_.got) EXPECT_EQ(c.action, Action::kAllow);
  EXPECT_EQ(Count(Counter::k_ip_fragment_conflicts), 1u);
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsLookAlikeStaysAllowed) {
  // nottiktok.com is not tiktok.com: neither reading is banned.
  PacketVerdict v = DnsConflict("www.olvid.io", "nottiktok.io", client_);
  EXPECT_EQ(v.action, Action::kAllow);
  for (const Captured& c : sink_.got) EXPECT_NE(c.app, "tiktok");
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsFromUnmanagedSourceStayAllowed) {
  PacketVerdict v = DnsConflict("www.olvid.io", "m.tiktok.com", Ep("192.168.9.9", 51000));
  EXPECT_EQ(v.action, Action::kAllow);
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsTcpHelloDecoyFirstBlocks) {
  PacketVerdict v = HelloConflict("www.olvid.io", "m.tiktok.com");
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(Strictest().app, "tiktok");
  EXPECT_EQ(Strictest().reason, Reason::kConflict);
  EXPECT_TRUE(AnyConflictLogged());
  EXPECT_EQ(Count(Counter::k_ip_fragment_conflicts), 1u);
  // The connection stays blocked.
  EXPECT_EQ(Data(client_, server_, Bytes(340, 0x17), 300, 40).action, Action::kBlock);
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsTcpHelloDecoyLastBlocks) {
  PacketVerdict v = HelloConflict("m.tiktok.com", "www.olvid.io");
  EXPECT_EQ(v.action, Action::kBlock);
  EXPECT_EQ(Strictest().app, "tiktok");
  EXPECT_EQ(Strictest().reason, Reason::kConflict);
  EXPECT_TRUE(AnyConflictLogged());
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsTcpHelloApprovedBothStayAllowed) {
  PacketVerdict v = HelloConflict("www.olvid.io", "api.olvid.io");
  EXPECT_EQ(v.action, Action::kAllow);
  for (const Captured& c : sink_.got) EXPECT_EQ(c.action, Action::kAllow);
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsInTcpHeaderAreTwoFlowsBothDecided) {
  // The readings differ in the source port: two connections, each decided.
  Endpoint other = client_;
  other.port = static_cast<uint16_t>(client_.port + 1);
  Bytes a = TcpL4(client_, server_, kIsn + 1, kServerIsn + 1, Hello("www.olvid.io"));
  Bytes b = TcpL4(other, server_, kIsn + 1, kServerIsn + 1, Hello("m.tiktok.com"));
  PacketVerdict v = SendPieces(client_, server_, 6, ConflictingPieces(a, b));
  EXPECT_EQ(v.action, Action::kBlock);
  ASSERT_EQ(sink_.got.size(), 2u);
  EXPECT_EQ(Strictest().app, "tiktok");
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsWithWrongChecksumReadingIsNotRead) {
  // The last-wins reading carries a wrong UDP checksum where the first-wins
  // one has none (IPv4 0 = none): its receiver drops it.
  // (EDNS: common bytes after the name complete the datagram.)
  Bytes a = UdpL4(client_, resolver_, testing::BuildDnsQuery("www.olvid.io", 1, true));
  Bytes b = UdpL4(client_, resolver_, testing::BuildDnsQuery("m.tiktok.com", 1, true));
  b[6] = 0x12, b[7] = 0x34;
  PacketVerdict v = SendPieces(client_, resolver_, 17, ConflictingPieces(a, b));
  EXPECT_EQ(v.action, Action::kAllow);
  EXPECT_EQ(Count(Counter::k_checksum_bad), 1u);
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsAlternateLostIsUninspected) {
  // Every alternate buffer held by unfinished conflicting datagrams: the next
  // conflict cannot be read the other way, and is not let through.
  Bytes q = UdpL4(client_, resolver_, testing::BuildDnsQuery("www.olvid.io", 1));
  Bytes liar = q;
  liar[20] ^= 1;
  for (uint16_t id = 1; id <= kMaxFragmentAlternates; ++id) {
    auto p = ConflictingPieces(q, liar);
    p.pop_back();  // never finished
    SendPieces(client_, resolver_, 17, p, id);
  }
  sink_.got.clear();
  PacketVerdict v = DnsConflict("www.olvid.io", "www.olvid.ip", client_);
  EXPECT_EQ(Count(Counter::k_ip_frag_alt_lost), 1u);
  EXPECT_EQ(v.action, Action::kBlock);  // [inspect] uninspected = block (default)
  EXPECT_EQ(Strictest().reason, Reason::kUninspected);
  EXPECT_EQ(Strictest().malformed, "ip_fragment");
}

// ---- QUIC ------------------------------------------------------------------------------

Bytes QuicInitialFor(const std::string& sni) {
  testing::ClientHelloSpec s;
  s.sni = sni;
  s.alpn = {"h3"};
  Bytes hello = testing::BuildClientHelloHandshake(s);
  testing::PacketSpec p;
  p.dcid = testing::FromHex("5a0f9b27e3c1d4a8");
  p.frames = testing::CryptoFrame(0, hello);
  p.pad_to = 1200;
  return testing::Protect(testing::kQuicTestVersions[0], p);
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsQuicInitialBothOrdersBlock) {
  Endpoint quic_server = Ep("142.250.74.100", 443);
  for (int order = 0; order < 2; ++order) {
    Make();
    sink_.got.clear();
    Endpoint c = Ep("10.0.0.7", static_cast<uint16_t>(52000 + order));
    Bytes decoy = UdpL4(c, quic_server, QuicInitialFor("www.olvid.io"));
    Bytes real = UdpL4(c, quic_server, QuicInitialFor("m.tiktok.com"));
    PacketVerdict v = order == 0 ? SendPieces(c, quic_server, 17, ConflictingPieces(decoy, real))
                                 : SendPieces(c, quic_server, 17, ConflictingPieces(real, decoy));
    EXPECT_EQ(v.action, Action::kBlock) << order;
    ASSERT_FALSE(sink_.got.empty());
    EXPECT_EQ(Strictest().app, "tiktok") << order;
    EXPECT_EQ(Strictest().reason, Reason::kConflict) << order;
    EXPECT_EQ(Count(Counter::k_ip_fragment_conflicts), 1u);
    // The connection stays blocked.
    EXPECT_EQ(Feed(UdpFrame(c, quic_server, QuicInitialFor("www.olvid.io"))).action, Action::kBlock) << order;
  }
}

TEST_F(FragmentEvasionTest, ConflictingFragmentsQuicApprovedBothStayAllowed) {
  Endpoint quic_server = Ep("142.250.74.100", 443);
  Bytes a = UdpL4(client_, quic_server, QuicInitialFor("www.olvid.io"));
  Bytes b = UdpL4(client_, quic_server, QuicInitialFor("api.olvid.io"));
  EXPECT_EQ(SendPieces(client_, quic_server, 17, ConflictingPieces(a, b)).action, Action::kAllow);
  for (const Captured& c : sink_.got) EXPECT_EQ(c.action, Action::kAllow);
}

TEST_F(FragmentEvasionTest, QuicDecoyInitialWithABadUdpChecksumIsNotRead) {
  // Not a fragment trick: the QUIC decoy. The source's checksums are
  // known good (a DNS query, IPv4 UDP checksum 0 = none), so a decoy Initial
  // for an approved name with a wrong checksum is dropped by the server and
  // not read; the real Initial (same DCID) that follows decides.
  Endpoint quic_server = Ep("142.250.74.100", 443);
  Feed(UdpFrame(client_, resolver_, testing::BuildDnsQuery("www.olvid.io", 1)));
  Bytes decoy = UdpFrame(client_, quic_server, QuicInitialFor("www.olvid.io"));
  const size_t udp_checksum = 14 + 20 + 6;
  decoy[udp_checksum] = 0x12, decoy[udp_checksum + 1] = 0x34;
  EXPECT_EQ(Feed(decoy).action, Action::kAllow);
  EXPECT_EQ(Count(Counter::k_checksum_bad), 1u);
  EXPECT_EQ(Feed(UdpFrame(client_, quic_server, QuicInitialFor("m.tiktok.com"))).action, Action::kBlock);
  EXPECT_EQ(Strictest().app, "tiktok");
}

}  // namespace
}  // namespace vigie
