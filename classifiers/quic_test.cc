// Tests for classifiers/quic.h: RFC 9001 / RFC 9369 Appendix A vectors, packets
// protected by an independent test-side encryptor (OpenSSL HKDF + AES), CRYPTO
// reassembly, and bounds.

#include "classifiers/quic.h"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <iterator>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/testing/builders.h"
#include "classifiers/testing/quic_builder.h"
#include "classifiers/tls.h"
#include "gtest/gtest.h"

// ---- OpenSSL allocation counting --------------------------------------------------
// Installed before main (and before any OpenSSL use), so that the no-allocation test
// can count what libcrypto allocates during DecryptInitial.
namespace {
bool g_ossl_counting = false;
size_t g_ossl_allocations = 0;
void* CountingMalloc(size_t n, const char*, int) {
  if (g_ossl_counting) ++g_ossl_allocations;
  return std::malloc(n);
}
void* CountingRealloc(void* p, size_t n, const char*, int) {
  if (g_ossl_counting) ++g_ossl_allocations;
  return std::realloc(p, n);
}
void CountingFree(void* p, const char*, int) { std::free(p); }
const bool g_ossl_hooked = CRYPTO_set_mem_functions(CountingMalloc, CountingRealloc, CountingFree) == 1;
}  // namespace

namespace vigie {
namespace {

using testing::Bytes;
using testing::FromHex;

// ---- RFC vectors -----------------------------------------------------------------

// RFC 9001 A.2 and RFC 9369 A.2: the client's CRYPTO frame (identical in both),
// padded with PADDING frames to a 1162-byte payload.
constexpr std::string_view kRfcCryptoFrame = R"(
  060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868
  04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578
  616d706c652e636f6dff01000100000a 00080006001d00170018001000070005
  04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba
  baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400
  0d0010000e0403050306030203080408 050806002d00020101001c0002400100
  3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000
  75300901100f088394c8f03e51570806 048000ffff
)";

// RFC 9001 A.2: the protected client Initial (1200 bytes).
constexpr std::string_view kRfc9001ClientInitial = R"(
  c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11
  d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399
  1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c
  8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212
  30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5
  457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208
  4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec
  4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3
  485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db
  059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c
  7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8
  9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556
  be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74
  68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a
  c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00
  f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632
  291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964
  25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd
  14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff
  ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198
  e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd
  c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73
  203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f
  cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e
  fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade
  a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047
  90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2
  162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4
  40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0
  6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e
  8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0
  be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400
  54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab
  760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9
  f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4
  056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064
  7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241
  e221af44860018ab0856972e194cd934
)";

// RFC 9369 A.2: the protected QUIC v2 client Initial (1200 bytes).
constexpr std::string_view kRfc9369ClientInitial = R"(
  d76b3343cf088394c8f03e5157080000 449ea0c95e82ffe67b6abcdb4298b485
  dd04de806071bf03dceebfa162e75d6c 96058bdbfb127cdfcbf903388e99ad04
  9f9a3dd4425ae4d0992cfff18ecf0fdb 5a842d09747052f17ac2053d21f57c5d
  250f2c4f0e0202b70785b7946e992e58 a59ac52dea6774d4f03b55545243cf1a
  12834e3f249a78d395e0d18f4d766004 f1a2674802a747eaa901c3f10cda5500
  cb9122faa9f1df66c392079a1b40f0de 1c6054196a11cbea40afb6ef5253cd68
  18f6625efce3b6def6ba7e4b37a40f77 32e093daa7d52190935b8da58976ff33
  12ae50b187c1433c0f028edcc4c2838b 6a9bfc226ca4b4530e7a4ccee1bfa2a3
  d396ae5a3fb512384b2fdd851f784a65 e03f2c4fbe11a53c7777c023462239dd
  6f7521a3f6c7d5dd3ec9b3f233773d4b 46d23cc375eb198c63301c21801f6520
  bcfb7966fc49b393f0061d974a2706df 8c4a9449f11d7f3d2dcbb90c6b877045
  636e7c0c0fe4eb0f697545460c806910 d2c355f1d253bc9d2452aaa549e27a1f
  ac7cf4ed77f322e8fa894b6a83810a34 b361901751a6f5eb65a0326e07de7c12
  16ccce2d0193f958bb3850a833f7ae43 2b65bc5a53975c155aa4bcb4f7b2c4e5
  4df16efaf6ddea94e2c50b4cd1dfe060 17e0e9d02900cffe1935e0491d77ffb4
  fdf85290fdd893d577b1131a610ef6a5 c32b2ee0293617a37cbb08b847741c3b
  8017c25ca9052ca1079d8b78aebd4787 6d330a30f6a8c6d61dd1ab5589329de7
  14d19d61370f8149748c72f132f0fc99 f34d766c6938597040d8f9e2bb522ff9
  9c63a344d6a2ae8aa8e51b7b90a4a806 105fcbca31506c446151adfeceb51b91
  abfe43960977c87471cf9ad4074d30e1 0d6a7f03c63bd5d4317f68ff325ba3bd
  80bf4dc8b52a0ba031758022eb025cdd 770b44d6d6cf0670f4e990b22347a7db
  848265e3e5eb72dfe8299ad7481a4083 22cac55786e52f633b2fb6b614eaed18
  d703dd84045a274ae8bfa73379661388 d6991fe39b0d93debb41700b41f90a15
  c4d526250235ddcd6776fc77bc97e7a4 17ebcb31600d01e57f32162a8560cacc
  7e27a096d37a1a86952ec71bd89a3e9a 30a2a26162984d7740f81193e8238e61
  f6b5b984d4d3dfa033c1bb7e4f0037fe bf406d91c0dccf32acf423cfa1e70710
  10d3f270121b493ce85054ef58bada42 310138fe081adb04e2bd901f2f13458b
  3d6758158197107c14ebb193230cd115 7380aa79cae1374a7c1e5bbcb80ee23e
  06ebfde206bfb0fcbc0edc4ebec30966 1bdd908d532eb0c6adc38b7ca7331dce
  8dfce39ab71e7c32d318d136b6100671 a1ae6a6600e3899f31f0eed19e3417d1
  34b90c9058f8632c798d4490da498730 7cba922d61c39805d072b589bd52fdf1
  e86215c2d54e6670e07383a27bbffb5a ddf47d66aa85a0c6f9f32e59d85a44dd
  5d3b22dc2be80919b490437ae4f36a0a e55edf1d0b5cb4e9a3ecabee93dfc6e3
  8d209d0fa6536d27a5d6fbb17641cde2 7525d61093f1b28072d111b2b4ae5f89
  d5974ee12e5cf7d5da4d6a31123041f3 3e61407e76cffcdcfd7e19ba58cf4b53
  6f4c4938ae79324dc402894b44faf8af bab35282ab659d13c93f70412e85cb19
  9a37ddec600545473cfb5a05e08d0b20 9973b2172b4d21fb69745a262ccde96b
  a18b2faa745b6fe189cf772a9f84cbfc
)";

