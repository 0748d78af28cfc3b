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
