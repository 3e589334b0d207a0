// libFuzzer targets for the wire parsers (STYLE.md 12), one binary per target
// selected at compile time by VIGIE_FUZZ_TARGET:
//   dns   ParseDnsMessage, LooksLikeDnsQuery, ReadDnsTcpFrame, SniffDnsTcpQuery
//         (growing prefixes agree with the whole stream)
//   tls   ParseClientHelloStream / ParseClientHelloHandshake, plus two
//         differentials: the stream fed whole and fed as growing prefixes reach
//         the same verdict and the same name; AssembleClientHello fed whole and
//         fed one byte at a time (consumed bytes dropped, as a caller does) gives
//         the same verdict, code, consumed count and names
//   http  ParseHttpRequest, with the same prefix differential; SkipChunkedBody
//         on the body fed whole and one byte at a time
//   quic  ParseQuicLongHeader, LooksLikeQuicInitial, QuicLongHeaderDcid and
//         QuicInitialDecryptor::DecryptInitial over coalesced packets
// Each input gets an exact-size heap copy so that ASan sees any overread.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/dns.h"
#include "classifiers/http.h"
#include "classifiers/quic.h"
#include "classifiers/tls.h"

namespace {

using vigie::ParseStatus;

// Aborts (a crash libFuzzer keeps) when a parser contract is broken.
void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "contract broken: %s\n", what);
    std::abort();
  }
}

[[maybe_unused]] void FuzzDns(absl::Span<const uint8_t> in) {
  vigie::DnsMessageInfo info;
  vigie::DnsParseResult r = vigie::ParseDnsMessage(in, &info);
  Check(r.status != ParseStatus::kNeedMore, "DNS message never needs more");
  Check(info.question_count <= vigie::kDnsMaxQuestions, "question count bounded");
  for (int i = 0; i < info.question_count; ++i) {
    Check(info.questions[i].name_len <= vigie::kDnsMaxNameText, "name length bounded");
  }
  if (vigie::LooksLikeDnsQuery(in)) {
    vigie::DnsParseResult q = vigie::ParseDnsMessage(in, &info);
    Check(q.status == ParseStatus::kOk && !info.is_response, "a strict-shape query parses");
  }
  vigie::DnsTcpFrame f = vigie::ReadDnsTcpFrame(in);
  if (f.status == ParseStatus::kOk) Check(f.consumed <= in.size(), "frame inside the stream");
  const ParseStatus sw = vigie::SniffDnsTcpQuery(in);
  Check(vigie::LooksLikeDnsTcpQuery(in) == (sw == ParseStatus::kOk), "LooksLikeDnsTcpQuery is the sniff");
  for (size_t k = 0; k <= in.size(); ++k) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[k + 1]);
    if (k) std::memcpy(copy.get(), in.data(), k);
    const ParseStatus sp = vigie::SniffDnsTcpQuery(absl::MakeConstSpan(copy.get(), k));
    if (sp == ParseStatus::kNeedMore) continue;
    Check(sp == sw, "DNS/TCP sniff: prefix and whole stream agree");
    break;
  }
}

