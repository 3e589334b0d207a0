// Decision events to a syslog collector (DESIGN.md "log": JSON line sinks).
//
// Each event becomes one RFC 5424 message: facility local0, severity from the
// action (block = warning, log = notice, allow = info), APP-NAME "vigie",
// MSGID "decision", no structured data, the JSON line as MSG.
//   udp://host:port  one datagram per event (RFC 5426)
//   tcp://host:port  RFC 6587 octet counting ("LEN SP MSG"); a lost
//                    connection is re-made with exponential backoff. Before
//                    each send the socket is checked for the collector's
//                    FIN or RST (a restarted collector): the connection is
//                    re-made and the frames not yet written stay buffered,
//                    so a restart loses nothing already counted as sent.
//                    (TCP has no application acknowledgement: a collector
//                    that dies holding unread bytes still loses them.)
//
// Used by the LogQueue writer thread only, never by a worker. Nothing here
// waits on the network except Close() (a bounded final flush): a TCP peer
// that does not keep up fills a bounded buffer, then events are counted as
// errors. Thread safety: Send/Poll/Close from one thread; sent() / errors()
// from any.
#ifndef VIGIE_GATEWAY_OUTPUT_SYSLOG_SINK_H_
#define VIGIE_GATEWAY_OUTPUT_SYSLOG_SINK_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include <sys/socket.h>

#include "absl/status/statusor.h"
#include "gateway/policy/config.h"

namespace vigie {

// Bytes of framed TCP messages held while the collector is slow or away.
inline constexpr size_t kSyslogTcpBufferBytes = 4 << 20;

class SyslogSink {
 public:
  // `url`: udp://host:port or tcp://host:port (IPv4/IPv6 literal or name;
  // [v6]:port accepted). Fails on a malformed URL or an unresolvable host.
  static absl::StatusOr<std::unique_ptr<SyslogSink>> Open(const std::string& url);
  ~SyslogSink();

  // Formats and sends (or buffers, TCP) one event. `json` without newline.
  void Send(Action action, std::string_view json);
  // Writer idle tick: reconnects and flushes buffered TCP bytes.
  void Poll();
  // Flushes what is buffered, waiting at most `wait`, then closes.
  void Close(std::chrono::milliseconds wait = std::chrono::milliseconds(1000));

  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

  // The RFC 5424 message for one event (exposed for tests).
  static std::string Format(Action action, std::string_view json, std::string_view hostname, int pid,
                            uint64_t now_us);

 private:
  SyslogSink() = default;
  bool Connect();     // TCP: (re)connects if the backoff allows; true when connected
  void Flush();       // TCP: writes buffered bytes without blocking
  void Drop();        // TCP: connection lost; a partly written frame counts as an error
  bool PeerClosed();  // TCP: the collector closed or reset the connection (reads what it sent)

  bool tcp_ = false;
  int fd_ = -1;
  bool connecting_ = false;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  std::string hostname_;
  int pid_ = 0;
  std::string line_;     // scratch
  std::string pending_;  // TCP: framed bytes not yet written, from pending_off_
  size_t pending_off_ = 0;
  uint64_t queued_ = 0, written_ = 0, frame_start_ = 0;  // TCP: stream offsets
  std::deque<uint64_t> frame_ends_;    // TCP: stream offset where each buffered frame ends
  std::chrono::steady_clock::time_point next_try_{};
  std::chrono::milliseconds backoff_{100};
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace vigie

#endif  // VIGIE_GATEWAY_OUTPUT_SYSLOG_SINK_H_
