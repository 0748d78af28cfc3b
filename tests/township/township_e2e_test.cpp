// End to end: a real Mosquitto as the township broker, the real homesafe-township binary, a
// test-side hub that publishes what docs/uplink.md says a hub publishes, and an HTTP client on a
// real socket.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "homesafe/gateway/notify/link.hpp"
#include "homesafe/township/csv.hpp"
#include "homesafe/township/db.hpp"
#include "support/http_client.hpp"
#include "support/http_server.hpp"
#include "support/mosquitto.hpp"
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
using homesafe::test::Process;
using homesafe::test::Publisher;
using homesafe::test::Subscriber;

using homesafe::test::http_call;

class TownshipE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    http_port_ = homesafe::test::free_tcp_port();
    config_ = dir_ / "township.yaml";
    homesafe::test::write_file(config_, "storage: {path: " + (dir_ / "township.db").string() +
                                            "}\n"
                                            "broker: {url: \"" +
                                            broker_.url() + "\", client_id: " +
                                            homesafe::test::unique_client_id("township") +
                                            "}\n"
                                            "http: {address: 127.0.0.1, port: " +
                                            std::to_string(http_port_) + "}\n" + extra_config());
    homesafe::test::write_file(dir_ / "households.csv", registry_csv());
    run_cli({HOMESAFE_TOWNSHIP_BIN, "import-households", "--config", config_.string(),
             (dir_ / "households.csv").string()});
    add_user("op_east", "township_operator", "东乡");
    add_user("op_west", "township_operator", "西乡");
    add_user("county", "county_staff", "南县");
    add_user("cg_li", "caregiver", "li");
    hub_ = std::make_unique<Subscriber>(broker_.url(), "homesafe-down/#");
    publisher_ =
        std::make_unique<Publisher>(broker_.url(), homesafe::test::unique_client_id("hub"));
  }

  virtual std::string extra_config() const { return ""; }

  void run_cli(std::vector<std::string> argv) {
    Process cli(std::move(argv));
    ASSERT_EQ(cli.wait_for_exit(60s), std::optional<int>(0)) << cli.describe();
  }

  void add_user(const std::string& name, const std::string& role, const std::string& scope) {
    run_cli({"/bin/sh", "-c",
             "printf '%s\\n' \"" + name +
                 " password\" | \"" HOMESAFE_TOWNSHIP_BIN "\" add-user --config \"" +
                 config_.string() + "\" --username " + name + " --role " + role + " --scope " +
                 scope});
  }

  std::unique_ptr<Process> start_service() {
    auto service = std::make_unique<Process>(
        std::vector<std::string>{HOMESAFE_TOWNSHIP_BIN, "--config", config_.string()});
    const bool ready = homesafe::test::wait_until(
        [&] { return service->read_stderr().find("homesafe-township ready") != std::string::npos; },
        20s);
    EXPECT_TRUE(ready) << service->describe();
    return service;
  }

  std::string login(const std::string& user) {
    auto r = http_call(http_port_, "POST", "/api/login", "",
                       json{{"username", user}, {"password", user + " password"}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.set_cookie.substr(0, r.set_cookie.find(';'));
  }

  void publish_event(const json& e) {
    publisher_->publish("homesafe-up/" + e["hub"].get<std::string>() + "/event", e.dump(), 1);
  }

  // Number of acks seen on homesafe-down/HUB/ack naming `event_id`.
  std::size_t acks_for(const std::string& hub, const std::string& event_id) {
    std::size_t n = 0;
    for (const auto& m : hub_->messages()) {
      if (m.topic != "homesafe-down/" + hub + "/ack") continue;
      const json ack = json::parse(m.payload);
      for (const auto& id : ack["acked"]) n += id == event_id;
    }
    return n;
  }

  bool wait_acks(const std::string& hub, const std::string& event_id, std::size_t count) {
    return hub_->wait_for([&](const Subscriber::Messages& messages) {
      std::size_t n = 0;
      for (const auto& m : messages) {
        if (m.topic != "homesafe-down/" + hub + "/ack") continue;
        const json ack = json::parse(m.payload);
        for (const auto& id : ack["acked"]) n += id == event_id;
      }
      return n >= count;
    });
  }

  std::int64_t count(const std::string& sql) {
    Db db(dir_ / "township.db");
    return db.query_one(sql)->integer(0);
  }

  Mosquitto broker_;
  homesafe::test::TempDir dir_{"township-e2e"};
  std::filesystem::path config_;
  int http_port_ = 0;
  std::unique_ptr<Subscriber> hub_;
  std::unique_ptr<Publisher> publisher_;
};

TEST_F(TownshipE2E, StoresEventsAndAcksThemAfterCommitOnceStoredTwiceAcked) {
  auto service = start_service();
  const json alarm = event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0);
  publish_event(alarm);
  ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/1", 1)) << service->describe();
  // The ack came after the commit: the row is there.
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE event_id = 'h001/3f9c2a7d/1'"), 1);

  publish_event(alarm);  // the hub did not see the ack and sends it again
  ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/1", 2)) << service->describe();
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM alert_history"), 1);

  // A malformed event is not acked and not stored; the next good one is.
  publisher_->publish("homesafe-up/h001/event", R"({"v":1,"event_id":"h001/3f9c2a7d/2"})", 1);
  // h002 publishing as h001 (topic of h002, payload of h001): rejected.
  publisher_->publish("homesafe-up/h002/event",
                      event("h001", 3, "alert", alert_body("h001-000002", "open", kT0)).dump(), 1);
  publish_event(event("h001", 4, "device_health", device_health_body(), 2));
  ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/4", 1)) << service->describe();
  EXPECT_EQ(acks_for("h001", "h001/3f9c2a7d/2"), 0u);
  EXPECT_EQ(acks_for("h001", "h001/3f9c2a7d/3") + acks_for("h002", "h001/3f9c2a7d/3"), 0u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 2);
  const std::string log = service->read_stderr();
  EXPECT_NE(log.find("missing key 'hub'"), std::string::npos) << log;
  EXPECT_NE(log.find("payload hub differs from topic hub"), std::string::npos) << log;
  EXPECT_EQ(log.find("王奶奶"), std::string::npos);  // no names in the log
  ASSERT_EQ(service->stop(), std::optional<int>(0)) << service->describe();
}

