#include "homesafe/gateway/replay.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace homesafe::gateway {
namespace {

const std::string kFixtures = std::string(HOMESAFE_SOURCE_DIR) + "/tests/gateway/fixtures/replay/";

HubConfig fixture_config() {
  auto result = load_config(kFixtures + "h001.yaml");
  EXPECT_TRUE(result.errors.empty());
  return *result.config;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string replay(const std::string& input, ReplayStats* stats = nullptr,
                   std::string* errors = nullptr) {
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  auto s = run_replay(fixture_config(), in, out, err);
  if (stats != nullptr) *stats = s;
  if (errors != nullptr) *errors = err.str();
  return out.str();
}

TEST(Replay, MatchesTheGoldenOutput) {
  ReplayStats stats;
  const std::string output = replay(read_file(kFixtures + "basic.jsonl"), &stats);
  EXPECT_EQ(output, read_file(kFixtures + "basic.expected.jsonl"));
  EXPECT_EQ(stats.messages, 15);
  EXPECT_EQ(stats.bad_lines, 0);
}

TEST(Replay, IsDeterministic) {
  const std::string input = read_file(kFixtures + "basic.jsonl");
  EXPECT_EQ(replay(input), replay(input));
}

TEST(Replay, EveryOutputLineFollowsTheContract) {
  std::istringstream lines(replay(read_file(kFixtures + "basic.jsonl")));
  std::string line;
  int count = 0;
  int notifications = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "notification") {
      for (const char* key :
           {"ts", "notification_id", "alert_id", "recipient", "role", "channel", "step", "text"}) {
        EXPECT_TRUE(j.contains(key)) << key << " missing in " << line;
      }
      ++notifications;
      continue;
    }
    for (const char* key :
         {"type", "ts", "alert_id", "kind", "severity", "state", "device", "location"}) {
      EXPECT_TRUE(j.contains(key)) << key << " missing in " << line;
    }
    EXPECT_EQ(j["type"], "alert");
    ++count;
  }
  EXPECT_GT(count, 0);
  EXPECT_GT(notifications, 0);
}

TEST(Replay, AcceptsUnixMillisecondsAndReportsBadLines) {
  ReplayStats stats;
  std::string errors;
  const std::string output = replay(
      "{\"ts\": 1793487600000, \"topic\": \"homesafe/h001/dev/bedroom-sos/state\", "
      "\"payload\": \"{\\\"action\\\":\\\"sos\\\"}\", \"retain\": false}\n"
      "this is not json\n"
      "{\"ts\": \"tomorrow\", \"topic\": \"t\", \"payload\": \"\"}\n"
      "{\"ts\": 1793487600000, \"payload\": \"x\"}\n",
      &stats, &errors);
  EXPECT_NE(output.find("\"kind\":\"call\""), std::string::npos);
  EXPECT_NE(output.find("\"ts\":\"2026-11-01T07:00:00+08:00\""), std::string::npos);
  EXPECT_EQ(stats.bad_lines, 3);
  EXPECT_NE(errors.find("input line 2"), std::string::npos);
  EXPECT_NE(errors.find("input line 3"), std::string::npos);
  EXPECT_NE(errors.find("input line 4"), std::string::npos);
}

}  // namespace
}  // namespace homesafe::gateway
