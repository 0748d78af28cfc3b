// Batched, idempotent ingest for many workers (issue #10): one transaction per batch, acks after
// the commit, "latest state" tables that absorb out-of-order events, event timestamps from wrong
// hub clocks, and (PostgreSQL) the monthly partitions of `events`. Runs on both backends.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>

#include "backend.hpp"
#include "homesafe/township/ingest.hpp"
#include "homesafe/township/registry.hpp"
#include "support/temp_dir.hpp"
#include "township_test_support.hpp"

namespace homesafe::township {
namespace {

using namespace test;

IngestMessage message(const std::string& hub, const json& payload,
                      const std::string& leaf = "event") {
  return {"homesafe-up/" + hub + "/" + leaf, payload.dump()};
}

class IngestBatchTest : public ::testing::Test {
 protected:
  IngestBatchTest() : store_(dir_ / "township.db"), clock_(kT0), ingest_(store_, clock_) {
    import_households(store_, registry_csv(), kT0);
  }

  std::int64_t count(const std::string& sql, const std::vector<Value>& params = {}) {
    return store_.db().query_one(sql, params)->integer(0);
  }

  homesafe::test::TempDir dir_{"township-batch"};
  Store store_;
  ManualClock clock_;
  Ingest ingest_;
};

TEST_F(IngestBatchTest, OneTransactionAndOneAckPerHub) {
  ingest_.handle("homesafe-up/h002/event",
                 event("h002", 9, "device_health", device_health_body()).dump());
  const auto batch = ingest_.handle_batch({
      message("h001", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0)),
      message("h002", event("h002", 9, "device_health", device_health_body())),  // duplicate
      message("h001", event("h001", 2, "notification", notification_body("h001-000001"))),
      {"homesafe-up/h001/event", "{not json"},
      message("h002", event("h002", 10, "device_health", device_health_body())),
      message("h001", heartbeat("h001"), "heartbeat"),
  });
  ASSERT_EQ(batch.results.size(), 6u);
  EXPECT_EQ(batch.results[0].outcome, IngestOutcome::kStored);
  EXPECT_EQ(batch.results[1].outcome, IngestOutcome::kDuplicate);
  EXPECT_EQ(batch.results[2].outcome, IngestOutcome::kStored);
  EXPECT_EQ(batch.results[3].outcome, IngestOutcome::kRejected);
  EXPECT_FALSE(batch.results[3].ack);
  EXPECT_EQ(batch.results[4].outcome, IngestOutcome::kStored);
  EXPECT_EQ(batch.results[5].outcome, IngestOutcome::kAccepted);
  EXPECT_FALSE(batch.results[5].ack);
  // One ack per hub, holding every stored or duplicate event of that hub.
  ASSERT_EQ(batch.acks.size(), 2u);
  EXPECT_EQ(batch.acks[0].topic, "homesafe-down/h001/ack");
  EXPECT_EQ(json::parse(batch.acks[0].payload),
            (json{{"v", 1}, {"acked", {"h001/3f9c2a7d/1", "h001/3f9c2a7d/2"}}}));
  EXPECT_EQ(batch.acks[1].topic, "homesafe-down/h002/ack");
  EXPECT_EQ(json::parse(batch.acks[1].payload),
            (json{{"v", 1}, {"acked", {"h002/3f9c2a7d/9", "h002/3f9c2a7d/10"}}}));
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 4);
  EXPECT_EQ(count("SELECT COUNT(*) FROM event_keys"), 4);
  EXPECT_EQ(count("SELECT COUNT(*) FROM notifications"), 1);
  EXPECT_EQ(ingest_.stored_total(), 4u);
  EXPECT_EQ(ingest_.duplicate_total(), 1u);
  EXPECT_EQ(ingest_.rejected_total(), 1u);
  EXPECT_EQ(ingest_.take_changes().alerts, (std::set<std::string>{"h001-000001"}));
}

TEST_F(IngestBatchTest, ARefusedMessageUndoesOnlyItsOwnPart) {
  ingest_.handle("homesafe-up/h001/event",
                 event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0).dump());
  const auto batch = ingest_.handle_batch({
      message("h002", event("h002", 1, "device_health", device_health_body())),
      // h002 touching h001's alert: refused after its events row was written.
      message("h002", event("h002", 2, "alert", alert_body("h001-000001", "resolved", kT0 + 1), 0)),
      message("h002", event("h002", 3, "device_health", device_health_body())),
  });
  EXPECT_EQ(batch.results[0].outcome, IngestOutcome::kStored);
  EXPECT_EQ(batch.results[1].outcome, IngestOutcome::kRejected);
  EXPECT_EQ(batch.results[1].reason, "alert belongs to another household");
  EXPECT_EQ(batch.results[2].outcome, IngestOutcome::kStored);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE hub_id = 'h002'"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM event_keys WHERE event_id = 'h002/3f9c2a7d/2'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM alerts WHERE state = 'open'"), 1);
  ASSERT_EQ(batch.acks.size(), 1u);
  EXPECT_EQ(json::parse(batch.acks[0].payload)["acked"].size(), 2u);
}

