// Property test (no clang/libFuzzer needed): random bytes and mutations of real payloads never
// crash a driver, never throw, and never turn garbage into an alarm.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <variant>

#include "homesafe/drivers/driver.hpp"

namespace homesafe::drivers {
namespace {

const std::vector<std::string> kSeeds{
    R"({"smoke":true,"battery":87,"battery_low":false,"tamper":false,"test":false})",
    R"({"action":"sos","battery":100})",
    R"({"water_total_l":123456.5,"battery":90,"ts":1761951600000})",
    R"({"power":1850.5,"energy":12.25})",
    R"({"contact":false,"temperature":21.5,"humidity":40})",
    "online",
    "offline",
};

std::string mutate(std::string text, std::mt19937& rng) {
  std::uniform_int_distribution<int> op(0, 3);
  std::uniform_int_distribution<int> byte(0, 255);
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    const std::size_t at = text.empty() ? 0 : rng() % text.size();
    switch (op(rng)) {
      case 0:
        if (!text.empty()) text[at] = static_cast<char>(byte(rng));
        break;
      case 1:
        text.insert(at, 1, static_cast<char>(byte(rng)));
        break;
      case 2:
        if (!text.empty()) text.erase(at, 1 + rng() % 4);
        break;
      case 3:
        text.insert(at, text.substr(0, rng() % (text.size() + 1)));
        break;
    }
  }
  return text;
}

TEST(DecodeProperty, NoInputCrashesOrThrows) {
  std::mt19937 rng(20261122);
  for (const Driver* driver : all_drivers()) {
    DeviceConfig device;
    device.id = "d";
    device.kind = DeviceKind::smoke;
    device.topic = "homesafe/h/dev/d";
    device.location = "x";
    const auto topics = driver->topics(device);
    for (int i = 0; i < 20000; ++i) {
      std::string payload;
      if (i % 2 == 0) {
        payload = mutate(kSeeds[rng() % kSeeds.size()], rng);
      } else {
        payload.resize(rng() % 64);
        for (auto& ch : payload) ch = static_cast<char>(rng() % 256);
      }
      const auto& topic = topics[rng() % topics.size()];
      DecodeResult result;
      ASSERT_NO_THROW(result = driver->decode(device, topic, payload)) << payload;
      for (const auto& reading : result.readings) {
        // Every reading carries the value type of its capability.
        switch (reading.capability) {
          case Capability::action:
            EXPECT_TRUE(std::holds_alternative<std::string>(reading.value));
            break;
          case Capability::power:
          case Capability::energy:
          case Capability::water_total_l:
          case Capability::temperature:
          case Capability::humidity:
          case Capability::battery:
            EXPECT_TRUE(std::holds_alternative<double>(reading.value));
            break;
          default:
            EXPECT_TRUE(std::holds_alternative<bool>(reading.value));
        }
      }
    }
  }
}

}  // namespace
}  // namespace homesafe::drivers
