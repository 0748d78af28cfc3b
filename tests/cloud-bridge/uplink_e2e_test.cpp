// End to end: two real Mosquitto brokers (the hub's and the township's), the real
// homesafe-gateway with an uplink: section, and a fake township on the test side that records
// what arrives and acknowledges it the way the township service does (after "committing").
#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "homesafe/gateway/store.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/publisher.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace homesafe::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The township side of the link, as the test needs it: records events, heartbeats and statuses,
// acknowledges events (when told to), sends commands. Reconnects by itself.
class FakeTownship {
 public:
  explicit FakeTownship(const std::string& url)
      : client_(url, "fake-township-" + std::to_string(::getpid()) + "-" + std::to_string(++count_),
                nullptr) {
    client_.set_message_callback([this](mqtt::const_message_ptr message) { on(message); });
    client_.set_connected_handler(
        [this](const std::string&) { client_.subscribe("homesafe-up/h001/#", 1); });
    auto options = mqtt::connect_options_builder()
                       // A persistent session, as the township service has: what the hub
                       // publishes while we reconnect after a broker restart is kept for us.
                       .clean_session(false)
                       .automatic_reconnect(std::chrono::milliseconds(200), std::chrono::seconds(1))
                       .connect_timeout(std::chrono::seconds(10))
                       .finalize();
    client_.connect(options)->wait();
    // (The connected handler subscribes again after each reconnect, without waiting there.)
    client_.subscribe("homesafe-up/h001/#", 1)->wait();
  }
  ~FakeTownship() {
    try {
      client_.disconnect()->wait_for(2s);
    } catch (const std::exception&) {
    }
  }

  void set_auto_ack(bool on) { auto_ack_ = on; }

  // Event ids seen (each counted once), and how many deliveries there were in all.
  std::set<std::string> event_ids() const {
    std::lock_guard lock(mutex_);
    std::set<std::string> out;
    for (const auto& e : events_) out.insert(e["event_id"].get<std::string>());
    return out;
  }
  std::vector<json> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<json> heartbeats() const {
    std::lock_guard lock(mutex_);
    return heartbeats_;
  }
  std::string status() const {
    std::lock_guard lock(mutex_);
    return status_;
  }
  void ack(const std::vector<std::string>& ids) {
    client_.publish("homesafe-down/h001/ack", json{{"v", 1}, {"acked", ids}}.dump(), 1, false);
  }
  void command(const json& command) {
    client_.publish("homesafe-down/h001/command", command.dump(), 1, false)->wait_for(5s);
  }

 private:
  void on(const mqtt::const_message_ptr& message) {
    const std::string topic = message->get_topic();
    const std::string payload = message->get_payload_str();
    std::string to_ack;
    {
      std::lock_guard lock(mutex_);
      if (topic == "homesafe-up/h001/event") {
        auto j = json::parse(payload, nullptr, false);
        if (!j.is_object() || !j.contains("event_id")) return;
        events_.push_back(j);
        if (auto_ack_) to_ack = j["event_id"];
      } else if (topic == "homesafe-up/h001/heartbeat") {
        heartbeats_.push_back(json::parse(payload, nullptr, false));
      } else if (topic == "homesafe-up/h001/status") {
        status_ = payload;
      }
    }
    if (!to_ack.empty()) {
      try {
        client_.publish("homesafe-down/h001/ack", json{{"v", 1}, {"acked", {to_ack}}}.dump(), 1,
                        false);
      } catch (const std::exception&) {
        // Disconnected: the hub resends, and we ack then.
      }
    }
  }

  static inline std::atomic<int> count_{0};
  mqtt::async_client client_;
  mutable std::mutex mutex_;
  std::vector<json> events_;
  std::vector<json> heartbeats_;
  std::string status_;
  std::atomic<bool> auto_ack_{true};
};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

