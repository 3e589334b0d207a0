// A capture held in memory, for benchmarks (`vigie bench`, bench/): frames
// loaded once from a pcap/pcapng file (or generated) so that a timed replay
// reads no disk, and the pcap writers the traffic generator uses.
//
// Ownership: a MemoryCapture owns its bytes; Frame() views stay valid while it
// lives and is not appended to. Thread safety: a value; concurrent readers
// are fine once it is built. Not on the packet path (it allocates freely).
#ifndef VIGIE_GATEWAY_SOURCES_MEMORY_CAPTURE_H_
#define VIGIE_GATEWAY_SOURCES_MEMORY_CAPTURE_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace vigie {

// The largest frame a capture record may hold (libpcap's own snapshot limit).
inline constexpr uint32_t kMaxCaptureFrame = 262144;

class MemoryCapture {
 public:
  struct Record {
    uint64_t offset = 0;  // into data
    uint32_t length = 0;
    uint64_t ts_us = 0;
  };
  explicit MemoryCapture(int linktype = 1) : linktype_(linktype) {}

  void Add(uint64_t ts_us, absl::Span<const uint8_t> frame);
  int linktype() const { return linktype_; }
  size_t size() const { return records_.size(); }
  uint64_t bytes() const { return data_.size(); }
  const Record& record(size_t i) const { return records_[i]; }
  absl::Span<const uint8_t> Frame(size_t i) const {
    return absl::Span<const uint8_t>(data_.data() + records_[i].offset, records_[i].length);
  }
  void Reserve(size_t frames, size_t bytes) {
    records_.reserve(frames);
    data_.reserve(bytes);
  }
  // The capture as the bytes of a classic pcap file (microsecond stamps).
  std::string ToPcapFile() const;

 private:
  int linktype_;
  std::vector<Record> records_;
  std::vector<uint8_t> data_;
};

// Loads every frame of a pcap or pcapng file. A file libpcap cannot open is
// an error (path: why); a file damaged part-way keeps the frames before the
// damage and says so in *warning.
absl::StatusOr<MemoryCapture> LoadCapture(const std::string& path, std::string* warning = nullptr);

// Writes a classic pcap file frame by frame (the generator streams captures
// too large to hold). Errors (open, short write) are returned with the path.
class PcapFileWriter {
 public:
  PcapFileWriter() = default;
  PcapFileWriter(const PcapFileWriter&) = delete;
  PcapFileWriter& operator=(const PcapFileWriter&) = delete;
  ~PcapFileWriter();
  absl::Status Open(const std::string& path, int linktype);
  void Write(uint64_t ts_us, absl::Span<const uint8_t> frame);
  absl::Status Close();  // flushes; reports any write error since Open

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  bool failed_ = false;
};

// The 24-byte classic pcap file header and a 16-byte record header, as
// ToPcapFile and PcapFileWriter write them (little-endian, version 2.4).
std::string PcapFileHeader(int linktype);
void AppendPcapRecordHeader(uint64_t ts_us, uint32_t length, std::string* out);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_SOURCES_MEMORY_CAPTURE_H_
