#include "homesafe/rules/water_running_rule.hpp"

#include <gtest/gtest.h>

#include "homesafe/rules/activity.hpp"
#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using test::number;

const RuleEvent kRaise{Signal::raise, AlertKind::water_running, "meter", {}};

class WaterRunningRuleTest : public ::testing::Test {
 protected:
  drivers::DeviceConfig meter = test::device("meter", DeviceKind::water_meter);
  test::EngineHarness h{test::EngineHarness::shanghai({meter}), test::only<WaterRunningRule>()};
  double total_l = 500.0;

  std::vector<RuleEvent> read(double add_l = 0.0) {
    total_l += add_l;
    return h.send(meter, {number(Capability::water_total_l, total_l)});
  }
  // One reading a minute for `minutes`, `l_per_min` each.
  void flow(int minutes, double l_per_min = 2.0) {
    for (int i = 0; i < minutes; ++i) {
      h.advance_minutes(1);
      read(l_per_min);
    }
  }
  std::size_t count(Signal signal) const { return h.count(AlertKind::water_running, signal); }
};

TEST_F(WaterRunningRuleTest, RaisesExactlyAfterFortyFiveMinutesOfFlow) {
  read();    // 08:00: the tap is opened right after this reading
  flow(44);  // 08:44: flowing for 44 min
  EXPECT_EQ(count(Signal::raise), 0u);
  EXPECT_TRUE(h.advance_ms(kMinuteMs - 1).empty());
  // 08:45: the last reading (08:44) is fresh, the flow is taken as still on.
  EXPECT_EQ(h.advance_ms(1), std::vector<RuleEvent>{kRaise});
  flow(30);  // no repeat while it keeps running
  EXPECT_EQ(count(Signal::raise), 1u);
  EXPECT_EQ(count(Signal::repeat), 0u);
}

TEST_F(WaterRunningRuleTest, SlowReportingMeterRaisesWhenAReadingConfirms) {
  read();  // 08:00
  for (int i = 0; i < 2; ++i) {
    h.advance_minutes(15);
    read(30.0);  // 2 L/min
  }
  // 08:45 is due, but the last reading (08:30) is 15 min old: wait for the meter.
  EXPECT_TRUE(h.advance_minutes(15).empty());
  EXPECT_EQ(read(30.0), std::vector<RuleEvent>{kRaise});  // 08:45: still flowing
}

TEST_F(WaterRunningRuleTest, OneLongIntervalIsNoProofOfContinuousFlow) {
  read();  // 08:00; an hourly meter
  h.advance_minutes(60);
  EXPECT_TRUE(read(40.0).empty());  // 09:00: 40 L in the hour (a shower, the laundry)
  h.advance_minutes(60);
  EXPECT_TRUE(read(5.0).empty());  // 10:00: the average fell: no flow
  h.advance_minutes(60);
  read(40.0);  // 11:00
  h.advance_minutes(60);
  // 12:00: a second hour in a row above 0.5 L/min: flowing since 10:00, over two readings.
  EXPECT_EQ(read(45.0), std::vector<RuleEvent>{kRaise});
}

TEST_F(WaterRunningRuleTest, FlowThatStoppedBetweenReadingsIsNoAlert) {
  read();
  flow(30);
  h.advance_minutes(20);  // silent past the deadline
  EXPECT_EQ(count(Signal::raise), 0u);
  EXPECT_TRUE(read(0.0).empty());  // 08:50: no more water went through
  h.advance_minutes(120);
  EXPECT_TRUE(h.history().empty());
  EXPECT_FALSE(h.engine().next_deadline_mono_ms().has_value());
}

TEST_F(WaterRunningRuleTest, SlowTrickleBelowTheFlowLimitIsNotRunning) {
  read();
  flow(120, 0.3);
  EXPECT_TRUE(h.history().empty());
}

