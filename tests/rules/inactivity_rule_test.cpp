#include "homesafe/rules/inactivity_rule.hpp"

#include <gtest/gtest.h>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using test::flag;

constexpr int kHour = 60;  // minutes

drivers::DeviceConfig entrance_door() {
  auto d = test::device("door", DeviceKind::contact);
  d.entrance = true;
  return d;
}

class InactivityRuleTest : public ::testing::Test {
 protected:
  drivers::DeviceConfig hall = test::device("hall", DeviceKind::motion);
  drivers::DeviceConfig door = entrance_door();
  test::EngineHarness h{test::EngineHarness::shanghai({hall, door}), test::only<InactivityRule>()};

  void motion() { h.send(hall, {flag(Capability::occupancy, true)}); }
  // A sign of life every hour until the local time `minute_of_day` (the last one exactly then).
  void active_until(int minute_of_day) {
    while (h.household().local_minute(h.now().wall_ms) != minute_of_day) {
      const int now = h.household().local_minute(h.now().wall_ms);
      int step = (minute_of_day - now + 24 * kHour) % (24 * kHour);
      if (step > kHour) step = kHour;
      EXPECT_TRUE(h.advance_minutes(step).empty());
      motion();
    }
  }
  std::size_t raised() const { return h.count(AlertKind::inactivity, Signal::raise); }
  int local_minute() const { return h.household().local_minute(h.now().wall_ms); }
};

TEST_F(InactivityRuleTest, RaisesExactlyAfterFourWakingHours) {
  motion();  // 08:00
  EXPECT_TRUE(h.advance_minutes(4 * kHour - 1).empty());
  EXPECT_EQ(raised(), 0u);
  const auto out = h.advance_minutes(1);
  EXPECT_EQ(out, (std::vector<RuleEvent>{{Signal::raise, AlertKind::inactivity, "", ""}}));
  EXPECT_EQ(local_minute(), 12 * kHour);
  // Raised once, not again while nothing happens.
  h.advance_minutes(6 * kHour);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(InactivityRuleTest, SignOfLifeRestartsTheCount) {
  motion();                      // 08:00
  h.advance_minutes(3 * kHour);  // 11:00
  motion();
  EXPECT_TRUE(h.advance_minutes(4 * kHour - 1).empty());  // 14:59
  EXPECT_EQ(h.advance_minutes(1).size(), 1u);             // 15:00
  EXPECT_EQ(raised(), 1u);
}

TEST_F(InactivityRuleTest, ActivityAfterTheAlertClearsItAndCountsAfresh) {
  motion();
  h.advance_minutes(4 * kHour);
  ASSERT_EQ(raised(), 1u);
  const auto out = h.send(hall, {flag(Capability::occupancy, true)});
  EXPECT_EQ(out, (std::vector<RuleEvent>{{Signal::clear, AlertKind::inactivity, "", "activity"}}));
  EXPECT_TRUE(h.advance_minutes(4 * kHour - 1).empty());
  EXPECT_EQ(h.advance_minutes(1).size(), 1u);
  EXPECT_EQ(raised(), 2u);
}

TEST_F(InactivityRuleTest, CountsFromTheFirstTickBeforeAnyActivity) {
  // A freshly installed hub (08:00) that has heard nothing yet.
  EXPECT_TRUE(h.advance_minutes(4 * kHour - 1).empty());
  EXPECT_EQ(h.advance_minutes(1).size(), 1u);
}

TEST_F(InactivityRuleTest, SleepingWindowDoesNotCount) {
  active_until(21 * kHour);              // last sign of life 21:00; sleeping 22:00-07:00
  h.advance_to_local_minute(1 * kHour);  // 01:00: four hours later, but three of them asleep
  EXPECT_EQ(raised(), 0u);
  h.advance_to_local_minute(9 * kHour + 59);
  EXPECT_EQ(raised(), 0u);
  const auto out = h.advance_minutes(1);  // 1 h before sleep + 3 h after 07:00
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].signal, Signal::raise);
  EXPECT_EQ(local_minute(), 10 * kHour);
}

