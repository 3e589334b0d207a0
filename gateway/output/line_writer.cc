#include "gateway/output/line_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace vigie {

absl::StatusOr<int> OpenLogFile(const std::string& path, bool* owned) {
  *owned = false;
  if (path == "-") return STDOUT_FILENO;
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open log file: ", std::strerror(errno)));
  *owned = true;
  return fd;
}

LineWriter::LineWriter(int fd) : fd_(fd) {
  batch_.reserve(2 * kLogBatchBytes);
  ends_.reserve(kLogBatchBytes / 64);  // lines are longer than 64 bytes
}

void LineWriter::Append(std::string_view line) {
  batch_.append(line);
  ends_.push_back(batch_.size());
  if (batch_.size() >= kLogBatchBytes) Flush();
}

void LineWriter::Flush() {
  size_t done = 0;
  while (done < batch_.size()) {
    ssize_t w = ::write(fd_, batch_.data() + done, batch_.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;  // ENOSPC, EPIPE, EIO...: the rest is lost
    done += static_cast<size_t>(w);
  }
  uint64_t ok = 0;
  while (ok < ends_.size() && ends_[ok] <= done) ++ok;
  written_.fetch_add(ok, std::memory_order_relaxed);
  dropped_.fetch_add(ends_.size() - ok, std::memory_order_relaxed);
  batch_.clear();
  ends_.clear();
}

}  // namespace vigie
