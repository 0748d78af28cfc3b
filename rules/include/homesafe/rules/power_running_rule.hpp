#pragma once
// A high-power appliance (stove, heater: a plug at or above its `high_power_w`) drawing power
// continuously for longer than `power_running.after_ms`, stricter in the night window.
//
// Per plug (device kind plug; threshold = the device's high_power_w, else
// power_running.high_power_w): the plug turns high at a reading >= threshold and low again at a
// reading < 0.5 x threshold; readings in between change nothing (hysteresis). Between readings
// the last known value stands: a plug that stops reporting while high stays high until it reports
// again (its silence is device_silence's alert).
//
// The alert is due at the earlier of
//  - start + after_ms (2 h, "day"), and
//  - the first moment at which night_after_ms (45 min) of the high period lay inside the night
//    window (settings.night, local time, 23:00-05:00 by default; "night").
// So a stove switched on at 22:30 raises at 23:45, one on at 23:50 at 00:35, and one on at 04:30
// (30 min of night) at 06:30. Low clears (held clear_hold_ms by the engine); high again within
// clear_hold_ms of that clear raises at once so the engine keeps the one alert.
//
// Keys: power_running/<plug>/{high_since,raised,cleared_at}.
//
// Cost: the plugs that are high and not yet raised are kept in memory with their due times
// (rebuilt from the state once, after a restart), so a message costs the same with 1,000 plugs
// as with one; due times are computed again only when the wall clock moves against the
// monotonic one (an NTP step), since they depend on the local time of the high period.

#include <map>
#include <string>

#include "homesafe/rules/household.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class PowerRunningRule final : public Rule {
 public:
  explicit PowerRunningRule(HouseholdPtr household) : household_(std::move(household)) {}

  std::string_view name() const override { return "power_running"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override;
  std::optional<std::int64_t> next_deadline_mono_ms() const override { return deadline_; }
  void on_away_ended(Instant now, RuleState& state) override;

 private:
  struct Due {
    std::int64_t mono_ms;
    bool night;
  };
  // When a plug high since `since_ms` (rule clock) is due, seen from `now`.
  Due due(std::int64_t since_ms, Instant now) const;
  // Raises for a plug that is high and due (or came back within the clear hold).
  void evaluate(const std::string& plug, Instant now, RuleState& state,
                std::vector<RuleEvent>& out) const;
  void update_deadline(Instant now, const RuleState& state);
  // Re-reads one plug's keys into pending_ (or all plugs' the first time).
  void track(const std::string& plug, const RuleState& state, Instant now);
  void sync(const RuleState& state, Instant now);

  struct Pending {
    std::int64_t since_ms;
    std::int64_t due_ms;
  };
  HouseholdPtr household_;
  std::optional<std::int64_t> deadline_;
  bool synced_ = false;
  std::map<std::string, Pending, std::less<>> pending_;  // high and not raised
  std::int64_t wall_minus_mono_ = 0;  // of the Instant the due times were computed at
};

}  // namespace homesafe::rules
