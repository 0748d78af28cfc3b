#include "homesafe/rules/no_water_rule.hpp"

#include <gtest/gtest.h>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using test::number;

const RuleEvent kRaise{Signal::raise, AlertKind::no_water, "", {}};

class NoWaterRuleTest : public ::testing::Test {
 protected:
  // A battery meter: device_silence's limit is 25 h, so it is alive at the 24 h deadline.
  drivers::DeviceConfig meter = test::device("meter", DeviceKind::water_meter);
  test::EngineHarness h{test::EngineHarness::shanghai({meter}), test::only<NoWaterRule>()};
  double total_l = 12'345.0;

  std::vector<RuleEvent> read(double add_l = 0.0) {
    total_l += add_l;
    return h.send(meter, {number(Capability::water_total_l, total_l)});
  }
  // One reading an hour (each adding `add_l`), for `hours` hours.
  void hourly(int hours, double add_l = 0.0) {
    for (int i = 0; i < hours; ++i) {
      h.advance_minutes(60);
      read(add_l);
    }
  }
  std::size_t raised() const { return h.count(AlertKind::no_water, Signal::raise); }
  std::size_t cleared() const { return h.count(AlertKind::no_water, Signal::clear); }
  std::int64_t suppressed(const std::string& reason) {
    const auto counts = h.engine().suppressed();
    const auto it = counts.find("no_water/" + reason);
    return it == counts.end() ? 0 : it->second;
  }
};

TEST_F(NoWaterRuleTest, RaisesExactlyAfterTwentyFourHoursWithoutUse) {
  read();  // 08:00: the meter reports, the watch starts
  h.advance_minutes(60);
  read(5.0);   // 09:00: water drawn
  hourly(23);  // the meter keeps reporting the same total until 08:00 the next day
  EXPECT_EQ(raised(), 0u);
  EXPECT_TRUE(h.advance_ms(kHourMs - 1).empty());              // 08:59:59.999: 1 ms short of 24 h
  EXPECT_EQ(h.advance_ms(1), std::vector<RuleEvent>{kRaise});  // 09:00:00.000
  // No repeat: later readings and days without use do not raise again.
  hourly(30);
  EXPECT_EQ(raised(), 1u);
  EXPECT_FALSE(h.engine().next_deadline_mono_ms().has_value());
}

