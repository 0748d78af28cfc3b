#include "homesafe/rules/hazard_rule.hpp"

#include <gtest/gtest.h>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using test::flag;
using test::number;
using test::text;

class HazardRuleTest : public ::testing::Test {
 protected:
  test::RuleHarness harness{std::make_unique<HazardRule>()};
  drivers::DeviceConfig smoke = test::device("kitchen-smoke", DeviceKind::smoke);
  drivers::DeviceConfig button = test::device("sos", DeviceKind::call_button);
};

TEST_F(HazardRuleTest, SmokeRaisesOnceThenRepeatsThenClears) {
  auto out = harness.send(smoke, {flag(Capability::smoke, true), number(Capability::battery, 90)});
  EXPECT_EQ(out, (std::vector<RuleEvent>{{Signal::raise, AlertKind::smoke, "kitchen-smoke", {}}}));
  // The same cached state repeated in a battery report joins; it is not a new alarm.
  out = harness.send(smoke, {flag(Capability::smoke, true), number(Capability::battery, 89)});
  EXPECT_EQ(out, (std::vector<RuleEvent>{{Signal::repeat, AlertKind::smoke, "kitchen-smoke", {}}}));
  out = harness.send(smoke, {flag(Capability::smoke, false)});
  EXPECT_EQ(out, (std::vector<RuleEvent>{{Signal::clear, AlertKind::smoke, "kitchen-smoke", {}}}));
  out = harness.send(smoke, {flag(Capability::smoke, false)});
  EXPECT_TRUE(out.empty());
}

TEST_F(HazardRuleTest, MissingKeyIsNotAClear) {
  harness.send(smoke, {flag(Capability::smoke, true)});
  auto out = harness.send(smoke, {number(Capability::battery, 50)});
  EXPECT_TRUE(out.empty());
  out = harness.send(smoke, {flag(Capability::smoke, true)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].signal, Signal::repeat);
}

TEST_F(HazardRuleTest, EachHazardMapsToItsKind) {
  const auto gas = test::device("g", DeviceKind::gas);
  const auto co = test::device("c", DeviceKind::co);
  const auto leak = test::device("l", DeviceKind::water_leak);
  EXPECT_EQ(harness.send(gas, {flag(Capability::gas, true)}).at(0).kind, AlertKind::gas);
  EXPECT_EQ(harness.send(co, {flag(Capability::carbon_monoxide, true)}).at(0).kind, AlertKind::co);
  EXPECT_EQ(harness.send(leak, {flag(Capability::water_leak, true)}).at(0).kind,
            AlertKind::water_leak);
}

TEST_F(HazardRuleTest, SelfTestIsRecordedNotRaised) {
  auto out =
      harness.send(smoke, {flag(Capability::smoke, true), flag(Capability::self_test, true)});
  EXPECT_EQ(
      out,
      (std::vector<RuleEvent>{{Signal::record, AlertKind::smoke, "kitchen-smoke", "self_test"}}));
  out = harness.send(smoke, {flag(Capability::smoke, false), flag(Capability::self_test, false)});
  EXPECT_TRUE(out.empty());
  // A real alarm after the test raises.
  out = harness.send(smoke, {flag(Capability::smoke, true), flag(Capability::self_test, false)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].signal, Signal::raise);
}

TEST_F(HazardRuleTest, StuckTestFlagDoesNotHideARealAlarm) {
  harness.send(smoke, {flag(Capability::self_test, true)});
  harness.advance_ms(HazardRule::kSelfTestWindowMs);
  // Exactly at the end of the window it is still a test.
  auto out =
      harness.send(smoke, {flag(Capability::smoke, true), flag(Capability::self_test, true)});
  EXPECT_EQ(out.at(0).signal, Signal::record);
  harness.advance_ms(1);
  out = harness.send(smoke, {flag(Capability::smoke, true), flag(Capability::self_test, true)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].signal, Signal::raise);
}

TEST_F(HazardRuleTest, WallClockJumpEndsTheSelfTestWindow) {
  harness.send(smoke, {flag(Capability::self_test, true)});
  harness.jump_wall_ms(-3'600'000);  // clock set back: elapsed negative -> not a test
  auto out =
      harness.send(smoke, {flag(Capability::smoke, true), flag(Capability::self_test, true)});
  EXPECT_EQ(out.at(0).signal, Signal::raise);
}

TEST_F(HazardRuleTest, StateSurvivesRestart) {
  harness.send(smoke, {flag(Capability::smoke, true)});
  harness.restart(std::make_unique<HazardRule>());
  auto out = harness.send(smoke, {flag(Capability::smoke, true)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].signal, Signal::repeat)
      << "a restart must not turn a cached value into a new alarm";
}

TEST_F(HazardRuleTest, CallButtonPressRaisesEveryTime) {
  auto out = harness.send(button, {text(Capability::action, "sos")});
  EXPECT_EQ(out, (std::vector<RuleEvent>{{Signal::raise, AlertKind::call, "sos", "action=sos"}}));
  out = harness.send(button, {text(Capability::action, "sos")});
  EXPECT_EQ(out.size(), 1u);
}

TEST_F(HazardRuleTest, OnlyConfiguredActionsAreCalls) {
  EXPECT_TRUE(harness.send(button, {text(Capability::action, "double")}).empty());
  EXPECT_EQ(harness.send(button, {text(Capability::action, "single")}).size(), 1u);
  button.call_actions = {"long"};
  EXPECT_TRUE(harness.send(button, {text(Capability::action, "single")}).empty());
  EXPECT_EQ(harness.send(button, {text(Capability::action, "long")}).size(), 1u);
}

TEST_F(HazardRuleTest, ActionsOfOtherDevicesAreNotCalls) {
  const auto plug = test::device("plug", DeviceKind::plug);
  EXPECT_TRUE(harness.send(plug, {text(Capability::action, "single")}).empty());
}

}  // namespace
}  // namespace homesafe::rules
