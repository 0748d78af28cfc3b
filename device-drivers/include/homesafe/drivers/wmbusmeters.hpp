#pragma once
// wmbusmeters water meters: wmbusmeters/<name> JSON.

#include "homesafe/drivers/driver.hpp"

namespace homesafe::drivers {

class WmbusmetersDriver final : public Driver {
 public:
  std::string_view format() const override;
  std::span<const Capability> exposes(DeviceKind kind) const override;
  std::vector<std::string> topics(const DeviceConfig& device) const override;
  DecodeResult decode(const DeviceConfig& device, std::string_view topic,
                      std::string_view payload) const override;
};

}  // namespace homesafe::drivers
