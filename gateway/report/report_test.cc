#include "gateway/report/report.h"

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vigie::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Lines as Vigie writes them (README "Decision events"), trimmed to the
// fields the report reads plus a few it must ignore.
constexpr const char* kVigieBlockTiktok =
    R"({"timestamp":"2025-06-02T09:00:00.001000Z","action":"block","reason":"list","proto":"dns",)"
    R"("transport":"udp","src_ip":"10.20.5.21","src_port":40001,"dest_ip":"9.9.9.9","dest_port":53,)"
    R"("domain":"www.tiktok.com","app":"tiktok","list":"block","rule":"tiktok.com","flow_id":1,"qtype":1})";
constexpr const char* kVigieBlockTwitter =
    R"({"timestamp":"2025-06-02T09:30:00.000000Z","action":"block","reason":"list","proto":"tls",)"
    R"("src_ip":"10.20.5.21","domain":"api.twitter.com","app":"twitter","list":"block","rule":"twitter.com"})";
constexpr const char* kVigieAllowNoMatch =
    R"({"timestamp":"2025-06-02T10:05:00.000000Z","action":"allow","reason":"no-match","proto":"dns",)"
    R"("src_ip":"10.20.5.22","domain":"www.example.org","app":null,"list":null,"rule":null})";
constexpr const char* kVigieException =
    R"({"timestamp":"2025-06-02T10:10:00.000000Z","action":"allow","reason":"exception","proto":"tls",)"
    R"("src_ip":"10.20.5.17","domain":"twitter.com","app":"twitter","list":"block","rule":"twitter.com",)"
    R"("exception":"press-office-twitter","exception_ticket":"SEC-1234","exception_until":"2026-12-31"})";
constexpr const char* kVigieDotNoApp =
    R"({"timestamp":"2025-06-02T10:20:00Z","action":"block","reason":"dot","proto":"tls",)"
    R"("src_ip":"10.20.5.22","domain":null,"app":null})";
// EVE as the EVE writer produces it (issue 11): Vigie fields in alert.metadata.
constexpr const char* kEveDropInstagram =
    R"({"timestamp":"2025-06-02T11:11:12.123456+0000","flow_id":77,"event_type":"drop","src_ip":"10.20.5.22",)"
    R"("src_port":40005,"dest_ip":"9.9.9.9","dest_port":53,"proto":"UDP","app_proto":"dns",)"
    R"j("alert":{"action":"blocked","gid":1,"signature_id":9000001,"rev":1,"signature":"Vigie block instagram (list)",)j"
    R"("category":"Banned app","severity":2,"metadata":{"vigie_app":["instagram"],"vigie_action":["block"],)"
    R"("vigie_reason":["list"],"vigie_list":["block"],"vigie_rule":["instagram.com"]}},)"
    R"("dns":{"version":3,"type":"request","queries":[{"rrname":"www.instagram.com","rrtype":"A"}]}})";
constexpr const char* kEveLogQuic =
    R"({"timestamp":"2025-06-02T11:20:00.000000+0200","event_type":"alert","src_ip":"10.20.5.23",)"
    R"("app_proto":"quic","alert":{"action":"allowed","metadata":{"vigie_app":["netflix"],"vigie_action":["log"],)"
    R"("vigie_reason":["list"],"vigie_exception":["soc-netflix"],"vigie_ticket":["SOC-7"]}},)"
    R"("quic":{"version":"1","sni":"www.netflix.com"}})";
constexpr const char* kEveFlow =
    R"({"timestamp":"2025-06-02T11:21:00.000000+0000","event_type":"flow","src_ip":"10.20.5.23"})";

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("vigie_report_test_") + std::to_string(getpid()) + "_" + name))
      .string();
}

std::string WriteFile(const std::string& name, const std::vector<std::string>& lines) {
  std::string path = TempPath(name);
  std::ofstream f(path, std::ios::binary);
  for (const std::string& l : lines) f << l << "\n";
  return path;
}

