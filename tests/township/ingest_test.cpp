#include "homesafe/township/ingest.hpp"

#include <gtest/gtest.h>

#include "homesafe/township/registry.hpp"
#include "support/temp_dir.hpp"
#include "township_test_support.hpp"

namespace homesafe::township {
namespace {

using namespace test;

class IngestTest : public ::testing::Test {
 protected:
  IngestTest() : store_(dir_ / "township.db"), clock_(kT0), ingest_(store_, clock_) {
    import_households(store_, registry_csv(), kT0);
  }

  IngestResult send(const std::string& hub, const json& message,
                    const std::string& leaf = "event") {
    return ingest_.handle("homesafe-up/" + hub + "/" + leaf, message.dump());
  }

  std::int64_t count(const std::string& sql, const std::vector<Value>& params = {}) {
    return store_.db().query_one(sql, params)->integer(0);
  }

  homesafe::test::TempDir dir_{"township-ingest"};
  Store store_;
  ManualClock clock_;
  Ingest ingest_;
};

TEST_F(IngestTest, StoresAnEventAndAcksItAfterwards) {
  auto r = send("h001", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0));
  ASSERT_EQ(r.outcome, IngestOutcome::kStored) << r.reason;
  ASSERT_TRUE(r.ack);
  EXPECT_EQ(r.ack->topic, "homesafe-down/h001/ack");
  EXPECT_EQ(json::parse(r.ack->payload), (json{{"v", 1}, {"acked", {"h001/3f9c2a7d/1"}}}));
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 1);
  auto alert =
      store_.db().query_one("SELECT state, household_id, kind FROM alerts WHERE alert_id = ?",
                            {std::string("h001-000001")});
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->text(0), "open");
  EXPECT_EQ(alert->text(1), "h001");
  EXPECT_EQ(alert->text(2), "smoke");
}

TEST_F(IngestTest, TheSameEventTwiceIsStoredOnceAndAckedTwice) {
  const json e =
      event("h001", 5, "alert_event", alert_event_body("h001-000001", "acknowledged", kT0));
  auto first = send("h001", e);
  auto second = send("h001", e);
  EXPECT_EQ(first.outcome, IngestOutcome::kStored);
  EXPECT_EQ(second.outcome, IngestOutcome::kDuplicate);
  ASSERT_TRUE(second.ack);
  EXPECT_EQ(second.ack->payload, first.ack->payload);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM handling_records"), 1);
  EXPECT_EQ(ingest_.stored_total(), 1u);
  EXPECT_EQ(ingest_.duplicate_total(), 1u);
}

TEST_F(IngestTest, ANewEpochIsNotADuplicate) {
  send("h001", event("h001", 1, "device_health", device_health_body(), 2));
  auto r = send("h001", event("h001", 1, "device_health", device_health_body(), 2, "", "0000beef"));
  EXPECT_EQ(r.outcome, IngestOutcome::kStored);
  EXPECT_EQ(count("SELECT COUNT(*) FROM device_health"), 2);
}

TEST_F(IngestTest, EveryTypeLandsInItsTable) {
  store_.db().exec(
      "INSERT INTO commands (command_id, hub_id, type, alert_id, body, created_by, created_at) "
      "VALUES ('c-1', 'h001', 'ack', 'h001-000001', '{}', 'op', 0)");
  send("h001", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0));
  send("h001", event("h001", 2, "alert_event", alert_event_body("h001-000001", "opened", kT0)));
  send("h001", event("h001", 3, "notification", notification_body("h001-000001")));
  send("h001", event("h001", 4, "device_health", device_health_body(), 2));
  send("h001", event("h001", 5, "daily_summary", daily_summary_body("2026-11-01"), 3));
  send("h001", event("h001", 6, "command_result", command_result_body("c-1")));
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 6);
  EXPECT_EQ(count("SELECT COUNT(*) FROM alert_history"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM handling_records"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM notifications"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM device_health"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM daily_summaries"), 1);
  EXPECT_EQ(count("SELECT result_ok FROM commands WHERE command_id = 'c-1'"), 1);
}

