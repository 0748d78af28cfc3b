// Driver for ESPHome's MQTT component (https://esphome.io/components/mqtt.html):
//   <prefix>/<component>/<object_id>/state   binary_sensor: ON | OFF; sensor: a decimal number,
//                                            or "nan" when the sensor has no valid value
//   <prefix>/status                          online | offline (birth message and last will)
// One configured device is one ESPHome entity: its topic is `<prefix>/<component>/<object_id>`
// (<prefix> is the node name unless topic_prefix is set).
//
// What an entity means comes from the device kind, refined by words in its object_id:
//   binary_sensor: tamper / battery_low / fault words first; else smoke|gas|co|water_leak kinds:
//                  ON = detected; contact: ON = open (Home Assistant's door convention), so
//                  contact (true = closed) is OFF; motion|occupancy: ON = occupied;
//                  call_button: ON = a press (action "press"), OFF = release (nothing).
//   sensor:        battery, humid, temp, energy|kwh, power|watt, water words; else the kind:
//                  temperature -> °C, plug -> W, water_meter -> litres (cumulative).
#include "homesafe/drivers/esphome.hpp"

#include <array>

#include "json_payload.hpp"

namespace homesafe::drivers {
namespace {

using C = Capability;
constexpr std::array kHazard{C::smoke,        C::gas,     C::carbon_monoxide,
                             C::water_leak,   C::tamper,  C::battery_low,
                             C::device_fault, C::battery, C::availability};
constexpr std::array kButton{C::action, C::availability};
constexpr std::array kContact{C::contact, C::tamper, C::battery, C::availability};
constexpr std::array kMotion{C::occupancy, C::tamper, C::battery, C::availability};
constexpr std::array kPlug{C::power, C::energy, C::availability};
constexpr std::array kWater{C::water_total_l, C::water_leak, C::battery, C::availability};
constexpr std::array kTemperature{C::temperature, C::humidity, C::battery, C::availability};

struct EntityTopic {
  std::string_view prefix;     // node name or topic_prefix
  std::string_view component;  // binary_sensor, sensor ...
  std::string_view object_id;
};

EntityTopic split(std::string_view topic) {
  EntityTopic out;
  const auto last = topic.rfind('/');
  if (last == std::string_view::npos) {
    out.object_id = topic;
    return out;
  }
  out.object_id = topic.substr(last + 1);
  const auto before = topic.substr(0, last);
  const auto middle = before.rfind('/');
  if (middle == std::string_view::npos) {
    out.component = before;
    return out;
  }
  out.component = before.substr(middle + 1);
  out.prefix = before.substr(0, middle);
  return out;
}

bool has_word(std::string_view object_id, std::string_view word) {
  return object_id.find(word) != std::string_view::npos;
}

std::optional<Capability> hazard_of(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::smoke:
      return C::smoke;
    case DeviceKind::gas:
      return C::gas;
    case DeviceKind::co:
      return C::carbon_monoxide;
    case DeviceKind::water_leak:
      return C::water_leak;
    default:
      return std::nullopt;
  }
}

void decode_binary(const DeviceConfig& device, std::string_view object_id, std::string_view payload,
                   DecodeResult& out) {
  const auto text = detail::trim(payload);
  bool on = false;
  if (detail::iequals(text, "ON")) {
    on = true;
  } else if (!detail::iequals(text, "OFF")) {
    detail::add_problem(out, DecodeError::malformed, "state");
    return;
  }
  if (has_word(object_id, "tamper")) {
    out.readings.push_back({C::tamper, on});
  } else if (has_word(object_id, "battery_low") || has_word(object_id, "low_battery")) {
    out.readings.push_back({C::battery_low, on});
  } else if (has_word(object_id, "fault") || has_word(object_id, "problem")) {
    out.readings.push_back({C::device_fault, on});
  } else if (auto hazard = hazard_of(device.kind)) {
    out.readings.push_back({*hazard, on});
  } else if (device.kind == DeviceKind::contact) {
    out.readings.push_back({C::contact, !on});
  } else if (device.kind == DeviceKind::motion || device.kind == DeviceKind::occupancy) {
    out.readings.push_back({C::occupancy, on});
  } else if (device.kind == DeviceKind::call_button) {
    if (on) out.readings.push_back({C::action, Value(std::in_place_type<std::string>, "press")});
  }
}

std::optional<Capability> sensor_capability(const DeviceConfig& device,
                                            std::string_view object_id) {
  if (has_word(object_id, "battery")) return C::battery;
  if (has_word(object_id, "humid")) return C::humidity;
  if (has_word(object_id, "temp")) return C::temperature;
  if (has_word(object_id, "energy") || has_word(object_id, "kwh")) return C::energy;
  if (has_word(object_id, "power") || has_word(object_id, "watt")) return C::power;
  if (has_word(object_id, "water")) return C::water_total_l;
  switch (device.kind) {
    case DeviceKind::temperature:
      return C::temperature;
    case DeviceKind::plug:
      return C::power;
    case DeviceKind::water_meter:
      return C::water_total_l;
    default:
      return std::nullopt;
  }
}

void decode_sensor(const DeviceConfig& device, std::string_view object_id, std::string_view payload,
                   DecodeResult& out) {
  const auto capability = sensor_capability(device, object_id);
  const std::string key(capability ? to_string(*capability) : std::string_view("state"));
  const auto value = detail::parse_decimal(payload);
  if (!value) {
    const auto text = detail::trim(payload);
    const bool nan = detail::iequals(text, "nan") || detail::iequals(text, "-nan") ||
                     detail::iequals(text, "inf") || detail::iequals(text, "-inf");
    detail::add_problem(out, nan ? DecodeError::not_a_number : DecodeError::malformed, key);
    return;
  }
  if (!capability) return;  // a number this device kind has no use for
  const auto range = detail::plausible_range(*capability);
  if (*value < range.min || *value > range.max) {
    detail::add_problem(out, DecodeError::not_a_number, key);
    return;
  }
  out.readings.push_back({*capability, *value});
}

}  // namespace

std::string_view EsphomeDriver::format() const {
  return "esphome";
}

std::span<const Capability> EsphomeDriver::exposes(DeviceKind kind) const {
  static constexpr detail::ExposesTable kExposes{kHazard, kButton, kContact,    kMotion,
                                                 kPlug,   kWater,  kTemperature};
  return kExposes.by_kind(kind);
}

std::vector<std::string> EsphomeDriver::topics(const DeviceConfig& device) const {
  std::vector<std::string> out{device.topic + "/state"};
  const auto entity = split(device.topic);
  if (!entity.prefix.empty()) out.push_back(std::string(entity.prefix) + "/status");
  return out;
}

DecodeResult EsphomeDriver::decode(const DeviceConfig& device, std::string_view topic,
                                   std::string_view payload) const {
  DecodeResult out;
  const auto entity = split(device.topic);
  if (detail::starts_with(topic, device.topic) && topic.substr(device.topic.size()) == "/state") {
    if (entity.component == "binary_sensor") {
      decode_binary(device, entity.object_id, payload, out);
    } else if (entity.component == "sensor") {
      decode_sensor(device, entity.object_id, payload, out);
    }  // switch, text_sensor ...: nothing in the vocabulary
  } else if (!entity.prefix.empty() && detail::starts_with(topic, entity.prefix) &&
             topic.substr(entity.prefix.size()) == "/status") {
    detail::read_availability(payload, out);
  } else {
    detail::add_problem(out, DecodeError::unknown_topic);
  }
  return out;
}

}  // namespace homesafe::drivers
