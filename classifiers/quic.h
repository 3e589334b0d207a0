// Vigie classifiers: QUIC client Initial packets -> CRYPTO frames -> TLS ClientHello.
//
// Purpose: tell which server a QUIC client asks for. The client's Initial packets
// are encrypted with keys every observer can derive from the packet itself (the
// Destination Connection ID and a per-version salt), so the ClientHello they carry
// can be read without taking part in the connection.
//
// Wire structures and algorithms:
//   Long header (RFC 9000 §17.2): first byte 1 F TT xxxx (header form 1, fixed bit,
//     type), version(4), DCID len(1) + DCID (<= 20), SCID len(1) + SCID (<= 20);
//     Initial (§17.2.2): token length (varint) + token, length (varint, = packet
//     number + protected payload), packet number (1-4 bytes, protected).
//     0-RTT / Handshake (§17.2.3-4): same without the token; Retry (§17.2.5) has no
//     length and runs to the end of the datagram.
//   Initial secrets (RFC 9001 §5.2): initial_secret = HKDF-Extract(salt, DCID),
//     client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32),
//     key/iv/hp = HKDF-Expand-Label(client_initial_secret, "quic key"/"quic iv"/
//     "quic hp", "", 16/12/16) with SHA-256 (RFC 8446 §7.1 for the label format).
//   Header protection (RFC 9001 §5.4): sample = 16 bytes at packet-number offset + 4,
//     mask = AES-128-ECB(hp, sample); first byte ^= mask[0] & 0x0f, packet number
//     bytes ^= mask[1..4].
//   Payload (RFC 9001 §5.3): AES-128-GCM, nonce = iv XOR packet number, AAD = the
//     unprotected header, 16-byte tag at the end.
//   Frames allowed in Initial (RFC 9000 §12.4, §19): PADDING 0x00, PING 0x01,
//     ACK 0x02/0x03, CRYPTO 0x06, CONNECTION_CLOSE 0x1c.
//
// Versions (see IsQuicVersionSupported):
//   0x00000001  QUIC v1 (RFC 9001 salt 38762cf7...)
//   0x6b3343cf  QUIC v2 (RFC 9369: salt 0dede3de..., labels "quicv2 key/iv/hp",
//               long-header types rotated: Initial 0b01, 0-RTT 0b10, Handshake 0b11,
//               Retry 0b00)
//   0xff00001d..0xff000020  draft-29..32 (salt afbfec28...)
//   0xff000017..0xff00001c  draft-23..28 (salt c3eef712...)
//   0xfaceb001  Facebook mvfst draft-22 (salt 7fbcdb0e...)
//   0xfaceb002  Facebook mvfst draft-27 (draft-23..28 salt)
//   0x54303531  Google T051 (salt 7a4edef4..., v1 labels and header, TLS in CRYPTO
//               frames, but gQUIC frame types: CRYPTO 0x08, PING 0x07, PADDING 0x00;
//               a gQUIC ACK (0x40-0x7f) ends frame parsing without error)
//
// Contract:
//  - QuicInitialDecryptor is one per worker (not thread-safe): it owns two OpenSSL
//    cipher contexts created once in the constructor. DecryptInitial performs no
//    heap allocation (HKDF is computed on the stack with SHA-256, the cipher
//    contexts are re-keyed in place), no I/O, and never reads outside `datagram`
//    nor writes outside `plaintext`.
//  - UDP datagrams are complete: a packet that ends early is kMalformed/kBadLength,
//    never kNeedMore (kNeedMore belongs to the CRYPTO stream, see the assembler and
//    ParseClientHelloHandshake in tls.h).
//  - QuicInitialInfo::crypto[].data point into `plaintext`; valid until the next
//    DecryptInitial into the same buffer.
//  - The QUIC bit (0x40, "fixed bit") is not required: RFC 9287 (grease_quic_bit)
//    lets endpoints clear it, and header protection does not cover it. Every
//    parser here accepts it cleared and reports it (quic_bit).
//  - Limits: kMaxQuicCryptoBytes caps the reassembled CRYPTO stream (the ClientHello
//    is capped as TLS over TCP, kMaxClientHelloBytes + 4); kMaxCryptoFramesPerPacket caps
//    the frames listed per packet (more -> crypto_frames_capped); the assembler
//    tracks at most kMaxQuicCryptoRanges disjoint byte ranges.

