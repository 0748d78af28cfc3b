// What worker processes share through the database (docs/deployment.md): the per-instance
// ingest_stats row written in each batch's transaction, hub silence checked by two processes at
// once, and on PostgreSQL the change notices (NOTIFY on commit) and application_name. Runs on
// both backends.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "backend.hpp"
#include "homesafe/township/ingest.hpp"
#include "homesafe/township/registry.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "township_test_support.hpp"

namespace homesafe::township {
namespace {

using namespace test;
using namespace std::chrono_literals;

IngestMessage message(const std::string& hub, const json& payload,
                      const std::string& leaf = "event") {
  return {"homesafe-up/" + hub + "/" + leaf, payload.dump()};
}

IngestOptions worker_options(const std::string& instance) {
  IngestOptions o;
  o.stats_instance = instance;
  o.notify_origin = "ingest/" + instance + "/1";
  return o;
}

class WorkersStoreTest : public ::testing::Test {
 protected:
  WorkersStoreTest() : store_(dir_ / "township.db"), clock_(kT0) {
    import_households(store_, registry_csv(), kT0);
  }

  std::int64_t count(const std::string& sql, const std::vector<Value>& params = {}) {
    return store_.db().query_one(sql, params)->integer(0);
  }

  homesafe::test::TempDir dir_{"township-workers"};
  Store store_;
  ManualClock clock_;
};

TEST_F(WorkersStoreTest, IngestStatsAreCountedInTheBatchTransactionPerInstance) {
  Ingest w1(store_, clock_, worker_options("w1"));
  Store second_store(dir_ / "township.db");
  Ingest w2(second_store, clock_, worker_options("w2"));
  w1.handle_batch({
      message("h001", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0)),
      message("h002", event("h002", 1, "device_health", device_health_body())),
      {"homesafe-up/h001/event", "{not json"},
  });
  w2.handle_batch({
      message("h001", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0)),
      message("h001", event("h001", 2, "notification", notification_body("h001-000001"))),
  });
  // A batch of one refused by a conflict (no savepoint, rolled back) is still counted.
  w2.handle_batch(
      {message("h002", event("h002", 5, "alert_event",
                             alert_event_body("h001-000001", "acknowledged", kT0), 1))});
  EXPECT_EQ(count("SELECT stored FROM ingest_stats WHERE instance = 'w1'"), 2);
  EXPECT_EQ(count("SELECT duplicates FROM ingest_stats WHERE instance = 'w1'"), 0);
  EXPECT_EQ(count("SELECT rejected FROM ingest_stats WHERE instance = 'w1'"), 1);
  EXPECT_EQ(count("SELECT stored FROM ingest_stats WHERE instance = 'w2'"), 1);
  EXPECT_EQ(count("SELECT duplicates FROM ingest_stats WHERE instance = 'w2'"), 1);
  EXPECT_EQ(count("SELECT rejected FROM ingest_stats WHERE instance = 'w2'"), 1);
  EXPECT_EQ(count("SELECT SUM(stored) FROM ingest_stats"), count("SELECT COUNT(*) FROM events"));
  // Without an instance nothing is written.
  Ingest plain(store_, clock_);
  plain.handle_batch({message("h003", event("h003", 1, "device_health", device_health_body()))});
  EXPECT_EQ(count("SELECT COUNT(*) FROM ingest_stats"), 2);
}

