// vigie rules iptables|nft [--config FILE] [--family ipv4|ipv6]: prints the
// kernel rule set that queues traffic to `vigie run` (gateway/sources/
// nfqueue_rules.h), generated from the config so the two never disagree.
#include <cstdio>
#include <string>

#include <boost/program_options.hpp>

#include "absl/strings/str_cat.h"
#include "gateway/cli/commands.h"
#include "gateway/sources/nfqueue_rules.h"

namespace po = boost::program_options;

namespace vigie {

int RulesCommand(const Args& args) {
  po::options_description desc("rules options");
  std::string config, format, family;
  desc.add_options()("config", po::value(&config), "config file")(
      "family", po::value(&family), "iptables only: ipv4 (iptables-restore) or ipv6 (ip6tables-restore); default both")(
      "format", po::value(&format), "iptables or nft");
  po::positional_options_description pos;
  pos.add("format", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("rules: ", e.what()));
  }
  if (format != "iptables" && format != "nft") {
    return Fail("usage: vigie rules iptables|nft [--config FILE] [--family ipv4|ipv6]");
  }
  if (!family.empty() && (format != "iptables" || (family != "ipv4" && family != "ipv6"))) {
    return Fail("rules: --family ipv4|ipv6 goes with `rules iptables` (one nft ruleset covers both)");
  }
  auto cfg = LoadConfig(config.empty() ? DefaultConfigPath() : config);
  if (!cfg.ok()) return Fail(std::string(cfg.status().message()));
  std::string out;
  if (format == "nft") {
    auto r = NftRules(*cfg);
    if (!r.ok()) return Fail(std::string(r.status().message()));
    out = *r;
  } else {
    for (IpFamily f : {IpFamily::kIpv4, IpFamily::kIpv6}) {
      if (!family.empty() && family != (f == IpFamily::kIpv4 ? "ipv4" : "ipv6")) continue;
      auto r = IptablesRules(*cfg, f);
      if (!r.ok()) return Fail(std::string(r.status().message()));
      if (!out.empty()) out += "\n";
      out += *r;
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace vigie
