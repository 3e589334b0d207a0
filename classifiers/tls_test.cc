#include "classifiers/tls.h"

#include <algorithm>
#include <cstdint>
#include <list>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "classifiers/testing/builders.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

using testing::Bytes;
using testing::BuildClientHello;
using testing::BuildClientHelloBody;
using testing::BuildClientHelloHandshake;
using testing::ClientHelloSpec;
using testing::SplitIntoRecords;
using testing::WrapHandshake;

// RFC 8448 §3 "Simple 1-RTT Handshake": the client's ClientHello handshake message.
const char kRfc8448ClientHello[] = R"(
  01 00 00 c0                    # handshake: client_hello, length 192
  03 03                          # legacy_version TLS 1.2
  cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d
  ff a2 1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7   # random
  00                             # legacy_session_id: empty
  00 06 13 01 13 03 13 02        # cipher_suites: AES_128_GCM, CHACHA20_POLY1305, AES_256_GCM
  01 00                          # compression_methods: null
  00 91                          # extensions: 145 bytes
  00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72      # server_name: list 9, host_name "server"
  ff 01 00 01 00                 # renegotiation_info: empty
  00 0a 00 14 00 12 00 1d 00 17 00 18 00 19
        01 00 01 01 01 02 01 03 01 04               # supported_groups: x25519 P-256 P-384 P-521 ffdhe*
  00 23 00 00                    # session_ticket: empty
  00 33 00 26 00 24 00 1d 00 20                     # key_share: x25519, 32-byte key:
        99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe
        b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c
  00 2b 00 03 02 03 04           # supported_versions: TLS 1.3
  00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06
        04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02   # signature_algorithms: 15 schemes
  00 2d 00 02 01 01              # psk_key_exchange_modes: psk_dhe_ke
  00 1c 00 02 40 01              # record_size_limit: 16385
)";

bool Within(std::string_view v, absl::Span<const uint8_t> buf) {
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  return p >= buf.data() && p + v.size() <= buf.data() + buf.size();
}

// The facts a caller uses; record layout fields (records, stream_consumed) aside.
void ExpectSameFacts(const ClientHelloInfo& a, const ClientHelloInfo& b) {
  EXPECT_EQ(a.sni, b.sni);
  EXPECT_EQ(a.has_sni, b.has_sni);
  EXPECT_EQ(a.alpn_first, b.alpn_first);
  EXPECT_EQ(a.alpn_count, b.alpn_count);
  EXPECT_EQ(a.ech, b.ech);
  EXPECT_EQ(a.esni, b.esni);
  EXPECT_EQ(a.grease, b.grease);
  EXPECT_EQ(a.legacy_version, b.legacy_version);
  EXPECT_EQ(a.max_version, b.max_version);
  EXPECT_EQ(a.pq_key_share, b.pq_key_share);
}

class TlsTest : public ::testing::Test {
 protected:
  // Parses an exact-size copy of `stream` that lives as long as the test, so the
  // views in ClientHelloInfo stay valid when the caller passed a temporary.
  TlsParseResult Parse(const Bytes& stream, ClientHelloInfo* info) {
    kept_.push_back(stream);
    return ParseClientHelloStream(kept_.back(), absl::MakeSpan(scratch_), info);
  }
  TlsParseResult Parse(const Bytes& stream) { return Parse(stream, &info_); }

  static void ExpectOk(TlsParseResult r) {
    EXPECT_EQ(r.status, ParseStatus::kOk) << TlsMalformedName(r.error);
    EXPECT_EQ(r.error, TlsMalformed::kNone) << TlsMalformedName(r.error);
  }
  // Parsed, the name reported, with a fault outside server_name recorded.
  void ExpectTolerated(TlsParseResult r, TlsMalformed e) {
    EXPECT_EQ(r.status, ParseStatus::kOk) << TlsMalformedName(r.error);
    EXPECT_EQ(info_.tolerated, e) << "got " << TlsMalformedName(info_.tolerated) << " want "
                                  << TlsMalformedName(e);
  }
  static void ExpectMalformed(TlsParseResult r, TlsMalformed e) {
    EXPECT_EQ(r.status, ParseStatus::kMalformed);
    EXPECT_EQ(r.error, e) << "got " << TlsMalformedName(r.error) << " want " << TlsMalformedName(e);
  }

  std::vector<uint8_t> scratch_ = std::vector<uint8_t>(kMaxClientHelloBytes);
  std::list<Bytes> kept_;
  ClientHelloInfo info_;
};

TEST_F(TlsTest, Rfc8448ClientHello) {
  const Bytes hs = testing::FromHex(kRfc8448ClientHello);
  ASSERT_EQ(hs.size(), 196u);
  ExpectOk(ParseClientHelloHandshake(hs, &info_));
  EXPECT_TRUE(info_.has_sni);
  EXPECT_EQ(info_.sni, "server");
  EXPECT_EQ(info_.alpn_count, 0);
  EXPECT_TRUE(info_.alpn_first.empty());
  EXPECT_EQ(info_.legacy_version, 0x0303);
  EXPECT_EQ(info_.max_version, 0x0304);
  EXPECT_FALSE(info_.grease);
  EXPECT_FALSE(info_.ech);
  EXPECT_FALSE(info_.pq_key_share);
  EXPECT_EQ(info_.records, 0);
  EXPECT_EQ(info_.record_version, 0);
  EXPECT_EQ(info_.stream_consumed, 196u);
  EXPECT_TRUE(Within(info_.sni, hs));

  // The same message as the RFC's record: 16 03 01 00 c4.
  const Bytes stream = SplitIntoRecords(hs, 1, 0x0301);
  ExpectOk(Parse(stream));
  EXPECT_EQ(info_.sni, "server");
  EXPECT_EQ(info_.record_version, 0x0301);
  EXPECT_EQ(info_.records, 1);
  EXPECT_EQ(info_.stream_consumed, 201u);
  EXPECT_TRUE(Within(info_.sni, kept_.back()));  // parsed in place
}

