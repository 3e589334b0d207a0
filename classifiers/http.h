// Vigie classifiers: HTTP/1.x request head (RFC 9112 §2-§5) -> method, target, Host.
//
// Purpose: tell which server a plain-HTTP client (TCP/80, or an HTTP proxy) asks
// for, from the first client-to-server bytes, without touching the connection.
//
// Wire structures read:
//   request-line (RFC 9112 §3): method SP request-target SP HTTP-version CRLF, with
//     exactly one SP between the three parts (the strict grammar, not the
//     "whitespace-delimited words" leniency §3 allows).
//   method (RFC 9110 §9.1): a token (tchar, RFC 9110 §5.6.2) of 1..kMaxHttpMethodBytes
//     characters, compared case-sensitively (CONNECT, OPTIONS).
//   request-target (RFC 9112 §3.2): origin-form "/path?q"; absolute-form
//     "scheme://authority/..." (§3.2.2, proxy requests); authority-form "host:port"
//     (§3.2.3, CONNECT only, port required per RFC 9110 §9.3.6); asterisk-form "*"
//     (§3.2.4, OPTIONS only). Bytes: any except CTL, SP and DEL (obs-text tolerated).
//   HTTP-version (RFC 9112 §2.3): "HTTP/1." DIGIT, case-sensitive. Anything else
//     (HTTP/2 prior-knowledge "PRI * HTTP/2.0", HTTP/0.9 lines without a version) is
//     kBadRequestLine.
//   field lines (RFC 9112 §5): field-name ":" OWS field-value OWS. Names are tokens,
//     matched case-insensitively; whitespace before the colon, a line without a
//     colon, an obs-fold (a line starting with SP/HTAB, §5.2) or whitespace between
//     the request-line and the first field (§2.2) are kBadHeader. Values may hold
//     any byte but NUL, CR and LF (RFC 9110 §5.5).
//   Host (RFC 9110 §7.2, RFC 9112 §3.2): uri-host [":" port] (RFC 3986 §3.2.2):
//     IP-literal "[...]", or reg-name/IPv4 of unreserved / sub-delims / "%" bytes;
//     port = *DIGIT <= 65535 (an empty port means no port).
//   Line ends: CRLF; a bare LF is accepted as a line end (§2.2), a bare CR is not.
//
// Which host is reported (HttpRequestInfo::host):
//   - absolute-form target: the target's authority wins over any Host field
//     (RFC 9112 §3.2.2); userinfo ("user@host") in it is kBadRequestLine (RFC 9110
//     §4.2.4: treat as an error; it is a classic way to disguise the real host).
//   - CONNECT: the authority-form target.
//   - otherwise the Host field.
//   host never includes the port, nor the brackets of an IPv6 literal ("[::1]:8080"
//   gives host "::1", port 8080). Case and percent-escapes are reported as sent; the
//   gateway's normaliser folds case. host_header keeps the Host field as sent (port
//   included), so callers can compare it with a proxy target.
//
// Verdicts:
//   kOk          the whole head (through the empty line) is present and valid.
//   kNeedMore    `stream` is a consistent prefix of a request head. Verdicts are
//                monotonic: once kMalformed, every longer stream gives the same
//                verdict and code; once kOk, every longer stream gives the same
//                result (bytes after the head, e.g. a body, are ignored).
//   kMalformed   kNotHttp: the first bytes are not a method token followed by SP
//                (decided as soon as a non-tchar byte arrives, e.g. a TLS record
//                0x16 0x03 on its first byte; leading empty lines are not skipped).
//                kTooLarge: no end of head within the first kMaxHttpHeaderBytes.
//                kBadRequestLine, kBadHeader: see above.
//                kDuplicateHost: a second Host field (RFC 9112 §3.2 MUST reject; a
//                request smuggling signal). Reported as soon as its name is read;
//                host/port are still filled from the first Host (or the target).
//                kNoHost: an HTTP/1.1 (or later 1.x) head without a Host field
//                (RFC 9112 §3.2), reported at the end of the head; host is still
//                filled from the target when it has one. HTTP/1.0 without Host is
//                kOk, with an empty host unless the target gives one.
//
// Contract:
//  - Pure functions: no I/O, no allocation, never read past the input.
//  - `stream` is the client->server bytes from the start of the connection, in
//    order; a Host field split across TCP segments is just a longer stream. The
//    parser is not incremental: call it again on the longer stream (work is bounded
//    by kMaxHttpHeaderBytes per call).
//  - Views in HttpRequestInfo point into `stream` and are valid as long as it is.
//    *out is reset on every call; it is complete on kOk, holds what was parsed
//    before the fault on kMalformed, and is unspecified on kNeedMore.
//  - Thread-safe (no shared state).
//  - Limits: kMaxHttpHeaderBytes (request-line + fields + empty line: the size of
//    one buffer in common servers, Apache LimitRequestLine 8190 and nginx
//    large_client_header_buffers 8k; real heads are well under 2 KB), and
//    kMaxHttpMethodBytes (covers every IANA-registered method but the unused
//    17-byte UPDATEREDIRECTREF).

#ifndef VIGIE_CLASSIFIERS_HTTP_H_
#define VIGIE_CLASSIFIERS_HTTP_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "classifiers/parse_status.h"

namespace vigie {

inline constexpr size_t kMaxHttpHeaderBytes = 8192;  // request line + fields + empty line inspected before giving up
inline constexpr size_t kMaxHttpMethodBytes = 16;    // a method token must be followed by SP within 16 + 1 bytes

enum class HttpMalformed : uint8_t {
  kNone,
  kNotHttp,          // first bytes are not tchar{1,16} SP
  kTooLarge,         // no end of head within kMaxHttpHeaderBytes
  kBadRequestLine,   // bad target, version, separators or line end in the request-line
  kBadHeader,        // bad field line, obs-fold, or invalid Host value
  kNoHost,           // HTTP/1.1 head without Host
  kDuplicateHost,    // more than one Host field line
};

// Stable snake_case name for counters and logs, e.g. "duplicate_host".
const char* HttpMalformedName(HttpMalformed e);

struct HttpRequestInfo {
  std::string_view method;       // e.g. "GET"; view into `stream`
  std::string_view target;       // request-target as sent
  std::string_view host;         // see "Which host is reported" above; no port, no IPv6 brackets
  uint16_t port;                 // port that came with `host` (0 when has_port is false)
  bool has_port;
  bool absolute_form;            // request-target was scheme://authority... (proxy form)
  std::string_view host_header;  // first Host field value, OWS-trimmed, as sent (port included)
  bool has_host_header;
  uint8_t version_minor;         // x of HTTP/1.x
  size_t header_bytes;           // request-line + fields + empty line (kOk and kNoHost only)
};

struct HttpParseResult {
  ParseStatus status;
  HttpMalformed error;
};

// Parses the request head at the start of `stream`; see the verdicts above.
HttpParseResult ParseHttpRequest(absl::Span<const uint8_t> stream, HttpRequestInfo* out);

// Cheap test on the first bytes of a stream: true iff `prefix` starts with a method
// token of 1..kMaxHttpMethodBytes tchars followed by SP. False for a prefix too
// short to hold the SP yet (use ParseHttpRequest's kNeedMore to wait for more).
bool LooksLikeHttpRequest(absl::Span<const uint8_t> prefix);

}  // namespace vigie

#endif  // VIGIE_CLASSIFIERS_HTTP_H_
