// Test-only helpers shared by the gateway's pipeline tests: frame builders
// (every field commented), a policy built from list files written to a temp
// directory, and a DecisionSink that keeps what it is given.
//
// Header-only; no gtest dependency (callers assert). Not for production code.
#ifndef VIGIE_GATEWAY_TESTING_PIPELINE_FIXTURE_H_
#define VIGIE_GATEWAY_TESTING_PIPELINE_FIXTURE_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "classifiers/testing/builders.h"
#include "gateway/policy/config.h"
#include "gateway/inspect/decision.h"
#include "gateway/output/decision_json.h"
#include "gateway/policy/policy.h"

namespace vigie {
namespace testing {

inline constexpr int kLinkEthernet = 1;  // LINKTYPE_ETHERNET
inline constexpr int kLinkRaw = 101;     // LINKTYPE_RAW

struct Endpoint {
  IpAddress ip;
  uint16_t port;
};

inline Endpoint Ep(const char* ip, uint16_t port) { return {*IpAddress::Parse(ip), port}; }

// [Ethernet II +] IPv4 or IPv6 header + `l4` (UDP or TCP bytes).
inline Bytes IpFrame(const Endpoint& src, const Endpoint& dst, uint8_t proto, const Bytes& l4, uint16_t ip_id = 1,
                     uint16_t frag_field = 0, int linktype = kLinkEthernet) {
  Bytes f;
  if (linktype == kLinkEthernet) {
    PutBytes(&f, Bytes{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2});  // destination, source MAC
    PutU16(&f, src.ip.family == 4 ? 0x0800 : 0x86DD);                // EtherType
  }
  if (src.ip.family == 4) {
    PutU8(&f, 0x45);                                     // version 4, IHL 5
    PutU8(&f, 0);                                        // DSCP/ECN
    PutU16(&f, static_cast<uint16_t>(20 + l4.size()));   // total length
    PutU16(&f, ip_id);                                   // identification
    PutU16(&f, frag_field);                              // flags, fragment offset
    PutU8(&f, 64);                                       // TTL
    PutU8(&f, proto);                                    // protocol
    PutU16(&f, 0);                                       // checksum
    PutBytes(&f, absl::MakeConstSpan(src.ip.bytes, 4));  // source
    PutBytes(&f, absl::MakeConstSpan(dst.ip.bytes, 4));  // destination
  } else {
    PutU32(&f, 0x60000000);                               // version 6
    PutU16(&f, static_cast<uint16_t>(l4.size()));         // payload length
    PutU8(&f, proto);                                     // next header
    PutU8(&f, 64);                                        // hop limit
    PutBytes(&f, absl::MakeConstSpan(src.ip.bytes, 16));  // source
    PutBytes(&f, absl::MakeConstSpan(dst.ip.bytes, 16));  // destination
  }
  PutBytes(&f, l4);
  return f;
}

inline Bytes UdpFrame(const Endpoint& src, const Endpoint& dst, const Bytes& payload,
                      int linktype = kLinkEthernet) {
  Bytes u;
  PutU16(&u, src.port);                                    // source port
  PutU16(&u, dst.port);                                    // destination port
  PutU16(&u, static_cast<uint16_t>(8 + payload.size()));  // length
  PutU16(&u, 0);                                           // checksum (none)
  PutBytes(&u, payload);
  return IpFrame(src, dst, 17, u, 1, 0, linktype);
}

inline Bytes TcpFrame(const Endpoint& src, const Endpoint& dst, uint32_t seq, uint32_t ack, uint8_t flags,
                      absl::Span<const uint8_t> payload) {
  Bytes t;
  PutU16(&t, src.port);  // source port
  PutU16(&t, dst.port);  // destination port
  PutU32(&t, seq);       // sequence number
  PutU32(&t, ack);       // acknowledgment number
  PutU8(&t, 5 << 4);     // data offset 5 words
  PutU8(&t, flags);      // flags
  PutU16(&t, 65535);     // window
  PutU16(&t, 0);         // checksum
  PutU16(&t, 0);         // urgent pointer
  PutBytes(&t, payload);
  return IpFrame(src, dst, 6, t);
}

// The config most pipeline tests use: tiktok blocked, facebook logged, olvid
// approved; managed 10.0.0.0/8 and fd00::/8.
inline constexpr char kPipelineTestConfig[] = R"([scope]
managed = ["10.0.0.0/8", "fd00::/8"]
[lists]
dir = "lists"
[[policy]]
apps = ["tiktok"]
action = "block"
[[policy]]
apps = ["facebook"]
action = "log"
[[policy]]
apps = ["olvid"]
action = "allow"
)";

// The smallest useful policy: tiktok blocked for 10.0.0.0/8.
inline constexpr char kTiktokOnlyConfig[] =
    "[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"lists\"\n[[policy]]\napps = [\"tiktok\"]\naction = \"block\"\n";
inline const std::map<std::string, std::string>& TiktokOnlyLists() {
  static const auto* lists = new std::map<std::string, std::string>{{"tiktok", "tiktok.com\n"}};
  return *lists;
}

inline const std::map<std::string, std::string>& PipelineTestLists() {
  static const auto* lists = new std::map<std::string, std::string>{
      {"tiktok", "tiktok.com\n"}, {"facebook", "facebook.com\n"}, {"olvid", "olvid.io\n"}};
  return *lists;
}

// Writes `lists` (app -> list text) under dir/lists and `toml` as
// dir/vigie.toml, and builds the policy from them.
inline absl::StatusOr<std::shared_ptr<const Policy>> WritePolicy(
    const std::filesystem::path& dir, const std::string& toml = kPipelineTestConfig,
    const std::map<std::string, std::string>& lists = PipelineTestLists()) {
  std::filesystem::create_directories(dir / "lists");
  for (const auto& [app, text] : lists) std::ofstream(dir / "lists" / (app + ".list")) << text;
  std::ofstream(dir / "vigie.toml") << toml;
  auto c = LoadConfig((dir / "vigie.toml").string());
  if (!c.ok()) return c.status();
  return Policy::Build(*std::move(c));
}

// The standard test policy in a temp directory, for a whole test suite
// (created in SetUpTestSuite, deleted in TearDownTestSuite).
class SuitePolicy {
 public:
  explicit SuitePolicy(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    auto p = WritePolicy(dir_);
    if (!p.ok()) {
      std::fprintf(stderr, "test policy: %s\n", std::string(p.status().message()).c_str());
      std::abort();
    }
    policy_ = *std::move(p);
  }
  ~SuitePolicy() { std::filesystem::remove_all(dir_); }
  const std::shared_ptr<const Policy>& policy() const { return policy_; }

 private:
  std::filesystem::path dir_;
  std::shared_ptr<const Policy> policy_;
};

// One decision as a test sees it.
struct Captured {
  Action action;
  Reason reason;
  Proto proto;
  std::string domain;
  std::string app;
  uint64_t frame;
  uint64_t flow_id;
  std::string malformed;
  uint16_t tcp_segments;
  uint32_t tls_records;
  uint16_t crypto_frames;
  bool ech;
  std::string json;  // FormatDecision's line
};

class CaptureSink : public DecisionSink {
 public:
  void Write(const Decision& d, const Policy& policy) override {
    Captured c{d.verdict.action,
               d.verdict.reason,
               d.proto,
               std::string(d.domain),
               d.verdict.match ? policy.matcher().app_name(d.verdict.match.app) : "",
               d.frame,
               d.flow_id,
               std::string(d.malformed),
               d.tcp_segments,
               d.tls_records,
               d.crypto_frames,
               d.ech,
               ""};
    FormatDecision(d, policy, &c.json);
    got.push_back(std::move(c));
  }
  std::vector<Captured> got;
};

}  // namespace testing
}  // namespace vigie

#endif  // VIGIE_GATEWAY_TESTING_PIPELINE_FIXTURE_H_
