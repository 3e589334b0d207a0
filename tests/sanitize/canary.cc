// Sanitizer canaries: each mode does one thing a sanitizer must report. ctest
// passes only when the report appears, so the sanitized CI stage fails if
// ASan, LeakSanitizer or UBSan is silently off (a container that forbids
// ptrace turns LeakSanitizer off, for instance).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace {

// The compiler must not see through these, or it folds the bug away.
volatile int g_sink = 0;

int Leak() {
  void* volatile p = std::malloc(77);
  std::memset(p, 1, 77);
  g_sink = static_cast<unsigned char*>(p)[3];
  p = nullptr;  // the only pointer is gone: a direct leak at exit
  return 0;
}

int HeapOverflow() {
  char* volatile p = static_cast<char*>(std::malloc(16));
  int i = 16 + g_sink;
  p[i] = 1;  // one past the end
  std::free(p);
  return 0;
}

int SignedOverflow() {
  volatile int a = std::numeric_limits<int>::max();
  int b = a + 1 + g_sink;  // undefined: signed overflow
  g_sink = b;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sanitizer_canary leak|heap-overflow|signed-overflow\n");
    return 2;
  }
  if (std::strcmp(argv[1], "leak") == 0) return Leak();
  if (std::strcmp(argv[1], "heap-overflow") == 0) return HeapOverflow();
  if (std::strcmp(argv[1], "signed-overflow") == 0) return SignedOverflow();
  std::fprintf(stderr, "sanitizer_canary: unknown mode %s\n", argv[1]);
  return 2;
}
