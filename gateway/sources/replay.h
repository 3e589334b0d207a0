// Replay: capture files (pcap, pcapng) read with libpcap and fed through a
// Pipeline, frame by frame, numbering frames from 1 as tshark does.
#ifndef VIGIE_GATEWAY_SOURCES_REPLAY_H_
#define VIGIE_GATEWAY_SOURCES_REPLAY_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "gateway/inspect/pipeline.h"

namespace vigie {

struct ReplayResult {
  uint64_t frames = 0;
  // Set when the file could be opened but reading stopped early (damaged
  // file); the frames before the damage were processed.
  std::string warning;
};

// Fails (with the reason) only if the file cannot be opened as a capture.
absl::StatusOr<ReplayResult> ReplayCapture(const std::string& path, Pipeline* pipeline);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_SOURCES_REPLAY_H_