TEST_F(TlsTest, ChromeLikeHello) {
  ClientHelloSpec s;
  s.sni = "www.google.com";
  s.alpn = {"h2", "http/1.1"};
  s.grease = true;
  s.ech = true;
  s.pq_key_share = true;
  const Bytes stream = BuildClientHello(s);
  EXPECT_GT(stream.size(), 1500u);  // post-quantum hellos exceed one 1500-byte packet
  ExpectOk(Parse(stream));
  EXPECT_EQ(info_.sni, "www.google.com");
  EXPECT_TRUE(info_.has_sni);
  EXPECT_EQ(info_.alpn_first, "h2");
  EXPECT_EQ(info_.alpn_count, 2);
  EXPECT_TRUE(info_.grease);
  EXPECT_TRUE(info_.ech);
  EXPECT_FALSE(info_.esni);
  EXPECT_TRUE(info_.pq_key_share);
  EXPECT_EQ(info_.legacy_version, 0x0303);
  EXPECT_EQ(info_.max_version, 0x0304);  // the GREASE version 0x6a6a is ignored
  EXPECT_EQ(info_.records, 1);
  EXPECT_EQ(info_.stream_consumed, stream.size());
}

TEST_F(TlsTest, KyberDraftShareIsPq) {
  ClientHelloSpec s;
  Bytes ks;  // key_share with X25519Kyber768Draft00 only
  testing::PutU16(&ks, 2 + 2 + 1216);  // client_shares length
  testing::PutU16(&ks, 0x6399);         // X25519Kyber768Draft00
  testing::PutPrefixed(&ks, 2, Bytes(1216, 1));
  // A second key_share extension (duplicates are not rejected); the builder's own has x25519 only.
  s.extra_extensions.push_back({51, ks});
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_TRUE(info_.pq_key_share);
}

TEST_F(TlsTest, SniAbsent) {
  ClientHelloSpec s;
  s.sni.reset();
  s.alpn = {"http/1.1"};
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_FALSE(info_.has_sni);
  EXPECT_TRUE(info_.sni.empty());
  EXPECT_EQ(info_.alpn_first, "http/1.1");
  EXPECT_EQ(info_.alpn_count, 1);
}

TEST_F(TlsTest, SniBytesReportedAsIs) {
  ClientHelloSpec s;
  s.sni = std::string("b\0d name\xff.", 9);
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.sni, std::string_view("b\0d name\xff.", 9));
}

TEST_F(TlsTest, GreaseValues) {
  for (int v = 0x0a0a; v <= 0xfafa; v += 0x1010) EXPECT_TRUE(IsTlsGrease(static_cast<uint16_t>(v))) << v;
  for (uint16_t v : {0x0a0b, 0x1a0a, 0x0a1a, 0x0000, 0xfefe, 0x0b0b, 0xabab, 0x1301}) {
    EXPECT_FALSE(IsTlsGrease(v)) << v;
  }

  ClientHelloSpec s;
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_FALSE(info_.grease);
  s.grease = true;
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_TRUE(info_.grease);

  // GREASE in only one place at a time.
  ClientHelloSpec ext_only;
  ext_only.extra_extensions.push_back({0x2a2a, {}});
  ExpectOk(Parse(BuildClientHello(ext_only)));
  EXPECT_TRUE(info_.grease);
  ClientHelloSpec version_only;
  version_only.supported_versions = {0x7a7a, 0x0304, 0x0303};
  ExpectOk(Parse(BuildClientHello(version_only)));
  EXPECT_TRUE(info_.grease);
  EXPECT_EQ(info_.max_version, 0x0304);
  ClientHelloSpec group_only;
  group_only.extra_extensions.push_back({10, testing::FromHex("00 04 ba ba 00 1d")});
  ExpectOk(Parse(BuildClientHello(group_only)));
  EXPECT_TRUE(info_.grease);
}

TEST_F(TlsTest, MaxVersion) {
  ClientHelloSpec s;
  s.supported_versions = {};
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.max_version, 0x0303);  // legacy_version
  s.supported_versions = {0x0302, 0x0303};
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.max_version, 0x0303);
  s.supported_versions = {0x8a8a};  // GREASE only
  s.legacy_version = 0x0301;
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.max_version, 0x0301);
}

TEST_F(TlsTest, NoExtensionsBlock) {
  ClientHelloSpec s;
  s.no_extensions = true;
  s.legacy_version = 0x0301;
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_FALSE(info_.has_sni);
  EXPECT_EQ(info_.max_version, 0x0301);
}

TEST_F(TlsTest, EchAndEsni) {
  ClientHelloSpec s;
  s.ech = true;
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_TRUE(info_.ech);
  EXPECT_FALSE(info_.esni);
  EXPECT_EQ(info_.sni, "example.com");  // the outer (public) name
  s.ech = false;
  s.esni = true;
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_FALSE(info_.ech);
  EXPECT_TRUE(info_.esni);
}

TEST_F(TlsTest, RecordVersions) {
  const Bytes hs = BuildClientHelloHandshake({});
  for (uint16_t v : {0x0300, 0x0301, 0x0302, 0x0303, 0x0304}) {
    ExpectOk(Parse(SplitIntoRecords(hs, 1, v)));
    EXPECT_EQ(info_.record_version, v);
    ExpectOk(Parse(SplitIntoRecords(hs, 3, v)));
    EXPECT_EQ(info_.record_version, v);
  }
  for (uint16_t v : {0x0000, 0x0200, 0x02ff, 0x0403, 0xfefd, 0x7f1c}) {
    const Bytes stream = SplitIntoRecords(hs, 1, v);
    ExpectMalformed(Parse(stream), TlsMalformed::kBadRecordVersion);
    // Judged as soon as the major version byte is there.
    ExpectMalformed(Parse(Bytes(stream.begin(), stream.begin() + 2)), TlsMalformed::kBadRecordVersion);
  }
  // A bad version in a later record.
  Bytes stream = SplitIntoRecords(hs, 3, 0x0301);
  const size_t second = 5 + hs.size() / 3;
  stream[second + 1] = 0x09;
  ExpectMalformed(Parse(stream), TlsMalformed::kBadRecordVersion);
}

