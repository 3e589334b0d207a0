// vigie explain [--config FILE] [--proto dns|tls|quic|http] [--json] SRC_IP NAME
//
// Every step of one decision (policy/explain.h), as text or one JSON object.
// Exit status: 0 the name passes (allow, or log: passed and logged), 1 it
// is blocked, 2 usage or config error.
#include <cstdio>
#include <string>

#include <boost/program_options.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/base/clock.h"
#include "gateway/cli/commands.h"
#include "gateway/enforce/enforce.h"
#include "gateway/output/decision_json.h"
#include "gateway/output/json.h"
#include "gateway/policy/explain.h"

namespace po = boost::program_options;

namespace vigie {
namespace {

constexpr const char* kExplainUsage =
    "usage: vigie explain [--config FILE] [--proto dns|tls|quic|http] [--json] SRC_IP NAME\n";

// Exit codes (documented in README "vigie explain").
constexpr int kExitPasses = 0;
constexpr int kExitBlocked = 1;

std::string_view ProtoText(ExplainProto p) {
  switch (p) {
    case ExplainProto::kDns: return "dns";
    case ExplainProto::kTls: return "tls";
    case ExplainProto::kQuic: return "quic";
    case ExplainProto::kHttp: return "http";
  }
  return "?";
}

// What an inline gateway does with the packet carrying the name.
std::string Enforcement(const Explanation& e, ExplainProto proto, const Policy& pol) {
  const Action a = e.verdict.action;
  if (a != Action::kBlock) {
    return a == Action::kLog ? "pass (logged)" : "pass";
  }
  const std::string app = e.verdict.match ? pol.matcher().app_name(e.verdict.match.app) : "";
  const Config& c = pol.config();
  switch (proto) {
    case ExplainProto::kDns: {
      const std::string ede = absl::StrCat("EDE 15 (Blocked) \"", BlockedText(app), "\"");
      if (c.block_answer == "sinkhole") {
        char v4[46], v6[46];
        const std::string s4(v4, c.sinkhole_v4.Format(v4)), s6(v6, c.sinkhole_v6.Format(v6));
        return absl::StrCat("query dropped; answered with the sinkhole (A ", s4, ", AAAA ", s6, ") and ", ede);
      }
      return absl::StrCat("query dropped; answered NXDOMAIN with ", ede);
    }
    case ExplainProto::kTls:
    case ExplainProto::kHttp:
      return "packet dropped, connection marked blocked; TCP RST to both ends";
    case ExplainProto::kQuic:
      return "packet dropped, connection marked blocked (UDP: no reset)";
  }
  return "";
}

std::string ExceptionStatus(const Explanation& e, const ExplainException& x) {
  if (x.applied) return "applied";
  if (x.expired) return "expired";
  if (!x.covers_device) return "other-device";
  const Reason r = e.verdict.reason;
  if (!e.managed || r == Reason::kAllowlist || e.app_action == Action::kAllow) return "not-needed";
  if (!x.relaxes) return "does-not-relax";
  return "not-reached";  // an earlier exception applied
}

// Why a candidate rule is not the matcher's pick.
std::string Shadow(const RuleMatch& c, const RuleMatch& w) {
  if (!w || c.rule == w.rule) return "";
  if (c.rule->domain == w.rule->domain && c.rule->exact == w.rule->exact && c.rule->pattern == w.rule->pattern) {
    return w.allow && !c.allow ? "equal rule: the allow-list wins" : "equal rule: the first loaded wins";
  }
  if (w.allow && !c.allow && w.rule->domain.size() <= c.rule->domain.size()) {
    return "hidden by the allow-list rule";
  }
  return "less specific than the pick";
}

std::string Source(const std::string& file, uint32_t line) { return absl::StrCat(file, ":", line); }

}  // namespace

int ExplainCommand(const Args& args) {
  po::options_description desc("explain options");
  std::string config, proto_text = "dns";
  bool json = false;
  std::vector<std::string> pos_args;
  desc.add_options()("config", po::value(&config), "config file")(
      "proto", po::value(&proto_text), "dns | tls | quic | http (default dns)")(
      "json", po::bool_switch(&json), "one JSON object")("arg", po::value(&pos_args), "SRC_IP NAME");
  po::positional_options_description pos;
  pos.add("arg", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("explain: ", e.what(), "\n", kExplainUsage));
  }
  if (pos_args.size() != 2) return Fail(absl::StrCat("explain: SRC_IP and NAME are required\n", kExplainUsage));
  ExplainProto proto;
  if (proto_text == "dns") {
    proto = ExplainProto::kDns;
  } else if (proto_text == "tls") {
    proto = ExplainProto::kTls;
  } else if (proto_text == "quic") {
    proto = ExplainProto::kQuic;
  } else if (proto_text == "http") {
    proto = ExplainProto::kHttp;
  } else {
    return Fail(absl::StrCat("explain: --proto must be dns, tls, quic or http, not '", proto_text, "'"));
  }
  auto src = IpAddress::Parse(pos_args[0]);
  if (!src.ok()) return Fail(absl::StrCat("explain: ", src.status().message()));
  auto loaded = LoadPolicy(config);
  if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
  const Policy& pol = **loaded;
  const Config& cfg = pol.config();
  const Matcher& m = pol.matcher();
  const Explanation e = Explain(pol, *src, pos_args[1], proto, NowMicros());
  const Verdict& v = e.verdict;
  const int rc = v.action == Action::kBlock ? kExitBlocked : kExitPasses;
  const std::string enforce = Enforcement(e, proto, pol);

