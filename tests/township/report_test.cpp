#include "homesafe/township/report.hpp"

#include <gtest/gtest.h>

#include "homesafe/township/clock.hpp"
#include "homesafe/township/csv.hpp"
#include "homesafe/township/registry.hpp"
#include "support/temp_dir.hpp"
#include "township_test_support.hpp"

namespace homesafe::township {
namespace {

using namespace test;

// 20 generated residents of 东乡: odd i in 甲村, even i in 乙村; risk by i % 3 (0 高风险, 1 重点,
// 2 一般); visits by i % 4: 0 one home visit, 1 a phone call and a remote record, 2 weekly remote
// records, 3 nothing in November (a visit in October only).
class ReportTest : public ::testing::Test {
 protected:
  ReportTest() : store_(dir_ / "t.db") {
    std::string csv = registry_csv().substr(0, registry_csv().find('\n') + 1);
    for (int i = 0; i < 20; ++i) {
      const char* risk = i % 3 == 0 ? "高风险" : i % 3 == 1 ? "重点" : "一般";
      csv += id(i) + ",r-" + id(i) + ",居民" + std::to_string(i) + ",南县,东乡," +
             (i % 2 ? "甲村" : "乙村") + "," + risk + ",,地址,,,,,,\n";
    }
    import_households(store_, csv, kT0);
    for (int i = 0; i < 20; ++i) {
      const std::string h = id(i);
      switch (i % 4) {
        case 0:
          visit(h, "上门入户", "2026-11-03");
          break;
        case 1:
          visit(h, "电话视频", "2026-11-10");
          visit(h, "远程监测", "2026-11-20");
          break;
        case 2:
          for (const char* d : {"2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"}) {
            visit(h, "远程监测", d);
          }
          break;
        default:
          visit(h, "上门入户", "2026-10-30");
      }
    }
  }

  static std::string id(int i) { return std::string(i < 10 ? "g0" : "g") + std::to_string(i); }

  void visit(const std::string& household, const std::string& type, const std::string& date) {
    store_.db().exec(
        "INSERT INTO visits (visit_id, household_id, visit_type, visit_date, visited_at, visitor, "
        "health, economy, support, safety, needs, note, created_by, created_at) VALUES (?, ?, ?, "
        "?, 0, 'staff', '', '', '', '', '', '', 'staff', 0)",
        {random_id(), household, type, date});
  }

  std::vector<Household> dongxiang() {
    std::vector<Household> out;
    for (auto& h : store_.households()) {
      if (h.township == "东乡") out.push_back(h);
    }
    return out;
  }

  homesafe::test::TempDir dir_{"township-report"};
  Store store_;
};

// 2026-12-05 08:00 +08:00: all of November is past.
constexpr std::int64_t kDecember = kT0 + 34LL * 86'400'000;

TEST_F(ReportTest, CountsResidentsVisitedByVillageTypeAndRisk) {
  const json r = visit_rate_report(store_, dongxiang(), Month{2026, 11}, kDecember, 480);
  ASSERT_EQ(r["townships"].size(), 1u);
  const json& t = r["townships"][0];
  EXPECT_EQ(t["township"], "东乡");
  EXPECT_EQ(t["residents"], 20);
  EXPECT_EQ(t["visited"], 15);
  EXPECT_DOUBLE_EQ(t["visit_rate"].get<double>(), 0.75);
  EXPECT_EQ(t["by_type"]["上门入户"], 5);
  EXPECT_EQ(t["by_type"]["电话视频"], 5);
  EXPECT_EQ(t["by_type"]["远程监测"], 10);
  // 高风险: i = 0,3,6,9,12,15,18; visited unless i % 4 == 3 (3, 15).
  EXPECT_EQ(t["by_risk"]["高风险"]["residents"], 7);
  EXPECT_EQ(t["by_risk"]["高风险"]["visited"], 5);
  ASSERT_EQ(t["villages"].size(), 2u);
  for (const auto& v : t["villages"]) {
    if (v["village"] == "甲村") {
      EXPECT_EQ(v["residents"], 10);
      EXPECT_EQ(v["visited"], 5);
    } else {
      EXPECT_EQ(v["village"], "乙村");
      EXPECT_EQ(v["visited"], 10);
    }
  }
}

TEST_F(ReportTest, ListsHighRiskResidentsWhoMissedAWeek) {
  const json r = visit_rate_report(store_, dongxiang(), Month{2026, 11}, kDecember, 480);
  std::map<std::string, json> missed;
  for (const auto& m : r["high_risk_missed"]) missed[m["household"]] = m["missed_weeks"];
  EXPECT_EQ(missed.size(), 5u);  // 6 and 18 had a weekly remote record
  EXPECT_EQ(missed["g00"], json({2, 3, 4}));
  EXPECT_EQ(missed["g03"], json({1, 2, 3, 4}));
  EXPECT_EQ(missed["g09"], json({1, 4}));
  EXPECT_FALSE(missed.contains("g06"));
  EXPECT_EQ(r["townships"][0]["high_risk_missed_week"], 5);
}

TEST_F(ReportTest, WeeksNotYetBegunDoNotCount) {
  // 2026-11-09 08:00 +08:00: weeks 1 (1–7) and 2 (8–14) have begun.
  const json r =
      visit_rate_report(store_, dongxiang(), Month{2026, 11}, kT0 + 8LL * 86'400'000, 480);
  std::map<std::string, json> missed;
  for (const auto& m : r["high_risk_missed"]) missed[m["household"]] = m["missed_weeks"];
  EXPECT_EQ(missed["g00"], json({2}));
  EXPECT_EQ(missed["g09"], json({1}));
  EXPECT_EQ(r["weeks"][2]["due"], false);
}

TEST_F(ReportTest, CsvHasAHeaderAVillageRowEachAndATotal) {
  const json r = visit_rate_report(store_, dongxiang(), Month{2026, 11}, kDecember, 480);
  const auto records = parse_csv(visit_rate_csv(r));
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].fields[0], "月份");
  EXPECT_EQ(records[3].fields[3], "合计");
  EXPECT_EQ(records[3].fields[4], "20");
  EXPECT_EQ(records[3].fields[5], "15");
  EXPECT_EQ(records[3].fields[6], "75.0%");
  EXPECT_EQ(records[3].fields.back(), "5");
}

