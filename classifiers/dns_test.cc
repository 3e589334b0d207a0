#include "classifiers/dns.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "classifiers/testing/builders.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

using testing::Bytes;
using testing::BuildDnsQuery;
using testing::DnsHeaderSpec;
using testing::EncodeDnsName;
using testing::PutDnsHeader;
using testing::PutDnsOpt;
using testing::PutDnsQuestion;

DnsParseResult Parse(const Bytes& msg, DnsMessageInfo* info) { return ParseDnsMessage(msg, info); }

void ExpectOk(DnsParseResult r) {
  EXPECT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.error, DnsMalformed::kNone) << DnsMalformedName(r.error);
}

void ExpectMalformed(DnsParseResult r, DnsMalformed e) {
  EXPECT_EQ(r.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.error, e) << "got " << DnsMalformedName(r.error) << " want " << DnsMalformedName(e);
}

// A message from a header spec and a list of already-encoded question names.
Bytes Message(DnsHeaderSpec h, const std::vector<Bytes>& names, uint16_t qtype = 1) {
  Bytes b;
  PutDnsHeader(&b, h);
  for (const Bytes& n : names) PutDnsQuestion(&b, n, qtype);
  return b;
}

std::string Repeat(char c, size_t n) { return std::string(n, c); }

TEST(DnsTest, SimpleQuery) {
  const Bytes msg = BuildDnsQuery("www.Example.com", 28, false, 0xbeef);
  DnsMessageInfo info;
  ExpectOk(Parse(msg, &info));
  EXPECT_EQ(info.id, 0xbeef);
  EXPECT_FALSE(info.is_response);
  EXPECT_EQ(info.opcode, 0);
  EXPECT_EQ(info.rcode, 0);
  EXPECT_EQ(info.qdcount, 1);
  EXPECT_EQ(info.question_count, 1);
  EXPECT_FALSE(info.questions_capped);
  const DnsQuestion& q = info.questions[0];
  EXPECT_EQ(q.view(), "www.Example.com");  // case preserved
  EXPECT_STREQ(q.name, "www.Example.com");  // NUL-terminated
  EXPECT_EQ(q.qtype, 28);
  EXPECT_EQ(q.qclass, 1);
  EXPECT_FALSE(q.odd_bytes);
}

// A query as dig sends it (dig example.org A: RD, AD, EDNS(0) with 1232), annotated.
TEST(DnsTest, RealQueryHex) {
  const Bytes msg = testing::FromHex(R"(
    a1 b2        # ID
    01 20        # QR=0 opcode=0 RD=1 AD=1
    00 01        # QDCOUNT 1
    00 00 00 00  # ANCOUNT, NSCOUNT
    00 01        # ARCOUNT 1 (OPT)
    07 65 78 61 6d 70 6c 65  03 6f 72 67  00   # "example" "org" root
    00 01 00 01  # QTYPE A, QCLASS IN
    00 00 29 04 d0 00 00 00 00 00 00           # OPT: root, type 41, udp 1232, ttl 0, rdlen 0
  )");
  DnsMessageInfo info;
  ExpectOk(Parse(msg, &info));
  EXPECT_EQ(info.id, 0xa1b2);
  EXPECT_EQ(info.arcount, 1);
  EXPECT_EQ(info.questions[0].view(), "example.org");
  EXPECT_TRUE(LooksLikeDnsQuery(msg));
}

TEST(DnsTest, ResponseHeaderFields) {
  DnsHeaderSpec h;
  h.qr = true;
  h.opcode = 0;
  h.rcode = 3;  // NXDOMAIN
  h.ancount = 0;
  h.nscount = 1;
  const Bytes msg = Message(h, {EncodeDnsName("nx.example")});
  DnsMessageInfo info;
  ExpectOk(Parse(msg, &info));
  EXPECT_TRUE(info.is_response);
  EXPECT_EQ(info.rcode, 3);
  EXPECT_EQ(info.nscount, 1);
  EXPECT_FALSE(LooksLikeDnsQuery(msg));
}

