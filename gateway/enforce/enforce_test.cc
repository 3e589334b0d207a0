#include "gateway/enforce/enforce.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "classifiers/dns.h"
#include "gateway/testing/pipeline_fixture.h"
#include "gtest/gtest.h"

// ldns is the differential oracle for the answers ldns built; it reads only
// bytes we made. Last include (ldns/common.h defines `bool`).
#include <ldns/ldns.h>

namespace vigie {
namespace {

using Bytes = std::vector<uint8_t>;

// A query for `name` (type `qtype`, class IN), with an OPT RR when `edns`.
Bytes Query(const std::string& name, uint16_t qtype, bool edns, uint16_t id = 0x1234) {
  Bytes q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id),  // ID
             0x01, 0x00,                                                // RD=1, opcode 0
             0x00, 0x01, 0x00, 0x00, 0x00, 0x00,                        // QD=1 AN=0 NS=0
             0x00, static_cast<uint8_t>(edns ? 1 : 0)};                 // AR
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      q.push_back(static_cast<uint8_t>(i - start));
      q.insert(q.end(), name.begin() + start, name.begin() + i);
      start = i + 1;
    }
  }
  q.push_back(0);
  q.insert(q.end(), {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype), 0x00, 0x01});
  if (edns) q.insert(q.end(), {0x00, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0x00, 0x00});  // root OPT, 1232, no rdata
  return q;
}

// The EDE option's bytes (INFO-CODE + EXTRA-TEXT) in an answer, via ldns.
std::string EdeOf(ldns_pkt* p, uint16_t* info_code) {
  ldns_edns_option_list* list = ldns_pkt_edns_get_option_list(p);
  if (list == nullptr) return "<none>";
  for (size_t i = 0; i < ldns_edns_option_list_get_count(list); ++i) {
    ldns_edns_option* o = ldns_edns_option_list_get_option(list, i);
    if (ldns_edns_get_code(o) != LDNS_EDNS_EDE) continue;
    const uint8_t* d = ldns_edns_get_data(o);
    size_t n = ldns_edns_get_size(o);
    if (n < 2) return "<short>";
    *info_code = static_cast<uint16_t>((d[0] << 8) | d[1]);
    return std::string(reinterpret_cast<const char*>(d + 2), n - 2);
  }
  return "<none>";
}

TEST(BlockedDnsAnswer, SvcbNodataIsNoerrorWithoutAnswerNeverNxdomain) {
  // [dns] svcb = "nodata": the HTTPS/SVCB query gets NODATA (the name exists;
  // only its ECH configuration is withheld), even with a sinkhole configured.
  Bytes q = Query("www.example.org", 65, true);
  DnsBlockOptions o;
  o.sinkhole = true;
  o.nodata = true;
  Bytes a = BuildBlockedDnsAnswer(q, "", o);
  ASSERT_FALSE(a.empty());
  ldns_pkt* p = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&p, a.data(), a.size()), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p), 0);
  ldns_pkt_free(p);
}

TEST(BlockedDnsAnswer, NxdomainCarriesEdeBlockedNamingTheApp) {
  Bytes q = Query("www.TikTok.com", 1, true);
  Bytes a = BuildBlockedDnsAnswer(q, "tiktok", DnsBlockOptions{});
  ASSERT_FALSE(a.empty());
  ldns_pkt* p = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&p, a.data(), a.size()), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_pkt_id(p), 0x1234);
  EXPECT_TRUE(ldns_pkt_qr(p));
  EXPECT_TRUE(ldns_pkt_rd(p));
  EXPECT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(ldns_pkt_qdcount(p), 1);
  EXPECT_EQ(ldns_pkt_ancount(p), 0);
  // The question is echoed with the client's case (0x20 randomisation).
  ldns_rr* qrr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
  char* owner = ldns_rdf2str(ldns_rr_owner(qrr));
  EXPECT_STREQ(owner, "www.TikTok.com.");
  free(owner);
  uint16_t code = 0;
  EXPECT_EQ(EdeOf(p, &code), "vigie: blocked app tiktok");
  EXPECT_EQ(code, kEdeBlocked);
  ldns_pkt_free(p);
}