TEST_F(TownshipE2E, EventsSentWhileTheServiceIsDownArriveExactlyOnceAfterRestart) {
  auto service = start_service();
  publish_event(event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0));
  ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/1", 1));
  ASSERT_EQ(service->stop(), std::optional<int>(0)) << service->describe();

  // The hub keeps sending while the township is down: the broker holds them for the service's
  // persistent session; the hub would also resend all unacked ones.
  for (int seq = 2; seq <= 6; ++seq) {
    publish_event(event("h001", seq, "alert_event",
                        alert_event_body("h001-000001", "repeated", kT0 + seq), 1));
  }
  service = start_service();
  for (int seq = 2; seq <= 6; ++seq) {
    ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/" + std::to_string(seq), 1))
        << service->describe();
  }
  // The hub resends everything it has no ack for yet (here: all of them, as a worst case).
  for (int seq = 1; seq <= 6; ++seq) {
    publish_event(event("h001", seq, seq == 1 ? "alert" : "alert_event",
                        seq == 1 ? alert_body("h001-000001", "open", kT0)
                                 : alert_event_body("h001-000001", "repeated", kT0 + seq),
                        seq == 1 ? 0 : 1));
  }
  ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/6", 2)) << service->describe();
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 6);
  EXPECT_EQ(count("SELECT COUNT(*) FROM handling_records"), 5);
  ASSERT_EQ(service->stop(), std::optional<int>(0)) << service->describe();
}

