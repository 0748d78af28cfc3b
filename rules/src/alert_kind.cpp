#include "homesafe/rules/alert_kind.hpp"

#include <array>
#include <utility>

namespace homesafe::rules {
namespace {

constexpr std::array<std::pair<AlertKind, std::string_view>, 18> kKindNames{{
    {AlertKind::smoke, "smoke"},
    {AlertKind::gas, "gas"},
    {AlertKind::co, "co"},
    {AlertKind::water_leak, "water_leak"},
    {AlertKind::call, "call"},
    {AlertKind::no_water, "no_water"},
    {AlertKind::inactivity, "inactivity"},
    {AlertKind::routine_deviation, "routine_deviation"},
    {AlertKind::water_running, "water_running"},
    {AlertKind::power_running, "power_running"},
    {AlertKind::night_door, "night_door"},
    {AlertKind::temperature, "temperature"},
    {AlertKind::device_offline, "device_offline"},
    {AlertKind::device_fault, "device_fault"},
    {AlertKind::low_battery, "low_battery"},
    {AlertKind::tamper, "tamper"},
    {AlertKind::hub_offline, "hub_offline"},
    {AlertKind::storage_full, "storage_full"},
}};

}  // namespace

std::string_view to_string(AlertKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<AlertKind> alert_kind_from_string(std::string_view text) {
  for (const auto& [k, name] : kKindNames) {
    if (name == text) return k;
  }
  return std::nullopt;
}

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::emergency:
      return "emergency";
  }
  return "unknown";
}

std::optional<Severity> severity_from_string(std::string_view text) {
  if (text == "info") return Severity::info;
  if (text == "warning") return Severity::warning;
  if (text == "emergency") return Severity::emergency;
  return std::nullopt;
}

Severity severity_of(AlertKind kind) {
  switch (kind) {
    case AlertKind::smoke:
    case AlertKind::gas:
    case AlertKind::co:
    case AlertKind::call:
      return Severity::emergency;
    case AlertKind::device_offline:
    case AlertKind::device_fault:
    case AlertKind::low_battery:
    case AlertKind::tamper:
    case AlertKind::storage_full:
      return Severity::info;
    default:
      return Severity::warning;
  }
}

bool resolves_when_clear(AlertKind kind) {
  switch (kind) {
    case AlertKind::water_leak:
    case AlertKind::device_offline:
    case AlertKind::device_fault:
    case AlertKind::low_battery:
    case AlertKind::tamper:
    case AlertKind::hub_offline:
    case AlertKind::storage_full:
    case AlertKind::water_running:
    case AlertKind::power_running:
    case AlertKind::temperature:
      return true;
    default:
      return false;
  }
}

bool is_person_related(AlertKind kind) {
  switch (kind) {
    case AlertKind::no_water:
    case AlertKind::inactivity:
    case AlertKind::routine_deviation:
    case AlertKind::night_door:
      return true;
    default:
      return false;
  }
}

}  // namespace homesafe::rules
