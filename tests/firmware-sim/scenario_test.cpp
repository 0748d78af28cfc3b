#include "homesafe/sim/scenario.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace homesafe::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> errors_of(std::string_view yaml) {
  const auto parsed = parse_scenario(yaml, "s.yaml");
  EXPECT_FALSE(parsed.scenario.has_value());
  std::vector<std::string> lines;
  for (const auto& error : parsed.errors) lines.push_back(error.to_string());
  return lines;
}

TEST(SimScenario, ParsesDevicesEventsAndDefaults) {
  const auto parsed = parse_scenario(R"(
household: h001
start: "2026-11-01T07:00:00+08:00"
end: 2h
devices:
  - {id: kitchen-smoke, type: smoke_detector}
  - {id: sos, type: call_button, topic: custom/sos}
  - {id: meter, type: water_meter, report_every: 30m, power: mains}
events:
  - {at: 2m, device: sos, event: press, action: sos}
  - {at: 10s, device: kitchen-smoke, event: alarm, set: {battery: 5, note: "x", flag: true}}
  - {at: 1h, device: meter, event: use, litres: 12}
)",
                                     "s.yaml");
  ASSERT_TRUE(parsed.scenario) << parsed.errors.front().to_string();
  const Scenario& scenario = *parsed.scenario;
  EXPECT_EQ(scenario.household, "h001");
  EXPECT_EQ(scenario.start->unix_ms, 1'793'487'600'000);
  EXPECT_EQ(scenario.start->utc_offset_minutes, 480);
  EXPECT_EQ(scenario.end, std::chrono::hours{2});
  ASSERT_EQ(scenario.devices.size(), 3U);
  EXPECT_EQ(scenario.devices[0].topic, "homesafe/h001/dev/kitchen-smoke");
  EXPECT_EQ(scenario.devices[0].power, PowerSource::battery);
  EXPECT_EQ(scenario.devices[1].topic, "custom/sos");
  EXPECT_EQ(scenario.devices[2].type, DeviceType::water_meter);
  EXPECT_EQ(scenario.devices[2].power, PowerSource::mains);
  EXPECT_EQ(scenario.devices[2].report_every, std::chrono::minutes{30});
  ASSERT_EQ(scenario.events.size(), 3U);  // file order; the runner sorts
  EXPECT_EQ(scenario.events[0].at, std::chrono::minutes{2});
  EXPECT_EQ(scenario.events[0].args.params.at("action"), "sos");
  EXPECT_EQ(scenario.events[1].args.overrides.dump(), R"({"battery":5,"note":"x","flag":true})");
  EXPECT_EQ(scenario.events[2].args.params.at("litres"), 12);
}

TEST(SimScenario, ReportsEveryErrorWithLineAndColumn) {
  EXPECT_THAT(errors_of(R"(household: h001
devices:
  - {id: smoke, type: smoke_detector}
  - {id: meter, type: water_meter, colour: red}
events:
  - {at: 10s, device: smoke, event: alarm}
  - {at: 5x, device: smoke, event: alarm}
  - {at: 1m, device: ghost, event: alarm}
  - {at: 2m, device: smoke, event: leak}
  - {at: 3m, device: smoke, event: alarm, volume: 11}
  - {at: 4m, device: meter, event: use}
  - {at: 5m, device: smoke, event: alarm, litres: 3}
)"),
              ElementsAre("s.yaml:4:36: unknown key 'colour' in a device",
                          "s.yaml:7:10: bad duration '5x' for `at` (expected e.g. 0s, 90s, 5m, "
                          "2h, 1d, 1h30m)",
                          "s.yaml:8:22: unknown device 'ghost'",
                          "s.yaml:9:36: unknown event 'leak' for a battery smoke_detector device "
                          "(expected one of: online, offline, report, alarm, clear, test, "
                          "tamper, tamper_clear, battery_low, battery_ok)",
                          "s.yaml:10:43: unknown key 'volume' in an event",
                          "s.yaml:11:5: event 'use' needs `litres`",
                          "s.yaml:12:43: event 'alarm' of smoke_detector takes no `litres`"));
}

