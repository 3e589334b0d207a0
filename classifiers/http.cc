// HTTP/1.x request head parsing. See http.h for the contract, limits and RFC sections.
//
// The bytes are viewed as a std::string_view capped at kMaxHttpHeaderBytes and read
// only through bounds-checked indices (i < text.size()) and substr(); checks run in
// stream order, so the first fault found is the same for every longer stream.

#include "classifiers/http.h"

#include "classifiers/byte_reader.h"

namespace vigie {
namespace {

constexpr std::string_view kVersionPrefix = "HTTP/1.";  // RFC 9112 §2.3, case-sensitive
constexpr uint32_t kMaxPort = 65535;

constexpr HttpParseResult Ok() { return {ParseStatus::kOk, HttpMalformed::kNone}; }
constexpr HttpParseResult NeedMore() { return {ParseStatus::kNeedMore, HttpMalformed::kNone}; }
constexpr HttpParseResult Bad(HttpMalformed e) { return {ParseStatus::kMalformed, e}; }

constexpr bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// tchar (RFC 9110 §5.6.2).
constexpr bool IsTchar(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// unreserved / sub-delims (RFC 3986 §2.2-2.3) plus '%' of pct-encoded: the bytes of a
// reg-name or IPv4address (RFC 3986 §3.2.2). Escapes are not decoded.
constexpr bool IsRegNameChar(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                                          // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':  // sub-delims
    case ',': case ';': case '=':
    case '%':
      return true;
    default:
      return false;
  }
}

// Request-target bytes: anything but CTL, SP and DEL (obs-text tolerated).
constexpr bool IsTargetChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;
}

constexpr char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != lower[i]) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

enum class Scan : uint8_t { kOk, kNeedMore, kBad };

// method SP at the start of `text`: sets *method_len on kOk.
Scan ScanMethod(std::string_view text, size_t* method_len) {
  size_t i = 0;
  while (i < text.size() && IsTchar(text[i])) {
    if (++i > kMaxHttpMethodBytes) return Scan::kBad;
  }
  if (i == text.size()) return Scan::kNeedMore;
  if (i == 0 || text[i] != ' ') return Scan::kBad;
  *method_len = i;
  return Scan::kOk;
}

// A line end at text[i]: CRLF or a bare LF (RFC 9112 §2.2). Sets *next past it.
// kBad for a CR not followed by LF, or any other byte.
Scan ScanLineEnd(std::string_view text, size_t i, size_t* next) {
  if (i >= text.size()) return Scan::kNeedMore;
  if (text[i] == '\n') {
    *next = i + 1;
    return Scan::kOk;
  }
  if (text[i] != '\r') return Scan::kBad;
  if (i + 1 >= text.size()) return Scan::kNeedMore;
  if (text[i + 1] != '\n') return Scan::kBad;
  *next = i + 2;
  return Scan::kOk;
}

struct HostPort {
  std::string_view host;
  uint16_t port = 0;
  bool has_port = false;
};

// uri-host [":" port] (RFC 3986 §3.2.2-3.2.3, RFC 9110 §7.2). An empty input is a
// valid empty host; a non-empty input needs a non-empty host. IP-literal brackets
// are stripped from the reported host.
bool SplitHostPort(std::string_view v, HostPort* hp) {
  *hp = HostPort{};
  if (v.empty()) return true;
  std::string_view rest;
  if (v.front() == '[') {
    // IP-literal = "[" ( IPv6address / IPv6addrz / IPvFuture ) "]": bytes checked
    // loosely (hex digits, ':', '.', 'v', zone "%25..." all fit this set).
    const size_t close = v.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    hp->host = v.substr(1, close - 1);
    for (char c : hp->host) {
      if (!IsRegNameChar(c) && c != ':') return false;
    }
    rest = v.substr(close + 1);
  } else {
    const size_t colon = v.find(':');
    hp->host = v.substr(0, colon);
    if (hp->host.empty()) return false;
    for (char c : hp->host) {
      if (!IsRegNameChar(c)) return false;
    }
    if (colon != std::string_view::npos) rest = v.substr(colon);
  }
  if (rest.empty()) return true;
  if (rest.front() != ':') return false;
  rest.remove_prefix(1);
  if (rest.empty()) return true;  // port = *DIGIT: "host:" has no port (RFC 3986 §3.2.3)
  uint32_t port = 0;
  for (char c : rest) {
    if (!IsDigit(c)) return false;
    port = port * 10 + static_cast<uint32_t>(c - '0');
    if (port > kMaxPort) return false;
  }
  hp->port = static_cast<uint16_t>(port);
  hp->has_port = true;
  return true;
}

// Classifies the request-target (RFC 9112 §3.2) and, for absolute-form and
// authority-form, extracts its host. Returns false if the target is invalid.
bool ParseTarget(std::string_view method, std::string_view target, bool* has_target_host,
                 HostPort* target_host, bool* absolute_form) {
  *has_target_host = false;
  *absolute_form = false;
  if (method == "CONNECT") {  // authority-form only, port required (RFC 9110 §9.3.6)
    if (target.find('@') != std::string_view::npos) return false;
    if (!SplitHostPort(target, target_host) || target_host->host.empty() || !target_host->has_port) {
      return false;
    }
    *has_target_host = true;
    return true;
  }
  if (target.front() == '/') return true;  // origin-form
  if (target == "*") return method == "OPTIONS";
  // absolute-form: scheme "://" authority [path-abempty] ["?" query] (RFC 3986 §3).
  size_t i = 0;
  if (!IsAlpha(target[0])) return false;
  while (i < target.size() && (IsAlpha(target[i]) || IsDigit(target[i]) || target[i] == '+' ||
                               target[i] == '-' || target[i] == '.')) {
    ++i;
  }
  if (target.substr(i, 3) != "://") return false;
  std::string_view authority = target.substr(i + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) return false;  // userinfo (RFC 9110 §4.2.4)
  if (!SplitHostPort(authority, target_host) || target_host->host.empty()) return false;
  *has_target_host = true;
  *absolute_form = true;
  return true;
}

}  // namespace

