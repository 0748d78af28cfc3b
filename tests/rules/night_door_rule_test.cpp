#include "homesafe/rules/night_door_rule.hpp"

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

class NightDoorRuleTest : public ::testing::Test {
 protected:
  NightDoorRuleTest() { h.send(door, {flag(Capability::contact, true)}); }  // closed, 08:00

  drivers::DeviceConfig door = entrance_door();
  drivers::DeviceConfig hall = test::device("hall", DeviceKind::motion);
  drivers::DeviceConfig bedroom_door = test::device("bedroom", DeviceKind::contact);
  test::EngineHarness h{test::EngineHarness::shanghai({door, hall, bedroom_door}),
                        test::only<NightDoorRule>()};

  std::vector<RuleEvent> open() { return h.send(door, {flag(Capability::contact, false)}); }
  std::vector<RuleEvent> close() { return h.send(door, {flag(Capability::contact, true)}); }
  std::vector<RuleEvent> motion() { return h.send(hall, {flag(Capability::occupancy, true)}); }
  std::size_t raised() const { return h.count(AlertKind::night_door, Signal::raise); }
  std::int64_t suppressed(const std::string& reason) {
    return h.engine().suppressed()["night_door/" + reason];
  }
};

TEST_F(NightDoorRuleTest, DoorOpenedJustBeforeTheNightIsNotWatched) {
  h.advance_to_local_minute(22 * kHour + 59);
  open();
  h.advance_minutes(0.5);
  close();
  h.advance_minutes(2 * kHour);
  EXPECT_EQ(raised(), 0u);
}

TEST_F(NightDoorRuleTest, NoReturnAfterANightOpeningRaisesAfterFifteenMinutes) {
  h.advance_to_local_minute(23 * kHour);  // the first minute of the night window
  EXPECT_TRUE(open().empty());
  h.advance_minutes(1);
  EXPECT_TRUE(close().empty());  // 23:01
  EXPECT_TRUE(h.advance_minutes(15 - 0.001).empty());
  const auto out = h.advance_minutes(0.001);  // exactly 15 minutes after the close
  EXPECT_EQ(out,
            (std::vector<RuleEvent>{{Signal::raise, AlertKind::night_door, "door", "no_return"}}));
  h.advance_minutes(2 * kHour);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(NightDoorRuleTest, DoorLeftOpenRaisesAfterTenMinutesAndClearsWhenBack) {
  h.advance_to_local_minute(2 * kHour);
  open();
  EXPECT_TRUE(h.advance_minutes(10 - 0.001).empty());
  EXPECT_EQ(h.advance_minutes(0.001),
            (std::vector<RuleEvent>{{Signal::raise, AlertKind::night_door, "door", "open"}}));
  // Activity inside while the door still stands open does not clear it.
  EXPECT_TRUE(motion().empty());
  h.advance_minutes(3);
  EXPECT_TRUE(close().empty());
  h.advance_minutes(30);  // no second alert for the same outing
  EXPECT_EQ(raised(), 1u);
  EXPECT_EQ(motion(),
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::night_door, "door", "activity"}}));
}

TEST_F(NightDoorRuleTest, LettingTheCatOutAndGoingBackToBedIsNoAlert) {
  h.advance_to_local_minute(1 * kHour + 30);
  open();
  h.advance_minutes(1);
  close();
  h.advance_minutes(2);
  motion();  // walking back to the bedroom
  h.advance_minutes(3 * kHour);
  EXPECT_EQ(raised(), 0u);
  EXPECT_EQ(suppressed("activity_inside"), 1);
}

TEST_F(NightDoorRuleTest, AnotherInsideSourceAlsoCancels) {
  h.send(bedroom_door, {flag(Capability::contact, true)});  // its first state: no sign of life
  h.advance_to_local_minute(23 * kHour + 30);
  open();
  close();
  h.advance_minutes(2);
  h.send(bedroom_door, {flag(Capability::contact, false)});  // a door inside moves
  h.advance_minutes(30);
  EXPECT_EQ(raised(), 0u);
}

TEST_F(NightDoorRuleTest, MotionBeforeTheDoorClosesDoesNotCancel) {
  h.advance_to_local_minute(23 * kHour + 30);
  open();
  h.advance_minutes(1);
  motion();  // the hallway sensor sees the person on the way out
  h.advance_minutes(1);
  close();  // 23:32
  EXPECT_TRUE(h.advance_minutes(15 - 0.001).empty());
  EXPECT_EQ(h.advance_minutes(0.001).size(), 1u);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(NightDoorRuleTest, NightToiletVisitIsNoDoorEvent) {
  h.advance_to_local_minute(3 * kHour);
  motion();
  h.advance_minutes(5);
  motion();
  h.advance_minutes(3 * kHour);
  EXPECT_TRUE(h.history().empty());
}

TEST_F(NightDoorRuleTest, ComingBackInClearsTheAlert) {
  h.advance_to_local_minute(23 * kHour + 30);
  open();
  close();
  h.advance_minutes(20);
  ASSERT_EQ(raised(), 1u);
  h.advance_to_local_minute(1 * kHour);
  EXPECT_TRUE(open().empty());  // coming home
  EXPECT_TRUE(close().empty());
  h.advance_minutes(1);
  EXPECT_EQ(motion(),
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::night_door, "door", "activity"}}));
  EXPECT_EQ(raised(), 1u);
  h.advance_minutes(30);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(NightDoorRuleTest, ReopeningDuringAWatchKeepsWatchingAfterTheNight) {
  h.advance_to_local_minute(4 * kHour + 55);
  open();
  close();  // 04:55, a night event
  h.advance_minutes(10);
  open();  // 05:05, outside the window but part of the watch
  h.advance_minutes(1);
  close();
  EXPECT_TRUE(h.advance_minutes(15 - 0.001).empty());
  EXPECT_EQ(h.advance_minutes(0.001).size(), 1u);
}

