#include "gateway/sources/memory_capture.h"

#include <pcap/pcap.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace vigie {
namespace {
void PutLe32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutLe16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v));
  out->push_back(static_cast<char>(v >> 8));
}
}  // namespace

void MemoryCapture::Add(uint64_t ts_us, absl::Span<const uint8_t> frame) {
  records_.push_back(Record{data_.size(), static_cast<uint32_t>(frame.size()), ts_us});
  data_.insert(data_.end(), frame.begin(), frame.end());
}

std::string PcapFileHeader(int linktype) {
  std::string h;
  PutLe32(&h, 0xa1b2c3d4);  // magic: microsecond stamps, writer's byte order
  PutLe16(&h, 2);           // version major
  PutLe16(&h, 4);           // version minor
  PutLe32(&h, 0);           // thiszone
  PutLe32(&h, 0);           // sigfigs
  PutLe32(&h, kMaxCaptureFrame);  // snaplen
  PutLe32(&h, static_cast<uint32_t>(linktype));
  return h;
}

void AppendPcapRecordHeader(uint64_t ts_us, uint32_t length, std::string* out) {
  PutLe32(out, static_cast<uint32_t>(ts_us / 1'000'000));
  PutLe32(out, static_cast<uint32_t>(ts_us % 1'000'000));
  PutLe32(out, length);  // captured length
  PutLe32(out, length);  // original length
}

std::string MemoryCapture::ToPcapFile() const {
  std::string out = PcapFileHeader(linktype_);
  out.reserve(out.size() + data_.size() + 16 * records_.size());
  for (const Record& r : records_) {
    AppendPcapRecordHeader(r.ts_us, r.length, &out);
    out.append(reinterpret_cast<const char*>(data_.data() + r.offset), r.length);
  }
  return out;
}

absl::StatusOr<MemoryCapture> LoadCapture(const std::string& path, std::string* warning) {
  char err[PCAP_ERRBUF_SIZE] = {0};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err);
  if (p == nullptr) return absl::InvalidArgumentError(absl::StrCat(path, ": ", err));
  MemoryCapture cap(pcap_datalink(p));
  pcap_pkthdr* hdr;
  const u_char* data;
  int rc;
  while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
    uint64_t ts = static_cast<uint64_t>(hdr->ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(hdr->ts.tv_usec);
    cap.Add(ts, absl::Span<const uint8_t>(data, hdr->caplen));
  }
  if (rc == PCAP_ERROR && warning != nullptr) {
    *warning = absl::StrCat(path, ": reading stopped after frame ", cap.size(), ": ", pcap_geterr(p));
  }
  pcap_close(p);
  return cap;
}

PcapFileWriter::~PcapFileWriter() {
  if (f_ != nullptr) std::fclose(f_);
}

absl::Status PcapFileWriter::Open(const std::string& path, int linktype) {
  path_ = path;
  f_ = std::fopen(path.c_str(), "wb");
  if (f_ == nullptr) return absl::InvalidArgumentError(absl::StrCat(path, ": ", std::strerror(errno)));
  std::string h = PcapFileHeader(linktype);
  failed_ = std::fwrite(h.data(), 1, h.size(), f_) != h.size();
  return absl::OkStatus();
}

void PcapFileWriter::Write(uint64_t ts_us, absl::Span<const uint8_t> frame) {
  if (f_ == nullptr) return;
  std::string h;
  AppendPcapRecordHeader(ts_us, static_cast<uint32_t>(frame.size()), &h);
  if (std::fwrite(h.data(), 1, h.size(), f_) != h.size() ||
      std::fwrite(frame.data(), 1, frame.size(), f_) != frame.size()) {
    failed_ = true;
  }
}

absl::Status PcapFileWriter::Close() {
  if (f_ == nullptr) return absl::OkStatus();
  bool bad = std::fclose(f_) != 0 || failed_;
  f_ = nullptr;
  if (bad) return absl::InternalError(absl::StrCat(path_, ": write failed: ", std::strerror(errno)));
  return absl::OkStatus();
}

}  // namespace vigie
