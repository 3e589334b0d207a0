#include "gateway/output/log_queue.h"

#include "gateway/output/decision_json.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace vigie {

// Single-producer / single-consumer ring. head_ is written by the producer
// (release) after the slot is filled; tail_ by the writer after the slot is
// written out. One slot stays empty to tell full from empty.
class LogQueue::Ring : public DecisionSink {
 public:
  Ring(size_t lines, const LogOptions& opts) : slots_(lines + 1), fmt_(opts), dedup_(opts.dedup_seconds > 0) {}

  void Write(const Decision& d, const Policy& policy) override {
    size_t head = head_.load(std::memory_order_relaxed);
    size_t next = head + 1 == slots_.size() ? 0 : head + 1;
    if (next == tail_.load(std::memory_order_acquire)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    Slot& s = slots_[head];
    s.line.clear();
    fmt_.AppendLine(d, policy, &s.line, &s.summary_at);
    s.action = d.verdict.action;
    if (dedup_) {  // the key, copied: the decision's views end with this call
      s.device = d.src;
      s.name.assign(DedupName(d));
      s.ts_us = d.ts_us;
    }
    head_.store(next, std::memory_order_release);
  }

  // Writer side: hands every complete slot to the queue's output (or dedup).
  size_t Drain(LogQueue* q) {
    size_t tail = tail_.load(std::memory_order_relaxed);
    size_t head = head_.load(std::memory_order_acquire);
    size_t n = 0;
    while (tail != head) {
      const Slot& s = slots_[tail];
      if (q->dedup_) {
        q->dedup_->Offer(s.device, s.name, s.action, s.ts_us, s.line, s.summary_at, q);
      } else {
        q->WriteLine(s.line, s.action);
      }
      tail = tail + 1 == slots_.size() ? 0 : tail + 1;
      ++n;
    }
    tail_.store(tail, std::memory_order_release);
    return n;
  }

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::string line;
    size_t summary_at = 0;
    Action action = Action::kAllow;
    IpAddress device;
    std::string name;
    uint64_t ts_us = 0;
  };
  std::vector<Slot> slots_;
  DecisionFormatter fmt_;
  bool dedup_;
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
  alignas(64) std::atomic<uint64_t> dropped_{0};
};

namespace {
// Append, create, close on exec. 0640: the decision log names devices and
// sites; the group (adm on a packaged install) reads it, others do not.
constexpr int kLogOpenFlags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;
constexpr mode_t kLogFileMode = 0640;
}  // namespace

absl::StatusOr<std::unique_ptr<LogQueue>> LogQueue::Open(const std::string& path, size_t producers,
                                                         size_t lines_per_producer) {
  return Open(path, producers, LogOptions(), lines_per_producer);
}

absl::StatusOr<std::unique_ptr<LogQueue>> LogQueue::Open(const std::string& path, size_t producers,
                                                         const LogOptions& opts, size_t lines_per_producer) {
  int fd = STDOUT_FILENO;
  std::string owned_path;
  if (path != "-") {
    fd = ::open(path.c_str(), kLogOpenFlags, kLogFileMode);
    if (fd < 0) return absl::InvalidArgumentError(absl::StrCat(path, ": ", std::strerror(errno)));
    owned_path = path;
  }
  std::unique_ptr<LogQueue> q(new LogQueue(fd, std::move(owned_path), opts));
  for (size_t i = 0; i < producers; ++i) q->producers_.push_back(std::make_unique<Ring>(lines_per_producer, opts));
  return q;
}

LogQueue::LogQueue(int fd, std::string path, const LogOptions& opts) : fd_(fd), path_(std::move(path)), opts_(opts) {
  batch_.reserve(2 * kLogBatchBytes);
  batch_ends_.reserve(kLogBatchBytes / 64);  // lines are longer than 64 bytes
  if (opts.dedup_seconds > 0) {
    dedup_ = std::make_unique<DedupTable>(opts.format, uint64_t{opts.dedup_seconds} * 1'000'000);
  }
}

void LogQueue::WriteLine(std::string_view line, Action action) {
  batch_.append(line);
  batch_ends_.push_back(batch_.size());
  if (syslog_) syslog_->Send(action, line.substr(0, line.size() - 1));
  if (batch_.size() >= kLogBatchBytes) Flush();
}

void LogQueue::Flush() {
  size_t done = 0;
  while (done < batch_.size()) {
    ssize_t w = ::write(fd_, batch_.data() + done, batch_.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;  // ENOSPC, EPIPE, EIO...: the rest is lost
    done += static_cast<size_t>(w);
  }
  uint64_t ok = 0;
  while (ok < batch_ends_.size() && batch_ends_[ok] <= done) ++ok;
  written_.fetch_add(ok, std::memory_order_relaxed);
  write_dropped_.fetch_add(batch_ends_.size() - ok, std::memory_order_relaxed);
  batch_.clear();
  batch_ends_.clear();
}

void LogQueue::MaybeReopen() {
  if (!reopen_.exchange(false, std::memory_order_acq_rel)) return;
  Flush();  // what came before the signal goes to the old file
  if (path_.empty()) return;  // standard output
  int fd = ::open(path_.c_str(), kLogOpenFlags, kLogFileMode);
  if (fd < 0) {
    std::fprintf(stderr, "vigie: cannot reopen the decision log %s, still writing the old file: %s\n", path_.c_str(),
                 std::strerror(errno));
    return;
  }
  ::close(fd_);
  fd_ = fd;
  reopens_.fetch_add(1, std::memory_order_relaxed);
}

namespace {
uint64_t WallClockUs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}
}  // namespace

DecisionSink* LogQueue::producer(size_t i) { return producers_[i].get(); }

LogQueue::~LogQueue() {
  Stop();
  if (!path_.empty()) ::close(fd_);
}

void LogQueue::Start() {
  if (writer_.joinable()) return;
  stop_.store(false);
  writer_ = std::thread([this] { WriterLoop(); });
}

size_t LogQueue::DrainOnce() {
  MaybeReopen();
  size_t n = 0;
  for (auto& r : producers_) n += r->Drain(this);
  if (dedup_) dedup_->Expire(WallClockUs(), this);  // also when idle: windows end on time
  Flush();
  return n;
}

void LogQueue::WriterLoop() {
  while (!stop_.load(std::memory_order_acquire)) {
    if (DrainOnce() != 0) continue;
    if (syslog_) syslog_->Poll();
    std::this_thread::sleep_for(std::chrono::microseconds(kLogWriterIdleMicros));
  }
  DrainOnce();
}

void LogQueue::Stop() {
  if (writer_.joinable()) {
    stop_.store(true, std::memory_order_release);
    writer_.join();
  }
  DrainOnce();
  if (dedup_) dedup_->CloseAll(this);
  Flush();
  if (syslog_) syslog_->Close();
}

uint64_t LogQueue::dropped() const {
  uint64_t n = 0;
  for (const auto& r : producers_) n += r->dropped();
  return n + write_dropped_.load(std::memory_order_relaxed);
}

}  // namespace vigie
