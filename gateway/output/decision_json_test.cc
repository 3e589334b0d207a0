#include "gateway/inspect/decision.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "gateway/output/decision_json.h"
#include "gateway/testing/pipeline_fixture.h"
#include "gtest/gtest.h"
#include "lists/domain.h"

namespace vigie {
namespace {

namespace fs = std::filesystem;

// ---- A tiny strict JSON checker: one flat object of scalars -------------------------

struct JsonValue {
  enum Kind { kString, kNumber, kBool, kNull } kind;
  std::string text;  // decoded string, or the literal
};

class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : s_(s) {}

  // Parses a flat object; false (with why()) if it is not valid JSON.
  bool Parse(std::map<std::string, JsonValue>* out) {
    if (!Eat('{')) return Fail("expected {");
    if (Peek() == '}') return ++i_, AtEnd();
    for (;;) {
      std::string key;
      if (!String(&key)) return false;
      if (!Eat(':')) return Fail("expected :");
      JsonValue v;
      if (Peek() == '"') {
        v.kind = JsonValue::kString;
        if (!String(&v.text)) return false;
      } else if (Lit("null")) {
        v.kind = JsonValue::kNull;
      } else if (Lit("true") || Lit("false")) {
        v.kind = JsonValue::kBool;
        v.text = s_[i_ - 1] == 'e' && s_[i_ - 2] == 'u' ? "true" : "false";
      } else {
        size_t st = i_;
        if (Peek() == '-') ++i_;
        if (i_ >= s_.size() || !isdigit(static_cast<unsigned char>(s_[i_]))) return Fail("bad value");
        while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
        v.kind = JsonValue::kNumber;
        v.text = std::string(s_.substr(st, i_ - st));
      }
      if (out->count(key)) return Fail("duplicate key " + key);
      (*out)[key] = v;
      if (Eat(',')) continue;
      if (Eat('}')) return AtEnd();
      return Fail("expected , or }");
    }
  }
  const std::string& why() const { return why_; }