TEST(DnsTest, RootName) {
  const Bytes msg = BuildDnsQuery("", 2);  // ". NS" (priming query)
  DnsMessageInfo info;
  ExpectOk(Parse(msg, &info));
  EXPECT_EQ(info.questions[0].name_len, 0);
  EXPECT_STREQ(info.questions[0].name, "");
  EXPECT_EQ(info.questions[0].qtype, 2);
}

TEST(DnsTest, Label63OkLabel64Rejected) {
  DnsMessageInfo info;
  const std::string l63 = Repeat('a', 63);
  ExpectOk(Parse(BuildDnsQuery(l63 + ".com", 1), &info));
  EXPECT_EQ(info.questions[0].view(), l63 + ".com");
  // 64 does not fit the 6-bit length: the byte 0x40 is a reserved label type.
  ExpectMalformed(Parse(BuildDnsQuery(Repeat('a', 64) + ".com", 1), &info),
                  DnsMalformed::kReservedLabelType);
  EXPECT_EQ(info.question_count, 0);
}

TEST(DnsTest, Name253OkName254Rejected) {
  // 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 characters (255 wire octets).
  const std::string n253 = Repeat('a', 63) + "." + Repeat('b', 63) + "." + Repeat('c', 63) + "." +
                           Repeat('d', 61);
  ASSERT_EQ(n253.size(), 253u);
  DnsMessageInfo info;
  ExpectOk(Parse(BuildDnsQuery(n253, 1), &info));
  EXPECT_EQ(info.questions[0].view(), n253);
  EXPECT_EQ(info.questions[0].name_len, 253);

  const std::string n254 = n253 + "d";
  ExpectMalformed(Parse(BuildDnsQuery(n254, 1), &info), DnsMalformed::kNameTooLong);
  // Many short labels: 127 x "a." = 253 ok, one more label is 255.
  std::string shorts;
  for (int i = 0; i < 127; ++i) shorts += i ? ".a" : "a";
  ASSERT_EQ(shorts.size(), 253u);
  ExpectOk(Parse(BuildDnsQuery(shorts, 1), &info));
  ExpectMalformed(Parse(BuildDnsQuery(shorts + ".a", 1), &info), DnsMalformed::kNameTooLong);
}

TEST(DnsTest, ReservedLabelTypes) {
  for (uint8_t kind : {0x40, 0x41, 0x7f, 0x80, 0xbf}) {
    Bytes name = {kind, 'x', 'y', 0};
    DnsMessageInfo info;
    ExpectMalformed(Parse(Message({}, {name}), &info), DnsMalformed::kReservedLabelType);
  }
}

TEST(DnsTest, OddBytesReportedNotEscaped) {
  // Labels "a.b" (dot inside a label), "c\0d", "é" (UTF-8), "sp ace", "x*".
  const Bytes name = {3, 'a', '.', 'b', 3, 'c', 0, 'd', 2, 0xc3, 0xa9, 6, 's', 'p', ' ', 'a', 'c', 'e', 0};
  DnsMessageInfo info;
  ExpectOk(Parse(Message({}, {name}), &info));
  const DnsQuestion& q = info.questions[0];
  EXPECT_TRUE(q.odd_bytes);
  EXPECT_EQ(q.view(), std::string_view("a.b.c\0d.\xc3\xa9.sp ace", 17));
  EXPECT_FALSE(info.questions[0].view().empty());

  ExpectOk(Parse(BuildDnsQuery("_dmarc.my-site.example", 16), &info));
  EXPECT_FALSE(info.questions[0].odd_bytes);  // '_' and '-' are plain
  ExpectOk(Parse(BuildDnsQuery("*.example", 1), &info));
  EXPECT_TRUE(info.questions[0].odd_bytes);
}

TEST(DnsTest, ShortHeaderAndNoQuestion) {
  DnsMessageInfo info;
  const Bytes msg = BuildDnsQuery("a.b", 1);
  for (size_t n = 0; n < 12; ++n) {
    ExpectMalformed(Parse(Bytes(msg.begin(), msg.begin() + static_cast<long>(n)), &info),
                    DnsMalformed::kShortHeader);
  }
  DnsHeaderSpec h;
  h.qdcount = 0;
  h.id = 77;
  ExpectMalformed(Parse(Message(h, {}), &info), DnsMalformed::kNoQuestion);
  EXPECT_EQ(info.id, 77);  // header still reported
  EXPECT_EQ(info.question_count, 0);
}