std::string WriteGzip(const std::string& name, const std::vector<std::string>& lines) {
  std::string path = TempPath(name);
  gzFile f = gzopen(path.c_str(), "wb");
  for (const std::string& l : lines) {
    gzwrite(f, l.data(), static_cast<unsigned>(l.size()));
    gzwrite(f, "\n", 1);
  }
  gzclose(f);
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(ParseTime, Rfc3339AndSuricataAndDates) {
  EXPECT_EQ(*ParseTime("2025-06-02T09:00:00.001000Z"), 1748854800001000);
  EXPECT_EQ(*ParseTime("2025-06-02T09:00:00.001Z"), 1748854800001000);
  EXPECT_EQ(*ParseTime("2025-06-02 09:00:00.0010009z"), 1748854800001000);  // past us: dropped
  // Suricata: +HHMM; an offset is subtracted to give UTC.
  EXPECT_EQ(*ParseTime("2023-03-24T10:11:12.123456+0200"), 1679645472123456);
  EXPECT_EQ(*ParseTime("2023-03-24T10:11:12.123456+02:00"), 1679645472123456);
  EXPECT_EQ(*ParseTime("2023-03-24T07:11:12.123456-01:00"), 1679645472123456);
  EXPECT_EQ(*ParseTime("1969-12-31T23:00:00Z"), -3600000000);
  bool date_only = false;
  EXPECT_EQ(*ParseTime("2025-06-02", &date_only), 1748854800001000 - 9 * kUsPerHour - 1000);
  EXPECT_TRUE(date_only);
  EXPECT_TRUE(ParseTime("2024-02-29").ok());  // leap year
}

TEST(ParseTime, RejectsWhatIsNotATime) {
  for (const char* bad : {"", "2025-13-01", "2025-02-29", "2025-06-31", "2025-06-02T24:00:00Z",
                          "2025-06-02T09:00:00", "2025-06-02T09:00:00Zjunk", "2025-06-02T09:00Z",
                          "2025-06-02T09:00:00.Z", "2025-06-02T09:00:00+2", "yesterday", "2025-6-2"}) {
    EXPECT_FALSE(ParseTime(bad).ok()) << bad;
  }
}

TEST(FormatTime, RoundTrips) {
  EXPECT_EQ(FormatTime(1748854800001000), "2025-06-02T09:00:00Z");
  EXPECT_EQ(FormatTime(-3600000000), "1969-12-31T23:00:00Z");
  EXPECT_EQ(FormatHour(-3600000000), "1969-12-31 23:00");
}

TEST(ParseLine, VigieDecision) {
  Event e;
  ASSERT_EQ(*ParseLine(kVigieException, &e), LineKind::kDecision);
  EXPECT_FALSE(e.eve);
  EXPECT_EQ(e.action, "allow");
  EXPECT_EQ(e.reason, "exception");
  EXPECT_EQ(e.src_ip, "10.20.5.17");
  EXPECT_EQ(e.domain, "twitter.com");
  EXPECT_EQ(e.app, "twitter");
  EXPECT_EQ(e.exception, "press-office-twitter");
  EXPECT_EQ(e.ticket, "SEC-1234");
  ASSERT_EQ(*ParseLine(kVigieAllowNoMatch, &e), LineKind::kDecision);
  EXPECT_EQ(e.app, "");  // null
  EXPECT_EQ(e.exception, "");
}

TEST(ParseLine, EveDropAlertAndOtherEvents) {
  Event e;
  ASSERT_EQ(*ParseLine(kEveDropInstagram, &e), LineKind::kDecision);
  EXPECT_TRUE(e.eve);
  EXPECT_EQ(e.ts_us, *ParseTime("2025-06-02T11:11:12.123456Z"));
  EXPECT_EQ(e.action, "block");
  EXPECT_EQ(e.app, "instagram");
  EXPECT_EQ(e.domain, "www.instagram.com");
  EXPECT_EQ(e.proto, "dns");
  EXPECT_EQ(e.rule, "instagram.com");
  ASSERT_EQ(*ParseLine(kEveLogQuic, &e), LineKind::kDecision);
  EXPECT_EQ(e.action, "log");
  EXPECT_EQ(e.domain, "www.netflix.com");
  EXPECT_EQ(e.exception, "soc-netflix");
  EXPECT_EQ(e.ticket, "SOC-7");
  EXPECT_EQ(e.ts_us, *ParseTime("2025-06-02T09:20:00Z"));
  EXPECT_EQ(*ParseLine(kEveFlow, &e), LineKind::kSkipped);
}

// Lines exactly as gateway/output/eve.cc writes them (its eve_test.cc).
TEST(ParseLine, EveWriterMetadataKeys) {
  Event e;
  ASSERT_EQ(*ParseLine(
                R"j({"timestamp":"2023-03-24T10:11:12.123456+0000","flow_id":4660,"pcap_cnt":7,"event_type":"alert",)j"
                R"j("src_ip":"10.1.2.3","src_port":53124,"dest_ip":"8.8.8.8","dest_port":53,"proto":"UDP","ip_v":4,)j"
                R"j("community_id":"1:abc","direction":"to_server","alert":{"action":"blocked","gid":1,)j"
                R"j("signature_id":4123736301,"rev":1,"signature":"VIGIE POLICY tiktok list",)j"
                R"j("category":"Potential Corporate Privacy Violation","severity":1,)j"
                R"j("metadata":{"app":["tiktok"],"list":["block"],"rule":["lists/apps/tiktok.list:12"],)j"
                R"j("rule_entry":["tiktok.com"],"reason":["list"],"vigie_action":["block"]}},"app_proto":"dns",)j"
                R"j("dns":{"version":3,"type":"request","id":4242,"queries":[{"rrname":"www.tiktok.com","rrtype":"A"}]}})j",
                &e),
            LineKind::kDecision);
  EXPECT_EQ(e.action, "block");
  EXPECT_EQ(e.app, "tiktok");
  EXPECT_EQ(e.list, "block");
  EXPECT_EQ(e.rule, "tiktok.com");
  EXPECT_EQ(e.reason, "list");
  EXPECT_EQ(e.domain, "www.tiktok.com");
  EXPECT_EQ(e.src_ip, "10.1.2.3");
  EXPECT_EQ(e.ts_us, *ParseTime("2023-03-24T10:11:12.123456Z"));
  ASSERT_EQ(*ParseLine(
                R"j({"timestamp":"1970-01-01T00:00:00.000000+0000","event_type":"drop","src_ip":"2001:db8::1",)j"
                R"j("src_port":40000,"dest_ip":"2001:db8::2","dest_port":443,"proto":"TCP","ip_v":6,)j"
                R"j("direction":"to_server","alert":{"action":"blocked","gid":1,"signature_id":77,"rev":1,)j"
                R"j("signature":"custom","category":"c","severity":3,"metadata":{"exception_id":["press"],)j"
                R"j("exception_ticket":["INC-1"],"exception_reason":["trial"]}},"drop":{"reason":"rules"},)j"
                R"j("app_proto":"tls","tls":{"sni":"x.example","version":"TLS 1.3"}})j",
                &e),
            LineKind::kDecision);
  EXPECT_EQ(e.action, "block");  // a drop, no vigie_action
  EXPECT_EQ(e.exception, "press");
  EXPECT_EQ(e.ticket, "INC-1");
  EXPECT_EQ(e.domain, "x.example");
  EXPECT_EQ(e.proto, "tls");
}

TEST(ParseLine, EveWithoutVigieMetadataAndEachNameSource) {
  Event e;
  // A plain Suricata alert that passed traffic is a log, a blocked one a block.
  ASSERT_TRUE(ParseLine(R"({"timestamp":"2025-06-02T09:00:00.000000+0000","event_type":"alert",)"
                        R"("src_ip":"10.1.1.1","alert":{"action":"allowed"},"tls":{"sni":"a.example"}})",
                        &e)
                  .ok());
  EXPECT_EQ(e.action, "log");
  EXPECT_EQ(e.domain, "a.example");
  EXPECT_EQ(e.proto, "tls");
  ASSERT_TRUE(ParseLine(R"({"timestamp":"2025-06-02T09:00:00.000000+0000","event_type":"alert",)"
                        R"("src_ip":"10.1.1.1","alert":{"action":"blocked"},"http":{"hostname":"h.example"}})",
                        &e)
                  .ok());
  EXPECT_EQ(e.action, "block");
  EXPECT_EQ(e.domain, "h.example");
  EXPECT_EQ(e.proto, "http");
  // DNS v2 form.
  ASSERT_TRUE(ParseLine(R"({"timestamp":"2025-06-02T09:00:00.000000+0000","event_type":"alert",)"
                        R"("src_ip":"10.1.1.1","alert":{"action":"blocked"},"dns":{"rrname":"v2.example"}})",
                        &e)
                  .ok());
  EXPECT_EQ(e.domain, "v2.example");
}

TEST(ParseLine, BadLinesSayWhy) {
  Event e;
  struct Case {
    const char* line;
    const char* why;
  } cases[] = {
      {"{not json", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"foo":1})", "neither a Vigie decision"},
      {R"({"action":"block"})", "no timestamp"},
      {R"({"timestamp":"2025-06-02T09:00:00Z","action":7})", "'action' is not a string"},
      {R"({"timestamp":"yesterday","action":"block"})", "timestamp: 'yesterday'"},
      {R"({"timestamp":"2025-06-02T09:00:00Z","action":""})", "no action"},
      {R"({"timestamp":"2025-06-02T09:00:00+0000","event_type":"alert","src_ip":"1.2.3.4"})",
       "without an alert object"},
      {"{\"timestamp\":\"2025-06-02T09:00:00Z\",\"action\":\"block\",\"domain\":\"\xff\xfe\"}", "not JSON"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<LineKind> r = ParseLine(c.line, &e);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.why)) << c.line;
  }
  EXPECT_EQ(*ParseLine("   ", &e), LineKind::kSkipped);
}

