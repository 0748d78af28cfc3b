#pragma once
// Indoor temperature below `low_c` or above `high_c` continuously for `after_ms`, with
// hysteresis on the way back.
//
// Per device of kind temperature (other devices that happen to report a temperature, e.g. a
// plug's chip, are ignored). A reading strictly below low_c (10 °C) or above high_c (32 °C)
// starts an excursion on that side; a reading back inside [low_c, high_c] ends it before the
// alert. The last known reading stands between readings (sensors report on change), so the
// alert is due exactly after_ms (60 min) after the excursion started, detail "low" or "high".
// An excursion that ends sooner is counted as suppressed "too_short". Once raised, only a
// reading back inside by hysteresis_c (>= low_c + 1 or <= high_c - 1) clears (held by the
// engine); outside again within clear_hold_ms of that clear raises at once, so the engine keeps
// the one alert.
//
// Keys: temperature/<device>/{out_since,side,raised,cleared_at}.

#include "homesafe/rules/household.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class TemperatureRule final : public Rule {
 public:
  explicit TemperatureRule(HouseholdPtr household) : household_(std::move(household)) {}

  std::string_view name() const override { return "temperature"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override;
  std::optional<std::int64_t> next_deadline_mono_ms() const override { return deadline_; }
  void on_away_ended(Instant now, RuleState& state) override;

 private:
  // Raises for a device that is outside and due (or outside again within the clear hold).
  void evaluate(const std::string& device, std::int64_t now_ms, RuleState& state,
                std::vector<RuleEvent>& out) const;
  void update_deadline(const RuleState& state);

  HouseholdPtr household_;
  std::optional<std::int64_t> deadline_;
};

}  // namespace homesafe::rules
