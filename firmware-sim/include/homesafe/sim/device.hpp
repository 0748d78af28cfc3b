#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "homesafe/sim/message.hpp"

namespace homesafe::sim {

enum class DeviceType {
  smoke_detector,
  gas_alarm,
  co_alarm,
  water_leak,
  water_meter,
  plug,
  call_button,
  door,
  motion,
  temperature,
};

enum class PowerSource { battery, mains };

std::span<const DeviceType> all_device_types();
std::string_view to_string(DeviceType type);
std::optional<DeviceType> parse_device_type(std::string_view name);
// gas_alarm and plug are mains powered; every other type runs on a battery.
PowerSource default_power(DeviceType type);
std::string_view to_string(PowerSource power);
std::optional<PowerSource> parse_power_source(std::string_view name);

enum class ParamKind { number, text };

// A named argument of an event (`litres: 12`, `--litres 12`).
struct ParamSpec {
  std::string_view name;
  ParamKind kind;
  bool required;
  double min = 0;  // for numbers
  double max = 0;
  std::string_view help;
};

struct EventSpec {
  std::string_view name;
  std::string_view help;
  std::span<const ParamSpec> params;
  bool publishes_state = true;  // false for online/offline (availability topic)
};

// The events a device of this type and power source accepts, in documentation order.
std::vector<const EventSpec*> events_for(DeviceType type, PowerSource power);
const EventSpec* find_event(DeviceType type, PowerSource power, std::string_view event);
const ParamSpec* find_param(const EventSpec& event, std::string_view name);
// Every parameter name any event accepts (to tell "unknown key" from "not for this event").
bool is_any_param(std::string_view name);
// Why `value` is not acceptable for `param`; std::nullopt if it is.
std::optional<std::string> check_param(const ParamSpec& param, const nlohmann::json& value);

// Arguments of one event. `overrides` replace (or add) state keys in the messages of this event
// only (`--set key=value`, `set: {key: value}`).
struct EventArgs {
  std::map<std::string, nlohmann::json, std::less<>> params;
  nlohmann::ordered_json overrides = nlohmann::ordered_json::object();
};

// Every problem with `event` + `args` for this device; empty if it can be applied.
std::vector<std::string> validate_event(DeviceType type, PowerSource power, std::string_view event,
                                        const EventArgs& args);

// One simulated device: its whole current state, which every state message repeats (as
// Zigbee2MQTT does), and the events that change it. Pure: time is passed in.
class Device {
 public:
  Device(std::string id, DeviceType type, std::string base_topic);
  Device(std::string id, DeviceType type, std::string base_topic, PowerSource power);

  const std::string& id() const { return id_; }
  DeviceType type() const { return type_; }
  PowerSource power() const { return power_; }
  const std::string& base_topic() const { return base_topic_; }
  // Availability as last published; a device counts as online until an `offline` event.
  bool online() const { return online_; }
  // The current state in payload order, without "ts" and without "action".
  const nlohmann::ordered_json& state() const { return state_; }

  // Applies `event` at virtual time `now_ms` (which must not go backwards) and returns the
  // messages it publishes, in order. Throws std::invalid_argument if validate_event() objects.
  std::vector<Message> apply(std::string_view event, const EventArgs& args, std::int64_t now_ms);

 private:
  void accrue_energy(std::int64_t now_ms);
  Message state_message(std::string_view action, const EventArgs& args, std::int64_t now_ms) const;
  std::string_view hazard_key() const;

  std::string id_;
  DeviceType type_;
  std::string base_topic_;
  PowerSource power_;
  nlohmann::ordered_json state_ = nlohmann::ordered_json::object();
  bool online_ = true;
  // Plug: exact cumulative energy and the time it was last brought up to date.
  double energy_kwh_ = 0;
  std::optional<std::int64_t> energy_updated_ms_;
  // Water meter: exact cumulative litres.
  double water_total_l_ = 0;
};

}  // namespace homesafe::sim
