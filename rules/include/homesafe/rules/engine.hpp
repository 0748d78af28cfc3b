#pragma once
// Runs the household's rules on every message and tick and collects what they signal. Besides
// calling the rules it owns what they share:
//  - the rule clock: monotonic time that continues across restarts (persisted in the state), so
//    that "24 hours without water" survives a power cut;
//  - the facts derived once per message (activity.hpp);
//  - away mode (外出/住院): person-related alerts pause until a given time, hazards never do;
//  - flap damping: a condition that clears and comes back within clear_hold_ms keeps its alert;
//  - counters of every alert it or a rule suppressed, by kind and reason.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "homesafe/rules/activity.hpp"
#include "homesafe/rules/household.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class RuleEngine {
 public:
  RuleEngine(HouseholdPtr household, std::vector<std::unique_ptr<Rule>> rules);

  // After the persisted state is loaded: continues the rule clock and lets every rule compute
  // its deadlines. Returns what the rules signal for the time that passed while stopped.
  std::vector<RuleEvent> resume(Instant now);

  // New settings for the same household (a config patch from the township): the rules are
  // replaced and pick up where the state says, as after a restart, while the state, the rule
  // clock and away mode continue. Returns what the new rules signal now (e.g. a watch that is
  // already past its new limit).
  std::vector<RuleEvent> reconfigure(HouseholdPtr household,
                                     std::vector<std::unique_ptr<Rule>> rules, Instant now);

  // `observation.now` is on the caller's clocks; rules see the rule clock.
  std::vector<RuleEvent> on_message(const Observation& observation);
  std::vector<RuleEvent> on_tick(Instant now);
  // On the caller's monotonic clock.
  std::optional<std::int64_t> next_deadline_mono_ms() const;

  // Away until a wall-clock time (the caregiver's "back on the 12th"); replaces an earlier one.
  void set_away(std::int64_t until_wall_ms, Instant now);
  // Back home now (or the away time ran out): the rules watch afresh from `now`.
  void end_away(Instant now);
  std::optional<std::int64_t> away_until_wall_ms() const;

  // Alerts not raised on purpose: "kind/reason" -> count (persisted).
  std::map<std::string, std::int64_t> suppressed() const;

  // The facts of the last message passed to on_message.
  const Facts& last_facts() const { return last_facts_; }

  RuleState& state() { return state_; }
  const std::vector<std::unique_ptr<Rule>>& rules() const { return rules_; }
  const Household& household() const { return *household_; }

 private:
  Instant rule_time(Instant now) const;
  void advance_clock(Instant rule_now);
  // Counts suppressions, applies away mode and flap damping to what the rules signalled.
  std::vector<RuleEvent> filter(std::vector<RuleEvent> events, Instant rule_now);
  std::vector<RuleEvent> run_ticks(Instant rule_now);
  void count_suppressed(AlertKind kind, std::string_view reason);
  bool away(Instant rule_now) const;

  HouseholdPtr household_;
  std::vector<std::unique_ptr<Rule>> rules_;
  ActivityTracker activity_;
  RuleState state_;
  Facts last_facts_;
  std::int64_t clock_offset_ms_ = 0;  // rule clock = caller's monotonic clock + offset
};

// Every rule the gateway runs, in a fixed order (an explicit list, like the driver registry).
std::vector<std::unique_ptr<Rule>> default_rules(const HouseholdPtr& household);

}  // namespace homesafe::rules
