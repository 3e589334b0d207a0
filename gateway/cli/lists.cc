#include "gateway/cli/commands.h"

#include <boost/program_options.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/base/absl_compat.h"

#include <iostream>

#include "lists/import.h"

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


constexpr const char* kListsUsage =
    "usage: vigie lists stats [--config FILE]\n"
    "       vigie lists import --format v2fly|adguard-services|hosts|adblock|plain [--app NAME] FILE...\n"
    "       vigie lists diff OLD NEW   (list files or lists directories)";

// Writes the imported list on standard output, the report (skipped, removed,
// narrowed entries with file:line) on standard error.
int ListsImportCommand(const Args& args) {
  po::options_description desc("lists import options");
  std::string format, app;
  std::vector<std::string> files;
  desc.add_options()("format", po::value(&format)->required(), "source format")(
      "app", po::value(&app), "app name for the header")("file", po::value(&files), "source files");
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("lists import: ", e.what(), "\n", kListsUsage));
  }
  if (files.empty()) return Fail(absl::StrCat("lists import: no file given\n", kListsUsage));
  auto f = ParseImportFormat(format);
  if (!f.ok()) return Fail(absl::StrCat("lists import: ", f.status().message()));
  absl::Status st = ImportFiles(*f, app, files, "", std::cout, std::cerr);
  std::cout.flush();
  if (!st.ok()) return Fail(std::string(st.message()));
  return 0;
}

int ListsDiffCommand(const Args& args) {
  if (args.size() != 2) return Fail(absl::StrCat("lists diff: give OLD and NEW\n", kListsUsage));
  auto diff = DiffListPaths(args[0], args[1]);
  if (!diff.ok()) return Fail(std::string(diff.status().message()));
  WriteListDiff(*diff, std::cout);
  return 0;
}

}  // namespace

int ListsCommand(const Args& args) {
  std::string sub = args.empty() ? "" : args[0];
  Args rest = args.empty() ? Args() : Args(args.begin() + 1, args.end());
  if (sub == "stats") return ListsStatsCommand(rest);
  if (sub == "import") return ListsImportCommand(rest);
  if (sub == "diff") return ListsDiffCommand(rest);
  return Fail(kListsUsage);
}

}  // namespace vigie
