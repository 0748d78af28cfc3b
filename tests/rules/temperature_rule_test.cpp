#include "homesafe/rules/temperature_rule.hpp"

#include <gtest/gtest.h>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using test::number;

RuleEvent event(Signal signal, std::string detail) {
  return {signal, AlertKind::temperature, "bedroom", std::move(detail)};
}

class TemperatureRuleTest : public ::testing::Test {
 protected:
  drivers::DeviceConfig sensor = test::device("bedroom", DeviceKind::temperature);
  test::EngineHarness h{test::EngineHarness::shanghai({sensor}), test::only<TemperatureRule>()};

  std::vector<RuleEvent> celsius(double value) {
    return h.send(sensor, {number(Capability::temperature, value)});
  }
  std::size_t count(Signal signal) const { return h.count(AlertKind::temperature, signal); }
  std::int64_t suppressed(const std::string& reason) {
    const auto counts = h.engine().suppressed();
    const auto it = counts.find("temperature/" + reason);
    return it == counts.end() ? 0 : it->second;
  }
};

TEST_F(TemperatureRuleTest, ColdRaisesExactlyAfterAnHour) {
  EXPECT_TRUE(celsius(8.0).empty());  // 08:00
  h.advance_minutes(30);
  EXPECT_TRUE(celsius(7.5).empty());  // still cold: the same excursion
  EXPECT_TRUE(h.advance_ms(30 * kMinuteMs - 1).empty());
  EXPECT_EQ(h.advance_ms(1), std::vector<RuleEvent>{event(Signal::raise, "low")});  // 09:00
  celsius(7.0);
  h.advance_minutes(120);
  EXPECT_EQ(count(Signal::raise), 1u);
  EXPECT_EQ(count(Signal::repeat), 0u);
}

TEST_F(TemperatureRuleTest, HeatRaisesHigh) {
  celsius(33.0);
  h.advance_ms(kHourMs - 1);
  EXPECT_EQ(count(Signal::raise), 0u);
  EXPECT_EQ(h.advance_ms(1), std::vector<RuleEvent>{event(Signal::raise, "high")});
}

TEST_F(TemperatureRuleTest, TheLimitsThemselvesAreInside) {
  celsius(10.0);
  h.advance_minutes(90);
  celsius(32.0);
  h.advance_minutes(90);
  EXPECT_TRUE(h.history().empty());
  EXPECT_FALSE(h.engine().next_deadline_mono_ms().has_value());
}

TEST_F(TemperatureRuleTest, ShortExcursionIsCountedNotRaised) {
  celsius(8.0);  // 08:00
  h.advance_minutes(59);
  EXPECT_TRUE(celsius(12.0).empty());  // 08:59: back inside before the hour
  h.advance_minutes(120);
  EXPECT_EQ(count(Signal::raise), 0u);
  EXPECT_EQ(suppressed("too_short"), 1);
  celsius(13.0);
  EXPECT_EQ(suppressed("too_short"), 1);  // once per excursion
}

TEST_F(TemperatureRuleTest, BackInsideRestartsTheHour) {
  celsius(9.0);  // 08:00
  h.advance_minutes(40);
  celsius(10.2);  // 08:40: inside: the excursion ends
  h.advance_minutes(10);
  celsius(9.0);  // 08:50: a new one
  h.advance_ms(kHourMs - 1);
  EXPECT_EQ(count(Signal::raise), 0u);
  h.advance_ms(1);  // 09:50
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(TemperatureRuleTest, ClearNeedsTheHysteresisAndIsHeld) {
  celsius(8.0);
  h.advance_minutes(60);
  ASSERT_EQ(count(Signal::raise), 1u);
  EXPECT_TRUE(celsius(10.5).empty());  // inside, but not by 1 °C
  h.advance_minutes(30);
  EXPECT_EQ(count(Signal::clear), 0u);
  EXPECT_TRUE(celsius(9.5).empty());   // still the same alert, no new raise
  EXPECT_TRUE(celsius(11.0).empty());  // 11 °C = low + hysteresis: clear, held
  EXPECT_TRUE(h.advance_ms(h.household().settings.clear_hold_ms - 1).empty());
  // The engine releases the held clear (without the rule's detail).
  EXPECT_EQ(h.advance_ms(1), std::vector<RuleEvent>{event(Signal::clear, {})});
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(TemperatureRuleTest, ColdReturningWithinTheHoldKeepsOneAlert) {
  celsius(8.0);
  h.advance_minutes(60);
  h.advance_minutes(10);
  celsius(11.5);  // clear (held)
  h.advance_minutes(5);
  EXPECT_EQ(celsius(9.0), std::vector<RuleEvent>{event(Signal::repeat, "low")});
  EXPECT_EQ(h.engine().suppressed().at("temperature/flap"), 1);
  h.advance_minutes(60);
  EXPECT_EQ(count(Signal::clear), 0u);
  EXPECT_EQ(count(Signal::raise), 1u);
  celsius(12.0);
  h.advance_minutes(10);
  EXPECT_EQ(count(Signal::clear), 1u);
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(TemperatureRuleTest, HoveringAroundTheLimitIsNotContinuous) {
  for (int i = 0; i < 12; ++i) {
    celsius(i % 2 == 0 ? 9.9 : 10.1);
    h.advance_minutes(20);
  }
  EXPECT_EQ(count(Signal::raise), 0u);
  EXPECT_EQ(suppressed("too_short"), 6);
}

TEST_F(TemperatureRuleTest, OtherDevicesReportingATemperatureAreIgnored) {
  drivers::DeviceConfig plug = test::device("plug", DeviceKind::plug);
  test::EngineHarness h2{test::EngineHarness::shanghai({sensor, plug}),
                         test::only<TemperatureRule>()};
  h2.send(plug, {number(Capability::temperature, 55.0)});  // the plug's own chip
  h2.advance_minutes(120);
  EXPECT_TRUE(h2.history().empty());
}

TEST_F(TemperatureRuleTest, RestartMidWaitContinues) {
  celsius(5.0);  // 08:00
  h.advance_minutes(20);
  h.restart(20 * kMinuteMs);  // 08:40
  h.advance_ms(20 * kMinuteMs - 1);
  EXPECT_EQ(count(Signal::raise), 0u);
  h.advance_ms(1);  // 09:00
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(TemperatureRuleTest, RestartAfterTheAlertDoesNotRaiseAgain) {
  celsius(5.0);
  h.advance_minutes(60);
  ASSERT_EQ(count(Signal::raise), 1u);
  h.restart(kHourMs);
  celsius(5.0);
  h.advance_minutes(120);
  EXPECT_EQ(count(Signal::raise), 1u);
  celsius(12.0);
  h.advance_minutes(10);
  EXPECT_EQ(count(Signal::clear), 1u);
}

}  // namespace
}  // namespace homesafe::rules
