#include "gateway/sources/nfqueue_source.h"

#include "gateway/base/clock.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gateway/decode/decode.h"

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

namespace vigie {
namespace {

constexpr int kLinktypeRaw = 101;  // LINKTYPE_RAW: the packet starts with its IP header
constexpr int kPollMillis = 200;   // how often an idle worker checks for Stop()
constexpr uint16_t kDnsPort = 53;

// What the verdict logic needs from the queued packet's outer headers: the
// source (scope) and the transport and server port (DNS is never marked).
struct Peek {
  IpAddress src;
  uint8_t proto = 0;
  uint16_t dport = 0;
  bool ok = false;
};

Peek PeekPacket(absl::Span<const uint8_t> p) {
  Peek k;
  if (p.empty()) return k;
  size_t l4 = 0;
  if ((p[0] >> 4) == 4 && p.size() >= 20) {
    k.src = IpAddress::V4(p.data() + 12);
    k.proto = p[9];
    l4 = size_t{p[0] & 0x0fu} * 4;
    bool first_fragment = ((p[6] & 0x1f) | p[7]) == 0;
    if (!first_fragment) return k;
  } else if ((p[0] >> 4) == 6 && p.size() >= 40) {
    k.src = IpAddress::V6(p.data() + 8);
    k.proto = p[6];  // extension headers: not peeked (the pipeline still sees them)
    l4 = 40;
  } else {
    return k;
  }
  if ((k.proto == kProtoTcp || k.proto == kProtoUdp) && p.size() >= l4 + 4) {
    k.dport = static_cast<uint16_t>((p[l4 + 2] << 8) | p[l4 + 3]);
    k.ok = true;
  }
  return k;
}

}  // namespace

struct NfqueueSource::Worker : SourceWorker {
  int queue = 0;
  std::string Name() const override { return absl::StrCat("queue ", queue); }
  nfq_handle* h = nullptr;
  nfq_q_handle* qh = nullptr;
  bool fail_open = true;

  ~Worker() {
    if (qh) nfq_destroy_queue(qh);
    if (h) nfq_close(h);
  }

  static int OnPacket(nfq_q_handle* qh, nfgenmsg*, nfq_data* nfa, void* data) {
    return static_cast<Worker*>(data)->Handle(qh, nfa);
  }

  int Handle(nfq_q_handle* q, nfq_data* nfa) {
    auto in = std::chrono::steady_clock::now();
    nfqnl_msg_packet_hdr* ph = nfq_get_msg_packet_hdr(nfa);
    if (ph == nullptr) return 0;
    uint32_t id = ntohl(ph->packet_id);
    unsigned char* raw = nullptr;
    int len = nfq_get_payload(nfa, &raw);
    if (len < 0) {  // nothing to inspect: the fail policy decides
      ++stats.errors;
      if (fail_open) ++stats.fail_open;
      return nfq_set_verdict(q, id, fail_open ? NF_ACCEPT : NF_DROP, 0, nullptr);
    }
    absl::Span<const uint8_t> pkt(raw, static_cast<size_t>(len));
    policy->Refresh(&policy_gen, pipeline.get());
    ++stats.packets;
    PacketVerdict v = pipeline->Process(kLinktypeRaw, pkt, NowMicros(), 0);
    uint32_t mark = nfq_get_nfmark(nfa) & ~kMarkMask;
    Peek peek = PeekPacket(pkt);
    bool dns = peek.ok && peek.dport == kDnsPort;
    int rc;
    if (v.action == Action::kBlock) {
      if (v.decided) enforcer->OnBlocked(kLinktypeRaw, pkt, v, pipeline->policy());
      ++stats.dropped;
      if (dns && peek.proto == kProtoUdp) {
        rc = nfq_set_verdict(q, id, NF_DROP, 0, nullptr);
      } else {
        ++stats.marked_block;
        rc = nfq_set_verdict2(q, id, NF_REPEAT, mark | kMarkBlock, 0, nullptr);
      }
    } else if (!dns && peek.ok &&
               (v.flow_final || !pipeline->policy().IsManaged(peek.src))) {
      ++stats.accepted;
      ++stats.marked_allow;
      rc = nfq_set_verdict2(q, id, NF_REPEAT, mark | kMarkAllow, 0, nullptr);
    } else {
      ++stats.accepted;
      rc = nfq_set_verdict(q, id, NF_ACCEPT, 0, nullptr);
    }
    if (rc < 0) ++stats.errors;
    FinishPacket(in);
    return 0;
  }

