#include "homesafe/rules/water_running_rule.hpp"

#include <string>

#include "homesafe/rules/activity.hpp"

namespace homesafe::rules {
namespace {

std::string key(const std::string& meter, std::string_view name) {
  std::string k = "water_running/";
  k += meter;
  k += '/';
  k += name;
  return k;
}

bool is_meter(const drivers::DeviceConfig& device) {
  return device.kind == drivers::DeviceKind::water_meter;
}

void raise(const std::string& meter, RuleState& state, std::vector<RuleEvent>& out) {
  state.set(key(meter, "raised"), "1");
  state.erase(key(meter, "cleared_at"));
  out.push_back({Signal::raise, AlertKind::water_running, meter, {}});
}

}  // namespace

void WaterRunningRule::on_message(const Observation& observation, RuleState& state,
                                  std::vector<RuleEvent>& out) {
  const auto& settings = household_->settings;
  const auto& meter = observation.device.id;
  if (!settings.water_running.enabled || !is_meter(observation.device)) return;
  const std::int64_t now = observation.now.mono_ms;
  const auto previous = state.get_int(key(meter, "seen"));
  if (previous) state.set_int(key(meter, "previous"), *previous);
  state.set_int(key(meter, "seen"), now);

  const auto since = ActivityTracker::flowing_since(state, meter);
  const bool raised = state.get(key(meter, "raised")).has_value();
  if (since && !raised) {
    const auto cleared_at = state.get_int(key(meter, "cleared_at"));
    const bool returned = cleared_at && now - *cleared_at < settings.clear_hold_ms;
    if (returned ||
        (now - *since >= settings.water_running.after_ms && previous && *since < *previous)) {
      raise(meter, state, out);
    }
  } else if (!since && raised) {
    state.erase(key(meter, "raised"));
    state.set_int(key(meter, "cleared_at"), now);
    out.push_back({Signal::clear, AlertKind::water_running, meter, {}});
  }
  update_deadline(now, state);
}

void WaterRunningRule::on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  const auto& settings = household_->settings.water_running;
  if (settings.enabled) {
    for (const auto& device : household_->devices) {
      if (!is_meter(device) || state.get(key(device.id, "raised"))) continue;
      const auto since = ActivityTracker::flowing_since(state, device.id);
      const auto seen = state.get_int(key(device.id, "seen"));
      const auto previous = state.get_int(key(device.id, "previous"));
      if (!since || !seen || !previous || now.mono_ms < *since + settings.after_ms) continue;
      if (*since < *previous && now.mono_ms - *seen <= kFreshMs) raise(device.id, state, out);
    }
  }
  update_deadline(now.mono_ms, state);
}

void WaterRunningRule::on_away_ended(Instant /*now*/, RuleState& /*state*/) {
  // Not person-related: nothing was paused while away.
}

void WaterRunningRule::update_deadline(std::int64_t now_ms, const RuleState& state) {
  deadline_.reset();
  const auto& settings = household_->settings.water_running;
  if (!settings.enabled) return;
  for (const auto& device : household_->devices) {
    if (!is_meter(device) || state.get(key(device.id, "raised"))) continue;
    const auto since = ActivityTracker::flowing_since(state, device.id);
    if (!since) continue;
    const std::int64_t due = *since + settings.after_ms;
    // A deadline that passed without a fresh reading waits for the next reading instead.
    if (due > now_ms && (!deadline_ || due < *deadline_)) deadline_ = due;
  }
}

}  // namespace homesafe::rules
