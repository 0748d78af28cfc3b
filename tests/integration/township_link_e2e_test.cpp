// The township link end to end, with every real part: the hub's Mosquitto and the real
// homesafe-gateway with its uplink; the township's Mosquitto with the accounts and ACL that
// `homesafe-township hub-credentials` writes; the real homesafe-township service and its HTTP API.
// An alarm on the hub reaches the duty desk, the duty desk's acknowledgement stops the hub's
// ladder, and nothing is lost or doubled when the township is down or the hub is killed.
#include <sqlite3.h>

#include <set>

#include "gateway_fixture.hpp"
#include "support/http_client.hpp"
#include "support/http_server.hpp"

namespace homesafe::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kTownshipPassword = "township-broker-secret-1";

constexpr const char* kHubConfig = R"(household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
broker: {url: "@URL@", keepalive: 5s}
storage: {path: "@DB@"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: kitchen-gas, kind: gas, location: 厨房}
  - {id: bedroom-sos, kind: call_button, location: 卧室}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
escalation:
  - match: {severity: emergency}
    steps:
      - {after: 0s, notify: [caregiver]}
      - {after: 4s, notify: [caregiver]}
      - {after: 8s, notify: [caregiver]}
      - {after: 12s, notify: [caregiver]}
      - {after: 16s, notify: [caregiver]}
    repeat: 30s
)";

constexpr const char* kRegistry =
    "household_id,resident_id,display_name,county,township,village,risk_class,hub_id,address,"
    "caregiver_id,caregiver_name,caregiver_phone,emergency_id,emergency_name,emergency_phone\n"
    "h001,r-0001,3组 王奶奶,南县,东乡,一村,高风险,h001,一村3组,li,李阿姨,+8613800000001,,,\n"
    "h002,r-0002,5组 张爷爷,南县,西乡,二村,一般,h002,二村5组,wang,王师傅,+8613800000003,,,\n";

// Rows of a one-column query on an SQLite file (opened read-only; the writer keeps running).
std::vector<std::string> sql_column(const std::filesystem::path& db, const std::string& query) {
  sqlite3* handle = nullptr;
  std::vector<std::string> out;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(handle);
    ADD_FAILURE() << "cannot open " << db;
    return out;
  }
  sqlite3_busy_timeout(handle, 5000);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(handle, query.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(handle) << " in " << query;
  } else {
    while (sqlite3_step(statement) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(statement, 0);
      out.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
    }
  }
  sqlite3_finalize(statement);
  sqlite3_close(handle);
  return out;
}

std::int64_t sql_int(const std::filesystem::path& db, const std::string& query) {
  const auto rows = sql_column(db, query);
  return rows.empty() || rows[0].empty() ? 0 : std::stoll(rows[0]);
}

class TownshipLinkE2E : public GatewayFixture {
 protected:
  std::string config_template() const override {
    return std::string(kHubConfig) +
           "uplink: {url: \"@TOWNSHIP@\", password_file: \"@SECRET@\", heartbeat: 5s, "
           "ack_timeout: 3s, drain_rate: " +
           std::to_string(drain_rate()) + ", inflight: 5}\n";
  }
  virtual int drain_rate() const { return 200; }

  void SetUp() override {
    township_config_ = dir_ / "township.yaml";
    township_db_ = dir_ / "township.db";
    http_port_ = free_tcp_port();
    write_township_config("tcp://127.0.0.1:1");  // the broker's port is not known yet
    write_file(dir_ / "households.csv", kRegistry);
    run({HOMESAFE_TOWNSHIP_BIN, "import-households", "--config", township_config_.string(),
         (dir_ / "households.csv").string()});
    run({"/bin/sh", "-c",
         "printf '%s\\n' 'op-east password' | \"" HOMESAFE_TOWNSHIP_BIN "\" add-user --config \"" +
             township_config_.string() +
             "\" --username op_east --role township_operator --scope 东乡"});
    const auto credentials = dir_ / "broker";
    run({HOMESAFE_TOWNSHIP_BIN, "hub-credentials", "--config", township_config_.string(), "--out",
         credentials.string()});
    township_broker_ = std::make_unique<Mosquitto>(
        MosquittoOptions{.extra_config = "password_file " + (credentials / "passwd").string() +
                                         "\nacl_file " + (credentials / "acl").string() + "\n"});
    write_township_config(township_broker_->url());

    // The installer copies the hub's password from hub-credentials.csv into the hub's secret.
    std::string secret;
    std::istringstream list(read_file(credentials / "hub-credentials.csv"));
    for (std::string line; std::getline(list, line);) {
      std::erase(line, '"');  // hub_id,household_id,password: ids and base64-like, no commas
      std::erase(line, '\r');
      if (line.rfind("h001,", 0) == 0) secret = line.substr(line.rfind(',') + 1);
    }
    ASSERT_FALSE(secret.empty()) << read_file(credentials / "hub-credentials.csv");
    write_file(dir_ / "uplink.secret", secret + "\n");

    GatewayFixture::SetUp();
    write_file(config_path_, replace_all(replace_all(read_file(config_path_), "@TOWNSHIP@",
                                                     township_broker_->url()),
                                         "@SECRET@", (dir_ / "uplink.secret").string()));
  }

