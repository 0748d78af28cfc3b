#include "homesafe/rules/device_fault_rule.hpp"

#include <gtest/gtest.h>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DecodeError;
using drivers::DeviceKind;

class DeviceFaultRuleTest : public ::testing::Test {
 protected:
  test::RuleHarness harness{std::make_unique<DeviceFaultRule>()};
  drivers::DeviceConfig gas = test::device("kitchen-gas", DeviceKind::gas);
};

TEST_F(DeviceFaultRuleTest, ThirdBadMessageInARowIsAFault) {
  EXPECT_TRUE(harness.send(gas, {}, {{DecodeError::malformed, {}}}).empty());
  EXPECT_TRUE(harness.send(gas, {}, {{DecodeError::wrong_type, "gas"}}).empty());
  auto out = harness.send(gas, {}, {{DecodeError::wrong_type, "gas"}});
  EXPECT_EQ(out, (std::vector<RuleEvent>{
                     {Signal::raise, AlertKind::device_fault, "kitchen-gas", "wrong_type:gas"}}));
  EXPECT_EQ(harness.send(gas, {}, {{DecodeError::malformed, {}}}).at(0).signal, Signal::repeat);
  // A readable message clears it.
  out = harness.send(gas, {test::flag(Capability::gas, false)});
  EXPECT_EQ(out,
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::device_fault, "kitchen-gas", {}}}));
}

TEST_F(DeviceFaultRuleTest, AGoodMessageResetsTheCount) {
  harness.send(gas, {}, {{DecodeError::malformed, {}}});
  harness.send(gas, {}, {{DecodeError::malformed, {}}});
  harness.send(gas, {test::flag(Capability::gas, false)});
  EXPECT_TRUE(harness.send(gas, {}, {{DecodeError::malformed, {}}}).empty());
}

TEST_F(DeviceFaultRuleTest, CountSurvivesRestart) {
  harness.send(gas, {}, {{DecodeError::malformed, {}}});
  harness.send(gas, {}, {{DecodeError::malformed, {}}});
  harness.restart(std::make_unique<DeviceFaultRule>());
  EXPECT_EQ(harness.send(gas, {}, {{DecodeError::malformed, {}}}).size(), 1u);
}

TEST_F(DeviceFaultRuleTest, AFaultTheDeviceReportsItself) {
  const auto meter = test::device("meter", DeviceKind::water_meter);
  auto out = harness.send(meter, {test::flag(Capability::device_fault, true)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].signal, Signal::raise);
  EXPECT_EQ(out[0].kind, AlertKind::device_fault);
  EXPECT_EQ(harness.send(meter, {test::flag(Capability::device_fault, false)}).at(0).signal,
            Signal::clear);
}

TEST_F(DeviceFaultRuleTest, OnlyAlarmClassDevices) {
  const auto meter = test::device("meter", DeviceKind::water_meter);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(harness.send(meter, {}, {{DecodeError::malformed, {}}}).empty());
  }
}

}  // namespace
}  // namespace homesafe::rules
