// QUIC client Initial decryption and CRYPTO reassembly. See quic.h for the
// contract, limits and RFC sections.

// SHA-256 through OpenSSL's low-level interface: a stack context, no allocation
// (EVP_MD_CTX / EVP_MAC may allocate on init). Deprecated in 3.0 but kept.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "classifiers/quic.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#include "classifiers/byte_reader.h"

namespace vigie {

struct QuicInitialDecryptor::Ctx {
  EVP_CIPHER_CTX* evp;
};

namespace {

constexpr size_t kSaltBytes = 20;
constexpr size_t kSha256Bytes = 32;
constexpr size_t kSha256Block = 64;
constexpr uint64_t kMaxVarint = (uint64_t{1} << 62) - 1;

// RFC 9001 §5.2
constexpr uint8_t kSaltV1[kSaltBytes] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                         0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
// RFC 9369 §3.3.1
constexpr uint8_t kSaltV2[kSaltBytes] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                         0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
// draft-ietf-quic-tls-29 §5.2 (also drafts 30-32)
constexpr uint8_t kSaltDraft29[kSaltBytes] = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                                              0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
// draft-ietf-quic-tls-23 §5.2 (also drafts 24-28, mvfst draft-27)
constexpr uint8_t kSaltDraft23[kSaltBytes] = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
                                              0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};
// draft-ietf-quic-tls-22 §5.2 (mvfst draft-22)
constexpr uint8_t kSaltDraft22[kSaltBytes] = {0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
                                              0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a};
// Google QUIC T051 (Chromium quic_crypto_utils / Wireshark packet-quic.c)
constexpr uint8_t kSaltT051[kSaltBytes] = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
                                           0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};

using PacketType = QuicPacketType;

constexpr QuicParseResult Ok() { return {ParseStatus::kOk, QuicMalformed::kNone}; }
constexpr QuicParseResult Bad(QuicMalformed e) { return {ParseStatus::kMalformed, e}; }

constexpr uint8_t kHeaderFormLong = 0x80;  // RFC 9000 §17.2
constexpr uint8_t kQuicBit = 0x40;         // fixed bit (RFC 9287: may be cleared)

struct VersionParams {
  const uint8_t* salt;
  bool v2;  // RFC 9369 labels and type bits
};

bool LookupVersion(uint32_t v, VersionParams* p) {
  if (v == kQuicVersion1) {
    *p = {kSaltV1, false};
  } else if (v == kQuicVersion2) {
    *p = {kSaltV2, true};
  } else if (v >= 0xff00001d && v <= 0xff000020) {
    *p = {kSaltDraft29, false};
  } else if ((v >= 0xff000017 && v <= 0xff00001c) || v == kQuicVersionMvfst27) {
    *p = {kSaltDraft23, false};
  } else if (v == kQuicVersionMvfst22) {
    *p = {kSaltDraft22, false};
  } else if (v == kQuicVersionT051) {
    *p = {kSaltT051, false};
  } else {
    return false;
  }
  return true;
}

PacketType TypeOf(uint8_t first_byte, bool v2) {
  const uint8_t bits = (first_byte >> 4) & 0x03;
  if (!v2) return static_cast<PacketType>(bits);  // v1: 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry
  switch (bits) {                                 // RFC 9369 §3.2
    case 1:
      return PacketType::kInitial;
    case 2:
      return PacketType::kZeroRtt;
    case 3:
      return PacketType::kHandshake;
    default:
      return PacketType::kRetry;
  }
}

// ---- HMAC-SHA256 / HKDF (RFC 2104, RFC 5869), on the stack ------------------

void HmacSha256(const uint8_t* key, size_t key_len, const uint8_t* msg, size_t msg_len,
                uint8_t out[kSha256Bytes]) {
  uint8_t k[kSha256Block] = {};
  if (key_len > kSha256Block) {
    SHA256(key, key_len, k);
  } else {
    std::memcpy(k, key, key_len);
  }
  uint8_t pad[kSha256Block];
  SHA256_CTX ctx;
  for (size_t i = 0; i < kSha256Block; ++i) pad[i] = k[i] ^ 0x36;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad, kSha256Block);
  SHA256_Update(&ctx, msg, msg_len);
  uint8_t inner[kSha256Bytes];
  SHA256_Final(inner, &ctx);
  for (size_t i = 0; i < kSha256Block; ++i) pad[i] = k[i] ^ 0x5c;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad, kSha256Block);
  SHA256_Update(&ctx, inner, kSha256Bytes);
  SHA256_Final(out, &ctx);
}

