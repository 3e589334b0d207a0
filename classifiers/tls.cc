// TLS ClientHello parsing. See tls.h for the contract, limits and RFC sections.

#include "classifiers/tls.h"

#include <algorithm>

#include "classifiers/byte_reader.h"

namespace vigie {
namespace {

constexpr uint8_t kRecordVersionMajor = 0x03;  // SSL 3.0 .. TLS 1.3 record layers: servers check only this byte
constexpr uint8_t kAlertLevelWarning = 1;      // RFC 5246 §7.2
constexpr uint8_t kAlertCloseNotify = 0;       // RFC 8446 §6.1
constexpr size_t kAlertRecordBytes = 2;        // level + description (OpenSSL, BoringSSL: exactly 2)
constexpr uint8_t kChangeCipherSpecValue = 1;  // RFC 5246 §7.1
constexpr size_t kRandomBytes = 32;             // RFC 8446 §4.1.2
constexpr size_t kMaxSessionIdBytes = 32;       // RFC 8446 §4.1.2 legacy_session_id<0..32>

constexpr TlsParseResult Ok() { return {ParseStatus::kOk, TlsMalformed::kNone, 0}; }
constexpr TlsParseResult NeedMore(size_t need) { return {ParseStatus::kNeedMore, TlsMalformed::kNone, need}; }
constexpr TlsParseResult Bad(TlsMalformed e) { return {ParseStatus::kMalformed, e, 0}; }

constexpr bool IsSkippableType(uint8_t t) { return t == kTlsContentAlert || t == kTlsContentChangeCipherSpec; }

// server_name (RFC 6066 §3). Every entry is read as type + uint16-prefixed name,
// as deployed stacks do; every host_name (type 0) is reported.
TlsMalformed ParseServerName(ByteReader ext, ClientHelloInfo* out) {
  ByteReader list = ext.ReadPrefixed16();
  if (!ext.ok() || !ext.empty() || list.empty()) return TlsMalformed::kBadSni;
  while (!list.empty()) {
    const uint8_t type = list.ReadU8();
    ByteReader name = list.ReadPrefixed16();
    if (!list.ok() || name.empty()) return TlsMalformed::kBadSni;
    if (type != 0) continue;
    const std::string_view host = ByteReader::AsChars(name.rest());
    if (out->has_sni) {
      out->sni_ambiguous = true;
    } else {
      out->sni = host;
      out->has_sni = true;
    }
    if (out->sni_count < kMaxTlsSniNames) {
      out->sni_names[out->sni_count++] = host;
    } else {
      out->sni_capped = true;
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
  bool seen_sni = false;  // a server_name extension was read
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
        // Servers refuse a duplicate extension, but which copy a lenient one
        // would read is unknown: every name of every copy is reported.
        if (seen_sni) out->sni_ambiguous = true;
        e = ParseServerName(ext, out);
        if (e != TlsMalformed::kNone && !seen_sni) return Bad(e);  // a broken later copy is tolerated
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
    case TlsMalformed::kAlert:
      return "alert";
    case TlsMalformed::kTooManySkipped:
      return "too_many_skipped";
  }
  return "unknown";
}

namespace {

TlsAssembleResult AsmOk(size_t consumed) { return {ParseStatus::kOk, TlsMalformed::kNone, consumed, 0, 0}; }
TlsAssembleResult AsmNeedMore(size_t consumed, size_t need) {
  return {ParseStatus::kNeedMore, TlsMalformed::kNone, consumed, need, 0};
}
TlsAssembleResult AsmBad(TlsMalformed e, size_t consumed) { return {ParseStatus::kMalformed, e, consumed, 0, 0}; }

uint32_t HeaderLength(const uint8_t h[kTlsHandshakeHeaderBytes]) {
  return (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
}

// The handshake header as it stands after `payload` (the start of a handshake
// record, whole or not) is added to what `st` has; judges msg_type and length as
// soon as their bytes exist. `record_len` is the record's declared length: a hello
// whose first record holds it whole is parsed in place and needs no scratch.
TlsMalformed JudgeHandshakeHeader(const TlsHelloAssembler& st, absl::Span<const uint8_t> payload, size_t record_len,
                                  size_t scratch_size) {
  uint8_t h[kTlsHandshakeHeaderBytes] = {st.header[0], st.header[1], st.header[2], st.header[3]};
  size_t have = st.header_have;
  ByteReader p(payload);
  while (have < kTlsHandshakeHeaderBytes && !p.empty()) h[have++] = p.ReadU8();
  if (have >= 1 && h[0] != kTlsHandshakeClientHello) return TlsMalformed::kNotClientHello;
  if (have < kTlsHandshakeHeaderBytes) return TlsMalformed::kNone;
  const uint32_t len = HeaderLength(h);
  if (len > kMaxClientHelloBytes) return TlsMalformed::kTooLarge;
  const bool in_place = st.header_have == 0 && record_len >= kTlsHandshakeHeaderBytes + size_t{len};
  if (!in_place && len > scratch_size) return TlsMalformed::kTooLarge;
  return TlsMalformed::kNone;
}

void FillRecordFacts(const TlsHelloAssembler& st, size_t consumed, ClientHelloInfo* out) {
  out->records = st.records;
  out->record_version = st.record_version;
  out->skipped_records = st.skipped;
  out->stream_consumed = consumed;
}

}  // namespace

TlsAssembleResult AssembleClientHello(TlsHelloAssembler* st, absl::Span<const uint8_t> stream,
                                      absl::Span<uint8_t> scratch, ClientHelloInfo* out) {
  *out = ClientHelloInfo{};
  ByteReader r(stream);
  size_t scanned = 0;  // see TlsAssembleResult::scanned
  auto done = [&scanned](TlsAssembleResult res) {
    res.scanned = scanned;
    return res;
  };
  for (;;) {
    const size_t start = r.offset();
    if (r.remaining() < kTlsRecordHeaderBytes) {
      // Judge what we can of a partial record header before asking for more.
      scanned += r.remaining();
      ByteReader peek = r;
      if (peek.remaining() >= 1) {
        const uint8_t type = peek.ReadU8();
        if (type != kTlsContentHandshake && !IsSkippableType(type)) {
          return done(AsmBad(TlsMalformed::kNotHandshake, start));
        }
      }
      if (peek.remaining() >= 1 && peek.ReadU8() != kRecordVersionMajor) {
        return done(AsmBad(TlsMalformed::kBadRecordVersion, start));
      }
      return done(AsmNeedMore(start, start + kTlsRecordHeaderBytes));
    }
    const uint8_t type = r.ReadU8();
    const uint16_t version = r.ReadU16();
    const uint16_t len = r.ReadU16();
    scanned += kTlsRecordHeaderBytes;
    if (type != kTlsContentHandshake && !IsSkippableType(type)) {
      return done(AsmBad(TlsMalformed::kNotHandshake, start));
    }
    if ((version >> 8) != kRecordVersionMajor) return done(AsmBad(TlsMalformed::kBadRecordVersion, start));
    if (len > kTlsMaxRecordLength) return done(AsmBad(TlsMalformed::kBadRecordLength, start));
    if (type == kTlsContentAlert && len != 0 && len != kAlertRecordBytes) {
      return done(AsmBad(TlsMalformed::kAlert, start));
    }
    if (type == kTlsContentChangeCipherSpec && len > 1) return done(AsmBad(TlsMalformed::kNotHandshake, start));

    if (r.remaining() < len) {  // a partial record: judge its first bytes, then wait
      const absl::Span<const uint8_t> part = r.rest();
      const size_t judged = type == kTlsContentHandshake ? kTlsHandshakeHeaderBytes - st->header_have : 1;
      scanned += std::min(part.size(), judged);
      if (type == kTlsContentHandshake) {
        const TlsMalformed e = JudgeHandshakeHeader(*st, part, len, scratch.size());
        if (e != TlsMalformed::kNone) return done(AsmBad(e, start));
      } else if (type == kTlsContentAlert && !part.empty() && part[0] != kAlertLevelWarning) {
        return done(AsmBad(TlsMalformed::kAlert, start));
      }
      return done(AsmNeedMore(start, start + kTlsRecordHeaderBytes + len));
    }
    const absl::Span<const uint8_t> payload = r.ReadBytes(len);
    scanned += len;

    if (len == 0 || IsSkippableType(type)) {
      if (type == kTlsContentAlert && len != 0) {
        if (payload[0] != kAlertLevelWarning || payload[1] == kAlertCloseNotify) {
          return done(AsmBad(TlsMalformed::kAlert, start));
        }
        if (++st->warning_alerts > kTlsMaxWarningAlerts) {
          return done(AsmBad(TlsMalformed::kTooManySkipped, start));
        }
        ++st->skipped;
        continue;
      }
      if (type == kTlsContentChangeCipherSpec && len != 0 && payload[0] != kChangeCipherSpecValue) {
        return done(AsmBad(TlsMalformed::kNotHandshake, start));
      }
      // Empty records and CCS: at most kTlsMaxSkippedRecords of them.
      if (size_t{++st->skipped} - st->warning_alerts > kTlsMaxSkippedRecords) {
        return done(AsmBad(TlsMalformed::kTooManySkipped, start));
      }
      continue;
    }

    // A handshake record with payload.
    const TlsMalformed e = JudgeHandshakeHeader(*st, payload, len, scratch.size());
    if (e != TlsMalformed::kNone) return done(AsmBad(e, start));
    if (st->records == 0) st->record_version = version;
    ++st->records;  // <= kMaxClientHelloBytes + 4 records of >= 1 byte each: no overflow
    if (st->header_have == 0) {
      ByteReader p(payload);
      p.Skip(1);
      const uint32_t body_len = p.ReadU24();
      if (p.ok() && p.remaining() >= body_len) {  // common case: the whole hello in one record, in place
        FillRecordFacts(*st, r.offset(), out);
        scanned += body_len;
        const TlsParseResult b = ParseBody(p.ReadBytes(body_len), out);
        return done(b.status == ParseStatus::kOk ? AsmOk(r.offset()) : AsmBad(b.error, r.offset()));
      }
    }
    ByteReader p(payload);
    while (st->header_have < kTlsHandshakeHeaderBytes && !p.empty()) st->header[st->header_have++] = p.ReadU8();
    if (st->header_have < kTlsHandshakeHeaderBytes) continue;
    st->body_len = HeaderLength(st->header);  // <= scratch.size(), judged above
    const absl::Span<const uint8_t> part = p.ReadBytes(std::min<size_t>(p.remaining(), st->body_len - st->body_have));
    std::copy(part.begin(), part.end(), scratch.begin() + static_cast<std::ptrdiff_t>(st->body_have));
    st->body_have += static_cast<uint32_t>(part.size());
    if (st->body_have < st->body_len) continue;
    FillRecordFacts(*st, r.offset(), out);
    scanned += st->body_len;
    const TlsParseResult b = ParseBody(absl::Span<const uint8_t>(scratch.first(st->body_len)), out);
    return done(b.status == ParseStatus::kOk ? AsmOk(r.offset()) : AsmBad(b.error, r.offset()));
  }
}

TlsParseResult ParseClientHelloStream(absl::Span<const uint8_t> stream, absl::Span<uint8_t> scratch,
                                      ClientHelloInfo* out) {
  TlsHelloAssembler st{};
  const TlsAssembleResult a = AssembleClientHello(&st, stream, scratch, out);
  return {a.status, a.error, a.status == ParseStatus::kNeedMore ? a.need : 0};
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
