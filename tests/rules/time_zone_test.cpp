#include "homesafe/rules/time_zone.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace homesafe::rules {
namespace {

std::optional<TimeZone> load(const std::string& name) {
  std::ifstream file("/usr/share/zoneinfo/" + name, std::ios::binary);
  if (!file) return std::nullopt;
  std::stringstream bytes;
  bytes << file.rdbuf();
  return TimeZone::from_tzif(name, bytes.str());
}

TEST(TimeZone, ShanghaiIsUtcPlus8) {
  auto zone = load("Asia/Shanghai");
  ASSERT_TRUE(zone) << "tzdata must be installed";
  const std::int64_t t = *parse_iso8601_ms("2026-11-01T07:00:00+08:00");
  EXPECT_EQ(zone->offset_at(t), 8 * 3600);
  EXPECT_EQ(zone->format_iso(t), "2026-11-01T07:00:00+08:00");
  EXPECT_EQ(zone->local_ms_of_day(t), 7 * 3'600'000);
}

TEST(TimeZone, LocalMidnightBoundary) {
  auto zone = TimeZone::fixed("Asia/Shanghai", 8 * 3600);
  const std::int64_t before = *parse_iso8601_ms("2026-11-01T23:59:59+08:00");
  const std::int64_t after = *parse_iso8601_ms("2026-11-02T00:00:00+08:00");
  EXPECT_EQ(zone.local_ms_of_day(before), 86'399'000);
  EXPECT_EQ(zone.local_ms_of_day(after), 0);
  EXPECT_EQ(zone.format_iso(after), "2026-11-02T00:00:00+08:00");
}

TEST(TimeZone, DaylightSavingZoneFollowsTransitions) {
  auto zone = load("Europe/Berlin");
  ASSERT_TRUE(zone);
  EXPECT_EQ(zone->offset_at(*parse_iso8601_ms("2026-01-15T12:00:00Z")), 3600);
  EXPECT_EQ(zone->offset_at(*parse_iso8601_ms("2026-07-15T12:00:00Z")), 7200);
  EXPECT_EQ(zone->format_iso(*parse_iso8601_ms("2026-07-15T12:00:00.250Z")),
            "2026-07-15T14:00:00.250+02:00");
}

TEST(TimeZone, RejectsNonTzif) {
  EXPECT_FALSE(
      TimeZone::from_tzif("x", "not a tz file at all, long enough to pass the size check"));
  EXPECT_FALSE(TimeZone::from_tzif("x", ""));
}

TEST(Iso8601, ParsesOffsetsAndFractions) {
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T08:00:00+08:00"), 0);
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parse_iso8601_ms("2026-11-01T07:00:00+08:00"), 1'793'487'600'000);
  EXPECT_FALSE(parse_iso8601_ms("2026-11-01T07:00:00"));  // no offset: ambiguous
  EXPECT_FALSE(parse_iso8601_ms("2026-13-01T07:00:00Z"));
  EXPECT_FALSE(parse_iso8601_ms("yesterday"));
}

}  // namespace
}  // namespace homesafe::rules
