#include "homesafe/rules/no_water_rule.hpp"

#include <cmath>
#include <string>

namespace homesafe::rules {
namespace {

using drivers::DeviceKind;

constexpr std::string_view kSince = "no_water/household/since";  // start of the current watch
constexpr std::string_view kRaised = "no_water/household/raised";
constexpr std::string_view kWaiting = "no_water/household/waiting";  // due, every meter silent
constexpr std::string_view kPendingMl = "no_water/household/pending_ml";
constexpr std::string_view kPendingFrom = "no_water/household/pending_from";

std::string seen_key(const std::string& meter) {
  return "no_water/" + meter + "/seen";
}

bool is_meter(const drivers::DeviceConfig& device) {
  return device.kind == DeviceKind::water_meter;
}

// The silence limit device_silence applies to this device.
std::int64_t silence_limit_ms(const drivers::DeviceConfig& device, const RuleSettings& settings) {
  if (device.silence_ms) return *device.silence_ms;
  return device.power == drivers::PowerSource::battery ? settings.device_silence.battery_ms
                                                       : settings.device_silence.mains_ms;
}

}  // namespace

void NoWaterRule::on_message(const Observation& observation, RuleState& state,
                             std::vector<RuleEvent>& out) {
  const auto& settings = household_->settings.no_water;
  if (!settings.enabled || !is_meter(observation.device)) return;
  const std::int64_t now = observation.now.mono_ms;

  state.set_int(seen_key(observation.device.id), now);  // any message: the meter is alive
  if (!state.get_int(kSince)) state.set_int(kSince, now);

  if (add_use(observation, state)) {
    state.set_int(kSince, now);
    state.erase(kWaiting);
    if (state.get(kRaised)) {
      state.erase(kRaised);
      out.push_back({Signal::clear, AlertKind::no_water, {}, "water_used"});
    }
  } else if (!state.get(kRaised) && now >= *state.get_int(kSince) + settings.after_ms) {
    // Due, and a live meter (this one, just now) shows no use: also the silent meter's return.
    raise(state, out);
  }
  update_deadline(state);
}

void NoWaterRule::on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  const auto& settings = household_->settings.no_water;
  const auto since = state.get_int(kSince);
  if (settings.enabled && since && !state.get(kRaised) && !state.get(kWaiting) &&
      now.mono_ms >= *since + settings.after_ms) {
    if (any_meter_alive(now.mono_ms, state)) {
      raise(state, out);
    } else {
      // The meter is dead (device_silence's alert): wait for its next reading.
      state.set(kWaiting, "1");
      out.push_back({Signal::suppressed, AlertKind::no_water, {}, "meter_silent"});
    }
  }
  update_deadline(state);
}

void NoWaterRule::on_away_ended(Instant now, RuleState& state) {
  // Back home: a fresh 24 h from now (only once a meter has reported at all).
  if (state.get_int(kSince)) state.set_int(kSince, now.mono_ms);
  state.erase(kRaised);
  state.erase(kWaiting);
  state.erase(kPendingMl);
  state.erase(kPendingFrom);
  update_deadline(state);
}

bool NoWaterRule::add_use(const Observation& observation, RuleState& state) const {
  const auto& settings = household_->settings.no_water;
  const auto& used = observation.facts.water_used_l;
  if (observation.facts.meter_reset || !used || *used <= 0.0) return false;

  const std::int64_t now = observation.now.mono_ms;
  const auto used_ml = static_cast<std::int64_t>(std::llround(*used * 1000.0));
  auto pending_ml = state.get_int(kPendingMl).value_or(0);
  const auto pending_from = state.get_int(kPendingFrom);
  if (!pending_from || now - *pending_from > settings.min_litres_window_ms) {
    pending_ml = used_ml;
    state.set_int(kPendingFrom, now);
  } else {
    pending_ml += used_ml;
  }
  const auto min_ml = static_cast<std::int64_t>(std::llround(settings.min_litres * 1000.0));
  if (pending_ml >= min_ml) {
    state.erase(kPendingMl);
    state.erase(kPendingFrom);
    return true;
  }
  state.set_int(kPendingMl, pending_ml);
  return false;
}

bool NoWaterRule::any_meter_alive(std::int64_t now_ms, const RuleState& state) const {
  for (const auto& device : household_->devices) {
    if (!is_meter(device)) continue;
    const auto seen = state.get_int(seen_key(device.id));
    if (seen && now_ms - *seen <= silence_limit_ms(device, household_->settings)) return true;
  }
  return false;
}

void NoWaterRule::raise(RuleState& state, std::vector<RuleEvent>& out) const {
  state.set(kRaised, "1");
  state.erase(kWaiting);
  out.push_back({Signal::raise, AlertKind::no_water, {}, {}});
}

void NoWaterRule::update_deadline(const RuleState& state) {
  deadline_.reset();
  const auto& settings = household_->settings.no_water;
  const auto since = state.get_int(kSince);
  if (!settings.enabled || !since || state.get(kRaised) || state.get(kWaiting)) return;
  deadline_ = *since + settings.after_ms;
}

}  // namespace homesafe::rules
