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
  timex tx{};
  instant.wall_synced = ntp_adjtime(&tx) != TIME_ERROR;
  return instant;
}

std::string read_boot_id() {
  std::ifstream file("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(file, id);
  return id.empty() ? "unknown" : id;
}

}  // namespace homesafe::gateway