std::vector<std::string> MixedLog() {
  return {kVigieBlockTiktok, kVigieBlockTwitter, kVigieAllowNoMatch, "garbage line",
          kVigieException,   kVigieDotNoApp,     kEveDropInstagram,  kEveFlow,
          kEveLogQuic,       "",                 kVigieBlockTiktok};
}

void ExpectMixedAggregate(const Report& r, const std::string& file) {
  EXPECT_EQ(r.lines, 11u);
  EXPECT_EQ(r.totals.total(), 8u);
  EXPECT_EQ(r.totals.block, 5u);  // tiktok x2, twitter, dot, instagram
  EXPECT_EQ(r.totals.log, 1u);
  EXPECT_EQ(r.totals.allow, 2u);
  EXPECT_EQ(r.skipped, 2u);  // the EVE flow event and the blank line
  EXPECT_EQ(r.vigie_lines, 6u);
  EXPECT_EQ(r.eve_lines, 2u);
  EXPECT_EQ(r.bad_lines, 1u);
  ASSERT_EQ(r.bad.size(), 1u);
  EXPECT_EQ(r.bad[0].where, file + ":4");
  EXPECT_THAT(r.bad[0].why, HasSubstr("not JSON"));
  EXPECT_EQ(r.blocks_per_app, (std::map<std::string, uint64_t>{
                                  {"tiktok", 2}, {"twitter", 1}, {"instagram", 1}, {"(dot)", 1}}));
  ASSERT_TRUE(r.devices.contains("10.20.5.21"));
  const DeviceStats& d = r.devices.at("10.20.5.21");
  EXPECT_EQ(d.counts.block, 3u);
  EXPECT_EQ(d.blocked_apps, (std::map<std::string, uint64_t>{{"tiktok", 2}, {"twitter", 1}}));
  EXPECT_EQ(r.devices.size(), 4u);
  EXPECT_EQ(r.names.at("www.tiktok.com").counts.block, 2u);
  EXPECT_EQ(r.names.at("www.tiktok.com").app, "tiktok");
  EXPECT_FALSE(r.names.contains(""));  // the nameless DoT block
  EXPECT_EQ(r.exceptions, (std::map<ExceptionKey, uint64_t>{{{"press-office-twitter", "SEC-1234", "twitter"}, 1},
                                                             {{"soc-netflix", "SOC-7", "netflix"}, 1}}));
  const int64_t h9 = *ParseTime("2025-06-02T09:00:00Z");
  ASSERT_EQ(r.per_hour.size(), 3u);
  EXPECT_EQ(r.per_hour.at(h9).total(), 4u);  // 09:00, 09:30, the last tiktok, and EVE 11:20+0200
  EXPECT_EQ(r.per_hour.at(h9).log, 1u);
  EXPECT_EQ(r.per_hour.at(h9 + kUsPerHour).total(), 3u);
  EXPECT_EQ(r.per_hour.at(h9 + 2 * kUsPerHour).block, 1u);
  EXPECT_EQ(*r.first_us, *ParseTime("2025-06-02T09:00:00.001Z"));
  EXPECT_EQ(*r.last_us, *ParseTime("2025-06-02T11:11:12.123456Z"));
  auto top = TopDevices(r, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].first, "10.20.5.21");
  EXPECT_EQ(top[1].first, "10.20.5.22");  // 2 blocks (dot, instagram)
}

