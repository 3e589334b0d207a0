// Vigie classifiers: the three-way verdict every wire parser returns.
//
// Contract (STYLE.md 2): a parser over bytes says either "done" (kOk), "the bytes
// so far are a consistent prefix, give me more" (kNeedMore), or "these bytes can
// never become a valid message" (kMalformed, with a parser-specific code beside
// it). Callers must treat kNeedMore and kMalformed differently: the first keeps
// buffering (within their own caps), the second stops inspecting.
// Header-only, no state, thread-safe.

#ifndef VIGIE_CLASSIFIERS_PARSE_STATUS_H_
#define VIGIE_CLASSIFIERS_PARSE_STATUS_H_

#include <cstdint>

namespace vigie {

enum class ParseStatus : uint8_t { kOk, kNeedMore, kMalformed };

// Stable lower-case names for logs and counters ("ok", "need_more", "malformed").
constexpr const char* ParseStatusName(ParseStatus s) {
  switch (s) {
    case ParseStatus::kOk:
      return "ok";
    case ParseStatus::kNeedMore:
      return "need_more";
    case ParseStatus::kMalformed:
      return "malformed";
  }
  return "unknown";
}

}  // namespace vigie

#endif  // VIGIE_CLASSIFIERS_PARSE_STATUS_H_
