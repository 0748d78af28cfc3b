// A full disk on a real hub: the real gateway runs with a file-size limit (writes past it fail
// as on a full disk; set with prlimit on the child, so no root is needed) while meters flood it.
// It must keep running, tell the installer through its `storage_full` alert, and still raise and
// notify a smoke alarm it cannot store. When space is back, what it kept in memory is written.
// A free-space limit above what the disk has warns before anything fails.
#include <sqlite3.h>
#include <sys/resource.h>

#include "gateway_fixture.hpp"
#include "support/wait.hpp"

namespace homesafe {
namespace {

using namespace std::chrono_literals;
using test::Process;

constexpr const char* kConfig = R"(household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
broker: {url: "@URL@", keepalive: 5s}
storage: {path: "@DB@"@STORAGE@}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: kitchen-gas, kind: gas, location: 厨房}
  - {id: water-meter, kind: water_meter, location: 厨房, power: mains}
  - {id: power-meter, kind: plug, location: 客厅}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
)";

class FullDiskE2E : public test::GatewayFixture {
 protected:
  std::string config_template() const override {
    return test::replace_all(kConfig, "@STORAGE@", storage_extra_);
  }

  // The gateway with SIGXFSZ ignored (a real full disk sends no signal: the write just fails).
  std::unique_ptr<Process> start_gateway_ignoring_xfsz() {
    return std::make_unique<Process>(
        std::vector<std::string>{"/bin/sh", "-c", "trap '' XFSZ; exec \"$0\" \"$@\"",
                                 HOMESAFE_GATEWAY_BIN, "--config", config_path_.string()});
  }

  static void limit_file_size(pid_t pid, rlim_t bytes) {
    rlimit limit{};
    ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, nullptr, &limit), 0);
    limit.rlim_cur = bytes;
    ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, &limit, nullptr), 0);
  }

  rlim_t largest_store_file() const {
    std::uintmax_t largest = 0;
    for (const auto& entry : std::filesystem::directory_iterator(db_path_.parent_path())) {
      if (entry.path().filename().string().starts_with("h001.db")) {
        largest = std::max(largest, entry.file_size());
      }
    }
    return static_cast<rlim_t>(largest);
  }

  std::string open_alert_detail(const std::string& kind) const {
    for (const auto& [topic, alert] : alerts_on_mqtt()) {
      if (alert.value("kind", "") == kind && alert.value("state", "") == "open") {
        return alert.value("detail", "");
      }
    }
    return {};
  }

  bool smoke_notified() const {
    for (const auto& m : watcher_->messages()) {
      if (m.topic != "homesafe/h001/notify") continue;
      auto j = nlohmann::json::parse(m.payload, nullptr, false);
      if (j.is_object() && j.value("kind", "") == "smoke") return true;
    }
    return false;
  }

  std::string storage_extra_;
};

TEST_F(FullDiskE2E, AlarmsAreStillRaisedAndNotifiedWhenTheDiskIsFull) {
  // Every reading a row, so that the meters below fill the disk quickly (by default a meter
  // writes one row a second).
  storage_extra_ = ", telemetry_every_reading: true";
  SetUp();
  {  // A first start creates the store.
    auto gateway = start_gateway();
    ASSERT_TRUE(wait_online()) << gateway->describe();
    ASSERT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
  }
  const std::size_t seen = watcher_->size();
  auto gateway = start_gateway_ignoring_xfsz();
  limit_file_size(gateway->pid(), largest_store_file() + 256 * 1024);
  ASSERT_TRUE(wait_online(seen)) << gateway->describe();

  // Meters fill the disk.
  test::Publisher devices(broker_.url());
  for (int i = 0; i < 6000; ++i) {
    devices.publish("homesafe/h001/dev/water-meter/state",
                    R"({"water_total_l":)" + std::to_string(1000 + i) + "}", 0);
    devices.publish("homesafe/h001/dev/power-meter/state",
                    R"({"power":)" + std::to_string(100 + i % 50) + R"(,"energy":)" +
                        std::to_string(5000 + i) + "}",
                    0);
    if (i % 500 == 499) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(wait_alert("storage_full", "open")) << gateway->describe();
  EXPECT_TRUE(open_alert_detail("storage_full").starts_with("writes failing"))
      << open_alert_detail("storage_full");
  ASSERT_TRUE(gateway->running()) << gateway->describe();

  // A smoke alarm now: raised and notified although it cannot be stored.
  sim_send("kitchen-smoke", "smoke_detector", "alarm");
  ASSERT_TRUE(wait_alert("smoke", "open")) << gateway->describe();
  EXPECT_TRUE(test::wait_until([&] { return smoke_notified(); })) << gateway->describe();
  ASSERT_TRUE(gateway->running()) << gateway->describe();
  EXPECT_NE(gateway->read_stderr().find("ERROR storage: "), std::string::npos);
  EXPECT_EQ(gateway->read_stderr().find("fatal"), std::string::npos) << gateway->read_stderr();

  // Space again (the limit lifted): the gateway writes what it kept in memory as soon as a
  // write works (its next telemetry flush, within a second; at the latest when it stops), and
  // the next alarm is stored as usual.
  limit_file_size(gateway->pid(), RLIM_INFINITY);
  sim_send("kitchen-gas", "gas_alarm", "alarm");
  ASSERT_TRUE(wait_alert("gas", "open")) << gateway->describe();
  ASSERT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
  EXPECT_NE(gateway->read_stderr().find("storage: writes work again"), std::string::npos);

  EXPECT_EQ(count_stored(rules::AlertKind::smoke), 1);
  EXPECT_EQ(count_stored(rules::AlertKind::gas), 1);
  EXPECT_EQ(count_stored(rules::AlertKind::storage_full), 1);
}

TEST_F(FullDiskE2E, LowFreeSpaceIsReportedBeforeWritesFail) {
  storage_extra_ = ", min_free_mb: 1000000000";  // more than any test machine has free
  SetUp();                                       // the config again, with the limit
  auto gateway = start_gateway();
  ASSERT_TRUE(wait_alert("storage_full", "open")) << gateway->describe();
  EXPECT_TRUE(open_alert_detail("storage_full").starts_with("free space "))
      << open_alert_detail("storage_full");
  ASSERT_EQ(gateway->stop(), std::optional<int>(0)) << gateway->describe();
  EXPECT_EQ(count_stored(rules::AlertKind::storage_full), 1) << "written: the disk is not full";
}

}  // namespace
}  // namespace homesafe
