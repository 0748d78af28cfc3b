// Driver for Zigbee2MQTT 1.x and 2.x
// (https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html):
//   <base>/<friendly_name>               JSON: the device's whole cached state, every time
//   <base>/<friendly_name>/availability  {"state":"online"} (1.x new, 2.x) or online (1.x legacy)
//   <base>/bridge/state                  {"state":"online"} (1.x new, 2.x) or online (1.x legacy)
// The device's base topic is `<base>/<friendly_name>`; <base> is its first topic level.
//
// A state message repeats every cached key, so a stale `smoke: true` arrives again with each
// battery report: the driver reports what the message says and the rules act on transitions.
// `action` is not cached by Zigbee2MQTT: it is reported only when present and non-empty.
#include "homesafe/drivers/zigbee2mqtt.hpp"

#include <array>

#include "json_payload.hpp"
#include "zigbee_models.hpp"

namespace homesafe::drivers {
namespace {

using C = Capability;
constexpr std::array kHazard{C::smoke,        C::gas,         C::carbon_monoxide, C::water_leak,
                             C::battery,      C::battery_low, C::tamper,          C::self_test,
                             C::device_fault, C::availability};
constexpr std::array kButton{C::action, C::battery, C::battery_low, C::availability};
constexpr std::array kContact{C::contact, C::battery, C::battery_low, C::tamper, C::availability};
constexpr std::array kMotion{C::occupancy, C::battery, C::battery_low, C::tamper, C::availability};
constexpr std::array kPlug{C::power, C::energy, C::availability};
constexpr std::array kBattery{C::battery, C::battery_low, C::availability};
constexpr std::array kTemperature{C::temperature, C::humidity, C::battery, C::battery_low,
                                  C::availability};

constexpr std::string_view kAvailabilitySuffix = "/availability";
constexpr std::string_view kBridgeState = "/bridge/state";

// `<base>/bridge/state` for a device topic `<base>/<friendly_name>`.
std::string bridge_state_topic(std::string_view device_topic) {
  const auto slash = device_topic.find('/');
  return std::string(device_topic.substr(0, slash)) + std::string(kBridgeState);
}

// A boolean under a key that only some models publish: anything but a boolean is ignored
// (another model may use the same name for something else).
std::optional<bool> lenient_bool(const detail::ObjectView& object, std::string_view key) {
  const detail::Scalar value = object.at(key);
  if (value.kind != detail::Scalar::Kind::boolean) return std::nullopt;
  return value.flag;
}

std::optional<std::string_view> lenient_string(const detail::ObjectView& object,
                                               std::string_view key) {
  const detail::Scalar value = object.at(key);
  if (value.kind != detail::Scalar::Kind::string) return std::nullopt;
  return value.text;
}

// Keys beyond the native vocabulary that mean the same thing on some Zigbee devices.
void read_variant_keys(const detail::ObjectView& state, const detail::ZigbeeModel* model,
                       DecodeResult& out) {
  // IAS zone bits (zigbee-herdsman-converters fz.ias_smoke_alarm_1 and friends).
  if (auto trouble = lenient_bool(state, "trouble"))
    detail::put_flag(out, C::device_fault, *trouble);
  if (auto defect = lenient_bool(state, "battery_defect")) {
    detail::put_flag(out, C::battery_low, *defect);
  }
  // Tuya: fault_alarm, self_test, self_test_result, smoke_state.
  if (auto fault = lenient_bool(state, "fault_alarm"))
    detail::put_flag(out, C::device_fault, *fault);
  if (auto test = lenient_bool(state, "self_test")) detail::put_flag(out, C::self_test, *test);
  if (auto result = lenient_string(state, "self_test_result")) {
    if (*result == "checking") detail::put_flag(out, C::self_test, true);
    if (*result == "success") detail::put_flag(out, C::device_fault, false);
    if (*result == "failure") detail::put_flag(out, C::device_fault, true);
  }
  if (auto smoke_state = detail::string_at(state, "smoke_state", out)) {
    if (*smoke_state == "alarm") detail::put_flag(out, C::smoke, true);
    if (*smoke_state == "normal") detail::put_flag(out, C::smoke, false);
    // "detecting" / "unknown": the device itself does not know yet.
  }
  // mmWave and bed/chair presence sensors publish `presence`.
  if (auto presence = lenient_bool(state, "presence")) {
    detail::put_flag(out, C::occupancy, *presence);
  }
  if (model == nullptr) return;
  for (const auto key : model->smoke_keys) {
    if (auto smoke = detail::bool_at(state, key, out)) detail::put_flag(out, C::smoke, *smoke);
  }
}

// Gas sensors that warm up first: while they do, their gas flag means nothing. Models that
// report a concentration in % LEL alarm at the model's threshold even if their own flag lags.
void read_gas(const detail::ObjectView& state, const detail::ZigbeeModel* model,
              DecodeResult& out) {
  const bool preheating = lenient_bool(state, "preheat").value_or(false);
  const auto work_state = lenient_string(state, "state");  // Aqara gas: preparation | work
  const bool preparing =
      model != nullptr && !model->lel_key.empty() && work_state && *work_state == "preparation";
  if (preheating || preparing) {
    detail::drop(out, C::gas);  // unknown until the sensor works
    return;
  }
  if (model == nullptr || model->lel_key.empty()) return;
  if (auto lel = detail::number_at(state, model->lel_key, {0.0, 100.0}, out)) {
    detail::put_flag(out, C::gas, *lel >= model->lel_alarm_percent);
  }
}

// Renames the model's action values to homesafe's names and drops those that are no press.
void normalise_action(const detail::ZigbeeModel* model, DecodeResult& out) {
  if (model == nullptr || model->actions.empty()) return;
  for (auto it = out.readings.begin(); it != out.readings.end(); ++it) {
    if (it->capability != C::action) continue;
    const auto& raw = std::get<std::string>(it->value);
    for (const auto& rename : model->actions) {
      if (raw != rename.from) continue;
      if (rename.to.empty()) {
        out.readings.erase(it);
      } else {
        it->value = std::string(rename.to);
      }
      return;
    }
    return;
  }
}

// Zigbee2MQTT's optional `last_seen` (advanced.last_seen: ISO_8601, ISO_8601_local or epoch):
// when the device last talked, i.e. the time of the values in this message.
void read_last_seen(const detail::ObjectView& state, DecodeResult& out) {
  const detail::Scalar last_seen = state.at("last_seen");
  if (last_seen.integer && *last_seen.integer > 0) {
    out.device_ts_ms = *last_seen.integer;
  } else if (last_seen.kind == detail::Scalar::Kind::string) {
    if (auto ms = detail::parse_iso8601_ms(last_seen.text)) out.device_ts_ms = *ms;
  }
}

void decode_state(const DeviceConfig& device, std::string_view payload, DecodeResult& out) {
  auto parsed = detail::parse_state_object(payload, out);
  if (!parsed) return;
  const detail::ObjectView state = parsed->view();
  if (state.empty()) {
    detail::add_problem(out, DecodeError::empty);
    return;
  }
  const detail::ZigbeeModel* model = detail::find_zigbee_model(device.model);
  detail::read_z2m_keys(state, out);
  // Plugs report their own internal temperature (older Zigbee2MQTT versions as `temperature`):
  // that is not the room's.
  if (device.kind == DeviceKind::plug) detail::drop(out, C::temperature);
  read_variant_keys(state, model, out);
  read_gas(state, model, out);
  normalise_action(model, out);
  read_last_seen(state, out);
}

// The bridge going offline makes every device behind it unreachable. The bridge coming online
// says nothing about a device: its own availability message (retained, republished by
// Zigbee2MQTT on start when availability is enabled) or its next state message tells.
void decode_bridge_state(std::string_view payload, DecodeResult& out) {
  DecodeResult bridge;
  detail::read_availability(payload, bridge);
  if (!bridge.ok()) {
    detail::add_problem(out, DecodeError::malformed, "bridge_state");
    return;
  }
  if (const auto* online = bridge.find(C::availability); online && !std::get<bool>(online->value)) {
    out.readings.push_back(*online);
  }
}

}  // namespace

std::string_view Zigbee2MqttDriver::format() const {
  return "zigbee2mqtt";
}

std::span<const Capability> Zigbee2MqttDriver::exposes(DeviceKind kind) const {
  static constexpr detail::ExposesTable kExposes{kHazard, kButton,  kContact,    kMotion,
                                                 kPlug,   kBattery, kTemperature};
  return kExposes.by_kind(kind);
}

std::vector<std::string> Zigbee2MqttDriver::topics(const DeviceConfig& device) const {
  return {device.topic, device.topic + std::string(kAvailabilitySuffix),
          bridge_state_topic(device.topic)};
}

DecodeResult Zigbee2MqttDriver::decode(const DeviceConfig& device, std::string_view topic,
                                       std::string_view payload) const {
  DecodeResult out;
  if (topic == device.topic) {
    decode_state(device, payload, out);
  } else if (detail::starts_with(topic, device.topic) &&
             topic.substr(device.topic.size()) == kAvailabilitySuffix) {
    detail::read_availability(payload, out);
  } else if (topic == bridge_state_topic(device.topic)) {
    decode_bridge_state(payload, out);
  } else {
    detail::add_problem(out, DecodeError::unknown_topic);
  }
  return out;
}

}  // namespace homesafe::drivers
