// County scale end to end (docs/deployment.md, "County"): a real Mosquitto, a private
// PostgreSQL, two `homesafe-township --role ingest` workers on one MQTT share group with alarm
// watchers and one `--role api` process. Every event stored once and acked; an alarm reaches the
// API process's live feed (LISTEN/NOTIFY); a worker killed with kill -9 while it holds alarms in
// an open transaction does not delay them: the other worker's alarm watcher stores them.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "homesafe/township/db.hpp"
#include "support/http_client.hpp"
#include "support/mosquitto.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/publisher.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/ws_client.hpp"
#include "township_test_support.hpp"

namespace homesafe::township {
namespace {

using namespace std::chrono_literals;
using namespace test;
using homesafe::test::Mosquitto;
using homesafe::test::Postgres;
using homesafe::test::Process;
using homesafe::test::Publisher;
using homesafe::test::Subscriber;

class WorkersE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Postgres::available()) GTEST_SKIP() << "PostgreSQL 15 binaries not installed";
    pg_ = std::make_unique<Postgres>();
    open_postgresql(pg_->url("postgres"))->exec_script("CREATE DATABASE homesafe");
    db_ = open_postgresql(pg_->url("homesafe"));
    http_port_ = homesafe::test::free_tcp_port();
    client_id_ = homesafe::test::unique_client_id("county");
    watch_config_ = write_config("workers.yaml", "share_group: county-ingest, alarm_watch: true");
    plain_config_ = write_config("plain.yaml", "share_group: county-ingest");
    homesafe::test::write_file(dir_ / "households.csv", registry_csv());
    run_cli({HOMESAFE_TOWNSHIP_BIN, "import-households", "--config", watch_config_.string(),
             (dir_ / "households.csv").string()});
    run_cli({"/bin/sh", "-c",
             "printf '%s\\n' 'op_east password' | \"" HOMESAFE_TOWNSHIP_BIN
             "\" add-user --config \"" +
                 watch_config_.string() +
                 "\" --username op_east --role township_operator --scope 东乡"});
    hub_ = std::make_unique<Subscriber>(broker_.url(), "homesafe-down/#");
    publisher_ =
        std::make_unique<Publisher>(broker_.url(), homesafe::test::unique_client_id("hub"));
  }

  std::filesystem::path write_config(const std::string& name, const std::string& broker_extra) {
    const auto path = dir_ / name;
    homesafe::test::write_file(
        path, "storage: {url: \"" + pg_->url("homesafe") + "\"}\n" + "broker: {url: \"" +
                  broker_.url() + "\", client_id: " + client_id_ + ", " + broker_extra + "}\n" +
                  "http: {address: 127.0.0.1, port: " + std::to_string(http_port_) + "}\n" +
                  "ingest: {batch_max: 50, batch_wait_ms: 5}\n");
    return path;
  }

  void run_cli(std::vector<std::string> argv) {
    Process cli(std::move(argv));
    ASSERT_EQ(cli.wait_for_exit(60s), std::optional<int>(0)) << cli.describe();
  }

  std::unique_ptr<Process> start(const std::string& role, const std::string& instance,
                                 const std::filesystem::path& config,
                                 std::map<std::string, std::string> env = {}) {
    homesafe::test::ProcessOptions options;
    options.env = std::move(env);
    auto p = std::make_unique<Process>(
        std::vector<std::string>{HOMESAFE_TOWNSHIP_BIN, "--config", config.string(), "--role", role,
                                 "--instance", instance},
        options);
    const bool ready = homesafe::test::wait_until(
        [&] { return p->read_stderr().find("homesafe-township ready") != std::string::npos; }, 30s);
    EXPECT_TRUE(ready) << p->describe();
    return p;
  }

  std::int64_t count(const std::string& sql, const std::vector<Value>& params = {}) {
    return db_->query(sql, params).front().integer(0);
  }

  void publish_event(const json& e) {
    publisher_->publish("homesafe-up/" + e["hub"].get<std::string>() + "/event", e.dump(), 1);
  }

  // Event ids acked on homesafe-down/*/ack so far (each counted once).
  std::set<std::string> acked() {
    std::set<std::string> ids;
    for (const auto& m : hub_->messages()) {
      if (!m.topic.ends_with("/ack")) continue;
      const json ack = json::parse(m.payload);
      for (const auto& id : ack["acked"]) ids.insert(id.get<std::string>());
    }
    return ids;
  }

  std::string login(const std::string& user) {
    auto r = homesafe::test::http_call(
        http_port_, "POST", "/api/login", "",
        json{{"username", user}, {"password", user + " password"}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.set_cookie.substr(0, r.set_cookie.find(';'));
  }

  homesafe::test::TempDir dir_{"township-workers-e2e"};
  Mosquitto broker_;
  std::unique_ptr<Postgres> pg_;
  std::unique_ptr<DbBackend> db_;
  int http_port_ = 0;
  std::string client_id_;
  std::filesystem::path watch_config_;
  std::filesystem::path plain_config_;
  std::unique_ptr<Subscriber> hub_;
  std::unique_ptr<Publisher> publisher_;
};

TEST_F(WorkersE2E, TwoSharedWorkersStoreEveryEventOnceAndTheApiProcessSeesAlarms) {
  auto w1 = start("ingest", "w1", watch_config_);
  auto w2 = start("ingest", "w2", watch_config_);
  auto api = start("api", "a1", watch_config_);
  // Each process's connections carry its name (an operator or a test can find them).
  EXPECT_GE(count("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?",
                  {std::string("homesafe-township/ingest/w1")}),
            1);
  EXPECT_GE(count("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?",
                  {std::string("homesafe-township/api/a1")}),
            1);

  // 4 hubs × 10 events that are not alarms: the share group gives each to one worker.
  std::set<std::string> sent;
  for (int seq = 1; seq <= 10; ++seq) {
    for (const std::string hub : {"h001", "h002", "h003", "h004"}) {
      const json e = seq % 2 ? event(hub, seq, "device_health", device_health_body(), 2)
                             : event(hub, seq, "notification", notification_body(hub + "-a"), 1);
      sent.insert(e["event_id"].get<std::string>());
      publish_event(e);
    }
  }
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] {
        const auto ids = acked();
        return std::includes(ids.begin(), ids.end(), sent.begin(), sent.end());
      },
      30s))
      << "events stored: " << count("SELECT COUNT(*) FROM events") << ", acked " << acked().size()
      << " of " << hub_->size() << " messages to hubs (connected " << hub_->connected() << ")\n"
      << w1->describe() << w2->describe();
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 40);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT event_id) FROM events"), 40);
  // Shared, not duplicated: the two workers' rows add up to 40 stored, none twice; both worked.
  EXPECT_EQ(count("SELECT SUM(stored) FROM ingest_stats WHERE instance IN ('w1', 'w2')"), 40);
  EXPECT_EQ(count("SELECT SUM(duplicates) FROM ingest_stats WHERE instance IN ('w1', 'w2')"), 0);
  EXPECT_GT(count("SELECT COALESCE(SUM(stored), 0) FROM ingest_stats WHERE instance = 'w1'"), 0);
  EXPECT_GT(count("SELECT COALESCE(SUM(stored), 0) FROM ingest_stats WHERE instance = 'w2'"), 0);
  // The alarm watchers stored none of them (not alarms).
  EXPECT_EQ(count("SELECT COALESCE(SUM(stored + duplicates), 0) FROM ingest_stats WHERE "
                  "instance LIKE '%/alarm'"),
            0);

  // An alarm: the operator's console, connected to the API process, hears of it.
  homesafe::test::WsClient east(http_port_, "/api/live", login("op_east"));
  ASSERT_TRUE(east.connected()) << east.status();
  const json alarm = event("h001", 11, "alert", alert_body("h001-000001", "open", kT0), 0);
  publish_event(alarm);
  const std::string frame = east.wait_for([](const std::string& f) {
    const json j = json::parse(f);
    return j["type"] == "alert" && j["alert"]["alert_id"] == "h001-000001";
  });
  EXPECT_FALSE(frame.empty()) << api->describe();
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] { return count("SELECT COALESCE(SUM(stored + duplicates), 0) FROM ingest_stats") == 43; },
      20s));
  // Stored once; seen three times (the shared subscription and both watchers).
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE event_id = 'h001/3f9c2a7d/11'"), 1);
  EXPECT_EQ(count("SELECT SUM(stored) FROM ingest_stats"), 41);
  EXPECT_EQ(count("SELECT SUM(duplicates) FROM ingest_stats"), 2);
  EXPECT_EQ(count("SELECT SUM(stored + duplicates) FROM ingest_stats WHERE instance = 'w1/alarm'"),
            1);
  EXPECT_EQ(count("SELECT SUM(stored + duplicates) FROM ingest_stats WHERE instance = 'w2/alarm'"),
            1);

  for (auto* p : {w1.get(), w2.get(), api.get()}) {
    EXPECT_EQ(p->stop(), std::optional<int>(0)) << p->describe();
    EXPECT_NE(p->read_stderr().find("stopped: stored"), std::string::npos);
  }
}