// Servers check only the major byte of the record version before a version is
// negotiated (OpenSSL ssl3_get_record, BoringSSL tls_open_record, Go readRecord).
TEST_F(TlsTest, TlsRecordVersion0x03xxAccepted) {
  const Bytes hs = BuildClientHelloHandshake({});
  for (uint16_t v : {0x0305, 0x0310, 0x0380, 0x03ff}) {
    ExpectOk(Parse(SplitIntoRecords(hs, 1, v)));
    EXPECT_EQ(info_.record_version, v);
    EXPECT_EQ(info_.sni, "example.com");
    ExpectOk(Parse(SplitIntoRecords(hs, 7, v)));
    EXPECT_EQ(info_.sni, "example.com");
  }
  // Records of one hello may even differ in minor version.
  Bytes stream = SplitIntoRecords(hs, 3, 0x0301);
  stream[5 + hs.size() / 3 + 2] = 0xee;
  ExpectOk(Parse(stream));
  EXPECT_EQ(info_.record_version, 0x0301);
}

TEST_F(TlsTest, TlsRecordVersion0x0301Accepted) {
  ExpectOk(Parse(SplitIntoRecords(BuildClientHelloHandshake({}), 1, 0x0301)));
  EXPECT_EQ(info_.record_version, 0x0301);
}

TEST_F(TlsTest, RecordFragmentationGivesSameResult) {
  ClientHelloSpec s;
  s.sni = "fragmented.example.org";
  s.alpn = {"h2", "http/1.1", "h3"};
  s.grease = true;
  s.pq_key_share = true;
  const Bytes hs = BuildClientHelloHandshake(s);
  ClientHelloInfo whole;
  const Bytes one = SplitIntoRecords(hs, 1);
  ExpectOk(Parse(one, &whole));
  std::vector<size_t> counts;
  for (size_t n = 1; n <= 40; ++n) counts.push_back(n);
  counts.push_back(hs.size() / 2);
  counts.push_back(hs.size());  // one byte per record: the handshake header spans 4 records
  for (const size_t n : counts) {
    const Bytes stream = SplitIntoRecords(hs, n);
    ClientHelloInfo info;
    ExpectOk(Parse(stream, &info));
    ExpectSameFacts(whole, info);
    EXPECT_EQ(info.records, n);
    EXPECT_EQ(info.stream_consumed, stream.size());
    EXPECT_EQ(info.sni, "fragmented.example.org");
    if (n == 1) {
      EXPECT_TRUE(Within(info.sni, kept_.back()));
    } else {
      EXPECT_TRUE(Within(info.sni, scratch_));  // reassembled copy
    }
  }
}

TEST_F(TlsTest, EveryPrefixNeedsMore) {
  ClientHelloSpec s;
  s.alpn = {"h2"};
  s.grease = true;
  const Bytes hs = BuildClientHelloHandshake(s);
  for (const size_t n : {size_t{1}, size_t{2}, size_t{7}, hs.size()}) {
    const Bytes stream = SplitIntoRecords(hs, n);
    size_t last_need = 0;
    for (size_t cut = 0; cut < stream.size(); ++cut) {
      const Bytes prefix(stream.begin(), stream.begin() + static_cast<long>(cut));  // exact size
      ClientHelloInfo info;
      const TlsParseResult r = Parse(prefix, &info);
      ASSERT_EQ(r.status, ParseStatus::kNeedMore) << "records " << n << " cut " << cut;
      EXPECT_GT(r.need, cut);
      EXPECT_LE(r.need, stream.size());
      EXPECT_GE(r.need, last_need);
      last_need = r.need;
    }
    ExpectOk(Parse(stream));
  }
}

TEST_F(TlsTest, HandshakeEveryPrefixNeedsMore) {
  const Bytes hs = BuildClientHelloHandshake({});
  for (size_t cut = 0; cut < hs.size(); ++cut) {
    const Bytes prefix(hs.begin(), hs.begin() + static_cast<long>(cut));
    const TlsParseResult r = ParseClientHelloHandshake(prefix, &info_);
    ASSERT_EQ(r.status, ParseStatus::kNeedMore) << cut;
    EXPECT_EQ(r.need, cut < 4 ? 4 : hs.size()) << cut;
  }
  ExpectOk(ParseClientHelloHandshake(hs, &info_));
  // Bytes after the message are not ours.
  Bytes more = hs;
  more.push_back(0x16);
  ExpectOk(ParseClientHelloHandshake(more, &info_));
  EXPECT_EQ(info_.stream_consumed, hs.size());
}

// The body cut at every byte with a consistent handshake length: the body is
// then wrong, never "need more". Only the cut right after the compression
// methods (a valid extension-less hello) and the whole body are Ok.
TEST_F(TlsTest, BodyCutAtEveryByte) {
  ClientHelloSpec s;
  s.alpn = {"h2", "http/1.1"};
  s.grease = true;
  s.ech = true;
  s.pq_key_share = true;
  const Bytes body = BuildClientHelloBody(s);
  ClientHelloSpec bare = s;
  bare.no_extensions = true;
  const size_t no_ext_size = BuildClientHelloBody(bare).size();
  for (size_t k = 0; k <= body.size(); ++k) {
    const Bytes hs = WrapHandshake(Bytes(body.begin(), body.begin() + static_cast<long>(k)));
    const TlsParseResult r = ParseClientHelloHandshake(hs, &info_);
    const bool valid = k == body.size() || k == no_ext_size;
    EXPECT_EQ(r.status, valid ? ParseStatus::kOk : ParseStatus::kMalformed) << k;
    const Bytes stream = SplitIntoRecords(hs, 1 + k % 3);
    EXPECT_EQ(Parse(stream).status, valid ? ParseStatus::kOk : ParseStatus::kMalformed) << k;
  }
}

// One extension's data cut at every byte (lengths around it kept consistent).
TEST_F(TlsTest, ExtensionDataCutAtEveryByte) {
  struct Case {
    uint16_t type;
    Bytes data;
    TlsMalformed error;
  };
  Bytes key_share;
  testing::PutU16(&key_share, 2 + 2 + 32);
  testing::PutU16(&key_share, 0x001d);
  testing::PutPrefixed(&key_share, 2, Bytes(32, 7));
  const Case cases[] = {
      {0, testing::ServerNameExtData("cut.example.com"), TlsMalformed::kBadSni},
      {16, testing::AlpnExtData({"h2", "http/1.1"}), TlsMalformed::kBadAlpn},
      {43, testing::FromHex("04 03 04 03 03"), TlsMalformed::kBadExtensions},
      {10, testing::FromHex("00 04 00 1d 00 17"), TlsMalformed::kBadExtensions},
      {51, key_share, TlsMalformed::kBadExtensions},
  };
  for (const Case& c : cases) {
    for (size_t k = 0; k < c.data.size(); ++k) {
      ClientHelloSpec s;
      s.sni.reset();
      s.supported_versions = {};
      s.extra_extensions.push_back({c.type, Bytes(c.data.begin(), c.data.begin() + static_cast<long>(k))});
      // Only a broken server_name is fatal; other extensions' faults are
      // tolerated so that the name is still seen.
      if (c.type == 0) {
        ExpectMalformed(Parse(BuildClientHello(s)), c.error);
      } else {
        ExpectTolerated(Parse(BuildClientHello(s)), c.error);
      }
    }
  }
}

