// Vigie classifiers: HTTP/1.x request head (RFC 9112 §2-§5) -> method, target, Host.
//
// Purpose: tell which server a plain-HTTP client (TCP/80, or an HTTP proxy) asks
// for, from the first client-to-server bytes, without touching the connection.
//
// Wire structures read:
//   Leading empty lines (CRLF or LF) before the request-line are skipped (RFC 9112
//     §2.2 SHOULD ignore at least one; nginx sw_start skips any number).
//   request-line (RFC 9112 §3): method SP request-target SP HTTP-version CRLF, read
//     as whitespace-delimited words (§3 leniency): runs of SP/HTAB between the three
//     parts and after the version (nginx sw_spaces_before_uri, sw_http_09,
//     sw_spaces_after_digit accept SP runs; HTAB accepted too, as RFC 9112 §3 allows).
//   method (RFC 9110 §9.1): a token (tchar, RFC 9110 §5.6.2) of 1..kMaxHttpMethodBytes
//     characters, compared case-sensitively (CONNECT, OPTIONS).
//   request-target (RFC 9112 §3.2): origin-form "/path?q"; absolute-form
//     "scheme://authority/..." (§3.2.2, proxy requests); authority-form "host:port"
//     (§3.2.3, CONNECT only, port required per RFC 9110 §9.3.6); asterisk-form "*"
//     (§3.2.4, OPTIONS only). Bytes: any except CTL, SP and DEL (obs-text tolerated).
//   HTTP-version (RFC 9112 §2.3): "HTTP/" major "." minor, case-sensitive, each
//     1..kMaxHttpVersionDigits digits as nginx reads them ("HTTP/01.1", "HTTP/1.10"),
//     major == 1. Anything else (HTTP/2 prior-knowledge "PRI * HTTP/2.0", HTTP/0.9
//     lines without a version: no Host possible) is kBadRequestLine.
//   field lines (RFC 9112 §5): field-name ":" OWS field-value OWS. Names are tokens,
//     matched case-insensitively. A line that is not a valid field line
//     (whitespace before the colon, no colon, empty name, an obs-fold or any line
//     starting with SP/HTAB) is ignored and counted in ignored_lines, as nginx does
//     by default (ignore_invalid_headers on); if it still names Host, Content-Length
//     or Transfer-Encoding (e.g. "Host : x"), another server may read it, so it is
//     reported as an ambiguity (host_names / kHttpFramingOddFieldLine). Values may
//     hold any byte but NUL (kBadHeader, nginx refuses it), CR and LF.
//   Host (RFC 9110 §7.2, RFC 9112 §3.2): uri-host [":" port] (RFC 3986 §3.2.2):
//     IP-literal "[...]", or reg-name/IPv4 of unreserved / sub-delims / "%" bytes;
//     port = *DIGIT <= 65535 (an empty port means no port).
//   Line ends: CRLF; a bare LF is accepted as a line end (§2.2), a bare CR is not.
//   Body framing (RFC 9112 §6.3): Transfer-Encoding whose last coding is chunked ->
//     kChunked (it overrides Content-Length); Content-Length 1*DIGIT, or a list of
//     equal values -> kContentLength; neither -> kNone (no body); anything the
//     server cannot frame unambiguously -> kUnknown. Every irregularity (CL and TE
//     together, repeated or conflicting CL, bad CL, repeated TE, TE not ending in a
//     single chunked, TE in HTTP/1.0, a malformed CL/TE line) sets a bit in
//     framing_flags and framing_ambiguous: front-end and back-end servers disagree
//     on exactly these (request smuggling), so a caller walking the requests of a
//     connection must treat the rest of the stream as uninspectable.
//   Hosts (host_names): every host a server may take for this request: the target's
//     authority, the Host field, an ignored "Host :" line (a second Host field is
//     kDuplicateHost, below). Two
//     different names (case-insensitive) set host_ambiguous; the caller decides each
//     and keeps the strictest.
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
//                0x16 0x03 on its first byte; leading CR/LF bytes are skipped first).
//                kTooLarge: no end of head within the first kMaxHttpHeaderBytes.
//                kBadRequestLine, kBadHeader: see above.
//                kDuplicateHost: a second Host field (RFC 9112 §3.2 MUST reject; a
//                request smuggling signal). Reported as soon as its name and colon
//                are read (servers answer 400 and close, so nothing after it is
//                served; header_bytes and framing are then unknown, 0);
//                host/port are still filled from the first Host (or the target),
//                and host_ambiguous is set.
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
//  - Keep-alive and pipelining: the next request of the connection starts at
//    header_bytes (kNone), header_bytes + content_length (kContentLength), or
//    where SkipChunkedBody says (kChunked); call ParseHttpRequest again there.
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
inline constexpr size_t kMaxHttpVersionDigits = 3;   // digits of the major / minor version (nginx: minor <= 999)
inline constexpr size_t kMaxHttpHostNames = 4;       // host readings reported per request; more sets hosts_capped
// Largest Content-Length / chunk-size we represent: nginx's NGX_MAX_OFF_T_VALUE
// (2^63-1); a larger value is a framing fault.
inline constexpr uint64_t kMaxHttpContentLength = (uint64_t{1} << 63) - 1;
inline constexpr uint64_t kMaxHttpChunkSize = kMaxHttpContentLength;