#ifndef VIGIE_CLASSIFIERS_QUIC_H_
#define VIGIE_CLASSIFIERS_QUIC_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"
#include "classifiers/parse_status.h"

namespace vigie {

// CRYPTO stream reassembly cap: the largest ClientHello handshake message a TLS
// server reads (4-byte header + kMaxClientHelloBytes, OpenSSL's limit; QUIC servers
// run the same TLS stacks).
inline constexpr size_t kMaxQuicCryptoBytes = 4 + 131396;
inline constexpr size_t kMaxQuicDatagram = 65527;     // largest UDP payload (65535 - 8)
inline constexpr size_t kMaxQuicCidBytes = 20;        // RFC 9000 §17.2: connection IDs of versions we know
// RFC 9000 §14.1: a server MUST discard a client Initial in a UDP datagram smaller
// than this, so a smaller one is never a connection the server sees.
inline constexpr size_t kQuicMinInitialDatagram = 1200;
inline constexpr size_t kQuicHpSampleBytes = 16;      // RFC 9001 §5.4.2
inline constexpr size_t kQuicMaxPnBytes = 4;          // RFC 9001 §5.4.2: sample starts 4 bytes after the PN offset
inline constexpr size_t kQuicAeadTagBytes = 16;       // AES-128-GCM tag
inline constexpr size_t kMaxCryptoFramesPerPacket = 64;  // a 1500-byte packet rarely holds more (Chrome sends ~10)
inline constexpr size_t kMaxQuicCryptoRanges = 32;    // disjoint ranges the assembler tracks (holes between shuffled frames)

inline constexpr uint32_t kQuicVersion1 = 0x00000001;
inline constexpr uint32_t kQuicVersion2 = 0x6b3343cf;
inline constexpr uint32_t kQuicVersionT051 = 0x54303531;
inline constexpr uint32_t kQuicVersionMvfst22 = 0xfaceb001;
inline constexpr uint32_t kQuicVersionMvfst27 = 0xfaceb002;

enum class QuicMalformed : uint8_t {
  kNone,
  kNotLongHeader,   // short header (1-RTT) packet, or an empty datagram
  kUnknownVersion,  // version not in the table (including 0 = Version Negotiation)
  kNotInitial,      // 0-RTT, Handshake or Retry: packet_length says how far to skip
  kBadHeader,       // connection ID longer than 20 bytes
  kBadLength,       // header or length field runs past the datagram, packet too short to sample
  kDecryptFailed,   // AEAD tag mismatch (wrong keys, corruption, or not client-to-server)
  kBadFrame,        // a frame not allowed in Initial, or a truncated frame
  kCryptoTooLarge,  // CRYPTO data beyond kMaxQuicCryptoBytes (reported by callers of QuicCryptoAssembler)
};

// Stable snake_case name for counters and logs, e.g. "decrypt_failed".
const char* QuicMalformedName(QuicMalformed e);

bool IsQuicVersionSupported(uint32_t version);

struct QuicParseResult {
  ParseStatus status;
  QuicMalformed error;
};

// Long-header packet types, decoded per version (RFC 9000 §17.2; RFC 9369 §3.2
// rotates the bits for QUIC v2).
enum class QuicPacketType : uint8_t { kInitial, kZeroRtt, kHandshake, kRetry };

// The long header of the packet at the start of a datagram (RFC 9000 §17.2), views
// into the datagram.
struct QuicLongHeader {
  uint8_t first_byte;              // as on the wire (the type-specific low bits are protected)
  bool quic_bit;                   // the fixed bit 0x40; may be cleared (RFC 9287)
  uint32_t version;
  bool version_supported;          // IsQuicVersionSupported(version): the fields below are then filled
  absl::Span<const uint8_t> dcid;  // RFC 8999 invariants: filled for every version
  absl::Span<const uint8_t> scid;
  QuicPacketType type;
  absl::Span<const uint8_t> token;  // Initial only
  uint64_t length;                  // Length field: packet number + payload (not Retry)
  size_t pn_offset;                 // offset of the packet number (not Retry)
  size_t packet_length;             // bytes of the datagram this packet uses (Retry: all of it)
};

// Parses the long header at the start of `datagram`. kOk for a supported version
// with consistent lengths (connection IDs <= kMaxQuicCidBytes, token and Length
// inside the datagram). kMalformed otherwise: kNotLongHeader (short header or
// empty), kUnknownVersion (the RFC 8999 invariant fields version, dcid, scid are
// still filled when present; version 0 is Version Negotiation), kBadHeader (a CID
// over 20 bytes), kBadLength (a field runs past the datagram). Pure, no allocation.
QuicParseResult ParseQuicLongHeader(absl::Span<const uint8_t> datagram, QuicLongHeader* out);

// By content, on any port and in either direction: true iff `datagram` starts with
// a long-header Initial of a supported version (QUIC bit set or not), with
// consistent lengths, room for the header-protection sample (RFC 9001 §5.4.2), and
// the datagram at least kQuicMinInitialDatagram bytes (RFC 9000 §14.1: servers
// drop smaller client Initials). Server Initials pass too (they look the same);
// DecryptInitial with client keys tells them apart.
bool LooksLikeQuicInitial(absl::Span<const uint8_t> datagram);

// The Destination Connection ID of a long-header packet (any version, RFC 8999
// §5.1), empty if `datagram` is not one or the CID is longer than kMaxQuicCidBytes.
// A view into `datagram`.
absl::Span<const uint8_t> QuicLongHeaderDcid(absl::Span<const uint8_t> datagram);

// Client Initial keys of one connection (RFC 9001 §5.2), exposed for tests.
struct QuicInitialSecrets {
  uint8_t initial_secret[32];
  uint8_t client_secret[32];
  uint8_t key[16];
  uint8_t iv[12];
  uint8_t hp[16];
};

// Derives the client Initial secrets for `version` and `dcid`. False if the version
// is unknown or dcid is longer than kMaxQuicCidBytes. Pure; no allocation.
bool DeriveQuicClientInitialSecrets(uint32_t version, absl::Span<const uint8_t> dcid,
                                    QuicInitialSecrets* out);

// One CRYPTO frame found in a decrypted Initial packet.
struct QuicCryptoFrame {
  uint64_t offset;
  absl::Span<const uint8_t> data;  // points into the plaintext buffer
};

struct QuicInitialInfo {
  uint32_t version;
  bool quic_bit;  // the fixed bit 0x40 was set (RFC 9287 allows it cleared)
  uint8_t dcid_len;
  uint8_t dcid[kMaxQuicCidBytes];
  uint8_t scid_len;
  uint64_t packet_number;  // as decoded from the (truncated) packet number field
  size_t packet_length;    // bytes of the datagram this (possibly coalesced) packet used
  uint8_t crypto_count;
  QuicCryptoFrame crypto[kMaxCryptoFramesPerPacket];
  bool crypto_frames_capped;  // more CRYPTO frames than kMaxCryptoFramesPerPacket (the rest are ignored)
};

class QuicInitialDecryptor {
 public:
  QuicInitialDecryptor();
  ~QuicInitialDecryptor();
  QuicInitialDecryptor(const QuicInitialDecryptor&) = delete;
  QuicInitialDecryptor& operator=(const QuicInitialDecryptor&) = delete;