  void write_township_config(const std::string& url) {
    write_file(township_config_,
               "storage: {path: \"" + township_db_.string() + "\"}\n" + "broker: {url: \"" + url +
                   "\", client_id: " + unique_client_id("township") +
                   ", username: township, password: " + kTownshipPassword + "}\n" +
                   "http: {address: 127.0.0.1, port: " + std::to_string(http_port_) + "}\n" +
                   township_extra());
  }
  virtual std::string township_extra() const { return ""; }

  void run(std::vector<std::string> argv) {
    Process process(std::move(argv));
    ASSERT_EQ(process.wait_for_exit(60s), std::optional<int>(0)) << process.describe();
  }

  std::unique_ptr<Process> start_township() {
    auto service = std::make_unique<Process>(
        std::vector<std::string>{HOMESAFE_TOWNSHIP_BIN, "--config", township_config_.string()});
    EXPECT_TRUE(wait_until(
        [&] { return service->read_stderr().find("homesafe-township ready") != std::string::npos; },
        30s))
        << service->describe();
    return service;
  }

  std::string login() {
    const auto r = http_call(http_port_, "POST", "/api/login", "",
                             R"({"username":"op_east","password":"op-east password"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.set_cookie.substr(0, r.set_cookie.find(';'));
  }

  // The township's alerts of household h001 (through the API, as the duty desk sees them).
  json township_alerts(const std::string& cookie, const std::string& state = "all") {
    const auto r = http_call(http_port_, "GET", "/api/alerts?state=" + state, cookie);
    EXPECT_EQ(r.status, 200) << r.body;
    auto all = json::parse(r.body, nullptr, false);
    json out = json::array();
    if (!all.is_array()) return out;
    for (const auto& alert : all) {
      if (alert.value("household", "") == "h001") out.push_back(alert);
    }
    return out;
  }

  // Every event id the hub has written since its store was made: HUB/EPOCH/1 .. HUB/EPOCH/N.
  std::set<std::string> hub_event_ids() {
    const auto epoch = sql_column(db_path_, "SELECT value FROM meta WHERE key = 'uplink_epoch'");
    const auto last = sql_int(db_path_, "SELECT value FROM meta WHERE key = 'seq/outbox'");
    std::set<std::string> ids;
    if (epoch.empty()) return ids;
    for (std::int64_t seq = 1; seq <= last; ++seq) {
      ids.insert("h001/" + epoch[0] + "/" + std::to_string(seq));
    }
    return ids;
  }

  std::int64_t hub_outbox_rows() { return sql_int(db_path_, "SELECT COUNT(*) FROM outbox"); }

  std::vector<std::string> township_event_ids() {
    return sql_column(township_db_, "SELECT event_id FROM events WHERE hub_id = 'h001'");
  }

  // Waits until the hub's outbox is empty, then checks that the township holds every event the
  // hub ever wrote exactly once.
  void expect_everything_arrived_once() {
    ASSERT_TRUE(wait_until([&] { return hub_outbox_rows() == 0; }, 90s))
        << hub_outbox_rows() << " events still in the hub's outbox";
    const auto expected = hub_event_ids();
    const auto stored = township_event_ids();
    const std::set<std::string> unique(stored.begin(), stored.end());
    EXPECT_EQ(stored.size(), unique.size()) << "an event is stored twice";
    EXPECT_EQ(unique, expected);
    EXPECT_GT(expected.size(), 10u);
  }

  // An alarm that opens, clears, is acknowledged and resolved on the hub: a new alert each time.
  void alarm_cycle(const std::string& device, const std::string& type) {
    sim_send(device, type, "alarm");
    ASSERT_TRUE(wait_until([&] {
      const auto alerts = stored_alerts();
      return std::any_of(alerts.begin(), alerts.end(), [&](const auto& a) {
        return a.device_id == device && a.state == gateway::AlertState::open;
      });
    }));
    sim_send(device, type, "clear");
    for (const auto& alert : stored_alerts()) {
      if (alert.device_id != device || alert.state == gateway::AlertState::resolved) continue;
      gateway_ack(alert.alert_id, "ack");
      gateway_ack(alert.alert_id, "resolve");
    }
  }

  void gateway_ack(const std::string& alert_id, const std::string& action) {
    Publisher publisher(broker_.url(), unique_client_id("app"));
    publisher.publish("homesafe/h001/ack",
                      json{{"alert_id", alert_id}, {"by", "li"}, {"action", action}}.dump(), 1);
  }

  std::unique_ptr<Mosquitto> township_broker_;
  std::filesystem::path township_config_;
  std::filesystem::path township_db_;
  int http_port_ = 0;
};

TEST_F(TownshipLinkE2E, AnAlarmOnTheHubReachesTheDutyDeskWhoseAckStopsTheHub) {
  auto township = start_township();
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online()) << gateway->describe();