class UplinkE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_path_ = dir_.path() / "h001.yaml";
    db_path_ = dir_.path() / "h001.db";
    write(config("20", "10"));
  }

  std::string config(const std::string& drain_rate, const std::string& inflight) const {
    std::string text = R"(
household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
broker: {url: "@HUB@"}
storage: {path: "@DB@"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: kitchen-gas, kind: gas, location: 厨房}
  - {id: bathroom-leak, kind: water_leak, location: 卫生间}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
uplink:
  url: "@TOWNSHIP@"
  heartbeat: 5s
  ack_timeout: 2s
  drain_rate: @RATE@
  inflight: @INFLIGHT@
)";
    text = replace_all(text, "@HUB@", hub_.url());
    text = replace_all(text, "@TOWNSHIP@", township_.url());
    text = replace_all(text, "@DB@", db_path_.string());
    text = replace_all(text, "@RATE@", drain_rate);
    return replace_all(text, "@INFLIGHT@", inflight);
  }
  void write(const std::string& text) { write_file(config_path_, text); }

  std::unique_ptr<Process> start_gateway() {
    return std::make_unique<Process>(
        std::vector<std::string>{HOMESAFE_GATEWAY_BIN, "--config", config_path_.string()});
  }

  std::int64_t outbox_events() {
    gateway::Store store(db_path_.string());
    return store.outbox_stats().events;
  }

  void device(const std::string& id, const std::string& payload) {
    hub_publisher().publish("homesafe/h001/dev/" + id + "/state", payload, 1);
  }
  Publisher& hub_publisher() {
    if (!publisher_) publisher_ = std::make_unique<Publisher>(hub_.url());
    return *publisher_;
  }

  // Every event id HUB/EPOCH/1..N of the store's epoch arrived (N: the highest seen), i.e.
  // nothing created was skipped.
  static void expect_contiguous(const std::set<std::string>& ids) {
    ASSERT_FALSE(ids.empty());
    std::string prefix;
    std::set<std::int64_t> seqs;
    for (const auto& id : ids) {
      const auto slash = id.rfind('/');
      if (prefix.empty()) prefix = id.substr(0, slash + 1);
      EXPECT_EQ(id.substr(0, slash + 1), prefix) << "one epoch only";
      seqs.insert(std::stoll(id.substr(slash + 1)));
    }
    EXPECT_EQ(*seqs.begin(), 1);
    EXPECT_EQ(static_cast<std::int64_t>(seqs.size()), *seqs.rbegin())
        << "a sequence number is missing";
  }

  Mosquitto hub_;
  Mosquitto township_;
  TempDir dir_{"homesafe-uplink"};
  std::filesystem::path config_path_;
  std::filesystem::path db_path_;
  std::unique_ptr<Publisher> publisher_;
};

TEST_F(UplinkE2eTest, AlarmArrivesAtTheTownshipAndItsAckEmptiesTheOutbox) {
  FakeTownship township(township_.url());
  township.set_auto_ack(false);
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_until([&] { return township.status() == "online"; }, 30s))
      << gateway->describe();
  device("kitchen-smoke", R"({"smoke": true})");
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& e : township.events()) {
          if (e["type"] == "alert" && e["body"]["kind"] == "smoke" && e["priority"] == 0) {
            return true;
          }
        }
        return false;
      },
      30s))
      << gateway->describe();
  const auto first = township.events().front();
  EXPECT_EQ(first["hub"], "h001");
  EXPECT_EQ(first["household"], "h001");
  EXPECT_EQ(first["v"], 1);
  // Not acknowledged: the events stay in the outbox and are sent again.
  std::this_thread::sleep_for(2500ms);
  EXPECT_GT(outbox_events(), 0);
  ASSERT_TRUE(
      wait_until([&] { return township.events().size() > township.event_ids().size(); }, 20s))
      << "no resend of unacknowledged events";
  // The township acknowledges what it has: the outbox empties.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto ids = township.event_ids();
        township.ack({ids.begin(), ids.end()});
        return outbox_events() == 0;
      },
      30s, 300ms))
      << gateway->describe();
  expect_contiguous(township.event_ids());
  // No resident data went up.
  for (const auto& e : township.events()) {
    EXPECT_EQ(e.dump().find("测试户"), std::string::npos);
    EXPECT_EQ(e.dump().find("李阿姨"), std::string::npos);
  }
  ASSERT_TRUE(wait_until([&] { return !township.heartbeats().empty(); }, 20s));
  EXPECT_EQ(township.heartbeats().back()["hub"], "h001");
  gateway->stop();
  EXPECT_EQ(gateway->exit_status(), std::optional<int>(0)) << gateway->describe();
}