 private:
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  bool Lit(std::string_view l) {
    if (s_.substr(i_, l.size()) != l) return false;
    i_ += l.size();
    return true;
  }
  bool AtEnd() { return i_ == s_.size() ? true : Fail("trailing bytes"); }
  bool Fail(const std::string& why) {
    why_ = why + " at " + std::to_string(i_);
    return false;
  }
  static void PutUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  // Validates one UTF-8 sequence at i_ (RFC 3629), appending it.
  bool Utf8(std::string* out) {
    unsigned char c = static_cast<unsigned char>(s_[i_]);
    size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (n == 0 || i_ + n > s_.size()) return Fail("invalid UTF-8");
    uint32_t cp = c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s_[i_ + k]);
      if ((cc & 0xC0) != 0x80) return Fail("invalid UTF-8");
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return Fail("invalid UTF-8");
    out->append(s_.substr(i_, n));
    i_ += n;
    return true;
  }
  bool String(std::string* out) {
    if (!Eat('"')) return Fail("expected string");
    for (;;) {
      if (i_ >= s_.size()) return Fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return Fail("raw control byte in string");
      if (c == '\\') {
        ++i_;
        char e = Peek();
        ++i_;
        switch (e) {
          case '"': out->push_back('"'); break;
          case '\\': out->push_back('\\'); break;
          case '/': out->push_back('/'); break;
          case 'b': out->push_back('\b'); break;
          case 'f': out->push_back('\f'); break;
          case 'n': out->push_back('\n'); break;
          case 'r': out->push_back('\r'); break;
          case 't': out->push_back('\t'); break;
          case 'u': {
            if (i_ + 4 > s_.size()) return Fail("short \\u");
            uint32_t cp = 0;
            for (int k = 0; k < 4; ++k) {
              char h = s_[i_++];
              cp <<= 4;
              if (h >= '0' && h <= '9') cp |= h - '0';
              else if (h >= 'a' && h <= 'f') cp |= h - 'a' + 10;
              else if (h >= 'A' && h <= 'F') cp |= h - 'A' + 10;
              else return Fail("bad \\u");
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) return Fail("surrogate escape");  // not produced by us
            PutUtf8(cp, out);
            break;
          }
          default:
            return Fail("bad escape");
        }
        continue;
      }
      if (c < 0x80) {
        out->push_back(static_cast<char>(c));
        ++i_;
        continue;
      }
      if (!Utf8(out)) return false;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string why_;
};

std::map<std::string, JsonValue> ParseJson(const std::string& line) {
  std::map<std::string, JsonValue> m;
  JsonChecker j(line);
  EXPECT_TRUE(j.Parse(&m)) << j.why() << "\n" << line;
  return m;
}

// ---- Fixture: a policy with one blocked app ------------------------------------------

class DecisionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::path(::testing::TempDir()) / ("vigie_decision_" + std::to_string(::getpid())));
    auto p = testing::WritePolicy(
        *dir_,
        "[scope]\nmanaged = [\"10.0.0.0/8\", \"fd00::/8\"]\n[lists]\ndir = \"lists\"\n[[policy]]\napps = [\"tiktok\"]\n"
        "action = \"block\"\n[[exception]]\nid = \"press\"\ndevices = [\"10.9.9.9/32\"]\nuntil = \"2030-01-01\"\n"
        "ticket = \"SEC-1\"\nreason = \"press office\"\n",
        {{"tiktok", "# TikTok\ntiktok.com   # main\n"}});
    ASSERT_TRUE(p.ok()) << p.status();
    policy_ = new std::shared_ptr<const Policy>(*std::move(p));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete policy_;
  }
  const Policy& policy() { return **policy_; }

  Decision DnsDecision(std::string_view name) {
    Decision d;
    d.ts_us = 1748736000ull * 1'000'000 + 42;  // 2025-06-01T00:00:00.000042Z
    d.proto = Proto::kDns;
    d.transport = 17;
    d.src = *IpAddress::Parse("10.1.2.3");
    d.dst = *IpAddress::Parse("9.9.9.9");
    d.src_port = 40000;
    d.dst_port = 53;
    d.domain_raw = name;
    if (NormalizeDomain(name, &norm_) == DomainError::kOk) {
      d.domain = norm_.view();
      d.verdict = policy().Decide(d.src, d.domain, d.ts_us);
    }
    d.flow_id = 17;
    d.frame = 5;
    d.qtype = 1;
    return d;
  }
  std::string Format(const Decision& d) {
    std::string s;
    FormatDecision(d, policy(), &s);
    return s;
  }

  static fs::path* dir_;
  static std::shared_ptr<const Policy>* policy_;
  DomainBuf norm_;
};
fs::path* DecisionTest::dir_ = nullptr;
std::shared_ptr<const Policy>* DecisionTest::policy_ = nullptr;

TEST_F(DecisionTest, AllDesignFieldsForABlockedDnsQuery) {
  Decision d = DnsDecision("WWW.TikTok.com");
  std::string line = Format(d);
  auto m = ParseJson(line);
  for (const char* k : {"timestamp", "action", "reason", "proto", "transport", "src_ip", "src_port", "dest_ip",
                        "dest_port", "domain", "app", "list", "rule", "flow_id", "frame"}) {
    EXPECT_TRUE(m.count(k)) << k << " missing in " << line;
  }
  EXPECT_EQ(m["timestamp"].text, "2025-06-01T00:00:00.000042Z");
  EXPECT_EQ(m["action"].text, "block");
  EXPECT_EQ(m["reason"].text, "list");
  EXPECT_EQ(m["proto"].text, "dns");
  EXPECT_EQ(m["transport"].text, "udp");
  EXPECT_EQ(m["src_ip"].text, "10.1.2.3");
  EXPECT_EQ(m["src_port"].kind, JsonValue::kNumber);
  EXPECT_EQ(m["src_port"].text, "40000");
  EXPECT_EQ(m["dest_ip"].text, "9.9.9.9");
  EXPECT_EQ(m["dest_port"].text, "53");
  EXPECT_EQ(m["domain"].text, "www.tiktok.com");
  EXPECT_EQ(m["domain_raw"].text, "WWW.TikTok.com");
  EXPECT_EQ(m["app"].text, "tiktok");
  EXPECT_EQ(m["list"].text, "block");
  EXPECT_EQ(m["rule"].text, "tiktok.com");
  EXPECT_EQ(m["rule_source"].text, "tiktok.list:2");  // relative to the lists dir
  EXPECT_EQ(m["flow_id"].text, "17");
  EXPECT_EQ(m["frame"].text, "5");
  EXPECT_EQ(m["qtype"].text, "1");
}

