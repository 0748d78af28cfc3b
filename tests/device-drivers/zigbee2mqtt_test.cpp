#include "homesafe/drivers/zigbee2mqtt.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "fixture_support.hpp"
#include "zigbee_models.hpp"

namespace homesafe::drivers {
namespace {

TEST(Zigbee2MqttDriver, DecodesEveryFixture) {
  const Zigbee2MqttDriver driver;
  EXPECT_GE(testing::check_fixtures(driver, "zigbee2mqtt"), 60);
}

TEST(Zigbee2MqttDriver, SubscribesStateAvailabilityAndBridge) {
  const Zigbee2MqttDriver driver;
  DeviceConfig device;
  device.topic = "zigbee2mqtt/living room/smoke";
  EXPECT_EQ(driver.topics(device),
            (std::vector<std::string>{"zigbee2mqtt/living room/smoke",
                                      "zigbee2mqtt/living room/smoke/availability",
                                      "zigbee2mqtt/bridge/state"}));
  device.topic = "z2m/sos";
  EXPECT_EQ(driver.topics(device).back(), "z2m/bridge/state");
}

// Every fixture model is in the model table and the table names each model once.
TEST(Zigbee2MqttDriver, ModelTableIsConsistent) {
  std::set<std::string> seen;
  for (const auto& model : detail::zigbee_models()) {
    EXPECT_TRUE(seen.insert(std::string(model.model)).second) << model.model;
    EXPECT_EQ(detail::find_zigbee_model(model.model), &model);
    if (!model.lel_key.empty()) {
      EXPECT_GT(model.lel_alarm_percent, 0.0) << model.model;
    }
  }
  EXPECT_EQ(detail::find_zigbee_model("hs1sa")->model, "HS1SA");  // case-insensitive
  EXPECT_EQ(detail::find_zigbee_model("no-such-model"), nullptr);
  EXPECT_EQ(detail::find_zigbee_model(""), nullptr);
  for (const auto& fixture : testing::load_fixtures("zigbee2mqtt")) {
    if (fixture.device.model.empty() || fixture.device.model == "XYZ-123") continue;
    EXPECT_NE(detail::find_zigbee_model(fixture.device.model), nullptr) << fixture.device.model;
  }
}

// docs/devices.md lists every model the driver knows.
TEST(Zigbee2MqttDriver, EveryModelIsDocumented) {
  std::ifstream file(std::string(HOMESAFE_SOURCE_DIR) + "/docs/devices.md");
  ASSERT_TRUE(file) << "docs/devices.md missing";
  const std::string docs((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  for (const auto& model : detail::zigbee_models()) {
    EXPECT_NE(docs.find("`" + std::string(model.model) + "`"), std::string::npos) << model.model;
  }
}

TEST(Zigbee2MqttDriver, ExposesTheHazardOfEachAlarmKind) {
  const Zigbee2MqttDriver driver;
  auto exposes = [&](DeviceKind kind, Capability capability) {
    const auto list = driver.exposes(kind);
    return std::find(list.begin(), list.end(), capability) != list.end();
  };
  EXPECT_TRUE(exposes(DeviceKind::smoke, Capability::smoke));
  EXPECT_TRUE(exposes(DeviceKind::smoke, Capability::self_test));
  EXPECT_TRUE(exposes(DeviceKind::gas, Capability::gas));
  EXPECT_TRUE(exposes(DeviceKind::co, Capability::carbon_monoxide));
  EXPECT_TRUE(exposes(DeviceKind::call_button, Capability::action));
  EXPECT_TRUE(exposes(DeviceKind::occupancy, Capability::occupancy));
  EXPECT_TRUE(exposes(DeviceKind::plug, Capability::energy));
  EXPECT_FALSE(exposes(DeviceKind::plug, Capability::temperature));
}

}  // namespace
}  // namespace homesafe::drivers
