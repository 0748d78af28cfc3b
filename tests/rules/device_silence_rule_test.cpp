#include "homesafe/rules/device_silence_rule.hpp"

#include <gtest/gtest.h>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using drivers::PowerSource;
using test::flag;
using test::number;

constexpr double kEpsilonMinutes = 0.001;  // 60 ms

drivers::DeviceConfig plug(std::string id = "plug") {
  return test::device(std::move(id), DeviceKind::plug, PowerSource::mains);
}
drivers::DeviceConfig sensor(std::string id = "hall") {
  return test::device(std::move(id), DeviceKind::motion, PowerSource::battery);
}

test::EngineHarness harness(std::vector<drivers::DeviceConfig> devices) {
  return test::EngineHarness(test::EngineHarness::shanghai(std::move(devices)),
                             test::only<DeviceSilenceRule>());
}

RuleEvent silent(const std::string& device) {
  return {Signal::raise, AlertKind::device_offline, device, "silent"};
}

std::vector<RuleEvent> report(test::EngineHarness& h, const drivers::DeviceConfig& d) {
  if (d.kind == DeviceKind::plug) return h.send(d, {number(Capability::power, 3.0)});
  return h.send(d, {flag(Capability::occupancy, false), number(Capability::battery, 90)});
}

TEST(DeviceSilenceRule, MainsDeviceSilentTenMinutesFromTheStart) {
  const auto p = plug();
  auto h = harness({p});  // a new hub at 08:00 that has heard nothing yet: no alert at once
  EXPECT_TRUE(h.advance_minutes(10 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes), (std::vector<RuleEvent>{silent("plug")}));
  h.advance_minutes(60);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);

  // It speaks again: the alert clears (after the engine's flap hold).
  EXPECT_TRUE(report(h, p).empty());
  h.advance_minutes(5);
  report(h, p);
  EXPECT_EQ(h.advance_minutes(5),
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::device_offline, "plug", {}}}));
}

TEST(DeviceSilenceRule, EveryMessageCountsEvenWithoutReadings) {
  const auto p = plug();
  auto h = harness({p});
  h.advance_minutes(9);
  h.send(p, {});  // e.g. an undecodable payload: the device is alive
  EXPECT_TRUE(h.advance_minutes(10 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes).size(), 1u);
}

TEST(DeviceSilenceRule, BatteryDeviceSilentTwentyFiveHours) {
  const auto s = sensor();
  auto h = harness({s});
  report(h, s);
  EXPECT_TRUE(h.advance_minutes(25 * 60 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes), (std::vector<RuleEvent>{silent("hall")}));
}

TEST(DeviceSilenceRule, PerDeviceOverride) {
  auto s = sensor();
  s.silence_ms = 2 * kHourMs;  // a sensor that reports every 30 minutes
  auto h = harness({s});
  report(h, s);
  EXPECT_TRUE(h.advance_minutes(120 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes).size(), 1u);

  auto p = plug();
  p.silence_ms = kHourMs;  // a plug that only reports hourly
  auto h2 = harness({p});
  report(h2, p);
  EXPECT_TRUE(h2.advance_minutes(60 - kEpsilonMinutes).empty());
  EXPECT_EQ(h2.advance_minutes(kEpsilonMinutes).size(), 1u);
}

TEST(DeviceSilenceRule, AvailabilityOfflineAtOnceAndOnlyOnlineEndsIt) {
  const auto p = plug();
  auto h = harness({p});
  EXPECT_EQ(
      h.send(p, {flag(Capability::availability, false)}),
      (std::vector<RuleEvent>{{Signal::raise, AlertKind::device_offline, "plug", "offline"}}));
  // A (retained, stale) state message does not bring it back.
  for (int i = 0; i < 6; ++i) {
    report(h, p);
    h.advance_minutes(5);
  }
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 0u);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  h.send(p, {flag(Capability::availability, true)});
  report(h, p);
  h.advance_minutes(5);
  report(h, p);
  h.advance_minutes(5);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 1u);
}

TEST(DeviceSilenceRule, OneDeadDeviceIsReportedOnceAnotherDeviceProvesTheHubAlive) {
  const auto p = plug();
  const auto s1 = sensor("hall");
  const auto s2 = sensor("bedroom");
  auto h = harness({p, s1, s2});
  report(h, p);
  report(h, s2);
  // The plug dies at 08:00; the hall sensor keeps reporting every five minutes.
  h.advance_minutes(5);
  EXPECT_TRUE(report(h, s1).empty());
  h.advance_minutes(5);
  EXPECT_TRUE(report(h, s1).empty());  // 08:10: nobody spoke after the plug's limit yet
  h.advance_minutes(5);
  EXPECT_EQ(report(h, s1), (std::vector<RuleEvent>{silent("plug")}));
  h.advance_minutes(60);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 0u);
}

