// vigie-gen: writes a benchmark capture (bench/traffic_gen.h).
//
//   vigie-gen [--preset mix|flows10m|corpus] [--packets N] [--flows N] [--seed N]
//             [--banned-share F] [--ipv6-share F] [--config FILE] [--corpus DIR]
//             [--stats-json FILE] -o OUT.pcap
//
// Presets: mix (1 M packets in 20 k flows, the default), flows10m (10 M flows,
// 12 M packets: the flow table's load), corpus (the corpus mix, 1 M packets;
// exits 0 with a message when the corpus is absent). Statistics of the
// capture go to standard error (and --stats-json). Exit 2 on a usage error.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "bench/traffic_gen.h"
#include "gateway/policy/config.h"

namespace {

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "vigie-gen: %s\nusage: vigie-gen [--preset mix|flows10m|corpus] [--packets N] [--flows N] [--seed N]\n"
               "       [--banned-share F] [--ipv6-share F] [--config FILE] [--corpus DIR] [--stats-json FILE] -o OUT.pcap\n",
               why.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vigie;
  bench::TrafficOptions opts;
  std::string preset = "mix", out, config_path = DefaultConfigPath(), corpus, stats_json;
  bool packets_set = false, flows_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)what;
      return argv[++i];
    };
    const char* v = nullptr;
    if (a == "-h" || a == "--help") return Usage("help"), 0;
    if (a != "-o" && a.rfind("--", 0) != 0) return Usage("unexpected argument " + a);
    if ((v = value(a.c_str())) == nullptr) return Usage(a + " needs a value");
    bool ok = true;
    if (a == "-o") out = v;
    else if (a == "--preset") preset = v;
    else if (a == "--packets") ok = absl::SimpleAtoi(v, &opts.packets), packets_set = true;
    else if (a == "--flows") ok = absl::SimpleAtoi(v, &opts.flows), flows_set = true;
    else if (a == "--seed") ok = absl::SimpleAtoi(v, &opts.seed);
    else if (a == "--banned-share") ok = absl::SimpleAtod(v, &opts.banned_share) && opts.banned_share >= 0 && opts.banned_share <= 1;
    else if (a == "--ipv6-share") ok = absl::SimpleAtod(v, &opts.ipv6_share) && opts.ipv6_share >= 0 && opts.ipv6_share <= 1;
    else if (a == "--config") config_path = v;
    else if (a == "--corpus") corpus = v;
    else if (a == "--stats-json") stats_json = v;
    else return Usage("unknown option " + a);
    if (!ok) return Usage("bad value for " + a + ": " + v);
  }
  if (out.empty()) return Usage("-o OUT.pcap is required");
  if (preset == "flows10m") {
    if (!flows_set) opts.flows = 10'000'000;
    if (!packets_set) opts.packets = 12'000'000;
  } else if (preset == "corpus") {
    if (corpus.empty()) corpus = bench::DefaultCorpusDir(VIGIE_SOURCE_DIR);
    std::string note;
    auto mix = bench::BuildCorpusMix(corpus, packets_set ? opts.packets : 1'000'000, opts.seed, &note);
    if (absl::IsNotFound(mix.status())) {
      std::fprintf(stderr, "vigie-gen: skipped: %s\n", std::string(mix.status().message()).c_str());
      return 0;
    }
    if (!mix.ok()) return std::fprintf(stderr, "vigie-gen: %s\n", std::string(mix.status().message()).c_str()), 1;
    std::string bytes = mix->ToPcapFile();
    std::ofstream(out, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::fprintf(stderr, "vigie-gen: %s: %zu frames, %.1f B mean; %s\n", out.c_str(), mix->size(),
                 mix->size() ? static_cast<double>(mix->bytes()) / static_cast<double>(mix->size()) : 0.0, note.c_str());
    return 0;
  } else if (preset != "mix") {
    return Usage("unknown preset " + preset);
  }
  auto config = LoadConfig(config_path);
  if (!config.ok()) return std::fprintf(stderr, "vigie-gen: %s\n", std::string(config.status().message()).c_str()), 2;
  auto names = bench::BannedNames(*config);
  if (!names.ok()) return std::fprintf(stderr, "vigie-gen: %s\n", std::string(names.status().message()).c_str()), 2;
  opts.banned_names = *std::move(names);
  PcapFileWriter w;
  if (auto s = w.Open(out, 1); !s.ok()) return std::fprintf(stderr, "vigie-gen: %s\n", std::string(s.message()).c_str()), 1;
  auto st = bench::GenerateTraffic(opts, [&](uint64_t ts, absl::Span<const uint8_t> f) { w.Write(ts, f); });
  if (!st.ok()) return std::fprintf(stderr, "vigie-gen: %s\n", std::string(st.status().message()).c_str()), 2;
  if (auto s = w.Close(); !s.ok()) return std::fprintf(stderr, "vigie-gen: %s\n", std::string(s.message()).c_str()), 1;
  std::string json = st->ToJson();
  std::fprintf(stderr, "vigie-gen: %s: %s\n", out.c_str(), json.c_str());
  if (!stats_json.empty()) std::ofstream(stats_json) << json << "\n";
  return 0;
}
