#include "gateway/sources/replay.h"

#include <pcap/pcap.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace vigie {

absl::StatusOr<ReplayResult> ReplayCapture(const std::string& path, Pipeline* pipeline, ReplayObserver* observer) {
  char err[PCAP_ERRBUF_SIZE] = {0};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err);
  if (p == nullptr) return absl::InvalidArgumentError(absl::StrCat(path, ": ", err));
  std::string name = std::filesystem::path(path).filename().string();
  pipeline->SetCaptureName(name);
  int linktype = pcap_datalink(p);
  ReplayResult res;
  pcap_pkthdr* hdr;
  const u_char* data;
  int rc;
  while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
    ++res.frames;
    uint64_t ts = static_cast<uint64_t>(hdr->ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(hdr->ts.tv_usec);
    pipeline->Process(linktype, absl::Span<const uint8_t>(data, hdr->caplen), ts, res.frames);
    if (observer != nullptr && res.frames % kReplayObserveFrames == 0) {
      const long off = std::ftell(pcap_file(p));
      observer->OnProgress(res.frames, off > 0 ? static_cast<uint64_t>(off) : 0);
    }
  }
  if (observer != nullptr) {
    const long off = std::ftell(pcap_file(p));
    observer->OnProgress(res.frames, off > 0 ? static_cast<uint64_t>(off) : 0);
  }
  if (rc == PCAP_ERROR) {
    res.warning = absl::StrCat(path, ": reading stopped after frame ", res.frames, ": ", pcap_geterr(p));
  }
  pcap_close(p);
  pipeline->SetCaptureName({});
  return res;
}

}  // namespace vigie
