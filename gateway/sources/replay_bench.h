// The in-memory replay benchmark that `vigie bench` and bench/replay_benchmark
// share: a capture already in memory (memory_capture.h) put through one
// Pipeline per worker, packets sharded over the workers by the address hash
// the kernel's NFQUEUE --queue-balance uses, so each worker sees whole
// connections as it would inline.
//
// Ownership: a ReplayBench borrows the capture (which must outlive it) and
// shares the policy snapshot. Thread safety: Run() starts one thread per
// worker beyond the first and joins them before returning; a ReplayBench is
// used by one thread at a time. Timing covers the packet loop only: the
// pipelines are built and the threads started before the clock starts.
#ifndef VIGIE_GATEWAY_SOURCES_REPLAY_BENCH_H_
#define VIGIE_GATEWAY_SOURCES_REPLAY_BENCH_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "gateway/decode/decode.h"
#include "gateway/policy/policy.h"
#include "gateway/sources/memory_capture.h"

namespace vigie {

// The queue (0 .. queues-1) the kernel's NFQUEUE balance gives a packet:
// net/netfilter/nf_queue.h hash_v4 / hash_v6 (jhash_3words over the ordered
// addresses, so both directions share a queue; the protocol for IPv4), then
// reciprocal_scale. `initval` is the kernel's per-boot random seed.
uint32_t NfqueueBalanceQueue(const IpAddress& src, const IpAddress& dst, uint8_t l4_proto, uint32_t queues,
                             uint32_t initval = 0);

struct ReplayRun {
  uint64_t packets = 0;    // frames processed (all workers)
  uint64_t bytes = 0;      // their frame bytes
  uint64_t decisions = 0;  // the pipelines' `decisions` counter, summed
  uint64_t blocks = 0;     // decisions_block, summed
  uint64_t flows = 0;      // flows held at the end of the pass, summed
  uint64_t heap_bytes = 0;  // heap held by the pipelines at the end of the pass (mallinfo2)
  double seconds = 0;      // wall time of the packet loop
  // CPU time the workers' threads spent in it, summed: on a loaded machine
  // wall time also counts the waits for a CPU, this does not.
  double cpu_seconds = 0;
  std::vector<uint64_t> worker_packets;
};

class ReplayBench {
 public:
  // How frames reach the workers: kBalance shards them by the NFQUEUE balance
  // hash (the real thing); kReplicate gives every worker the whole capture,
  // each with its own pipeline: N independent copies of the one-worker run at
  // once, i.e. what N threads of this work deliver on the machine at best
  // (the ceiling a kBalance run with N workers is measured against).
  enum class Split { kBalance, kReplicate };
  ReplayBench(const MemoryCapture& capture, std::shared_ptr<const Policy> policy, int workers,
              Split split = Split::kBalance);
  // One pass over the whole capture with fresh pipelines (so every pass does
  // the same work and reaches the same decisions).
  ReplayRun Run();
  int workers() const { return static_cast<int>(shards_.size()); }

 private:
  const MemoryCapture& capture_;
  std::shared_ptr<const Policy> policy_;
  std::vector<std::vector<uint32_t>> shards_;  // frame indices per worker, in capture order
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_SOURCES_REPLAY_BENCH_H_
