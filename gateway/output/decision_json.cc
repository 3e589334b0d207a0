#include "gateway/output/decision_json.h"

#include <cerrno>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vigie {
namespace {

void AppendIp(const IpAddress& ip, JsonWriter& w) {
  char buf[46];
  size_t n = ip.Format(buf);
  w.String(std::string_view(buf, n));
}

}  // namespace

void AppendJsonTimestamp(uint64_t us, std::string* out) {
  time_t secs = static_cast<time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  absl::StrAppendFormat(out, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(us % 1'000'000));
}

std::string RuleSource(const RuleMatch& m) { return m.rule->source(); }

void FormatDecision(const Decision& d, const Policy& policy, std::string* out) {
  JsonWriter w(out);
  w.BeginObject().Key("timestamp");
  std::string ts;
  AppendJsonTimestamp(d.ts_us, &ts);
  w.Raw(ts);
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
  if (m) w.Field("rule_source", RuleSource(m));
  if (d.verdict.exception != nullptr) {
    const ExceptionRule& x = *d.verdict.exception;
    w.Field("exception", x.id);
    if (!x.ticket.empty()) w.Field("exception_ticket", x.ticket);
    if (!x.until_text.empty()) w.Field("exception_until", x.until_text);
  }
  w.Field("flow_id", d.flow_id);
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

absl::StatusOr<std::unique_ptr<JsonLineSink>> JsonLineSink::Open(const std::string& path) {
  if (path == "-") return std::unique_ptr<JsonLineSink>(new JsonLineSink(stdout, false));
  FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat(path, ": cannot open log file: ", std::strerror(errno)));
  return std::unique_ptr<JsonLineSink>(new JsonLineSink(f, true));
}

JsonLineSink::~JsonLineSink() {
  Flush();
  if (owned_) std::fclose(f_);
}

void JsonLineSink::Write(const Decision& d, const Policy& policy) {
  line_.clear();
  FormatDecision(d, policy, &line_);
  line_.push_back('\n');
  std::fwrite(line_.data(), 1, line_.size(), f_);
  ++written_;
}

void JsonLineSink::Flush() { std::fflush(f_); }

}  // namespace vigie
