#include "homesafe/rules/inactivity_rule.hpp"

#include <algorithm>

#include "homesafe/rules/activity.hpp"

namespace homesafe::rules {
namespace {

constexpr std::string_view kStart = "inactivity/household/start";
constexpr std::string_view kRaised = "inactivity/household/raised";
constexpr std::string_view kHoldUntil = "inactivity/household/hold_until";

}  // namespace

InactivityRule::InactivityRule(HouseholdPtr household) : household_(std::move(household)) {
  has_source_ = std::any_of(household_->devices.begin(), household_->devices.end(),
                            [](const drivers::DeviceConfig& d) { return is_activity_source(d); });
  for (const auto& device : household_->devices) {
    if (device.kind == drivers::DeviceKind::occupancy && is_activity_source(device)) {
      rest_sensors_.push_back(device.id);
    }
  }
}

bool InactivityRule::may_be_resting(const RuleState& state) const {
  if (rest_sensors_.empty()) return true;  // no bed sensor: the clock decides
  for (const auto& id : rest_sensors_) {
    if (ActivityTracker::occupied(state, id) != std::optional<bool>(false)) return true;
  }
  return false;
}

bool InactivityRule::active() const {
  // Without any activity source there is nothing to be inactive about: the rule stays silent.
  return household_->settings.inactivity.enabled && has_source_;
}

std::int64_t InactivityRule::sleep_per_day_ms() const {
  return household_->settings.sleep.overlap_ms(0, kDayMs);
}

std::int64_t InactivityRule::waking_ms(Instant now, std::int64_t elapsed_ms) const {
  if (elapsed_ms <= 0) return 0;
  if (now.wall_synced) {
    return household_->waking_ms_between(now.wall_ms - elapsed_ms, now.wall_ms);
  }
  // Unknown time of day: the most sleeping time any placement of the stretch can hold is a full
  // window per whole day plus at most one window in the rest.
  const std::int64_t sleep = sleep_per_day_ms();
  const std::int64_t most_sleep =
      (elapsed_ms / kDayMs) * sleep + std::min(elapsed_ms % kDayMs, sleep);
  return elapsed_ms - most_sleep;
}

std::int64_t InactivityRule::due_mono_ms(Instant now, std::int64_t since,
                                         std::int64_t limit_ms) const {
  if (now.wall_synced) {
    const std::int64_t from_wall = now.wall_ms - (now.mono_ms - since);
    const std::int64_t due_wall = household_->wall_after_waking_ms(from_wall, limit_ms);
    return now.mono_ms + (due_wall - now.wall_ms);
  }
  // The inverse of the unsynced waking_ms: whole waking days, then a full sleeping window and
  // the rest of the waking time.
  const std::int64_t sleep = sleep_per_day_ms();
  const std::int64_t awake_per_day = kDayMs - sleep;  // > 0: a window is never the whole day
  const std::int64_t rest = limit_ms % awake_per_day;
  return since + (limit_ms / awake_per_day) * kDayMs + (rest > 0 ? sleep + rest : 0);
}

void InactivityRule::evaluate(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  const bool first_call = !started_;
  started_ = true;
  deadline_.reset();
  if (!active() || state.get(kRaised)) return;

  // The stretch starts at the last sign of life, or when the rule started watching.
  auto start = state.get_int(kStart);
  if (!start) {
    start = now.mono_ms;
    state.set_int(kStart, *start);
  }
  const auto last = ActivityTracker::last_activity(state);
  const bool after_sign = last && *last >= *start;
  const std::int64_t since = after_sign ? *last : *start;
  const bool entrance = after_sign && ActivityTracker::last_was_entrance(state);
  const auto& settings = household_->settings.inactivity;
  const std::int64_t limit = entrance ? settings.out_after_ms : settings.after_ms;

  const bool resting = entrance || may_be_resting(state);
  const std::int64_t quiet = now.mono_ms - since;
  const bool reached = (resting ? waking_ms(now, quiet) : quiet) >= limit;
  auto hold = state.get_int(kHoldUntil);
  if (reached && first_call && !hold) {
    hold = now.mono_ms + kResumeGraceMs;
    state.set_int(kHoldUntil, *hold);
  }
  if (reached && (!hold || now.mono_ms >= *hold)) {
    out.push_back(
        {Signal::raise, AlertKind::inactivity, {}, entrance ? "last=entrance" : std::string()});
    state.set(kRaised, "1");
    state.erase(kHoldUntil);
    return;  // nothing more to wait for until the next sign of life
  }
  std::int64_t next = reached ? *hold : resting ? due_mono_ms(now, since, limit) : since + limit;
  if (hold) next = std::max(next, *hold);
  deadline_ = std::max(next, now.mono_ms + 1);
}

void InactivityRule::on_message(const Observation& observation, RuleState& state,
                                std::vector<RuleEvent>& out) {
  if (active() && observation.facts.activity) {
    if (state.get(kRaised)) {
      out.push_back({Signal::clear, AlertKind::inactivity, {}, "activity"});
      state.erase(kRaised);
    }
    state.erase(kHoldUntil);
  }
  evaluate(observation.now, state, out);
}

void InactivityRule::on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  evaluate(now, state, out);
}

void InactivityRule::on_away_ended(Instant now, RuleState& state) {
  // The engine has marked `now` as a sign of life; an alert raised while away was dropped.
  state.set_int(kStart, now.mono_ms);
  state.erase(kRaised);
  state.erase(kHoldUntil);
  std::vector<RuleEvent> none;
  evaluate(now, state, none);
}

}  // namespace homesafe::rules