TEST(DnsTest, EveryTruncationIsMalformedNeverCrash) {
  const Bytes msg = BuildDnsQuery("www.example.co.uk", 1);
  for (size_t n = 0; n < msg.size(); ++n) {
    const Bytes cut(msg.begin(), msg.begin() + static_cast<long>(n));  // exact-size heap copy
    DnsMessageInfo info;
    const DnsParseResult r = Parse(cut, &info);
    EXPECT_EQ(r.status, ParseStatus::kMalformed) << n;
    if (n >= 12) {
      const size_t name_end = msg.size() - 4;
      EXPECT_EQ(r.error, n < name_end ? DnsMalformed::kTruncatedName : DnsMalformed::kTruncatedQuestion)
          << n;
    }
  }
}

TEST(DnsTest, SeveralQuestionsWithCompression) {
  DnsHeaderSpec h;
  h.qdcount = 3;
  Bytes msg;
  PutDnsHeader(&msg, h);
  PutDnsQuestion(&msg, EncodeDnsName("www.example.com"), 1);  // name at offset 12
  // "mail" + pointer to "example.com" (offset 12 + 4 = 16).
  PutDnsQuestion(&msg, Bytes{4, 'm', 'a', 'i', 'l', 0xc0, 16}, 28);
  PutDnsQuestion(&msg, Bytes{0xc0, 12}, 65);  // pointer to the whole first name
  DnsMessageInfo info;
  ExpectOk(Parse(msg, &info));
  ASSERT_EQ(info.question_count, 3);
  EXPECT_EQ(info.questions[0].view(), "www.example.com");
  EXPECT_EQ(info.questions[1].view(), "mail.example.com");
  EXPECT_EQ(info.questions[1].qtype, 28);
  EXPECT_EQ(info.questions[2].view(), "www.example.com");
  EXPECT_EQ(info.questions[2].qtype, 65);
}

TEST(DnsTest, ForwardSelfAndHeaderPointersRejected) {
  DnsMessageInfo info;
  // Self: the pointer at offset 12 points to 12.
  ExpectMalformed(Parse(Message({}, {Bytes{0xc0, 12}}), &info), DnsMalformed::kBadPointer);
  // Forward: pointer at 12 to 18 (where a valid name sits after the question).
  {
    DnsHeaderSpec h;
    Bytes msg;
    PutDnsHeader(&msg, h);
    PutDnsQuestion(&msg, Bytes{0xc0, 18}, 1);  // 12..17
    for (uint8_t c : EncodeDnsName("evil.example")) msg.push_back(c);
    ExpectMalformed(Parse(msg, &info), DnsMalformed::kBadPointer);
  }
  // Into the header (offset 0..11): backward, but never a name.
  ExpectMalformed(Parse(Message({}, {Bytes{1, 'a', 0xc0, 4}}), &info), DnsMalformed::kBadPointer);
  // A label then a pointer to the same label's own position is backward: a loop.
  ExpectMalformed(Parse(Message({}, {Bytes{1, 'a', 0xc0, 12}}), &info), DnsMalformed::kPointerLoop);
  // Long labels looping hit the name length first.
  Bytes big = {63};
  big.insert(big.end(), 63, 'x');
  big.push_back(0xc0);
  big.push_back(12);
  ExpectMalformed(Parse(Message({}, {big}), &info), DnsMalformed::kNameTooLong);
  // Truncated pointer (one byte).
  ExpectMalformed(Parse(Message({}, {}, 1), &info), DnsMalformed::kTruncatedName);
  Bytes tp;
  PutDnsHeader(&tp, DnsHeaderSpec{});
  tp.push_back(0xc0);
  ExpectMalformed(Parse(tp, &info), DnsMalformed::kTruncatedName);
}

