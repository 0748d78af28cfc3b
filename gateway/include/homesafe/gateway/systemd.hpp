#pragma once
// systemd integration (Type=notify): READY when the event loop runs, WATCHDOG pings only from
// the loop itself, so a stuck loop stops pinging and systemd restarts the daemon.

#include <chrono>

namespace homesafe::gateway {

class SystemdNotifier {
 public:
  SystemdNotifier();
  void ready();
  // Called from the event loop (every second); pings at half the watchdog interval.
  void alive();
  void stopping();
  bool watchdog_enabled() const { return interval_.count() > 0; }

 private:
  std::chrono::microseconds interval_{0};
  std::chrono::steady_clock::time_point last_ping_{};
};

}  // namespace homesafe::gateway
