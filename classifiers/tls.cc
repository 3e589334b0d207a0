// TLS ClientHello parsing. See tls.h for the contract, limits and RFC sections.

#include "classifiers/tls.h"

#include <algorithm>

#include "classifiers/byte_reader.h"

namespace vigie {
namespace {

constexpr uint16_t kMinRecordVersion = 0x0300;  // SSL 3.0 record layer
constexpr uint16_t kMaxRecordVersion = 0x0304;  // TLS 1.3 (never sent on the wire, tolerated)
constexpr size_t kRandomBytes = 32;             // RFC 8446 §4.1.2
constexpr size_t kMaxSessionIdBytes = 32;       // RFC 8446 §4.1.2 legacy_session_id<0..32>

constexpr TlsParseResult Ok() { return {ParseStatus::kOk, TlsMalformed::kNone, 0}; }
constexpr TlsParseResult NeedMore(size_t need) { return {ParseStatus::kNeedMore, TlsMalformed::kNone, need}; }
constexpr TlsParseResult Bad(TlsMalformed e) { return {ParseStatus::kMalformed, e, 0}; }

constexpr bool IsRecordVersion(uint16_t v) { return v >= kMinRecordVersion && v <= kMaxRecordVersion; }

// server_name (RFC 6066 §3). Every entry is read as type + uint16-prefixed name,
// as deployed stacks do; the first host_name (type 0) is reported.
TlsMalformed ParseServerName(ByteReader ext, ClientHelloInfo* out) {
  ByteReader list = ext.ReadPrefixed16();
  if (!ext.ok() || !ext.empty() || list.empty()) return TlsMalformed::kBadSni;
  while (!list.empty()) {
    const uint8_t type = list.ReadU8();
    ByteReader name = list.ReadPrefixed16();
    if (!list.ok() || name.empty()) return TlsMalformed::kBadSni;
    if (type == 0 && !out->has_sni) {
      out->sni = ByteReader::AsChars(name.rest());
      out->has_sni = true;
    }
  }
  return TlsMalformed::kNone;
}

// application_layer_protocol_negotiation (RFC 7301 §3.1).
TlsMalformed ParseAlpn(ByteReader ext, ClientHelloInfo* out) {
  ByteReader list = ext.ReadPrefixed16();
  if (!ext.ok() || !ext.empty() || list.empty()) return TlsMalformed::kBadAlpn;
  const bool first_alpn_ext = out->alpn_count == 0;
  while (!list.empty()) {
    ByteReader proto = list.ReadPrefixed8();
    if (!list.ok() || proto.empty()) return TlsMalformed::kBadAlpn;
    if (!first_alpn_ext) continue;  // a duplicate extension is checked, not reported
    if (out->alpn_count == 0) out->alpn_first = ByteReader::AsChars(proto.rest());
    if (out->alpn_count < 255) ++out->alpn_count;
  }
  return TlsMalformed::kNone;
}

// supported_versions (RFC 8446 §4.2.1): ClientHello form, versions<2..254>.
TlsMalformed ParseSupportedVersions(ByteReader ext, ClientHelloInfo* out, uint16_t* best) {
  ByteReader list = ext.ReadPrefixed8();
  if (!ext.ok() || !ext.empty() || list.empty() || list.size() % 2 != 0) {
    return TlsMalformed::kBadExtensions;
  }
  while (!list.empty()) {
    const uint16_t v = list.ReadU16();
    if (IsTlsGrease(v)) {
      out->grease = true;
    } else if (v > *best) {
      *best = v;
    }
  }
  return TlsMalformed::kNone;
}

// supported_groups (RFC 8446 §4.2.7): named_group_list<2..2^16-1>.
TlsMalformed ParseSupportedGroups(ByteReader ext, ClientHelloInfo* out) {
  ByteReader list = ext.ReadPrefixed16();
  if (!ext.ok() || !ext.empty() || list.empty() || list.size() % 2 != 0) {
    return TlsMalformed::kBadExtensions;
  }
  while (!list.empty()) {
    if (IsTlsGrease(list.ReadU16())) out->grease = true;
  }
  return TlsMalformed::kNone;
}

// key_share (RFC 8446 §4.2.8): client_shares<0..2^16-1> of {group, key_exchange<1..2^16-1>}.
TlsMalformed ParseKeyShare(ByteReader ext, ClientHelloInfo* out) {
  ByteReader list = ext.ReadPrefixed16();
  if (!ext.ok() || !ext.empty()) return TlsMalformed::kBadExtensions;
  while (!list.empty()) {
    const uint16_t group = list.ReadU16();
    ByteReader key = list.ReadPrefixed16();
    if (!list.ok() || key.empty()) return TlsMalformed::kBadExtensions;
    if (IsTlsGrease(group)) out->grease = true;
    if (group == kTlsGroupX25519MlKem768 || group == kTlsGroupX25519Kyber768Draft00) {
      out->pq_key_share = true;
    }
  }
  return TlsMalformed::kNone;
}

// ClientHello body (RFC 8446 §4.1.2), `body` exactly the handshake length.
TlsParseResult ParseBody(absl::Span<const uint8_t> body, ClientHelloInfo* out) {
  ByteReader r(body);
  out->legacy_version = r.ReadU16();
  r.Skip(kRandomBytes);
  const ByteReader session_id = r.ReadPrefixed8();
  ByteReader ciphers = r.ReadPrefixed16();
  const ByteReader compression = r.ReadPrefixed8();
  if (!r.ok() || session_id.size() > kMaxSessionIdBytes || ciphers.empty() ||
      ciphers.size() % 2 != 0) {
    return Bad(TlsMalformed::kTruncatedBody);
  }
  // Leniency, where a lenient server would still see the name (evasion
  // resistance): faults outside server_name are recorded in `tolerated` and
  // the name is still reported; only a broken server_name, or a broken
  // extension list before any server_name, is fatal.
  auto tolerate = [out](TlsMalformed e) {
    if (out->tolerated == TlsMalformed::kNone) out->tolerated = e;
  };
  if (compression.empty()) tolerate(TlsMalformed::kTruncatedBody);  // must hold "null"
  while (!ciphers.empty()) {
    if (IsTlsGrease(ciphers.ReadU16())) out->grease = true;
  }
  out->max_version = out->legacy_version;
  if (r.empty()) return Ok();  // no extensions block (TLS 1.0-1.2 allow it)

  ByteReader exts = r.ReadPrefixed16();
  if (!r.ok()) return Bad(TlsMalformed::kBadExtensions);
  if (!r.empty()) tolerate(TlsMalformed::kBadExtensions);  // bytes after the extensions block
  uint16_t best_version = 0;
  bool seen_sni = false;
  while (!exts.empty()) {
    const uint16_t type = exts.ReadU16();
    const ByteReader ext = exts.ReadPrefixed16();
    if (!exts.ok()) {
      if (!seen_sni) return Bad(TlsMalformed::kBadExtensions);
      tolerate(TlsMalformed::kBadExtensions);
      break;
    }
    if (IsTlsGrease(type)) out->grease = true;
    TlsMalformed e = TlsMalformed::kNone;
    switch (type) {
      case kTlsExtServerName:
        if (!seen_sni) {
          e = ParseServerName(ext, out);  // the first server_name ext wins
          if (e != TlsMalformed::kNone) return Bad(e);
        }
        seen_sni = true;
        break;
      case kTlsExtAlpn:
        e = ParseAlpn(ext, out);
        if (e != TlsMalformed::kNone) out->alpn_first = {}, out->alpn_count = 0;
        break;
      case kTlsExtSupportedVersions:
        e = ParseSupportedVersions(ext, out, &best_version);
        break;
      case kTlsExtSupportedGroups:
        e = ParseSupportedGroups(ext, out);
        break;
      case kTlsExtKeyShare:
        e = ParseKeyShare(ext, out);
        break;
      case kTlsExtEch:
        out->ech = true;
        break;
      case kTlsExtEsni:
        out->esni = true;
        break;
      default:
        break;
    }
    if (e != TlsMalformed::kNone) tolerate(e);
  }
  if (best_version != 0) out->max_version = best_version;
  return Ok();
}

}  // namespace

const char* TlsMalformedName(TlsMalformed e) {
  switch (e) {
    case TlsMalformed::kNone:
      return "none";
    case TlsMalformed::kNotHandshake:
      return "not_handshake";
    case TlsMalformed::kNotClientHello:
      return "not_client_hello";
    case TlsMalformed::kBadRecordVersion:
      return "bad_record_version";
    case TlsMalformed::kTooLarge:
      return "too_large";
    case TlsMalformed::kTruncatedBody:
      return "truncated_body";
    case TlsMalformed::kBadExtensions:
      return "bad_extensions";
    case TlsMalformed::kBadSni:
      return "bad_sni";
    case TlsMalformed::kBadAlpn:
      return "bad_alpn";
    case TlsMalformed::kBadRecordLength:
      return "bad_record_length";
  }
  return "unknown";
}

TlsParseResult ParseClientHelloStream(absl::Span<const uint8_t> stream, absl::Span<uint8_t> scratch,
                                      ClientHelloInfo* out) {
  *out = ClientHelloInfo{};

  // Pass 1: walk the records without copying, learn the handshake length and
  // find the record where the ClientHello ends.
  uint8_t hs_header[kTlsHandshakeHeaderBytes] = {0, 0, 0, 0};
  size_t hs_header_have = 0;
  size_t body_len = 0;   // valid once hs_header_have == 4
  size_t body_have = 0;  // body bytes seen so far (the last record may be partial)
  uint16_t records = 0;
  ByteReader r(stream);
  for (;;) {
    const size_t record_start = r.offset();
    if (r.remaining() < kTlsRecordHeaderBytes) {
      // Judge what we can of a partial record header before asking for more.
      ByteReader peek = r;
      if (peek.remaining() >= 1 && peek.ReadU8() != kTlsContentHandshake) {
        return Bad(TlsMalformed::kNotHandshake);
      }
      if (peek.remaining() >= 2 && !IsRecordVersion(peek.ReadU16())) {
        return Bad(TlsMalformed::kBadRecordVersion);
      }
      return NeedMore(record_start + kTlsRecordHeaderBytes);
    }
    const uint8_t type = r.ReadU8();
    const uint16_t version = r.ReadU16();
    const uint16_t len = r.ReadU16();
    if (type != kTlsContentHandshake) return Bad(TlsMalformed::kNotHandshake);
    if (!IsRecordVersion(version)) return Bad(TlsMalformed::kBadRecordVersion);
    if (len == 0 || len > kTlsMaxRecordPayload) return Bad(TlsMalformed::kBadRecordLength);
    if (records == 0) out->record_version = version;
    ++records;  // <= 16388 records of >= 1 byte each before the loop ends: no overflow

    ByteReader payload = r.ReadSub(std::min<size_t>(len, r.remaining()));
    const bool record_whole = payload.size() == len;
    while (hs_header_have < kTlsHandshakeHeaderBytes && !payload.empty()) {
      hs_header[hs_header_have++] = payload.ReadU8();
    }
    if (hs_header_have >= 1 && hs_header[0] != kTlsHandshakeClientHello) {
      return Bad(TlsMalformed::kNotClientHello);
    }
    if (hs_header_have == kTlsHandshakeHeaderBytes) {
      body_len = (size_t{hs_header[1]} << 16) | (size_t{hs_header[2]} << 8) | hs_header[3];
      if (body_len > kMaxClientHelloBytes) return Bad(TlsMalformed::kTooLarge);
    }
    body_have += payload.remaining();
    if (!record_whole) return NeedMore(record_start + kTlsRecordHeaderBytes + len);
    if (hs_header_have == kTlsHandshakeHeaderBytes && body_have >= body_len) break;
  }
  out->records = records;
  out->stream_consumed = r.offset();

  if (records == 1) {  // common case: parse in place
    ByteReader one(stream);
    one.Skip(kTlsRecordHeaderBytes + kTlsHandshakeHeaderBytes);
    return ParseBody(one.ReadBytes(body_len), out);
  }

  // Pass 2: record-fragmented; concatenate the body fragments into scratch.
  if (body_len > scratch.size()) return Bad(TlsMalformed::kTooLarge);
  ByteReader w(stream);
  size_t header_left = kTlsHandshakeHeaderBytes;
  size_t copied = 0;
  for (uint16_t i = 0; i < records; ++i) {
    w.Skip(3);  // type + version, checked in pass 1
    ByteReader payload = w.ReadPrefixed16();
    const size_t h = std::min(header_left, payload.remaining());
    payload.Skip(h);
    header_left -= h;
    const absl::Span<const uint8_t> part =
        payload.ReadBytes(std::min(payload.remaining(), body_len - copied));
    std::copy(part.begin(), part.end(), scratch.begin() + static_cast<std::ptrdiff_t>(copied));
    copied += part.size();
  }
  return ParseBody(absl::Span<const uint8_t>(scratch.first(body_len)), out);
}

TlsParseResult ParseClientHelloHandshake(absl::Span<const uint8_t> handshake, ClientHelloInfo* out) {
  *out = ClientHelloInfo{};
  ByteReader r(handshake);
  if (r.empty()) return NeedMore(kTlsHandshakeHeaderBytes);
  if (r.ReadU8() != kTlsHandshakeClientHello) return Bad(TlsMalformed::kNotClientHello);
  const uint32_t len = r.ReadU24();
  if (!r.ok()) return NeedMore(kTlsHandshakeHeaderBytes);
  if (len > kMaxClientHelloBytes) return Bad(TlsMalformed::kTooLarge);
  if (r.remaining() < len) return NeedMore(kTlsHandshakeHeaderBytes + len);
  out->stream_consumed = kTlsHandshakeHeaderBytes + len;
  return ParseBody(r.ReadBytes(len), out);
}

}  // namespace vigie
