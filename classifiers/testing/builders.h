// Vigie classifiers, test-only: builders for TLS ClientHellos and DNS queries.
//
// Purpose: readable test vectors (STYLE.md 11) that every test in the project can
// reuse: unit tests here, end-to-end tests in tests/, benchmarks. Each builder
// comments the wire fields it writes. Header-only (link the INTERFACE target
// vigie_classifiers_testing); allocates freely; never use on the packet path.
//
// Nothing here validates its input: tests rely on being able to build broken
// messages (a 64-byte label, a record of the wrong version, ...).

#ifndef VIGIE_CLASSIFIERS_TESTING_BUILDERS_H_
#define VIGIE_CLASSIFIERS_TESTING_BUILDERS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/types/span.h"

namespace vigie::testing {

using Bytes = std::vector<uint8_t>;

// ---- Appending big-endian fields -------------------------------------------

inline void PutU8(Bytes* b, uint8_t v) { b->push_back(v); }
inline void PutU16(Bytes* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}
inline void PutU24(Bytes* b, uint32_t v) {
  b->push_back(static_cast<uint8_t>(v >> 16));
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}
inline void PutU32(Bytes* b, uint32_t v) {
  PutU16(b, static_cast<uint16_t>(v >> 16));
  PutU16(b, static_cast<uint16_t>(v));
}
// Grow (geometrically) before inserting: when insert itself reallocates, GCC 12
// at -O2/-O3 inlines its reallocating path and reports a false -Warray-bounds
// ("offset 2 is out of the bounds [0, 2]", e.g. in AlpnExtData; resize+memcpy
// gets a false -Wstringop-overflow instead). Issue 14.
inline void PutBytes(Bytes* b, absl::Span<const uint8_t> v) {
  const size_t need = b->size() + v.size();
  if (need > b->capacity()) b->reserve(std::max(need, 2 * b->capacity()));
  b->insert(b->end(), v.begin(), v.end());
}
inline void PutString(Bytes* b, std::string_view s) {
  PutBytes(b, absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}
inline void PutFill(Bytes* b, size_t n, uint8_t v) {
  // (push_back, not insert(end, n, v): GCC 12 -O3 warns -Warray-bounds in
  // vector's fill-insert here, a false positive.)
  b->reserve(b->size() + n);
  for (size_t i = 0; i < n; ++i) b->push_back(v);
}

// `body` preceded by its length in `width` (1, 2 or 3) bytes.
inline void PutPrefixed(Bytes* b, int width, const Bytes& body) {
  if (width == 1) PutU8(b, static_cast<uint8_t>(body.size()));
  if (width == 2) PutU16(b, static_cast<uint16_t>(body.size()));
  if (width == 3) PutU24(b, static_cast<uint32_t>(body.size()));
  PutBytes(b, body);
}

// Hex text to bytes. Whitespace is ignored and '#' starts a comment running to
// the end of the line, so real captures can be pasted with annotations.
inline Bytes FromHex(std::string_view text) {
  Bytes out;
  int hi = -1;
  bool comment = false;
  for (const char c : text) {
    if (comment) {
      comment = c != '\n';
      continue;
    }
    if (c == '#') {
      comment = true;
      continue;
    }
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;  // whitespace, ':' and other separators
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

// ---- TLS ---------------------------------------------------------------------

inline constexpr size_t kX25519KeyBytes = 32;
inline constexpr size_t kX25519MlKem768KeyBytes = 1216;  // ML-KEM-768 encapsulation key 1184 + X25519 32

struct ClientHelloSpec {
  std::optional<std::string> sni = "example.com";  // nullopt: no server_name extension
  std::vector<std::string> alpn;                   // empty: no ALPN extension
  bool grease = false;        // Chrome-style GREASE: a cipher, two extensions, a version, a group + share
  bool ech = false;           // encrypted_client_hello 0xfe0d (outer form, dummy payload)
  bool esni = false;          // legacy encrypted_server_name 0xffce (dummy payload)
  bool pq_key_share = false;  // X25519MLKEM768 share (1216 bytes) before the X25519 share
  uint16_t legacy_version = 0x0303;                             // TLS 1.2, as TLS 1.3 clients send
  std::vector<uint16_t> supported_versions = {0x0304, 0x0303};  // empty: no extension
  size_t session_id_len = 32;  // 0..32 (more builds a malformed hello)
  size_t padding = 0;          // > 0: padding extension (21) of this many zero bytes
  bool no_extensions = false;  // omit the extensions block entirely (TLS 1.0-1.2 style)
  std::vector<std::pair<uint16_t, Bytes>> extra_extensions;  // appended verbatim, before padding
};

// One extension: type(2) + length(2) + data.
inline void PutExtension(Bytes* b, uint16_t type, const Bytes& data) {
  PutU16(b, type);
  PutPrefixed(b, 2, data);
}

// server_name extension data (RFC 6066 §3) with one host_name entry.
inline Bytes ServerNameExtData(std::string_view host) {
  Bytes entry;
  PutU8(&entry, 0);  // name_type = host_name
  Bytes name;
  PutString(&name, host);
  PutPrefixed(&entry, 2, name);  // HostName<1..2^16-1>
  Bytes data;
  PutPrefixed(&data, 2, entry);  // ServerNameList<1..2^16-1>
  return data;
}

// ALPN extension data (RFC 7301 §3.1).
inline Bytes AlpnExtData(const std::vector<std::string>& protos) {
  Bytes list;
  for (const std::string& p : protos) {
    Bytes name;
    PutString(&name, p);
    PutPrefixed(&list, 1, name);  // ProtocolName<1..2^8-1>
  }
  Bytes data;
  PutPrefixed(&data, 2, list);  // ProtocolNameList<2..2^16-1>
  return data;
}

// ClientHello body (RFC 8446 §4.1.2), without the handshake header.
inline Bytes BuildClientHelloBody(const ClientHelloSpec& s) {
  Bytes b;
  PutU16(&b, s.legacy_version);  // legacy_version
  for (int i = 0; i < 32; ++i) PutU8(&b, static_cast<uint8_t>(0x10 + i));  // random[32]
  Bytes sid(s.session_id_len, 0xab);
  PutPrefixed(&b, 1, sid);  // legacy_session_id<0..32>

  Bytes ciphers;
  if (s.grease) PutU16(&ciphers, 0x3a3a);  // GREASE cipher first, as Chrome does
  for (uint16_t c : {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8}) {
    PutU16(&ciphers, c);  // TLS_AES_128_GCM_SHA256, ..., ECDHE_*_CHACHA20_POLY1305
  }
  PutPrefixed(&b, 2, ciphers);  // cipher_suites<2..2^16-2>
  PutPrefixed(&b, 1, Bytes{0});  // legacy_compression_methods = {null}
  if (s.no_extensions) return b;

  Bytes ext;
  if (s.grease) PutExtension(&ext, 0x0a0a, {});              // GREASE extension, empty
  if (s.sni) PutExtension(&ext, 0, ServerNameExtData(*s.sni));  // server_name
  PutExtension(&ext, 23, {});                                 // extended_master_secret
  PutExtension(&ext, 0xff01, Bytes{0});                       // renegotiation_info, empty
  {
    Bytes groups;
    if (s.grease) PutU16(&groups, 0x4a4a);       // GREASE group
    if (s.pq_key_share) PutU16(&groups, 0x11ec);  // X25519MLKEM768
    for (uint16_t g : {0x001d, 0x0017, 0x0018}) PutU16(&groups, g);  // x25519, secp256r1, secp384r1
    Bytes data;
    PutPrefixed(&data, 2, groups);
    PutExtension(&ext, 10, data);  // supported_groups
  }
  PutExtension(&ext, 11, Bytes{1, 0});  // ec_point_formats = {uncompressed}
  PutExtension(&ext, 35, {});           // session_ticket, empty
  if (!s.alpn.empty()) PutExtension(&ext, 16, AlpnExtData(s.alpn));  // ALPN
  PutExtension(&ext, 5, Bytes{1, 0, 0, 0, 0});  // status_request: ocsp, no ids, no exts
  {
    Bytes algs;
    for (uint16_t a : {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}) PutU16(&algs, a);
    Bytes data;
    PutPrefixed(&data, 2, algs);
    PutExtension(&ext, 13, data);  // signature_algorithms
  }
  {
    Bytes shares;
    if (s.grease) {
      PutU16(&shares, 0x4a4a);  // GREASE share: group + 1-byte key, as Chrome does
      PutPrefixed(&shares, 2, Bytes{0});
    }
    if (s.pq_key_share) {
      PutU16(&shares, 0x11ec);  // X25519MLKEM768
      PutPrefixed(&shares, 2, Bytes(kX25519MlKem768KeyBytes, 0x5c));
    }
    PutU16(&shares, 0x001d);  // x25519
    PutPrefixed(&shares, 2, Bytes(kX25519KeyBytes, 0x77));
    Bytes data;
    PutPrefixed(&data, 2, shares);  // client_shares<0..2^16-1>
    PutExtension(&ext, 51, data);   // key_share
  }
  PutExtension(&ext, 45, Bytes{1, 1});  // psk_key_exchange_modes = {psk_dhe_ke}
  if (!s.supported_versions.empty() || s.grease) {
    Bytes versions;
    if (s.grease) PutU16(&versions, 0x6a6a);  // GREASE version
    for (uint16_t v : s.supported_versions) PutU16(&versions, v);
    Bytes data;
    PutPrefixed(&data, 1, versions);
    PutExtension(&ext, 43, data);  // supported_versions
  }
  if (s.ech) {
    Bytes e;
    PutU8(&e, 0);          // ECHClientHelloType outer
    PutU16(&e, 0x0001);    // HPKE KDF HKDF-SHA256
    PutU16(&e, 0x0001);    // HPKE AEAD AES-128-GCM
    PutU8(&e, 0x42);       // config_id
    PutPrefixed(&e, 2, Bytes(32, 0xee));   // enc
    PutPrefixed(&e, 2, Bytes(144, 0xcc));  // payload (encrypted inner hello)
    PutExtension(&ext, 0xfe0d, e);
  }
  if (s.esni) PutExtension(&ext, 0xffce, Bytes(80, 0xdd));
  for (const auto& [type, data] : s.extra_extensions) PutExtension(&ext, type, data);
  if (s.grease) PutExtension(&ext, 0x1a1a, Bytes{0});  // second GREASE extension, 1 byte
  if (s.padding > 0) PutExtension(&ext, 21, Bytes(s.padding, 0));
  PutPrefixed(&b, 2, ext);  // extensions<8..2^16-1>
  return b;
}

// Handshake message: msg_type(1) = client_hello + length(3) + body.
inline Bytes WrapHandshake(const Bytes& body, uint8_t msg_type = 1) {
  Bytes h;
  PutU8(&h, msg_type);
  PutPrefixed(&h, 3, body);
  return h;
}

inline Bytes BuildClientHelloHandshake(const ClientHelloSpec& s) {
  return WrapHandshake(BuildClientHelloBody(s));
}

// TLS records: type(1) = 22 handshake, version(2), length(2), fragment. The
// handshake is cut into `n` fragments of near-equal size (n clamped to
// [1, handshake.size()]).
inline Bytes SplitIntoRecords(absl::Span<const uint8_t> handshake, size_t n,
                              uint16_t record_version = 0x0301) {
  n = std::clamp<size_t>(n, 1, std::max<size_t>(handshake.size(), 1));
  Bytes out;
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t end = handshake.size() * (i + 1) / n;
    PutU8(&out, 22);  // ContentType handshake
    PutU16(&out, record_version);
    PutU16(&out, static_cast<uint16_t>(end - pos));
    PutBytes(&out, handshake.subspan(pos, end - pos));
    pos = end;
  }
  return out;
}

// Records of at most `fragment` payload bytes each.
inline Bytes SplitIntoRecordsOfSize(absl::Span<const uint8_t> handshake, size_t fragment,
                                    uint16_t record_version = 0x0301) {
  Bytes out;
  for (size_t pos = 0; pos < handshake.size(); pos += fragment) {
    const size_t len = std::min(fragment, handshake.size() - pos);
    PutU8(&out, 22);
    PutU16(&out, record_version);
    PutU16(&out, static_cast<uint16_t>(len));
    PutBytes(&out, handshake.subspan(pos, len));
  }
  return out;
}

// A whole ClientHello as the first bytes of a TCP stream: one record when it fits
// in 2^14 bytes, else the fewest records of at most 2^14.
inline Bytes BuildClientHello(const ClientHelloSpec& s, uint16_t record_version = 0x0301) {
  return SplitIntoRecordsOfSize(BuildClientHelloHandshake(s), 16384, record_version);
}

// ---- DNS ---------------------------------------------------------------------

// Uncompressed wire name: each '.'-separated label as length byte + bytes, then
// the root byte. "" and "." are the root. No checks: a 64-byte label gets the
// length byte 0x40, a 300-byte label gets 300 & 0xff.
inline Bytes EncodeDnsName(std::string_view name) {
  Bytes out;
  if (name == ".") name = "";
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    PutU8(&out, static_cast<uint8_t>(label.size()));
    PutString(&out, label);
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  PutU8(&out, 0);  // root
  return out;
}

struct DnsHeaderSpec {
  uint16_t id = 0x1234;
  bool qr = false;     // query
  uint8_t opcode = 0;  // QUERY
  bool rd = true;      // recursion desired
  uint8_t rcode = 0;
  uint16_t qdcount = 1, ancount = 0, nscount = 0, arcount = 0;
};

// RFC 1035 §4.1.1 header (12 bytes).
inline void PutDnsHeader(Bytes* b, const DnsHeaderSpec& h) {
  PutU16(b, h.id);
  const uint16_t flags = static_cast<uint16_t>((h.qr ? 0x8000 : 0) | ((h.opcode & 0x0f) << 11) |
                                               (h.rd ? 0x0100 : 0) | (h.rcode & 0x0f));
  PutU16(b, flags);  // QR opcode AA TC RD RA Z RCODE
  PutU16(b, h.qdcount);
  PutU16(b, h.ancount);
  PutU16(b, h.nscount);
  PutU16(b, h.arcount);
}

// Question: QNAME (wire bytes, possibly compressed) + QTYPE + QCLASS.
inline void PutDnsQuestion(Bytes* b, const Bytes& wire_name, uint16_t qtype, uint16_t qclass = 1) {
  PutBytes(b, wire_name);
  PutU16(b, qtype);
  PutU16(b, qclass);
}

// EDNS(0) OPT pseudo-RR (RFC 6891 §6.1.2): root owner, TYPE 41, CLASS = UDP size,
// TTL = ext-rcode/version/flags, RDLEN = 0.
inline void PutDnsOpt(Bytes* b, uint16_t udp_size = 1232) {
  PutU8(b, 0);
  PutU16(b, 41);
  PutU16(b, udp_size);
  PutU32(b, 0);
  PutU16(b, 0);
}

// A standard query (QR=0, opcode QUERY, RD=1) for one name, optionally with an
// EDNS(0) OPT record in the additional section.
inline Bytes BuildDnsQuery(std::string_view name, uint16_t qtype, bool edns = false,
                           uint16_t id = 0x1234) {
  Bytes b;
  DnsHeaderSpec h;
  h.id = id;
  h.arcount = edns ? 1 : 0;
  PutDnsHeader(&b, h);
  PutDnsQuestion(&b, EncodeDnsName(name), qtype);
  if (edns) PutDnsOpt(&b);
  return b;
}

// The 2-byte length prefix of DNS over TCP (RFC 1035 §4.2.2) before `msg`.
inline Bytes DnsTcpFramed(const Bytes& msg) {
  Bytes b;
  PutPrefixed(&b, 2, msg);
  return b;
}

}  // namespace vigie::testing

#endif  // VIGIE_CLASSIFIERS_TESTING_BUILDERS_H_