TEST(BlockedDnsAnswer, NoOptWithoutEdnsInTheQuery) {
  Bytes a = BuildBlockedDnsAnswer(Query("www.tiktok.com", 1, false), "tiktok", DnsBlockOptions{});
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a[10], 0);  // ARCOUNT
  EXPECT_EQ(a[11], 0);
  EXPECT_EQ(a[3] & 0x0f, 3);  // NXDOMAIN
}

TEST(BlockedDnsAnswer, SinkholeAnswersAAndAaaa) {
  DnsBlockOptions o;
  o.sinkhole = true;
  o.sinkhole_v4 = *IpAddress::Parse("192.0.2.1");
  o.sinkhole_v6 = *IpAddress::Parse("2001:db8::1");
  for (uint16_t qtype : {1, 28}) {
    Bytes a = BuildBlockedDnsAnswer(Query("web.whatsapp.com", qtype, true), "whatsapp", o);
    ldns_pkt* p = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&p, a.data(), a.size()), LDNS_STATUS_OK);
    EXPECT_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    ASSERT_EQ(ldns_pkt_ancount(p), 1);
    ldns_rr* rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
    char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    EXPECT_STREQ(text, qtype == 1 ? "192.0.2.1" : "2001:db8::1");
    free(text);
    EXPECT_EQ(ldns_rr_ttl(rr), kSinkholeTtl);
    uint16_t code = 0;
    EXPECT_EQ(EdeOf(p, &code), "vigie: blocked app whatsapp");
    ldns_pkt_free(p);
  }
  // Other types: NOERROR, no data.
  Bytes a = BuildBlockedDnsAnswer(Query("web.whatsapp.com", 16, true), "whatsapp", o);
  ASSERT_GE(a.size(), 12u);
  EXPECT_EQ(a[3] & 0x0f, 0);
  EXPECT_EQ(a[7], 0);
}

TEST(BlockedDnsAnswer, RefusesResponsesAndGarbage) {
  Bytes q = Query("www.tiktok.com", 1, true);
  q[2] |= 0x80;  // QR: a response
  EXPECT_TRUE(BuildBlockedDnsAnswer(q, "tiktok", {}).empty());
  EXPECT_TRUE(BuildBlockedDnsAnswer(Bytes{1, 2, 3}, "tiktok", {}).empty());
  EXPECT_TRUE(BuildBlockedDnsAnswer(Bytes{}, "tiktok", {}).empty());
}

