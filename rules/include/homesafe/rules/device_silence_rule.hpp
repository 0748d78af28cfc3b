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
//
// Cost: a message costs O(1) — it updates its own device in memory. Every device is evaluated
// only when the rule clock reaches next_deadline_mono_ms() (the earliest limit, at least every
// kHeartbeatMs), when the reporting device was down or goes offline, while the household-wide
// alert is open, or while a silent device waits for another to speak. "last" is kept in memory
// and written coarsely, so that a message does not cost a store transaction: when the written
// value is older than a tenth of the device's limit (kLastWriteFraction), and every dirty one
// with "seen" (at most every kSeenWriteMs, at least at every heartbeat tick). After a restart
// (or a config change, which rebuilds the rules) the rule may therefore see a device as last
// heard up to a tenth of its limit earlier than it was — never later: an alert comes at worst
// that much early (usually at most kSeenWriteMs + kHeartbeatMs), never late.

#include <string>
#include <unordered_map>
#include <vector>

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
  // A message writes its device's "last" when the written one is older than limit / this.
  static constexpr std::int64_t kLastWriteFraction = 10;

  explicit DeviceSilenceRule(HouseholdPtr household) : household_(std::move(household)) {}

  std::string_view name() const override { return "device_silence"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override;
  std::optional<std::int64_t> next_deadline_mono_ms() const override { return deadline_; }
  // Device silence is not person-related: nothing to restart after an away time.
  void on_away_ended(Instant now, RuleState& state) override;

 private:
  // One configured device, in the order of household_->devices.
  struct Watch {
    std::string last_key;      // "device_silence/<id>/last"
    std::int64_t last = 0;     // rule clock of its last message (exact, in memory)
    std::int64_t written = 0;  // the value of last_key in the state (<= last)
    std::int64_t limit = 0;    // 0: none
    bool offline = false;      // mirrors ".../offline"
    bool raised = false;       // mirrors ".../raised"
    bool overdue(std::int64_t now) const { return limit > 0 && now - last >= limit; }
  };

  bool active() const;
  // The device's silence limit; 0 when it has none.
  std::int64_t limit_of(const drivers::DeviceConfig& device) const;
  // Starts the clocks of new devices, skips downtime, forgets devices no longer configured, and
  // writes "seen" (with every dirty "last") when due. Returns true when every device must be
  // evaluated (the first call of this instance, or a gap).
  bool catch_up(Instant now, RuleState& state, std::vector<RuleEvent>& out);
  // The first call of this instance: the in-memory watches from the state.
  void load(RuleState& state);
  void write_last(Watch& w, std::int64_t value, RuleState& state);
  // Raises and clears for every device, and keeps deadline_, held_ up to date.
  void evaluate(Instant now, RuleState& state, std::vector<RuleEvent>& out);

  HouseholdPtr household_;
  bool started_ = false;  // false until the first call of this instance (a restart)
  std::optional<std::int64_t> deadline_;
  std::vector<Watch> watches_;
  std::unordered_map<std::string, std::size_t> index_;  // device id -> watches_
  std::optional<std::int64_t> seen_;                    // mirrors "device_silence//seen"
  bool hub_raised_ = false;                             // mirrors "device_silence//hub"
  // Some device is silent past its limit without an alert, waiting for another to speak.
  bool held_ = false;
};

}  // namespace homesafe::rules