TEST_F(UplinkE2eTest, TownshipBrokerDownForAWhileThenEverythingArrives) {
  FakeTownship township(township_.url());
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_until([&] { return township.status() == "online"; }, 30s))
      << gateway->describe();
  township_.stop();
  // Traffic while the link is down: alarms, their handling, a leak that clears by itself.
  device("kitchen-smoke", R"({"smoke": true})");
  device("kitchen-gas", R"({"gas": true})");
  device("bathroom-leak", R"({"water_leak": true})");
  device("bathroom-leak", R"({"water_leak": false})");
  ASSERT_TRUE(wait_until([&] { return outbox_events() >= 8; }, 20s)) << outbox_events();
  std::this_thread::sleep_for(3s);
  const auto queued = outbox_events();
  EXPECT_TRUE(township.events().empty());
  township_.restart();
  ASSERT_TRUE(wait_until([&] { return outbox_events() == 0; }, 90s, 200ms))
      << outbox_events() << " left\n"
      << gateway->describe();
  const auto ids = township.event_ids();
  EXPECT_GE(static_cast<std::int64_t>(ids.size()), queued);
  expect_contiguous(ids);
  // Alarms went first: the first event after the outage is an alarm (priority 0).
  bool saw_smoke = false;
  bool saw_leak_resolved = false;
  for (const auto& e : township.events()) {
    if (e["type"] == "alert" && e["body"]["kind"] == "smoke") saw_smoke = true;
    if (e["type"] == "alert" && e["body"]["kind"] == "water_leak" &&
        e["body"]["state"] == "resolved") {
      saw_leak_resolved = true;
    }
  }
  EXPECT_TRUE(saw_smoke);
  EXPECT_TRUE(saw_leak_resolved);
  EXPECT_EQ(township.events().front()["priority"], 0);
  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

TEST_F(UplinkE2eTest, GatewayKilledMidForwardLosesNothing) {
  write(config("2", "1"));  // slow drain: the kill lands while events are still queued
  FakeTownship township(township_.url());
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_until([&] { return township.status() == "online"; }, 30s))
      << gateway->describe();
  device("kitchen-smoke", R"({"smoke": true})");
  device("kitchen-gas", R"({"gas": true})");
  device("bathroom-leak", R"({"water_leak": true})");
  device("bathroom-leak", R"({"water_leak": false})");
  ASSERT_TRUE(wait_until([&] { return township.event_ids().size() >= 2; }, 30s))
      << gateway->describe();
  gateway->kill(SIGKILL);
  gateway->wait_for_exit(10s);
  const auto left = outbox_events();
  EXPECT_GT(left, 0) << "the kill came too late to test anything";
  const auto before = township.event_ids().size();
  gateway = start_gateway();
  ASSERT_TRUE(wait_until([&] { return outbox_events() == 0; }, 90s, 200ms))
      << outbox_events() << " left\n"
      << gateway->describe();
  EXPECT_GT(township.event_ids().size(), before);
  expect_contiguous(township.event_ids());
  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