// A message whose first question's single label hides a chain of backward
// pointers; the second question enters the chain at element k, costing k + 2 hops.
//   offset 12: label length 37
//   offset 13: 01 'z' 00            name "z"
//   offset 16 + 2i: c0 (16 + 2(i-1))  (i = 0 points to 13)
Bytes PointerChainMessage(int k) {
  DnsHeaderSpec h;
  h.qdcount = 2;
  Bytes msg;
  PutDnsHeader(&msg, h);
  Bytes name = {37, 1, 'z', 0};
  for (int i = 0; i < 17; ++i) {
    name.push_back(0xc0);
    name.push_back(static_cast<uint8_t>(i == 0 ? 13 : 16 + 2 * (i - 1)));
  }
  name.push_back(0);  // end of the first name
  PutDnsQuestion(&msg, name, 1);
  PutDnsQuestion(&msg, Bytes{0xc0, static_cast<uint8_t>(16 + 2 * k)}, 1);
  return msg;
}

TEST(DnsTest, PointerHopCap) {
  DnsMessageInfo info;
  ExpectOk(Parse(PointerChainMessage(14), &info));  // 16 hops
  EXPECT_EQ(info.questions[1].view(), "z");
  EXPECT_TRUE(info.questions[0].odd_bytes);
  ExpectMalformed(Parse(PointerChainMessage(15), &info), DnsMalformed::kPointerLoop);  // 17 hops
  EXPECT_EQ(info.question_count, 1);  // the first question is kept
  EXPECT_EQ(info.questions[0].name_len, 37);
}

TEST(DnsTest, MoreThanMaxQuestionsIsCapped) {
  DnsHeaderSpec h;
  h.qdcount = 10;
  std::vector<Bytes> names;
  // absl::StrCat, not "q" + std::to_string(i): GCC 12 -O2 reports a false
  // -Wrestrict on operator+(const char*, string&&) (GCC bug 105329).
  for (int i = 0; i < 10; ++i) names.push_back(EncodeDnsName(absl::StrCat("q", i, ".example")));
  DnsMessageInfo info;
  ExpectOk(Parse(Message(h, names), &info));
  EXPECT_TRUE(info.questions_capped);
  EXPECT_EQ(info.question_count, kDnsMaxQuestions);
  EXPECT_EQ(info.questions[7].view(), "q7.example");
  // Questions past the cap are not read, so their absence is not an error.
  names.resize(8);
  ExpectOk(Parse(Message(h, names), &info));
  EXPECT_TRUE(info.questions_capped);
  // Exactly 8 is not capped.
  h.qdcount = 8;
  ExpectOk(Parse(Message(h, names), &info));
  EXPECT_FALSE(info.questions_capped);
}

TEST(DnsTest, BadQuestionKeepsEarlierOnes) {
  DnsHeaderSpec h;
  h.qdcount = 3;
  Bytes msg = Message(h, {EncodeDnsName("one.example"), EncodeDnsName("two.example")});
  msg.push_back(5);  // third name: a label that runs off the end
  msg.push_back('x');
  DnsMessageInfo info;
  ExpectMalformed(Parse(msg, &info), DnsMalformed::kTruncatedName);
  ASSERT_EQ(info.question_count, 2);
  EXPECT_EQ(info.questions[0].view(), "one.example");
  EXPECT_EQ(info.questions[1].view(), "two.example");
}

