#include "homesafe/rules/power_running_rule.hpp"

#include <string>
#include <variant>

namespace homesafe::rules {
namespace {

std::string key(const std::string& plug, std::string_view name) {
  std::string k = "power_running/";
  k += plug;
  k += '/';
  k += name;
  return k;
}

bool is_plug(const drivers::DeviceConfig& device) {
  return device.kind == drivers::DeviceKind::plug;
}

}  // namespace

void PowerRunningRule::on_message(const Observation& observation, RuleState& state,
                                  std::vector<RuleEvent>& out) {
  const auto& settings = household_->settings.power_running;
  const auto& device = observation.device;
  if (!settings.enabled || !is_plug(device)) return;
  const auto* reading = observation.decoded.find(drivers::Capability::power);
  if (reading == nullptr) return;  // no news: the last known value stands
  const double power = std::get<double>(reading->value);
  const double threshold = device.high_power_w.value_or(settings.high_power_w);
  const std::int64_t now = observation.now.mono_ms;

  const std::string since_key = key(device.id, "high_since");
  if (power >= threshold) {
    if (!state.get(since_key)) state.set_int(since_key, now);
  } else if (power < 0.5 * threshold && state.get(since_key)) {
    state.erase(since_key);
    if (state.get(key(device.id, "raised"))) {
      state.erase(key(device.id, "raised"));
      state.set_int(key(device.id, "cleared_at"), now);
      out.push_back({Signal::clear, AlertKind::power_running, device.id, {}});
    }
  }
  evaluate(device.id, observation.now, state, out);
  if (synced_) track(device.id, state, observation.now);
  update_deadline(observation.now, state);
}

void PowerRunningRule::on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  if (household_->settings.power_running.enabled) {
    sync(state, now);
    // Only a plug that is high and not raised can raise (evaluate returns at once otherwise).
    std::vector<std::string> plugs;
    plugs.reserve(pending_.size());
    for (const auto& [plug, pending] : pending_) plugs.push_back(plug);
    for (const auto& plug : plugs) {
      evaluate(plug, now, state, out);
      track(plug, state, now);
    }
  }
  update_deadline(now, state);
}

void PowerRunningRule::track(const std::string& plug, const RuleState& state, Instant now) {
  const auto since = state.get_int(key(plug, "high_since"));
  if (!since || state.get(key(plug, "raised"))) {
    pending_.erase(plug);
    return;
  }
  auto it = pending_.find(plug);
  if (it != pending_.end() && it->second.since_ms == *since &&
      now.wall_ms - now.mono_ms == wall_minus_mono_) {
    return;  // unchanged
  }
  pending_.insert_or_assign(plug, Pending{*since, due(*since, now).mono_ms});
}

void PowerRunningRule::sync(const RuleState& state, Instant now) {
  if (synced_) return;
  synced_ = true;
  wall_minus_mono_ = now.wall_ms - now.mono_ms;
  pending_.clear();
  for (const auto& device : household_->devices) {
    if (is_plug(device)) track(device.id, state, now);
  }
}

void PowerRunningRule::on_away_ended(Instant /*now*/, RuleState& /*state*/) {
  // Not person-related: nothing was paused while away.
}

PowerRunningRule::Due PowerRunningRule::due(std::int64_t since_ms, Instant now) const {
  const auto& settings = household_->settings;
  const std::int64_t day_due = since_ms + settings.power_running.after_ms;
  const std::int64_t night_needed = settings.power_running.night_after_ms;
  // The high period in local time: its start as the wall clock sees it now.
  const std::int64_t wall_since = now.wall_ms - (now.mono_ms - since_ms);
  const std::int64_t local_since =
      wall_since + static_cast<std::int64_t>(household_->zone.offset_at(wall_since)) * 1000;
  const auto night_ms_until = [&](std::int64_t mono_ms) {
    return settings.night.overlap_ms(local_since, local_since + (mono_ms - since_ms));
  };
  if (night_ms_until(day_due) < night_needed) return {day_due, false};
  // Night time grows monotonically with the end: the first millisecond it reaches the limit.
  std::int64_t low = since_ms;  // below the limit (unless the limit is 0)
  std::int64_t high = day_due;  // at or above it
  if (night_ms_until(low) >= night_needed) return {low, true};
  while (high - low > 1) {
    const std::int64_t mid = low + (high - low) / 2;
    if (night_ms_until(mid) >= night_needed) {
      high = mid;
    } else {
      low = mid;
    }
  }
  return {high, true};
}

void PowerRunningRule::evaluate(const std::string& plug, Instant now, RuleState& state,
                                std::vector<RuleEvent>& out) const {
  const auto since = state.get_int(key(plug, "high_since"));
  if (!since || state.get(key(plug, "raised"))) return;
  const auto cleared_at = state.get_int(key(plug, "cleared_at"));
  const bool returned =
      cleared_at && now.mono_ms - *cleared_at < household_->settings.clear_hold_ms;
  const Due when = due(*since, now);
  if (!returned && now.mono_ms < when.mono_ms) return;
  state.set(key(plug, "raised"), "1");
  state.erase(key(plug, "cleared_at"));
  const char* detail = returned ? "returned" : (when.night ? "night" : "day");
  out.push_back({Signal::raise, AlertKind::power_running, plug, detail});
}

void PowerRunningRule::update_deadline(Instant now, const RuleState& state) {
  deadline_.reset();
  if (!household_->settings.power_running.enabled) return;
  sync(state, now);
  if (now.wall_ms - now.mono_ms != wall_minus_mono_) {
    // The wall clock moved against the monotonic one: the local time of every high period
    // changed, and with it the night part of its due time.
    wall_minus_mono_ = now.wall_ms - now.mono_ms;
    for (auto& [plug, pending] : pending_) pending.due_ms = due(pending.since_ms, now).mono_ms;
  }
  for (const auto& [plug, pending] : pending_) {
    if (!deadline_ || pending.due_ms < *deadline_) deadline_ = pending.due_ms;
  }
}

}  // namespace homesafe::rules
