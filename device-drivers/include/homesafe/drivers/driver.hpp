#pragma once
// A driver turns the messages of one integration format into readings. One driver per format
// or device family, each in one file under device-drivers/src/, listed in registry.cpp.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "homesafe/drivers/device.hpp"
#include "homesafe/drivers/reading.hpp"

namespace homesafe::drivers {

class Driver {
 public:
  virtual ~Driver() = default;

  // The `format:` name used in the hub config (native, zigbee2mqtt, ...).
  virtual std::string_view format() const = 0;

  // The capabilities this format can report for a device kind (the constant "exposes" table).
  virtual std::span<const Capability> exposes(DeviceKind kind) const = 0;

  // The MQTT topics to subscribe to for a device (from its base topic).
  virtual std::vector<std::string> topics(const DeviceConfig& device) const = 0;

  // Decodes one message that arrived on one of topics(device). Never throws.
  virtual DecodeResult decode(const DeviceConfig& device, std::string_view topic,
                              std::string_view payload) const = 0;
};

// Every driver, in a fixed order. The list is explicit (no static self-registration).
std::span<const Driver* const> all_drivers();

// The driver for a format name, or nullptr.
const Driver* find_driver(std::string_view format);

}  // namespace homesafe::drivers
