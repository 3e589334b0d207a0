// BM_Replay/<impl>/<capture>: the whole packet path against its limit and its
// peers over the same frames, already in memory (no disk in the timed loop).
//
//   pcap_loop  pcap_next_ex over the capture's pcap file bytes in memory
//              (fmemopen) plus a checksum of each frame's first 64 bytes: the limit
//   ndpi       nDPI classifying the same frames, host and SNI detection
//              (ndpi_replay.h; only where libndpi was found)
//   vigie_1w   the real Pipeline (deploy/vigie.toml's policy), one worker
//   vigie_2w   two workers, frames sharded by the NFQUEUE balance hash
//              (gateway/sources/replay_bench.h), one thread each
//   vigie_1w_x2  two copies of vigie_1w at once, each its own pipeline over
//              the whole capture on its own thread (items = twice the
//              frames): what two threads of this work deliver on this
//              machine at best, the ceiling of vigie_2w (shared vCPUs,
//              memory bandwidth and caches bound it, not the sharding)
// Captures: `mix` (bench/traffic_gen.h, 1 M frames in 20 k flows) and
// `corpus` (the corpus mix of ../shared/corpus, same size; skipped with a
// message where absent). items = frames, bytes = frame bytes.
//
// Every pass checks its result against a reference computed once at setup
// (frame count and checksum; nDPI's named flows; Vigie's decisions, equal
// for one and two workers), so a loop cannot silently do nothing.
// Environment: VIGIE_BENCH_PACKETS, VIGIE_BENCH_FLOWS (smaller captures for
// the smoke test), VIGIE_CORPUS_DIR.
#include <pcap/pcap.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "benchmark/benchmark.h"
#include "bench/traffic_gen.h"
#include "gateway/policy/config.h"
#include "gateway/policy/policy.h"
#include "gateway/sources/replay_bench.h"
#ifdef VIGIE_HAVE_NDPI
#include "bench/ndpi_replay.h"
#endif

