// Vigie classifiers: DNS message header and question section (RFC 1035 §4.1).
//
// Purpose: pull the query names out of a DNS message so the matcher can decide on
// them, and tell DNS apart from other traffic on non-standard ports.
//
// Contract:
//  - Pure functions over bytes: no I/O, no allocation, never read past `msg`.
//  - Output names are copied into the fixed-size DnsQuestion::name buffers, so a
//    DnsMessageInfo does not refer to the input after the call. ReadDnsTcpFrame
//    returns a view into its input.
//  - Thread-safe (no shared state). DnsMessageInfo is ~2.2 KB: keep one per worker
//    rather than on small stacks in a hot loop if that matters.
//  - Names are reported as on the wire: labels joined by '.', case preserved, no
//    escaping (a '.' or NUL inside a label is copied as-is and sets odd_bytes). The
//    gateway's normaliser (lists/) folds case; its JSON writer escapes bytes.
//  - Limits, each with its reason:
//      kDnsMaxQuestions    real queries carry 1 question; keep a few for logging,
//                          flag the rest (questions_capped).
//      kDnsMaxNameText     RFC 1035 §2.3.4: 255 wire octets = 253 text characters.
//      kDnsMaxLabel        RFC 1035 §2.3.4: 63 octets per label (length byte 00xxxxxx).
//      kDnsMaxPointerHops  compression pointers (RFC 1035 §4.1.4) must point strictly
//                          backward and into the message body (offset >= 12); a hop
//                          cap bounds work on pointer chains and loops (as knot does).
//  - Label length bytes 01xxxxxx and 10xxxxxx (RFC 6891 extended / RFC 2673
//    bitstring labels, both obsolete) are kReservedLabelType. Note that a "64-byte
//    label" cannot be expressed on the wire: its length byte 0x40 is such a type, so
//    it is reported as kReservedLabelType. kLabelTooLong is kept in the enum for
//    text-side checks and is not produced by ParseDnsMessage.

#ifndef VIGIE_CLASSIFIERS_DNS_H_
#define VIGIE_CLASSIFIERS_DNS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "classifiers/parse_status.h"

namespace vigie {

inline constexpr size_t kDnsHeaderBytes = 12;       // RFC 1035 §4.1.1
inline constexpr size_t kDnsMaxQuestions = 8;       // more questions: parsed up to this, flag set
inline constexpr size_t kDnsMaxNameText = 253;      // presentation length without trailing dot
inline constexpr size_t kDnsMaxNameWire = 255;      // RFC 1035 §2.3.4, wire length incl. root byte
inline constexpr size_t kDnsMaxLabel = 63;
inline constexpr int kDnsMaxPointerHops = 16;       // compression: backward-only pointers, hop cap

inline constexpr uint16_t kDnsTypeOpt = 41;         // RFC 6891 §6.1.1 OPT pseudo-RR
inline constexpr uint16_t kDnsMaxPlausibleQuestions = 4;  // query shape tests: real queries carry 1
inline constexpr size_t kDnsMinQuestionBytes = 5;   // root name (1) + QTYPE (2) + QCLASS (2)

struct DnsQuestion {
  char name[kDnsMaxNameText + 1];  // labels joined by '.', bytes as on the wire, NUL-terminated; root = ""
  uint16_t name_len;
  uint16_t qtype, qclass;
  bool odd_bytes;  // a label held a byte outside [A-Za-z0-9_-] (incl. '.' or NUL); name still reported
  std::string_view view() const { return {name, name_len}; }
};

enum class DnsMalformed : uint8_t {
  kNone,
  kShortHeader,        // fewer than 12 bytes
  kTruncatedName,      // the message ends inside a name
  kLabelTooLong,       // (text-side checks only; see header comment)
  kNameTooLong,        // > 255 wire octets or > 253 text characters
  kBadPointer,         // compression pointer forward, to itself, or into the header
  kPointerLoop,        // more than kDnsMaxPointerHops pointers in one name
  kReservedLabelType,  // label length byte 01xxxxxx or 10xxxxxx
  kTruncatedQuestion,  // the message ends inside QTYPE/QCLASS
  kNoQuestion,         // qdcount == 0 (header fields are still filled in)
};

// Stable snake_case name for counters and logs, e.g. "truncated_name".
const char* DnsMalformedName(DnsMalformed e);

struct DnsMessageInfo {
  uint16_t id;
  bool is_response;
  uint8_t opcode;
  uint8_t rcode;
  uint16_t qdcount, ancount, nscount, arcount;
  uint8_t question_count;   // questions parsed into `questions`
  bool questions_capped;    // qdcount > kDnsMaxQuestions
  DnsQuestion questions[kDnsMaxQuestions];
};

struct DnsParseResult {
  ParseStatus status;
  DnsMalformed error;
};

// Parses header + question section of one whole DNS message (UDP payload or one
// TCP-framed message). Never kNeedMore (a message is whole); a question that cannot
// be parsed -> kMalformed with code; questions parsed before the bad one remain in
// out->questions (question_count says how many), so callers can still log them.
// Header fields are filled in whenever the header is whole. Sections after the
// questions are not examined.
DnsParseResult ParseDnsMessage(absl::Span<const uint8_t> msg, DnsMessageInfo* out);

// Strict shape test for DNS queries on non-standard ports (DNS tunnelled to a
// resolver on 443/8443/...): QR=0, opcode 0, qdcount 1..kDnsMaxPlausibleQuestions, ancount 0, nscount 0,
// arcount <= 1, every question parses, qclass in {1 (IN), 3, 255, 0x8001}, and the
// question section (plus at most one OPT RR of type 41 with root owner, when
// arcount==1) ends exactly at the end of the message.
bool LooksLikeDnsQuery(absl::Span<const uint8_t> msg);

// DNS over TCP by content, on any port (RFC 1035 §4.2.2 / RFC 7766): `stream` is
// the client->server bytes from the start of the connection. kOk iff they start
// with a 2-byte length >= 12 + kDnsMinQuestionBytes, a query header (QR=0, opcode
// 0, qdcount 1..kDnsMaxPlausibleQuestions, ancount 0, nscount 0, arcount <= 1) and
// a first question that parses (no forward/loop pointers, sane labels) with a
// query class (IN, CH, ANY, IN|QU) inside the declared length. kNeedMore while
// the bytes so far are a consistent prefix of such a start; kMalformed as soon as
// they cannot be. The verdict depends only on the header and first question, so
// it is the same however the stream is cut (the rest of the message is not
// examined; parse each message with ReadDnsTcpFrame + ParseDnsMessage).
// Pure, no allocation.
ParseStatus SniffDnsTcpQuery(absl::Span<const uint8_t> stream);
// SniffDnsTcpQuery(stream) == kOk.
bool LooksLikeDnsTcpQuery(absl::Span<const uint8_t> stream);

// DNS over TCP (RFC 1035 §4.2.2 / RFC 7766): 2-byte length prefix. Returns kOk with
// *msg = the message bytes (a view into `stream`) and consumed = 2+len when whole,
// kNeedMore when the prefix or message is incomplete (need = bytes missing), and
// kMalformed for a length of 0 or < 12 (shorter than a DNS header).
struct DnsTcpFrame {
  ParseStatus status;
  size_t consumed;
  size_t need;
  absl::Span<const uint8_t> msg;
};
DnsTcpFrame ReadDnsTcpFrame(absl::Span<const uint8_t> stream);

}  // namespace vigie

#endif  // VIGIE_CLASSIFIERS_DNS_H_
