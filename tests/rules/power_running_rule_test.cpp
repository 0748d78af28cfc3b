#include "homesafe/rules/power_running_rule.hpp"

#include <gtest/gtest.h>

#include <random>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using test::number;

RuleEvent raise(std::string detail) {
  return {Signal::raise, AlertKind::power_running, "stove", std::move(detail)};
}

class PowerRunningRuleTest : public ::testing::Test {
 protected:
  drivers::DeviceConfig stove =
      test::device("stove", DeviceKind::plug, drivers::PowerSource::mains);
  test::EngineHarness h{test::EngineHarness::shanghai({stove}), test::only<PowerRunningRule>()};

  std::vector<RuleEvent> power(double watts) {
    return h.send(stove, {number(Capability::power, watts)});
  }
  std::size_t count(Signal signal) const { return h.count(AlertKind::power_running, signal); }
  int local_minute() const { return h.household().local_minute(h.now().wall_ms); }
};

TEST_F(PowerRunningRuleTest, DayRaisesExactlyAfterTwoHours) {
  EXPECT_TRUE(power(2000).empty());  // 08:00
  EXPECT_TRUE(h.advance_ms(2 * kHourMs - 1).empty());
  EXPECT_EQ(h.advance_ms(1), std::vector<RuleEvent>{raise("day")});  // 10:00
  power(2000);
  h.advance_minutes(180);
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(PowerRunningRuleTest, NightRaisesAfterFortyFiveMinutes) {
  h.advance_to_local_minute(23 * 60);
  power(2000);
  EXPECT_TRUE(h.advance_ms(45 * kMinuteMs - 1).empty());
  EXPECT_EQ(h.advance_ms(1), std::vector<RuleEvent>{raise("night")});
  EXPECT_EQ(local_minute(), 23 * 60 + 45);
}

TEST_F(PowerRunningRuleTest, OnBeforeTheNightCountsOnlyItsNightTime) {
  h.advance_to_local_minute(22 * 60 + 30);
  power(2000);  // 22:30: 30 min of day, then night from 23:00
  h.advance_ms(75 * kMinuteMs - 1);
  EXPECT_EQ(count(Signal::raise), 0u);
  h.advance_ms(1);  // 23:45, earlier than the day limit (00:30)
  EXPECT_EQ(h.history(), std::vector<RuleEvent>{raise("night")});
}

TEST_F(PowerRunningRuleTest, NightAcrossLocalMidnight) {
  // Asia/Shanghai: local midnight is 16:00 UTC; the window 23:00-05:00 spans it.
  h.advance_to_local_minute(23 * 60 + 50);
  const std::int64_t day_before = (h.now().wall_ms + 8 * kHourMs) / kDayMs;
  power(2000);
  h.advance_ms(45 * kMinuteMs - 1);
  EXPECT_EQ(count(Signal::raise), 0u);
  h.advance_ms(1);
  EXPECT_EQ(h.history(), std::vector<RuleEvent>{raise("night")});
  EXPECT_EQ(local_minute(), 35);  // 00:35 local
  EXPECT_EQ((h.now().wall_ms + 8 * kHourMs) / kDayMs, day_before + 1);
  EXPECT_EQ(h.now().wall_ms % kDayMs, 16 * kHourMs + 35 * kMinuteMs);  // 16:35 UTC
}

TEST_F(PowerRunningRuleTest, OnLateInTheNightRunsIntoTheDayLimit) {
  h.advance_to_local_minute(4 * 60 + 30);
  power(2000);            // 04:30: only 30 min of night, then day
  h.advance_minutes(45);  // 05:15: 45 min on, but not 45 min of night
  EXPECT_EQ(count(Signal::raise), 0u);
  h.advance_ms(75 * kMinuteMs - 1);
  EXPECT_EQ(count(Signal::raise), 0u);
  h.advance_ms(1);  // 06:30: 2 h
  EXPECT_EQ(h.history(), std::vector<RuleEvent>{raise("day")});
}

TEST_F(PowerRunningRuleTest, HysteresisKeepsTheHighPeriod) {
  power(2000);  // 08:00
  h.advance_minutes(60);
  power(800);  // between 500 and 1000 W: still the same high period
  h.advance_ms(kHourMs - 1);
  EXPECT_EQ(count(Signal::raise), 0u);
  h.advance_ms(1);
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(PowerRunningRuleTest, LowEndsTheHighPeriodAndMidDoesNotStartOne) {
  power(2000);  // 08:00
  h.advance_minutes(60);
  power(400);  // below half the threshold: off
  h.advance_minutes(5);
  power(800);  // in between: not high
  h.advance_minutes(180);
  EXPECT_EQ(count(Signal::raise), 0u);
  power(1000);  // 12:05: at the threshold is high
  h.advance_ms(2 * kHourMs - 1);
  EXPECT_EQ(count(Signal::raise), 0u);
  h.advance_ms(1);
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(PowerRunningRuleTest, DeviceThresholdWinsOverTheDefault) {
  drivers::DeviceConfig heater = test::device("heater", DeviceKind::plug);
  heater.high_power_w = 300.0;
  drivers::DeviceConfig tv = test::device("tv", DeviceKind::plug);
  test::EngineHarness h2{test::EngineHarness::shanghai({heater, tv}),
                         test::only<PowerRunningRule>()};
  h2.send(heater, {number(Capability::power, 350)});
  h2.send(tv, {number(Capability::power, 350)});  // far below the default 1000 W
  h2.advance_ms(5 * kHourMs);
  EXPECT_EQ(h2.history(),
            (std::vector<RuleEvent>{{Signal::raise, AlertKind::power_running, "heater", "day"}}));
}

TEST_F(PowerRunningRuleTest, LastKnownValueStandsWhileThePlugIsSilent) {
  power(2000);  // then nothing more from the plug
  h.advance_ms(2 * kHourMs);
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(PowerRunningRuleTest, ReadingsWithoutPowerChangeNothing) {
  power(2000);
  h.advance_minutes(60);
  h.send(stove, {number(Capability::energy, 12.5)});
  h.advance_minutes(60);
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(PowerRunningRuleTest, OffClearsAfterTheHoldAndOnAgainWithinItKeepsOneAlert) {
  power(2000);
  h.advance_ms(2 * kHourMs);
  ASSERT_EQ(count(Signal::raise), 1u);
  h.advance_minutes(1);
  EXPECT_TRUE(power(10).empty());  // off: the clear is held
  h.advance_minutes(3);
  power(2000);  // on again: the same alert
  EXPECT_EQ(count(Signal::repeat), 1u);
  h.advance_minutes(30);
  EXPECT_EQ(count(Signal::clear), 0u);
  power(10);
  h.advance_ms(h.household().settings.clear_hold_ms - 1);
  EXPECT_EQ(count(Signal::clear), 0u);
  h.advance_ms(1);
  EXPECT_EQ(count(Signal::clear), 1u);
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(PowerRunningRuleTest, RestartMidWaitCountsTheDowntime) {
  power(2000);  // 08:00
  h.advance_minutes(60);
  h.restart(30 * kMinuteMs);  // 09:30
  h.advance_ms(30 * kMinuteMs - 1);
  EXPECT_EQ(count(Signal::raise), 0u);
  h.advance_ms(1);  // 10:00
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(PowerRunningRuleTest, RestartWithoutWallClockNeverRaisesEarly) {
  power(2000);  // 08:00
  h.advance_minutes(60);
  h.restart(30 * kMinuteMs, /*wall_synced=*/false);  // the 30 min are lost
  h.advance_ms(kHourMs - 1);                         // 10:29:59.999 wall
  EXPECT_EQ(count(Signal::raise), 0u);
  h.advance_ms(1);
  EXPECT_EQ(count(Signal::raise), 1u);
}

// The rule keeps the plugs that are high and not raised in memory, with their due times. At
// every step of random traffic (8 plugs, readings high, low and in between, pauses from seconds
// to hours across night windows, wall-clock steps as from NTP, restarts from the persisted
// state), its deadline equals that of a fresh rule built from the same state — which computes
// every plug from scratch — and when that fresh rule finds a plug due, the rule's own deadline
// has come too (so the engine ticks it at once): nothing is missed.
TEST(PowerRunningRuleCache, DeadlineMatchesARuleBuiltFromScratchAtEveryStep) {
  for (unsigned seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 random(seed);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    Household base = test::EngineHarness::shanghai({});
    for (int i = 0; i < 8; ++i) {
      base.devices.push_back(
          test::device("plug" + std::to_string(i), DeviceKind::plug, drivers::PowerSource::mains));
    }
    base.devices[2].high_power_w = 300.0;
    const HouseholdPtr household = std::make_shared<const Household>(std::move(base));

    auto rule = std::make_unique<PowerRunningRule>(household);
    RuleState state;
    Instant now{test::kMidnightShanghai + 9 * kHourMs, 1'000'000, true};
    std::size_t raised = 0;
    std::size_t due_at_once = 0;
    for (int step = 0; step < 3000; ++step) {
      const int what = pick(100);
      const std::int64_t pause = what < 60   ? pick(60'000)
                                 : what < 90 ? pick(20 * 60'000)
                                             : pick(3 * 60 * 60'000);
      now.mono_ms += pause;
      now.wall_ms += pause;
      if (pick(200) == 0) now.wall_ms += (pick(2) == 0 ? 1 : -1) * pick(6 * 60 * 60'000);
      if (pick(300) == 0) {  // a restart: a new rule from the state as stored
        rule = std::make_unique<PowerRunningRule>(household);
      }
      std::vector<RuleEvent> out;
      // The engine ticks a rule at its deadline before the next message.
      if (auto deadline = rule->next_deadline_mono_ms(); deadline && *deadline <= now.mono_ms) {
        rule->on_tick(now, state, out);
      }
      const auto& plug = household->devices[static_cast<std::size_t>(pick(8))];
      const double watts = std::vector<double>{0.0, 100.0, 400.0, 900.0, 1500.0, 2500.0}[pick(6)];
      drivers::DecodeResult decoded;
      decoded.readings = {number(Capability::power, watts)};
      rule->on_message({plug, decoded, now}, state, out);
      raised += static_cast<std::size_t>(std::count_if(
          out.begin(), out.end(), [](const RuleEvent& e) { return e.signal == Signal::raise; }));

      RuleState copy;
      for (const auto& [key, value] : state.with_prefix("")) copy.load(key, value);
      PowerRunningRule fresh(household);
      std::vector<RuleEvent> fresh_out;
      fresh.on_tick(now, copy, fresh_out);
      if (!fresh_out.empty()) {
        // Due now (a wall-clock step moved a night limit, or the message made it due): the rule
        // must want its tick at once.
        const auto deadline = rule->next_deadline_mono_ms();
        ASSERT_TRUE(deadline && *deadline <= now.mono_ms) << "step " << step << ": missed";
        ++due_at_once;
        continue;
      }
      ASSERT_EQ(rule->next_deadline_mono_ms(), fresh.next_deadline_mono_ms()) << "step " << step;
    }
    EXPECT_GT(raised, 5u) << "the traffic should raise now and then";
    EXPECT_LT(due_at_once, 100u);
  }
}

}  // namespace
}  // namespace homesafe::rules
