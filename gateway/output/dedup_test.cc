#include "gateway/output/dedup.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vigie {
namespace {

struct Collect : LineOutput {
  void WriteLine(std::string_view line, Action) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

constexpr uint64_t kT0 = 1'700'000'000'000'000;
constexpr uint64_t kWindow = 60'000'000;
const IpAddress kA = *IpAddress::Parse("10.0.0.1");
const IpAddress kB = *IpAddress::Parse("10.0.0.2");

// A Vigie-format line; summary members go before the closing brace.
std::string Line(std::string_view tag) { return "{\"timestamp\":\"x\",\"tag\":\"" + std::string(tag) + "\"}\n"; }
size_t At(const std::string& l) { return l.size() - 2; }

TEST(DedupTest, FirstWrittenThenOneSummaryAtClose) {
  DedupTable t(LogFormat::kVigie, kWindow);
  Collect out;
  const std::string l = Line("a");
  for (int i = 0; i < 5; ++i) t.Offer(kA, "x.com", Action::kBlock, kT0 + i, l, At(l), &out);
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0], l);
  t.CloseAll(&out);
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_NE(out.lines[1].find("\"tag\":\"a\",\"count\":4,\"first_timestamp\":\"2023-11-14T22:13:20.000000Z\","
                              "\"last_timestamp\":\"2023-11-14T22:13:20.000004Z\"}\n"),
            std::string::npos)
      << out.lines[1];
  EXPECT_EQ(out.lines[1].rfind("{\"timestamp\":\"2023-11-14T22:13:20.000004Z\",", 0), 0u) << out.lines[1];
  EXPECT_EQ(t.suppressed(), 4u);
  EXPECT_EQ(t.summaries(), 1u);
  EXPECT_EQ(t.open_windows(), 0u);
}

TEST(DedupTest, KeyIsDeviceNameAndAction) {
  DedupTable t(LogFormat::kVigie, kWindow);
  Collect out;
  const std::string l = Line("a");
  t.Offer(kA, "x.com", Action::kBlock, kT0, l, At(l), &out);
  t.Offer(kB, "x.com", Action::kBlock, kT0, l, At(l), &out);
  t.Offer(kA, "y.com", Action::kBlock, kT0, l, At(l), &out);
  t.Offer(kA, "x.com", Action::kLog, kT0, l, At(l), &out);
  EXPECT_EQ(out.lines.size(), 4u);
  t.CloseAll(&out);
  EXPECT_EQ(out.lines.size(), 4u);  // nothing folded: no summary
}

TEST(DedupTest, WindowEndsByTimeEvenForOtherKeys) {
  DedupTable t(LogFormat::kVigie, kWindow);
  Collect out;
  const std::string l = Line("a");
  t.Offer(kA, "x.com", Action::kBlock, kT0, l, At(l), &out);
  t.Offer(kA, "x.com", Action::kBlock, kT0 + kWindow - 1, l, At(l), &out);  // still inside
  EXPECT_EQ(out.lines.size(), 1u);
  // The table is scanned at most once per kDedupSweepIntervalUs of decision time.
  t.Offer(kB, "z.com", Action::kBlock, kT0 + kWindow + kDedupSweepIntervalUs - 2, l, At(l), &out);
  EXPECT_EQ(out.lines.size(), 2u);
  t.Offer(kB, "z.com", Action::kBlock, kT0 + kWindow + kDedupSweepIntervalUs, l, At(l), &out);  // A's has ended
  ASSERT_EQ(out.lines.size(), 3u);
  EXPECT_NE(out.lines[2].find("\"count\":1,"), std::string::npos) << out.lines[2];
  t.Offer(kA, "x.com", Action::kBlock, kT0 + kWindow + kDedupSweepIntervalUs, l, At(l), &out);  // new window
  EXPECT_EQ(out.lines.size(), 4u);
}

TEST(DedupTest, FullTableWritesAndCountsOverflow) {
  DedupTable t(LogFormat::kVigie, kWindow, /*capacity=*/2);
  Collect out;
  const std::string l = Line("a");
  t.Offer(kA, "a.com", Action::kBlock, kT0, l, At(l), &out);
  t.Offer(kA, "b.com", Action::kBlock, kT0, l, At(l), &out);
  for (int i = 0; i < 3; ++i) t.Offer(kA, "c.com", Action::kBlock, kT0 + i, l, At(l), &out);  // no room
  EXPECT_EQ(out.lines.size(), 5u);  // never lost
  EXPECT_EQ(t.overflow(), 3u);
  EXPECT_EQ(t.open_windows(), 2u);
  const std::string long_name(kDedupMaxNameBytes + 1, 'a');
  t.Offer(kA, long_name, Action::kBlock, kT0, l, At(l), &out);
  t.Offer(kA, long_name, Action::kBlock, kT0, l, At(l), &out);
  EXPECT_EQ(out.lines.size(), 7u);
  EXPECT_EQ(t.overflow(), 5u);
}

TEST(DedupTest, EveSummaryGoesInMetadata) {
  DedupTable t(LogFormat::kEve, kWindow);
  Collect out;
  const std::string l = "{\"timestamp\":\"x\",\"alert\":{\"metadata\":{\"reason\":[\"list\"]}}}\n";
  const size_t at = l.find("]}") + 1;
  t.Offer(kA, "x.com", Action::kBlock, kT0, l, at, &out);
  t.Offer(kA, "x.com", Action::kBlock, kT0 + 1, l, at, &out);
  t.CloseAll(&out);
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(out.lines[1],
            "{\"timestamp\":\"2023-11-14T22:13:20.000001+0000\",\"alert\":{\"metadata\":{\"reason\":[\"list\"],"
            "\"count\":[\"1\"],\"first_timestamp\":[\"2023-11-14T22:13:20.000000+0000\"],"
            "\"last_timestamp\":[\"2023-11-14T22:13:20.000001+0000\"]}}}\n");
}

}  // namespace
}  // namespace vigie
