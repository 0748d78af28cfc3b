#pragma once
// Everything a household's rules know about it besides the messages: its time zone, its devices
// and its settings. Shared, immutable, owned by the gateway for the life of the rules.

#include <memory>
#include <vector>

#include "homesafe/drivers/device.hpp"
#include "homesafe/rules/settings.hpp"
#include "homesafe/rules/time_zone.hpp"

namespace homesafe::rules {

struct Household {
  TimeZone zone = TimeZone::fixed("UTC", 0);
  std::vector<drivers::DeviceConfig> devices;
  RuleSettings settings;

  // Local minute of the day (0..1439) at a Unix time.
  int local_minute(std::int64_t wall_ms) const;
  bool asleep(std::int64_t wall_ms) const { return settings.sleep.contains(local_minute(wall_ms)); }
  bool night(std::int64_t wall_ms) const { return settings.night.contains(local_minute(wall_ms)); }
  // Milliseconds of [from_wall_ms, to_wall_ms) outside the sleeping window.
  std::int64_t waking_ms_between(std::int64_t from_wall_ms, std::int64_t to_wall_ms) const;
  // The wall time at which `waking_ms` of waking time will have passed after `from_wall_ms`
  // (searches at most eight days ahead).
  std::int64_t wall_after_waking_ms(std::int64_t from_wall_ms, std::int64_t waking_ms) const;
};

using HouseholdPtr = std::shared_ptr<const Household>;

// Whether messages of this device can show a sign of life (its own `activity` setting, else by
// kind: motion, occupancy, contact, call button, water meter, plug).
bool is_activity_source(const drivers::DeviceConfig& device);

}  // namespace homesafe::rules