  // False if OpenSSL could not create the contexts (then every call fails with
  // kDecryptFailed).
  bool ok() const { return gcm_ != nullptr && ecb_ != nullptr; }

  // Parses the QUIC packet at the start of `datagram`. For a client Initial of a
  // supported version: derives the keys from its DCID, removes header protection,
  // decrypts the payload into `plaintext` (which must be at least datagram.size()
  // bytes; the unprotected header is written first, then the frames) and lists the
  // CRYPTO frames. kOk then; on kOk and on kNotInitial, out->packet_length is the
  // number of bytes this packet used, so that the caller can parse the next
  // coalesced packet at datagram.subspan(packet_length) (RFC 9000 §12.2).
  // Short header -> kNotLongHeader; everything else kMalformed with a code. Never
  // kNeedMore.
  // `key_dcid`: the DCID of the connection's first client Initial, when the caller
  // has seen it. Keys come from the client's first DCID (RFC 9001 §5.2), and a
  // client that received the server's Initial sends its later Initials to the
  // server-chosen DCID: those decrypt only with the original one. Keys from
  // key_dcid are tried first, then (if different) from the packet's own DCID.
  QuicParseResult DecryptInitial(absl::Span<const uint8_t> datagram, absl::Span<uint8_t> plaintext,
                                 QuicInitialInfo* out, absl::Span<const uint8_t> key_dcid = {});

