// Driver for homesafe's native device format (DESIGN.md):
//   <base>/state         JSON object with Zigbee2MQTT key names, water_total_l and optional ts
//   <base>/availability  "online" | "offline"
#include "homesafe/drivers/native.hpp"

#include <array>

#include "json_payload.hpp"

namespace homesafe::drivers {
namespace {

using C = Capability;
constexpr std::array kHazard{C::smoke,      C::gas,       C::carbon_monoxide,
                             C::water_leak, C::battery,   C::battery_low,
                             C::tamper,     C::self_test, C::availability};
constexpr std::array kButton{C::action, C::battery, C::battery_low, C::availability};
constexpr std::array kContact{C::contact, C::battery, C::battery_low, C::tamper, C::availability};
constexpr std::array kMotion{C::occupancy, C::battery, C::battery_low, C::tamper, C::availability};
constexpr std::array kPlug{C::power, C::energy, C::availability};
constexpr std::array kWater{C::water_total_l, C::water_leak, C::battery, C::battery_low,
                            C::availability};
constexpr std::array kTemperature{C::temperature, C::humidity, C::battery, C::battery_low,
                                  C::availability};

constexpr std::string_view kStateSuffix = "/state";
constexpr std::string_view kAvailabilitySuffix = "/availability";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view NativeDriver::format() const {
  return "native";
}

std::span<const Capability> NativeDriver::exposes(DeviceKind kind) const {
  static constexpr detail::ExposesTable kExposes{kHazard, kButton, kContact,    kMotion,
                                                 kPlug,   kWater,  kTemperature};
  return kExposes.by_kind(kind);
}

std::vector<std::string> NativeDriver::topics(const DeviceConfig& device) const {
  return {device.topic + std::string(kStateSuffix),
          device.topic + std::string(kAvailabilitySuffix)};
}

DecodeResult NativeDriver::decode(const DeviceConfig& /*device*/, std::string_view topic,
                                  std::string_view payload) const {
  DecodeResult out;
  if (ends_with(topic, kAvailabilitySuffix)) {
    detail::read_availability(payload, out);
    return out;
  }
  if (!ends_with(topic, kStateSuffix)) {
    out.problems.push_back({DecodeError::unknown_topic, {}});
    return out;
  }
  auto object = detail::parse_state_object(payload, out);
  if (!object) return out;
  detail::read_z2m_keys(object->view(), out);
  detail::read_timestamp(object->view(), out);
  if (out.readings.empty() && out.problems.empty())
    out.problems.push_back({DecodeError::empty, {}});
  return out;
}

}  // namespace homesafe::drivers