// HKDF-Expand-Label(secret, label, "", len) (RFC 8446 §7.1), len <= 32 (one block).
void HkdfExpandLabel(const uint8_t secret[kSha256Bytes], const char* label, uint8_t* out, size_t len) {
  constexpr char kPrefix[] = "tls13 ";
  const size_t label_len = std::strlen(label);
  // HkdfLabel: length(2) + label<7..255> + context<0..255> (empty) + HKDF counter 0x01.
  uint8_t info[2 + 1 + 6 + 32 + 1 + 1];
  size_t n = 0;
  info[n++] = static_cast<uint8_t>(len >> 8);
  info[n++] = static_cast<uint8_t>(len);
  info[n++] = static_cast<uint8_t>(6 + label_len);
  std::memcpy(info + n, kPrefix, 6);
  n += 6;
  std::memcpy(info + n, label, label_len);
  n += label_len;
  info[n++] = 0;     // empty context
  info[n++] = 0x01;  // T(1) = HMAC(PRK, info | 0x01)
  uint8_t t[kSha256Bytes];
  HmacSha256(secret, kSha256Bytes, info, n, t);
  std::memcpy(out, t, len);
}


// Google QUIC T051 frames (Chromium quic_framer.cc, IETF-invariant header with
// gQUIC frame types): CRYPTO is 0x08 with varint offset and length, as the IETF
// CRYPTO frame; PADDING 0x00, PING 0x07; ACK is 0x40-0x7f with a layout that
// depends on its flag bits, so parsing stops there (nothing after it is needed:
// Chrome sends it last, and the first Initial holds only CRYPTO + PADDING).
constexpr uint8_t kT051Crypto = 0x08;
constexpr uint8_t kT051Ping = 0x07;

// Skips the frames allowed in Initial packets and lists CRYPTO frames.
QuicMalformed ParseFrames(absl::Span<const uint8_t> payload, bool gquic, QuicInitialInfo* out) {
  ByteReader r(payload);
  while (!r.empty()) {
    uint64_t type = gquic ? r.ReadU8() : r.ReadVarint();  // gQUIC frame types are one byte
    if (gquic) {
      if (type == kT051Crypto) {
        type = 0x06;
      } else if (type == kT051Ping) {
        type = 0x01;
      } else if (type >= 0x40 && type <= 0x7f) {  // gQUIC ACK: stop here
        return QuicMalformed::kNone;
      } else if (type != 0x00) {
        return QuicMalformed::kBadFrame;
      }
    }
    switch (type) {
      case 0x00:  // PADDING: skip the whole run at once
        while (!r.empty() && r.PeekU8() == 0) r.Skip(1);
        break;
      case 0x01:  // PING
        break;
      case 0x02:    // ACK (RFC 9000 §19.3)
      case 0x03: {  // ACK with ECN counts
        r.ReadVarint();  // largest acknowledged
        r.ReadVarint();  // ACK delay
        const uint64_t ranges = r.ReadVarint();
        r.ReadVarint();  // first ACK range
        for (uint64_t i = 0; i < ranges && r.ok(); ++i) {
          r.ReadVarint();  // gap
          r.ReadVarint();  // ACK range length
        }
        if (type == 0x03) {
          r.ReadVarint();  // ECT0
          r.ReadVarint();  // ECT1
          r.ReadVarint();  // ECN-CE
        }
        break;
      }
      case 0x06: {  // CRYPTO (RFC 9000 §19.6)
        const uint64_t offset = r.ReadVarint();
        const uint64_t length = r.ReadVarint();
        if (!r.ok() || length > r.remaining() || offset + length > kMaxVarint) return QuicMalformed::kBadFrame;
        const absl::Span<const uint8_t> data = r.ReadBytes(static_cast<size_t>(length));
        if (out->crypto_count < kMaxCryptoFramesPerPacket) {
          out->crypto[out->crypto_count++] = QuicCryptoFrame{offset, data};
        } else {
          out->crypto_frames_capped = true;
        }
        break;
      }
      case 0x1c: {  // CONNECTION_CLOSE, transport level (RFC 9000 §19.19)
        r.ReadVarint();  // error code
        r.ReadVarint();  // frame type
        const uint64_t reason = r.ReadVarint();
        if (!r.ok() || reason > r.remaining()) return QuicMalformed::kBadFrame;
        r.Skip(static_cast<size_t>(reason));
        break;
      }
      default:
        return QuicMalformed::kBadFrame;
    }
    if (!r.ok()) return QuicMalformed::kBadFrame;
  }
  return QuicMalformed::kNone;
}

}  // namespace

