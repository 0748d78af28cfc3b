// Driver for Shelly Gen2 devices over MQTT (https://shelly-api-docs.shelly.cloud/gen2/):
//   <prefix>/online                 true | false (retained; false is the last will)
//   <prefix>/status/<component>     the component's full status, when "Generic status update
//                                   over MQTT" is on (status_ntf), e.g. status/switch:0
//   <prefix>/events/rpc             NotifyStatus (only the keys that changed), NotifyFullStatus,
//                                   NotifyEvent (button pushes), when "RPC status notifications"
//                                   is on (rpc_ntf, the default)
// The configured topic is the MQTT prefix (default: the device id, e.g. shellyplusplugs-a8032ab1).
// Components read: switch:0 (apower W, aenergy.total Wh -> kWh), smoke:0 (alarm),
// temperature:0 (tC), humidity:0 (rh), devicepower:0 (battery.percent), input:N events.
#include "homesafe/drivers/shelly.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "json_payload.hpp"

namespace homesafe::drivers {
namespace {

using C = Capability;
constexpr std::array kPlug{C::power, C::energy, C::availability};
constexpr std::array kSmoke{C::smoke, C::battery, C::device_fault, C::availability};
constexpr std::array kTemperature{C::temperature, C::humidity, C::battery, C::device_fault,
                                  C::availability};
constexpr std::array kButton{C::action, C::availability};
constexpr std::array kAvailability{C::availability};

struct ButtonEvent {
  std::string_view event;
  std::string_view action;
};
// Input events of a button-type input; btn_down/btn_up are the raw edges of the same presses.
constexpr std::array<ButtonEvent, 4> kButtonEvents{{{"single_push", "single"},
                                                    {"double_push", "double"},
                                                    {"triple_push", "triple"},
                                                    {"long_push", "long"}}};

// Status components this driver reads, by kind of device.
std::vector<std::string_view> components_for(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::plug:
      return {"switch:0"};
    case DeviceKind::smoke:
      return {"smoke:0", "devicepower:0"};
    case DeviceKind::temperature:
      return {"temperature:0", "humidity:0", "devicepower:0"};
    default:
      return {};
  }
}

void read_errors(const nlohmann::json& status, DecodeResult& out) {
  auto errors = status.find("errors");
  if (errors != status.end() && errors->is_array() && !errors->empty()) {
    detail::put_flag(out, C::device_fault, true);
  }
}

// One component's status object (or the changed part of it).
void read_component(std::string_view name, const nlohmann::json& status, DecodeResult& out) {
  constexpr std::array<std::string_view, 6> kKnown{"switch:0",      "pm1:0",      "smoke:0",
                                                   "temperature:0", "humidity:0", "devicepower:0"};
  if (std::find(kKnown.begin(), kKnown.end(), name) == kKnown.end()) return;  // sys, wifi ...
  if (!status.is_object()) {
    detail::add_problem(out, DecodeError::wrong_type, name);
    return;
  }
  if (name == "switch:0" || name == "pm1:0") {
    if (auto power = detail::number_at(status, "apower", detail::plausible_range(C::power), out)) {
      detail::put_number(out, C::power, *power);
    }
    if (auto energy = status.find("aenergy"); energy != status.end() && energy->is_object()) {
      const auto range = detail::plausible_range(C::energy);
      if (auto wh = detail::number_at(*energy, "total", {range.min * 1000, range.max * 1000}, out,
                                      "aenergy.total")) {
        detail::put_number(out, C::energy, *wh / 1000.0);
      }
    }
  } else if (name == "smoke:0") {
    if (auto alarm = detail::bool_at(status, "alarm", out)) detail::put_flag(out, C::smoke, *alarm);
  } else if (name == "temperature:0") {
    read_errors(status, out);
    if (auto t = detail::number_at(status, "tC", detail::plausible_range(C::temperature), out)) {
      detail::put_number(out, C::temperature, *t);
    }
  } else if (name == "humidity:0") {
    read_errors(status, out);
    if (auto rh = detail::number_at(status, "rh", detail::plausible_range(C::humidity), out)) {
      detail::put_number(out, C::humidity, *rh);
    }
  } else if (name == "devicepower:0") {
    if (auto battery = status.find("battery"); battery != status.end() && battery->is_object()) {
      if (auto percent = detail::number_at(*battery, "percent", detail::plausible_range(C::battery),
                                           out, "battery")) {
        detail::put_number(out, C::battery, *percent);
      }
    }
  }
}

void read_events(const nlohmann::json& params, DecodeResult& out) {
  auto events = params.find("events");
  if (events == params.end() || !events->is_array()) return;
  for (const auto& event : *events) {
    if (!event.is_object()) continue;
    auto component = event.find("component");
    auto name = event.find("event");
    if (component == event.end() || !component->is_string() || name == event.end() ||
        !name->is_string() ||
        !detail::starts_with(component->get_ref<const std::string&>(), "input:")) {
      continue;
    }
    for (const auto& mapping : kButtonEvents) {
      if (name->get_ref<const std::string&>() == mapping.event) {
        detail::put_text(out, C::action, std::string(mapping.action));
      }
    }
  }
}

void read_rpc(std::string_view payload, DecodeResult& out) {
  auto frame = detail::parse_object(payload, out);
  if (!frame) return;
  auto method = frame->find("method");
  auto params = frame->find("params");
  if (method == frame->end() || !method->is_string() || params == frame->end() ||
      !params->is_object()) {
    detail::add_problem(out, DecodeError::malformed);
    return;
  }
  if (auto ts = params->find("ts"); ts != params->end()) {
    if (auto seconds = detail::as_number(*ts); seconds && *seconds > 0 && *seconds < 1e11) {
      out.device_ts_ms = std::llround(*seconds * 1000.0);
    }
  }
  const auto& name = method->get_ref<const std::string&>();
  if (name == "NotifyStatus" || name == "NotifyFullStatus") {
    for (const auto& [component, status] : params->items()) {
      if (component == "ts") continue;
      read_component(component, status, out);
    }
  } else if (name == "NotifyEvent") {
    read_events(*params, out);
  }
}

}  // namespace

