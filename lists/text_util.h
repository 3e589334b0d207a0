// Small text helpers shared by the list parsers (list_loader.cc, import.cc).
// Debian's abseil has its own absl::string_view, distinct from
// std::string_view; these keep the parsers on std types.
#ifndef VIGIE_LISTS_TEXT_UTIL_H_
#define VIGIE_LISTS_TEXT_UTIL_H_

#include <string_view>

namespace vigie {

constexpr bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

inline std::string_view Strip(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

inline bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (!s->starts_with(prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

}  // namespace vigie

#endif  // VIGIE_LISTS_TEXT_UTIL_H_