struct RfcVector {
  const char* name;
  uint32_t version;
  const char* initial_secret;
  const char* client_secret;
  const char* key;
  const char* iv;
  const char* hp;
  const char* sample;
  const char* mask;
  const char* unprotected_header;
  std::string_view packet;
};

const RfcVector kRfcVectors[] = {
    {"Rfc9001", kQuicVersion1,
     "7db5df06e7a69e432496adedb0085192 3595221596ae2ae9fb8115c1e9ed0a44",
     "c00cf151ca5be075ed0ebfb5c80323c4 2d6b7db67881289af4008f1f6c357aea",
     "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2",
     "d1b1c98dd7689fb8ec11d242b123dc9b", "437b9aec36", "c300000001088394c8f03e5157080000449e00000002",
     kRfc9001ClientInitial},
    {"Rfc9369", kQuicVersion2,
     "2062e8b3cd8d52092614b8071d0aa1fb 7c2e3ac193f78b280e72d8f5751f6aba",
     "14ec9d6eb9fd7af83bf5a668bc17a7e2 83766aade7ecd0891f70f9ff7f4bf47b",
     "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9",
     "ffe67b6abcdb4298b485dd04de806071", "94a0c95e80", "d36b3343cf088394c8f03e5157080000449e00000002",
     kRfc9369ClientInitial},
};

const Bytes kRfcDcid = FromHex("8394c8f03e515708");

Bytes Of(const uint8_t* p, size_t n) { return Bytes(p, p + n); }
Bytes Of(absl::Span<const uint8_t> s) { return Bytes(s.begin(), s.end()); }

class QuicRfcTest : public ::testing::TestWithParam<RfcVector> {};

TEST_P(QuicRfcTest, ClientInitialKeys) {
  const RfcVector& v = GetParam();
  QuicInitialSecrets s;
  ASSERT_TRUE(DeriveQuicClientInitialSecrets(v.version, kRfcDcid, &s));
  EXPECT_EQ(Of(s.initial_secret, 32), FromHex(v.initial_secret));
  EXPECT_EQ(Of(s.client_secret, 32), FromHex(v.client_secret));
  EXPECT_EQ(Of(s.key, 16), FromHex(v.key));
  EXPECT_EQ(Of(s.iv, 12), FromHex(v.iv));
  EXPECT_EQ(Of(s.hp, 16), FromHex(v.hp));
}

TEST_P(QuicRfcTest, HeaderProtectionSampleAndMask) {
  const RfcVector& v = GetParam();
  const Bytes packet = FromHex(v.packet);
  ASSERT_EQ(packet.size(), 1200u);
  // 4-byte packet number at offset 18: the sample starts at 22.
  EXPECT_EQ(Bytes(packet.begin() + 22, packet.begin() + 38), FromHex(v.sample));
  QuicInitialDecryptor d;
  uint8_t mask[5];
  ASSERT_TRUE(d.HeaderProtectionMask(FromHex(v.hp).data(), FromHex(v.sample).data(), mask));
  EXPECT_EQ(Of(mask, 5), FromHex(v.mask));
}

TEST_P(QuicRfcTest, ProtectedClientInitialDecrypts) {
  const RfcVector& v = GetParam();
  const Bytes packet = FromHex(v.packet);
  std::vector<uint8_t> plain(packet.size());
  QuicInitialDecryptor d;
  QuicInitialInfo info;
  const QuicParseResult r = d.DecryptInitial(packet, absl::MakeSpan(plain), &info);
  ASSERT_EQ(r.status, ParseStatus::kOk) << QuicMalformedName(r.error);
  EXPECT_EQ(info.version, v.version);
  EXPECT_EQ(Of(info.dcid, info.dcid_len), kRfcDcid);
  EXPECT_EQ(info.scid_len, 0);
  EXPECT_EQ(info.packet_number, 2u);
  EXPECT_EQ(info.packet_length, 1200u);
  // The unprotected header, then the frames: the CRYPTO frame and PADDING to 1162.
  const Bytes header = FromHex(v.unprotected_header);
  EXPECT_EQ(Bytes(plain.begin(), plain.begin() + header.size()), header);
  Bytes frames = FromHex(kRfcCryptoFrame);
  frames.resize(1162, 0);
  EXPECT_EQ(Bytes(plain.begin() + header.size(), plain.begin() + header.size() + 1162), frames);

  ASSERT_EQ(info.crypto_count, 1);
  EXPECT_FALSE(info.crypto_frames_capped);
  EXPECT_EQ(info.crypto[0].offset, 0u);
  const Bytes crypto_frame = FromHex(kRfcCryptoFrame);
  EXPECT_EQ(Of(info.crypto[0].data), Bytes(crypto_frame.begin() + 4, crypto_frame.end()));  // 06 00 40f1

  ClientHelloInfo ch;
  const TlsParseResult t = ParseClientHelloHandshake(info.crypto[0].data, &ch);
  ASSERT_EQ(t.status, ParseStatus::kOk) << TlsMalformedName(t.error);
  EXPECT_EQ(ch.sni, "example.com");
  EXPECT_EQ(ch.alpn_first, "alpn");
}

