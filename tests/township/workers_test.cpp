// The pieces of county-scale worker processes that run without a broker (docs/deployment.md):
// the bounded ingest queue and its drain (acks only after the batch's handler returned, none for
// a failed batch), the roles and their refusal on SQLite, the new config keys, alarm detection
// and the change notices the API processes listen for.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "homesafe/township/config.hpp"
#include "homesafe/township/ingest.hpp"
#include "homesafe/township/ingest_queue.hpp"
#include "support/wait.hpp"

namespace homesafe::township {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string fmt_alert(int i) {
  return "h" + std::to_string(i % 500) + "-alert-" + std::to_string(i);
}

IngestMessage msg(int i) {
  return {"homesafe-up/h" + std::to_string(i) + "/event", std::to_string(i)};
}

TEST(IngestQueue, TakesUpToTheBatchSizeInOrder) {
  IngestQueue queue(10);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(queue.push(msg(i)), static_cast<std::uint64_t>(i + 1));
  auto first = queue.take(3, 0ms);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].payload, "0");
  EXPECT_EQ(first[2].payload, "2");
  auto rest = queue.take(3, 0ms);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[1].payload, "4");
}

TEST(IngestQueue, WaitsForMoreAfterTheFirstMessage) {
  IngestQueue queue(10);
  ASSERT_TRUE(queue.push(msg(0)));
  std::thread late([&] {
    std::this_thread::sleep_for(50ms);
    queue.push(msg(1));
  });
  // The batch window (5 s here, ended early by a full batch) collects the late message.
  auto batch = queue.take(2, 5s);
  late.join();
  EXPECT_EQ(batch.size(), 2u);
}

TEST(IngestQueue, AnUrgentMessageEndsTheWaitForMore) {
  IngestQueue queue(10);
  std::atomic<bool> taken{false};
  std::vector<IngestMessage> batch;
  // An hour's batch window: only the alarm (or close(), should the test fail) ends it.
  std::thread drain([&] {
    batch = queue.take(10, 1h);
    taken = true;
  });
  ASSERT_TRUE(queue.push(msg(0)));
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(taken);  // an ordinary message waits for company
  ASSERT_TRUE(queue.push(msg(1), /*urgent=*/true));
  EXPECT_TRUE(homesafe::test::wait_until([&] { return taken.load(); }, 10s));
  if (!taken) queue.close();
  drain.join();
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[1].payload, "1");

  // Once taken, the alarm no longer cuts later batches short.
  taken = false;
  std::thread next([&] {
    batch = queue.take(10, 1h);
    taken = true;
  });
  ASSERT_TRUE(queue.push(msg(2)));
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(taken);
  queue.close();
  next.join();
  EXPECT_EQ(batch.size(), 1u);
}

