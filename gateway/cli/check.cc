#include "gateway/cli/commands.h"

#include <algorithm>

#include "gateway/inspect/pipeline.h"

#include <boost/program_options.hpp>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/base/absl_compat.h"
#include "gateway/base/clock.h"
#include "gateway/cli/privileges.h"
#include "gateway/policy/lint.h"
#include "lists/shared_parents.h"

namespace po = boost::program_options;

namespace vigie {

// The shared-parent guard list: lists/shared_parents.list beside the apps'
// lists dir (the source tree and the installed tree both lay it out so).
namespace {

std::string SharedParentsPath(const Config& c) {
  std::filesystem::path dir = std::filesystem::path(c.lists_dir).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "lists/apps/"
  return (dir.parent_path() / "shared_parents.list").string();
}

}  // namespace

int CheckConfigCommand(const Args& args) {
  po::options_description desc("check options");
  std::string config;
  bool strict = false;
  desc.add_options()("config", po::value(&config), "config file")(
      "strict", po::bool_switch(&strict), "exit 1 when there are warnings");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("check: ", e.what(), "\nusage: vigie check [--strict] [CONFIG]"));
  }
  auto policy = LoadPolicy(config);
  if (!policy.ok()) {
    // file:line: why, as the loader wrote it; exit 2.
    std::fprintf(stderr, "%s\n", std::string(policy.status().message()).c_str());
    return 2;
  }
  const Policy& pol = **policy;
  // Files writable by others than root and the gateway user: what `vigie run` refuses.
  if (absl::Status t = CheckTrustedFiles(pol.config()); !t.ok()) {
    std::fprintf(stderr, "%s\n", std::string(t.message()).c_str());
    return 2;
  }
  auto lists = ReloadLists(pol);
  if (!lists.ok()) {
    std::fprintf(stderr, "%s\n", std::string(lists.status().message()).c_str());
    return 2;
  }
  std::vector<LintWarning> warnings = LintPolicy(pol, *lists, NowMicros());
  auto psl = PublicSuffixList::Load(kDebianPublicSuffixList);
  if (!psl.ok()) {
    warnings.push_back({kDebianPublicSuffixList, absl::StrCat("public suffix list not read (Debian package "
                                                              "publicsuffix): ", psl.status().message())});
  }
  std::string parents_path = SharedParentsPath(pol.config());
  auto parents = SharedParentSet::Load(parents_path);
  if (!parents.ok()) {
    warnings.push_back({parents_path, absl::StrCat("shared-parent guard list not read: ", parents.status().message())});
  }
  for (const SharedParentWarning& w : CheckSharedParents(*lists, psl.ok() ? &*psl : nullptr,
                                                         parents.ok() ? &*parents : nullptr)) {
    warnings.push_back({absl::StrCat(w.file, ":", w.line), absl::StrCat("'", w.entry, "': ", w.why)});
  }
  for (const LintWarning& w : warnings) absl::PrintF("%s: warning: %s\n", w.where, w.why);
  absl::PrintF("%s: ok (%d apps, %d list entries, %d exceptions, %d warnings)\n", pol.config().path,
               pol.matcher().app_count(), pol.matcher().stats().entries, pol.config().exceptions.size(),
               warnings.size());
  // What the caps allow in memory (README "Caps and sizing").
  const Config& cfg = pol.config();
  const Pipeline::MemoryBound m = Pipeline::Bound(cfg.flows);
  const size_t workers = std::max<size_t>(1, cfg.mode == "monitor" ? cfg.interfaces.size() : cfg.queues.size());
  absl::PrintF("%s: memory: at most %.0f MiB per worker for flows and reassembly (%d flows x %d B, %d buffers x %d B, "
               "%d hello buffers x %d B, fragment chains %.0f MiB); %d worker(s): %.0f MiB\n",
               cfg.path, double(m.total) / (1 << 20), cfg.flows.max_flows, m.flows.per_flow,
               cfg.flows.reassembly_buffers, m.flows.per_buffer, m.flows.aux_buffers, m.flows.per_aux,
               double(m.fragments) / (1 << 20), workers, double(m.total * workers) / (1 << 20));
  return strict && !warnings.empty() ? 1 : 0;
}

}  // namespace vigie
