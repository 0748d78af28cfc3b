#include "homesafe/drivers/esphome.hpp"

#include <gtest/gtest.h>

#include "fixture_support.hpp"

namespace homesafe::drivers {
namespace {

TEST(EsphomeDriver, DecodesEveryFixture) {
  const EsphomeDriver driver;
  EXPECT_GE(testing::check_fixtures(driver, "esphome"), 20);
}

TEST(EsphomeDriver, SubscribesEntityStateAndNodeStatus) {
  const EsphomeDriver driver;
  DeviceConfig device;
  device.topic = "kitchen-node/binary_sensor/smoke";
  EXPECT_EQ(
      driver.topics(device),
      (std::vector<std::string>{"kitchen-node/binary_sensor/smoke/state", "kitchen-node/status"}));
}

}  // namespace
}  // namespace homesafe::drivers