TEST(DeviceSilenceRule, EveryDeviceSilentGivesOneHubOfflineNotOnePerDevice) {
  const std::vector<drivers::DeviceConfig> devices{plug("plug1"), plug("plug2"), sensor("s1"),
                                                   sensor("s2"), sensor("s3")};
  auto h = harness(devices);
  for (const auto& d : devices) report(h, d);
  // The bridge dies at 08:00. The plugs pass their limit first: nothing tells them from the hub.
  h.advance_minutes(25 * 60 - kEpsilonMinutes);
  EXPECT_TRUE(h.history().empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes),
            (std::vector<RuleEvent>{
                {Signal::raise, AlertKind::hub_offline, "", "all 5 devices silent"}}));
  h.advance_minutes(5 * 60);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 1u);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 0u);

  // The bridge is back: the first device clears it; the others get time to report again.
  report(h, devices[2]);
  EXPECT_EQ(h.advance_minutes(10),
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::hub_offline, "", {}}}));
  for (const auto& d : devices) {
    if (d.id != "plug2") report(h, d);
  }
  h.advance_minutes(9);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 0u);
  // plug2 stays silent while the others talk: now it is a device of its own.
  for (int i = 0; i < 4; ++i) {
    report(h, devices[0]);
    h.advance_minutes(5);
  }
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  EXPECT_EQ(h.history().back().device_id, "plug2");
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 1u);
}

TEST(DeviceSilenceRule, OpenDeviceAlertsStayOpenUnderTheHubAlert) {
  auto a = sensor("a");
  a.silence_ms = kHourMs;
  const auto b = sensor("b");
  const auto c = sensor("c");
  auto h = harness({a, b, c});
  report(h, a);
  report(h, b);
  report(h, c);
  h.advance_minutes(90);
  EXPECT_EQ(report(h, b), (std::vector<RuleEvent>{silent("a")}));  // 09:30
  // Nothing after that: c is past its limit at 09:00 next day, b at 10:30: then all are down.
  h.advance_minutes(24 * 60 + 59);  // 10:29 next day
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 0u);
  h.advance_minutes(1);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 1u);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 0u);
  report(h, c);
  h.advance_minutes(15);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::clear), 1u);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 0u);  // a is still silent
  report(h, a);
  h.advance_minutes(15);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 1u);
}

TEST(DeviceSilenceRule, FewerDevicesThanTheHubMinimumAlertOneByOne) {
  const auto s1 = sensor("s1");
  const auto s2 = sensor("s2");
  auto h = harness({s1, s2});
  report(h, s1);
  h.advance_minutes(30);
  report(h, s2);
  h.advance_minutes(26 * 60);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 2u);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 0u);
}

TEST(DeviceSilenceRule, DowntimeOfTheGatewayIsNoSilenceOfMainsDevices) {
  const auto p = plug();
  auto h = harness({p});
  report(h, p);
  h.advance_minutes(5);                         // 08:05
  EXPECT_TRUE(h.restart(2 * kHourMs).empty());  // 10:05, the rule clock counted the 2 h
  EXPECT_TRUE(h.advance_minutes(10 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes), (std::vector<RuleEvent>{silent("plug")}));
}

TEST(DeviceSilenceRule, DowntimeOfTheGatewayIsNoSilenceOfBatteryDevices) {
  const auto s = sensor();
  auto h = harness({s});
  report(h, s);  // 08:00
  h.advance_minutes(5);
  EXPECT_TRUE(h.restart(2 * kHourMs).empty());  // 10:05
  // 25 h of hearing: 5 minutes before the restart, the rest after it.
  EXPECT_TRUE(h.advance_minutes(25 * 60 - 5 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes).size(), 1u);
}

TEST(DeviceSilenceRule, RestartMidSilenceStillAlerts) {
  const auto p = plug();
  auto h = harness({p});
  report(h, p);
  h.advance_minutes(8);
  EXPECT_TRUE(h.restart(kMinuteMs).empty());  // a short restart is no downtime to skip
  EXPECT_TRUE(h.advance_minutes(1 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes).size(), 1u);
}

TEST(DeviceSilenceRule, OpenAlertSurvivesARestart) {
  const auto p = plug();
  auto h = harness({p});
  h.advance_minutes(10);
  ASSERT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  EXPECT_TRUE(h.restart(30 * kMinuteMs).empty());
  h.advance_minutes(60);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  report(h, p);
  h.advance_minutes(5);
  report(h, p);
  h.advance_minutes(5);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 1u);
}

}  // namespace
}  // namespace homesafe::rules
