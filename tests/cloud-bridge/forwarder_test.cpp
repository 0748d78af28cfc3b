// The forwarder with a fake MQTT client and a manual clock: order, window, rate, application
// acks, resends, the size cap and the heartbeat.
#include "homesafe/cloud_bridge/forwarder.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <set>

#include "cloud_bridge_test_support.hpp"

namespace homesafe::cloud_bridge::test {
namespace {

using gateway::Durability;
using gateway::Store;
using nlohmann::json;

constexpr const char* kEvent = "homesafe-up/h001/event";
constexpr const char* kAck = "homesafe-down/h001/ack";
constexpr const char* kHeartbeat = "homesafe-up/h001/heartbeat";
constexpr const char* kStatus = "homesafe-up/h001/status";

class ForwarderTest : public ::testing::Test {
 protected:
  ForwarderTest() { store_.enable_outbox({"h001", "h001"}, clock_); }

  void make(ForwarderSettings settings = defaults()) {
    forwarder_ = std::make_unique<Forwarder>(
        settings, store_, client_, clock_,
        [this](std::function<void()> f) { posted_.push_back(f); }, nullptr, nullptr);
  }
  static ForwarderSettings defaults() {
    ForwarderSettings s;
    s.hub_id = "h001";
    s.household_id = "h001";
    s.heartbeat_ms = 300'000;
    s.ack_timeout_ms = 30'000;
    s.drain_rate = 1000;
    s.inflight = 100;
    s.boot_id = "boot-1";
    s.version = "test";
    return s;
  }
  std::string add(int priority, const std::string& type = "x") {
    Store::Transaction tx(store_, Durability::full);
    auto id = store_.add_outbox_event(type, priority, R"({"n":1})", clock_.now());
    tx.commit();
    return id;
  }
  void run_posted() {
    while (!posted_.empty()) {
      auto f = std::move(posted_.front());
      posted_.pop_front();
      f();
    }
  }
  void ack(const std::vector<std::string>& ids) {
    forwarder_->on_message({kAck, json{{"v", 1}, {"acked", ids}}.dump(), 1, false});
  }
  // Advances the clock in 100 ms ticks, as the daemon does.
  void tick_for(std::int64_t ms) {
    for (std::int64_t t = 0; t < ms; t += 100) {
      clock_.advance_ms(100);
      forwarder_->on_tick();
    }
  }

  gateway::ManualClock clock_{kStartWallMs, 1'000};
  Store store_{":memory:"};
  FakeMqttClient client_;
  std::deque<std::function<void()>> posted_;
  std::unique_ptr<Forwarder> forwarder_;
};

TEST_F(ForwarderTest, LowestPriorityNumberFirstThenOldest) {
  const auto s3 = add(3);
  const auto a1 = add(1);
  const auto h2 = add(2);
  const auto x0 = add(0);
  const auto b1 = add(1);
  make();
  forwarder_->on_connected();
  tick_for(1000);
  EXPECT_EQ(client_.event_ids(kEvent), (std::vector<std::string>{x0, a1, b1, h2, s3}));
}

TEST_F(ForwarderTest, EnvelopeAsDocumented) {
  const auto id = add(1, "command_result");
  make();
  forwarder_->on_connected();
  tick_for(100);
  auto sent = client_.on(kEvent);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].qos, 1);
  EXPECT_FALSE(sent[0].retained);
  const auto j = json::parse(sent[0].payload);
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["event_id"], id);
  EXPECT_EQ(j["hub"], "h001");
  EXPECT_EQ(j["household"], "h001");
  EXPECT_EQ(j["seq"], 1);
  EXPECT_EQ(j["type"], "command_result");
  EXPECT_EQ(j["priority"], 1);
  EXPECT_EQ(j["ts"], kStartWallMs);
  EXPECT_EQ(j["clock_synced"], true);
  EXPECT_EQ(j["body"], json({{"n", 1}}));
}

TEST_F(ForwarderTest, DeletedOnlyAfterTheTownshipAckNotAfterPuback) {
  const auto id = add(0);
  make();
  forwarder_->on_connected();
  tick_for(100);
  ASSERT_EQ(client_.event_ids(kEvent).size(), 1u);
  client_.complete_all(true);  // the broker's PUBACK
  run_posted();
  tick_for(1000);
  EXPECT_EQ(store_.outbox_stats().events, 1);
  ack({id});
  EXPECT_EQ(store_.outbox_stats().events, 0);
  EXPECT_EQ(forwarder_->counters().acked, 1);
  // An ack for an unknown or already deleted event is harmless.
  ack({id, "h001/00000000/99"});
  EXPECT_EQ(forwarder_->counters().acked, 1);
}