TEST_F(NightDoorRuleTest, DaytimeDoorIsNoWatch) {
  h.advance_to_local_minute(14 * kHour);
  open();
  h.advance_minutes(30);
  close();
  h.advance_minutes(60);
  EXPECT_TRUE(h.history().empty());
}

TEST_F(NightDoorRuleTest, RestartKeepsAWatch) {
  h.advance_to_local_minute(23 * kHour + 30);
  open();
  close();
  h.advance_minutes(5);
  EXPECT_TRUE(h.restart(kMinuteMs).empty());  // 23:36
  EXPECT_TRUE(h.advance_minutes(9 - 0.001).empty());
  EXPECT_EQ(h.advance_minutes(0.001).size(), 1u);  // 23:45
}

TEST_F(NightDoorRuleTest, WatchRunOutWhileDownGetsAGrace) {
  h.advance_to_local_minute(23 * kHour + 30);
  open();
  close();
  h.advance_minutes(5);
  EXPECT_TRUE(h.restart(20 * kMinuteMs).empty());  // 23:55: the deadline passed while down
  EXPECT_TRUE(h.advance_ms(NightDoorRule::kResumeGraceMs - 1).empty());
  EXPECT_EQ(h.advance_ms(1).size(), 1u);
}

TEST_F(NightDoorRuleTest, ActivityInTheGraceAfterARestartCancels) {
  h.advance_to_local_minute(23 * kHour + 30);
  open();
  close();
  h.advance_minutes(5);
  h.restart(20 * kMinuteMs);
  h.advance_minutes(2);
  motion();
  h.advance_minutes(30);
  EXPECT_EQ(raised(), 0u);
}

TEST_F(NightDoorRuleTest, AwayTimeDropsTheWatchAndTheAlert) {
  h.engine().set_away(h.now().wall_ms + 16 * kHourMs, h.now());  // until 00:00
  h.advance_to_local_minute(23 * kHour + 30);
  open();
  close();
  h.advance_minutes(20);
  EXPECT_EQ(raised(), 0u);
  EXPECT_EQ(suppressed("away"), 1);
  h.advance_to_local_minute(0);  // back home: watching afresh
  motion();
  EXPECT_TRUE(h.history().empty());
  h.advance_to_local_minute(1 * kHour);
  open();
  close();
  h.advance_minutes(15);
  EXPECT_EQ(raised(), 1u);
}

TEST(NightDoorRuleNoIndoorSource, OnlyTheOpenDoorIsWatched) {
  auto door = entrance_door();
  test::EngineHarness h(test::EngineHarness::shanghai({door}), test::only<NightDoorRule>());
  h.send(door, {flag(Capability::contact, true)});
  h.advance_to_local_minute(23 * kHour + 30);
  h.send(door, {flag(Capability::contact, false)});
  h.send(door, {flag(Capability::contact, true)});
  h.advance_minutes(2 * kHour);
  EXPECT_EQ(h.count(AlertKind::night_door, Signal::raise), 0u);
  EXPECT_EQ(h.engine().suppressed()["night_door/no_indoor_source"], 1);

  h.send(door, {flag(Capability::contact, false)});  // 01:30, left open
  EXPECT_EQ(h.advance_minutes(10),
            (std::vector<RuleEvent>{{Signal::raise, AlertKind::night_door, "door", "open"}}));
  EXPECT_EQ(h.send(door, {flag(Capability::contact, true)}),
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::night_door, "door", "closed"}}));
}

TEST(NightDoorRuleUnsynced, NoWatchWhileTheTimeOfDayIsUnknown) {
  auto door = entrance_door();
  auto hall = test::device("hall", DeviceKind::motion);
  test::EngineHarness h(test::EngineHarness::shanghai({door, hall}), test::only<NightDoorRule>());
  h.send(door, {flag(Capability::contact, true)});
  h.advance_to_local_minute(23 * kHour + 30);
  h.restart(0, /*wall_synced=*/false);
  h.send(door, {flag(Capability::contact, false)});
  h.send(door, {flag(Capability::contact, true)});
  h.advance_minutes(60);
  EXPECT_EQ(h.count(AlertKind::night_door, Signal::raise), 0u);
  EXPECT_EQ(h.engine().suppressed()["night_door/clock_unsynced"], 1);
}

}  // namespace
}  // namespace homesafe::rules