TEST_F(UplinkE2eTest, TownshipCommandAcknowledgesTheAlarmOnTheHub) {
  FakeTownship township(township_.url());
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_until([&] { return township.status() == "online"; }, 30s))
      << gateway->describe();
  device("kitchen-smoke", R"({"smoke": true})");
  std::string alert_id;
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& e : township.events()) {
          if (e["type"] == "alert") alert_id = e["body"]["alert_id"];
        }
        return !alert_id.empty();
      },
      30s));
  const json command{{"v", 1},
                     {"command_id", "c-e2e-1"},
                     {"type", "ack"},
                     {"alert_id", alert_id},
                     {"by", "township-op-7"},
                     {"note", "已电话联系"}};
  township.command(command);
  township.command(command);  // delivered twice: applied once, answered twice
  ASSERT_TRUE(wait_until(
      [&] {
        int results = 0;
        for (const auto& e : township.events()) {
          if (e["type"] == "command_result" && e["body"]["command_id"] == "c-e2e-1") {
            EXPECT_EQ(e["body"]["ok"], true) << e;
            ++results;
          }
        }
        // (a resend of the same event may arrive too; two distinct results are required)
        std::set<std::string> distinct;
        for (const auto& e : township.events()) {
          if (e["type"] == "command_result") distinct.insert(e["event_id"]);
        }
        return results >= 2 && distinct.size() == 2;
      },
      30s))
      << gateway->describe();
  int acknowledged = 0;
  for (const auto& e : township.events()) {
    if (e["type"] == "alert_event" && e["body"]["event"] == "acknowledged") {
      EXPECT_EQ(e["body"]["channel"], "township");
      EXPECT_EQ(e["body"]["by"], "township-op-7");
      ++acknowledged;
    }
  }
  EXPECT_GE(acknowledged, 1);
  std::set<std::string> ack_ids;
  for (const auto& e : township.events()) {
    if (e["type"] == "alert_event" && e["body"]["event"] == "acknowledged") {
      ack_ids.insert(e["event_id"]);
    }
  }
  EXPECT_EQ(ack_ids.size(), 1u) << "the command was applied more than once";
  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

// A config patch from the township changes the running ladder of an open alarm (its next step
// comes at the new time: the daemon's timer is re-armed), is kept in the store, shown by
// check-config and removed by clear-override.
TEST_F(UplinkE2eTest, TownshipConfigPatchTakesEffectAndIsKept) {
  FakeTownship township(township_.url());
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_until([&] { return township.status() == "online"; }, 30s))
      << gateway->describe();
  device("kitchen-smoke", R"({"smoke": true})");  // built-in ladder: next step after 3 min
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& e : township.events()) {
          if (e["type"] == "alert") return true;
        }
        return false;
      },
      30s));
  const json patch =
      json::parse(R"({"escalation":[{"match":{"severity":"emergency"},"steps":[)"
                  R"({"after":"0s","notify":["caregiver"]},{"after":"8s","notify":["li"]}]}]})");
  township.command({{"v", 1}, {"command_id", "c-cfg-1"}, {"type", "config"}, {"patch", patch}});
  auto step_one = [&] {
    for (const auto& e : township.events()) {
      if (e["type"] == "notification" && e["body"]["step"] == 1) return true;
    }
    return false;
  };
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& e : township.events()) {
          if (e["type"] == "command_result" && e["body"]["command_id"] == "c-cfg-1") {
            EXPECT_EQ(e["body"]["ok"], true) << e;
            return true;
          }
        }
        return false;
      },
      30s))
      << gateway->describe();
  ASSERT_TRUE(wait_until(step_one, 30s)) << "the new policy's step 1 did not come\n"
                                         << gateway->describe();
  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
  {
    Process check({HOMESAFE_GATEWAY_BIN, "check-config", config_path_.string()});
    EXPECT_EQ(check.wait_for_exit(20s), std::optional<int>(0)) << check.describe();
    EXPECT_NE(check.read_stdout().find("override: 1 township config patch(es) in effect"),
              std::string::npos)
        << check.describe();
  }
  {
    Process clear({HOMESAFE_GATEWAY_BIN, "clear-override", "--config", config_path_.string()});
    EXPECT_EQ(clear.wait_for_exit(20s), std::optional<int>(0)) << clear.describe();
    EXPECT_NE(clear.read_stdout().find("cleared the township's config override (1 patch(es))"),
              std::string::npos)
        << clear.describe();
  }
  Process check({HOMESAFE_GATEWAY_BIN, "check-config", config_path_.string()});
  EXPECT_EQ(check.wait_for_exit(20s), std::optional<int>(0)) << check.describe();
  EXPECT_EQ(check.read_stdout().find("override:"), std::string::npos) << check.describe();
}

