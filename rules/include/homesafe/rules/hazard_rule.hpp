#pragma once
// Smoke, gas, CO and water-leak alarms, and call-button presses: an alert at once.

#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class HazardRule final : public Rule {
 public:
  // A `test` flag counts as a self-test only this long after it was first seen on; a flag stuck
  // on (stale cached state) must not hide a real alarm. Measured on the wall clock because it
  // must survive a restart; any clock jump ends the window (the safe side).
  static constexpr std::int64_t kSelfTestWindowMs = 120'000;

  std::string_view name() const override { return "hazard"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
};

}  // namespace homesafe::rules