TEST_F(NoWaterRuleTest, WatchStartsAtTheFirstMeterReading) {
  h.advance_minutes(5 * 60);  // no meter reading yet: nothing to watch
  read();                     // 13:00
  h.advance_ms(kDayMs - 1);
  EXPECT_EQ(raised(), 0u);
  h.advance_ms(1);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(NoWaterRuleTest, UseAfterTheAlertClearsAndStartsAFreshDay) {
  read();
  h.advance_ms(kDayMs);
  ASSERT_EQ(raised(), 1u);
  EXPECT_TRUE(read(0.5).empty());  // below min_litres: not yet a use
  h.advance_minutes(10);
  EXPECT_EQ(read(0.6), (std::vector<RuleEvent>{{Signal::clear, AlertKind::no_water, "",
                                                "water_used"}}));  // 1.1 L within the hour
  h.advance_ms(kDayMs - 1);
  EXPECT_EQ(raised(), 1u);
  h.advance_ms(1);
  EXPECT_EQ(raised(), 2u);
  EXPECT_EQ(cleared(), 1u);
}

TEST_F(NoWaterRuleTest, SmallAmountsWithinAnHourAddUp) {
  read();
  h.advance_minutes(60);
  read(0.4);  // 09:00
  h.advance_minutes(20);
  read(0.3);
  h.advance_minutes(20);
  read(0.3);  // 09:40: 1.0 L since 09:00: a use
  h.advance_ms(kDayMs - 1);
  EXPECT_EQ(raised(), 0u);
  h.advance_ms(1);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(NoWaterRuleTest, ADripIsNotUse) {
  read();           // 08:00, last real use
  hourly(23, 0.3);  // a dripping tap: 0.3 L an hour, 6.9 L in total
  h.advance_ms(kHourMs - 1);
  EXPECT_EQ(raised(), 0u);
  h.advance_ms(1);  // 24 h after the last reading that was not a drip
  EXPECT_EQ(raised(), 1u);
}

// The engine records a reset in the device's history; no alert signal comes with it.
bool only_meter_reset(const std::vector<RuleEvent>& events) {
  return events.size() == 1 && events[0].signal == Signal::record &&
         events[0].detail.starts_with("meter_reset");
}

TEST_F(NoWaterRuleTest, MeterResetIsNotUseAndMovesNothing) {
  read();  // 08:00
  h.advance_minutes(60);
  read(5.0);  // 09:00: use
  h.advance_minutes(60);
  total_l = 3.0;  // battery change: 12350 L -> 3 L
  EXPECT_TRUE(only_meter_reset(read()));
  h.advance_minutes(60);
  read(0.2);  // small amounts on the new baseline
  h.advance_minutes(60);
  total_l = 12'500.0;  // a jump of 12497 L in an hour: also a new baseline, not use
  EXPECT_TRUE(only_meter_reset(read()));
  h.advance_minutes(60);
  read(0.2);  // 13:00
  // Still 24 h from the real use at 09:00.
  h.advance_to_local_minute(8 * 60 + 59);
  h.advance_ms(kMinuteMs - 1);
  EXPECT_EQ(raised(), 0u);
  h.advance_ms(1);  // 09:00 the next day
  EXPECT_EQ(raised(), 1u);
  EXPECT_EQ(suppressed("meter_silent"), 0);
}

TEST_F(NoWaterRuleTest, ResetDeadlineIsNotEarly) {
  read();
  h.advance_minutes(60);
  read(5.0);  // 09:00: use
  h.advance_minutes(60);
  total_l = 3.0;
  read();
  h.advance_ms(23 * kHourMs - 1);  // 08:59:59.999 next day
  EXPECT_EQ(raised(), 0u);
  h.advance_ms(1);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(NoWaterRuleTest, SilentMeterWaitsForItsNextReading) {
  drivers::DeviceConfig quiet = test::device("quiet", DeviceKind::water_meter);
  quiet.silence_ms = 2 * kHourMs;  // reports every hour when alive
  test::EngineHarness hq{test::EngineHarness::shanghai({quiet}), test::only<NoWaterRule>()};
  hq.send(quiet, {number(Capability::water_total_l, 100.0)});  // 08:00, then the meter dies
  hq.advance_ms(kDayMs);
  EXPECT_EQ(hq.count(AlertKind::no_water, Signal::raise), 0u);  // a dead meter is no evidence
  EXPECT_EQ(hq.engine().suppressed().at("no_water/meter_silent"), 1);
  hq.advance_ms(6 * kHourMs);
  EXPECT_EQ(hq.count(AlertKind::no_water, Signal::raise), 0u);
  EXPECT_EQ(hq.engine().suppressed().at("no_water/meter_silent"), 1);  // counted once
  // The meter is back and shows no use in the 30 h: the person did not draw water.
  auto out = hq.send(quiet, {number(Capability::water_total_l, 100.2)});
  EXPECT_EQ(out, std::vector<RuleEvent>{kRaise});
}

TEST_F(NoWaterRuleTest, SilentMeterThatReturnsWithUseStartsAFreshDay) {
  drivers::DeviceConfig quiet = test::device("quiet", DeviceKind::water_meter);
  quiet.silence_ms = 2 * kHourMs;
  test::EngineHarness hq{test::EngineHarness::shanghai({quiet}), test::only<NoWaterRule>()};
  hq.send(quiet, {number(Capability::water_total_l, 100.0)});
  hq.advance_ms(kDayMs + 3 * kHourMs);
  EXPECT_TRUE(hq.send(quiet, {number(Capability::water_total_l, 180.0)}).empty());  // 11:00
  for (int i = 0; i < 23; ++i) {  // alive again: hourly reports, no use
    hq.advance_minutes(60);
    hq.send(quiet, {number(Capability::water_total_l, 180.0)});
  }
  hq.advance_ms(kHourMs - 1);
  EXPECT_EQ(hq.count(AlertKind::no_water, Signal::raise), 0u);
  hq.advance_ms(1);  // 11:00 the next day
  EXPECT_EQ(hq.count(AlertKind::no_water, Signal::raise), 1u);
}

TEST_F(NoWaterRuleTest, OneLiveMeterOfTwoIsEnough) {
  drivers::DeviceConfig kitchen = test::device("kitchen", DeviceKind::water_meter);
  drivers::DeviceConfig bath = test::device("bath", DeviceKind::water_meter);
  kitchen.silence_ms = 2 * kHourMs;
  bath.silence_ms = 2 * kHourMs;
  test::EngineHarness h2{test::EngineHarness::shanghai({kitchen, bath}), test::only<NoWaterRule>()};
  h2.send(kitchen, {number(Capability::water_total_l, 10.0)});
  h2.send(bath, {number(Capability::water_total_l, 20.0)});  // then the bath meter dies
  for (int i = 0; i < 24; ++i) {
    h2.advance_minutes(60);
    if (i < 23) h2.send(kitchen, {number(Capability::water_total_l, 10.0)});
  }
  EXPECT_EQ(h2.count(AlertKind::no_water, Signal::raise), 1u);
}

TEST_F(NoWaterRuleTest, UseOnAnyMeterCounts) {
  drivers::DeviceConfig kitchen = test::device("kitchen", DeviceKind::water_meter);
  drivers::DeviceConfig bath = test::device("bath", DeviceKind::water_meter);
  test::EngineHarness h2{test::EngineHarness::shanghai({kitchen, bath}), test::only<NoWaterRule>()};
  h2.send(kitchen, {number(Capability::water_total_l, 10.0)});
  h2.send(bath, {number(Capability::water_total_l, 20.0)});
  h2.advance_ms(20 * kHourMs);
  h2.send(bath, {number(Capability::water_total_l, 26.0)});  // a flush
  h2.advance_ms(kDayMs - 1);
  EXPECT_EQ(h2.count(AlertKind::no_water, Signal::raise), 0u);
  h2.advance_ms(1);
  EXPECT_EQ(h2.count(AlertKind::no_water, Signal::raise), 1u);
}

TEST_F(NoWaterRuleTest, NoMeterNoWatch) {
  drivers::DeviceConfig plug = test::device("plug", DeviceKind::plug);
  test::EngineHarness hp{test::EngineHarness::shanghai({plug}), test::only<NoWaterRule>()};
  hp.send(plug, {number(Capability::power, 3.0)});
  hp.advance_ms(3 * kDayMs);
  EXPECT_TRUE(hp.history().empty());
  EXPECT_FALSE(hp.engine().next_deadline_mono_ms().has_value());
}

TEST_F(NoWaterRuleTest, RestartKeepsTheWaitAndCountsTheDowntime) {
  read();
  h.advance_minutes(60);
  read(5.0);                       // 09:00
  h.advance_ms(10 * kHourMs);      // 19:00
  h.restart(4 * kHourMs);          // back at 23:00, wall clock synced: the 4 h count
  h.advance_ms(10 * kHourMs - 1);  // 08:59:59.999
  EXPECT_EQ(raised(), 0u);
  h.advance_ms(1);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(NoWaterRuleTest, RestartWhileDueRaisesAtResume) {
  read();
  h.advance_ms(20 * kHourMs);
  EXPECT_EQ(h.restart(5 * kHourMs), std::vector<RuleEvent>{kRaise});  // 25 h after: overdue
}

TEST_F(NoWaterRuleTest, RestartWithoutWallClockLosesTheDowntimeNeverEarly) {
  read();
  h.advance_minutes(60);
  read(5.0);  // 09:00
  h.advance_ms(10 * kHourMs);
  h.restart(4 * kHourMs, /*wall_synced=*/false);  // 23:00: the 4 h cannot be trusted: lost
  h.advance_ms(10 * kHourMs);  // 09:00: 24 h after the use in real time, 20 h of rule clock
  EXPECT_EQ(raised(), 0u);
  h.advance_ms(4 * kHourMs - 1);
  EXPECT_EQ(raised(), 0u);
  h.advance_ms(1);  // 13:00: 24 h of rule clock (28 h in real time): late, never early
  EXPECT_EQ(raised(), 1u);
}

TEST_F(NoWaterRuleTest, NoAlertWhileAwayAndAFreshDayAfterwards) {
  read();  // 08:00
  h.advance_minutes(60);
  read(5.0);  // 09:00
  hourly(1);
  // Away (hospital) until 15:00 the next day; the meter keeps reporting every hour.
  h.engine().set_away(h.now().wall_ms + 29 * kHourMs, h.now());
  hourly(24);  // 10:00 next day: due at 09:00, but away
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 0u);
  EXPECT_EQ(suppressed("away"), 1);
  hourly(5);  // 15:00: away ends, the 24 h start afresh
  EXPECT_FALSE(h.engine().away_until_wall_ms().has_value());
  hourly(23);
  h.advance_ms(kHourMs - 1);
  EXPECT_EQ(raised(), 0u);
  h.advance_ms(1);  // 15:00 the day after
  EXPECT_EQ(raised(), 1u);
}

TEST_F(NoWaterRuleTest, EndAwayEarlyStartsTheDayFromTheReturn) {
  read();  // 08:00
  h.engine().set_away(h.now().wall_ms + 7 * kDayMs, h.now());
  hourly(30);
  EXPECT_EQ(raised(), 0u);
  h.engine().end_away(h.now());  // back at 14:00 the next day
  hourly(23);
  h.advance_ms(kHourMs - 1);
  EXPECT_EQ(raised(), 0u);
  h.advance_ms(1);
  EXPECT_EQ(raised(), 1u);
}

}  // namespace
}  // namespace homesafe::rules
