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
#include "gateway/sources/nfqueue_verdict.h"

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

namespace vigie {
namespace {

constexpr int kLinktypeRaw = 101;  // LINKTYPE_RAW: the packet starts with its IP header
constexpr int kPollMillis = 200;   // how often an idle worker checks for Stop()
// Messages one wake-up reads before the worker checks for Stop() again.
constexpr int kRecvBurst = 1024;

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

  static int OnPacket(nfq_q_handle*, nfgenmsg*, nfq_data* nfa, void* data) {
    return static_cast<Worker*>(data)->Handle(nfa);
  }

  int Handle(nfq_data* nfa) {
    auto in = std::chrono::steady_clock::now();
    nfqnl_msg_packet_hdr* ph = nfq_get_msg_packet_hdr(nfa);
    if (ph == nullptr) return 0;
    uint32_t id = ntohl(ph->packet_id);
    unsigned char* raw = nullptr;
    int len = nfq_get_payload(nfa, &raw);
    if (len < 0) {  // nothing to inspect: the fail policy decides
      ++stats.errors;
      if (fail_open) ++stats.fail_open;
      Queue(id, NfVerdict{static_cast<uint32_t>(fail_open ? NF_ACCEPT : NF_DROP), false, 0}, in);
      return 0;
    }
    absl::Span<const uint8_t> pkt(raw, static_cast<size_t>(len));
    policy->Refresh(&policy_gen, pipeline.get());
    ++stats.packets;
    FrameDecode decoded;  // the one decode of this packet: verdict and answers read it
    PacketVerdict v = pipeline->Process(kLinktypeRaw, pkt, NowMicros(), 0, &decoded);
    InlineVerdict iv = ChooseInlineVerdict(v, decoded, [this](const IpAddress& a) {
      return pipeline->policy().IsManaged(a);
    });
    switch (iv) {
      case InlineVerdict::kDrop:
      case InlineVerdict::kMarkBlock:
        if (v.decided) enforcer->OnBlocked(decoded, kLinktypeRaw, pkt, v, pipeline->policy());
        ++stats.dropped;
        if (iv == InlineVerdict::kMarkBlock) ++stats.marked_block;
        break;
      case InlineVerdict::kMarkAllow:
        ++stats.accepted;
        ++stats.marked_allow;
        break;
      case InlineVerdict::kAccept:
        ++stats.accepted;
        break;
    }
    Queue(id, ToNfVerdict(iv, nfq_get_nfmark(nfa)), in);
    return 0;
  }

  // The verdict of packet `id`, received at `in`: pending until its batch is sent.
  void Queue(uint32_t id, const NfVerdict& v, std::chrono::steady_clock::time_point in) {
    batch.Add(id, v, in, [this](uint32_t last, const NfVerdict& bv, auto received) { return Send(last, bv, received); });
  }
  void Flush() {
    batch.Flush([this](uint32_t last, const NfVerdict& bv, auto received) { return Send(last, bv, received); });
  }
  // One verdict message: for packet `last` alone, or a batch verdict for every
  // pending packet up to it. Latency is observed per packet, here.
  bool Send(uint32_t last, const NfVerdict& v, absl::Span<const std::chrono::steady_clock::time_point> received) {
    int rc;
    if (received.size() == 1) {
      rc = v.set_mark ? nfq_set_verdict2(qh, last, v.verdict, v.mark, 0, nullptr)
                      : nfq_set_verdict(qh, last, v.verdict, 0, nullptr);
    } else {
      rc = v.set_mark ? nfq_set_verdict_batch2(qh, last, v.verdict, v.mark)
                      : nfq_set_verdict_batch(qh, last, v.verdict);
    }
    ++stats.verdict_messages;
    if (rc < 0) ++stats.errors;
    auto now = std::chrono::steady_clock::now();
    for (auto in : received) {
      latency.Observe(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - in).count()));
    }
    MaybePublishSnapshot(now);
    return rc >= 0;
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
        // Either way they left the queue: no batch verdict can cover them.
        ++stats.overruns;
        if (fail_open) ++stats.fail_open;
        return true;
      }
      return false;
    };
    while (!stop->load(std::memory_order_relaxed)) {
      Flush();  // before waiting: no packet waits for a verdict while the socket is idle
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, kPollMillis);
      MaybePublishSnapshot();
      if (r <= 0) continue;
      // What is readable now, without waiting; the verdicts batch up meanwhile.
      for (int i = 0; i < kRecvBurst; ++i) {
        if (!receive(MSG_DONTWAIT)) {
          if (errno != EAGAIN && errno != EINTR) ++stats.errors;
          break;
        }
      }
    }
    // Drain what the kernel already handed over before unbinding.
    while (receive(MSG_DONTWAIT)) {
    }
    Flush();
  }

  VerdictBatch batch;
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