  sim_send("kitchen-smoke", "smoke_detector", "alarm");
  ASSERT_TRUE(wait_alert("smoke", "open")) << gateway->describe();
  const std::string cookie = login();
  json alert;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto open = township_alerts(cookie, "open");
        if (open.empty()) return false;
        alert = open[0];
        return true;
      },
      20s))
      << gateway->describe() << township->describe();
  EXPECT_EQ(alert["kind"], "smoke");
  EXPECT_EQ(alert["severity"], "emergency");
  EXPECT_EQ(alert["village"], "一村");
  EXPECT_EQ(alert["location"], "厨房");

  // The duty desk acknowledges in the township service: the hub's alert is acknowledged and its
  // ladder (the caregiver again every 4 s) stops.
  const auto ack =
      http_call(http_port_, "POST", "/api/alerts/" + alert["alert_id"].get<std::string>() + "/ack",
                cookie, R"({"note":"已电话联系照料人"})");
  ASSERT_EQ(ack.status, 202) << ack.body;
  ASSERT_TRUE(wait_alert("smoke", "acknowledged")) << gateway->describe();
  const auto acknowledged_at = notification_ids().size();
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(notification_ids().size(), acknowledged_at) << "the ladder went on after the ack";

  // ... and the township learns it from the hub, with who and through which channel.
  ASSERT_TRUE(wait_until([&] { return !township_alerts(cookie, "acknowledged").empty(); }, 20s));
  const auto detail =
      http_call(http_port_, "GET", "/api/alerts/" + alert["alert_id"].get<std::string>(), cookie);
  ASSERT_EQ(detail.status, 200);
  EXPECT_NE(detail.body.find("township"), std::string::npos) << detail.body;
  EXPECT_NE(detail.body.find("已电话联系照料人"), std::string::npos) << detail.body;
  // The hub answered the command: applied.
  ASSERT_TRUE(wait_until([&] {
    return sql_column(township_db_, "SELECT result_ok FROM commands WHERE type = 'ack'") ==
           std::vector<std::string>{"1"};
  }));

  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
  EXPECT_EQ(township->stop(), std::optional<int>(0)) << township->describe();
}

TEST_F(TownshipLinkE2E, TownshipDownForAWhileEveryEventArrivesExactlyOnce) {
  auto township = start_township();
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online()) << gateway->describe();
  ASSERT_EQ(township->stop(), std::optional<int>(0)) << township->describe();

  // While the township is away: a day of the household's ordinary life from the simulator (13
  // devices, three of them this hub's; published at full speed), then alarms,
  // acknowledgements, resolutions, notifications, and a gas alarm that goes offline.
  TempDir life("household-life");
  sim({"household", "--out", life.path().string(), "--days", "1", "--seed", "5", "--publish",
       "--speed", "max", "--broker", broker_.url(), "--quiet"});
  for (int i = 0; i < 3; ++i) {
    alarm_cycle("kitchen-smoke", "smoke_detector");
    alarm_cycle("kitchen-gas", "gas_alarm");
  }
  sim_send("kitchen-gas", "gas_alarm", "offline");
  ASSERT_TRUE(wait_alert("device_offline", "open")) << gateway->describe();
  sim_send("kitchen-gas", "gas_alarm", "online");  // held 10 min before it counts as back
  std::this_thread::sleep_for(2s);
  EXPECT_GT(hub_outbox_rows(), 10) << "the outbox keeps what the township has not acknowledged";
  EXPECT_GT(sql_int(db_path_, "SELECT COUNT(*) FROM telemetry"), 100) << "the day was heard";

  township = start_township();
  expect_everything_arrived_once();
  // The township has the whole story: every alert the hub opened, in its final state, and the
  // device's health changes.
  const auto hub_alerts = stored_alerts();
  EXPECT_EQ(sql_int(township_db_, "SELECT COUNT(*) FROM alerts WHERE household_id = 'h001'"),
            static_cast<std::int64_t>(hub_alerts.size()));
  for (const auto& alert : hub_alerts) {
    EXPECT_EQ(sql_column(township_db_,
                         "SELECT state FROM alerts WHERE alert_id = '" + alert.alert_id + "'"),
              std::vector<std::string>{std::string(gateway::to_string(alert.state))})
        << alert.alert_id;
  }
  EXPECT_EQ(sql_column(township_db_,
                       "SELECT event FROM device_health WHERE household_id = 'h001' AND "
                       "device = 'kitchen-gas'"),
            std::vector<std::string>{"offline"});
  EXPECT_EQ(township->stop(), std::optional<int>(0)) << township->describe();
  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