TEST_F(TownshipE2E, ReconnectsWhenTheBrokerRestarts) {
  auto service = start_service();
  publish_event(event("h001", 1, "device_health", device_health_body(), 2));
  ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/1", 1));
  publisher_.reset();
  broker_.restart();
  publisher_ = std::make_unique<Publisher>(broker_.url(), homesafe::test::unique_client_id("hub"));
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] {
        const std::string log = service->read_stderr();
        return log.find("subscribed") != log.rfind("subscribed");  // a second connection
      },
      20s))
      << service->describe();
  publish_event(event("h001", 2, "device_health", device_health_body(), 2));
  ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/2", 1)) << service->describe();
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 2);
  ASSERT_EQ(service->stop(), std::optional<int>(0)) << service->describe();
}

TEST_F(TownshipE2E, AccessControlForEveryRoleOverARealSocket) {
  auto service = start_service();
  publish_event(event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0));
  publish_event(event("h003", 1, "alert", alert_body("h003-000001", "open", kT0), 0));
  ASSERT_TRUE(wait_acks("h003", "h003/3f9c2a7d/1", 1));

  // No session.
  EXPECT_EQ(http_call(http_port_, "GET", "/api/alerts?state=open").status, 401);
  EXPECT_EQ(http_call(http_port_, "GET", "/api/households/h001").status, 401);
  EXPECT_EQ(http_call(http_port_, "POST", "/api/login", "",
                      R"({"username":"op_east","password":"wrong"})")
                .status,
            401);

  const auto east = login("op_east");
  const auto west = login("op_west");
  const auto county = login("county");
  const auto li = login("cg_li");
  auto alert_ids = [&](const std::string& cookie) {
    auto r = http_call(http_port_, "GET", "/api/alerts?state=open", cookie);
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> out;
    for (const auto& a : json::parse(r.body)) out.insert(a["alert_id"].get<std::string>());
    return out;
  };
  EXPECT_EQ(alert_ids(east), (std::set<std::string>{"h001-000001"}));
  EXPECT_EQ(alert_ids(west), (std::set<std::string>{"h003-000001"}));
  EXPECT_EQ(alert_ids(county), (std::set<std::string>{"h001-000001", "h003-000001"}));
  EXPECT_EQ(alert_ids(li), (std::set<std::string>{"h001-000001", "h003-000001"}));

  auto h3_for_east = http_call(http_port_, "GET", "/api/households/h003", east);
  EXPECT_EQ(h3_for_east.status, 404);
  EXPECT_EQ(h3_for_east.body.find("赵奶奶"), std::string::npos);
  EXPECT_EQ(http_call(http_port_, "GET", "/api/households/h002", li).status, 404);
  auto h1 = http_call(http_port_, "GET", "/api/households/h001", li);
  EXPECT_EQ(h1.status, 200);
  EXPECT_EQ(json::parse(h1.body)["display_name"], "王奶奶");
  EXPECT_EQ(
      http_call(http_port_, "GET", "/api/households/h001%27%20OR%20%271%27=%271", east).status,
      400);
  EXPECT_EQ(http_call(http_port_, "POST", "/api/alerts/h003-000001/ack", east, "{}").status, 404);
  EXPECT_EQ(http_call(http_port_, "POST", "/api/alerts/h001-000001/ack", county, "{}").status, 403);

  // The operator acknowledges: a command goes down to the hub.
  auto ack =
      http_call(http_port_, "POST", "/api/alerts/h001-000001/ack", east, R"({"note":"已联系"})");
  ASSERT_EQ(ack.status, 202) << ack.body;
  ASSERT_TRUE(hub_->wait_for_topic("homesafe-down/h001/command"));
  for (const auto& m : hub_->messages()) {
    if (m.topic != "homesafe-down/h001/command") continue;
    const json command = json::parse(m.payload);
    EXPECT_EQ(command["type"], "ack");
    EXPECT_EQ(command["alert_id"], "h001-000001");
    EXPECT_EQ(command["command_id"], json::parse(ack.body)["command_id"]);
    EXPECT_EQ(m.qos, 1);
  }

  auto csv = http_call(http_port_, "GET", "/api/reports/visit-rate?month=2026-11&format=csv", east);
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_GT(count("SELECT COUNT(*) FROM audit_log WHERE username = 'cg_li' AND action = 'read'"),
            0);

  EXPECT_EQ(http_call(http_port_, "POST", "/api/logout", east).status, 200);
  EXPECT_EQ(http_call(http_port_, "GET", "/api/alerts", east).status, 401);
  ASSERT_EQ(service->stop(), std::optional<int>(0)) << service->describe();
}

