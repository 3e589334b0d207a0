// Counts allocations through the global operator new, for tests that prove a
// path allocates nothing: include it in exactly one source file of a test
// binary of its own (it replaces operator new/delete for the whole binary, so
// not under ASan, which has its own), set g_counting around the code under
// test and read g_allocations.
#ifndef VIGIE_CLASSIFIERS_TESTING_COUNT_NEW_H_
#define VIGIE_CLASSIFIERS_TESTING_COUNT_NEW_H_

#include <cstdlib>
#include <new>

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

#endif  // VIGIE_CLASSIFIERS_TESTING_COUNT_NEW_H_
