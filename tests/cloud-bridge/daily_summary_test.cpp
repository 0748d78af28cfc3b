// The daily summary: once per completed local day, across restarts, built from the store.
#include "homesafe/cloud_bridge/daily_summary.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cloud_bridge_test_support.hpp"

namespace homesafe::cloud_bridge::test {
namespace {

using gateway::Durability;
using gateway::Store;
using nlohmann::json;

constexpr std::int64_t kHour = 3'600'000;
// 2026-11-01T00:00:00+08:00
constexpr std::int64_t kNov1 = kStartWallMs - 10 * kHour;

class DailySummaryTest : public ::testing::Test {
 protected:
  DailySummaryTest() { store_.enable_outbox({"h001", "h001"}, clock_); }
  void telemetry(std::int64_t ts, const std::string& device, const std::string& capability,
                 double value) {
    Store::Transaction tx(store_, Durability::normal);
    store_.add_telemetry({{ts, device, capability, value, ""}});
    tx.commit();
  }
  void alert(const std::string& id, rules::AlertKind kind, std::int64_t opened,
             const std::string& device) {
    gateway::AlertRecord a;
    a.alert_id = id;
    a.kind = kind;
    a.severity = rules::severity_of(kind);
    a.device_id = device;
    a.opened_at_ms = opened;
    a.updated_at_ms = opened;
    Store::Transaction tx(store_, Durability::full);
    store_.save_alert(a, false);
    tx.commit();
  }
  std::vector<json> summaries() {
    std::vector<json> out;
    for (const auto& row : rows_of_type(store_, "daily_summary")) {
      EXPECT_EQ(row.priority, 3);
      out.push_back(json::parse(row.body));
    }
    return out;
  }
  rules::TimeZone zone_ = rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600);
  gateway::HubConfig config_ = uplink_config();
  gateway::ManualClock clock_{kStartWallMs, 1'000};
  Store store_{":memory:"};
};

TEST_F(DailySummaryTest, DatesAndDayBoundaries) {
  DailySummary summary(config_, store_, zone_);
  const auto day = summary.local_day(kStartWallMs);
  EXPECT_EQ(DailySummary::format_date(day), "2026-11-01");
  EXPECT_EQ(summary.day_start_ms(day), kNov1);
  EXPECT_EQ(summary.local_day(kNov1 - 1), day - 1);
  EXPECT_EQ(DailySummary::parse_date("2026-11-01"), day);
  EXPECT_FALSE(DailySummary::parse_date("2026-13-01"));
  EXPECT_FALSE(DailySummary::parse_date("yesterday"));
}

TEST_F(DailySummaryTest, OncePerCompletedDayAcrossRestarts) {
  {
    DailySummary summary(config_, store_, zone_);
    EXPECT_EQ(summary.run(clock_.now()), 0);          // first run: starts with today
    clock_.set_wall_ms(kNov1 + 24 * kHour + 30'000);  // 00:00:30 the next day: grace period
    EXPECT_EQ(summary.run(clock_.now()), 0);
    clock_.set_wall_ms(kNov1 + 24 * kHour + 2 * 60'000);
    EXPECT_EQ(summary.run(clock_.now()), 1);
    EXPECT_EQ(summary.run(clock_.now()), 0);
  }
  {
    DailySummary restarted(config_, store_, zone_);  // a restart of the daemon
    EXPECT_EQ(restarted.run(clock_.now()), 0);
    // The hub was off for three days: each missed day once.
    clock_.set_wall_ms(kNov1 + 4 * 24 * kHour + 10 * kHour);
    EXPECT_EQ(restarted.run(clock_.now()), 3);
  }
  std::vector<std::string> dates;
  for (const auto& s : summaries()) dates.push_back(s["date"]);
  EXPECT_EQ(dates,
            (std::vector<std::string>{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"}));
  EXPECT_EQ(store_.get_meta(DailySummary::kMetaKey), "2026-11-04");
}

TEST_F(DailySummaryTest, NothingWhileTheClockIsNotSynced) {
  DailySummary summary(config_, store_, zone_);
  rules::Instant unsynced{kStartWallMs, 1'000, false};
  EXPECT_EQ(summary.run(unsynced), 0);
  EXPECT_FALSE(store_.get_meta(DailySummary::kMetaKey));
}

TEST_F(DailySummaryTest, BodyFromTheStore) {
  // The day before: the meters' readings the day's consumption counts from.
  telemetry(kNov1 - kHour, "water-meter", "water_total_l", 1000);
  telemetry(kNov1 - kHour, "kettle-plug", "energy", 10.0);
  // The day.
  telemetry(kNov1 + 7 * kHour + 5 * 60'000, "hall-motion", "occupancy", 1);  // 07:05
  telemetry(kNov1 + 7 * kHour + 6 * 60'000, "hall-motion", "occupancy", 0);
  telemetry(kNov1 + 8 * kHour, "water-meter", "water_total_l", 1012.5);
  telemetry(kNov1 + 9 * kHour, "front-door", "contact", 0);
  telemetry(kNov1 + 12 * kHour, "water-meter", "water_total_l", 1040);
  telemetry(kNov1 + 18 * kHour, "kettle-plug", "energy", 10.75);
  telemetry(kNov1 + 20 * kHour, "kitchen-smoke", "battery", 87);
  telemetry(kNov1 + 21 * kHour + 42 * 60'000, "front-door", "contact", 1);  // 21:42
  // The next day: not counted.
  telemetry(kNov1 + 25 * kHour, "water-meter", "water_total_l", 1100);
  telemetry(kNov1 + 25 * kHour, "hall-motion", "occupancy", 1);
  alert("h001-000001", rules::AlertKind::smoke, kNov1 + 11 * kHour, "kitchen-smoke");
  alert("h001-000002", rules::AlertKind::no_water, kNov1 + 13 * kHour, "water-meter");
  alert("h001-000003", rules::AlertKind::no_water, kNov1 + 14 * kHour, "water-meter");
  alert("h001-000004", rules::AlertKind::device_offline, kNov1 + 15 * kHour, "hall-motion");
  alert("h001-000005", rules::AlertKind::gas, kNov1 + 26 * kHour, "kitchen-smoke");

  DailySummary summary(config_, store_, zone_);
  const auto body = summary.build(summary.local_day(kNov1));
  EXPECT_EQ(body["date"], "2026-11-01");
  EXPECT_DOUBLE_EQ(body["water_l"].get<double>(), 40.0);
  EXPECT_DOUBLE_EQ(body["energy_kwh"].get<double>(), 0.75);
  EXPECT_EQ(body["activity_events"], 3);
  EXPECT_EQ(body["first_activity"], "07:05");
  EXPECT_EQ(body["last_activity"], "21:42");
  EXPECT_EQ(body["alerts"], (json{{"device_offline", 1}, {"no_water", 2}, {"smoke", 1}}));
  EXPECT_EQ(body["hazards"], json::array({"smoke"}));
  ASSERT_EQ(body["devices"].size(), config_.devices.size());
  json smoke;
  json motion;
  json meter;
  for (const auto& d : body["devices"]) {
    if (d["device"] == "kitchen-smoke") smoke = d;
    if (d["device"] == "hall-motion") motion = d;
    if (d["device"] == "water-meter") meter = d;
  }
  EXPECT_EQ(smoke["kind"], "smoke");
  EXPECT_EQ(smoke["battery"], 87);
  EXPECT_EQ(smoke["online"], true);
  EXPECT_EQ(smoke["last_seen"], kNov1 + 20 * kHour);
  EXPECT_EQ(motion["online"], false);  // its offline alert was still open at the day's end
  EXPECT_EQ(meter["last_seen"], kNov1 + 12 * kHour);
  EXPECT_TRUE(meter["battery"].is_null());
  for (const char* key : {"water_l", "energy_kwh", "activity_events", "first_activity",
                          "last_activity", "alerts", "devices", "hazards"}) {
    EXPECT_TRUE(body.contains(key)) << key;
  }
}

TEST_F(DailySummaryTest, QuietDayHasNullActivityTimes) {
  DailySummary summary(config_, store_, zone_);
  const auto body = summary.build(summary.local_day(kNov1));
  EXPECT_EQ(body["activity_events"], 0);
  EXPECT_TRUE(body["first_activity"].is_null());
  EXPECT_TRUE(body["last_activity"].is_null());
  EXPECT_EQ(body["water_l"], 0.0);
  EXPECT_TRUE(body["alerts"].is_object());
  EXPECT_TRUE(body["alerts"].empty());
}

}  // namespace
}  // namespace homesafe::cloud_bridge::test