TEST_F(IngestBatchTest, LatestStateAbsorbsAnyOrder) {
  // Five versions of one alert, delivered in every kind of order over several batches: the
  // newest (updated_at, state, repeat) always ends up current, every version is in the history.
  std::vector<json> versions{
      event("h001", 1, "alert", alert_body("h001-000007", "open", kT0, 0), 0),
      event("h001", 2, "alert", alert_body("h001-000007", "open", kT0 + 60'000, 1), 0),
      event("h001", 3, "alert", alert_body("h001-000007", "acknowledged", kT0 + 90'000, 1), 0),
      event("h001", 4, "alert", alert_body("h001-000007", "resolved", kT0 + 90'000, 1), 0),
      event("h001", 5, "alert", alert_body("h001-000007", "resolved", kT0 + 95'000, 1), 0)};
  std::mt19937 random(7);
  for (int round = 0; round < 6; ++round) {
    homesafe::test::TempDir dir("township-order");
    Store store(dir / "t.db");
    import_households(store, registry_csv(), kT0);
    Ingest ingest(store, clock_);
    std::shuffle(versions.begin(), versions.end(), random);
    std::vector<IngestMessage> batch;
    for (const auto& v : versions) batch.push_back(message("h001", v));
    ingest.handle_batch({batch.begin(), batch.begin() + 2});
    ingest.handle_batch({batch.begin() + 2, batch.end()});
    auto alert = store.db().query_one(
        "SELECT state, updated_at, last_event_id FROM alerts WHERE alert_id = 'h001-000007'");
    ASSERT_TRUE(alert);
    EXPECT_EQ(alert->text(0), "resolved");
    EXPECT_EQ(alert->integer(1), kT0 + 95'000);
    EXPECT_EQ(alert->text(2), "h001/3f9c2a7d/5");
    EXPECT_EQ(store.db().query_one("SELECT COUNT(*) FROM alert_history")->integer(0), 5);
  }
}

TEST_F(IngestBatchTest, AnOlderDailySummaryStoredLaterDoesNotReplaceTheNewer) {
  json newer = daily_summary_body("2026-11-01");
  newer["activity_events"] = 40;
  json older = daily_summary_body("2026-11-01");
  older["activity_events"] = 12;
  ingest_.handle_batch({message("h001", event("h001", 8, "daily_summary", newer, 3))});
  ingest_.handle_batch({message("h001", event("h001", 6, "daily_summary", older, 3))});
  EXPECT_EQ(count("SELECT COUNT(*) FROM daily_summaries"), 1);
  EXPECT_EQ(store_.db().query_one("SELECT event_id FROM daily_summaries")->text(0),
            "h001/3f9c2a7d/8");
  const auto safety = store_.db().query_one("SELECT safety FROM visits")->text(0);
  EXPECT_NE(safety.find("活动：40次"), std::string::npos) << safety;
}

TEST_F(IngestBatchTest, LastSeenNeverMovesBack) {
  clock_.set_ms(kT0 + 600'000);
  ingest_.handle_batch({message("h001", heartbeat("h001"), "heartbeat")});
  // Another worker, its message taken earlier, commits later with an older time.
  ManualClock behind(kT0 + 300'000);
  Ingest other(store_, behind);
  other.handle_batch({message("h001", heartbeat("h001"), "heartbeat"),
                      message("h001", event("h001", 1, "device_health", device_health_body()))});
  EXPECT_EQ(count("SELECT last_seen_at FROM hubs WHERE hub_id = 'h001'"), kT0 + 600'000);
  EXPECT_EQ(count("SELECT last_heartbeat_at FROM hubs WHERE hub_id = 'h001'"), kT0 + 600'000);
}

TEST_F(IngestBatchTest, AWrongHubClockIsStoredAsNotSyncedAndBreaksNothing) {
  json future = event("h001", 1, "device_health", device_health_body());
  future["ts"] = 4'102'444'800'000;  // 2100-01-01
  json past = event("h001", 2, "device_health", device_health_body());
  past["ts"] = 1000;  // 1970: a hub that booted without a clock, claiming it was synced
  json fine = event("h001", 3, "device_health", device_health_body());
  const auto batch =
      ingest_.handle_batch({message("h001", future), message("h001", past), message("h001", fine)});
  for (const auto& r : batch.results) EXPECT_EQ(r.outcome, IngestOutcome::kStored) << r.reason;
  EXPECT_EQ(count("SELECT clock_synced FROM events WHERE seq = 1"), 0);
  EXPECT_EQ(count("SELECT clock_synced FROM events WHERE seq = 2"), 0);
  EXPECT_EQ(count("SELECT clock_synced FROM events WHERE seq = 3"), 1);
  EXPECT_EQ(count("SELECT ts FROM events WHERE seq = 1"), 4'102'444'800'000);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE received_at = ?", {kT0}), 3);
}

TEST_F(IngestBatchTest, ADuplicateArrivingMonthsLaterIsStillADuplicate) {
  const json e = event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0);
  EXPECT_EQ(ingest_.handle_batch({message("h001", e)}).results[0].outcome, IngestOutcome::kStored);
  clock_.advance_ms(70LL * 86'400'000);  // two partitions later on PostgreSQL
  EXPECT_EQ(ingest_.handle_batch({message("h001", e)}).results[0].outcome,
            IngestOutcome::kDuplicate);
  EXPECT_EQ(
      ingest_
          .handle_batch({message("h001", event("h001", 2, "device_health", device_health_body()))})
          .results[0]
          .outcome,
      IngestOutcome::kStored);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 2);
}

TEST_F(IngestBatchTest, PostgresqlPartitionsEventsByMonthOfReceipt) {
  if (!on_postgresql()) GTEST_SKIP() << "PostgreSQL only (SQLite has one events table)";
  // 2026-11-01T00:00Z is kT0 + 8 h; November, then December.
  ingest_.handle_batch({message("h001", event("h001", 1, "device_health", device_health_body()))});
  clock_.set_ms(kT0 + 31LL * 86'400'000);
  json wrong = event("h001", 2, "device_health", device_health_body());
  wrong["ts"] = 4'102'444'800'000;
  ingest_.handle_batch({message("h001", wrong)});
  auto where = [&](std::int64_t seq) {
    return store_.db()
        .query_one("SELECT tableoid::regclass::text FROM events WHERE seq = ?", {seq})
        ->text(0);
  };
  EXPECT_EQ(where(1), "events_202611");
  EXPECT_EQ(where(2), "events_202612");
  // This month's and next month's partitions exist, nothing for the hub's 2100.
  std::vector<std::string> parts;
  for (const auto& r : store_.db().query(
           "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
           "WHERE i.inhparent = 'events'::regclass AND c.relkind = 'r' ORDER BY 1")) {
    parts.push_back(r.text(0));
  }
  EXPECT_EQ(parts, (std::vector<std::string>{"events_202611", "events_202612", "events_202701"}));
}

TEST_F(IngestBatchTest, TwoWorkersOnOneDatabaseStoreEverythingOnce) {
  // Two Ingest instances with their own connections (two worker processes), fed overlapping
  // batches in opposite orders at the same time, as shared subscriptions and resends do.
  std::vector<IngestMessage> messages;
  for (int i = 1; i <= 60; ++i) {
    const std::string hub = i % 2 ? "h001" : "h002";
    messages.push_back(message(
        hub, event(hub, i, "alert",
                   alert_body(hub + "-000001", i < 50 ? "open" : "acknowledged", kT0 + i, i), 0)));
  }
  std::vector<IngestMessage> reversed(messages.rbegin(), messages.rend());
  Store second_store(dir_ / "township.db");
  Ingest second(second_store, clock_);
  auto run = [](Ingest& ingest, const std::vector<IngestMessage>& list) {
    try {
      for (std::size_t i = 0; i < list.size(); i += 7) {
        const auto end = std::min(i + 7, list.size());
        ingest.handle_batch({list.begin() + static_cast<std::ptrdiff_t>(i),
                             list.begin() + static_cast<std::ptrdiff_t>(end)});
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  };
  std::thread a([&] { run(ingest_, messages); });
  std::thread b([&] { run(second, reversed); });
  a.join();
  b.join();
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 60);
  EXPECT_EQ(ingest_.stored_total() + second.stored_total(), 60u);
  EXPECT_EQ(ingest_.duplicate_total() + second.duplicate_total(), 60u);
  EXPECT_EQ(count("SELECT repeat_count FROM alerts WHERE alert_id = 'h001-000001'"), 59);
  EXPECT_EQ(count("SELECT repeat_count FROM alerts WHERE alert_id = 'h002-000001'"), 60);
  EXPECT_EQ(count("SELECT COUNT(*) FROM alert_history"), 60);
}

}  // namespace
}  // namespace homesafe::township
