// Downlink commands: applied once per command_id through the hub's own paths, answered with a
// command_result event every time, in the same transaction.
#include "homesafe/cloud_bridge/commands.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cloud_bridge_test_support.hpp"
#include "homesafe/gateway/hub.hpp"

namespace homesafe::cloud_bridge::test {
namespace {

using gateway::AckOutcome;
using gateway::Durability;
using gateway::Store;
using nlohmann::json;

class FakeHub final : public HubActions {
 public:
  AckOutcome acknowledge(const gateway::AckRequest& request, const rules::Instant&) override {
    acks.push_back(request);
    if (fail) throw gateway::StoreError("disk full");
    return outcome;
  }
  void set_away(std::int64_t until, const std::string& by, const std::string& note,
                const rules::Instant&) override {
    aways.push_back({until, by + "|" + note});
  }
  void end_away(const std::string& by, const rules::Instant&) override { homes.push_back(by); }
  std::string configure(const std::string& patch, const std::string&,
                        const rules::Instant&) override {
    patches.push_back(patch);
    return patch_error;
  }

  std::vector<gateway::AckRequest> acks;
  std::vector<std::pair<std::int64_t, std::string>> aways;
  std::vector<std::string> homes;
  std::vector<std::string> patches;
  std::string patch_error;
  AckOutcome outcome = AckOutcome::applied;
  bool fail = false;
};

class CommandsTest : public ::testing::Test {
 protected:
  CommandsTest() { store_.enable_outbox({"h001", "h001"}, clock_); }
  std::vector<json> results() {
    std::vector<json> out;
    for (const auto& row : rows_of_type(store_, "command_result")) {
      EXPECT_EQ(row.priority, 1);
      out.push_back(json::parse(row.body));
    }
    return out;
  }
  gateway::ManualClock clock_{kStartWallMs, 1'000};
  Store store_{":memory:"};
  FakeHub hub_;
  CommandProcessor commands_{store_, hub_};
};

TEST_F(CommandsTest, DuplicateCommandIsAppliedOnceAndAnsweredTwice) {
  const std::string command =
      R"({"v":1,"command_id":"c-1","type":"ack","alert_id":"h001-000001","by":"township-op-7","note":"电话已联系"})";
  auto first = commands_.handle(command, clock_.now());
  auto second = commands_.handle(command, clock_.now());
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->ok);
  EXPECT_FALSE(first->repeated);
  EXPECT_TRUE(second->ok);
  EXPECT_TRUE(second->repeated);
  ASSERT_EQ(hub_.acks.size(), 1u);
  EXPECT_EQ(hub_.acks[0].alert_id, "h001-000001");
  EXPECT_EQ(hub_.acks[0].by, "township-op-7");
  EXPECT_EQ(hub_.acks[0].channel, "township");
  EXPECT_EQ(hub_.acks[0].action, gateway::AckAction::ack);
  EXPECT_EQ(hub_.acks[0].note, "电话已联系");
  const auto answers = results();
  ASSERT_EQ(answers.size(), 2u);
  for (const auto& answer : answers) {
    EXPECT_EQ(answer, (json{{"command_id", "c-1"}, {"ok", true}, {"error", nullptr}}));
  }
}

// A caregiver's one-tap link: the township sends the ack on the "link" channel.
TEST_F(CommandsTest, ALinkAckCarriesItsChannelAndOtherChannelsAreRefused) {
  commands_.handle(
      R"({"v":1,"command_id":"c-l1","type":"ack","alert_id":"h001-000001","by":"li","channel":"link"})",
      clock_.now());
  ASSERT_EQ(hub_.acks.size(), 1u);
  EXPECT_EQ(hub_.acks[0].channel, "link");
  EXPECT_EQ(hub_.acks[0].by, "li");
  auto refused = commands_.handle(
      R"({"v":1,"command_id":"c-l2","type":"ack","alert_id":"h001-000001","by":"li","channel":"sms"})",
      clock_.now());
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->ok);
  EXPECT_EQ(hub_.acks.size(), 1u);
  EXPECT_EQ(results().back()["error"], "malformed: channel");
}

TEST_F(CommandsTest, RefusedCommandIsAnsweredWithItsReasonAlsoWhenRepeated) {
  hub_.outcome = AckOutcome::unknown_alert;
  const std::string command =
      R"({"v":1,"command_id":"c-2","type":"resolve","alert_id":"nope","by":"op"})";
  commands_.handle(command, clock_.now());
  commands_.handle(command, clock_.now());
  EXPECT_EQ(hub_.acks.size(), 1u);
  const auto answers = results();
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1], (json{{"command_id", "c-2"}, {"ok", false}, {"error", "unknown_alert"}}));
}

