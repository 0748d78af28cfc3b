#include "homesafe/drivers/discovery.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "homesafe/drivers/driver.hpp"

namespace homesafe::drivers {
namespace {

struct Message {
  std::string topic;
  std::string payload;
};

std::string fixture_dir() {
  return std::string(HOMESAFE_SOURCE_DIR) + "/tests/device-drivers/fixtures/discovery/";
}

std::vector<Message> recorded_session() {
  std::vector<Message> out;
  std::ifstream file(fixture_dir() + "messages.jsonl");
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty()) continue;
    const auto json = nlohmann::json::parse(line);
    out.push_back({json.at("topic").get<std::string>(), json.at("payload").get<std::string>()});
  }
  return out;
}

const std::set<std::string> kConfiguredTopics{"zigbee2mqtt/configured_motion"};
const std::set<std::string> kConfiguredIds{"kitchen_smoke"};

DiscoveryResult discover(const std::vector<Message>& messages) {
  Discovery discovery;
  for (const auto& message : messages) discovery.observe(message.topic, message.payload);
  return discovery.result(kConfiguredTopics, kConfiguredIds);
}

std::map<std::string, ProposedDevice> by_topic(const DiscoveryResult& result) {
  std::map<std::string, ProposedDevice> out;
  for (const auto& device : result.proposed) out[device.topic] = device;
  return out;
}

