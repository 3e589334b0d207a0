// IPv4 and IPv6 fragment reassembly, bounded (RFC 791 §3.2, RFC 8200 §4.5).
//
// Fragments are keyed by (src, dst, protocol, id). A datagram is handed back
// whole once every byte up to the last fragment is held. Bounds: at most
// kMaxFragmentTrains datagrams in progress (the oldest is dropped to make
// room), at most kMaxDatagramBytes per datagram, at most kMaxFragmentsPerTrain
// fragments each, and a train older than kFragmentTimeoutUs is dropped. Every
// bound hit is counted.
//
// Overlapping fragments: receivers differ (Linux drops a datagram whose
// fragments overlap partly and ignores one inside bytes already held, RFC
// 5722 for IPv6; other stacks keep the first or the last bytes received). So
// the datagram is read both ways: first received wins (`payload`) and last
// received wins (`alternate`, when it ends up different). Overlaps whose bytes
// agree are no conflict. A conflict is counted (ip_fragment_conflicts); its
// last-wins copy is held in one of kMaxFragmentAlternates buffers of the
// worker, and when none is free the other reading is lost (ip_frag_alt_lost,
// `alternate_lost`): the caller must not let the datagram through unread.
// DESIGN.md "Soundness".
//
// Thread safety: one instance per worker, not shared.
#ifndef VIGIE_GATEWAY_DECODE_IP_REASSEMBLY_H_
#define VIGIE_GATEWAY_DECODE_IP_REASSEMBLY_H_

#include <cstdint>
#include <list>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "gateway/base/counters.h"
#include "gateway/decode/decode.h"

namespace vigie {

// Datagrams being reassembled at once; fragments are rare in the traffic we inspect.
inline constexpr size_t kMaxFragmentTrains = 1024;
// The IPv4 maximum; larger (jumbo) datagrams are not reassembled.
inline constexpr size_t kMaxDatagramBytes = 65535;
// Fragments of one datagram: more is an attack (tiny-fragment floods).
inline constexpr size_t kMaxFragmentsPerTrain = 64;
// RFC 8200 §4.5 says 60 s; captures can be replayed faster than real time,
// so time is the packets' own.
inline constexpr uint64_t kFragmentTimeoutUs = 30'000'000;
// Datagrams in progress whose conflicting overlaps are read the other way too
// (a last-wins copy each, up to kMaxDatagramBytes): conflicts are an attack
// or a broken sender, never routine traffic.
inline constexpr size_t kMaxFragmentAlternates = 16;

// A datagram completed by IpReassembler::Add. Views valid until the next Add.
struct ReassembledDatagram {
  absl::Span<const uint8_t> payload;    // the transport payload, first received bytes kept
  absl::Span<const uint8_t> alternate;  // the last received bytes kept, when it differs from payload
  bool alternate_lost = false;          // fragments conflicted and the other reading could not be held
  uint8_t proto = 0;                    // transport protocol
};

class IpReassembler {
 public:
  explicit IpReassembler(Counters* counters);

  IpReassembler(const IpReassembler&) = delete;
  IpReassembler& operator=(const IpReassembler&) = delete;

  // Adds a fragment seen at `now_us`. When it completes its datagram, returns
  // true and fills *out (views valid until the next call).
  bool Add(const DecodedPacket& pkt, uint64_t now_us, ReassembledDatagram* out);

  size_t trains() const { return trains_.size(); }
  size_t alternates_in_use() const { return kMaxFragmentAlternates - alt_free_.size(); }
  // Bytes held at most: kMaxFragmentTrains trains of kMaxDatagramBytes with
  // their ranges and index entries, kMaxFragmentAlternates last-wins copies,
  // plus the last completed datagram and its alternate.
  static size_t MemoryBound();

 private:
  struct Key {
    IpAddress src, dst;
    uint32_t id;
    uint8_t proto;
    friend bool operator==(const Key& a, const Key& b) {
      return a.src == b.src && a.dst == b.dst && a.id == b.id && a.proto == b.proto;
    }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.src, k.dst, k.id, k.proto);
    }
  };
  struct Train {
    Key key;
    uint64_t first_us = 0;
    std::vector<uint8_t> data;
    std::vector<std::pair<uint32_t, uint32_t>> ranges;  // held [start, end), sorted, merged
    uint32_t total = 0;   // datagram payload length, once the last fragment is seen
    bool have_last = false;
    bool conflict = false;   // overlapping fragments disagreed
    bool alt_lost = false;   // ... and no alternate buffer was free
    int16_t alt = -1;        // alt_pool_ slot holding the last-wins copy, -1 = none
    uint16_t fragments = 0;
  };
  using TrainList = std::list<Train>;

  void Expire(uint64_t now_us);
  void Drop(TrainList::iterator it);

  Counters* counters_;
  TrainList trains_;  // oldest first
  absl::flat_hash_map<Key, TrainList::iterator> index_;
  std::vector<uint8_t> done_;  // the last completed datagram
  std::vector<uint8_t> done_alt_;  // its last-wins reading
  // Last-wins copies (capacity reserved on first use, at most kMaxDatagramBytes each).
  std::vector<std::vector<uint8_t>> alt_pool_;
  std::vector<int16_t> alt_free_;
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_DECODE_IP_REASSEMBLY_H_