const char* QuicMalformedName(QuicMalformed e) {
  switch (e) {
    case QuicMalformed::kNone:
      return "none";
    case QuicMalformed::kNotLongHeader:
      return "not_long_header";
    case QuicMalformed::kUnknownVersion:
      return "unknown_version";
    case QuicMalformed::kNotInitial:
      return "not_initial";
    case QuicMalformed::kBadHeader:
      return "bad_header";
    case QuicMalformed::kBadLength:
      return "bad_length";
    case QuicMalformed::kDecryptFailed:
      return "decrypt_failed";
    case QuicMalformed::kBadFrame:
      return "bad_frame";
    case QuicMalformed::kCryptoTooLarge:
      return "crypto_too_large";
  }
  return "unknown";
}

bool IsQuicVersionSupported(uint32_t version) {
  VersionParams p;
  return LookupVersion(version, &p);
}

bool DeriveQuicClientInitialSecrets(uint32_t version, absl::Span<const uint8_t> dcid,
                                    QuicInitialSecrets* out) {
  VersionParams p;
  if (!LookupVersion(version, &p) || dcid.size() > kMaxQuicCidBytes) return false;
  HmacSha256(p.salt, kSaltBytes, dcid.data(), dcid.size(), out->initial_secret);  // HKDF-Extract
  HkdfExpandLabel(out->initial_secret, "client in", out->client_secret, sizeof(out->client_secret));
  HkdfExpandLabel(out->client_secret, p.v2 ? "quicv2 key" : "quic key", out->key, sizeof(out->key));
  HkdfExpandLabel(out->client_secret, p.v2 ? "quicv2 iv" : "quic iv", out->iv, sizeof(out->iv));
  HkdfExpandLabel(out->client_secret, p.v2 ? "quicv2 hp" : "quic hp", out->hp, sizeof(out->hp));
  return true;
}

// ---- long header -----------------------------------------------------------------

QuicParseResult ParseQuicLongHeader(absl::Span<const uint8_t> datagram, QuicLongHeader* out) {
  *out = QuicLongHeader{};
  ByteReader r(datagram);
  const uint8_t first = r.ReadU8();
  if (!r.ok() || (first & kHeaderFormLong) == 0) return Bad(QuicMalformed::kNotLongHeader);
  out->first_byte = first;
  out->quic_bit = (first & kQuicBit) != 0;
  out->version = r.ReadU32();
  if (!r.ok()) return Bad(QuicMalformed::kBadLength);
  VersionParams params;
  const bool known = LookupVersion(out->version, &params);
  // RFC 8999 §5.1 invariants: 1-byte CID lengths (0..255 in any version; <= 20 in
  // the versions we know, judged from the length byte).
  const uint8_t dcid_len = r.ReadU8();
  if (known && r.ok() && dcid_len > kMaxQuicCidBytes) return Bad(QuicMalformed::kBadHeader);
  const absl::Span<const uint8_t> dcid = r.ReadBytes(dcid_len);
  const uint8_t scid_len = r.ReadU8();
  if (known && r.ok() && scid_len > kMaxQuicCidBytes) return Bad(QuicMalformed::kBadHeader);
  const absl::Span<const uint8_t> scid = r.ReadBytes(scid_len);
  if (r.ok()) {
    out->dcid = dcid;
    out->scid = scid;
  }
  if (!known) return Bad(QuicMalformed::kUnknownVersion);
  if (!r.ok()) return Bad(QuicMalformed::kBadLength);
  out->version_supported = true;
  out->type = TypeOf(first, params.v2);
  if (out->type == PacketType::kRetry) {  // no length field: runs to the end of the datagram
    out->packet_length = datagram.size();
    return Ok();
  }
  if (out->type == PacketType::kInitial) {
    const uint64_t token_len = r.ReadVarint();
    if (!r.ok() || token_len > r.remaining()) return Bad(QuicMalformed::kBadLength);
    out->token = r.ReadBytes(static_cast<size_t>(token_len));
  }
  const uint64_t length = r.ReadVarint();  // packet number + protected payload
  if (!r.ok() || length > r.remaining()) return Bad(QuicMalformed::kBadLength);
  out->length = length;
  out->pn_offset = r.offset();
  out->packet_length = r.offset() + static_cast<size_t>(length);
  return Ok();
}

