#include "homesafe/rules/device_silence_rule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <variant>

#include "rule_test_support.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;
using drivers::PowerSource;
using test::flag;
using test::number;

constexpr double kEpsilonMinutes = 0.001;  // 60 ms

drivers::DeviceConfig plug(std::string id = "plug") {
  return test::device(std::move(id), DeviceKind::plug, PowerSource::mains);
}
drivers::DeviceConfig sensor(std::string id = "hall") {
  return test::device(std::move(id), DeviceKind::motion, PowerSource::battery);
}

test::EngineHarness harness(std::vector<drivers::DeviceConfig> devices) {
  return test::EngineHarness(test::EngineHarness::shanghai(std::move(devices)),
                             test::only<DeviceSilenceRule>());
}

RuleEvent silent(const std::string& device) {
  return {Signal::raise, AlertKind::device_offline, device, "silent"};
}

std::vector<RuleEvent> report(test::EngineHarness& h, const drivers::DeviceConfig& d) {
  if (d.kind == DeviceKind::plug) return h.send(d, {number(Capability::power, 3.0)});
  return h.send(d, {flag(Capability::occupancy, false), number(Capability::battery, 90)});
}

TEST(DeviceSilenceRule, MainsDeviceSilentTenMinutesFromTheStart) {
  const auto p = plug();
  auto h = harness({p});  // a new hub at 08:00 that has heard nothing yet: no alert at once
  EXPECT_TRUE(h.advance_minutes(10 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes), (std::vector<RuleEvent>{silent("plug")}));
  h.advance_minutes(60);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);

  // It speaks again: the alert clears (after the engine's flap hold).
  EXPECT_TRUE(report(h, p).empty());
  h.advance_minutes(5);
  report(h, p);
  EXPECT_EQ(h.advance_minutes(5),
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::device_offline, "plug", {}}}));
}

TEST(DeviceSilenceRule, EveryMessageCountsEvenWithoutReadings) {
  const auto p = plug();
  auto h = harness({p});
  h.advance_minutes(9);
  h.send(p, {});  // e.g. an undecodable payload: the device is alive
  EXPECT_TRUE(h.advance_minutes(10 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes).size(), 1u);
}

TEST(DeviceSilenceRule, BatteryDeviceSilentTwentyFiveHours) {
  const auto s = sensor();
  auto h = harness({s});
  report(h, s);
  EXPECT_TRUE(h.advance_minutes(25 * 60 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes), (std::vector<RuleEvent>{silent("hall")}));
}

TEST(DeviceSilenceRule, PerDeviceOverride) {
  auto s = sensor();
  s.silence_ms = 2 * kHourMs;  // a sensor that reports every 30 minutes
  auto h = harness({s});
  report(h, s);
  EXPECT_TRUE(h.advance_minutes(120 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes).size(), 1u);

  auto p = plug();
  p.silence_ms = kHourMs;  // a plug that only reports hourly
  auto h2 = harness({p});
  report(h2, p);
  EXPECT_TRUE(h2.advance_minutes(60 - kEpsilonMinutes).empty());
  EXPECT_EQ(h2.advance_minutes(kEpsilonMinutes).size(), 1u);
}

TEST(DeviceSilenceRule, AvailabilityOfflineAtOnceAndOnlyOnlineEndsIt) {
  const auto p = plug();
  auto h = harness({p});
  EXPECT_EQ(
      h.send(p, {flag(Capability::availability, false)}),
      (std::vector<RuleEvent>{{Signal::raise, AlertKind::device_offline, "plug", "offline"}}));
  // A (retained, stale) state message does not bring it back.
  for (int i = 0; i < 6; ++i) {
    report(h, p);
    h.advance_minutes(5);
  }
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 0u);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  h.send(p, {flag(Capability::availability, true)});
  report(h, p);
  h.advance_minutes(5);
  report(h, p);
  h.advance_minutes(5);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 1u);
}

TEST(DeviceSilenceRule, OneDeadDeviceIsReportedOnceAnotherDeviceProvesTheHubAlive) {
  const auto p = plug();
  const auto s1 = sensor("hall");
  const auto s2 = sensor("bedroom");
  auto h = harness({p, s1, s2});
  report(h, p);
  report(h, s2);
  // The plug dies at 08:00; the hall sensor keeps reporting every five minutes.
  h.advance_minutes(5);
  EXPECT_TRUE(report(h, s1).empty());
  h.advance_minutes(5);
  EXPECT_TRUE(report(h, s1).empty());  // 08:10: nobody spoke after the plug's limit yet
  h.advance_minutes(5);
  EXPECT_EQ(report(h, s1), (std::vector<RuleEvent>{silent("plug")}));
  h.advance_minutes(60);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 0u);
}

