#include "gateway/output/eve.h"

#include <ctime>

#include "absl/strings/str_cat.h"

namespace vigie {
namespace {

// Suricata's FlowGetId reduction (src/flow.h): 51 bits, an integer every JSON
// reader (including JavaScript doubles) keeps exactly.
constexpr uint64_t kFlowIdMask = (uint64_t{1} << 51) - 1;

constexpr char kHex[] = "0123456789abcdef";

// 9999-12-31T23:59:59.999999Z: the last instant with the four-digit year the
// schema's timestamp pattern (and Suricata's strftime "%Y") allows; later
// values (a corrupt capture header) are written as this instant.
constexpr uint64_t kMaxEveTimestampUs = 253402300799'999999ull;

// Length of the valid UTF-8 sequence at s[i] (RFC 3629 section 4: no
// overlong forms, no surrogates, nothing above U+10FFFF), 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  const size_t left = s.size() - i;
  const auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// The body of a JSON string (no quotes). `raw_high`: bytes >= 0x80 are
// copied (the whole string is valid UTF-8), else written as the text \xNN.
void AppendEscaped(std::string_view s, bool raw_high, std::string* out) {
  for (const char ch : s) {
    const uint8_t c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"': out->append("\\\""); continue;
      case '\\': out->append("\\\\"); continue;
      case '\n': out->append("\\n"); continue;
      case '\r': out->append("\\r"); continue;
      case '\t': out->append("\\t"); continue;
      case '\b': out->append("\\b"); continue;
      case '\f': out->append("\\f"); continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {  // DEL too: no raw control byte reaches a terminal or syslog
      const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out->append(esc, sizeof(esc));
    } else if (c >= 0x80 && !raw_high) {
      const char esc[] = {'\\', '\\', 'x', kHex[c >> 4], kHex[c & 15]};
      out->append(esc, sizeof(esc));
    } else {
      out->push_back(ch);
    }
  }
}

void AppendBody(std::string_view s, std::string* out) { AppendEscaped(s, IsValidUtf8(s), out); }

// ,"key": (the caller's object is never empty when this is used)
void Key(std::string_view key, std::string* out) {
  out->push_back(',');
  out->push_back('"');
  out->append(key);
  out->append("\":");
}

void StringField(std::string_view key, std::string_view v, std::string* out) {
  Key(key, out);
  AppendEveString(v, out);
}

template <typename Int>
void IntField(std::string_view key, Int v, std::string* out) {
  Key(key, out);
  absl::StrAppend(out, v);
}

void Two(unsigned v, std::string* out) {
  out->push_back(static_cast<char>('0' + v / 10 % 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

std::string_view ProtoName(uint8_t p) {
  // Suricata prints the /etc/protocols name in upper case.
  switch (p) {
    case 1: return "ICMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 58: return "IPV6-ICMP";
    case 132: return "SCTP";
    default: return {};
  }
}

std::string_view AppProtoName(EveAppProto p) {
  switch (p) {
    case EveAppProto::kDns: return "dns";
    case EveAppProto::kTls: return "tls";
    case EveAppProto::kQuic: return "quic";
    case EveAppProto::kHttp: return "http";
    case EveAppProto::kNone: break;
  }
  return {};
}

// Suricata's DNSRecordType (rust/src/dns/dns.rs); others print as numbers.
std::string_view RrtypeName(uint16_t t) {
  switch (t) {
    case 1: return "A";          case 2: return "NS";         case 3: return "MD";
    case 4: return "MF";         case 5: return "CNAME";      case 6: return "SOA";
    case 7: return "MB";         case 8: return "MG";         case 9: return "MR";
    case 10: return "NULL";      case 11: return "WKS";       case 12: return "PTR";
    case 13: return "HINFO";     case 14: return "MINFO";     case 15: return "MX";
    case 16: return "TXT";       case 17: return "RP";        case 18: return "AFSDB";
    case 19: return "X25";       case 20: return "ISDN";      case 21: return "RT";
    case 22: return "NSAP";      case 23: return "NSAPPTR";   case 24: return "SIG";
    case 25: return "KEY";       case 26: return "PX";        case 27: return "GPOS";
    case 28: return "AAAA";      case 29: return "LOC";       case 30: return "NXT";
    case 33: return "SRV";       case 34: return "ATMA";      case 35: return "NAPTR";
    case 36: return "KX";        case 37: return "CERT";      case 38: return "A6";
    case 39: return "DNAME";     case 41: return "OPT";       case 42: return "APL";
    case 43: return "DS";        case 44: return "SSHFP";     case 45: return "IPSECKEY";
    case 46: return "RRSIG";     case 47: return "NSEC";      case 48: return "DNSKEY";
    case 49: return "DHCID";     case 50: return "NSEC3";     case 51: return "NSEC3PARAM";
    case 52: return "TLSA";      case 55: return "HIP";       case 59: return "CDS";
    case 60: return "CDNSKEY";   case 65: return "HTTPS";     case 99: return "SPF";
    case 249: return "TKEY";     case 250: return "TSIG";     case 254: return "MAILA";
    case 255: return "ANY";      case 256: return "URI";
    default: return {};
  }
}

// Reason names (gateway/policy.cc ReasonName) and their fixed sid codes.
// Append new reasons with new codes; never renumber (sids would change).
struct ReasonCode {
  std::string_view name;
  uint32_t code;
};
constexpr ReasonCode kReasonCodes[] = {
    {"list", 1},  {"exception", 2}, {"allowlist", 3}, {"no-match", 4},
    {"unmanaged", 5}, {"malformed", 6}, {"ip", 7}, {"ech", 8},
    {"no-sni", 9}, {"port", 10}, {"svcb", 11},
};

uint32_t Fnv1a32(std::string_view s) {
  uint32_t h = 2166136261u;
  for (const char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

void AppendSignature(const EveEvent& e, std::string* out) {
  out->push_back('"');
  out->append("VIGIE POLICY ");
  if (!e.vigie.app.empty()) {
    AppendBody(e.vigie.app, out);
    out->push_back(' ');
  }
  AppendBody(e.vigie.reason.empty() ? std::string_view("decision") : e.vigie.reason, out);
  out->push_back('"');
}

void AppendMetadata(const EveVigieMetadata& m, std::string* out, size_t* end) {
  bool first = true;
  const auto open_key = [&](std::string_view key) {
    out->append(first ? ",\"metadata\":{\"" : ",\"");
    first = false;
    out->append(key);
    out->append("\":[");
  };
  const auto field = [&](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    open_key(key);
    AppendEveString(value, out);
    out->push_back(']');
  };
  field("app", m.app);
  field("list", m.list);
  if (!m.rule_file.empty()) {
    open_key("rule");
    out->push_back('"');
    AppendBody(m.rule_file, out);
    out->push_back(':');
    absl::StrAppend(out, m.rule_line);
    out->append("\"]");
  }
  field("rule_entry", m.rule_entry);
  field("reason", m.reason);
  field("vigie_action", m.action);
  field("exception_id", m.exception_id);
  field("exception_ticket", m.exception_ticket);
  field("exception_reason", m.exception_reason);
  if (end != nullptr) *end = first ? std::string::npos : out->size();
  if (!first) out->push_back('}');
}

}  // namespace

void AppendEveString(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendBody(s, out);
  out->push_back('"');
}

void AppendEveTimestamp(uint64_t us, std::string* out) {
  if (us > kMaxEveTimestampUs) us = kMaxEveTimestampUs;
  const time_t secs = static_cast<time_t>(us / 1'000'000);
  const unsigned micros = static_cast<unsigned>(us % 1'000'000);
  struct tm tm {};
  if (gmtime_r(&secs, &tm) == nullptr) tm = {};  // cannot happen below kMaxEveTimestampUs
  const unsigned year = static_cast<unsigned>(tm.tm_year + 1900);
  Two(year / 100, out);
  Two(year % 100, out);
  out->push_back('-');
  Two(static_cast<unsigned>(tm.tm_mon + 1), out);
  out->push_back('-');
  Two(static_cast<unsigned>(tm.tm_mday), out);
  out->push_back('T');
  Two(static_cast<unsigned>(tm.tm_hour), out);
  out->push_back(':');
  Two(static_cast<unsigned>(tm.tm_min), out);
  out->push_back(':');
  Two(static_cast<unsigned>(tm.tm_sec), out);
  out->push_back('.');
  Two(micros / 10000, out);
  Two(micros / 100 % 100, out);
  Two(micros % 100, out);
  out->append("+0000");
}

std::string_view EveTlsVersionName(uint16_t v) {
  switch (v) {
    case 0x0200: return "SSLv2";
    case 0x0300: return "SSLv3";
    case 0x0301: return "TLSv1";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    case 0x7f1c: return "TLS 1.3 draft-28";
    case 0x7f1b: return "TLS 1.3 draft-27";
    case 0x7f1a: return "TLS 1.3 draft-26";
    case 0x7f19: return "TLS 1.3 draft-25";
    case 0x7f18: return "TLS 1.3 draft-24";
    case 0x7f17: return "TLS 1.3 draft-23";
    case 0x7f16: return "TLS 1.3 draft-22";
    case 0x7f15: return "TLS 1.3 draft-21";
    case 0x7f14: return "TLS 1.3 draft-20";
    case 0x7f13: return "TLS 1.3 draft-19";
    case 0x7f12: return "TLS 1.3 draft-18";
    case 0x7f11: return "TLS 1.3 draft-17";
    case 0x7f10: return "TLS 1.3 draft-16";
    case 0x7f01: return "TLS 1.3 draft-<16";
    case 0xfb14: return "TLS 1.3 draft-20-fb";
    case 0xfb15: return "TLS 1.3 draft-21-fb";
    case 0xfb16: return "TLS 1.3 draft-22-fb";
    case 0xfb17: return "TLS 1.3 draft-23-fb";
    case 0xfb1a: return "TLS 1.3 draft-26-fb";
    default: return "UNDETERMINED";
  }
}

void AppendEveQuicVersion(uint32_t v, std::string* out) {
  switch (v) {
    case 0x51303339: out->append("Q039"); return;
    case 0x51303433: out->append("Q043"); return;
    case 0x51303434: out->append("Q044"); return;
    case 0x51303435: out->append("Q045"); return;
    case 0x51303436: out->append("Q046"); return;
    case 0x6b3343cf: out->append("v2"); return;
    default: break;
  }
  // Rust format!("{:x}"): lower-case hex, no leading zeros ("1" for v1).
  char buf[8];
  int n = 0;
  do {
    buf[n++] = kHex[v & 15];
    v >>= 4;
  } while (v != 0);
  while (n > 0) out->push_back(buf[--n]);
}

void AppendEveRrtype(uint16_t t, std::string* out) {
  const std::string_view name = RrtypeName(t);
  if (name.empty()) {
    absl::StrAppend(out, t);
  } else {
    out->append(name);
  }
}

uint32_t EveReasonCode(std::string_view reason) {
  for (const ReasonCode& r : kReasonCodes) {
    if (r.name == reason) return r.code;
  }
  return kEveReasonCodeOther;
}

uint32_t EveSignatureId(std::string_view app, std::string_view reason) {
  return kEveSignatureIdBase + (Fnv1a32(app) % kEveSignatureAppBuckets) * kEveSignatureReasonSlots +
         EveReasonCode(reason);
}

void AppendEve(const EveEvent& e, std::string* out, size_t* metadata_end) {
  out->append("{\"timestamp\":\"");
  AppendEveTimestamp(e.timestamp_us, out);
  out->push_back('"');
  if (e.flow_id != 0) IntField("flow_id", e.flow_id & kFlowIdMask, out);
  if (e.pcap_cnt != 0) IntField("pcap_cnt", e.pcap_cnt, out);
  Key("event_type", out);
  out->append(e.event_type == EveEventType::kDrop ? "\"drop\"" : "\"alert\"");
  StringField("src_ip", e.src_ip, out);
  IntField("src_port", e.src_port, out);
  StringField("dest_ip", e.dest_ip, out);
  IntField("dest_port", e.dest_port, out);
  Key("proto", out);
  const std::string_view proto = ProtoName(e.ip_proto);
  out->push_back('"');
  if (proto.empty()) {
    absl::StrAppend(out, e.ip_proto);
  } else {
    out->append(proto);
  }
  out->push_back('"');
  if (e.ip_version == 4 || e.ip_version == 6) IntField("ip_v", e.ip_version, out);
  if (!e.community_id.empty()) StringField("community_id", e.community_id, out);
  Key("direction", out);
  out->append(e.to_server ? "\"to_server\"" : "\"to_client\"");

  // alert
  const EveAlert& a = e.alert;
  out->append(",\"alert\":{\"action\":");
  out->append(a.blocked ? "\"blocked\"" : "\"allowed\"");
  IntField("gid", a.gid, out);
  IntField("signature_id", a.signature_id != 0 ? a.signature_id : EveSignatureId(e.vigie.app, e.vigie.reason),
           out);
  IntField("rev", a.rev, out);
  Key("signature", out);
  if (a.signature.empty()) {
    AppendSignature(e, out);
  } else {
    AppendEveString(a.signature, out);
  }
  StringField("category", a.category, out);
  IntField("severity", a.severity, out);
  AppendMetadata(e.vigie, out, metadata_end);
  out->push_back('}');

  if (e.event_type == EveEventType::kDrop) {
    // PacketDropReasonToString(PKT_DROP_REASON_RULES): a rule dropped it.
    out->append(",\"drop\":{\"reason\":\"rules\"}");
  }

  const std::string_view app_proto = AppProtoName(e.app_proto);
  if (!app_proto.empty()) StringField("app_proto", app_proto, out);
  switch (e.app_proto) {
    case EveAppProto::kDns:
      out->append(",\"dns\":{\"version\":3,\"type\":\"request\"");
      if (e.dns_id >= 0) IntField("id", e.dns_id, out);
      if (!e.dns_queries.empty()) {
        out->append(",\"queries\":[");
        bool first = true;
        for (const EveDnsQuery& q : e.dns_queries) {
          if (!first) out->push_back(',');
          first = false;
          out->append("{\"rrname\":");
          AppendEveString(q.rrname, out);
          out->append(",\"rrtype\":\"");
          AppendEveRrtype(q.rrtype, out);
          out->append("\"}");
        }
        out->push_back(']');
      }
      out->push_back('}');
      break;
    case EveAppProto::kTls:
    case EveAppProto::kQuic: {
      out->append(e.app_proto == EveAppProto::kTls ? ",\"tls\":{" : ",\"quic\":{");
      bool any = false;
      if (!e.sni.empty()) {
        out->append("\"sni\":");
        AppendEveString(e.sni, out);
        any = true;
      }
      if (e.app_proto == EveAppProto::kTls && e.tls_version != 0) {
        out->append(any ? ",\"version\":\"" : "\"version\":\"");
        out->append(EveTlsVersionName(e.tls_version));
        out->push_back('"');
      } else if (e.app_proto == EveAppProto::kQuic && e.quic_version != 0) {
        out->append(any ? ",\"version\":\"" : "\"version\":\"");
        AppendEveQuicVersion(e.quic_version, out);
        out->push_back('"');
      }
      out->push_back('}');
      break;
    }
    case EveAppProto::kHttp:
      out->append(",\"http\":{");
      if (!e.hostname.empty()) {
        out->append("\"hostname\":");
        AppendEveString(e.hostname, out);
      }
      out->push_back('}');
      break;
    case EveAppProto::kNone:
      break;
  }
  out->append("}\n");
}

}  // namespace vigie