// The console's live feed over a real WebSocket: a hub's alert reaches a logged-in operator of
// its township within moments, never an operator of another township; no session, no feed.
TEST_F(TownshipE2E, TheLiveFeedPushesAHubsAlertToTheOperatorsWhoMaySeeIt) {
  auto service = start_service();
  homesafe::test::WsClient anonymous(http_port_, "/api/live", "");
  EXPECT_FALSE(anonymous.connected());
  EXPECT_EQ(anonymous.status(), 401);

  homesafe::test::WsClient east(http_port_, "/api/live", login("op_east"));
  homesafe::test::WsClient west(http_port_, "/api/live", login("op_west"));
  ASSERT_TRUE(east.connected()) << east.status();
  ASSERT_TRUE(west.connected());
  auto is = [](const std::string& type, const std::string& alert_id = "") {
    return [type, alert_id](const std::string& frame) {
      const json f = json::parse(frame);
      return f["type"] == type && (alert_id.empty() || f["alert"]["alert_id"] == alert_id);
    };
  };
  const json hello = json::parse(east.wait_for(is("hello")));
  EXPECT_EQ(hello["user"]["username"], "op_east");
  ASSERT_FALSE(west.wait_for(is("hello")).empty());

  publish_event(event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0));
  const std::string frame = east.wait_for(is("alert", "h001-000001"));
  ASSERT_FALSE(frame.empty()) << service->describe();
  const json alert = json::parse(frame)["alert"];
  EXPECT_EQ(alert["state"], "open");
  EXPECT_EQ(alert["display_name"], "王奶奶");

  // The operator acknowledges: the feed shows the request at once (the hub's answer follows).
  auto ack = http_call(http_port_, "POST", "/api/alerts/h001-000001/ack", login("op_east"),
                       R"({"note":"值班台已确认"})");
  ASSERT_EQ(ack.status, 202) << ack.body;
  ASSERT_FALSE(east.wait_for([](const std::string& f) {
                     const json j = json::parse(f);
                     return j["type"] == "alert" && !j["alert"]["handling"].empty() &&
                            j["alert"]["handling"].back()["event"] == "ack_requested";
                   })
                   .empty());
  // West saw only its hello (a West household's alert reaches West).
  publish_event(event("h003", 1, "alert", alert_body("h003-000001", "open", kT0), 0));
  ASSERT_FALSE(west.wait_for(is("alert", "h003-000001")).empty());
  for (const auto& f : west.frames()) {
    EXPECT_EQ(f.find("h001-000001"), std::string::npos) << f;
  }
  for (const auto& f : east.frames()) {
    EXPECT_EQ(f.find("h003-000001"), std::string::npos) << f;
  }
  // Logging out does not leave a stale feed usable for new connections.
  const std::string cookie = login("op_west");
  ASSERT_EQ(http_call(http_port_, "POST", "/api/logout", cookie).status, 200);
  homesafe::test::WsClient stale(http_port_, "/api/live", cookie);
  EXPECT_EQ(stale.status(), 401);
}

class TownshipSilenceE2E : public TownshipE2E {
 protected:
  std::string extra_config() const override {
    return "silence: {heartbeat_s: 1, missed: 1, grace_s: 1, check_interval_s: 1}\n";
  }
};