[[maybe_unused]] void FuzzTls(absl::Span<const uint8_t> in) {
  std::vector<uint8_t> scratch(vigie::kMaxClientHelloBytes);
  vigie::ClientHelloInfo whole;
  vigie::TlsParseResult rw = vigie::ParseClientHelloStream(in, absl::MakeSpan(scratch), &whole);
  std::string whole_sni(whole.sni);
  // Differential: growing prefixes. The first prefix that is not "need more"
  // must agree with the whole stream.
  vigie::ClientHelloInfo part;
  std::vector<uint8_t> scratch2(vigie::kMaxClientHelloBytes);
  for (size_t k = 1; k <= in.size(); ++k) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[k]);
    std::memcpy(copy.get(), in.data(), k);
    vigie::TlsParseResult rp =
        vigie::ParseClientHelloStream(absl::MakeConstSpan(copy.get(), k), absl::MakeSpan(scratch2), &part);
    if (rp.status == ParseStatus::kNeedMore) continue;
    Check(rp.status == rw.status, "prefix and whole stream agree on the verdict");
    if (rp.status == ParseStatus::kOk) Check(std::string(part.sni) == whole_sni, "same SNI");
    break;
  }
  vigie::ParseClientHelloHandshake(in, &whole);

  // Differential: the incremental assembler fed whole, and fed one byte at a time
  // by a caller that keeps only the unconsumed bytes.
  std::vector<uint8_t> scratch3(vigie::kMaxClientHelloBytes);
  vigie::TlsHelloAssembler st_whole{};
  vigie::ClientHelloInfo aw;
  const vigie::TlsAssembleResult a_whole = vigie::AssembleClientHello(&st_whole, in, absl::MakeSpan(scratch3), &aw);
  Check(a_whole.consumed <= in.size(), "assembler consumed inside the stream");
  std::vector<std::string> whole_names;
  for (size_t i = 0; i < aw.sni_count; ++i) whole_names.emplace_back(aw.sni_names[i]);
  Check(aw.sni_count <= vigie::kMaxTlsSniNames, "SNI names bounded");
  if (a_whole.status == ParseStatus::kOk) {
    Check(rw.status == ParseStatus::kOk && std::string(aw.sni) == whole_sni, "assembler agrees with the wrapper");
    Check(aw.stream_consumed == a_whole.consumed, "stream_consumed == consumed");
  }
  std::vector<uint8_t> scratch4(vigie::kMaxClientHelloBytes);
  vigie::TlsHelloAssembler st{};
  vigie::ClientHelloInfo ab;
  vigie::TlsAssembleResult a{ParseStatus::kNeedMore, vigie::TlsMalformed::kNone, 0, 0};
  size_t pos = 0, total = 0;
  for (size_t upto = 1; upto <= in.size() && a.status == ParseStatus::kNeedMore; ++upto) {
    const size_t n = upto - pos;
    std::unique_ptr<uint8_t[]> buf(new uint8_t[n]);
    std::memcpy(buf.get(), in.data() + pos, n);
    a = vigie::AssembleClientHello(&st, absl::MakeConstSpan(buf.get(), n), absl::MakeSpan(scratch4), &ab);
    Check(a.consumed <= n, "consumed inside the call's bytes");
    pos += a.consumed;
    total += a.consumed;
    if (a.status == ParseStatus::kOk) {
      // Views may point into `buf`: compare before it goes.
      Check(std::string(ab.sni) == std::string(aw.sni), "byte-fed assembler: same SNI");
      std::vector<std::string> names;
      for (size_t i = 0; i < ab.sni_count; ++i) names.emplace_back(ab.sni_names[i]);
      Check(names == whole_names, "byte-fed assembler: same names");
      Check(ab.sni_ambiguous == aw.sni_ambiguous, "byte-fed assembler: same ambiguity");
    }
  }
  if (!in.empty()) {
    Check(a.status == a_whole.status, "byte-fed and whole assembler agree on the verdict");
    Check(a.error == a_whole.error, "byte-fed and whole assembler agree on the code");
    if (a.status != ParseStatus::kMalformed) Check(total == a_whole.consumed, "same bytes consumed");
  }
}