TEST_F(IngestTest, ADailySummaryCreatesOneRemoteMonitoringVisit) {
  send("h001", event("h001", 1, "daily_summary", daily_summary_body("2026-11-01"), 3));
  // The hub re-sends the day under a new id (e.g. after a wiped store): still one record.
  send("h001",
       event("h001", 1, "daily_summary", daily_summary_body("2026-11-01"), 3, "", "0000beef"));
  auto visit = store_.db().query_one(
      "SELECT visit_type, visit_date, safety, health FROM visits WHERE household_id = 'h001'");
  ASSERT_TRUE(visit);
  EXPECT_EQ(count("SELECT COUNT(*) FROM visits"), 1);
  EXPECT_EQ(visit->text(0), "远程监测");
  EXPECT_EQ(visit->text(1), "2026-11-01");
  EXPECT_NE(visit->text(2).find("危险报警：smoke"), std::string::npos) << visit->text(2);
  EXPECT_NE(visit->text(2).find("离线：door"), std::string::npos) << visit->text(2);
  EXPECT_NE(visit->text(2).find("电量低：kitchen-smoke"), std::string::npos) << visit->text(2);
  EXPECT_NE(visit->text(2).find("活动：37次"), std::string::npos) << visit->text(2);
  EXPECT_EQ(visit->text(3), "");
}

TEST_F(IngestTest, AnOlderAlertUpdateArrivingLateDoesNotWinButIsKeptInHistory) {
  send("h001", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0));
  send("h001", event("h001", 3, "alert", alert_body("h001-000001", "resolved", kT0 + 300'000), 0));
  // The acknowledgement (seq 2) arrives after the resolution.
  auto r = send("h001", event("h001", 2, "alert",
                              alert_body("h001-000001", "acknowledged", kT0 + 60'000), 0));
  EXPECT_EQ(r.outcome, IngestOutcome::kStored);
  auto alert = store_.db().query_one(
      "SELECT state, updated_at, last_event_id FROM alerts WHERE alert_id = 'h001-000001'");
  EXPECT_EQ(alert->text(0), "resolved");
  EXPECT_EQ(alert->integer(1), kT0 + 300'000);
  EXPECT_EQ(alert->text(2), "h001/3f9c2a7d/3");
  EXPECT_EQ(count("SELECT COUNT(*) FROM alert_history WHERE alert_id = 'h001-000001'"), 3);
}

TEST_F(IngestTest, ARepeatAtTheSameTimeIsNewer) {
  send("h001", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0, 0), 0));
  send("h001", event("h001", 2, "alert", alert_body("h001-000001", "open", kT0, 1), 0));
  EXPECT_EQ(count("SELECT repeat_count FROM alerts WHERE alert_id = 'h001-000001'"), 1);
}

TEST_F(IngestTest, RejectsAHubSpeakingForAnotherHousehold) {
  // Topic hub differs from payload hub.
  auto r1 = send("h002", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0)));
  EXPECT_EQ(r1.outcome, IngestOutcome::kRejected);
  EXPECT_EQ(r1.reason, "payload hub differs from topic hub");
  // Consistent hub, but the household is not the one the registry gives that hub.
  auto r2 =
      send("h002", event("h002", 1, "alert", alert_body("h001-000001", "open", kT0), 1, "h001"));
  EXPECT_EQ(r2.reason, "household is not the hub's");
  // A hub the registry does not know.
  auto r3 = send("h009", event("h009", 1, "alert", alert_body("h009-000001", "open", kT0)));
  EXPECT_EQ(r3.reason, "hub not in registry");
  EXPECT_FALSE(r1.ack || r2.ack || r3.ack);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 0);
  EXPECT_EQ(ingest_.rejected_total(), 3u);
}

TEST_F(IngestTest, AHubCannotOverwriteAnotherHouseholdsAlert) {
  send("h001", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0));
  auto r =
      send("h002", event("h002", 1, "alert", alert_body("h001-000001", "resolved", kT0 + 1000), 0));
  EXPECT_EQ(r.outcome, IngestOutcome::kRejected);
  EXPECT_EQ(r.reason, "alert belongs to another household");
  // Nothing of the rejected message stays: not even the events row (one transaction).
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE hub_id = 'h002'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM alerts WHERE state = 'open'"), 1);
}

