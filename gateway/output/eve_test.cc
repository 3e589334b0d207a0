#include "gateway/output/eve.h"

#include <filesystem>
#include <set>
#include <string>

#include "gtest/gtest.h"

// Counts operator new calls so the test can show AppendEve allocates nothing
// once the caller's string has room.
#include "classifiers/testing/count_new.h"

namespace vigie {
namespace {

std::string Str(std::string_view s) {
  std::string out;
  AppendEveString(s, &out);
  return out;
}

std::string Ts(uint64_t us) {
  std::string out;
  AppendEveTimestamp(us, &out);
  return out;
}

EveEvent DnsEvent(const EveDnsQuery* q) {
  EveEvent e;
  e.timestamp_us = 1679652672123456ull;
  e.flow_id = 0x1234;
  e.pcap_cnt = 7;
  e.src_ip = "10.1.2.3";
  e.src_port = 53124;
  e.dest_ip = "8.8.8.8";
  e.dest_port = 53;
  e.ip_proto = 17;
  e.ip_version = 4;
  e.community_id = "1:abc";
  e.alert.blocked = true;
  e.alert.category = kEveCategoryPolicyViolation;
  e.alert.severity = 1;
  e.vigie.app = "tiktok";
  e.vigie.list = "block";
  e.vigie.rule_file = "lists/apps/tiktok.list";
  e.vigie.rule_line = 12;
  e.vigie.rule_entry = "tiktok.com";
  e.vigie.reason = "list";
  e.vigie.action = "block";
  e.app_proto = EveAppProto::kDns;
  e.dns_id = 4242;
  e.dns_queries = absl::MakeConstSpan(q, 1);
  return e;
}

TEST(eve, DnsAlertLine) {
  const EveDnsQuery q[] = {{"www.tiktok.com", 1}};
  std::string out;
  AppendEve(DnsEvent(q), &out);
  EXPECT_EQ(out,
            "{\"timestamp\":\"2023-03-24T10:11:12.123456+0000\",\"flow_id\":4660,\"pcap_cnt\":7,"
            "\"event_type\":\"alert\",\"src_ip\":\"10.1.2.3\",\"src_port\":53124,\"dest_ip\":\"8.8.8.8\","
            "\"dest_port\":53,\"proto\":\"UDP\",\"ip_v\":4,\"community_id\":\"1:abc\","
            "\"direction\":\"to_server\",\"alert\":{\"action\":\"blocked\",\"gid\":1,"
            "\"signature_id\":4123736301,\"rev\":1,\"signature\":\"VIGIE POLICY tiktok list\","
            "\"category\":\"Potential Corporate Privacy Violation\",\"severity\":1,"
            "\"metadata\":{\"app\":[\"tiktok\"],\"list\":[\"block\"],"
            "\"rule\":[\"lists/apps/tiktok.list:12\"],\"rule_entry\":[\"tiktok.com\"],\"reason\":[\"list\"],\"vigie_action\":[\"block\"]}},"
            "\"app_proto\":\"dns\",\"dns\":{\"version\":3,\"type\":\"request\",\"id\":4242,"
            "\"queries\":[{\"rrname\":\"www.tiktok.com\",\"rrtype\":\"A\"}]}}\n");
}

TEST(eve, DropTlsLineWithException) {
  EveEvent e;
  e.timestamp_us = 0;
  e.event_type = EveEventType::kDrop;
  e.src_ip = "2001:db8::1";
  e.src_port = 40000;
  e.dest_ip = "2001:db8::2";
  e.dest_port = 443;
  e.ip_proto = 6;
  e.ip_version = 6;
  e.alert.blocked = true;
  e.alert.signature_id = 77;
  e.alert.signature = "custom";
  e.alert.category = "c";
  e.vigie.exception_id = "press";
  e.vigie.exception_ticket = "INC-1";
  e.vigie.exception_reason = "trial";
  e.app_proto = EveAppProto::kTls;
  e.sni = "x.example";
  e.tls_version = 0x0304;
  std::string out;
  AppendEve(e, &out);
  // No flow_id (0), no pcap_cnt (live), no community_id: left out.
  EXPECT_EQ(out,
            "{\"timestamp\":\"1970-01-01T00:00:00.000000+0000\",\"event_type\":\"drop\","
            "\"src_ip\":\"2001:db8::1\",\"src_port\":40000,\"dest_ip\":\"2001:db8::2\",\"dest_port\":443,"
            "\"proto\":\"TCP\",\"ip_v\":6,\"direction\":\"to_server\",\"alert\":{\"action\":\"blocked\","
            "\"gid\":1,\"signature_id\":77,\"rev\":1,\"signature\":\"custom\",\"category\":\"c\","
            "\"severity\":3,\"metadata\":{\"exception_id\":[\"press\"],\"exception_ticket\":[\"INC-1\"],"
            "\"exception_reason\":[\"trial\"]}},\"drop\":{\"reason\":\"rules\"},\"app_proto\":\"tls\","
            "\"tls\":{\"sni\":\"x.example\",\"version\":\"TLS 1.3\"}}\n");
}

TEST(eve, QuicHttpAndNoAppLayer) {
  EveEvent e;
  e.timestamp_us = 1;
  e.src_ip = "a";
  e.dest_ip = "b";
  e.ip_proto = 132;
  e.app_proto = EveAppProto::kQuic;
  e.sni = "q.example";
  e.quic_version = 1;
  std::string out;
  AppendEve(e, &out);
  EXPECT_NE(out.find("\"proto\":\"SCTP\""), std::string::npos) << out;
  EXPECT_NE(out.find(",\"app_proto\":\"quic\",\"quic\":{\"sni\":\"q.example\",\"version\":\"1\"}}\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\"signature\":\"VIGIE POLICY decision\""), std::string::npos) << out;
  EXPECT_EQ(out.find("metadata"), std::string::npos) << out;

  out.clear();
  e.app_proto = EveAppProto::kHttp;
  e.hostname = "h.example";
  e.ip_proto = 47;
  AppendEve(e, &out);
  EXPECT_NE(out.find("\"proto\":\"47\""), std::string::npos) << out;
  EXPECT_NE(out.find(",\"app_proto\":\"http\",\"http\":{\"hostname\":\"h.example\"}}\n"), std::string::npos)
      << out;

  out.clear();
  e.app_proto = EveAppProto::kNone;
  AppendEve(e, &out);
  EXPECT_EQ(out.find("app_proto"), std::string::npos) << out;
  EXPECT_EQ(out.find("http"), std::string::npos) << out;
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1);
}

TEST(eve, FlowIdIsSuricatas51Bits) {
  EveEvent e;
  e.flow_id = ~uint64_t{0};
  std::string out;
  AppendEve(e, &out);
  EXPECT_NE(out.find("\"flow_id\":2251799813685247,"), std::string::npos) << out;
}

TEST(eve, Timestamps) {
  EXPECT_EQ(Ts(1679652672123456ull), "2023-03-24T10:11:12.123456+0000");
  EXPECT_EQ(Ts(0), "1970-01-01T00:00:00.000000+0000");
  EXPECT_EQ(Ts(1709251199000001ull), "2024-02-29T23:59:59.000001+0000");  // leap day
  EXPECT_EQ(Ts(253402300799999999ull), "9999-12-31T23:59:59.999999+0000");
  EXPECT_EQ(Ts(~uint64_t{0}), "9999-12-31T23:59:59.999999+0000");  // clamped, still 4 digits
}

TEST(eve, EscapesJsonSpecials) {
  EXPECT_EQ(Str("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Str(std::string_view("n\0l", 3)), "\"n\\u0000l\"");
  // DEL is escaped too (no raw control byte in a line a terminal or syslog reads).
  EXPECT_EQ(Str("\n\r\t\b\f\x01\x1f\x7f"), "\"\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(Str("</script>"), "\"</script>\"");
}

TEST(eve, ValidUtf8IsKept) {
  EXPECT_EQ(Str("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(Str("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
  EXPECT_EQ(Str("\xe2\x80\xa8"), "\"\xe2\x80\xa8\"");
  EXPECT_EQ(Str("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");  // U+10FFFF
}

TEST(eve, InvalidUtf8BecomesSuricataHexText) {
  // Suricata's set_string_from_bytes: every byte >= 0x80 as the text \xNN.
  EXPECT_EQ(Str("a\xff"), "\"a\\\\xff\"");
  EXPECT_EQ(Str("caf\xc3\xa9\xff"), "\"caf\\\\xc3\\\\xa9\\\\xff\"");
  EXPECT_EQ(Str("\xc0\xaf"), "\"\\\\xc0\\\\xaf\"");              // overlong
  EXPECT_EQ(Str("\xed\xa0\x80"), "\"\\\\xed\\\\xa0\\\\x80\"");  // surrogate
  EXPECT_EQ(Str("\xf4\x90\x80\x80"), "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"");  // > U+10FFFF
  EXPECT_EQ(Str("\xe2\x82"), "\"\\\\xe2\\\\x82\"");              // truncated
  EXPECT_EQ(Str("\xe0\x9f\xbf"), "\"\\\\xe0\\\\x9f\\\\xbf\"");  // overlong 3-byte
  EXPECT_EQ(Str("\xf0\x8f\xbf\xbf"), "\"\\\\xf0\\\\x8f\\\\xbf\\\\xbf\"");  // overlong 4-byte
  EXPECT_EQ(Str("\x80"), "\"\\\\x80\"");                         // lone continuation
}

TEST(eve, EveOutputIsAsciiOrValidUtf8ForEveryByte) {
  // Each byte value alone and after a valid prefix: the output never holds a
  // raw byte >= 0x80 unless the input was valid UTF-8, never a raw control.
  for (int c = 0; c < 256; ++c) {
    const std::string in(1, static_cast<char>(c));
    const std::string out = Str(in);
    for (const char o : out.substr(1, out.size() - 2)) {
      EXPECT_GE(static_cast<uint8_t>(o), 0x20) << c;
      EXPECT_LT(static_cast<uint8_t>(o), 0x80) << c;  // a lone byte >= 0x80 is never valid UTF-8
    }
  }
}

TEST(eve, Versions) {
  EXPECT_EQ(EveTlsVersionName(0x0301), "TLSv1");
  EXPECT_EQ(EveTlsVersionName(0x0303), "TLS 1.2");
  EXPECT_EQ(EveTlsVersionName(0x7f1c), "TLS 1.3 draft-28");
  EXPECT_EQ(EveTlsVersionName(0x1234), "UNDETERMINED");
  const auto quic = [](uint32_t v) {
    std::string s;
    AppendEveQuicVersion(v, &s);
    return s;
  };
  EXPECT_EQ(quic(1), "1");
  EXPECT_EQ(quic(0xff00001d), "ff00001d");
  EXPECT_EQ(quic(0x6b3343cf), "v2");
  EXPECT_EQ(quic(0x51303436), "Q046");
  const auto rr = [](uint16_t t) {
    std::string s;
    AppendEveRrtype(t, &s);
    return s;
  };
  EXPECT_EQ(rr(28), "AAAA");
  EXPECT_EQ(rr(65), "HTTPS");
  EXPECT_EQ(rr(64), "64");  // Suricata 8 has no SVCB name
  EXPECT_EQ(rr(255), "ANY");
  EXPECT_EQ(rr(65535), "65535");
}

TEST(eve, SignatureIdsAreFixedValues) {
  // Computed outside this code (FNV-1a-32 in Python): the scheme must never
  // change, SOC rules and dashboards key on these numbers.
  EXPECT_EQ(EveSignatureId("tiktok", "list"), 4123736301u);
  EXPECT_EQ(EveSignatureId("twitter", "no-sni"), 4127584409u);
  EXPECT_EQ(EveSignatureId("", "no-match"), 4013626104u);
  EXPECT_EQ(EveSignatureId("tiktok", "brand-new-reason") % 100, kEveReasonCodeOther);
}

TEST(eve, SignatureIdsDoNotCollideForShippedApps) {
  const std::filesystem::path dir = std::filesystem::path(VIGIE_SOURCE_DIR) / "lists" / "apps";
  std::vector<std::string> apps = {""};
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".list") apps.push_back(entry.path().stem().string());
  }
  ASSERT_GE(apps.size(), 10u) << dir;
  const char* reasons[] = {"list", "exception", "allowlist", "no-match", "unmanaged", "malformed",
                           "ip",   "ech",       "no-sni",    "port",     "svcb",      "other?"};
  std::set<uint32_t> seen;
  for (const std::string& app : apps) {
    for (const char* reason : reasons) {
      const uint32_t sid = EveSignatureId(app, reason);
      EXPECT_GE(sid, kEveSignatureIdBase);
      EXPECT_LT(sid, kEveSignatureIdBase + kEveSignatureAppBuckets * kEveSignatureReasonSlots);
      EXPECT_TRUE(seen.insert(sid).second) << app << " " << reason << " " << sid;
    }
  }
}

TEST(eve, ReasonCodesAreDistinct) {
  std::set<uint32_t> codes;
  for (const char* r : {"list", "exception", "allowlist", "no-match", "unmanaged", "malformed", "ip", "ech",
                        "no-sni", "port", "svcb"}) {
    const uint32_t c = EveReasonCode(r);
    EXPECT_NE(c, kEveReasonCodeOther) << r;
    EXPECT_TRUE(codes.insert(c).second) << r;
  }
}

TEST(eve, NoAllocationOnceTheBufferHasRoom) {
  const EveDnsQuery q[] = {{"www.\xff\"tiktok\\.com", 65}};
  EveEvent e = DnsEvent(q);
  e.vigie.exception_id = "x";
  std::string out;
  out.reserve(4096);
  AppendEve(e, &out);  // warm-up
  out.clear();
  g_allocations = 0;
  g_counting = true;
  AppendEve(e, &out);
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_GT(out.size(), 100u);
  // The counter does see allocations: a fresh string has to grow.
  std::string fresh;
  g_counting = true;
  AppendEve(e, &fresh);
  g_counting = false;
  EXPECT_GT(g_allocations.load(), 0u);
}

}  // namespace
}  // namespace vigie