// framing_flags bits: why the body framing is ambiguous.
inline constexpr uint8_t kHttpFramingContentLengthAndChunked = 1 << 0;  // both CL and TE (RFC 9112 §6.3 3.)
inline constexpr uint8_t kHttpFramingDuplicateContentLength = 1 << 1;   // CL repeated, same value
inline constexpr uint8_t kHttpFramingConflictingContentLength = 1 << 2; // CL values differ
inline constexpr uint8_t kHttpFramingBadContentLength = 1 << 3;         // CL not 1*DIGIT, or too large
inline constexpr uint8_t kHttpFramingDuplicateTransferEncoding = 1 << 4;  // TE field repeated
inline constexpr uint8_t kHttpFramingBadTransferEncoding = 1 << 5;      // last coding not chunked, or chunked twice
inline constexpr uint8_t kHttpFramingTransferEncodingInHttp10 = 1 << 6; // RFC 9112 §6.1: faulty framing
inline constexpr uint8_t kHttpFramingOddFieldLine = 1 << 7;             // an ignored line naming CL or TE

enum class HttpMalformed : uint8_t {
  kNone,
  kNotHttp,          // first bytes are not tchar{1,16} SP
  kTooLarge,         // no end of head within kMaxHttpHeaderBytes
  kBadRequestLine,   // bad target, version, separators or line end in the request-line
  kBadHeader,        // bad field line, obs-fold, or invalid Host value
  kNoHost,           // HTTP/1.1 head without Host
  kDuplicateHost,    // more than one Host field line
  kBadChunk,         // chunked body: bad chunk-size line, missing CRLF after data, NUL in a trailer
};

enum class HttpBodyFraming : uint8_t {
  kNone,           // no body: the next request starts right after the head
  kContentLength,  // content_length bytes of body
  kChunked,        // chunked coding: skip it with SkipChunkedBody
  kUnknown,        // cannot be framed (bad TE / CL): the rest of the stream is uninspectable
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
  size_t header_bytes;           // bytes of the stream the head took, leading empty lines included: the body
                                 // (or next request) starts here (kOk and kNoHost only)
  size_t leading_bytes;          // CR/LF bytes skipped before the request-line
  uint16_t ignored_lines;        // field lines ignored as invalid (saturates)
  // Every host reading (see "Hosts" above) in the order found, `host` among them when
  // non-empty; distinct case-insensitively.
  std::string_view host_names[kMaxHttpHostNames];
  uint8_t host_count;
  bool host_ambiguous;           // two different names, or a Host a server might read besides `host`
  bool hosts_capped;             // more readings than kMaxHttpHostNames
  // Body framing (see above); filled when header_bytes is.
  HttpBodyFraming framing;
  uint64_t content_length;       // kContentLength: body bytes (first value when repeated)
  uint8_t framing_flags;         // kHttpFraming* bits
  bool framing_ambiguous;        // framing_flags != 0
};

struct HttpParseResult {
  ParseStatus status;
  HttpMalformed error;
};

// Parses the request head at the start of `stream`; see the verdicts above.
HttpParseResult ParseHttpRequest(absl::Span<const uint8_t> stream, HttpRequestInfo* out);

// Cheap test on the first bytes of a stream: true iff `prefix` starts, after any
// CR/LF bytes, with a method token of 1..kMaxHttpMethodBytes tchars followed by SP
// or HTAB. False for a prefix too short to hold the SP yet (use ParseHttpRequest's
// kNeedMore to wait for more).
bool LooksLikeHttpRequest(absl::Span<const uint8_t> prefix);

// Incremental chunked-body skipper (RFC 9112 §7.1): chunk-size [chunk-ext] CRLF
// chunk-data CRLF ... last-chunk trailer-section CRLF. Bare LF accepted as a line
// end (as nginx does). Chunk extensions and trailer fields are skipped byte by
// byte, so nothing is buffered and no length cap is needed beyond the chunk-size
// value (kMaxHttpChunkSize). The caller keeps one zero-initialised state per body
// and feeds successive stream bytes (those after the head, header_bytes on).
struct HttpChunkedState {
  uint64_t left;        // chunk-size being read, then data bytes left in the chunk
  uint64_t body_bytes;  // chunk-data bytes skipped so far
  uint32_t chunks;      // data chunks completed
  uint8_t phase;        // internal
  uint8_t size_digits;  // internal: hex digits seen in this chunk-size
};
struct HttpChunkedResult {
  ParseStatus status;   // kOk: the body ended (the next request starts after `consumed`); kNeedMore: feed more
  HttpMalformed error;  // kBadChunk on kMalformed
  size_t consumed;      // bytes of this call's input used (all of it on kNeedMore)
};
// Pure apart from *state; no allocation; reads only `bytes`. After kOk, further
// calls return kOk with consumed 0.
HttpChunkedResult SkipChunkedBody(HttpChunkedState* state, absl::Span<const uint8_t> bytes);

}  // namespace vigie

#endif  // VIGIE_CLASSIFIERS_HTTP_H_
