// Driver for Tasmota (https://tasmota.github.io/docs/MQTT/), default FullTopic %prefix%/%topic%/:
//   tele/<topic>/SENSOR  JSON every TelePeriod: {"Time":..., "ENERGY":{"Total":kWh, "Today":kWh,
//                        "Power":W, ...}} and/or sensors such as {"AM2301":{"Temperature":...}}
//   tele/<topic>/STATE   JSON every TelePeriod (uptime, Wi-Fi): proves the device is alive
//   tele/<topic>/LWT     Online | Offline (retained; Offline is the broker's last will)
// The configured topic is the telemetry prefix as published (`tele/<topic>`, or `<topic>/tele`
// for a FullTopic of %topic%/%prefix%/); a topic without '/' is a plain Tasmota topic and
// `tele/` is put in front.
//
// `energy` is ENERGY.Total (cumulative kWh, kept across reboots). ENERGY.Today rolls over at
// midnight and is never reported as energy; resets of Total are for the rules to see.
#include "homesafe/drivers/tasmota.hpp"

#include <array>

#include "json_payload.hpp"

namespace homesafe::drivers {
namespace {

using C = Capability;
constexpr std::array kPlug{C::power, C::energy, C::availability};
constexpr std::array kTemperature{C::temperature, C::humidity, C::availability};
constexpr std::array kAvailability{C::availability};

std::string base_of(const DeviceConfig& device) {
  if (device.topic.find('/') == std::string::npos) return "tele/" + device.topic;
  return device.topic;
}

// ENERGY values are numbers, or one number per channel on multi-channel devices: the sum.
std::optional<double> channel_sum(const nlohmann::json& energy, std::string_view key,
                                  Capability capability, DecodeResult& out) {
  auto it = energy.find(key);
  if (it == energy.end() || it->is_null()) return std::nullopt;
  const auto range = detail::plausible_range(capability);
  double sum = 0;
  if (it->is_array()) {
    if (it->empty()) return std::nullopt;
    for (const auto& channel : *it) {
      auto value = detail::as_number(channel);
      if (!value) {
        detail::add_problem(out, DecodeError::wrong_type, key);
        return std::nullopt;
      }
      sum += *value;
    }
  } else if (auto value = detail::as_number(*it)) {
    sum = *value;
  } else {
    detail::add_problem(out, it->is_number() ? DecodeError::not_a_number : DecodeError::wrong_type,
                        key);
    return std::nullopt;
  }
  if (sum < range.min || sum > range.max) {
    detail::add_problem(out, DecodeError::not_a_number, key);
    return std::nullopt;
  }
  return sum;
}

void read_energy(const nlohmann::json& sensor, DecodeResult& out) {
  auto it = sensor.find("ENERGY");
  if (it == sensor.end() || it->is_null()) return;
  if (!it->is_object()) {
    detail::add_problem(out, DecodeError::wrong_type, "ENERGY");
    return;
  }
  if (auto total = channel_sum(*it, "Total", C::energy, out)) {
    detail::put_number(out, C::energy, *total);
  }
  if (auto power = channel_sum(*it, "Power", C::power, out)) {
    detail::put_number(out, C::power, *power);
  }
}

// Climate sensors appear as {"<SENSOR NAME>": {"Temperature": .., "Humidity": ..}}; the first
// one that has a value is reported. TempUnit "F" is converted to °C.
void read_climate(const nlohmann::json& sensor, DecodeResult& out) {
  bool fahrenheit = false;
  if (auto unit = sensor.find("TempUnit"); unit != sensor.end() && unit->is_string()) {
    fahrenheit = unit->get_ref<const std::string&>() == "F";
  }
  for (const auto& [name, value] : sensor.items()) {
    if (!value.is_object() || name == "ENERGY") continue;
    if (out.find(C::temperature) == nullptr) {
      const detail::Range range =
          fahrenheit ? detail::Range{-76.0, 302.0} : detail::plausible_range(C::temperature);
      if (auto t = detail::number_at(value, "Temperature", range, out)) {
        detail::put_number(out, C::temperature, fahrenheit ? (*t - 32.0) * 5.0 / 9.0 : *t);
      }
    }
    if (out.find(C::humidity) == nullptr) {
      if (auto h =
              detail::number_at(value, "Humidity", detail::plausible_range(C::humidity), out)) {
        detail::put_number(out, C::humidity, *h);
      }
    }
  }
}

}  // namespace

std::string_view TasmotaDriver::format() const {
  return "tasmota";
}

std::span<const Capability> TasmotaDriver::exposes(DeviceKind kind) const {
  switch (kind) {
    case DeviceKind::plug:
      return kPlug;
    case DeviceKind::temperature:
      return kTemperature;
    default:
      return kAvailability;
  }
}

std::vector<std::string> TasmotaDriver::topics(const DeviceConfig& device) const {
  const std::string base = base_of(device);
  return {base + "/SENSOR", base + "/STATE", base + "/LWT"};
}

DecodeResult TasmotaDriver::decode(const DeviceConfig& device, std::string_view topic,
                                   std::string_view payload) const {
  DecodeResult out;
  const std::string base = base_of(device);
  if (!detail::starts_with(topic, base) || topic.size() <= base.size() ||
      topic[base.size()] != '/') {
    detail::add_problem(out, DecodeError::unknown_topic);
    return out;
  }
  const std::string_view suffix = topic.substr(base.size() + 1);
  if (suffix == "LWT") {
    detail::read_availability(payload, out);
  } else if (suffix == "SENSOR") {
    auto sensor = detail::parse_object(payload, out);
    if (!sensor) return out;
    if (sensor->empty()) {
      detail::add_problem(out, DecodeError::empty);
      return out;
    }
    read_energy(*sensor, out);
    read_climate(*sensor, out);
  } else if (suffix == "STATE") {
    // Uptime and Wi-Fi only: a readable STATE is a sign of life, nothing to report.
    detail::parse_object(payload, out);
  } else {
    detail::add_problem(out, DecodeError::unknown_topic);
  }
  return out;
}

}  // namespace homesafe::drivers
