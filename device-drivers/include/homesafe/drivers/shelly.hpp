#pragma once
// Shelly Gen2 (Plus Plug S, Plus 1PM, Plus Smoke, Plus H&T, Plus i4): <prefix>/status/<component>,
// <prefix>/events/rpc, <prefix>/online.

#include "homesafe/drivers/driver.hpp"

namespace homesafe::drivers {

class ShellyDriver final : public Driver {
 public:
  std::string_view format() const override;
  std::span<const Capability> exposes(DeviceKind kind) const override;
  std::vector<std::string> topics(const DeviceConfig& device) const override;
  DecodeResult decode(const DeviceConfig& device, std::string_view topic,
                      std::string_view payload) const override;
};

}  // namespace homesafe::drivers
