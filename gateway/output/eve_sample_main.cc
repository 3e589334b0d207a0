// eve_sample OUT: writes EVE lines for every app_proto, both event types,
// IPv4/IPv6, with hostile names (quotes, backslashes, NUL, every control
// byte, invalid UTF-8, 255-byte labels, every byte value), for
// tests/eve/validate_eve.py to check against Suricata's schema (ctest
// eve_sample_validates).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gateway/output/community_id.h"
#include "gateway/output/eve.h"

namespace vigie {
namespace {

// Random byte strings added to the hand-written ones.
constexpr int kRandomNames = 40;

std::vector<std::string> HostileNames() {
  std::vector<std::string> v = {
      "www.tiktok.com",
      "quote\"d.example",
      "back\\slash\\.example",
      std::string("nul\0byte.example", 16),
      "tab\tnew\nline\rcr\bbs\fff.example",
      "\x7f" "del.example",
      "\xff\xfe.example",                      // invalid lead bytes
      "over\xc0\xaflong.example",              // overlong '/'
      "surrogate\xed\xa0\x80.example",         // UTF-16 surrogate
      "above\xf4\x90\x80\x80max.example",      // above U+10FFFF
      "trunc\xe2\x82",                         // cut sequence at the end
      "caf\xc3\xa9.example",                   // valid UTF-8: kept
      "emoji\xf0\x9f\x98\x80.example",         // valid 4-byte sequence
      "line\xe2\x80\xa8sep.example",           // U+2028
      "</script><b>x</b>&amp;.example",
      "",
  };
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  v.push_back(controls);
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  v.push_back(all);
  v.push_back(std::string(255, 'a'));                    // one 255-byte label
  v.push_back(std::string(255, '\xff'));                 // 255 invalid bytes
  std::string labels;
  while (labels.size() + 64 <= 255) labels += std::string(63, 'b') + ".";
  labels += std::string(255 - labels.size(), 'c');
  v.push_back(labels);                                   // 255-byte name of 63-byte labels
  // Seeded random byte strings, biased to UTF-8 lead and continuation bytes
  // so that valid, truncated and overlong sequences all occur.
  uint64_t x = 0x9E3779B97F4A7C15ull;
  const auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int i = 0; i < kRandomNames; ++i) {
    std::string r(next() % 300, '\0');
    for (char& c : r) {
      const uint64_t k = next();
      switch (k % 4) {
        case 0: c = static_cast<char>(0x80 | (k >> 8) % 64); break;  // continuation
        case 1: c = static_cast<char>(0xC0 | (k >> 8) % 64); break;  // lead bytes C0..FF
        default: c = static_cast<char>((k >> 8) % 256); break;
      }
    }
    v.push_back(std::move(r));
  }
  return v;
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: eve_sample OUT\n");
    return 2;
  }
  std::FILE* f = std::fopen(argv[1], "w");
  if (f == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  const CommunityIdHasher hasher(0);
  CommunityIdTuple t4;
  t4.family = 4;
  const uint8_t a4[] = {10, 1, 2, 3}, b4[] = {8, 8, 8, 8};
  std::copy(a4, a4 + 4, t4.src);
  std::copy(b4, b4 + 4, t4.dst);
  t4.proto = kIpProtoUdp;
  t4.src_port = 53124;
  t4.dst_port = 53;
  CommunityIdBuffer cid;
  const std::string community = std::string(hasher.Compute(t4, &cid));

  const std::vector<std::string> names = HostileNames();
  const EveAppProto protos[] = {EveAppProto::kDns, EveAppProto::kTls, EveAppProto::kQuic, EveAppProto::kHttp,
                                EveAppProto::kNone};
  const uint16_t rrtypes[] = {1, 28, 65, 64, 255, 0, 65535};
  const uint16_t tls_versions[] = {0x0303, 0x0304, 0x0301, 0x7f1c, 0x1234, 0};
  const uint32_t quic_versions[] = {1, 0x6b3343cf, 0xff00001d, 0x51303436, 0};
  std::string line;
  uint64_t n = 0;
  for (const std::string& name : names) {
    for (const EveAppProto proto : protos) {
      for (const bool drop : {false, true}) {
        ++n;
        const bool v6 = n % 2 == 0;
        EveEvent e;
        e.timestamp_us = 1679652672123456ull + n;
        e.flow_id = n % 3 == 0 ? ~uint64_t{0} : 0x1234567890abcdefull * n;
        e.pcap_cnt = n % 5 == 0 ? 0 : n;
        e.event_type = drop ? EveEventType::kDrop : EveEventType::kAlert;
        e.src_ip = v6 ? "2001:db8::1" : "10.1.2.3";
        e.dest_ip = v6 ? "2001:4860:4860::8888" : "8.8.8.8";
        e.src_port = static_cast<uint16_t>(50000 + n);
        e.ip_version = v6 ? 6 : 4;
        e.community_id = community;
        e.app_proto = proto;
        e.alert.blocked = drop || n % 2 == 1;
        e.alert.category = e.alert.blocked ? kEveCategoryPolicyViolation : kEveCategoryNotSuspicious;
        e.alert.severity = e.alert.blocked ? 1 : 3;
        e.vigie.app = n % 4 == 0 ? std::string_view() : std::string_view("tiktok");
        e.vigie.reason = n % 4 == 0 ? "no-match" : "list";
        e.vigie.list = "block";
        e.vigie.rule_file = n % 5 == 0 ? std::string_view(name) : std::string_view("lists/apps/tiktok.list");
        e.vigie.rule_line = static_cast<uint32_t>(n);
        e.vigie.rule_entry = n % 5 == 0 ? std::string_view(name) : std::string_view("tiktok.com");
        e.vigie.action = e.alert.blocked ? "block" : "log";
        if (n % 3 == 0) {
          e.vigie.exception_id = name;  // hostile text in metadata too
          e.vigie.exception_ticket = "INC-42";
          e.vigie.exception_reason = "press \"office\" trial";
        }
        if (n % 7 == 0) e.alert.signature = name;
        EveDnsQuery q[2] = {{name, rrtypes[n % 7]}, {"second.example", 28}};
        switch (proto) {
          case EveAppProto::kDns:
            e.ip_proto = n % 3 == 0 ? kIpProtoTcp : kIpProtoUdp;
            e.dest_port = 53;
            e.dns_id = n % 5 == 0 ? -1 : static_cast<int32_t>(n * 977 % 65536);
            e.dns_queries = absl::MakeConstSpan(q, n % 2 == 0 ? 2 : 1);
            break;
          case EveAppProto::kTls:
            e.ip_proto = kIpProtoTcp;
            e.dest_port = 443;
            e.sni = name;
            e.tls_version = tls_versions[n % 6];
            break;
          case EveAppProto::kQuic:
            e.ip_proto = kIpProtoUdp;
            e.dest_port = 443;
            e.sni = name;
            e.quic_version = quic_versions[n % 5];
            break;
          case EveAppProto::kHttp:
            e.ip_proto = kIpProtoTcp;
            e.dest_port = 80;
            e.hostname = name;
            break;
          case EveAppProto::kNone:
            e.ip_proto = n % 2 == 0 ? kIpProtoTcp : kIpProtoSctp;
            e.dest_port = 5222;
            e.vigie.reason = "ip";
            break;
        }
        line.clear();
        AppendEve(e, &line);
        std::fwrite(line.data(), 1, line.size(), f);
      }
    }
  }
  if (std::fclose(f) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  std::printf("%s: %llu events\n", argv[1], static_cast<unsigned long long>(n));
  return 0;
}

}  // namespace
}  // namespace vigie

int main(int argc, char** argv) { return vigie::Main(argc, argv); }
