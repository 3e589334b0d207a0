// libFuzzer targets for the list readers, one binary per format (selected by
// VIGIE_FUZZ_<TARGET>):
//   import_v2fly, import_adguard_services, import_adblock, import_hosts,
//   import_plain  ImportLists (lists/import.h) on one source file;
//   list          ParseList (lists/list_loader.h): plain, full:, hosts,
//                 adblock, dnsmasq and v2fly lines, ip: entries.
// Invariants, not only "no crash":
//   - a failure is an InvalidArgument naming the file and a line of it
//     ("src.txt:N: why", 1 <= N <= the number of lines);
//   - importer: every note names the source file and one of its lines; the
//     written list (WriteImportedList) loads with ParseList to the same
//     entries, and re-imports as plain to the same entries, in the same order,
//     with nothing skipped or removed (an import is a fixed point);
//   - loader: the entries of a loaded list (EntryText, ip:CIDR), written one
//     per line, load again to the same entries.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "lists/import.h"
#include "lists/list_loader.h"
#include "tests/fuzz/fuzz_json.h"

namespace {

using vigie::fuzz::Check;

size_t LineCount(std::string_view text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1; }

// "FILE:N: ..." with 1 <= N <= lines.
void CheckNamesLine(const absl::Status& st, std::string_view file, size_t lines) {
  const std::string m(st.message());
  Check(st.code() == absl::StatusCode::kInvalidArgument, "a bad list is InvalidArgument", m);
  const std::string head = std::string(file) + ":";
  Check(m.compare(0, head.size(), head) == 0, "the error names the file", m);
  size_t i = head.size(), n = 0;
  while (i < m.size() && m[i] >= '0' && m[i] <= '9') n = n * 10 + static_cast<size_t>(m[i++] - '0');
  Check(i > head.size() && i + 1 < m.size() && m[i] == ':' && m[i + 1] == ' ', "the error names a line", m);
  Check(n >= 1 && n <= lines, "the line is one of the file's", m);
}

// Entries of a loaded list in Vigie syntax, domain rules then ip: rules.
std::vector<std::string> Entries(const vigie::AppList& l) {
  std::vector<std::string> out;
  for (const vigie::Rule& r : l.rules) out.push_back(vigie::EntryText(r));
  for (const vigie::Rule& r : l.ip_rules) out.push_back("ip:" + r.domain);
  return out;
}

[[maybe_unused]] void FuzzImport(vigie::ImportFormat format, std::string_view text) {
  const std::string file = "src.txt";
  const size_t lines = LineCount(text);
  auto r = vigie::ImportLists(format, {{file, std::string(text)}});
  if (!r.ok()) {
    CheckNamesLine(r.status(), file, lines);
    return;
  }
  for (const auto* notes : {&r->skipped, &r->removed, &r->narrowed}) {
    for (const vigie::ImportNote& n : *notes) {
      Check(n.file == file && n.line >= 1 && n.line <= lines, "a note names the source and a line of it", n.why);
    }
  }
  std::vector<std::string> want;
  for (const vigie::ImportedEntry& e : r->entries) {
    Check(e.file == file && e.line >= 1 && e.line <= lines, "an entry names its source line", e.entry);
    want.push_back(e.entry);
  }
  vigie::ImportHeader h;
  h.format = format;
  h.app = "fuzz";
  h.date = "2026-01-01";
  h.sources = {file};
  std::ostringstream out;
  vigie::WriteImportedList(*r, h, out);
  const std::string written = out.str();

  auto loaded = vigie::ParseList(written, "fuzz", "fuzz.list", false);
  if (!loaded.ok()) vigie::fuzz::Fail("an imported list does not load", std::string(loaded.status().message()));
  std::vector<std::string> got = Entries(*loaded), sorted_want = want;
  std::sort(got.begin(), got.end());
  std::sort(sorted_want.begin(), sorted_want.end());
  Check(got == sorted_want, "the imported list loads to the imported entries", written);

  auto again = vigie::ImportLists(vigie::ImportFormat::kPlain, {{"fuzz.list", written}});
  if (!again.ok()) vigie::fuzz::Fail("an imported list does not re-import", std::string(again.status().message()));
  std::vector<std::string> re;
  for (const vigie::ImportedEntry& e : again->entries) re.push_back(e.entry);
  Check(re == want, "re-import: same entries in the same order", written);
  Check(again->skipped.empty() && again->removed.empty() && again->narrowed.empty(),
        "re-import: nothing skipped, removed or narrowed", written);
}

[[maybe_unused]] void FuzzList(std::string_view text) {
  const std::string file = "lists/fuzz.list";
  auto l = vigie::ParseList(text, "fuzz", file, false);
  if (!l.ok()) {
    CheckNamesLine(l.status(), file, LineCount(text));
    return;
  }
  const std::vector<std::string> entries = Entries(*l);
  std::string written;
  for (const std::string& e : entries) written += e + "\n";
  auto again = vigie::ParseList(written, "fuzz", file, false);
  if (!again.ok()) vigie::fuzz::Fail("a loaded list's entries do not load again", std::string(again.status().message()));
  Check(Entries(*again) == entries, "a loaded list's entries load to the same entries", written);
  for (const vigie::Rule& r : l->rules) Check(r.line >= 1 && r.line <= LineCount(text), "rule line", r.text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size heap copy (STYLE.md 12).
  std::string text(reinterpret_cast<const char*>(data), size);
  text.shrink_to_fit();
#if defined(VIGIE_FUZZ_IMPORT_V2FLY)
  FuzzImport(vigie::ImportFormat::kV2fly, text);
#elif defined(VIGIE_FUZZ_IMPORT_ADGUARD_SERVICES)
  FuzzImport(vigie::ImportFormat::kAdguardServices, text);
#elif defined(VIGIE_FUZZ_IMPORT_ADBLOCK)
  FuzzImport(vigie::ImportFormat::kAdblock, text);
#elif defined(VIGIE_FUZZ_IMPORT_HOSTS)
  FuzzImport(vigie::ImportFormat::kHosts, text);
#elif defined(VIGIE_FUZZ_IMPORT_PLAIN)
  FuzzImport(vigie::ImportFormat::kPlain, text);
#elif defined(VIGIE_FUZZ_LIST)
  FuzzList(text);
#else
#error "define one VIGIE_FUZZ_<TARGET>"
#endif
  return 0;
}