TEST_F(DecisionTest, TimestampFormat) {
  Decision d = DnsDecision("a.example");
  for (auto [us, want] : std::vector<std::pair<uint64_t, std::string>>{
           {0, "1970-01-01T00:00:00.000000Z"},
           {1'000'000 - 1, "1970-01-01T00:00:00.999999Z"},
           {1709164800ull * 1'000'000 + 123456, "2024-02-29T00:00:00.123456Z"},
           {1798761599ull * 1'000'000 + 999999, "2026-12-31T23:59:59.999999Z"},
       }) {
    d.ts_us = us;
    EXPECT_EQ(ParseJson(Format(d))["timestamp"].text, want);
  }
}

TEST_F(DecisionTest, NoMatchHasNulls) {
  Decision d = DnsDecision("example.com");
  auto m = ParseJson(Format(d));
  EXPECT_EQ(m["action"].text, "allow");
  EXPECT_EQ(m["reason"].text, "no-match");
  EXPECT_EQ(m["app"].kind, JsonValue::kNull);
  EXPECT_EQ(m["list"].kind, JsonValue::kNull);
  EXPECT_EQ(m["rule"].kind, JsonValue::kNull);
  EXPECT_FALSE(m.count("domain_raw"));
}

TEST_F(DecisionTest, ExceptionFields) {
  Decision d = DnsDecision("tiktok.com");
  d.src = *IpAddress::Parse("10.9.9.9");
  d.verdict = policy().Decide(d.src, d.domain, d.ts_us);
  auto m = ParseJson(Format(d));
  EXPECT_EQ(m["action"].text, "log");
  EXPECT_EQ(m["reason"].text, "exception");
  EXPECT_EQ(m["exception"].text, "press");
  EXPECT_EQ(m["exception_ticket"].text, "SEC-1");
  EXPECT_EQ(m["exception_until"].text, "2030-01-01");
  EXPECT_EQ(m["exception_reason"].text, "press office");
}

TEST_F(DecisionTest, CommunityIdAfterFlowIdWithTheSeed) {
  Decision d = DnsDecision("www.tiktok.com");
  const std::string line = Format(d);
  auto m = ParseJson(line);
  CommunityIdTuple t;
  t.family = 4;
  std::memcpy(t.src, d.src.bytes, 16);
  std::memcpy(t.dst, d.dst.bytes, 16);
  t.proto = 17, t.src_port = 40000, t.dst_port = 53;
  CommunityIdBuffer b0, b1;
  EXPECT_EQ(m["community_id"].text, CommunityIdHasher(0).Compute(t, &b0));
  EXPECT_LT(line.find("\"flow_id\""), line.find("\"community_id\""));
  // The same both ways: the answer's tuple gives the same value.
  Decision r = d;
  std::swap(r.src, r.dst);
  std::swap(r.src_port, r.dst_port);
  EXPECT_EQ(ParseJson(Format(r))["community_id"].text, m["community_id"].text);
  LogOptions o;
  o.community_id_seed = 7;
  std::string seeded;
  DecisionFormatter(o).AppendLine(d, policy(), &seeded);
  EXPECT_EQ(ParseJson(seeded.substr(0, seeded.size() - 1))["community_id"].text, CommunityIdHasher(7).Compute(t, &b1));
  EXPECT_NE(b0[2], '\0');
  EXPECT_NE(std::string(b0.data()), std::string(b1.data()));
}

