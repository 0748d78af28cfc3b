#pragma once
// Water flowing without a pause for longer than `water_running.after_ms` (default 45 min): a tap
// left running or a burst pipe. One alert per water meter (device = the meter).
//
// The flow is ActivityTracker's: a meter is flowing from the start of the first reading interval
// whose average flow was at least 0.5 L/min, until a reading shows less (a meter reset neither
// starts nor ends a flow). One interval alone never proves a continuous flow (an hourly meter's
// 40 L may be a shower and the washing machine): the flow must span at least two readings.
// Flow is only known at readings, so:
//  - a reading that shows the flow still on at least `after_ms` after it started raises;
//  - at the deadline (flow start + after_ms) the rule raises only if the meter's last message
//    is at most kFreshMs old (the flow is assumed to go on for that long after it was last seen);
//    otherwise it waits for the next reading to confirm the flow (a dead meter is
//    device_silence's alert, not a running tap).
// The first reading that shows the flow stopped clears (the engine holds the clear
// clear_hold_ms). A flow that returns within clear_hold_ms of that clear raises again at once, so
// the engine keeps the one alert open instead of letting it close and reopen 45 min later.
//
// Keys: water_running/<meter>/{seen,previous,raised,cleared_at} (seen, previous: rule clock ms of
// the meter's last two messages).

#include "homesafe/rules/household.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class WaterRunningRule final : public Rule {
 public:
  // How long after its last reading a flow is still taken as current at the deadline.
  static constexpr std::int64_t kFreshMs = 5 * kMinuteMs;

  explicit WaterRunningRule(HouseholdPtr household) : household_(std::move(household)) {}

  std::string_view name() const override { return "water_running"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override;
  std::optional<std::int64_t> next_deadline_mono_ms() const override { return deadline_; }
  void on_away_ended(Instant now, RuleState& state) override;

 private:
  void update_deadline(std::int64_t now_ms, const RuleState& state);

  HouseholdPtr household_;
  std::optional<std::int64_t> deadline_;
};

}  // namespace homesafe::rules