TEST_F(IngestTest, MalformedMessagesAreCountedAndNeverStored) {
  EXPECT_EQ(ingest_.handle("homesafe-up/h001/event", "{\"v\":1").outcome, IngestOutcome::kRejected);
  json e = event("h001", 1, "alert", alert_body("h001-000001", "open", kT0));
  e["body"].erase("kind");
  EXPECT_EQ(send("h001", e).reason, "missing key 'kind'");
  EXPECT_EQ(ingest_.handle("homesafe-up/h001/status", "maybe").outcome, IngestOutcome::kRejected);
  EXPECT_EQ(ingest_.handle("homesafe-up/h001/whatever", "{}").reason, "unknown topic");
  EXPECT_EQ(ingest_.rejected_total(), 4u);
  EXPECT_EQ(ingest_.rejected_by_reason().at("missing key 'kind'"), 1u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM alerts"), 0);
}

TEST_F(IngestTest, HeartbeatAndStatusAreAcceptedWithoutAck) {
  auto hb = send("h001", heartbeat("h001"), "heartbeat");
  EXPECT_EQ(hb.outcome, IngestOutcome::kAccepted);
  EXPECT_FALSE(hb.ack);
  EXPECT_EQ(ingest_.handle("homesafe-up/h001/status", "offline").outcome, IngestOutcome::kAccepted);
  auto hub =
      store_.db().query_one("SELECT last_heartbeat_at, status FROM hubs WHERE hub_id = 'h001'");
  EXPECT_EQ(hub->integer(0), kT0);
  EXPECT_EQ(hub->text(1), "offline");
  EXPECT_EQ(send("h001", heartbeat("h001", "h002"), "heartbeat").reason,
            "household is not the hub's");
}

TEST_F(IngestTest, ASilentHubRaisesATownshipAlertThatClearsWhenItSpeaks) {
  const std::int64_t allowance = 20 * 60'000;
  for (const char* hub : {"h001", "h002", "h003", "h004"}) send(hub, heartbeat(hub), "heartbeat");
  clock_.advance_ms(allowance);
  EXPECT_TRUE(ingest_.check_silence().empty());  // exactly at the allowance: not yet
  clock_.advance_ms(60'000);
  send("h002", heartbeat("h002"), "heartbeat");  // h002 keeps talking
  send("h003", event("h003", 1, "device_health", device_health_body(), 2),
       "event");  // so does h003
  clock_.advance_ms(1);
  auto silent = ingest_.check_silence();
  EXPECT_EQ(silent, (std::vector<std::string>{"h001", "h004"}));
  EXPECT_TRUE(ingest_.check_silence().empty());  // raised once
  auto alert = store_.db().query_one(
      "SELECT alert_id, state, source, household_id FROM alerts WHERE kind = 'hub_silent' AND "
      "household_id = 'h001'");
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->text(1), "open");
  EXPECT_EQ(alert->text(2), "township");

  clock_.advance_ms(5 * 60'000);
  send("h001", heartbeat("h001"), "heartbeat");
  EXPECT_EQ(
      store_.db()
          .query_one("SELECT state, resolved_by FROM alerts WHERE alert_id = ?", {alert->text(0)})
          ->text(0),
      "resolved");
  EXPECT_EQ(count("SELECT COUNT(*) FROM alerts WHERE kind = 'hub_silent' AND state <> 'resolved'"),
            1);

  // Silent again later: a new alert.
  clock_.advance_ms(allowance + 1);
  ingest_.check_silence();
  EXPECT_EQ(
      count("SELECT COUNT(*) FROM alerts WHERE kind = 'hub_silent' AND household_id = 'h001'"), 2);
}

TEST_F(IngestTest, AHubNeverHeardOfCountsFromTheServiceStart) {
  clock_.advance_ms(20 * 60'000 + 1);
  EXPECT_EQ(ingest_.check_silence().size(), 4u);
}

TEST_F(IngestTest, SilenceAllowanceIsConfigurable) {
  IngestOptions quick_options;
  quick_options.silence_allowance_ms = 60'000;
  Ingest quick(store_, clock_, quick_options);
  clock_.advance_ms(60'001);
  EXPECT_EQ(quick.check_silence().size(), 4u);
}

}  // namespace
}  // namespace homesafe::township