TEST_F(DecisionTest, EveLineBlockedIsADropOnlyWhenTheGatewayDrops) {
  Decision d = DnsDecision("WWW.TikTok.com");
  LogOptions o;
  o.format = LogFormat::kEve;
  std::string line;
  size_t meta = 0;
  DecisionFormatter(o).AppendLine(d, policy(), &line, &meta);
  EXPECT_NE(line.find("\"event_type\":\"alert\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"action\":\"blocked\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"pcap_cnt\":5"), std::string::npos) << line;
  EXPECT_NE(line.find("\"rrname\":\"WWW.TikTok.com\",\"rrtype\":\"A\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"rule\":[\"tiktok.list:2\"]"), std::string::npos) << line;
  EXPECT_EQ(line.compare(meta, 2, "}}"), 0) << line.substr(meta);
  o.drops = true;
  line.clear();
  DecisionFormatter(o).AppendLine(d, policy(), &line);
  EXPECT_NE(line.find("\"event_type\":\"drop\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"drop\":{\"reason\":\"rules\"}"), std::string::npos) << line;
  // An exception turns the block into log: allowed, with its ticket and reason.
  d.src = *IpAddress::Parse("10.9.9.9");
  d.verdict = policy().Decide(d.src, d.domain, d.ts_us);
  line.clear();
  DecisionFormatter(o).AppendLine(d, policy(), &line);
  EXPECT_NE(line.find("\"event_type\":\"alert\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"action\":\"allowed\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"exception_ticket\":[\"SEC-1\"],\"exception_reason\":[\"press office\"]"),
            std::string::npos)
      << line;
}

TEST_F(DecisionTest, TlsFieldsIpv6AndNoFrame) {
  Decision d;
  d.ts_us = 1;
  d.proto = Proto::kTls;
  d.transport = 6;
  d.src = *IpAddress::Parse("fd00::1");
  d.dst = *IpAddress::Parse("2001:db8::443");
  d.src_port = 50000;
  d.dst_port = 443;
  d.has_sni = true;
  d.domain_raw = d.domain = "www.tiktok.com";
  d.verdict = policy().Decide(d.src, d.domain, d.ts_us);
  d.alpn = "h2";
  d.tls_version = 0x0304;
  d.tcp_segments = 3;
  d.tls_records = 2;
  d.encap_depth = 1;
  d.capture = "x.pcap";
  auto m = ParseJson(Format(d));
  EXPECT_EQ(m["proto"].text, "tls");
  EXPECT_EQ(m["transport"].text, "tcp");
  EXPECT_EQ(m["src_ip"].text, "fd00::1");
  EXPECT_EQ(m["dest_ip"].text, "2001:db8::443");
  EXPECT_EQ(m["action"].text, "block");
  EXPECT_EQ(m["sni"].text, "true");
  EXPECT_EQ(m["alpn"].text, "h2");
  EXPECT_EQ(m["ech"].text, "false");
  EXPECT_EQ(m["tls_version"].text, "0x0304");
  EXPECT_EQ(m["tcp_segments"].text, "3");
  EXPECT_EQ(m["tls_records"].text, "2");
  EXPECT_EQ(m["tunnelled"].text, "1");
  EXPECT_EQ(m["capture"].text, "x.pcap");
  EXPECT_FALSE(m.count("frame"));  // live traffic: no frame number
  EXPECT_FALSE(m.count("qtype"));
  // No SNI: domain is null.
  d.has_sni = false;
  d.domain_raw = d.domain = {};
  d.verdict = Verdict();
  m = ParseJson(Format(d));
  EXPECT_EQ(m["domain"].kind, JsonValue::kNull);
  EXPECT_EQ(m["sni"].text, "false");
}

TEST_F(DecisionTest, MalformedDecision) {
  Decision d;
  d.proto = Proto::kDns;
  d.src = *IpAddress::Parse("10.1.1.1");
  d.dst = *IpAddress::Parse("10.0.0.53");
  d.malformed = "truncated_name";
  d.verdict = policy().DecideMalformed(d.src);
  auto m = ParseJson(Format(d));
  EXPECT_EQ(m["reason"].text, "malformed");
  EXPECT_EQ(m["malformed"].text, "truncated_name");
  EXPECT_EQ(m["domain"].text, "");
}

