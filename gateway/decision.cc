#include "gateway/decision.h"

#include <cerrno>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vigie {

std::string_view ProtoName(Proto p) {
  switch (p) {
    case Proto::kDns: return "dns";
    case Proto::kTls: return "tls";
    case Proto::kQuic: return "quic";
    case Proto::kHttp: return "http";
    case Proto::kIp: return "ip";
  }
  return "?";
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t Utf8Len(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) n = 2, min = 0x80;
  else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800;
  else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000;
  else return 0;
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void AppendIp(const IpAddress& ip, std::string* out) {
  char buf[46];
  size_t n = ip.Format(buf);
  out->push_back('"');
  out->append(buf, n);
  out->push_back('"');
}

void AppendTimestamp(uint64_t us, std::string* out) {
  time_t secs = static_cast<time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  absl::StrAppendFormat(out, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(us % 1'000'000));
}

void Key(std::string_view k, std::string* out) {
  out->push_back(',');
  out->push_back('"');
  out->append(k);
  out->append("\":");
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      absl::StrAppendFormat(out, "\\u%04x", c);
      ++i;
    } else if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (size_t n = Utf8Len(s, i); n > 0) {
      out->append(s.substr(i, n));
      i += n;
    } else {
      absl::StrAppendFormat(out, "\\u%04x", c);  // a stray byte, shown as U+00XX
      ++i;
    }
  }
  out->push_back('"');
}

void FormatDecision(const Decision& d, const Policy& policy, std::string* out) {
  out->append("{\"timestamp\":");
  AppendTimestamp(d.ts_us, out);
  Key("action", out);
  AppendJsonString(ActionName(d.verdict.action), out);
  Key("reason", out);
  AppendJsonString(ReasonName(d.verdict.reason), out);
  Key("proto", out);
  AppendJsonString(ProtoName(d.proto), out);
  Key("transport", out);
  AppendJsonString(d.transport == 6 ? "tcp" : d.transport == 17 ? "udp" : "other", out);
  Key("src_ip", out);
  AppendIp(d.src, out);
  Key("src_port", out);
  absl::StrAppend(out, d.src_port);
  Key("dest_ip", out);
  AppendIp(d.dst, out);
  Key("dest_port", out);
  absl::StrAppend(out, d.dst_port);
  Key("domain", out);
  if (!d.domain.empty()) {
    AppendJsonString(d.domain, out);
  } else if (d.proto != Proto::kDns && !d.has_sni) {
    out->append("null");
  } else {
    AppendJsonString(d.domain_raw, out);
  }
  if (d.domain_raw != d.domain && !(d.proto != Proto::kDns && !d.has_sni)) {
    Key("domain_raw", out);
    AppendJsonString(d.domain_raw, out);
  }
  const RuleMatch& m = d.verdict.match;
  Key("app", out);
  if (m) {
    AppendJsonString(policy.matcher().app_name(m.app), out);
  } else {
    out->append("null");
  }
  Key("list", out);
  if (m) {
    AppendJsonString(m.allow ? "allow" : "block", out);
  } else {
    out->append("null");
  }
  Key("rule", out);
  if (m) {
    AppendJsonString(m.rule->text, out);
    Key("rule_source", out);
    AppendJsonString(absl::StrCat(m.rule->file, ":", m.rule->line), out);
  } else {
    out->append("null");
  }
  if (d.verdict.exception != nullptr) {
    const ExceptionRule& x = *d.verdict.exception;
    Key("exception", out);
    AppendJsonString(x.id, out);
    if (!x.ticket.empty()) {
      Key("exception_ticket", out);
      AppendJsonString(x.ticket, out);
    }
    if (!x.until_text.empty()) {
      Key("exception_until", out);
      AppendJsonString(x.until_text, out);
    }
  }
  Key("flow_id", out);
  absl::StrAppend(out, d.flow_id);
  if (d.frame != 0) {
    Key("frame", out);
    absl::StrAppend(out, d.frame);
  }
  if (!d.capture.empty()) {
    Key("capture", out);
    AppendJsonString(d.capture, out);
  }
  if (d.encap_depth != 0) {
    Key("tunnelled", out);
    absl::StrAppend(out, d.encap_depth);
  }
  if (d.proto == Proto::kDns) {
    Key("qtype", out);
    absl::StrAppend(out, d.qtype);
  } else if (d.proto == Proto::kTls || d.proto == Proto::kQuic) {
    Key("sni", out);
    out->append(d.has_sni ? "true" : "false");
    if (!d.alpn.empty()) {
      Key("alpn", out);
      AppendJsonString(d.alpn, out);
    }
    Key("ech", out);
    out->append(d.ech ? "true" : "false");
    if (d.tls_version != 0) {
      Key("tls_version", out);
      absl::StrAppendFormat(out, "\"0x%04x\"", d.tls_version);
    }
    if (d.tcp_segments > 1) {
      Key("tcp_segments", out);
      absl::StrAppend(out, d.tcp_segments);
    }
    if (d.crypto_frames > 1) {
      Key("crypto_frames", out);
      absl::StrAppend(out, d.crypto_frames);
    }
    if (d.tls_records > 1) {
      Key("tls_records", out);
      absl::StrAppend(out, d.tls_records);
    }
  }
  if (!d.malformed.empty()) {
    Key("malformed", out);
    AppendJsonString(d.malformed, out);
  }
  out->push_back('}');
}

bool ShouldLog(const Decision& d, LogMode mode) {
  switch (mode) {
    case LogMode::kAll:
      return true;
    case LogMode::kBlocked:
      return d.verdict.action == Action::kBlock;
    case LogMode::kDecisions:
      // Everything but the silent cases: a name no list knows, an unmanaged source.
      return d.verdict.reason != Reason::kNoMatch && d.verdict.reason != Reason::kUnmanaged;
  }
  return true;
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