  // AES-128-ECB(hp, sample)[0..5) (RFC 9001 §5.4.3). Exposed for tests.
  bool HeaderProtectionMask(const uint8_t hp[16], const uint8_t sample[16], uint8_t mask[5]);

 private:
  // Removes protection with keys from key_dcid; false if the tag does not verify.
  bool Unprotect(uint32_t version, absl::Span<const uint8_t> key_dcid, absl::Span<const uint8_t> datagram,
                 uint8_t first, size_t pn_offset, size_t packet_length, absl::Span<uint8_t> plaintext,
                 size_t* header_len, size_t* cipher_len, QuicInitialInfo* out);

  // The client Initial secrets for (version, DCID), derived once and kept in
  // a small cache: a flow's later Initials, a retried DecryptInitial with
  // key_dcid, and the server-side probe reuse them instead of running HKDF
  // again (5 HMAC-SHA256 per derivation).
  const QuicInitialSecrets& Secrets(uint32_t version, absl::Span<const uint8_t> dcid);
  static constexpr size_t kSecretCacheEntries = 8;
  struct CachedSecrets {
    uint32_t version = 0;
    uint8_t dcid_len = 0xff;  // 0xff: empty slot
    uint8_t dcid[kMaxQuicCidBytes] = {};
    QuicInitialSecrets secrets;
  };
  CachedSecrets cache_[kSecretCacheEntries];
  size_t cache_next_ = 0;  // the slot replaced next (round robin)

  struct Ctx;  // EVP_CIPHER_CTX, kept out of this header
  Ctx* gcm_ = nullptr;
  Ctx* ecb_ = nullptr;
};

// CRYPTO stream reassembly (RFC 9000 §19.6) into a caller-provided buffer of
// kMaxQuicCryptoBytes (a larger buffer is used only up to that cap). Bytes are placed
// by offset; where frames overlap the first received bytes are kept. Tracks at
// most kMaxQuicCryptoRanges disjoint ranges. Not thread-safe; no allocation.
class QuicCryptoAssembler {
 public:
  explicit QuicCryptoAssembler(absl::Span<uint8_t> buf);

  // Places data at offset. Returns false (and sets capped()) if some of it lies at or
  // beyond the cap (the part below the cap is kept), or if it would need more than
  // kMaxQuicCryptoRanges ranges (then nothing of it is kept).
  bool Add(uint64_t offset, absl::Span<const uint8_t> data);
  // The bytes received contiguously from offset 0 (empty while byte 0 is missing).
  absl::Span<const uint8_t> contiguous() const;
  void Reset();
  bool capped() const { return capped_; }
  size_t ranges() const { return count_; }

 private:
  struct Range {
    uint64_t begin, end;  // [begin, end)
  };
  absl::Span<uint8_t> buf_;
  Range ranges_[kMaxQuicCryptoRanges];
  size_t count_ = 0;
  bool capped_ = false;
};

}  // namespace vigie

#endif  // VIGIE_CLASSIFIERS_QUIC_H_