TEST_P(QuicRfcTest, CorruptedTagIsDecryptFailed) {
  Bytes packet = FromHex(GetParam().packet);
  packet.back() ^= 0x01;
  std::vector<uint8_t> plain(packet.size());
  QuicInitialDecryptor d;
  QuicInitialInfo info;
  const QuicParseResult r = d.DecryptInitial(packet, absl::MakeSpan(plain), &info);
  EXPECT_EQ(r.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.error, QuicMalformed::kDecryptFailed);
}

TEST_P(QuicRfcTest, CorruptedCiphertextIsDecryptFailed) {
  Bytes packet = FromHex(GetParam().packet);
  packet[600] ^= 0x80;
  std::vector<uint8_t> plain(packet.size());
  QuicInitialDecryptor d;
  QuicInitialInfo info;
  EXPECT_EQ(d.DecryptInitial(packet, absl::MakeSpan(plain), &info).error, QuicMalformed::kDecryptFailed);
}

// Every truncation of the datagram, as an exact-size heap copy (so that ASan sees
// any overread): never kOk, never kNeedMore, never a crash.
TEST_P(QuicRfcTest, TruncatedAtEveryByteIsMalformed) {
  const Bytes packet = FromHex(GetParam().packet);
  QuicInitialDecryptor d;
  QuicInitialInfo info;
  for (size_t n = 0; n < packet.size(); ++n) {
    std::vector<uint8_t> copy(packet.begin(), packet.begin() + n);
    std::vector<uint8_t> plain(n);
    const QuicParseResult r = d.DecryptInitial(copy, absl::MakeSpan(plain), &info);
    ASSERT_EQ(r.status, ParseStatus::kMalformed) << n;
    ASSERT_EQ(r.error, QuicMalformed::kBadLength) << n;
  }
}

INSTANTIATE_TEST_SUITE_P(QuicRfc, QuicRfcTest, ::testing::ValuesIn(kRfcVectors),
                         [](const auto& p) { return std::string(p.param.name); });

// ---- Independent test-side protection (OpenSSL HKDF, AES-GCM, AES-ECB) ------------------

// The protector lives in classifiers/testing/quic_builder.h (shared with gateway tests).
using testing::ClientKeys;
using testing::Concat;
using testing::CryptoFrame;
using testing::LongType;
using testing::PacketSpec;
using testing::Protect;
using testing::TestKeys;
using testing::TestVersion;
using testing::TypeBits;
const auto& kTestVersions = testing::kQuicTestVersions;

void PrintTo(const RfcVector& v, std::ostream* os) { *os << v.name; }

class QuicVersionTest : public ::testing::TestWithParam<TestVersion> {};

// Our HKDF against OpenSSL's, for every supported version.
TEST_P(QuicVersionTest, KeysMatchOpenSslHkdf) {
  const TestVersion& v = GetParam();
  EXPECT_TRUE(IsQuicVersionSupported(v.version));
  // (OpenSSL's HKDF refuses an empty key, so no zero-length DCID here.)
  for (const Bytes& dcid : {FromHex("01"), kRfcDcid, Bytes(20, 0xa5)}) {
    SCOPED_TRACE(dcid.size());
    QuicInitialSecrets s;
    ASSERT_TRUE(DeriveQuicClientInitialSecrets(v.version, dcid, &s));
    const TestKeys k = ClientKeys(v, dcid);
    EXPECT_EQ(Of(s.key, 16), k.key);
    EXPECT_EQ(Of(s.iv, 12), k.iv);
    EXPECT_EQ(Of(s.hp, 16), k.hp);
  }
}

// A ClientHello cut into three CRYPTO pieces sent out of order across two Initial
// packets; the first datagram also carries a coalesced 0-RTT packet.
TEST_P(QuicVersionTest, SplitOutOfOrderCoalescedClientHello) {
  const TestVersion& v = GetParam();
  testing::ClientHelloSpec spec;
  spec.sni = "split.example.org";
  spec.alpn = {"h3"};
  spec.pq_key_share = true;  // ~1.5 KB: needs two Initial packets anyway
  const Bytes ch = testing::BuildClientHelloHandshake(spec);
  ASSERT_GT(ch.size(), 1300u);
  const size_t a = 300, b = 1000;
  const absl::Span<const uint8_t> all(ch);

  PacketSpec p1;
  p1.pn = 0;
  p1.frames = CryptoFrame(b, all.subspan(b), v.gquic);  // third piece first
  p1.frames.push_back(v.gquic ? 0x07 : 0x01);           // PING
  testing::PutFill(&p1.frames, 7, 0x00);                // PADDING
  testing::PutBytes(&p1.frames, CryptoFrame(0, all.subspan(0, a), v.gquic));
  if (v.gquic) {
    testing::PutBytes(&p1.frames, FromHex("40 01 08c5 01 00"));  // gQUIC ACK (parsing stops there)
  } else {
    testing::PutBytes(&p1.frames, FromHex("02 05 00 01 00 03 01"));  // ACK: 1 extra range
  }
  PacketSpec zero_rtt;
  zero_rtt.type = LongType::kZeroRtt;
  zero_rtt.pn = 1;
  zero_rtt.frames = Bytes(100, 0x42);
  const Bytes initial1 = Protect(v, p1);
  const Bytes rtt0 = Protect(v, zero_rtt);
  const Bytes dgram1 = Concat(initial1, rtt0);

  PacketSpec p2;
  p2.pn = 1;
  p2.pn_len = 1;
  p2.token = FromHex("746f6b656e");
  p2.frames = CryptoFrame(a, all.subspan(a, b - a), v.gquic);
  p2.pad_to = 1200;
  const Bytes dgram2 = Protect(v, p2);
  EXPECT_EQ(dgram2.size(), 1200u);

  QuicInitialDecryptor d;
  std::vector<uint8_t> crypto_buf(kMaxQuicCryptoBytes);
  QuicCryptoAssembler assembler(absl::MakeSpan(crypto_buf));
  std::vector<uint8_t> plain(kMaxQuicDatagram);
  QuicInitialInfo info;
  ClientHelloInfo hello;

  // Datagram 1: Initial (2 CRYPTO frames), then the 0-RTT packet.
  absl::Span<const uint8_t> rest(dgram1);
  QuicParseResult r = d.DecryptInitial(rest, absl::MakeSpan(plain), &info);
  ASSERT_EQ(r.status, ParseStatus::kOk) << QuicMalformedName(r.error);
  EXPECT_EQ(info.version, v.version);
  EXPECT_EQ(info.packet_length, initial1.size());
  EXPECT_EQ(info.scid_len, 4);
  ASSERT_EQ(info.crypto_count, 2);
  EXPECT_EQ(info.crypto[0].offset, b);
  EXPECT_EQ(info.crypto[1].offset, 0u);
  for (size_t i = 0; i < info.crypto_count; ++i) EXPECT_TRUE(assembler.Add(info.crypto[i].offset, info.crypto[i].data));
  EXPECT_EQ(assembler.contiguous().size(), a);
  EXPECT_EQ(ParseClientHelloHandshake(assembler.contiguous(), &hello).status, ParseStatus::kNeedMore);

  rest = rest.subspan(info.packet_length);
  r = d.DecryptInitial(rest, absl::MakeSpan(plain), &info);
  EXPECT_EQ(r.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.error, QuicMalformed::kNotInitial);
  EXPECT_EQ(info.packet_length, rtt0.size());
  EXPECT_EQ(rest.size(), info.packet_length);

  // Datagram 2: the middle piece completes the ClientHello.
  r = d.DecryptInitial(dgram2, absl::MakeSpan(plain), &info);
  ASSERT_EQ(r.status, ParseStatus::kOk) << QuicMalformedName(r.error);
  EXPECT_EQ(info.packet_number, 1u);
  ASSERT_EQ(info.crypto_count, 1);
  EXPECT_TRUE(assembler.Add(info.crypto[0].offset, info.crypto[0].data));
  EXPECT_EQ(Of(assembler.contiguous()), ch);
  const TlsParseResult t = ParseClientHelloHandshake(assembler.contiguous(), &hello);
  ASSERT_EQ(t.status, ParseStatus::kOk) << TlsMalformedName(t.error);
  EXPECT_EQ(hello.sni, "split.example.org");
  EXPECT_EQ(hello.alpn_first, "h3");
  EXPECT_TRUE(hello.pq_key_share);
}

