#include "homesafe/drivers/shelly.hpp"

#include <gtest/gtest.h>

#include "fixture_support.hpp"

namespace homesafe::drivers {
namespace {

TEST(ShellyDriver, DecodesEveryFixture) {
  const ShellyDriver driver;
  EXPECT_GE(testing::check_fixtures(driver, "shelly"), 20);
}

TEST(ShellyDriver, SubscribesWhatTheKindNeeds) {
  const ShellyDriver driver;
  DeviceConfig device;
  device.topic = "shellyplusplugs-a8032ab1e2f4";
  device.kind = DeviceKind::plug;
  EXPECT_EQ(driver.topics(device),
            (std::vector<std::string>{"shellyplusplugs-a8032ab1e2f4/online",
                                      "shellyplusplugs-a8032ab1e2f4/events/rpc",
                                      "shellyplusplugs-a8032ab1e2f4/status/switch:0"}));
  device.kind = DeviceKind::call_button;
  EXPECT_EQ(driver.topics(device).size(), 2u);
}

}  // namespace
}  // namespace homesafe::drivers