bool LooksLikeQuicInitial(absl::Span<const uint8_t> datagram) {
  if (datagram.size() < kQuicMinInitialDatagram) return false;
  QuicLongHeader h;
  return ParseQuicLongHeader(datagram, &h).status == ParseStatus::kOk && h.type == PacketType::kInitial &&
         h.length >= kQuicMaxPnBytes + kQuicHpSampleBytes;
}

absl::Span<const uint8_t> QuicLongHeaderDcid(absl::Span<const uint8_t> datagram) {
  QuicLongHeader h;
  ParseQuicLongHeader(datagram, &h);
  if (h.dcid.size() > kMaxQuicCidBytes) return {};
  return h.dcid;
}

// ---- QuicInitialDecryptor ------------------------------------------------------

QuicInitialDecryptor::QuicInitialDecryptor() {
  EVP_CIPHER_CTX* gcm = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* ecb = EVP_CIPHER_CTX_new();
  const bool ok = gcm != nullptr && ecb != nullptr &&
                  EVP_DecryptInit_ex(gcm, EVP_aes_128_gcm(), nullptr, nullptr, nullptr) == 1 &&
                  EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
                  EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), nullptr, nullptr, nullptr) == 1 &&
                  EVP_CIPHER_CTX_set_padding(ecb, 0) == 1;
  if (!ok) {
    EVP_CIPHER_CTX_free(gcm);
    EVP_CIPHER_CTX_free(ecb);
    return;
  }
  gcm_ = new Ctx{gcm};
  ecb_ = new Ctx{ecb};
}

QuicInitialDecryptor::~QuicInitialDecryptor() {
  if (gcm_ != nullptr) EVP_CIPHER_CTX_free(gcm_->evp);
  if (ecb_ != nullptr) EVP_CIPHER_CTX_free(ecb_->evp);
  delete gcm_;
  delete ecb_;
}

bool QuicInitialDecryptor::HeaderProtectionMask(const uint8_t hp[16], const uint8_t sample[16],
                                                uint8_t mask[5]) {
  if (!ok()) return false;
  uint8_t block[kQuicHpSampleBytes];
  int len = 0;
  if (EVP_EncryptInit_ex(ecb_->evp, nullptr, nullptr, hp, nullptr) != 1 ||
      EVP_EncryptUpdate(ecb_->evp, block, &len, sample, kQuicHpSampleBytes) != 1 ||
      len != static_cast<int>(kQuicHpSampleBytes)) {
    return false;
  }
  std::memcpy(mask, block, 5);
  return true;
}

const QuicInitialSecrets& QuicInitialDecryptor::Secrets(uint32_t version, absl::Span<const uint8_t> dcid) {
  // (Callers pass header-checked DCIDs; a longer one could not decrypt anyway.)
  if (dcid.size() > kMaxQuicCidBytes) dcid = dcid.first(kMaxQuicCidBytes);
  for (const CachedSecrets& c : cache_) {
    if (c.version == version && c.dcid_len == dcid.size() && std::memcmp(c.dcid, dcid.data(), dcid.size()) == 0) {
      return c.secrets;
    }
  }
  CachedSecrets& c = cache_[cache_next_];
  cache_next_ = (cache_next_ + 1) % kSecretCacheEntries;
  c.version = version;
  c.dcid_len = static_cast<uint8_t>(dcid.size());
  std::memcpy(c.dcid, dcid.data(), dcid.size());
  DeriveQuicClientInitialSecrets(version, dcid, &c.secrets);
  return c.secrets;
}

