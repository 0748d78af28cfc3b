#include "homesafe/sim/device.hpp"

#include <array>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "homesafe/sim/encoder.hpp"

namespace homesafe::sim {
namespace {

using T = DeviceType;

constexpr std::array kTypes{T::smoke_detector, T::gas_alarm,  T::co_alarm,    T::water_leak,
                            T::water_meter,    T::plug,       T::call_button, T::door,
                            T::motion,         T::temperature};

constexpr unsigned bit(T type) {
  return 1U << static_cast<unsigned>(type);
}
constexpr unsigned kAll = (1U << kTypes.size()) - 1;
constexpr unsigned kHazard = bit(T::smoke_detector) | bit(T::gas_alarm) | bit(T::co_alarm);
constexpr unsigned kTamper = kHazard | bit(T::door) | bit(T::motion);

constexpr std::array kBatteryLowParams{
    ParamSpec{"battery", ParamKind::number, false, 0, 100, "battery % (default 10)"}};
constexpr std::array kBatteryOkParams{
    ParamSpec{"battery", ParamKind::number, false, 0, 100, "battery % (default 100)"}};
constexpr std::array kUseParams{
    ParamSpec{"litres", ParamKind::number, true, 0, 1e6, "litres drawn"}};
constexpr std::array kPowerParams{
    ParamSpec{"watts", ParamKind::number, true, 0, 100'000, "power draw in W"}};
constexpr std::array kPressParams{
    ParamSpec{"action", ParamKind::text, false, 0, 0, "action name (default sos)"}};
constexpr std::array kReadingParams{
    ParamSpec{"celsius", ParamKind::number, true, -100, 200, "temperature in °C"},
    ParamSpec{"humidity", ParamKind::number, false, 0, 100, "relative humidity %"}};

struct EventRow {
  EventSpec spec;
  unsigned types;
  bool battery_only = false;
};

const std::array kEvents{
    EventRow{{"online", "availability `online` (retained)", {}, false}, kAll},
    EventRow{{"offline", "availability `offline` (retained)", {}, false}, kAll},
    EventRow{{"report", "republish the whole state unchanged (periodic report)", {}}, kAll},
    EventRow{{"alarm", "hazard key (smoke / gas / carbon_monoxide) true", {}}, kHazard},
    EventRow{{"clear", "hazard key false", {}}, kHazard},
    EventRow{{"test",
              "self-test: hazard + test true, then a second message with the hazard back to its "
              "previous value and test false",
              {}},
             kHazard},
    EventRow{{"leak", "water_leak true", {}}, bit(T::water_leak)},
    EventRow{{"dry", "water_leak false", {}}, bit(T::water_leak)},
    EventRow{{"use", "add `litres` to water_total_l", kUseParams}, bit(T::water_meter)},
    EventRow{{"reset", "water_total_l back to 0 (battery change)", {}}, bit(T::water_meter)},
    EventRow{{"power", "set power to `watts`; energy (kWh) accrues from the power in virtual time",
              kPowerParams},
             bit(T::plug)},
    EventRow{{"press", "a press: action `sos` (or `action`)", kPressParams}, bit(T::call_button)},
    EventRow{{"double_press", "action `double`", {}}, bit(T::call_button)},
    EventRow{{"long_press", "action `hold`", {}}, bit(T::call_button)},
    EventRow{{"open", "contact false", {}}, bit(T::door)},
    EventRow{{"close", "contact true", {}}, bit(T::door)},
    EventRow{{"motion", "occupancy true", {}}, bit(T::motion)},
    EventRow{{"still", "occupancy false", {}}, bit(T::motion)},
    EventRow{
        {"reading", "set temperature to `celsius` (and humidity to `humidity`)", kReadingParams},
        bit(T::temperature)},

    EventRow{{"tamper", "tamper true", {}}, kTamper},
    EventRow{{"tamper_clear", "tamper false", {}}, kTamper},
    EventRow{{"battery_low", "battery_low true, battery 10 (or `battery`)", kBatteryLowParams},
             kAll,
             true},
    EventRow{{"battery_ok", "battery_low false, battery 100 (or `battery`)", kBatteryOkParams},
             kAll,
             true},
};

bool accepts(const EventRow& row, DeviceType type, PowerSource power) {
  return (row.types & bit(type)) != 0 && (!row.battery_only || power == PowerSource::battery);
}

double number_param(const EventArgs& args, std::string_view name, double fallback) {
  auto it = args.params.find(name);
  return it == args.params.end() ? fallback : it->second.get<double>();
}

}  // namespace

std::span<const DeviceType> all_device_types() {
  return kTypes;
}

std::string_view to_string(DeviceType type) {
  switch (type) {
    case T::smoke_detector:
      return "smoke_detector";
    case T::gas_alarm:
      return "gas_alarm";
    case T::co_alarm:
      return "co_alarm";
    case T::water_leak:
      return "water_leak";
    case T::water_meter:
      return "water_meter";
    case T::plug:
      return "plug";
    case T::call_button:
      return "call_button";
    case T::door:
      return "door";
    case T::motion:
      return "motion";
    case T::temperature:
      return "temperature";
  }
  return "?";
}

std::optional<DeviceType> parse_device_type(std::string_view name) {
  for (auto type : kTypes) {
    if (to_string(type) == name) return type;
  }
  return std::nullopt;
}

PowerSource default_power(DeviceType type) {
  return type == T::gas_alarm || type == T::plug ? PowerSource::mains : PowerSource::battery;
}

std::string_view to_string(PowerSource power) {
  return power == PowerSource::battery ? "battery" : "mains";
}

std::optional<PowerSource> parse_power_source(std::string_view name) {
  if (name == "battery") return PowerSource::battery;
  if (name == "mains") return PowerSource::mains;
  return std::nullopt;
}

std::vector<const EventSpec*> events_for(DeviceType type, PowerSource power) {
  std::vector<const EventSpec*> result;
  for (const auto& row : kEvents) {
    if (accepts(row, type, power)) result.push_back(&row.spec);
  }
  return result;
}

const EventSpec* find_event(DeviceType type, PowerSource power, std::string_view event) {
  for (const auto& row : kEvents) {
    if (row.spec.name == event && accepts(row, type, power)) return &row.spec;
  }
  return nullptr;
}

const ParamSpec* find_param(const EventSpec& event, std::string_view name) {
  for (const auto& param : event.params) {
    if (param.name == name) return &param;
  }
  return nullptr;
}

bool is_any_param(std::string_view name) {
  for (const auto& row : kEvents) {
    if (find_param(row.spec, name) != nullptr) return true;
  }
  return false;
}

std::optional<std::string> check_param(const ParamSpec& param, const nlohmann::json& value) {
  if (param.kind == ParamKind::text) {
    if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
      return fmt::format("`{}` must be a non-empty string", param.name);
    }
    return std::nullopt;
  }
  if (!value.is_number() || !std::isfinite(value.get<double>())) {
    return fmt::format("`{}` must be a number", param.name);
  }
  const double number = value.get<double>();
  if (number < param.min || number > param.max) {
    return fmt::format("`{}` must be between {} and {}", param.name, param.min, param.max);
  }
  return std::nullopt;
}

std::vector<std::string> validate_event(DeviceType type, PowerSource power, std::string_view event,
                                        const EventArgs& args) {
  std::vector<std::string> problems;
  const EventSpec* spec = find_event(type, power, event);
  if (spec == nullptr) {
    std::string known;
    for (const auto* candidate : events_for(type, power)) {
      known += known.empty() ? "" : ", ";
      known += candidate->name;
    }
    problems.push_back(fmt::format("unknown event '{}' for a {} {} device (expected one of: {})",
                                   event, to_string(power), to_string(type), known));
    return problems;
  }
  for (const auto& [name, value] : args.params) {
    const ParamSpec* param = find_param(*spec, name);
    if (param == nullptr) {
      problems.push_back(fmt::format("event '{}' takes no `{}`", event, name));
    } else if (auto why = check_param(*param, value)) {
      problems.push_back(*why);
    }
  }
  for (const auto& param : spec->params) {
    if (param.required && !args.params.contains(param.name)) {
      problems.push_back(fmt::format("event '{}' needs `{}`", event, param.name));
    }
  }
  if (!args.overrides.is_object()) {
    problems.push_back("overrides must be an object");
  } else if (!spec->publishes_state && !args.overrides.empty()) {
    problems.push_back(fmt::format("event '{}' publishes no state to override", event));
  }
  return problems;
}

Device::Device(std::string id, DeviceType type, std::string base_topic)
    : Device(std::move(id), type, std::move(base_topic), default_power(type)) {}

Device::Device(std::string id, DeviceType type, std::string base_topic, PowerSource power)
    : id_(std::move(id)), type_(type), base_topic_(std::move(base_topic)), power_(power) {
  // Key order is payload order: the primary key first, like Zigbee2MQTT's exposes.
  switch (type_) {
    case T::smoke_detector:
    case T::gas_alarm:
    case T::co_alarm:
    case T::water_leak:
      state_[std::string(hazard_key())] = false;
      break;
    case T::water_meter:
      state_["water_total_l"] = 0;
      break;
    case T::plug:
      state_["power"] = 0;
      state_["energy"] = 0;
      break;
    case T::call_button:
      break;
    case T::door:
      state_["contact"] = true;
      break;
    case T::motion:
      state_["occupancy"] = false;
      break;
    case T::temperature:
      state_["temperature"] = 20;
      state_["humidity"] = 50;
      break;
  }
  if (power_ == PowerSource::battery) {
    state_["battery"] = 100;
    state_["battery_low"] = false;
  }
  const unsigned mask = bit(type_);
  if ((mask & kTamper) != 0) state_["tamper"] = false;
  if ((mask & kHazard) != 0) state_["test"] = false;
}

std::string_view Device::hazard_key() const {
  switch (type_) {
    case T::smoke_detector:
      return "smoke";
    case T::gas_alarm:
      return "gas";
    case T::co_alarm:
      return "carbon_monoxide";
    case T::water_leak:
      return "water_leak";
    default:
      return {};
  }
}

void Device::accrue_energy(std::int64_t now_ms) {
  if (type_ != T::plug) return;
  if (energy_updated_ms_ && now_ms > *energy_updated_ms_) {
    const double watts = state_["power"].get<double>();
    energy_kwh_ += watts * static_cast<double>(now_ms - *energy_updated_ms_) / 3.6e9;
    state_["energy"] = json_number(energy_kwh_);
  }
  energy_updated_ms_ = now_ms;
}

Message Device::state_message(std::string_view action, const EventArgs& args,
                              std::int64_t now_ms) const {
  return {now_ms, state_topic(base_topic_), encode_state(state_, action, args.overrides, now_ms),
          false};
}

std::vector<Message> Device::apply(std::string_view event, const EventArgs& args,
                                   std::int64_t now_ms) {
  if (auto problems = validate_event(type_, power_, event, args); !problems.empty()) {
    throw std::invalid_argument(fmt::format("device {}: {}", id_, problems.front()));
  }
  accrue_energy(now_ms);

  if (event == "online" || event == "offline") {
    online_ = event == "online";
    return {{now_ms, availability_topic(base_topic_), std::string(event), true}};
  }
  const std::string hazard(hazard_key());
  if (event == "test") {
    const auto previous = state_[hazard];
    state_[hazard] = true;
    state_["test"] = true;
    std::vector<Message> messages{state_message({}, args, now_ms)};
    state_[hazard] = previous;
    state_["test"] = false;
    messages.push_back(state_message({}, args, now_ms));
    return messages;
  }

  std::string action;
  if (event == "alarm" || event == "leak") {
    state_[hazard] = true;
  } else if (event == "clear" || event == "dry") {
    state_[hazard] = false;
  } else if (event == "tamper") {
    state_["tamper"] = true;
  } else if (event == "tamper_clear") {
    state_["tamper"] = false;
  } else if (event == "battery_low") {
    state_["battery"] = json_number(number_param(args, "battery", 10));
    state_["battery_low"] = true;
  } else if (event == "battery_ok") {
    state_["battery"] = json_number(number_param(args, "battery", 100));
    state_["battery_low"] = false;
  } else if (event == "use") {
    water_total_l_ += number_param(args, "litres", 0);
    state_["water_total_l"] = json_number(water_total_l_);
  } else if (event == "reset") {
    water_total_l_ = 0;
    state_["water_total_l"] = 0;
  } else if (event == "power") {
    state_["power"] = json_number(number_param(args, "watts", 0));
  } else if (event == "press") {
    auto it = args.params.find("action");
    action = it == args.params.end() ? "sos" : it->second.get<std::string>();
  } else if (event == "double_press") {
    action = "double";
  } else if (event == "long_press") {
    action = "hold";
  } else if (event == "open") {
    state_["contact"] = false;
  } else if (event == "close") {
    state_["contact"] = true;
  } else if (event == "motion") {
    state_["occupancy"] = true;
  } else if (event == "still") {
    state_["occupancy"] = false;
  } else if (event == "reading") {
    state_["temperature"] = json_number(number_param(args, "celsius", 0));
    if (args.params.contains("humidity")) {
      state_["humidity"] = json_number(number_param(args, "humidity", 0));
    }
  }
  // "report" changes nothing: the same whole state again.
  return {state_message(action, args, now_ms)};
}

}  // namespace homesafe::sim
