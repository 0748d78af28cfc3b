#pragma once
// Alert kinds and their fixed policies (severity, whether the condition may close the alert).

#include <optional>
#include <string_view>

namespace homesafe::rules {

enum class AlertKind {
  smoke,
  gas,
  co,
  water_leak,
  call,
  no_water,
  inactivity,
  routine_deviation,
  water_running,
  power_running,
  night_door,
  temperature,
  device_offline,
  device_fault,
  low_battery,
  tamper,
  hub_offline,
  storage_full,  // the hub's own storage: full, failing, or nearly full (not from a rule)
};

enum class Severity { info, warning, emergency };

std::string_view to_string(AlertKind kind);
std::optional<AlertKind> alert_kind_from_string(std::string_view text);
std::string_view to_string(Severity severity);
std::optional<Severity> severity_from_string(std::string_view text);

// call, smoke, gas, CO: emergency; leak and person-related kinds: warning; maintenance: info.
Severity severity_of(AlertKind kind);

// Whether the alert closes itself when its condition clears. Never for smoke, gas, CO and calls:
// someone must look.
bool resolves_when_clear(AlertKind kind);

// Person-related kinds (no water, inactivity, routine deviation, night door) pause while the
// household is away and may go through a check-in with the resident first; hazards never pause.
bool is_person_related(AlertKind kind);

}  // namespace homesafe::rules