TEST_F(UplinkE2eTest, CheckConfigValidatesTheUplinkSection) {
  {
    Process check({HOMESAFE_GATEWAY_BIN, "check-config", config_path_.string()});
    EXPECT_EQ(check.wait_for_exit(20s), std::optional<int>(0)) << check.describe();
    EXPECT_NE(check.read_stdout().find("uplink: hub h001"), std::string::npos) << check.describe();
  }
  auto text = config("0", "10");
  text = replace_all(text, "heartbeat: 5s", "heartbeat: 5s\n  hub_id: \"Bad Hub\"");
  write(text);
  Process check({HOMESAFE_GATEWAY_BIN, "check-config", config_path_.string()});
  EXPECT_EQ(check.wait_for_exit(20s), std::optional<int>(1)) << check.describe();
  const auto err = check.read_stderr();
  EXPECT_NE(err.find("h001.yaml:14:11: invalid hub_id"), std::string::npos) << err;
  EXPECT_NE(err.find("h001.yaml:16:15: drain_rate must be between 1 and 10000"), std::string::npos)
      << err;
}

TEST_F(UplinkE2eTest, WithoutAnUplinkSectionNoOutboxIsKept) {
  auto text = config("20", "10");
  text = text.substr(0, text.find("uplink:"));
  write(text);
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_until(
      [&] { return gateway->read_stderr().find("mqtt: connected") != std::string::npos; }, 20s))
      << gateway->describe();
  EXPECT_EQ(gateway->read_stderr().find("uplink"), std::string::npos) << gateway->describe();
  device("kitchen-smoke", R"({"smoke": true})");
  ASSERT_TRUE(wait_until(
      [&] {
        gateway::Store store(db_path_.string());
        return !store.active_alerts().empty();
      },
      20s))
      << gateway->describe();
  EXPECT_EQ(outbox_events(), 0);
  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

