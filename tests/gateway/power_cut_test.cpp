// A hub after a power cut has no RTC: it boots with a wrong wall clock (here the year 2000)
// until NTP syncs, then the wall clock jumps decades forward. Alarms must go out at once in the
// meantime (recorded as "clock not synced"), and the jump must neither fire nor delay anything:
// escalation, device silence and the inactivity rules run on the monotonic clock.
#include <gtest/gtest.h>

#include <algorithm>

#include "gateway_test_support.hpp"
#include "homesafe/gateway/hub.hpp"
#include "homesafe/gateway/store.hpp"
#include "homesafe/rules/time_zone.hpp"

namespace homesafe::gateway {
namespace {

using namespace std::chrono_literals;

constexpr const char* kConfig = R"(
household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
storage: {path: ":memory:"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房, silence: 2h}
  - {id: water-meter, kind: water_meter, location: 厨房, power: mains, silence: 6h}
  - {id: bedroom-motion, kind: motion, location: 卧室}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
  - {id: son, name: 王先生, role: emergency_contact, channels: [{type: mqtt}]}
)";

// 2000-01-01 08:00 Asia/Shanghai: what a hub without RTC may believe after a power cut.
constexpr std::int64_t kWrongWall = 946'684'800'000;
// 2026-11-01 07:00 Asia/Shanghai: the real time, once NTP has synced.
constexpr std::int64_t kRealWall = 1'793'487'600'000;

HubConfig config() {
  auto result = parse_config(kConfig, "test.yaml");
  if (!result.errors.empty()) throw std::runtime_error(result.errors.front().to_string());
  return *result.config;
}

// The hub driven as the daemon drives it, with a clock whose wall time can be wrong (not
// synced) and jump, while monotonic time only moves forward.
class PowerCut : public ::testing::Test {
 protected:
  PowerCut()
      : config_(config()),
        store_(":memory:"),
        hub_(config_, store_, output_, rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600),
             "boot-after-power-cut") {
    now_ = {kWrongWall, 20'000, /*wall_synced=*/false};
    hub_.start(now_);
  }

  void device(const std::string& id, const std::string& payload) {
    hub_.on_message("homesafe/h001/dev/" + id + "/state", payload, now_);
  }

  // Moves both clocks forward, firing every deadline on the way as the daemon's timer does.
  void advance(std::chrono::milliseconds by) {
    const std::int64_t target = now_.mono_ms + by.count();
    while (auto deadline = hub_.next_deadline_mono_ms()) {
      if (*deadline > target) break;
      if (*deadline > now_.mono_ms) step(*deadline - now_.mono_ms);
      hub_.on_tick(now_);
    }
    step(target - now_.mono_ms);
    hub_.on_tick(now_);
  }

  void step(std::int64_t ms) {
    now_.mono_ms += ms;
    now_.wall_ms += ms;
  }

  // NTP: the wall clock jumps (monotonic time does not) and is now trusted.
  void ntp_sync(std::int64_t wall_ms) {
    now_.wall_ms = wall_ms;
    now_.wall_synced = true;
    hub_.on_tick(now_);
  }

  std::vector<std::string> sent() const {
    std::vector<std::string> ids;
    for (const auto& n : output_.notifications) ids.push_back(n.notification_id);
    return ids;
  }

  std::vector<std::string> opened_kinds() const {
    std::vector<std::string> kinds;
    for (const auto& change : output_.changes) {
      if (change.event == "opened") kinds.emplace_back(rules::to_string(change.alert.kind));
    }
    return kinds;
  }

  HubConfig config_;
  Store store_;
  test::RecordingOutput output_;
  Hub hub_;
  rules::Instant now_;
};

TEST_F(PowerCut, AlarmBeforeNtpGoesOutAtOnceAndIsMarkedUnsynced) {
  device("kitchen-smoke", R"({"smoke":true})");
  ASSERT_EQ(sent(), std::vector<std::string>{"h001-000001-s0r0-li-mqtt"});
  const auto alert = store_.find_alert("h001-000001");
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->kind, rules::AlertKind::smoke);
  EXPECT_FALSE(alert->clock_synced) << "the record must say its time is not trustworthy";
  EXPECT_EQ(alert->opened_at_ms, kWrongWall);
}

TEST_F(PowerCut, NtpJumpNeitherFiresNorDelaysTheLadder) {
  device("kitchen-smoke", R"({"smoke":true})");
  advance(1min);
  ASSERT_EQ(sent().size(), 1u);

  // NTP syncs: the wall clock jumps almost 27 years forward.
  ntp_sync(kRealWall);
  EXPECT_EQ(sent().size(), 1u) << "the jump must not fire the next steps";

  advance(2min - 1ms);
  EXPECT_EQ(sent().size(), 1u) << "not early: 3 minutes after opening, in monotonic time";
  advance(1ms);
  EXPECT_EQ(sent().back(), "h001-000001-s1r0-son-mqtt");
  // Alerts opened after the sync carry the real time.
  device("kitchen-smoke", R"({"smoke":false})");
  device("kitchen-smoke", R"({"tamper":true})");
  const auto alerts = store_.recent_alerts(10);
  const auto tamper = std::find_if(alerts.begin(), alerts.end(), [](const AlertRecord& a) {
    return a.kind == rules::AlertKind::tamper;
  });
  ASSERT_NE(tamper, alerts.end());
  EXPECT_TRUE(tamper->clock_synced);
  EXPECT_GE(tamper->opened_at_ms, kRealWall);
}

TEST_F(PowerCut, NtpJumpDoesNotMakeDevicesLookSilentOrTheResidentInactive) {
  device("kitchen-smoke", R"({"smoke":false,"battery":90})");
  device("water-meter", R"({"water_total_l":1000})");
  device("bedroom-motion", R"({"occupancy":true})");
  advance(10min);
  ntp_sync(kRealWall);  // 27 years of wall time "passed" in an instant
  advance(1min);
  EXPECT_TRUE(opened_kinds().empty()) << "opened: " << ::testing::PrintToString(opened_kinds());

  // The smoke alarm's silence (2 h) still counts from when it was last heard, in monotonic time:
  // the rule is alive, the jump just does not count. (A silent device is reported once another
  // device has spoken after its limit: a dead bridge must not look like twenty dead devices.)
  advance(2h - 11min - 1s);
  device("water-meter", R"({"water_total_l":1001})");
  const auto kinds = opened_kinds();
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "device_offline"), 0)
      << ::testing::PrintToString(kinds);
  advance(2min);
  device("water-meter", R"({"water_total_l":1002})");
  const auto later = opened_kinds();
  EXPECT_EQ(std::count(later.begin(), later.end(), "device_offline"), 1)
      << ::testing::PrintToString(later);
}

}  // namespace
}  // namespace homesafe::gateway
