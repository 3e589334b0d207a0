#include "lists/domain.h"

#include <string>

#include "gtest/gtest.h"

namespace vigie {
namespace {

// Normalised form, or "!" + error name.
std::string Norm(std::string_view in) {
  DomainBuf buf;
  DomainError e = NormalizeDomain(in, &buf);
  if (e != DomainError::kOk) return std::string("!").append(DomainErrorName(e));
  return std::string(buf.view());
}

// n characters made of labels of at most 63 characters.
std::string NameOfLength(size_t n) {
  std::string s;
  while (s.size() < n) {
    size_t label = std::min<size_t>(63, n - s.size());
    if (!s.empty()) {
      s += '.';
      label = std::min<size_t>(63, n - s.size());
    }
    s += std::string(label, 'a');
  }
  return s;
}

TEST(DomainTest, QueryAnswerTable) {
  struct Case {
    const char* in;
    const char* want;
  } cases[] = {
      {"tiktok.com", "tiktok.com"},
      {"TikTok.COM", "tiktok.com"},
      {"www.tiktok.com.", "www.tiktok.com"},       // one trailing dot removed
      {"www.tiktok.com..", "!empty label"},        // only one
      {"..", "!empty label"},
      {".", "!empty name"},
      {"", "!empty name"},
      {".tiktok.com", "!empty label"},
      {"a..b", "!empty label"},
      {"bücher.de", "xn--bcher-kva.de"},          // IDN U-label to A-label
      {"BÜCHER.de", "xn--bcher-kva.de"},
      {"bücher.de.", "xn--bcher-kva.de"},
      {"xn--bcher-kva.DE", "xn--bcher-kva.de"},   // A-labels pass through
      {"_dmarc.example.com", "_dmarc.example.com"},
      {"localhost", "localhost"},
      {"MiXeD-123.Example", "mixed-123.example"},
      {"\xff\xfe.com", "!invalid internationalised name"},
  };
  for (const Case& c : cases) EXPECT_EQ(Norm(c.in), c.want) << c.in;
}

TEST(DomainTest, LabelLengthBoundary63_64) {
  std::string l63(63, 'x'), l64(64, 'x');
  EXPECT_EQ(Norm(l63 + ".com"), l63 + ".com");
  EXPECT_EQ(Norm(l64 + ".com"), "!label longer than 63 characters");
  EXPECT_EQ(Norm(std::string("com.") + l63), "com." + l63);
  EXPECT_EQ(Norm(std::string("com.") + l64), "!label longer than 63 characters");
  EXPECT_EQ(Norm(std::string("com.") + l64 + "."), "!label longer than 63 characters");
}

TEST(DomainTest, NameLengthBoundary253_254) {
  std::string n253 = NameOfLength(253), n254 = NameOfLength(254);
  ASSERT_EQ(n253.size(), 253u);
  ASSERT_EQ(n254.size(), 254u);
  EXPECT_EQ(Norm(n253), n253);
  EXPECT_EQ(Norm(n253 + "."), n253);  // the trailing dot does not count
  EXPECT_EQ(Norm(n254), "!name longer than 253 characters");
  EXPECT_EQ(Norm(n254 + "."), "!name longer than 253 characters");
  // IDN: the limit applies to the A-label form.
  std::string idn = std::string("bücher.") + NameOfLength(253 - 14);  // "xn--bcher-kva." is 14
  EXPECT_EQ(Norm(idn).size(), 253u);
  EXPECT_EQ(Norm(std::string("x") + idn), "!name longer than 253 characters");
}

// Regression: libidn2 stops at a NUL, so "tiktok.com\0ü" became "tiktok.com".
TEST(DomainTest, RegressionNulInNonAsciiNameIsNotTruncated) {
  EXPECT_EQ(Norm(std::string("tiktok.com\0\xc3\xbc", 13)), "!invalid internationalised name");
}

TEST(DomainTest, HostnameSyntax) {
  EXPECT_TRUE(IsHostnameSyntax("a-b.c_d.e9"));
  EXPECT_FALSE(IsHostnameSyntax("a b.com"));
  EXPECT_FALSE(IsHostnameSyntax("*.com"));
  EXPECT_FALSE(IsHostnameSyntax("a/b.com"));
  EXPECT_FALSE(IsHostnameSyntax(std::string("a\0b.com", 7)));
}

}  // namespace
}  // namespace vigie
