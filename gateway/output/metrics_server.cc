#include "gateway/output/metrics_server.h"

#include <map>

#include <chrono>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/base/absl_compat.h"
#include "gateway/base/counters.h"

namespace vigie {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string Label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

void Family(std::string* out, std::string_view name, std::string_view help, std::string_view type = "counter") {
  absl::StrAppend(out, "# HELP ", AV(name), " ", AV(help), "\n# TYPE ", AV(name), " ", AV(type), "\n");
}

void Sample(std::string* out, std::string_view name, std::string_view labels, uint64_t v) {
  absl::StrAppend(out, AV(name), AV(labels), " ", v, "\n");
}

}  // namespace

std::string RenderMetrics(const MetricsView& v) {
  Counters c;
  std::vector<std::array<uint64_t, 3>> by_app;
  for (const WorkerReport& r : v.workers) {
    c.Add(r.counters);
    if (by_app.size() < r.by_app.size()) by_app.resize(r.by_app.size());
    for (size_t i = 0; i < r.by_app.size(); ++i)
      for (size_t j = 0; j < 3; ++j) by_app[i][j] += r.by_app[i][j];
  }
  // The pipeline counts lines handed to the log queue; the writer knows what
  // was really written and what a full queue lost.
  c.c[static_cast<size_t>(Counter::k_log_events_written)] = v.log_written;
  c.c[static_cast<size_t>(Counter::k_log_events_dropped)] = v.log_dropped;

  std::string out;
  for (size_t i = 0; i < kCounterCount; ++i) {
    std::string name = absl::StrCat("vigie_", AV(kCounterNames[i]), "_total");
    Family(&out, name, kCounterHelp[i]);
    Sample(&out, name, "", c.c[i]);
  }
  Family(&out, "vigie_anomalies_total", "malformed or truncated input, by reason");
  for (size_t i = 0; i < kAnomalyCount; ++i) {
    Sample(&out, "vigie_anomalies_total", absl::StrCat("{reason=\"", AV(kAnomalyNames[i]), "\"}"), c.a[i]);
  }
  Family(&out, "vigie_decisions_total", "decisions by app and action");
  static constexpr const char* kActions[3] = {"allow", "log", "block"};
  // By app name: the workers' named tallies when they have them (they
  // survive reloads), else the AppId-indexed ones named by app_names.
  std::map<std::string, std::array<uint64_t, 3>> named;
  bool any_named = false;
  for (const WorkerReport& r : v.workers) {
    for (const AppDecisions& a : r.by_app_name) {
      any_named = true;
      auto& row = named[a.app];
      for (size_t j = 0; j < 3; ++j) row[j] += a.n[j];
    }
  }
  if (!any_named) {
    for (size_t i = 0; i < by_app.size(); ++i) {
      auto& row = named[i < v.app_names.size() ? v.app_names[i] : ""];
      for (size_t j = 0; j < 3; ++j) row[j] += by_app[i][j];
    }
  }
  for (const auto& [app, row] : named) {
    for (size_t j = 0; j < 3; ++j) {
      if (row[j] == 0) continue;
      Sample(&out, "vigie_decisions_total",
             absl::StrCat("{app=\"", Label(app), "\",action=\"", kActions[j], "\"}"), row[j]);
    }
  }
  struct SourceField {
    const char* name;
    const char* help;
    uint64_t SourceStats::*field;
  };
  static constexpr SourceField kSource[] = {
      {"vigie_source_packets_total", "packets handed to the pipeline, per worker", &SourceStats::packets},
      {"vigie_source_accepted_total", "verdict accept (inline), per worker", &SourceStats::accepted},
      {"vigie_source_dropped_total", "verdict drop (inline) / would-drop (monitor), per worker", &SourceStats::dropped},
      {"vigie_source_marked_allow_total", "connections marked decided-allow, per worker", &SourceStats::marked_allow},
      {"vigie_source_marked_block_total", "connections marked blocked, per worker", &SourceStats::marked_block},
      {"vigie_source_errors_total", "verdict / receive / capture errors, per worker", &SourceStats::errors},
      {"vigie_source_overruns_total", "NFQUEUE messages the kernel dropped (ENOBUFS), per worker",
       &SourceStats::overruns},
      {"vigie_source_verdict_messages_total",
       "inline: verdict messages sent to the kernel (one per batch of like verdicts), per worker",
       &SourceStats::verdict_messages},
      {"vigie_fail_open_total",
       "inline, fail open: packets passed uninspected (overruns the kernel accepted, unreadable packets), per worker",
       &SourceStats::fail_open},
  };
  for (const SourceField& f : kSource) {
    Family(&out, f.name, f.help);
    for (const WorkerReport& r : v.workers) {
      Sample(&out, f.name, absl::StrCat("{worker=\"", Label(r.name), "\"}"), r.source.*(f.field));
    }
  }
  Family(&out, "vigie_packet_latency_seconds", "packet in to verdict, per worker", "histogram");
  for (const WorkerReport& r : v.workers) {
    std::string worker = Label(r.name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kLatencyBoundsNanos.size(); ++i) {
      cumulative += r.latency.counts[i];
      absl::StrAppend(&out, "vigie_packet_latency_seconds_bucket{worker=\"", worker, "\",le=\"",
                      static_cast<double>(kLatencyBoundsNanos[i]) / 1e9, "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "vigie_packet_latency_seconds_bucket{worker=\"", worker, "\",le=\"+Inf\"} ",
                    r.latency.count, "\n");
    absl::StrAppend(&out, "vigie_packet_latency_seconds_sum{worker=\"", worker, "\"} ",
                    absl::StrFormat("%.9f", static_cast<double>(r.latency.sum_nanos) / 1e9), "\n");
    absl::StrAppend(&out, "vigie_packet_latency_seconds_count{worker=\"", worker, "\"} ", r.latency.count, "\n");
  }
  Family(&out, "vigie_flows", "flows in the flow table now, per worker", "gauge");
  for (const WorkerReport& r : v.workers) {
    Sample(&out, "vigie_flows", absl::StrCat("{worker=\"", Label(r.name), "\"}"), r.flows);
  }
  // The per-source fair shares ([flows] max_per_source, reassembly_per_source):
  // the counters flow_quota_hit and tcp_reasm_quota_hit, as one family.
  Family(&out, "vigie_quota_hits_total", "packets or streams refused because their source holds its share, by quota");
  Sample(&out, "vigie_quota_hits_total", "{quota=\"flows\"}", c.Get(Counter::k_flow_quota_hit));
  Sample(&out, "vigie_quota_hits_total", "{quota=\"reassembly\"}", c.Get(Counter::k_tcp_reasm_quota_hit));
  EnforceStats e;
  for (const WorkerReport& r : v.workers) {
    e.dns_answers += r.enforce.dns_answers;
    e.tcp_resets += r.enforce.tcp_resets;
    e.not_answered += r.enforce.not_answered;
  }
  Family(&out, "vigie_enforce_dns_answers_total", "forged DNS answers sent");
  Sample(&out, "vigie_enforce_dns_answers_total", "", e.dns_answers);
  Family(&out, "vigie_enforce_tcp_resets_total", "TCP resets sent");
  Sample(&out, "vigie_enforce_tcp_resets_total", "", e.tcp_resets);
  Family(&out, "vigie_enforce_not_answered_total", "blocked packets that got no answer");
  Sample(&out, "vigie_enforce_not_answered_total", "", e.not_answered);
  if (v.syslog) {
    Family(&out, "vigie_syslog_sent_total", "decision events sent to the syslog collector");
    Sample(&out, "vigie_syslog_sent_total", "", v.syslog_sent);
    Family(&out, "vigie_syslog_errors_total", "decision events that could not be sent to the syslog collector");
    Sample(&out, "vigie_syslog_errors_total", "", v.syslog_errors);
  }
  return out;
}

namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(5);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket s, const MetricsServer::Render* render) : stream_(std::move(s)), render_(render) {}
  void Run() {
    stream_.expires_after(kRequestTimeout);
    http::async_read(stream_, buf_, req_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) return;
    res_.version(req_.version());
    res_.keep_alive(false);
    res_.set(http::field::server, "vigie");
    std::string_view target(req_.target().data(), req_.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      res_.result(http::status::not_found);
      res_.set(http::field::content_type, "text/plain; charset=utf-8");
      res_.body() = "not found: try /metrics\n";
    } else if (req_.method() != http::verb::get && req_.method() != http::verb::head) {
      res_.result(http::status::method_not_allowed);
      res_.set(http::field::allow, "GET, HEAD");
      res_.set(http::field::content_type, "text/plain; charset=utf-8");
      res_.body() = "method not allowed\n";
    } else {
      res_.result(http::status::ok);
      res_.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res_.body() = (*render_)();
    }
    res_.prepare_payload();
    if (req_.method() == http::verb::head) res_.body().clear();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  const MetricsServer::Render* render_;
};

}  // namespace

