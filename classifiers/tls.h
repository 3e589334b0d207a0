// Vigie classifiers: TLS ClientHello (RFC 8446 §4.1.2) -> SNI, ALPN, ECH and version facts.
//
// Purpose: tell which server a TLS (or QUIC) client asks for, from the first
// client-to-server bytes, without terminating or decrypting anything.
//
// Wire structures read:
//   TLS record header (RFC 8446 §5.1): type(1) 22 handshake (21 alert, 20
//     change_cipher_spec skipped, see AssembleClientHello), version(2) 0x03xx,
//     length(2) <= kTlsMaxRecordLength.
//   Handshake header (§4): msg_type(1)=1 client_hello, length(3).
//   ClientHello body (§4.1.2): legacy_version(2), random(32), session_id<0..32>,
//     cipher_suites<2..2^16-2>, compression_methods<1..2^8-1>, extensions<0..2^16-1>
//     (absent extensions block = none, as TLS 1.0-1.2 allow).
//   server_name ext 0 (RFC 6066 §3): ServerNameList<1..2^16-1> of {type(1),
//     HostName<1..2^16-1>}; every entry of type 0 (host_name) is reported.
//   ALPN ext 16 (RFC 7301 §3.1): ProtocolNameList<2..2^16-1> of ProtocolName<1..2^8-1>.
//   supported_versions ext 43 (RFC 8446 §4.2.1), supported_groups ext 10 (§4.2.7),
//   key_share ext 51 (§4.2.8), encrypted_client_hello 0xfe0d
//   (draft-ietf-tls-esni), legacy ESNI 0xffce, GREASE (RFC 8701: 0x?a?a).
//
// Contract:
//  - Pure functions: no I/O, no allocation, never read past the inputs.
//  - Views in ClientHelloInfo (sni, alpn_first) point into `stream`/`handshake` or
//    into `scratch`; they are valid as long as those bytes are.
//  - Hostname bytes are not validated (reported as they are; the gateway escapes
//    them). Duplicate extensions are not rejected; the names of every server_name
//    extension are reported (sni_ambiguous when there is more than one name).
//  - Thread-safe (no shared state); the caller owns `scratch` (one per worker).
//  - Limits: kMaxClientHelloBytes caps the handshake body we are willing to wait
//    for and copy; records at kTlsMaxRecordLength (what servers accept);
//    kTlsMaxWarningAlerts / kTlsMaxSkippedRecords records skipped before the hello;
//    kMaxTlsSniNames names reported.

#ifndef VIGIE_CLASSIFIERS_TLS_H_
#define VIGIE_CLASSIFIERS_TLS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "classifiers/parse_status.h"

