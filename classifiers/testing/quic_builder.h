// Vigie classifiers, test-only: an independent QUIC client-packet protector.
//
// Purpose: build long-header packets the way a QUIC client does (RFC 9001 §5),
// with OpenSSL's HKDF and AES directly, not with classifiers/quic.cc, so that the
// decryptor and the gateway pipeline can be tested against generated traffic of
// every supported version.
//
//   Initial secrets (RFC 9001 §5.2): HKDF-Extract(version salt, DCID), then
//     HKDF-Expand-Label "client in" -> "quic key"/"quic iv"/"quic hp" (QUIC v2,
//     RFC 9369 §3.3.2: "quicv2 key"/"quicv2 iv"/"quicv2 hp").
//   Payload: AES-128-GCM, nonce = iv XOR packet number, AAD = unprotected header.
//   Header protection: AES-128-ECB(hp, 16-byte sample at pn offset + 4).
//
// Header-only; the user links OpenSSL::Crypto (and vigie_classifiers_testing).
// Allocates freely; never use on the packet path. An OpenSSL failure aborts: it is
// an environment problem, not a test outcome.

#ifndef VIGIE_CLASSIFIERS_TESTING_QUIC_BUILDER_H_
#define VIGIE_CLASSIFIERS_TESTING_QUIC_BUILDER_H_

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/types/span.h"
#include "classifiers/testing/builders.h"

namespace vigie::testing {

// A QUIC version as the protector needs it.
struct TestVersion {
  const char* name;
  uint32_t version;
  const char* salt;    // hex, RFC 9001 §5.2 / RFC 9369 §3.3.1 / drafts
  bool v2;             // RFC 9369 labels and long-header type numbers
  bool gquic = false;  // Google T051: gQUIC frame types inside IETF-style packets
};

inline void PrintTo(const TestVersion& v, std::ostream* os) { *os << v.name; }

// Every version classifiers/quic.h supports (V1 first, T051 last).
inline constexpr TestVersion kQuicTestVersions[] = {
    {"V1", 0x00000001, "38762cf7f55934b34d179ae6a4c80cadccbb7f0a", false},
    {"V2", 0x6b3343cf, "0dede3def700a6db819381be6e269dcbf9bd2ed9", true},
    {"Draft29", 0xff00001d, "afbfec289993d24c9e9786f19c6111e04390a899", false},
    {"Draft32", 0xff000020, "afbfec289993d24c9e9786f19c6111e04390a899", false},
    {"Draft23", 0xff000017, "c3eef712c72ebb5a11a7d2432bb46365bef9f502", false},
    {"Draft28", 0xff00001c, "c3eef712c72ebb5a11a7d2432bb46365bef9f502", false},
    {"Mvfst22", 0xfaceb001, "7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a", false},
    {"Mvfst27", 0xfaceb002, "c3eef712c72ebb5a11a7d2432bb46365bef9f502", false},
    {"T051", 0x54303531, "7a4edef4e7ccee5fa4506c19124fc8ccda6e033d", false, true},
};

enum class LongType { kInitial, kZeroRtt, kHandshake, kRetry };

// The two type bits of the first byte (RFC 9000 §17.2, RFC 9369 §3.2).
inline uint8_t TypeBits(LongType t, bool v2) {
  static constexpr uint8_t kV1[] = {0, 1, 2, 3};
  static constexpr uint8_t kV2[] = {1, 2, 3, 0};  // RFC 9369 §3.2
  return (v2 ? kV2 : kV1)[static_cast<int>(t)];
}

// Variable-length integer (RFC 9000 §16), 1, 2 or 4 bytes (v < 2^30).
inline void PutVarint(Bytes* b, uint64_t v) {
  if (v < 64) {
    PutU8(b, static_cast<uint8_t>(v));
  } else if (v < 16384) {
    PutU16(b, static_cast<uint16_t>(0x4000 | v));
  } else {
    PutU32(b, static_cast<uint32_t>(0x80000000u | v));
  }
}

// CRYPTO frame (RFC 9000 §19.6): type 0x06 (gQUIC T051: 0x08), offset, length, data.
inline Bytes CryptoFrame(uint64_t offset, absl::Span<const uint8_t> data, bool gquic = false) {
  Bytes f;
  PutU8(&f, gquic ? 0x08 : 0x06);
  PutVarint(&f, offset);
  PutVarint(&f, data.size());
  PutBytes(&f, data);
  return f;
}

namespace quic_builder_internal {
inline void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "quic_builder.h: OpenSSL failed: %s\n", what);
    std::abort();
  }
}
}  // namespace quic_builder_internal

// HKDF-SHA256 with OpenSSL (mode EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY or _EXPAND_ONLY).
inline Bytes Hkdf(int mode, const Bytes& salt, const Bytes& key, const Bytes& info, size_t len) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  Bytes out(len);
  size_t out_len = len;
  const bool ok = ctx != nullptr && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_CTX_set_hkdf_mode(ctx, mode) == 1 &&
                  EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1 &&
                  (salt.empty() || EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt.data(), static_cast<int>(salt.size())) == 1) &&
                  EVP_PKEY_CTX_set1_hkdf_key(ctx, key.data(), static_cast<int>(key.size())) == 1 &&
                  (info.empty() || EVP_PKEY_CTX_add1_hkdf_info(ctx, info.data(), static_cast<int>(info.size())) == 1) &&
                  EVP_PKEY_derive(ctx, out.data(), &out_len) == 1;
  EVP_PKEY_CTX_free(ctx);
  quic_builder_internal::Check(ok, "HKDF");
  out.resize(out_len);
  return out;
}

// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
inline Bytes ExpandLabel(const Bytes& secret, std::string_view label, size_t len) {
  Bytes info;
  PutU16(&info, static_cast<uint16_t>(len));
  Bytes full;
  PutString(&full, "tls13 ");
  PutString(&full, label);
  PutPrefixed(&info, 1, full);
  PutU8(&info, 0);  // empty context
  return Hkdf(EVP_PKEY_HKDEF_MODE_EXPAND_ONLY, {}, secret, info, len);
}

struct TestKeys {
  Bytes key, iv, hp;
};

// The client Initial keys of a connection whose first DCID is `dcid` (non-empty:
// OpenSSL's HKDF refuses an empty key).
inline TestKeys ClientKeys(const TestVersion& v, const Bytes& dcid) {
  const Bytes initial = Hkdf(EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY, FromHex(v.salt), dcid, {}, 32);
  const Bytes client = ExpandLabel(initial, "client in", 32);
  const std::string p = v.v2 ? "quicv2 " : "quic ";
  return {ExpandLabel(client, p + "key", 16), ExpandLabel(client, p + "iv", 12), ExpandLabel(client, p + "hp", 16)};
}

struct PacketSpec {
  LongType type = LongType::kInitial;
  Bytes dcid = FromHex("0a0b0c0d0e0f1011");
  Bytes scid = FromHex("c1c2c3c4");
  Bytes token;
  uint64_t pn = 0;
  size_t pn_len = 2;
  Bytes frames;
  // Pad the payload with PADDING so the packet is at least this long: 1200 by
  // default, the smallest client Initial datagram a server reads (RFC 9000 §14.1).
  size_t pad_to = 1200;
  Bytes key_dcid;     // keys from this DCID instead of `dcid` (a client's later Initials)
  bool quic_bit = true;  // false: the fixed bit 0x40 cleared (RFC 9287 grease_quic_bit)
};

// Builds and protects one long-header packet like a client would (RFC 9001 §5).
// 0-RTT and Handshake packets are protected with the Initial keys too: to an
// observer their payload is as opaque as the real thing. The payload (frames +
// padding) must stay under 16 KiB (2-byte length field).
inline Bytes Protect(const TestVersion& v, const PacketSpec& s) {
  using quic_builder_internal::Check;
  const TestKeys k = ClientKeys(v, s.key_dcid.empty() ? s.dcid : s.key_dcid);
  Bytes h;
  PutU8(&h, static_cast<uint8_t>((s.quic_bit ? 0xc0 : 0x80) | (TypeBits(s.type, v.v2) << 4) |
                                 (s.pn_len - 1)));  // form, fixed bit, type, pn len
  PutU32(&h, v.version);                                                                  // version
  PutPrefixed(&h, 1, s.dcid);                                                             // DCID
  PutPrefixed(&h, 1, s.scid);                                                             // SCID
  if (s.type == LongType::kInitial) {
    PutVarint(&h, s.token.size());  // token length + token
    PutBytes(&h, s.token);
  }
  Bytes payload = s.frames;
  const size_t fixed = h.size() + 2 + s.pn_len + 16;
  if (s.pad_to > fixed + payload.size()) payload.resize(s.pad_to - fixed, 0);
  if (s.pn_len + payload.size() < 4) payload.resize(4 - s.pn_len, 0);  // room for the sample
  PutU16(&h, static_cast<uint16_t>(0x4000 | (s.pn_len + payload.size() + 16)));  // length (2-byte varint)
  const size_t pn_offset = h.size();
  for (size_t i = s.pn_len; i > 0; --i) PutU8(&h, static_cast<uint8_t>(s.pn >> (8 * (i - 1))));  // packet number

  Bytes nonce = k.iv;
  for (size_t i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<uint8_t>(s.pn >> (8 * i));
  Bytes sealed(payload.size() + 16);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int len = 0;
  Check(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, k.key.data(), nonce.data()) == 1, "GCM init");
  Check(EVP_EncryptUpdate(c, nullptr, &len, h.data(), static_cast<int>(h.size())) == 1, "GCM AAD");
  Check(EVP_EncryptUpdate(c, sealed.data(), &len, payload.data(), static_cast<int>(payload.size())) == 1, "GCM");
  Check(EVP_EncryptFinal_ex(c, sealed.data() + len, &len) == 1, "GCM final");
  Check(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, sealed.data() + payload.size()) == 1, "GCM tag");
  EVP_CIPHER_CTX_free(c);

  Bytes packet = h;
  PutBytes(&packet, sealed);
  uint8_t mask[16];
  c = EVP_CIPHER_CTX_new();
  Check(EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), nullptr, k.hp.data(), nullptr) == 1, "ECB init");
  EVP_CIPHER_CTX_set_padding(c, 0);
  Check(EVP_EncryptUpdate(c, mask, &len, packet.data() + pn_offset + 4, 16) == 1, "ECB");
  EVP_CIPHER_CTX_free(c);
  packet[0] ^= mask[0] & 0x0f;
  for (size_t i = 0; i < s.pn_len; ++i) packet[pn_offset + i] ^= mask[1 + i];
  return packet;
}

inline Bytes Concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  PutBytes(&out, b);
  return out;
}

}  // namespace vigie::testing

#endif  // VIGIE_CLASSIFIERS_TESTING_QUIC_BUILDER_H_