TEST_F(WorkersStoreTest, PostgresqlABatchCutOffBeforeCommitCountsOnceWhenRunAgain) {
  if (!on_postgresql()) GTEST_SKIP() << "PostgreSQL only (pg_terminate_backend)";
  // The worker's connection is terminated while the batch waits before COMMIT (the tests' fault
  // hook): nothing of it was committed, counters included; the batch runs again on a new
  // connection and is counted once.
  StorageConfig config = StorageConfig::sqlite(dir_ / "township.db");
  config.application_name = "homesafe-township/ingest/cut";
  Store worker_store(config);
  IngestOptions options = worker_options("cut");
  options.hold_commit = 400ms;
  Ingest w(worker_store, clock_, options);
  std::thread killer([&] {
    const bool seen = homesafe::test::wait_until(
        [&] {
          return count(
                     "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = "
                     "'homesafe-township/ingest/cut' AND state = 'idle in transaction' AND "
                     "state_change < now() - interval '100 milliseconds'") > 0;
        },
        10s);
    EXPECT_TRUE(seen);
    count(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
        "application_name = 'homesafe-township/ingest/cut') t");
  });
  IngestBatchResult batch;
  try {
    batch = w.handle_batch({
        message("h001", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0)),
        message("h002", event("h002", 1, "device_health", device_health_body())),
    });
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the batch was not run again: " << e.what();
  }
  killer.join();
  EXPECT_EQ(batch.acks.size(), 2u);
  EXPECT_EQ(count("SELECT stored FROM ingest_stats WHERE instance = 'cut'"), 2);
  EXPECT_EQ(count("SELECT duplicates FROM ingest_stats WHERE instance = 'cut'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 2);
}

TEST_F(WorkersStoreTest, TwoProcessesCheckingSilenceRaiseOneAlert) {
  Ingest a(store_, clock_, worker_options("a"));
  Store second_store(dir_ / "township.db");
  Ingest b(second_store, clock_, worker_options("b"));
  a.handle("homesafe-up/h001/heartbeat", heartbeat("h001").dump());
  clock_.advance_ms(21 * 60'000);
  std::vector<std::string> silent_a, silent_b;
  std::thread ta([&] { silent_a = a.check_silence(); });
  std::thread tb([&] { silent_b = b.check_silence(); });
  ta.join();
  tb.join();
  // Every registered hub is silent (h001 since its heartbeat, the others since the start); each
  // was raised by exactly one of the two.
  EXPECT_EQ(silent_a.size() + silent_b.size(), 4u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM alerts WHERE kind = 'hub_silent'"), 4);
  EXPECT_EQ(count("SELECT COUNT(*) FROM handling_records WHERE event = 'opened'"), 4);
  EXPECT_TRUE(a.check_silence().empty());
  EXPECT_TRUE(b.check_silence().empty());
  // The hub speaks: the alert is resolved once, whichever worker stores it.
  b.handle("homesafe-up/h001/heartbeat", heartbeat("h001").dump());
  a.handle("homesafe-up/h001/heartbeat", heartbeat("h001").dump());
  EXPECT_EQ(count("SELECT COUNT(*) FROM handling_records WHERE event = 'condition_cleared'"), 1);
}

TEST_F(WorkersStoreTest, AHubThatSpokeWhileTheCheckRanIsNotRaised) {
  // Another process stores h001's heartbeat in a transaction that is still open when the silence
  // check reads its list of hubs (so the list shows h001 silent), and commits a moment later.
  // The check re-reads last_seen_at under the hub's row lock (waiting for that commit) and does
  // not raise h001; the other hubs are raised.
  Ingest a(store_, clock_, worker_options("a"));
  a.handle("homesafe-up/h001/heartbeat", heartbeat("h001").dump());
  clock_.advance_ms(21 * 60'000);
  Db other(dir_ / "township.db");
  other.begin();
  other.exec("UPDATE hubs SET last_seen_at = ? WHERE hub_id = 'h001'", {clock_.now_ms()});
  std::vector<std::string> raised;
  std::thread checker([&] { raised = a.check_silence(); });
  std::this_thread::sleep_for(300ms);
  other.commit();
  checker.join();
  EXPECT_EQ(raised, (std::vector<std::string>{"h002", "h003", "h004"}));
  EXPECT_EQ(count("SELECT COUNT(*) FROM alerts WHERE kind = 'hub_silent' AND hub_id = 'h001'"), 0);
}

TEST_F(WorkersStoreTest, PostgresqlNotifiesChangesOnCommitOnly) {
  if (!on_postgresql()) GTEST_SKIP() << "PostgreSQL only (LISTEN/NOTIFY)";
  auto listener =
      listen_postgresql(postgres_server()->url("homesafe"), "test-listener", kChangesChannel);
  IngestOptions options = worker_options("w1");
  options.hold_commit = 600ms;
  Ingest w1(store_, clock_, options);
  std::thread worker([&] {
    w1.handle_batch(
        {message("h001", event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0))});
  });
  // The batch holds its transaction open for 600 ms: nothing is delivered in the first 300.
  const auto early = listener->wait(300ms);
  worker.join();
  EXPECT_TRUE(early.empty());
  std::vector<std::string> payloads;
  for (int i = 0; i < 40 && payloads.empty(); ++i) payloads = listener->wait(100ms);
  ASSERT_EQ(payloads.size(), 1u);
  auto notice = parse_change_notice(payloads[0]);
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->origin, "ingest/w1/1");
  EXPECT_EQ(notice->changes.alerts, (std::set<std::string>{"h001-000001"}));
}

TEST_F(WorkersStoreTest, PostgresqlConnectionsCarryTheApplicationName) {
  if (!on_postgresql()) GTEST_SKIP() << "PostgreSQL only (pg_stat_activity)";
  StorageConfig config = StorageConfig::sqlite(dir_ / "township.db");  // mapped to a schema
  config.application_name = "homesafe-township/ingest/w7";
  Store named(config);
  EXPECT_EQ(named.db().query_one("SELECT current_setting('application_name')")->text(0),
            "homesafe-township/ingest/w7");
  EXPECT_GE(count("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?",
                  {std::string("homesafe-township/ingest/w7")}),
            1);
  // It overrides one given in the URL.
  auto db = open_postgresql(postgres_server()->url("homesafe") + "?application_name=other",
                            "homesafe-township/api/a1");
  EXPECT_EQ(db->query("SELECT current_setting('application_name')", {}).front().text(0),
            "homesafe-township/api/a1");
}

}  // namespace
}  // namespace homesafe::township
