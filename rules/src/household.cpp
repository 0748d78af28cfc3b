#include "homesafe/rules/household.hpp"

#include <algorithm>

namespace homesafe::rules {
namespace {

constexpr std::int64_t kMinutesPerDay = 24 * 60;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

}  // namespace

bool LocalWindow::contains(int minute_of_day) const {
  if (from_minute == to_minute) return false;
  if (from_minute < to_minute) return minute_of_day >= from_minute && minute_of_day < to_minute;
  return minute_of_day >= from_minute || minute_of_day < to_minute;
}

std::int64_t LocalWindow::overlap_ms(std::int64_t local_start_ms, std::int64_t local_end_ms) const {
  if (local_end_ms <= local_start_ms || from_minute == to_minute) return 0;
  // The window as intervals of one local day, in ms after local midnight.
  std::int64_t parts[2][2];
  int count = 0;
  const std::int64_t from = from_minute * kMinuteMs;
  const std::int64_t to = to_minute * kMinuteMs;
  if (from < to) {
    parts[count][0] = from;
    parts[count++][1] = to;
  } else {
    parts[count][0] = 0;
    parts[count++][1] = to;
    parts[count][0] = from;
    parts[count++][1] = kDayMs;
  }
  std::int64_t total = 0;
  for (std::int64_t day = floor_div(local_start_ms, kDayMs); day * kDayMs < local_end_ms; ++day) {
    const std::int64_t base = day * kDayMs;
    for (int i = 0; i < count; ++i) {
      const std::int64_t a = std::max(local_start_ms, base + parts[i][0]);
      const std::int64_t b = std::min(local_end_ms, base + parts[i][1]);
      if (b > a) total += b - a;
    }
  }
  return total;
}

int Household::local_minute(std::int64_t wall_ms) const {
  return static_cast<int>(floor_div(zone.local_ms_of_day(wall_ms), kMinuteMs) % kMinutesPerDay);
}

std::int64_t Household::waking_ms_between(std::int64_t from_wall_ms,
                                          std::int64_t to_wall_ms) const {
  if (to_wall_ms <= from_wall_ms) return 0;
  const std::int64_t offset = static_cast<std::int64_t>(zone.offset_at(from_wall_ms)) * 1000;
  const std::int64_t local_from = from_wall_ms + offset;
  const std::int64_t local_to = to_wall_ms + offset;
  return (local_to - local_from) - settings.sleep.overlap_ms(local_from, local_to);
}

std::int64_t Household::wall_after_waking_ms(std::int64_t from_wall_ms,
                                             std::int64_t waking_ms) const {
  // Waking time grows monotonically with the end: bisect over eight days.
  std::int64_t low = from_wall_ms;
  std::int64_t high = from_wall_ms + waking_ms + 8 * kDayMs;
  if (waking_ms_between(from_wall_ms, high) < waking_ms) return high;
  while (high - low > 1000) {
    const std::int64_t mid = low + (high - low) / 2;
    if (waking_ms_between(from_wall_ms, mid) >= waking_ms) {
      high = mid;
    } else {
      low = mid;
    }
  }
  return high;
}

bool is_activity_source(const drivers::DeviceConfig& device) {
  if (device.activity) return *device.activity;
  switch (device.kind) {
    case drivers::DeviceKind::motion:
    case drivers::DeviceKind::occupancy:
    case drivers::DeviceKind::contact:
    case drivers::DeviceKind::call_button:
    case drivers::DeviceKind::water_meter:
    case drivers::DeviceKind::plug:
      return true;
    default:
      return false;
  }
}

}  // namespace homesafe::rules
