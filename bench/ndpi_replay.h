// The nDPI baseline of BM_Replay (built only where libndpi is found): nDPI
// classifying in-memory Ethernet frames the way ndpiReader does (one
// ndpi_flow_struct per 5-tuple, packets fed until the protocol is known, then
// the extra dissection nDPI asks for), with host and SNI detection.
//
// Thread safety: one NdpiReplay per thread. Ownership: owns the nDPI module.
#ifndef VIGIE_BENCH_NDPI_REPLAY_H_
#define VIGIE_BENCH_NDPI_REPLAY_H_

#include <cstdint>
#include <memory>

#include "gateway/sources/memory_capture.h"

namespace vigie::bench {

struct NdpiRun {
  uint64_t packets = 0;      // frames handed to nDPI (IP frames)
  uint64_t flows = 0;
  uint64_t named_flows = 0;  // flows for which nDPI found a host or SNI name
};

class NdpiReplay {
 public:
  NdpiReplay();
  ~NdpiReplay();
  NdpiReplay(const NdpiReplay&) = delete;
  NdpiReplay& operator=(const NdpiReplay&) = delete;
  // One pass over the capture with fresh flows (freed at the end).
  NdpiRun Run(const MemoryCapture& capture);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigie::bench

#endif  // VIGIE_BENCH_NDPI_REPLAY_H_