// The snippet for the recorded session is the golden file (regenerate it with
// HOMESAFE_UPDATE_GOLDEN=1 and review the diff).
TEST(Discovery, RecordedSessionGivesTheGoldenSnippet) {
  const auto messages = recorded_session();
  ASSERT_GE(messages.size(), 15u);
  const std::string yaml = render_devices_yaml(discover(messages));
  const std::string path = fixture_dir() + "expected.yaml";
  if (std::getenv("HOMESAFE_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << yaml;
  std::ifstream file(path);
  ASSERT_TRUE(file) << path;
  const std::string expected((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  EXPECT_EQ(yaml, expected);
}

TEST(Discovery, ProposesEachIntegrationsDevicesWithTheirKind) {
  const auto devices = by_topic(discover(recorded_session()));
  auto expect = [&](const std::string& topic, DeviceKind kind, const std::string& format,
                    const std::string& model) {
    SCOPED_TRACE(topic);
    auto it = devices.find(topic);
    ASSERT_NE(it, devices.end());
    EXPECT_EQ(it->second.kind, kind);
    EXPECT_EQ(it->second.format, format);
    EXPECT_EQ(it->second.model, model);
    EXPECT_FALSE(it->second.reason.empty());
    EXPECT_NE(find_driver(it->second.format), nullptr);
  };
  expect("zigbee2mqtt/kitchen_smoke", DeviceKind::smoke, "zigbee2mqtt", "HS1SA");
  expect("zigbee2mqtt/床头按钮", DeviceKind::call_button, "zigbee2mqtt", "HS1EB/HS1EB-E");
  expect("zigbee2mqtt/front door", DeviceKind::contact, "zigbee2mqtt", "MCCGQ11LM");
  expect("zigbee2mqtt/kettle", DeviceKind::plug, "zigbee2mqtt", "TS011F_plug_1");
  expect("zigbee2mqtt/new_sensor", DeviceKind::co, "zigbee2mqtt", "TS0601_co_2");
  expect("zigbee2mqtt/bathroom_leak", DeviceKind::water_leak, "zigbee2mqtt", "");
  expect("bedroom-node/binary_sensor/bed_occupied", DeviceKind::occupancy, "esphome", "esp32dev");
  expect("bedroom-node/sensor/bedroom_temperature", DeviceKind::temperature, "esphome", "esp32dev");
  expect("tele/kettle", DeviceKind::plug, "tasmota", "Gosund SP1");
  expect("shellyplusplugs-a8032ab1e2f4", DeviceKind::plug, "shelly", "Plus Plug S");
  expect("shellyplusi4-c4d8d5a1b2c3", DeviceKind::call_button, "shelly", "Plus i4");
  expect("wmbusmeters/MyTapWater", DeviceKind::water_meter, "wmbusmeters", "multical21");
}

TEST(Discovery, LeavesOutConfiguredDevicesAndListsUnknownThingsAsComments) {
  const auto result = discover(recorded_session());
  const auto devices = by_topic(result);
  EXPECT_EQ(devices.count("zigbee2mqtt/configured_motion"), 0u);
  EXPECT_EQ(devices.count("zigbee2mqtt/hall_light"), 0u);  // a bulb is no safety device
  std::set<std::string> unrecognised;
  for (const auto& thing : result.unrecognised) unrecognised.insert(thing.topic);
  for (const auto* topic : {"zigbee2mqtt/hall_light", "zigbee2mqtt/0x00158d0001a2b3ca",
                            "bedroom-node/sensor/wifi_signal", "garage-node", "tele/bathroom-fan",
                            "wmbusmeters/MyHeater", "solar/power"}) {
    EXPECT_EQ(unrecognised.count(topic), 1u) << topic;
  }
  EXPECT_EQ(unrecognised.count("zigbee2mqtt/configured_motion"), 0u);
  EXPECT_EQ(unrecognised.count("bedroom-node"), 0u);  // its entities were discovered
}

TEST(Discovery, IdsAreUniqueValidAndAvoidConfiguredOnes) {
  const auto result = discover(recorded_session());
  std::set<std::string> ids;
  for (const auto& device : result.proposed) {
    EXPECT_TRUE(ids.insert(device.id).second) << device.id;
    EXPECT_EQ(kConfiguredIds.count(device.id), 0u) << device.id;
    EXPECT_FALSE(device.id.empty());
    EXPECT_LE(device.id.size(), 64u);
    for (const char ch : device.id) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_')
          << device.id;
    }
  }
  // A Chinese friendly name gives the kind as id; two kettles get distinct ids.
  const auto devices = by_topic(result);
  EXPECT_EQ(devices.at("zigbee2mqtt/床头按钮").id, "call_button");
  EXPECT_NE(devices.at("zigbee2mqtt/kettle").id, devices.at("tele/kettle").id);
  EXPECT_EQ(devices.at("zigbee2mqtt/kitchen_smoke").id, "kitchen_smoke-2");
}

TEST(Discovery, OrderOfMessagesDoesNotMatter) {
  auto messages = recorded_session();
  const std::string expected = render_devices_yaml(discover(messages));
  std::mt19937 rng(5);
  for (int i = 0; i < 5; ++i) {
    std::shuffle(messages.begin(), messages.end(), rng);
    EXPECT_EQ(render_devices_yaml(discover(messages)), expected);
  }
}

TEST(Discovery, QuotesTopicsAndSurvivesGarbage) {
  Discovery discovery;
  discovery.observe("zigbee2mqtt/bridge/devices",
                    R"([{"type":"EndDevice","friendly_name":"a \"quoted\"\nname",)"
                    R"("definition":{"model":"HS1SA","vendor":"HEIMAN","exposes":[]}}])");
  discovery.observe("zigbee2mqtt/bridge/devices", "not json");
  discovery.observe("homeassistant/sensor/x/config", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
  discovery.observe("tele/x/SENSOR", "");
  discovery.observe("wmbusmeters/y", "{\"meter\":5}");
  discovery.observe("", "");
  discovery.observe("a/online", "maybe");
  const auto result = discovery.result();
  ASSERT_EQ(result.proposed.size(), 1u);
  EXPECT_EQ(result.proposed[0].kind, DeviceKind::smoke);  // known model, even without exposes
  const std::string yaml = render_devices_yaml(result);
  EXPECT_NE(yaml.find(R"(topic: "zigbee2mqtt/a \"quoted\"\x0aname")"), std::string::npos) << yaml;
  // No stray line breaks: every line is "devices:", an indented entry line or a comment.
  std::istringstream lines(yaml);
  std::string line;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(line == "devices:" || line.rfind("  ", 0) == 0 || line.rfind("#", 0) == 0) << line;
  }
}

TEST(Discovery, NothingSeenSaysSo) {
  const Discovery discovery;
  EXPECT_EQ(render_devices_yaml(discovery.result()), "# no new devices recognised\n");
}

}  // namespace
}  // namespace homesafe::drivers
