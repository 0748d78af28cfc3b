#pragma once
// A small hub config and a recording output for gateway unit tests.

#include <string>
#include <vector>

#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/hub.hpp"

namespace homesafe::gateway::test {

inline HubConfig small_config() {
  const char* text = R"(
household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
broker: {url: "tcp://127.0.0.1:1883"}
storage: {path: ":memory:"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: kitchen-gas, kind: gas, location: 厨房}
  - {id: bedroom-sos, kind: call_button, location: 卧室}
  - {id: bathroom-leak, kind: water_leak, location: 卫生间}
  - {id: water-meter, kind: water_meter, location: 厨房}
  - {id: z2m-smoke, kind: smoke, format: native, topic: custom/smoke, location: 客厅}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
)";
  auto result = parse_config(text, "test.yaml");
  if (!result.errors.empty()) throw std::runtime_error(result.errors.front().to_string());
  return *result.config;
}

class RecordingOutput final : public HubOutput {
 public:
  void alert_changed(const AlertChange& change, const rules::Instant&) override {
    changes.push_back(change);
  }
  void notification_created(const notify::Notification& notification,
                            const rules::Instant&) override {
    notifications.push_back(notification);
  }
  std::vector<AlertChange> changes;
  std::vector<notify::Notification> notifications;
};

}  // namespace homesafe::gateway::test