TEST_F(TownshipSilenceE2E, ASilentHubBecomesAnAlertAndClearsWhenItSpeaks) {
  auto service = start_service();
  const auto county = login("county");
  auto silent_households = [&](const std::string& state) {
    auto r = http_call(http_port_, "GET", "/api/alerts?state=" + state, county);
    std::set<std::string> out;
    for (const auto& a : json::parse(r.body)) {
      if (a["kind"] == "hub_silent") out.insert(a["household"].get<std::string>());
    }
    return out;
  };
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] {
        return silent_households("open") == std::set<std::string>{"h001", "h002", "h003"};
      },
      20s))
      << service->describe();
  publisher_->publish("homesafe-up/h002/heartbeat", heartbeat("h002").dump(), 0);
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] { return silent_households("resolved").contains("h002"); }, 20s))
      << service->describe();
  ASSERT_EQ(service->stop(), std::optional<int>(0)) << service->describe();
}

}  // namespace
}  // namespace homesafe::township

namespace homesafe::township {
namespace {

// `hub-credentials` writes accounts and an ACL that a real Mosquitto enforces: each hub publishes
// only under its own uplink topics and reads only its own downlink.
class HubCredentialsE2E : public ::testing::Test {
 protected:
  static constexpr const char* kTownshipPassword = "township-broker-secret";

  void SetUp() override {
    config_ = dir_ / "township.yaml";
    homesafe::test::write_file(
        config_, "storage: {path: " + (dir_ / "township.db").string() +
                     "}\nbroker: {username: township, password: " + kTownshipPassword + "}\n");
    homesafe::test::write_file(dir_ / "households.csv", registry_csv());
    run({HOMESAFE_TOWNSHIP_BIN, "import-households", "--config", config_.string(),
         (dir_ / "households.csv").string()});
  }

  void run(std::vector<std::string> argv, int expected = 0) {
    Process p(std::move(argv));
    ASSERT_EQ(p.wait_for_exit(60s), std::optional<int>(expected)) << p.describe();
  }

