#pragma once
// What the gateway knows about one configured device.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace homesafe::drivers {

enum class DeviceKind {
  smoke,
  gas,
  co,
  water_leak,
  call_button,
  contact,
  motion,
  occupancy,
  plug,
  water_meter,
  temperature,
};

std::string_view to_string(DeviceKind kind);
std::optional<DeviceKind> device_kind_from_string(std::string_view text);
// Every kind name, in declaration order (for error messages and docs).
const std::vector<std::string_view>& device_kind_names();

// Alarm-class devices carry life-safety signals: their messages are subscribed at QoS 1 and
// committed before the broker is acknowledged.
bool is_alarm_class(DeviceKind kind);

enum class PowerSource { battery, mains };

struct DeviceConfig {
  std::string id;  // [A-Za-z0-9_-]{1,64}
  DeviceKind kind = DeviceKind::smoke;
  std::string format = "native";
  std::string topic;     // base topic as the integration publishes it
  std::string location;  // room, e.g. 厨房
  PowerSource power = PowerSource::battery;
  std::string model;  // optional, e.g. HS1SA (used by ecosystem drivers)
  // For call buttons: the `action` values that mean "call for help". Empty means the default
  // for the kind: sos, emergency, single, press, long.
  std::vector<std::string> call_actions;
  // For the anomaly rules:
  bool entrance = false;                   // contact: the household's entrance door
  std::optional<bool> activity;            // shows a sign of life (default by kind)
  std::optional<double> high_power_w;      // plug: at or above this, "high power" (stove, heater)
  std::optional<std::int64_t> silence_ms;  // silent longer than this: device_offline
};

// The action values that mean a call for this device (its own list or the defaults).
const std::vector<std::string>& call_actions_of(const DeviceConfig& device);

}  // namespace homesafe::drivers
