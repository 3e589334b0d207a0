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

absl::StatusOr<std::unique_ptr<LogQueue>> LogQueue::Open(const std::string& path, size_t producers,
                                                         size_t lines_per_producer) {
  return Open(path, producers, LogOptions(), lines_per_producer);
}

absl::StatusOr<std::unique_ptr<LogQueue>> LogQueue::Open(const std::string& path, size_t producers,
                                                         const LogOptions& opts, size_t lines_per_producer) {
  bool owned = false;
  absl::StatusOr<int> fd = OpenLogFile(path, &owned);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<LogQueue> q(new LogQueue(*fd, owned, owned ? path : std::string(), opts));
  for (size_t i = 0; i < producers; ++i) q->producers_.push_back(std::make_unique<Ring>(lines_per_producer, opts));
  return q;
}

LogQueue::LogQueue(int fd, bool owned, std::string path, const LogOptions& opts)
    : owned_(owned), path_(std::move(path)), out_(fd), opts_(opts) {
  if (opts.dedup_seconds > 0) {
    dedup_ = std::make_unique<DedupTable>(opts.format, uint64_t{opts.dedup_seconds} * 1'000'000);
  }
}

void LogQueue::WriteLine(std::string_view line, Action action) {
  if (syslog_) syslog_->Send(action, line.substr(0, line.size() - 1));
  out_.Append(line);
}

void LogQueue::MaybeReopen() {
  if (!reopen_.exchange(false, std::memory_order_acq_rel)) return;
  out_.Flush();  // what came before the signal goes to the old file
  if (!owned_) return;  // standard output
  bool owned = false;
  absl::StatusOr<int> fd = OpenLogFile(path_, &owned);
  if (!fd.ok()) {
    std::fprintf(stderr, "vigie: cannot reopen the decision log, still writing the old file: %s\n",
                 std::string(fd.status().message()).c_str());
    return;
  }
  ::close(out_.fd());
  out_.set_fd(*fd);
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
  if (owned_) ::close(out_.fd());
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
  out_.Flush();
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
  out_.Flush();
  if (syslog_) syslog_->Close();
}

uint64_t LogQueue::dropped() const {
  uint64_t n = 0;
  for (const auto& r : producers_) n += r->dropped();
  return n + out_.dropped();
}

}  // namespace vigie
