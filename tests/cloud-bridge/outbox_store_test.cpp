// The outbox in the hub's store: written by the same call (and so the same transaction) that
// records a change, with the bodies of docs/uplink.md; the size cap; the v2 -> v3 migration.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "cloud_bridge_test_support.hpp"
#include "homesafe/gateway/hub.hpp"
#include "homesafe/gateway/time_zone_loader.hpp"

namespace homesafe::cloud_bridge::test {
namespace {

using gateway::AlertRecord;
using gateway::Durability;
using gateway::Store;
using nlohmann::json;

AlertRecord smoke_alert(const std::string& id = "h001-000001") {
  AlertRecord a;
  a.alert_id = id;
  a.kind = rules::AlertKind::smoke;
  a.severity = rules::Severity::emergency;
  a.device_id = "kitchen-smoke";
  a.location = "厨房";
  a.detail = "smoke";
  a.opened_at_ms = kStartWallMs;
  a.updated_at_ms = kStartWallMs;
  return a;
}

class OutboxStoreTest : public ::testing::Test {
 protected:
  OutboxStoreTest() { store_.enable_outbox({"h001", "h001"}, clock_); }
  gateway::ManualClock clock_{kStartWallMs, 1'000};
  Store store_{":memory:"};
};

TEST_F(OutboxStoreTest, EpochIsEightHexDigitsAndEventIdsCountUp) {
  const std::string epoch = store_.uplink_epoch();
  EXPECT_TRUE(std::regex_match(epoch, std::regex("[0-9a-f]{8}"))) << epoch;
  Store::Transaction tx(store_, Durability::full);
  const auto first = store_.add_outbox_event("command_result", 1, "{}", clock_.now());
  const auto second = store_.add_outbox_event("command_result", 1, "{}", clock_.now());
  tx.commit();
  EXPECT_EQ(first, "h001/" + epoch + "/1");
  EXPECT_EQ(second, "h001/" + epoch + "/2");
  // A deleted event's sequence number is never reused.
  Store::Transaction tx2(store_, Durability::full);
  EXPECT_TRUE(store_.delete_outbox_event(second));
  EXPECT_EQ(store_.add_outbox_event("command_result", 1, "{}", clock_.now()),
            "h001/" + epoch + "/3");
  tx2.commit();
}

TEST_F(OutboxStoreTest, AnotherStoreGetsAnotherEpoch) {
  Store other(":memory:");
  // 2^-32 chance of a false failure.
  EXPECT_NE(other.uplink_epoch(), store_.uplink_epoch());
}

TEST_F(OutboxStoreTest, AlertChangeAndItsHandlingRecordGoUpWithDocumentedBodies) {
  {
    Store::Transaction tx(store_, Durability::full);
    auto alert = smoke_alert();
    store_.save_alert(alert);
    store_.append_alert_event({alert.alert_id, kStartWallMs, "opened", "system", "", "smoke"});
    tx.commit();
  }
  auto rows = all_rows(store_);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].type, "alert");
  EXPECT_EQ(rows[0].priority, 0);  // an emergency: alarm class
  EXPECT_EQ(rows[0].ts_ms, kStartWallMs);
  EXPECT_TRUE(rows[0].clock_synced);
  EXPECT_EQ(rows[0].bytes, static_cast<std::int64_t>(rows[0].body.size()));
  const auto body = json::parse(rows[0].body);
  for (const char* key : {"alert_id", "kind", "severity", "state", "device", "location", "detail",
                          "opened_at", "updated_at", "acknowledged_at", "acknowledged_by",
                          "resolved_at", "resolved_by", "condition_active", "repeat_count"}) {
    EXPECT_TRUE(body.contains(key)) << key;
  }
  EXPECT_EQ(body["kind"], "smoke");
  EXPECT_EQ(body["state"], "open");
  EXPECT_TRUE(body["acknowledged_at"].is_null());
  EXPECT_EQ(body["opened_at"], kStartWallMs);
  EXPECT_EQ(rows[1].type, "alert_event");
  EXPECT_EQ(rows[1].priority, 0);  // a handling record of an emergency
  const auto event = json::parse(rows[1].body);
  EXPECT_EQ(event["event"], "opened");
  EXPECT_EQ(event["by"], "system");
  EXPECT_EQ(event["at"], kStartWallMs);
  EXPECT_TRUE(event.contains("channel"));
  EXPECT_TRUE(event.contains("note"));
}

TEST_F(OutboxStoreTest, RolledBackTransactionLeavesNoOutboxRow) {
  {
    Store::Transaction tx(store_, Durability::full);
    store_.save_alert(smoke_alert());
    EXPECT_EQ(all_rows(store_).size(), 1u);  // visible inside the transaction
    // destroyed without commit: rolled back
  }
  EXPECT_TRUE(all_rows(store_).empty());
  EXPECT_FALSE(store_.find_alert("h001-000001"));
  EXPECT_EQ(store_.outbox_stats().events, 0);
}

TEST_F(OutboxStoreTest, AbandonedJoinedTransactionRollsBackTheOuterOne) {
  Store::Transaction outer(store_, Durability::full);
  store_.save_alert(smoke_alert());
  {
    Store::Transaction inner(store_, Durability::full);
    store_.save_alert(smoke_alert("h001-000002"));
  }
  EXPECT_THROW(outer.commit(), gateway::StoreError);
  EXPECT_TRUE(all_rows(store_).empty());
  EXPECT_FALSE(store_.find_alert("h001-000001"));
}

TEST_F(OutboxStoreTest, JoinedTransactionCommitsWithTheOuterOne) {
  {
    Store::Transaction outer(store_, Durability::normal);
    {
      Store::Transaction inner(store_, Durability::full);
      store_.save_alert(smoke_alert());
      inner.commit();
    }
    store_.add_outbox_event("command_result", 1, "{}", clock_.now());
    outer.commit();
  }
  EXPECT_EQ(all_rows(store_).size(), 2u);
  // And the store is usable again for ordinary transactions.
  Store::Transaction tx(store_, Durability::full);
  store_.save_alert(smoke_alert("h001-000003"));
  tx.commit();
  EXPECT_EQ(all_rows(store_).size(), 3u);
}

TEST(OutboxDisabled, NoUplinkSectionMeansNoOutboxRows) {
  Store store(":memory:");
  Store::Transaction tx(store, Durability::full);
  store.save_alert(smoke_alert());
  store.append_alert_event({"h001-000001", kStartWallMs, "opened", "system", "", ""});
  tx.commit();
  EXPECT_EQ(store.outbox_stats().events, 0);
}

TEST_F(OutboxStoreTest, RepeatBookkeepingIsNotAStateChange) {
  Store::Transaction tx(store_, Durability::full);
  store_.save_alert(smoke_alert(), /*publish_pending=*/false);
  tx.commit();
  EXPECT_TRUE(all_rows(store_).empty());
}

TEST_F(OutboxStoreTest, NotificationOutcomesGoUp) {
  Store::Transaction tx(store_, Durability::full);
  store_.save_alert(smoke_alert());
  gateway::NotificationRow n;
  n.notification_id = "n1";
  n.alert_id = "h001-000001";
  n.contact_id = "li";
  n.role = "caregiver";
  n.channel = "sms";
  n.text = "李阿姨 王奶奶 +8613800000000";  // the message text never goes up
  n.created_at_ms = kStartWallMs;
  store_.add_notification(n);
  store_.record_delivery("n1", "sent", 1, "", kStartWallMs + 5);
  store_.mark_notifications_acknowledged("h001-000001", "li");
  tx.commit();
  auto rows = rows_of_type(store_, "notification");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].priority, 1);
  const auto sent = json::parse(rows[0].body);
  EXPECT_EQ(sent["notification_id"], "n1");
  EXPECT_EQ(sent["contact_id"], "li");
  EXPECT_EQ(sent["state"], "sent");
  EXPECT_EQ(sent["attempts"], 1);
  EXPECT_EQ(sent["at"], kStartWallMs + 5);
  EXPECT_TRUE(sent["error"].is_null());
  for (const char* key : {"alert_id", "role", "channel", "step", "repeat"}) {
    EXPECT_TRUE(sent.contains(key)) << key;
  }
  EXPECT_EQ(json::parse(rows[1].body)["state"], "acknowledged");
  for (const auto& row : all_rows(store_)) {
    EXPECT_EQ(row.body.find("王奶奶"), std::string::npos);
    EXPECT_EQ(row.body.find("13800000000"), std::string::npos);
  }
}

