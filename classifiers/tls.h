// Vigie classifiers: TLS ClientHello (RFC 8446 §4.1.2) -> SNI, ALPN, ECH and version facts.
//
// Purpose: tell which server a TLS (or QUIC) client asks for, from the first
// client-to-server bytes, without terminating or decrypting anything.
//
// Wire structures read:
//   TLS record header (RFC 8446 §5.1): type(1)=22 handshake, version(2) in
//     0x0300..0x0304, length(2) in 1..2^14.
//   Handshake header (§4): msg_type(1)=1 client_hello, length(3).
//   ClientHello body (§4.1.2): legacy_version(2), random(32), session_id<0..32>,
//     cipher_suites<2..2^16-2>, compression_methods<1..2^8-1>, extensions<0..2^16-1>
//     (absent extensions block = none, as TLS 1.0-1.2 allow).
//   server_name ext 0 (RFC 6066 §3): ServerNameList<1..2^16-1> of {type(1),
//     HostName<1..2^16-1>}; the first entry of type 0 (host_name) is reported.
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
//    them). Duplicate extensions are not rejected; the first server_name wins.
//  - Thread-safe (no shared state); the caller owns `scratch` (one per worker).
//  - Limits: kMaxClientHelloBytes caps the handshake body we are willing to wait
//    for and copy; records are capped at 2^14 payload bytes by RFC 8446 §5.1.

#ifndef VIGIE_CLASSIFIERS_TLS_H_
#define VIGIE_CLASSIFIERS_TLS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "classifiers/parse_status.h"

namespace vigie {

inline constexpr size_t kMaxClientHelloBytes = 16384;  // handshake message cap (post-quantum CHs are ~1.8 KB; 16 KiB is generous)
inline constexpr size_t kTlsRecordHeaderBytes = 5;      // RFC 8446 §5.1
inline constexpr size_t kTlsMaxRecordPayload = 16384;   // RFC 8446 §5.1: 2^14
inline constexpr size_t kTlsHandshakeHeaderBytes = 4;   // msg_type + uint24 length

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
  kBadRecordVersion,  // record version outside 0x0300..0x0304
  kTooLarge,          // handshake length > kMaxClientHelloBytes, or > scratch when copying
  kTruncatedBody,     // fixed ClientHello fields inconsistent with the handshake length
  kBadExtensions,     // extensions block or a parsed extension inconsistent
  kBadSni,            // server_name extension malformed
  kBadAlpn,           // ALPN extension malformed
  kBadRecordLength,   // record length 0 or > 2^14 (RFC 8446 §5.1)
};

// Stable snake_case name for counters and logs, e.g. "bad_sni".
const char* TlsMalformedName(TlsMalformed e);

struct ClientHelloInfo {
  std::string_view sni;         // host_name from server_name ext (empty if absent); view into `stream` or `scratch`
  bool has_sni;
  std::string_view alpn_first;  // first ALPN protocol, empty if none
  uint8_t alpn_count;           // saturates at 255
  bool ech;                     // encrypted_client_hello ext 0xfe0d present
  bool esni;                    // legacy ESNI ext 0xffce present
  bool grease;                  // any GREASE value seen in ciphers/extensions/versions/groups
  uint16_t record_version;      // first record's version (0 for ParseClientHelloHandshake)
  uint16_t legacy_version;      // client_version in the body
  uint16_t max_version;         // highest non-GREASE supported_versions entry, else legacy_version
  bool pq_key_share;            // key_share offers X25519MLKEM768 (0x11ec) or X25519Kyber768Draft00 (0x6399)
  uint16_t records;             // TLS records the ClientHello spanned (1 = not record-fragmented; 0 for a bare handshake)
  size_t stream_consumed;       // bytes of `stream` up to the end of the last record used
  TlsMalformed tolerated;       // first fault outside server_name that did not stop parsing (kNone if none)
};

struct TlsParseResult {
  ParseStatus status;
  TlsMalformed error;
  size_t need;  // need: total stream bytes wanted, when known, else 0
};

// `stream` = client->server TCP payload bytes from the start of the connection, in order.
// Walks TLS records (content type 22, version 0x0300..0x0304), concatenating
// handshake fragments across several records into `scratch` when the ClientHello
// spans more than one record (record-layer fragmentation), else parses in place
// without copying.
// kNeedMore while the records hold less than the full ClientHello (need = stream
// length wanted when known: the end of the next record header or of the current
// record); a record is used only once it is complete.
// kMalformed if the first byte is not a handshake record, if the handshake type is
// not client_hello (1), if the handshake length > kMaxClientHelloBytes (kTooLarge)
// or > scratch.size() when copying is needed (kTooLarge), or if the body is
// inconsistent. Type and length are checked as soon as their bytes arrive, even
// inside an incomplete record. Bytes after the ClientHello in its last record are
// ignored. A scratch of kMaxClientHelloBytes always suffices.
TlsParseResult ParseClientHelloStream(absl::Span<const uint8_t> stream, absl::Span<uint8_t> scratch,
                                      ClientHelloInfo* out);

// Parses a bare handshake message (type 1 + 3-byte length + body), e.g. reassembled
// QUIC CRYPTO data. kNeedMore (need = 4 or 4 + length) while incomplete; bytes after
// the message are ignored. Sets records = 0, record_version = 0, stream_consumed =
// 4 + length.
TlsParseResult ParseClientHelloHandshake(absl::Span<const uint8_t> handshake, ClientHelloInfo* out);

}  // namespace vigie

#endif  // VIGIE_CLASSIFIERS_TLS_H_
