// The escalation ladder with a fake clock: timings, stops, quiet hours, restarts, clock jumps.
#include "homesafe/gateway/escalation.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "gateway_test_support.hpp"
#include "homesafe/gateway/clock.hpp"
#include "homesafe/gateway/hub.hpp"
#include "homesafe/gateway/notify/message_text.hpp"

namespace homesafe::gateway {
namespace {

using namespace std::chrono_literals;

constexpr const char* kConfig = R"(
household: {id: h001, name: "3组 王奶奶", timezone: Asia/Shanghai}
storage: {path: ":memory:"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: bedroom-sos, kind: call_button, location: 卧室}
  - {id: bathroom-leak, kind: water_leak, location: 卫生间}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}, {type: sms, number: "+8613800000000"}]}
  - {id: son, name: 王先生, role: emergency_contact, channels: [{type: mqtt}]}
  - {id: desk, name: 值班台, role: duty_desk, channels: [{type: mqtt}]}
  - {id: tech, name: 技术员, role: installer, channels: [{type: mqtt}]}
notify:
  modem: {device: /dev/null}
)";

HubConfig config_with(const std::string& extra = "") {
  auto result = parse_config(std::string(kConfig) + extra, "test.yaml");
  if (!result.errors.empty()) throw std::runtime_error(result.errors.front().to_string());
  return *result.config;
}

// 2026-11-01 07:00 Asia/Shanghai (daytime).
constexpr std::int64_t kMorning = 1'793'487'600'000;
// 2026-11-01 02:00 Asia/Shanghai (night).
constexpr std::int64_t kNight = kMorning - 5 * 3'600'000;

class LadderHarness {
 public:
  LadderHarness(HubConfig config, std::string store_path, std::int64_t wall_ms,
                std::string boot = "boot-1", std::int64_t mono_ms = 1'000'000)
      : config_(std::move(config)),
        store_(store_path),
        clock_(wall_ms, mono_ms),
        hub_(config_, store_, output_, rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600),
             std::move(boot)) {
    hub_.start(clock_.now());
  }

  void device(const std::string& id, const std::string& payload) {
    hub_.on_message("homesafe/h001/dev/" + id + "/state", payload, clock_.now());
  }
  // Moves time forward, firing every deadline on the way (as the daemon's timer does).
  void advance(std::chrono::milliseconds by) {
    const std::int64_t target = clock_.now().mono_ms + by.count();
    while (auto deadline = hub_.next_deadline_mono_ms()) {
      if (*deadline > target) break;
      if (*deadline > clock_.now().mono_ms) clock_.advance_ms(*deadline - clock_.now().mono_ms);
      hub_.on_tick(clock_.now());
    }
    clock_.advance_ms(target - clock_.now().mono_ms);
    hub_.on_tick(clock_.now());
  }
  std::vector<std::string> sent() const {
    std::vector<std::string> ids;
    for (const auto& n : output_.notifications) ids.push_back(n.notification_id);
    return ids;
  }
  std::vector<std::string> sent_mqtt() const {
    std::vector<std::string> ids;
    for (const auto& n : output_.notifications) {
      if (n.channel == "mqtt") ids.push_back(n.notification_id);
    }
    return ids;
  }
  std::string first_alert() const { return output_.changes.front().alert.alert_id; }

  HubConfig config_;
  Store store_;
  test::RecordingOutput output_;
  ManualClock clock_;
  Hub hub_;
};

TEST(Escalation, EmergencyLadderDefaults) {
  LadderHarness h(config_with(), ":memory:", kMorning);
  h.device("kitchen-smoke", R"({"smoke":true})");
  EXPECT_EQ(h.sent(),
            (std::vector<std::string>{"h001-000001-s0r0-li-mqtt", "h001-000001-s0r0-li-sms"}));
  h.advance(3min - 1ms);
  EXPECT_EQ(h.sent().size(), 2u) << "nothing before 3 minutes";
  h.advance(1ms);
  EXPECT_EQ(h.sent().back(), "h001-000001-s1r0-son-mqtt");
  h.advance(3min);
  EXPECT_EQ(h.sent().back(), "h001-000001-s2r0-desk-mqtt");
  h.advance(5min);
  EXPECT_EQ(h.sent().back(), "h001-000001-s2r1-desk-mqtt");
  h.advance(5min);
  EXPECT_EQ(h.sent().back(), "h001-000001-s2r2-desk-mqtt");
  const auto sent = h.sent();
  EXPECT_EQ(sent.size(), 6u);
  const std::set<std::string> unique(sent.begin(), sent.end());
  EXPECT_EQ(unique.size(), sent.size());
}

TEST(Escalation, AcknowledgementStopsTheLadder) {
  LadderHarness h(config_with(), ":memory:", kMorning);
  h.device("bedroom-sos", R"({"action":"sos"})");
  h.advance(4min);
  EXPECT_EQ(h.sent().size(), 3u);
  EXPECT_EQ(h.hub_.acknowledge({h.first_alert(), "son", AckAction::ack, "on my way", "mqtt"},
                               h.clock_.now()),
            AckOutcome::applied);
  EXPECT_FALSE(h.hub_.escalator().next_deadline_mono_ms().has_value());
  h.advance(1h);
  EXPECT_EQ(h.sent().size(), 3u);
  // The delivery record shows who acknowledged.
  h.hub_.record_delivery("h001-000001-s0r0-li-mqtt", {true, false, {}}, 1, h.clock_.now());
  const auto rows = h.store_.notifications(h.first_alert());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].state, "sent");
  EXPECT_EQ(rows[2].contact_id, "son");
}