TEST_F(ReportTest, CaregiverResponseFigures) {
  auto alert = [&](const std::string& id, const std::string& household) {
    store_.db().exec(
        "INSERT INTO alerts (alert_id, household_id, hub_id, source, kind, severity, state, "
        "opened_at, updated_at, last_event_id) VALUES (?, ?, 'x', 'hub', 'call', 'emergency', "
        "'open', ?, ?, '')",
        {id, household, kT0, kT0});
  };
  auto ack = [&](const std::string& id, const std::string& household, std::int64_t after_ms,
                 const std::string& by) {
    store_.db().exec(
        "INSERT INTO handling_records (record_id, alert_id, household_id, event, at, by_whom, "
        "channel, note, source) VALUES (?, ?, ?, 'acknowledged', ?, ?, 'sms', '', 'hub')",
        {random_id(), id, household, kT0 + after_ms, by});
  };
  alert("a1", "g00");
  ack("a1", "g00", 60'000, "li");
  ack("a1", "g00", 90'000, "wang");  // a later second ack does not count
  alert("a2", "g01");
  ack("a2", "g01", 600'000, "li");
  alert("a3", "g02");
  ack("a3", "g02", 120'000, "wang");
  alert("a4", "g03");   // never acknowledged
  alert("a5", "h004");  // another county's: not in the reader's households
  const json r = caregiver_response(store_, dongxiang(), kT0 - 1, kT0 + 86'400'000);
  EXPECT_EQ(r["overall"]["alerts"], 4);
  EXPECT_EQ(r["overall"]["acknowledged"], 3);
  EXPECT_EQ(r["overall"]["unacknowledged"], 1);
  EXPECT_DOUBLE_EQ(r["overall"]["median_s"].get<double>(), 120.0);
  EXPECT_DOUBLE_EQ(r["overall"]["within_5min_share"].get<double>(), 0.5);
  ASSERT_EQ(r["by_person"].size(), 2u);
  EXPECT_EQ(r["by_person"][0]["by"], "li");
  EXPECT_DOUBLE_EQ(r["by_person"][0]["median_s"].get<double>(), 330.0);
  EXPECT_DOUBLE_EQ(r["by_person"][0]["within_5min_share"].get<double>(), 0.5);
}

TEST(Month, ParsesYearAndMonthOnly) {
  EXPECT_TRUE(parse_month("2026-11"));
  EXPECT_FALSE(parse_month("2026-13"));
  EXPECT_FALSE(parse_month("2026-1"));
  EXPECT_FALSE(parse_month("2026-11' OR 1=1"));
}

TEST(Calendar, LocalDatesAtTheUtcOffset) {
  EXPECT_EQ(local_date(kT0, 480), "2026-11-01");
  EXPECT_EQ(local_date(kT0 - 8 * 3'600'000 - 1, 480), "2026-10-31");
  EXPECT_EQ(weekday(2026, 11, 1), 6);  // a Sunday
  EXPECT_EQ(local_midnight_ms(2026, 11, 1, 480), kT0 - 8 * 3'600'000);
}

}  // namespace
}  // namespace homesafe::township
