#include "gateway/output/syslog_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gateway/output/log_queue.h"
#include "gateway/policy/policy.h"
#include "gateway/testing/pipeline_fixture.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;

// A socket bound to 127.0.0.1 on an ephemeral port.
struct Listener {
  int fd = -1;
  uint16_t port = 0;
  explicit Listener(int type) {
    fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() {
    if (fd >= 0) close(fd);
  }
  std::string Url(const char* scheme) const { return std::string(scheme) + "://127.0.0.1:" + std::to_string(port); }
};

bool Readable(int fd, int millis) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, millis) == 1;
}

std::string RecvDatagram(int fd) {
  if (!Readable(fd, 2000)) return "";
  char buf[70000];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Reads a stream until EOF (or 3 s) and splits RFC 6587 octet-counted frames.
std::vector<std::string> ReadFrames(int fd, bool* well_formed) {
  std::string all;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < deadline && Readable(fd, 100)) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  std::vector<std::string> frames;
  *well_formed = true;
  size_t i = 0;
  while (i < all.size()) {
    size_t sp = all.find(' ', i);
    if (sp == std::string::npos || sp == i) {
      *well_formed = false;
      break;
    }
    size_t len = std::stoul(all.substr(i, sp - i));
    if (sp + 1 + len > all.size()) {
      *well_formed = false;
      break;
    }
    frames.push_back(all.substr(sp + 1, len));
    i = sp + 1 + len;
  }
  return frames;
}

