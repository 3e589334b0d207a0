// The decision log of the live modes: workers format each decision to a line
// (DecisionFormatter: the Vigie or the EVE format, with its Community ID) and
// hand it to one writer thread through bounded queues, one per worker (DESIGN.md: "Logging leaves the workers through
// bounded queues; when a queue is full the loss is counted and reported").
//
// Each worker's queue is a single-producer / single-consumer ring of
// preallocated strings: no lock and, once the strings have grown to the
// longest line, no allocation on the packet path. A full ring drops the line
// and counts it (dropped()); the writer never blocks a worker.
//
// With dedup_seconds > 0 the writer thread runs the DedupTable (dedup.h) over
// the lines of every worker, so the windows are per device and name across
// workers; windows close by decision time and by the wall clock while idle.
//
// Output: through a LineWriter (line_writer.h): a line counts as written
// only once write(2) took all its bytes; a failed or short write (full disk,
// closed pipe) counts the lines not taken as dropped, so written() +
// dropped() is every line handed to the queue (dedup summaries aside).
//
// Rotation: RequestReopen() (any thread, async-signal-safe: one atomic store)
// makes the writer thread close the file and open the same path again, at the
// next drain (within kLogWriterIdleMicros), so `mv` + SIGHUP rotates without
// copytruncate. Lines written before the reopen are in the old file, every
// later one in the new file. If the path cannot be opened, the writer keeps
// the old file and says why on standard error. Standard output ("-") is not
// reopened.
//
// Lifetime: create, take one producer() per worker, Start(); Stop() drains
// every ring, flushes and joins the writer (call it after the workers have
// stopped). Thread safety: producer(i) is used by worker i only; the counters
// and RequestReopen() may be used from any thread.
#ifndef VIGIE_GATEWAY_OUTPUT_LOG_QUEUE_H_
#define VIGIE_GATEWAY_OUTPUT_LOG_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/inspect/decision.h"
#include "gateway/output/decision_json.h"
#include "gateway/output/line_writer.h"
#include "gateway/output/syslog_sink.h"

namespace vigie {

// Lines a worker may have in flight before the next ones are dropped: about a
// second of a busy gateway's decisions, a few MB at worst.
inline constexpr size_t kDefaultLogQueueLines = 8192;
// How long the writer sleeps when every ring is empty.
inline constexpr int kLogWriterIdleMicros = 2000;

class LogQueue : private LineOutput {
 public:
  // `path` "-" is standard output. `producers`: one per worker.
  static absl::StatusOr<std::unique_ptr<LogQueue>> Open(const std::string& path, size_t producers,
                                                        size_t lines_per_producer = kDefaultLogQueueLines);
  static absl::StatusOr<std::unique_ptr<LogQueue>> Open(const std::string& path, size_t producers,
                                                        const LogOptions& opts,
                                                        size_t lines_per_producer = kDefaultLogQueueLines);
  ~LogQueue();

  DecisionSink* producer(size_t i);
  // Also sends every line written to a syslog collector (call before Start()).
  void SetSyslog(std::unique_ptr<SyslogSink> s) { syslog_ = std::move(s); }
  const SyslogSink* syslog() const { return syslog_.get(); }
  void Start();
  // Drains every ring, flushes and joins the writer. Idempotent.
  void Stop();
  // Asks the writer thread to reopen the log path (see above).
  void RequestReopen() { reopen_.store(true, std::memory_order_release); }
  // Reopens done so far (tests, the run loop's messages).
  uint64_t reopens() const { return reopens_.load(std::memory_order_relaxed); }

  uint64_t written() const { return out_.written(); }
  // Lines lost: full rings plus lines a write(2) failed to take.
  uint64_t dropped() const;
  uint64_t write_errors() const { return out_.dropped(); }
  // Dedup figures (0 when off); read after Stop().
  uint64_t dedup_suppressed() const { return dedup_ ? dedup_->suppressed() : 0; }
  uint64_t dedup_overflow() const { return dedup_ ? dedup_->overflow() : 0; }

 private:
  class Ring;
  LogQueue(int fd, bool owned, std::string path, const LogOptions& opts);
  void WriteLine(std::string_view line, Action action) override;
  void MaybeReopen();
  void WriterLoop();
  // Writes what the rings hold; returns the number of lines written.
  size_t DrainOnce();

  bool owned_;         // the fd is a file we opened (not standard output)
  std::string path_;  // "" for standard output
  LineWriter out_;     // writer thread only (its counters: any thread)
  std::vector<std::unique_ptr<Ring>> producers_;
  std::unique_ptr<SyslogSink> syslog_;
  LogOptions opts_;
  std::unique_ptr<DedupTable> dedup_;  // writer thread only
  std::thread writer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reopen_{false};
  std::atomic<uint64_t> reopens_{0};
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_LOG_QUEUE_H_
