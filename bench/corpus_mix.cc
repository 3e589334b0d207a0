// The corpus mix of traffic_gen.h: real captures repeated with fresh addresses.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/traffic_gen.h"

namespace vigie::bench {
namespace {

constexpr int kLinkEthernet = 1;
constexpr uint64_t kFrameSpacingUs = 10;  // re-timed at 100 k frames per second

uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void Store16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
uint32_t Fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return s;
}

// Rewrites the address of `words` 16-bit words at p for copy `copy`: first
// word `top` | 8 hashed bits, middle words hashed, the last one chosen so the
// one's-complement sum of the words stays the same.
void Remap(uint8_t* p, int words, uint16_t top, uint64_t copy, uint64_t seed) {
  uint32_t sum = 0;
  uint64_t h = seed ^ (copy * 0x9e3779b97f4a7c15ULL);
  for (int i = 0; i < words; ++i) {
    sum += Load16(p + 2 * i);
    h = Mix(h ^ Load16(p + 2 * i) ^ (uint64_t(i) << 20));
  }
  sum = Fold(sum);
  uint32_t part = top | (h & 0xff);
  Store16(p, part);
  for (int i = 1; i + 1 < words; ++i) {
    h = Mix(h + i);
    Store16(p + 2 * i, static_cast<uint16_t>(h));
    part = Fold(part + static_cast<uint16_t>(h));
  }
  // last = sum - part (one's complement): sum + ~part.
  Store16(p + 2 * (words - 1), Fold(sum + (~part & 0xffff)));
}

// The outer IP header of an Ethernet frame (through 802.1Q/QinQ tags), or -1.
int IpOffset(absl::Span<const uint8_t> f, int* version) {
  size_t off = 12;
  while (off + 2 <= f.size()) {
    uint16_t type = Load16(f.data() + off);
    if (type == 0x8100 || type == 0x88a8) {
      off += 4;
      continue;
    }
    if (type == 0x0800 && off + 2 + 20 <= f.size()) {
      *version = 4;
      return static_cast<int>(off + 2);
    }
    if (type == 0x86dd && off + 2 + 40 <= f.size()) {
      *version = 6;
      return static_cast<int>(off + 2);
    }
    return -1;
  }
  return -1;
}

}  // namespace

std::string DefaultCorpusDir(const std::string& source_dir) {
  if (const char* env = std::getenv("VIGIE_CORPUS_DIR"); env != nullptr && *env != '\0') return env;
  return (std::filesystem::path(source_dir) / ".." / "shared" / "corpus" / "pcaps").lexically_normal().string();
}

absl::StatusOr<MemoryCapture> BuildCorpusMix(const std::string& dir, uint64_t packets, uint64_t seed,
                                             std::string* note) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string ext = e.path().extension().string();
    if (ext == ".pcap" || ext == ".pcapng") files.push_back(e.path());
  }
  if (ec) return absl::NotFoundError(absl::StrCat(dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<MemoryCapture> sources;
  std::vector<std::string> skipped;
  uint64_t unmapped = 0;
  for (const auto& path : files) {
    auto cap = LoadCapture(path.string());
    if (!cap.ok() || cap->linktype() != kLinkEthernet || cap->size() == 0) {
      skipped.push_back(path.filename().string());
      continue;
    }
    sources.push_back(*std::move(cap));
  }
  if (sources.empty()) return absl::NotFoundError(absl::StrCat(dir, ": no Ethernet capture"));
  MemoryCapture mix(kLinkEthernet);
  std::vector<uint8_t> frame;
  uint64_t copy = 0;
  while (mix.size() < packets) {
    for (const MemoryCapture& src : sources) {
      for (size_t i = 0; i < src.size() && mix.size() < packets; ++i) {
        absl::Span<const uint8_t> f = src.Frame(i);
        frame.assign(f.begin(), f.end());
        int version = 0;
        int ip = IpOffset(frame, &version);
        if (ip < 0) {
          ++unmapped;
        } else if (version == 4) {
          for (int a : {12, 16}) Remap(frame.data() + ip + a, 2, 0x0a00, copy, seed);  // 10.0.0.0/8
        } else {
          for (int a : {8, 24}) Remap(frame.data() + ip + a, 8, 0xfd00, copy, seed);   // fd00::/8
        }
        mix.Add(1'700'000'000ull * 1'000'000 + mix.size() * kFrameSpacingUs, frame);
      }
    }
    ++copy;
  }
  if (note != nullptr) {
    *note = absl::StrCat(sources.size(), " Ethernet captures, ", copy, " copies; skipped (other link types or unreadable): ",
                         skipped.size(), skipped.empty() ? "" : " (", absl::StrJoin(skipped, ", "),
                         skipped.empty() ? "" : ")", "; frames without an outer IP header kept as they are: ", unmapped);
  }
  return mix;
}

}  // namespace vigie::bench
