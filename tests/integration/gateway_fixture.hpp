#pragma once
// A private Mosquitto, a hub config and the real homesafe-gateway / homesafe-sim binaries, for
// the end-to-end tests in this folder.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "homesafe/gateway/store.hpp"
#include "homesafe/rules/time_zone.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/publisher.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"

namespace homesafe::test {

using namespace std::chrono_literals;

inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

class GatewayFixture : public ::testing::Test {
 protected:
  // The hub config for this test, with @URL@ and @DB@ filled in at SetUp.
  virtual std::string config_template() const = 0;

  void SetUp() override {
    config_path_ = dir_ / "h001.yaml";
    db_path_ = dir_ / "h001.db";
    test::write_file(config_path_,
                     replace_all(replace_all(config_template(), "@URL@", broker_.url()), "@DB@",
                                 db_path_.string()));
    watcher_ = std::make_unique<Subscriber>(broker_.url(), "homesafe/h001/#");
  }

  std::unique_ptr<Process> start_gateway(std::map<std::string, std::string> env = {}) {
    test::ProcessOptions options;
    options.env = std::move(env);
    auto gateway = std::make_unique<Process>(
        std::vector<std::string>{HOMESAFE_GATEWAY_BIN, "--config", config_path_.string()}, options);
    return gateway;
  }

  // Waits until the gateway says it is online (a new "online" after `after` messages).
  bool wait_online(std::size_t after = 0) {
    return watcher_->wait_for([after](const Subscriber::Messages& messages) {
      for (std::size_t i = after; i < messages.size(); ++i) {
        if (messages[i].topic == "homesafe/h001/gateway/status" &&
            messages[i].payload == "online") {
          return true;
        }
      }
      return false;
    });
  }

  void sim(std::vector<std::string> args) {
    args.insert(args.begin(), HOMESAFE_SIM_BIN);
    Process sim(args);
    auto status = sim.wait_for_exit(20s);
    ASSERT_EQ(status, std::optional<int>(0)) << sim.describe();
  }

  void sim_send(const std::string& device, const std::string& type, const std::string& event) {
    sim({"send", "--broker", broker_.url(), "--topic", "homesafe/h001/dev/" + device, "--type",
         type, "--event", event, "--quiet"});
  }

  // The latest retained state of every alert seen on MQTT.
  std::map<std::string, nlohmann::json> alerts_on_mqtt() const {
    std::map<std::string, nlohmann::json> out;
    for (const auto& m : watcher_->messages()) {
      if (m.topic.rfind("homesafe/h001/alert/", 0) == 0)
        out[m.topic] = nlohmann::json::parse(m.payload);
    }
    return out;
  }

  bool wait_alert(const std::string& kind, const std::string& state) {
    return watcher_->wait_for([&](const Subscriber::Messages& messages) {
      for (const auto& m : messages) {
        if (m.topic.rfind("homesafe/h001/alert/", 0) != 0) continue;
        auto j = nlohmann::json::parse(m.payload, nullptr, false);
        if (j.is_object() && j.value("kind", "") == kind && j.value("state", "") == state) {
          return true;
        }
      }
      return false;
    });
  }

  std::vector<gateway::AlertRecord> stored_alerts() {
    gateway::Store store(db_path_.string());
    return store.recent_alerts(1000);
  }

  int count_stored(rules::AlertKind kind) {
    int n = 0;
    for (const auto& alert : stored_alerts()) n += alert.kind == kind ? 1 : 0;
    return n;
  }

  // The notifications published on homesafe/h001/notify, by id, in arrival order.
  std::vector<std::string> notification_ids() const {
    std::vector<std::string> out;
    for (const auto& m : watcher_->messages()) {
      if (m.topic != "homesafe/h001/notify") continue;
      auto j = nlohmann::json::parse(m.payload, nullptr, false);
      if (j.is_object()) out.push_back(j.value("notification_id", ""));
    }
    return out;
  }

  // How long after its alert opened the gateway created a notification (from the timestamps in
  // its payload, so that the test's own polling delays do not count); -1 if not seen.
  std::int64_t notification_delay_ms(const std::string& id) const {
    for (const auto& m : watcher_->messages()) {
      if (m.topic != "homesafe/h001/notify") continue;
      auto j = nlohmann::json::parse(m.payload, nullptr, false);
      if (!j.is_object() || j.value("notification_id", "") != id) continue;
      const auto created = rules::parse_iso8601_ms(j.value("ts", ""));
      const auto opened = rules::parse_iso8601_ms(j.value("opened_at", ""));
      if (created && opened) return *created - *opened;
    }
    return -1;
  }

  bool wait_notification(const std::string& id) {
    return test::wait_until([&] {
      const auto ids = notification_ids();
      return std::find(ids.begin(), ids.end(), id) != ids.end();
    });
  }

  Mosquitto broker_;
  test::TempDir dir_{"homesafe-e2e"};
  std::filesystem::path config_path_;
  std::filesystem::path db_path_;
  std::unique_ptr<Subscriber> watcher_;
};

}  // namespace homesafe::test
