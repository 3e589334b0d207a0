// Volume control for the decision log ([log] dedup_seconds): per (device,
// name, action) the first decision's line is written at once; the identical
// decisions that follow within the window are only counted, and when the
// window closes one summary line is written: the first line with
// "timestamp" set to the last decision's time and, in the Vigie format,
// top-level "count" (the decisions folded in, the first not included),
// "first_timestamp" and "last_timestamp"; in EVE (whose top level allows no
// new property) the same three as one-string arrays in alert.metadata.
// A window closes when a decision of a later time arrives (Offer, Expire:
// packet time in replay, the wall clock as well in `vigie run`) or at
// CloseAll (end of replay, shutdown); the table is scanned at most once per
// kDedupSweepIntervalUs, so a summary may come up to that much after its
// window ended (a decision of the same key closes its own window at once).
//
// Bounded: at most kDedupMaxEntries open windows. When the table is full, or
// a name is longer than any DNS name (kDedupMaxNameBytes), the decision's line
// is written as is and counted in overflow(): never lost, never unbounded.
// Decision counters (counters.h) count every decision either way.
//
// Thread safety: one thread (the replay sink, or LogQueue's writer).
// Allocation: entries and their strings are preallocated or reused; a line
// longer than any before grows its entry's string once.
#ifndef VIGIE_GATEWAY_OUTPUT_DEDUP_H_
#define VIGIE_GATEWAY_OUTPUT_DEDUP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gateway/base/ip_address.h"
#include "gateway/policy/config.h"

namespace vigie {

// Open windows at once: a large ministry's devices times the names they ask
// for in a minute; each holds one line (about 0.5 KiB), so about 8 MiB at most.
inline constexpr size_t kDedupMaxEntries = 16384;
// Names longer than a DNS name (RFC 1035: 255 bytes on the wire) are not keyed.
inline constexpr size_t kDedupMaxNameBytes = 255;
// How often (in decision time) the table is scanned for windows that ended.
inline constexpr uint64_t kDedupSweepIntervalUs = 1'000'000;

// Where finished lines go (a file, the syslog); `line` ends in '\n'.
class LineOutput {
 public:
  virtual ~LineOutput() = default;
  virtual void WriteLine(std::string_view line, Action action) = 0;
};

class DedupTable {
 public:
  DedupTable(LogFormat format, uint64_t window_us, size_t capacity = kDedupMaxEntries);

  // One decision's formatted line (ending in '\n'); `summary_at`: the offset
  // DecisionFormatter::AppendLine gave. Writes the line to `out` now, or
  // counts it in its open window. Closes windows ended by `ts_us` first.
  void Offer(const IpAddress& device, std::string_view name, Action action, uint64_t ts_us, std::string_view line,
             size_t summary_at, LineOutput* out);
  // Closes the windows that ended by `now_us` (first + window <= now); scans
  // at most once per kDedupSweepIntervalUs.
  void Expire(uint64_t now_us, LineOutput* out);
  // Closes every window (end of replay, shutdown).
  void CloseAll(LineOutput* out);

  uint64_t suppressed() const { return suppressed_; }  // decisions folded into summaries
  uint64_t summaries() const { return summaries_; }    // summary lines written
  uint64_t overflow() const { return overflow_; }      // written as is: table full or name too long
  size_t open_windows() const { return index_.size(); }

 private:
  struct Entry {
    IpAddress device;
    Action action = Action::kAllow;
    std::string name;
    uint64_t first_ts = 0, last_ts = 0, count = 0;
    std::string line;
    size_t summary_at = 0;
    uint64_t hash = 0;
    bool used = false;
  };
  void Close(uint32_t i, LineOutput* out);

  LogFormat format_;
  uint64_t window_us_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_;
  // Key hash -> entry; a hash shared by two keys (never seen with 64 bits)
  // makes the second one overflow rather than merge.
  absl::flat_hash_map<uint64_t, uint32_t> index_;
  uint64_t next_sweep_us_ = 0;
  std::string scratch_;
  uint64_t suppressed_ = 0, summaries_ = 0, overflow_ = 0;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_DEDUP_H_
