#include "homesafe/gateway/clock.hpp"

#include <sys/timex.h>

#include <chrono>

namespace homesafe::gateway {

Instant SystemClock::now() const {
  using namespace std::chrono;
  Instant instant;
  instant.wall_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  instant.mono_ms = duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  timex tx{};
  instant.wall_synced = ntp_adjtime(&tx) != TIME_ERROR;
  return instant;
}

}  // namespace homesafe::gateway