TEST(DnsTest, LooksLikeDnsQuery) {
  EXPECT_TRUE(LooksLikeDnsQuery(BuildDnsQuery("example.com", 1)));
  EXPECT_TRUE(LooksLikeDnsQuery(BuildDnsQuery("example.com", 65, /*edns=*/true)));
  EXPECT_TRUE(LooksLikeDnsQuery(BuildDnsQuery("", 2)));

  Bytes trailing = BuildDnsQuery("example.com", 1);
  trailing.push_back(0);
  EXPECT_FALSE(LooksLikeDnsQuery(trailing));
  Bytes cut = BuildDnsQuery("example.com", 1);
  cut.pop_back();
  EXPECT_FALSE(LooksLikeDnsQuery(cut));
  EXPECT_FALSE(LooksLikeDnsQuery(Bytes(12, 0)));  // qdcount 0
  EXPECT_FALSE(LooksLikeDnsQuery(Bytes{}));

  // DNSCrypt certificate queries (sent to resolvers on 443, 8443, ...) pad the
  // message with one root-owned additional record of type 0: still a query.
  Bytes padded = BuildDnsQuery("2.dnscrypt-cert.example.net", 16);
  padded[11] = 1;  // arcount = 1
  for (uint8_t b : {0x00,                     // owner: root
                    0x00, 0x00, 0x00, 0x00,   // TYPE 0, CLASS 0
                    0x00, 0x00, 0x00, 0x00,   // TTL
                    0x00, 0x03, 0x80, 0x00, 0x00}) {  // RDLENGTH 3, padding
    padded.push_back(b);
  }
  EXPECT_TRUE(LooksLikeDnsQuery(padded));
  Bytes padded_cut = padded;
  padded_cut.pop_back();
  EXPECT_FALSE(LooksLikeDnsQuery(padded_cut));  // RDATA shorter than RDLENGTH
  Bytes padded_named = BuildDnsQuery("a.example", 1);
  padded_named[11] = 1;
  for (uint8_t b : std::initializer_list<uint8_t>{0x01, 'x', 0x00, 0x00, 0x10, 0x00, 0x01, 0, 0, 0, 0, 0x00, 0x00}) {
    padded_named.push_back(b);
  }
  EXPECT_FALSE(LooksLikeDnsQuery(padded_named));  // an additional record with a real owner: not a plain query

  auto with = [](DnsHeaderSpec h, uint16_t qclass = 1, bool opt = false) {
    Bytes b;
    PutDnsHeader(&b, h);
    for (int i = 0; i < h.qdcount; ++i) PutDnsQuestion(&b, EncodeDnsName("x.example"), 1, qclass);
    if (opt) PutDnsOpt(&b);
    return b;
  };
  DnsHeaderSpec h;
  EXPECT_TRUE(LooksLikeDnsQuery(with(h)));
  for (uint16_t qclass : {1, 3, 255, 0x8001}) EXPECT_TRUE(LooksLikeDnsQuery(with(h, qclass))) << qclass;
  for (uint16_t qclass : {0, 2, 4, 254, 0x8000}) EXPECT_FALSE(LooksLikeDnsQuery(with(h, qclass))) << qclass;
  h.qdcount = 4;
  EXPECT_TRUE(LooksLikeDnsQuery(with(h)));
  h.qdcount = 5;
  EXPECT_FALSE(LooksLikeDnsQuery(with(h)));
  h = {};
  h.qr = true;
  EXPECT_FALSE(LooksLikeDnsQuery(with(h)));
  h = {};
  h.opcode = 5;  // UPDATE
  EXPECT_FALSE(LooksLikeDnsQuery(with(h)));
  h = {};
  h.ancount = 1;
  EXPECT_FALSE(LooksLikeDnsQuery(with(h)));
  h = {};
  h.nscount = 1;
  EXPECT_FALSE(LooksLikeDnsQuery(with(h)));
  h = {};
  h.arcount = 1;
  EXPECT_TRUE(LooksLikeDnsQuery(with(h, 1, true)));
  EXPECT_FALSE(LooksLikeDnsQuery(with(h, 1, false)));  // arcount 1 but no record
  h.arcount = 2;
  EXPECT_FALSE(LooksLikeDnsQuery(with(h, 1, true)));

  // arcount 1, a root-owned record that is not OPT (type A): accepted like
  // DNSCrypt's padding record, as long as it ends the message exactly.
  h = {};
  h.arcount = 1;
  Bytes not_opt = with(h);
  for (uint8_t c : {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4}) not_opt.push_back(c);
  EXPECT_TRUE(LooksLikeDnsQuery(not_opt));
  not_opt.push_back(0);
  EXPECT_FALSE(LooksLikeDnsQuery(not_opt));
  // OPT with rdata (an EDNS option), exactly consumed.
  Bytes opt_rdata = with(h);
  for (uint8_t c : {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 4, 0, 10, 0, 0}) opt_rdata.push_back(c);
  EXPECT_TRUE(LooksLikeDnsQuery(opt_rdata));
  opt_rdata.pop_back();
  EXPECT_FALSE(LooksLikeDnsQuery(opt_rdata));

  // Not DNS: the start of a TLS ClientHello and of an HTTP request.
  EXPECT_FALSE(LooksLikeDnsQuery(testing::BuildClientHello({})));
  const std::string http = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
  EXPECT_FALSE(LooksLikeDnsQuery(Bytes(http.begin(), http.end())));
}

