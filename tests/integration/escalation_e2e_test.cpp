// The escalation ladder end to end with a real broker: caregiver at once, emergency contact and
// duty desk later, stopped by an acknowledgement, and resumed on time after a kill -9.
#include "gateway_fixture.hpp"

namespace homesafe {
namespace {

using namespace std::chrono_literals;
using test::Process;

// Steps a few seconds apart so that the test sees the whole ladder quickly.
constexpr const char* kConfig =
    R"(household: {id: h001, name: "3组 王奶奶", timezone: Asia/Shanghai}
broker: {url: "@URL@", keepalive: 5s}
storage: {path: "@DB@"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: bedroom-sos, kind: call_button, location: 卧室}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
  - {id: son, name: 王先生, role: emergency_contact, channels: [{type: mqtt}]}
  - {id: desk, name: 值班台, role: duty_desk, channels: [{type: mqtt}]}
escalation:
  - match: {severity: emergency}
    steps:
      - {after: 0s, notify: [caregiver]}
      - {after: 3s, notify: [emergency_contact]}
      - {after: 12s, notify: [duty_desk]}
    repeat: 30s
)";

class EscalationE2E : public test::GatewayFixture {
 protected:
  std::string config_template() const override { return kConfig; }

  std::string notification_state(const std::string& id) {
    gateway::Store store(db_path_.string());
    const std::string alert_id = id.substr(0, id.find("-s"));
    for (const auto& n : store.notifications(alert_id)) {
      if (n.notification_id == id) return n.state;
    }
    return "";
  }
};

TEST_F(EscalationE2E, LadderRunsUntilSomeoneAcknowledges) {
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online());
  sim_send("kitchen-smoke", "smoke_detector", "alarm");
  ASSERT_TRUE(wait_notification("h001-000001-s0r0-li-mqtt")) << gateway->describe();
  ASSERT_TRUE(wait_notification("h001-000001-s1r0-son-mqtt")) << gateway->describe();
  EXPECT_LT(notification_delay_ms("h001-000001-s0r0-li-mqtt"), 1000) << "the caregiver at once";
  EXPECT_GE(notification_delay_ms("h001-000001-s1r0-son-mqtt"), 3000) << "the second step waits";

  test::Publisher app(broker_.url());
  app.publish("homesafe/h001/ack",
              R"({"alert_id":"h001-000001","by":"son","action":"ack","note":"马上到"})");
  ASSERT_TRUE(wait_alert("smoke", "acknowledged"));
  // The duty desk step would be due 12 s after the alarm: wait past that for it to show up
  // wrongly (the ack came about 3 s after the alarm).
  std::this_thread::sleep_for(11s);
  EXPECT_EQ(notification_ids(),
            (std::vector<std::string>{"h001-000001-s0r0-li-mqtt", "h001-000001-s1r0-son-mqtt"}));
  ASSERT_TRUE(test::wait_until(
      [&] { return notification_state("h001-000001-s1r0-son-mqtt") == "acknowledged"; }));
  EXPECT_EQ(notification_state("h001-000001-s0r0-li-mqtt"), "sent");

  // The delivery record is visible to the installer.
  Process cli(
      {HOMESAFE_GATEWAY_BIN, "alerts", "--config", config_path_.string(), "--show", "h001-000001"});
  ASSERT_EQ(cli.wait_for_exit(20s), std::optional<int>(0)) << cli.describe();
  EXPECT_NE(cli.read_stdout().find("acknowledged"), std::string::npos) << cli.describe();
  EXPECT_NE(cli.read_stdout().find("h001-000001-s0r0-li-mqtt"), std::string::npos);
}

