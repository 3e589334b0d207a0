// libFuzzer target for the whole packet path: the input is a sequence of
// frames, each [linktype selector (1 byte)][length (2 bytes, big-endian)]
// [frame bytes], fed to one Pipeline (default config, log mode all) so that
// flows, TCP/QUIC/IP reassembly and every classifier see related packets.
// Every decision is formatted; the line must be valid UTF-8 JSON text with no
// raw control bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "gateway/policy/config.h"
#include "gateway/inspect/decision.h"
#include "gateway/output/decision_json.h"
#include "gateway/inspect/pipeline.h"
#include "gateway/policy/policy.h"

namespace {

class CheckingSink : public vigie::DecisionSink {
 public:
  void Write(const vigie::Decision& d, const vigie::Policy& policy) override {
    line_.clear();
    vigie::FormatDecision(d, policy, &line_);
    for (unsigned char c : line_) {
      if (c < 0x20) {
        std::fprintf(stderr, "raw control byte in a decision line: %s\n", line_.c_str());
        std::abort();
      }
    }
    if (line_.empty() || line_.front() != '{' || line_.back() != '}') std::abort();
  }

 private:
  std::string line_;
};

std::shared_ptr<const vigie::Policy> DefaultPolicy() {
  static std::shared_ptr<const vigie::Policy>* p = [] {
    auto c = vigie::LoadConfig(std::string(VIGIE_SOURCE_DIR) + "/deploy/vigie.toml");
    if (!c.ok()) std::abort();
    auto built = vigie::Policy::Build(*std::move(c));
    if (!built.ok()) std::abort();
    return new std::shared_ptr<const vigie::Policy>(*std::move(built));
  }();
  return *p;
}

constexpr int kLinktypes[] = {1, 101, 113, 276, 0, 9, 228, 229};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckingSink sink;
  vigie::PipelineOptions opts;
  opts.log_mode = vigie::LogMode::kAll;
  vigie::Pipeline pipe(DefaultPolicy(), &sink, opts);
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
