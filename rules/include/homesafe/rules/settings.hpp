#pragma once
// What a household's anomaly rules are tuned with: local-time windows, durations and thresholds.
// The defaults are what a caregiver who must get up at night for an alert would choose: alerts
// that mean something. The installer overrides them per household (`rules:` in the hub config).

#include <cstdint>

namespace homesafe::rules {

inline constexpr std::int64_t kMinuteMs = 60'000;
inline constexpr std::int64_t kHourMs = 60 * kMinuteMs;
inline constexpr std::int64_t kDayMs = 24 * kHourMs;

// Local hours [from, to) in minutes after local midnight; wraps past midnight when to < from.
struct LocalWindow {
  int from_minute = 0;
  int to_minute = 0;
  bool contains(int minute_of_day) const;
  // Milliseconds of [start_ms, end_ms) (local milliseconds of day may wrap over several days,
  // given as local times: ms since the Unix epoch shifted by the zone offset) inside the window.
  std::int64_t overlap_ms(std::int64_t local_start_ms, std::int64_t local_end_ms) const;
};

struct NoWaterSettings {
  bool enabled = true;
  std::int64_t after_ms = 24 * kHourMs;  // no water drawn for this long
  double min_litres = 1.0;               // less than this in the window counts as none
  // Small amounts add up to `min_litres` only in readings arriving within this window (from the
  // first that contributed): a dripping tap or a leaking cistern (below about 0.5 L/h) is never
  // read as someone drawing water.
  std::int64_t min_litres_window_ms = kHourMs;
};

struct InactivitySettings {
  bool enabled = true;
  std::int64_t after_ms = 4 * kHourMs;       // waking-window time without any sign of life
  std::int64_t out_after_ms = 12 * kHourMs;  // ... when the last sign was the entrance door
};

struct WaterRunningSettings {
  bool enabled = true;
  // Water flowing without a pause this long (flowing: at least 0.5 l/min averaged over a
  // report, see ActivityTracker::kFlowingLPerMin).
  std::int64_t after_ms = 45 * kMinuteMs;
};

struct PowerRunningSettings {
  bool enabled = true;
  double high_power_w = 1000.0;                  // default threshold of a plug without its own
  std::int64_t after_ms = 2 * kHourMs;           // high power continuously this long (day)
  std::int64_t night_after_ms = 45 * kMinuteMs;  // ... in the night window
};

struct NightDoorSettings {
  bool enabled = true;
  std::int64_t no_return_ms = 15 * kMinuteMs;  // door opened at night, no activity inside
  std::int64_t open_ms = 10 * kMinuteMs;       // door left open at night
};

struct TemperatureSettings {
  bool enabled = true;
  double low_c = 10.0;
  double high_c = 32.0;
  double hysteresis_c = 1.0;               // back inside the range by this much to clear
  std::int64_t after_ms = 60 * kMinuteMs;  // outside the range continuously this long
};

struct DeviceSilenceSettings {
  bool enabled = true;
  std::int64_t battery_ms = 25 * kHourMs;
  std::int64_t mains_ms = 10 * kMinuteMs;
  int all_silent_min_devices = 3;  // at least this many silent at once: one hub_offline alert
};

struct RoutineSettings {
  bool enabled = true;
  int min_days = 14;      // learned (whole, at-home) days before the rule speaks
  int history_days = 28;  // days of history kept (at least min_days are kept)
  // Raise when today's inside gap (waking time since the last sign of life at home) reaches
  // factor x the usual longest gap at this time of day + margin, and at least min_gap
  // (docs/routine.md explains the method and how these defaults were chosen).
  double factor = 1.25;
  std::int64_t margin_ms = 45 * kMinuteMs;
  std::int64_t min_gap_ms = 90 * kMinuteMs;
};

struct RuleSettings {
  LocalWindow sleep{22 * 60, 7 * 60};  // sleeping: no sign of life is expected
  LocalWindow night{23 * 60, 5 * 60};  // night-door window
  NoWaterSettings no_water;
  InactivitySettings inactivity;
  WaterRunningSettings water_running;
  PowerRunningSettings power_running;
  NightDoorSettings night_door;
  TemperatureSettings temperature;
  DeviceSilenceSettings device_silence;
  RoutineSettings routine;
  // A condition that clears and comes back within this time keeps its alert open (counted as a
  // suppressed flap) instead of closing and reopening it.
  std::int64_t clear_hold_ms = 10 * kMinuteMs;
};

}  // namespace homesafe::rules