TEST(ReadLog, AggregatesBothFormats) {
  std::string path = WriteFile("mixed.log", MixedLog());
  Report r;
  ASSERT_TRUE(ReadLog(path, &r).ok());
  ExpectMixedAggregate(r, path);
  std::remove(path.c_str());
}

TEST(ReadLog, GzipGivesTheSameAsPlain) {
  std::string path = WriteGzip("mixed.log.gz", MixedLog());
  ASSERT_EQ(ReadAll(path).substr(0, 2), "\x1f\x8b");
  Report r;
  ASSERT_TRUE(ReadLog(path, &r).ok());
  ExpectMixedAggregate(r, path);
  std::remove(path.c_str());
}

TEST(ReadLog, TruncatedGzipKeepsWhatWasReadAndSaysWhere) {
  std::vector<std::string> lines(2000, kVigieBlockTiktok);
  std::string path = WriteGzip("cut.log.gz", lines);
  std::string bytes = ReadAll(path);
  ASSERT_GT(bytes.size(), 200u);
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 100));
  }
  Report r;
  ASSERT_TRUE(ReadLog(path, &r).ok());
  EXPECT_GT(r.totals.block, 0u);
  EXPECT_LT(r.totals.block, 2000u);
  ASSERT_GE(r.bad_lines, 1u);
  EXPECT_THAT(r.bad.back().why, HasSubstr("gzip"));
  EXPECT_THAT(r.bad.back().where, HasSubstr(path + ":"));
  std::remove(path.c_str());
}

