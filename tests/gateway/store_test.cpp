#include "homesafe/gateway/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

namespace homesafe::gateway {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("homesafe-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "hub.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  AlertRecord sample(const std::string& id) {
    AlertRecord a;
    a.alert_id = id;
    a.kind = rules::AlertKind::smoke;
    a.severity = rules::Severity::emergency;
    a.device_id = "kitchen-smoke";
    a.location = "厨房";
    a.opened_at_ms = 1000;
    a.updated_at_ms = 1000;
    return a;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StoreTest, CreatesSchemaInWalMode) {
  Store store(path_);
  EXPECT_EQ(store.schema_version(), Store::kSchemaVersion);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(StoreTest, AlertsAndHistorySurviveReopen) {
  {
    Store store(path_);
    Store::Transaction tx(store, Durability::full);
    store.save_alert(sample("h001-000001"));
    store.append_alert_event({"h001-000001", 1000, "opened", "system", "", ""});
    tx.commit();
  }
  Store store(path_);
  auto alert = store.find_alert("h001-000001");
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->location, "厨房");
  EXPECT_EQ(alert->state, AlertState::open);
  EXPECT_EQ(store.active_alerts().size(), 1u);
  ASSERT_EQ(store.alert_events("h001-000001").size(), 1u);
  EXPECT_EQ(store.alert_events("h001-000001")[0].event, "opened");
}

TEST_F(StoreTest, UncommittedTransactionIsRolledBack) {
  {
    Store store(path_);
    Store::Transaction tx(store, Durability::full);
    store.save_alert(sample("h001-000001"));
    // no commit
  }
  Store store(path_);
  EXPECT_FALSE(store.find_alert("h001-000001"));
}

TEST_F(StoreTest, SequencesArePersistent) {
  {
    Store store(path_);
    Store::Transaction tx(store, Durability::full);
    EXPECT_EQ(store.next_sequence("alert"), 1);
    EXPECT_EQ(store.next_sequence("alert"), 2);
    tx.commit();
  }
  Store store(path_);
  Store::Transaction tx(store, Durability::full);
  EXPECT_EQ(store.next_sequence("alert"), 3);
}

TEST_F(StoreTest, PublishPendingUntilMarkedForThatVersion) {
  Store store(path_);
  auto alert = sample("a1");
  store.save_alert(alert);
  ASSERT_EQ(store.unpublished_alerts().size(), 1u);
  alert.updated_at_ms = 2000;
  alert.state = AlertState::acknowledged;
  store.save_alert(alert);
  store.mark_published("a1", 1000);  // an older version's confirmation does not count
  EXPECT_EQ(store.unpublished_alerts().size(), 1u);
  store.mark_published("a1", 2000);
  EXPECT_TRUE(store.unpublished_alerts().empty());
}

TEST_F(StoreTest, RuleStatePutAndErase) {
  Store store(path_);
  store.put_rule_state("hazard/a/smoke", "1");
  store.put_rule_state("hazard/b/smoke", "0");
  store.put_rule_state("hazard/b/smoke", std::nullopt);
  const auto state = store.load_rule_state();
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0].first, "hazard/a/smoke");
}

TEST_F(StoreTest, RuleStateOverwritesInsertsAndSurvivesReopen) {
  {
    Store store(path_);
    Store::Transaction tx(store, Durability::normal);
    store.put_rule_state("device_silence/a/last", "100");
    store.put_rule_state("device_silence/a/last", "200");  // an existing key: updated
    store.put_rule_state("device_silence/b/last", "300");
    store.put_rule_state("device_silence/b/last", std::nullopt);
    store.put_rule_state("device_silence/b/last", "400");  // erased, then new again
    tx.commit();
    store.put_rule_state("clock/mono", "5");  // outside a transaction: its own
    store.put_rule_state("clock/mono", "6");
  }
  Store store(path_);
  EXPECT_EQ(store.load_rule_state(),
            (std::vector<std::pair<std::string, std::string>>{{"clock/mono", "6"},
                                                              {"device_silence/a/last", "200"},
                                                              {"device_silence/b/last", "400"}}));
}