TEST_F(TlsTest, NotHandshake) {
  ExpectMalformed(Parse(testing::FromHex("17 03 03 00 10")), TlsMalformed::kNotHandshake);  // app data
  ExpectMalformed(Parse(testing::FromHex("17")), TlsMalformed::kNotHandshake);              // app data, 1 byte
  ExpectMalformed(Parse(testing::FromHex("18 03 03 00 03 01 00 00")), TlsMalformed::kNotHandshake);  // heartbeat
  const std::string http = "GET / HTTP/1.1\r\n";
  ExpectMalformed(Parse(Bytes(http.begin(), http.end())), TlsMalformed::kNotHandshake);
  // SSLv2-compatible ClientHello (2-byte header with the high bit set): no SNI possible.
  ExpectMalformed(Parse(testing::FromHex("80 2e 01 03 01 00 15")), TlsMalformed::kNotHandshake);
  // A later application-data record before the hello is whole.
  const Bytes hs = BuildClientHelloHandshake({});
  Bytes stream = SplitIntoRecords(Bytes(hs.begin(), hs.begin() + 50), 1);
  for (uint8_t b : testing::FromHex("17 03 03 00 02 02 28")) stream.push_back(b);
  ExpectMalformed(Parse(stream), TlsMalformed::kNotHandshake);
  // A change_cipher_spec that is not { 1 }.
  ExpectMalformed(Parse(testing::FromHex("14 03 03 00 01 02")), TlsMalformed::kNotHandshake);
  ExpectMalformed(Parse(testing::FromHex("14 03 03 00 02")), TlsMalformed::kNotHandshake);
}

TEST_F(TlsTest, NeedMoreForTinyStreams) {
  TlsParseResult r = Parse(Bytes{});
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.need, 5u);
  r = Parse(Bytes{0x16});
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.need, 5u);
  r = Parse(testing::FromHex("16 03 01 02 00"));  // header of a 512-byte record
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.need, 517u);
}

TEST_F(TlsTest, NotClientHello) {
  // ServerHello (type 2): judged from the first handshake byte.
  ExpectMalformed(Parse(testing::FromHex("16 03 03 00 5a 02")), TlsMalformed::kNotClientHello);
  Bytes sh = WrapHandshake(BuildClientHelloBody({}), 2);
  ExpectMalformed(Parse(SplitIntoRecords(sh, 1)), TlsMalformed::kNotClientHello);
  ExpectMalformed(ParseClientHelloHandshake(sh, &info_), TlsMalformed::kNotClientHello);
}

// Padding extensions (21) of `n` zero bytes in total, each at most 65535 - 4.
void AddPadding(ClientHelloSpec* s, size_t n) {
  constexpr size_t kMaxExt = 65000;
  while (n > 0) {
    const size_t take = std::min(n, kMaxExt);
    s->extra_extensions.push_back({kTlsExtPadding, Bytes(take, 0)});
    n -= take;
  }
}

TEST_F(TlsTest, HandshakeSizeCap) {
  // A length above the cap is refused from the 9 bytes that state it.
  ExpectMalformed(Parse(testing::FromHex("16 03 01 40 00 01 02 01 45")), TlsMalformed::kTooLarge);
  ExpectMalformed(ParseClientHelloHandshake(testing::FromHex("01 02 01 45"), &info_), TlsMalformed::kTooLarge);
  // Hellos of 16385 .. 65535 bytes are fine (the old 16 KiB cap was stricter than servers).
  ClientHelloSpec s;
  AddPadding(&s, 60000);
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.sni, "example.com");
  EXPECT_EQ(info_.records, 4u);
  ExpectOk(ParseClientHelloHandshake(BuildClientHelloHandshake(s), &info_));
}

// Hellos beyond 64 KiB: OpenSSL reads ClientHello bodies up to its
// CLIENT_HELLO_MAX_LENGTH (131396), so we do too. The extensions block is capped
// at 2^16-1 bytes, so large hellos put their bulk in cipher_suites.
TEST_F(TlsTest, ClientHelloOver64KiBAccepted) {
  ClientHelloSpec s;
  AddPadding(&s, 60000);
  Bytes body = BuildClientHelloBody(s);
  // Rebuild with a 65534-byte cipher_suites list: legacy_version(2) random(32)
  // session_id(1+32) then cipher_suites<2..2^16-2>.
  const size_t cs_at = 2 + 32 + 1 + 32;
  const size_t old_cs = (size_t{body[cs_at]} << 8) | body[cs_at + 1];
  Bytes big(body.begin(), body.begin() + cs_at);
  testing::PutU16(&big, 65534);
  testing::PutBytes(&big, absl::MakeConstSpan(body).subspan(cs_at + 2, old_cs));
  for (size_t i = old_cs; i < 65534; i += 2) testing::PutU16(&big, 0x00ff);
  testing::PutBytes(&big, absl::MakeConstSpan(body).subspan(cs_at + 2 + old_cs));
  ASSERT_GT(big.size(), size_t{65536} + 50000);
  ASSERT_LE(big.size(), kMaxClientHelloBytes);
  const Bytes hs = WrapHandshake(big);
  ExpectOk(Parse(testing::SplitIntoRecordsOfSize(hs, 16384)));
  EXPECT_EQ(info_.sni, "example.com");
  ExpectOk(ParseClientHelloHandshake(hs, &info_));
  EXPECT_EQ(info_.sni, "example.com");
}

