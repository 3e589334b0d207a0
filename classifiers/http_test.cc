#include "classifiers/http.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/testing/builders.h"
#include "gtest/gtest.h"

namespace vigie {
namespace {

using namespace std::string_view_literals;
using testing::Bytes;

constexpr int kNoPort = -1;

// Every parse gets an exact-size heap copy, so a read past the end is caught by ASan.
Bytes Copy(std::string_view s) { return Bytes(s.begin(), s.end()); }

bool Within(std::string_view v, const Bytes& buf) {
  if (v.empty()) return true;
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  return p >= buf.data() && p + v.size() <= buf.data() + buf.size();
}

void ExpectSameInfo(const HttpRequestInfo& a, const HttpRequestInfo& b) {
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.port, b.port);
  EXPECT_EQ(a.has_port, b.has_port);
  EXPECT_EQ(a.absolute_form, b.absolute_form);
  EXPECT_EQ(a.host_header, b.host_header);
  EXPECT_EQ(a.has_host_header, b.has_host_header);
  EXPECT_EQ(a.version_minor, b.version_minor);
  EXPECT_EQ(a.header_bytes, b.header_bytes);
}

struct Case {
  const char* name;
  std::string_view request;
  ParseStatus status;
  HttpMalformed error;
  std::string_view host;  // expected out->host (also checked for kMalformed)
  int port;               // kNoPort: has_port false
};

constexpr ParseStatus kOk = ParseStatus::kOk;
constexpr ParseStatus kBad = ParseStatus::kMalformed;
constexpr HttpMalformed kNone = HttpMalformed::kNone;

// Query -> answer (STYLE.md 5).
const Case kCases[] = {
    // --- the Host field ---
    {"simple", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", kOk, kNone, "example.com", kNoPort},
    {"with_port", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", kOk, kNone, "example.com", 8080},
    {"port_65535", "GET / HTTP/1.1\r\nHost: a.example:65535\r\n\r\n", kOk, kNone, "a.example", 65535},
    {"port_0", "GET / HTTP/1.1\r\nHost: a.example:0\r\n\r\n", kOk, kNone, "a.example", 0},
    {"empty_port", "GET / HTTP/1.1\r\nHost: a.example:\r\n\r\n", kOk, kNone, "a.example", kNoPort},
    {"mixed_case_name", "GET / HTTP/1.1\r\nhOsT: Example.COM\r\n\r\n", kOk, kNone, "Example.COM", kNoPort},
    {"no_ows", "GET / HTTP/1.1\r\nhost:example.com\r\n\r\n", kOk, kNone, "example.com", kNoPort},
    {"ows_trimmed", "GET / HTTP/1.1\r\nHost: \t example.com \t \r\n\r\n", kOk, kNone, "example.com", kNoPort},
    {"host_not_first", "GET /a?b=c HTTP/1.1\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\nHost: x.example\r\n\r\n",
     kOk, kNone, "x.example", kNoPort},
    {"ipv4", "GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n", kOk, kNone, "192.0.2.1", 80},
    {"ipv6_port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", kOk, kNone, "::1", 8080},
    {"ipv6_no_port", "GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n", kOk, kNone, "2001:db8::1", kNoPort},
    {"ipv6_zone", "GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]:80\r\n\r\n", kOk, kNone, "fe80::1%25eth0", 80},
    {"empty_host_1_1", "GET / HTTP/1.1\r\nHost:\r\n\r\n", kOk, kNone, "", kNoPort},  // RFC 9110 §7.2
    {"bare_lf", "GET / HTTP/1.1\nHost: a.example\n\n", kOk, kNone, "a.example", kNoPort},
    {"mixed_line_ends", "GET / HTTP/1.1\r\nHost: a.example\n\r\n", kOk, kNone, "a.example", kNoPort},
    {"body_ignored", "POST /f HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\nabc", kOk, kNone,
     "a.example", kNoPort},
    {"empty_value_other", "GET / HTTP/1.1\r\nX-Empty:\r\nHost: a.example\r\n\r\n", kOk, kNone, "a.example",
     kNoPort},
    {"obs_text_value", "GET / HTTP/1.1\r\nUser-Agent: caf\xc3\xa9\r\nHost: a.example\r\n\r\n", kOk, kNone,
     "a.example", kNoPort},
    {"http_1_0_no_host", "GET / HTTP/1.0\r\n\r\n", kOk, kNone, "", kNoPort},
    {"http_1_0_host", "GET / HTTP/1.0\r\nHost: a.example\r\n\r\n", kOk, kNone, "a.example", kNoPort},
    // --- methods ---
    {"lower_case_method", "get / HTTP/1.1\r\nHost: a.example\r\n\r\n", kOk, kNone, "a.example", kNoPort},
    {"propfind", "PROPFIND /d HTTP/1.1\r\nHost: dav.example\r\n\r\n", kOk, kNone, "dav.example", kNoPort},
    {"method_16", "BASELINE-CONTROL / HTTP/1.1\r\nHost: a.example\r\n\r\n", kOk, kNone, "a.example", kNoPort},
    {"method_17", "UPDATEREDIRECTREF / HTTP/1.1\r\nHost: a.example\r\n\r\n", kBad, HttpMalformed::kNotHttp, "",
     kNoPort},
    {"options_star", "OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n", kOk, kNone, "a.example", kNoPort},
    {"get_star", "GET * HTTP/1.1\r\nHost: a.example\r\n\r\n", kBad, HttpMalformed::kBadRequestLine, "",
     kNoPort},
    // --- absolute-form (RFC 9112 §3.2.2): the target wins ---
    {"absolute", "GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n", kOk, kNone, "a.example",
     kNoPort},
    {"absolute_wins", "GET http://real.example:8080/x HTTP/1.1\r\nHost: decoy.example\r\n\r\n", kOk, kNone,
     "real.example", 8080},
    {"absolute_no_path", "GET http://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n", kOk, kNone, "a.example",
     kNoPort},
    {"absolute_query", "GET http://a.example?q HTTP/1.1\r\nHost: a.example\r\n\r\n", kOk, kNone, "a.example",
     kNoPort},
    {"absolute_scheme_case", "GET HTTP://A.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n", kOk, kNone,
     "A.example", kNoPort},
    {"absolute_ipv6", "GET http://[2001:db8::2]:81/ HTTP/1.1\r\nHost: x\r\n\r\n", kOk, kNone, "2001:db8::2",
     81},
    {"absolute_1_0_no_host", "GET http://a.example/ HTTP/1.0\r\n\r\n", kOk, kNone, "a.example", kNoPort},
    {"absolute_1_1_no_host", "GET http://a.example/ HTTP/1.1\r\n\r\n", kBad, HttpMalformed::kNoHost,
     "a.example", kNoPort},
    {"absolute_userinfo", "GET http://ok.example@evil.example/ HTTP/1.1\r\nHost: ok.example\r\n\r\n", kBad,
     HttpMalformed::kBadRequestLine, "", kNoPort},
    {"absolute_empty_authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", kBad,
     HttpMalformed::kBadRequestLine, "", kNoPort},
    {"absolute_backslash", "GET http://evil.example\\.good.example/ HTTP/1.1\r\nHost: a\r\n\r\n", kBad,
     HttpMalformed::kBadRequestLine, "", kNoPort},
    {"absolute_bad_port", "GET http://a.example:99999/ HTTP/1.1\r\nHost: a\r\n\r\n", kBad,
     HttpMalformed::kBadRequestLine, "", kNoPort},
    {"relative_target", "GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", kBad, HttpMalformed::kBadRequestLine, "",
     kNoPort},
    // --- CONNECT (authority-form) ---
    {"connect", "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", kOk, kNone, "a.example", 443},
    {"connect_target_wins", "CONNECT a.example:443 HTTP/1.1\r\nHost: b.example\r\n\r\n", kOk, kNone,
     "a.example", 443},
    {"connect_ipv6", "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n", kOk, kNone,
     "2001:db8::1", 443},
    {"connect_1_0", "CONNECT a.example:443 HTTP/1.0\r\n\r\n", kOk, kNone, "a.example", 443},
    {"connect_no_port", "CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n", kBad,
     HttpMalformed::kBadRequestLine, "", kNoPort},
    {"connect_origin_form", "CONNECT / HTTP/1.1\r\nHost: a.example\r\n\r\n", kBad,
     HttpMalformed::kBadRequestLine, "", kNoPort},
    {"connect_userinfo", "CONNECT u@a.example:443 HTTP/1.1\r\nHost: a.example\r\n\r\n", kBad,
     HttpMalformed::kBadRequestLine, "", kNoPort},
    // --- Host faults ---
    {"no_host_1_1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", kBad, HttpMalformed::kNoHost, "", kNoPort},
    {"no_host_1_2", "GET / HTTP/1.2\r\n\r\n", kBad, HttpMalformed::kNoHost, "", kNoPort},
    {"duplicate_host", "GET / HTTP/1.1\r\nHost: first.example\r\nHost: second.example\r\n\r\n", kBad,
     HttpMalformed::kDuplicateHost, "first.example", kNoPort},
    {"duplicate_host_case", "GET / HTTP/1.1\r\nHost: first.example:81\r\nX: y\r\nHOST: first.example\r\n\r\n",
     kBad, HttpMalformed::kDuplicateHost, "first.example", 81},
    {"duplicate_host_1_0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", kBad, HttpMalformed::kDuplicateHost,
     "a", kNoPort},
    {"duplicate_host_empty", "GET / HTTP/1.1\r\nHost:\r\nHost: b\r\n\r\n", kBad, HttpMalformed::kDuplicateHost,
     "", kNoPort},
    {"host_space_inside", "GET / HTTP/1.1\r\nHost: a example\r\n\r\n", kBad, HttpMalformed::kBadHeader, "",
     kNoPort},
    {"host_slash", "GET / HTTP/1.1\r\nHost: a.example/x\r\n\r\n", kBad, HttpMalformed::kBadHeader, "", kNoPort},
    {"host_userinfo", "GET / HTTP/1.1\r\nHost: u@a.example\r\n\r\n", kBad, HttpMalformed::kBadHeader, "",
     kNoPort},
    {"host_port_too_big", "GET / HTTP/1.1\r\nHost: a.example:65536\r\n\r\n", kBad, HttpMalformed::kBadHeader,
     "", kNoPort},
    {"host_port_not_digits", "GET / HTTP/1.1\r\nHost: a.example:8o\r\n\r\n", kBad, HttpMalformed::kBadHeader,
     "", kNoPort},
    {"host_only_port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", kBad, HttpMalformed::kBadHeader, "", kNoPort},
    {"host_ipv6_unclosed", "GET / HTTP/1.1\r\nHost: [::1:80\r\n\r\n", kBad, HttpMalformed::kBadHeader, "",
     kNoPort},
    {"host_ipv6_unbracketed", "GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", kBad, HttpMalformed::kBadHeader, "",
     kNoPort},
    {"host_ipv6_junk_after", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", kBad, HttpMalformed::kBadHeader, "",
     kNoPort},
    {"host_ipv6_empty", "GET / HTTP/1.1\r\nHost: []:80\r\n\r\n", kBad, HttpMalformed::kBadHeader, "", kNoPort},
    // --- field-line faults (RFC 9112 §5) ---
    // Invalid field lines are ignored, as nginx does (ignore_invalid_headers).
    {"obs_fold_ignored", "GET / HTTP/1.1\r\nHost: a.example\r\nX-Long: one\r\n two\r\n\r\n", kOk, kNone,
     "a.example", kNoPort},
    {"obs_fold_tab_ignored", "GET / HTTP/1.1\r\nX-Long: one\r\n\ttwo\r\nHost: a\r\n\r\n", kOk, kNone, "a",
     kNoPort},
    {"space_after_request_line", "GET / HTTP/1.1\r\n Host: a.example\r\n\r\n", kBad, HttpMalformed::kNoHost,
     "", kNoPort},
    {"space_before_colon", "GET / HTTP/1.1\r\nHost : a.example\r\n\r\n", kBad, HttpMalformed::kNoHost, "",
     kNoPort},
    {"no_colon", "GET / HTTP/1.1\r\nHost a.example\r\n\r\n", kBad, HttpMalformed::kNoHost, "", kNoPort},
    {"empty_name_ignored", "GET / HTTP/1.1\r\n: x\r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"bad_name_ignored", "GET / HTTP/1.1\r\nX(y): z\r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"nul_in_value", "GET / HTTP/1.1\r\nX: a\0b\r\nHost: a\r\n\r\n"sv, kBad, HttpMalformed::kBadHeader, "",
     kNoPort},
    {"nul_in_host", "GET / HTTP/1.1\r\nHost: a\0.example\r\n\r\n"sv, kBad, HttpMalformed::kBadHeader, "",
     kNoPort},
    {"bare_cr_in_field", "GET / HTTP/1.1\r\nX: a\rb\r\nHost: a\r\n\r\n", kBad, HttpMalformed::kBadHeader, "",
     kNoPort},
    {"bare_cr_end", "GET / HTTP/1.1\r\nHost: a\r\n\rX", kBad, HttpMalformed::kBadHeader, "a", kNoPort},
    // --- request-line faults (RFC 9112 §3) ---
    {"bare_cr_request_line", "GET / HTTP/1.1\rHost: a\r\n\r\n", kBad, HttpMalformed::kBadRequestLine, "",
     kNoPort},
    {"double_space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"many_spaces", "GET    /x    HTTP/1.1\r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"tab_separator", "GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"tab_after_method", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"version_leading_zero", "GET / HTTP/01.1\r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"version_four_digits", "GET / HTTP/1.1000\r\nHost: a\r\n\r\n", kBad, HttpMalformed::kBadRequestLine, "",
     kNoPort},
    {"version_no_minor", "GET / HTTP/1.\r\nHost: a\r\n\r\n", kBad, HttpMalformed::kBadRequestLine, "", kNoPort},
    {"version_major_2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", kBad, HttpMalformed::kBadRequestLine, "", kNoPort},
    {"http_0_9", "GET /\r\n", kBad, HttpMalformed::kBadRequestLine, "", kNoPort},
    {"lower_case_version", "GET / http/1.1\r\nHost: a\r\n\r\n", kBad, HttpMalformed::kBadRequestLine, "",
     kNoPort},
    {"http_2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", kBad, HttpMalformed::kBadRequestLine, "", kNoPort},
    {"version_two_digits", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"space_after_version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"del_in_target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", kBad, HttpMalformed::kBadRequestLine, "",
     kNoPort},
    // --- not HTTP at all ---
    {"tls_record", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"sv, kBad, HttpMalformed::kNotHttp, "", kNoPort},
    {"leading_crlf", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"leading_lf_lines", "\n\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", kOk, kNone, "a", kNoPort},
    {"leading_space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", kBad, HttpMalformed::kNotHttp, "", kNoPort},
    {"ssh_banner", "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", kBad, HttpMalformed::kNotHttp, "", kNoPort},
    {"nul_first", "\0\0\0\0"sv, kBad, HttpMalformed::kNotHttp, "", kNoPort},
};

class HttpTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(HttpTableTest, QueryToAnswer) {
  const Case& c = GetParam();
  const Bytes buf = Copy(c.request);
  HttpRequestInfo info;
  const HttpParseResult r = ParseHttpRequest(buf, &info);
  EXPECT_EQ(ParseStatusName(r.status), ParseStatusName(c.status));
  EXPECT_STREQ(HttpMalformedName(r.error), HttpMalformedName(c.error));
  EXPECT_EQ(info.host, c.host);
  EXPECT_EQ(info.has_port, c.port != kNoPort);
  EXPECT_EQ(info.port, c.port == kNoPort ? 0 : c.port);
  EXPECT_TRUE(Within(info.method, buf));
  EXPECT_TRUE(Within(info.target, buf));
  EXPECT_TRUE(Within(info.host, buf));
  EXPECT_TRUE(Within(info.host_header, buf));
}

// Cut at every byte: kNeedMore until the head is complete, then the same verdict
// (and for kOk the same facts) as the whole request; a malformed request may be
// rejected early, but only with its final code, and stays rejected.
TEST_P(HttpTableTest, CutAtEveryByte) {
  const Case& c = GetParam();
  const Bytes whole = Copy(c.request);
  HttpRequestInfo want;
  const HttpParseResult want_r = ParseHttpRequest(whole, &want);
  bool decided = false;
  for (size_t n = 0; n <= c.request.size(); ++n) {
    SCOPED_TRACE(n);
    const Bytes prefix = Copy(c.request.substr(0, n));
    HttpRequestInfo info;
    const HttpParseResult r = ParseHttpRequest(prefix, &info);
    if (r.status == ParseStatus::kNeedMore) {
      ASSERT_FALSE(decided) << "kNeedMore after a verdict";
      ASSERT_EQ(r.error, HttpMalformed::kNone);
      if (c.status == ParseStatus::kOk) {
        ASSERT_LT(n, want.header_bytes);
      }
      continue;
    }
    decided = true;
    ASSERT_EQ(r.status, want_r.status);
    ASSERT_EQ(r.error, want_r.error);
    if (r.status == ParseStatus::kOk) {
      ASSERT_GE(n, want.header_bytes);
      ExpectSameInfo(info, want);
    }
  }
  EXPECT_TRUE(decided);
}

INSTANTIATE_TEST_SUITE_P(Http, HttpTableTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.name); });

TEST(HttpTest, FactsOfASimpleRequest) {
  const std::string_view req = "GET /index.html?x=1 HTTP/1.1\r\nHost: Example.com:8080 \r\nAccept: */*\r\n\r\n";
  const Bytes buf = Copy(req);
  HttpRequestInfo info;
  const HttpParseResult r = ParseHttpRequest(buf, &info);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.error, HttpMalformed::kNone);
  EXPECT_EQ(info.method, "GET");
  EXPECT_EQ(info.target, "/index.html?x=1");
  EXPECT_EQ(info.host, "Example.com");
  EXPECT_EQ(info.port, 8080);
  EXPECT_TRUE(info.has_port);
  EXPECT_FALSE(info.absolute_form);
  EXPECT_EQ(info.host_header, "Example.com:8080");
  EXPECT_TRUE(info.has_host_header);
  EXPECT_EQ(info.version_minor, 1);
  EXPECT_EQ(info.header_bytes, req.size());
}

TEST(HttpTest, AbsoluteFormKeepsHostHeaderApart) {
  const Bytes buf = Copy("GET http://real.example/p HTTP/1.1\r\nHost: decoy.example:80\r\n\r\n");
  HttpRequestInfo info;
  ASSERT_EQ(ParseHttpRequest(buf, &info).status, ParseStatus::kOk);
  EXPECT_TRUE(info.absolute_form);
  EXPECT_EQ(info.target, "http://real.example/p");
  EXPECT_EQ(info.host, "real.example");
  EXPECT_FALSE(info.has_port);
  EXPECT_EQ(info.host_header, "decoy.example:80");  // the mismatch stays visible
}

TEST(HttpTest, ConnectFacts) {
  const Bytes buf = Copy("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nProxy-Connection: keep-alive\r\n\r\n");
  HttpRequestInfo info;
  ASSERT_EQ(ParseHttpRequest(buf, &info).status, ParseStatus::kOk);
  EXPECT_EQ(info.method, "CONNECT");
  EXPECT_FALSE(info.absolute_form);
  EXPECT_EQ(info.host, "::1");
  EXPECT_EQ(info.port, 8443);
  EXPECT_TRUE(info.has_port);
}

TEST(HttpTest, HttpOneZeroWithoutHost) {
  const Bytes buf = Copy("HEAD / HTTP/1.0\r\nUser-Agent: x\r\n\r\n");
  HttpRequestInfo info;
  const HttpParseResult r = ParseHttpRequest(buf, &info);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(info.version_minor, 0);
  EXPECT_TRUE(info.host.empty());
  EXPECT_FALSE(info.has_host_header);
}

TEST(HttpTest, NoHostStillReportsHeadLength) {
  const std::string_view req = "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n";
  const Bytes buf = Copy(req);
  HttpRequestInfo info;
  const HttpParseResult r = ParseHttpRequest(buf, &info);
  ASSERT_EQ(r.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.error, HttpMalformed::kNoHost);
  EXPECT_EQ(info.header_bytes, req.size());
  EXPECT_EQ(info.method, "GET");
}

// A Host field split over TCP segments is just a longer stream.
TEST(HttpTest, HostAcrossSegments) {
  const std::vector<std::string_view> segments = {"GET / HTTP/1.1\r\nHo", "st: exa", "mple.c", "om:8", "1\r",
                                                  "\n\r", "\n"};
  std::string stream;
  for (size_t i = 0; i < segments.size(); ++i) {
    stream += segments[i];
    const Bytes buf = Copy(stream);
    HttpRequestInfo info;
    const HttpParseResult r = ParseHttpRequest(buf, &info);
    if (i + 1 < segments.size()) {
      EXPECT_EQ(r.status, ParseStatus::kNeedMore) << i;
    } else {
      ASSERT_EQ(r.status, ParseStatus::kOk);
      EXPECT_EQ(info.host, "example.com");
      EXPECT_EQ(info.port, 81);
    }
  }
}

TEST(HttpTest, ViewsPointIntoTheStream) {
  const Bytes buf = Copy("GET http://a.example:81/x HTTP/1.1\r\nHost: b.example\r\n\r\n");
  HttpRequestInfo info;
  ASSERT_EQ(ParseHttpRequest(buf, &info).status, ParseStatus::kOk);
  EXPECT_TRUE(Within(info.method, buf));
  EXPECT_TRUE(Within(info.target, buf));
  EXPECT_TRUE(Within(info.host, buf));
  EXPECT_TRUE(Within(info.host_header, buf));
  EXPECT_EQ(reinterpret_cast<const uint8_t*>(info.host.data()), buf.data() + 11);
}

// A head of exactly `total` bytes: request line, one filler field, Host, empty line.
std::string HeadOfSize(size_t total) {
  const std::string start = "GET / HTTP/1.1\r\nHost: a.example\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(total - start.size() - end.size(), 'p') + end;
}

// Boundary pair (STYLE.md 11): kMaxHttpHeaderBytes fits, one more byte does not.
TEST(HttpTest, HeaderSizeBoundary) {
  {
    const Bytes buf = Copy(HeadOfSize(kMaxHttpHeaderBytes) + "body");
    HttpRequestInfo info;
    const HttpParseResult r = ParseHttpRequest(buf, &info);
    ASSERT_EQ(r.status, ParseStatus::kOk);
    EXPECT_EQ(info.header_bytes, kMaxHttpHeaderBytes);
    EXPECT_EQ(info.host, "a.example");
  }
  {
    const std::string req = HeadOfSize(kMaxHttpHeaderBytes + 1);
    HttpRequestInfo info;
    EXPECT_EQ(ParseHttpRequest(Copy(req.substr(0, kMaxHttpHeaderBytes - 1)), &info).status,
              ParseStatus::kNeedMore);
    const HttpParseResult r = ParseHttpRequest(Copy(req), &info);
    EXPECT_EQ(r.status, ParseStatus::kMalformed);
    EXPECT_EQ(r.error, HttpMalformed::kTooLarge);
    // Already decided once the cap is reached, before the (late) end arrives.
    const HttpParseResult at_cap = ParseHttpRequest(Copy(req.substr(0, kMaxHttpHeaderBytes)), &info);
    EXPECT_EQ(at_cap.error, HttpMalformed::kTooLarge);
  }
  {
    // Bare-LF boundary: the last LF is byte kMaxHttpHeaderBytes.
    std::string req = "GET / HTTP/1.1\nHost: a\nX: ";
    req += std::string(kMaxHttpHeaderBytes - req.size() - 2, 'p') + "\n\n";
    ASSERT_EQ(req.size(), kMaxHttpHeaderBytes);
    HttpRequestInfo info;
    EXPECT_EQ(ParseHttpRequest(Copy(req), &info).status, ParseStatus::kOk);
  }
}

TEST(HttpTest, TooLargeWithoutEnd) {
  const std::string junk = "GET /" + std::string(kMaxHttpHeaderBytes * 2, 'a');
  HttpRequestInfo info;
  EXPECT_EQ(ParseHttpRequest(Copy(std::string_view(junk).substr(0, kMaxHttpHeaderBytes - 1)), &info).status,
            ParseStatus::kNeedMore);
  const HttpParseResult r = ParseHttpRequest(Copy(junk), &info);
  EXPECT_EQ(r.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.error, HttpMalformed::kTooLarge);
}

// A TLS ClientHello on port 80 is rejected on its first byte.
TEST(HttpTest, NotHttpAtOnce) {
  const Bytes tls = {0x16};
  HttpRequestInfo info;
  const HttpParseResult r = ParseHttpRequest(tls, &info);
  EXPECT_EQ(r.status, ParseStatus::kMalformed);
  EXPECT_EQ(r.error, HttpMalformed::kNotHttp);
  const HttpParseResult empty = ParseHttpRequest(Bytes{}, &info);
  EXPECT_EQ(empty.status, ParseStatus::kNeedMore);
  // 16 tchars may still be a method; the 17th proves otherwise.
  EXPECT_EQ(ParseHttpRequest(Copy("ABCDEFGHIJKLMNOP"), &info).status, ParseStatus::kNeedMore);
  EXPECT_EQ(ParseHttpRequest(Copy("ABCDEFGHIJKLMNOPQ"), &info).error, HttpMalformed::kNotHttp);
}

TEST(HttpTest, LooksLikeHttpRequest) {
  struct {
    std::string_view prefix;
    bool want;
  } const cases[] = {
      {"GET ", true},
      {"GET / HTTP/1.1\r\n", true},
      {"PROPFIND /", true},
      {"get ", true},
      {"BASELINE-CONTROL ", true},
      {"UPDATEREDIRECTREF ", false},
      {"GET", false},  // too short to tell
      {"", false},
      {" GET ", false},
      {"GET\t/", true},
      {"\r\n\r\nGET ", true},
      {"\r\n", false},
      {"\x16\x03\x01\x00\xa5\x01"sv, false},
      {"SSH-2.0-OpenSSH_9.2p1 Debian", false},
      {"\r\nGET ", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(LooksLikeHttpRequest(Copy(c.prefix)), c.want) << c.prefix;
  }
}

TEST(HttpTest, MalformedNames) {
  EXPECT_STREQ(HttpMalformedName(HttpMalformed::kNone), "none");
  EXPECT_STREQ(HttpMalformedName(HttpMalformed::kNotHttp), "not_http");
  EXPECT_STREQ(HttpMalformedName(HttpMalformed::kTooLarge), "too_large");
  EXPECT_STREQ(HttpMalformedName(HttpMalformed::kBadRequestLine), "bad_request_line");
  EXPECT_STREQ(HttpMalformedName(HttpMalformed::kBadHeader), "bad_header");
  EXPECT_STREQ(HttpMalformedName(HttpMalformed::kNoHost), "no_host");
  EXPECT_STREQ(HttpMalformedName(HttpMalformed::kDuplicateHost), "duplicate_host");
}

// Differential check on mutated requests (STYLE.md 12): every prefix of a stream gives
// kNeedMore until a verdict, and then that same verdict (and facts, for kOk); the
// whole stream never reads outside its exact-size copy.
TEST(HttpTest, MutatedRequestsAreMonotonic) {
  std::mt19937 rng(20240611);
  const std::string_view alphabet = "GET /:HhOoSsTt[]@\r\n \t\0\x16.8"sv;
  int verdicts[3] = {0, 0, 0};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s(kCases[rng() % std::size(kCases)].request);
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = rng() % s.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          s[at] = c;
          break;
        case 1:
          s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          s.erase(at, 1);
      }
    }
    SCOPED_TRACE(s);
    const Bytes whole = Copy(s);
    HttpRequestInfo want;
    const HttpParseResult want_r = ParseHttpRequest(whole, &want);
    ++verdicts[static_cast<int>(want_r.status)];
    bool decided = false;
    for (size_t n = 0; n <= s.size(); ++n) {
      const Bytes prefix = Copy(std::string_view(s).substr(0, n));
      HttpRequestInfo info;
      const HttpParseResult r = ParseHttpRequest(prefix, &info);
      if (r.status == ParseStatus::kNeedMore) {
        ASSERT_FALSE(decided) << n;
        continue;
      }
      decided = true;
      ASSERT_EQ(r.status, want_r.status) << n;
      ASSERT_EQ(r.error, want_r.error) << n;
      if (r.status == ParseStatus::kOk) {
        ASSERT_TRUE(Within(info.host, prefix));
        ASSERT_EQ(info.host, want.host);
        ASSERT_EQ(info.port, want.port);
        ASSERT_EQ(info.header_bytes, want.header_bytes);
      }
    }
  }
  // The mutations reach all three verdicts.
  EXPECT_GT(verdicts[static_cast<int>(ParseStatus::kOk)], 0);
  EXPECT_GT(verdicts[static_cast<int>(ParseStatus::kNeedMore)], 0);
  EXPECT_GT(verdicts[static_cast<int>(ParseStatus::kMalformed)], 0);
}

}  // namespace
}  // namespace vigie

