// Check-in before escalation and away mode, through the whole hub (rules, alerts, escalation,
// store) with a manual clock.
#include <gtest/gtest.h>

#include "gateway_test_support.hpp"
#include "homesafe/gateway/clock.hpp"

namespace homesafe::gateway {
namespace {

constexpr const char* kConfig = R"(
household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
storage: {path: ":memory:"}
devices:
  - {id: hall-motion, kind: motion, location: 门厅}
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
rules:
  sleep: "03:00-04:00"
  inactivity: {after: 1h}
  no_water: off
  routine: off
  device_silence: off
  checkin:
    wait: 10m
    topic: zigbee2mqtt/hall-chime/set
    payload: '{"alarm": "ON", "melody": 3}'
)";

HubConfig config_with(const std::string& extra_removed = {}) {
  std::string text = kConfig;
  if (!extra_removed.empty()) text.erase(text.find(extra_removed), extra_removed.size());
  auto result = parse_config(text, "modes.yaml");
  if (!result.errors.empty()) throw std::runtime_error(result.errors.front().to_string());
  return *result.config;
}

class HouseholdModesTest : public ::testing::Test {
 protected:
  explicit HouseholdModesTest(HubConfig config = config_with())
      : config_(std::move(config)),
        hub_(config_, store_, output_, rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600)) {
    hub_.start(clock_.now());
  }

  void motion() {
    hub_.on_message("homesafe/h001/dev/hall-motion/state", R"({"occupancy":true})", clock_.now());
  }
  // Moves virtual time on, firing every hub deadline on the way (as replay does).
  void advance_minutes(int minutes) {
    const std::int64_t target = clock_.now().mono_ms + minutes * 60'000LL;
    while (auto deadline = hub_.next_deadline_mono_ms()) {
      if (*deadline > target) break;
      if (*deadline > clock_.now().mono_ms) clock_.advance_ms(*deadline - clock_.now().mono_ms);
      hub_.on_tick(clock_.now());
      if (hub_.next_deadline_mono_ms() == deadline) break;
    }
    clock_.advance_ms(target - clock_.now().mono_ms);
    hub_.on_tick(clock_.now());
  }
  std::vector<std::string> notified() const {
    std::vector<std::string> out;
    for (const auto& n : output_.notifications) out.push_back(n.contact_id + "/" + n.channel);
    return out;
  }
  std::vector<std::string> events() const {
    std::vector<std::string> out;
    for (const auto& change : output_.changes) {
      out.push_back(std::string(rules::to_string(change.alert.kind)) + " " + change.event);
    }
    return out;
  }

  HubConfig config_;
  Store store_{":memory:"};
  test::RecordingOutput output_;
  ManualClock clock_{1'793'487'600'000, 5'000};  // 2026-11-01 07:00 +08:00
  Hub hub_;
};

TEST_F(HouseholdModesTest, TheResidentIsAskedFirstAndASignOfLifeResolvesTheAlert) {
  motion();
  advance_minutes(61);
  ASSERT_EQ(events(), (std::vector<std::string>{"inactivity opened"}));
  ASSERT_EQ(notified(), (std::vector<std::string>{"resident/device_command"}));
  EXPECT_EQ(output_.notifications[0].address, "zigbee2mqtt/hall-chime/set");
  EXPECT_EQ(output_.notifications[0].text, R"({"alarm": "ON", "melody": 3})");
  EXPECT_EQ(output_.notifications[0].role, "resident");

  advance_minutes(3);
  motion();  // the resident walks to the chime
  // The rule sees the condition end; the check-in closes the alert.
  ASSERT_EQ(events(), (std::vector<std::string>{"inactivity opened", "inactivity condition_cleared",
                                                "inactivity resolved"}));
  const auto history = store_.alert_events(output_.changes[0].alert.alert_id);
  EXPECT_EQ(history.back().note, "resident responded");
  advance_minutes(50);  // nobody else is ever told about it
  EXPECT_EQ(notified(), (std::vector<std::string>{"resident/device_command"}));
}

TEST_F(HouseholdModesTest, WithoutAnAnswerTheLadderRunsLateByTheWait) {
  motion();
  advance_minutes(61);
  advance_minutes(9);
  EXPECT_EQ(notified(), (std::vector<std::string>{"resident/device_command"}));
  advance_minutes(1);
  EXPECT_EQ(notified(), (std::vector<std::string>{"resident/device_command", "li/mqtt"}));
  // Once the caregiver has been told, activity no longer closes the alert by itself: the
  // caregiver handles it.
  motion();
  EXPECT_EQ(events(),
            (std::vector<std::string>{"inactivity opened", "inactivity condition_cleared"}));
}

TEST_F(HouseholdModesTest, HazardsSkipTheCheckIn) {
  hub_.on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke":true})", clock_.now());
  EXPECT_EQ(notified(), (std::vector<std::string>{"li/mqtt"}));
}

TEST_F(HouseholdModesTest, AwayFromTheAckTopicPausesPersonAlertsUntilItEnds) {
  motion();
  const std::string until = "2026-11-01T13:00:00+08:00";  // six hours from now
  EXPECT_EQ(
      hub_.on_ack_message(R"({"action":"away","until":")" + until + R"(","by":"li","note":"住院"})",
                          clock_.now()),
      AckOutcome::applied);
  ASSERT_TRUE(hub_.away_until_wall_ms());
  advance_minutes(5 * 60);
  EXPECT_TRUE(events().empty());
  // A hazard still alerts while away.
  hub_.on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke":true})", clock_.now());
  EXPECT_EQ(events(), (std::vector<std::string>{"smoke opened"}));
  // The away time runs out at 13:00; the hour of inactivity counts from then.
  advance_minutes(60 + 59);
  EXPECT_FALSE(hub_.away_until_wall_ms());
  EXPECT_EQ(events().size(), 1u);
  advance_minutes(2);
  EXPECT_EQ(events(), (std::vector<std::string>{"smoke opened", "inactivity opened"}));
  EXPECT_GE(hub_.suppressed().at("inactivity/away"), 1);
}

TEST_F(HouseholdModesTest, HomeEndsAwayAndBadAwayRequestsAreRefused) {
  EXPECT_EQ(hub_.on_ack_message(R"({"action":"away","until":"2026-11-02T09:00:00+08:00",)"
                                R"("by":"stranger"})",
                                clock_.now()),
            AckOutcome::unknown_contact);
  EXPECT_EQ(hub_.on_ack_message(R"({"action":"away","until":"next week","by":"li"})", clock_.now()),
            AckOutcome::unknown_alert);
  EXPECT_EQ(hub_.on_ack_message(R"({"action":"away","until":"2027-11-02T09:00:00+08:00",)"
                                R"("by":"li"})",
                                clock_.now()),
            AckOutcome::unknown_alert);  // more than 90 days
  EXPECT_FALSE(hub_.away_until_wall_ms());
  EXPECT_EQ(hub_.on_ack_message(R"({"action":"away","until":"2026-11-02T09:00:00+08:00",)"
                                R"("by":"li"})",
                                clock_.now()),
            AckOutcome::applied);
  EXPECT_TRUE(hub_.away_until_wall_ms());
  EXPECT_EQ(hub_.on_ack_message(R"({"action":"home","by":"li"})", clock_.now()),
            AckOutcome::applied);
  EXPECT_FALSE(hub_.away_until_wall_ms());
}

}  // namespace
}  // namespace homesafe::gateway
