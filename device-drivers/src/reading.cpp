#include "homesafe/drivers/reading.hpp"

#include <array>
#include <utility>

namespace homesafe::drivers {
namespace {

constexpr std::array<std::pair<Capability, std::string_view>, 18> kCapabilityNames{{
    {Capability::smoke, "smoke"},
    {Capability::gas, "gas"},
    {Capability::carbon_monoxide, "carbon_monoxide"},
    {Capability::water_leak, "water_leak"},
    {Capability::action, "action"},
    {Capability::contact, "contact"},
    {Capability::occupancy, "occupancy"},
    {Capability::power, "power"},
    {Capability::energy, "energy"},
    {Capability::water_total_l, "water_total_l"},
    {Capability::temperature, "temperature"},
    {Capability::humidity, "humidity"},
    {Capability::battery, "battery"},
    {Capability::battery_low, "battery_low"},
    {Capability::tamper, "tamper"},
    {Capability::self_test, "test"},
    {Capability::availability, "availability"},
    {Capability::device_fault, "device_fault"},
}};

}  // namespace

std::string_view to_string(Capability capability) {
  for (const auto& [c, name] : kCapabilityNames) {
    if (c == capability) return name;
  }
  return "unknown";
}

std::optional<Capability> capability_from_string(std::string_view text) {
  for (const auto& [c, name] : kCapabilityNames) {
    if (name == text) return c;
  }
  return std::nullopt;
}

std::string_view to_string(DecodeError error) {
  switch (error) {
    case DecodeError::malformed:
      return "malformed";
    case DecodeError::wrong_type:
      return "wrong_type";
    case DecodeError::not_a_number:
      return "not_a_number";
    case DecodeError::oversized:
      return "oversized";
    case DecodeError::unknown_topic:
      return "unknown_topic";
    case DecodeError::unknown_device:
      return "unknown_device";
    case DecodeError::empty:
      return "empty";
  }
  return "unknown";
}

const Reading* DecodeResult::find(Capability capability) const {
  for (const auto& reading : readings) {
    if (reading.capability == capability) return &reading;
  }
  return nullptr;
}

}  // namespace homesafe::drivers