TEST(DnsTest, TcpFraming) {
  const Bytes msg = BuildDnsQuery("example.net", 1);
  Bytes stream = testing::DnsTcpFramed(msg);
  const Bytes second = BuildDnsQuery("second.example", 28);
  const Bytes framed2 = testing::DnsTcpFramed(second);
  stream.insert(stream.end(), framed2.begin(), framed2.end());

  DnsTcpFrame f = ReadDnsTcpFrame(stream);
  ASSERT_EQ(f.status, ParseStatus::kOk);
  EXPECT_EQ(f.consumed, 2 + msg.size());
  EXPECT_EQ(Bytes(f.msg.begin(), f.msg.end()), msg);
  f = ReadDnsTcpFrame(absl::Span<const uint8_t>(stream).subspan(f.consumed));
  ASSERT_EQ(f.status, ParseStatus::kOk);
  EXPECT_EQ(Bytes(f.msg.begin(), f.msg.end()), second);

  // Every prefix of the first frame wants exactly the missing bytes.
  const size_t whole = 2 + msg.size();
  for (size_t n = 0; n < whole; ++n) {
    const Bytes cut(stream.begin(), stream.begin() + static_cast<long>(n));
    const DnsTcpFrame p = ReadDnsTcpFrame(cut);
    EXPECT_EQ(p.status, ParseStatus::kNeedMore) << n;
    EXPECT_EQ(p.need, n < 2 ? 2 - n : whole - n) << n;
  }
  for (uint16_t len : {0, 1, 11}) {
    Bytes bad = {static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)};
    bad.resize(2 + len, 0);
    EXPECT_EQ(ReadDnsTcpFrame(bad).status, ParseStatus::kMalformed) << len;
  }
  Bytes twelve = {0, 12};
  twelve.resize(14, 0);
  EXPECT_EQ(ReadDnsTcpFrame(twelve).status, ParseStatus::kOk);
}

// Random corruption of valid messages: any verdict, but no crash and no read
// past the exact-size buffer (run under ASan).
TEST(DnsTest, RandomMutationsNeverCrash) {
  std::mt19937 rng(1234);
  DnsHeaderSpec h;
  h.qdcount = 3;
  Bytes base;
  PutDnsHeader(&base, h);
  PutDnsQuestion(&base, EncodeDnsName("www.example.com"), 1);
  PutDnsQuestion(&base, Bytes{3, 'f', 'o', 'o', 0xc0, 16}, 28);
  PutDnsQuestion(&base, Bytes{0xc0, 12}, 65);
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes m = base;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) m[rng() % m.size()] = static_cast<uint8_t>(rng());
    m.resize(rng() % (m.size() + 1));
    DnsMessageInfo info;
    const DnsParseResult r = ParseDnsMessage(m, &info);
    EXPECT_NE(r.status, ParseStatus::kNeedMore);
    EXPECT_LE(info.question_count, kDnsMaxQuestions);
    for (size_t i = 0; i < info.question_count; ++i) {
      EXPECT_LE(info.questions[i].name_len, kDnsMaxNameText);
      EXPECT_EQ(info.questions[i].name[info.questions[i].name_len], '\0');
    }
    (void)LooksLikeDnsQuery(m);
    (void)ReadDnsTcpFrame(m);
  }
}

}  // namespace
}  // namespace vigie