// Boundary pair (STYLE.md 11): the body cap and one byte more, judged from the header.
TEST_F(TlsTest, ClientHelloCapBoundary) {
  Bytes at_cap = testing::FromHex("01");
  testing::PutU24(&at_cap, static_cast<uint32_t>(kMaxClientHelloBytes));
  Bytes over = testing::FromHex("01");
  testing::PutU24(&over, static_cast<uint32_t>(kMaxClientHelloBytes + 1));
  EXPECT_EQ(Parse(SplitIntoRecords(at_cap, 1)).status, ParseStatus::kNeedMore);
  ExpectMalformed(Parse(SplitIntoRecords(over, 1)), TlsMalformed::kTooLarge);
  EXPECT_EQ(ParseClientHelloHandshake(at_cap, &info_).status, ParseStatus::kNeedMore);
  ExpectMalformed(ParseClientHelloHandshake(over, &info_), TlsMalformed::kTooLarge);
}

TEST_F(TlsTest, ScratchOnlyNeededWhenFragmented) {
  const Bytes hs = BuildClientHelloHandshake({});
  const size_t body_len = hs.size() - 4;
  ClientHelloInfo info;
  // In place: no scratch at all.
  ExpectOk(ParseClientHelloStream(SplitIntoRecords(hs, 1), {}, &info));
  std::vector<uint8_t> small(body_len - 1);
  ExpectMalformed(ParseClientHelloStream(SplitIntoRecords(hs, 2), absl::MakeSpan(small), &info),
                  TlsMalformed::kTooLarge);
  std::vector<uint8_t> exact(body_len);
  ExpectOk(ParseClientHelloStream(SplitIntoRecords(hs, 2), absl::MakeSpan(exact), &info));
  EXPECT_EQ(info.sni, "example.com");
}

TEST_F(TlsTest, RecordLengthLimits) {
  // 2^14 + 2048 is what servers accept on a record header; one more is refused.
  ExpectMalformed(Parse(testing::FromHex("16 03 01 48 01")), TlsMalformed::kBadRecordLength);
  EXPECT_EQ(Parse(testing::FromHex("16 03 01 48 00 01")).status, ParseStatus::kNeedMore);
  EXPECT_EQ(Parse(testing::FromHex("16 03 01 40 01 01")).status, ParseStatus::kNeedMore);
  // A hello in one record of 2^14 + 2048 bytes.
  ClientHelloSpec s;
  s.padding = 1;
  const size_t base = BuildClientHelloHandshake(s).size();
  s.padding = 1 + kTlsMaxRecordLength - base;
  const Bytes hs = BuildClientHelloHandshake(s);
  ASSERT_EQ(hs.size(), kTlsMaxRecordLength);
  ExpectOk(Parse(testing::SplitIntoRecordsOfSize(hs, kTlsMaxRecordLength)));
  EXPECT_EQ(info_.records, 1u);
  EXPECT_EQ(info_.sni, "example.com");
}

// Empty records are discarded by OpenSSL and BoringSSL (up to 32): skipped.
TEST_F(TlsTest, EmptyRecordsSkipped) {
  const Bytes hs = BuildClientHelloHandshake({});
  Bytes stream = testing::FromHex("16 03 01 00 00");
  const Bytes two = SplitIntoRecords(hs, 2);
  const size_t first = 5 + hs.size() / 2;
  stream.insert(stream.end(), two.begin(), two.begin() + first);
  for (uint8_t b : testing::FromHex("16 03 01 00 00 15 03 01 00 00")) stream.push_back(b);
  stream.insert(stream.end(), two.begin() + first, two.end());
  ExpectOk(Parse(stream));
  EXPECT_EQ(info_.sni, "example.com");
  EXPECT_EQ(info_.records, 2u);
  EXPECT_EQ(info_.skipped_records, 3);
}

// ---- incremental assembly (AssembleClientHello) ------------------------------

// Feeds `stream` to a fresh assembler `chunk` bytes at a time, as a caller with a
// stream buffer would: consumed bytes are dropped, the rest is kept and grown.
// Returns the final result; *total_consumed counts bytes consumed overall.
struct Fed {
  TlsAssembleResult result;
  size_t total_consumed;
  std::string sni;
  std::vector<std::string> names;
  size_t max_buffered;  // the largest stream buffer the caller had to keep
};
Fed FeedInChunks(const Bytes& stream, size_t chunk, absl::Span<uint8_t> scratch) {
  TlsHelloAssembler st{};
  Bytes buf;
  Fed f{};
  size_t pos = 0;
  ClientHelloInfo info;
  for (;;) {
    const size_t take = std::min(chunk, stream.size() - pos);
    buf.insert(buf.end(), stream.begin() + pos, stream.begin() + pos + take);
    pos += take;
    f.max_buffered = std::max(f.max_buffered, buf.size());
    f.result = AssembleClientHello(&st, buf, scratch, &info);
    f.total_consumed += f.result.consumed;
    if (f.result.status != ParseStatus::kNeedMore) break;
    buf.erase(buf.begin(), buf.begin() + f.result.consumed);
    if (pos == stream.size()) break;
  }
  if (f.result.status == ParseStatus::kOk) {
    f.sni = std::string(info.sni);
    for (size_t i = 0; i < info.sni_count; ++i) f.names.emplace_back(info.sni_names[i]);
  }
  return f;
}

TEST_F(TlsTest, AssemblerFedByteByByteMatchesWhole) {
  ClientHelloSpec s;
  s.sni = "bytewise.example.net";
  s.alpn = {"h2"};
  s.grease = true;
  s.pq_key_share = true;
  const Bytes hs = BuildClientHelloHandshake(s);
  for (const size_t records : {size_t{1}, size_t{2}, size_t{13}, hs.size()}) {
    Bytes stream = testing::FromHex("15 03 01 00 02 01 5a");  // a warning alert first
    const Bytes rec = SplitIntoRecords(hs, records);
    stream.insert(stream.end(), rec.begin(), rec.end());
    const Fed whole = FeedInChunks(stream, stream.size(), absl::MakeSpan(scratch_));
    ASSERT_EQ(whole.result.status, ParseStatus::kOk) << TlsMalformedName(whole.result.error);
    EXPECT_EQ(whole.sni, "bytewise.example.net");
    EXPECT_EQ(whole.total_consumed, stream.size());
    for (const size_t chunk : {size_t{1}, size_t{2}, size_t{7}, size_t{100}}) {
      const Fed part = FeedInChunks(stream, chunk, absl::MakeSpan(scratch_));
      EXPECT_EQ(part.result.status, ParseStatus::kOk) << records << " records, chunk " << chunk;
      EXPECT_EQ(part.sni, whole.sni);
      EXPECT_EQ(part.total_consumed, whole.total_consumed);
      // Only one partial record is ever buffered by the caller.
      EXPECT_LE(part.max_buffered, kTlsRecordHeaderBytes + hs.size() / records + 1 + chunk);
    }
  }
}

