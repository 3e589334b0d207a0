#include "gateway/output/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <sstream>
#include <string>

#include <filesystem>
#include "gateway/inspect/decider.h"
#include "gateway/testing/pipeline_fixture.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

// One HTTP/1.1 request over a plain socket; returns the whole response.
std::string Get(uint16_t port, const std::string& method, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "";
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// Prometheus text: sample "name{labels}" -> value; checks every line's shape.
std::map<std::string, double> Parse(const std::string& body, bool* well_formed) {
  std::map<std::string, double> out;
  *well_formed = true;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    size_t sp = line.rfind(' ');
    if (line.empty() || line[0] == '#' || sp == std::string::npos || line.rfind("vigie_", 0) != 0) {
      *well_formed = false;
      continue;
    }
    try {
      out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    } catch (...) {
      *well_formed = false;
    }
  }
  return out;
}

MetricsView View() {
  MetricsView v;
  v.app_names = {"tiktok", "twitter"};
  WorkerReport a, b;
  a.name = "queue 0";
  b.name = "queue 1";
  a.counters.Inc(Counter::k_packets, 10);
  b.counters.Inc(Counter::k_packets, 5);
  a.counters.Inc(Counter::k_decisions_block, 3);
  a.counters.Inc(Anomaly::k_tls_malformed, 2);
  a.by_app = {{0, 0, 3}, {1, 0, 0}, {4, 0, 0}};
  b.by_app = {{0, 0, 2}};
  a.source.packets = 10;
  b.source.packets = 5;
  b.source.dropped = 1;
  a.enforce.tcp_resets = 7;
  v.workers = {a, b};
  v.log_written = 9;
  v.log_dropped = 1;
  v.syslog = true;
  v.syslog_sent = 8;
  v.syslog_errors = 1;
  return v;
}

TEST(RenderMetrics, EveryCounterAndLabelledFamilies) {
  std::string body = RenderMetrics(View());
  bool ok = false;
  auto m = Parse(body, &ok);
  EXPECT_TRUE(ok) << body;
  for (size_t i = 0; i < kCounterCount; ++i) {
    std::string name = "vigie_" + std::string(kCounterNames[i]) + "_total";
    EXPECT_EQ(m.count(name), 1u) << name;
    EXPECT_NE(body.find("# HELP " + name + " " + std::string(kCounterHelp[i]) + "\n"), std::string::npos) << name;
    EXPECT_NE(body.find("# TYPE " + name + " counter\n"), std::string::npos) << name;
  }
  EXPECT_EQ(m["vigie_packets_total"], 15);
  EXPECT_EQ(m["vigie_decisions_block_total"], 3);
  EXPECT_EQ(m["vigie_log_events_written_total"], 9);
  EXPECT_EQ(m["vigie_log_events_dropped_total"], 1);
  EXPECT_EQ(m["vigie_anomalies_total{reason=\"tls_malformed\"}"], 2);
  EXPECT_EQ(m["vigie_anomalies_total{reason=\"dns_malformed\"}"], 0);
  EXPECT_EQ(m["vigie_decisions_total{app=\"tiktok\",action=\"block\"}"], 5);
  EXPECT_EQ(m["vigie_decisions_total{app=\"twitter\",action=\"allow\"}"], 1);
  EXPECT_EQ(m["vigie_decisions_total{app=\"\",action=\"allow\"}"], 4);  // no app matched
  EXPECT_EQ(m.count("vigie_decisions_total{app=\"tiktok\",action=\"allow\"}"), 0u);
  EXPECT_EQ(m["vigie_source_packets_total{worker=\"queue 0\"}"], 10);
  EXPECT_EQ(m["vigie_source_dropped_total{worker=\"queue 1\"}"], 1);
  EXPECT_EQ(m["vigie_enforce_tcp_resets_total"], 7);
  EXPECT_EQ(m["vigie_syslog_sent_total"], 8);
  EXPECT_EQ(m["vigie_syslog_errors_total"], 1);
}

