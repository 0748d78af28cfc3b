#pragma once
// ESPHome MQTT entities: <node>/<component>/<object_id>/state and <node>/status.

#include "homesafe/drivers/driver.hpp"

namespace homesafe::drivers {

class EsphomeDriver final : public Driver {
 public:
  std::string_view format() const override;
  std::span<const Capability> exposes(DeviceKind kind) const override;
  std::vector<std::string> topics(const DeviceConfig& device) const override;
  DecodeResult decode(const DeviceConfig& device, std::string_view topic,
                      std::string_view payload) const override;
};

}  // namespace homesafe::drivers