TEST(DeviceSilenceRule, EveryDeviceSilentGivesOneHubOfflineNotOnePerDevice) {
  const std::vector<drivers::DeviceConfig> devices{plug("plug1"), plug("plug2"), sensor("s1"),
                                                   sensor("s2"), sensor("s3")};
  auto h = harness(devices);
  for (const auto& d : devices) report(h, d);
  // The bridge dies at 08:00. The plugs pass their limit first: nothing tells them from the hub.
  h.advance_minutes(25 * 60 - kEpsilonMinutes);
  EXPECT_TRUE(h.history().empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes),
            (std::vector<RuleEvent>{
                {Signal::raise, AlertKind::hub_offline, "", "all 5 devices silent"}}));
  h.advance_minutes(5 * 60);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 1u);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 0u);

  // The bridge is back: the first device clears it; the others get time to report again.
  report(h, devices[2]);
  EXPECT_EQ(h.advance_minutes(10),
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::hub_offline, "", {}}}));
  for (const auto& d : devices) {
    if (d.id != "plug2") report(h, d);
  }
  h.advance_minutes(9);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 0u);
  // plug2 stays silent while the others talk: now it is a device of its own.
  for (int i = 0; i < 4; ++i) {
    report(h, devices[0]);
    h.advance_minutes(5);
  }
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  EXPECT_EQ(h.history().back().device_id, "plug2");
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 1u);
}

TEST(DeviceSilenceRule, OpenDeviceAlertsStayOpenUnderTheHubAlert) {
  auto a = sensor("a");
  a.silence_ms = kHourMs;
  const auto b = sensor("b");
  const auto c = sensor("c");
  auto h = harness({a, b, c});
  report(h, a);
  report(h, b);
  report(h, c);
  h.advance_minutes(90);
  EXPECT_EQ(report(h, b), (std::vector<RuleEvent>{silent("a")}));  // 09:30
  // Nothing after that: c is past its limit at 09:00 next day, b at 10:30: then all are down.
  h.advance_minutes(24 * 60 + 59);  // 10:29 next day
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 0u);
  h.advance_minutes(1);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 1u);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 0u);
  report(h, c);
  h.advance_minutes(15);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::clear), 1u);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 0u);  // a is still silent
  report(h, a);
  h.advance_minutes(15);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 1u);
}

TEST(DeviceSilenceRule, FewerDevicesThanTheHubMinimumAlertOneByOne) {
  const auto s1 = sensor("s1");
  const auto s2 = sensor("s2");
  auto h = harness({s1, s2});
  report(h, s1);
  h.advance_minutes(30);
  report(h, s2);
  h.advance_minutes(26 * 60);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 2u);
  EXPECT_EQ(h.count(AlertKind::hub_offline, Signal::raise), 0u);
}

TEST(DeviceSilenceRule, DowntimeOfTheGatewayIsNoSilenceOfMainsDevices) {
  const auto p = plug();
  auto h = harness({p});
  report(h, p);
  h.advance_minutes(5);                         // 08:05
  EXPECT_TRUE(h.restart(2 * kHourMs).empty());  // 10:05, the rule clock counted the 2 h
  EXPECT_TRUE(h.advance_minutes(10 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes), (std::vector<RuleEvent>{silent("plug")}));
}

TEST(DeviceSilenceRule, DowntimeOfTheGatewayIsNoSilenceOfBatteryDevices) {
  const auto s = sensor();
  auto h = harness({s});
  report(h, s);  // 08:00
  h.advance_minutes(5);
  EXPECT_TRUE(h.restart(2 * kHourMs).empty());  // 10:05
  // 25 h of hearing: 5 minutes before the restart, the rest after it.
  EXPECT_TRUE(h.advance_minutes(25 * 60 - 5 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes).size(), 1u);
}

