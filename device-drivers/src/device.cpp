#include "homesafe/drivers/device.hpp"

#include <array>
#include <utility>

namespace homesafe::drivers {
namespace {

constexpr std::array<std::pair<DeviceKind, std::string_view>, 11> kKindNames{{
    {DeviceKind::smoke, "smoke"},
    {DeviceKind::gas, "gas"},
    {DeviceKind::co, "co"},
    {DeviceKind::water_leak, "water_leak"},
    {DeviceKind::call_button, "call_button"},
    {DeviceKind::contact, "contact"},
    {DeviceKind::motion, "motion"},
    {DeviceKind::occupancy, "occupancy"},
    {DeviceKind::plug, "plug"},
    {DeviceKind::water_meter, "water_meter"},
    {DeviceKind::temperature, "temperature"},
}};

}  // namespace

std::string_view to_string(DeviceKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<DeviceKind> device_kind_from_string(std::string_view text) {
  for (const auto& [k, name] : kKindNames) {
    if (name == text) return k;
  }
  return std::nullopt;
}

const std::vector<std::string_view>& device_kind_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& entry : kKindNames) out.push_back(entry.second);
    return out;
  }();
  return names;
}

bool is_alarm_class(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::smoke:
    case DeviceKind::gas:
    case DeviceKind::co:
    case DeviceKind::water_leak:
    case DeviceKind::call_button:
      return true;
    default:
      return false;
  }
}

const std::vector<std::string>& call_actions_of(const DeviceConfig& device) {
  static const std::vector<std::string> kDefault{"sos", "emergency", "single", "press", "long"};
  return device.call_actions.empty() ? kDefault : device.call_actions;
}

}  // namespace homesafe::drivers
