// The one writer under both decision logs: JsonLineSink (`vigie replay`) and
// the LogQueue writer thread (`vigie run`).
//
// Lines are appended to a batch and write(2)n when it holds kLogBatchBytes
// and on Flush(). A line counts as written only once write(2) took all its
// bytes. A failed or short write (a full disk: ENOSPC; a closed pipe: EPIPE,
// with SIGPIPE ignored by the caller; EIO) counts every line of the batch
// not taken as dropped, never as written, so written() + dropped() is every
// line appended and flushed. Nothing is retried or held back: the next batch
// tries again (a disk that frees space is written to again).
//
// Thread safety: Append/Flush/set_fd from one thread; written()/dropped()
// from any.
#ifndef VIGIE_GATEWAY_OUTPUT_LINE_WRITER_H_
#define VIGIE_GATEWAY_OUTPUT_LINE_WRITER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace vigie {

// The batch: written out when it holds this much (and at each Flush()), so
// one write(2) carries many lines without delaying them.
inline constexpr size_t kLogBatchBytes = 64 * 1024;

// Opens a decision log for appending (created 0640: the log names devices
// and sites; the group reads it, others do not; close on exec). "-" is
// standard output (not owned: *owned false).
absl::StatusOr<int> OpenLogFile(const std::string& path, bool* owned);

class LineWriter {
 public:
  explicit LineWriter(int fd);
  // `line` ends in '\n'.
  void Append(std::string_view line);
  void Flush();
  int fd() const { return fd_; }
  void set_fd(int fd) { fd_ = fd; }  // Flush() first
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  int fd_;
  std::string batch_;
  std::vector<size_t> ends_;  // end offset of each line in batch_
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_LINE_WRITER_H_