// The hello in 1-byte records, far past the old 16 KiB stream cap: the caller
// never buffers more than one 6-byte record.
TEST_F(TlsTest, OneByteRecordsPast16KiB) {
  ClientHelloSpec s;
  s.sni = "tiny.records.example";
  s.padding = 3000;
  const Bytes hs = BuildClientHelloHandshake(s);
  const Bytes stream = testing::SplitIntoRecordsOfSize(hs, 1);
  ASSERT_GT(stream.size(), 16384u);
  const Fed f = FeedInChunks(stream, 1, absl::MakeSpan(scratch_));
  ASSERT_EQ(f.result.status, ParseStatus::kOk) << TlsMalformedName(f.result.error);
  EXPECT_EQ(f.sni, "tiny.records.example");
  EXPECT_LE(f.max_buffered, kTlsRecordHeaderBytes + 1);
  ExpectOk(Parse(stream));
  EXPECT_EQ(info_.records, hs.size());
}

// OpenSSL and BoringSSL read and ignore warning alerts in any state, before the
// ClientHello too (up to 4; the 5th is fatal).
TEST_F(TlsTest, AlertBeforeHello) {
  const Bytes hello = BuildClientHello({});
  for (const char* alert : {"15 03 01 00 02 01 5a",    // warning user_canceled
                            "15 03 03 00 02 01 64"}) {  // warning no_renegotiation
    Bytes stream = testing::FromHex(alert);
    stream.insert(stream.end(), hello.begin(), hello.end());
    ExpectOk(Parse(stream));
    EXPECT_EQ(info_.sni, "example.com");
    EXPECT_EQ(info_.skipped_records, 1);
    EXPECT_EQ(info_.stream_consumed, stream.size());
  }
  // An alert between two fragments of the hello.
  const Bytes hs = BuildClientHelloHandshake({});
  const Bytes two = SplitIntoRecords(hs, 2);
  const size_t first = 5 + hs.size() / 2;
  Bytes mid(two.begin(), two.begin() + first);
  for (uint8_t b : testing::FromHex("15 03 03 00 02 01 5a")) mid.push_back(b);
  mid.insert(mid.end(), two.begin() + first, two.end());
  ExpectOk(Parse(mid));
  EXPECT_EQ(info_.sni, "example.com");
}

TEST_F(TlsTest, WarningAlertsCappedAtFour) {
  const Bytes hello = BuildClientHello({});
  for (size_t n : {size_t{4}, size_t{5}}) {
    Bytes stream;
    for (size_t i = 0; i < n; ++i) {
      for (uint8_t b : testing::FromHex("15 03 01 00 02 01 5a")) stream.push_back(b);
    }
    stream.insert(stream.end(), hello.begin(), hello.end());
    if (n == kTlsMaxWarningAlerts) {
      ExpectOk(Parse(stream));
    } else {
      ExpectMalformed(Parse(stream), TlsMalformed::kTooManySkipped);
    }
  }
}

// A fatal alert or close_notify ends what the server reads: nothing after it is a hello it sees.
TEST_F(TlsTest, FatalAlertOrCloseNotifyBeforeHello) {
  const Bytes hello = BuildClientHello({});
  for (const char* alert : {"15 03 01 00 02 02 28", "15 03 01 00 02 01 00", "15 03 01 00 03 01 5a 00"}) {
    Bytes stream = testing::FromHex(alert);
    stream.insert(stream.end(), hello.begin(), hello.end());
    ExpectMalformed(Parse(stream), TlsMalformed::kAlert);
  }
  // Judged from the level byte, before the record is whole.
  ExpectMalformed(Parse(testing::FromHex("15 03 01 00 02 02")), TlsMalformed::kAlert);
}

// No server we checked accepts a CCS before the ClientHello, but skipping it can
// only let us read more: skipped, up to kTlsMaxSkippedRecords.
TEST_F(TlsTest, ChangeCipherSpecBeforeHello) {
  const Bytes hello = BuildClientHello({});
  Bytes stream = testing::FromHex("14 03 03 00 01 01");
  stream.insert(stream.end(), hello.begin(), hello.end());
  ExpectOk(Parse(stream));
  EXPECT_EQ(info_.sni, "example.com");
  for (size_t n : {kTlsMaxSkippedRecords, kTlsMaxSkippedRecords + 1}) {
    Bytes many;
    for (size_t i = 0; i < n; ++i) {
      for (uint8_t b : testing::FromHex("14 03 03 00 01 01")) many.push_back(b);
    }
    many.insert(many.end(), hello.begin(), hello.end());
    if (n == kTlsMaxSkippedRecords) {
      ExpectOk(Parse(many));
    } else {
      ExpectMalformed(Parse(many), TlsMalformed::kTooManySkipped);
    }
  }
}

// After a HelloRetryRequest the client sends a second ClientHello on the same
// stream (after a middlebox-compatibility CCS): stream_consumed says where it starts.
TEST_F(TlsTest, SecondClientHelloAfterStreamConsumed) {
  ClientHelloSpec a;
  a.sni = "first.example";
  ClientHelloSpec b;
  b.sni = "second.example";
  Bytes stream = BuildClientHello(a);
  const size_t first_len = stream.size();
  for (uint8_t x : testing::FromHex("14 03 03 00 01 01")) stream.push_back(x);
  const Bytes second = SplitIntoRecords(BuildClientHelloHandshake(b), 3);
  stream.insert(stream.end(), second.begin(), second.end());
  TlsHelloAssembler st{};
  ClientHelloInfo info;
  kept_.push_back(stream);
  absl::Span<const uint8_t> rest(kept_.back());
  TlsAssembleResult r = AssembleClientHello(&st, rest, absl::MakeSpan(scratch_), &info);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(info.sni, "first.example");
  EXPECT_EQ(r.consumed, first_len);
  EXPECT_EQ(info.stream_consumed, first_len);
  st = TlsHelloAssembler{};
  rest = rest.subspan(r.consumed);
  r = AssembleClientHello(&st, rest, absl::MakeSpan(scratch_), &info);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(info.sni, "second.example");
  EXPECT_EQ(r.consumed, rest.size());
  EXPECT_EQ(info.records, 3u);
}

