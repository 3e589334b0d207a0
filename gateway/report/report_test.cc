#include "gateway/report/report.h"

#include "gtest/gtest.h"

namespace vigie::report {
namespace {
TEST(ParseTime, Rfc3339) { EXPECT_TRUE(ParseTime("2025-06-02T09:00:00Z").ok()); }
}  // namespace
}  // namespace vigie::report
