// vigie logs reopen: asks a running `vigie run` to reopen its decision log
// (after logrotate moved it). It sends SIGUSR1, which reopens the log only;
// SIGHUP reopens it too and also reloads the config and lists.
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <boost/program_options.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gateway/cli/commands.h"

namespace po = boost::program_options;

namespace vigie {

namespace {
constexpr const char* kLogsUsage = "usage: vigie logs reopen (--pid PID | --pid-file FILE)\n";
}  // namespace

int LogsCommand(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "reopen") return Fail(absl::StrCat("logs: expected 'reopen'\n", kLogsUsage));
  po::options_description desc("logs reopen options");
  int64_t pid = 0;
  std::string pid_file;
  desc.add_options()("pid", po::value(&pid), "the process id of vigie run")(
      "pid-file", po::value(&pid_file), "the file `vigie run --pid-file` wrote");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(std::vector<std::string>(args.begin() + 1, args.end())).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Fail(absl::StrCat("logs reopen: ", e.what(), "\n", kLogsUsage));
  }
  if ((pid != 0) == !pid_file.empty()) return Fail(absl::StrCat("logs reopen: give --pid or --pid-file\n", kLogsUsage));
  if (!pid_file.empty()) {
    std::ifstream in(pid_file);
    std::string text;
    if (!in || !std::getline(in, text)) return Fail(absl::StrCat(pid_file, ": cannot read the pid file"));
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) {
      return Fail(absl::StrCat(pid_file, ":1: not a process id: '", text, "'"));
    }
  }
  if (pid <= 1) return Fail(absl::StrCat("logs reopen: not a vigie process id: ", pid));
  if (::kill(static_cast<pid_t>(pid), SIGUSR1) != 0) {
    return Fail(absl::StrCat("logs reopen: signal to pid ", pid, ": ", std::strerror(errno)));
  }
  return 0;
}

}  // namespace vigie
