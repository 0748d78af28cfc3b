#pragma once
// No sign of life from any activity source for `inactivity.after_ms` of waking time (the
// sleeping window does not count); a longer allowance (`out_after_ms`) when the last sign was the
// entrance door (probably out). The sleeping window counts out only while the person may be
// resting: when the household has bed or chair occupancy sensors and every one of them last said
// "empty", the window counts like the day (a person who fell at 19:00 is not asleep at 22:00 and
// is found at 23:00, not the next morning). A bed changing state is itself a sign of life, so
// its state has not changed since the stretch began.
//
// Clocks: the quiet time is measured on the rule clock (monotonic, continued across restarts);
// the wall clock only places the sleeping window inside that stretch, counted backwards from the
// current wall time. A wall clock that jumps forward therefore never makes the stretch longer,
// and the waking time is never more than the elapsed rule-clock time. While the wall clock is not
// synced the time of day is unknown: the rule then counts the least waking time the stretch can
// hold wherever the sleeping window falls (it may alert later, never early).
//
// State ("inactivity/household/..."): `start` (rule clock) the watch start when there is no later
// sign of life (first run, return from away), `raised` an alert is open, `hold_until` (rule clock)
// the end of the grace after a restart. The last sign of life itself is the shared
// ActivityTracker's.

#include "homesafe/rules/household.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class InactivityRule final : public Rule {
 public:
  // A stretch that reached its limit while the gateway was down is held this long after the
  // restart, so that the devices can report first (what they sent meanwhile was not heard).
  static constexpr std::int64_t kResumeGraceMs = 10 * 60'000;

  explicit InactivityRule(HouseholdPtr household);

  std::string_view name() const override { return "inactivity"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override;
  std::optional<std::int64_t> next_deadline_mono_ms() const override { return deadline_; }
  void on_away_ended(Instant now, RuleState& state) override;

 private:
  // Waking milliseconds in the `elapsed_ms` of rule-clock time before `now` (see above).
  std::int64_t waking_ms(Instant now, std::int64_t elapsed_ms) const;
  // False when bed/chair sensors exist and all last reported empty (see above).
  bool may_be_resting(const RuleState& state) const;
  bool active() const;
  // Raises when the limit is reached and keeps deadline_ up to date.
  void evaluate(Instant now, RuleState& state, std::vector<RuleEvent>& out);
  // The rule-clock time at which the stretch that started at `since` holds `limit_ms` of waking
  // time (if the wall clock keeps running with the rule clock).
  std::int64_t due_mono_ms(Instant now, std::int64_t since, std::int64_t limit_ms) const;
  std::int64_t sleep_per_day_ms() const;

  HouseholdPtr household_;
  bool has_source_ = false;                // the household has at least one activity source
  std::vector<std::string> rest_sensors_;  // bed/chair occupancy sensors that are sources
  bool started_ = false;  // false until the first call of this instance (a restart)
  std::optional<std::int64_t> deadline_;
};

}  // namespace homesafe::rules