// Wire bytes in the domain: every line is valid JSON and decodes back to the
// bytes (invalid UTF-8 bytes as U+00XX).
TEST_F(DecisionTest, DomainEscaping) {
  struct Case {
    std::string raw;
    std::string decoded;  // what a JSON reader gets back
    std::string json;     // exact escaped form
  } cases[] = {
      {"quo\"te.com", "quo\"te.com", R"("quo\"te.com")"},
      {"back\\slash.com", "back\\slash.com", R"("back\\slash.com")"},
      {std::string("nul\0.com", 8), std::string("nul\0.com", 8), R"("nul\u0000.com")"},
      {"tab\t\n\x1f\x7f.com", "tab\t\n\x1f\x7f.com", R"("tab\u0009\u000a\u001f\u007f.com")"},
      {"caf\xC3\xA9.fr", "caf\xC3\xA9.fr", "\"caf\xC3\xA9.fr\""},               // valid UTF-8 kept
      {"\xE2\x82\xAC\xF0\x9F\x98\x80", "\xE2\x82\xAC\xF0\x9F\x98\x80", "\"\xE2\x82\xAC\xF0\x9F\x98\x80\""},
      {"bad\xFF.com", "bad\xC3\xBF.com", R"("bad\u00ff.com")"},                 // stray byte
      {"\xC3", "\xC3\x83", R"("\u00c3")"},                                        // truncated sequence
      {"\xC0\xAF", "\xC3\x80\xC2\xAF", R"("\u00c0\u00af")"},                       // overlong '/'
      {"\xED\xA0\x80", "\xC3\xAD\xC2\xA0\xC2\x80", R"("\u00ed\u00a0\u0080")"},   // UTF-16 surrogate
      {"\xF4\x90\x80\x80", "\xC3\xB4\xC2\x90\xC2\x80\xC2\x80", R"("\u00f4\u0090\u0080\u0080")"},  // > U+10FFFF
  };
  for (const Case& c : cases) {
    std::string json;
    AppendJsonString(c.raw, &json);
    EXPECT_EQ(json, c.json);
    Decision d = DnsDecision("x.com");
    d.domain = {};
    d.domain_raw = c.raw;
    d.verdict = Verdict();
    auto m = ParseJson(Format(d));
    EXPECT_EQ(m["domain"].text, c.decoded);
  }
  // Every single byte value, and every pair, yields valid JSON.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; b += 3) {
      std::string raw = {static_cast<char>(a), static_cast<char>(b), '\xA9'};
      Decision d = DnsDecision("x.com");
      d.domain = {};
      d.domain_raw = raw;
      std::string line = Format(d);
      std::map<std::string, JsonValue> m;
      JsonChecker j(line);
      ASSERT_TRUE(j.Parse(&m)) << j.why() << " for bytes " << a << "," << b;
    }
  }
}

TEST_F(DecisionTest, ShouldLogPerMode) {
  Decision d;
  struct Case {
    Action action;
    Reason reason;
    bool all, decisions, blocked;
  } cases[] = {
      {Action::kBlock, Reason::kList, true, true, true},
      {Action::kLog, Reason::kList, true, true, false},
      {Action::kAllow, Reason::kList, true, true, false},
      {Action::kLog, Reason::kException, true, true, false},
      {Action::kAllow, Reason::kAllowlist, true, true, false},
      {Action::kAllow, Reason::kNoMatch, true, false, false},
      {Action::kAllow, Reason::kUnmanaged, true, false, false},
      {Action::kAllow, Reason::kMalformed, true, true, false},
      {Action::kBlock, Reason::kMalformed, true, true, true},
  };
  for (const Case& c : cases) {
    d.verdict.action = c.action;
    d.verdict.reason = c.reason;
    SCOPED_TRACE(std::string(ActionName(c.action)) + "/" + std::string(ReasonName(c.reason)));
    EXPECT_EQ(ShouldLog(d, LogMode::kAll), c.all);
    EXPECT_EQ(ShouldLog(d, LogMode::kDecisions), c.decisions);
    EXPECT_EQ(ShouldLog(d, LogMode::kBlocked), c.blocked);
  }
}

TEST_F(DecisionTest, JsonLineSinkWritesOneLinePerDecision) {
  fs::path out = *dir_ / "decisions.jsonl";
  {
    auto sink = JsonLineSink::Open(out.string());
    ASSERT_TRUE(sink.ok()) << sink.status();
    (*sink)->Write(DnsDecision("tiktok.com"), policy());
    (*sink)->Write(DnsDecision("new\nline.com"), policy());
    (*sink)->Finish();  // lines count as written once write(2) took them
    EXPECT_EQ((*sink)->written(), 2u);
    EXPECT_EQ((*sink)->dropped(), 0u);
  }
  std::ifstream in(out);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    ParseJson(line);
  }
  EXPECT_EQ(n, 2);
  EXPECT_FALSE(JsonLineSink::Open("/nonexistent/dir/x.jsonl").ok());
}

}  // namespace
}  // namespace vigie
