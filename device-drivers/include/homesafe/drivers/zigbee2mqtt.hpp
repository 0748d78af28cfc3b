#pragma once
// Zigbee2MQTT 1.x and 2.x: zigbee2mqtt/<friendly_name> (state), .../availability,
// <base>/bridge/state.

#include "homesafe/drivers/driver.hpp"

namespace homesafe::drivers {

class Zigbee2MqttDriver final : public Driver {
 public:
  std::string_view format() const override;
  std::span<const Capability> exposes(DeviceKind kind) const override;
  std::vector<std::string> topics(const DeviceConfig& device) const override;
  DecodeResult decode(const DeviceConfig& device, std::string_view topic,
                      std::string_view payload) const override;
};

}  // namespace homesafe::drivers
