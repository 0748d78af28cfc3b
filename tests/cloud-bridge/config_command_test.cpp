// The downlink `config` command through the real hub and store: a patch of rules: / escalation:
// is validated by the config loader, applied without a restart, kept in the store's override
// (in the command's transaction) and applied again at every start; a repeat is applied once;
// a bad or forbidden patch changes nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cloud_bridge_test_support.hpp"
#include "homesafe/cloud_bridge/commands.hpp"
#include "homesafe/gateway/config_override.hpp"
#include "homesafe/gateway/hub.hpp"

namespace homesafe::cloud_bridge::test {
namespace {

using gateway::Store;
using nlohmann::json;

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kHourMs = 60 * kMinuteMs;

constexpr const char* kConfig = R"(
household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
storage: {path: ":memory:"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: water-meter, kind: water_meter, location: 厨房}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
  - {id: wang, name: 王先生, role: emergency_contact, channels: [{type: mqtt}]}
  - {id: desk, name: 值班室, role: duty_desk, channels: [{type: mqtt}]}
rules:
  inactivity: off
  routine: off
  device_silence: off
  night_door: off
  no_water: {after: 24h, min_litres: 1}
)";

gateway::HubConfig config_from(const std::string& text) {
  auto result = gateway::parse_config(text, "config.yaml");
  if (!result.errors.empty()) throw std::runtime_error(result.errors.front().to_string());
  return *result.config;
}

class Adapter final : public HubActions {
 public:
  explicit Adapter(gateway::Hub& hub) : hub_(hub) {}
  gateway::AckOutcome acknowledge(const gateway::AckRequest& r,
                                  const rules::Instant& now) override {
    return hub_.acknowledge(r, now);
  }
  void set_away(std::int64_t until, const std::string& by, const std::string& note,
                const rules::Instant& now) override {
    hub_.set_away(until, by, note, now);
  }
  void end_away(const std::string& by, const rules::Instant& now) override {
    hub_.end_away(by, now);
  }
  std::string configure(const std::string& patch, const std::string& id,
                        const rules::Instant& now) override {
    return hub_.apply_config_patch(patch, id, now);
  }

 private:
  gateway::Hub& hub_;
};

std::string config_command(const std::string& id, const std::string& patch) {
  return R"({"v":1,"command_id":")" + id + R"(","type":"config","patch":)" + patch + "}";
}

// One hub "boot" on a store that outlives it (a file, so that a restart reopens it).
class ConfigCommandTest : public ::testing::Test {
 protected:
  ConfigCommandTest()
      : path_(std::filesystem::path(::testing::TempDir()) /
              ("config-command-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db")) {
    std::filesystem::remove(path_);
    boot();
  }
  ~ConfigCommandTest() override {
    commands_.reset();
    adapter_.reset();
    hub_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path_.string() + suffix);
    }
  }

  void boot() {
    commands_.reset();
    adapter_.reset();
    hub_.reset();
    store_.reset();
    store_ = std::make_unique<Store>(path_.string());
    store_->enable_outbox({"h001", "h001"}, clock_);
    output_ = NullOutput{};
    hub_ = std::make_unique<gateway::Hub>(file_config_, *store_, output_,
                                          rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600));
    hub_->start(clock_.now());
    adapter_ = std::make_unique<Adapter>(*hub_);
    commands_ = std::make_unique<CommandProcessor>(*store_, *adapter_);
  }

  CommandOutcome command(const std::string& id, const std::string& patch) {
    auto outcome = commands_->handle(config_command(id, patch), clock_.now());
    if (!outcome) throw std::runtime_error("no outcome");
    return *outcome;
  }

  void meter(double litres) {
    hub_->on_message("homesafe/h001/dev/water-meter/state", json{{"water_total_l", litres}}.dump(),
                     clock_.now());
  }

  // Moves virtual time on, firing every hub deadline on the way (as the daemon's timer does).
  void advance_ms(std::int64_t ms) {
    const std::int64_t target = clock_.now().mono_ms + ms;
    while (auto deadline = hub_->next_deadline_mono_ms()) {
      if (*deadline > target) break;
      if (*deadline > clock_.now().mono_ms) clock_.advance_ms(*deadline - clock_.now().mono_ms);
      hub_->on_tick(clock_.now());
      if (hub_->next_deadline_mono_ms() == deadline) break;
    }
    clock_.advance_ms(target - clock_.now().mono_ms);
    hub_->on_tick(clock_.now());
  }

  std::vector<gateway::AlertChange> opened(rules::AlertKind kind) const {
    std::vector<gateway::AlertChange> out;
    for (const auto& change : output_.changes) {
      if (change.event == "opened" && change.alert.kind == kind) out.push_back(change);
    }
    return out;
  }

  std::vector<std::string> notified() const {
    std::vector<std::string> out;
    for (const auto& n : output_.notifications) {
      out.push_back(n.contact_id + " s" + std::to_string(n.step) + "r" + std::to_string(n.repeat));
    }
    return out;
  }

  std::vector<json> results() {
    std::vector<json> out;
    for (const auto& row : rows_of_type(*store_, "command_result")) {
      out.push_back(json::parse(row.body));
    }
    return out;
  }

  std::filesystem::path path_;
  gateway::HubConfig file_config_ = config_from(kConfig);
  gateway::ManualClock clock_{kStartWallMs, 1'000};
  std::unique_ptr<Store> store_;
  NullOutput output_;
  std::unique_ptr<gateway::Hub> hub_;
  std::unique_ptr<Adapter> adapter_;
  std::unique_ptr<CommandProcessor> commands_;
};

