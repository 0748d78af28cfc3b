// The explicit list of every driver. Adding a format: one file in this folder, one line here,
// one fixture folder under tests/device-drivers/fixtures/.
#include <array>

#include "homesafe/drivers/driver.hpp"
#include "homesafe/drivers/esphome.hpp"
#include "homesafe/drivers/native.hpp"
#include "homesafe/drivers/shelly.hpp"
#include "homesafe/drivers/tasmota.hpp"
#include "homesafe/drivers/wmbusmeters.hpp"
#include "homesafe/drivers/zigbee2mqtt.hpp"

namespace homesafe::drivers {
namespace {

const NativeDriver kNative;
const Zigbee2MqttDriver kZigbee2Mqtt;
const TasmotaDriver kTasmota;
const ShellyDriver kShelly;
const EsphomeDriver kEsphome;
const WmbusmetersDriver kWmbusmeters;

constexpr std::array<const Driver*, 6> kDrivers{&kNative, &kZigbee2Mqtt, &kTasmota,
                                                &kShelly, &kEsphome,     &kWmbusmeters};

}  // namespace

std::span<const Driver* const> all_drivers() {
  return kDrivers;
}

const Driver* find_driver(std::string_view format) {
  for (const Driver* driver : kDrivers) {
    if (driver->format() == format) return driver;
  }
  return nullptr;
}

}  // namespace homesafe::drivers
