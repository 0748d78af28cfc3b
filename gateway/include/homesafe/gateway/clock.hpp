#pragma once
// Time is injected: the daemon uses the system clocks, tests and replay a manual clock.

#include <cstdint>
#include <optional>
#include <string>

#include "homesafe/rules/rule.hpp"

namespace homesafe::gateway {

using rules::Instant;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
};

// std::chrono::system_clock for wall time, steady_clock for monotonic time, and the kernel's
// NTP state for whether the wall clock can be trusted.
// Not thread-safe: the daemon calls it from its event-loop thread only.
class SystemClock final : public Clock {
 public:
  Instant now() const override;

 private:
  mutable std::optional<std::int64_t> synced_checked_at_ms_;
  mutable bool wall_synced_ = false;
};

// This boot of the machine (/proc/sys/kernel/random/boot_id): monotonic times persisted under
// another boot id are not comparable with now.
std::string read_boot_id();

// A clock that moves only when told to (tests, replay in virtual time).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t wall_ms = 0, std::int64_t mono_ms = 0)
      : now_{wall_ms, mono_ms, true} {}
  Instant now() const override { return now_; }
  void advance_ms(std::int64_t ms) {
    now_.wall_ms += ms;
    now_.mono_ms += ms;
  }
  // Moves both clocks so that the wall clock shows `wall_ms` (never backwards in monotonic time).
  void set_wall_ms(std::int64_t wall_ms) {
    if (wall_ms > now_.wall_ms) now_.mono_ms += wall_ms - now_.wall_ms;
    now_.wall_ms = wall_ms;
  }
  // Jumps the wall clock alone, as NTP does on a hub booted without RTC.
  void jump_wall_ms(std::int64_t delta) { now_.wall_ms += delta; }

 private:
  Instant now_;
};

}  // namespace homesafe::gateway