TEST(Escalation, UntilResolvedKeepsGoingAfterAnAck) {
  LadderHarness h(config_with(R"(
escalation:
  - match: {kind: call}
    steps: [{after: 0s, notify: [caregiver]}, {wait: 2m, notify: [duty_desk]}]
    repeat: 10m
    until: resolved
)"),
                  ":memory:", kMorning);
  h.device("bedroom-sos", R"({"action":"sos"})");
  h.hub_.acknowledge({h.first_alert(), "li", AckAction::ack, "", "mqtt"}, h.clock_.now());
  h.advance(2min);
  EXPECT_EQ(h.sent().back(), "h001-000001-s1r0-desk-mqtt");
  h.hub_.acknowledge({h.first_alert(), "li", AckAction::resolve, "", "mqtt"}, h.clock_.now());
  h.advance(1h);
  EXPECT_EQ(h.sent().back(), "h001-000001-s1r0-desk-mqtt");
}

TEST(Escalation, MaintenanceWaitsForTheDaytimeButEmergenciesNever) {
  LadderHarness h(config_with(), ":memory:", kNight);
  h.device("kitchen-smoke", R"({"battery_low":true})");
  EXPECT_TRUE(h.sent().empty()) << "no maintenance message at 02:00";
  h.device("kitchen-smoke", R"({"smoke":true,"battery_low":true})");
  EXPECT_EQ(h.sent().size(), 2u) << "an emergency goes out at once, also at night";
  h.hub_.acknowledge({"h001-000002", "li", AckAction::ack, "", "sms"}, h.clock_.now());
  h.advance(5h + 59min);
  EXPECT_EQ(h.sent().size(), 2u);
  h.advance(1min);  // 08:00
  EXPECT_EQ(h.sent().back(), "h001-000001-s0r0-tech-mqtt");
}

TEST(Escalation, AWallClockJumpNeitherFiresNorDelays) {
  LadderHarness h(config_with(), ":memory:", kMorning);
  h.device("kitchen-smoke", R"({"smoke":true})");
  h.clock_.jump_wall_ms(3'600'000);  // NTP sync after boot: the wall clock jumps an hour
  h.hub_.on_tick(h.clock_.now());
  EXPECT_EQ(h.sent().size(), 2u);
  h.advance(3min);
  EXPECT_EQ(h.sent().back(), "h001-000001-s1r0-son-mqtt");
  EXPECT_EQ(h.sent().size(), 3u);
}

class EscalationRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("homesafe-escalation-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "hub.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(EscalationRestart, KilledBetweenStepsTheNextFiresOnTimeOnce) {
  std::vector<std::string> all;
  std::int64_t wall = 0;
  std::int64_t mono = 0;
  {
    LadderHarness h(config_with(), path_, kMorning);
    h.device("kitchen-smoke", R"({"smoke":true})");
    h.advance(2min);
    all = h.sent();
    wall = h.clock_.now().wall_ms;
    mono = h.clock_.now().mono_ms;
  }  // "kill -9": nothing else is written
  LadderHarness h(config_with(), path_, wall, "boot-1", mono);  // same boot: monotonic goes on
  h.advance(1min - 1ms);
  EXPECT_TRUE(h.sent().empty()) << "not early";
  h.advance(1ms);
  ASSERT_EQ(h.sent(), std::vector<std::string>{"h001-000001-s1r0-son-mqtt"});
  for (const auto& id : h.sent()) all.push_back(id);
  const std::set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), all.size()) << "no notification twice";
}

TEST_F(EscalationRestart, AfterAPowerCutOverdueStepsFireAtOnceInOrder) {
  {
    LadderHarness h(config_with(), path_, kMorning);
    h.device("kitchen-smoke", R"({"smoke":true})");
  }
  // Ten minutes later, after a reboot: monotonic time restarted, the wall clock is synced.
  LadderHarness h(config_with(), path_, kMorning + 10 * 60'000, "boot-2", 5'000);
  h.hub_.on_tick(h.clock_.now());
  EXPECT_EQ(h.sent(),
            (std::vector<std::string>{"h001-000001-s1r0-son-mqtt", "h001-000001-s2r0-desk-mqtt"}));
  h.advance(1min - 1ms);
  EXPECT_EQ(h.sent().size(), 2u);
  h.advance(1ms);  // 11 minutes after opening: the first reminder
  EXPECT_EQ(h.sent().back(), "h001-000001-s2r1-desk-mqtt");
}