// Between transactions the connection is at FULL, whatever the last transaction was: the next
// alarm's transaction must not pay for switching back (see Store::Transaction).
TEST_F(StoreTest, ANormalTransactionLeavesTheStoreAtFullWhenItEnds) {
  constexpr int kNormal = 1;
  constexpr int kFull = 2;
  Store store(path_);
  EXPECT_EQ(store.synchronous_level(), kFull);
  {
    Store::Transaction tx(store, Durability::normal);
    store.put_rule_state("a", "1");
    EXPECT_EQ(store.synchronous_level(), kNormal);
    tx.commit();
  }
  EXPECT_EQ(store.synchronous_level(), kFull);
  {
    Store::Transaction tx(store, Durability::normal);
    store.put_rule_state("a", "2");
    EXPECT_EQ(store.synchronous_level(), kNormal);
  }  // rolled back
  EXPECT_EQ(store.synchronous_level(), kFull);
  {
    Store::Transaction outer(store, Durability::normal);
    {
      Store::Transaction inner(store, Durability::full);  // joins: stays NORMAL
      EXPECT_EQ(store.synchronous_level(), kNormal);
      inner.commit();
    }
    EXPECT_EQ(store.synchronous_level(), kNormal);
    outer.commit();
  }
  EXPECT_EQ(store.synchronous_level(), kFull);
  EXPECT_EQ(store.load_rule_state(),
            (std::vector<std::pair<std::string, std::string>>{{"a", "1"}}));
}

TEST_F(StoreTest, TelemetryRowsAreStoredAsGivenAfterTheBatchIsGone) {
  Store store(path_);
  {
    std::vector<TelemetryRow> rows;
    rows.push_back({1000, "plug-1", "power", 12.5, {}});
    rows.push_back({1000, "plug-1", "state", std::nullopt, "on"});
    rows.push_back({2000, "厨房-meter", "water_total_l", 3.0, {}});
    Store::Transaction tx(store, Durability::normal);
    store.add_telemetry(rows);
    tx.commit();
  }  // the batch (and every string bound from it) is gone
  store.add_telemetry({});
  EXPECT_EQ(store.telemetry_count(), 3);
  const auto power = store.last_telemetry("plug-1", "power", 5000);
  ASSERT_TRUE(power);
  EXPECT_EQ(power->number, 12.5);
  const auto state = store.last_telemetry("plug-1", "state", 5000);
  ASSERT_TRUE(state);
  EXPECT_FALSE(state->number);
  EXPECT_EQ(state->text, "on");
  const auto water = store.telemetry_between(0, 5000, "water_total_l");
  ASSERT_EQ(water.size(), 1u);
  EXPECT_EQ(water[0].device_id, "厨房-meter");
}

// Transactions of both durabilities, in turns, with a rollback between: each commit is visible
// to another connection at once, the rolled-back one never.
TEST_F(StoreTest, TransactionsAlternatingDurabilityCommitAndRollBack) {
  Store store(path_);
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &reader), SQLITE_OK);
  auto count = [&] {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(reader, "SELECT count(*) FROM rule_state", -1, &st, nullptr);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    const int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
  };
  for (int i = 0; i < 6; ++i) {
    const auto durability = i % 2 == 0 ? Durability::normal : Durability::full;
    {
      Store::Transaction tx(store, durability);
      store.put_rule_state("k/" + std::to_string(i), "1");
      tx.commit();
    }
    EXPECT_EQ(count(), i + 1);
    {
      Store::Transaction tx(store, durability);
      store.put_rule_state("rolled/back", "1");
    }  // no commit
    EXPECT_EQ(count(), i + 1);
  }
  sqlite3_close(reader);
}

