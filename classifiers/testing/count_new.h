// Counts allocations through the global operator new, for tests that prove a
// path allocates nothing: include it in exactly one source file of a test
// binary (it replaces operator new/delete for the whole binary), set
// g_counting around the code under test and read g_allocations.
//
// Every non-aligned form is replaced, throwing and nothrow, single and array,
// all on malloc/free: a partial replacement pairs the runtime's new (say the
// nothrow one std::stable_sort uses) with this delete, which ASan reports as
// alloc-dealloc-mismatch. The aligned forms stay the runtime's, new and delete
// alike. Under ASan the counts are still right (ASan intercepts malloc).
#ifndef VIGIE_CLASSIFIERS_TESTING_COUNT_NEW_H_
#define VIGIE_CLASSIFIERS_TESTING_COUNT_NEW_H_

#include <atomic>
#include <cstdlib>
#include <new>

// GCC 12 sees through the replacement and flags malloc/free pairing as a mismatch.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
// Atomic: other threads of the binary (log writers, servers) allocate too.
std::atomic<bool> g_counting{false};
std::atomic<size_t> g_allocations{0};

void* CountedMalloc(size_t n) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

void* operator new(size_t n) {
  if (void* p = CountedMalloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = CountedMalloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept { return CountedMalloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return CountedMalloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

#endif  // VIGIE_CLASSIFIERS_TESTING_COUNT_NEW_H_