TEST_F(OutboxStoreTest, DeviceHealthFromHealthAlertsAndDeviceEvents) {
  Store::Transaction tx(store_, Durability::full);
  AlertRecord offline;
  offline.alert_id = "h001-000007";
  offline.kind = rules::AlertKind::device_offline;
  offline.severity = rules::Severity::info;
  offline.device_id = "hall-motion";
  offline.detail = "silent for 2h";
  store_.save_alert(offline);
  store_.append_alert_event({offline.alert_id, kStartWallMs, "opened", "system", "", ""});
  offline.state = gateway::AlertState::resolved;
  store_.save_alert(offline);
  store_.append_alert_event(
      {offline.alert_id, kStartWallMs + 10, "resolved", "system", "", "condition cleared"});
  store_.add_device_event({kStartWallMs + 20, "kitchen-smoke", "low_battery", "battery 5%"});
  store_.add_device_event({kStartWallMs + 30, "kitchen-smoke", "self_test", "smoke"});
  tx.commit();
  auto rows = rows_of_type(store_, "device_health");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(json::parse(rows[0].body)["event"], "offline");
  EXPECT_EQ(json::parse(rows[0].body)["device"], "hall-motion");
  EXPECT_EQ(json::parse(rows[1].body)["event"], "online");
  EXPECT_EQ(json::parse(rows[2].body)["event"], "low_battery");
  EXPECT_EQ(json::parse(rows[2].body)["at"], kStartWallMs + 20);
  for (const auto& row : rows) EXPECT_EQ(row.priority, 2);
}

