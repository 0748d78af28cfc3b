#pragma once
// Data-driven driver tests: fixtures/<format>/messages.jsonl holds one MQTT message per line
// (`device` it was routed to, `topic`, raw `payload`) and what the driver must make of it
// (`readings`: capability name -> value, `problems`: "reason" or "reason:key", optional `ts`).

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "homesafe/drivers/driver.hpp"

namespace homesafe::drivers::testing {

struct Fixture {
  std::string name;
  DeviceConfig device;
  std::string topic;
  std::string payload;
  nlohmann::json readings;
  nlohmann::json problems;
  std::optional<std::int64_t> ts;
};

inline std::string fixture_path(std::string_view format) {
  return std::string(HOMESAFE_SOURCE_DIR) + "/tests/device-drivers/fixtures/" +
         std::string(format) + "/messages.jsonl";
}

inline std::vector<Fixture> load_fixtures(std::string_view format) {
  std::vector<Fixture> out;
  std::ifstream file(fixture_path(format));
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty()) continue;
    const auto json = nlohmann::json::parse(line);
    Fixture fixture;
    fixture.name = json.at("name").get<std::string>();
    fixture.topic = json.at("topic").get<std::string>();
    fixture.payload = json.at("payload").get<std::string>();
    fixture.readings = json.at("readings");
    fixture.problems = json.at("problems");
    if (json.contains("ts")) fixture.ts = json["ts"].get<std::int64_t>();
    fixture.device.id = "dev";
    fixture.device.format = std::string(format);
    fixture.device.location = "x";
    if (json.contains("device")) {
      const auto& device = json["device"];
      fixture.device.topic = device.at("topic").get<std::string>();
      fixture.device.kind = device_kind_from_string(device.at("kind").get<std::string>()).value();
      fixture.device.model = device.value("model", std::string());
    } else {  // native: the base topic is the topic without its last level
      fixture.device.topic = fixture.topic.substr(0, fixture.topic.rfind('/'));
    }
    out.push_back(std::move(fixture));
  }
  return out;
}

inline nlohmann::json readings_as_json(const DecodeResult& result) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& reading : result.readings) {
    const std::string name(to_string(reading.capability));
    std::visit([&](const auto& value) { out[name] = value; }, reading.value);
  }
  return out;
}

inline nlohmann::json problems_as_json(const DecodeResult& result) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& problem : result.problems) {
    std::string text(to_string(problem.error));
    if (!problem.key.empty()) text += ":" + problem.key;
    out.push_back(text);
  }
  return out;
}

// Readings equal the expected ones; numbers within a relative 1e-9 (kWh from Wh, L from m³).
inline void expect_readings(const DecodeResult& result, const nlohmann::json& expected) {
  const auto actual = readings_as_json(result);
  EXPECT_EQ(actual.size(), result.readings.size()) << "a capability appears twice";
  EXPECT_EQ(actual.size(), expected.size()) << "got " << actual.dump();
  for (const auto& [name, value] : expected.items()) {
    ASSERT_TRUE(actual.contains(name)) << "missing " << name << " in " << actual.dump();
    const auto& got = actual[name];
    if (value.is_number()) {
      ASSERT_TRUE(got.is_number()) << name << " = " << got.dump();
      const double want = value.get<double>();
      EXPECT_LE(std::abs(got.get<double>() - want), 1e-9 * std::max(1.0, std::abs(want)))
          << name << " = " << got.dump() << ", want " << value.dump();
    } else {
      EXPECT_EQ(got, value) << name;
    }
  }
}

// Decodes every fixture of `format` with `driver` and checks the outcome. Returns the count.
inline int check_fixtures(const Driver& driver, std::string_view format) {
  const auto fixtures = load_fixtures(format);
  for (const auto& fixture : fixtures) {
    SCOPED_TRACE(fixture.name);
    const auto result = driver.decode(fixture.device, fixture.topic, fixture.payload);
    expect_readings(result, fixture.readings);
    EXPECT_EQ(problems_as_json(result), fixture.problems);
    if (fixture.ts) {
      EXPECT_EQ(result.device_ts_ms, fixture.ts);
    } else {
      EXPECT_FALSE(result.device_ts_ms.has_value()) << *result.device_ts_ms;
    }
    // The driver subscribes to every topic it reads (and the fixtures use real topics).
    const bool unknown_topic = std::find(fixture.problems.begin(), fixture.problems.end(),
                                         "unknown_topic") != fixture.problems.end();
    const auto topics = driver.topics(fixture.device);
    EXPECT_EQ(std::find(topics.begin(), topics.end(), fixture.topic) != topics.end(),
              !unknown_topic)
        << fixture.topic;
  }
  return static_cast<int>(fixtures.size());
}

}  // namespace homesafe::drivers::testing
