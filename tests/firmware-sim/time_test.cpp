#include "homesafe/sim/time.hpp"

#include <gtest/gtest.h>

namespace homesafe::sim {
namespace {

using std::chrono::milliseconds;

TEST(SimDuration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(parse_duration("0s"), milliseconds{0});
  EXPECT_EQ(parse_duration("90s"), milliseconds{90'000});
  EXPECT_EQ(parse_duration("5m"), milliseconds{300'000});
  EXPECT_EQ(parse_duration("2h"), milliseconds{7'200'000});
  EXPECT_EQ(parse_duration("1d"), milliseconds{86'400'000});
  EXPECT_EQ(parse_duration("1h30m"), milliseconds{5'400'000});
  EXPECT_EQ(parse_duration("250ms"), milliseconds{250});
  EXPECT_EQ(parse_duration("1d2h3m4s5ms"), milliseconds{93'784'005});
}

TEST(SimDuration, RejectsMalformedText) {
  for (const char* text : {"", "0", "5", "5x", "m", "-5s", "1.5h", " 5s", "5s ", "1m1h", "5m5m",
                           "1h30", "5 m", "99999999999999d"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

TEST(SimIso8601, ParsesOffsetsAndFractions) {
  const auto base = parse_iso8601("2026-11-01T07:00:00+08:00");
  ASSERT_TRUE(base);
  EXPECT_EQ(base->unix_ms, 1'793'487'600'000);
  EXPECT_EQ(base->utc_offset_minutes, 480);
  EXPECT_EQ(parse_iso8601("2026-10-31T23:00:00Z")->unix_ms, base->unix_ms);
  EXPECT_EQ(parse_iso8601("2026-11-01T07:00:00+0800")->unix_ms, base->unix_ms);
  EXPECT_EQ(parse_iso8601("2026-11-01 07:00:00+08")->unix_ms, base->unix_ms);
  EXPECT_EQ(parse_iso8601("2026-11-01T07:00:00.25+08:00")->unix_ms, base->unix_ms + 250);
  EXPECT_EQ(parse_iso8601("2026-10-31T18:30:00-04:30")->utc_offset_minutes, -270);
}

TEST(SimIso8601, RejectsAmbiguousOrImpossibleTimes) {
  for (const char* text :
       {"2026-11-01T07:00:00", "2026-02-30T07:00:00Z", "2026-11-01T24:00:00Z", "2026-11-01",
        "2026-11-01T07:00:00+8", "2026-11-01T07:00:00+08:00x", "yesterday"}) {
    EXPECT_EQ(parse_iso8601(text), std::nullopt) << text;
  }
}

TEST(SimIso8601, FormatsInTheGivenOffset) {
  EXPECT_EQ(format_iso8601(1'793'487'610'000, 480), "2026-11-01T07:00:10+08:00");
  EXPECT_EQ(format_iso8601(1'793'487'610'250, 480), "2026-11-01T07:00:10.250+08:00");
  EXPECT_EQ(format_iso8601(1'793'487'600'000, 0), "2026-10-31T23:00:00+00:00");
  EXPECT_EQ(format_iso8601(1'793'487'600'000, -270), "2026-10-31T18:30:00-04:30");
  EXPECT_EQ(format_iso8601(0, 0), "1970-01-01T00:00:00+00:00");
}

TEST(SimIso8601, RoundTrips) {
  for (const char* text : {"2026-11-01T07:00:00+08:00", "2024-02-29T23:59:59.999+08:00",
                           "1999-12-31T00:00:00-11:00"}) {
    const auto parsed = parse_iso8601(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(format_iso8601(parsed->unix_ms, parsed->utc_offset_minutes), text);
  }
}

}  // namespace
}  // namespace homesafe::sim