uint16_t Sum(const uint8_t* p, size_t n, uint32_t s) {
  for (size_t i = 0; i + 1 < n; i += 2) s += (p[i] << 8) | p[i + 1];
  if (n & 1) s += p[n - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

TEST(ForgedPackets, Ipv4TcpRstChecksums) {
  IpAddress a = *IpAddress::Parse("192.0.2.10"), b = *IpAddress::Parse("10.20.5.17");
  Bytes p = BuildTcpPacket(a, b, 443, 40000, 0x01020304, 0x05060708, 0x14, {});
  ASSERT_EQ(p.size(), 40u);
  EXPECT_EQ(p[0], 0x45);
  EXPECT_EQ(p[9], 6);
  EXPECT_EQ(Sum(p.data(), 20, 0), 0xffff);  // IPv4 header checksum
  uint32_t pseudo = Sum(p.data() + 12, 8, 0) + 6 + 20;
  EXPECT_EQ(Sum(p.data() + 20, 20, pseudo), 0xffff);
  EXPECT_EQ(p[24], 0x01);  // seq
  EXPECT_EQ(p[33], 0x14);  // RST|ACK
}

TEST(ForgedPackets, Ipv6UdpChecksum) {
  IpAddress a = *IpAddress::Parse("fd00:30::53"), b = *IpAddress::Parse("fd00:20::17");
  Bytes payload = {1, 2, 3, 4, 5};
  Bytes p = BuildUdpPacket(a, b, 53, 33333, payload);
  ASSERT_EQ(p.size(), 40u + 8 + 5);
  EXPECT_EQ(p[0] >> 4, 6);
  EXPECT_EQ(p[6], 17);
  uint32_t pseudo = Sum(p.data() + 8, 32, 0) + 17 + 13;
  EXPECT_EQ(Sum(p.data() + 40, 13, pseudo), 0xffff);
}

// Records what an Enforcer sends.
class FakeInjector : public PacketInjector {
 public:
  bool Send(absl::Span<const uint8_t> ip, int, absl::Span<const uint8_t>) override {
    sent.emplace_back(ip.begin(), ip.end());
    return true;
  }
  std::vector<Bytes> sent;
};

// A one-app policy (tiktok blocked) for the Enforcer tests.
std::shared_ptr<const Policy> TestPolicy() {
  namespace fs = std::filesystem;
  static std::shared_ptr<const Policy> p = [] {
    fs::path dir = fs::temp_directory_path() / ("vigie_enforce_" + std::to_string(getpid()));
    auto built = testing::WritePolicy(dir, testing::kTiktokOnlyConfig, testing::TiktokOnlyLists());
    fs::remove_all(dir);
    return *std::move(built);
  }();
  return p;
}

TEST(Enforcer, QuicIsOnlyDropped) {
  FakeInjector inj;
  Enforcer e(&inj);
  IpAddress c = *IpAddress::Parse("10.20.5.17"), s = *IpAddress::Parse("192.0.2.10");
  Bytes pkt = BuildUdpPacket(c, s, 50000, 443, Bytes(1200, 0xc3));
  PacketVerdict v;
  v.action = Action::kBlock;
  v.decided = true;
  v.proto = Proto::kQuic;
  e.OnBlocked(101, pkt, v, *TestPolicy());
  EXPECT_TRUE(inj.sent.empty());
  EXPECT_EQ(e.stats().not_answered, 1u);
}

TEST(Enforcer, BlockedTlsSegmentResetsBothEnds) {
  FakeInjector inj;
  Enforcer e(&inj);
  IpAddress c = *IpAddress::Parse("10.20.5.17"), s = *IpAddress::Parse("192.0.2.10");
  // The client segment that completed the ClientHello: seq 1000, ack 7000, 300 bytes.
  Bytes pkt = BuildTcpPacket(c, s, 40000, 443, 1000, 7000, 0x18, Bytes(300, 0x16));
  PacketVerdict v;
  v.action = Action::kBlock;
  v.decided = true;
  v.proto = Proto::kTls;
  e.OnBlocked(101, pkt, v, *TestPolicy());
  ASSERT_EQ(inj.sent.size(), 2u);
  const Bytes& to_client = inj.sent[0];
  EXPECT_EQ(0, std::memcmp(to_client.data() + 12, s.bytes, 4));  // from the server
  EXPECT_EQ(0, std::memcmp(to_client.data() + 16, c.bytes, 4));  // to the client
  auto u32 = [](const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; };
  EXPECT_EQ(u32(to_client.data() + 24), 7000u);   // seq = the client's ack
  EXPECT_EQ(u32(to_client.data() + 28), 1300u);   // ack = after the dropped bytes
  EXPECT_EQ(to_client[33], 0x14);                 // RST|ACK
  const Bytes& to_server = inj.sent[1];
  EXPECT_EQ(u32(to_server.data() + 24), 1000u);   // seq = the client's seq
  EXPECT_EQ(to_server[33], 0x04);                 // RST
  EXPECT_EQ(e.stats().tcp_resets, 2u);
}

TEST(Enforcer, BlockedUdpQueryIsAnsweredFromTheServer) {
  FakeInjector inj;
  Enforcer e(&inj);
  IpAddress c = *IpAddress::Parse("fd00:20::10"), s = *IpAddress::Parse("fd00:30::53");
  Bytes pkt = BuildUdpPacket(c, s, 33333, 53, Query("www.tiktok.com", 28, true));
  PacketVerdict v;
  v.action = Action::kBlock;
  v.decided = true;
  v.proto = Proto::kDns;
  e.OnBlocked(101, pkt, v, *TestPolicy());
  ASSERT_EQ(inj.sent.size(), 1u);
  const Bytes& a = inj.sent[0];
  EXPECT_EQ(0, std::memcmp(a.data() + 8, s.bytes, 16));
  EXPECT_EQ(0, std::memcmp(a.data() + 24, c.bytes, 16));
  EXPECT_EQ((a[40] << 8) | a[41], 53);       // source port
  EXPECT_EQ((a[42] << 8) | a[43], 33333);    // destination port
  EXPECT_EQ(a[48 + 3] & 0x0f, 3);            // NXDOMAIN
  EXPECT_EQ(e.stats().dns_answers, 1u);
}

}  // namespace
}  // namespace vigie
