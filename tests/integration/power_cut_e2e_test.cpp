// A power cut is a kill -9 at an arbitrary moment: the real gateway is killed while it writes
// telemetry and alarms, several times. After each kill its SQLite store must pass SQLite's
// integrity check and open cleanly, every alert that had been published on MQTT must be in it
// (published only after commit), and the restarted gateway must handle the next alarm.
#include <sqlite3.h>

#include <set>

#include "gateway_fixture.hpp"

namespace homesafe {
namespace {

using namespace std::chrono_literals;
using test::Process;

constexpr const char* kConfig = R"(household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
broker: {url: "@URL@", keepalive: 5s}
storage: {path: "@DB@"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: kitchen-gas, kind: gas, location: 厨房}
  - {id: bedroom-sos, kind: call_button, location: 卧室}
  - {id: water-meter, kind: water_meter, location: 厨房, power: mains}
  - {id: bedroom-motion, kind: motion, location: 卧室}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
)";

class PowerCutE2E : public test::GatewayFixture {
 protected:
  std::string config_template() const override { return kConfig; }

  // SQLite's own verdict on the file (and its WAL) as the killed process left it.
  std::string integrity_check() const {
    sqlite3* db = nullptr;
    std::string result = "cannot open";
    if (sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
      sqlite3_stmt* statement = nullptr;
      if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &statement, nullptr) == SQLITE_OK &&
          sqlite3_step(statement) == SQLITE_ROW) {
        result = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
      }
      sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return result;
  }

  std::set<std::string> alert_ids_on_mqtt() const {
    std::set<std::string> ids;
    for (const auto& [topic, alert] : alerts_on_mqtt()) ids.insert(alert.value("alert_id", ""));
    return ids;
  }
};

TEST_F(PowerCutE2E, StoreKilledWhileWritingOpensCleanlyAndKeepsEveryPublishedAlert) {
  test::Publisher devices(broker_.url());
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::size_t seen = watcher_->size();
    auto gateway = start_gateway();
    ASSERT_TRUE(wait_online(seen)) << gateway->describe();

    // Telemetry (batched writes), and alarms and their clearing (committed one by one), in flight
    // when the power goes.
    for (int i = 0; i < 200; ++i) {
      const int n = round * 200 + i;
      devices.publish("homesafe/h001/dev/water-meter/state",
                      R"({"water_total_l":)" + std::to_string(1000 + n) + "}", 0);
      devices.publish("homesafe/h001/dev/bedroom-motion/state",
                      n % 2 == 0 ? R"({"occupancy":true})" : R"({"occupancy":false})", 0);
      if (i % 50 == 0) {
        devices.publish("homesafe/h001/dev/kitchen-smoke/state",
                        i % 100 == 0 ? R"({"smoke":true})" : R"({"smoke":false})", 1);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30 * round));
    gateway->kill(SIGKILL);
    ASSERT_EQ(gateway->wait_for_exit(20s), std::optional<int>(128 + SIGKILL));

    EXPECT_EQ(integrity_check(), "ok");
    std::set<std::string> stored;
    ASSERT_NO_THROW({
      for (const auto& alert : stored_alerts()) stored.insert(alert.alert_id);
    });
    for (const auto& id : alert_ids_on_mqtt()) {
      EXPECT_TRUE(stored.contains(id)) << id << " was published but is not in the store";
    }
  }

  // Back after the last cut: the next alarm is handled, with a new id.
  const auto before = alert_ids_on_mqtt();
  ASSERT_FALSE(before.empty()) << "no alert was published before the kills: nothing was checked";
  const std::size_t seen = watcher_->size();
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_online(seen)) << gateway->describe();
  sim_send("kitchen-gas", "gas_alarm", "alarm");
  ASSERT_TRUE(wait_alert("gas", "open")) << gateway->describe();
  EXPECT_EQ(count_stored(rules::AlertKind::gas), 1);
  EXPECT_GT(alert_ids_on_mqtt().size(), before.size());
  EXPECT_EQ(integrity_check(), "ok");
  ASSERT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
}

}  // namespace
}  // namespace homesafe
