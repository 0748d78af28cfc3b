#include "homesafe/sim/device.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace homesafe::sim {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kT0 = 1'793'487'600'000;  // 2026-11-01T07:00:00+08:00
constexpr std::int64_t kHourMs = 3'600'000;

EventArgs params(std::map<std::string, nlohmann::json, std::less<>> values) {
  return EventArgs{std::move(values), nlohmann::ordered_json::object()};
}

// The payload of the only message `event` publishes.
std::string one(Device& device, std::string_view event, const EventArgs& args = {},
                std::int64_t now = kT0) {
  const auto messages = device.apply(event, args, now);
  EXPECT_EQ(messages.size(), 1U) << event;
  return messages.empty() ? "" : messages.front().payload;
}

TEST(SimDevice, SmokeDetectorRepeatsItsWholeStateInEveryMessage) {
  Device smoke("kitchen-smoke", DeviceType::smoke_detector, "homesafe/h001/dev/kitchen-smoke");
  EXPECT_EQ(one(smoke, "report"),
            R"({"smoke":false,"battery":100,"battery_low":false,"tamper":false,"test":false,)"
            R"("ts":1793487600000})");
  EXPECT_EQ(one(smoke, "alarm", {}, kT0 + 1000),
            R"({"smoke":true,"battery":100,"battery_low":false,"tamper":false,"test":false,)"
            R"("ts":1793487601000})");
  // A later battery report still carries the stale smoke: true.
  EXPECT_EQ(one(smoke, "battery_low", params({{"battery", 7}}), kT0 + 2000),
            R"({"smoke":true,"battery":7,"battery_low":true,"tamper":false,"test":false,)"
            R"("ts":1793487602000})");
  EXPECT_EQ(one(smoke, "tamper", {}, kT0 + 3000),
            R"({"smoke":true,"battery":7,"battery_low":true,"tamper":true,"test":false,)"
            R"("ts":1793487603000})");
  EXPECT_EQ(one(smoke, "clear", {}, kT0 + 4000),
            R"({"smoke":false,"battery":7,"battery_low":true,"tamper":true,"test":false,)"
            R"("ts":1793487604000})");
  EXPECT_EQ(one(smoke, "battery_ok", {}, kT0 + 5000),
            R"({"smoke":false,"battery":100,"battery_low":false,"tamper":true,"test":false,)"
            R"("ts":1793487605000})");
  EXPECT_EQ(one(smoke, "tamper_clear", {}, kT0 + 6000),
            R"({"smoke":false,"battery":100,"battery_low":false,"tamper":false,"test":false,)"
            R"("ts":1793487606000})");
  const auto messages = smoke.apply("alarm", {}, kT0);
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0].topic, "homesafe/h001/dev/kitchen-smoke/state");
  EXPECT_FALSE(messages[0].retain);
  EXPECT_EQ(messages[0].ts_ms, kT0);
}

TEST(SimDevice, SelfTestPublishesTwoMessages) {
  Device smoke("s", DeviceType::smoke_detector, "b/s");
  const auto messages = smoke.apply("test", {}, kT0);
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[0].payload,
            R"({"smoke":true,"battery":100,"battery_low":false,"tamper":false,"test":true,)"
            R"("ts":1793487600000})");
  EXPECT_EQ(messages[1].payload,
            R"({"smoke":false,"battery":100,"battery_low":false,"tamper":false,"test":false,)"
            R"("ts":1793487600000})");
}

TEST(SimDevice, AvailabilityIsPlainTextAndRetained) {
  Device door("front-door", DeviceType::door, "homesafe/h001/dev/front-door");
  auto messages = door.apply("offline", {}, kT0);
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0],
            (Message{kT0, "homesafe/h001/dev/front-door/availability", "offline", true}));
  EXPECT_FALSE(door.online());
  messages = door.apply("online", {}, kT0);
  EXPECT_EQ(messages[0].payload, "online");
  EXPECT_TRUE(door.online());
}

