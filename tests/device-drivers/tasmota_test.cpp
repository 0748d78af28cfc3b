#include "homesafe/drivers/tasmota.hpp"

#include <gtest/gtest.h>

#include "fixture_support.hpp"

namespace homesafe::drivers {
namespace {

TEST(TasmotaDriver, DecodesEveryFixture) {
  const TasmotaDriver driver;
  EXPECT_GE(testing::check_fixtures(driver, "tasmota"), 15);
}

TEST(TasmotaDriver, SubscribesTelemetryOfTheTopic) {
  const TasmotaDriver driver;
  DeviceConfig device;
  device.topic = "tele/kettle";
  const std::vector<std::string> expected{"tele/kettle/SENSOR", "tele/kettle/STATE",
                                          "tele/kettle/LWT"};
  EXPECT_EQ(driver.topics(device), expected);
  device.topic = "kettle";  // a plain Tasmota topic
  EXPECT_EQ(driver.topics(device), expected);
}

}  // namespace
}  // namespace homesafe::drivers