TEST_F(InactivityRuleTest, WindowsAreLocalTimeAcrossLocalMidnight) {
  // Sleeping 00:00-06:00 Asia/Shanghai (16:00-22:00 UTC); two waking hours.
  auto household = test::EngineHarness::shanghai({hall});
  household.settings.sleep = {0, 6 * kHour};
  household.settings.inactivity.after_ms = 2 * kHourMs;
  test::EngineHarness local(household, test::only<InactivityRule>());
  for (int i = 0; i < 15; ++i) {  // 08:00 .. 23:00, a sign of life every hour
    local.send(hall, {flag(Capability::occupancy, true)});
    local.advance_minutes(kHour);
  }
  // 23:00 local: the last one now. 23:00-00:00 and 06:00-07:00 are the two waking hours.
  local.send(hall, {flag(Capability::occupancy, true)});
  ASSERT_EQ(local.household().local_minute(local.now().wall_ms), 23 * kHour);
  local.advance_to_local_minute(6 * kHour + 59);
  EXPECT_EQ(local.count(AlertKind::inactivity, Signal::raise), 0u);
  local.advance_minutes(1);
  EXPECT_EQ(local.count(AlertKind::inactivity, Signal::raise), 1u);
  EXPECT_EQ(local.household().local_minute(local.now().wall_ms), 7 * kHour);
  // 07:00 local is 23:00 UTC (a UTC window 00:00-06:00 would have alerted at 01:00 local).
  EXPECT_EQ(local.now().wall_ms % kDayMs, 23 * kHourMs);
}

TEST_F(InactivityRuleTest, EntranceDoorAsLastSignAllowsLonger) {
  h.send(door, {flag(Capability::contact, true)});  // its first state: no sign of life
  motion();
  h.send(door, {flag(Capability::contact, false)});  // 08:00 out of the door
  h.send(door, {flag(Capability::contact, true)});
  EXPECT_TRUE(h.advance_minutes(12 * kHour - 1).empty());  // 19:59, all waking time
  const auto out = h.advance_minutes(1);
  EXPECT_EQ(out,
            (std::vector<RuleEvent>{{Signal::raise, AlertKind::inactivity, "", "last=entrance"}}));
}

TEST_F(InactivityRuleTest, ActivityInsideAfterTheDoorIsTheNormalAllowance) {
  h.send(door, {flag(Capability::contact, true)});
  h.send(door, {flag(Capability::contact, false)});
  h.send(door, {flag(Capability::contact, true)});
  h.advance_minutes(1);
  motion();  // 08:01: back inside (or never left)
  EXPECT_TRUE(h.advance_minutes(4 * kHour - 1).empty());
  EXPECT_EQ(h.advance_minutes(1).size(), 1u);
}

// A household with a bed sensor: the sleeping window counts out only while someone may be in bed.
class InactivityWithBedTest : public ::testing::Test {
 protected:
  drivers::DeviceConfig hall = test::device("hall", DeviceKind::motion);
  drivers::DeviceConfig bed = test::device("bed", DeviceKind::occupancy);
  test::EngineHarness h{test::EngineHarness::shanghai({hall, bed}), test::only<InactivityRule>()};

  void motion() { h.send(hall, {flag(Capability::occupancy, true)}); }
  void in_bed(bool occupied) { h.send(bed, {flag(Capability::occupancy, occupied)}); }
  // Motion every hour until the local time `minute_of_day` (the last one exactly then).
  void active_until(int minute_of_day) {
    while (local_minute() != minute_of_day) {
      int step = (minute_of_day - local_minute() + 24 * kHour) % (24 * kHour);
      h.advance_minutes(std::min(step, kHour));
      motion();
    }
  }
  std::size_t raised() const { return h.count(AlertKind::inactivity, Signal::raise); }
  int local_minute() const { return h.household().local_minute(h.now().wall_ms); }
};

TEST_F(InactivityWithBedTest, NotInBedTheNightCountsLikeTheDay) {
  in_bed(false);  // 08:00, the first report: no sign of life yet
  motion();
  active_until(19 * kHour);  // 19:00, then a fall: the bed stays empty
  EXPECT_TRUE(h.advance_minutes(4 * kHour - 1).empty());
  EXPECT_EQ(raised(), 0u);
  const auto out = h.advance_minutes(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].signal, Signal::raise);
  EXPECT_EQ(local_minute(), 23 * kHour);  // not 10:00 the next morning
}

TEST_F(InactivityWithBedTest, InBedTheSleepingWindowStillDoesNotCount) {
  in_bed(false);
  motion();
  active_until(21 * kHour);
  in_bed(true);  // to bed at 21:00
  h.advance_to_local_minute(9 * kHour + 59);
  EXPECT_EQ(raised(), 0u);
  h.advance_minutes(1);  // 1 h before sleep + 3 h after 07:00, as without a bed sensor
  EXPECT_EQ(raised(), 1u);
  EXPECT_EQ(local_minute(), 10 * kHour);
}

