#include "gateway/output/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace vigie {

namespace {
// Append, create, close on exec. 0640: the decision log names devices and
// sites; the group (adm on a packaged install) reads it, others do not.
constexpr int kLogOpenFlags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;
constexpr mode_t kLogFileMode = 0640;

uint64_t FileSize(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
}
}  // namespace

absl::StatusOr<std::unique_ptr<LogFile>> LogFile::Open(const std::string& path, const LogRotation& rotation) {
  if (path == "-") return std::unique_ptr<LogFile>(new LogFile(STDOUT_FILENO, "", rotation));
  int fd = ::open(path.c_str(), kLogOpenFlags, kLogFileMode);
  if (fd < 0) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open log file: ", std::strerror(errno)));
  return std::unique_ptr<LogFile>(new LogFile(fd, path, rotation));
}

LogFile::LogFile(int fd, std::string path, const LogRotation& rotation)
    : fd_(fd), path_(std::move(path)), rotation_(rotation) {
  if (path_.empty()) rotation_ = LogRotation();  // standard output
  size_ = path_.empty() ? 0 : FileSize(fd_);
  batch_.reserve(2 * kLogBatchBytes);
  ends_.reserve(kLogBatchBytes / 64);  // lines are longer than 64 bytes
}

LogFile::~LogFile() {
  Flush();
  if (!path_.empty()) ::close(fd_);
}

void LogFile::Append(std::string_view line) {
  batch_.append(line);
  ends_.push_back(batch_.size());
  if (batch_.size() >= kLogBatchBytes) Flush();
}

size_t LogFile::WriteOut(size_t from, size_t to) {
  size_t done = from;
  while (done < to) {
    ssize_t w = ::write(fd_, batch_.data() + done, to - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;  // ENOSPC, EPIPE, EIO...: the rest is lost
    done += static_cast<size_t>(w);
  }
  return done - from;
}

void LogFile::Flush() {
  size_t line = 0, off = 0;
  while (line < ends_.size()) {
    size_t last = ends_.size();  // the lines [line, last) go to the current file
    if (rotation_.max_bytes > 0) {
      if (size_ > 0 && size_ + (ends_[line] - off) > rotation_.max_bytes) Rotate();
      last = line + 1;
      while (last < ends_.size() && size_ + (ends_[last] - off) <= rotation_.max_bytes) ++last;
    }
    size_t end = ends_[last - 1];
    size_t took = WriteOut(off, end);
    size_ += took;
    if (took < end - off) {
      size_t ok = line;
      while (ok < ends_.size() && ends_[ok] <= off + took) ++ok;
      written_.fetch_add(ok - line, std::memory_order_relaxed);
      dropped_.fetch_add(ends_.size() - ok, std::memory_order_relaxed);
      break;
    }
    written_.fetch_add(last - line, std::memory_order_relaxed);
    line = last;
    off = end;
  }
  batch_.clear();
  ends_.clear();
}

int LogFile::OpenPath(const char* why) const {
  int fd = ::open(path_.c_str(), kLogOpenFlags, kLogFileMode);
  if (fd < 0) {
    std::fprintf(stderr, "vigie: cannot %s the decision log %s, still writing the old file: %s\n", why,
                 path_.c_str(), std::strerror(errno));
  }
  return fd;
}

void LogFile::Rotate() {
  for (uint32_t i = rotation_.keep; i > 1; --i) {
    std::string from = absl::StrCat(path_, ".", i - 1), to = absl::StrCat(path_, ".", i);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      std::fprintf(stderr, "vigie: log rotation: cannot rename %s: %s\n", from.c_str(), std::strerror(errno));
    }
  }
  std::string first = rotation_.keep > 0 ? absl::StrCat(path_, ".1") : path_;
  if (rotation_.keep == 0 || ::rename(path_.c_str(), first.c_str()) != 0) {
    if (rotation_.keep > 0) {
      std::fprintf(stderr, "vigie: log rotation: cannot rename %s, still writing it: %s\n", path_.c_str(),
                   std::strerror(errno));
    }
    size_ = 0;  // try again after another max_bytes
    return;
  }
  int fd = OpenPath("rotate");
  size_ = 0;
  if (fd < 0) return;  // the renamed file takes the lines until it can be reopened
  ::close(fd_);
  fd_ = fd;
  rotations_.fetch_add(1, std::memory_order_relaxed);
}

void LogFile::Reopen() {
  Flush();  // what came before the signal goes to the old file
  if (path_.empty()) return;  // standard output
  int fd = OpenPath("reopen");
  if (fd < 0) return;
  ::close(fd_);
  fd_ = fd;
  size_ = FileSize(fd_);
  reopens_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace vigie