  if (json) {
    std::string s;
    JsonWriter w(&s);
    w.BeginObject().Field("input", e.input).Field("src", pos_args[0]);
    w.Field("proto", ProtoText(proto));
    w.FieldOrNull("name", e.name_error.empty(), e.name);
    if (!e.name_error.empty()) w.Field("name_error", e.name_error);
    w.Key("scope").BeginObject().Field("managed", e.managed);
    w.FieldOrNull("prefix", !e.managed_prefix.empty(), e.managed_prefix).EndObject();
    w.Key("rules").BeginArray();
    for (const RuleMatch& c : e.candidates) {
      w.BeginObject().Field("app", m.app_name(c.app)).Field("list", c.allow ? "allow" : "block");
      w.Field("rule", c.rule->text).Field("rule_source", c.rule->source());
      w.Field("file", c.rule->file).Field("line", uint64_t{c.rule->line});
      w.Field("picked", c.rule == e.winner.rule);
      const std::string why = Shadow(c, e.winner);
      if (!why.empty()) w.Field("shadowed", why);
      w.EndObject();
    }
    w.EndArray().Key("policy");
    if (e.policy != nullptr) {
      w.BeginObject().Field("app", m.app_name(e.winner.app)).Field("action", ActionName(e.policy->action));
      w.Field("source", Source(cfg.path, e.policy->line)).EndObject();
    } else {
      w.Null();
    }
    w.Key("exceptions").BeginArray();
    for (const ExplainException& x : e.exceptions) {
      const ExceptionRule& r = *x.rule;
      w.BeginObject().Field("id", r.id).Field("reason", r.reason).Field("ticket", r.ticket);
      w.FieldOrNull("until", !r.until_text.empty(), r.until_text).Field("action", ActionName(r.action));
      w.Field("status", ExceptionStatus(e, x)).Field("source", Source(cfg.path, r.line)).EndObject();
    }
    w.EndArray();
    w.Field("action", ActionName(v.action)).Field("reason", ReasonName(v.reason));
    w.FieldOrNull("exception", v.exception != nullptr, v.exception ? std::string_view(v.exception->id) : "");
    w.Field("enforcement", enforce).Field("exit", uint64_t(rc)).EndObject();
    s.push_back('\n');
    std::fwrite(s.data(), 1, s.size(), stdout);
    return rc;
  }

  absl::PrintF("%s for %s (%s)\n", e.input, pos_args[0], ProtoText(proto));
  if (!e.name_error.empty()) {
    absl::PrintF("  name       not a DNS name (%s): matches no rule\n", e.name_error);
  } else if (e.name != e.input) {
    absl::PrintF("  name       %s (normalised)\n", e.name);
  }
  if (e.managed) {
    absl::PrintF("  scope      managed: %s is in %s ([scope] managed, %s)\n", pos_args[0], e.managed_prefix, cfg.path);
  } else {
    absl::PrintF("  scope      unmanaged: %s is in no [scope] managed prefix: never blocked, never logged as a block\n",
                 pos_args[0]);
  }
  if (e.name_error.empty()) {
    if (e.candidates.empty()) {
      absl::PrintF("  rules      none of the %d lists has a rule covering %s\n", m.app_count(), e.name);
    } else {
      absl::PrintF("  rules      %d rule(s) cover %s, most specific first:\n", e.candidates.size(), e.name);
      for (const RuleMatch& c : e.candidates) {
        const std::string why = Shadow(c, e.winner);
        absl::PrintF("    %s %-10s %s-list  %-28s %s%s\n", c.rule == e.winner.rule ? "*" : " ", m.app_name(c.app),
                     c.allow ? "allow" : "block", c.rule->text, c.rule->source(),
                     c.rule == e.winner.rule ? "  <- the matcher's pick" : absl::StrCat("  (", why, ")"));
      }
    }
  }
  if (e.winner) {
    if (e.policy != nullptr) {
      absl::PrintF("  policy     %s: %s ([[policy]] at %s)\n", m.app_name(e.winner.app), ActionName(e.policy->action),
                   Source(cfg.path, e.policy->line));
    }
    if (e.winner.allow) absl::PrintF("  allow-list %s is an approved app: its rule allows the name\n", m.app_name(e.winner.app));
  }
  for (const ExplainException& x : e.exceptions) {
    const ExceptionRule& r = *x.rule;
    absl::PrintF("  exception  %s (%s): reason \"%s\", ticket %s, until %s, action %s: %s\n", r.id,
                 Source(cfg.path, r.line), r.reason, r.ticket.empty() ? "-" : r.ticket,
                 r.until_text.empty() ? "-" : r.until_text, ActionName(r.action), ExceptionStatus(e, x));
  }
  absl::PrintF("  decision   %s (reason %s%s)\n", ActionName(v.action), ReasonName(v.reason),
               v.exception ? absl::StrCat(", exception ", v.exception->id) : "");
  absl::PrintF("  inline     %s\n", enforce);
  return rc;
}

}  // namespace vigie