TEST_F(TlsTest, AssemblerNeedMoreReportsConsumedAndNeed) {
  const Bytes hs = BuildClientHelloHandshake({});
  const Bytes stream = SplitIntoRecords(hs, 2);
  const size_t first = 5 + hs.size() / 2;
  TlsHelloAssembler st{};
  ClientHelloInfo info;
  // The first record and 3 bytes of the second header.
  Bytes part(stream.begin(), stream.begin() + first + 3);
  TlsAssembleResult r = AssembleClientHello(&st, part, absl::MakeSpan(scratch_), &info);
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.consumed, first);
  EXPECT_EQ(r.need, first + 5);
  Bytes rest(stream.begin() + first, stream.end());
  r = AssembleClientHello(&st, rest, absl::MakeSpan(scratch_), &info);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.consumed, rest.size());
  EXPECT_TRUE(Within(info.sni, scratch_));
}

// ---- server_name with several names ---------------------------------------------

Bytes ServerNameList(const std::vector<std::pair<uint8_t, std::string>>& entries) {
  Bytes list;
  for (const auto& [type, name] : entries) {
    testing::PutU8(&list, type);
    testing::PutU16(&list, static_cast<uint16_t>(name.size()));
    testing::PutString(&list, name);
  }
  Bytes data;
  testing::PutPrefixed(&data, 2, list);
  return data;
}

TEST_F(TlsTest, SniTwoHostNamesBothReported) {
  ClientHelloSpec s;
  s.sni = std::nullopt;
  s.extra_extensions = {{kTlsExtServerName, ServerNameList({{0, "allowed.example"}, {0, "www.tiktok.com"}})}};
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.sni, "allowed.example");
  ASSERT_EQ(info_.sni_count, 2);
  EXPECT_EQ(info_.sni_names[0], "allowed.example");
  EXPECT_EQ(info_.sni_names[1], "www.tiktok.com");
  EXPECT_TRUE(info_.sni_ambiguous);
  EXPECT_FALSE(info_.sni_capped);
  // One name: not ambiguous; entries of other types are not names.
  s.extra_extensions = {{kTlsExtServerName, ServerNameList({{7, "other.type"}, {0, "one.example"}})}};
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.sni, "one.example");
  EXPECT_EQ(info_.sni_count, 1);
  EXPECT_FALSE(info_.sni_ambiguous);
}

TEST_F(TlsTest, SniNamesCapped) {
  ClientHelloSpec s;
  s.sni = std::nullopt;
  std::vector<std::pair<uint8_t, std::string>> names;
  for (size_t i = 0; i <= kMaxTlsSniNames; ++i) names.push_back({0, "n" + std::to_string(i) + ".example"});
  s.extra_extensions = {{kTlsExtServerName, ServerNameList(names)}};
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.sni_count, kMaxTlsSniNames);
  EXPECT_TRUE(info_.sni_capped);
  EXPECT_TRUE(info_.sni_ambiguous);
}

TEST_F(TlsTest, DuplicateServerNameExtensionBothReported) {
  ClientHelloSpec s;
  s.sni = "first.example";
  s.extra_extensions = {{kTlsExtServerName, ServerNameList({{0, "www.tiktok.com"}})}};
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.sni, "first.example");
  ASSERT_EQ(info_.sni_count, 2);
  EXPECT_EQ(info_.sni_names[1], "www.tiktok.com");
  EXPECT_TRUE(info_.sni_ambiguous);
  // A broken second copy is tolerated; the first name stands.
  s.extra_extensions = {{kTlsExtServerName, testing::FromHex("00 05 00 00 09 61")}};
  ExpectTolerated(Parse(BuildClientHello(s)), TlsMalformed::kBadSni);
  EXPECT_EQ(info_.sni, "first.example");
  EXPECT_TRUE(info_.sni_ambiguous);
}

TEST_F(TlsTest, BytesAfterTheHello) {
  const Bytes hs = BuildClientHelloHandshake({});
  // Inside the hello's last record: ignored, consumed with the record.
  Bytes inner = hs;
  for (uint8_t b : testing::FromHex("0b 00 00 00")) inner.push_back(b);  // an empty Certificate
  Bytes stream = SplitIntoRecords(inner, 1);
  ExpectOk(Parse(stream));
  EXPECT_EQ(info_.stream_consumed, stream.size());
  // In later records (e.g. 0-RTT data): not consumed.
  stream = SplitIntoRecords(hs, 2);
  const size_t hello_end = stream.size();
  for (uint8_t b : testing::FromHex("17 03 03 00 03 aa bb cc")) stream.push_back(b);
  ExpectOk(Parse(stream));
  EXPECT_EQ(info_.stream_consumed, hello_end);
  EXPECT_EQ(info_.records, 2u);
}

TEST_F(TlsTest, BadServerName) {
  auto with_sni_data = [](const Bytes& data) {
    ClientHelloSpec s;
    s.sni.reset();
    s.extra_extensions.push_back({0, data});
    return BuildClientHello(s);
  };
  ExpectMalformed(Parse(with_sni_data({})), TlsMalformed::kBadSni);                       // no list
  ExpectMalformed(Parse(with_sni_data(testing::FromHex("00 00"))), TlsMalformed::kBadSni);  // empty list
  ExpectMalformed(Parse(with_sni_data(testing::FromHex("00 03 00 00 00"))), TlsMalformed::kBadSni);  // empty name
  ExpectMalformed(Parse(with_sni_data(testing::FromHex("00 07 00 00 03 61 62 63"))),     // list longer
                  TlsMalformed::kBadSni);
  ExpectMalformed(Parse(with_sni_data(testing::FromHex("00 06 00 00 03 61 62 63 00"))),  // trailing byte
                  TlsMalformed::kBadSni);
  // A non-host_name entry first: the host_name after it is reported.
  ExpectOk(Parse(with_sni_data(testing::FromHex("00 0b  01 00 02 78 79  00 00 03 61 62 63"))));
  EXPECT_EQ(info_.sni, "abc");
  EXPECT_TRUE(info_.has_sni);
  // Only a non-host_name entry: no SNI.
  ExpectOk(Parse(with_sni_data(testing::FromHex("00 05  01 00 02 78 79"))));
  EXPECT_FALSE(info_.has_sni);
  // Two host_names: the first.
  ExpectOk(Parse(with_sni_data(testing::FromHex("00 0c  00 00 03 61 62 63  00 00 03 64 65 66"))));
  EXPECT_EQ(info_.sni, "abc");
  // Two server_name extensions: the first wins, the second is not even parsed.
  ClientHelloSpec s;
  s.sni = "first.example";
  s.extra_extensions.push_back({0, testing::ServerNameExtData("second.example")});
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.sni, "first.example");
}

