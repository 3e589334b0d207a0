#include "gateway/cli/commands.h"

#include <boost/program_options.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/base/absl_compat.h"

namespace po = boost::program_options;

namespace vigie {

namespace {

int ListsStatsCommand(const Args& args) {
  po::options_description desc("lists stats options");
  std::string config;
  desc.add_options()("config", po::value(&config), "config file");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("lists stats: ", e.what()));
  }
  auto policy = LoadPolicy(config);
  if (!policy.ok()) return Fail(std::string(policy.status().message()));
  const Matcher& m = (*policy)->matcher();
  const Matcher::Stats& s = m.stats();
  absl::PrintF("lists dir     %s\n", (*policy)->config().lists_dir);
  absl::PrintF("apps          %d\n", s.apps);
  absl::PrintF("entries       %d\n", s.entries);
  absl::PrintF("nodes         %d\n", s.nodes);
  absl::PrintF("memory        %d bytes (%.1f bytes/entry)\n", s.memory_bytes,
               s.entries ? double(s.memory_bytes) / double(s.entries) : 0.0);
  absl::PrintF("build time    %.3f ms\n", s.build_seconds * 1000);
  return 0;
}

}  // namespace

int ListsCommand(const Args& args) {
  if (args.empty() || args[0] != "stats") return Fail("usage: vigie lists stats [--config FILE]");
  return ListsStatsCommand(Args(args.begin() + 1, args.end()));
}

}  // namespace vigie