TEST_P(QuicVersionTest, HandshakeAndRetryAreNotInitial) {
  const TestVersion& v = GetParam();
  PacketSpec hs;
  hs.type = LongType::kHandshake;
  hs.frames = Bytes(40, 0x11);
  const Bytes handshake = Protect(v, hs);
  QuicInitialDecryptor d;
  std::vector<uint8_t> plain(kMaxQuicDatagram);
  QuicInitialInfo info;
  const Bytes dgram = Concat(handshake, Bytes(10, 0x00));
  QuicParseResult r = d.DecryptInitial(dgram, absl::MakeSpan(plain), &info);
  EXPECT_EQ(r.error, QuicMalformed::kNotInitial);
  EXPECT_EQ(info.packet_length, handshake.size());

  Bytes retry;
  testing::PutU8(&retry, static_cast<uint8_t>(0xc0 | (TypeBits(LongType::kRetry, v.v2) << 4)));
  testing::PutU32(&retry, v.version);
  testing::PutPrefixed(&retry, 1, FromHex("0102"));
  testing::PutPrefixed(&retry, 1, FromHex("0304"));
  testing::PutFill(&retry, 21, 0x77);  // token + integrity tag
  r = d.DecryptInitial(retry, absl::MakeSpan(plain), &info);
  EXPECT_EQ(r.error, QuicMalformed::kNotInitial);
  EXPECT_EQ(info.packet_length, retry.size());
}