TEST_F(WorkersE2E, AWorkerKilledWhileHoldingAlarmsDoesNotDelayThem) {
  // w1 takes its share of the alarms and then hangs before COMMIT (the tests' fault hook, a
  // minute), holding the hubs' rows; it watches no alarms. w2 watches alarms. Once w1 is killed
  // its transaction is rolled back and w2's watcher stores what w1 had taken from the broker
  // (without the watcher those would wait for the hubs to send them again).
  auto w1 =
      start("ingest", "w1", plain_config_, {{"HOMESAFE_TOWNSHIP_FAULT_HOLD_COMMIT_MS", "60000"}});
  EXPECT_NE(w1->read_stderr().find("FAULT HOOK"), std::string::npos);
  auto w2 = start("ingest", "w2", watch_config_);
  std::set<std::string> sent;
  for (const std::string hub : {"h001", "h002", "h003", "h004"}) {
    const json e = event(hub, 1, "alert", alert_body(hub + "-000001", "open", kT0), 0);
    sent.insert(e["event_id"].get<std::string>());
    publish_event(e);
  }
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] {
        return count(
                   "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = "
                   "'homesafe-township/ingest/w1' AND state = 'idle in transaction'") > 0;
      },
      20s))
      << "w1 got no alarm to hold: " << w1->describe();
  w1->kill(SIGKILL);
  w1->wait_for_exit(10s);
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] {
        const auto ids = acked();
        return std::includes(ids.begin(), ids.end(), sent.begin(), sent.end());
      },
      20s))
      << w2->describe();
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 4);
  EXPECT_EQ(count("SELECT COUNT(*) FROM alerts WHERE state = 'open'"), 4);
  EXPECT_EQ(count("SELECT COUNT(*) FROM ingest_stats WHERE instance = 'w1'"), 0);  // rolled back
  EXPECT_GT(count("SELECT COALESCE(SUM(stored), 0) FROM ingest_stats WHERE instance = 'w2/alarm'"),
            0);
  // Later alarms, with w1 gone: stored and acked as before.
  const json later = event("h002", 2, "alert", alert_body("h002-000002", "open", kT0), 0);
  publish_event(later);
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] { return acked().contains(later["event_id"].get<std::string>()); }, 20s));
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 5);
  EXPECT_EQ(w2->stop(), std::optional<int>(0)) << w2->describe();
}

TEST(WorkersCli, WorkerRolesRefuseSqlite) {
  homesafe::test::TempDir dir("township-workers-cli");
  const auto path = dir / "sqlite.yaml";
  homesafe::test::write_file(path, "storage: {path: t.db}\n");
  for (const std::string role : {"ingest", "api"}) {
    Process p({HOMESAFE_TOWNSHIP_BIN, "--config", path.string(), "--role", role});
    EXPECT_EQ(p.wait_for_exit(20s), std::optional<int>(2)) << p.describe();
    EXPECT_NE(p.read_stderr().find("needs PostgreSQL"), std::string::npos) << p.describe();
  }
  Process bad({HOMESAFE_TOWNSHIP_BIN, "--config", path.string(), "--role", "worker"});
  EXPECT_EQ(bad.wait_for_exit(20s), std::optional<int>(2)) << bad.describe();
}

}  // namespace
}  // namespace homesafe::township
