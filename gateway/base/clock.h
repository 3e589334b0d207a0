// Wall-clock time for decisions made on live packets (replay uses the
// capture's timestamps instead).
#ifndef VIGIE_GATEWAY_BASE_CLOCK_H_
#define VIGIE_GATEWAY_BASE_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace vigie {

// Microseconds since the epoch.
inline uint64_t NowMicros() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace vigie

#endif  // VIGIE_GATEWAY_BASE_CLOCK_H_
