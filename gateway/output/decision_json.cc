#include "gateway/output/decision_json.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/output/eve.h"

namespace vigie {
namespace {

void AppendIp(const IpAddress& ip, JsonWriter& w) {
  char buf[46];
  size_t n = ip.Format(buf);
  w.String(std::string_view(buf, n));
}

}  // namespace

namespace {

// The quoted timestamp in `buf`, without allocating (decision lines are
// formatted on the packet path's thread).
std::string_view JsonTimestamp(uint64_t us, char (&buf)[48]) {
  time_t secs = static_cast<time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const int n = std::snprintf(buf, sizeof buf, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\"", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                              static_cast<unsigned>(us % 1'000'000));
  return std::string_view(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1) : 0);
}

}  // namespace

void AppendJsonTimestamp(uint64_t us, std::string* out) {
  char buf[48];
  out->append(JsonTimestamp(us, buf));
}

std::string RuleSource(const RuleMatch& m) { return m.rule->source(); }

LogOptions LogOptionsFrom(const Config& c) {
  LogOptions o;
  o.format = c.log_format;
  o.community_id_seed = c.community_id_seed;
  o.drops = c.mode == "inline";
  o.dedup_seconds = c.dedup_seconds;
  o.rotation.max_bytes = c.log_max_bytes;
  o.rotation.keep = c.log_keep;
  return o;
}

std::string_view DecisionCommunityId(const Decision& d, const CommunityIdHasher& h, CommunityIdBuffer* buf) {
  CommunityIdTuple t;
  t.family = d.src.family == d.dst.family ? d.src.family : 0;
  std::memcpy(t.src, d.src.bytes, sizeof(t.src));
  std::memcpy(t.dst, d.dst.bytes, sizeof(t.dst));
  t.proto = d.transport;
  t.src_port = d.src_port;
  t.dst_port = d.dst_port;
  return h.Compute(t, buf);
}

void FormatDecision(const Decision& d, const Policy& policy, std::string* out) {
  CommunityIdBuffer buf;
  FormatDecision(d, policy, DecisionCommunityId(d, CommunityIdHasher(0), &buf), out);
}

void FormatDecision(const Decision& d, const Policy& policy, std::string_view community_id, std::string* out) {
  JsonWriter w(out);
  char ts[48];
  w.BeginObject().Key("timestamp").Raw(JsonTimestamp(d.ts_us, ts));
  w.Field("action", ActionName(d.verdict.action));
  w.Field("reason", ReasonName(d.verdict.reason));
  w.Field("proto", ProtoName(d.proto));
  w.Field("transport", d.transport == 6 ? "tcp" : d.transport == 17 ? "udp" : "other");
  AppendIp(d.src, w.Key("src_ip"));
  w.Field("src_port", uint64_t{d.src_port});
  AppendIp(d.dst, w.Key("dest_ip"));
  w.Field("dest_port", uint64_t{d.dst_port});
  const bool nameless = d.proto != Proto::kDns && !d.has_sni;
  w.Key("domain");
  if (!d.domain.empty()) {
    w.String(d.domain);
  } else if (nameless) {
    w.Null();
  } else {
    w.String(d.domain_raw);
  }
  if (d.domain_raw != d.domain && !nameless) w.Field("domain_raw", d.domain_raw);
  const RuleMatch& m = d.verdict.match;
  w.FieldOrNull("app", static_cast<bool>(m), m ? policy.matcher().app_name(m.app) : std::string_view());
  w.FieldOrNull("list", static_cast<bool>(m), m.allow ? "allow" : "block");
  w.FieldOrNull("rule", static_cast<bool>(m), m ? std::string_view(m.rule->text) : std::string_view());
  if (m) {
    // RuleSource(m) without a std::string: "FILE:LINE" as two parts.
    const Rule& r = *m.rule;
    char line[24];
    const int n = std::snprintf(line, sizeof line, ":%u", r.line);
    w.Key("rule_source").String(r.rel_file.empty() ? r.file : r.rel_file, 
                                std::string_view(line, n > 0 ? static_cast<size_t>(n) : 0));
  }
  if (d.verdict.exception != nullptr) {
    const ExceptionRule& x = *d.verdict.exception;
    w.Field("exception", x.id);
    if (!x.ticket.empty()) w.Field("exception_ticket", x.ticket);
    if (!x.until_text.empty()) w.Field("exception_until", x.until_text);
    if (!x.reason.empty()) w.Field("exception_reason", x.reason);
  }
  w.Field("flow_id", d.flow_id);
  if (!community_id.empty()) w.Field("community_id", community_id);
  if (d.frame != 0) w.Field("frame", d.frame);
  if (!d.capture.empty()) w.Field("capture", d.capture);
  if (d.encap_depth != 0) w.Field("tunnelled", uint64_t{d.encap_depth});
  if (d.proto == Proto::kDns) {
    w.Field("qtype", uint64_t{d.qtype});
  } else if (d.proto == Proto::kTls || d.proto == Proto::kQuic) {
    w.Field("sni", d.has_sni);
    if (!d.alpn.empty()) w.Field("alpn", d.alpn);
    w.Field("ech", d.ech);
    if (d.tls_version != 0) w.Field("tls_version", absl::StrFormat("0x%04x", d.tls_version));
    if (d.tcp_segments > 1) w.Field("tcp_segments", uint64_t{d.tcp_segments});
    if (d.crypto_frames > 1) w.Field("crypto_frames", uint64_t{d.crypto_frames});
    if (d.tls_records > 1) w.Field("tls_records", uint64_t{d.tls_records});
  }
  if (!d.malformed.empty()) w.Field("malformed", d.malformed);
  if (!d.conflict.empty()) {
    w.Field("conflict", d.conflict);
    w.Field("readings", uint64_t{d.readings});
  }
  w.EndObject();
}

