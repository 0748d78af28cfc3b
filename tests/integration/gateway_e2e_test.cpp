// The gateway end to end: devices (homesafe-sim) -> real Mosquitto -> homesafe-gateway ->
// alerts retained on MQTT and persisted in SQLite, including kill -9 at the worst moments.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "gateway_fixture.hpp"

namespace homesafe {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::Subscriber;

constexpr const char* kConfig = R"(household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
broker: {url: "@URL@", keepalive: 5s}
storage: {path: "@DB@"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: kitchen-gas, kind: gas, location: 厨房}
  - {id: bedroom-sos, kind: call_button, location: 卧室}
  - {id: water-meter, kind: water_meter, location: 厨房}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
)";

class GatewayE2E : public test::GatewayFixture {
 protected:
  std::string config_template() const override { return kConfig; }
};

TEST_F(GatewayE2E, SmokeGasAndCallBecomeAlertsOnMqttAndInTheStore) {
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online()) << gateway->describe();

  sim_send("kitchen-smoke", "smoke_detector", "alarm");
  sim_send("kitchen-gas", "gas_alarm", "alarm");
  sim({"press", "call-button", "--broker", broker_.url(), "--topic",
       "homesafe/h001/dev/bedroom-sos", "--quiet"});

  ASSERT_TRUE(wait_alert("smoke", "open")) << gateway->describe();
  ASSERT_TRUE(wait_alert("gas", "open")) << gateway->describe();
  ASSERT_TRUE(wait_alert("call", "open")) << gateway->describe();

  const auto alerts = alerts_on_mqtt();
  ASSERT_EQ(alerts.size(), 3u);
  for (const auto& [topic, alert] : alerts) {
    EXPECT_EQ(alert["severity"], "emergency") << topic;
    EXPECT_EQ(topic, "homesafe/h001/alert/" + alert["alert_id"].get<std::string>());
  }
  // Retained: a late subscriber (a caregiver app starting up) sees them too.
  Subscriber late(broker_.url(), "homesafe/h001/alert/#");
  EXPECT_TRUE(late.wait_for_count(3));
  for (const auto& m : late.messages()) EXPECT_TRUE(m.retained);

  // Persisted before it was published.
  EXPECT_EQ(count_stored(rules::AlertKind::smoke), 1);
  EXPECT_EQ(count_stored(rules::AlertKind::gas), 1);
  EXPECT_EQ(count_stored(rules::AlertKind::call), 1);

  // The CLI lists them.
  Process cli({HOMESAFE_GATEWAY_BIN, "alerts", "--config", config_path_.string()});
  ASSERT_EQ(cli.wait_for_exit(20s), std::optional<int>(0)) << cli.describe();
  EXPECT_NE(cli.read_stdout().find("kitchen-gas"), std::string::npos) << cli.describe();

  ASSERT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

TEST_F(GatewayE2E, AckTopicAndCliHandleTheAlert) {
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online());
  sim({"press", "call-button", "--broker", broker_.url(), "--topic",
       "homesafe/h001/dev/bedroom-sos", "--quiet"});
  ASSERT_TRUE(wait_alert("call", "open"));
  const std::string id = alerts_on_mqtt().begin()->second["alert_id"];

  test::Publisher app(broker_.url());
  app.publish("homesafe/h001/ack", R"({"alert_id":")" + id + R"(","by":"li","action":"ack"})");
  ASSERT_TRUE(wait_alert("call", "acknowledged"));

  Process cli({HOMESAFE_GATEWAY_BIN, "ack", id, "--by", "li", "--resolve", "--note", "已到场",
               "--config", config_path_.string()});
  ASSERT_EQ(cli.wait_for_exit(20s), std::optional<int>(0)) << cli.describe();
  ASSERT_TRUE(wait_alert("call", "resolved"));

  gateway::Store store(db_path_.string());
  const auto history = store.alert_events(id);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1].event, "acknowledged");
  EXPECT_EQ(history[2].event, "resolved");
  EXPECT_EQ(history[2].by, "li");
  EXPECT_EQ(history[2].channel, "cli");
  EXPECT_EQ(history[2].note, "已到场");
}

// kill -9 at the two worst moments of processing an alarm: before the commit and after it but
// before the broker was acknowledged. Either way, after a restart the alarm is there once.
class CrashDuringAlarm : public GatewayE2E, public ::testing::WithParamInterface<const char*> {};

