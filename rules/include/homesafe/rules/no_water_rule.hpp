#pragma once
// No water drawn from the household's water meter(s) for `no_water.after_ms` (default 24 h):
// the mission's headline rule. Meter resets and roll-overs are not use (activity.hpp).
//
// What counts as use: the litres of every water_meter device (Facts::water_used_l, already in
// litres: the drivers convert m³) add up household-wide; once readings arriving within
// `min_litres_window_ms` (1 h, from the first reading that contributed) bring at least
// `min_litres` (1 L), that is a use at the moment of the reading. A drip below about 0.5 L/h
// never adds up to a use, a kettle filled in two meter reports does. A meter reset is not use.
//
// When it raises: the watch starts at the first meter reading ever (or at the last use, or when
// the household came back from away) and the alert is due exactly `after_ms` later on the rule
// clock. At that moment it raises if at least one meter is still alive, i.e. has reported within
// its silence limit (DeviceConfig::silence_ms, else device_silence.battery_ms / mains_ms: the
// same limit device_silence uses). A meter that only reports when water flows looks the same as
// a person who stopped drawing water, so the alert must not wait for a reading that may never
// come. If every meter is past its silence limit the meter is dead (device_silence's alert):
// no_water is held back (counted as suppressed "meter_silent") and raises at the meter's next
// reading if that reading shows no use. Once raised there is no repeat; the next use clears
// (no_water does not close itself: the alert manager only records "condition_cleared").
//
// Keys: no_water/household/{since,raised,waiting,pending_ml,pending_from} and
// no_water/<meter>/seen (rule clock ms of the meter's last message).

#include "homesafe/rules/household.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class NoWaterRule final : public Rule {
 public:
  explicit NoWaterRule(HouseholdPtr household) : household_(std::move(household)) {}

  std::string_view name() const override { return "no_water"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override;
  std::optional<std::int64_t> next_deadline_mono_ms() const override { return deadline_; }
  void on_away_ended(Instant now, RuleState& state) override;

 private:
  // Adds this reading's litres to the pending amount; true when they make a use.
  bool add_use(const Observation& observation, RuleState& state) const;
  bool any_meter_alive(std::int64_t now_ms, const RuleState& state) const;
  void raise(RuleState& state, std::vector<RuleEvent>& out) const;
  void update_deadline(const RuleState& state);

  HouseholdPtr household_;
  std::optional<std::int64_t> deadline_;
};

}  // namespace homesafe::rules
