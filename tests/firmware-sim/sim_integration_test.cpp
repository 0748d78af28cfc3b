// The built homesafe-sim binary against a real Mosquitto: what actually goes over MQTT.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"

namespace homesafe::test {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

const std::string kSim = HOMESAFE_SIM_BINARY;
const std::string kDemo = HOMESAFE_SOURCE_DIR "/firmware-sim/scenarios/demo-h001.yaml";

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Runs homesafe-sim to completion and expects exit status `status`.
Process run_sim(std::vector<std::string> args, int status = 0) {
  args.insert(args.begin(), kSim);
  Process sim(std::move(args));
  const auto exit = sim.wait_for_exit();
  EXPECT_EQ(exit, status) << sim.describe();
  return sim;
}

TEST(SimIntegration, PressCallButtonPublishesOneSosMessage) {
  Mosquitto broker;
  Subscriber subscriber(broker.url(), "homesafe/#");
  const auto before = now_ms();
  const auto sim = run_sim(
      {"press", "call-button", "--broker", broker.url(), "--topic", "homesafe/h001/dev/sos"});
  const auto after = now_ms();

  ASSERT_TRUE(subscriber.wait_for_count(1)) << broker.log();
  EXPECT_FALSE(subscriber.wait_for_count(2, std::chrono::milliseconds{300}));
  const auto message = subscriber.messages().front();
  EXPECT_EQ(message.topic, "homesafe/h001/dev/sos/state");
  EXPECT_FALSE(message.retained);
  EXPECT_EQ(message.qos, 1);
  const auto payload = nlohmann::json::parse(message.payload);
  const auto ts = payload.at("ts").get<std::int64_t>();
  EXPECT_GE(ts, before);
  EXPECT_LE(ts, after);
  EXPECT_EQ(message.payload, R"({"action":"sos","battery":100,"battery_low":false,"ts":)" +
                                 std::to_string(ts) + "}");
  EXPECT_THAT(sim.read_stdout(),
              HasSubstr("  homesafe/h001/dev/sos/state  " + message.payload + "\n"));
}

TEST(SimIntegration, DemoScenarioAtMaxSpeed) {
  Mosquitto broker;
  const std::vector<ReceivedMessage> expected{
      {"homesafe/h001/dev/kitchen-smoke/availability", "online", false, 1},
      {"homesafe/h001/dev/kitchen-gas/availability", "online", false, 1},
      {"homesafe/h001/dev/bedroom-sos/availability", "online", false, 1},
      {"homesafe/h001/dev/front-door/availability", "online", false, 1},
      {"homesafe/h001/dev/water-meter/availability", "online", false, 1},
      // 07:00:05 self-test: two messages.
      {"homesafe/h001/dev/kitchen-smoke/state",
       R"({"smoke":true,"battery":100,"battery_low":false,"tamper":false,"test":true,)"
       R"("ts":1793487605000})",
       false, 1},
      {"homesafe/h001/dev/kitchen-smoke/state",
       R"({"smoke":false,"battery":100,"battery_low":false,"tamper":false,"test":false,)"
       R"("ts":1793487605000})",
       false, 1},
      {"homesafe/h001/dev/water-meter/state",
       R"({"water_total_l":8,"battery":100,"battery_low":false,"ts":1793487612000})", false, 1},
      {"homesafe/h001/dev/kitchen-smoke/state",
       R"({"smoke":true,"battery":100,"battery_low":false,"tamper":false,"test":false,)"
       R"("ts":1793487620000})",
       false, 1},
      // The stale repeat.
      {"homesafe/h001/dev/kitchen-smoke/state",
       R"({"smoke":true,"battery":100,"battery_low":false,"tamper":false,"test":false,)"
       R"("ts":1793487630000})",
       false, 1},
      {"homesafe/h001/dev/kitchen-gas/state",
       R"({"gas":true,"tamper":false,"test":false,"ts":1793487635000})", false, 1},
      {"homesafe/h001/dev/bedroom-sos/state",
       R"({"action":"sos","battery":100,"battery_low":false,"ts":1793487645000})", false, 1},
      {"homesafe/h001/dev/kitchen-smoke/state",
       R"({"smoke":false,"battery":100,"battery_low":false,"tamper":false,"test":false,)"
       R"("ts":1793487660000})",
       false, 1},
  };
  {
    Subscriber subscriber(broker.url(), "homesafe/#");
    const auto sim = run_sim({"run", kDemo, "--broker", broker.url(), "--speed", "max"});
    ASSERT_TRUE(subscriber.wait_for_count(expected.size())) << broker.log();
    EXPECT_FALSE(subscriber.wait_for_count(expected.size() + 1, std::chrono::milliseconds{300}));
    EXPECT_THAT(subscriber.messages(), ElementsAreArray(expected));
    EXPECT_THAT(sim.read_stdout(),
                HasSubstr("2026-11-01T07:00:45+08:00  homesafe/h001/dev/bedroom-sos/state  "
                          R"({"action":"sos","battery":100,"battery_low":false,)"
                          R"("ts":1793487645000})"
                          "\n"));
  }
  // Availability was retained: a late subscriber gets it.
  Subscriber late(broker.url(), "homesafe/h001/dev/+/availability");
  ASSERT_TRUE(late.wait_for_count(5)) << broker.log();
  for (const auto& message : late.messages()) {
    EXPECT_TRUE(message.retained) << message;
    EXPECT_EQ(message.payload, "online") << message;
  }
}

TEST(SimIntegration, HouseholdPublishedLiveIsWhatTheReplayFileHolds) {
  Mosquitto broker;
  TempDir dir("household-live");
  Subscriber subscriber(broker.url(), "homesafe/#");
  const auto started = std::chrono::steady_clock::now();
  // One simulated day at 43,200 virtual seconds per real second: about two seconds.
  run_sim({"household", "--out", dir.path().string(), "--days", "1", "--seed", "3", "--publish",
           "--speed", "43200", "--broker", broker.url(), "--quiet"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, std::chrono::milliseconds(1500));  // paced, not as fast as possible

  std::vector<std::pair<std::string, std::string>> expected;
  std::istringstream lines(read_file(dir.path() / "messages.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    const auto json = nlohmann::json::parse(line);
    expected.emplace_back(json.at("topic").get<std::string>(),
                          json.at("payload").get<std::string>());
  }
  ASSERT_GT(expected.size(), 50u);
  ASSERT_TRUE(subscriber.wait_for_count(expected.size())) << broker.log();
  std::vector<std::pair<std::string, std::string>> received;
  for (const auto& message : subscriber.messages()) {
    received.emplace_back(message.topic, message.payload);
  }
  EXPECT_EQ(received, expected);
}

TEST(SimIntegration, SpeedWithoutPublishIsAUsageError) {
  TempDir dir("household-speed");
  const auto sim = run_sim(
      {"household", "--out", dir.path().string(), "--days", "1", "--speed", "60", "--quiet"}, 2);
  EXPECT_THAT(sim.read_stderr(), HasSubstr("--speed goes with --publish"));
}

TEST(SimIntegration, SendWithOverridesAndQos0) {
  Mosquitto broker;
  Subscriber subscriber(broker.url(), "homesafe/#");
  run_sim({"send",   "--broker",    broker.url(), "--topic",     "homesafe/h001/dev/meter",
           "--type", "water_meter", "--event",    "use",         "--litres",
           "12",     "--set",       "battery=4",  "--set",       "ts=1000",
           "--qos",  "0",           "--quiet",    "--client-id", "sim-test"});
  ASSERT_TRUE(subscriber.wait_for_count(1)) << broker.log();
  EXPECT_EQ(subscriber.messages().front(),
            (ReceivedMessage{"homesafe/h001/dev/meter/state",
                             R"({"water_total_l":12,"battery":4,"battery_low":false,"ts":1000})",
                             false, 0}));
}

TEST(SimIntegration, ConnectionFailureIsAClearErrorWithExitCode1) {
  const int port = free_tcp_port();  // nobody listens there
  const auto sim =
      run_sim({"press", "call-button", "--broker", "tcp://127.0.0.1:" + std::to_string(port),
               "--topic", "homesafe/h/dev/x"},
              1);
  EXPECT_THAT(sim.read_stderr(), HasSubstr("cannot connect to broker tcp://127.0.0.1:"));
  EXPECT_EQ(sim.read_stdout(), "");
}

}  // namespace
}  // namespace homesafe::test