class TownshipLinkSlowDrainE2E : public TownshipLinkE2E {
 protected:
  int drain_rate() const override { return 4; }
};

TEST_F(TownshipLinkSlowDrainE2E, HubKilledMidForwardLosesNothingAndDoublesNothing) {
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online()) << gateway->describe();
  for (int i = 0; i < 3; ++i) alarm_cycle("kitchen-smoke", "smoke_detector");
  const auto written = hub_event_ids().size();
  ASSERT_GT(written, 10u);

  // The township comes up; the hub forwards 4 events a second and is killed part way.
  auto township = start_township();
  ASSERT_TRUE(wait_until([&] { return township_event_ids().size() >= 4; }, 30s));
  gateway->kill(SIGKILL);
  gateway->wait_for_exit();
  EXPECT_LT(township_event_ids().size(), written) << "killed too late to test anything";

  gateway = start_gateway();
  expect_everything_arrived_once();
  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
  EXPECT_EQ(township->stop(), std::optional<int>(0)) << township->describe();
}

// The caregiver also has the `township` channel: the hub hands the notification to the township
// (ids only), which renders the text from its registry and posts it to a WeCom robot.
class TownshipLinkRelayE2E : public TownshipLinkE2E {
 protected:
  std::string config_template() const override {
    return replace_all(TownshipLinkE2E::config_template(),
                       "role: caregiver, channels: [{type: mqtt}]}",
                       "role: caregiver, channels: [{type: mqtt}, {type: township}]}");
  }
  std::string township_extra() const override {
    return "relay: {channels: [{type: wecom, url: \"" + robot_.url("/cgi-bin/webhook/send?key=k") +
           "\"}]}\n";
  }
  void SetUp() override {
    robot_.respond_with(200, R"({"errcode": 0, "errmsg": "ok"})");
    TownshipLinkE2E::SetUp();
  }

  HttpServer robot_;
};

TEST_F(TownshipLinkRelayE2E, AHubNotificationOnTheTownshipChannelReachesTheRobot) {
  auto township = start_township();
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online()) << gateway->describe();

  sim_send("kitchen-smoke", "smoke_detector", "alarm");
  ASSERT_TRUE(wait_alert("smoke", "open")) << gateway->describe();
  ASSERT_TRUE(robot_.wait_for_requests(1, 30s)) << gateway->describe() << township->describe();
  const json body = json::parse(robot_.requests().front().body);
  const std::string content = body["text"]["content"].get<std::string>();
  EXPECT_EQ(content.rfind("【平安守护】一村 3组 王奶奶 厨房烟雾报警（", 0), 0u) << content;
  EXPECT_NE(content.find("），请尽快查看。"), std::string::npos) << content;
  EXPECT_EQ(robot_.requests().front().header("Idempotency-Key").rfind("h001-", 0), 0u);

  // The hub counted it as sent once the relay row was committed ("handed to the township"), and
  // its outbox never carried the text or the phone number.
  ASSERT_TRUE(wait_until([&] {
    return sql_int(db_path_,
                   "SELECT COUNT(*) FROM notifications WHERE channel = 'township' AND state = "
                   "'sent'") >= 1;
  }));
  const auto relays = sql_column(township_db_, "SELECT body FROM events WHERE type = 'relay'");
  ASSERT_FALSE(relays.empty());
  for (const auto& relay : relays) {
    EXPECT_EQ(relay.find("王奶奶"), std::string::npos) << relay;
    EXPECT_EQ(relay.find("13800000001"), std::string::npos) << relay;
  }
  ASSERT_TRUE(wait_until([&] {
    return sql_int(township_db_, "SELECT COUNT(*) FROM relays WHERE state = 'sent'") >= 1;
  }));
  gateway_ack(stored_alerts().front().alert_id, "ack");
  ASSERT_TRUE(wait_alert("smoke", "acknowledged")) << gateway->describe();
  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
  EXPECT_EQ(township->stop(), std::optional<int>(0)) << township->describe();
}

}  // namespace
}  // namespace homesafe::test