bool QuicInitialDecryptor::Unprotect(uint32_t version, absl::Span<const uint8_t> key_dcid,
                                     absl::Span<const uint8_t> datagram, uint8_t first, size_t pn_offset,
                                     size_t packet_length, absl::Span<uint8_t> plaintext, size_t* header_len_out,
                                     size_t* cipher_len_out, QuicInitialInfo* out) {
  const QuicInitialSecrets& keys = Secrets(version, key_dcid);

  // Header protection (RFC 9001 §5.4.1): unmask into a copy of the header.
  uint8_t mask[5];
  if (!HeaderProtectionMask(keys.hp, datagram.data() + pn_offset + kQuicMaxPnBytes, mask)) {
    return false;
  }
  const uint8_t unmasked_first = first ^ (mask[0] & 0x0f);
  const size_t pn_len = (unmasked_first & 0x03) + 1;
  const size_t header_len = pn_offset + pn_len;
  *header_len_out = header_len;
  uint8_t* header = plaintext.data();
  std::memcpy(header, datagram.data(), header_len);
  header[0] = unmasked_first;
  uint64_t pn = 0;
  for (size_t i = 0; i < pn_len; ++i) {
    header[pn_offset + i] ^= mask[1 + i];
    pn = (pn << 8) | header[pn_offset + i];
  }
  out->packet_number = pn;

  // Payload (RFC 9001 §5.3): nonce = iv XOR packet number (left-padded).
  uint8_t nonce[12];
  std::memcpy(nonce, keys.iv, sizeof(nonce));
  for (size_t i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<uint8_t>(pn >> (8 * i));
  const size_t cipher_len = packet_length - header_len - kQuicAeadTagBytes;
  *cipher_len_out = cipher_len;
  const uint8_t* cipher = datagram.data() + header_len;
  uint8_t tag[kQuicAeadTagBytes];
  std::memcpy(tag, cipher + cipher_len, kQuicAeadTagBytes);
  uint8_t* clear = plaintext.data() + header_len;
  EVP_CIPHER_CTX* c = gcm_->evp;
  int len = 0;
  int final_len = 0;
  const bool decrypted =
      EVP_DecryptInit_ex(c, nullptr, nullptr, keys.key, nonce) == 1 &&
      EVP_DecryptUpdate(c, nullptr, &len, header, static_cast<int>(header_len)) == 1 &&
      EVP_DecryptUpdate(c, clear, &len, cipher, static_cast<int>(cipher_len)) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, kQuicAeadTagBytes, tag) == 1 &&
      EVP_DecryptFinal_ex(c, clear + len, &final_len) == 1;
  return decrypted;
}