constexpr const char* kNoWater2h = R"({"rules":{"no_water":{"after":"2h"}}})";

TEST_F(ConfigCommandTest, NoWaterLimitChangesWithoutRestart) {
  meter(100.0);  // the watch starts
  advance_ms(30 * kMinuteMs);
  const auto outcome = command("c-1", kNoWater2h);
  EXPECT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(hub_->config().rules.no_water.after_ms, 2 * kHourMs);
  EXPECT_EQ(hub_->config().rules.no_water.min_litres, 1.0);  // the file's other keys stay
  EXPECT_EQ(hub_->config_patches(), 1u);
  advance_ms(89 * kMinuteMs);  // 1 h 59 min since the last use
  EXPECT_TRUE(opened(rules::AlertKind::no_water).empty());
  advance_ms(2 * kMinuteMs);
  const auto alerts = opened(rules::AlertKind::no_water);
  ASSERT_EQ(alerts.size(), 1u);  // at the new limit, not after 24 h
  EXPECT_EQ(alerts[0].alert.opened_at_ms, kStartWallMs + 2 * kHourMs);
  EXPECT_EQ(results().back(), (json{{"command_id", "c-1"}, {"ok", true}, {"error", nullptr}}));
}

TEST_F(ConfigCommandTest, LimitAlreadyPassedRaisesAtOnce) {
  meter(100.0);
  advance_ms(3 * kHourMs);
  EXPECT_TRUE(opened(rules::AlertKind::no_water).empty());
  EXPECT_TRUE(command("c-1", kNoWater2h).ok);
  // The rules start again at the same rule-clock time: 3 h without water is over 2 h now.
  ASSERT_EQ(opened(rules::AlertKind::no_water).size(), 1u);
  EXPECT_EQ(opened(rules::AlertKind::no_water)[0].alert.opened_at_ms, kStartWallMs + 3 * kHourMs);
  // The alert went up in the outbox, before the command's result (same transaction).
  auto rows = all_rows(*store_);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back().type, "command_result");
}

TEST_F(ConfigCommandTest, RepeatedCommandIsAppliedOnceAndAnsweredTwice) {
  const std::string other = R"({"rules":{"no_water":{"after":"3h"}}})";
  EXPECT_TRUE(command("c-1", kNoWater2h).ok);
  EXPECT_TRUE(command("c-2", other).ok);
  const auto repeat = command("c-1", kNoWater2h);  // redelivered after c-2
  EXPECT_TRUE(repeat.ok);
  EXPECT_TRUE(repeat.repeated);
  EXPECT_EQ(hub_->config().rules.no_water.after_ms, 3 * kHourMs);  // c-2 still wins
  const auto patches = gateway::load_config_override(*store_);
  ASSERT_EQ(patches.size(), 2u);
  EXPECT_EQ(patches[0].command_id, "c-1");
  EXPECT_EQ(patches[1].command_id, "c-2");
  const auto answers = results();
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0], answers[2]);
  EXPECT_EQ(answers[2]["ok"], true);
}

