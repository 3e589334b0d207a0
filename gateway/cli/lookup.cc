#include "gateway/cli/commands.h"

#include <boost/program_options.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/base/absl_compat.h"
#include <iostream>
#include "gateway/base/clock.h"
#include "gateway/output/json.h"
#include "gateway/output/decision_json.h"
#include "lists/domain.h"

namespace po = boost::program_options;

namespace vigie {

int LookupCommand(const Args& args) {
  po::options_description desc("lookup options");
  std::string config, src_text;
  std::vector<std::string> names;
  desc.add_options()("config", po::value(&config), "config file")(
      "src", po::value(&src_text), "device address: apply scope and exceptions for it")(
      "name", po::value(&names), "names");
  po::positional_options_description pos;
  pos.add("name", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("lookup: ", e.what()));
  }
  auto policy = LoadPolicy(config);
  if (!policy.ok()) return Fail(std::string(policy.status().message()));
  const Policy& pol = **policy;
  IpAddress src;
  if (!src_text.empty()) {
    auto ip = IpAddress::Parse(src_text);
    if (!ip.ok()) return Fail(std::string(ip.status().message()));
    src = *ip;
  }
  uint64_t now_us = NowMicros();
  auto decide = [&](const std::string& name, bool json) {
    DomainBuf norm;
    DomainError err = NormalizeDomain(name, &norm);
    Verdict v;
    if (err == DomainError::kOk) {
      v = src.family ? pol.Decide(src, norm.view(), now_us) : pol.DecideName(norm.view());
    } else {
      v.reason = Reason::kNoMatch;
    }
    const RuleMatch& m = v.match;
    if (json) {
      std::string s;
      JsonWriter w(&s);
      w.BeginObject().Field("name", name);
      w.FieldOrNull("domain", err == DomainError::kOk, norm.view());
      w.Field("action", ActionName(v.action)).Field("reason", ReasonName(v.reason));
      w.FieldOrNull("app", static_cast<bool>(m), m ? pol.matcher().app_name(m.app) : std::string_view());
      w.FieldOrNull("list", static_cast<bool>(m), m.allow ? "allow" : "block");
      w.FieldOrNull("rule", static_cast<bool>(m), m ? std::string_view(m.rule->text) : std::string_view());
      w.FieldOrNull("rule_source", static_cast<bool>(m), m ? RuleSource(m) : std::string());
      if (v.exception) w.Field("exception", v.exception->id);
      if (err != DomainError::kOk) w.Field("error", DomainErrorName(err));
      w.EndObject();
      s += "\n";
      std::fwrite(s.data(), 1, s.size(), stdout);
    } else if (err != DomainError::kOk) {
      absl::PrintF("%-32s invalid: %s\n", name, DomainErrorName(err));
    } else if (!m) {
      absl::PrintF("%-32s %-5s %s\n", norm.view(), ActionName(v.action), ReasonName(v.reason));
    } else {
      absl::PrintF("%-32s %-5s %-9s app=%s list=%s rule=%s (%s:%d)%s\n", norm.view(), ActionName(v.action),
                   ReasonName(v.reason), pol.matcher().app_name(m.app), m.allow ? "allow" : "block",
                   m.rule->text, m.rule->file, m.rule->line,
                   v.exception ? absl::StrCat(" exception=", v.exception->id) : "");
    }
  };
  if (names.empty()) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      decide(line, true);
    }
  } else {
    for (const std::string& n : names) decide(n, false);
  }
  return 0;
}

}  // namespace vigie
