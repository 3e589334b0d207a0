// FlowTable's report of its sources (the heaviest by refusals and
// evictions) and the memory bound its options allow (flow.h).
#include "gateway/flow/flow.h"

#include <algorithm>
#include <bit>

namespace vigie {

namespace {
// An abseil flat_hash_map's bytes at `n` entries at most: the capacity a
// table grows to (2^k - 1, load at most 7/8), one control byte per slot, and
// the old table alive during the last rehash (half the size).
size_t HashTableBytes(size_t n, size_t slot) {
  size_t cap = std::bit_ceil(n + n / 7 + 1);
  return cap * (slot + 1) + cap / 2 * (slot + 1);
}
// What malloc adds to a block (glibc: one size word, 16-byte rounding).
constexpr size_t kMallocOverhead = 16;
}  // namespace

FlowMemoryBound FlowTable::MemoryBound(const FlowTableOptions& o) {
  FlowMemoryBound m;
  // The slot array is reserved exactly; vectors grown by push_back (free
  // lists, the pools' pointers) may hold twice what they use.
  const size_t n = std::max<size_t>(o.max_flows, 1);
  m.per_flow = sizeof(Flow) + 2 * sizeof(uint32_t) +
               HashTableBytes(o.max_flows, sizeof(uint32_t)) / n +
               HashTableBytes(o.max_flows, sizeof(std::pair<const IpAddress, SourceUsage>)) / n + 1;
  m.per_buffer = kPoolEntryBytes + kMallocOverhead + 2 * (sizeof(std::unique_ptr<uint64_t[]>) + sizeof(int32_t));
  m.per_aux = kAuxBufferBytes + kMallocOverhead + 2 * (sizeof(std::unique_ptr<uint8_t[]>) + sizeof(int32_t));
  m.aux_buffers = std::max<size_t>(1, o.reassembly_buffers / 4);
  m.total = m.per_flow * o.max_flows + m.per_buffer * o.reassembly_buffers + m.per_aux * m.aux_buffers;
  return m;
}

void FlowTable::Retire(const IpAddress& ip, const SourceUsage& use) {
  const uint64_t weight = use.quota_hits + use.evicted;
  if (weight == 0) return;
  auto heavier = [](const SourceReport& x) { return x.quota_hits + x.evicted; };
  for (SourceReport& r : top_) {
    if (r.ip == ip) {
      r.quota_hits += use.quota_hits;
      r.evicted += use.evicted;
      return;
    }
  }
  if (top_.size() < kTopSources) {
    top_.push_back(SourceReport{ip, use.quota_hits, use.evicted, 0});
    return;
  }
  auto lightest = std::min_element(top_.begin(), top_.end(),
                                   [&](const SourceReport& x, const SourceReport& y) { return heavier(x) < heavier(y); });
  if (heavier(*lightest) < weight) *lightest = SourceReport{ip, use.quota_hits, use.evicted, 0};
}

std::vector<SourceReport> FlowTable::TopSources() const {
  // O(live sources x kTopSources): every live source with figures, merged
  // with its retired entry (if any), then the kTopSources heaviest.
  std::vector<SourceReport> out;
  std::vector<bool> merged(top_.size(), false);
  for (const auto& [ip, use] : sources_) {
    if (use.quota_hits + use.evicted == 0) continue;
    SourceReport r{ip, use.quota_hits, use.evicted, use.flows};
    for (size_t i = 0; i < top_.size(); ++i) {
      if (top_[i].ip == ip) {
        r.quota_hits += top_[i].quota_hits;
        r.evicted += top_[i].evicted;
        merged[i] = true;
      }
    }
    out.push_back(r);
  }
  for (size_t i = 0; i < top_.size(); ++i) {
    if (!merged[i]) out.push_back(top_[i]);
  }
  auto heavier = [](const SourceReport& x, const SourceReport& y) {
    return x.quota_hits + x.evicted > y.quota_hits + y.evicted;
  };
  const size_t k = std::min(out.size(), kTopSources);
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(k), out.end(), heavier);
  out.resize(k);
  return out;
}

}  // namespace vigie
