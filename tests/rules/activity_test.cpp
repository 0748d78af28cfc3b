// The facts derived once per message: sign of life, water used, meter resets, flowing water.
#include "homesafe/rules/activity.hpp"

#include <gtest/gtest.h>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using drivers::PowerSource;

class ActivityTest : public ::testing::Test {
 protected:
  Facts send(const drivers::DeviceConfig& device, std::vector<drivers::Reading> readings) {
    drivers::DecodeResult decoded;
    decoded.readings = std::move(readings);
    return tracker.observe(device, decoded, now, state);
  }
  void advance_minutes(double minutes) {
    const auto ms = static_cast<std::int64_t>(minutes * 60'000);
    now.wall_ms += ms;
    now.mono_ms += ms;
  }
  Facts water(double litres) {
    return send(meter, {test::number(Capability::water_total_l, litres)});
  }

  ActivityTracker tracker;
  RuleState state;
  Instant now{test::kMidnightShanghai, 1'000'000, true};
  drivers::DeviceConfig motion = test::device("hall", DeviceKind::motion);
  drivers::DeviceConfig door = test::device("front-door", DeviceKind::contact);
  drivers::DeviceConfig bed = test::device("bed", DeviceKind::occupancy);
  drivers::DeviceConfig plug = test::device("kettle", DeviceKind::plug, PowerSource::mains);
  drivers::DeviceConfig meter = test::device("water", DeviceKind::water_meter, PowerSource::mains);
  drivers::DeviceConfig smoke = test::device("smoke", DeviceKind::smoke);
};

TEST_F(ActivityTest, MotionIsASignOfLifeItsEndIsNot) {
  EXPECT_TRUE(send(motion, {test::flag(Capability::occupancy, true)}).activity);
  EXPECT_FALSE(send(motion, {test::flag(Capability::occupancy, false)}).activity);
  EXPECT_EQ(ActivityTracker::last_activity(state), now.mono_ms);
}

TEST_F(ActivityTest, DoorAndBedCountOnChangeNotOnARepeatedCachedState) {
  EXPECT_FALSE(send(door, {test::flag(Capability::contact, true)}).activity);  // first: unknown
  EXPECT_FALSE(send(door, {test::flag(Capability::contact, true)}).activity);  // battery report
  EXPECT_TRUE(send(door, {test::flag(Capability::contact, false)}).activity);
  EXPECT_FALSE(send(bed, {test::flag(Capability::occupancy, true)}).activity);
  EXPECT_TRUE(send(bed, {test::flag(Capability::occupancy, false)}).activity);
}

TEST_F(ActivityTest, TheEntranceDoorIsMarked) {
  door.entrance = true;
  send(door, {test::flag(Capability::contact, true)});
  const Facts opened = send(door, {test::flag(Capability::contact, false)});
  EXPECT_TRUE(opened.activity);
  EXPECT_TRUE(opened.entrance);
  EXPECT_TRUE(ActivityTracker::last_was_entrance(state));
  const Facts inside = send(motion, {test::flag(Capability::occupancy, true)});
  EXPECT_TRUE(inside.previous_was_entrance);
  EXPECT_FALSE(ActivityTracker::last_was_entrance(state));
}

TEST_F(ActivityTest, PlugSwitchingWithHysteresis) {
  EXPECT_FALSE(send(plug, {test::number(Capability::power, 0)}).activity);
  EXPECT_TRUE(send(plug, {test::number(Capability::power, 1800)}).activity);
  EXPECT_FALSE(send(plug, {test::number(Capability::power, 1750)}).activity);  // still on
  EXPECT_FALSE(send(plug, {test::number(Capability::power, 10)}).activity);    // in between
  EXPECT_TRUE(send(plug, {test::number(Capability::power, 2)}).activity);
}

TEST_F(ActivityTest, ADeviceCanBeExcluded) {
  plug.activity = false;  // a fridge
  send(plug, {test::number(Capability::power, 0)});
  EXPECT_FALSE(send(plug, {test::number(Capability::power, 120)}).activity);
  EXPECT_FALSE(send(smoke, {test::flag(Capability::smoke, false)}).activity);
}

TEST_F(ActivityTest, WaterUseIsTheDifferenceOfTotals) {
  EXPECT_FALSE(water(12345.0).water_used_l);  // first reading: a baseline, not use
  advance_minutes(5);
  const Facts used = water(12351.5);
  ASSERT_TRUE(used.water_used_l);
  EXPECT_DOUBLE_EQ(*used.water_used_l, 6.5);
  EXPECT_TRUE(used.activity);
  advance_minutes(5);
  const Facts none = water(12351.5);
  EXPECT_DOUBLE_EQ(none.water_used_l.value_or(-1), 0.0);
  EXPECT_FALSE(none.activity);
}

TEST_F(ActivityTest, ACounterResetIsANewBaselineNotHugeOrNegativeUse) {
  water(12345.0);
  advance_minutes(5);
  const Facts reset = water(3.0);  // battery change: the counter starts again
  EXPECT_TRUE(reset.meter_reset);
  EXPECT_FALSE(reset.water_used_l);
  EXPECT_FALSE(reset.activity);
  advance_minutes(5);
  const Facts after = water(5.0);
  EXPECT_FALSE(after.meter_reset);
  EXPECT_DOUBLE_EQ(after.water_used_l.value_or(-1), 2.0);
}

TEST_F(ActivityTest, AnImpossibleJumpIsAResetNotUse) {
  water(100.0);
  advance_minutes(1);
  const Facts jump = water(99'999.0);  // a replaced meter, or a roll-over read backwards
  EXPECT_TRUE(jump.meter_reset);
  EXPECT_FALSE(jump.water_used_l);
}

TEST_F(ActivityTest, ReadNoiseBelowTheBaselineIsNoUse) {
  water(100.0);
  advance_minutes(5);
  const Facts noise = water(99.6);
  EXPECT_FALSE(noise.meter_reset);
  EXPECT_DOUBLE_EQ(noise.water_used_l.value_or(-1), 0.0);
  advance_minutes(5);
  EXPECT_DOUBLE_EQ(water(101.0).water_used_l.value_or(-1), 1.0);  // from the higher baseline
}

TEST_F(ActivityTest, ResetDetailSaysWhichCounterFromWhatToWhat) {
  water(12345.0);
  advance_minutes(5);
  EXPECT_EQ(water(3.0).meter_reset_detail, "water_total_l 12345.000 -> 3.000");
}

Facts energy(ActivityTracker& tracker, const drivers::DeviceConfig& plug, RuleState& state,
             Instant now, double kwh) {
  drivers::DecodeResult decoded;
  decoded.readings = {test::number(Capability::energy, kwh)};
  return tracker.observe(plug, decoded, now, state);
}

TEST_F(ActivityTest, EnergyUseIsTheDifferenceOfCumulativeTotals) {
  EXPECT_FALSE(energy(tracker, plug, state, now, 321.5).energy_used_kwh);  // a baseline
  advance_minutes(30);
  const Facts used = energy(tracker, plug, state, now, 322.25);
  ASSERT_TRUE(used.energy_used_kwh);
  EXPECT_NEAR(*used.energy_used_kwh, 0.75, 1e-9);
  EXPECT_FALSE(used.meter_reset);
  EXPECT_FALSE(used.activity);  // energy alone is no switching
}

TEST_F(ActivityTest, AnEnergyCounterThatStartsAgainIsANewBaseline) {
  // A Tasmota plug after a flash or a Shelly after a reboot: Total starts again near zero.
  energy(tracker, plug, state, now, 1520.40);
  advance_minutes(10);
  const Facts reset = energy(tracker, plug, state, now, 0.02);
  EXPECT_TRUE(reset.meter_reset);
  EXPECT_FALSE(reset.energy_used_kwh);
  EXPECT_EQ(reset.meter_reset_detail, "energy 1520.400 -> 0.020");
  advance_minutes(10);
  EXPECT_NEAR(energy(tracker, plug, state, now, 0.12).energy_used_kwh.value_or(-1), 0.10, 1e-9);
}

TEST_F(ActivityTest, MoreEnergyThanAHomeCanDrawIsAResetNotUse) {
  energy(tracker, plug, state, now, 10.0);
  advance_minutes(60);
  // 25 kW for an hour plus 1 kWh is the most a home could use: 30 kWh more is a replaced meter.
  EXPECT_TRUE(energy(tracker, plug, state, now, 40.0).meter_reset);
  advance_minutes(60);
  const Facts heavy = energy(tracker, plug, state, now, 45.0);  // 5 kW for an hour: real use
  EXPECT_FALSE(heavy.meter_reset);
  EXPECT_NEAR(heavy.energy_used_kwh.value_or(-1), 5.0, 1e-9);
}

TEST_F(ActivityTest, EnergyRoundingBelowTheBaselineIsNoUse) {
  energy(tracker, plug, state, now, 5.000);
  advance_minutes(5);
  const Facts noise = energy(tracker, plug, state, now, 4.995);
  EXPECT_FALSE(noise.meter_reset);
  EXPECT_DOUBLE_EQ(noise.energy_used_kwh.value_or(-1), 0.0);
  advance_minutes(5);
  EXPECT_NEAR(energy(tracker, plug, state, now, 5.010).energy_used_kwh.value_or(-1), 0.010, 1e-9);
}

TEST_F(ActivityTest, WaterFlowingForLongIsNoLongerASignOfLife) {
  double total = 1000.0;
  water(total);
  std::int64_t started = now.mono_ms;
  for (int i = 1; i <= 6; ++i) {  // 30 minutes at 4 l/min
    advance_minutes(5);
    total += 20;
    EXPECT_TRUE(water(total).activity) << i;
  }
  EXPECT_EQ(ActivityTracker::flowing_since(state, meter.id), started);
  advance_minutes(5);
  total += 20;
  EXPECT_FALSE(water(total).activity);  // a tap left running, not a person
  advance_minutes(5);
  EXPECT_FALSE(water(total).activity);  // stopped
  EXPECT_FALSE(ActivityTracker::flowing_since(state, meter.id));
}

}  // namespace
}  // namespace homesafe::rules