TEST_F(TlsTest, BadAlpn) {
  auto with_alpn_data = [](const Bytes& data) {
    ClientHelloSpec s;
    s.extra_extensions.push_back({16, data});
    return BuildClientHello(s);
  };
  // A broken ALPN is tolerated: the SNI is still reported, the ALPN is not.
  for (const Bytes& bad : {Bytes{}, testing::FromHex("00 00"), testing::FromHex("00 01 00"),
                           testing::FromHex("00 04 02 68 32"), testing::FromHex("00 03 03 68 32")}) {
    ExpectTolerated(Parse(with_alpn_data(bad)), TlsMalformed::kBadAlpn);
    EXPECT_TRUE(info_.has_sni);
    EXPECT_EQ(info_.alpn_first, "");
    EXPECT_EQ(info_.alpn_count, 0);
  }
  ExpectOk(Parse(with_alpn_data(testing::FromHex("00 03 02 68 32"))));
  EXPECT_EQ(info_.alpn_first, "h2");
  EXPECT_EQ(info_.alpn_count, 1);
  // 300 protocols: the count saturates.
  std::vector<std::string> many;
  // absl::StrCat: GCC 12 -O2 reports a false -Wrestrict on "p" + std::string&& (GCC bug 105329).
  for (int i = 0; i < 300; ++i) many.push_back(absl::StrCat("p", i));
  ClientHelloSpec s;
  s.alpn = many;
  ExpectOk(Parse(BuildClientHello(s)));
  EXPECT_EQ(info_.alpn_count, 255);
  EXPECT_EQ(info_.alpn_first, "p0");
}

TEST_F(TlsTest, BadBodyAndExtensions) {
  ClientHelloSpec s;
  s.session_id_len = 33;
  ExpectMalformed(Parse(BuildClientHello(s)), TlsMalformed::kTruncatedBody);
  // Odd cipher_suites length / empty compression methods, built by hand.
  Bytes body;
  testing::PutU16(&body, 0x0303);
  testing::PutFill(&body, 32, 0);
  testing::PutU8(&body, 0);                            // session id
  testing::PutPrefixed(&body, 2, Bytes{0x13, 0x01, 0x13});  // 3-byte cipher list
  testing::PutPrefixed(&body, 1, Bytes{0});
  ExpectMalformed(ParseClientHelloHandshake(WrapHandshake(body), &info_), TlsMalformed::kTruncatedBody);
  body.clear();
  testing::PutU16(&body, 0x0303);
  testing::PutFill(&body, 32, 0);
  testing::PutU8(&body, 0);
  testing::PutPrefixed(&body, 2, Bytes{0x13, 0x01});
  testing::PutPrefixed(&body, 1, Bytes{});  // no compression method: tolerated (tshark too)
  ExpectTolerated(ParseClientHelloHandshake(WrapHandshake(body), &info_), TlsMalformed::kTruncatedBody);

  // Trailing byte after the extensions block.
  Bytes full = BuildClientHelloBody({});
  full.push_back(0);
  ExpectTolerated(ParseClientHelloHandshake(WrapHandshake(full), &info_), TlsMalformed::kBadExtensions);
  // One lone byte where the extensions length should be.
  ClientHelloSpec bare;
  bare.no_extensions = true;
  Bytes one = BuildClientHelloBody(bare);
  one.push_back(0);
  ExpectMalformed(ParseClientHelloHandshake(WrapHandshake(one), &info_), TlsMalformed::kBadExtensions);
  // A key share with an empty key.
  ClientHelloSpec ks;
  ks.extra_extensions.push_back({51, testing::FromHex("00 04 00 1d 00 00")});
  ExpectTolerated(Parse(BuildClientHello(ks)), TlsMalformed::kBadExtensions);
  // supported_versions with an odd length.
  ClientHelloSpec sv;
  sv.supported_versions = {};
  sv.extra_extensions.push_back({43, testing::FromHex("03 03 04 03")});
  ExpectTolerated(Parse(BuildClientHello(sv)), TlsMalformed::kBadExtensions);
}

// Random corruption of valid streams: any verdict, no crash, no read past the
// exact-size buffer (run under ASan), views always inside the inputs.
TEST_F(TlsTest, RandomMutationsNeverCrash) {
  std::mt19937 rng(99);
  ClientHelloSpec s;
  s.alpn = {"h2", "http/1.1"};
  s.grease = true;
  s.ech = true;
  const Bytes hs = BuildClientHelloHandshake(s);
  const Bytes bases[] = {SplitIntoRecords(hs, 1), SplitIntoRecords(hs, 4), SplitIntoRecords(hs, 60)};
  for (int iter = 0; iter < 6000; ++iter) {
    Bytes m = bases[iter % 3];
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) m[rng() % m.size()] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) m.resize(rng() % (m.size() + 1));
    ClientHelloInfo info;
    const TlsParseResult r = Parse(m, &info);
    if (r.status == ParseStatus::kOk) {
      EXPECT_TRUE(info.sni.empty() || Within(info.sni, kept_.back()) || Within(info.sni, scratch_));
      EXPECT_LE(info.stream_consumed, m.size());
    }
    if (r.status == ParseStatus::kNeedMore) {
      EXPECT_GT(r.need, m.size());
    }
    (void)ParseClientHelloHandshake(absl::Span<const uint8_t>(m).subspan(std::min<size_t>(5, m.size())),
                                    &info);
  }
}

}  // namespace
}  // namespace vigie