TEST(ReadLog, LongLinesAndManyBadLinesAreBounded) {
  std::vector<std::string> lines;
  lines.push_back(std::string(kMaxLineBytes + 10, 'x'));
  lines.push_back(kVigieBlockTiktok);  // still read after the long line
  for (size_t i = 0; i < kMaxBadLinesKept + 10; ++i) lines.push_back("bad");
  lines.push_back(R"({"timestamp":"2025-06-02T09:00:00Z","action":"log"})");  // no newline below
  std::string path = WriteFile("long.log", lines);
  {
    // Drop the final newline: a last line without one still counts.
    std::string bytes = ReadAll(path);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 1));
  }
  Report r;
  ASSERT_TRUE(ReadLog(path, &r).ok());
  EXPECT_EQ(r.totals.block, 1u);
  EXPECT_EQ(r.totals.log, 1u);
  EXPECT_EQ(r.bad_lines, kMaxBadLinesKept + 11);
  EXPECT_EQ(r.bad.size(), kMaxBadLinesKept);
  EXPECT_EQ(r.bad[0].where, path + ":1");
  EXPECT_THAT(r.bad[0].why, HasSubstr("longer than"));
  EXPECT_EQ(r.bad[1].where, path + ":3");
  std::remove(path.c_str());
}

TEST(ReadLog, MissingFileIsAnErrorNamingIt) {
  Report r;
  absl::Status s = ReadLog("/nonexistent/vigie.log", &r);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("/nonexistent/vigie.log"));
}

