#include "homesafe/rules/routine_rule.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using test::flag;
using test::kMidnightShanghai;

constexpr std::int64_t kMin = 60'000;

// "v,v,v,w,w": each value repeated as often as told.
std::string runs(std::initializer_list<std::pair<int, int>> parts) {
  std::string out;
  for (const auto& [value, count] : parts) {
    for (int i = 0; i < count; ++i) {
      if (!out.empty()) out += ',';
      out += std::to_string(value);
    }
  }
  return out;
}

// One day in the life of the resident, in local minutes of the day.
struct DayPlan {
  bool clockwork = false;  // a sign every 30 min exactly, else every 20-40 min
  int toilet = 3 * 60;     // the night toilet visit (-1: none)
  int wake = 7 * 60;       // first sign of life of the day
  int bed = 21 * 60 + 30;  // last sign of life of the day
  int nap_from = 13 * 60;  // no sign of life during the nap
  int nap_minutes = 90;
  int fall = -1;      // nothing happens after this minute (a fall)
  int out_from = -1;  // out through the entrance door from .. until
  int out_until = -1;
};

class RoutineRuleTest : public ::testing::Test {
 protected:
  RoutineRuleTest() {
    // The door's first state is only a baseline (not a sign of life).
    h.send(door, {flag(Capability::contact, true)});
    // Day 0 from 08:00 (when the harness starts): not a whole day, so it is not learned.
    live_day(0, {.clockwork = true, .toilet = -1, .wake = 8 * 60});
  }

  static drivers::DeviceConfig entrance_door() {
    auto d = test::device("front-door", DeviceKind::contact);
    d.entrance = true;
    return d;
  }

  // Wall time of a local minute of day `day` (day 0: 2026-11-02, the harness starts at 08:00).
  static std::int64_t wall_at(int day, double minute) {
    return kMidnightShanghai + day * kDayMs + static_cast<std::int64_t>(minute * kMin);
  }

  // Moves the clock on to a local time (never back).
  void go(int day, double minute) {
    const std::int64_t target = wall_at(day, minute);
    ASSERT_GE(target, h.now().wall_ms);
    h.advance_ms(target - h.now().wall_ms);
  }

  void motion(const drivers::DeviceConfig& d) { h.send(d, {flag(Capability::occupancy, true)}); }

