#include "homesafe/drivers/wmbusmeters.hpp"

#include <gtest/gtest.h>

#include "fixture_support.hpp"

namespace homesafe::drivers {
namespace {

TEST(WmbusmetersDriver, DecodesEveryFixture) {
  const WmbusmetersDriver driver;
  EXPECT_GE(testing::check_fixtures(driver, "wmbusmeters"), 12);
}

TEST(WmbusmetersDriver, SubscribesTheMeterTopic) {
  const WmbusmetersDriver driver;
  DeviceConfig device;
  device.topic = "wmbusmeters/MyTapWater";
  EXPECT_EQ(driver.topics(device), (std::vector<std::string>{"wmbusmeters/MyTapWater"}));
}

}  // namespace
}  // namespace homesafe::drivers
