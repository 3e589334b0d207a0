#include "gateway/output/dedup.h"

#include <algorithm>
#include <tuple>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "gateway/output/decision_json.h"
#include "gateway/output/eve.h"

namespace vigie {
namespace {

constexpr std::string_view kTimestampPrefix = "{\"timestamp\":\"";

uint64_t KeyHash(const IpAddress& device, std::string_view name, Action action) {
  return absl::Hash<std::tuple<IpAddress, std::string_view, uint8_t>>{}(
      std::make_tuple(device, name, static_cast<uint8_t>(action)));
}

// The timestamp's text, without quotes, in the line's format.
void AppendTs(LogFormat f, uint64_t us, std::string* out) {
  if (f == LogFormat::kEve) {
    AppendEveTimestamp(us, out);
    return;
  }
  const size_t at = out->size();
  AppendJsonTimestamp(us, out);  // with quotes: drop them
  out->erase(at, 1);
  out->pop_back();
}

}  // namespace

DedupTable::DedupTable(LogFormat format, uint64_t window_us, size_t capacity)
    : format_(format), window_us_(window_us), entries_(capacity) {
  free_.reserve(capacity);
  for (size_t i = capacity; i > 0; --i) free_.push_back(static_cast<uint32_t>(i - 1));
  index_.reserve(capacity);
}

void DedupTable::Offer(const IpAddress& device, std::string_view name, Action action, uint64_t ts_us,
                       std::string_view line, size_t summary_at, LineOutput* out) {
  Expire(ts_us, out);
  if (name.size() > kDedupMaxNameBytes) {
    ++overflow_;
    out->WriteLine(line, action);
    return;
  }
  const uint64_t h = KeyHash(device, name, action);
  auto it = index_.find(h);
  if (it != index_.end()) {
    Entry& e = entries_[it->second];
    if (!(e.device == device) || e.name != name || e.action != action) {
      ++overflow_;  // a 64-bit hash collision: write it rather than merge two keys
      out->WriteLine(line, action);
      return;
    }
    if (ts_us < e.first_ts + window_us_) {
      ++e.count;
      ++suppressed_;
      if (ts_us > e.last_ts) e.last_ts = ts_us;
      return;
    }
    Close(it->second, out);  // its window ended: this decision opens the next one
  }
  out->WriteLine(line, action);
  if (free_.empty()) {
    ++overflow_;  // written above, just not deduplicated
    return;
  }
  const uint32_t i = free_.back();
  free_.pop_back();
  Entry& e = entries_[i];
  e.device = device;
  e.action = action;
  e.name.assign(name);
  e.first_ts = e.last_ts = ts_us;
  e.count = 0;
  e.line.assign(line);
  // Before the closing "}\n" when the formatter gave no place (cannot happen for decisions).
  e.summary_at = summary_at + 2 <= line.size() ? summary_at : (line.size() >= 2 ? line.size() - 2 : 0);
  e.hash = h;
  e.used = true;
  index_.emplace(h, i);
}

void DedupTable::Close(uint32_t i, LineOutput* out) {
  Entry& e = entries_[i];
  if (e.count > 0) {
    // The stored line with its timestamp replaced and the summary members
    // inserted at summary_at.
    scratch_.clear();
    const std::string& l = e.line;
    size_t ts_end = std::string::npos;
    if (l.compare(0, kTimestampPrefix.size(), kTimestampPrefix) == 0) ts_end = l.find('"', kTimestampPrefix.size());
    size_t rest = 0;
    if (ts_end != std::string::npos) {
      scratch_.append(kTimestampPrefix);
      AppendTs(format_, e.last_ts, &scratch_);
      rest = ts_end;
    }
    scratch_.append(l, rest, e.summary_at - rest);
    if (format_ == LogFormat::kEve) {
      absl::StrAppend(&scratch_, ",\"count\":[\"", e.count, "\"],\"first_timestamp\":[\"");
      AppendTs(format_, e.first_ts, &scratch_);
      scratch_.append("\"],\"last_timestamp\":[\"");
      AppendTs(format_, e.last_ts, &scratch_);
      scratch_.append("\"]");
    } else {
      absl::StrAppend(&scratch_, ",\"count\":", e.count, ",\"first_timestamp\":\"");
      AppendTs(format_, e.first_ts, &scratch_);
      scratch_.append("\",\"last_timestamp\":\"");
      AppendTs(format_, e.last_ts, &scratch_);
      scratch_.append("\"");
    }
    scratch_.append(l, e.summary_at, std::string::npos);
    out->WriteLine(scratch_, e.action);
    ++summaries_;
  }
  index_.erase(e.hash);
  e.used = false;
  free_.push_back(i);
}

void DedupTable::Expire(uint64_t now_us, LineOutput* out) {
  if (now_us < next_sweep_us_) return;  // at most one scan per kDedupSweepIntervalUs
  next_sweep_us_ = now_us + kDedupSweepIntervalUs;
  if (index_.empty()) return;
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].used && entries_[i].first_ts + window_us_ <= now_us) Close(i, out);
  }
}

void DedupTable::CloseAll(LineOutput* out) {
  // In order of the windows' first decisions, so summaries come out in time order.
  std::vector<uint32_t> open;
  open.reserve(index_.size());
  for (uint32_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].used) open.push_back(i);
  std::sort(open.begin(), open.end(),
            [&](uint32_t a, uint32_t b) { return entries_[a].first_ts < entries_[b].first_ts; });
  for (uint32_t i : open) Close(i, out);
}

}  // namespace vigie
