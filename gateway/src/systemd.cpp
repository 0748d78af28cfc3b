#include "homesafe/gateway/systemd.hpp"

#ifdef HOMESAFE_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <cstdint>

#include "homesafe/gateway/log.hpp"

namespace homesafe::gateway {

SystemdNotifier::SystemdNotifier() {
#ifdef HOMESAFE_HAVE_SYSTEMD
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) interval_ = std::chrono::microseconds(usec);
#endif
}

void SystemdNotifier::ready() {
#ifdef HOMESAFE_HAVE_SYSTEMD
  sd_notify(0, "READY=1\nSTATUS=running");
  if (watchdog_enabled()) log::info("systemd watchdog every {} ms", interval_.count() / 1000);
#endif
}

void SystemdNotifier::alive() {
#ifdef HOMESAFE_HAVE_SYSTEMD
  if (!watchdog_enabled()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ping_ < interval_ / 2) return;
  last_ping_ = now;
  sd_notify(0, "WATCHDOG=1");
#endif
}

void SystemdNotifier::stopping() {
#ifdef HOMESAFE_HAVE_SYSTEMD
  sd_notify(0, "STOPPING=1");
#endif
}

}  // namespace homesafe::gateway
