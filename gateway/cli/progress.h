// The progress line of `vigie replay` on a terminal: packets, MB/s and the
// ETA from the capture files' sizes, on standard error, rewritten in place
// (\r) at most kProgressIntervalMs apart, and a last line at the end. Off
// unless standard error is a terminal (isatty), so logs and pipes never see
// it.
//
// Thread safety: the replaying thread only. Allocation: none per update.
#ifndef VIGIE_GATEWAY_CLI_PROGRESS_H_
#define VIGIE_GATEWAY_CLI_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gateway/sources/replay.h"

namespace vigie {

// A few updates a second: readable, and never a cost to the replay.
inline constexpr int kProgressIntervalMs = 250;

class ReplayProgress : public ReplayObserver {
 public:
  // `files`: the captures in replay order (their sizes give the total).
  // `enabled`: normally isatty(fileno(out)).
  ReplayProgress(const std::vector<std::string>& files, FILE* out, bool enabled);
  // Before each file (index into `files`).
  void BeginFile(size_t index);
  void OnProgress(uint64_t frames, uint64_t offset) override;
  // The last line (and a newline); nothing when disabled.
  void Finish();
  bool enabled() const { return enabled_; }

 private:
  void Print(bool last);
  FILE* out_;
  bool enabled_;
  std::vector<uint64_t> sizes_;
  uint64_t total_bytes_ = 0;
  uint64_t done_bytes_ = 0;     // files already replayed
  uint64_t done_frames_ = 0;
  uint64_t file_bytes_ = 0, file_frames_ = 0;  // the current file so far
  size_t index_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_CLI_PROGRESS_H_
