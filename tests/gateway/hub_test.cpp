#include "homesafe/gateway/hub.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "gateway_test_support.hpp"
#include "homesafe/gateway/clock.hpp"

namespace homesafe::gateway {
namespace {

class HubTest : public ::testing::Test {
 protected:
  HubTest() : hub_(config_, store_, output_, rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600)) {
    hub_.start(clock_.now());
  }

  void send(const std::string& device, const std::string& payload) {
    clock_.advance_ms(1000);
    hub_.on_message("homesafe/h001/dev/" + device + "/state", payload, clock_.now());
  }
  AckOutcome ack(const std::string& payload) {
    clock_.advance_ms(1000);
    return hub_.on_ack_message(payload, clock_.now());
  }
  std::vector<std::string> events() const {
    std::vector<std::string> out;
    for (const auto& change : output_.changes) {
      out.push_back(change.alert.alert_id + " " + std::string(rules::to_string(change.alert.kind)) +
                    " " + change.event + " " + std::string(to_string(change.alert.state)));
    }
    return out;
  }

  HubConfig config_ = test::small_config();
  Store store_{":memory:"};
  test::RecordingOutput output_;
  ManualClock clock_{1'793'487'600'000, 5'000};
  Hub hub_;
};

TEST_F(HubTest, SmokeAlarmBecomesOnePersistedAlert) {
  send("kitchen-smoke", R"({"smoke":true,"battery":90})");
  send("kitchen-smoke", R"({"smoke":true,"battery":89})");
  send("kitchen-smoke", R"({"smoke":true,"battery":88})");
  ASSERT_EQ(events(), (std::vector<std::string>{"h001-000001 smoke opened open"}));
  const auto& alert = output_.changes[0].alert;
  EXPECT_EQ(alert.severity, rules::Severity::emergency);
  EXPECT_EQ(alert.location, "厨房");
  EXPECT_EQ(alert.device_id, "kitchen-smoke");
  auto stored = store_.find_alert("h001-000001");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->repeat_count, 2);
  EXPECT_EQ(store_.active_alerts().size(), 1u);
}

TEST_F(HubTest, SmokeStaysOpenUntilAPersonResolvesIt) {
  send("kitchen-smoke", R"({"smoke":true})");
  send("kitchen-smoke", R"({"smoke":false})");
  EXPECT_EQ(store_.find_alert("h001-000001")->state, AlertState::open);
  EXPECT_EQ(ack(R"({"alert_id":"h001-000001","by":"li","action":"ack","note":"去看看"})"),
            AckOutcome::applied);
  EXPECT_EQ(ack(R"({"alert_id":"h001-000001","by":"li","action":"resolve","note":"烧焦了面包"})"),
            AckOutcome::applied);
  EXPECT_EQ(events(), (std::vector<std::string>{"h001-000001 smoke opened open",
                                                "h001-000001 smoke condition_cleared open",
                                                "h001-000001 smoke acknowledged acknowledged",
                                                "h001-000001 smoke resolved resolved"}));
  const auto history = store_.alert_events("h001-000001");
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[3].by, "li");
  EXPECT_EQ(history[3].channel, "mqtt");
  EXPECT_EQ(history[3].note, "烧焦了面包");
  // A new fire after that is a new alert.
  send("kitchen-smoke", R"({"smoke":true})");
  EXPECT_EQ(events().back(), "h001-000002 smoke opened open");
}

TEST_F(HubTest, StaleCachedAlarmAfterResolutionIsNotANewAlert) {
  send("kitchen-smoke", R"({"smoke":true})");
  ack(R"({"alert_id":"h001-000001","by":"li","action":"resolve"})");
  send("kitchen-smoke", R"({"smoke":true,"battery":80})");  // battery report with cached smoke
  EXPECT_EQ(events().size(), 2u);
  EXPECT_TRUE(store_.active_alerts().empty());
}

TEST_F(HubTest, LeakResolvesItselfWhenDry) {
  send("bathroom-leak", R"({"water_leak":true})");
  send("bathroom-leak", R"({"water_leak":false})");
  EXPECT_EQ(events(), (std::vector<std::string>{"h001-000001 water_leak opened open",
                                                "h001-000001 water_leak resolved resolved"}));
  EXPECT_EQ(output_.changes[0].alert.severity, rules::Severity::warning);
}

TEST_F(HubTest, RepeatedPressesJoinTheOpenCall) {
  send("bedroom-sos", R"({"action":"sos"})");
  send("bedroom-sos", R"({"action":"sos"})");
  EXPECT_EQ(events(), (std::vector<std::string>{"h001-000001 call opened open"}));
  EXPECT_EQ(output_.changes[0].alert.detail, "action=sos");
}