// The issue 12 series: a histogram per worker (cumulative buckets, +Inf =
// count, sum in seconds), the flows gauge, quota hits by quota, fail-open.
TEST(RenderMetrics, LatencyHistogramFlowsQuotasFailOpen) {
  MetricsView v = View();
  LatencyHistogram& h = v.workers[0].latency;
  h.Observe(800);          // 0.8 us: the first bucket (le 1e-06)
  h.Observe(1'000);        // exactly on a bound: that bucket
  h.Observe(30'000);       // 30 us: le 5e-05
  h.Observe(200'000'000);  // 200 ms: above every bound
  v.workers[0].flows = 42;
  v.workers[1].flows = 7;
  v.workers[0].counters.Inc(Counter::k_flow_quota_hit, 3);
  v.workers[1].counters.Inc(Counter::k_tcp_reasm_quota_hit, 2);
  v.workers[1].source.fail_open = 4;
  std::string body = RenderMetrics(v);
  bool ok = false;
  auto m = Parse(body, &ok);
  EXPECT_TRUE(ok) << body;
  EXPECT_NE(body.find("# TYPE vigie_packet_latency_seconds histogram\n"), std::string::npos);
  EXPECT_NE(body.find("# TYPE vigie_flows gauge\n"), std::string::npos);
  const std::string q0 = "vigie_packet_latency_seconds_bucket{worker=\"queue 0\",le=";
  EXPECT_EQ(m[q0 + "\"1e-06\"}"], 2);
  EXPECT_EQ(m[q0 + "\"2.5e-05\"}"], 2);
  EXPECT_EQ(m[q0 + "\"5e-05\"}"], 3);
  EXPECT_EQ(m[q0 + "\"0.1\"}"], 3);
  EXPECT_EQ(m[q0 + "\"+Inf\"}"], 4);
  EXPECT_EQ(m["vigie_packet_latency_seconds_count{worker=\"queue 0\"}"], 4);
  EXPECT_DOUBLE_EQ(m["vigie_packet_latency_seconds_sum{worker=\"queue 0\"}"], 0.2000318);
  EXPECT_EQ(m["vigie_packet_latency_seconds_bucket{worker=\"queue 1\",le=\"+Inf\"}"], 0);
  size_t buckets = 0;
  for (const auto& [k, val] : m) buckets += k.rfind(q0, 0) == 0;
  EXPECT_EQ(buckets, kLatencyBoundsNanos.size() + 1);
  EXPECT_EQ(m["vigie_flows{worker=\"queue 0\"}"], 42);
  EXPECT_EQ(m["vigie_flows{worker=\"queue 1\"}"], 7);
  EXPECT_EQ(m["vigie_quota_hits_total{quota=\"flows\"}"], 3);
  EXPECT_EQ(m["vigie_quota_hits_total{quota=\"reassembly\"}"], 2);
  EXPECT_EQ(m["vigie_fail_open_total{worker=\"queue 0\"}"], 0);
  EXPECT_EQ(m["vigie_fail_open_total{worker=\"queue 1\"}"], 4);
}

// A reload that removes one list, adds one and reorders the rest: each app's
// figures stay with its name (by_app_name), tiktok keeps its count though it
// is no longer loaded, and nothing goes backwards.
TEST(RenderMetrics, PerAppCountersSurviveAReloadThatReordersLists) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / ("vigie_metrics_reload_" + std::to_string(::getpid()));
  const std::string cfg1 =
      "[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"lists\"\n[[policy]]\n"
      "apps = [\"tiktok\", \"twitter\"]\naction = \"block\"\n";
  auto a = testing::WritePolicy(dir / "a", cfg1, {{"tiktok", "tiktok.com\n"}, {"twitter", "twitter.com\n"}});
  ASSERT_TRUE(a.ok()) << a.status();
  // b: tiktok gone, zzz added: twitter is now the first list (AppId 0, was 1).
  const std::string cfg2 =
      "[scope]\nmanaged = [\"10.0.0.0/8\"]\n[lists]\ndir = \"lists\"\n[[policy]]\n"
      "apps = [\"zzz\", \"twitter\"]\naction = \"block\"\n";
  auto b = testing::WritePolicy(dir / "b", cfg2, {{"zzz", "zzz.example\n"}, {"twitter", "twitter.com\n"}});
  ASSERT_TRUE(b.ok()) << b.status();
  AppId tw_a, tw_b;
  ASSERT_TRUE((*a)->matcher().FindApp("twitter", &tw_a));
  ASSERT_TRUE((*b)->matcher().FindApp("twitter", &tw_b));
  ASSERT_NE(tw_a, tw_b);  // the reorder this test is about

  std::shared_ptr<const Policy> current = *a;
  Counters counters;
  Decider decider(&current, nullptr, LogMode::kAll, &counters);
  const auto record = [&](std::string_view name, int n) {
    Decision d;
    d.src = *IpAddress::Parse("10.1.1.1");
    d.verdict = current->Decide(d.src, name, 0);
    for (int i = 0; i < n; ++i) decider.Record(d);
  };
  const auto render = [&] {
    MetricsView v;
    WorkerReport r;
    r.by_app_name = decider.by_app_name();
    v.workers = {r};
    bool ok = false;
    auto m = Parse(RenderMetrics(v), &ok);
    EXPECT_TRUE(ok);
    return m;
  };
  record("www.tiktok.com", 2);
  record("twitter.com", 3);
  record("example.org", 1);
  auto before = render();
  EXPECT_EQ(before["vigie_decisions_total{app=\"tiktok\",action=\"block\"}"], 2);
  EXPECT_EQ(before["vigie_decisions_total{app=\"twitter\",action=\"block\"}"], 3);

  current = *b;  // the reload; a's snapshot is released by the holder
  a->reset();
  record("twitter.com", 1);
  record("x.zzz.example", 4);
  record("example.org", 1);
  auto after = render();
  EXPECT_EQ(after["vigie_decisions_total{app=\"tiktok\",action=\"block\"}"], 2);   // kept
  EXPECT_EQ(after["vigie_decisions_total{app=\"twitter\",action=\"block\"}"], 4);  // 3 + 1, same name
  EXPECT_EQ(after["vigie_decisions_total{app=\"zzz\",action=\"block\"}"], 4);      // new
  EXPECT_EQ(after["vigie_decisions_total{app=\"\",action=\"allow\"}"], 2);          // no app
  for (const auto& [k, val] : before) EXPECT_GE(after[k], val) << k;
  // The AppId-indexed tally follows the current snapshot.
  EXPECT_EQ(decider.by_app()[tw_b][static_cast<size_t>(Action::kBlock)], 4u);
  std::filesystem::remove_all(dir);
}

TEST(MetricsServer, ServesMetricsOverHttp) {
  int calls = 0;
  auto s = MetricsServer::Start("127.0.0.1:0", [&calls] {
    ++calls;
    return RenderMetrics(View());
  });
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_NE((*s)->port(), 0);
  std::string r = Get((*s)->port(), "GET", "/metrics");
  ASSERT_EQ(r.substr(0, 15), "HTTP/1.1 200 OK") << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  size_t body = r.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  bool ok = false;
  auto m = Parse(r.substr(body + 4), &ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(m["vigie_decisions_total{app=\"tiktok\",action=\"block\"}"], 5);
  EXPECT_EQ(m["vigie_packets_total"], 15);

  EXPECT_EQ(Get((*s)->port(), "GET", "/").substr(0, 12), "HTTP/1.1 404");
  EXPECT_EQ(Get((*s)->port(), "GET", "/metricsx").substr(0, 12), "HTTP/1.1 404");
  EXPECT_EQ(Get((*s)->port(), "POST", "/metrics").substr(0, 12), "HTTP/1.1 405");
  EXPECT_EQ(Get((*s)->port(), "GET", "/metrics?x=1").substr(0, 12), "HTTP/1.1 200");
  EXPECT_EQ(calls, 2);
  (*s)->Stop();
  (*s)->Stop();  // idempotent
  EXPECT_EQ(Get((*s)->port(), "GET", "/metrics"), "");
}

TEST(MetricsServer, RejectsBadListen) {
  EXPECT_FALSE(MetricsServer::Start("9108", [] { return std::string(); }).ok());
  EXPECT_FALSE(MetricsServer::Start("127.0.0.1:", [] { return std::string(); }).ok());
  auto a = MetricsServer::Start("127.0.0.1:0", [] { return std::string(); });
  ASSERT_TRUE(a.ok());
  // The same port twice: the second cannot bind.
  EXPECT_FALSE(MetricsServer::Start("127.0.0.1:" + std::to_string((*a)->port()), [] { return std::string(); }).ok());
}

}  // namespace
}  // namespace vigie
