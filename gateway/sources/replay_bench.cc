#include "gateway/sources/replay_bench.h"

#include <malloc.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "gateway/inspect/pipeline.h"

#if defined(__SANITIZE_ADDRESS__)
#define VIGIE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIGIE_ASAN 1
#endif
#endif
#if defined(VIGIE_ASAN)
#include <sanitizer/allocator_interface.h>
#endif

namespace vigie {
namespace {

// Frames ahead of the one processed whose headers are prefetched (Run).
constexpr size_t kPrefetchAhead = 8;

uint32_t Rol32(uint32_t v, int s) { return (v << s) | (v >> (32 - s)); }

// include/linux/jhash.h: jhash_3words.
uint32_t Jhash3Words(uint32_t a, uint32_t b, uint32_t c, uint32_t initval) {
  const uint32_t iv = initval + 0xdeadbeef + (3 << 2);  // JHASH_INITVAL + (3 << 2)
  a += iv;
  b += iv;
  c += iv;
  c ^= b; c -= Rol32(b, 14);  // __jhash_final
  a ^= c; a -= Rol32(c, 11);
  b ^= a; b -= Rol32(a, 25);
  c ^= b; c -= Rol32(b, 16);
  a ^= c; a -= Rol32(c, 4);
  b ^= a; b -= Rol32(a, 14);
  c ^= b; c -= Rol32(b, 24);
  return c;
}

// The address word at `index` (32-bit, as the kernel loads __be32: memory order).
uint32_t Word(const IpAddress& ip, int index) {
  uint32_t w;
  std::memcpy(&w, ip.bytes + 4 * index, 4);
  return w;
}

class CountingSink : public DecisionSink {
 public:
  void Write(const Decision&, const Policy&) override { ++written; }
  uint64_t written = 0;
};

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Bytes the heap holds for the program. Under ASan mallinfo2 reads zero (its
// allocator is not glibc's), so ask ASan's allocator instead.
uint64_t HeapInUse() {
#if defined(VIGIE_ASAN)
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#endif
}

}  // namespace

uint32_t NfqueueBalanceQueue(const IpAddress& src, const IpAddress& dst, uint8_t l4_proto, uint32_t queues,
                             uint32_t initval) {
  uint32_t h;
  if (src.family == 4) {
    uint32_t s = Word(src, 0), d = Word(dst, 0);
    h = s < d ? Jhash3Words(s, d, l4_proto, initval) : Jhash3Words(d, s, l4_proto, initval);
  } else {
    uint32_t s3 = Word(src, 3), d3 = Word(dst, 3), s1 = Word(src, 1), d1 = Word(dst, 1);
    uint32_t a = s3 < d3 ? s3 : d3, b = s3 < d3 ? d3 : s3;
    uint32_t c = s1 < d1 ? s1 : d1;
    h = Jhash3Words(a, b, c, initval);
  }
  return static_cast<uint32_t>((static_cast<uint64_t>(h) * queues) >> 32);  // reciprocal_scale
}

ReplayBench::ReplayBench(const MemoryCapture& capture, std::shared_ptr<const Policy> policy, int workers, Split split)
    : capture_(capture), policy_(std::move(policy)), shards_(static_cast<size_t>(workers < 1 ? 1 : workers)) {
  const uint32_t n = static_cast<uint32_t>(shards_.size());
  if (split == Split::kReplicate) {
    for (std::vector<uint32_t>& shard : shards_) {
      shard.reserve(capture_.size());
      for (size_t i = 0; i < capture_.size(); ++i) shard.push_back(static_cast<uint32_t>(i));
    }
    return;
  }
  for (size_t i = 0; i < capture_.size(); ++i) {
    uint32_t q = 0;
    if (n > 1) {
      DecodedPacket pkt;
      DecodeStatus st = DecodeFrame(capture_.linktype(), capture_.Frame(i), &pkt);
      // What does not decode to an address pair (not IP, malformed) goes to queue 0.
      if (st != DecodeStatus::kNotIp && st != DecodeStatus::kMalformed && pkt.src.family != 0) {
        q = NfqueueBalanceQueue(pkt.src, pkt.dst, pkt.l4_proto, n);
      }
    }
    shards_[q].push_back(static_cast<uint32_t>(i));
  }
}

ReplayRun ReplayBench::Run() {
  const size_t n = shards_.size();
  const uint64_t heap_before = HeapInUse();
  std::vector<CountingSink> sinks(n);
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  for (size_t w = 0; w < n; ++w) {
    // Flow ids interleaved across workers as `vigie run` numbers them.
    pipelines.push_back(std::make_unique<Pipeline>(policy_, &sinks[w], PipelineOptions{}, w + 1, n));
  }
  std::vector<double> cpu(n, 0.0);
  auto work = [&](size_t w) {
    const double c0 = ThreadCpuSeconds();
    Pipeline* p = pipelines[w].get();
    const std::vector<uint32_t>& shard = shards_[w];
    for (size_t k = 0; k < shard.size(); ++k) {
      // A live source hands the pipeline a packet it has just copied (in
      // cache); here frames sit in a 400 MB array that the pipeline would be
      // the first to touch, headers ~400 B apart. The headers of the frame
      // kPrefetchAhead on are fetched now, as pcap_loop's copy streams them.
      if (k + kPrefetchAhead < shard.size()) {
        const uint8_t* ahead = capture_.Frame(shard[k + kPrefetchAhead]).data();
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + 64);
      }
      const uint32_t i = shard[k];
      const MemoryCapture::Record& r = capture_.record(i);
      p->Process(capture_.linktype(), capture_.Frame(i), r.ts_us, uint64_t{i} + 1);
    }
    cpu[w] = ThreadCpuSeconds() - c0;
  };
  std::atomic<bool> go{false};
  std::atomic<size_t> ready{0};
  std::vector<std::thread> threads;
  for (size_t w = 1; w < n; ++w) {
    threads.emplace_back([&, w] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      work(w);
    });
  }
  while (ready.load() + 1 < n) std::this_thread::yield();
  auto t0 = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  work(0);
  for (std::thread& t : threads) t.join();
  auto t1 = std::chrono::steady_clock::now();

  ReplayRun run;
  run.seconds = std::chrono::duration<double>(t1 - t0).count();
  const uint64_t heap_after = HeapInUse();
  run.heap_bytes = heap_after > heap_before ? heap_after - heap_before : 0;
  for (size_t w = 0; w < n; ++w) {
    const Counters& c = pipelines[w]->counters();
    run.packets += c.Get(Counter::k_packets);
    run.bytes += c.Get(Counter::k_bytes);
    run.decisions += c.Get(Counter::k_decisions);
    run.blocks += c.Get(Counter::k_decisions_block);
    run.flows += pipelines[w]->flows();
    run.worker_packets.push_back(c.Get(Counter::k_packets));
    run.cpu_seconds += cpu[w];
  }
  return run;
}

}  // namespace vigie