QuicParseResult QuicInitialDecryptor::DecryptInitial(absl::Span<const uint8_t> datagram,
                                                     absl::Span<uint8_t> plaintext, QuicInitialInfo* out,
                                                     absl::Span<const uint8_t> key_dcid) {
  out->version = 0;
  out->dcid_len = 0;
  out->scid_len = 0;
  out->packet_number = 0;
  out->packet_length = 0;
  out->crypto_count = 0;
  out->crypto_frames_capped = false;

  out->quic_bit = false;
  if (datagram.empty()) return Bad(QuicMalformed::kBadLength);
  QuicLongHeader h;
  const QuicParseResult hr = ParseQuicLongHeader(datagram, &h);
  out->version = h.version;
  if (hr.status != ParseStatus::kOk) return hr;
  const uint8_t first = h.first_byte;
  const uint32_t version = h.version;
  const absl::Span<const uint8_t> dcid = h.dcid;
  out->quic_bit = h.quic_bit;
  out->dcid_len = static_cast<uint8_t>(dcid.size());
  std::memcpy(out->dcid, dcid.data(), dcid.size());
  out->scid_len = static_cast<uint8_t>(h.scid.size());
  out->packet_length = h.packet_length;
  if (h.type != PacketType::kInitial) return Bad(QuicMalformed::kNotInitial);
  out->packet_length = 0;
  const uint64_t length = h.length;
  const size_t pn_offset = h.pn_offset;
  const size_t packet_length = h.packet_length;
  // The sample must exist, and a packet number of up to 4 bytes leaves room for a tag.
  if (length < kQuicMaxPnBytes + kQuicHpSampleBytes) return Bad(QuicMalformed::kBadLength);
  if (plaintext.size() < packet_length) return Bad(QuicMalformed::kBadLength);
  if (!ok()) return Bad(QuicMalformed::kDecryptFailed);
  out->packet_length = packet_length;

  // Keys from the connection's original DCID when the caller knows it (RFC 9001
  // §5.2: later client Initials may carry the server-chosen DCID), else, or if that
  // fails, from this packet's DCID.
  size_t header_len = 0;
  size_t cipher_len = 0;
  bool decrypted = false;
  if (!key_dcid.empty() && key_dcid.size() <= kMaxQuicCidBytes) {
    decrypted = Unprotect(version, key_dcid, datagram, first, pn_offset, packet_length, plaintext,
                          &header_len, &cipher_len, out);
  }
  if (!decrypted && (key_dcid.empty() || !std::equal(key_dcid.begin(), key_dcid.end(), dcid.begin(), dcid.end()))) {
    decrypted = Unprotect(version, dcid, datagram, first, pn_offset, packet_length, plaintext, &header_len,
                          &cipher_len, out);
  }
  if (!decrypted) return Bad(QuicMalformed::kDecryptFailed);
  const uint8_t* clear = plaintext.data() + header_len;

  const QuicMalformed frames = ParseFrames(absl::Span<const uint8_t>(clear, cipher_len), version == kQuicVersionT051, out);
  if (frames != QuicMalformed::kNone) return Bad(frames);
  return Ok();
}

// ---- QuicCryptoAssembler -----------------------------------------------------------

QuicCryptoAssembler::QuicCryptoAssembler(absl::Span<uint8_t> buf)
    : buf_(buf.subspan(0, std::min(buf.size(), kMaxQuicCryptoBytes))) {}

void QuicCryptoAssembler::Reset() {
  count_ = 0;
  capped_ = false;
}

absl::Span<const uint8_t> QuicCryptoAssembler::contiguous() const {
  if (count_ == 0 || ranges_[0].begin != 0) return {};
  return absl::Span<const uint8_t>(buf_.data(), static_cast<size_t>(ranges_[0].end));
}

bool QuicCryptoAssembler::Add(uint64_t offset, absl::Span<const uint8_t> data) {
  if (data.empty()) return true;
  const uint64_t cap = buf_.size();
  bool complete = true;
  if (offset >= cap) {
    capped_ = true;
    return false;
  }
  uint64_t end = offset + data.size();
  if (end > cap) {
    end = cap;
    capped_ = true;
    complete = false;
  }

  // The merged range list, built aside so that an overflow changes nothing.
  Range merged[kMaxQuicCryptoRanges + 1];
  size_t n = 0;
  Range added{offset, end};
  size_t i = 0;
  for (; i < count_ && ranges_[i].end < added.begin; ++i) merged[n++] = ranges_[i];
  for (; i < count_ && ranges_[i].begin <= added.end; ++i) {  // overlapping or touching
    added.begin = std::min(added.begin, ranges_[i].begin);
    added.end = std::max(added.end, ranges_[i].end);
  }
  merged[n++] = added;
  for (; i < count_; ++i) merged[n++] = ranges_[i];
  if (n > kMaxQuicCryptoRanges) {
    capped_ = true;
    return false;
  }

  // Copy only into the gaps: bytes already received are kept (first wins).
  uint64_t pos = offset;
  for (size_t k = 0; k < count_ && pos < end; ++k) {
    const Range& have = ranges_[k];
    if (have.end <= pos) continue;
    if (have.begin >= end) break;
    if (have.begin > pos) {
      std::memcpy(buf_.data() + pos, data.data() + (pos - offset), static_cast<size_t>(have.begin - pos));
    }
    pos = std::max(pos, have.end);
  }
  if (pos < end) std::memcpy(buf_.data() + pos, data.data() + (pos - offset), static_cast<size_t>(end - pos));

  std::copy(merged, merged + n, ranges_);
  count_ = n;
  return complete;
}

}  // namespace vigie
