// Debian 12's abseil (20220623) is built with its own absl::string_view, not
// std::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), and has no
// ABSL_RETURN_IF_ERROR. These bridge the two at the edges.
#ifndef VIGIE_LISTS_ABSL_COMPAT_H_
#define VIGIE_LISTS_ABSL_COMPAT_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vigie {

inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view SV(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace vigie

#define VIGIE_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::absl::Status vigie_status_ = (expr);       \
    if (!vigie_status_.ok()) return vigie_status_; \
  } while (0)

#define VIGIE_ASSIGN_OR_RETURN(lhs, expr)        \
  do {                                           \
    auto vigie_value_ = (expr);                  \
    if (!vigie_value_.ok()) return vigie_value_.status(); \
    lhs = *std::move(vigie_value_);              \
  } while (0)

#endif  // VIGIE_LISTS_ABSL_COMPAT_H_