TEST(SyslogFormat, Rfc5424Fields) {
  std::string m = SyslogSink::Format(Action::kBlock, "{\"action\":\"block\"}", "gw1", 42, 1'700'000'000'123'456);
  EXPECT_EQ(m, "<132>1 2023-11-14T22:13:20.123456Z gw1 vigie 42 decision - {\"action\":\"block\"}");
  EXPECT_EQ(SyslogSink::Format(Action::kLog, "{}", "h", 1, 0).substr(0, 7), "<133>1 ");
  EXPECT_EQ(SyslogSink::Format(Action::kAllow, "{}", "", 1, 0), "<134>1 1970-01-01T00:00:00.000000Z - vigie 1 decision - {}");
}

TEST(SyslogOpen, RejectsBadUrls) {
  EXPECT_FALSE(SyslogSink::Open("127.0.0.1:514").ok());
  EXPECT_FALSE(SyslogSink::Open("http://127.0.0.1:514").ok());
  EXPECT_FALSE(SyslogSink::Open("udp://127.0.0.1").ok());
  EXPECT_FALSE(SyslogSink::Open("udp://127.0.0.1:x").ok());
  EXPECT_TRUE(SyslogSink::Open("udp://[::1]:514").ok());
}

TEST(SyslogSink, UdpOneDatagramPerEvent) {
  Listener l(SOCK_DGRAM);
  auto s = SyslogSink::Open(l.Url("udp"));
  ASSERT_TRUE(s.ok()) << s.status();
  (*s)->Send(Action::kBlock, "{\"n\":1}");
  (*s)->Send(Action::kAllow, "{\"n\":2}");
  std::string a = RecvDatagram(l.fd), b = RecvDatagram(l.fd);
  EXPECT_EQ(a.substr(0, 7), "<132>1 ");
  EXPECT_NE(a.find(" vigie "), std::string::npos);
  EXPECT_EQ(a.substr(a.size() - 19), " decision - {\"n\":1}");
  EXPECT_EQ(b.substr(0, 7), "<134>1 ");
  EXPECT_EQ(b.substr(b.size() - 19), " decision - {\"n\":2}");
  EXPECT_EQ((*s)->sent(), 2u);
  EXPECT_EQ((*s)->errors(), 0u);
}

TEST(SyslogSink, TcpOctetCountingFrames) {
  Listener l(SOCK_STREAM);
  ASSERT_EQ(listen(l.fd, 4), 0);
  auto s = SyslogSink::Open(l.Url("tcp"));
  ASSERT_TRUE(s.ok()) << s.status();
  for (int i = 0; i < 50; ++i) (*s)->Send(i % 2 ? Action::kLog : Action::kBlock, "{\"n\":" + std::to_string(i) + "}");
  ASSERT_TRUE(Readable(l.fd, 2000));
  int c = accept(l.fd, nullptr, nullptr);
  ASSERT_GE(c, 0);
  (*s)->Close();
  bool ok = false;
  std::vector<std::string> frames = ReadFrames(c, &ok);
  close(c);
  EXPECT_TRUE(ok);
  ASSERT_EQ(frames.size(), 50u);
  EXPECT_EQ(frames[0].substr(0, 7), "<132>1 ");
  EXPECT_EQ(frames[1].substr(0, 7), "<133>1 ");
  EXPECT_NE(frames[49].find("decision - {\"n\":49}"), std::string::npos);
  EXPECT_EQ((*s)->sent(), 50u);
  EXPECT_EQ((*s)->errors(), 0u);
}

TEST(SyslogSink, TcpReconnectsAfterCollectorComesBack) {
  Listener l(SOCK_STREAM);  // bound, not listening yet: connections are refused
  auto s = SyslogSink::Open(l.Url("tcp"));
  ASSERT_TRUE(s.ok()) << s.status();
  (*s)->Send(Action::kBlock, "{\"n\":1}");  // buffered
  EXPECT_EQ((*s)->sent(), 0u);
  ASSERT_EQ(listen(l.fd, 4), 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((*s)->sent() == 0 && std::chrono::steady_clock::now() < deadline) {
    (*s)->Poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ((*s)->sent(), 1u);
  int c = accept(l.fd, nullptr, nullptr);
  ASSERT_GE(c, 0);
  (*s)->Close();
  bool ok = false;
  std::vector<std::string> frames = ReadFrames(c, &ok);
  close(c);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_NE(frames[0].find("decision - {\"n\":1}"), std::string::npos);
}

// Regression: a collector that restarts closes the connection; the first
// send() after that succeeded on the half-closed socket, so that event was
// counted as sent and lost (the peer answers it with RST). Every event must
// now reach the restarted collector, or be counted as an error.
TEST(SyslogSink, TcpCollectorRestartLosesNothing) {
  Listener l(SOCK_STREAM);
  int one = 1;
  ASSERT_EQ(setsockopt(l.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
  ASSERT_EQ(listen(l.fd, 4), 0);
  auto s = SyslogSink::Open(l.Url("tcp"));
  ASSERT_TRUE(s.ok()) << s.status();
  constexpr int kBefore = 5, kAfter = 5;
  auto event = [](int i) { return "{\"n\":" + std::to_string(i) + "}"; };
  for (int i = 0; i < kBefore; ++i) (*s)->Send(Action::kBlock, event(i));
  ASSERT_TRUE(Readable(l.fd, 2000));
  int c = accept(l.fd, nullptr, nullptr);
  ASSERT_GE(c, 0);
  // The collector reads what was sent, then stops: connection and listener closed.
  std::string got;
  char buf[4096];
  while (std::count(got.begin(), got.end(), '}') < kBefore && Readable(c, 2000)) {
    ssize_t n = recv(c, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(std::count(got.begin(), got.end(), '}'), kBefore);
  EXPECT_EQ((*s)->sent(), static_cast<uint64_t>(kBefore));
  close(c);
  close(l.fd);
  // It comes back on the same port.
  l.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(setsockopt(l.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(l.port);
  ASSERT_EQ(bind(l.fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(l.fd, 4), 0);
  // The old connection's FIN has reached the sink's socket (loopback delivers it
  // within close(); the pause only makes the scenario certain).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (int i = kBefore; i < kBefore + kAfter; ++i) (*s)->Send(Action::kBlock, event(i));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((*s)->sent() + (*s)->errors() < kBefore + kAfter && std::chrono::steady_clock::now() < deadline) {
    (*s)->Poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(Readable(l.fd, 2000));
  c = accept(l.fd, nullptr, nullptr);
  ASSERT_GE(c, 0);
  (*s)->Close();
  bool ok = false;
  std::vector<std::string> frames = ReadFrames(c, &ok);
  close(c);
  EXPECT_TRUE(ok);
  // Every event after the restart arrived, once, in order; none was counted
  // as sent without arriving.
  ASSERT_EQ(frames.size(), static_cast<size_t>(kAfter));
  for (int i = 0; i < kAfter; ++i) {
    EXPECT_NE(frames[i].find("decision - " + event(kBefore + i)), std::string::npos) << frames[i];
  }
  EXPECT_EQ((*s)->sent(), static_cast<uint64_t>(kBefore + kAfter));
  EXPECT_EQ((*s)->errors(), 0u);
}

TEST(SyslogSink, UnreachableTcpCollectorCountsErrors) {
  Listener l(SOCK_STREAM);  // never listens
  auto s = SyslogSink::Open(l.Url("tcp"));
  ASSERT_TRUE(s.ok());
  (*s)->Send(Action::kBlock, "{}");
  (*s)->Send(Action::kBlock, "{}");
  (*s)->Close(std::chrono::milliseconds(200));
  EXPECT_EQ((*s)->sent(), 0u);
  EXPECT_EQ((*s)->errors(), 2u);
}

TEST(SyslogSink, LogQueueWriterSendsEveryLine) {
  fs::path dir = fs::temp_directory_path() / ("vigie_syslog_" + std::to_string(getpid()));
  auto p = testing::WritePolicy(dir, testing::kTiktokOnlyConfig, testing::TiktokOnlyLists());
  ASSERT_TRUE(p.ok()) << p.status();
  Decision d;
  d.ts_us = 1'700'000'000'000'000;
  d.src = *IpAddress::Parse("10.1.2.3");
  d.dst = *IpAddress::Parse("192.0.2.1");
  d.src_port = 40000;
  d.dst_port = 53;
  d.domain = "www.tiktok.com";
  d.domain_raw = "www.tiktok.com";
  d.verdict = (*p)->DecideName("www.tiktok.com");

  Listener l(SOCK_DGRAM);
  int big = 4 << 20;
  setsockopt(l.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  auto q = LogQueue::Open((dir / "d.jsonl").string(), 1, 1000);
  ASSERT_TRUE(q.ok());
  auto s = SyslogSink::Open(l.Url("udp"));
  ASSERT_TRUE(s.ok());
  (*q)->SetSyslog(*std::move(s));
  (*q)->Start();
  for (int i = 0; i < 20; ++i) (*q)->producer(0)->Write(d, **p);
  (*q)->Stop();
  EXPECT_EQ((*q)->written(), 20u);
  ASSERT_NE((*q)->syslog(), nullptr);
  EXPECT_EQ((*q)->syslog()->sent(), 20u);
  for (int i = 0; i < 20; ++i) {
    std::string m = RecvDatagram(l.fd);
    ASSERT_EQ(m.substr(0, 7), "<132>1 ") << i;
    EXPECT_NE(m.find(" vigie "), std::string::npos);
    EXPECT_NE(m.find(" decision - {"), std::string::npos);
    EXPECT_NE(m.find("\"action\":\"block\""), std::string::npos);
    EXPECT_NE(m.find("\"app\":\"tiktok\""), std::string::npos);
    EXPECT_EQ(m.back(), '}');
  }
  fs::remove_all(dir);
}

// Syslog carries the configured format: EVE lines, and the dedup summary.
TEST(SyslogSink, LogQueueSendsEveAndDedupSummaries) {
  fs::path dir = fs::temp_directory_path() / ("vigie_syslog_eve_" + std::to_string(getpid()));
  auto p = testing::WritePolicy(dir, testing::kTiktokOnlyConfig, testing::TiktokOnlyLists());
  ASSERT_TRUE(p.ok()) << p.status();
  Decision d;
  d.ts_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  d.src = *IpAddress::Parse("10.1.2.3");
  d.dst = *IpAddress::Parse("192.0.2.1");
  d.src_port = 40000;
  d.dst_port = 53;
  d.domain = "www.tiktok.com";
  d.domain_raw = "www.tiktok.com";
  d.verdict = (*p)->DecideName("www.tiktok.com");

  Listener l(SOCK_DGRAM);
  LogOptions o;
  o.format = LogFormat::kEve;
  o.drops = true;
  o.dedup_seconds = 600;
  auto q = LogQueue::Open((dir / "d.jsonl").string(), 1, o, 1000);
  ASSERT_TRUE(q.ok());
  auto s = SyslogSink::Open(l.Url("udp"));
  ASSERT_TRUE(s.ok());
  (*q)->SetSyslog(*std::move(s));
  (*q)->Start();
  for (int i = 0; i < 3; ++i) (*q)->producer(0)->Write(d, **p);
  (*q)->Stop();
  EXPECT_EQ((*q)->written(), 2u);
  const std::string first = RecvDatagram(l.fd), summary = RecvDatagram(l.fd);
  EXPECT_NE(first.find(" decision - {\"timestamp\":"), std::string::npos) << first;
  EXPECT_NE(first.find("\"event_type\":\"drop\""), std::string::npos) << first;
  EXPECT_NE(first.find("\"community_id\":\"1:"), std::string::npos) << first;
  EXPECT_EQ(first.find("\"count\""), std::string::npos) << first;
  EXPECT_NE(summary.find("\"count\":[\"2\"]"), std::string::npos) << summary;
  EXPECT_EQ(summary.back(), '}');
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigie
