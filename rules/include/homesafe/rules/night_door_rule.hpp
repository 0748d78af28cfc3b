#pragma once
// The entrance door opens in the night window and no sign of life inside follows within
// `night_door.no_return_ms` (wandering risk, 易走失), or it stays open longer than `open_ms`.
//
// Per entrance contact (`entrance: true`, kind contact) a small watch:
//  - the door opens (closed -> open) in the night window: watch phase "open" from then;
//  - still open `open_ms` later: raise, detail "open";
//  - it closes: phase "closed" from the close; no sign of life inside (a message with activity
//    from any device that is not an entrance door) within `no_return_ms` after the close: raise,
//    detail "no_return". Activity inside before that ends the watch (a night toilet visit is no
//    door event at all; letting the cat out and walking back to bed is no alert). Activity while
//    the door is still open does not count (the person may be on the way out);
//  - the door opening again while a watch runs (coming back in) continues the watch, also after
//    the night window ended;
//  - an alert clears (detail "activity") at the first sign of life inside while the door is
//    closed: the person is back.
// Without any indoor activity source the "no_return" variant cannot tell leaving from staying:
// it is not watched (counted as suppressed "no_indoor_source"), only the "open" variant is, and
// its alert clears (detail "closed") when the door closes.
// While the wall clock is not synced the time of day is unknown: no watch starts (suppressed
// "clock_unsynced") rather than an alert at the wrong time of day.
//
// State ("night_door/<door>/..."): `closed` the last contact value ("1"/"0"), `phase`
// ("open"/"closed") and `since` (rule clock) of a running watch, `raised` the detail of the open
// alert.

#include <string>
#include <vector>

#include "homesafe/rules/household.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class NightDoorRule final : public Rule {
 public:
  // A watch that ran out while the gateway was down gets this long after the restart for the
  // devices inside to report first (what they sent meanwhile was not heard).
  static constexpr std::int64_t kResumeGraceMs = 5 * 60'000;

  explicit NightDoorRule(HouseholdPtr household);

  std::string_view name() const override { return "night_door"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override;
  std::optional<std::int64_t> next_deadline_mono_ms() const override { return deadline_; }
  void on_away_ended(Instant now, RuleState& state) override;

 private:
  void on_open(const std::string& door, Instant now, RuleState& state,
               std::vector<RuleEvent>& out) const;
  void on_close(const std::string& door, Instant now, RuleState& state,
                std::vector<RuleEvent>& out) const;
  void on_inside_activity(RuleState& state, std::vector<RuleEvent>& out) const;
  // Raises the watches that ran out and keeps deadline_ up to date.
  void check(Instant now, RuleState& state, std::vector<RuleEvent>& out);

  HouseholdPtr household_;
  std::vector<std::string> doors_;  // ids of the entrance contacts
  bool has_indoor_source_ = false;  // an activity source that is not an entrance door
  bool started_ = false;            // false until the first call of this instance (a restart)
  std::optional<std::int64_t> deadline_;
};

}  // namespace homesafe::rules