namespace {

EveAppProto EveProtoOf(Proto p) {
  switch (p) {
    case Proto::kDns: return EveAppProto::kDns;
    case Proto::kTls: return EveAppProto::kTls;
    case Proto::kQuic: return EveAppProto::kQuic;
    case Proto::kHttp: return EveAppProto::kHttp;
    case Proto::kIp: break;
  }
  return EveAppProto::kNone;
}

}  // namespace

void FormatDecisionEve(const Decision& d, const Policy& policy, std::string_view community_id, bool drops,
                       std::string* out, size_t* metadata_end) {
  char src[46], dst[46];
  EveEvent e;
  e.timestamp_us = d.ts_us;
  e.flow_id = d.flow_id;
  e.pcap_cnt = d.frame;
  const Action action = d.verdict.action;
  e.event_type = drops && action == Action::kBlock ? EveEventType::kDrop : EveEventType::kAlert;
  e.src_ip = std::string_view(src, d.src.Format(src));
  e.dest_ip = std::string_view(dst, d.dst.Format(dst));
  e.src_port = d.src_port;
  e.dest_port = d.dst_port;
  e.ip_proto = d.transport;
  e.ip_version = d.src.family;
  e.community_id = community_id;
  e.to_server = true;  // every decision is about what the client sent

  EveAlert& a = e.alert;
  a.blocked = action == Action::kBlock;
  const Reason reason = d.verdict.reason;
  if (reason == Reason::kMalformed) {
    a.category = kEveCategoryProtocolAnomaly;
  } else if (action == Action::kAllow) {
    a.category = kEveCategoryNotSuspicious;
  } else {
    a.category = kEveCategoryPolicyViolation;
  }
  a.severity = action == Action::kBlock ? 1 : action == Action::kLog ? 2 : 3;

  EveVigieMetadata& m = e.vigie;
  const RuleMatch& rm = d.verdict.match;
  if (rm) {
    m.app = policy.matcher().app_name(rm.app);
    m.list = rm.allow ? "allow" : "block";
    m.rule_file = rm.rule->rel_file.empty() ? std::string_view(rm.rule->file) : std::string_view(rm.rule->rel_file);
    m.rule_line = rm.rule->line;
    m.rule_entry = rm.rule->text;
  }
  m.reason = ReasonName(reason);  // a reason added later maps to code 99 (EveReasonCode)
  m.action = ActionName(action);
  if (const ExceptionRule* x = d.verdict.exception) {
    m.exception_id = x->id;
    m.exception_ticket = x->ticket;
    m.exception_reason = x->reason;
  }

  e.app_proto = EveProtoOf(d.proto);
  const bool named = d.proto == Proto::kDns || d.has_sni;
  EveDnsQuery q;
  if (d.proto == Proto::kDns && !(d.domain_raw.empty() && !d.malformed.empty())) {
    q.rrname = d.domain_raw;
    q.rrtype = d.qtype;
    e.dns_queries = absl::MakeConstSpan(&q, 1);
  } else if (named && (d.proto == Proto::kTls || d.proto == Proto::kQuic)) {
    e.sni = d.domain_raw;
  } else if (named && d.proto == Proto::kHttp) {
    e.hostname = d.domain_raw;
  }
  if (d.proto == Proto::kTls) e.tls_version = d.tls_version;
  AppendEve(e, out, metadata_end);
}

void DecisionFormatter::AppendLine(const Decision& d, const Policy& policy, std::string* out,
                                   size_t* summary_at) const {
  CommunityIdBuffer buf;
  const std::string_view cid = DecisionCommunityId(d, hasher_, &buf);
  if (opts_.format == LogFormat::kEve) {
    size_t meta = std::string::npos;
    FormatDecisionEve(d, policy, cid, opts_.drops, out, &meta);
    if (summary_at != nullptr) *summary_at = meta;
    return;
  }
  FormatDecision(d, policy, cid, out);
  if (summary_at != nullptr) *summary_at = out->size() - 1;  // before the closing '}'
  out->push_back('\n');
}

absl::StatusOr<std::unique_ptr<JsonLineSink>> JsonLineSink::Open(const std::string& path, const LogOptions& opts) {
  auto file = LogFile::Open(path, opts.rotation);
  if (!file.ok()) return file.status();
  return std::unique_ptr<JsonLineSink>(new JsonLineSink(*std::move(file), opts));
}

JsonLineSink::JsonLineSink(std::unique_ptr<LogFile> file, const LogOptions& opts)
    : file_(std::move(file)), fmt_(opts) {
  if (opts.dedup_seconds > 0) {
    dedup_ = std::make_unique<DedupTable>(opts.format, uint64_t{opts.dedup_seconds} * 1'000'000);
  }
}

JsonLineSink::~JsonLineSink() { Finish(); }

void JsonLineSink::WriteLine(std::string_view line, Action) { file_->Append(line); }

void JsonLineSink::Write(const Decision& d, const Policy& policy) {
  line_.clear();
  size_t at = 0;
  fmt_.AppendLine(d, policy, &line_, &at);
  if (dedup_) {
    dedup_->Offer(d.src, DedupName(d), d.verdict.action, d.ts_us, line_, at, this);
  } else {
    WriteLine(line_, d.verdict.action);
  }
}

void JsonLineSink::Finish() {
  if (dedup_) dedup_->CloseAll(this);
  Flush();
}

void JsonLineSink::Flush() { file_->Flush(); }

}  // namespace vigie
