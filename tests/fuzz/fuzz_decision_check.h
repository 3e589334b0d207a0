// A DecisionSink for the fuzz targets that run the whole Pipeline: every
// decision is formatted three ways and each checked by a real parser
// (fuzz_json.h):
//   - the Vigie line (FormatDecision): strict JSON, the DESIGN.md fields with
//     their types, domain / domain_raw / malformed / conflict / alpn equal to
//     the Decision's bytes under the Vigie escaping contract;
//   - the EVE line (FormatDecisionEve, inline drops on or off): strict JSON
//     ending in one '\n', dns.queries[0].rrname / tls.sni / quic.sni /
//     http.hostname equal to the wire name under the EVE contract;
//   - the RFC 5424 syslog message of each line (SyslogSink::Format): a
//     well-formed header and no raw control byte anywhere.
// It keeps a short summary of each decision (name, action, reason, cause) for
// the differential targets. Test-only.
#ifndef VIGIE_TESTS_FUZZ_FUZZ_DECISION_CHECK_H_
#define VIGIE_TESTS_FUZZ_FUZZ_DECISION_CHECK_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "gateway/inspect/decision.h"
#include "gateway/output/decision_json.h"
#include "gateway/output/syslog_sink.h"
#include "gateway/policy/config.h"
#include "gateway/policy/policy.h"
#include "tests/fuzz/fuzz_json.h"

namespace vigie::fuzz {

// What a differential compares: the decision as a SOC reads it.
struct DecisionSummary {
  std::string domain, domain_raw, action, reason, malformed, proto;
  bool operator==(const DecisionSummary&) const = default;
};

inline void CheckSyslog(Action action, const std::string& json) {
  const std::string m = SyslogSink::Format(action, json, "gw1", 4242, 1'700'000'000'123'456);
  for (const char ch : m) {
    const unsigned c = static_cast<unsigned char>(ch);
    Check(c >= 0x20 && c != 0x7F, "raw control byte in a syslog message", m);
  }
  // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG (RFC 5424 6).
  const int pri = 16 * 8 + (action == Action::kBlock ? 4 : action == Action::kLog ? 5 : 6);
  const std::string head = absl::StrCat("<", pri, ">1 2023-11-14T22:13:20.123456Z gw1 vigie 4242 decision - ");
  Check(m.compare(0, head.size(), head) == 0, "RFC 5424 header", m);
  Check(m.compare(head.size(), std::string::npos, json) == 0, "syslog MSG is the line", m);
}

class CheckingSink : public DecisionSink {
 public:
  void Write(const Decision& d, const Policy& policy) override {
    line_.clear();
    FormatDecision(d, policy, &line_);
    const nlohmann::json j = ParseLine(line_);
    for (const char* k : {"timestamp", "action", "reason", "proto", "transport", "src_ip", "dest_ip"}) {
      Check(j.contains(k) && j[k].is_string(), k, line_);
    }
    for (const char* k : {"src_port", "dest_port", "flow_id"}) {
      Check(j.contains(k) && j[k].is_number_unsigned(), k, line_);
    }
    Check(j.contains("domain") && (j["domain"].is_string() || j["domain"].is_null()), "domain", line_);
    const bool nameless = d.proto != Proto::kDns && !d.has_sni;
    if (!d.domain.empty()) {
      CheckString(j, "domain", ExpectedVigieValue(d.domain), line_);
    } else if (nameless) {
      Check(j["domain"].is_null(), "a nameless decision has domain null", line_);
    } else {
      CheckString(j, "domain", ExpectedVigieValue(d.domain_raw), line_);
    }
    if (d.domain_raw != d.domain && !nameless) {
      CheckString(j, "domain_raw", ExpectedVigieValue(d.domain_raw), line_);
    } else {
      Check(!j.contains("domain_raw"), "domain_raw only when it differs", line_);
    }
    if (!d.malformed.empty()) CheckString(j, "malformed", ExpectedVigieValue(d.malformed), line_);
    if (!d.conflict.empty()) CheckString(j, "conflict", ExpectedVigieValue(d.conflict), line_);
    if (!d.alpn.empty() && j.contains("alpn")) CheckString(j, "alpn", ExpectedVigieValue(d.alpn), line_);
    CheckString(j, "action", std::string(ActionName(d.verdict.action)), line_);
    CheckSyslog(d.verdict.action, line_);

    for (const bool drops : {false, true}) {
      eve_.clear();
      size_t meta = std::string::npos;
      FormatDecisionEve(d, policy, "1:abc=", drops, &eve_, &meta);
      Check(!eve_.empty() && eve_.back() == '\n', "an EVE line ends in a newline", eve_);
      const std::string body = eve_.substr(0, eve_.size() - 1);
      const nlohmann::json e = ParseLine(body);
      Check(meta == std::string::npos || (meta < eve_.size() && eve_[meta] == '}'), "metadata_end at a '}'", eve_);
      CheckEveName(d, e, body);
      CheckSyslog(d.verdict.action, body);
    }
    decisions.push_back({std::string(d.domain), std::string(d.domain_raw), std::string(ActionName(d.verdict.action)),
                         std::string(ReasonName(d.verdict.reason)), std::string(d.malformed),
                         std::string(ProtoName(d.proto))});
  }

  std::vector<DecisionSummary> decisions;

 private:
  // The wire name is in the app-layer object whenever there is one (eve.h).
  static void CheckEveName(const Decision& d, const nlohmann::json& e, const std::string& line) {
    const bool named = d.proto == Proto::kDns || d.has_sni;
    if (!named || d.domain_raw.empty()) return;
    const std::string want = ExpectedEveValue(d.domain_raw);
    const auto object = [&](const char* k) -> const nlohmann::json& {
      Check(e.contains(k) && e[k].is_object(), k, line);
      return e[k];
    };
    switch (d.proto) {
      case Proto::kDns: {
        const auto& q = object("dns")["queries"];
        Check(q.is_array() && q.size() == 1 && q[0].is_object(), "dns.queries", line);
        CheckString(q[0], "rrname", want, line);
        break;
      }
      case Proto::kTls: CheckString(object("tls"), "sni", want, line); break;
      case Proto::kQuic: CheckString(object("quic"), "sni", want, line); break;
      case Proto::kHttp: CheckString(object("http"), "hostname", want, line); break;
      case Proto::kIp: break;
    }
  }

  std::string line_, eve_;
};

// The shipped config's policy (deploy/vigie.toml and lists/apps), built once,
// with transport checksums not checked: generated and mutated frames carry
// none, and a source that sends one valid UDP checksum would otherwise have
// its TCP segments dropped ([inspect] checksums = auto).
inline std::shared_ptr<const Policy> DefaultPolicy() {
  static std::shared_ptr<const Policy>* p = [] {
    auto c = LoadConfig(std::string(VIGIE_SOURCE_DIR) + "/deploy/vigie.toml");
    if (!c.ok()) std::abort();
    c->checksums = ChecksumMode::kNever;
    auto built = Policy::Build(*std::move(c));
    if (!built.ok()) std::abort();
    return new std::shared_ptr<const Policy>(*std::move(built));
  }();
  return *p;
}

}  // namespace vigie::fuzz

#endif  // VIGIE_TESTS_FUZZ_FUZZ_DECISION_CHECK_H_