TEST_F(CommandsTest, AwayAndHome) {
  commands_.handle(
      R"({"v":1,"command_id":"c-3","type":"away","until":"2026-11-08T10:00:00+08:00","by":"op","note":"住院"})",
      clock_.now());
  commands_.handle(R"({"v":1,"command_id":"c-4","type":"home","by":"op"})", clock_.now());
  ASSERT_EQ(hub_.aways.size(), 1u);
  EXPECT_EQ(hub_.aways[0].first, kStartWallMs + 7 * 86'400'000LL);
  EXPECT_EQ(hub_.aways[0].second, "op|住院");
  EXPECT_EQ(hub_.homes, (std::vector<std::string>{"op"}));
  for (const auto& answer : results()) EXPECT_EQ(answer["ok"], true);
}

TEST_F(CommandsTest, BadCommandsAreRefusedNotApplied) {
  const char* bad[] = {
      R"({"v":1,"command_id":"b1","type":"away","until":"next week","by":"op"})",
      R"({"v":1,"command_id":"b2","type":"away","until":"2026-10-01T10:00:00+08:00","by":"op"})",
      R"({"v":1,"command_id":"b3","type":"away","until":"2027-06-01T10:00:00+08:00","by":"op"})",
      R"({"v":1,"command_id":"b4","type":"ack","by":"op"})",
      R"({"v":1,"command_id":"b5","type":"ack","alert_id":"a"})",
      R"({"v":1,"command_id":"b6","type":"reboot"})",
      R"({"v":2,"command_id":"b7","type":"home","by":"op"})",
      R"({"v":1,"command_id":"b8","type":"ack","alert_id":"a","by":"op","note":42})",
  };
  for (const char* command : bad) commands_.handle(command, clock_.now());
  EXPECT_TRUE(hub_.acks.empty());
  EXPECT_TRUE(hub_.aways.empty());
  EXPECT_TRUE(hub_.homes.empty());
  const auto answers = results();
  ASSERT_EQ(answers.size(), 8u);
  for (const auto& answer : answers) {
    EXPECT_EQ(answer["ok"], false) << answer;
    EXPECT_TRUE(answer["error"].is_string()) << answer;
  }
}

TEST_F(CommandsTest, ConfigPatchGoesToTheHubOnceAndItsRefusalIsAnswered) {
  const std::string command =
      R"({"v":1,"command_id":"c-9","type":"config","patch":{"rules":{"no_water":{"after":"6h"}}}})";
  commands_.handle(command, clock_.now());
  commands_.handle(command, clock_.now());
  EXPECT_EQ(hub_.patches, (std::vector<std::string>{R"({"rules":{"no_water":{"after":"6h"}}})"}));
  hub_.patch_error = "no_water.after must be between 1h and 168h";
  commands_.handle(R"({"v":1,"command_id":"c-10","type":"config","patch":{"rules":{}}})",
                   clock_.now());
  commands_.handle(R"({"v":1,"command_id":"c-11","type":"config","patch":[1]})", clock_.now());
  commands_.handle(R"({"v":1,"command_id":"c-12","type":"config"})", clock_.now());
  EXPECT_EQ(hub_.patches.size(), 2u);
  const auto answers = results();
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_EQ(answers[1], (json{{"command_id", "c-9"}, {"ok", true}, {"error", nullptr}}));
  EXPECT_EQ(answers[2], (json{{"command_id", "c-10"},
                              {"ok", false},
                              {"error",
                               "invalid patch: no_water.after must be between 1h and "
                               "168h"}}));
  EXPECT_EQ(answers[3]["error"], "malformed: patch");
  EXPECT_EQ(answers[4]["error"], "malformed: patch");
}

TEST_F(CommandsTest, WithoutCommandIdNothingToAnswer) {
  EXPECT_FALSE(commands_.handle("not json", clock_.now()));
  EXPECT_FALSE(commands_.handle(R"({"v":1,"type":"home","by":"op"})", clock_.now()));
  EXPECT_FALSE(
      commands_.handle(R"({"v":1,"command_id":"","type":"home","by":"op"})", clock_.now()));
  EXPECT_EQ(commands_.malformed(), 3);
  EXPECT_TRUE(all_rows(store_).empty());
  EXPECT_TRUE(hub_.homes.empty());
}