TEST_P(QuicVersionTest, TruncatedCoalescedDatagramNeverCrashes) {
  const TestVersion& v = GetParam();
  PacketSpec p;
  p.frames = CryptoFrame(0, testing::BuildClientHelloHandshake({}), v.gquic);
  const Bytes initial = Protect(v, p);
  PacketSpec z;
  z.type = LongType::kZeroRtt;
  z.frames = Bytes(30, 0x42);
  const Bytes dgram = Concat(initial, Protect(v, z));
  QuicInitialDecryptor d;
  QuicInitialInfo info;
  for (size_t n = 0; n <= dgram.size(); ++n) {
    std::vector<uint8_t> copy(dgram.begin(), dgram.begin() + n);
    std::vector<uint8_t> plain(n);
    const QuicParseResult r = d.DecryptInitial(copy, absl::MakeSpan(plain), &info);
    ASSERT_NE(r.status, ParseStatus::kNeedMore);
    if (n < initial.size()) {
      ASSERT_EQ(r.error, QuicMalformed::kBadLength) << n;
      continue;
    }
    ASSERT_EQ(r.status, ParseStatus::kOk) << n;  // the Initial is whole; the tail is the next packet's business
    ASSERT_EQ(info.packet_length, initial.size());
    const absl::Span<const uint8_t> tail = absl::MakeSpan(copy).subspan(info.packet_length);
    const QuicParseResult r2 = d.DecryptInitial(tail, absl::MakeSpan(plain), &info);
    ASSERT_EQ(r2.status, ParseStatus::kMalformed);
    ASSERT_EQ(r2.error, n == dgram.size() ? QuicMalformed::kNotInitial : QuicMalformed::kBadLength) << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Quic, QuicVersionTest, ::testing::ValuesIn(kTestVersions),
                         [](const auto& p) { return std::string(p.param.name); });

// ---- Header and frame errors -----------------------------------------------------------

const TestVersion& V1() { return kTestVersions[0]; }

QuicParseResult Decrypt(const Bytes& dgram, QuicInitialInfo* info) {
  static QuicInitialDecryptor d;
  static std::vector<uint8_t> plain(kMaxQuicDatagram);
  return d.DecryptInitial(dgram, absl::MakeSpan(plain), info);
}

TEST(QuicInitialTest, ShortHeaderEmptyAndUnknownVersion) {
  QuicInitialInfo info;
  EXPECT_EQ(Decrypt({}, &info).error, QuicMalformed::kBadLength);
  EXPECT_EQ(Decrypt(FromHex("40 0102030405060708 aabbccdd"), &info).error, QuicMalformed::kNotLongHeader);
  EXPECT_EQ(Decrypt(FromHex("c0 000000"), &info).error, QuicMalformed::kBadLength);  // version cut
  for (uint32_t version : {0x00000000u, 0x1a2a3a4au, 0xff000016u, 0xff000021u, 0x00000002u, 0x51303436u}) {
    EXPECT_FALSE(IsQuicVersionSupported(version)) << std::hex << version;
    Bytes p = Protect({"X", version, "38762cf7f55934b34d179ae6a4c80cadccbb7f0a", false}, PacketSpec{});
    const QuicParseResult r = Decrypt(p, &info);
    EXPECT_EQ(r.status, ParseStatus::kMalformed);
    EXPECT_EQ(r.error, QuicMalformed::kUnknownVersion) << std::hex << version;
    EXPECT_EQ(info.version, version);
  }
}

TEST(QuicInitialTest, ConnectionIdLongerThan20IsBadHeader) {
  Bytes p = FromHex("c0 00000001");
  testing::PutPrefixed(&p, 1, Bytes(21, 1));
  testing::PutFill(&p, 1200, 0);
  QuicInitialInfo info;
  EXPECT_EQ(Decrypt(p, &info).error, QuicMalformed::kBadHeader);
  Bytes q = FromHex("c0 00000001 00");
  testing::PutPrefixed(&q, 1, Bytes(21, 1));
  testing::PutFill(&q, 1200, 0);
  EXPECT_EQ(Decrypt(q, &info).error, QuicMalformed::kBadHeader);
  PacketSpec s;
  s.dcid = Bytes(20, 0xdc);
  s.scid = Bytes(20, 0x5c);
  s.frames = FromHex("01");
  const QuicParseResult r = Decrypt(Protect(V1(), s), &info);
  EXPECT_EQ(r.status, ParseStatus::kOk) << QuicMalformedName(r.error);
  EXPECT_EQ(info.dcid_len, 20);
}

TEST(QuicInitialTest, LengthBeyondDatagramOrTooShortToSample) {
  PacketSpec s;
  s.frames = FromHex("01");
  Bytes p = Protect(V1(), s);
  QuicInitialInfo info;
  p.pop_back();
  EXPECT_EQ(Decrypt(p, &info).error, QuicMalformed::kBadLength);
  // length 19 < 4 + 16: no room for the sample.
  Bytes q = FromHex("c0 00000001 04 01020304 00 00 13");
  testing::PutFill(&q, 19, 0);
  EXPECT_EQ(Decrypt(q, &info).error, QuicMalformed::kBadLength);
  // A token longer than the datagram.
  EXPECT_EQ(Decrypt(FromHex("c0 00000001 00 00 44 00 aabb"), &info).error, QuicMalformed::kBadLength);
}

TEST(QuicInitialTest, PlaintextBufferTooSmallIsRefused) {
  PacketSpec s;
  s.frames = FromHex("01");
  s.pad_to = 1200;
  const Bytes p = Protect(V1(), s);
  QuicInitialDecryptor d;
  std::vector<uint8_t> plain(p.size() - 1);
  QuicInitialInfo info;
  EXPECT_EQ(d.DecryptInitial(p, absl::MakeSpan(plain), &info).error, QuicMalformed::kBadLength);
}

TEST(QuicInitialTest, FramesNotAllowedInInitialAreBadFrame) {
  QuicInitialInfo info;
  for (const char* frames : {"08 00 01 41",      // STREAM
                             "1d 00 00",         // application CONNECTION_CLOSE
                             "06 00 05 010203",  // CRYPTO longer than the packet
                             "02 00 00 05 00",   // ACK announcing 5 ranges, holding none
                             "1c 0a 06 09 6162"}) {  // CONNECTION_CLOSE reason cut
    PacketSpec s;
    s.frames = FromHex(frames);
    s.pad_to = 0;  // the faulty frame must end the packet (padding would follow it)
    const QuicParseResult r = Decrypt(Protect(V1(), s), &info);
    EXPECT_EQ(r.error, QuicMalformed::kBadFrame) << frames;
  }
  PacketSpec ok;
  ok.frames = FromHex("1c 0a 06 02 6869  03 09 00 00 00 01 02 03  06 00 02 1603");  // CLOSE, ACK-ECN, CRYPTO
  const QuicParseResult r = Decrypt(Protect(V1(), ok), &info);
  ASSERT_EQ(r.status, ParseStatus::kOk) << QuicMalformedName(r.error);
  ASSERT_EQ(info.crypto_count, 1);
  EXPECT_EQ(Of(info.crypto[0].data), FromHex("1603"));
}

// RFC 9001 §5.2: after the server's Initial, the client addresses the server's
// chosen connection ID but keeps the keys of its first DCID (the pattern of nDPI's
// quic_frags_different_dcid capture).
TEST(QuicInitialTest, LaterInitialWithServerChosenDcidNeedsTheOriginalDcid) {
  const Bytes original = FromHex("ac49898ddc4590e8");
  PacketSpec s;
  s.dcid = FromHex("0164bccb0bceb2de8f64afc9a9cea6a36437ab44");
  s.key_dcid = original;
  s.pn = 3;
  s.frames = FromHex("06 00 02 1603");
  const Bytes p = Protect(V1(), s);
  QuicInitialDecryptor d;
  std::vector<uint8_t> plain(p.size());
  QuicInitialInfo info;
  EXPECT_EQ(d.DecryptInitial(p, absl::MakeSpan(plain), &info).error, QuicMalformed::kDecryptFailed);
  QuicParseResult r = d.DecryptInitial(p, absl::MakeSpan(plain), &info, original);
  ASSERT_EQ(r.status, ParseStatus::kOk) << QuicMalformedName(r.error);
  EXPECT_EQ(Of(info.dcid, info.dcid_len), s.dcid);
  EXPECT_EQ(info.packet_number, 3u);
  ASSERT_EQ(info.crypto_count, 1);
  // A packet of a new connection (keys from its own DCID) still decrypts when the
  // caller passes a stale original DCID.
  PacketSpec fresh;
  fresh.frames = FromHex("01");
  const Bytes q = Protect(V1(), fresh);
  r = d.DecryptInitial(q, absl::MakeSpan(plain), &info, original);
  EXPECT_EQ(r.status, ParseStatus::kOk) << QuicMalformedName(r.error);
}

TEST(QuicInitialTest, T051UsesGoogleFrameTypes) {
  const TestVersion& t051 = kTestVersions[std::size(kTestVersions) - 1];
  ASSERT_TRUE(t051.gquic);
  QuicInitialInfo info;
  PacketSpec ietf;
  ietf.frames = FromHex("06 00 02 1603");  // IETF CRYPTO type: not a T051 frame
  EXPECT_EQ(Decrypt(Protect(t051, ietf), &info).error, QuicMalformed::kBadFrame);
  PacketSpec g;
  g.frames = FromHex("07 08 00 02 1603 00 00 40 01 08c5 01 00 ff ff");  // PING, CRYPTO, PADDING, ACK, (not parsed)
  const QuicParseResult r = Decrypt(Protect(t051, g), &info);
  ASSERT_EQ(r.status, ParseStatus::kOk) << QuicMalformedName(r.error);
  ASSERT_EQ(info.crypto_count, 1);
  EXPECT_EQ(Of(info.crypto[0].data), FromHex("1603"));
}

TEST(QuicInitialTest, MoreThan64CryptoFramesAreCapped) {
  PacketSpec s;
  for (size_t i = 0; i < kMaxCryptoFramesPerPacket + 3; ++i) {
    const uint8_t byte = static_cast<uint8_t>(i);
    testing::PutBytes(&s.frames, CryptoFrame(i, Bytes{byte}));
  }
  QuicInitialInfo info;
  const QuicParseResult r = Decrypt(Protect(V1(), s), &info);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(info.crypto_count, kMaxCryptoFramesPerPacket);
  EXPECT_TRUE(info.crypto_frames_capped);
}

TEST(QuicInitialTest, NamesAreStable) {
  EXPECT_STREQ(QuicMalformedName(QuicMalformed::kNone), "none");
  EXPECT_STREQ(QuicMalformedName(QuicMalformed::kNotLongHeader), "not_long_header");
  EXPECT_STREQ(QuicMalformedName(QuicMalformed::kDecryptFailed), "decrypt_failed");
  EXPECT_STREQ(QuicMalformedName(QuicMalformed::kCryptoTooLarge), "crypto_too_large");
}

// Once warmed up, DecryptInitial makes no OpenSSL allocation (our own code cannot
// allocate: it has no allocating call).
TEST(QuicInitialTest, DecryptDoesNotAllocate) {
  if (!g_ossl_hooked) GTEST_SKIP() << "OpenSSL allocated before the hook could be installed";
  const Bytes v1 = FromHex(kRfc9001ClientInitial);
  const Bytes v2 = FromHex(kRfc9369ClientInitial);
  QuicInitialDecryptor d;
  std::vector<uint8_t> plain(kMaxQuicDatagram);
  QuicInitialInfo info;
  ASSERT_EQ(d.DecryptInitial(v1, absl::MakeSpan(plain), &info).status, ParseStatus::kOk);
  g_ossl_allocations = 0;
  g_ossl_counting = true;
  for (int i = 0; i < 10; ++i) {
    d.DecryptInitial(v1, absl::MakeSpan(plain), &info);
    d.DecryptInitial(v2, absl::MakeSpan(plain), &info);
  }
  g_ossl_counting = false;
  EXPECT_EQ(g_ossl_allocations, 0u);
  EXPECT_EQ(info.crypto_count, 1);
}

// ---- QuicCryptoAssembler -------------------------------------------------------------------

Bytes Seq(size_t from, size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(from + i);
  return b;
}

TEST(QuicCryptoAssemblerTest, OutOfOrderAndOverlapsFirstReceivedKept) {
  std::vector<uint8_t> buf(kMaxQuicCryptoBytes);
  QuicCryptoAssembler a(absl::MakeSpan(buf));
  EXPECT_TRUE(a.contiguous().empty());
  EXPECT_TRUE(a.Add(10, Seq(10, 10)));
  EXPECT_TRUE(a.contiguous().empty());
  EXPECT_EQ(a.ranges(), 1u);
  EXPECT_TRUE(a.Add(0, Bytes(12, 0xee)));  // overlaps [10,12): those keep the first bytes
  ASSERT_EQ(a.contiguous().size(), 20u);
  Bytes want(10, 0xee);
  testing::PutBytes(&want, Seq(10, 10));
  EXPECT_EQ(Of(a.contiguous()), want);
  EXPECT_TRUE(a.Add(25, Seq(25, 5)));
  EXPECT_EQ(a.ranges(), 2u);
  EXPECT_TRUE(a.Add(15, Bytes(15, 0xff)));  // fills [20,25) only, bridges the ranges
  EXPECT_EQ(a.ranges(), 1u);
  ASSERT_EQ(a.contiguous().size(), 30u);
  EXPECT_EQ(a.contiguous()[19], 19);
  EXPECT_EQ(a.contiguous()[20], 0xff);
  EXPECT_EQ(a.contiguous()[24], 0xff);
  EXPECT_EQ(a.contiguous()[25], 25);
  EXPECT_TRUE(a.Add(3, {}));
  EXPECT_FALSE(a.capped());
  a.Reset();
  EXPECT_TRUE(a.contiguous().empty());
  EXPECT_EQ(a.ranges(), 0u);
}

TEST(QuicCryptoAssemblerTest, BeyondCapIsCapped) {
  std::vector<uint8_t> buf(kMaxQuicCryptoBytes);
  QuicCryptoAssembler a(absl::MakeSpan(buf));
  EXPECT_TRUE(a.Add(kMaxQuicCryptoBytes - 4, Seq(0, 4)));  // ends exactly at the cap
  EXPECT_FALSE(a.capped());
  EXPECT_FALSE(a.Add(kMaxQuicCryptoBytes, Seq(0, 1)));  // first byte past the cap
  EXPECT_TRUE(a.capped());
  a.Reset();
  EXPECT_FALSE(a.Add(kMaxQuicCryptoBytes - 2, Seq(0, 4)));  // straddles: the part below is kept
  EXPECT_TRUE(a.capped());
  EXPECT_EQ(a.ranges(), 1u);
  EXPECT_FALSE(a.Add(uint64_t{1} << 61, Seq(0, 4)));
  // A larger buffer is used only up to the cap.
  std::vector<uint8_t> big(kMaxQuicCryptoBytes * 2);
  QuicCryptoAssembler b(absl::MakeSpan(big));
  EXPECT_FALSE(b.Add(kMaxQuicCryptoBytes, Seq(0, 1)));
  // A smaller buffer caps lower.
  std::vector<uint8_t> small(100);
  QuicCryptoAssembler c(absl::MakeSpan(small));
  EXPECT_FALSE(c.Add(90, Seq(0, 20)));
  EXPECT_TRUE(c.capped());
}

TEST(QuicCryptoAssemblerTest, TooManyHolesIsCapped) {
  std::vector<uint8_t> buf(kMaxQuicCryptoBytes);
  QuicCryptoAssembler a(absl::MakeSpan(buf));
  for (size_t i = 0; i < kMaxQuicCryptoRanges; ++i) EXPECT_TRUE(a.Add(10 + 3 * i, Seq(0, 1)));
  EXPECT_EQ(a.ranges(), kMaxQuicCryptoRanges);
  EXPECT_FALSE(a.Add(1000, Seq(0, 1)));  // a 33rd range
  EXPECT_TRUE(a.capped());
  EXPECT_EQ(a.ranges(), kMaxQuicCryptoRanges);
  EXPECT_TRUE(a.Add(11, Seq(0, 2)));  // filling a hole merges two ranges: fine
  EXPECT_EQ(a.ranges(), kMaxQuicCryptoRanges - 1);
}

// The CRYPTO stream of a real connection capped: a ClientHello larger than 16 KiB
// never completes; the assembler says so instead of waiting forever.
TEST(QuicCryptoAssemblerTest, HugeClientHelloIsCapped) {
  testing::ClientHelloSpec spec;
  spec.padding = kMaxQuicCryptoBytes;
  const Bytes ch = testing::BuildClientHelloHandshake(spec);
  std::vector<uint8_t> buf(kMaxQuicCryptoBytes);
  QuicCryptoAssembler a(absl::MakeSpan(buf));
  bool all = true;
  for (size_t off = 0; off < ch.size(); off += 1100) {
    all &= a.Add(off, absl::Span<const uint8_t>(ch).subspan(off, std::min<size_t>(1100, ch.size() - off)));
  }
  EXPECT_FALSE(all);
  EXPECT_TRUE(a.capped());
  ClientHelloInfo hello;
  EXPECT_EQ(ParseClientHelloHandshake(a.contiguous(), &hello).status, ParseStatus::kMalformed);  // kTooLarge
}

}  // namespace
}  // namespace vigie