TEST_F(ConfigCommandTest, BadOrForbiddenPatchChangesNothing) {
  meter(100.0);
  const std::vector<std::pair<std::string, std::string>> bad{
      {R"({"rules":{"no_water":{"after":"10m"}}})", "no_water.after must be between 1h and 168h"},
      {R"({"rules":{"no_water":{"aftr":"2h"}}})", "unknown key \"aftr\" in rules no_water"},
      {R"({"rules":{"no_water":{"after":"2h"}},"uplink":{"url":"tcp://x:1"}})",
       "patch may change only rules and escalation, not \"uplink\""},
      {R"({"devices":[]})", "patch may change only rules and escalation"},
      {R"({"escalation":[{"steps":[{"after":"0s","notify":["nobody"]}]}]})",
       "notify target \"nobody\" is neither a role"},
      {R"({"escalation":{"steps":[]}})", "expected a sequence of policies for escalation"},
      {R"({"rules":{"checkin":{"topic":"zigbee2mqtt/x/set","payload":"{}"}}})",
       "rules.checkin cannot be changed by a patch"},
      {R"({})", "patch is empty"},
      {R"("rules")", "malformed: patch"},
  };
  int n = 0;
  for (const auto& [patch, error] : bad) {
    const auto outcome = command("b" + std::to_string(++n), patch);
    EXPECT_FALSE(outcome.ok) << patch;
    EXPECT_NE(outcome.error.find(error), std::string::npos) << patch << " -> " << outcome.error;
    EXPECT_EQ(outcome.error.find("config patch:"), std::string::npos) << outcome.error;
  }
  EXPECT_EQ(hub_->config_patches(), 0u);
  EXPECT_FALSE(store_->get_meta(gateway::kConfigOverrideKey));
  EXPECT_EQ(hub_->config().rules.no_water.after_ms, 24 * kHourMs);
  EXPECT_EQ(hub_->escalator().policies().size(), 4u);  // the built-in ones only
  advance_ms(3 * kHourMs);
  EXPECT_TRUE(opened(rules::AlertKind::no_water).empty());  // no 2 h limit slipped in
  const auto answers = results();
  ASSERT_EQ(answers.size(), bad.size());
  for (const auto& answer : answers) EXPECT_EQ(answer["ok"], false) << answer;
  // Refusals are remembered too: the same id is answered the same, not tried again.
  const auto again = command("b1", kNoWater2h);
  EXPECT_FALSE(again.ok);
  EXPECT_TRUE(again.repeated);
  EXPECT_EQ(hub_->config_patches(), 0u);
}

TEST_F(ConfigCommandTest, OverrideSurvivesRestartAndWinsOverTheFile) {
  EXPECT_TRUE(command("c-1", kNoWater2h).ok);
  EXPECT_TRUE(command("c-2", R"({"escalation":[{"match":{"severity":"emergency"},"steps":[)"
                             R"({"after":"0s","notify":["caregiver","wang"]}],"repeat":"2m"}]})")
                  .ok);
  clock_.advance_ms(10 * kMinuteMs);
  boot();  // a restart: the same store, the same (untouched) file config
  EXPECT_EQ(file_config_.rules.no_water.after_ms, 24 * kHourMs);
  EXPECT_EQ(hub_->config_patches(), 2u);
  EXPECT_EQ(hub_->config().rules.no_water.after_ms, 2 * kHourMs);
  ASSERT_EQ(hub_->config().escalation.size(), 1u);
  EXPECT_EQ(hub_->escalator().policies().size(), 5u);  // the patched one, then the built-in ones
  meter(100.0);
  advance_ms(2 * kHourMs + kMinuteMs);
  EXPECT_EQ(opened(rules::AlertKind::no_water).size(), 1u);
  hub_->on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke": true})", clock_.now());
  EXPECT_EQ(notified(), (std::vector<std::string>{"li s0r0", "li s0r0", "wang s0r0"}));
  // Cleared (homesafe-gateway clear-override): the file's sections from the next start.
  {
    Store::Transaction tx(*store_, gateway::Durability::full);
    gateway::clear_config_override(*store_);
    tx.commit();
  }
  boot();
  EXPECT_EQ(hub_->config_patches(), 0u);
  EXPECT_EQ(hub_->config().rules.no_water.after_ms, 24 * kHourMs);
  EXPECT_TRUE(hub_->config().escalation.empty());
}

