#include "gateway/policy/config.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_format.h"
#include "gateway/base/absl_compat.h"

namespace vigie {

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kAllow: return "allow";
    case Action::kLog: return "log";
    case Action::kBlock: return "block";
  }
  return "?";
}

namespace {

namespace fs = std::filesystem;

class Checker {
 public:
  explicit Checker(std::string path) : path_(std::move(path)) {}

  absl::Status Error(const toml::node* node, absl::string_view what) const {
    uint32_t line = node ? node->source().begin.line : 0;
    return absl::InvalidArgumentError(absl::StrCat(path_, ":", line, ": ", what));
  }
  absl::Status Error(uint32_t line, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ":", line, ": ", what));
  }

  // Every key of `t` must be in `known`.
  absl::Status Keys(const toml::table& t, absl::string_view section,
                    std::initializer_list<absl::string_view> known) const {
    for (const auto& [k, v] : t) {
      bool ok = false;
      for (absl::string_view n : known) ok |= (AV(k.str()) == n);
      if (!ok) {
        return Error(&v, absl::StrCat("unknown key '", AV(k.str()), "' in [", section, "] (known: ",
                                      absl::StrJoin(known, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> String(const toml::node& n, absl::string_view key) const {
    if (auto s = n.value<std::string>()) return *s;
    return Error(&n, absl::StrCat("'", key, "' must be a string"));
  }

  absl::StatusOr<std::vector<std::string>> Strings(const toml::node& n, absl::string_view key) const {
    const toml::array* a = n.as_array();
    if (a == nullptr) return Error(&n, absl::StrCat("'", key, "' must be an array of strings"));
    std::vector<std::string> out;
    for (const toml::node& e : *a) {
      auto s = e.value<std::string>();
      if (!s) return Error(&e, absl::StrCat("'", key, "' must hold only strings"));
      out.push_back(*s);
    }
    return out;
  }

  absl::StatusOr<Action> ActionOf(const toml::node& n, absl::string_view key) const {
    auto s = String(n, key);
    if (!s.ok()) return s.status();
    if (*s == "block") return Action::kBlock;
    if (*s == "log") return Action::kLog;
    if (*s == "allow") return Action::kAllow;
    return Error(&n, absl::StrCat("'", key, "' must be block, log or allow, not '", *s, "'"));
  }

  absl::StatusOr<std::string> OneOf(const toml::node& n, absl::string_view key,
                                    std::initializer_list<absl::string_view> allowed) const {
    auto s = String(n, key);
    if (!s.ok()) return s.status();
    for (absl::string_view a : allowed) {
      if (*s == a) return *s;
    }
    return Error(&n, absl::StrCat("'", key, "' must be one of ", absl::StrJoin(allowed, ", "), ", not '", *s,
                                  "'"));
  }

  absl::StatusOr<int64_t> Int(const toml::node& n, absl::string_view key, int64_t lo, int64_t hi) const {
    auto v = n.value<int64_t>();
    if (!v || *v < lo || *v > hi)
      return Error(&n, absl::StrCat("'", key, "' must be an integer in [", lo, ", ", hi, "]"));
    return *v;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

#define VIGIE_ASSIGN VIGIE_ASSIGN_OR_RETURN

// "2026-12-31" -> microseconds at the end of that day (UTC).
bool ParseDayEnd(const std::string& s, uint64_t* us) {
  int y, m, d;
  char tail;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return false;
  if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1970) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  std::tm next = tm;  // timegm normalises its argument: keep the fields apart
  next.tm_mday = d + 1;  // the next day's midnight
  time_t t = timegm(&next);
  if (t < 0) return false;
  std::tm check{};
  time_t day = timegm(&tm);
  gmtime_r(&day, &check);
  if (check.tm_mday != d) return false;  // 2026-02-30
  *us = static_cast<uint64_t>(t) * 1'000'000;
  return true;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view text, const std::string& path) {
  Checker ck(path);
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(path));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", e.source().begin.line, ": ", AV(e.description())));
  }
  Config c;
  c.path = path;
  fs::path base = fs::path(path).parent_path();
  auto resolve = [&](const std::string& p) {
    if (p.empty() || p == "-" || fs::path(p).is_absolute()) return p;
    return (base / p).lexically_normal().string();
  };

  VIGIE_RETURN_IF_ERROR(ck.Keys(root, "top level",
                                {"gateway", "scope", "lists", "policy", "dns", "exception", "log", "metrics",
                                 "flows", "inspect"}));

  if (const toml::node* n = root.get("gateway")) {
    const toml::table* t = n->as_table();
    if (!t) return ck.Error(n, "[gateway] must be a table");
    VIGIE_RETURN_IF_ERROR(ck.Keys(*t, "gateway", {"mode", "queues", "interfaces", "enforce", "fail", "queue_length", "user"}));
    if (auto* v = t->get("user")) {
      VIGIE_ASSIGN(c.user, ck.String(*v, "user"));
      c.user_set = true;
    }
    if (auto* v = t->get("mode")) VIGIE_ASSIGN(c.mode, ck.OneOf(*v, "mode", {"inline", "monitor"}));
    if (auto* v = t->get("enforce")) VIGIE_ASSIGN(c.enforce, ck.OneOf(*v, "enforce", {"inject", "log"}));
    if (auto* v = t->get("fail")) VIGIE_ASSIGN(c.fail, ck.OneOf(*v, "fail", {"open", "closed"}));
    if (auto* v = t->get("interfaces")) VIGIE_ASSIGN(c.interfaces, ck.Strings(*v, "interfaces"));
    if (auto* v = t->get("queue_length")) {
      int64_t q;
      VIGIE_ASSIGN(q, ck.Int(*v, "queue_length", 1, 1 << 20));
      c.queue_length = static_cast<uint32_t>(q);
    }
    if (auto* v = t->get("queues")) {
      const toml::array* a = v->as_array();
      if (!a || a->empty()) return ck.Error(v, "'queues' must be a non-empty array of queue numbers");
      c.queues.clear();
      for (const toml::node& e : *a) {
        int64_t q;
        VIGIE_ASSIGN(q, ck.Int(e, "queues", 0, 65535));
        c.queues.push_back(static_cast<int>(q));
      }
    }
  }

  if (const toml::node* n = root.get("scope")) {
    const toml::table* t = n->as_table();
    if (!t) return ck.Error(n, "[scope] must be a table");
    VIGIE_RETURN_IF_ERROR(ck.Keys(*t, "scope", {"managed"}));
    if (auto* v = t->get("managed")) {
      const toml::array* a = v->as_array();
      if (!a) return ck.Error(v, "'managed' must be an array of CIDR prefixes");
      for (const toml::node& e : *a) {
        std::string s;
        VIGIE_ASSIGN(s, ck.String(e, "managed"));
        auto cidr = Cidr::Parse(s);
        if (!cidr.ok()) return ck.Error(&e, cidr.status().message());
        c.managed.Add(*cidr);
        c.managed_text.push_back(s);
      }
    }
  }
  if (c.managed.empty()) return ck.Error(1u, "[scope] managed is missing or empty: no device would be policed");

  if (const toml::node* n = root.get("lists")) {
    const toml::table* t = n->as_table();
    if (!t) return ck.Error(n, "[lists] must be a table");
    VIGIE_RETURN_IF_ERROR(ck.Keys(*t, "lists", {"dir"}));
    if (auto* v = t->get("dir")) {
      std::string d;
      VIGIE_ASSIGN(d, ck.String(*v, "dir"));
      c.lists_dir = resolve(d);
      c.lists_dir_line = v->source().begin.line;
    }
  }
  if (c.lists_dir.empty()) return ck.Error(1u, "[lists] dir is missing");

  if (const toml::node* n = root.get("policy")) {
    const toml::array* a = n->as_array();
    if (!a) return ck.Error(n, "policy must be written [[policy]]");
    for (const toml::node& e : *a) {
      const toml::table* t = e.as_table();
      if (!t) return ck.Error(&e, "[[policy]] must be a table");
      VIGIE_RETURN_IF_ERROR(ck.Keys(*t, "[policy]", {"apps", "action"}));
      PolicyRule p;
      p.line = e.source().begin.line;
      const toml::node* apps = t->get("apps");
      const toml::node* action = t->get("action");
      if (!apps || !action) return ck.Error(&e, "[[policy]] needs apps and action");
      VIGIE_ASSIGN(p.apps, ck.Strings(*apps, "apps"));
      VIGIE_ASSIGN(p.action, ck.ActionOf(*action, "action"));
      c.policies.push_back(std::move(p));
    }
  }

  if (const toml::node* n = root.get("dns")) {
    const toml::table* t = n->as_table();
    if (!t) return ck.Error(n, "[dns] must be a table");
    VIGIE_RETURN_IF_ERROR(ck.Keys(*t, "dns", {"block_answer", "sinkhole_v4", "sinkhole_v6", "ports", "any_port", "svcb"}));
    if (auto* v = t->get("block_answer")) VIGIE_ASSIGN(c.block_answer, ck.OneOf(*v, "block_answer", {"nxdomain", "sinkhole"}));
    for (const char* key : {"sinkhole_v4", "sinkhole_v6"}) {
      if (auto* v = t->get(key)) {
        std::string s;
        VIGIE_ASSIGN(s, ck.String(*v, key));
        auto ip = IpAddress::Parse(s);
        if (!ip.ok() || ip->family != (key[10] == '4' ? 4 : 6)) {
          return ck.Error(v, absl::StrCat("'", key, "' must be an IPv", key[10] == '4' ? "4" : "6", " address"));
        }
        (key[10] == '4' ? c.sinkhole_v4 : c.sinkhole_v6) = *ip;
      }
    }
    if (auto* v = t->get("ports")) {
      const toml::array* a = v->as_array();
      if (!a) return ck.Error(v, "'ports' must be an array of port numbers");
      c.dns_ports.clear();
      for (const toml::node& e : *a) {
        int64_t p;
        VIGIE_ASSIGN(p, ck.Int(e, "ports", 1, 65535));
        c.dns_ports.push_back(static_cast<uint16_t>(p));
      }
    }
    if (auto* v = t->get("svcb")) {
      std::string m;
      VIGIE_ASSIGN(m, ck.OneOf(*v, "svcb", {"pass", "nodata"}));
      c.svcb_nodata = m == "nodata";
    }
    if (auto* v = t->get("any_port")) {
      auto b = v->value<bool>();
      if (!b) return ck.Error(v, "'any_port' must be true or false");
      c.dns_any_port = *b;
    }
  }
  if (c.sinkhole_v4.family == 0) c.sinkhole_v4 = *IpAddress::Parse("0.0.0.0");
  if (c.sinkhole_v6.family == 0) c.sinkhole_v6 = *IpAddress::Parse("::");

  if (const toml::node* n = root.get("exception")) {
    const toml::array* a = n->as_array();
    if (!a) return ck.Error(n, "exceptions must be written [[exception]]");
    absl::flat_hash_set<std::string> ids;
    for (const toml::node& e : *a) {
      const toml::table* t = e.as_table();
      if (!t) return ck.Error(&e, "[[exception]] must be a table");
      VIGIE_RETURN_IF_ERROR(
          ck.Keys(*t, "[exception]", {"id", "devices", "apps", "until", "reason", "ticket", "action"}));
      ExceptionRule x;
      x.line = e.source().begin.line;
      const toml::node* id = t->get("id");
      if (!id) return ck.Error(&e, "[[exception]] needs an id");
      VIGIE_ASSIGN(x.id, ck.String(*id, "id"));
      if (!ids.insert(x.id).second) return ck.Error(id, absl::StrCat("duplicate exception id '", x.id, "'"));
      if (auto* v = t->get("devices")) {
        std::vector<std::string> devs;
        VIGIE_ASSIGN(devs, ck.Strings(*v, "devices"));
        for (const std::string& d : devs) {
          auto cidr = Cidr::Parse(d);
          if (!cidr.ok()) return ck.Error(v, cidr.status().message());
          x.devices.Add(*cidr);
        }
      }
      if (auto* v = t->get("apps")) VIGIE_ASSIGN(x.apps, ck.Strings(*v, "apps"));
      if (x.devices.empty() && x.apps.empty())
        return ck.Error(&e, absl::StrCat("exception '", x.id, "' names neither devices nor apps"));
      if (auto* v = t->get("until")) {
        std::string s;
        if (auto d = v->as_date()) {
          s = absl::StrFormat("%04d-%02d-%02d", d->get().year, d->get().month, d->get().day);
        } else {
          VIGIE_ASSIGN(s, ck.String(*v, "until"));
        }
        uint64_t us;
        if (!ParseDayEnd(s, &us)) return ck.Error(v, absl::StrCat("'until' must be a date YYYY-MM-DD, not '", s, "'"));
        x.until_us = us;
        x.until_text = s;
      }
      if (auto* v = t->get("reason")) VIGIE_ASSIGN(x.reason, ck.String(*v, "reason"));
      if (auto* v = t->get("ticket")) VIGIE_ASSIGN(x.ticket, ck.String(*v, "ticket"));
      if (auto* v = t->get("action")) {
        VIGIE_ASSIGN(x.action, ck.ActionOf(*v, "action"));
        if (x.action == Action::kBlock) return ck.Error(v, "an exception's action must be log or allow");
      }
      c.exceptions.push_back(std::move(x));
    }
  }

  if (const toml::node* n = root.get("log")) {
    const toml::table* t = n->as_table();
    if (!t) return ck.Error(n, "[log] must be a table");
    VIGIE_RETURN_IF_ERROR(ck.Keys(*t, "log", {"path", "mode", "syslog", "format", "community_id_seed", "dedup_seconds",
                                              "max_bytes", "keep"}));
    if (auto* v = t->get("path")) {
      std::string p;
      VIGIE_ASSIGN(p, ck.String(*v, "path"));
      c.log_path = resolve(p);
    }
    if (auto* v = t->get("mode")) {
      std::string m;
      VIGIE_ASSIGN(m, ck.OneOf(*v, "mode", {"all", "decisions", "blocked"}));
      c.log_mode = m == "all" ? LogMode::kAll : m == "blocked" ? LogMode::kBlocked : LogMode::kDecisions;
    }
    if (auto* v = t->get("syslog")) {
      VIGIE_ASSIGN(c.syslog, ck.String(*v, "syslog"));
      if (c.syslog.rfind("udp://", 0) != 0 && c.syslog.rfind("tcp://", 0) != 0)
        return ck.Error(v, "'syslog' must be udp://host:port or tcp://host:port");
    }
    if (auto* v = t->get("format")) {
      std::string f;
      VIGIE_ASSIGN(f, ck.OneOf(*v, "format", {"vigie", "eve"}));
      c.log_format = f == "eve" ? LogFormat::kEve : LogFormat::kVigie;
    }
    int64_t v64;
    if (auto* v = t->get("community_id_seed")) {
      VIGIE_ASSIGN(v64, ck.Int(*v, "community_id_seed", 0, 65535));
      c.community_id_seed = static_cast<uint16_t>(v64);
    }
    if (auto* v = t->get("max_bytes")) {
      VIGIE_ASSIGN(v64, ck.Int(*v, "max_bytes", 0, kMaxLogMaxBytes));
      if (v64 != 0 && v64 < kMinLogMaxBytes) {
        return ck.Error(v, absl::StrCat("'max_bytes' must be 0 (no rotation) or at least ", kMinLogMaxBytes,
                                        ": a file must hold a few decision lines"));
      }
      c.log_max_bytes = static_cast<uint64_t>(v64);
      c.log_max_bytes_line = v->source().begin.line;
      if (c.log_max_bytes > 0) c.log_keep = kDefaultLogKeep;
    }
    if (auto* v = t->get("keep")) {
      VIGIE_ASSIGN(v64, ck.Int(*v, "keep", 1, kMaxLogKeep));
      if (c.log_max_bytes == 0) return ck.Error(v, "'keep' needs 'max_bytes' (size rotation); without it nothing rotates");
      c.log_keep = static_cast<uint32_t>(v64);
    }
    if (auto* v = t->get("dedup_seconds")) {
      VIGIE_ASSIGN(v64, ck.Int(*v, "dedup_seconds", 0, kMaxDedupSeconds));
      c.dedup_seconds = static_cast<uint32_t>(v64);
    }
  }

  if (const toml::node* n = root.get("metrics")) {
    const toml::table* t = n->as_table();
    if (!t) return ck.Error(n, "[metrics] must be a table");
    VIGIE_RETURN_IF_ERROR(ck.Keys(*t, "metrics", {"listen"}));
    if (auto* v = t->get("listen")) VIGIE_ASSIGN(c.metrics_listen, ck.String(*v, "listen"));
  }

  if (const toml::node* n = root.get("flows")) {
    const toml::table* t = n->as_table();
    if (!t) return ck.Error(n, "[flows] must be a table");
    VIGIE_RETURN_IF_ERROR(ck.Keys(*t, "flows", {"max", "reassembly_buffers", "tcp_idle_seconds", "udp_idle_seconds",
                                                "max_per_source", "reassembly_per_source"}));
    int64_t v64;
    if (auto* v = t->get("max")) {
      VIGIE_ASSIGN(v64, ck.Int(*v, "max", 1, 1 << 26));
      c.flows.max_flows = static_cast<size_t>(v64);
    }
    if (auto* v = t->get("reassembly_buffers")) {
      VIGIE_ASSIGN(v64, ck.Int(*v, "reassembly_buffers", 0, 1 << 20));
      c.flows.reassembly_buffers = static_cast<size_t>(v64);
    }
    if (auto* v = t->get("max_per_source")) {
      VIGIE_ASSIGN(v64, ck.Int(*v, "max_per_source", 1, 1 << 26));
      c.flows.max_per_source = static_cast<size_t>(v64);
    }
    if (auto* v = t->get("reassembly_per_source")) {
      VIGIE_ASSIGN(v64, ck.Int(*v, "reassembly_per_source", 1, 1 << 20));
      c.flows.reassembly_per_source = static_cast<size_t>(v64);
    }
    if (auto* v = t->get("tcp_idle_seconds")) {
      VIGIE_ASSIGN(v64, ck.Int(*v, "tcp_idle_seconds", 1, 86400));
      c.flows.tcp_idle_us = static_cast<uint64_t>(v64) * 1'000'000;
    }
    if (auto* v = t->get("udp_idle_seconds")) {
      VIGIE_ASSIGN(v64, ck.Int(*v, "udp_idle_seconds", 1, 86400));
      c.flows.udp_idle_us = static_cast<uint64_t>(v64) * 1'000'000;
    }
  }

  if (const toml::node* n = root.get("inspect")) {
    const toml::table* t = n->as_table();
    if (!t) return ck.Error(n, "[inspect] must be a table");
    VIGIE_RETURN_IF_ERROR(ck.Keys(*t, "inspect", {"malformed", "ech", "no_sni", "dot", "uninspected", "checksums"}));
    if (auto* v = t->get("uninspected")) VIGIE_ASSIGN(c.uninspected_action, ck.ActionOf(*v, "uninspected"));
    if (auto* v = t->get("checksums")) {
      std::string m;
      VIGIE_ASSIGN(m, ck.OneOf(*v, "checksums", {"auto", "always", "never"}));
      c.checksums = m == "always" ? ChecksumMode::kAlways : m == "never" ? ChecksumMode::kNever : ChecksumMode::kAuto;
    }
    if (auto* v = t->get("malformed")) VIGIE_ASSIGN(c.malformed_action, ck.ActionOf(*v, "malformed"));
    if (auto* v = t->get("ech")) VIGIE_ASSIGN(c.ech_action, ck.ActionOf(*v, "ech"));
    if (auto* v = t->get("no_sni")) VIGIE_ASSIGN(c.no_sni_action, ck.ActionOf(*v, "no_sni"));
    if (auto* v = t->get("dot")) VIGIE_ASSIGN(c.dot_action, ck.ActionOf(*v, "dot"));
  }
  return c;
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open config file"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

std::string DefaultConfigPath() {
  if (const char* env = std::getenv("VIGIE_CONFIG"); env && *env) return env;
  std::error_code ec;
  // Installed: <prefix>/bin/vigie -> <prefix>/etc/vigie/vigie.toml.
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path p = exe.parent_path().parent_path() / "etc" / "vigie" / "vigie.toml";
    if (fs::exists(p, ec)) return p.string();
  }
  // Run from the build tree: the source tree's deploy/vigie.toml.
#ifdef VIGIE_SOURCE_CONFIG
  if (fs::exists(VIGIE_SOURCE_CONFIG, ec)) return VIGIE_SOURCE_CONFIG;
#endif
#ifdef VIGIE_INSTALL_CONFIG
  return VIGIE_INSTALL_CONFIG;
#else
  return "/etc/vigie/vigie.toml";
#endif
}

}  // namespace vigie