TEST_F(StoreTest, TelemetryRetentionByAgeAndCount) {
  Store store(path_);
  std::vector<TelemetryRow> rows;
  for (int i = 0; i < 100; ++i) rows.push_back({i * 1000, "meter", "water_total_l", i * 1.0, {}});
  store.add_telemetry(rows);
  EXPECT_EQ(store.telemetry_count(), 100);
  EXPECT_EQ(store.prune_telemetry(/*older_than_ms=*/10'000, /*max_rows=*/1000), 10);
  EXPECT_EQ(store.telemetry_count(), 90);
  EXPECT_EQ(store.prune_telemetry(0, 50), 40);
  EXPECT_EQ(store.telemetry_count(), 50);
}

// Runs `sql` on its own connection (foreign keys off, as SQLite opens by default).
int exec_raw(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return rc;
}

std::string table_sql(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", -1, &st,
                     nullptr);
  sqlite3_bind_text(st, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  std::string sql;
  if (sqlite3_step(st) == SQLITE_ROW)
    sql = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return sql;
}

TEST_F(StoreTest, RefusesANewerSchema) {
  { Store store(path_); }
  exec_raw(path_, "PRAGMA user_version=99");
  EXPECT_THROW(Store{path_}, StoreError);
}

// Version 4 rebuilds alerts, notifications and escalations (WITHOUT ROWID, state checks as
// comparisons): a store an older gateway left keeps every row, the rows that refer to them, and
// the checks.
TEST_F(StoreTest, MigrationToVersion4KeepsAlertsNotificationsAndWhatRefersToThem) {
  NotificationRow sent;
  sent.notification_id = "h001-000001-s0r0-li-sms";
  sent.alert_id = "h001-000001";
  sent.contact_id = "li";
  sent.role = "caregiver";
  sent.channel = "sms";
  sent.text = "【平安守护】厨房烟雾报警";
  sent.created_at_ms = 1000;
  {
    Store old(path_, 3);
    EXPECT_EQ(old.schema_version(), 3);
    EXPECT_NE(table_sql(path_, "alerts").find("IN ("), std::string::npos);
    Store::Transaction tx(old, Durability::full);
    auto acknowledged = sample("h001-000001");
    acknowledged.state = AlertState::acknowledged;
    acknowledged.acknowledged_at_ms = 1500;
    acknowledged.acknowledged_by = "li";
    old.save_alert(acknowledged);
    old.save_alert(sample("h001-000002"), false);
    old.append_alert_event({"h001-000001", 1000, "opened", "system", "", ""});
    old.save_escalation({"h001-000001", 1, 0, 1000, 50, "boot-a", 0, true});
    old.add_notification(sent);
    old.record_delivery(sent.notification_id, "sent", 1, "", 1100);
    tx.commit();
  }
  Store store(path_);
  EXPECT_EQ(store.schema_version(), 4);
  for (const char* table : {"alerts", "notifications", "escalations"}) {
    const auto sql = table_sql(path_, table);
    EXPECT_NE(sql.find("WITHOUT ROWID"), std::string::npos) << sql;
    EXPECT_EQ(sql.find(" IN ("), std::string::npos) << sql;
  }
  const auto alert = store.find_alert("h001-000001");
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->state, AlertState::acknowledged);
  EXPECT_EQ(alert->acknowledged_by, "li");
  EXPECT_EQ(alert->acknowledged_at_ms, 1500);
  EXPECT_EQ(alert->location, "厨房");
  ASSERT_EQ(store.active_alerts().size(), 2u);
  EXPECT_EQ(store.active_alerts()[1].alert_id, "h001-000002");
  ASSERT_EQ(store.unpublished_alerts().size(), 1u);  // publish_pending kept per row
  EXPECT_EQ(store.unpublished_alerts()[0].alert_id, "h001-000001");
  EXPECT_EQ(store.alert_events("h001-000001").size(), 1u);
  ASSERT_EQ(store.active_escalations().size(), 1u);
  EXPECT_EQ(store.active_escalations()[0].boot_id, "boot-a");
  const auto notifications = store.notifications("h001-000001");
  ASSERT_EQ(notifications.size(), 1u);
  EXPECT_EQ(notifications[0].state, "sent");
  EXPECT_EQ(notifications[0].text, sent.text);
  EXPECT_EQ(notifications[0].finished_at_ms, 1100);

  // The checks still hold, and foreign keys are on again for the store's own connection.
  EXPECT_EQ(exec_raw(path_, "UPDATE alerts SET state = 'gone' WHERE alert_id = 'h001-000001'"),
            SQLITE_CONSTRAINT);
  EXPECT_EQ(exec_raw(path_, "UPDATE notifications SET state = 'lost'"), SQLITE_CONSTRAINT);
  Store::Transaction tx(store, Durability::full);
  auto orphan = sent;
  orphan.notification_id = "h001-000009-s0r0-li-sms";
  orphan.alert_id = "h001-000009";
  EXPECT_THROW(store.add_notification(orphan), StoreError);
}

// A store whose rows already break a reference (written with foreign keys off) is not migrated
// half: the migration rolls back, says which table, and the store stays at its version.
TEST_F(StoreTest, AMigrationThatWouldBreakAReferenceChangesNothing) {
  { Store old(path_, 3); }
  ASSERT_EQ(exec_raw(path_,
                     "INSERT INTO alert_events (alert_id, ts_ms, event) "
                     "VALUES ('h001-000404', 1, 'opened')"),
            SQLITE_OK);
  try {
    Store store(path_);
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("alert_events"), std::string::npos) << e.what();
  }
  EXPECT_EQ(Store(path_, 3).schema_version(), 3);
  EXPECT_NE(table_sql(path_, "alerts").find("IN ("), std::string::npos);
  EXPECT_THROW(Store(path_, 5), StoreError);
}

TEST_F(StoreTest, UnopenablePathIsAClearError) {
  try {
    Store store((dir_ / "no-such-dir" / "x.db").string());
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open store"), std::string::npos);
  }
}