namespace {

using vigie::MemoryCapture;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Capture {
  std::string name;
  MemoryCapture frames;
  std::string pcap_file;  // the same frames as pcap file bytes, for pcap_loop
  uint64_t checksum = 0;  // reference for pcap_loop
};

uint64_t Checksum64(const uint8_t* p, uint32_t len) {
  uint64_t s = 0;
  for (uint32_t i = 0; i < len && i < 64; ++i) s = s * 31 + p[i];
  return s;
}

void Fail(benchmark::State& state, const std::string& why) { state.SkipWithError(why.c_str()); }

void Counters(benchmark::State& state, uint64_t packets, uint64_t bytes) {
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_PcapLoop(benchmark::State& state, const Capture* c) {
  uint64_t packets = 0;
  for (auto _ : state) {
    FILE* f = fmemopen(const_cast<char*>(c->pcap_file.data()), c->pcap_file.size(), "rb");
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = f != nullptr ? pcap_fopen_offline(f, err) : nullptr;
    if (p == nullptr) return Fail(state, "pcap_fopen_offline failed");
    pcap_pkthdr* hdr;
    const u_char* data;
    uint64_t n = 0, sum = 0;
    while (pcap_next_ex(p, &hdr, &data) == 1) {
      ++n;
      sum += Checksum64(data, hdr->caplen);
    }
    pcap_close(p);
    if (n != c->frames.size() || sum != c->checksum) return Fail(state, "pcap_loop: frame count or checksum differs");
    packets += n;
  }
  Counters(state, packets, state.iterations() * c->frames.bytes());
}

#ifdef VIGIE_HAVE_NDPI
void BM_Ndpi(benchmark::State& state, const Capture* c) {
  vigie::bench::NdpiReplay ndpi;
  const vigie::bench::NdpiRun ref = ndpi.Run(c->frames);
  uint64_t packets = 0;
  for (auto _ : state) {
    vigie::bench::NdpiRun r = ndpi.Run(c->frames);
    if (r.named_flows != ref.named_flows || r.packets != ref.packets) return Fail(state, "ndpi: named flows differ");
    packets += c->frames.size();
  }
  state.counters["flows"] = static_cast<double>(ref.flows);
  state.counters["named_flows"] = static_cast<double>(ref.named_flows);
  Counters(state, packets, state.iterations() * c->frames.bytes());
}
#endif

struct VigieRef {
  uint64_t decisions = 0, blocks = 0;
};

void BM_Vigie(benchmark::State& state, const Capture* c, std::shared_ptr<const vigie::Policy> policy, int workers,
              vigie::ReplayBench::Split split, const VigieRef* ref) {
  vigie::ReplayBench bench(c->frames, std::move(policy), workers, split);
  // Replicas each process the whole capture and reach the reference each.
  const uint64_t copies = split == vigie::ReplayBench::Split::kReplicate ? static_cast<uint64_t>(workers) : 1;
  uint64_t packets = 0;
  vigie::ReplayRun last;
  for (auto _ : state) {
    last = bench.Run();
    state.SetIterationTime(last.seconds);
    if (last.packets != copies * c->frames.size()) return Fail(state, "vigie: packets counted differ from the capture");
    if (last.decisions != copies * ref->decisions || last.blocks != copies * ref->blocks) {
      return Fail(state, "vigie: decisions differ from the reference (" + std::to_string(last.decisions) + " vs " +
                             std::to_string(copies * ref->decisions) + ")");
    }
    packets += last.packets;
  }
  // CPU ns per packet (all workers' CPU time over the packets): the figure
  // that stays meaningful when other processes share the cores.
  state.counters["cpu_ns_per_packet"] = last.packets ? last.cpu_seconds * 1e9 / static_cast<double>(last.packets) : 0;
  state.counters["decisions"] = static_cast<double>(last.decisions);
  state.counters["blocks"] = static_cast<double>(last.blocks);
  state.counters["flows"] = static_cast<double>(last.flows);
  state.counters["mem_total_bytes"] = static_cast<double>(last.heap_bytes);
  state.counters["mem_per_flow_bytes"] = last.flows ? static_cast<double>(last.heap_bytes) / last.flows : 0;
  Counters(state, packets, state.iterations() * copies * c->frames.bytes());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const uint64_t packets = EnvOr("VIGIE_BENCH_PACKETS", 1'000'000);
  const uint64_t flows = EnvOr("VIGIE_BENCH_FLOWS", 20'000);
  auto config = vigie::LoadConfig(std::string(VIGIE_SOURCE_DIR) + "/deploy/vigie.toml");
  if (!config.ok()) return std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str()), 1;
  auto names = vigie::bench::BannedNames(*config);
  auto policy = vigie::Policy::Build(*config);
  if (!names.ok() || !policy.ok()) return std::fprintf(stderr, "replay_benchmark: policy or lists failed\n"), 1;

  std::vector<std::unique_ptr<Capture>> captures;
  vigie::bench::TrafficOptions opts;
  opts.packets = packets;
  opts.flows = flows;
  opts.banned_names = *names;
  auto mix = vigie::bench::GenerateCapture(opts);
  if (!mix.ok()) return std::fprintf(stderr, "%s\n", std::string(mix.status().message()).c_str()), 1;
  captures.push_back(std::make_unique<Capture>(Capture{"mix", *std::move(mix), "", 0}));
  std::string note;
  auto corpus = vigie::bench::BuildCorpusMix(vigie::bench::DefaultCorpusDir(VIGIE_SOURCE_DIR), packets, 1, &note);
  if (corpus.ok()) {
    std::fprintf(stderr, "corpus mix: %s\n", note.c_str());
    captures.push_back(std::make_unique<Capture>(Capture{"corpus", *std::move(corpus), "", 0}));
  } else {
    std::fprintf(stderr, "corpus mix skipped: %s\n", std::string(corpus.status().message()).c_str());
  }
  std::vector<std::unique_ptr<VigieRef>> refs;
  for (auto& c : captures) {
    c->pcap_file = c->frames.ToPcapFile();
    for (size_t i = 0; i < c->frames.size(); ++i) {
      c->checksum += Checksum64(c->frames.Frame(i).data(), c->frames.record(i).length);
    }
    vigie::ReplayRun r = vigie::ReplayBench(c->frames, *policy, 1).Run();
    refs.push_back(std::make_unique<VigieRef>(VigieRef{r.decisions, r.blocks}));
    std::fprintf(stderr, "%s: %zu frames, %.1f B mean, %llu decisions (%llu block)\n", c->name.c_str(),
                 c->frames.size(), static_cast<double>(c->frames.bytes()) / static_cast<double>(c->frames.size()),
                 static_cast<unsigned long long>(r.decisions), static_cast<unsigned long long>(r.blocks));
    const Capture* cp = c.get();
    const VigieRef* ref = refs.back().get();
    benchmark::RegisterBenchmark(("BM_Replay/pcap_loop/" + c->name).c_str(), BM_PcapLoop, cp)->Unit(benchmark::kMillisecond);
#ifdef VIGIE_HAVE_NDPI
    benchmark::RegisterBenchmark(("BM_Replay/ndpi/" + c->name).c_str(), BM_Ndpi, cp)->Unit(benchmark::kMillisecond);
#endif
    using Split = vigie::ReplayBench::Split;
    for (auto [name, w, split] : {std::tuple{"vigie_1w", 1, Split::kBalance}, std::tuple{"vigie_2w", 2, Split::kBalance},
                                  std::tuple{"vigie_1w_x2", 2, Split::kReplicate}}) {
      benchmark::RegisterBenchmark((std::string("BM_Replay/") + name + "/" + c->name).c_str(), BM_Vigie, cp, *policy,
                                   w, split, ref)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
