// libFuzzer targets for the wire parsers (STYLE.md 12), one binary per target
// selected at compile time by VIGIE_FUZZ_TARGET:
//   dns   ParseDnsMessage, LooksLikeDnsQuery, ReadDnsTcpFrame
//   tls   ParseClientHelloStream / ParseClientHelloHandshake, plus the
//         differential: the stream fed whole and fed as growing prefixes (one
//         byte at a time) reach the same verdict and the same name
//   http  ParseHttpRequest, with the same prefix differential
//   quic  QuicInitialDecryptor::DecryptInitial over coalesced packets
// Each input gets an exact-size heap copy so that ASan sees any overread.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
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
}

[[maybe_unused]] void FuzzQuic(absl::Span<const uint8_t> in) {
  static vigie::QuicInitialDecryptor* dec = new vigie::QuicInitialDecryptor();
  std::vector<uint8_t> plain(in.size() + 64);
  absl::Span<const uint8_t> rest = in;
  for (int i = 0; i < 8 && !rest.empty(); ++i) {
    vigie::QuicInitialInfo info;
    vigie::QuicParseResult r = dec->DecryptInitial(rest, absl::MakeSpan(plain), &info);
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