  std::filesystem::path config_;
  homesafe::test::TempDir dir_{"township-cred"};
};

// With a link secret, every hub gets its one-tap link key: the key the township derives.
TEST_F(HubCredentialsE2E, EachHubGetsItsLinkKeyWhenTheTownshipHasALinkSecret) {
  const std::string secret(64, 'e');
  homesafe::test::write_file(dir_ / "link.secret", secret + "\n");
  homesafe::test::write_file(config_, homesafe::test::read_file(config_) +
                                          "console: {public_url: \"https://hs.example.cn\", "
                                          "link_secret_file: link.secret}\n");
  const auto out = dir_ / "broker";
  run({HOMESAFE_TOWNSHIP_BIN, "hub-credentials", "--config", config_.string(), "--out",
       out.string()});
  for (const char* hub : {"h001", "h004"}) {
    const auto key_file = out / "link-keys" / (std::string(hub) + ".key");
    EXPECT_EQ(homesafe::test::read_file(key_file),
              gateway::notify::link_key_for_hub(secret, hub) + "\n");
    EXPECT_EQ(std::filesystem::status(key_file).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
}

TEST_F(HubCredentialsE2E, TheBrokerLetsEachHubUseOnlyItsOwnTopics) {
  const auto out = dir_ / "broker";
  run({HOMESAFE_TOWNSHIP_BIN, "hub-credentials", "--config", config_.string(), "--out",
       out.string()});
  const std::string list = homesafe::test::read_file(out / "hub-credentials.csv");
  const std::string passwd = homesafe::test::read_file(out / "passwd");
  EXPECT_NE(passwd.find("township:$7$"), std::string::npos) << passwd;  // hashed, not clear
  EXPECT_NE(passwd.find("h004:$7$"), std::string::npos) << passwd;
  EXPECT_EQ(passwd.find(kTownshipPassword), std::string::npos);
  EXPECT_EQ(std::filesystem::status(out / "hub-credentials.csv").permissions() &
                std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  // Running it again keeps the passwords already handed out.
  run({HOMESAFE_TOWNSHIP_BIN, "hub-credentials", "--config", config_.string(), "--out",
       out.string()});
  EXPECT_EQ(homesafe::test::read_file(out / "hub-credentials.csv"), list);

  std::map<std::string, std::string> password;
  for (const auto& record : parse_csv(list)) password[record.fields[0]] = record.fields[2];
  ASSERT_EQ(password.size(), 5u);  // header + 4 hubs

  Mosquitto broker(homesafe::test::MosquittoOptions{
      .extra_config = "password_file " + (out / "passwd").string() + "\nacl_file " +
                      (out / "acl").string() + "\n"});
  const std::string port = std::to_string(broker.port());
  auto client = [&](const std::string& tool, const std::string& user, const std::string& pw,
                    std::vector<std::string> rest) {
    std::vector<std::string> argv{tool, "-h", "127.0.0.1", "-p", port, "-u",
                                  user, "-P", pw,          "-q", "1"};
    argv.insert(argv.end(), rest.begin(), rest.end());
    return argv;
  };
  auto wait_connected = [&](const std::string& user) {
    return homesafe::test::wait_until(
        [&] { return broker.log().find("u'" + user + "'") != std::string::npos; }, 20s);
  };

  // Uplink: h001 tries to publish as h002, then as itself. The township sees only the second.
  Process township(client("mosquitto_sub", "township", kTownshipPassword,
                          {"-t", "homesafe-up/#", "-v", "-C", "1", "-W", "20"}));
  ASSERT_TRUE(wait_connected("township")) << broker.log();
  std::this_thread::sleep_for(300ms);  // its SUBSCRIBE follows the CONNECT
  run(client("mosquitto_pub", "h001", password["h001"],
             {"-t", "homesafe-up/h002/event", "-m", "forged"}));
  run(client("mosquitto_pub", "h001", password["h001"],
             {"-t", "homesafe-up/h001/event", "-m", "real"}));
  ASSERT_EQ(township.wait_for_exit(20s), std::optional<int>(0)) << township.describe();
  EXPECT_EQ(township.read_stdout(), "homesafe-up/h001/event real\n");

  // Downlink: h001 subscribed to everything receives only its own.
  Process hub(client("mosquitto_sub", "h001", password["h001"],
                     {"-t", "homesafe-down/#", "-v", "-C", "1", "-W", "20"}));
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] {
        const std::string log = broker.log();
        return log.find("u'h001'") != log.rfind("u'h001'");  // a second h001 connection
      },
      20s));
  std::this_thread::sleep_for(300ms);
  run(client("mosquitto_pub", "township", kTownshipPassword,
             {"-t", "homesafe-down/h002/ack", "-m", "not yours"}));
  run(client("mosquitto_pub", "township", kTownshipPassword,
             {"-t", "homesafe-down/h001/ack", "-m", "yours"}));
  ASSERT_EQ(hub.wait_for_exit(20s), std::optional<int>(0)) << hub.describe();
  EXPECT_EQ(hub.read_stdout(), "homesafe-down/h001/ack yours\n");

  // A wrong password is refused.
  Process wrong(client("mosquitto_pub", "h001", "wrong-password",
                       {"-t", "homesafe-up/h001/event", "-m", "x"}));
  const auto status = wrong.wait_for_exit(20s);
  ASSERT_TRUE(status);
  EXPECT_NE(*status, 0);
}

// Relayed notifications: a WeCom robot and a generic SMS webhook on real sockets.
class TownshipRelayE2E : public TownshipE2E {
 protected:
  std::string extra_config() const override {
    return "relay:\n"
           "  channels:\n"
           "    - {type: wecom, url: \"" +
           robot_.url("/cgi-bin/webhook/send?key=k1") +
           "\"}\n"
           "    - {type: webhook, url: \"" +
           sms_.url("/sms") + "\"}\n";
  }

  void SetUp() override {
    robot_.respond_with(200, R"({"errcode": 0, "errmsg": "ok"})");
    TownshipE2E::SetUp();
  }

