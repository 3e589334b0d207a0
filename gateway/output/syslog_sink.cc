#include "gateway/output/syslog_sink.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "gateway/base/absl_compat.h"

namespace vigie {

namespace {

constexpr int kFacilityLocal0 = 16;
constexpr std::chrono::milliseconds kBackoffMin{100};
constexpr std::chrono::milliseconds kBackoffMax{30000};
constexpr size_t kUdpMaxMessage = 65000;

int Severity(Action a) {
  switch (a) {
    case Action::kBlock: return 4;  // warning
    case Action::kLog: return 5;    // notice
    case Action::kAllow: return 6;  // informational
  }
  return 6;
}

uint64_t WallMicros() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

std::string SyslogSink::Format(Action action, std::string_view json, std::string_view hostname, int pid,
                               uint64_t now_us) {
  time_t secs = static_cast<time_t>(now_us / 1'000'000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char ts[96];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(now_us % 1'000'000));
  std::string out;
  out.reserve(json.size() + 96);
  absl::StrAppend(&out, "<", kFacilityLocal0 * 8 + Severity(action), ">1 ", ts, " ",
                  AV(hostname.empty() ? std::string_view("-") : hostname), " vigie ", pid, " decision - ", AV(json));
  return out;
}

absl::StatusOr<std::unique_ptr<SyslogSink>> SyslogSink::Open(const std::string& url) {
  bool tcp;
  std::string rest;
  if (url.rfind("udp://", 0) == 0) {
    tcp = false;
  } else if (url.rfind("tcp://", 0) == 0) {
    tcp = true;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("[log] syslog '", url, "': expected udp://host:port or tcp://host:port"));
  }
  rest = url.substr(6);
  std::string host, port;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("[log] syslog '", url, "': expected [v6]:port"));
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("[log] syslog '", url, "': no port"));
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("[log] syslog '", url, "': expected host:port"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("[log] syslog '", url, "': ", gai_strerror(rc)));
  }
  std::unique_ptr<SyslogSink> s(new SyslogSink());
  s->tcp_ = tcp;
  std::memcpy(&s->addr_, res->ai_addr, res->ai_addrlen);
  s->addr_len_ = res->ai_addrlen;
  freeaddrinfo(res);
  char hn[256] = {0};
  if (gethostname(hn, sizeof hn - 1) == 0) s->hostname_ = hn;
  s->pid_ = static_cast<int>(getpid());
  if (!tcp) {
    s->fd_ = socket(s->addr_.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->fd_ < 0 || connect(s->fd_, reinterpret_cast<sockaddr*>(&s->addr_), s->addr_len_) != 0) {
      return absl::UnavailableError(absl::StrCat("[log] syslog '", url, "': ", std::strerror(errno)));
    }
  } else {
    s->Connect();
  }
  return s;
}

SyslogSink::~SyslogSink() {
  if (fd_ >= 0) close(fd_);
}

bool SyslogSink::Connect() {
  if (fd_ >= 0 && !connecting_) return true;
  if (fd_ < 0) {
    auto now = std::chrono::steady_clock::now();
    if (now < next_try_) return false;
    fd_ = socket(addr_.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) {
      Drop();
      return false;
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr_), addr_len_) == 0) {
      connecting_ = false;
      backoff_ = kBackoffMin;
      return true;
    }
    if (errno != EINPROGRESS) {
      Drop();
      return false;
    }
    connecting_ = true;
  }
  pollfd p{fd_, POLLOUT, 0};
  if (poll(&p, 1, 0) <= 0) return false;  // still connecting
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    Drop();
    return false;
  }
  connecting_ = false;
  backoff_ = kBackoffMin;
  return true;
}

void SyslogSink::Drop() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  connecting_ = false;
  // A frame partly written is lost with the connection (counted); the frames
  // not started are kept for the next connection.
  if (!frame_ends_.empty() && written_ > frame_start_) {
    uint64_t end = frame_ends_.front();
    pending_off_ += static_cast<size_t>(end - written_);
    written_ = end;
    frame_start_ = end;
    frame_ends_.pop_front();
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
  next_try_ = std::chrono::steady_clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, kBackoffMax);
}

bool SyslogSink::PeerClosed() {
  char buf[512];
  for (;;) {
    ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;  // FIN: the collector closed (restart, shutdown)
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;  // RST, ...
    // A collector sends nothing; whatever it did send is read and ignored.
  }
}

void SyslogSink::Flush() {
  while (pending_off_ < pending_.size()) {
    if (!Connect()) return;
    // A socket whose peer has closed still takes one send(), whose bytes the
    // peer's RST then discards: look before sending, and reconnect instead.
    if (PeerClosed()) {
      Drop();
      continue;  // Connect() waits for the backoff; the frames stay pending
    }
    ssize_t n = send(fd_, pending_.data() + pending_off_, pending_.size() - pending_off_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      Drop();
      continue;  // Connect() waits for the backoff
    }
    pending_off_ += static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
    while (!frame_ends_.empty() && frame_ends_.front() <= written_) {
      frame_start_ = frame_ends_.front();
      frame_ends_.pop_front();
      sent_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (pending_off_ == pending_.size()) {
    pending_.clear();
    pending_off_ = 0;
  } else if (pending_off_ > (1 << 20)) {
    pending_.erase(0, pending_off_);
    pending_off_ = 0;
  }
}

void SyslogSink::Send(Action action, std::string_view json) {
  line_ = Format(action, json, hostname_, pid_, WallMicros());
  if (!tcp_) {
    if (line_.size() > kUdpMaxMessage) line_.resize(kUdpMaxMessage);
    ssize_t n = send(fd_, line_.data(), line_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(line_.size())) {
      sent_.fetch_add(1, std::memory_order_relaxed);
    } else {
      errors_.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  std::string len = absl::StrCat(line_.size(), " ");
  if (pending_.size() - pending_off_ + len.size() + line_.size() > kSyslogTcpBufferBytes) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  } else {
    pending_.append(len);
    pending_.append(line_);
    queued_ += len.size() + line_.size();
    frame_ends_.push_back(queued_);
  }
  Flush();
}

void SyslogSink::Poll() {
  if (tcp_) Flush();
}

void SyslogSink::Close(std::chrono::milliseconds wait) {
  if (tcp_) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (pending_off_ < pending_.size() && std::chrono::steady_clock::now() < deadline) {
      Flush();
      if (pending_off_ >= pending_.size()) break;
      if (fd_ >= 0) {
        pollfd p{fd_, POLLOUT, 0};
        poll(&p, 1, 10);
      } else {
        // waiting for the backoff to allow a reconnect
        struct timespec ts{0, 10'000'000};
        nanosleep(&ts, nullptr);
      }
    }
    errors_.fetch_add(frame_ends_.size(), std::memory_order_relaxed);
    frame_ends_.clear();
    pending_.clear();
    pending_off_ = 0;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace vigie
