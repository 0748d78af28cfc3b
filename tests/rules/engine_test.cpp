// The engine's shared duties: rule clock across restarts, away mode, flap damping, suppression
// counters. A scripted rule stands in for the real ones, so each duty is tested on its own.
#include "homesafe/rules/engine.hpp"

#include <gtest/gtest.h>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using test::EngineHarness;

// Raises `kind` when a message carries occupancy true and clears it on false; with a deadline
// `wait_ms` after the last message it raises `timer_kind` (a silence-style rule).
class ScriptedRule final : public Rule {
 public:
  ScriptedRule(AlertKind kind, std::int64_t wait_ms) : kind_(kind), wait_ms_(wait_ms) {}
  std::string_view name() const override { return "scripted"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override {
    if (const auto* r = observation.decoded.find(Capability::occupancy)) {
      const bool on = std::get<bool>(r->value);
      out.push_back({on ? Signal::raise : Signal::clear, kind_, observation.device.id, {}});
    }
    if (const auto* r = observation.decoded.find(Capability::temperature)) {
      out.push_back({Signal::suppressed, kind_, observation.device.id, "too_short"});
      (void)r;
    }
    state.set_int("scripted/last", observation.now.mono_ms);
    deadline_ = observation.now.mono_ms + wait_ms_;
  }
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override {
    const auto last = state.get_int("scripted/last");
    if (!last) {
      state.set_int("scripted/last", now.mono_ms);
      deadline_ = now.mono_ms + wait_ms_;
      return;
    }
    if (now.mono_ms >= *last + wait_ms_ && !state.get("scripted/fired")) {
      state.set("scripted/fired", "1");
      out.push_back({Signal::raise, AlertKind::no_water, "", "silent"});
    }
    deadline_ = state.get("scripted/fired") ? std::optional<std::int64_t>() : *last + wait_ms_;
  }
  std::optional<std::int64_t> next_deadline_mono_ms() const override { return deadline_; }
  void on_away_ended(Instant now, RuleState& state) override {
    state.set_int("scripted/last", now.mono_ms);
    state.erase("scripted/fired");
    deadline_ = now.mono_ms + wait_ms_;
  }

 private:
  AlertKind kind_;
  std::int64_t wait_ms_;
  std::optional<std::int64_t> deadline_;
};

auto scripted(AlertKind kind, std::int64_t wait_ms) {
  return [kind, wait_ms](const HouseholdPtr&) {
    std::vector<std::unique_ptr<Rule>> rules;
    rules.push_back(std::make_unique<ScriptedRule>(kind, wait_ms));
    return rules;
  };
}

const auto kSensor = test::device("hall", DeviceKind::motion);

EngineHarness harness(AlertKind kind, std::int64_t wait_ms) {
  return EngineHarness(EngineHarness::shanghai({kSensor}), scripted(kind, wait_ms));
}

TEST(RuleEngine, TimerFiresExactlyAtItsDeadline) {
  auto h = harness(AlertKind::inactivity, 60 * kMinuteMs);
  h.send(kSensor, {test::flag(Capability::occupancy, true)});
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 0u);
  h.advance_ms(60 * kMinuteMs - 1);
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 0u);
  h.advance_ms(1);
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 1u);
}

TEST(RuleEngine, RuleClockContinuesAcrossARestartWithTheDowntime) {
  auto h = harness(AlertKind::inactivity, 60 * kMinuteMs);
  h.send(kSensor, {test::flag(Capability::occupancy, false)});
  h.advance_minutes(20);
  // Down for 30 minutes; the new boot's monotonic clock starts again near zero.
  h.restart(30 * kMinuteMs);
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 0u);
  h.advance_minutes(9.9);
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 0u);
  h.advance_minutes(0.2);
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 1u);
}

TEST(RuleEngine, DowntimeOverTheDeadlineFiresAtResume) {
  auto h = harness(AlertKind::inactivity, 60 * kMinuteMs);
  h.send(kSensor, {test::flag(Capability::occupancy, false)});
  h.restart(2 * kHourMs);
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 1u);
}

TEST(RuleEngine, UnsyncedWallClockAtRestartLosesTheDowntimeNeverAlertsEarly) {
  auto h = harness(AlertKind::inactivity, 60 * kMinuteMs);
  h.send(kSensor, {test::flag(Capability::occupancy, false)});
  h.advance_minutes(20);
  h.restart(30 * kMinuteMs, /*wall_synced=*/false);
  h.advance_minutes(39);  // 20 + 39 < 60 of observed time
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 0u);
  h.advance_minutes(2);
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 1u);
}