TEST_F(CommandsTest, FailureWhileApplyingLeavesNeitherRecordNorResult) {
  hub_.fail = true;
  EXPECT_THROW(
      commands_.handle(R"({"v":1,"command_id":"c-5","type":"ack","alert_id":"a","by":"op"})",
                       clock_.now()),
      gateway::StoreError);
  EXPECT_FALSE(store_.find_command("c-5"));
  EXPECT_TRUE(all_rows(store_).empty());
  // Delivered again after the restart: applied then.
  hub_.fail = false;
  auto outcome = commands_.handle(
      R"({"v":1,"command_id":"c-5","type":"ack","alert_id":"a","by":"op"})", clock_.now());
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->repeated);
  EXPECT_EQ(results().size(), 1u);
}

// Through the real hub: the township acknowledges an alarm; the change, its handling record
// (channel "township", by the township's staff id) and the command's result all go up.
class HubAdapterForTest final : public HubActions {
 public:
  explicit HubAdapterForTest(gateway::Hub& hub) : hub_(hub) {}
  AckOutcome acknowledge(const gateway::AckRequest& r, const rules::Instant& now) override {
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

TEST(CommandsThroughHub, TownshipAcknowledgesAnAlarm) {
  auto config = uplink_config();
  gateway::ManualClock clock(kStartWallMs, 1'000);
  Store store(":memory:");
  store.enable_outbox({"h001", "h001"}, clock);
  NullOutput output;
  gateway::Hub hub(config, store, output, rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600));
  hub.start(clock.now());
  hub.on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke": true})", clock.now());
  ASSERT_EQ(output.changes.size(), 1u);
  const std::string alert_id = output.changes[0].alert.alert_id;
  HubAdapterForTest adapter(hub);
  CommandProcessor commands(store, adapter);
  clock.advance_ms(60'000);
  auto outcome = commands.handle(R"({"v":1,"command_id":"c-1","type":"ack","alert_id":")" +
                                     alert_id + R"(","by":"township-op-7","note":"已电话联系"})",
                                 clock.now());
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->ok) << outcome->error;
  auto alert = store.find_alert(alert_id);
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->state, gateway::AlertState::acknowledged);
  EXPECT_EQ(alert->acknowledged_by, "township-op-7");
  auto history = store.alert_events(alert_id);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].channel, "township");
  // The state change went out on the hub's own MQTT too (its output).
  EXPECT_EQ(output.changes.back().alert.state, gateway::AlertState::acknowledged);
  // Outbox: ..., the acknowledged alert, its handling record, the result.
  auto rows = all_rows(store);
  auto results = rows_of_type(store, "command_result");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(json::parse(results[0].body)["ok"], true);
  auto events = rows_of_type(store, "alert_event");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(json::parse(events[1].body)["channel"], "township");
  EXPECT_EQ(json::parse(events[1].body)["by"], "township-op-7");
  // Resolving it the same way, and the same resolve again: applied once.
  const std::string resolve = R"({"v":1,"command_id":"c-2","type":"resolve","alert_id":")" +
                              alert_id + R"(","by":"township-op-7"})";
  commands.handle(resolve, clock.now());
  commands.handle(resolve, clock.now());
  EXPECT_EQ(store.find_alert(alert_id)->state, gateway::AlertState::resolved);
  EXPECT_EQ(store.alert_events(alert_id).size(), 3u);
  EXPECT_EQ(rows_of_type(store, "command_result").size(), 3u);
}

TEST(CommandsThroughHub, LocalAckCannotClaimTheTownshipChannel) {
  auto config = uplink_config();
  gateway::ManualClock clock(kStartWallMs, 1'000);
  Store store(":memory:");
  NullOutput output;
  gateway::Hub hub(config, store, output, rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600));
  hub.start(clock.now());
  hub.on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke": true})", clock.now());
  const std::string alert_id = output.changes.at(0).alert.alert_id;
  // An unknown "by" on the local ack topic stays refused, even claiming channel township.
  EXPECT_EQ(hub.on_ack_message(
                R"({"alert_id":")" + alert_id + R"(","by":"stranger","channel":"township"})",
                clock.now()),
            AckOutcome::unknown_contact);
  EXPECT_EQ(store.find_alert(alert_id)->state, gateway::AlertState::open);
}

}  // namespace
}  // namespace homesafe::cloud_bridge::test