TEST(IngestQueue, AFullQueueBlocksThePusherUntilTaken) {
  IngestQueue queue(2);
  ASSERT_TRUE(queue.push(msg(0)));
  ASSERT_TRUE(queue.push(msg(1)));
  std::atomic<bool> pushed{false};
  std::thread pusher([&] {
    queue.push(msg(2));
    pushed = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(pushed);  // back-pressure: the MQTT callback waits
  EXPECT_EQ(queue.take(1, 0ms).size(), 1u);
  EXPECT_TRUE(homesafe::test::wait_until([&] { return pushed.load(); }, 5s));
  pusher.join();
  EXPECT_EQ(queue.size(), 2u);
}

TEST(IngestQueue, CloseReleasesBlockedPushersAndDrains) {
  IngestQueue queue(1);
  ASSERT_TRUE(queue.push(msg(0)));
  std::atomic<int> result{-1};
  std::thread pusher([&] { result = queue.push(msg(1)) != 0 ? 1 : 0; });
  std::this_thread::sleep_for(50ms);
  queue.close();
  pusher.join();
  EXPECT_EQ(result, 0);  // refused after close
  EXPECT_EQ(queue.push(msg(2)), 0u);
  EXPECT_EQ(queue.take(10, 1s).size(), 1u);  // what was queued is still handed out
  EXPECT_TRUE(queue.take(10, 1s).empty());
}

// A fake store: records batches and, when told to, fails one.
struct FakeStore {
  std::mutex mutex;
  std::vector<std::vector<std::string>> batches;
  std::vector<std::string> published;  // ack payloads in publish order
  std::vector<std::string> events;     // "handled N" / "published N" in order
  std::set<std::string> fail_payloads;

  IngestBatchResult handle(const std::vector<IngestMessage>& batch) {
    std::lock_guard lock(mutex);
    std::vector<std::string> payloads;
    for (const auto& m : batch) {
      if (fail_payloads.contains(m.payload)) throw std::runtime_error("database gone");
      payloads.push_back(m.payload);
    }
    batches.push_back(payloads);
    IngestBatchResult r;
    for (const auto& p : payloads) {
      r.acks.push_back({"homesafe-down/h/ack", p});
      events.push_back("handled " + p);
    }
    return r;
  }
  void publish(std::vector<Outgoing> acks) {
    std::lock_guard lock(mutex);
    for (const auto& a : acks) {
      published.push_back(a.payload);
      events.push_back("published " + a.payload);
    }
  }
};

TEST(IngestDrain, AcksEveryStoredMessageAfterItsBatchInBatchesOfAtMostMax) {
  FakeStore fake;
  IngestQueueOptions options;
  options.batch_max = 4;
  options.batch_wait = 1ms;
  {
    IngestDrain drain(
        options, [&](const auto& batch) { return fake.handle(batch); },
        [&](std::vector<Outgoing> acks) { fake.publish(std::move(acks)); }, "test");
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(drain.push(msg(i)));
    drain.stop();  // stores and acks what is queued
    EXPECT_FALSE(drain.push(msg(99)));
  }
  std::lock_guard lock(fake.mutex);
  std::vector<std::string> all;
  for (const auto& b : fake.batches) {
    EXPECT_LE(b.size(), 4u);
    all.insert(all.end(), b.begin(), b.end());
  }
  EXPECT_EQ(all, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  EXPECT_EQ(fake.published, all);
  // Each ack comes after its message's batch was handled (the commit).
  for (int i = 0; i < 10; ++i) {
    const auto handled =
        std::find(fake.events.begin(), fake.events.end(), "handled " + std::to_string(i));
    const auto published =
        std::find(fake.events.begin(), fake.events.end(), "published " + std::to_string(i));
    ASSERT_NE(handled, fake.events.end());
    ASSERT_NE(published, fake.events.end());
    EXPECT_LT(handled, published);
  }
}

TEST(IngestDrain, AFailedBatchIsNotAckedAndTheNextOnesAre) {
  FakeStore fake;
  fake.fail_payloads = {"bad"};
  IngestQueueOptions options;
  options.batch_max = 1;
  options.failure_pause = 0ms;
  IngestDrain drain(
      options, [&](const auto& batch) { return fake.handle(batch); },
      [&](std::vector<Outgoing> acks) { fake.publish(std::move(acks)); }, "test");
  drain.push(msg(1));
  drain.push({"homesafe-up/h/event", "bad"});
  drain.push(msg(2));
  drain.stop();
  EXPECT_EQ(drain.failed_batches(), 1u);
  EXPECT_EQ(drain.batches(), 2u);
  std::lock_guard lock(fake.mutex);
  EXPECT_EQ(fake.published, (std::vector<std::string>{"1", "2"}));
}

TEST(IngestDrain, AFullQueueShedsOrdinaryEventsAtOnceButTakesEveryAlarm) {
  std::mutex gate;
  std::unique_lock hold(gate);  // the handler waits here: nothing leaves the queue
  std::atomic<int> stored{0};
  IngestQueueOptions options;
  options.capacity = 2;
  options.batch_max = 1;
  options.batch_wait = 0ms;
  IngestDrain drain(
      options,
      [&](const std::vector<IngestMessage>& batch) {
        std::lock_guard wait(gate);
        stored += static_cast<int>(batch.size());
        return IngestBatchResult{};
      },
      [](std::vector<Outgoing>) {}, "test");
  ASSERT_TRUE(drain.push(msg(0)));  // taken by the drain, which waits in the handler
  ASSERT_TRUE(homesafe::test::wait_until([&] { return drain.queued() == 0; }, 5s));
  ASSERT_TRUE(drain.push(msg(1)));
  ASSERT_TRUE(drain.push(msg(2)));
  // Full: the next ordinary event returns at once, not taken (the MQTT callback never blocks).
  EXPECT_FALSE(drain.push(msg(3)));
  EXPECT_EQ(drain.shed(), 1u);
  // An alarm is taken all the same.
  EXPECT_TRUE(drain.push(msg(4), /*urgent=*/true));
  EXPECT_EQ(drain.queued(), 3u);
  hold.unlock();
  drain.stop();
  EXPECT_EQ(stored.load(), 4);  // 0, 1, 2 and the alarm; 3 is left for its hub to resend
  EXPECT_EQ(drain.shed(), 1u);
}

TEST(IngestDrain, PushAndWaitReturnsOnlyOnceTheBatchWasHandled) {
  std::mutex gate;
  std::unique_lock closed(gate);  // the handler waits here: a commit that takes its time
  std::atomic<bool> handled{false};
  IngestDrain drain(
      IngestQueueOptions{},
      [&](const std::vector<IngestMessage>&) {
        std::lock_guard pass(gate);
        handled = true;
        return IngestBatchResult{};
      },
      [](std::vector<Outgoing>) {}, "test");
  std::atomic<bool> returned{false};
  std::thread callback([&] {
    EXPECT_TRUE(drain.push_and_wait(msg(1)));
    returned = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(returned);  // the MQTT callback (and so the PUBACK) waits for the commit
  closed.unlock();
  callback.join();
  EXPECT_TRUE(handled);
  drain.stop();
  EXPECT_FALSE(drain.push_and_wait(msg(2)));  // stopped: refused, does not wait
}

TEST(ServiceRoles, ParseAndNames) {
  EXPECT_EQ(parse_service_role("ingest"), ServiceRole::kIngest);
  EXPECT_EQ(parse_service_role("api"), ServiceRole::kApi);
  EXPECT_EQ(parse_service_role("all"), ServiceRole::kAll);
  EXPECT_FALSE(parse_service_role("worker"));
  TownshipConfig config = parse_config("storage: {url: \"postgresql://h@db/homesafe\"}\n");
  ServiceOptions o;
  o.role = ServiceRole::kIngest;
  EXPECT_EQ(o.instance_name(), "ingest");
  EXPECT_EQ(o.mqtt_client_id(config), "homesafe-township-ingest");
  o.instance = "w2";
  o.instance_given = true;
  EXPECT_EQ(o.application_name(), "homesafe-township/ingest/w2");
  EXPECT_EQ(o.mqtt_client_id(config), "homesafe-township-w2");
  // Role all without --instance keeps the client id the broker knows the township's session by.
  EXPECT_EQ(ServiceOptions{}.mqtt_client_id(config), "homesafe-township");
  EXPECT_NO_THROW(check_service_options(config, o));
}

TEST(ServiceRoles, WorkerRolesRefuseSqlite) {
  const TownshipConfig sqlite = parse_config("storage: {path: t.db}\n");
  ServiceOptions o;
  EXPECT_NO_THROW(check_service_options(sqlite, o));  // all: the township's one process
  for (ServiceRole role : {ServiceRole::kIngest, ServiceRole::kApi}) {
    o.role = role;
    try {
      check_service_options(sqlite, o);
      ADD_FAILURE() << "no error for role " << service_role_name(role);
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("needs PostgreSQL"), std::string::npos) << e.what();
    }
  }
  ServiceOptions bad;
  bad.instance = "w/1";
  bad.instance_given = true;
  EXPECT_THROW(check_service_options(sqlite, bad), ConfigError);
  bad.instance = "";
  EXPECT_THROW(check_service_options(sqlite, bad), ConfigError);
}

TEST(TownshipConfig, WorkerKeys) {
  const auto d = parse_config("storage: {path: t.db}\n");
  EXPECT_EQ(d.broker.share_group, "");
  EXPECT_FALSE(d.broker.alarm_watch);
  EXPECT_EQ(d.ingest.batch_max, 200);
  EXPECT_EQ(d.ingest.batch_wait_ms, 5);
  const auto c = parse_config(
      "storage: {url: \"postgresql://h@db/homesafe\"}\n"
      "broker: {share_group: homesafe-ingest, alarm_watch: true}\n"
      "ingest: {batch_max: 500, batch_wait_ms: 20, queue_max: 5000}\n");
  EXPECT_EQ(c.broker.share_group, "homesafe-ingest");
  EXPECT_TRUE(c.broker.alarm_watch);
  EXPECT_EQ(c.ingest.batch_max, 500);
  EXPECT_EQ(c.ingest.batch_wait_ms, 20);
  EXPECT_EQ(c.ingest.queue_max, 5000);
}

TEST(TownshipConfig, WorkerKeyErrors) {
  auto message = [](const std::string& yaml) {
    try {
      parse_config("storage: {path: t.db}\n" + yaml, "t.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("broker: {share_group: a/b}\n"),
            "t.yaml:2:23: share_group must be 1 to 64 characters of A-Z a-z 0-9 _ - .");
  EXPECT_EQ(message("broker: {share_group: \"\"}\n"),
            "t.yaml:2:23: share_group must be 1 to 64 characters of A-Z a-z 0-9 _ - .");
  EXPECT_EQ(message("broker: {alarm_watch: often}\n"), "t.yaml:2:23: expected true or false");
  EXPECT_EQ(message("ingest: {batch_max: 0}\n"), "t.yaml:2:21: must be between 1 and 5000");
  EXPECT_EQ(message("ingest: {batch_wait_ms: -1}\n"), "t.yaml:2:25: must be between 0 and 1000");
  EXPECT_EQ(message("ingest: {batch_max: 100, queue_max: 10}\n"),
            "t.yaml:2:9: queue_max must be at least batch_max");
  EXPECT_EQ(message("ingest: {batch: 1}\n"), "t.yaml:2:10: unknown key 'batch'");
}

TEST(AlarmWatch, OnlyPriorityZeroEventsAreAlarms) {
  EXPECT_TRUE(is_alarm_event(R"({"priority": 0, "type": "alert"})"));
  EXPECT_FALSE(is_alarm_event(R"({"priority": 1, "type": "alert"})"));
  EXPECT_FALSE(is_alarm_event(R"({"priority": "0"})"));
  EXPECT_FALSE(is_alarm_event(R"({"type": "alert"})"));
  EXPECT_FALSE(is_alarm_event("{not json"));
  EXPECT_FALSE(is_alarm_event("[0]"));
}

TEST(ChangeNotices, RoundTripAndStayUnderPostgresqlsLimit) {
  Changes changes;
  changes.alerts = {"a1", "a2"};
  changes.health = {"h001"};
  auto notices = change_notices("ingest/w1/42", changes);
  ASSERT_EQ(notices.size(), 1u);
  auto back = parse_change_notice(notices[0]);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->origin, "ingest/w1/42");
  EXPECT_EQ(back->changes.alerts, changes.alerts);
  EXPECT_EQ(back->changes.health, changes.health);

  Changes many;
  for (int i = 0; i < 2000; ++i) many.alerts.insert(fmt_alert(i));
  auto split = change_notices("o", many);
  EXPECT_GT(split.size(), 1u);
  std::set<std::string> all;
  for (const auto& n : split) {
    EXPECT_LT(n.size(), 8000u);
    auto parsed = parse_change_notice(n);
    ASSERT_TRUE(parsed);
    all.merge(parsed->changes.alerts);
  }
  EXPECT_EQ(all, many.alerts);
  EXPECT_TRUE(change_notices("o", Changes{}).empty());
  EXPECT_FALSE(parse_change_notice("{}"));
}

}  // namespace
}  // namespace homesafe::township