TEST(SimDevice, GasAlarmIsMainsPoweredAndCoAlarmHasABattery) {
  Device gas("g", DeviceType::gas_alarm, "b/g");
  EXPECT_EQ(gas.power(), PowerSource::mains);
  EXPECT_EQ(one(gas, "alarm"), R"({"gas":true,"tamper":false,"test":false,"ts":1793487600000})");
  EXPECT_THROW(gas.apply("battery_low", {}, kT0), std::invalid_argument);

  Device co("c", DeviceType::co_alarm, "b/c");
  EXPECT_EQ(one(co, "alarm"),
            R"({"carbon_monoxide":true,"battery":100,"battery_low":false,"tamper":false,)"
            R"("test":false,"ts":1793487600000})");

  Device battery_gas("g2", DeviceType::gas_alarm, "b/g2", PowerSource::battery);
  EXPECT_EQ(one(battery_gas, "battery_low"),
            R"({"gas":false,"battery":10,"battery_low":true,"tamper":false,"test":false,)"
            R"("ts":1793487600000})");
}

TEST(SimDevice, WaterLeakSensor) {
  Device leak("l", DeviceType::water_leak, "b/l");
  EXPECT_EQ(one(leak, "leak"),
            R"({"water_leak":true,"battery":100,"battery_low":false,"ts":1793487600000})");
  EXPECT_EQ(one(leak, "report"),
            R"({"water_leak":true,"battery":100,"battery_low":false,"ts":1793487600000})");
  EXPECT_EQ(one(leak, "dry"),
            R"({"water_leak":false,"battery":100,"battery_low":false,"ts":1793487600000})");
}

TEST(SimDevice, WaterMeterAccumulatesAndResets) {
  Device meter("m", DeviceType::water_meter, "b/m");
  EXPECT_EQ(one(meter, "use", params({{"litres", 12}})),
            R"({"water_total_l":12,"battery":100,"battery_low":false,"ts":1793487600000})");
  EXPECT_EQ(one(meter, "use", params({{"litres", 0.5}}), kT0 + 1),
            R"({"water_total_l":12.5,"battery":100,"battery_low":false,"ts":1793487600001})");
  EXPECT_EQ(one(meter, "report", {}, kT0 + 2),
            R"({"water_total_l":12.5,"battery":100,"battery_low":false,"ts":1793487600002})");
  EXPECT_EQ(one(meter, "reset", {}, kT0 + 3),
            R"({"water_total_l":0,"battery":100,"battery_low":false,"ts":1793487600003})");
  EXPECT_EQ(one(meter, "use", params({{"litres", 3}}), kT0 + 4),
            R"({"water_total_l":3,"battery":100,"battery_low":false,"ts":1793487600004})");
}

