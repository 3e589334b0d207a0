// libFuzzer target for the whole packet path: the input is a sequence of
// frames, each [linktype selector (1 byte)][length (2 bytes, big-endian)]
// [frame bytes], fed to one Pipeline (default config, log mode all) so that
// flows, TCP/QUIC/IP reassembly and every classifier see related packets.
// Every decision is formatted as a Vigie line, an EVE line and a syslog
// message, each parsed and checked (fuzz_decision_check.h): strict JSON, the
// names round-trip under the escaping contracts, no raw control byte.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "gateway/inspect/pipeline.h"
#include "tests/fuzz/fuzz_decision_check.h"

namespace {

constexpr int kLinktypes[] = {1, 101, 113, 276, 0, 9, 228, 229};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vigie::fuzz::CheckingSink sink;
  vigie::PipelineOptions opts;
  opts.log_mode = vigie::LogMode::kAll;
  vigie::Pipeline pipe(vigie::fuzz::DefaultPolicy(), &sink, opts);
  size_t pos = 0;
  uint64_t frame = 0;
  while (pos + 3 <= size) {
    int linktype = kLinktypes[data[pos] % (sizeof(kLinktypes) / sizeof(kLinktypes[0]))];
    size_t len = (size_t{data[pos + 1]} << 8) | data[pos + 2];
    pos += 3;
    len = std::min(len, size - pos);
    std::unique_ptr<uint8_t[]> copy(new uint8_t[len]);
    if (len) std::memcpy(copy.get(), data + pos, len);
    pos += len;
    ++frame;
    pipe.Process(linktype, absl::MakeConstSpan(copy.get(), len), 1'700'000'000'000'000 + frame * 1000, frame);
  }
  return 0;
}
