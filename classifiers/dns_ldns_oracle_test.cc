// Differential test: ParseDnsMessage against ldns (a mature DNS library) on
// well-formed generated queries, with and without name compression. ldns stays
// in tests only (STYLE.md notes: it trusts its input).

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "classifiers/dns.h"
#include "classifiers/testing/builders.h"
#include "gtest/gtest.h"
// ldns last: its headers #define bool and other names.
#include <ldns/ldns.h>

namespace vigie {
namespace {

using testing::Bytes;

// The owner names of the question section as ldns prints them, without the
// trailing dot ("." for the root becomes "").
std::vector<std::string> LdnsQuestionNames(const Bytes& msg) {
  std::vector<std::string> names;
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, msg.data(), msg.size()) != LDNS_STATUS_OK) return names;
  ldns_rr_list* q = ldns_pkt_question(pkt);
  for (size_t i = 0; i < ldns_rr_list_rr_count(q); ++i) {
    char* text = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(q, i)));
    std::string s = text ? text : "?";
    free(text);
    if (!s.empty() && s.back() == '.') s.pop_back();
    names.push_back(s);
  }
  ldns_pkt_free(pkt);
  return names;
}

// A random name of plain bytes [a-zA-Z0-9_-], total text length <= 253.
std::string RandomName(std::mt19937* rng) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  const int labels = static_cast<int>((*rng)() % 8);
  std::string name;
  for (int i = 0; i < labels; ++i) {
    const size_t len = 1 + (*rng)() % ((*rng)() % 4 == 0 ? 63 : 12);
    if (name.size() + (name.empty() ? 0 : 1) + len > kDnsMaxNameText) break;
    if (!name.empty()) name += '.';
    for (size_t j = 0; j < len; ++j) name += kAlphabet[(*rng)() % (sizeof(kAlphabet) - 1)];
  }
  return name;
}

TEST(DnsLdnsOracleTest, RandomQueriesAgree) {
  std::mt19937 rng(20240607);
  for (int iter = 0; iter < 2000; ++iter) {
    const std::string name = RandomName(&rng);
    const Bytes msg = testing::BuildDnsQuery(name, static_cast<uint16_t>(1 + rng() % 255), rng() % 2);
    DnsMessageInfo info;
    const DnsParseResult r = ParseDnsMessage(msg, &info);
    ASSERT_EQ(r.status, ParseStatus::kOk) << name;
    const std::vector<std::string> oracle = LdnsQuestionNames(msg);
    ASSERT_EQ(oracle.size(), 1u) << name;
    EXPECT_EQ(info.questions[0].view(), oracle[0]);
    EXPECT_EQ(info.questions[0].view(), name);
  }
}

// Several questions where each later name is a fresh prefix of labels followed by
// a pointer to a suffix of an earlier name, as a compressing encoder writes them.
TEST(DnsLdnsOracleTest, CompressedQuestionsAgree) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 1000; ++iter) {
    const int count = 1 + static_cast<int>(rng() % 5);
    testing::DnsHeaderSpec h;
    h.qdcount = static_cast<uint16_t>(count);
    Bytes msg;
    testing::PutDnsHeader(&msg, h);
    std::vector<size_t> label_offsets;  // every label start written so far (pointer targets)
    for (int q = 0; q < count; ++q) {
      const int fresh = static_cast<int>(rng() % 3);
      // Pointer targets: label starts of earlier, complete names only (a pointer
      // into the name being written would be a loop).
      const size_t earlier = label_offsets.size();
      const bool point = earlier > 0 && rng() % 3 != 0;
      for (int l = 0; l < fresh || (!point && l == 0); ++l) {
        label_offsets.push_back(msg.size());
        const size_t len = 1 + rng() % 10;
        msg.push_back(static_cast<uint8_t>(len));
        for (size_t j = 0; j < len; ++j) msg.push_back(static_cast<uint8_t>('a' + rng() % 26));
      }
      if (point) {
        const size_t target = label_offsets[rng() % earlier];
        msg.push_back(static_cast<uint8_t>(0xc0 | (target >> 8)));
        msg.push_back(static_cast<uint8_t>(target & 0xff));
      } else {
        msg.push_back(0);
      }
      testing::PutU16(&msg, 1);
      testing::PutU16(&msg, 1);
    }
    DnsMessageInfo info;
    const DnsParseResult r = ParseDnsMessage(msg, &info);
    const std::vector<std::string> oracle = LdnsQuestionNames(msg);
    if (r.status != ParseStatus::kOk) {
      // Only over-long names may fail here; ldns must then fail too.
      EXPECT_EQ(r.error, DnsMalformed::kNameTooLong);
      EXPECT_TRUE(oracle.empty());
      continue;
    }
    ASSERT_EQ(oracle.size(), static_cast<size_t>(count));
    for (int q = 0; q < count; ++q) EXPECT_EQ(info.questions[q].view(), oracle[q]) << iter << " " << q;
  }
}

}  // namespace
}  // namespace vigie
