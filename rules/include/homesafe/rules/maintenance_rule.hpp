#pragma once
// Low battery and tamper: maintenance alerts (severity info) that close when the condition does.

#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class MaintenanceRule final : public Rule {
 public:
  static constexpr double kLowBatteryPercent = 10.0;  // at or below: low
  static constexpr double kOkBatteryPercent = 20.0;   // at or above: fine again (hysteresis)

  std::string_view name() const override { return "maintenance"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
};

}  // namespace homesafe::rules
