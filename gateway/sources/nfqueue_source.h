// Inline mode: NFQUEUE (libnetfilter_queue). N queues served by N workers;
// the kernel shards connections over the queues (iptables --queue-balance /
// nft `queue num a-b` hash both addresses symmetrically), so each worker owns
// its flows and the packet path takes no lock.
//
// Verdicts (nfqueue_rules.h generates the matching rule sets, `vigie rules`):
//  - allowed, undecided or not final: NF_ACCEPT;
//  - a connection that needs no more inspection (TLS/QUIC/HTTP decided allow,
//    or an unmanaged source), read by Vigie itself (not a fragment or a
//    tunnel): NF_REPEAT with mark kMarkAllow; the rules save it to the
//    connmark and stop queueing the connection;
//  - blocked TLS/QUIC/HTTP/DNS-over-TCP: the answer (RST, DNS) is sent, then
//    NF_REPEAT with mark kMarkBlock; the rules save it and drop the packet and
//    the rest of the connection in the kernel;
//  - blocked DNS over UDP: the answer is sent and the query dropped (NF_DROP);
//    no connmark, the next query on the same ports is decided afresh.
//
// Marks act on the packet's own (conntrack) connection; each packet is
// decoded once and verdicts leave in batches (nfqueue_verdict.h).
//
// Thread safety: Start() spawns one thread per queue; Stop() from any one
// thread. Counters are read after Stop().
#ifndef VIGIE_GATEWAY_SOURCES_NFQUEUE_SOURCE_H_
#define VIGIE_GATEWAY_SOURCES_NFQUEUE_SOURCE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/output/log_queue.h"
#include "gateway/inspect/pipeline.h"
#include "gateway/sources/worker_pool.h"

namespace vigie {

// Packets the kernel holds per queue before it applies the fail policy.
inline constexpr uint32_t kDefaultQueueMaxLen = 4096;
// Netlink receive buffer per queue: room for bursts while a worker is busy.
inline constexpr int kNfqueueRcvBuf = 8 << 20;
// Bytes of each packet copied to user space: whole packets (a ClientHello
// segment is at most one MTU; GSO is not requested).
inline constexpr uint32_t kNfqueueCopyBytes = 0xffff;

struct NfqueueOptions {
  std::vector<int> queues;
  uint32_t queue_maxlen = kDefaultQueueMaxLen;
  bool fail_open = true;  // the kernel accepts packets when the queue is full
  PipelineOptions pipeline;
};

class NfqueueSource : public WorkerPool {
 public:
  // Binds every queue (fails if one cannot be bound: another process holds
  // it, or no CAP_NET_ADMIN) and opens the raw sockets for answers.
  static absl::StatusOr<std::unique_ptr<NfqueueSource>> Open(const NfqueueOptions& opts, PolicyHolder* policy,
                                                             LogQueue* log);

 private:
  struct Worker;
  NfqueueSource() = default;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_SOURCES_NFQUEUE_SOURCE_H_
