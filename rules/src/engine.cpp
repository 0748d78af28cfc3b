#include "homesafe/rules/engine.hpp"

#include <algorithm>

#include "homesafe/rules/device_fault_rule.hpp"
#include "homesafe/rules/hazard_rule.hpp"
#include "homesafe/rules/maintenance_rule.hpp"

namespace homesafe::rules {

RuleEngine::RuleEngine(std::vector<std::unique_ptr<Rule>> rules) : rules_(std::move(rules)) {}

std::vector<RuleEvent> RuleEngine::on_message(const Observation& observation) {
  std::vector<RuleEvent> out;
  for (auto& rule : rules_) rule->on_message(observation, state_, out);
  return out;
}

std::vector<RuleEvent> RuleEngine::on_tick(Instant now) {
  std::vector<RuleEvent> out;
  for (auto& rule : rules_) rule->on_tick(now, state_, out);
  return out;
}

std::optional<std::int64_t> RuleEngine::next_deadline_mono_ms() const {
  std::optional<std::int64_t> next;
  for (const auto& rule : rules_) {
    if (auto deadline = rule->next_deadline_mono_ms()) {
      next = next ? std::min(*next, *deadline) : *deadline;
    }
  }
  return next;
}

std::vector<std::unique_ptr<Rule>> default_rules() {
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(std::make_unique<HazardRule>());
  rules.push_back(std::make_unique<MaintenanceRule>());
  rules.push_back(std::make_unique<DeviceFaultRule>());
  return rules;
}

}  // namespace homesafe::rules