struct MetricsServer::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  Render render;
  std::thread thread;

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(s), &render)->Run();
      Accept();
    });
  }
};

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen, Render render) {
  std::string host, port;
  if (!listen.empty() && listen[0] == '[') {
    size_t close = listen.find(']');
    if (close != std::string::npos && close + 1 < listen.size() && listen[close + 1] == ':') {
      host = listen.substr(1, close - 1);
      port = listen.substr(close + 2);
    }
  } else if (size_t colon = listen.rfind(':'); colon != std::string::npos) {
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("[metrics] listen '", listen, "': expected host:port"));
  }
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->impl_ = std::make_unique<Impl>();
  Impl& m = *s->impl_;
  m.render = std::move(render);
  beast::error_code ec;
  tcp::resolver resolver(m.ioc);
  auto results = resolver.resolve(host, port, tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("[metrics] listen '", listen, "': ", ec.message()));
  }
  tcp::endpoint ep = results.begin()->endpoint();
  m.acceptor.open(ep.protocol(), ec);
  if (!ec) m.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(ep, ec);
  if (!ec) m.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("[metrics] listen '", listen, "': ", ec.message()));
  s->port_ = m.acceptor.local_endpoint().port();
  m.Accept();
  m.thread = std::thread([&m] { m.ioc.run(); });
  return s;
}

void MetricsServer::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  Impl* m = impl_.get();
  asio::post(m->ioc, [m] {
    beast::error_code ignored;
    m->acceptor.close(ignored);
    m->ioc.stop();
  });
  m->thread.join();
}

MetricsServer::~MetricsServer() { Stop(); }

}  // namespace vigie
