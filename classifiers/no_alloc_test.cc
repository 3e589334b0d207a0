// The parsers must not allocate (DESIGN.md contracts, STYLE.md 7). This binary
// replaces the global operator new to count allocations made while a flag is set,
// so it is kept apart from the other tests (and from ASan's own operator new).

#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "classifiers/dns.h"
#include "classifiers/testing/builders.h"
#include "classifiers/tls.h"
#include "gtest/gtest.h"

// GCC 12 sees through the replacement and flags malloc/free pairing as a mismatch.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
bool g_counting = false;
size_t g_allocations = 0;
}  // namespace

void* operator new(size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace vigie {
namespace {

TEST(NoAllocTest, ParsersDoNotAllocate) {
  testing::ClientHelloSpec s;
  s.alpn = {"h2", "http/1.1"};
  s.grease = true;
  s.ech = true;
  s.pq_key_share = true;
  const std::vector<uint8_t> hs = testing::BuildClientHelloHandshake(s);
  const std::vector<uint8_t> one = testing::SplitIntoRecords(hs, 1);
  const std::vector<uint8_t> many = testing::SplitIntoRecords(hs, 9);
  std::vector<uint8_t> scratch(kMaxClientHelloBytes);
  const std::vector<uint8_t> dns = testing::BuildDnsQuery("www.example.com", 1, true);
  const std::vector<uint8_t> framed = testing::DnsTcpFramed(dns);
  auto info = std::make_unique<DnsMessageInfo>();
  ClientHelloInfo ch;

  g_allocations = 0;
  g_counting = true;
  const bool ok = ParseClientHelloStream(one, absl::MakeSpan(scratch), &ch).status == ParseStatus::kOk &&
                  ParseClientHelloStream(many, absl::MakeSpan(scratch), &ch).status == ParseStatus::kOk &&
                  ParseClientHelloHandshake(hs, &ch).status == ParseStatus::kOk &&
                  ParseDnsMessage(dns, info.get()).status == ParseStatus::kOk && LooksLikeDnsQuery(dns) &&
                  ReadDnsTcpFrame(framed).status == ParseStatus::kOk;
  g_counting = false;
  EXPECT_TRUE(ok);
  EXPECT_EQ(g_allocations, 0u);

  // Control: the counter does see allocations.
  g_counting = true;
  auto control = std::make_unique<std::vector<uint8_t>>(64);
  g_counting = false;
  EXPECT_GE(g_allocations, 1u);
}

}  // namespace
}  // namespace vigie
