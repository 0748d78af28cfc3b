// The explicit list of every driver. Adding a format: one file in this folder, one line here,
// one fixture folder under tests/device-drivers/fixtures/.
#include <array>

#include "homesafe/drivers/driver.hpp"
#include "homesafe/drivers/native.hpp"

namespace homesafe::drivers {
namespace {

const NativeDriver kNative;

constexpr std::array<const Driver*, 1> kDrivers{&kNative};

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
