// The decision log file: what `vigie replay` (JsonLineSink) and the writer
// thread of `vigie run` (LogQueue) write their lines to.
//
// Lines are appended to a batch and write(2)n out together (Flush, or when the
// batch holds kLogBatchBytes). A line counts as written only once write(2)
// took all its bytes; a failed or short write (ENOSPC, EPIPE with SIGPIPE
// ignored, EIO) counts every line not taken as dropped, so written() +
// dropped() is every line appended.
//
// Rotation ([log] max_bytes, keep): when the next line would take the file
// past max_bytes, the file is renamed PATH.1 (PATH.1 to PATH.2, ..., the
// oldest, PATH.keep, replaced) and a new PATH opened, between two lines:
// every file holds whole lines and at most max_bytes, except one holding a
// single longer line. Nothing is lost: a rename or open that fails keeps
// writing the current file (said once on standard error).
//
// Reopen(): close and open PATH again (logrotate moved it; SIGHUP/SIGUSR1).
// If PATH cannot be opened, the old file stays in use (said on standard
// error). Standard output ("-") is never rotated nor reopened.
//
// Thread safety: one writing thread; written(), dropped(), reopens() and
// rotations() from any thread.
#ifndef VIGIE_GATEWAY_OUTPUT_LOG_FILE_H_
#define VIGIE_GATEWAY_OUTPUT_LOG_FILE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace vigie {

// The batch: written out when it holds this much (and at each Flush), so one
// write(2) carries many lines without delaying them.
inline constexpr size_t kLogBatchBytes = 64 * 1024;

struct LogRotation {
  uint64_t max_bytes = 0;  // 0: never rotated
  uint32_t keep = 0;       // rotated files kept (PATH.1 .. PATH.keep)
};

class LogFile {
 public:
  // `path` "-" is standard output. Fails if the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<LogFile>> Open(const std::string& path, const LogRotation& rotation);
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // `line` ends in '\n'.
  void Append(std::string_view line);
  // Writes the batch out (rotating between lines as needed).
  void Flush();
  // Flushes, then closes and reopens the path (see above).
  void Reopen();

  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t reopens() const { return reopens_.load(std::memory_order_relaxed); }
  uint64_t rotations() const { return rotations_.load(std::memory_order_relaxed); }

 private:
  LogFile(int fd, std::string path, const LogRotation& rotation);
  // Writes batch_[from, to); returns the bytes write(2) took.
  size_t WriteOut(size_t from, size_t to);
  // PATH -> PATH.1 -> ... -> PATH.keep, then a new PATH.
  void Rotate();
  // Opens PATH (append, create 0640); -1 and a message on failure.
  int OpenPath(const char* why) const;

  int fd_;
  std::string path_;  // "" for standard output
  LogRotation rotation_;
  uint64_t size_ = 0;  // bytes in the current file
  std::string batch_;
  std::vector<size_t> ends_;  // end offset of each line in batch_
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> reopens_{0};
  std::atomic<uint64_t> rotations_{0};
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_LOG_FILE_H_
