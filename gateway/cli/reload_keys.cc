#include "gateway/cli/reload_keys.h"

namespace vigie {

std::vector<std::string> UnappliedReloadKeys(const Config& a, const Config& b) {
  std::vector<std::string> out;
  const auto key = [&](bool differs, const char* name) {
    if (differs) out.emplace_back(name);
  };
  key(a.mode != b.mode, "[gateway] mode");
  key(a.queues != b.queues, "[gateway] queues");
  key(a.interfaces != b.interfaces, "[gateway] interfaces");
  key(a.enforce != b.enforce, "[gateway] enforce");
  key(a.fail != b.fail, "[gateway] fail");
  key(a.queue_length != b.queue_length, "[gateway] queue_length");
  key(a.user != b.user, "[gateway] user");
  key(a.log_path != b.log_path, "[log] path");
  key(a.log_mode != b.log_mode, "[log] mode");
  key(a.syslog != b.syslog, "[log] syslog");
  key(a.log_format != b.log_format, "[log] format");
  key(a.community_id_seed != b.community_id_seed, "[log] community_id_seed");
  key(a.dedup_seconds != b.dedup_seconds, "[log] dedup_seconds");
  key(a.metrics_listen != b.metrics_listen, "[metrics] listen");
  key(a.flows.max_flows != b.flows.max_flows, "[flows] max");
  key(a.flows.reassembly_buffers != b.flows.reassembly_buffers, "[flows] reassembly_buffers");
  key(a.flows.tcp_idle_us != b.flows.tcp_idle_us, "[flows] tcp_idle_seconds");
  key(a.flows.udp_idle_us != b.flows.udp_idle_us, "[flows] udp_idle_seconds");
  return out;
}

}  // namespace vigie
