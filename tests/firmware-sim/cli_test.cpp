#include "homesafe/sim/cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "homesafe/sim/runner.hpp"
#include "homesafe/sim/scenario.hpp"

namespace homesafe::sim {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kDemo = HOMESAFE_SOURCE_DIR "/firmware-sim/scenarios/demo-h001.yaml";

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result cli(std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = run_cli(args, out, err);
  return {code, out.str(), err.str()};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

TEST(SimCli, HelpAndUsageErrors) {
  auto result = cli({"--help"});
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_THAT(result.out, HasSubstr("homesafe-sim press call-button --topic BASE"));
  EXPECT_EQ(cli({}).code, kExitUsage);
  result = cli({"fly"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_THAT(result.err, HasSubstr("unknown command 'fly'"));
  EXPECT_EQ(cli({"send", "--help"}).code, kExitOk);
}

TEST(SimCli, SendChecksItsArgumentsBeforeConnecting) {
  auto result = cli({"send", "--topic", "a/b", "--type", "toaster", "--event", "alarm"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_THAT(result.err, HasSubstr("unknown device type 'toaster'"));
  result = cli({"send", "--topic", "a/b", "--type", "water_meter", "--event", "use"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_THAT(result.err, HasSubstr("needs `litres`"));
  result = cli(
      {"send", "--topic", "a/b", "--type", "water_meter", "--event", "use", "--litres", "many"});
  EXPECT_THAT(result.err, HasSubstr("--litres must be a number"));
  result = cli({"send", "--type", "door", "--event", "open"});
  EXPECT_THAT(result.err, HasSubstr("missing --topic"));
  result = cli({"send", "--topic", "a/#", "--type", "door", "--event", "open"});
  EXPECT_EQ(result.code, kExitUsage);
  result = cli({"send", "--topic", "a/b", "--type", "door", "--event", "open", "--qos", "3"});
  EXPECT_THAT(result.err, HasSubstr("--qos must be 0, 1 or 2"));
  result = cli({"send", "--topic", "a/b", "--type", "door", "--event", "open", "--set", "x"});
  EXPECT_THAT(result.err, HasSubstr("--set needs KEY=VALUE"));
  result = cli({"send", "--topic", "a/b", "--type", "door", "--event", "open", "--colour", "red"});
  EXPECT_THAT(result.err, HasSubstr("unknown option --colour for `send`"));
  result = cli({"press", "doorbell", "--topic", "a/b"});
  EXPECT_EQ(result.code, kExitUsage);
}

TEST(SimCli, RunJsonlToStdoutIsTheSimulation) {
  const auto result = cli({"run", kDemo, "--jsonl", "-"});
  ASSERT_EQ(result.code, kExitOk) << result.err;
  const auto scenario = load_scenario(kDemo).scenario.value();
  std::vector<std::string> expected;
  for (const auto& message : simulate(scenario, scenario.start->unix_ms)) {
    expected.push_back(to_jsonl(message, 480));
  }
  EXPECT_EQ(lines(result.out), expected);
  const auto first = nlohmann::json::parse(lines(result.out).at(0));
  EXPECT_EQ(first["ts"], "2026-11-01T07:00:00+08:00");
  EXPECT_EQ(first["retain"], true);
}

TEST(SimCli, RunStartOverridesTheScenario) {
  const auto result = cli({"run", kDemo, "--jsonl", "-", "--start", "2027-01-02T03:04:05Z"});
  ASSERT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, StartsWith(R"({"ts":"2027-01-02T03:04:05+00:00")"));
}

TEST(SimCli, RunReportsScenarioErrorsWithPositions) {
  const auto result =
      cli({"run", HOMESAFE_SOURCE_DIR "/tests/firmware-sim/data/broken.yaml", "--jsonl", "-"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(lines(result.err),
            (std::vector<std::string>{
                HOMESAFE_SOURCE_DIR "/tests/firmware-sim/data/broken.yaml:5:10: bad duration "
                                    "'10' for `at` (expected e.g. 0s, 90s, 5m, 2h, 1d, 1h30m)",
                HOMESAFE_SOURCE_DIR "/tests/firmware-sim/data/broken.yaml:6:23: unknown device "
                                    "'kitchen'",
            }));
}

TEST(SimCli, RunOptionErrors) {
  EXPECT_EQ(cli({"run"}).code, kExitUsage);
  EXPECT_THAT(cli({"run", kDemo, "--speed", "0"}).err, HasSubstr("--speed must be"));
  EXPECT_THAT(cli({"run", kDemo, "--speed", "fast"}).err, HasSubstr("--speed must be"));
  EXPECT_THAT(cli({"run", kDemo, "--start", "soon"}).err, HasSubstr("--start must be ISO 8601"));
  const auto result = cli({"run", kDemo, "--jsonl", "/nonexistent/dir/out.jsonl"});
  EXPECT_EQ(result.code, kExitFailure);
  EXPECT_THAT(result.err, HasSubstr("cannot write"));
}

TEST(SimCli, EventsListsTypesAndArguments) {
  const auto result = cli({"events", "water_meter"});
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_THAT(result.out, HasSubstr("water_meter (battery by default; state: water_total_l, "
                                    "battery, battery_low)"));
  EXPECT_THAT(result.out, HasSubstr("litres: N"));
  EXPECT_EQ(cli({"events", "toaster"}).code, kExitUsage);
}

}  // namespace
}  // namespace homesafe::sim