  json alert_detail(const std::string& alert_id) {
    const std::string cookie = login("op_east");
    auto r = http_call(http_port_, "GET", "/api/alerts/" + alert_id, cookie);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  homesafe::test::HttpServer robot_;
  homesafe::test::HttpServer sms_;
};

constexpr const char* kRelayText =
    "【平安守护】一村 王奶奶 厨房烟雾报警（11月1日08:00），请尽快查看。";

TEST_F(TownshipRelayE2E, ARelayReachesTheRobotOnceWithTheRegistryText) {
  auto service = start_service();
  publish_event(event("h001", 1, "alert", alert_body("h001-000001", "open", kT0), 0));
  const json relay = event("h001", 2, "relay", relay_body("h001-000001"), 0);
  publish_event(relay);
  ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/2", 1)) << service->describe();
  publish_event(relay);  // sent again: acked again, relayed once
  ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/2", 2)) << service->describe();

  ASSERT_TRUE(robot_.wait_for_requests(1)) << service->describe();
  ASSERT_TRUE(sms_.wait_for_requests(1)) << service->describe();
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] { return count("SELECT COUNT(*) FROM relays WHERE state = 'sent'") == 1; }, 20s))
      << service->describe();
  std::this_thread::sleep_for(1500ms);  // a second delivery would have started by now
  ASSERT_EQ(robot_.request_count(), 1u);
  ASSERT_EQ(sms_.request_count(), 1u);

  const auto request = robot_.requests().front();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/cgi-bin/webhook/send?key=k1");
  EXPECT_EQ(request.header("Idempotency-Key"), "h001-000001-s0r0-li-township");
  const json body = json::parse(request.body);
  EXPECT_EQ(body["msgtype"], "text");
  EXPECT_EQ(body["text"]["content"], kRelayText);

  const json sms = json::parse(sms_.requests().front().body);
  EXPECT_EQ(sms["phone"], "13800000001");
  EXPECT_EQ(sms["to"], "li");
  EXPECT_EQ(sms["text"], kRelayText);

  const json detail = alert_detail("h001-000001");
  ASSERT_EQ(detail["relays"].size(), 1u) << detail.dump();
  EXPECT_EQ(detail["relays"][0]["state"], "sent");
  EXPECT_EQ(detail["relays"][0]["contact_id"], "li");
  EXPECT_EQ(detail["relays"][0]["attempts"], 2);  // one per channel
  EXPECT_TRUE(detail["relays"][0]["error"].is_null());

  // Ids in the log, never the phone number, name or text.
  const std::string log = service->read_stderr();
  EXPECT_NE(log.find("h001-000001-s0r0-li-township"), std::string::npos) << log;
  for (const char* secret : {"13800000001", "王奶奶", "key=k1"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in\n" << log;
  }
}

TEST_F(TownshipRelayE2E, AFailingRobotIsRetried) {
  robot_.fail_next(1, 500);
  auto service = start_service();
  publish_event(event("h001", 1, "relay", relay_body("h001-000001"), 0));
  ASSERT_TRUE(wait_acks("h001", "h001/3f9c2a7d/1", 1)) << service->describe();
  ASSERT_TRUE(robot_.wait_for_requests(2, 20s)) << service->describe();
  ASSERT_TRUE(homesafe::test::wait_until(
      [&] { return count("SELECT COUNT(*) FROM relays WHERE state = 'sent'") == 1; }, 20s))
      << service->describe();
  const auto requests = robot_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, requests[1].body);
  EXPECT_EQ(json::parse(requests[1].body)["text"]["content"], kRelayText);
  EXPECT_EQ(count("SELECT attempts FROM relays"), 3);  // 2 on the robot, 1 on the SMS webhook
  EXPECT_EQ(count("SELECT COUNT(*) FROM relays WHERE error IS NULL"), 1);
}

}  // namespace
}  // namespace homesafe::township