namespace vigie {
namespace {

using testing::Bytes;

ParseStatus Sniff(const Bytes& b) { return SniffDnsTcpQuery(b); }

// DNS over TCP recognised by content, whatever the port: the verdict is reached
// from the header and first question, and every cut of the stream agrees.
TEST(DnsTcpSniffTest, DnsTcpQueryByContent) {
  const Bytes plain = testing::DnsTcpFramed(testing::BuildDnsQuery("www.tiktok.com", 1));
  const Bytes edns = testing::DnsTcpFramed(testing::BuildDnsQuery("example.org", 65, true));
  for (const Bytes& stream : {plain, edns}) {
    EXPECT_TRUE(LooksLikeDnsTcpQuery(stream));
    // Two pipelined queries: still the first decides.
    Bytes two = stream;
    two.insert(two.end(), stream.begin(), stream.end());
    EXPECT_TRUE(LooksLikeDnsTcpQuery(two));
    // The first question ends 2 + 12 + name + 4 bytes in: before that, need more.
    const size_t verdict_at = stream.size() - (stream == edns ? 11 : 0);
    for (size_t k = 0; k < stream.size(); ++k) {
      const Bytes cut(stream.begin(), stream.begin() + k);
      EXPECT_EQ(Sniff(cut), k < verdict_at ? ParseStatus::kNeedMore : ParseStatus::kOk) << k;
    }
  }
}

TEST(DnsTcpSniffTest, NotDnsTcpQueries) {
  const Bytes query = testing::BuildDnsQuery("www.tiktok.com", 1);
  auto framed_with = [&](size_t byte, uint8_t value) {
    Bytes m = query;
    m[byte] = value;
    return testing::DnsTcpFramed(m);
  };
  EXPECT_EQ(Sniff(framed_with(2, 0x81)), ParseStatus::kMalformed);  // QR=1: a response
  EXPECT_EQ(Sniff(framed_with(2, 0x28)), ParseStatus::kMalformed);  // opcode 5 (UPDATE)
  EXPECT_EQ(Sniff(framed_with(5, 0)), ParseStatus::kMalformed);     // qdcount 0
  EXPECT_EQ(Sniff(framed_with(5, 5)), ParseStatus::kMalformed);     // qdcount 5
  EXPECT_EQ(Sniff(framed_with(7, 1)), ParseStatus::kMalformed);     // an answer
  EXPECT_EQ(Sniff(framed_with(9, 1)), ParseStatus::kMalformed);     // an authority RR
  EXPECT_EQ(Sniff(framed_with(11, 2)), ParseStatus::kMalformed);    // two additional RRs
  EXPECT_EQ(Sniff(framed_with(12, 0xc0)), ParseStatus::kMalformed); // a pointer at the first label (forward/self)
  EXPECT_EQ(Sniff(framed_with(12, 0x40)), ParseStatus::kMalformed); // reserved label type
  EXPECT_EQ(Sniff(framed_with(query.size() - 1, 7)), ParseStatus::kMalformed);  // qclass 7
  // Judged from the flags bytes alone.
  EXPECT_EQ(Sniff(testing::FromHex("00 20 12 34 81")), ParseStatus::kMalformed);
  // Declared length too short for a header and a question; a question that
  // overruns the declared length.
  EXPECT_EQ(Sniff(testing::FromHex("00 10")), ParseStatus::kMalformed);
  Bytes overrun = testing::DnsTcpFramed(query);
  overrun[1] = static_cast<uint8_t>(overrun[1] - 3);
  EXPECT_EQ(Sniff(overrun), ParseStatus::kMalformed);
  // Other protocols on the same port.
  const std::string http = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_FALSE(LooksLikeDnsTcpQuery(Bytes(http.begin(), http.end())));
  EXPECT_EQ(Sniff(testing::FromHex("16 03 01 02 00 01 00 01 fc 03 03")), ParseStatus::kMalformed);
  EXPECT_EQ(Sniff(testing::FromHex("16")), ParseStatus::kNeedMore);
  EXPECT_FALSE(LooksLikeDnsTcpQuery({}));
}

}  // namespace
}  // namespace vigie