TEST_P(CrashDuringAlarm, AlarmIsStoredExactlyOnceAfterRestart) {
  auto gateway = start_gateway({{"HOMESAFE_TEST_CRASH", GetParam()}});
  ASSERT_TRUE(wait_online()) << gateway->describe();
  const std::size_t seen = watcher_->size();

  sim_send("kitchen-smoke", "smoke_detector", "alarm");
  ASSERT_EQ(gateway->wait_for_exit(20s), std::optional<int>(128 + SIGKILL)) << gateway->describe();
  // The last will tells everyone the hub is gone.
  ASSERT_TRUE(watcher_->wait_for([seen](const Subscriber::Messages& messages) {
    for (std::size_t i = seen; i < messages.size(); ++i) {
      if (messages[i].topic == "homesafe/h001/gateway/status" && messages[i].payload == "offline") {
        return true;
      }
    }
    return false;
  }));

  const std::size_t before_restart = watcher_->size();
  auto restarted = start_gateway();
  ASSERT_TRUE(wait_online(before_restart)) << restarted->describe();
  ASSERT_TRUE(wait_alert("smoke", "open")) << restarted->describe();
  ASSERT_TRUE(test::wait_until([&] { return count_stored(rules::AlertKind::smoke) == 1; }));
  // Give a duplicate every chance to show up, then check again.
  sim({"press", "call-button", "--broker", broker_.url(), "--topic",
       "homesafe/h001/dev/bedroom-sos", "--quiet"});
  ASSERT_TRUE(wait_alert("call", "open"));
  EXPECT_EQ(count_stored(rules::AlertKind::smoke), 1);
  EXPECT_EQ(alerts_on_mqtt().size(), 2u);
  ASSERT_EQ(restarted->stop(), std::optional<int>(0)) << restarted->describe();
}

INSTANTIATE_TEST_SUITE_P(Points, CrashDuringAlarm,
                         ::testing::Values("before_commit", "after_commit"));

TEST_F(GatewayE2E, AlarmsSentWhileTheGatewayIsDownArriveWhenItReturns) {
  {
    auto gateway = start_gateway();
    ASSERT_TRUE(wait_online());
    ASSERT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
  }
  // The persistent session keeps QoS 1 messages for the gateway while it is away.
  sim({"press", "call-button", "--broker", broker_.url(), "--topic",
       "homesafe/h001/dev/bedroom-sos", "--quiet"});
  const std::size_t seen = watcher_->size();
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online(seen));
  ASSERT_TRUE(wait_alert("call", "open")) << gateway->describe();
  EXPECT_EQ(count_stored(rules::AlertKind::call), 1);
}

TEST_F(GatewayE2E, ReconnectsAfterTheBrokerRestarts) {
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online());
  watcher_.reset();
  broker_.restart();
  watcher_ = std::make_unique<Subscriber>(broker_.url(), "homesafe/h001/#");
  // Back online (the retained status says so once it has reconnected and resubscribed).
  ASSERT_TRUE(test::wait_until(
      [&] {
        for (const auto& m : watcher_->messages()) {
          if (m.topic == "homesafe/h001/gateway/status" && m.payload == "online") return true;
        }
        return false;
      },
      30s))
      << gateway->describe();
  sim_send("kitchen-gas", "gas_alarm", "alarm");
  ASSERT_TRUE(wait_alert("gas", "open")) << gateway->describe();
}

TEST_F(GatewayE2E, GarbageFromAnAlarmDeviceIsAFaultNotACrash) {
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online());
  test::Publisher device(broker_.url());
  device.publish("homesafe/h001/dev/kitchen-gas/state", "{\"gas\": tr");
  device.publish("homesafe/h001/dev/kitchen-gas/state", std::string(20000, 'x'));
  device.publish("homesafe/h001/dev/kitchen-gas/state", "{\"gas\": \"maybe\"}");
  ASSERT_TRUE(wait_alert("device_fault", "open")) << gateway->describe();
  EXPECT_TRUE(gateway->running());
  EXPECT_NE(gateway->read_stderr().find("rejected"), std::string::npos);
}

