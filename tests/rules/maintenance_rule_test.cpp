#include "homesafe/rules/maintenance_rule.hpp"

#include <gtest/gtest.h>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using test::flag;
using test::number;

class MaintenanceRuleTest : public ::testing::Test {
 protected:
  test::RuleHarness harness{std::make_unique<MaintenanceRule>()};
  drivers::DeviceConfig smoke = test::device("kitchen-smoke", DeviceKind::smoke);
};

TEST_F(MaintenanceRuleTest, BatteryLowFlagRaisesAndClears) {
  auto out = harness.send(smoke, {flag(Capability::battery_low, true)});
  EXPECT_EQ(out,
            (std::vector<RuleEvent>{{Signal::raise, AlertKind::low_battery, "kitchen-smoke", {}}}));
  out = harness.send(smoke, {flag(Capability::battery_low, false)});
  EXPECT_EQ(out,
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::low_battery, "kitchen-smoke", {}}}));
}

TEST_F(MaintenanceRuleTest, BatteryPercentWithHysteresis) {
  EXPECT_TRUE(harness.send(smoke, {number(Capability::battery, 11)}).empty());
  EXPECT_EQ(harness.send(smoke, {number(Capability::battery, 10)}).at(0).signal, Signal::raise);
  // Between 10 and 20: no flapping.
  EXPECT_EQ(harness.send(smoke, {number(Capability::battery, 15)}).size(), 0u);
  EXPECT_EQ(harness.send(smoke, {number(Capability::battery, 19.9)}).size(), 0u);
  EXPECT_EQ(harness.send(smoke, {number(Capability::battery, 20)}).at(0).signal, Signal::clear);
}

TEST_F(MaintenanceRuleTest, MainsDevicesHaveNoBatteryAlerts) {
  const auto plug = test::device("plug", DeviceKind::plug, drivers::PowerSource::mains);
  EXPECT_TRUE(harness.send(plug, {number(Capability::battery, 0)}).empty());
}

TEST_F(MaintenanceRuleTest, Tamper) {
  EXPECT_EQ(harness.send(smoke, {flag(Capability::tamper, true)}).at(0).kind, AlertKind::tamper);
  EXPECT_EQ(harness.send(smoke, {flag(Capability::tamper, true)}).at(0).signal, Signal::repeat);
  EXPECT_EQ(harness.send(smoke, {flag(Capability::tamper, false)}).at(0).signal, Signal::clear);
}

}  // namespace
}  // namespace homesafe::rules