namespace vigie {
namespace {

using testing::Bytes;
using testing::CryptoFrame;
using testing::FromHex;
using testing::PacketSpec;
using testing::Protect;

Bytes ClientInitial(const testing::TestVersion& v, const std::string& sni, bool quic_bit) {
  testing::ClientHelloSpec spec;
  spec.sni = sni;
  spec.alpn = {"h3"};
  PacketSpec p;
  p.frames = CryptoFrame(0, testing::BuildClientHelloHandshake(spec), v.gquic);
  p.pad_to = kQuicMinInitialDatagram;
  p.quic_bit = quic_bit;
  return Protect(v, p);
}

class QuicBitTest : public ::testing::TestWithParam<testing::TestVersion> {};

// RFC 9287 (grease_quic_bit): an Initial with the QUIC bit cleared is still an
// Initial a server may accept; it decrypts and its ClientHello is read.
TEST_P(QuicBitTest, InitialWithQuicBitClearedDecrypts) {
  const testing::TestVersion& v = GetParam();
  const Bytes dgram = ClientInitial(v, "www.tiktok.com", false);
  ASSERT_EQ(dgram[0] & 0x40, 0);
  QuicInitialDecryptor d;
  std::vector<uint8_t> plain(kMaxQuicDatagram);
  QuicInitialInfo info;
  const QuicParseResult r = d.DecryptInitial(dgram, absl::MakeSpan(plain), &info);
  ASSERT_EQ(r.status, ParseStatus::kOk) << QuicMalformedName(r.error);
  EXPECT_FALSE(info.quic_bit);
  ASSERT_EQ(info.crypto_count, 1);
  ClientHelloInfo ch;
  ASSERT_EQ(ParseClientHelloHandshake(info.crypto[0].data, &ch).status, ParseStatus::kOk);
  EXPECT_EQ(ch.sni, "www.tiktok.com");
  EXPECT_TRUE(LooksLikeQuicInitial(dgram));
  QuicLongHeader h;
  ASSERT_EQ(ParseQuicLongHeader(dgram, &h).status, ParseStatus::kOk);
  EXPECT_FALSE(h.quic_bit);
  EXPECT_EQ(h.type, QuicPacketType::kInitial);
  // And with the bit set, as usual.
  const Bytes set = ClientInitial(v, "www.tiktok.com", true);
  ASSERT_EQ(d.DecryptInitial(set, absl::MakeSpan(plain), &info).status, ParseStatus::kOk);
  EXPECT_TRUE(info.quic_bit);
  EXPECT_TRUE(LooksLikeQuicInitial(set));
}

INSTANTIATE_TEST_SUITE_P(Versions, QuicBitTest, ::testing::ValuesIn(testing::kQuicTestVersions),
                         [](const ::testing::TestParamInfo<testing::TestVersion>& p) { return p.param.name; });

TEST(QuicLongHeaderTest, FieldsOfAnInitial) {
  const testing::TestVersion& v = testing::kQuicTestVersions[0];
  PacketSpec p;
  p.dcid = FromHex("0102030405060708090a");
  p.scid = FromHex("aabb");
  p.token = FromHex("77 88 99");
  p.frames = CryptoFrame(0, testing::BuildClientHelloHandshake({}));
  p.pad_to = 1200;
  const Bytes dgram = Protect(v, p);
  QuicLongHeader h;
  ASSERT_EQ(ParseQuicLongHeader(dgram, &h).status, ParseStatus::kOk);
  EXPECT_TRUE(h.quic_bit);
  EXPECT_TRUE(h.version_supported);
  EXPECT_EQ(h.version, kQuicVersion1);
  EXPECT_EQ(Bytes(h.dcid.begin(), h.dcid.end()), p.dcid);
  EXPECT_EQ(Bytes(h.scid.begin(), h.scid.end()), p.scid);
  EXPECT_EQ(Bytes(h.token.begin(), h.token.end()), p.token);
  EXPECT_EQ(h.type, QuicPacketType::kInitial);
  EXPECT_EQ(h.packet_length, dgram.size());
  EXPECT_EQ(h.pn_offset + h.length, dgram.size());
  EXPECT_EQ(Bytes(QuicLongHeaderDcid(dgram).begin(), QuicLongHeaderDcid(dgram).end()), p.dcid);
}

TEST(QuicLongHeaderTest, TypesPerVersion) {
  for (const testing::TestVersion& v : testing::kQuicTestVersions) {
    PacketSpec p;
    p.type = testing::LongType::kHandshake;
    p.frames = FromHex("01");
    p.pad_to = 1200;
    const Bytes hs = Protect(v, p);
    QuicLongHeader h;
    ASSERT_EQ(ParseQuicLongHeader(hs, &h).status, ParseStatus::kOk) << v.name;
    EXPECT_EQ(h.type, QuicPacketType::kHandshake) << v.name;
    EXPECT_FALSE(LooksLikeQuicInitial(hs)) << v.name;
  }
}

TEST(QuicLongHeaderTest, UnknownVersionKeepsInvariants) {
  // Version Negotiation (version 0) and an unknown version: the RFC 8999 fields.
  const Bytes vn = FromHex("80 00000000 04 01020304 02 0a0b 00000001 6b3343cf");
  QuicLongHeader h;
  const QuicParseResult r = ParseQuicLongHeader(vn, &h);
  EXPECT_EQ(r.error, QuicMalformed::kUnknownVersion);
  EXPECT_FALSE(h.version_supported);
  EXPECT_EQ(Bytes(h.dcid.begin(), h.dcid.end()), FromHex("01020304"));
  EXPECT_EQ(Bytes(h.scid.begin(), h.scid.end()), FromHex("0a0b"));
  EXPECT_EQ(Bytes(QuicLongHeaderDcid(vn).begin(), QuicLongHeaderDcid(vn).end()), FromHex("01020304"));
  // A CID over 20 bytes in an unknown version is still an invariant header, but
  // not a DCID we can use.
  Bytes big = FromHex("c0 1a2a3a4a 15");
  testing::PutFill(&big, 21, 0x11);
  testing::PutU8(&big, 0);
  EXPECT_EQ(ParseQuicLongHeader(big, &h).error, QuicMalformed::kUnknownVersion);
  EXPECT_TRUE(QuicLongHeaderDcid(big).empty());
}

TEST(QuicLongHeaderTest, MalformedHeaders) {
  QuicLongHeader h;
  EXPECT_EQ(ParseQuicLongHeader({}, &h).error, QuicMalformed::kNotLongHeader);
  EXPECT_EQ(ParseQuicLongHeader(FromHex("40 01020304"), &h).error, QuicMalformed::kNotLongHeader);
  EXPECT_EQ(ParseQuicLongHeader(FromHex("c0 000000"), &h).error, QuicMalformed::kBadLength);
  EXPECT_EQ(ParseQuicLongHeader(FromHex("c0 00000001 15"), &h).error, QuicMalformed::kBadHeader);
  EXPECT_EQ(ParseQuicLongHeader(FromHex("c0 00000001 02 0102"), &h).error, QuicMalformed::kBadLength);
  // Token length past the datagram; Length past the datagram.
  EXPECT_EQ(ParseQuicLongHeader(FromHex("c0 00000001 00 00 05 aa"), &h).error, QuicMalformed::kBadLength);
  EXPECT_EQ(ParseQuicLongHeader(FromHex("c0 00000001 00 00 00 40 10 aa"), &h).error, QuicMalformed::kBadLength);
  EXPECT_TRUE(QuicLongHeaderDcid(FromHex("40 0102")).empty());
}

// By content: not by port. A short datagram is dropped by servers (RFC 9000
// §14.1), so it is not an Initial; neither is a too-short Length.
TEST(QuicLongHeaderTest, LooksLikeQuicInitialBoundaries) {
  const testing::TestVersion& v = testing::kQuicTestVersions[0];
  PacketSpec p;
  p.frames = CryptoFrame(0, testing::BuildClientHelloHandshake({}));
  p.pad_to = kQuicMinInitialDatagram;
  const Bytes ok = Protect(v, p);
  ASSERT_GE(ok.size(), kQuicMinInitialDatagram);
  EXPECT_TRUE(LooksLikeQuicInitial(ok));
  // The same packet in a datagram of 1199 bytes: a Length that fits but a datagram too small.
  PacketSpec small = p;
  small.pad_to = 0;
  const Bytes s = Protect(v, small);
  ASSERT_LT(s.size(), kQuicMinInitialDatagram);
  EXPECT_FALSE(LooksLikeQuicInitial(s));
  Bytes padded_datagram = s;  // trailing bytes after the packet (e.g. coalesced junk) still count
  testing::PutFill(&padded_datagram, kQuicMinInitialDatagram - s.size(), 0);
  EXPECT_TRUE(LooksLikeQuicInitial(padded_datagram));
  padded_datagram.pop_back();
  EXPECT_FALSE(LooksLikeQuicInitial(padded_datagram));
  // Unsupported version, and a length too short for the HP sample.
  Bytes unknown = ok;
  unknown[1] = 0x1a;
  EXPECT_FALSE(LooksLikeQuicInitial(unknown));
  Bytes tiny = FromHex("c0 00000001 08 0102030405060708 00 00 13");
  testing::PutFill(&tiny, 1200, 0);
  EXPECT_FALSE(LooksLikeQuicInitial(tiny));
  tiny[16] = 0x14;  // Length 20: a 4-byte PN offset + 16-byte sample fit
  EXPECT_TRUE(LooksLikeQuicInitial(tiny));
}

}  // namespace
}  // namespace vigie
