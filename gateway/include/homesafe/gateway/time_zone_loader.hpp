#pragma once

#include <optional>
#include <string>

#include "homesafe/rules/time_zone.hpp"

namespace homesafe::gateway {

// Loads a named zone from /usr/share/zoneinfo (or $TZDIR). Asia/Shanghai falls back to a fixed
// +08:00 (China has no daylight saving time) when the tz database is missing.
std::optional<rules::TimeZone> load_time_zone(const std::string& name);

}  // namespace homesafe::gateway
