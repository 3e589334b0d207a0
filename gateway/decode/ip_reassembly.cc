#include "gateway/decode/ip_reassembly.h"

#include <algorithm>
#include <cstring>

namespace vigie {

IpReassembler::IpReassembler(Counters* counters) : counters_(counters), alt_pool_(kMaxFragmentAlternates) {
  for (size_t i = kMaxFragmentAlternates; i > 0; --i) alt_free_.push_back(static_cast<int16_t>(i - 1));
}

size_t IpReassembler::MemoryBound() {
  // Per train: its list node (two links), data at the cap, the ranges (at
  // most one per fragment, doubled by vector growth), its index entry
  // (at most two slots with the rehash; one control byte each).
  constexpr size_t kPerTrain = sizeof(Train) + 2 * sizeof(void*) + kMaxDatagramBytes +
                               2 * kMaxFragmentsPerTrain * sizeof(std::pair<uint32_t, uint32_t>) +
                               2 * (sizeof(std::pair<const Key, TrainList::iterator>) + 1);
  // The alternates: their buffers (capacity reserved exactly, never past the
  // cap), their vectors and free list, and the completed one's.
  constexpr size_t kAlternates = kMaxFragmentAlternates * (kMaxDatagramBytes + sizeof(std::vector<uint8_t>) +
                                                           sizeof(int16_t)) +
                                 kMaxDatagramBytes;
  return kMaxFragmentTrains * kPerTrain + kMaxDatagramBytes + kAlternates;
}

void IpReassembler::Drop(TrainList::iterator it) {
  if (it->alt >= 0) alt_free_.push_back(it->alt);
  index_.erase(it->key);
  trains_.erase(it);
}

void IpReassembler::Expire(uint64_t now_us) {
  while (!trains_.empty() && trains_.front().first_us + kFragmentTimeoutUs < now_us) {
    counters_->Inc(Counter::k_ip_frag_timeouts);
    Drop(trains_.begin());
  }
}

bool IpReassembler::Add(const DecodedPacket& pkt, uint64_t now_us, ReassembledDatagram* out) {
  counters_->Inc(Counter::k_ip_fragments);
  Expire(now_us);
  const FragmentInfo& f = pkt.frag;
  uint64_t end = uint64_t{f.offset} + f.data.size();
  if (end > kMaxDatagramBytes) {
    counters_->Inc(Counter::k_ip_frag_overflow);
    return false;
  }
  // A middle fragment must carry a multiple of 8 bytes.
  if (f.more && (f.data.size() % 8 != 0 || f.data.empty())) {
    counters_->Inc(Anomaly::k_frag_bad);
    return false;
  }
  Key key{pkt.src, pkt.dst, f.id, f.proto};
  auto found = index_.find(key);
  TrainList::iterator it;
  if (found == index_.end()) {
    if (trains_.size() >= kMaxFragmentTrains) {
      counters_->Inc(Counter::k_ip_frag_timeouts);
      Drop(trains_.begin());
    }
    trains_.push_back(Train{});
    it = std::prev(trains_.end());
    it->key = key;
    it->first_us = now_us;
    index_.emplace(key, it);
  } else {
    it = found->second;
  }
  Train& t = *it;
  if (++t.fragments > kMaxFragmentsPerTrain) {
    counters_->Inc(Counter::k_ip_frag_overflow);
    Drop(it);
    return false;
  }
  if (!f.more) {
    if (t.have_last && t.total != end) {
      counters_->Inc(Anomaly::k_frag_bad);
      Drop(it);
      return false;
    }
    t.have_last = true;
    t.total = static_cast<uint32_t>(end);
  }
  if (t.have_last && end > t.total) {
    counters_->Inc(Anomaly::k_frag_bad);
    Drop(it);
    return false;
  }
  uint32_t start = f.offset;
  uint32_t stop = static_cast<uint32_t>(end);
  // Bytes held already that this fragment carries differently: a conflict,
  // read both ways from here on (the header comment).
  if (!t.conflict) {
    for (const auto& [rs, re] : t.ranges) {
      if (re <= start) continue;
      if (rs >= stop) break;
      uint32_t a = std::max(rs, start), b = std::min(re, stop);
      if (std::memcmp(t.data.data() + a, f.data.data() + (a - start), b - a) != 0) {
        t.conflict = true;
        break;
      }
    }
    if (t.conflict) {
      counters_->Inc(Counter::k_ip_fragment_conflicts);
      if (alt_free_.empty()) {
        t.alt_lost = true;
        counters_->Inc(Counter::k_ip_frag_alt_lost);
      } else {
        t.alt = alt_free_.back();
        alt_free_.pop_back();
        std::vector<uint8_t>& alt = alt_pool_[size_t(t.alt)];
        alt.clear();
        alt.reserve(t.data.size());
        alt.assign(t.data.begin(), t.data.end());
      }
    }
  }
  if (t.data.size() < end) {
    t.data.reserve(end);  // exactly: resize alone may double the capacity (MemoryBound)
    t.data.resize(end);
  }
  if (t.alt >= 0) {
    // Last received wins: the whole fragment over what is there.
    std::vector<uint8_t>& alt = alt_pool_[size_t(t.alt)];
    if (alt.size() < end) {
      alt.reserve(end);
      alt.resize(end);
    }
    std::memcpy(alt.data() + start, f.data.data(), stop - start);
  }
  // First received wins: copy only the bytes not yet held.
  uint32_t cur = start;
  for (const auto& [rs, re] : t.ranges) {
    if (re <= cur) continue;
    if (rs >= stop) break;
    if (rs > cur) std::memcpy(t.data.data() + cur, f.data.data() + (cur - start), rs - cur);
    cur = std::max(cur, re);
    if (cur >= stop) break;
  }
  if (cur < stop) std::memcpy(t.data.data() + cur, f.data.data() + (cur - start), stop - cur);
  // Merge the range in.
  t.ranges.emplace_back(start, stop);
  std::sort(t.ranges.begin(), t.ranges.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  for (const auto& r : t.ranges) {
    if (!merged.empty() && r.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  t.ranges.swap(merged);
  if (!t.have_last || t.ranges.size() != 1 || t.ranges[0].first != 0 || t.ranges[0].second != t.total) {
    return false;
  }
  done_.swap(t.data);
  done_.resize(t.total);
  *out = ReassembledDatagram();
  out->proto = t.key.proto;
  out->payload = absl::MakeConstSpan(done_);
  out->alternate_lost = t.alt_lost;
  if (t.alt >= 0) {
    done_alt_.swap(alt_pool_[size_t(t.alt)]);  // the slot keeps the old buffer for its next use
    done_alt_.resize(t.total);
    // Overlaps that came back to the first bytes (A, B, A) leave one reading.
    if (done_alt_ != done_) out->alternate = absl::MakeConstSpan(done_alt_);
  }
  Drop(it);
  counters_->Inc(Counter::k_ip_reassembled);
  return true;
}

}  // namespace vigie