TEST(SimScenario, TopLevelAndDeviceErrors) {
  EXPECT_THAT(errors_of(R"(devices:
  - {id: a, type: toaster}
  - {id: b, type: door}
  - {id: b, type: door, topic: x/y}
  - {type: door}
  - {id: c, type: plug, topic: "x/#"}
start: tomorrow
colour: red
)"),
              ElementsAre("s.yaml:2:5: device 'a' needs `topic` (or set `household`)",
                          HasSubstr("s.yaml:2:19: unknown device type 'toaster'"),
                          "s.yaml:3:5: device 'b' needs `topic` (or set `household`)",
                          "s.yaml:4:10: duplicate device id 'b'", "s.yaml:5:5: a device needs `id`",
                          "s.yaml:6:32: `topic` must not contain '+' or '#' nor end with '/'",
                          HasSubstr("s.yaml:7:8: bad start time 'tomorrow'"),
                          "s.yaml:8:1: unknown key 'colour' in the scenario"));
}

TEST(SimScenario, EventsOfABrokenDeviceAreNotCheckedAgainstAGuess) {
  EXPECT_THAT(errors_of(R"(household: h
devices:
  - {id: a, type: toaster}
events:
  - {at: 1s, device: a, event: toast}
)"),
              ElementsAre(HasSubstr("s.yaml:3:19: unknown device type 'toaster'")));
}

TEST(SimScenario, BadParameterValues) {
  EXPECT_THAT(errors_of(R"(household: h
devices:
  - {id: m, type: water_meter}
  - {id: b, type: call_button}
  - {id: p, type: plug}
events:
  - {at: 1s, device: m, event: use, litres: "12"}
  - {at: 1s, device: b, event: press, action: ""}
  - {at: 1s, device: p, event: power, watts: -5}
  - {at: 1s, device: b, event: online, set: {battery: 1}}
  - {at: 1s, device: b, event: press, set: [1, 2]}
)"),
              ElementsAre("s.yaml:7:45: `litres` must be a number",
                          "s.yaml:8:47: `action` must be a non-empty string",
                          "s.yaml:9:46: `watts` must be between 0 and 100000",
                          "s.yaml:10:40: event 'online' publishes no state to `set`",
                          "s.yaml:11:44: `set` must be a map"));
}

TEST(SimScenario, YamlSyntaxErrorsHaveAPosition) {
  const auto errors = errors_of("devices:\n  - {id: a, type: door\n");
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_THAT(errors[0], ::testing::StartsWith("s.yaml:3:"));
}

TEST(SimScenario, NotAMapOrMissingDevices) {
  EXPECT_THAT(errors_of("- 1\n- 2\n"), ElementsAre("s.yaml:1:1: the scenario must be a map"));
  EXPECT_THAT(errors_of("household: h\n"), ElementsAre("s.yaml:1:1: the scenario needs `devices`"));
  EXPECT_THAT(errors_of(""), ElementsAre("s.yaml:1:1: the scenario must be a map"));
}

TEST(SimScenario, LoadsTheShippedDemo) {
  const auto parsed = load_scenario(HOMESAFE_SOURCE_DIR "/firmware-sim/scenarios/demo-h001.yaml");
  ASSERT_TRUE(parsed.scenario) << parsed.errors.front().to_string();
  EXPECT_EQ(parsed.scenario->household, "h001");
  EXPECT_EQ(parsed.scenario->devices.size(), 5U);
}

TEST(SimScenario, MissingFile) {
  const auto parsed = load_scenario("/nonexistent/x.yaml");
  ASSERT_EQ(parsed.errors.size(), 1U);
  EXPECT_EQ(parsed.errors[0].to_string(), "/nonexistent/x.yaml:1:1: cannot read the scenario file");
}

}  // namespace
}  // namespace homesafe::sim