  // Out through the entrance door (open, closed 10 s later).
  void through_door() {
    h.send(door, {flag(Capability::contact, false)});
    h.advance_ms(10'000);
    h.send(door, {flag(Capability::contact, true)});
  }

  // Lives the day from its local midnight (the clock must not be past it) to just after bedtime.
  void live_day(int day, const DayPlan& plan) {
    const auto alive = [&](int minute) { return plan.fall < 0 || minute <= plan.fall; };
    if (plan.toilet >= 0 && alive(plan.toilet)) {
      go(day, plan.toilet);
      motion(kitchen);
    }
    int minute = plan.wake;
    while (minute <= plan.bed && alive(minute)) {
      if (minute > plan.nap_from && minute < plan.nap_from + plan.nap_minutes) {
        minute = plan.nap_from + plan.nap_minutes;
        continue;
      }
      if (plan.out_from >= 0 && minute > plan.out_from && minute < plan.out_until) {
        minute = plan.out_until;
        continue;
      }
      go(day, minute);
      if (minute == plan.out_until) through_door();
      motion((minute / 7) % 2 == 0 ? hall : kitchen);
      if (minute == plan.out_from) {
        h.advance_ms(20'000);
        through_door();  // the last sign: the entrance door
      }
      int step = plan.clockwork ? 30 : 20 + static_cast<int>(rng() % 21);
      if (minute < plan.nap_from && minute + step > plan.nap_from) step = plan.nap_from - minute;
      if (plan.out_from >= 0 && minute < plan.out_from && minute + step > plan.out_from) {
        step = plan.out_from - minute;
      }
      minute += step;
    }
  }

  // Ordinary days first_day .. last_day (inclusive).
  void live_days(int first_day, int last_day, DayPlan plan = {}) {
    for (int day = first_day; day <= last_day; ++day) live_day(day, plan);
  }

  std::size_t raised() const { return h.count(AlertKind::routine_deviation, Signal::raise); }

  // Steps a minute at a time until the rule raises or `until` (wall) passes; the raise time.
  std::optional<std::int64_t> first_raise_until(std::int64_t until) {
    const std::size_t before = raised();
    while (h.now().wall_ms < until) {
      h.advance_minutes(1);
      if (raised() > before) return h.now().wall_ms;
    }
    return std::nullopt;
  }

  std::optional<std::string> state(const std::string& key) {
    auto value = h.engine().state().get(key);
    if (!value) return std::nullopt;
    return std::string(*value);
  }

  std::size_t learned_days() {
    return h.engine().state().with_prefix("routine/household/day/").size();
  }

  const drivers::DeviceConfig hall = test::device("hall-motion", DeviceKind::motion);
  const drivers::DeviceConfig kitchen = test::device("kitchen-motion", DeviceKind::motion);
  const drivers::DeviceConfig door = entrance_door();
  test::EngineHarness h{test::EngineHarness::shanghai({hall, kitchen, door}),
                        test::only<RoutineRule>()};
  std::mt19937 rng{20261102};
};

TEST_F(RoutineRuleTest, SilentWithFewerThanMinDaysOfHistory) {
  // Day 0 started at 08:00 (not a whole day): days 1..13 are 13 learned days.
  live_days(1, 13, {.clockwork = true});
  go(14, 0);
  EXPECT_EQ(learned_days(), 13u);
  live_day(14, {.clockwork = true, .fall = 9 * 60 + 30});
  go(14, 21 * 60 + 59);
  EXPECT_EQ(raised(), 0u);
}

TEST_F(RoutineRuleTest, FallRaisesExactlyAtTheLearnedLimit) {
  // Every gap of a clockwork day is 30 min: the limit is max(90, 1.25 x 30 + 45) = 90 min.
  live_days(1, 14, {.clockwork = true, .nap_minutes = 30});
  live_day(15, {.clockwork = true, .nap_minutes = 30, .fall = 9 * 60 + 30});
  go(15, 10 * 60 + 59);
  EXPECT_EQ(raised(), 0u);
  go(15, 11 * 60);
  ASSERT_EQ(raised(), 1u);
  EXPECT_EQ(h.history().back(), (RuleEvent{Signal::raise, AlertKind::routine_deviation, "",
                                           "gap_min=90,usual_min=30,limit_min=90"}));
  // Raised once, not again while the gap goes on.
  go(15, 21 * 60);
  EXPECT_EQ(raised(), 1u);
  // The next sign of life clears it.
  motion(hall);
  EXPECT_EQ(h.count(AlertKind::routine_deviation, Signal::clear), 1u);
}

TEST_F(RoutineRuleTest, FallInAnOrdinaryWeekRaisesWellBeforeTheInactivityRule) {
  live_days(1, 14);
  live_day(15, {.fall = 9 * 60 + 30});
  const auto at = first_raise_until(wall_at(15, 14 * 60));
  ASSERT_TRUE(at.has_value());
  // At least min_gap after the last sign of life (at or before 09:30), within 2 h 30 of the fall
  // (the inactivity rule would need 4 h).
  EXPECT_GE(*at, wall_at(15, 9 * 60 + 30 - 40) + 90 * kMin);
  EXPECT_LT(*at, wall_at(15, 9 * 60 + 30) + 150 * kMin);
}

TEST_F(RoutineRuleTest, OrdinaryDaysDoNotRaise) {
  live_days(1, 14);
  live_days(15, 29);
  go(30, 0);
  EXPECT_EQ(raised(), 0u);
  // The window: 28 days are kept, day 1 (2026-11-03) is forgotten.
  EXPECT_EQ(learned_days(), 28u);
  EXPECT_FALSE(state("routine/household/day/20261103").has_value());
  EXPECT_TRUE(state("routine/household/day/20261104").has_value());
}

TEST_F(RoutineRuleTest, ALongerNapDoesNotRaise) {
  live_days(1, 14);
  // An hour longer than the longest nap learned (90 min): judged against the gaps that began
  // at 13:00 (limit 157.5 min), not against the busy afternoon that usually follows.
  live_day(15, {.nap_minutes = 150});
  go(16, 0);
  EXPECT_EQ(raised(), 0u);
}

TEST_F(RoutineRuleTest, ANapWithoutEndRaises) {
  live_days(1, 14);
  // No getting up from the nap: 1.25 x 90 + 45 = 157.5 min after 13:00.
  live_day(15, {.fall = 13 * 60});
  go(15, 15 * 60 + 37);
  EXPECT_EQ(raised(), 0u);
  go(15, 15 * 60 + 38);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(RoutineRuleTest, GoingOutDoesNotRaiseAndTheWatchResumesOnReturn) {
  live_days(1, 14);
  // Out at 09:00 through the entrance door, back at 13:00: four hours without a sign inside.
  live_day(15, {.fall = 13 * 60, .out_from = 9 * 60, .out_until = 13 * 60});
  EXPECT_EQ(raised(), 0u);
  // Back home, then nothing more (a fall right after coming home): raised later that day.
  const auto at = first_raise_until(wall_at(15, 21 * 60 + 59));
  ASSERT_TRUE(at.has_value());
  EXPECT_GE(*at, wall_at(15, 13 * 60) + 90 * kMin);
}

TEST_F(RoutineRuleTest, SleepingLateByHalfAnHourDoesNotRaise) {
  live_days(1, 14);
  live_day(15, {.wake = 7 * 60 + 30});
  live_day(16, {.toilet = -1, .wake = 7 * 60 + 30});
  go(17, 0);
  EXPECT_EQ(raised(), 0u);
}

TEST_F(RoutineRuleTest, NoSignOfLifeInTheMorningRaisesBeforeNine) {
  live_days(1, 14);
  // The night toilet visit at 03:00 is the last sign of life.
  live_day(15, {.fall = 3 * 60});
  go(15, 7 * 60 + 29);
  EXPECT_EQ(raised(), 0u);  // in the sleeping window and just after it: nothing
  const auto at = first_raise_until(wall_at(15, 12 * 60));
  ASSERT_TRUE(at.has_value());
  EXPECT_LE(*at, wall_at(15, 9 * 60));
}

TEST_F(RoutineRuleTest, RestartKeepsHistoryTodayAndTheWatch) {
  live_days(1, 14, {.clockwork = true, .nap_minutes = 30});
  live_day(15, {.clockwork = true, .nap_minutes = 30, .fall = 9 * 60 + 30});
  go(15, 10 * 60);
  h.restart(60'000);  // down for a minute: now 10:01
  EXPECT_EQ(learned_days(), 14u);
  go(15, 10 * 60 + 59);
  EXPECT_EQ(raised(), 0u);
  go(15, 11 * 60);
  EXPECT_EQ(raised(), 1u);

  // A short restart during a day keeps the day; a long one (data missing) does not.
  live_day(16, {.clockwork = true, .bed = 12 * 60, .nap_minutes = 30});
  h.restart(2 * 60'000);
  live_day(16, {.clockwork = true, .toilet = -1, .wake = 12 * 60 + 30, .nap_minutes = 30});
  live_day(17, {.clockwork = true, .bed = 12 * 60, .nap_minutes = 30});
  h.restart(3 * kHourMs);
  live_day(17, {.clockwork = true, .toilet = -1, .wake = 15 * 60 + 30});
  go(18, 1);
  EXPECT_TRUE(state("routine/household/day/20261118").has_value());
  EXPECT_FALSE(state("routine/household/day/20261119").has_value());
}

TEST_F(RoutineRuleTest, DaysFollowLocalMidnightInShanghai) {
  live_day(1, {.clockwork = true});
  // 23:59 local is 15:59 UTC: day 1 (2026-11-03 local) is not finished yet.
  go(1, 23 * 60 + 59);
  EXPECT_FALSE(state("routine/household/day/20261103").has_value());
  go(2, 0);  // local midnight, 16:00 UTC
  const auto day = state("routine/household/day/20261103");
  ASSERT_TRUE(day.has_value());
  // Reached, per slot: 00:00-03:00 the 30 min left at 22:00 the evening before (waking time
  // stops in the sleeping window), 03:30-06:30 nothing since the visit at 03:00, from 07:00 the
  // 30-min gaps, the nap from 13:00 to 14:30 (30, 60, 90 and 90 at 14:30 exactly), 30 at night.
  // Began, per slot: the gaps that started there (none at 03:30-06:30: no sign of life then);
  // the gap begun at 21:30 ends the next day and is learned with that day.
  EXPECT_EQ(*day,
            runs({{30, 7}, {0, 7}, {30, 12}, {30, 1}, {60, 1}, {90, 1}, {90, 1}, {30, 18}}) + "," +
                runs({{-1, 6}, {0, 1}, {-1, 7}, {30, 12}, {90, 1}, {-1, 2}, {30, 15}, {-1, 4}}));
}

TEST_F(RoutineRuleTest, AwayDaysAreNotLearned) {
  live_days(1, 10, {.clockwork = true, .nap_minutes = 30});
  // Day 11: to hospital at 09:00 for five days; the caregiver sets away mode. A relative stays
  // in the flat meanwhile (signs of life every day, but not the resident's routine).
  live_day(11, {.clockwork = true, .fall = 9 * 60, .out_from = 9 * 60});
  h.engine().set_away(wall_at(16, 10 * 60), h.now());
  live_days(12, 15, {.clockwork = true, .wake = 9 * 60, .nap_minutes = 0});
  // Day 16, 10:00: away mode ends (timed).
  go(16, 10 * 60 + 1);
  EXPECT_EQ(learned_days(), 10u);
  EXPECT_EQ(raised(), 0u);
  live_day(16, {.clockwork = true, .toilet = -1, .wake = 10 * 60 + 30, .nap_minutes = 30});
  live_days(17, 19, {.clockwork = true, .nap_minutes = 30});
  go(20, 0);
  EXPECT_EQ(learned_days(), 13u);  // days 11-16 were not learned
  // 13 days: still silent.
  live_day(20, {.clockwork = true, .nap_minutes = 30, .fall = 9 * 60 + 30});
  go(20, 21 * 60);
  EXPECT_EQ(raised(), 0u);
}

TEST_F(RoutineRuleTest, ReturnFromAwayRestartsTheGapFromNow) {
  live_days(1, 14, {.clockwork = true, .nap_minutes = 30});
  live_day(15, {.clockwork = true, .fall = 8 * 60, .out_from = 8 * 60});
  h.engine().set_away(wall_at(15, 12 * 60), h.now());
  // Away ends at 12:00 without a sign of life: the gap counts from 12:00 (limit 90 min).
  go(15, 13 * 60 + 29);
  EXPECT_EQ(raised(), 0u);
  go(15, 13 * 60 + 30);
  EXPECT_EQ(raised(), 1u);
}

TEST_F(RoutineRuleTest, TimesUsuallySpentOutAreNotJudged) {
  // Out every morning from 09:00 to 12:00 (the entrance door the last sign meanwhile).
  live_days(1, 14,
            {.clockwork = true, .nap_minutes = 30, .out_from = 9 * 60, .out_until = 12 * 60});
  // Today at home, motionless from 09:00: the usual gap at 09:00-11:30 is not known.
  live_day(15, {.clockwork = true, .nap_minutes = 30, .fall = 9 * 60});
  go(15, 11 * 60 + 59);
  EXPECT_EQ(raised(), 0u);
  go(15, 12 * 60);  // 12:00 is known (at home every day): 3 h is far beyond its usual 30 min
  EXPECT_EQ(raised(), 1u);
}

TEST_F(RoutineRuleTest, DaysMostlyOutOrWithoutAClockAreNotLearned) {
  live_day(1, {.clockwork = true});
  live_day(2, {.clockwork = true, .out_from = 8 * 60, .out_until = 21 * 60});  // out all day
  live_day(3, {.clockwork = true, .bed = 12 * 60});
  h.restart(60'000, false);  // the hub came back without a synced clock
  live_day(3, {.clockwork = true, .toilet = -1, .wake = 12 * 60 + 30});
  go(4, 1);
  EXPECT_TRUE(state("routine/household/day/20261103").has_value());
  EXPECT_FALSE(state("routine/household/day/20261104").has_value());
  EXPECT_FALSE(state("routine/household/day/20261105").has_value());
}

TEST_F(RoutineRuleTest, DisabledNeverRaises) {
  Household household = test::EngineHarness::shanghai({hall, kitchen, door});
  household.settings.routine.enabled = false;
  test::EngineHarness off{household, test::only<RoutineRule>()};
  EXPECT_FALSE(off.engine().next_deadline_mono_ms().has_value());
}

}  // namespace
}  // namespace homesafe::rules