namespace vigie {

// Handshake message cap for a ClientHello (body, without the 4-byte header): OpenSSL's
// CLIENT_HELLO_MAX_LENGTH (ssl/statem/statem_srvr.c, 131396 = the largest body the
// ClientHello grammar allows), the most lenient server we know (Go: 65536,
// BoringSSL: 16384). Real hellos are ~0.5-2 KB (post-quantum ~1.8 KB).
inline constexpr size_t kMaxClientHelloBytes = 131396;
inline constexpr size_t kTlsRecordHeaderBytes = 5;      // RFC 8446 §5.1
inline constexpr size_t kTlsMaxRecordPayload = 16384;   // RFC 8446 §5.1: 2^14 (plaintext, what clients send)
// Record length accepted: 2^14 + 2048, the ciphertext bound (RFC 5246 §6.2.3,
// OpenSSL/BoringSSL SSL3_RT_MAX_ENCRYPTED_LENGTH, Go maxCiphertext) that servers
// check on the record header. Longer is kBadRecordLength.
inline constexpr size_t kTlsMaxRecordLength = 16384 + 2048;
inline constexpr size_t kTlsHandshakeHeaderBytes = 4;   // msg_type + uint24 length
// Records skipped before the ClientHello is whole (see AssembleClientHello):
// warning alerts: OpenSSL (MAX_WARN_ALERT_COUNT 5: the 5th is fatal) and BoringSSL
// (kMaxWarningAlerts 4) both read 4; empty and change_cipher_spec records together:
// BoringSSL's kMaxEmptyRecords (32), OpenSSL's MAX_EMPTY_RECORDS (32).
inline constexpr size_t kTlsMaxWarningAlerts = 4;
inline constexpr size_t kTlsMaxSkippedRecords = 32;
// host_name entries reported from server_name (RFC 6066 §3); more sets sni_capped.
inline constexpr size_t kMaxTlsSniNames = 4;

inline constexpr uint8_t kTlsContentChangeCipherSpec = 20;
inline constexpr uint8_t kTlsContentAlert = 21;
inline constexpr uint8_t kTlsContentHandshake = 22;
inline constexpr uint8_t kTlsHandshakeClientHello = 1;
inline constexpr uint16_t kTlsExtServerName = 0;
inline constexpr uint16_t kTlsExtSupportedGroups = 10;
inline constexpr uint16_t kTlsExtAlpn = 16;
inline constexpr uint16_t kTlsExtPadding = 21;
inline constexpr uint16_t kTlsExtSupportedVersions = 43;
inline constexpr uint16_t kTlsExtKeyShare = 51;
inline constexpr uint16_t kTlsExtEch = 0xfe0d;
inline constexpr uint16_t kTlsExtEsni = 0xffce;
inline constexpr uint16_t kTlsGroupX25519 = 0x001d;
inline constexpr uint16_t kTlsGroupX25519MlKem768 = 0x11ec;
inline constexpr uint16_t kTlsGroupX25519Kyber768Draft00 = 0x6399;

// RFC 8701 GREASE values: 0x0A0A, 0x1A1A, ..., 0xFAFA.
constexpr bool IsTlsGrease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

enum class TlsMalformed : uint8_t {
  kNone,
  kNotHandshake,      // a record before the ClientHello end is not content type 22
  kNotClientHello,    // handshake msg_type != 1
  kBadRecordVersion,  // record version not 0x03xx (servers check only the major byte)
  kTooLarge,          // handshake length > kMaxClientHelloBytes, or > scratch when copying
  kTruncatedBody,     // fixed ClientHello fields inconsistent with the handshake length
  kBadExtensions,     // extensions block or a parsed extension inconsistent
  kBadSni,            // server_name extension malformed
  kBadAlpn,           // ALPN extension malformed
  kBadRecordLength,   // record length > kTlsMaxRecordLength
  kAlert,             // a fatal alert, close_notify or a bad alert record: the server stops reading
  kTooManySkipped,    // more than kTlsMaxWarningAlerts / kTlsMaxSkippedRecords records skipped
};

// Stable snake_case name for counters and logs, e.g. "bad_sni".
const char* TlsMalformedName(TlsMalformed e);

struct ClientHelloInfo {
  std::string_view sni;         // first host_name from server_name ext (empty if absent); view into `stream` or `scratch`
  bool has_sni;
  // Every host_name entry of every server_name extension, in order (sni_names[0] ==
  // sni). OpenSSL and BoringSSL refuse a list of two entries, Go refuses two
  // host_names, but a server may read any one of them: the caller decides each
  // and keeps the strictest ("ambiguity never allows").
  std::string_view sni_names[kMaxTlsSniNames];
  uint8_t sni_count;            // entries in sni_names
  bool sni_capped;              // more host_name entries than kMaxTlsSniNames (the rest are not reported)
  bool sni_ambiguous;           // more than one host_name entry, or more than one server_name extension
  std::string_view alpn_first;  // first ALPN protocol, empty if none
  uint8_t alpn_count;           // saturates at 255
  bool ech;                     // encrypted_client_hello ext 0xfe0d present
  bool esni;                    // legacy ESNI ext 0xffce present
  bool grease;                  // any GREASE value seen in ciphers/extensions/versions/groups
  uint16_t record_version;      // first record's version (0 for ParseClientHelloHandshake)
  uint16_t legacy_version;      // client_version in the body
  uint16_t max_version;         // highest non-GREASE supported_versions entry, else legacy_version
  bool pq_key_share;            // key_share offers X25519MLKEM768 (0x11ec) or X25519Kyber768Draft00 (0x6399)
  uint32_t records;             // handshake records the ClientHello spanned (1 = not record-fragmented; 0 for a bare handshake)
  uint16_t skipped_records;     // alert / change_cipher_spec / empty records skipped before the hello was whole
  size_t stream_consumed;       // bytes of `stream` up to the end of the last record used
  TlsMalformed tolerated;       // first fault outside server_name that did not stop parsing (kNone if none)
};

struct TlsParseResult {
  ParseStatus status;
  TlsMalformed error;
  size_t need;  // need: total stream bytes wanted, when known, else 0
};

// Incremental ClientHello assembly over a TCP stream (RFC 8446 §5.1 record layer).
//
// The caller keeps one TlsHelloAssembler per flow (zero-initialised = start of a
// hello; reset it to {} to read a second ClientHello after a HelloRetryRequest)
// and one scratch buffer per flow while assembly is in progress (its contents
// must be kept between calls; kMaxClientHelloBytes always suffices). Each call is
// given the stream bytes the previous calls did not consume, in order.
//
// Records are consumed whole as they arrive, so the caller's stream buffer only
// needs to hold one partial record (<= kTlsRecordHeaderBytes + kTlsMaxRecordLength).
// Leniency, to read what servers read:
//  - any record version 0x03xx (OpenSSL, BoringSSL and Go check the major byte
//    only before a version is negotiated); records up to kTlsMaxRecordLength;
//  - handshake fragments are appended across any number of records (1-byte
//    records included), up to kMaxClientHelloBytes of handshake body;
//  - before the hello is whole these records are skipped: warning alerts other
//    than close_notify (OpenSSL and BoringSSL read and ignore up to 4 of them in
//    any state, ssl3_read_bytes / ssl_process_alert), empty records of type
//    handshake, alert or change_cipher_spec (both stacks discard up to 32 empty
//    records), and change_cipher_spec records { 0x01 }. OpenSSL, BoringSSL and Go
//    refuse a CCS before the ClientHello; it is skipped anyway (at most
//    kTlsMaxSkippedRecords), because skipping can only let us read a hello that a
//    more tolerant server might read, never hide one.
//  - a fatal alert, close_notify, or an alert record that is not 2 bytes ends the
//    server's reading (kAlert): nothing after it is a hello the server sees.
// Any other content type (application data, heartbeat, SSLv2 hello: no SNI
// possible) is kNotHandshake.
struct TlsHelloAssembler {
  uint32_t body_len;          // handshake body length, valid once header_have == 4
  uint32_t body_have;         // body bytes copied into scratch
  uint32_t records;           // handshake records with payload used so far
  uint16_t record_version;    // version of the first handshake record
  uint8_t header[kTlsHandshakeHeaderBytes];
  uint8_t header_have;        // handshake header bytes seen (0..4)
  uint8_t warning_alerts;     // warning alerts skipped
  uint16_t skipped;           // every skipped record (alerts, CCS, empty)
};

struct TlsAssembleResult {
  ParseStatus status;
  TlsMalformed error;
  size_t consumed;  // bytes of this call's `stream` consumed (whole records); drop them before the next call
  size_t need;      // kNeedMore: bytes of this call's stream wanted to complete the next record
  // Bytes of `stream` this call read: record headers (whole or partial), the
  // handshake header bytes judged in a partial record, and the payload of each
  // whole record. A partial record costs its header and at most 4 bytes per
  // call, so a caller that drops `consumed` reads each byte O(1) times however
  // the stream is cut (counted as tls_bytes_parsed; tls_inspector_test).
  size_t scanned;
};

// Feeds `stream` (the unconsumed bytes) to `state`. kOk once the ClientHello is
// whole: *out is filled, consumed (== out->stream_consumed) ends at the end of the
// record that completed the hello (bytes after the hello in that record are
// ignored); the views in *out point into `stream` of this call when the hello
// came in one record of this call, else into `scratch`. kNeedMore: records
// consumed so far were taken into state/scratch. kMalformed: stop inspecting; the
// fault is judged as soon as its bytes arrive (record type and version from a
// partial header; handshake type and length from a partial record), so the
// verdict does not depend on how the stream was cut. *out is reset on every call.
// Pure apart from *state and scratch; no allocation.
TlsAssembleResult AssembleClientHello(TlsHelloAssembler* state, absl::Span<const uint8_t> stream,
                                      absl::Span<uint8_t> scratch, ClientHelloInfo* out);

// `stream` = client->server TCP payload bytes from the start of the connection (or
// of a second hello), in order. A stateless wrapper of AssembleClientHello over the
// whole stream: same leniency and verdicts; need = total stream length wanted when
// known (the end of the next record header or of the current record). `scratch`
// is only touched when the hello spans several records (a hello in one record is
// parsed in place). A scratch of kMaxClientHelloBytes always suffices.
TlsParseResult ParseClientHelloStream(absl::Span<const uint8_t> stream, absl::Span<uint8_t> scratch,
                                      ClientHelloInfo* out);

// Parses a bare handshake message (type 1 + 3-byte length + body), e.g. reassembled
// QUIC CRYPTO data. kNeedMore (need = 4 or 4 + length) while incomplete; bytes after
// the message are ignored. Sets records = 0, record_version = 0, stream_consumed =
// 4 + length.
TlsParseResult ParseClientHelloHandshake(absl::Span<const uint8_t> handshake, ClientHelloInfo* out);

}  // namespace vigie

#endif  // VIGIE_CLASSIFIERS_TLS_H_