TEST(ReadLog, FilterKeepsSinceInclusiveUntilExclusive) {
  std::string path = WriteFile("filter.log", MixedLog());
  Report r;
  r.filter.since_us = *ParseTime("2025-06-02T09:30:00Z");
  r.filter.until_us = *ParseTime("2025-06-02T11:11:12.123456Z");  // the EVE drop: excluded
  ASSERT_TRUE(ReadLog(path, &r).ok());
  // Kept: twitter 09:30, allow 10:05, exception 10:10, dot 10:20. Out: both
  // tiktoks (09:00), the EVE log (11:20+0200 is 09:20Z), the EVE drop (until).
  EXPECT_EQ(r.totals.total(), 4u);
  EXPECT_EQ(r.filtered_out, 4u);
  EXPECT_EQ(r.totals.block, 2u);
  EXPECT_FALSE(r.blocks_per_app.contains("tiktok"));
  std::remove(path.c_str());
}

// Runs the command with `args` (after "report"), standard output captured.
int RunReport(std::vector<std::string> args, std::string* out) {
  args.insert(args.begin(), "report");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  int rc = RunReportCommand(static_cast<int>(argv.size()), argv.data());
  *out = testing::internal::GetCapturedStdout();
  return rc;
}

TEST(RunReportCommand, DateOnlyUntilIncludesThatDay) {
  std::vector<std::string> lines = {
      kVigieBlockTiktok,
      R"({"timestamp":"2025-06-02T23:59:59.999999Z","action":"block","src_ip":"10.0.0.9","app":"snapchat"})",
      R"({"timestamp":"2025-06-03T00:00:00Z","action":"block","src_ip":"10.0.0.9","app":"tinder"})",
      R"({"timestamp":"2025-06-01T23:59:59Z","action":"block","src_ip":"10.0.0.9","app":"signal"})"};
  std::string path = WriteFile("days.log", lines);
  std::string out;
  ASSERT_EQ(RunReport({path, "--since", "2025-06-02", "--until=2025-06-02"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("Vigie report: 2 decisions"));
  EXPECT_THAT(out, HasSubstr("snapchat"));
  EXPECT_THAT(out, Not(HasSubstr("tinder")));
  EXPECT_THAT(out, Not(HasSubstr("signal")));
  EXPECT_THAT(out, HasSubstr("(2 decisions outside)"));
  std::remove(path.c_str());
}

TEST(RunReportCommand, UsageErrors) {
  std::string out;
  EXPECT_EQ(RunReport({}, &out), 2);
  EXPECT_EQ(RunReport({"x.log", "--since", "tomorrow"}, &out), 2);
  EXPECT_EQ(RunReport({"x.log", "--html"}, &out), 2);
  EXPECT_EQ(RunReport({"x.log", "--bogus"}, &out), 2);
  EXPECT_EQ(RunReport({"/nonexistent/x.log"}, &out), 2);
}

constexpr const char* kHostile =
    R"({"timestamp":"2025-06-02T09:00:00Z","action":"block","reason":"list","src_ip":"10.0.0.66\"><b>ip</b>",)"
    R"("domain":"<script>alert(1)</script>.evil.example","app":"x'\"><img src=x onerror=alert(2)>",)"
    R"("exception":"<i>exc</i>","exception_ticket":"T&1"})";

TEST(RenderHtml, EscapesEveryLogString) {
  std::string path = WriteFile("hostile.log", {kHostile, kHostile});
  std::string html_path = TempPath("hostile.html");
  std::string out;
  ASSERT_EQ(RunReport({path, "--html", html_path}, &out), 0);
  std::string html = ReadAll(html_path);
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;.evil.example"));
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("<b>ip")));
  EXPECT_THAT(html, Not(HasSubstr("<i>exc")));
  EXPECT_THAT(html, HasSubstr("T&amp;1"));
  EXPECT_THAT(html, HasSubstr("data-app=\"x&#39;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;\""));
  // Our one inline script, nothing loaded from anywhere.
  size_t scripts = 0;
  for (size_t at = html.find("<script"); at != std::string::npos; at = html.find("<script", at + 1)) ++scripts;
  EXPECT_EQ(scripts, 1u);
  EXPECT_THAT(html, Not(HasSubstr("src=\"http")));
  EXPECT_THAT(html, Not(HasSubstr("href=\"http")));
  EXPECT_THAT(html, Not(HasSubstr("url(")));
  std::remove(path.c_str());
  std::remove(html_path.c_str());
}

