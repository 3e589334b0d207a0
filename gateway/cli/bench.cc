// vigie bench [--config FILE] [--capture FILE] [--workers 1,2,4] [--packets N]
//             [--flows N] [--passes N] [--json]
// The replay benchmark on the operator's own machine: a capture (default: a
// generated mix of bench/traffic_gen.h, 1 M frames in 20 k flows) loaded
// into memory, then put through the real packet path with 1, 2, 4... workers
// (frames sharded by the NFQUEUE balance hash, gateway/sources/replay_bench.h),
// so the operator can choose queues and workers. Prints, per worker count,
// the median of --passes passes: Mpps, Gbit/s, ns per packet, decisions, and
// CPU ns per packet (the workers' CPU time: honest on a shared machine) and
// the pipelines' heap per flow; --json prints one JSON object instead.
// Exit 1 if a pass did not count every frame of the capture.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/traffic_gen.h"
#include "gateway/cli/commands.h"
#include "gateway/output/json.h"
#include "gateway/sources/replay_bench.h"

namespace po = boost::program_options;

namespace vigie {
namespace {

constexpr int kMaxWorkers = 256;

struct Row {
  int workers = 0;
  ReplayRun run;  // the median pass
  double mpps() const { return run.seconds > 0 ? static_cast<double>(run.packets) / run.seconds / 1e6 : 0; }
  double gbps() const { return run.seconds > 0 ? static_cast<double>(run.bytes) * 8 / run.seconds / 1e9 : 0; }
  double ns_per_packet() const { return run.packets ? run.seconds * 1e9 / static_cast<double>(run.packets) : 0; }
  double cpu_ns_per_packet() const {
    return run.packets ? run.cpu_seconds * 1e9 / static_cast<double>(run.packets) : 0;
  }
  double per_flow() const { return run.flows ? static_cast<double>(run.heap_bytes) / static_cast<double>(run.flows) : 0; }
};

}  // namespace

int BenchCommand(const Args& args) {
  po::options_description desc("bench options");
  std::string config, capture, workers_text = "1,2";
  uint64_t packets = 1'000'000, flows = 20'000;
  int passes = 3;
  desc.add_options()("config", po::value(&config), "config file")("capture", po::value(&capture), "pcap/pcapng file")(
      "workers", po::value(&workers_text), "worker counts, comma-separated")(
      "packets", po::value(&packets), "generated mix: frames")("flows", po::value(&flows), "generated mix: flows")(
      "passes", po::value(&passes), "passes per worker count (the median is shown)")("json", "JSON output");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("bench: ", e.what()));
  }
  std::vector<int> workers;
  for (absl::string_view w : absl::StrSplit(workers_text, ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(w, &n) || n < 1 || n > kMaxWorkers) {
      return Fail(absl::StrCat("bench: --workers: '", std::string(w), "' is not a worker count (1-", kMaxWorkers, ")"));
    }
    workers.push_back(n);
  }
  if (passes < 1) return Fail("bench: --passes must be at least 1");
  if (packets == 0 || flows == 0) return Fail("bench: --packets and --flows must be positive");
  auto cfg = LoadConfig(config.empty() ? DefaultConfigPath() : config);
  if (!cfg.ok()) return Fail(std::string(cfg.status().message()));
  auto policy = Policy::Build(*cfg);
  if (!policy.ok()) return Fail(std::string(policy.status().message()));

  MemoryCapture cap;
  std::string what;
  if (!capture.empty()) {
    std::string warning;
    auto loaded = LoadCapture(capture, &warning);
    if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
    if (!warning.empty()) std::fprintf(stderr, "vigie: %s\n", warning.c_str());
    cap = *std::move(loaded);
    what = capture;
  } else {
    auto names = bench::BannedNames(*cfg);
    if (!names.ok()) return Fail(std::string(names.status().message()));
    bench::TrafficOptions opts;
    opts.packets = packets;
    opts.flows = flows;
    opts.banned_names = *std::move(names);
    if (opts.banned_names.empty()) opts.banned_share = 0;
    auto gen = bench::GenerateCapture(opts);
    if (!gen.ok()) return Fail(absl::StrCat("bench: ", gen.status().message()));
    cap = *std::move(gen);
    what = absl::StrCat("generated mix (", flows, " flows)");
  }
  if (cap.size() == 0) return Fail(absl::StrCat("bench: ", what, ": no frames"));

  std::vector<Row> rows;
  for (int w : workers) {
    ReplayBench bench(cap, *policy, w);
    std::vector<ReplayRun> runs;
    for (int i = 0; i < passes; ++i) runs.push_back(bench.Run());
    std::sort(runs.begin(), runs.end(), [](const ReplayRun& a, const ReplayRun& b) { return a.seconds < b.seconds; });
    Row row{w, runs[runs.size() / 2]};
    if (row.run.packets != cap.size()) {
      std::fprintf(stderr, "vigie: bench: %d workers counted %llu frames of %zu\n", w,
                   static_cast<unsigned long long>(row.run.packets), cap.size());
      return 1;
    }
    rows.push_back(row);
  }

  const double mean = static_cast<double>(cap.bytes()) / static_cast<double>(cap.size());
  if (vm.count("json")) {
    std::string out;
    JsonWriter j(&out);
    j.BeginObject();
    j.Key("capture").String(what);
    j.Key("frames").Uint(cap.size());
    j.Key("bytes").Uint(cap.bytes());
    j.Key("passes").Uint(static_cast<uint64_t>(passes));
    j.Key("results").BeginArray();
    for (const Row& r : rows) {
      j.BeginObject();
      j.Key("workers").Uint(static_cast<uint64_t>(r.workers));
      j.Key("packets").Uint(r.run.packets);
      j.Key("bytes").Uint(r.run.bytes);
      j.Key("seconds").Fixed(r.run.seconds, 6);
      j.Key("mpps").Fixed(r.mpps(), 3);
      j.Key("gbps").Fixed(r.gbps(), 3);
      j.Key("ns_per_packet").Fixed(r.ns_per_packet(), 3);
      j.Key("cpu_seconds").Fixed(r.run.cpu_seconds, 6);
      j.Key("cpu_ns_per_packet").Fixed(r.cpu_ns_per_packet(), 3);
      j.Key("decisions").Uint(r.run.decisions);
      j.Key("blocks").Uint(r.run.blocks);
      j.Key("flows").Uint(r.run.flows);
      j.Key("mem_total_bytes").Uint(r.run.heap_bytes);
      j.Key("mem_per_flow_bytes").Fixed(r.per_flow(), 3);
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
    std::printf("%s\n", out.c_str());
  } else {
    std::printf("capture: %s: %zu frames, %.1f B mean; median of %d passes\n", what.c_str(), cap.size(), mean, passes);
    std::printf("%7s %8s %8s %10s %10s %10s %10s %8s %10s\n", "workers", "Mpps", "Gbit/s", "ns/packet", "cpu-ns/pkt",
                "packets", "decisions", "flows", "heap/flow");
    for (const Row& r : rows) {
      std::printf("%7d %8.3f %8.3f %10.1f %10.1f %10llu %10llu %8llu %9.0fB\n", r.workers, r.mpps(), r.gbps(),
                  r.ns_per_packet(), r.cpu_ns_per_packet(), static_cast<unsigned long long>(r.run.packets),
                  static_cast<unsigned long long>(r.run.decisions), static_cast<unsigned long long>(r.run.flows),
                  r.per_flow());
    }
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace vigie