TEST_F(HubTest, AcksFromStrangersOrForUnknownAlertsAreRefused) {
  send("bedroom-sos", R"({"action":"sos"})");
  EXPECT_EQ(ack(R"({"alert_id":"h001-000001","by":"stranger"})"), AckOutcome::unknown_contact);
  EXPECT_EQ(ack(R"({"alert_id":"h001-999999","by":"li"})"), AckOutcome::unknown_alert);
  EXPECT_EQ(ack(R"({"alert_id":"h001-000001","by":"li","action":"explode"})"),
            AckOutcome::unknown_alert);
  EXPECT_EQ(ack("not json"), AckOutcome::unknown_alert);
  EXPECT_EQ(store_.find_alert("h001-000001")->state, AlertState::open);
  EXPECT_EQ(hub_.input_errors().total("ack", "malformed"), 2);
  EXPECT_EQ(hub_.input_errors().total("ack", "malformed:unknown_contact"), 1);
  EXPECT_EQ(ack(R"({"alert_id":"h001-000001","by":"li"})"), AckOutcome::applied);
  EXPECT_EQ(ack(R"({"alert_id":"h001-000001","by":"li"})"), AckOutcome::already_done);
}

TEST_F(HubTest, BadInputIsCountedNeverAllClear) {
  send("kitchen-gas", R"({"gas":true})");
  send("kitchen-gas", R"({"gas":"no"})");  // wrong type: unknown, not a clear
  send("kitchen-gas", std::string(Hub::kMaxPayloadBytes + 1, ' '));
  EXPECT_EQ(hub_.input_errors().total("kitchen-gas", "wrong_type:gas"), 1);
  EXPECT_EQ(hub_.input_errors().total("kitchen-gas", "oversized"), 1);
  EXPECT_TRUE(store_.find_alert("h001-000001")->condition_active);
  hub_.on_message("homesafe/h001/dev/intruder/state", "{}", clock_.now());
  hub_.on_message("elsewhere/topic", "{}", clock_.now());
  EXPECT_EQ(hub_.input_errors().total("?intruder", "unknown_device"), 1);
  EXPECT_EQ(hub_.input_errors().total("-", "unknown_topic"), 1);
}

TEST_F(HubTest, AlarmDeviceSendingGarbageBecomesADeviceFault) {
  send("kitchen-gas", "garbage");
  send("kitchen-gas", "garbage");
  EXPECT_TRUE(events().empty());
  send("kitchen-gas", "garbage");
  EXPECT_EQ(events(), (std::vector<std::string>{"h001-000001 device_fault opened open"}));
  EXPECT_EQ(output_.changes[0].alert.severity, rules::Severity::info);
  send("kitchen-gas", R"({"gas":false})");
  EXPECT_EQ(events().back(), "h001-000001 device_fault resolved resolved");
}

TEST_F(HubTest, SelfTestIsRecordedNotAlerted) {
  send("kitchen-smoke", R"({"smoke":true,"test":true})");
  send("kitchen-smoke", R"({"smoke":false,"test":false})");
  EXPECT_TRUE(events().empty());
  const auto recorded = store_.device_events("kitchen-smoke", 10);
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].event, "self_test");
}

TEST_F(HubTest, AMeterResetIsInTheDeviceHistoryNotAnAlert) {
  send("water-meter", R"({"water_total_l":12345.0})");
  clock_.advance_ms(5 * 60'000);
  send("water-meter", R"({"water_total_l":3.0})");  // battery change: the counter starts again
  EXPECT_TRUE(events().empty());
  const auto recorded = store_.device_events("water-meter", 10);
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].event, "meter_reset #1 water_total_l 12345.000 -> 3.000");
}

TEST_F(HubTest, SubscriptionsAndAlarmTopics) {
  const auto subs = hub_.subscriptions();
  ASSERT_EQ(subs.size(), 4u);
  EXPECT_EQ(subs[0].filter, "homesafe/h001/dev/#");
  EXPECT_EQ(subs[0].qos, 1);
  EXPECT_EQ(subs[1].filter, "homesafe/h001/ack");
  EXPECT_EQ(subs[2].filter, "custom/smoke/availability");
  EXPECT_EQ(subs[3].filter, "custom/smoke/state");
  EXPECT_EQ(subs[3].qos, 1);
  EXPECT_TRUE(hub_.is_alarm_topic("homesafe/h001/dev/kitchen-smoke/state"));
  EXPECT_TRUE(hub_.is_alarm_topic("homesafe/h001/dev/bedroom-sos/state"));
  EXPECT_TRUE(hub_.is_alarm_topic("homesafe/h001/ack"));
  EXPECT_TRUE(hub_.is_alarm_topic("custom/smoke/state"));
  EXPECT_FALSE(hub_.is_alarm_topic("homesafe/h001/dev/water-meter/state"));
  EXPECT_FALSE(hub_.is_alarm_topic("homesafe/h001/dev/unknown/state"));
}