TEST_F(InactivityWithBedTest, UpAtNightAndNotBackCountsFromGettingUp) {
  in_bed(false);
  motion();
  active_until(22 * kHour);
  in_bed(true);
  h.advance_to_local_minute(3 * kHour);
  in_bed(false);  // 03:00 up for the toilet, and does not come back
  h.advance_to_local_minute(6 * kHour + 59);
  EXPECT_EQ(raised(), 0u);
  h.advance_minutes(1);
  EXPECT_EQ(raised(), 1u);  // 07:00, four hours after getting up
}

TEST_F(InactivityWithBedTest, ABedSensorNotHeardYetLeavesItToTheClock) {
  motion();
  active_until(21 * kHour);  // the bed sensor has never reported
  h.advance_to_local_minute(9 * kHour + 59);
  EXPECT_EQ(raised(), 0u);
  h.advance_minutes(1);
  EXPECT_EQ(raised(), 1u);
}

TEST(InactivityRuleNoSource, StaysSilentWithoutAnyActivitySource) {
  test::EngineHarness h(test::EngineHarness::shanghai({test::device("smoke", DeviceKind::smoke)}),
                        test::only<InactivityRule>());
  h.advance_minutes(3 * 24 * kHour);
  EXPECT_TRUE(h.history().empty());
  EXPECT_FALSE(h.engine().next_deadline_mono_ms().has_value());
}

TEST_F(InactivityRuleTest, RestartKeepsCountingAcrossDowntime) {
  motion();                                 // 08:00
  h.advance_minutes(2 * kHour);             // 10:00
  EXPECT_TRUE(h.restart(kHourMs).empty());  // back at 11:00, the hour down counts
  EXPECT_TRUE(h.advance_minutes(kHour - 1).empty());
  EXPECT_EQ(h.advance_minutes(1).size(), 1u);
  EXPECT_EQ(local_minute(), 12 * kHour);
}

TEST_F(InactivityRuleTest, LimitReachedWhileDownWaitsAGraceAfterTheRestart) {
  motion();                                     // 08:00
  h.advance_minutes(3 * kHour);                 // 11:00
  EXPECT_TRUE(h.restart(2 * kHourMs).empty());  // 13:00: the limit passed while down
  EXPECT_TRUE(h.advance_ms(InactivityRule::kResumeGraceMs - 1).empty());
  EXPECT_EQ(h.advance_ms(1).size(), 1u);
  // A sign of life within the grace of another restart: no alert.
  motion();
  h.advance_minutes(3 * kHour);
  h.restart(2 * kHourMs);
  h.advance_minutes(5);
  motion();
  h.advance_minutes(30);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(InactivityRuleTest, UnsyncedWallClockNeverAlertsEarly) {
  motion();                  // 08:00 (synced)
  h.advance_minutes(kHour);  // 09:00
  // A reboot with an unsynced clock that reads ten hours ahead: the rule clock keeps going from
  // 09:00, the wall clock cannot place the sleeping window.
  EXPECT_TRUE(h.restart(10 * kHourMs, /*wall_synced=*/false).empty());
  // Wherever the 9 h sleeping window fell, 4 waking hours need 13 h on the rule clock.
  EXPECT_TRUE(h.advance_minutes(12 * kHour - 1).empty());
  EXPECT_EQ(h.advance_minutes(1).size(), 1u);
}

TEST_F(InactivityRuleTest, ReturnFromAwayRestartsTheWatch) {
  motion();  // 08:00
  h.engine().set_away(h.now().wall_ms + 3 * kDayMs, h.now());
  h.advance_minutes(25 * kHour);  // 09:00 next day: no alert while away
  EXPECT_EQ(raised(), 0u);
  EXPECT_GE(h.engine().suppressed()["inactivity/away"], 1);
  h.engine().end_away(h.now());
  EXPECT_TRUE(h.advance_minutes(4 * kHour - 1).empty());
  EXPECT_EQ(h.advance_minutes(1).size(), 1u);
}

TEST_F(InactivityRuleTest, AwayRunningOutRestartsTheWatchToo) {
  motion();                                                     // 08:00
  h.engine().set_away(h.now().wall_ms + 6 * kHourMs, h.now());  // until 14:00
  h.advance_minutes(6 * kHour);
  EXPECT_EQ(raised(), 0u);
  EXPECT_TRUE(h.advance_minutes(4 * kHour - 1).empty());  // 17:59
  EXPECT_EQ(h.advance_minutes(1).size(), 1u);
}

}  // namespace
}  // namespace homesafe::rules
