#include "homesafe/gateway/clock.hpp"

#include <sys/timex.h>

#include <chrono>
#include <fstream>

namespace homesafe::gateway {

Instant SystemClock::now() const {
  using namespace std::chrono;
  Instant instant;
  instant.wall_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  instant.mono_ms = duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  // The kernel's NTP state changes rarely: ask at most once a second, not for every message.
  if (!synced_checked_at_ms_ || instant.mono_ms - *synced_checked_at_ms_ >= 1000) {
    timex tx{};
    wall_synced_ = ntp_adjtime(&tx) != TIME_ERROR;
    synced_checked_at_ms_ = instant.mono_ms;
  }
  instant.wall_synced = wall_synced_;
  return instant;
}

std::string read_boot_id() {
  std::ifstream file("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(file, id);
  return id.empty() ? "unknown" : id;
}

}  // namespace homesafe::gateway
