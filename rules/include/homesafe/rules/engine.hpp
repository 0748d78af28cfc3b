#pragma once
// Runs the household's rules on every message and tick and collects what they signal.

#include <memory>
#include <optional>
#include <vector>

#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class RuleEngine {
 public:
  explicit RuleEngine(std::vector<std::unique_ptr<Rule>> rules);

  std::vector<RuleEvent> on_message(const Observation& observation);
  std::vector<RuleEvent> on_tick(Instant now);
  std::optional<std::int64_t> next_deadline_mono_ms() const;

  RuleState& state() { return state_; }
  const std::vector<std::unique_ptr<Rule>>& rules() const { return rules_; }

 private:
  std::vector<std::unique_ptr<Rule>> rules_;
  RuleState state_;
};

// Every rule the gateway runs, in a fixed order (an explicit list, like the driver registry).
std::vector<std::unique_ptr<Rule>> default_rules();

}  // namespace homesafe::rules