std::string_view ShellyDriver::format() const {
  return "shelly";
}

std::span<const Capability> ShellyDriver::exposes(DeviceKind kind) const {
  switch (kind) {
    case DeviceKind::plug:
      return kPlug;
    case DeviceKind::smoke:
      return kSmoke;
    case DeviceKind::temperature:
      return kTemperature;
    case DeviceKind::call_button:
      return kButton;
    default:
      return kAvailability;
  }
}

std::vector<std::string> ShellyDriver::topics(const DeviceConfig& device) const {
  std::vector<std::string> out{device.topic + "/online", device.topic + "/events/rpc"};
  for (const auto component : components_for(device.kind)) {
    out.push_back(device.topic + "/status/" + std::string(component));
  }
  return out;
}

DecodeResult ShellyDriver::decode(const DeviceConfig& device, std::string_view topic,
                                  std::string_view payload) const {
  DecodeResult out;
  if (!detail::starts_with(topic, device.topic) || topic.size() <= device.topic.size() + 1 ||
      topic[device.topic.size()] != '/') {
    detail::add_problem(out, DecodeError::unknown_topic);
    return out;
  }
  const std::string_view suffix = topic.substr(device.topic.size() + 1);
  if (suffix == "online") {
    const auto text = detail::trim(payload);
    if (text == "true") {
      out.readings.push_back({C::availability, true});
    } else if (text == "false") {
      out.readings.push_back({C::availability, false});
    } else {
      detail::add_problem(out, DecodeError::malformed, "online");
    }
  } else if (suffix == "events/rpc") {
    read_rpc(payload, out);
  } else if (detail::starts_with(suffix, "status/")) {
    const std::string_view component = suffix.substr(7);
    auto status = detail::parse_object(payload, out);
    if (status) read_component(component, *status, out);
  } else {
    detail::add_problem(out, DecodeError::unknown_topic);
  }
  return out;
}

}  // namespace homesafe::drivers