[[maybe_unused]] void FuzzHttp(absl::Span<const uint8_t> in) {
  vigie::HttpRequestInfo whole;
  vigie::HttpParseResult rw = vigie::ParseHttpRequest(in, &whole);
  std::string host(whole.host);
  vigie::HttpRequestInfo part;
  for (size_t k = 1; k <= in.size(); ++k) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[k]);
    std::memcpy(copy.get(), in.data(), k);
    vigie::HttpParseResult rp = vigie::ParseHttpRequest(absl::MakeConstSpan(copy.get(), k), &part);
    if (rp.status == ParseStatus::kNeedMore) continue;
    Check(rp.status == rw.status && rp.error == rw.error, "prefix and whole request agree");
    if (rp.status == ParseStatus::kOk) Check(std::string(part.host) == host, "same host");
    break;
  }
  vigie::LooksLikeHttpRequest(in);
  Check(whole.host_count <= vigie::kMaxHttpHostNames, "host names bounded");
  if (rw.status == ParseStatus::kNeedMore) return;
  Check(whole.header_bytes <= in.size(), "head inside the stream");
  if (whole.header_bytes == 0) return;
  // The body after the head, as a chunked body: fed whole and one byte at a time.
  const absl::Span<const uint8_t> body = in.subspan(whole.header_bytes);
  vigie::HttpChunkedState cw{};
  const vigie::HttpChunkedResult bw = vigie::SkipChunkedBody(&cw, body);
  Check(bw.consumed <= body.size(), "chunk skipper inside its input");
  vigie::HttpChunkedState cb{};
  vigie::HttpChunkedResult bb{ParseStatus::kNeedMore, vigie::HttpMalformed::kNone, 0};
  size_t used = 0;
  for (size_t i = 0; i < body.size() && bb.status == ParseStatus::kNeedMore; ++i) {
    const uint8_t byte = body[i];
    bb = vigie::SkipChunkedBody(&cb, absl::MakeConstSpan(&byte, 1));
    used += bb.consumed;
  }
  if (!body.empty()) {
    Check(bb.status == bw.status && bb.error == bw.error, "chunk skipper: byte-fed and whole agree");
    Check(used == bw.consumed || bw.status == ParseStatus::kMalformed, "chunk skipper: same bytes consumed");
    Check(cb.body_bytes == cw.body_bytes || bw.status == ParseStatus::kMalformed, "chunk skipper: same data bytes");
  }
}

[[maybe_unused]] void FuzzQuic(absl::Span<const uint8_t> in) {
  static vigie::QuicInitialDecryptor* dec = new vigie::QuicInitialDecryptor();
  vigie::QuicLongHeader h;
  const vigie::QuicParseResult hr = vigie::ParseQuicLongHeader(in, &h);
  if (hr.status == ParseStatus::kOk) {
    Check(h.packet_length <= in.size(), "long header packet inside the datagram");
    Check(h.dcid.size() <= vigie::kMaxQuicCidBytes && h.scid.size() <= vigie::kMaxQuicCidBytes, "CIDs bounded");
  }
  if (vigie::LooksLikeQuicInitial(in)) {
    Check(hr.status == ParseStatus::kOk && h.type == vigie::QuicPacketType::kInitial, "an Initial by content parses");
  }
  const absl::Span<const uint8_t> dcid = vigie::QuicLongHeaderDcid(in);
  Check(dcid.empty() || (dcid.data() >= in.data() && dcid.data() + dcid.size() <= in.data() + in.size()),
        "DCID inside the datagram");
  std::vector<uint8_t> plain(in.size() + 64);
  absl::Span<const uint8_t> rest = in;
  for (int i = 0; i < 8 && !rest.empty(); ++i) {
    vigie::QuicInitialInfo info;
    vigie::QuicParseResult r = dec->DecryptInitial(rest, absl::MakeSpan(plain), &info);
    if (i == 0 && r.status == ParseStatus::kOk) {
      Check(hr.status == ParseStatus::kOk && h.type == vigie::QuicPacketType::kInitial, "decrypted => Initial header");
      Check(info.quic_bit == h.quic_bit, "same QUIC bit");
    }
    if (r.status == ParseStatus::kOk) {
      for (int c = 0; c < info.crypto_count; ++c) {
        const auto& f = info.crypto[c];
        Check(f.data.data() >= plain.data() && f.data.data() + f.data.size() <= plain.data() + plain.size(),
              "CRYPTO data inside the plaintext buffer");
      }
    }
    if ((r.status != ParseStatus::kOk && r.error != vigie::QuicMalformed::kNotInitial) || info.packet_length == 0 ||
        info.packet_length > rest.size()) {
      break;
    }
    rest = rest.subspan(info.packet_length);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size]);
  if (size) std::memcpy(copy.get(), data, size);
  absl::Span<const uint8_t> in(copy.get(), size);
#if defined(VIGIE_FUZZ_DNS)
  FuzzDns(in);
#elif defined(VIGIE_FUZZ_TLS)
  FuzzTls(in);
#elif defined(VIGIE_FUZZ_HTTP)
  FuzzHttp(in);
#elif defined(VIGIE_FUZZ_QUIC)
  FuzzQuic(in);
#else
#error "define one VIGIE_FUZZ_<TARGET>"
#endif
  return 0;
}
