#pragma once
// Learned routine: today's gap since the last sign of life inside the home, compared with the
// longest such gap the household had at the same time of day over the last weeks (see
// docs/routine.md for the method, its parameters and its limits).
//
// Memory (RuleState, the source of truth; the members below only cache it):
//   routine/household/day/YYYYMMDD  one learned local day: 96 numbers in waking minutes; first,
//                                   per 30-min slot, the longest inside gap reached in the slot;
//                                   then, per slot, the longest inside gap that began in it
//                                   (-1: none, e.g. out all along: last sign the entrance door)
//   routine/household/today         YYYYMMDD,slot,complete,96 numbers: the day in progress
//   routine/household/open          "1" while a routine_deviation alert is raised

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "homesafe/rules/household.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class RoutineRule final : public Rule {
 public:
  static constexpr int kSlotMinutes = 30;
  static constexpr int kSlots = 24 * 60 / kSlotMinutes;
  // The usual gap of a slot is the largest of this slot's and this many neighbours' on each side.
  static constexpr int kNeighbourSlots = 1;

  using Slots = std::array<std::int32_t, kSlots>;  // minutes, one per slot of a local day
  struct DayRecord {
    Slots reached{};  // longest inside gap reached in the slot (-1: none)
    Slots began{};    // longest inside gap that began in the slot (-1: none)
  };

  explicit RoutineRule(HouseholdPtr household) : household_(std::move(household)) {}

  std::string_view name() const override { return "routine"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
  void on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) override;
  std::optional<std::int64_t> next_deadline_mono_ms() const override { return deadline_; }
  void on_away_ended(Instant now, RuleState& state) override;

 private:
  // The household's last sign of life before the moment being looked at.
  struct Last {
    std::optional<std::int64_t> mono_ms;
    bool entrance = false;
  };

  void load(RuleState& state);
  // Moves today's record to `now` (closing slots and days on the way) with the last sign of
  // life as it was before `now`.
  void advance(Instant now, Last last, RuleState& state);
  // Stores today in the history when it is a day to learn from.
  void finish_day(RuleState& state);
  // Forgets the days that fell out of the window ending with today_.
  void prune(RuleState& state);
  void save_today(RuleState& state) const;
  // Today's maximum of the slot becomes at least `gap_ms` (nothing when not an inside gap);
  // whether it grew.
  static bool note_gap(Slots& slots, int slot, std::optional<std::int64_t> gap_ms);
  void recompute_usual();
  // Decides whether to raise and sets deadline_.
  void judge(Instant now, Last last, RuleState& state, std::vector<RuleEvent>& out);

  // Waking-time gap (ms) at wall time `at_wall_ms` since the last sign of life; nullopt when
  // there was none yet or when the last sign was the entrance door (probably out).
  std::optional<std::int64_t> inside_gap_ms(Instant now, Last last, std::int64_t at_wall_ms) const;
  // Wall time of the last sign of life (from the rule clock), when it was inside.
  static std::optional<std::int64_t> inside_since_wall_ms(Instant now, Last last);
  // The gap at which to raise, for a gap that began in slot `began` and is now in `now_slot`.
  std::int64_t threshold_ms(int now_slot, int began) const;
  std::int32_t usual_minutes(int now_slot, int began) const;
  bool learnable_today() const;
  std::int64_t local_day(std::int64_t wall_ms) const;
  int slot_of(std::int64_t wall_ms) const;
  // Wall time at which the slot containing `wall_ms` started.
  std::int64_t slot_start_wall_ms(std::int64_t wall_ms) const;
  bool away(Instant now, const RuleState& state) const;

  HouseholdPtr household_;
  std::optional<std::int64_t> deadline_;

  // Cache of the state, filled by load() at the first call after construction.
  bool loaded_ = false;
  bool positioned_ = false;  // today_/slot_ are known
  std::int64_t today_ = 0;   // local day number (days since 1970-01-01, local)
  int slot_ = 0;             // the slot the last call was in
  bool complete_ = false;    // today has been followed from its start without a hole
  DayRecord record_;         // today so far
  std::map<std::int64_t, DayRecord> history_;  // learned days by local day number
  // Per slot, the largest learned value over the days and the slot's neighbours.
  Slots usual_reached_{};
  Slots usual_began_{};
  Slots known_days_{};  // per slot: learned days on which the slot had an inside gap
};

}  // namespace homesafe::rules
