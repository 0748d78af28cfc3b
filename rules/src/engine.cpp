#include "homesafe/rules/engine.hpp"

#include <algorithm>

#include "homesafe/rules/device_fault_rule.hpp"
#include "homesafe/rules/device_silence_rule.hpp"
#include "homesafe/rules/hazard_rule.hpp"
#include "homesafe/rules/inactivity_rule.hpp"
#include "homesafe/rules/maintenance_rule.hpp"
#include "homesafe/rules/night_door_rule.hpp"
#include "homesafe/rules/no_water_rule.hpp"
#include "homesafe/rules/power_running_rule.hpp"
#include "homesafe/rules/routine_rule.hpp"
#include "homesafe/rules/temperature_rule.hpp"
#include "homesafe/rules/water_running_rule.hpp"

namespace homesafe::rules {
namespace {

constexpr std::string_view kClockMono = "clock/mono";
constexpr std::string_view kClockWall = "clock/wall";  // absent when the wall clock was unsynced
constexpr std::string_view kAwayUntilWall = "away/until_wall";
constexpr std::string_view kAwayUntilMono = "away/until_mono";
constexpr std::string_view kHoldPrefix = "hold/";  // hold/<kind>/<device> = deadline
constexpr std::string_view kSuppressedPrefix = "suppressed/";
constexpr std::int64_t kClockWriteEveryMs = 60'000;

// Kinds whose clear is held back for clear_hold_ms (conditions that can wobble around a limit).
bool held(AlertKind kind) {
  switch (kind) {
    case AlertKind::temperature:
    case AlertKind::water_running:
    case AlertKind::power_running:
    case AlertKind::device_offline:
    case AlertKind::hub_offline:
      return true;
    default:
      return false;
  }
}

std::string hold_key(const RuleEvent& event) {
  std::string key(kHoldPrefix);
  key += to_string(event.kind);
  key += '/';
  key += event.device_id;
  return key;
}

void keep_earliest(std::optional<std::int64_t>& next, std::optional<std::int64_t> candidate) {
  if (candidate && (!next || *candidate < *next)) next = candidate;
}

}  // namespace

RuleEngine::RuleEngine(HouseholdPtr household, std::vector<std::unique_ptr<Rule>> rules)
    : household_(std::move(household)), rules_(std::move(rules)) {}

Instant RuleEngine::rule_time(Instant now) const {
  now.mono_ms += clock_offset_ms_;
  return now;
}

void RuleEngine::advance_clock(Instant rule_now) {
  const auto written = state_.get_int(kClockMono);
  if (written && rule_now.mono_ms - *written < kClockWriteEveryMs) return;
  state_.set_int(kClockMono, rule_now.mono_ms);
  if (rule_now.wall_synced) {
    state_.set_int(kClockWall, rule_now.wall_ms);
  } else {
    state_.erase(kClockWall);
  }
}

std::vector<RuleEvent> RuleEngine::resume(Instant now) {
  const auto mono = state_.get_int(kClockMono);
  const auto wall = state_.get_int(kClockWall);
  if (mono) {
    // Time spent stopped counts when both wall clocks can be trusted; otherwise the rules lose
    // it (they alert later, never falsely).
    std::int64_t stopped = 0;
    if (wall && now.wall_synced) stopped = std::max<std::int64_t>(0, now.wall_ms - *wall);
    clock_offset_ms_ = *mono + stopped - now.mono_ms;
  }
  const Instant rule_now = rule_time(now);
  state_.erase(kClockMono);  // force a write of the continued clock
  advance_clock(rule_now);
  return run_ticks(rule_now);
}

std::vector<RuleEvent> RuleEngine::reconfigure(HouseholdPtr household,
                                               std::vector<std::unique_ptr<Rule>> rules,
                                               Instant now) {
  household_ = std::move(household);
  rules_ = std::move(rules);
  const Instant rule_now = rule_time(now);
  advance_clock(rule_now);
  return run_ticks(rule_now);
}

std::vector<RuleEvent> RuleEngine::on_message(const Observation& observation) {
  const Instant rule_now = rule_time(observation.now);
  advance_clock(rule_now);
  last_facts_ = activity_.observe(observation.device, observation.decoded, rule_now, state_);
  Observation seen{observation.device, observation.decoded, rule_now, last_facts_};
  std::vector<RuleEvent> out;
  if (last_facts_.meter_reset) {
    // Recorded in the device's history against the rule that reads the counter.
    const bool water = observation.decoded.find(drivers::Capability::water_total_l) != nullptr;
    const std::string count_key = "meter_reset/" + observation.device.id;
    const std::int64_t count = state_.get_int(count_key).value_or(0) + 1;
    state_.set_int(count_key, count);
    out.push_back({Signal::record, water ? AlertKind::no_water : AlertKind::power_running,
                   observation.device.id,
                   "meter_reset #" + std::to_string(count) + " " + last_facts_.meter_reset_detail});
  }
  for (auto& rule : rules_) rule->on_message(seen, state_, out);
  return filter(std::move(out), rule_now);
}

std::vector<RuleEvent> RuleEngine::on_tick(Instant now) {
  const Instant rule_now = rule_time(now);
  advance_clock(rule_now);
  return run_ticks(rule_now);
}

std::vector<RuleEvent> RuleEngine::run_ticks(Instant rule_now) {
  if (const auto until = state_.get_int(kAwayUntilMono); until && *until <= rule_now.mono_ms) {
    end_away({rule_now.wall_ms, rule_now.mono_ms - clock_offset_ms_, rule_now.wall_synced});
  }
  std::vector<RuleEvent> out;
  for (auto& rule : rules_) rule->on_tick(rule_now, state_, out);
  auto events = filter(std::move(out), rule_now);
  // Clears held long enough without the condition coming back.
  for (const auto& [key, value] : state_.with_prefix(kHoldPrefix)) {
    const auto deadline = state_.get_int(key);
    if (deadline && *deadline > rule_now.mono_ms) continue;
    const std::string rest = key.substr(kHoldPrefix.size());
    const auto slash = rest.find('/');
    const auto kind = alert_kind_from_string(rest.substr(0, slash));
    state_.erase(key);
    if (!kind || slash == std::string::npos) continue;
    events.push_back({Signal::clear, *kind, rest.substr(slash + 1), {}});
  }
  return events;
}

std::vector<RuleEvent> RuleEngine::filter(std::vector<RuleEvent> events, Instant rule_now) {
  std::vector<RuleEvent> out;
  for (auto& event : events) {
    if (event.signal == Signal::suppressed) {
      count_suppressed(event.kind, event.detail.empty() ? "rule" : event.detail);
      continue;
    }
    const bool raising = event.signal == Signal::raise || event.signal == Signal::repeat;
    if (raising && is_person_related(event.kind) && away(rule_now)) {
      count_suppressed(event.kind, "away");
      continue;
    }
    if (held(event.kind)) {
      const std::string key = hold_key(event);
      if (event.signal == Signal::clear) {
        if (!state_.get(key)) {
          state_.set_int(key, rule_now.mono_ms + household_->settings.clear_hold_ms);
        }
        continue;  // emitted by run_ticks when the hold runs out
      }
      if (raising && state_.get(key)) {
        state_.erase(key);
        count_suppressed(event.kind, "flap");
        event.signal = Signal::repeat;  // the open alert stays open
      }
    }
    out.push_back(std::move(event));
  }
  return out;
}

void RuleEngine::count_suppressed(AlertKind kind, std::string_view reason) {
  std::string key(kSuppressedPrefix);
  key += to_string(kind);
  key += '/';
  key += reason;
  state_.set_int(key, state_.get_int(key).value_or(0) + 1);
}

std::map<std::string, std::int64_t> RuleEngine::suppressed() const {
  std::map<std::string, std::int64_t> out;
  for (const auto& [key, value] : state_.with_prefix(kSuppressedPrefix)) {
    out[key.substr(kSuppressedPrefix.size())] = state_.get_int(key).value_or(0);
  }
  return out;
}

bool RuleEngine::away(Instant rule_now) const {
  const auto until = state_.get_int(kAwayUntilMono);
  return until && rule_now.mono_ms < *until;
}

void RuleEngine::set_away(std::int64_t until_wall_ms, Instant now) {
  const Instant rule_now = rule_time(now);
  if (until_wall_ms <= now.wall_ms) {
    end_away(now);
    return;
  }
  state_.set_int(kAwayUntilWall, until_wall_ms);
  state_.set_int(kAwayUntilMono, rule_now.mono_ms + (until_wall_ms - now.wall_ms));
}

void RuleEngine::end_away(Instant now) {
  const bool was_away = state_.get(kAwayUntilMono).has_value();
  state_.erase(kAwayUntilWall);
  state_.erase(kAwayUntilMono);
  if (!was_away) return;
  const Instant rule_now = rule_time(now);
  ActivityTracker::mark_activity(rule_now, false, state_);
  for (auto& rule : rules_) rule->on_away_ended(rule_now, state_);
}

std::optional<std::int64_t> RuleEngine::away_until_wall_ms() const {
  if (!state_.get(kAwayUntilMono)) return std::nullopt;
  return state_.get_int(kAwayUntilWall);
}

std::optional<std::int64_t> RuleEngine::next_deadline_mono_ms() const {
  std::optional<std::int64_t> next;
  for (const auto& rule : rules_) keep_earliest(next, rule->next_deadline_mono_ms());
  keep_earliest(next, state_.get_int(kAwayUntilMono));
  for (const auto& [key, value] : state_.with_prefix(kHoldPrefix)) {
    keep_earliest(next, state_.get_int(key));
  }
  if (next) *next -= clock_offset_ms_;
  return next;
}

std::vector<std::unique_ptr<Rule>> default_rules(const HouseholdPtr& household) {
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(std::make_unique<HazardRule>());
  rules.push_back(std::make_unique<MaintenanceRule>());
  rules.push_back(std::make_unique<DeviceFaultRule>());
  rules.push_back(std::make_unique<NoWaterRule>(household));
  rules.push_back(std::make_unique<InactivityRule>(household));
  rules.push_back(std::make_unique<WaterRunningRule>(household));
  rules.push_back(std::make_unique<PowerRunningRule>(household));
  rules.push_back(std::make_unique<NightDoorRule>(household));
  rules.push_back(std::make_unique<TemperatureRule>(household));
  rules.push_back(std::make_unique<DeviceSilenceRule>(household));
  rules.push_back(std::make_unique<RoutineRule>(household));
  return rules;
}

}  // namespace homesafe::rules
