// DNS header + question parsing. See dns.h for the contract and limits.

#include "classifiers/dns.h"

#include <algorithm>

#include "classifiers/byte_reader.h"

namespace vigie {
namespace {

constexpr bool IsPlainNameByte(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Label length byte kinds (RFC 1035 §4.1.4, RFC 6891 §5).
constexpr uint8_t kLabelKindMask = 0xC0;
constexpr uint8_t kLabelPointer = 0xC0;
constexpr uint8_t kLabelNormal = 0x00;

// Reads the (possibly compressed) name that starts at byte `start` of `msg`.
// On success sets *next to the offset just past the name as it sits at `start`
// (after the first pointer if any). When `q` is non-null the text is written to
// q->name / name_len / odd_bytes; otherwise the name is only checked.
DnsMalformed ReadName(absl::Span<const uint8_t> msg, size_t start, DnsQuestion* q, size_t* next) {
  ByteReader r(msg);
  r.Skip(start);
  size_t text_len = 0;  // characters written so far (labels + separating dots)
  bool odd = false;
  bool jumped = false;
  int hops = 0;
  size_t end = 0;
  for (;;) {
    const size_t label_pos = r.offset();
    const uint8_t len = r.ReadU8();
    if (!r.ok()) return DnsMalformed::kTruncatedName;
    const uint8_t kind = len & kLabelKindMask;
    if (kind == kLabelPointer) {
      const uint8_t low = r.ReadU8();
      if (!r.ok()) return DnsMalformed::kTruncatedName;
      const size_t target = (size_t{len & 0x3Fu} << 8) | low;
      // Strictly backward, and never into the fixed header.
      if (target >= label_pos || target < kDnsHeaderBytes) return DnsMalformed::kBadPointer;
      if (++hops > kDnsMaxPointerHops) return DnsMalformed::kPointerLoop;
      if (!jumped) {
        end = r.offset();
        jumped = true;
      }
      r = ByteReader(msg);
      r.Skip(target);
      continue;
    }
    if (kind != kLabelNormal) return DnsMalformed::kReservedLabelType;
    if (len == 0) break;  // root label ends the name
    const absl::Span<const uint8_t> label = r.ReadBytes(len);
    if (!r.ok()) return DnsMalformed::kTruncatedName;
    // Text length <= 253 is the same bound as wire length <= 255 (RFC 1035 §2.3.4):
    // wire = sum(1 + len) + 1 root byte = text + 2.
    const size_t sep = text_len == 0 ? 0 : 1;
    if (text_len + sep + len > kDnsMaxNameText) return DnsMalformed::kNameTooLong;
    if (q != nullptr && sep != 0) q->name[text_len] = '.';
    text_len += sep;
    for (const uint8_t c : label) {
      if (!IsPlainNameByte(c)) odd = true;
      if (q != nullptr) q->name[text_len] = static_cast<char>(c);
      ++text_len;
    }
  }
  if (q != nullptr) {
    q->name[text_len] = '\0';
    q->name_len = static_cast<uint16_t>(text_len);
    q->odd_bytes = odd;
  }
  *next = jumped ? end : r.offset();
  return DnsMalformed::kNone;
}

// Reads one question (QNAME QTYPE QCLASS) at *pos and advances *pos past it.
// `q` may be null (shape check only); qtype/qclass are always returned.
DnsMalformed ReadQuestion(absl::Span<const uint8_t> msg, size_t* pos, DnsQuestion* q,
                          uint16_t* qtype, uint16_t* qclass) {
  size_t after_name = 0;
  const DnsMalformed e = ReadName(msg, *pos, q, &after_name);
  if (e != DnsMalformed::kNone) return e;
  ByteReader r(msg);
  r.Skip(after_name);
  *qtype = r.ReadU16();
  *qclass = r.ReadU16();
  if (!r.ok()) return DnsMalformed::kTruncatedQuestion;
  if (q != nullptr) {
    q->qtype = *qtype;
    q->qclass = *qclass;
  }
  *pos = r.offset();
  return DnsMalformed::kNone;
}

struct Header {
  uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

Header ReadHeader(ByteReader* r) {
  Header h;
  h.id = r->ReadU16();
  h.flags = r->ReadU16();
  h.qdcount = r->ReadU16();
  h.ancount = r->ReadU16();
  h.nscount = r->ReadU16();
  h.arcount = r->ReadU16();
  return h;
}

constexpr bool IsResponse(uint16_t flags) { return (flags & 0x8000) != 0; }
constexpr uint8_t Opcode(uint16_t flags) { return static_cast<uint8_t>((flags >> 11) & 0x0F); }
constexpr uint8_t Rcode(uint16_t flags) { return static_cast<uint8_t>(flags & 0x0F); }

}  // namespace

const char* DnsMalformedName(DnsMalformed e) {
  switch (e) {
    case DnsMalformed::kNone:
      return "none";
    case DnsMalformed::kShortHeader:
      return "short_header";
    case DnsMalformed::kTruncatedName:
      return "truncated_name";
    case DnsMalformed::kLabelTooLong:
      return "label_too_long";
    case DnsMalformed::kNameTooLong:
      return "name_too_long";
    case DnsMalformed::kBadPointer:
      return "bad_pointer";
    case DnsMalformed::kPointerLoop:
      return "pointer_loop";
    case DnsMalformed::kReservedLabelType:
      return "reserved_label_type";
    case DnsMalformed::kTruncatedQuestion:
      return "truncated_question";
    case DnsMalformed::kNoQuestion:
      return "no_question";
  }
  return "unknown";
}

DnsParseResult ParseDnsMessage(absl::Span<const uint8_t> msg, DnsMessageInfo* out) {
  out->id = 0;
  out->is_response = false;
  out->opcode = 0;
  out->rcode = 0;
  out->qdcount = out->ancount = out->nscount = out->arcount = 0;
  out->question_count = 0;
  out->questions_capped = false;
  if (msg.size() < kDnsHeaderBytes) return {ParseStatus::kMalformed, DnsMalformed::kShortHeader};

  ByteReader r(msg);
  const Header h = ReadHeader(&r);
  out->id = h.id;
  out->is_response = IsResponse(h.flags);
  out->opcode = Opcode(h.flags);
  out->rcode = Rcode(h.flags);
  out->qdcount = h.qdcount;
  out->ancount = h.ancount;
  out->nscount = h.nscount;
  out->arcount = h.arcount;
  out->questions_capped = h.qdcount > kDnsMaxQuestions;
  if (h.qdcount == 0) return {ParseStatus::kMalformed, DnsMalformed::kNoQuestion};

  const size_t wanted = std::min<size_t>(h.qdcount, kDnsMaxQuestions);
  size_t pos = r.offset();
  for (size_t i = 0; i < wanted; ++i) {
    uint16_t qtype = 0, qclass = 0;
    const DnsMalformed e = ReadQuestion(msg, &pos, &out->questions[i], &qtype, &qclass);
    if (e != DnsMalformed::kNone) return {ParseStatus::kMalformed, e};
    out->question_count = static_cast<uint8_t>(i + 1);
  }
  return {ParseStatus::kOk, DnsMalformed::kNone};
}

namespace {

constexpr bool IsQueryClass(uint16_t qclass) {
  return qclass == 1 || qclass == 3 || qclass == 255 || qclass == 0x8001;  // IN, CH, ANY, IN + QU bit (mDNS)
}

constexpr bool IsPlausibleQueryHeader(const Header& h) {
  return !IsResponse(h.flags) && Opcode(h.flags) == 0 && h.qdcount >= 1 && h.qdcount <= kDnsMaxPlausibleQuestions &&
         h.ancount == 0 && h.nscount == 0 && h.arcount <= 1;
}

}  // namespace

bool LooksLikeDnsQuery(absl::Span<const uint8_t> msg) {
  if (msg.size() < kDnsHeaderBytes) return false;
  ByteReader r(msg);
  const Header h = ReadHeader(&r);
  if (!IsPlausibleQueryHeader(h)) return false;

  size_t pos = r.offset();
  for (uint16_t i = 0; i < h.qdcount; ++i) {
    uint16_t qtype = 0, qclass = 0;
    if (ReadQuestion(msg, &pos, nullptr, &qtype, &qclass) != DnsMalformed::kNone) return false;
    if (!IsQueryClass(qclass)) return false;
  }
  if (h.arcount == 0) return pos == msg.size();

  // One additional RR with the root as owner: an OPT pseudo-RR (RFC 6891
  // §6.1.2: TYPE 41, CLASS = UDP size, TTL = extended rcode/flags), or the
  // padding record DNSCrypt clients add to their certificate queries; it must
  // end exactly at the end of the message.
  ByteReader opt(msg);
  opt.Skip(pos);
  if (opt.ReadU8() != 0) return false;
  opt.Skip(2 + 2 + 4);  // TYPE, CLASS, TTL
  opt.ReadPrefixed16();
  return opt.ok() && opt.empty();
}

ParseStatus SniffDnsTcpQuery(absl::Span<const uint8_t> stream) {
  ByteReader r(stream);
  const uint16_t len = r.ReadU16();
  if (!r.ok()) return ParseStatus::kNeedMore;
  if (len < kDnsHeaderBytes + kDnsMinQuestionBytes) return ParseStatus::kMalformed;
  // The message as far as it has arrived (a prefix of the declared length).
  const absl::Span<const uint8_t> msg = r.ReadBytes(std::min<size_t>(len, r.remaining()));
  // Header fields, each judged as soon as its bytes are there.
  ByteReader hr(msg);
  Header h{};
  h.id = hr.ReadU16();
  // QR and opcode are in the first flags byte.
  if (hr.ok() && hr.remaining() >= 1 && (hr.PeekU8() & 0xF8) != 0) return ParseStatus::kMalformed;
  h.flags = hr.ReadU16();
  h.qdcount = hr.ReadU16();
  if (hr.ok() && (h.qdcount < 1 || h.qdcount > kDnsMaxPlausibleQuestions)) return ParseStatus::kMalformed;
  h.ancount = hr.ReadU16();
  if (hr.ok() && h.ancount != 0) return ParseStatus::kMalformed;
  h.nscount = hr.ReadU16();
  if (hr.ok() && h.nscount != 0) return ParseStatus::kMalformed;
  h.arcount = hr.ReadU16();
  if (hr.ok() && h.arcount > 1) return ParseStatus::kMalformed;
  if (!hr.ok()) return ParseStatus::kNeedMore;
  // The first question, parsed over the bytes so far: a name cut short may
  // still complete, any other fault cannot.
  size_t pos = kDnsHeaderBytes;
  uint16_t qtype = 0, qclass = 0;
  const DnsMalformed e = ReadQuestion(msg, &pos, nullptr, &qtype, &qclass);
  if (e == DnsMalformed::kTruncatedName || e == DnsMalformed::kTruncatedQuestion) {
    return msg.size() < len ? ParseStatus::kNeedMore : ParseStatus::kMalformed;
  }
  if (e != DnsMalformed::kNone || !IsQueryClass(qclass)) return ParseStatus::kMalformed;
  return ParseStatus::kOk;
}

bool LooksLikeDnsTcpQuery(absl::Span<const uint8_t> stream) { return SniffDnsTcpQuery(stream) == ParseStatus::kOk; }

DnsTcpFrame ReadDnsTcpFrame(absl::Span<const uint8_t> stream) {
  ByteReader r(stream);
  const uint16_t len = r.ReadU16();
  if (!r.ok()) return {ParseStatus::kNeedMore, 0, 2 - stream.size(), {}};
  if (len < kDnsHeaderBytes) return {ParseStatus::kMalformed, 0, 0, {}};
  if (r.remaining() < len) return {ParseStatus::kNeedMore, 0, len - r.remaining(), {}};
  return {ParseStatus::kOk, size_t{2} + len, 0, r.ReadBytes(len)};
}

}  // namespace vigie