TEST_F(EscalationRestart, AfterAPowerCutWithoutClockSyncNothingIsSkipped) {
  {
    LadderHarness h(config_with(), path_, kMorning);
    h.device("kitchen-smoke", R"({"smoke":true})");
  }
  // Rebooted with a wrong wall clock (no RTC, no NTP yet): the outage length is unknown, so the
  // ladder resumes where it was: the next step follows its own delay.
  LadderHarness h(config_with(), path_, kMorning - 86'400'000, "boot-2", 5'000);
  h.clock_.set_wall_ms(kMorning - 86'400'000);
  h.hub_.on_tick(h.clock_.now());
  EXPECT_TRUE(h.sent().empty());
  h.advance(3min);
  EXPECT_EQ(h.sent(), std::vector<std::string>{"h001-000001-s1r0-son-mqtt"});
}

TEST(Escalation, SmsReplyAcknowledgesTheLatestAlertSentToThatNumber) {
  LadderHarness h(config_with(), ":memory:", kMorning);
  h.device("bedroom-sos", R"({"action":"sos"})");
  EXPECT_EQ(h.hub_.on_sms_reply("+8613900000099", "1", h.clock_.now()),
            AckOutcome::unknown_contact);
  EXPECT_EQ(h.hub_.on_sms_reply("13800000000", "好的?", h.clock_.now()), AckOutcome::unknown_alert);
  EXPECT_EQ(h.hub_.on_sms_reply("13800000000", " 1\r\n", h.clock_.now()), AckOutcome::applied);
  auto alert = h.store_.find_alert(h.first_alert());
  EXPECT_EQ(alert->state, AlertState::acknowledged);
  EXPECT_EQ(alert->acknowledged_by, "li");
  EXPECT_EQ(h.store_.alert_events(h.first_alert()).back().channel, "sms");
}

TEST(Escalation, DoublePressOnTheButtonIsTheCaregiverOnSite) {
  LadderHarness h(config_with(), ":memory:", kMorning);
  h.device("kitchen-smoke", R"({"smoke":true})");
  h.device("bedroom-sos", R"({"action":"double"})");
  auto alert = h.store_.find_alert(h.first_alert());
  EXPECT_EQ(alert->state, AlertState::acknowledged);
  EXPECT_EQ(alert->acknowledged_by, "li");
  EXPECT_EQ(h.store_.alert_events(h.first_alert()).back().channel, "button");
  EXPECT_EQ(h.store_.find_alert("h001-000002"), std::nullopt) << "a double press is not a call";
}

TEST(Escalation, MessagesAreShortChineseAndSay) {
  auto config = config_with();
  config.household.name =
      "某某县某某镇某某村第三村民小组王某某奶奶家（独居，需重点关照的特困老人）";
  LadderHarness h(config, ":memory:", kMorning);
  h.device("kitchen-smoke", R"({"smoke":true})");
  for (const auto& n : h.output_.notifications) {
    EXPECT_LE(notify::utf8_length(n.text), notify::kMaxSmsChars) << n.text;
    EXPECT_NE(n.text.find("烟雾报警"), std::string::npos) << n.text;
    EXPECT_NE(n.text.find("厨房"), std::string::npos) << n.text;
    EXPECT_NE(n.text.find("11月1日07:00"), std::string::npos) << n.text;
  }
  EXPECT_NE(h.output_.notifications[1].text.find("回复1确认"), std::string::npos);
}

TEST(EscalationConfig, PoliciesThatCannotWorkAreRejected) {
  auto result = parse_config(R"(
household: {id: h001, name: "x"}
storage: {path: ":memory:"}
devices: [{id: s, kind: smoke, location: 厨房}]
contacts: [{id: li, name: y, role: caregiver, channels: [{type: mqtt}]}]
escalation:
  - match: {kind: smoke}
    steps: [{after: 0s, notify: [nobody-here]}]
  - match: {kind: gas}
    steps: [{after: 0s, notify: [duty_desk]}]
  - match: {severity: emergency}
    steps: [{after: 0s, notify: [caregiver]}]
    hours: "08:00-20:00"
  - steps: [{after: 5m, notify: [li]}, {after: 1m, notify: [li]}]
)",
                             "x.yaml");
  ASSERT_EQ(result.errors.size(), 4u);
  EXPECT_NE(result.errors[0].message.find("neither a role"), std::string::npos);
  EXPECT_EQ(result.errors[0].line, 8);
  EXPECT_NE(result.errors[1].message.find("never reach anyone"), std::string::npos);
  EXPECT_EQ(result.errors[1].line, 9);
  EXPECT_NE(result.errors[2].message.find("cannot apply to emergencies"), std::string::npos);
  EXPECT_NE(result.errors[3].message.find("time order"), std::string::npos);
}

TEST(EscalationConfig, SmsNeedsAModem) {
  auto result = parse_config(R"(
household: {id: h001, name: "x"}
storage: {path: ":memory:"}
devices: [{id: s, kind: smoke, location: 厨房}]
contacts: [{id: li, name: y, role: caregiver, channels: [{type: sms, number: "+8613800000000"}]}]
)",
                             "x.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("notify.modem"), std::string::npos);
  EXPECT_EQ(result.errors[0].message.find("138"), std::string::npos) << "no phone numbers";
}

}  // namespace
}  // namespace homesafe::gateway