TEST_F(ConfigCommandTest, OverrideThatNoLongerFitsTheFileIsIgnored) {
  EXPECT_TRUE(
      command("c-1", R"({"escalation":[{"steps":[{"after":"0s","notify":["wang"]}]}]})").ok);
  // The installer removes contact wang from the file: the override cannot apply any more.
  std::string text = kConfig;
  const std::string wang =
      "  - {id: wang, name: 王先生, role: emergency_contact, channels: "
      "[{type: mqtt}]}\n";
  text.erase(text.find(wang), wang.size());
  file_config_ = config_from(text);
  boot();
  EXPECT_EQ(hub_->config_patches(), 0u);
  EXPECT_TRUE(hub_->config().escalation.empty());
  // The override stays in the store (check-config reports it) until cleared.
  EXPECT_EQ(gateway::load_config_override(*store_).size(), 1u);
}

TEST_F(ConfigCommandTest, UnreadableOverrideIsIgnoredNeverFatal) {
  store_->set_meta(gateway::kConfigOverrideKey, "not json");
  boot();  // starts, with the file's sections
  EXPECT_EQ(hub_->config_patches(), 0u);
  EXPECT_EQ(hub_->config().rules.no_water.after_ms, 24 * kHourMs);
  const auto outcome = command("c-1", kNoWater2h);  // refused, not a crash loop
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.error.find("stored override cannot be read"), std::string::npos)
      << outcome.error;
  EXPECT_EQ(store_->get_meta(gateway::kConfigOverrideKey), "not json");
}

// A running ladder continues at its next step under the policy that now matches (as after a
// restart): steps already fired are not sent again; a step of the new policy already due fires
// with the command.
TEST_F(ConfigCommandTest, RunningLadderContinuesAtItsNextStepUnderTheNewPolicy) {
  hub_->on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke": true})", clock_.now());
  EXPECT_EQ(notified(), (std::vector<std::string>{"li s0r0"}));  // built-in: wang at 3 min
  advance_ms(kMinuteMs);
  EXPECT_TRUE(command("c-1", R"({"escalation":[{"match":{"severity":"emergency"},"steps":[)"
                             R"({"after":"0s","notify":["caregiver"]},)"
                             R"({"after":"30s","notify":["desk"]},)"
                             R"({"after":"2m","notify":["wang"]}]}]})")
                  .ok);
  // Step 1 of the new policy (30 s) was already due: it fired with the command.
  EXPECT_EQ(notified(), (std::vector<std::string>{"li s0r0", "desk s1r0"}));
  advance_ms(59 * 1000);
  EXPECT_EQ(notified().size(), 2u);
  advance_ms(2 * 1000);  // 2 min after opening
  EXPECT_EQ(notified(), (std::vector<std::string>{"li s0r0", "desk s1r0", "wang s2r0"}));
  advance_ms(60 * kMinuteMs);  // the new policy has no reminders
  EXPECT_EQ(notified().size(), 3u);
}

TEST_F(ConfigCommandTest, AcknowledgedAlertsLadderStopsWhenTheNewPolicyStopsThere) {
  EXPECT_TRUE(command("c-1", R"({"escalation":[{"match":{"severity":"emergency"},"steps":[)"
                             R"({"after":"0s","notify":["caregiver"]}],"repeat":"1m",)"
                             R"("until":"resolved"}]})")
                  .ok);
  hub_->on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke": true})", clock_.now());
  const std::string alert_id = output_.changes.at(0).alert.alert_id;
  ASSERT_EQ(hub_->acknowledge({alert_id, "li", gateway::AckAction::ack, "", "mqtt"}, clock_.now()),
            gateway::AckOutcome::applied);
  advance_ms(kMinuteMs);
  EXPECT_EQ(notified(), (std::vector<std::string>{"li s0r0", "li s0r1"}));  // until resolved
  EXPECT_TRUE(command("c-2", R"({"escalation":null})").ok);  // back to the built-in policies
  EXPECT_EQ(hub_->escalator().active_count(), 0u);
  advance_ms(30 * kMinuteMs);
  EXPECT_EQ(notified().size(), 2u);
}

