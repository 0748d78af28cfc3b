#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "homesafe/drivers/driver.hpp"
#include "homesafe/drivers/native.hpp"

namespace homesafe::drivers {
namespace {

DeviceConfig device_at(std::string topic, DeviceKind kind = DeviceKind::smoke) {
  DeviceConfig device;
  device.id = "dev";
  device.kind = kind;
  device.topic = std::move(topic);
  device.location = "厨房";
  return device;
}

// The base topic of a fixture message: its topic without the last level.
std::string base_of(const std::string& topic) {
  return topic.substr(0, topic.rfind('/'));
}

nlohmann::json readings_as_json(const DecodeResult& result) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& reading : result.readings) {
    const std::string name(to_string(reading.capability));
    std::visit([&](const auto& value) { out[name] = value; }, reading.value);
  }
  return out;
}

nlohmann::json problems_as_json(const DecodeResult& result) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& problem : result.problems) {
    std::string text(to_string(problem.error));
    if (!problem.key.empty()) text += ":" + problem.key;
    out.push_back(text);
  }
  return out;
}

TEST(NativeDriver, DecodesEveryFixture) {
  std::ifstream file(std::string(HOMESAFE_SOURCE_DIR) +
                     "/tests/device-drivers/fixtures/native/messages.jsonl");
  ASSERT_TRUE(file) << "fixture file missing";
  const NativeDriver driver;
  std::string line;
  int count = 0;
  while (std::getline(file, line)) {
    if (line.empty()) continue;
    const auto fixture = nlohmann::json::parse(line);
    const std::string topic = fixture["topic"];
    const auto result =
        driver.decode(device_at(base_of(topic)), topic, fixture["payload"].get<std::string>());
    SCOPED_TRACE(fixture["name"].get<std::string>());
    // JSON equality compares numbers by value (87 == 87.0).
    EXPECT_EQ(readings_as_json(result), fixture["readings"]);
    EXPECT_EQ(problems_as_json(result), fixture["problems"]);
    if (fixture.contains("ts")) {
      ASSERT_TRUE(result.device_ts_ms.has_value());
      EXPECT_EQ(*result.device_ts_ms, fixture["ts"].get<std::int64_t>());
    }
    ++count;
  }
  EXPECT_GE(count, 20);
}

TEST(NativeDriver, SubscribesStateAndAvailability) {
  const NativeDriver driver;
  const auto topics = driver.topics(device_at("homesafe/h001/dev/sos", DeviceKind::call_button));
  EXPECT_EQ(topics, (std::vector<std::string>{"homesafe/h001/dev/sos/state",
                                              "homesafe/h001/dev/sos/availability"}));
}

TEST(NativeDriver, RejectsOtherTopics) {
  const NativeDriver driver;
  const auto result =
      driver.decode(device_at("homesafe/h001/dev/x"), "homesafe/h001/dev/x/set", "{}");
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].error, DecodeError::unknown_topic);
}

TEST(NativeDriver, ExposesTheHazardOfEachAlarmKind) {
  const NativeDriver driver;
  auto exposes = [&](DeviceKind kind, Capability capability) {
    for (auto c : driver.exposes(kind)) {
      if (c == capability) return true;
    }
    return false;
  };
  EXPECT_TRUE(exposes(DeviceKind::smoke, Capability::smoke));
  EXPECT_TRUE(exposes(DeviceKind::gas, Capability::gas));
  EXPECT_TRUE(exposes(DeviceKind::co, Capability::carbon_monoxide));
  EXPECT_TRUE(exposes(DeviceKind::water_leak, Capability::water_leak));
  EXPECT_TRUE(exposes(DeviceKind::call_button, Capability::action));
  EXPECT_TRUE(exposes(DeviceKind::water_meter, Capability::water_total_l));
  EXPECT_TRUE(exposes(DeviceKind::plug, Capability::power));
  EXPECT_FALSE(exposes(DeviceKind::plug, Capability::smoke));
}

}  // namespace
}  // namespace homesafe::drivers
