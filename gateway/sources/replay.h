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

// Told how far a replay has got (the CLI's progress line). Called on the
// replaying thread every kReplayObserveFrames frames and once at the end.
class ReplayObserver {
 public:
  virtual ~ReplayObserver() = default;
  // `frames` read so far from this file; `offset`: bytes of it consumed.
  virtual void OnProgress(uint64_t frames, uint64_t offset) = 0;
};
// Often enough for a few updates a second at any capture speed, rare enough
// to cost nothing (one ftell per 1024 frames).
inline constexpr uint64_t kReplayObserveFrames = 1024;

// Fails (with the reason) only if the file cannot be opened as a capture.
absl::StatusOr<ReplayResult> ReplayCapture(const std::string& path, Pipeline* pipeline,
                                           ReplayObserver* observer = nullptr);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_SOURCES_REPLAY_H_