// The merge goes through a YAML round trip of the whole file: everything outside the patched
// keys must come back exactly as the file says (quoted JSON payloads, templates with
// placeholders, block scalars, Chinese names).
TEST(ApplyConfigPatches, KeepsTheRestOfTheFileAsItWas) {
  const std::string text = R"(# a comment
household: {id: h001, name: "3组 王奶奶: 测试", timezone: Asia/Shanghai}
storage: {path: ":memory:"}
devices:
  - {id: water-meter, kind: water_meter, location: "厨房 #1"}
  - {id: hall-motion, kind: motion, location: 门厅, silence: 2h}
contacts:
  - {id: li, name: '李阿姨 "小李"', role: caregiver, channels: [{type: mqtt}]}
  - {id: hook, name: 值班, role: duty_desk,
     channels: [{type: webhook, url: "https://example.org/hook?token=a:b&x=#y"}]}
notify:
  templates:
    default: "【平安守护】{reminder}{household} {location}{what}（{time}），请尽快查看。{ack}"
    smoke: |
      {household} {location}: 烟雾
      {ack}
  ack_actions: [double, "yes"]
rules:
  sleep: "21:00-06:00"
  no_water: {after: 24h, min_litres: 1.5}
  checkin:
    wait: 10m
    topic: zigbee2mqtt/hall-chime/set
    payload: '{"alarm": "ON", "melody": 3}'
    retain: no
escalation:
  - match: {severity: emergency}
    steps: [{after: 0s, notify: [caregiver]}, {wait: 3m, notify: [hook]}]
    repeat: 5m
)";
  const auto file = config_from(text);
  auto result = gateway::apply_config_patches(
      file, {R"({"rules":{"no_water":{"after":"6h"},"sleep":null},"escalation":[)"
             R"({"steps":[{"after":0,"notify":"li"}],"until":"resolved"}]})"});
  ASSERT_TRUE(result.config) << result.errors.at(0).message;
  const auto& patched = *result.config;
  EXPECT_EQ(patched.rules.no_water.after_ms, 6 * kHourMs);
  EXPECT_EQ(patched.rules.no_water.min_litres, 1.5);
  EXPECT_EQ(file.rules.sleep.from_minute, 21 * 60);
  EXPECT_EQ(patched.rules.sleep.from_minute, 22 * 60);  // null: back to the default
  ASSERT_EQ(patched.escalation.size(), 1u);
  EXPECT_EQ(patched.escalation[0].until, gateway::StopWhen::resolved);
  EXPECT_EQ(patched.escalation[0].steps.at(0).notify, (std::vector<std::string>{"li"}));
  // The rest, as loaded from the file.
  EXPECT_EQ(patched.household.name, file.household.name);
  EXPECT_EQ(patched.contacts.at(0).name, file.contacts.at(0).name);
  EXPECT_EQ(patched.contacts.at(1).channels.at(0).address,
            "https://example.org/hook?token=a:b&x=#y");
  EXPECT_EQ(patched.devices.at(0).location, "厨房 #1");
  EXPECT_EQ(patched.devices.at(1).silence_ms, file.devices.at(1).silence_ms);
  EXPECT_EQ(patched.notify.templates, file.notify.templates);
  EXPECT_EQ(patched.notify.ack_actions, file.notify.ack_actions);
  ASSERT_TRUE(patched.checkin);
  EXPECT_EQ(patched.checkin->payload, R"({"alarm": "ON", "melody": 3})");
  EXPECT_EQ(patched.source_text, text);  // the next patch merges into the file again
  // No patches: the file's own sections.
  auto same = gateway::apply_config_patches(file, {});
  ASSERT_TRUE(same.config);
  EXPECT_EQ(same.config->escalation.size(), 1u);
  EXPECT_EQ(same.config->rules.no_water.after_ms, 24 * kHourMs);
}

TEST(ApplyConfigPatches, TheShippedExampleTakesAPatch) {
  auto file = gateway::load_config(HOMESAFE_SOURCE_DIR "/examples/h001.yaml");
  ASSERT_TRUE(file.config) << file.errors.at(0).to_string();
  auto result =
      gateway::apply_config_patches(*file.config, {R"({"rules":{"inactivity":{"after":"3h"}}})"});
  ASSERT_TRUE(result.config) << result.errors.at(0).message;
  EXPECT_EQ(result.config->rules.inactivity.after_ms, 3 * kHourMs);
  EXPECT_EQ(result.config->escalation.size(), file.config->escalation.size());
  EXPECT_EQ(result.config->notify.templates, file.config->notify.templates);
}

}  // namespace
}  // namespace homesafe::cloud_bridge::test