const char* HttpMalformedName(HttpMalformed e) {
  switch (e) {
    case HttpMalformed::kNone:
      return "none";
    case HttpMalformed::kNotHttp:
      return "not_http";
    case HttpMalformed::kTooLarge:
      return "too_large";
    case HttpMalformed::kBadRequestLine:
      return "bad_request_line";
    case HttpMalformed::kBadHeader:
      return "bad_header";
    case HttpMalformed::kNoHost:
      return "no_host";
    case HttpMalformed::kDuplicateHost:
      return "duplicate_host";
  }
  return "unknown";
}

bool LooksLikeHttpRequest(absl::Span<const uint8_t> prefix) {
  size_t method_len = 0;
  return ScanMethod(ByteReader::AsChars(prefix), &method_len) == Scan::kOk;
}

HttpParseResult ParseHttpRequest(absl::Span<const uint8_t> stream, HttpRequestInfo* out) {
  *out = HttpRequestInfo{};
  const std::string_view text = ByteReader::AsChars(stream).substr(0, kMaxHttpHeaderBytes);
  // Out of bytes before the head ends: wait, unless the cap is what stopped us.
  const HttpParseResult short_result =
      stream.size() >= kMaxHttpHeaderBytes ? Bad(HttpMalformed::kTooLarge) : NeedMore();

  // --- request-line (RFC 9112 §3) ---
  size_t method_len = 0;
  switch (ScanMethod(text, &method_len)) {
    case Scan::kOk:
      break;
    case Scan::kNeedMore:
      return short_result;
    case Scan::kBad:
      return Bad(HttpMalformed::kNotHttp);
  }
  const size_t target_start = method_len + 1;
  size_t i = target_start;
  while (i < text.size() && IsTargetChar(text[i])) ++i;
  if (i == text.size()) return short_result;
  if (text[i] != ' ' || i == target_start) return Bad(HttpMalformed::kBadRequestLine);
  const std::string_view target = text.substr(target_start, i - target_start);
  ++i;
  for (char expected : kVersionPrefix) {
    if (i >= text.size()) return short_result;
    if (text[i] != expected) return Bad(HttpMalformed::kBadRequestLine);
    ++i;
  }
  if (i >= text.size()) return short_result;
  if (!IsDigit(text[i])) return Bad(HttpMalformed::kBadRequestLine);
  const auto version_minor = static_cast<uint8_t>(text[i] - '0');
  size_t pos = 0;
  switch (ScanLineEnd(text, i + 1, &pos)) {
    case Scan::kOk:
      break;
    case Scan::kNeedMore:
      return short_result;
    case Scan::kBad:
      return Bad(HttpMalformed::kBadRequestLine);
  }
  out->method = text.substr(0, method_len);
  out->target = target;
  out->version_minor = version_minor;
  bool has_target_host = false;
  HostPort target_host;
  if (!ParseTarget(out->method, target, &has_target_host, &target_host, &out->absolute_form)) {
    return Bad(HttpMalformed::kBadRequestLine);
  }

  // The reported host: the target's when it has one (RFC 9112 §3.2.2), else Host's.
  HostPort header_host;
  auto report_host = [&] {
    const HostPort& hp = has_target_host ? target_host : header_host;
    out->host = hp.host;
    out->port = hp.port;
    out->has_port = hp.has_port;
  };
  report_host();

  // --- field lines (RFC 9112 §5) until the empty line ---
  for (;;) {
    if (pos >= text.size()) return short_result;
    if (text[pos] == '\r' || text[pos] == '\n') {
      size_t end = 0;
      switch (ScanLineEnd(text, pos, &end)) {
        case Scan::kOk:
          break;
        case Scan::kNeedMore:
          return short_result;
        case Scan::kBad:
          return Bad(HttpMalformed::kBadHeader);
      }
      out->header_bytes = end;
      if (version_minor >= 1 && !out->has_host_header) return Bad(HttpMalformed::kNoHost);
      return Ok();
    }
    // field-name: a token directly followed by ':'. A leading SP/HTAB (obs-fold, or
    // whitespace after the request-line) fails here too, as an empty name.
    size_t j = pos;
    while (j < text.size() && IsTchar(text[j])) ++j;
    if (j == text.size()) return short_result;
    if (text[j] != ':' || j == pos) return Bad(HttpMalformed::kBadHeader);
    const std::string_view name = text.substr(pos, j - pos);
    const bool is_host = EqualsIgnoreCase(name, "host");
    if (is_host && out->has_host_header) return Bad(HttpMalformed::kDuplicateHost);
    // field-value: up to the line end; NUL is rejected (RFC 9110 §5.5).
    size_t k = j + 1;
    while (k < text.size() && text[k] != '\r' && text[k] != '\n') {
      if (text[k] == '\0') return Bad(HttpMalformed::kBadHeader);
      ++k;
    }
    size_t next = 0;
    switch (ScanLineEnd(text, k, &next)) {
      case Scan::kOk:
        break;
      case Scan::kNeedMore:
        return short_result;
      case Scan::kBad:
        return Bad(HttpMalformed::kBadHeader);
    }
    if (is_host) {
      const std::string_view value = TrimOws(text.substr(j + 1, k - (j + 1)));
      if (!SplitHostPort(value, &header_host)) return Bad(HttpMalformed::kBadHeader);
      out->host_header = value;
      out->has_host_header = true;
      report_host();
    }
    pos = next;
  }
}

}  // namespace vigie
