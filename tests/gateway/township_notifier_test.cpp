// The hub's `township` channel: a notification becomes one `relay` event in the uplink outbox
// (docs/uplink.md), with ids only, committed before the notification counts as sent.
#include "homesafe/gateway/notify/township_notifier.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/notify/channels.hpp"

namespace homesafe::gateway::notify {
namespace {

constexpr std::int64_t kOpenedAt = 1793487660000;  // 2026-11-01 07:01 +08:00

Notification sample(const std::string& severity) {
  Notification n;
  n.notification_id = "h001-000001-s0r0-li-township";
  n.alert_id = "h001-000001";
  n.household_id = "h001";
  n.contact_id = "li";
  n.role = "caregiver";
  n.channel = "township";
  n.address = "+8613812345678";
  n.step = 0;
  n.repeat = 0;
  n.kind = "smoke";
  n.severity = severity;
  n.location = "厨房";
  n.ts = "2026-11-01T07:01:00+08:00";
  n.text = "【烟雾报警】3组 王奶奶 厨房 07:01 回复1确认 13812345678";
  return n;
}

void save_alert(Store& store) {
  AlertRecord alert;
  alert.alert_id = "h001-000001";
  alert.kind = rules::AlertKind::smoke;
  alert.severity = rules::Severity::emergency;
  alert.device_id = "smoke1";
  alert.location = "厨房";
  alert.opened_at_ms = kOpenedAt;
  alert.updated_at_ms = kOpenedAt;
  Store::Transaction tx(store, Durability::full);
  store.save_alert(alert);
  tx.commit();
}

TEST(TownshipNotifier, WritesOneRelayRowWithIdsOnly) {
  Store store(":memory:");
  ManualClock clock(kOpenedAt + 1000);
  save_alert(store);
  const auto before = store.outbox_next(100).size();
  TownshipNotifier notifier(store, clock);
  EXPECT_EQ(notifier.channel(), "township");
  int calls = 0;
  DeliveryResult result;
  notifier.send(sample("emergency"), [&](const DeliveryResult& r) {
    ++calls;
    result = r;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(result.ok) << result.error;

  std::vector<OutboxRow> relays;
  for (const auto& row : store.outbox_next(100)) {
    if (row.type == "relay") relays.push_back(row);
  }
  ASSERT_EQ(relays.size(), 1u);
  EXPECT_EQ(store.outbox_next(100).size(), before + 1);
  EXPECT_EQ(relays[0].priority, 0);
  const auto body = nlohmann::json::parse(relays[0].body);
  std::set<std::string> keys;
  for (const auto& [key, value] : body.items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"notification_id", "alert_id", "contact_id", "role",
                                         "kind", "severity", "device", "location", "opened_at",
                                         "step", "repeat"}));
  EXPECT_EQ(body["notification_id"], "h001-000001-s0r0-li-township");
  EXPECT_EQ(body["alert_id"], "h001-000001");
  EXPECT_EQ(body["contact_id"], "li");
  EXPECT_EQ(body["role"], "caregiver");
  EXPECT_EQ(body["kind"], "smoke");
  EXPECT_EQ(body["severity"], "emergency");
  EXPECT_EQ(body["device"], "smoke1");
  EXPECT_EQ(body["location"], "厨房");
  EXPECT_EQ(body["opened_at"], kOpenedAt);
  EXPECT_EQ(body["step"], 0);
  EXPECT_EQ(body["repeat"], 0);
  for (const char* secret : {"王奶奶", "13812345678", "回复", "烟雾报警"}) {
    EXPECT_EQ(relays[0].body.find(secret), std::string::npos) << secret;
  }
}

TEST(TownshipNotifier, NonEmergencyRelaysHavePriorityOne) {
  Store store(":memory:");
  ManualClock clock(kOpenedAt);
  TownshipNotifier notifier(store, clock);
  Notification n = sample("warning");
  n.kind = "inactivity";
  notifier.send(n, [](const DeliveryResult& r) { EXPECT_TRUE(r.ok); });
  const auto rows = store.outbox_next(100);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].type, "relay");
  EXPECT_EQ(rows[0].priority, 1);
  // Without a stored alert the body still has every key.
  const auto body = nlohmann::json::parse(rows[0].body);
  EXPECT_EQ(body["device"], "");
  EXPECT_EQ(body["opened_at"], 0);
}

TEST(TownshipNotifier, ChannelsBuildItOnlyWithAStore) {
  const std::string text =
      "household: {id: h001, name: \"3组 王奶奶\"}\n"
      "storage: {path: \":memory:\"}\n"
      "devices:\n"
      "  - {id: smoke1, kind: smoke, location: 厨房}\n"
      "contacts:\n"
      "  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: township}]}\n"
      "uplink: {url: \"ssl://township.example:8883\"}\n";
  ConfigResult result = parse_config(text, "h001.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors.front().to_string();
  Store store(":memory:");
  ManualClock clock(kOpenedAt);
  auto with_store = make_channel_notifiers(*result.config, nullptr, &store, &clock);
  ASSERT_EQ(with_store.count("township"), 1u);
  EXPECT_EQ(with_store.at("township")->channel(), "township");
  EXPECT_EQ(make_channel_notifiers(*result.config, nullptr).count("township"), 0u);
}

}  // namespace
}  // namespace homesafe::gateway::notify
