#pragma once
// Fakes at the uplink's I/O edges: an MQTT client that records what is published (and lets the
// test decide when the broker "answers"), a hub config with an uplink section, and a store.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "homesafe/gateway/clock.hpp"
#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/hub.hpp"
#include "homesafe/gateway/mqtt_client.hpp"
#include "homesafe/gateway/store.hpp"

namespace homesafe::cloud_bridge::test {

// 2026-11-01T10:00:00+08:00
inline constexpr std::int64_t kStartWallMs = 1'793'498'400'000;

class FakeMqttClient final : public gateway::MqttClient {
 public:
  struct Published {
    gateway::MqttMessage message;
    std::function<void(bool)> done;
  };

  void set_handlers(Handlers handlers) override { handlers_ = std::move(handlers); }
  void connect() override { ++connects; }
  void subscribe(const std::vector<std::string>& filters, const std::vector<int>& qos) override {
    for (std::size_t i = 0; i < filters.size(); ++i) subscriptions.emplace_back(filters[i], qos[i]);
  }
  void publish(const gateway::MqttMessage& message, std::function<void(bool)> done) override {
    published.push_back({message, std::move(done)});
  }
  void disconnect(std::chrono::milliseconds, std::function<void()> done) override {
    if (done) done();
  }

  // The messages published on `topic`, in order.
  std::vector<gateway::MqttMessage> on(const std::string& topic) const {
    std::vector<gateway::MqttMessage> out;
    for (const auto& p : published) {
      if (p.message.topic == topic) out.push_back(p.message);
    }
    return out;
  }
  // The event ids of the events published so far, in order.
  std::vector<std::string> event_ids(const std::string& topic) const {
    std::vector<std::string> out;
    for (const auto& m : on(topic)) out.push_back(nlohmann::json::parse(m.payload)["event_id"]);
    return out;
  }
  // Runs every pending completion with `ok` (the broker's PUBACK, or a failure).
  void complete_all(bool ok) {
    for (auto& p : published) {
      if (p.done) std::exchange(p.done, nullptr)(ok);
    }
  }

  std::vector<Published> published;
  std::vector<std::pair<std::string, int>> subscriptions;
  int connects = 0;
  Handlers handlers_;
};

inline gateway::HubConfig uplink_config(const std::string& extra_uplink = "") {
  const std::string text = R"(
household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
broker: {url: "tcp://127.0.0.1:1883"}
storage: {path: ":memory:"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: bathroom-leak, kind: water_leak, location: 卫生间}
  - {id: water-meter, kind: water_meter, location: 厨房}
  - {id: hall-motion, kind: motion, location: 客厅}
  - {id: front-door, kind: contact, location: 门口}
  - {id: kettle-plug, kind: plug, location: 厨房}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
uplink:
  url: "tcp://127.0.0.1:1884"
)" + extra_uplink;
  auto result = gateway::parse_config(text, "test.yaml");
  if (!result.errors.empty()) throw std::runtime_error(result.errors.front().to_string());
  return *result.config;
}

class NullOutput final : public gateway::HubOutput {
 public:
  void alert_changed(const gateway::AlertChange& change, const rules::Instant&) override {
    changes.push_back(change);
  }
  void notification_created(const gateway::notify::Notification& n,
                            const rules::Instant&) override {
    notifications.push_back(n);
  }
  std::vector<gateway::AlertChange> changes;
  std::vector<gateway::notify::Notification> notifications;
};

// Every outbox row, in sending order.
inline std::vector<gateway::OutboxRow> all_rows(gateway::Store& store) {
  return store.outbox_next(1'000'000);
}

inline std::vector<gateway::OutboxRow> rows_of_type(gateway::Store& store,
                                                    const std::string& type) {
  std::vector<gateway::OutboxRow> out;
  for (auto& row : all_rows(store)) {
    if (row.type == type) out.push_back(std::move(row));
  }
  return out;
}

}  // namespace homesafe::cloud_bridge::test
