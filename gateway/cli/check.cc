#include "gateway/cli/commands.h"

#include <boost/program_options.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/base/absl_compat.h"

namespace po = boost::program_options;

namespace vigie {

int CheckConfigCommand(const Args& args) {
  po::options_description desc("check-config options");
  std::string config;
  desc.add_options()("config", po::value(&config), "config file");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("check-config: ", e.what()));
  }
  auto policy = LoadPolicy(config);
  if (!policy.ok()) return Fail(std::string(policy.status().message()));
  absl::PrintF("%s: ok (%d apps, %d list entries, %d exceptions)\n", (*policy)->config().path,
               (*policy)->matcher().app_count(), (*policy)->matcher().stats().entries,
               (*policy)->config().exceptions.size());
  return 0;
}

}  // namespace vigie