TEST_F(EscalationE2E, KilledBetweenStepsTheLadderGoesOnWithoutDuplicates) {
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online());
  sim({"press", "call-button", "--broker", broker_.url(), "--topic",
       "homesafe/h001/dev/bedroom-sos", "--quiet"});
  ASSERT_TRUE(wait_notification("h001-000001-s0r0-li-mqtt"));
  // Between two steps: the first is delivered and recorded, the second not yet due.
  ASSERT_TRUE(
      test::wait_until([&] { return notification_state("h001-000001-s0r0-li-mqtt") == "sent"; }));
  gateway->kill(SIGKILL);
  ASSERT_EQ(gateway->wait_for_exit(20s), std::optional<int>(128 + SIGKILL));

  const std::size_t seen = watcher_->size();
  auto restarted = start_gateway();
  ASSERT_TRUE(wait_online(seen)) << restarted->describe();
  ASSERT_TRUE(wait_notification("h001-000001-s1r0-son-mqtt")) << restarted->describe();
  EXPECT_GE(notification_delay_ms("h001-000001-s1r0-son-mqtt"), 3000)
      << "not early after the restart";
  ASSERT_TRUE(wait_notification("h001-000001-s2r0-desk-mqtt")) << restarted->describe();
  EXPECT_EQ(notification_ids(),
            (std::vector<std::string>{"h001-000001-s0r0-li-mqtt", "h001-000001-s1r0-son-mqtt",
                                      "h001-000001-s2r0-desk-mqtt"}))
      << "every step once, in order, none skipped";
  ASSERT_EQ(restarted->stop(), std::optional<int>(0)) << restarted->describe();
}

TEST_F(EscalationE2E, DoublePressByTheCaregiverOnSiteStopsTheLadder) {
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online());
  sim_send("kitchen-smoke", "smoke_detector", "alarm");
  ASSERT_TRUE(wait_notification("h001-000001-s0r0-li-mqtt"));
  sim_send("bedroom-sos", "call_button", "double_press");
  ASSERT_TRUE(wait_alert("smoke", "acknowledged")) << gateway->describe();
  gateway::Store store(db_path_.string());
  const auto history = store.alert_events("h001-000001");
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back().channel, "button");
  EXPECT_EQ(history.back().by, "li");
}

}  // namespace
}  // namespace homesafe

namespace homesafe {
namespace {

constexpr const char* kSmsConfig =
    R"(household: {id: h001, name: "3组 王奶奶", timezone: Asia/Shanghai}
broker: {url: "@URL@", keepalive: 5s}
storage: {path: "@DB@"}
devices:
  - {id: bedroom-sos, kind: call_button, location: 卧室}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: sms, number: "+8613800000001"}]}
notify:
  modem: {device: "@DIR@/modem"}
)";

// The caregiver's phone is the simulated 4G modem: the SMS arrives there and her reply "1"
// acknowledges the alert.
class SmsE2E : public test::GatewayFixture {
 protected:
  std::string config_template() const override {
    std::string text = kSmsConfig;
    text.replace(text.find("@DIR@"), 5, dir_.path().string());
    return text;
  }
};

TEST_F(SmsE2E, TheCaregiverGetsAnSmsAndRepliesOneToAcknowledge) {
  test::Process modem({HOMESAFE_SIM_BIN, "modem", "--link", (dir_ / "modem").string(), "--outbox",
                       (dir_ / "sms.jsonl").string(), "--control", (dir_ / "modem.ctl").string()});
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(dir_ / "modem"); }))
      << modem.describe();
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online());
  sim({"press", "call-button", "--broker", broker_.url(), "--topic",
       "homesafe/h001/dev/bedroom-sos", "--quiet"});
  ASSERT_TRUE(wait_alert("call", "open"));
  ASSERT_TRUE(test::wait_until([&] {
    return test::read_file(dir_ / "sms.jsonl").find("紧急呼叫") != std::string::npos;
  })) << modem.describe()
      << gateway->describe();
  const auto sms = nlohmann::json::parse(test::read_file(dir_ / "sms.jsonl"));
  EXPECT_EQ(sms["to"], "+8613800000001");
  EXPECT_NE(sms["text"].get<std::string>().find("回复1确认"), std::string::npos);

  test::Process reply({HOMESAFE_SIM_BIN, "modem-ctl", (dir_ / "modem.ctl").string(), "reply",
                       "+8613800000001", "1"});
  ASSERT_EQ(reply.wait_for_exit(20s), std::optional<int>(0)) << reply.describe();
  ASSERT_TRUE(wait_alert("call", "acknowledged")) << gateway->describe() << modem.describe();
  gateway::Store store(db_path_.string());
  const auto history = store.alert_events("h001-000001");
  EXPECT_EQ(history.back().by, "li");
  EXPECT_EQ(history.back().channel, "sms");
  // The gateway log never shows the phone number or the text.
  EXPECT_EQ(gateway->read_stderr().find("13800000001"), std::string::npos);
  EXPECT_EQ(gateway->read_stderr().find("紧急呼叫"), std::string::npos);
  ASSERT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

}  // namespace
}  // namespace homesafe