  void Loop() override {
    int fd = nfq_fd(h);
    // 64 KiB packets plus netlink and NFQUEUE attribute headers.
    std::vector<char> buf(kNfqueueCopyBytes + 4096);
    auto receive = [&](int flags) {
      ssize_t n = recv(fd, buf.data(), buf.size(), flags);
      if (n > 0) {
        nfq_handle_packet(h, buf.data(), static_cast<int>(n));
        return true;
      }
      if (n < 0 && errno == ENOBUFS) {
        // Messages lost: fail open, the kernel accepted those packets
        // uninspected (NFQA_CFG_F_FAIL_OPEN); fail closed, it dropped them.
        ++stats.overruns;
        if (fail_open) ++stats.fail_open;
        return true;
      }
      return false;
    };
    while (!stop->load(std::memory_order_relaxed)) {
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, kPollMillis);
      MaybePublishSnapshot();
      if (r <= 0) continue;
      if (!receive(MSG_DONTWAIT) && errno != EAGAIN && errno != EINTR) {
        ++stats.errors;
      }
    }
    // Drain what the kernel already handed over before unbinding.
    while (receive(MSG_DONTWAIT)) {
    }
  }
};

absl::StatusOr<std::unique_ptr<NfqueueSource>> NfqueueSource::Open(const NfqueueOptions& opts, PolicyHolder* policy,
                                                                   LogQueue* log) {
  if (opts.queues.empty()) return absl::InvalidArgumentError("inline mode: no queue configured ([gateway] queues)");
  std::unique_ptr<NfqueueSource> src(new NfqueueSource());
  const size_t n = opts.queues.size();
  for (size_t i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->queue = opts.queues[i];
    w->fail_open = opts.fail_open;
    w->h = nfq_open();
    if (w->h == nullptr) {
      return absl::PermissionDeniedError(
          absl::StrCat("NFQUEUE: cannot open a netfilter queue handle (", std::strerror(errno),
                       "; needs CAP_NET_ADMIN and nfnetlink_queue)"));
    }
    w->qh = nfq_create_queue(w->h, static_cast<uint16_t>(w->queue), &Worker::OnPacket, w.get());
    if (w->qh == nullptr) {
      return absl::UnavailableError(absl::StrCat("NFQUEUE: cannot bind queue ", w->queue, " (", std::strerror(errno),
                                                 "; is another process serving it?)"));
    }
    if (nfq_set_mode(w->qh, NFQNL_COPY_PACKET, kNfqueueCopyBytes) < 0) {
      return absl::UnavailableError(absl::StrCat("NFQUEUE: queue ", w->queue, ": cannot set copy mode"));
    }
    if (nfq_set_queue_maxlen(w->qh, opts.queue_maxlen) < 0) {
      return absl::UnavailableError(absl::StrCat("NFQUEUE: queue ", w->queue, ": cannot set queue length"));
    }
    uint32_t flags = opts.fail_open ? NFQA_CFG_F_FAIL_OPEN : 0;
    if (nfq_set_queue_flags(w->qh, NFQA_CFG_F_FAIL_OPEN, flags) < 0) {
      return absl::UnavailableError(absl::StrCat("NFQUEUE: queue ", w->queue, ": kernel refuses fail-open flag"));
    }
    nfnl_rcvbufsiz(nfq_nfnlh(w->h), kNfqueueRcvBuf);
    auto inj = RawSocketInjector::Open();
    if (!inj.ok()) return inj.status();
    w->injector = *std::move(inj);
    w->enforcer = std::make_unique<Enforcer>(w->injector.get());
    w->pipeline = std::make_unique<Pipeline>(policy->Get(), log->producer(i), opts.pipeline, i + 1, n);
    src->Adopt(std::move(w), policy);
  }
  return src;
}


}  // namespace vigie