TEST_F(HubTest, TelemetryIsBufferedThenStored) {
  send("water-meter", R"({"water_total_l":100.5,"battery":90})");
  EXPECT_EQ(store_.telemetry_count(), 0);
  hub_.flush_telemetry();
  EXPECT_EQ(store_.telemetry_count(), 2);
}

TEST_F(HubTest, TelemetryKeepsTheLatestMeasurementOfAFlushAndEveryState) {
  // A meter chattering within one flush (the daemon flushes every second): one row, the latest.
  for (int i = 0; i < 5; ++i) {
    send("water-meter", R"({"water_total_l":)" + std::to_string(100 + i) + R"(,"battery":90})");
  }
  // States keep every reading: the daily summary counts them.
  send("kitchen-smoke", R"({"smoke":false})");
  send("kitchen-smoke", R"({"smoke":false})");
  const std::int64_t at = clock_.now().wall_ms;
  hub_.flush_telemetry();
  auto water = store_.telemetry_between(0, at + 1, "water_total_l");
  ASSERT_EQ(water.size(), 1u);
  EXPECT_EQ(water[0].number, 104.0);
  EXPECT_EQ(water[0].ts_ms, at - 2000);  // when the latest reading came
  EXPECT_EQ(store_.telemetry_between(0, at + 1, "battery").size(), 1u);
  EXPECT_EQ(store_.telemetry_between(0, at + 1, "smoke").size(), 2u);

  // The next flush starts afresh.
  send("water-meter", R"({"water_total_l":105})");
  send("water-meter", R"({"water_total_l":106})");
  hub_.flush_telemetry();
  water = store_.telemetry_between(0, clock_.now().wall_ms + 1, "water_total_l");
  ASSERT_EQ(water.size(), 2u);
  EXPECT_EQ(water[1].number, 106.0);
}

// An alarm's transaction carries the rule state its own message changed; a meter's state waits
// for the telemetry flush (within a second), like the meter's reading.
TEST_F(HubTest, AnAlarmCommitsItsOwnRuleStateAndLeavesTheMetersForTheFlush) {
  auto keys_of = [](const std::string& device, const auto& state) {
    int n = 0;
    for (const auto& [key, value] : state) {
      if (key.find("/" + device + "/") != std::string::npos) ++n;
    }
    return n;
  };
  hub_.flush_telemetry();
  const int meter_keys_before = keys_of("water-meter", store_.load_rule_state());
  send("water-meter", R"({"water_total_l":100.5,"battery":90})");
  send("kitchen-smoke", R"({"smoke":true})");
  ASSERT_EQ(events().size(), 1u);
  EXPECT_GT(keys_of("kitchen-smoke", store_.load_rule_state()), 0);
  EXPECT_EQ(keys_of("water-meter", store_.load_rule_state()), meter_keys_before);

  hub_.flush_telemetry();
  EXPECT_GT(keys_of("water-meter", store_.load_rule_state()), meter_keys_before);
}

TEST(HubTelemetry, EveryReadingWhenConfigured) {
  HubConfig config = test::small_config();
  config.storage.telemetry_every_reading = true;
  Store store(":memory:");
  test::RecordingOutput output;
  ManualClock clock{1'793'487'600'000, 5'000};
  Hub hub(config, store, output, rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600));
  hub.start(clock.now());
  for (int i = 0; i < 5; ++i) {
    clock.advance_ms(100);
    hub.on_message("homesafe/h001/dev/water-meter/state",
                   R"({"water_total_l":)" + std::to_string(100 + i) + "}", clock.now());
  }
  hub.flush_telemetry();
  const auto water = store.telemetry_between(0, clock.now().wall_ms + 1, "water_total_l");
  ASSERT_EQ(water.size(), 5u);
  EXPECT_EQ(water[4].number, 104.0);
}

TEST(HubRestart, StateAndIdsSurviveARestart) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("homesafe-hub-restart-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "hub.db").string();
  const auto config = test::small_config();
  const auto zone = rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600);
  ManualClock clock(1'793'487'600'000, 0);
  {
    Store store(path);
    test::RecordingOutput output;
    Hub hub(config, store, output, zone);
    hub.start(clock.now());
    hub.on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke":true})", clock.now());
    ASSERT_EQ(output.changes.size(), 1u);
  }
  {
    Store store(path);
    test::RecordingOutput output;
    Hub hub(config, store, output, zone);
    hub.start(clock.now());
    EXPECT_EQ(hub.alerts().active().size(), 1u);
    clock.advance_ms(1000);
    // The broker re-delivers the same alarm after a crash: it joins, no second alert.
    hub.on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke":true})", clock.now());
    EXPECT_TRUE(output.changes.empty());
    hub.on_message("homesafe/h001/dev/bedroom-sos/state", R"({"action":"sos"})", clock.now());
    ASSERT_EQ(output.changes.size(), 1u);
    EXPECT_EQ(output.changes[0].alert.alert_id, "h001-000002");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace homesafe::gateway