TEST_F(ForwarderTest, ResendsAfterAckTimeoutThenMoreSlowly) {
  const auto id = add(0);
  make();
  forwarder_->on_connected();
  tick_for(100);
  client_.complete_all(true);
  run_posted();
  tick_for(29'000);
  EXPECT_EQ(client_.event_ids(kEvent).size(), 1u);  // still waiting for the ack
  tick_for(1'100);
  EXPECT_EQ(client_.event_ids(kEvent), (std::vector<std::string>{id, id}));
  EXPECT_EQ(forwarder_->counters().resent, 1);
  // The next resend waits twice as long (a malformed event is retried at a slow rate).
  tick_for(59'000);
  EXPECT_EQ(client_.event_ids(kEvent).size(), 2u);
  tick_for(1'100);
  EXPECT_EQ(client_.event_ids(kEvent).size(), 3u);
  ack({id});
  tick_for(300'000);
  EXPECT_EQ(client_.event_ids(kEvent).size(), 3u);
}

TEST_F(ForwarderTest, InFlightWindowIsBounded) {
  auto settings = defaults();
  settings.inflight = 3;
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(add(1));
  make(settings);
  forwarder_->on_connected();
  tick_for(1000);
  EXPECT_EQ(client_.event_ids(kEvent).size(), 3u);
  EXPECT_EQ(forwarder_->in_flight(), 3);
  ack({ids[0], ids[1]});
  tick_for(100);
  EXPECT_EQ(client_.event_ids(kEvent).size(), 5u);
  EXPECT_EQ(client_.event_ids(kEvent)[4], ids[4]);
}

TEST_F(ForwarderTest, DrainRateIsBounded) {
  auto settings = defaults();
  settings.drain_rate = 5;
  settings.inflight = 1000;
  for (int i = 0; i < 200; ++i) add(1);
  make(settings);
  forwarder_->on_connected();
  tick_for(10'000);
  const auto sent = client_.event_ids(kEvent).size();
  // 5 a second for 10 s, plus at most one second's burst.
  EXPECT_GE(sent, 45u);
  EXPECT_LE(sent, 56u);
}

TEST_F(ForwarderTest, FailedPublishIsRetriedSoon) {
  const auto id = add(0);
  make();
  forwarder_->on_connected();
  tick_for(100);
  client_.complete_all(false);
  run_posted();
  tick_for(1'200);
  EXPECT_EQ(client_.event_ids(kEvent), (std::vector<std::string>{id, id}));
}

TEST_F(ForwarderTest, ReconnectSendsUnackedEventsAgain) {
  const auto a = add(0);
  const auto b = add(1);
  make();
  forwarder_->on_connected();
  tick_for(100);
  EXPECT_EQ(client_.event_ids(kEvent).size(), 2u);
  forwarder_->on_connection_lost();
  tick_for(5'000);
  EXPECT_EQ(client_.event_ids(kEvent).size(), 2u);  // nothing while disconnected
  forwarder_->on_connected();
  tick_for(100);
  EXPECT_EQ(client_.event_ids(kEvent), (std::vector<std::string>{a, b, a, b}));
}

TEST_F(ForwarderTest, NothingIsSentWhileDisconnected) {
  add(0);
  make();
  tick_for(10'000);
  EXPECT_TRUE(client_.published.empty());
}

TEST_F(ForwarderTest, ConnectSubscribesAndSaysOnlineRetained) {
  make();
  forwarder_->on_connected();
  EXPECT_EQ(client_.subscriptions, (std::vector<std::pair<std::string, int>>{
                                       {kAck, 1}, {"homesafe-down/h001/command", 1}}));
  auto status = client_.on(kStatus);
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].payload, "online");
  EXPECT_TRUE(status[0].retained);
  EXPECT_EQ(status[0].qos, 1);
}

TEST_F(ForwarderTest, HeartbeatOnConnectAndEveryInterval) {
  auto settings = defaults();
  settings.heartbeat_ms = 60'000;
  add(3);
  add(3);
  make(settings);
  forwarder_->on_connected();
  ASSERT_EQ(client_.on(kHeartbeat).size(), 1u);
  tick_for(59'000);
  EXPECT_EQ(client_.on(kHeartbeat).size(), 1u);
  tick_for(1'100);
  auto beats = client_.on(kHeartbeat);
  ASSERT_EQ(beats.size(), 2u);
  EXPECT_EQ(beats[1].qos, 0);
  EXPECT_FALSE(beats[1].retained);
  const auto j = json::parse(beats[1].payload);
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["hub"], "h001");
  EXPECT_EQ(j["household"], "h001");
  EXPECT_EQ(j["boot_id"], "boot-1");
  EXPECT_EQ(j["version"], "test");
  EXPECT_EQ(j["uptime_s"], 60);
  EXPECT_EQ(j["clock_synced"], true);
  EXPECT_EQ(j["outbox"]["events"], 2);
  EXPECT_EQ(j["outbox"]["oldest_ts"], kStartWallMs);
  EXPECT_EQ(j["outbox"]["dropped"], 0);
  EXPECT_TRUE(j["outbox"]["bytes"].is_number_integer());
}

TEST_F(ForwarderTest, CapDropsLowestPriorityOldestFirstNeverAlarmsAndReportsIt) {
  auto settings = defaults();
  settings.max_outbox_rows = 4;
  const auto alarm = add(0);
  const auto old_summary = add(3);
  const auto health = add(2);
  const auto alert = add(1);
  const auto new_summary = add(3);
  const auto alarm2 = add(0);
  make(settings);
  forwarder_->on_tick();  // link down: the cap still applies
  std::vector<std::string> left;
  for (const auto& row : all_rows(store_)) left.push_back(row.event_id);
  EXPECT_EQ(left, (std::vector<std::string>{alarm, alarm2, alert, health}));
  EXPECT_EQ(forwarder_->counters().dropped, 2);
  (void)old_summary;
  (void)new_summary;
  // Only alarms and alerts: kept even over the cap.
  for (int i = 0; i < 5; ++i) add(0);
  tick_for(2'000);
  EXPECT_EQ(store_.outbox_stats().events, 8);  // 7 alarms and 1 alert kept; the health event went
  EXPECT_EQ(rows_of_type(store_, "x").front().priority, 0);
  forwarder_->on_connected();
  EXPECT_EQ(json::parse(client_.on(kHeartbeat).back().payload)["outbox"]["dropped"], 3);
}

TEST_F(ForwarderTest, AWeekWithTheLinkDownLosesNoAlarmStaysCappedAndDrainsAtTheRate) {
  auto settings = defaults();
  settings.max_outbox_rows = 100;
  settings.drain_rate = 5;
  settings.inflight = 10;
  make(settings);
  // Seven days without the township: per day one alarm, three alerts, a summary, and device
  // health twice an hour; the cap is checked as the daemon does, while the link is down.
  std::set<std::string> must_arrive;
  std::vector<std::string> alarms;
  for (int day = 0; day < 7; ++day) {
    for (int hour = 0; hour < 24; ++hour) {
      add(2, "device_health");
      add(2, "device_health");
      if (hour == 3) alarms.push_back(add(0, "alert"));
      if (hour == 9 || hour == 13 || hour == 20) must_arrive.insert(add(1, "alert"));
      clock_.advance_ms(3'600'000);
      forwarder_->on_tick();
    }
    add(3, "daily_summary");
  }
  clock_.advance_ms(1'000);  // the cap is checked once a second
  forwarder_->on_tick();
  must_arrive.insert(alarms.begin(), alarms.end());
  EXPECT_LE(store_.outbox_stats().events, 100);  // capped: health and summaries dropped
  EXPECT_GT(forwarder_->counters().dropped, 200);

  // The link returns: alarms first, at most 5 a second (after a first burst of 5), everything
  // acknowledged by the township is deleted, until the outbox is empty.
  forwarder_->on_connected();
  std::set<std::string> arrived;
  std::vector<std::string> order;
  for (int second = 0; second < 60 && store_.outbox_stats().events > 0; ++second) {
    tick_for(1'000);
    const auto sent = client_.event_ids(kEvent);
    std::vector<std::string> fresh;
    for (const auto& id : sent) {
      if (arrived.insert(id).second) {
        fresh.push_back(id);
        order.push_back(id);
      }
    }
    ack(fresh);
    run_posted();
    if (second == 1) {
      EXPECT_LE(arrived.size(), 15u);  // a full bucket (5) + 5 a second for 2 s
    }
  }
  EXPECT_EQ(store_.outbox_stats().events, 0);
  for (const auto& id : must_arrive) EXPECT_TRUE(arrived.count(id)) << id << " was lost";
  ASSERT_GE(order.size(), alarms.size());
  EXPECT_EQ(std::set<std::string>(order.begin(), order.begin() + 7),
            std::set<std::string>(alarms.begin(), alarms.end()));
}

TEST_F(ForwarderTest, TownshipAckingNothingBoundsNewSendsButNotAlarms) {
  auto settings = defaults();
  settings.inflight = 10;
  settings.ack_timeout_ms = 1'000;
  for (int i = 0; i < 400; ++i) add(2);
  make(settings);
  forwarder_->on_connected();
  tick_for(600'000);  // nothing is ever acknowledged
  std::set<std::string> distinct;
  for (const auto& id : client_.event_ids(kEvent)) distinct.insert(id);
  EXPECT_EQ(distinct.size(), 256u);  // max(256, 8 * inflight) tracked at most
  // An alarm still goes up at once.
  const auto alarm = add(0);
  tick_for(200);
  const auto sent = client_.event_ids(kEvent);
  EXPECT_NE(std::find(sent.begin(), sent.end(), alarm), sent.end());
}

TEST_F(ForwarderTest, MalformedAckIsIgnored) {
  const auto id = add(0);
  make();
  forwarder_->on_connected();
  tick_for(100);
  forwarder_->on_message({kAck, "not json", 1, false});
  forwarder_->on_message({kAck, R"({"v":1,"acked":"x"})", 1, false});
  EXPECT_EQ(forwarder_->counters().malformed_acks, 2);
  EXPECT_EQ(store_.outbox_stats().events, 1);
  (void)id;
}

}  // namespace
}  // namespace homesafe::cloud_bridge::test
