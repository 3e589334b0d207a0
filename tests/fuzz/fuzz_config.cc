// libFuzzer target for the config loader (gateway/policy/config.h
// ParseConfig): TOML text in, a Config or an error out.
// Invariants: a failure is an InvalidArgument that names the file and a line
// of it ("vigie.toml:N: why", 1 <= N <= lines + 1: toml++ reports an error at
// the end of the text on the line after a final newline); a success has at
// least one managed prefix and a lists dir (the loader's own promises), and
// parsing it again gives the same result (the loader is a pure function).
#include <algorithm>
#include <cstdint>
#include <string>

#include "gateway/policy/config.h"
#include "tests/fuzz/fuzz_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vigie::fuzz::Check;
  std::string text(reinterpret_cast<const char*>(data), size);
  text.shrink_to_fit();
  const std::string path = "/etc/vigie/vigie.toml";
  auto c = vigie::ParseConfig(text, path);
  auto again = vigie::ParseConfig(text, path);
  Check(c.ok() == again.ok(), "ParseConfig is deterministic");
  if (!c.ok()) {
    const std::string m(c.status().message());
    Check(m == again.status().message(), "the same error twice", m);
    Check(c.status().code() == absl::StatusCode::kInvalidArgument, "a bad config is InvalidArgument", m);
    const std::string head = path + ":";
    Check(m.compare(0, head.size(), head) == 0, "the error names the file", m);
    size_t i = head.size(), n = 0;
    while (i < m.size() && m[i] >= '0' && m[i] <= '9') n = n * 10 + static_cast<size_t>(m[i++] - '0');
    Check(i > head.size() && i + 1 < m.size() && m[i] == ':' && m[i + 1] == ' ', "the error names a line", m);
    const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    Check(n >= 1 && n <= lines + 1, "the line is one of the file's", m);
    return 0;
  }
  Check(!c->managed_text.empty(), "a loaded config polices some prefix");
  Check(!c->lists_dir.empty(), "a loaded config names its lists dir");
  Check(c->lists_dir == again->lists_dir && c->managed_text == again->managed_text, "same config twice");
  return 0;
}