TEST(DeviceSilenceRule, RestartMidSilenceStillAlerts) {
  const auto p = plug();
  auto h = harness({p});
  report(h, p);
  h.advance_minutes(8);
  EXPECT_TRUE(h.restart(kMinuteMs).empty());  // a short restart is no downtime to skip
  EXPECT_TRUE(h.advance_minutes(1 - kEpsilonMinutes).empty());
  EXPECT_EQ(h.advance_minutes(kEpsilonMinutes).size(), 1u);
}

TEST(DeviceSilenceRule, OpenAlertSurvivesARestart) {
  const auto p = plug();
  auto h = harness({p});
  h.advance_minutes(10);
  ASSERT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  EXPECT_TRUE(h.restart(30 * kMinuteMs).empty());
  h.advance_minutes(60);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
  report(h, p);
  h.advance_minutes(5);
  report(h, p);
  h.advance_minutes(5);
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::clear), 1u);
}

// ---- The O(1) message path and the coarse "last" (docs/rules.md, device_silence_rule.hpp).

// The rule as it was before messages became O(1): every message and tick catches up and
// evaluates every device, and writes the device's "last" on every message. The rule under test
// must signal exactly what this one signals, call by call.
class EvaluateEverythingReference final : public Rule {
 public:
  explicit EvaluateEverythingReference(HouseholdPtr household) : household_(std::move(household)) {}
  std::string_view name() const override { return "device_silence"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override {
    const Instant now = observation.now;
    catch_up(now, state, out);
    const auto& devices = household_->devices;
    const auto& device = observation.device;
    if (std::any_of(devices.begin(), devices.end(),
                    [&](const drivers::DeviceConfig& d) { return d.id == device.id; })) {
      state.set_int(key(device.id, "last"), now.mono_ms);
      if (const auto* reading = observation.decoded.find(Capability::availability)) {
        if (const bool* online = std::get_if<bool>(&reading->value)) {
          if (*online) {
            state.erase(key(device.id, "offline"));
          } else {
            state.set(key(device.id, "offline"), "1");
          }
        }
      }
    }
    evaluate(now, state, out);
  }
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override {
    catch_up(now, state, out);
    evaluate(now, state, out);
  }

 private:
  using R = DeviceSilenceRule;
  static std::string key(const std::string& device, std::string_view name) {
    return "device_silence/" + device + "/" + std::string(name);
  }
  std::int64_t limit_of(const drivers::DeviceConfig& device) const {
    const auto& settings = household_->settings.device_silence;
    return std::max<std::int64_t>(
        device.silence_ms.value_or(device.power == PowerSource::battery ? settings.battery_ms
                                                                        : settings.mains_ms),
        0);
  }
  void catch_up(Instant now, RuleState& state, std::vector<RuleEvent>& /*out*/) {
    const auto seen = state.get_int("device_silence//seen");
    if (seen && now.mono_ms - *seen > R::kResumeGapMs && !state.get("device_silence//hub")) {
      const std::int64_t gap = now.mono_ms - *seen;
      for (const auto& device : household_->devices) {
        if (state.get(key(device.id, "raised"))) continue;
        const auto last = state.get_int(key(device.id, "last"));
        if (!last) continue;
        std::int64_t moved = *last + gap;
        if (const std::int64_t limit = limit_of(device); limit > 0) {
          moved = std::max(moved, now.mono_ms - limit + std::min(limit, R::kResumeGraceMs));
        }
        state.set_int(key(device.id, "last"), std::min(moved, now.mono_ms));
      }
    }
    if (!seen || now.mono_ms - *seen >= R::kSeenWriteMs) {
      state.set_int("device_silence//seen", now.mono_ms);
    }
    for (const auto& device : household_->devices) {
      if (!state.get(key(device.id, "last"))) state.set_int(key(device.id, "last"), now.mono_ms);
    }
  }
  void evaluate(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
    struct W {
      std::string id;
      std::int64_t last, limit;
      bool offline, raised, overdue;
    };
    std::vector<W> watched;
    std::int64_t last_any = 0;
    bool all_down = true;
    for (const auto& device : household_->devices) {
      W w{device.id,
          state.get_int(key(device.id, "last")).value_or(now.mono_ms),
          limit_of(device),
          state.get(key(device.id, "offline")).has_value(),
          state.get(key(device.id, "raised")).has_value(),
          false};
      w.overdue = w.limit > 0 && now.mono_ms - w.last >= w.limit;
      last_any = watched.empty() ? w.last : std::max(last_any, w.last);
      all_down = all_down && (w.offline || w.overdue);
      watched.push_back(w);
    }
    const bool hub_down =
        all_down && static_cast<std::int64_t>(watched.size()) >=
                        household_->settings.device_silence.all_silent_min_devices;
    const bool hub_raised = state.get("device_silence//hub").has_value();
    if (hub_down && !hub_raised) {
      out.push_back({Signal::raise,
                     AlertKind::hub_offline,
                     {},
                     "all " + std::to_string(watched.size()) + " devices silent"});
      state.set("device_silence//hub", "1");
    } else if (!hub_down && hub_raised) {
      out.push_back({Signal::clear, AlertKind::hub_offline, {}, {}});
      state.erase("device_silence//hub");
      for (auto& w : watched) {
        if (!w.overdue || w.raised) continue;
        w.last = now.mono_ms;
        w.overdue = false;
        state.set_int(key(w.id, "last"), now.mono_ms);
      }
    }
    for (const auto& w : watched) {
      const bool down = w.offline || w.overdue;
      if (w.raised && !down) {
        out.push_back({Signal::clear, AlertKind::device_offline, w.id, {}});
        state.erase(key(w.id, "raised"));
      } else if (!w.raised && down && !hub_down) {
        if (w.offline) {
          out.push_back({Signal::raise, AlertKind::device_offline, w.id, "offline"});
          state.set(key(w.id, "raised"), "1");
        } else if (all_down || last_any > w.last + w.limit) {
          out.push_back({Signal::raise, AlertKind::device_offline, w.id, "silent"});
          state.set(key(w.id, "raised"), "1");
        }
      }
    }
  }

  HouseholdPtr household_;
};

std::string last_key(const std::string& device) {
  return "device_silence/" + device + "/last";
}

// Random traffic, availability changes, ticks at random times (early, late, or not at all for
// hours, which is a gap to skip) and bridge outages: the rule under test signals exactly what
// the evaluate-everything reference signals, at every call. Its written "last" may lag the
// reference's exact one by less than a tenth of the device's limit, and every other key matches.
TEST(DeviceSilenceRule, SignalsExactlyWhatEvaluatingEveryDeviceOnEveryMessageSignals) {
  for (unsigned seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 random(seed);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    auto household = std::make_shared<Household>();
    household->devices = {plug("p1"), plug("p2"), sensor("s1"), sensor("s2"), sensor("s3")};
    household->devices[3].silence_ms = 30 * kMinuteMs;
    auto quiet = plug("nolimit");
    quiet.silence_ms = 0;
    household->devices.push_back(quiet);
    household->settings.device_silence.all_silent_min_devices = 1 + pick(6);
    const HouseholdPtr shared = household;

    DeviceSilenceRule rule(shared);
    EvaluateEverythingReference reference(shared);
    RuleState state;
    RuleState reference_state;
    Instant now{1'761'951'600'000, 1'000'000, true};
    bool bridge_down = false;
    std::size_t events = 0;
    for (int step = 0; step < 3000; ++step) {
      const int what = pick(100);
      if (what < 3) bridge_down = !bridge_down;
      const std::int64_t pause = what < 70   ? pick(20'000)
                                 : what < 95 ? pick(4 * 60'000)
                                             : pick(30 * 60'000);
      now.mono_ms += pause;
      now.wall_ms += pause;
      std::vector<RuleEvent> got;
      std::vector<RuleEvent> want;
      if (what % 4 == 0) {
        rule.on_tick(now, state, got);
        reference.on_tick(now, reference_state, want);
      } else {
        // The bridge's devices (not s3, which has its own radio) fall silent together.
        int index = pick(static_cast<int>(shared->devices.size()));
        if (bridge_down && index != 4) index = 4;
        if (bridge_down && pick(3) > 0) index = -1;
        if (index < 0) continue;
        const auto& d = shared->devices[static_cast<std::size_t>(index)];
        drivers::DecodeResult decoded;
        if (pick(30) == 0) {
          decoded.readings.push_back(flag(Capability::availability, pick(2) == 0));
        } else {
          decoded.readings.push_back(number(Capability::power, 3.0));
        }
        rule.on_message({d, decoded, now}, state, got);
        reference.on_message({d, decoded, now}, reference_state, want);
      }
      ASSERT_EQ(got, want) << "step " << step << " at rule clock " << now.mono_ms;
      events += got.size();
      for (const auto& [k, value] : reference_state.with_prefix("device_silence/")) {
        const auto* device = [&]() -> const drivers::DeviceConfig* {
          for (const auto& d : shared->devices) {
            if (k == last_key(d.id)) return &d;
          }
          return nullptr;
        }();
        if (device == nullptr) {
          ASSERT_EQ(state.get(k), std::optional<std::string_view>(value)) << k;
          continue;
        }
        const std::int64_t exact = *reference_state.get_int(k);
        const std::int64_t written = state.get_int(k).value_or(-1);
        ASSERT_LE(written, exact) << k;
        const std::int64_t limit = device->silence_ms.value_or(
            device->power == PowerSource::battery ? 25 * kHourMs : 10 * kMinuteMs);
        if (limit > 0) {
          ASSERT_LT(exact - written, std::max<std::int64_t>(limit / 10, 1)) << k;
        }
      }
      ASSERT_EQ(state.with_prefix("device_silence/").size(),
                reference_state.with_prefix("device_silence/").size());
    }
    EXPECT_GT(events, 10u);  // the traffic did raise and clear
  }
}

TEST(DeviceSilenceRule, AMessageOfADeviceThatIsUpWritesNoStateMostOfTheTime) {
  const std::vector<drivers::DeviceConfig> devices{plug("p1"), plug("p2"), sensor("s1")};
  auto h = harness(devices);
  h.engine().state().take_changes();
  auto silence_writes = [&] {
    std::vector<std::string> keys;
    for (const auto& [k, value] : h.engine().state().take_changes()) {
      if (k.rfind("device_silence/", 0) == 0) keys.push_back(k);
    }
    return keys;
  };
  // Every device every 5 s: nothing is written for the first minute.
  for (int i = 0; i < 12; ++i) {
    for (const auto& d : devices) report(h, d);
    EXPECT_TRUE(silence_writes().empty()) << i * 5 << " s";
    h.advance_ms(5'000);
  }
  // 60 s: p1's "last" is a tenth of its limit old, so its message writes it, and "seen" is due,
  // which writes every device's "last" with it: one write of each key a minute.
  report(h, devices[0]);
  EXPECT_EQ(silence_writes(), (std::vector<std::string>{"device_silence//seen", last_key("p1"),
                                                        last_key("p2"), last_key("s1")}));
  h.advance_ms(5'000);
  for (const auto& d : devices) report(h, d);
  EXPECT_TRUE(silence_writes().empty());
}

TEST(DeviceSilenceRule, EveryUnwrittenLastIsWrittenWithTheHeartbeat) {
  const auto p = plug();
  const auto s = sensor();
  auto h = harness({p, s});
  h.advance_ms(30'000);
  report(h, p);
  report(h, s);  // 25 h limit: a message alone would not write it for 2.5 h
  h.engine().state().take_changes();
  h.advance_ms(DeviceSilenceRule::kHeartbeatMs);  // the heartbeat tick
  const auto changes = h.engine().state().take_changes();
  ASSERT_EQ(changes.count(last_key("hall")), 1u);
  EXPECT_EQ(changes.at(last_key("hall")),
            std::to_string(h.now().mono_ms - DeviceSilenceRule::kHeartbeatMs));
  EXPECT_EQ(changes.count(last_key("plug")), 1u);
}

// A restart loses what was not written yet: at worst a tenth of the limit, and the alert comes
// that much early, never late.
TEST(DeviceSilenceRule, RestartBeforeTheLastWasWrittenAlertsAtMostATenthOfTheLimitEarly) {
  const auto p = plug();
  auto h = harness({p});  // 08:00: the rule starts the plug's clock (written)
  h.advance_ms(50'000);
  report(h, p);  // 08:00:50, not written yet (under 60 s after the written one)
  EXPECT_TRUE(h.restart(10'000).empty());  // 08:01:00, a short restart
  // Heard at 08:00:50 for real: the alert is due at 08:10:50; it comes at 08:10:00 (50 s early).
  EXPECT_TRUE(h.advance_ms(9 * kMinuteMs - 1).empty());
  EXPECT_EQ(h.advance_ms(1), (std::vector<RuleEvent>{silent("plug")}));
}

TEST(DeviceSilenceRule, RestartAfterTheLastWasWrittenAlertsOnTime) {
  const auto p = plug();
  auto h = harness({p});
  h.advance_ms(kMinuteMs);
  report(h, p);  // 08:01:00, written (a tenth of the limit after the written one)
  h.advance_ms(30'000);
  report(h, p);                                   // 08:01:30, not written
  h.advance_ms(DeviceSilenceRule::kHeartbeatMs);  // 08:03:30, the heartbeat writes it
  EXPECT_TRUE(h.restart(kMinuteMs).empty());      // 08:04:30
  EXPECT_TRUE(h.advance_ms(7 * kMinuteMs - 1).empty());
  EXPECT_EQ(h.advance_ms(1), (std::vector<RuleEvent>{silent("plug")}));  // 08:11:30
}

TEST(DeviceSilenceRule, BatteryDeviceAfterARestartWithinATenthOfItsLimit) {
  const auto s = sensor();
  const auto p = plug();
  auto h = harness({s, p});
  for (int minute = 1; minute <= 100; ++minute) {  // the sensor every minute until 09:40
    h.advance_ms(kMinuteMs);
    report(h, s);
    report(h, p);
  }
  const std::int64_t heard = h.now().wall_ms;  // 09:40
  EXPECT_TRUE(h.restart(kMinuteMs).empty());
  // The sensor is due 25 h after 09:40; a restart may bring that forward by 2.5 h at most (here
  // "seen" wrote it with the plug's messages, at most a minute before the restart).
  std::optional<std::int64_t> raised_after;
  for (int step = 0; step < 26 * 12 && !raised_after; ++step) {
    h.advance_minutes(5);
    report(h, p);
    if (h.count(AlertKind::device_offline, Signal::raise) > 0) {
      raised_after = h.now().wall_ms - heard;  // within the last 5 minutes
    }
  }
  ASSERT_TRUE(raised_after);
  EXPECT_EQ(h.history(), (std::vector<RuleEvent>{silent("hall")}));
  EXPECT_GE(*raised_after, 25 * kHourMs - 25 * kHourMs / 10 - 5 * kMinuteMs);
  EXPECT_LE(*raised_after, 25 * kHourMs + 5 * kMinuteMs);
}

// Without ticks (a caller that only delivers messages), a message past the earliest deadline
// evaluates every device.
TEST(DeviceSilenceRule, AMessagePastTheDeadlineEvaluatesEveryDevice) {
  const auto p = plug();
  const auto s = sensor();
  test::RuleHarness h(std::make_unique<DeviceSilenceRule>(
      std::make_shared<const Household>(test::EngineHarness::shanghai({p, s}))));
  EXPECT_TRUE(h.send(p, {number(Capability::power, 3.0)}).empty());
  EXPECT_TRUE(h.send(s, {flag(Capability::occupancy, false)}).empty());
  for (int i = 0; i < 10; ++i) {  // O(1) messages until the plug's deadline
    h.advance_ms(kMinuteMs);
    EXPECT_TRUE(h.send(s, {flag(Capability::occupancy, false)}).empty()) << i;
  }
  // 10 min after the plug's last message the sensor spoke at the same moment: held. A moment
  // later it speaks again, after the plug's limit ran out.
  h.advance_ms(1);
  EXPECT_EQ(h.send(s, {flag(Capability::occupancy, false)}),
            (std::vector<RuleEvent>{silent("plug")}));
}

TEST(DeviceSilenceRule, OfflineOfOneOfManyDevicesIsRaisedAtOnceBetweenDeadlines) {
  std::vector<drivers::DeviceConfig> devices;
  for (int i = 0; i < 50; ++i) devices.push_back(sensor("s" + std::to_string(i)));
  auto h = harness(devices);
  for (const auto& d : devices) report(h, d);
  h.advance_minutes(30);
  EXPECT_EQ(h.send(devices[17], {flag(Capability::availability, false)}),
            (std::vector<RuleEvent>{{Signal::raise, AlertKind::device_offline, "s17", "offline"}}));
  report(h, devices[3]);
  EXPECT_TRUE(h.send(devices[17], {flag(Capability::availability, true)}).empty());
  EXPECT_EQ(h.advance_minutes(10),
            (std::vector<RuleEvent>{{Signal::clear, AlertKind::device_offline, "s17", {}}}));
  EXPECT_EQ(h.count(AlertKind::device_offline, Signal::raise), 1u);
}

}  // namespace
}  // namespace homesafe::rules