TEST_F(OutboxStoreTest, CapDropsOldestSummariesThenHealthAndNeverAlarmsOrAlerts) {
  Store::Transaction tx(store_, Durability::full);
  // seq 1..8: p0, p3, p2, p1, p3, p2, p0, p3
  for (int p : {0, 3, 2, 1, 3, 2, 0, 3}) store_.add_outbox_event("x", p, "{}", clock_.now());
  EXPECT_EQ(store_.trim_outbox(6, 1'000'000), 2);  // the two oldest priority-3 events
  auto seqs = [&] {
    std::vector<std::int64_t> out;
    for (const auto& row : all_rows(store_)) out.push_back(row.seq);
    return out;
  };
  EXPECT_EQ(seqs(), (std::vector<std::int64_t>{1, 7, 4, 3, 6, 8}));
  EXPECT_EQ(store_.trim_outbox(3, 1'000'000), 3);  // seq 8 (p3), then 3 and 6 (p2)
  EXPECT_EQ(seqs(), (std::vector<std::int64_t>{1, 7, 4}));
  EXPECT_EQ(store_.trim_outbox(1, 1'000'000), 0);  // only alarms and alerts left: kept
  EXPECT_EQ(seqs(), (std::vector<std::int64_t>{1, 7, 4}));
  tx.commit();
  EXPECT_EQ(store_.outbox_stats().dropped, 5);
}

TEST_F(OutboxStoreTest, CapByBytes) {
  Store::Transaction tx(store_, Durability::full);
  const std::string big = "{\"pad\":\"" + std::string(1000, 'x') + "\"}";
  for (int i = 0; i < 5; ++i) store_.add_outbox_event("x", 3, big, clock_.now());
  store_.add_outbox_event("x", 1, big, clock_.now());
  EXPECT_EQ(store_.trim_outbox(1000, 3 * static_cast<std::int64_t>(big.size())), 3);
  tx.commit();
  const auto stats = store_.outbox_stats();
  EXPECT_EQ(stats.events, 3);
  EXPECT_EQ(stats.bytes, 3 * static_cast<std::int64_t>(big.size()));
  EXPECT_EQ(stats.oldest_ts_ms, kStartWallMs);
}

// The hub's own paths write the outbox: a smoke alarm through Hub::on_message.
TEST(OutboxThroughHub, SmokeAlarmWritesAlarmClassEventsInItsTransaction) {
  auto config = uplink_config();
  gateway::ManualClock clock(kStartWallMs, 1'000);
  Store store(":memory:");
  store.enable_outbox({config.uplink->hub_id, config.household.id}, clock);
  NullOutput output;
  gateway::Hub hub(config, store, output, rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600));
  hub.start(clock.now());
  hub.on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke": true})", clock.now());
  ASSERT_EQ(output.changes.size(), 1u);
  auto alerts = rows_of_type(store, "alert");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].priority, 0);
  EXPECT_EQ(json::parse(alerts[0].body)["alert_id"], output.changes[0].alert.alert_id);
  auto events = rows_of_type(store, "alert_event");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(json::parse(events[0].body)["event"], "opened");
  // The alarm went up before anything of lower priority.
  EXPECT_EQ(all_rows(store).front().priority, 0);
  // The caregiver acknowledges on the hub's ack topic: the state change and the handling record.
  hub.on_message("homesafe/h001/ack",
                 R"({"alert_id": ")" + output.changes[0].alert.alert_id + R"(", "by": "li"})",
                 clock.now());
  alerts = rows_of_type(store, "alert");
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(json::parse(alerts[1].body)["state"], "acknowledged");
  EXPECT_EQ(json::parse(alerts[1].body)["acknowledged_by"], "li");
  events = rows_of_type(store, "alert_event");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(json::parse(events[1].body)["channel"], "mqtt");
}

// A database written by an older gateway (schema 2: no outbox, no commands table, no epoch) is
// migrated, keeping its data.
TEST(OutboxMigration, FromVersion2) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("homesafe-migration-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    Store store(path.string(), 2);
    Store::Transaction tx(store, Durability::full);
    store.save_alert(smoke_alert());
    tx.commit();
  }
  {
    Store store(path.string());
    EXPECT_EQ(store.schema_version(), Store::kSchemaVersion);
    EXPECT_TRUE(store.find_alert("h001-000001"));
    EXPECT_TRUE(std::regex_match(store.uplink_epoch(), std::regex("[0-9a-f]{8}")));
    EXPECT_EQ(store.outbox_stats().events, 0);
    Store::Transaction tx(store, Durability::full);
    store.add_outbox_event("command_result", 1, "{}", {kStartWallMs, 0, true});
    store.record_command({"c-1", true, "", kStartWallMs});
    tx.commit();
    EXPECT_TRUE(store.find_command("c-1"));
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

}  // namespace
}  // namespace homesafe::cloud_bridge::test
