#include "gateway/output/log_queue.h"

#include "gateway/output/decision_json.h"

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
  explicit Ring(size_t lines) : slots_(lines + 1), actions_(lines + 1) {}

  void Write(const Decision& d, const Policy& policy) override {
    size_t head = head_.load(std::memory_order_relaxed);
    size_t next = head + 1 == slots_.size() ? 0 : head + 1;
    if (next == tail_.load(std::memory_order_acquire)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::string& s = slots_[head];
    s.clear();
    FormatDecision(d, policy, &s);
    s.push_back('\n');
    actions_[head] = d.verdict.action;
    head_.store(next, std::memory_order_release);
  }

  // Writer side: writes every complete slot to `f` (and `syslog`, if any).
  size_t Drain(FILE* f, SyslogSink* syslog) {
    size_t tail = tail_.load(std::memory_order_relaxed);
    size_t head = head_.load(std::memory_order_acquire);
    size_t n = 0;
    while (tail != head) {
      const std::string& s = slots_[tail];
      std::fwrite(s.data(), 1, s.size(), f);
      if (syslog) syslog->Send(actions_[tail], std::string_view(s.data(), s.size() - 1));
      tail = tail + 1 == slots_.size() ? 0 : tail + 1;
      ++n;
    }
    tail_.store(tail, std::memory_order_release);
    return n;
  }

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  std::vector<std::string> slots_;
  std::vector<Action> actions_;
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
  alignas(64) std::atomic<uint64_t> dropped_{0};
};

absl::StatusOr<std::unique_ptr<LogQueue>> LogQueue::Open(const std::string& path, size_t producers,
                                                         size_t lines_per_producer) {
  FILE* f = stdout;
  bool owned = false;
  if (path != "-") {
    f = std::fopen(path.c_str(), "ae");
    if (f == nullptr) return absl::InvalidArgumentError(absl::StrCat(path, ": ", std::strerror(errno)));
    owned = true;
  }
  std::unique_ptr<LogQueue> q(new LogQueue(f, owned));
  for (size_t i = 0; i < producers; ++i) q->producers_.push_back(std::make_unique<Ring>(lines_per_producer));
  return q;
}

LogQueue::LogQueue(FILE* f, bool owned) : f_(f), owned_(owned) {}

DecisionSink* LogQueue::producer(size_t i) { return producers_[i].get(); }

LogQueue::~LogQueue() {
  Stop();
  if (owned_) std::fclose(f_);
}

void LogQueue::Start() {
  if (writer_.joinable()) return;
  stop_.store(false);
  writer_ = std::thread([this] { WriterLoop(); });
}

size_t LogQueue::DrainOnce() {
  size_t n = 0;
  for (auto& r : producers_) n += r->Drain(f_, syslog_.get());
  if (n) {
    std::fflush(f_);
    written_.fetch_add(n, std::memory_order_relaxed);
  }
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
  std::fflush(f_);
  if (syslog_) syslog_->Close();
}

uint64_t LogQueue::dropped() const {
  uint64_t n = 0;
  for (const auto& r : producers_) n += r->dropped();
  return n;
}

}  // namespace vigie
