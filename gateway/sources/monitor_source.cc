#include "gateway/sources/monitor_source.h"

#include <pcap/pcap.h>
#include <poll.h>

#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace vigie {
namespace {

constexpr int kLinktypeEthernet = 1;  // DLT_EN10MB
constexpr size_t kEthernetHeader = 14;
constexpr int kPollMillis = 200;
constexpr int kPcapTimeoutMillis = 50;
constexpr int kDispatchBatch = 256;

// Sends a forged IP packet back out of the capture interface, in an Ethernet
// frame addressed like a reply to the captured one.
class PcapInjector : public PacketInjector {
 public:
  explicit PcapInjector(pcap_t* p) : p_(p) {}
  bool Send(absl::Span<const uint8_t> ip, int linktype, absl::Span<const uint8_t> frame) override {
    if (linktype != kLinktypeEthernet || frame.size() < kEthernetHeader || ip.empty()) return false;
    buf_.resize(kEthernetHeader + ip.size());
    std::memcpy(buf_.data(), frame.data() + 6, 6);  // to: the captured frame's sender
    std::memcpy(buf_.data() + 6, frame.data(), 6);  // from: its receiver
    bool v6 = (ip[0] >> 4) == 6;
    buf_[12] = v6 ? 0x86 : 0x08;
    buf_[13] = v6 ? 0xdd : 0x00;
    std::memcpy(buf_.data() + kEthernetHeader, ip.data(), ip.size());
    return pcap_inject(p_, buf_.data(), buf_.size()) == static_cast<int>(buf_.size());
  }

 private:
  pcap_t* p_;
  std::vector<uint8_t> buf_;
};

// Injection disabled (enforce = "log").
class NullInjector : public PacketInjector {
 public:
  bool Send(absl::Span<const uint8_t>, int, absl::Span<const uint8_t>) override { return false; }
};

}  // namespace

struct MonitorSource::Worker : SourceWorker {
  std::string ifname;
  std::string Name() const override { return ifname; }
  pcap_t* p = nullptr;
  int linktype = 0;
  bool inject = true;

  ~Worker() {
    if (p) pcap_close(p);
  }

  static void OnPacket(u_char* user, const pcap_pkthdr* hdr, const u_char* data) {
    reinterpret_cast<Worker*>(user)->Handle(hdr, data);
  }

  void Handle(const pcap_pkthdr* hdr, const u_char* data) {
    auto in = std::chrono::steady_clock::now();
    policy->Refresh(&policy_gen, pipeline.get());
    ++stats.packets;
    uint64_t ts = static_cast<uint64_t>(hdr->ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(hdr->ts.tv_usec);
    absl::Span<const uint8_t> frame(data, hdr->caplen);
    FrameDecode decoded;  // answers read the pipeline's decode
    PacketVerdict v = pipeline->Process(linktype, frame, ts, 0, &decoded);
    if (v.action == Action::kBlock) {
      ++stats.dropped;
      if (v.decided && inject) enforcer->OnBlocked(decoded, linktype, frame, v, pipeline->policy());
    } else {
      ++stats.accepted;
    }
    FinishPacket(in);
  }

  void Loop() override {
    int fd = pcap_get_selectable_fd(p);
    while (!stop->load(std::memory_order_relaxed)) {
      MaybePublishSnapshot();
      pollfd pf{fd, POLLIN, 0};
      if (fd >= 0 && poll(&pf, 1, kPollMillis) <= 0) continue;
      int n = pcap_dispatch(p, kDispatchBatch, &Worker::OnPacket, reinterpret_cast<u_char*>(this));
      if (n == PCAP_ERROR) {
        ++stats.errors;
        break;
      }
    }
    while (pcap_dispatch(p, kDispatchBatch, &Worker::OnPacket, reinterpret_cast<u_char*>(this)) > 0) {
    }
  }
};

absl::StatusOr<std::unique_ptr<MonitorSource>> MonitorSource::Open(const MonitorOptions& opts, PolicyHolder* policy,
                                                                   LogQueue* log) {
  if (opts.interfaces.empty()) {
    return absl::InvalidArgumentError("monitor mode: no interface configured ([gateway] interfaces)");
  }
  std::unique_ptr<MonitorSource> src(new MonitorSource());
  const size_t n = opts.interfaces.size();
  for (size_t i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->ifname = opts.interfaces[i];
    w->inject = opts.inject;
    char err[PCAP_ERRBUF_SIZE] = {0};
    w->p = pcap_create(w->ifname.c_str(), err);
    if (w->p == nullptr) return absl::UnavailableError(absl::StrCat("capture ", w->ifname, ": ", err));
    pcap_set_snaplen(w->p, kMonitorSnaplen);
    pcap_set_promisc(w->p, 1);
    pcap_set_timeout(w->p, kPcapTimeoutMillis);
    pcap_set_immediate_mode(w->p, 1);  // answers must beat the real ones: no batching delay
    pcap_set_buffer_size(w->p, kMonitorBufferBytes);
    int rc = pcap_activate(w->p);
    if (rc < 0) {
      return absl::UnavailableError(absl::StrCat("capture ", w->ifname, ": ", pcap_geterr(w->p)));
    }
    if (pcap_setnonblock(w->p, 1, err) < 0) {
      return absl::UnavailableError(absl::StrCat("capture ", w->ifname, ": ", err));
    }
    w->linktype = pcap_datalink(w->p);
    if (opts.inject) {
      w->injector = std::make_unique<PcapInjector>(w->p);
    } else {
      w->injector = std::make_unique<NullInjector>();
    }
    w->enforcer = std::make_unique<Enforcer>(w->injector.get());
    w->pipeline = std::make_unique<Pipeline>(policy->Get(), log->producer(i), opts.pipeline, i + 1, n);
    src->Adopt(std::move(w), policy);
  }
  return src;
}


}  // namespace vigie
