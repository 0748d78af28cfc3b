#pragma once
// The Zigbee device families homesafe knows by model (Zigbee2MQTT's `definition.model`), and
// what differs per model: which `action` values a button publishes, extra keys that mean smoke,
// gas measured in % LEL. A model not in this table still works through the generic key mapping
// (docs/devices.md lists both).

#include <span>
#include <string_view>

#include "homesafe/drivers/device.hpp"

namespace homesafe::drivers::detail {

// An `action` value as the model publishes it and the name homesafe uses for it. An empty
// `to` means the value is not a press (a release, an alarm-cleared notification) and is dropped.
struct ActionRename {
  std::string_view from;
  std::string_view to;
};

struct ZigbeeModel {
  std::string_view model;   // as Zigbee2MQTT names it (definition.model), matched ignoring case
  std::string_view vendor;  // as Zigbee2MQTT names it
  std::string_view description;
  DeviceKind kind;
  std::span<const ActionRename> actions{};
  std::span<const std::string_view> smoke_keys{};  // more boolean keys meaning smoke
  std::string_view lel_key{};                      // numeric key: gas concentration in % LEL
  double lel_alarm_percent = 0;                    // gas when lel_key >= this
};

// Concentration at which homesafe treats a % LEL reading as gas, for models that publish one.
// GB 15322.2 requires household combustible gas alarms to sound between 3 % and 25 % LEL; 10 %
// is the common factory setting (and Aqara's more sensitive option).
inline constexpr double kDefaultLelAlarmPercent = 10.0;

std::span<const ZigbeeModel> zigbee_models();

// The entry for a configured model (case-insensitive), or nullptr.
const ZigbeeModel* find_zigbee_model(std::string_view model);

}  // namespace homesafe::drivers::detail
