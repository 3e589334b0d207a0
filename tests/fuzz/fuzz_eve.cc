// libFuzzer target for the EVE writer (gateway/output/eve.h) with every
// string field under the fuzzer's control. Input: 12 bytes of scalars
// (event type, app proto, IP version and protocol, ports, rrtype, TLS/QUIC
// versions, flags), then the strings, each [length (1 byte)][bytes]: src_ip,
// dest_ip, community_id, signature, category, app, list, rule_file,
// rule_entry, reason, action, exception_id, exception_ticket,
// exception_reason, rrname, rrname, sni, hostname (missing ones are empty).
//
// Invariants: the line is one strict JSON object (nlohmann::json) ending in
// '\n', with no raw control byte or DEL; every string reads back as the EVE
// escaping contract promises (fuzz_json.h); metadata_end is the '}' closing
// alert.metadata, and a member inserted there (as the dedup summary does)
// keeps the line valid JSON.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/output/eve.h"
#include "tests/fuzz/fuzz_json.h"

namespace {

using vigie::fuzz::Check;
using vigie::fuzz::CheckString;
using vigie::fuzz::ExpectedEveValue;

constexpr int kStrings = 18;

void CheckMeta(const nlohmann::json& meta, const char* key, std::string_view raw, const std::string& line) {
  if (raw.empty()) {
    Check(!meta.contains(key), "an empty metadata field is left out", line);
    return;
  }
  Check(meta.contains(key) && meta[key].is_array() && meta[key].size() == 1, key, line);
  Check(meta[key][0].is_string() && meta[key][0].get<std::string>() == ExpectedEveValue(raw), key, line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint8_t s[12] = {};
  size_t pos = 0;
  for (; pos < sizeof(s) && pos < size; ++pos) s[pos] = data[pos];
  std::vector<std::string> str(kStrings);
  for (int i = 0; i < kStrings && pos < size; ++i) {
    const size_t want = data[pos++];
    const size_t n = std::min(want, size - pos);
    str[i].assign(reinterpret_cast<const char*>(data + pos), n);
    pos += n;
  }
  vigie::EveEvent e;
  e.timestamp_us = (uint64_t{s[0]} << 50) | (uint64_t{s[1]} << 20) | s[2];
  e.flow_id = uint64_t{s[3]} << 56 | s[2];
  e.pcap_cnt = s[4];
  e.event_type = s[5] & 1 ? vigie::EveEventType::kDrop : vigie::EveEventType::kAlert;
  e.app_proto = static_cast<vigie::EveAppProto>((s[5] >> 1) % 5);
  e.to_server = s[5] & 0x10;
  e.alert.blocked = s[5] & 0x20;
  e.ip_version = s[6] % 8;
  e.ip_proto = s[7];
  e.src_port = static_cast<uint16_t>(s[8] << 8 | s[9]);
  e.dest_port = s[9];
  e.dns_id = s[10] & 1 ? -1 : s[10];
  e.tls_version = static_cast<uint16_t>(0x0300 | s[11]);
  e.quic_version = s[11] & 1 ? 0 : 0xff000000u | s[11];
  e.alert.signature_id = s[4] & 1 ? 0 : s[4];
  e.src_ip = str[0];
  e.dest_ip = str[1];
  e.community_id = str[2];
  e.alert.signature = str[3];
  e.alert.category = str[4];
  vigie::EveVigieMetadata& m = e.vigie;
  m.app = str[5];
  m.list = str[6];
  m.rule_file = str[7];
  m.rule_line = s[10];
  m.rule_entry = str[8];
  m.reason = str[9];
  m.action = str[10];
  m.exception_id = str[11];
  m.exception_ticket = str[12];
  m.exception_reason = str[13];
  const vigie::EveDnsQuery queries[2] = {{str[14], s[8]}, {str[15], static_cast<uint16_t>(s[9] << 8)}};
  e.dns_queries = absl::MakeConstSpan(queries, s[6] % 3);
  e.sni = str[16];
  e.hostname = str[17];

  std::string out = "prefix";  // AppendEve appends
  size_t meta_end = 0;
  vigie::AppendEve(e, &out, &meta_end);
  Check(out.compare(0, 6, "prefix") == 0, "AppendEve appends", out);
  Check(out.size() > 7 && out.back() == '\n', "one line ending in a newline", out);
  const std::string line = out.substr(6, out.size() - 7);
  Check(line.find('\n') == std::string::npos, "a single line", line);
  const nlohmann::json j = vigie::fuzz::ParseLine(line);

  CheckString(j, "src_ip", ExpectedEveValue(e.src_ip), line);
  CheckString(j, "dest_ip", ExpectedEveValue(e.dest_ip), line);
  if (!e.community_id.empty()) CheckString(j, "community_id", ExpectedEveValue(e.community_id), line);
  CheckString(j, "event_type", e.event_type == vigie::EveEventType::kDrop ? "drop" : "alert", line);
  Check(j.contains("alert") && j["alert"].is_object(), "alert", line);
  const nlohmann::json& a = j["alert"];
  if (!e.alert.signature.empty()) {
    CheckString(a, "signature", ExpectedEveValue(e.alert.signature), line);
  } else {
    Check(a.contains("signature") && a["signature"].is_string(), "a default signature", line);
  }
  CheckString(a, "category", ExpectedEveValue(e.alert.category), line);
  Check(a["signature_id"].is_number_unsigned(), "signature_id", line);
  if (e.flow_id != 0) Check(j["flow_id"].get<uint64_t>() < (uint64_t{1} << 51), "flow_id in 51 bits", line);

  const bool any_meta = !(m.app.empty() && m.list.empty() && m.rule_file.empty() && m.rule_entry.empty() &&
                          m.reason.empty() && m.action.empty() && m.exception_id.empty() &&
                          m.exception_ticket.empty() && m.exception_reason.empty());
  Check(a.contains("metadata") == any_meta, "metadata present iff a field is", line);
  if (any_meta) {
    const nlohmann::json& md = a["metadata"];
    CheckMeta(md, "app", m.app, line);
    CheckMeta(md, "list", m.list, line);
    CheckMeta(md, "rule_entry", m.rule_entry, line);
    CheckMeta(md, "reason", m.reason, line);
    CheckMeta(md, "vigie_action", m.action, line);
    CheckMeta(md, "exception_id", m.exception_id, line);
    CheckMeta(md, "exception_ticket", m.exception_ticket, line);
    CheckMeta(md, "exception_reason", m.exception_reason, line);
    if (!m.rule_file.empty()) {
      Check(md["rule"][0].get<std::string>() == ExpectedEveValue(m.rule_file) + ":" + std::to_string(m.rule_line),
            "rule is FILE:LINE", line);
    }
    Check(meta_end != std::string::npos && meta_end < out.size() && out[meta_end] == '}', "metadata_end", line);
    std::string with = out.substr(6, meta_end - 6) + ",\"count\":[2]" + out.substr(meta_end, out.size() - meta_end - 1);
    const nlohmann::json k = vigie::fuzz::ParseLine(with);
    Check(k["alert"]["metadata"]["count"][0] == 2, "a member inserted at metadata_end", with);
  } else {
    Check(meta_end == std::string::npos, "no metadata: npos", line);
  }

  switch (e.app_proto) {
    case vigie::EveAppProto::kDns: {
      const nlohmann::json& d = j["dns"];
      Check(d.is_object(), "dns", line);
      Check(d.contains("queries") == !e.dns_queries.empty(), "dns.queries iff questions", line);
      for (size_t i = 0; i < e.dns_queries.size(); ++i) {
        CheckString(d["queries"][i], "rrname", ExpectedEveValue(e.dns_queries[i].rrname), line);
      }
      break;
    }
    case vigie::EveAppProto::kTls:
    case vigie::EveAppProto::kQuic: {
      const nlohmann::json& t = j[e.app_proto == vigie::EveAppProto::kTls ? "tls" : "quic"];
      Check(t.is_object(), "tls/quic", line);
      if (!e.sni.empty()) CheckString(t, "sni", ExpectedEveValue(e.sni), line);
      break;
    }
    case vigie::EveAppProto::kHttp:
      Check(j["http"].is_object(), "http", line);
      if (!e.hostname.empty()) CheckString(j["http"], "hostname", ExpectedEveValue(e.hostname), line);
      break;
    case vigie::EveAppProto::kNone: Check(!j.contains("app_proto"), "no app_proto", line); break;
  }
  return 0;
}