TEST(RuleEngine, AwayPausesPersonRelatedAlertsAndCountsThem) {
  auto h = harness(AlertKind::inactivity, 60 * kMinuteMs);
  h.engine().set_away(h.now().wall_ms + 3 * kHourMs, h.now());
  ASSERT_TRUE(h.engine().away_until_wall_ms());
  h.send(kSensor, {test::flag(Capability::occupancy, true)});  // would raise inactivity
  h.advance_minutes(90);                                       // would raise no_water
  EXPECT_EQ(h.count(AlertKind::inactivity, Signal::raise), 0u);
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 0u);
  const auto suppressed = h.engine().suppressed();
  EXPECT_EQ(suppressed.at("inactivity/away"), 1);
  EXPECT_EQ(suppressed.at("no_water/away"), 1);
  // Away ends by itself; the rule starts afresh from the return, not from before.
  h.advance_minutes(90);
  EXPECT_FALSE(h.engine().away_until_wall_ms());
  h.advance_minutes(59);
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 0u);
  h.advance_minutes(1.5);
  EXPECT_EQ(h.count(AlertKind::no_water, Signal::raise), 1u);
}

TEST(RuleEngine, HazardsAreNeverPausedByAway) {
  auto h = harness(AlertKind::temperature, 60 * kMinuteMs);
  h.engine().set_away(h.now().wall_ms + 3 * kHourMs, h.now());
  h.send(kSensor, {test::flag(Capability::occupancy, true)});
  EXPECT_EQ(h.count(AlertKind::temperature, Signal::raise), 1u);
}

TEST(RuleEngine, AwaySurvivesARestartAndHomeEndsIt) {
  auto h = harness(AlertKind::inactivity, 60 * kMinuteMs);
  h.engine().set_away(h.now().wall_ms + 3 * kHourMs, h.now());
  h.restart(10 * kMinuteMs);
  EXPECT_TRUE(h.engine().away_until_wall_ms());
  h.send(kSensor, {test::flag(Capability::occupancy, true)});
  EXPECT_EQ(h.count(AlertKind::inactivity, Signal::raise), 0u);
  h.engine().end_away(h.now());
  EXPECT_FALSE(h.engine().away_until_wall_ms());
  h.send(kSensor, {test::flag(Capability::occupancy, true)});
  EXPECT_EQ(h.count(AlertKind::inactivity, Signal::raise), 1u);
}

TEST(RuleEngine, AClearThatComesBackWithinTheHoldIsAFlapNotANewAlert) {
  auto h = harness(AlertKind::temperature, 24 * kHourMs);
  h.send(kSensor, {test::flag(Capability::occupancy, true)});
  EXPECT_TRUE(h.send(kSensor, {test::flag(Capability::occupancy, false)}).empty());
  h.advance_minutes(5);
  auto back = h.send(kSensor, {test::flag(Capability::occupancy, true)});
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].signal, Signal::repeat);
  EXPECT_EQ(h.engine().suppressed().at("temperature/flap"), 1);
  // A clear that holds for the whole hold time goes through, once.
  h.send(kSensor, {test::flag(Capability::occupancy, false)});
  h.advance_ms(RuleSettings{}.clear_hold_ms - 1);
  EXPECT_EQ(h.count(AlertKind::temperature, Signal::clear), 0u);
  h.advance_ms(1);
  EXPECT_EQ(h.count(AlertKind::temperature, Signal::clear), 1u);
}

TEST(RuleEngine, ClearsOfKindsThatMustBeSeenAreNotHeld) {
  auto h = harness(AlertKind::water_leak, 24 * kHourMs);
  h.send(kSensor, {test::flag(Capability::occupancy, true)});
  auto out = h.send(kSensor, {test::flag(Capability::occupancy, false)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].signal, Signal::clear);
}

TEST(RuleEngine, SuppressedSignalsAreCountedNotPassedOn) {
  auto h = harness(AlertKind::temperature, 24 * kHourMs);
  EXPECT_TRUE(h.send(kSensor, {test::number(Capability::temperature, 40)}).empty());
  h.send(kSensor, {test::number(Capability::temperature, 40)});
  EXPECT_EQ(h.engine().suppressed().at("temperature/too_short"), 2);
}

TEST(RuleEngine, AMeterResetIsRecordedAndCountedNeverAnAlert) {
  const auto meter = test::device("water", DeviceKind::water_meter, drivers::PowerSource::mains);
  const auto plug = test::device("stove", DeviceKind::plug, drivers::PowerSource::mains);
  EngineHarness h(EngineHarness::shanghai({meter, plug}), scripted(AlertKind::call, kDayMs));
  h.send(meter, {test::number(Capability::water_total_l, 12345.0)});
  h.send(plug, {test::number(Capability::energy, 800.0)});
  h.advance_minutes(5);
  auto events = h.send(meter, {test::number(Capability::water_total_l, 3.0)});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], (RuleEvent{Signal::record, AlertKind::no_water, "water",
                                  "meter_reset #1 water_total_l 12345.000 -> 3.000"}));
  events = h.send(plug, {test::number(Capability::energy, 0.5)});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], (RuleEvent{Signal::record, AlertKind::power_running, "stove",
                                  "meter_reset #1 energy 800.000 -> 0.500"}));
  h.advance_minutes(5);
  events = h.send(meter, {test::number(Capability::water_total_l, 0.0)});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].detail, "meter_reset #2 water_total_l 3.000 -> 0.000");
  EXPECT_TRUE(h.send(meter, {test::number(Capability::water_total_l, 0.5)}).empty());
}

}  // namespace
}  // namespace homesafe::rules
