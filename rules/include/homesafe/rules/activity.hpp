#pragma once
// Derives the facts every rule shares from one message, once: was it a sign of life, how much
// water went through the meter and energy through a plug or meter (counter resets, roll-overs and
// impossible jumps are a new baseline, never use), when the water started flowing. Keeps the
// household's last sign of life in the rule state ("activity/...").

#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class ActivityTracker {
 public:
  static constexpr double kSwitchOnW = 15.0;    // a plug at or above this is switched on
  static constexpr double kSwitchOffW = 5.0;    // ... at or below this, off (hysteresis)
  static constexpr double kMeterJitterL = 1.0;  // a total this much lower is read noise
  static constexpr double kMaxFlowLPerS = 1.0;  // more than this (+ kMeterJitterL x 50) is a jump
  static constexpr double kEnergyJitterKwh = 0.01;  // a total this much lower is rounding
  // More than 1 kWh plus 25 kW for the time since the last reading is more than a home draws.
  static constexpr double kMaxEnergyJumpKwh = 1.0;
  static constexpr double kMaxPowerKw = 25.0;
  // Water flowing continuously longer than this is no sign of life (a tap left running).
  static constexpr std::int64_t kFlowNotActivityMs = 30 * 60'000;
  static constexpr double kFlowingLPerMin = 0.5;  // averaged over a report: flowing

  // `now` is on the rule clock.
  Facts observe(const drivers::DeviceConfig& device, const drivers::DecodeResult& decoded,
                Instant now, RuleState& state) const;

  // The household's last sign of life (rule clock), if any.
  static std::optional<std::int64_t> last_activity(const RuleState& state);
  static bool last_was_entrance(const RuleState& state);
  // When the meter's current continuous flow started (rule clock), if it is flowing.
  static std::optional<std::int64_t> flowing_since(const RuleState& state,
                                                   const std::string& device_id);
  // The last occupancy a bed or chair sensor reported (nullopt: none yet).
  static std::optional<bool> occupied(const RuleState& state, const std::string& device_id);
  // Marks `now` as a sign of life (used when the household returns from away).
  static void mark_activity(Instant now, bool entrance, RuleState& state);

 private:
  void observe_water(const drivers::DeviceConfig& device, double total_l, Instant now,
                     RuleState& state, Facts& facts) const;
  void observe_energy(const drivers::DeviceConfig& device, double total_kwh, Instant now,
                      RuleState& state, Facts& facts) const;
};

}  // namespace homesafe::rules