TEST(SimDevice, PlugAccumulatesEnergyInVirtualTime) {
  Device plug("p", DeviceType::plug, "b/p");
  EXPECT_EQ(one(plug, "power", params({{"watts", 1000}})),
            R"({"power":1000,"energy":0,"ts":1793487600000})");
  EXPECT_EQ(one(plug, "report", {}, kT0 + kHourMs),
            R"({"power":1000,"energy":1,"ts":1793491200000})");
  EXPECT_EQ(one(plug, "power", params({{"watts", 500}}), kT0 + 2 * kHourMs),
            R"({"power":500,"energy":2,"ts":1793494800000})");
  EXPECT_EQ(one(plug, "report", {}, kT0 + 2 * kHourMs + 36'000),  // 36 s at 500 W = 5 Wh
            R"({"power":500,"energy":2.005,"ts":1793494836000})");
  EXPECT_EQ(one(plug, "power", params({{"watts", 0}}), kT0 + 3 * kHourMs),
            R"({"power":0,"energy":2.5,"ts":1793498400000})");
  EXPECT_EQ(one(plug, "report", {}, kT0 + 10 * kHourMs),
            R"({"power":0,"energy":2.5,"ts":1793523600000})");
}

TEST(SimDevice, CallButtonActionOnlyInThePressMessage) {
  Device button("sos", DeviceType::call_button, "homesafe/h001/dev/sos");
  EXPECT_EQ(one(button, "press"),
            R"({"action":"sos","battery":100,"battery_low":false,"ts":1793487600000})");
  EXPECT_EQ(one(button, "report"), R"({"battery":100,"battery_low":false,"ts":1793487600000})");
  EXPECT_EQ(one(button, "press", params({{"action", "single"}})),
            R"({"action":"single","battery":100,"battery_low":false,"ts":1793487600000})");
  EXPECT_EQ(one(button, "double_press"),
            R"({"action":"double","battery":100,"battery_low":false,"ts":1793487600000})");
  EXPECT_EQ(one(button, "long_press"),
            R"({"action":"hold","battery":100,"battery_low":false,"ts":1793487600000})");
  EXPECT_EQ(one(button, "battery_low"), R"({"battery":10,"battery_low":true,"ts":1793487600000})");
}

TEST(SimDevice, DoorMotionAndTemperature) {
  Device door("d", DeviceType::door, "b/d");
  EXPECT_EQ(one(door, "open"),
            R"({"contact":false,"battery":100,"battery_low":false,"tamper":false,)"
            R"("ts":1793487600000})");
  EXPECT_EQ(one(door, "close"),
            R"({"contact":true,"battery":100,"battery_low":false,"tamper":false,)"
            R"("ts":1793487600000})");

  Device motion("m", DeviceType::motion, "b/m");
  EXPECT_EQ(one(motion, "motion"),
            R"({"occupancy":true,"battery":100,"battery_low":false,"tamper":false,)"
            R"("ts":1793487600000})");
  EXPECT_EQ(one(motion, "still"),
            R"({"occupancy":false,"battery":100,"battery_low":false,"tamper":false,)"
            R"("ts":1793487600000})");

  Device thermo("t", DeviceType::temperature, "b/t");
  EXPECT_EQ(one(thermo, "reading", params({{"celsius", 35.5}})),
            R"({"temperature":35.5,"humidity":50,"battery":100,"battery_low":false,)"
            R"("ts":1793487600000})");
  EXPECT_EQ(one(thermo, "reading", params({{"celsius", -2}, {"humidity", 81}})),
            R"({"temperature":-2,"humidity":81,"battery":100,"battery_low":false,)"
            R"("ts":1793487600000})");
}

TEST(SimDevice, OverridesApplyToOneEventOnly) {
  Device smoke("s", DeviceType::smoke_detector, "b/s");
  EventArgs args;
  args.overrides["battery"] = 3;
  args.overrides["linkquality"] = 42;
  EXPECT_EQ(one(smoke, "alarm", args),
            R"({"smoke":true,"battery":3,"battery_low":false,"tamper":false,"test":false,)"
            R"("linkquality":42,"ts":1793487600000})");
  EXPECT_EQ(one(smoke, "report"),
            R"({"smoke":true,"battery":100,"battery_low":false,"tamper":false,"test":false,)"
            R"("ts":1793487600000})");
}

TEST(SimDevice, ValidationExplainsWhatIsWrong) {
  EXPECT_TRUE(
      validate_event(DeviceType::water_meter, PowerSource::battery, "use", params({{"litres", 2}}))
          .empty());
  EXPECT_THAT(validate_event(DeviceType::smoke_detector, PowerSource::battery, "leak", {}).at(0),
              HasSubstr("unknown event 'leak'"));
  EXPECT_THAT(validate_event(DeviceType::water_meter, PowerSource::battery, "use", {}).at(0),
              HasSubstr("needs `litres`"));
  EXPECT_THAT(validate_event(DeviceType::water_meter, PowerSource::battery, "use",
                             params({{"litres", "lots"}}))
                  .at(0),
              HasSubstr("`litres` must be a number"));
  EXPECT_THAT(
      validate_event(DeviceType::plug, PowerSource::mains, "power", params({{"watts", -1}})).at(0),
      HasSubstr("between"));
  EXPECT_THAT(validate_event(DeviceType::call_button, PowerSource::battery, "double_press",
                             params({{"action", "x"}}))
                  .at(0),
              HasSubstr("takes no `action`"));
  EXPECT_THAT(validate_event(DeviceType::plug, PowerSource::mains, "battery_low", {}).at(0),
              HasSubstr("unknown event 'battery_low' for a mains plug"));
  EventArgs overrides;
  overrides.overrides["x"] = 1;
  EXPECT_THAT(validate_event(DeviceType::door, PowerSource::battery, "online", overrides).at(0),
              HasSubstr("no state"));

  Device meter("m", DeviceType::water_meter, "b/m");
  EXPECT_THROW(meter.apply("use", {}, kT0), std::invalid_argument);
}

TEST(SimDevice, EveryTypeHasItsNameAndReportsAndAvailability) {
  for (auto type : all_device_types()) {
    EXPECT_EQ(parse_device_type(to_string(type)), type);
    for (const char* event : {"online", "offline", "report"}) {
      EXPECT_NE(find_event(type, default_power(type), event), nullptr) << to_string(type);
    }
  }
  EXPECT_EQ(parse_device_type("toaster"), std::nullopt);
}

}  // namespace
}  // namespace homesafe::sim