// The daemon's checkpoints run on a thread of their own (WalCheckpointer): commits that fill the
// WAL wake it instead of checkpointing themselves, the pages reach the database file, and once a
// checkpoint is complete the next commit writes the WAL from its start again.
TEST_F(StoreTest, BackgroundCheckpointsCopyTheWalOffTheWritersThread) {
  Store store(path_);
  store.checkpoint_in_background({/*start_frames=*/100, /*inline_frames=*/1'000'000});
  ASSERT_NE(store.checkpointer(), nullptr);
  const std::string value(3000, 'x');
  auto put = [&](const std::string& key, const std::string& v) {
    Store::Transaction tx(store, Durability::normal);
    store.put_rule_state(key, v);
    tx.commit();
  };
  const auto db_size_before = std::filesystem::file_size(path_);
  for (int i = 0; i < 150; ++i) put("k/" + std::to_string(i), value);
  EXPECT_GT(store.checkpointer()->wal_frames(), 150);

  // Small commits until one finds the WAL started over. Not a speed check: a generous deadline
  // for a thread that only has to get scheduled.
  bool restarted = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; !restarted && std::chrono::steady_clock::now() < deadline; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    put("tick", std::to_string(i));
    restarted = store.checkpointer()->wal_frames() < 20;
  }
  ASSERT_TRUE(restarted);
  EXPECT_GE(store.checkpointer()->completed_in_background(), 1u);
  EXPECT_EQ(store.checkpointer()->completed_inline(), 0u);
  EXPECT_GT(std::filesystem::file_size(path_), db_size_before + 150 * 3000);  // copied over
  EXPECT_EQ(store.load_rule_state().size(), 151u);
}

// A thread that falls behind does not let the WAL grow without bound: past inline_frames the
// writer checkpoints itself, as SQLite would.
// After a complete checkpoint the next commit starts the WAL over (and syncs its new header).
// The checkpointer says when; restart_wal() is that commit, so the next one (an alarm's) appends.
TEST_F(StoreTest, RestartWalStartsTheWalOverAfterACompleteCheckpoint) {
  Store store(path_);
  std::mutex mutex;
  std::condition_variable cv;
  int completed = 0;
  store.checkpoint_in_background({/*start_frames=*/50, /*inline_frames=*/1'000'000}, [&] {
    std::lock_guard lock(mutex);
    ++completed;
    cv.notify_all();
  });
  const std::string value(3000, 'x');
  {
    Store::Transaction tx(store, Durability::normal);
    for (int i = 0; i < 60; ++i) store.put_rule_state("k/" + std::to_string(i), value);
    tx.commit();
  }
  const int frames_before = store.checkpointer()->wal_frames();
  EXPECT_GT(frames_before, 50);
  {
    // Not a speed check: a generous deadline for a thread that only has to get scheduled.
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return completed > 0; }));
  }
  EXPECT_EQ(store.checkpointer()->wal_frames(), frames_before);  // nothing committed since
  store.restart_wal();
  const int restarted = store.checkpointer()->wal_frames();
  EXPECT_LE(restarted, 2);  // its page or two, at the WAL's start
  {
    Store::Transaction tx(store, Durability::full);
    store.save_alert(sample("h001-000001"));
    tx.commit();
  }
  EXPECT_GT(store.checkpointer()->wal_frames(), restarted + 2);  // appended behind it
  EXPECT_TRUE(store.find_alert("h001-000001"));
  EXPECT_EQ(store.load_rule_state().size(), 60u);
  EXPECT_EQ(store.get_meta("wal_restarts"), "1");

  // Inside a transaction it waits for a better moment.
  Store::Transaction tx(store, Durability::full);
  store.restart_wal();
  tx.commit();
}

TEST_F(StoreTest, TheWriterCheckpointsItselfPastTheInlineLimit) {
  Store store(path_);
  store.checkpoint_in_background({/*start_frames=*/1'000'000, /*inline_frames=*/50});
  const std::string value(3000, 'x');
  for (int i = 0; i < 120; ++i) {
    Store::Transaction tx(store, Durability::normal);
    store.put_rule_state("k/" + std::to_string(i), value);
    tx.commit();
  }
  EXPECT_GE(store.checkpointer()->completed_inline(), 1u);
  EXPECT_EQ(store.checkpointer()->completed_in_background(), 0u);
  EXPECT_EQ(store.load_rule_state().size(), 120u);
}

TEST_F(StoreTest, AnInMemoryStoreHasNoCheckpointer) {
  Store store(":memory:");
  store.checkpoint_in_background();
  EXPECT_EQ(store.checkpointer(), nullptr);
}

}  // namespace
}  // namespace homesafe::gateway