// Ordinary messages wait in the gateway's inbox for a short gathering window; an alarm must not
// overtake what arrived before it. Back to back on one connection: a water meter that reports a
// leak (ordinary class), then a call-button press (alarm class). The alert numbers show the
// order in which the gateway handled them.
TEST_F(GatewayE2E, AMessageBeforeAnAlarmIsHandledBeforeIt) {
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online()) << gateway->describe();
  test::Publisher device(broker_.url());
  device.publish("homesafe/h001/dev/water-meter/state", R"({"water_leak": true})", 0);
  device.publish("homesafe/h001/dev/bedroom-sos/state", R"({"action": "sos"})", 0);
  ASSERT_TRUE(wait_alert("water_leak", "open")) << gateway->describe();
  ASSERT_TRUE(wait_alert("call", "open")) << gateway->describe();
  std::map<std::string, std::string> ids;
  for (const auto& [topic, alert] : alerts_on_mqtt()) ids[alert["kind"]] = alert["alert_id"];
  EXPECT_EQ(ids["water_leak"], "h001-000001");
  EXPECT_EQ(ids["call"], "h001-000002");
  ASSERT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

// An alarm's alert state and notification are sent from inside the alarm's MQTT callback, once
// it is committed (daemon.cpp). On the wire the retained state still comes before the
// notification, and the broker's acknowledgement still marks the alert as published.
TEST_F(GatewayE2E, AnAlarmsStateGoesOutBeforeItsNotificationAndIsMarkedPublished) {
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online()) << gateway->describe();
  test::Publisher device(broker_.url());
  device.publish("homesafe/h001/dev/bedroom-sos/state", R"({"action": "sos"})", 1);
  ASSERT_TRUE(watcher_->wait_for_topic("homesafe/h001/notify")) << gateway->describe();
  const auto messages = watcher_->messages();
  std::optional<std::size_t> state_at;
  std::optional<std::size_t> notification_at;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (!state_at && messages[i].topic.starts_with("homesafe/h001/alert/")) state_at = i;
    if (!notification_at && messages[i].topic == "homesafe/h001/notify") notification_at = i;
  }
  ASSERT_TRUE(state_at && notification_at);
  EXPECT_LT(*state_at, *notification_at);
  ASSERT_TRUE(test::wait_until([&] {
    return gateway::Store(db_path_.string()).unpublished_alerts().empty();
  })) << gateway->describe();
  ASSERT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

TEST_F(GatewayE2E, RefusesToStartOnABadConfig) {
  test::write_file(config_path_, "household: {id: h001}\ndevices: []\n");
  auto gateway = start_gateway();
  EXPECT_EQ(gateway->wait_for_exit(20s), std::optional<int>(1));
  EXPECT_NE(gateway->read_stderr().find("h001.yaml:"), std::string::npos) << gateway->describe();
}

}  // namespace
}  // namespace homesafe

namespace homesafe {
namespace {

// A stand-in for systemd's notify socket: reads what the daemon sends with sd_notify.
class NotifySocket {
 public:
  explicit NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("cannot bind notify socket");
    }
    timeval timeout{0, 200'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~NotifySocket() { ::close(fd_); }
  // Every datagram received within `within`.
  std::string read_for(std::chrono::milliseconds within) {
    std::string all;
    const auto end = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < end) {
      char buffer[512];
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) all.append(buffer, static_cast<std::size_t>(n)).append("\n");
    }
    return all;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

TEST_F(GatewayE2E, TellsSystemdItIsReadyAndPingsTheWatchdogFromItsLoop) {
  NotifySocket systemd(dir_ / "notify.sock");
  auto gateway =
      start_gateway({{"NOTIFY_SOCKET", systemd.path().string()}, {"WATCHDOG_USEC", "2000000"}});
  const std::string first = systemd.read_for(3s);
  EXPECT_NE(first.find("READY=1"), std::string::npos) << first << gateway->describe();
  EXPECT_NE(first.find("WATCHDOG=1"), std::string::npos) << first;
  // A loop that does not run (here: the process is stopped) sends no ping.
  gateway->kill(SIGSTOP);
  systemd.read_for(200ms);  // drain anything in flight
  EXPECT_EQ(systemd.read_for(3s).find("WATCHDOG=1"), std::string::npos);
  gateway->kill(SIGCONT);
  EXPECT_NE(systemd.read_for(3s).find("WATCHDOG=1"), std::string::npos);
  ASSERT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

}  // namespace
}  // namespace homesafe
