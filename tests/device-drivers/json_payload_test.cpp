#include "json_payload.hpp"

#include <gtest/gtest.h>

namespace homesafe::drivers::detail {
namespace {

TEST(JsonPayload, NestingDepthIgnoresBracketsInStrings) {
  EXPECT_TRUE(nesting_within(R"({"a":[1,{"b":2}]})", 3));
  EXPECT_FALSE(nesting_within(R"({"a":[1,{"b":2}]})", 2));
  EXPECT_TRUE(nesting_within(R"({"a":"[[[[[[[[["})", 1));
  EXPECT_TRUE(nesting_within(R"({"a":"\"[[[["})", 1));
  EXPECT_FALSE(nesting_within(R"({"a":"\\",[[[1]]]})", 3));
  EXPECT_TRUE(nesting_within("", 0));
}

TEST(JsonPayload, ParsesIso8601WithAZone) {
  EXPECT_EQ(parse_iso8601_ms("2026-11-01T07:00:00+08:00"), 1793487600000);
  EXPECT_EQ(parse_iso8601_ms("2026-10-31T23:00:00Z"), 1793487600000);
  EXPECT_EQ(parse_iso8601_ms("2026-10-31T23:00:00.250Z"), 1793487600250);
  EXPECT_EQ(parse_iso8601_ms("2026-11-01T07:00:00+0800"), 1793487600000);
  EXPECT_EQ(parse_iso8601_ms("2026-10-31T18:00:00-05:00"), 1793487600000);
  EXPECT_EQ(parse_iso8601_ms("2026-11-01T07:00:00"), std::nullopt);  // local time: unknown
  EXPECT_EQ(parse_iso8601_ms("2026-02-30T07:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_iso8601_ms("1111-11-11T11:11:11Z"), std::nullopt);
  EXPECT_EQ(parse_iso8601_ms("yesterday"), std::nullopt);
  EXPECT_EQ(parse_iso8601_ms("2026-11-01T07:00:00Zjunk"), std::nullopt);
}

TEST(JsonPayload, DecimalIsStrict) {
  EXPECT_EQ(parse_decimal("21.5"), 21.5);
  EXPECT_EQ(parse_decimal(" -3 "), -3.0);
  EXPECT_EQ(parse_decimal("1e3"), 1000.0);
  EXPECT_EQ(parse_decimal("+2"), 2.0);
  EXPECT_EQ(parse_decimal("nan"), std::nullopt);
  EXPECT_EQ(parse_decimal("inf"), std::nullopt);
  EXPECT_EQ(parse_decimal("1e999"), std::nullopt);
  EXPECT_EQ(parse_decimal("12abc"), std::nullopt);
  EXPECT_EQ(parse_decimal(""), std::nullopt);
}

TEST(JsonPayload, FlagsMergeSoThatAnyAlarmCounts) {
  DecodeResult out;
  put_flag(out, Capability::smoke, false);
  put_flag(out, Capability::smoke, true);
  put_flag(out, Capability::smoke, false);
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].value, Value(true));
  put_number(out, Capability::battery, 50);
  put_number(out, Capability::battery, 60);  // the first key wins
  EXPECT_EQ(out.find(Capability::battery)->value, Value(50.0));
  drop(out, Capability::smoke);
  EXPECT_EQ(out.find(Capability::smoke), nullptr);
}

}  // namespace
}  // namespace homesafe::drivers::detail

namespace homesafe::drivers::detail {
namespace {

TEST(FlatScan, ReadsAFlatStateMessageInPlace) {
  const std::string payload = R"({"power":12.5,"energy":3,"action":"sos","ok":true,"x":null})";
  const auto object = scan_flat_object(payload, kMaxJsonDepth);
  ASSERT_TRUE(object);
  EXPECT_EQ(object->members().size(), 5u);
  EXPECT_EQ(object->at("power").kind, Scalar::Kind::number);
  EXPECT_EQ(object->at("power").number, 12.5);
  EXPECT_FALSE(object->at("power").integer);
  EXPECT_EQ(object->at("energy").integer, 3);
  EXPECT_EQ(object->at("action").text, "sos");
  EXPECT_EQ(object->at("action").text.data(), payload.data() + payload.find("sos"));  // no copy
  EXPECT_TRUE(object->at("ok").flag);
  EXPECT_EQ(object->at("x").kind, Scalar::Kind::null);
  EXPECT_EQ(object->at("missing").kind, Scalar::Kind::absent);
}

TEST(FlatScan, SkipsNestedValuesAndKeepsTheLastOfARepeatedKey) {
  const auto object =
      scan_flat_object(R"({"update":{"state":"idle","v":[1,2]},"smoke":true,"smoke":false})", 20);
  ASSERT_TRUE(object);
  EXPECT_EQ(object->at("update").kind, Scalar::Kind::structured);
  EXPECT_FALSE(object->at("smoke").flag);
  EXPECT_TRUE(scan_flat_object("{}", 20)->empty());
  EXPECT_TRUE(scan_flat_object(" \t\r\n{ } \n", 20));
}

TEST(FlatScan, LeavesWhatItIsUnsureOfToNlohmann) {
  for (const char* payload : {
           R"({"a":"caf\u00e9"})",          // escape
           "{\"a\":\"\xe5\x8e\xa8\"}",      // non-ASCII (UTF-8 is nlohmann's to check)
           R"({"a":9223372036854775808})",  // beyond int64
           R"({"a":1e999})",                // overflow
           R"({"a":01})",                   // leading zero: invalid
           R"({"a":1.})",                   // invalid
           R"({"a":.5})",                   // invalid
           R"({"a":+1})",                   // invalid
           R"({"a":tru})",                  // invalid
           R"({"a":1,})",                   // trailing comma: invalid
           R"({"a":1} x)",                  // trailing text
           R"([1,2])",                      // not an object
           "\xef\xbb\xbf{}",                // byte order mark (nlohmann skips it)
           R"({"a":[[[1]]]})",              // deeper than the limit given below
           "",
       }) {
    EXPECT_FALSE(scan_flat_object(payload, 3)) << payload;
  }
  EXPECT_TRUE(scan_flat_object(R"({"a":[[1]]})", 3));
}

TEST(FlatScan, StateMessagesOfPlugsAndButtonsAreScannedNotParsed) {
  DecodeResult out;
  const auto plug = parse_state_object(R"({"power":1850.5,"energy":12.25})", out);
  ASSERT_TRUE(plug);
  EXPECT_TRUE(plug->scanned());
  const auto tuya = parse_state_object(R"({"smoke":"caf\u00e9"})", out);
  ASSERT_TRUE(tuya);
  EXPECT_FALSE(tuya->scanned());
  EXPECT_EQ(tuya->view().at("smoke").text, "café");
  EXPECT_FALSE(parse_state_object(R"({"smoke":tru})", out));
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_EQ(out.problems[0].error, DecodeError::malformed);
}

}  // namespace
}  // namespace homesafe::drivers::detail
