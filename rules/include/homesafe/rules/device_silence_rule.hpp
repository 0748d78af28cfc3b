#pragma once
// A device silent longer than expected (battery 25 h, mains 10 min, per device overridable)
// or reporting itself offline: device_offline. Every device silent at once: one hub_offline
// alert instead of one per device.
//
// Exactly:
//  - every message of a configured device counts (also one without readings); its limit is its
//    `silence_ms`, else `device_silence.battery_ms` / `mains_ms` by its power source; a limit of
//    0 or less means "no silence limit" (availability still counts);
//  - a device's clock starts when the rule first sees it configured (a new hub does not alert);
//  - availability `offline`: device_offline at once (detail "offline"); only availability
//    `online` ends it;
//  - silent past its limit: device_offline (detail "silent") — but only once some other device
//    has spoken after this one's limit ran out (or every device is down): until then nothing
//    tells a dead device from a dead bridge, and a dead bridge must give one alert, not twenty;
//  - every device down (silent or offline) and at least `all_silent_min_devices` of them: one
//    hub_offline (device "", detail "all N devices silent"), and no new per-device alerts while
//    it holds (open ones stay open). The first device that speaks ends it; every device still
//    silent then gets a fresh limit from that moment (they come back one by one after a bridge
//    restart);
//  - a device that speaks again (or comes online) clears its device_offline.
// Restarts: the rule asks for a tick at least every kHeartbeatMs; a gap of more than
// kResumeGapMs since it last ran means the gateway was down (or not hearing). That time does not
// count as silence: every device's last message moves forward by the gap, and every device gets
// at least min(limit, kResumeGraceMs) from the restart. (When the wall clock was not synced at
// the restart the rule clock skips the downtime anyway.) Devices with an open alert and an open
// hub_offline are left as they are.
//
// State: "device_silence/<device>/last" (rule clock), ".../offline" and ".../raised" ("1");
// household-wide (empty device segment, as in the alerts; no device id is empty):
// "device_silence//seen" (rule clock of the last run) and "device_silence//hub" ("1").

#include "homesafe/rules/household.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class DeviceSilenceRule final : public Rule {
 public:
  static constexpr std::int64_t kHeartbeatMs = 2 * 60'000;
  static constexpr std::int64_t kResumeGapMs = 5 * 60'000;
  static constexpr std::int64_t kResumeGraceMs = 10 * 60'000;
  // "seen" is written at most this often (a state write per tick would wear the hub's flash).
  static constexpr std::int64_t kSeenWriteMs = 60'000;

  explicit DeviceSilenceRule(HouseholdPtr household) : household_(std::move(household)) {}

  std::string_view name() const override { return "device_silence"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override;
  std::optional<std::int64_t> next_deadline_mono_ms() const override { return deadline_; }
  // Device silence is not person-related: nothing to restart after an away time.
  void on_away_ended(Instant now, RuleState& state) override;

 private:
  bool active() const;
  // The device's silence limit; 0 when it has none.
  std::int64_t limit_of(const drivers::DeviceConfig& device) const;
  // Starts the clocks of new devices, skips downtime, forgets devices no longer configured.
  void catch_up(Instant now, RuleState& state, std::vector<RuleEvent>& out);
  // Raises and clears, and keeps deadline_ up to date.
  void evaluate(Instant now, RuleState& state, std::vector<RuleEvent>& out);

  HouseholdPtr household_;
  bool started_ = false;  // false until the first call of this instance (a restart)
  std::optional<std::int64_t> deadline_;
};

}  // namespace homesafe::rules