TEST(RenderText, ControlBytesFromTheLogAreShownNotSent) {
  Report r;
  Event e;
  ASSERT_TRUE(ParseLine(R"({"timestamp":"2025-06-02T09:00:00Z","action":"block","app":"a",)"
                        R"("src_ip":"10.0.0.1","domain":"x\u001b]0;pwned\u0007\u009b.example"})",
                        &e)
                  .ok());
  r.Add(e);
  std::string text = RenderText(r);
  EXPECT_THAT(text, HasSubstr("x\\x1b]0;pwned\\x07\\x9b.example"));
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(RenderHtml, TotalsChartsAndTablesAreInTheDom) {
  std::string path = WriteFile("dom.log", MixedLog());
  Report r;
  ASSERT_TRUE(ReadLog(path, &r).ok());
  std::string html = RenderHtml(r);
  EXPECT_THAT(html, HasSubstr("data-total-decisions=\"8\""));
  EXPECT_THAT(html, HasSubstr("data-total-blocks=\"5\""));
  EXPECT_THAT(html, HasSubstr("data-total-logs=\"1\""));
  EXPECT_THAT(html, HasSubstr("data-total-allows=\"2\""));
  EXPECT_THAT(html, HasSubstr("data-total-bad-lines=\"1\""));
  EXPECT_THAT(html, HasSubstr("data-total-exception-uses=\"2\""));
  EXPECT_THAT(html, HasSubstr("<svg id=\"chart-timeline\""));
  EXPECT_THAT(html, HasSubstr("<svg id=\"chart-apps\""));
  EXPECT_THAT(html, HasSubstr("<svg id=\"chart-devices\""));
  // Three hours in a row: continuous hourly bars.
  EXPECT_THAT(html, HasSubstr("data-unit=\"hour\" data-sparse=\"0\" data-bars=\"3\""));
  EXPECT_THAT(html, HasSubstr("<g class=\"hbar\" data-app=\"tiktok\" data-value=\"2\">"));
  EXPECT_THAT(html, HasSubstr("<g class=\"hbar\" data-device=\"10.20.5.21\" data-value=\"3\">"));
  EXPECT_THAT(html, HasSubstr("<tr data-exception=\"press-office-twitter\"><td>press-office-twitter</td><td>"
                              "SEC-1234</td>"));
  EXPECT_THAT(html, HasSubstr("data-bad-lines=\"1\""));
  std::remove(path.c_str());
}

TEST(RenderHtml, TimelineBucketsStayBounded) {
  Report r;
  Event e;
  e.action = "block";
  // Two busy days a year apart: hours with decisions only, gaps marked.
  for (int64_t day : {0, 365}) {
    for (int h = 0; h < 24; ++h) {
      e.ts_us = *ParseTime("2024-01-01") + day * kUsPerDay + h * kUsPerHour;
      r.Add(e);
    }
  }
  std::string html = RenderHtml(r);
  EXPECT_THAT(html, HasSubstr("data-unit=\"hour\" data-sparse=\"1\" data-bars=\"48\""));
  EXPECT_THAT(html, HasSubstr("class=\"gap\""));
  // A decision every hour for 30 days: 720 hours > kMaxTimelineBars, so days.
  Report month;
  for (int h = 0; h < 30 * 24; ++h) {
    e.ts_us = *ParseTime("2024-03-01") + h * kUsPerHour;
    month.Add(e);
  }
  EXPECT_THAT(RenderHtml(month), HasSubstr("data-unit=\"day\" data-sparse=\"0\" data-bars=\"30\""));
  // No decisions at all still gives the three charts.
  std::string empty = RenderHtml(Report());
  EXPECT_THAT(empty, HasSubstr("<svg id=\"chart-timeline\""));
  EXPECT_THAT(empty, HasSubstr("<svg id=\"chart-apps\""));
  EXPECT_THAT(empty, HasSubstr("<svg id=\"chart-devices\""));
  EXPECT_THAT(empty, HasSubstr("data-total-decisions=\"0\""));
}

}  // namespace
}  // namespace vigie::report
