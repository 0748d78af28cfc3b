// `homesafe-gateway discover`: the snippet it prints is a valid config, and against a real
// Mosquitto it finds retained announcements and leaves out what the config already has.
// (What each message means is unit-tested in tests/device-drivers/discovery_test.cpp.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../../gateway/src/cli/discover.hpp"
#include "homesafe/drivers/discovery.hpp"
#include "homesafe/gateway/config.hpp"
#include "support/mosquitto.hpp"
#include "support/publisher.hpp"
#include "support/temp_dir.hpp"

namespace homesafe::gateway {
namespace {

struct Message {
  std::string topic;
  std::string payload;
};

std::vector<Message> recorded_session() {
  std::ifstream file(std::string(HOMESAFE_SOURCE_DIR) +
                     "/tests/device-drivers/fixtures/discovery/messages.jsonl");
  std::vector<Message> out;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty()) continue;
    const auto json = nlohmann::json::parse(line);
    out.push_back({json.at("topic").get<std::string>(), json.at("payload").get<std::string>()});
  }
  return out;
}

std::string config_text(const std::string& broker_url, const std::string& devices) {
  return "household: {id: h001, name: \"test\", timezone: Asia/Shanghai}\n"
         "broker: {url: \"" +
         broker_url +
         "\", client_id: homesafe-h001}\n"
         "storage: {path: \":memory:\"}\n"
         "devices:\n"
         "  - id: configured_motion\n"
         "    kind: motion\n"
         "    format: zigbee2mqtt\n"
         "    topic: zigbee2mqtt/configured_motion\n"
         "    location: 客厅\n" +
         devices +
         "contacts:\n"
         "  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}\n";
}

// The entries of a printed snippet (the lines under `devices:`).
std::string entries_of(const std::string& snippet) {
  std::istringstream in(snippet);
  std::string line;
  std::string out;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "devices:") {
      inside = true;
    } else if (inside && line.rfind("  ", 0) == 0) {
      out += line + "\n";
    } else if (inside) {
      break;
    }
  }
  return out;
}

TEST(DiscoverCommand, SnippetPastesIntoAValidConfig) {
  drivers::Discovery discovery;
  for (const auto& message : recorded_session()) discovery.observe(message.topic, message.payload);
  const auto result = discovery.result({"zigbee2mqtt/configured_motion"}, {"configured_motion"});
  ASSERT_GE(result.proposed.size(), 10u);
  const std::string entries = entries_of(drivers::render_devices_yaml(result));
  const auto parsed = parse_config(config_text("tcp://127.0.0.1:1883", entries), "pasted.yaml");
  for (const auto& error : parsed.errors) ADD_FAILURE() << error.to_string();
  ASSERT_TRUE(parsed.config.has_value());
  EXPECT_EQ(parsed.config->devices.size(), result.proposed.size() + 1);
}

TEST(DiscoverCommand, ABadConfigIsAnError) {
  EXPECT_NE(cli::discover("/nonexistent/homesafe.yaml", 1), 0);
  test::TempDir dir;
  const auto path = dir / "h001.yaml";
  std::ofstream(path) << config_text("tcp://127.0.0.1:1", "");
  EXPECT_EQ(cli::discover(path.string(), 0), 2);  // --seconds out of range
  EXPECT_EQ(cli::discover(path.string(), 1), 1);  // nothing listens on port 1
}

TEST(DiscoverCommand, FindsRetainedAnnouncementsOnARealBroker) {
  if (!std::filesystem::exists(test::MosquittoOptions{}.binary)) GTEST_SKIP() << "no mosquitto";
  test::Mosquitto broker;
  {
    test::Publisher publisher(broker.url(), "discover-test-publisher");
    for (const auto& message : recorded_session()) {
      publisher.publish(message.topic, message.payload, 1, /*retained=*/true);
    }
  }
  test::TempDir dir;
  const auto path = dir / "h001.yaml";
  std::ofstream(path) << config_text(broker.url(), "");

  std::ostringstream captured;
  auto* previous = std::cout.rdbuf(captured.rdbuf());
  const int rc = cli::discover(path.string(), 1);
  std::cout.rdbuf(previous);
  const std::string out = captured.str();

  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("topic: \"zigbee2mqtt/kitchen_smoke\""), std::string::npos) << out;
  EXPECT_NE(out.find("topic: \"tele/kettle\""), std::string::npos) << out;
  EXPECT_NE(out.find("topic: \"wmbusmeters/MyTapWater\""), std::string::npos) << out;
  EXPECT_EQ(out.find("configured_motion"), std::string::npos) << out;
  const auto parsed = parse_config(config_text(broker.url(), entries_of(out)), "pasted.yaml");
  for (const auto& error : parsed.errors) ADD_FAILURE() << error.to_string();
}

}  // namespace
}  // namespace homesafe::gateway