namespace vigie {
namespace {

HttpRequestInfo ParseOk(const Bytes& buf, HttpMalformed want = HttpMalformed::kNone) {
  HttpRequestInfo info;
  const HttpParseResult r = ParseHttpRequest(buf, &info);
  EXPECT_EQ(r.status, want == HttpMalformed::kNone ? ParseStatus::kOk : ParseStatus::kMalformed);
  EXPECT_EQ(r.error, want) << HttpMalformedName(r.error);
  return info;
}

TEST(HttpTest, LeadingEmptyLinesCountInHeaderBytes) {
  const std::string_view req = "\r\n\n\r\nGET / HTTP/1.1\r\nHost: a.example\r\n\r\nNEXT";
  const Bytes buf = Copy(req);
  const HttpRequestInfo info = ParseOk(buf);
  EXPECT_EQ(info.leading_bytes, 5u);
  EXPECT_EQ(info.method, "GET");
  EXPECT_EQ(info.header_bytes, req.size() - 4);
  EXPECT_EQ(info.framing, HttpBodyFraming::kNone);
  // Only empty lines so far: wait.
  HttpRequestInfo w;
  EXPECT_EQ(ParseHttpRequest(Copy("\r\n\r\n"), &w).status, ParseStatus::kNeedMore);
}

TEST(HttpTest, DoubleSpacesInRequestLine) {
  const Bytes buf = Copy("GET  http://www.tiktok.com/   HTTP/1.1  \r\nHost: www.tiktok.com\r\n\r\n");
  const HttpRequestInfo info = ParseOk(buf);
  EXPECT_EQ(info.target, "http://www.tiktok.com/");
  EXPECT_EQ(info.host, "www.tiktok.com");
  EXPECT_TRUE(info.absolute_form);
}

struct FramingCase {
  const char* name;
  std::string_view fields;
  HttpBodyFraming framing;
  uint64_t length;
  uint8_t flags;
};

const FramingCase kFraming[] = {
    {"none", "", HttpBodyFraming::kNone, 0, 0},
    {"content_length", "Content-Length: 12\r\n", HttpBodyFraming::kContentLength, 12, 0},
    {"content_length_zero", "content-length:0\r\n", HttpBodyFraming::kContentLength, 0, 0},
    {"chunked", "Transfer-Encoding: chunked\r\n", HttpBodyFraming::kChunked, 0, 0},
    {"chunked_case", "Transfer-Encoding: gzip, CHUNKED\r\n", HttpBodyFraming::kChunked, 0, 0},
    {"chunked_params", "Transfer-Encoding: gzip;q=1 , chunked\r\n", HttpBodyFraming::kChunked, 0, 0},
    {"cl_and_te", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", HttpBodyFraming::kChunked, 5,
     kHttpFramingContentLengthAndChunked},
    {"te_and_cl", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", HttpBodyFraming::kChunked, 5,
     kHttpFramingContentLengthAndChunked},
    {"duplicate_cl_same", "Content-Length: 5\r\nContent-Length: 5\r\n", HttpBodyFraming::kContentLength, 5,
     kHttpFramingDuplicateContentLength},
    {"cl_list_same", "Content-Length: 5, 5\r\n", HttpBodyFraming::kContentLength, 5,
     kHttpFramingDuplicateContentLength},
    {"conflicting_cl", "Content-Length: 5\r\nContent-Length: 50\r\n", HttpBodyFraming::kUnknown, 5,
     kHttpFramingDuplicateContentLength | kHttpFramingConflictingContentLength},
    {"conflicting_cl_list", "Content-Length: 5, 6\r\n", HttpBodyFraming::kUnknown, 5,
     kHttpFramingConflictingContentLength},
    {"bad_cl_sign", "Content-Length: +5\r\n", HttpBodyFraming::kUnknown, 0, kHttpFramingBadContentLength},
    {"bad_cl_hex", "Content-Length: 0x10\r\n", HttpBodyFraming::kUnknown, 0, kHttpFramingBadContentLength},
    {"bad_cl_empty", "Content-Length:\r\n", HttpBodyFraming::kUnknown, 0, kHttpFramingBadContentLength},
    {"cl_max", "Content-Length: 9223372036854775807\r\n", HttpBodyFraming::kContentLength,
     kMaxHttpContentLength, 0},
    {"cl_overflow", "Content-Length: 9223372036854775808\r\n", HttpBodyFraming::kUnknown, 0,
     kHttpFramingBadContentLength},
    {"te_not_chunked", "Transfer-Encoding: gzip\r\n", HttpBodyFraming::kUnknown, 0,
     kHttpFramingBadTransferEncoding},
    {"te_chunked_twice", "Transfer-Encoding: chunked, chunked\r\n", HttpBodyFraming::kChunked, 0,
     kHttpFramingBadTransferEncoding},
    {"te_chunked_not_last", "Transfer-Encoding: chunked, gzip\r\n", HttpBodyFraming::kUnknown, 0,
     kHttpFramingBadTransferEncoding},
    {"te_repeated", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", HttpBodyFraming::kChunked, 0,
     kHttpFramingDuplicateTransferEncoding},
    {"te_space_before_colon", "Transfer-Encoding : chunked\r\nContent-Length: 3\r\n",
     HttpBodyFraming::kContentLength, 3, kHttpFramingOddFieldLine},
    {"cl_tab_name", "Content-Length\t: 3\r\n", HttpBodyFraming::kNone, 0, kHttpFramingOddFieldLine},
};

class HttpFramingTest : public ::testing::TestWithParam<FramingCase> {};

TEST_P(HttpFramingTest, FramingAndSmugglingFlags) {
  const FramingCase& c = GetParam();
  const std::string req = "POST /u HTTP/1.1\r\nHost: a.example\r\n" + std::string(c.fields) + "\r\n";
  const Bytes buf1 = Copy(req);
  const HttpRequestInfo info = ParseOk(buf1);
  EXPECT_EQ(info.framing, c.framing);
  if (c.framing == HttpBodyFraming::kContentLength) {
    EXPECT_EQ(info.content_length, c.length);
  }
  EXPECT_EQ(info.framing_flags, c.flags);
  EXPECT_EQ(info.framing_ambiguous, c.flags != 0);
  EXPECT_EQ(info.header_bytes, req.size());
}

INSTANTIATE_TEST_SUITE_P(Http, HttpFramingTest, ::testing::ValuesIn(kFraming),
                         [](const ::testing::TestParamInfo<FramingCase>& p) { return p.param.name; });

TEST(HttpTest, TransferEncodingInHttp10IsAmbiguous) {
  const Bytes buf2 = Copy("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
  const HttpRequestInfo info = ParseOk(buf2);
  EXPECT_EQ(info.framing, HttpBodyFraming::kChunked);
  EXPECT_EQ(info.framing_flags, kHttpFramingTransferEncodingInHttp10);
}

TEST(HttpTest, DuplicateHostJudgedAtItsColon) {
  const std::string_view req = "GET / HTTP/1.1\r\nHost: allowed.example\r\nHost: www.tiktok.com\r\n\r\n";
  const size_t colon = req.find("Host: www") + 5;
  for (size_t k = 0; k <= req.size(); ++k) {
    const Bytes buf = Copy(req.substr(0, k));
    HttpRequestInfo info;
    const HttpParseResult r = ParseHttpRequest(buf, &info);
    if (k < colon) {
      EXPECT_EQ(r.status, ParseStatus::kNeedMore) << k;
      continue;
    }
    EXPECT_EQ(r.error, HttpMalformed::kDuplicateHost) << k;
    EXPECT_EQ(info.host, "allowed.example");
    EXPECT_TRUE(info.host_ambiguous);
    EXPECT_EQ(info.header_bytes, 0u);
  }
}

TEST(HttpTest, HostLikeIgnoredLineIsAnAmbiguity) {
  const Bytes buf4 = Copy("GET / HTTP/1.1\r\nHost: allowed.example\r\nHost : www.tiktok.com\r\n\r\n");
  const HttpRequestInfo info = ParseOk(buf4);
  EXPECT_EQ(info.host, "allowed.example");
  EXPECT_EQ(info.ignored_lines, 1);
  ASSERT_EQ(info.host_count, 2);
  EXPECT_EQ(info.host_names[1], "www.tiktok.com");
  EXPECT_TRUE(info.host_ambiguous);
}

TEST(HttpTest, HostLikeIgnoredLineBeforeTheHost) {
  const Bytes buf = Copy("GET / HTTP/1.1\r\nHost\t: www.tiktok.com\r\nHost: allowed.example\r\n\r\n");
  const HttpRequestInfo info = ParseOk(buf);
  EXPECT_EQ(info.host, "allowed.example");
  ASSERT_EQ(info.host_count, 2);
  EXPECT_EQ(info.host_names[0], "www.tiktok.com");
  EXPECT_EQ(info.host_names[1], "allowed.example");
  EXPECT_TRUE(info.host_ambiguous);
}

TEST(HttpTest, AbsoluteFormAndDifferentHostAreBothReported) {
  const Bytes buf5 = Copy("GET http://www.tiktok.com/ HTTP/1.1\r\nHost: allowed.example:80\r\n\r\n");
  const HttpRequestInfo info = ParseOk(buf5);
  EXPECT_EQ(info.host, "www.tiktok.com");
  ASSERT_EQ(info.host_count, 2);
  EXPECT_EQ(info.host_names[0], "www.tiktok.com");
  EXPECT_EQ(info.host_names[1], "allowed.example");
  EXPECT_TRUE(info.host_ambiguous);
  // The same name in both (case aside) is not ambiguous.
  const Bytes buf6 = Copy("GET http://A.example/ HTTP/1.1\r\nHost: a.EXAMPLE\r\n\r\n");
  const HttpRequestInfo same = ParseOk(buf6);
  EXPECT_EQ(same.host_count, 1);
  EXPECT_FALSE(same.host_ambiguous);
}

TEST(HttpTest, HostNamesCapped) {
  std::string req = "GET http://h0.example/ HTTP/1.1\r\nHost: h1.example\r\n";
  for (int i = 2; i < 7; ++i) req += "Host : h" + std::to_string(i) + ".example\r\n";
  req += "\r\n";
  const Bytes buf7 = Copy(req);
  const HttpRequestInfo info = ParseOk(buf7);
  EXPECT_EQ(info.host_count, kMaxHttpHostNames);
  EXPECT_TRUE(info.hosts_capped);
}

// ---- chunked bodies -----------------------------------------------------------------

HttpChunkedResult SkipInChunks(std::string_view body, size_t chunk, HttpChunkedState* st, size_t* consumed) {
  HttpChunkedResult r{ParseStatus::kNeedMore, HttpMalformed::kNone, 0};
  *consumed = 0;
  for (size_t pos = 0; pos < body.size();) {
    const size_t take = std::min(chunk, body.size() - pos);
    const Bytes part = Copy(body.substr(pos, take));
    r = SkipChunkedBody(st, part);
    *consumed += r.consumed;
    if (r.status != ParseStatus::kNeedMore) return r;
    pos += take;
  }
  return r;
}

TEST(HttpChunkedTest, WholeAndByteByByteAgree) {
  const std::string_view bodies[] = {
      "0\r\n\r\n",
      "5\r\nhello\r\n0\r\n\r\n",
      "5;ext=1;x=\"y\"\r\nhello\r\n00\r\nTrailer: v\r\nX: y\r\n\r\n",
      "a\nabcdefghij\n0\n\n",  // bare LF line ends
      "000A \r\nabcdefghij\r\n0\r\n\r\n",
      "1\r\n\r\r\n2\r\n\r\n\r\n0\r\n\r\n",  // data may hold CR LF
  };
  for (std::string_view body : bodies) {
    const std::string with_next = std::string(body) + "GET /next";
    HttpChunkedState whole{};
    size_t whole_consumed = 0;
    const HttpChunkedResult w = SkipInChunks(with_next, with_next.size(), &whole, &whole_consumed);
    ASSERT_EQ(w.status, ParseStatus::kOk) << body;
    EXPECT_EQ(whole_consumed, body.size()) << body;
    HttpChunkedState one{};
    size_t one_consumed = 0;
    const HttpChunkedResult o = SkipInChunks(with_next, 1, &one, &one_consumed);
    EXPECT_EQ(o.status, ParseStatus::kOk) << body;
    EXPECT_EQ(one_consumed, body.size()) << body;
    EXPECT_EQ(one.body_bytes, whole.body_bytes);
    EXPECT_EQ(one.chunks, whole.chunks);
    // Every strict prefix needs more.
    for (size_t k = 0; k < body.size(); ++k) {
      HttpChunkedState p{};
      size_t c = 0;
      EXPECT_EQ(SkipInChunks(body.substr(0, k), k + 1, &p, &c).status, ParseStatus::kNeedMore) << body << " " << k;
    }
  }
  HttpChunkedState st{};
  size_t c = 0;
  SkipInChunks("5\r\nhello\r\n0\r\n\r\n", 64, &st, &c);
  EXPECT_EQ(st.body_bytes, 5u);
  EXPECT_EQ(st.chunks, 1u);
  // After the end: kOk, nothing consumed.
  const Bytes more = Copy("GET");
  const HttpChunkedResult again = SkipChunkedBody(&st, more);
  EXPECT_EQ(again.status, ParseStatus::kOk);
  EXPECT_EQ(again.consumed, 0u);
}

TEST(HttpChunkedTest, MalformedChunks) {
  for (std::string_view body : {"\r\n"sv, "g\r\n"sv, "5\r\nhelloX"sv, "5\r\nhello\rX"sv, "5\rX"sv, ";ext\r\n"sv,
                                "0\r\nTrailer: a\0b\r\n\r\n"sv, "0\r\n\rX"sv, "0\r\nT: v\rX"sv}) {
    HttpChunkedState st{};
    size_t c = 0;
    const HttpChunkedResult r = SkipInChunks(body, body.size(), &st, &c);
    EXPECT_EQ(r.status, ParseStatus::kMalformed) << body;
    EXPECT_EQ(r.error, HttpMalformed::kBadChunk) << body;
  }
}

// Boundary pair: the largest chunk-size we represent (2^63-1) and one more.
TEST(HttpChunkedTest, ChunkSizeCap) {
  HttpChunkedState ok{};
  size_t c = 0;
  EXPECT_EQ(SkipInChunks("7fffffffffffffff\r\nabc", 64, &ok, &c).status, ParseStatus::kNeedMore);
  EXPECT_EQ(ok.left, kMaxHttpChunkSize - 3);
  HttpChunkedState over{};
  EXPECT_EQ(SkipInChunks("8000000000000000\r\n", 64, &over, &c).status, ParseStatus::kMalformed);
  HttpChunkedState zeros{};
  EXPECT_EQ(SkipInChunks("00000000000000000000000000000001\r\nx\r\n0\r\n\r\n", 64, &zeros, &c).status,
            ParseStatus::kOk);
}

// Keep-alive / pipelining: walk every request of a connection with header_bytes,
// content_length and SkipChunkedBody; each request's host is seen.
TEST(HttpTest, PipelinedRequestsWalked) {
  const std::string stream =
      "GET / HTTP/1.1\r\nHost: first.example\r\n\r\n"
      "POST /a HTTP/1.1\r\nHost: second.example\r\nContent-Length: 5\r\n\r\nhello"
      "\r\n"  // a stray CRLF between requests (RFC 9112 §2.2)
      "POST /b HTTP/1.1\r\nHost: third.example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: www.tiktok.com\r\n\r\n";
  const Bytes buf = Copy(stream);
  absl::Span<const uint8_t> rest(buf);
  std::vector<std::string> hosts;
  while (!rest.empty()) {
    HttpRequestInfo info;
    const HttpParseResult r = ParseHttpRequest(rest, &info);
    ASSERT_EQ(r.status, ParseStatus::kOk);
    hosts.emplace_back(info.host);
    rest = rest.subspan(info.header_bytes);
    if (info.framing == HttpBodyFraming::kContentLength) {
      rest = rest.subspan(info.content_length);
    } else if (info.framing == HttpBodyFraming::kChunked) {
      HttpChunkedState st{};
      const HttpChunkedResult c = SkipChunkedBody(&st, rest);
      ASSERT_EQ(c.status, ParseStatus::kOk);
      rest = rest.subspan(c.consumed);
    }
  }
  EXPECT_EQ(hosts, (std::vector<std::string>{"first.example", "second.example", "third.example", "www.tiktok.com"}));
}

TEST(HttpTest, BadChunkName) { EXPECT_STREQ(HttpMalformedName(HttpMalformed::kBadChunk), "bad_chunk"); }

}  // namespace
}  // namespace vigie