TEST_F(WaterRunningRuleTest, StopClearsAfterTheHold) {
  read();
  flow(46);
  ASSERT_EQ(count(Signal::raise), 1u);
  h.advance_minutes(1);
  EXPECT_TRUE(read(0.0).empty());  // the tap is closed: the clear is held
  EXPECT_TRUE(h.advance_ms(h.household().settings.clear_hold_ms - 1).empty());
  EXPECT_EQ(h.advance_ms(1),
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::water_running, "meter", {}}}));
}

TEST_F(WaterRunningRuleTest, FlowReturningWithinTheHoldKeepsOneAlert) {
  read();
  flow(46);
  h.advance_minutes(1);
  read(0.0);  // paused
  flow(3);    // running again 3 min later
  EXPECT_EQ(count(Signal::raise), 1u);
  EXPECT_EQ(count(Signal::repeat), 1u);  // the engine kept the open alert
  EXPECT_EQ(count(Signal::clear), 0u);
  EXPECT_EQ(h.engine().suppressed().at("water_running/flap"), 1);
  flow(60);
  h.advance_minutes(1);
  read(0.0);
  h.advance_minutes(60);
  EXPECT_EQ(count(Signal::raise), 1u);
  EXPECT_EQ(count(Signal::clear), 1u);
}

TEST_F(WaterRunningRuleTest, FlowReturningAfterTheHoldIsANewWatch) {
  read();
  flow(46);
  h.advance_minutes(1);
  read(0.0);
  h.advance_minutes(15);
  read(0.0);
  ASSERT_EQ(count(Signal::clear), 1u);
  flow(44);
  EXPECT_EQ(count(Signal::raise), 1u);
  flow(1);
  EXPECT_EQ(count(Signal::raise), 2u);
}

TEST_F(WaterRunningRuleTest, MeterResetIsNoFlow) {
  total_l = 12'345.0;
  read();
  for (int i = 0; i < 5; ++i) {
    h.advance_minutes(1);
    read();
  }
  h.advance_minutes(1);
  total_l = 3.0;  // battery change: the counter starts again
  read();
  EXPECT_FALSE(ActivityTracker::flowing_since(h.engine().state(), "meter").has_value());
  for (int i = 0; i < 120; ++i) {
    h.advance_minutes(1);
    read();
  }
  EXPECT_EQ(h.count(AlertKind::water_running, Signal::raise), 0u);
  EXPECT_EQ(h.history().size(), 1u);  // only the engine's record of the reset
}

TEST_F(WaterRunningRuleTest, RestartMidFlowKeepsTheFlowStart) {
  read();
  flow(20);
  h.restart();  // the gateway restarts, the water keeps running
  flow(24);     // 08:44 on the rule clock
  EXPECT_EQ(count(Signal::raise), 0u);
  flow(1);
  EXPECT_EQ(count(Signal::raise), 1u);
}

TEST_F(WaterRunningRuleTest, EachMeterHasItsOwnAlert) {
  drivers::DeviceConfig kitchen = test::device("kitchen", DeviceKind::water_meter);
  drivers::DeviceConfig bath = test::device("bath", DeviceKind::water_meter);
  test::EngineHarness h2{test::EngineHarness::shanghai({kitchen, bath}),
                         test::only<WaterRunningRule>()};
  double k = 10.0;
  const double b = 20.0;
  h2.send(kitchen, {number(Capability::water_total_l, k)});
  h2.send(bath, {number(Capability::water_total_l, b)});
  for (int i = 0; i < 50; ++i) {
    h2.advance_minutes(1);
    k += 2.0;
    h2.send(kitchen, {number(Capability::water_total_l, k)});
    h2.send(bath, {number(Capability::water_total_l, b)});
  }
  EXPECT_EQ(h2.history(),
            (std::vector<RuleEvent>{{Signal::raise, AlertKind::water_running, "kitchen", {}}}));
}

}  // namespace
}  // namespace homesafe::rules