// The township broker as deployed: TLS, a password per hub, and the ACL of uplink.md.
class UplinkTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto d = dir_.path();
    run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", (d / "ca.key").string(), "-out", (d / "ca.crt").string(), "-days",
         "2", "-subj", "/CN=homesafe-test-ca"});
    run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", (d / "server.key").string(), "-out", (d / "server.csr").string(), "-subj",
         "/CN=127.0.0.1"});
    write_file(d / "san.ext", "subjectAltName=IP:127.0.0.1\n");
    run({"openssl", "x509", "-req", "-in", (d / "server.csr").string(), "-CA",
         (d / "ca.crt").string(), "-CAkey", (d / "ca.key").string(), "-CAcreateserial", "-out",
         (d / "server.crt").string(), "-days", "2", "-extfile", (d / "san.ext").string()});
    write_file(d / "passwd", "");
    run({"mosquitto_passwd", "-b", (d / "passwd").string(), "h001", "s3cret-h001"});
    run({"mosquitto_passwd", "-b", (d / "passwd").string(), "h002", "s3cret-h002"});
    write_file(d / "h001.secret", "s3cret-h001\n");
    // Anonymous clients (the test's fake township on the plain listener) see everything; a hub
    // only its own topics.
    write_file(d / "acl",
               "topic read homesafe-up/#\ntopic write homesafe-down/#\n"
               "pattern write homesafe-up/%u/#\npattern read homesafe-down/%u/#\n");
    tls_port_ = free_tcp_port();
    MosquittoOptions options;
    options.extra_config = "password_file " + (d / "passwd").string() + "\nacl_file " +
                           (d / "acl").string() + "\nlistener " + std::to_string(tls_port_) +
                           " 127.0.0.1\ncafile " + (d / "ca.crt").string() + "\ncertfile " +
                           (d / "server.crt").string() + "\nkeyfile " +
                           (d / "server.key").string() + "\n";
    township_ = std::make_unique<Mosquitto>(options);
    ASSERT_TRUE(wait_until([&] { return tcp_port_accepts(tls_port_); }, 10s)) << township_->log();
  }

  static void run(std::vector<std::string> argv) {
    Process p(std::move(argv));
    ASSERT_EQ(p.wait_for_exit(30s), std::optional<int>(0)) << p.describe();
  }

  void write_config(const std::string& hub_id) {
    const std::string text = R"(
household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
broker: {url: ")" + hub_.url() +
                             R"("}
storage: {path: ")" + (dir_.path() / "h001.db").string() +
                             R"("}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
uplink:
  url: "ssl://127.0.0.1:)" + std::to_string(tls_port_) +
                             R"("
  hub_id: )" + hub_id + R"(
  username: h001
  password_file: )" + (dir_.path() / "h001.secret").string() +
                             R"(
  tls: {ca_file: )" + (dir_.path() / "ca.crt").string() +
                             R"(}
  ack_timeout: 2s
)";
    write_file(dir_.path() / "h001.yaml", text);
  }

  std::unique_ptr<Process> start_gateway() {
    return std::make_unique<Process>(std::vector<std::string>{
        HOMESAFE_GATEWAY_BIN, "--config", (dir_.path() / "h001.yaml").string()});
  }

  std::int64_t outbox_events() {
    gateway::Store store((dir_.path() / "h001.db").string());
    return store.outbox_stats().events;
  }

  TempDir dir_{"homesafe-uplink-tls"};
  Mosquitto hub_;
  std::unique_ptr<Mosquitto> township_;
  int tls_port_ = 0;
};

TEST_F(UplinkTlsTest, OverTlsWithThePerHubPasswordAndAcl) {
  write_config("h001");
  FakeTownship township(township_->url());
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_until([&] { return township.status() == "online"; }, 30s))
      << gateway->describe() << township_->log();
  Publisher publisher(hub_.url());
  publisher.publish("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke": true})");
  // Delivered over TLS, acknowledged on the hub's down topic (readable under the ACL): emptied.
  ASSERT_TRUE(wait_until([&] { return !township.events().empty() && outbox_events() == 0; }, 30s))
      << gateway->describe();
  EXPECT_EQ(township.events().front()["body"]["kind"], "smoke");
  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

TEST_F(UplinkTlsTest, AHubCannotPublishForAnotherHub) {
  write_config("h002");  // h001's credentials, h002's topics: refused by the ACL
  FakeTownship township(township_->url());
  auto gateway = start_gateway();
  Publisher publisher(hub_.url());
  publisher.publish("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke": true})");
  ASSERT_TRUE(wait_until([&] { return outbox_events() > 0; }, 20s)) << gateway->describe();
  // It is connected (the broker takes its credentials), only its publishes go nowhere.
  ASSERT_TRUE(wait_until(
      [&] {
        return gateway->read_stderr().find("uplink: connected as hub h002") != std::string::npos;
      },
      20s))
      << gateway->describe();
  std::this_thread::sleep_for(4s);
  EXPECT_TRUE(township.events().empty());
  EXPECT_TRUE(township.status().empty());
  EXPECT_GT(outbox_events(), 0);  // kept: nothing was acknowledged
  EXPECT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

}  // namespace
}  // namespace homesafe::test
