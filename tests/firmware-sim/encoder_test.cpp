#include "homesafe/sim/encoder.hpp"

#include <gtest/gtest.h>

namespace homesafe::sim {
namespace {

using Json = nlohmann::ordered_json;

Json smoke_state() {
  return Json{{"smoke", false}, {"battery", 100}, {"battery_low", false}};
}

TEST(SimEncoder, StateThenTs) {
  EXPECT_EQ(encode_state(smoke_state(), "", Json::object(), 1000),
            R"({"smoke":false,"battery":100,"battery_low":false,"ts":1000})");
}

TEST(SimEncoder, ActionComesFirst) {
  EXPECT_EQ(encode_state(Json{{"battery", 90}}, "sos", Json::object(), 5),
            R"({"action":"sos","battery":90,"ts":5})");
}

TEST(SimEncoder, OverridesReplaceInPlaceOrGoBeforeTs) {
  EXPECT_EQ(encode_state(smoke_state(), "", Json{{"battery", 3}}, 7),
            R"({"smoke":false,"battery":3,"battery_low":false,"ts":7})");
  EXPECT_EQ(encode_state(smoke_state(), "", Json{{"linkquality", 80}}, 7),
            R"({"smoke":false,"battery":100,"battery_low":false,"linkquality":80,"ts":7})");
  EXPECT_EQ(encode_state(smoke_state(), "", Json{{"ts", "bogus"}}, 7),
            R"({"smoke":false,"battery":100,"battery_low":false,"ts":"bogus"})");
  EXPECT_EQ(encode_state(smoke_state(), "", Json{{"smoke", nullptr}}, 7),
            R"({"smoke":null,"battery":100,"battery_low":false,"ts":7})");
}

TEST(SimEncoder, TopicsHangOffTheBaseTopic) {
  EXPECT_EQ(state_topic("homesafe/h001/dev/x"), "homesafe/h001/dev/x/state");
  EXPECT_EQ(availability_topic("homesafe/h001/dev/x"), "homesafe/h001/dev/x/availability");
}

TEST(SimEncoder, NumbersAreIntegersWhenWholeElseThreeDecimals) {
  EXPECT_EQ(json_number(8.0).dump(), "8");
  EXPECT_EQ(json_number(0.1 + 0.2).dump(), "0.3");
  EXPECT_EQ(json_number(1.23456).dump(), "1.235");
  EXPECT_EQ(json_number(2.9999999).dump(), "3");
  EXPECT_EQ(json_number(-5.5).dump(), "-5.5");
}

}  // namespace
}  // namespace homesafe::sim
