#include "homesafe/rules/activity.hpp"

#include <algorithm>
#include <string>
#include <variant>

#include "homesafe/rules/household.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;
using drivers::DeviceKind;

constexpr std::string_view kLast = "activity/last";
constexpr std::string_view kLastEntrance = "activity/last_entrance";

std::string key(std::string_view prefix, const std::string& device, std::string_view name) {
  std::string k(prefix);
  k += '/';
  k += device;
  k += '/';
  k += name;
  return k;
}

const bool* flag(const drivers::DecodeResult& decoded, Capability capability) {
  const auto* reading = decoded.find(capability);
  return reading == nullptr ? nullptr : std::get_if<bool>(&reading->value);
}

const double* number(const drivers::DecodeResult& decoded, Capability capability) {
  const auto* reading = decoded.find(capability);
  return reading == nullptr ? nullptr : std::get_if<double>(&reading->value);
}

// A changed boolean state (door, bed) is a sign of life; the first value ever seen is not.
bool state_changed(RuleState& state, const std::string& k, bool value) {
  const auto before = state.get(k);
  const bool changed = before && (*before == "1") != value;  // read before set() replaces it
  state.set(k, value ? "1" : "0");
  return changed;
}

}  // namespace

Facts ActivityTracker::observe(const drivers::DeviceConfig& device,
                               const drivers::DecodeResult& decoded, Instant now,
                               RuleState& state) const {
  Facts facts;
  facts.previous_activity_mono_ms = last_activity(state);
  facts.previous_was_entrance = last_was_entrance(state);

  if (const double* total = number(decoded, Capability::water_total_l)) {
    observe_meter(device, *total, now, state, facts);
  }

  bool activity = false;
  if (const auto* action = decoded.find(Capability::action)) {
    activity = !std::get<std::string>(action->value).empty();
  }
  if (const bool* contact = flag(decoded, Capability::contact)) {
    activity |= state_changed(state, key("activity", device.id, "contact"), *contact);
  }
  if (const bool* occupied = flag(decoded, Capability::occupancy)) {
    if (device.kind == DeviceKind::motion) {
      activity |= *occupied;  // every detection is someone moving
    } else {
      activity |= state_changed(state, key("activity", device.id, "occupancy"), *occupied);
    }
  }
  if (const double* power = number(decoded, Capability::power)) {
    const std::string k = key("activity", device.id, "on");
    const bool was_on = state.get(k) == std::optional<std::string_view>("1");
    const bool known = state.get(k).has_value();
    bool on = was_on;
    if (*power >= kSwitchOnW) on = true;
    if (*power <= kSwitchOffW) on = false;
    state.set(k, on ? "1" : "0");
    activity |= known && on != was_on;
  }
  if (facts.water_used_l && *facts.water_used_l > 0) {
    // A flow that started with this reading is a sign of life however rarely the meter reports;
    // one that has gone on for long is a tap left running, not a person.
    const auto since = flowing_since(state, device.id);
    activity |= !since || facts.water_flow_started || now.mono_ms - *since <= kFlowNotActivityMs;
  }

  if (activity && is_activity_source(device)) {
    facts.activity = true;
    facts.entrance = device.entrance;
    mark_activity(now, device.entrance, state);
  }
  return facts;
}

void ActivityTracker::observe_meter(const drivers::DeviceConfig& device, double total_l,
                                    Instant now, RuleState& state, Facts& facts) const {
  const std::string total_key = key("meter", device.id, "total_ml");
  const std::string at_key = key("meter", device.id, "at");
  const std::string flow_key = key("meter", device.id, "flowing_since");
  const auto previous_ml = state.get_int(total_key);
  const auto previous_at = state.get_int(at_key);
  const auto total_ml = static_cast<std::int64_t>(total_l * 1000.0 + 0.5);

  double used = 0.0;
  if (previous_ml && previous_at) {
    const double delta = static_cast<double>(total_ml - *previous_ml) / 1000.0;
    const double elapsed_s = static_cast<double>(now.mono_ms - *previous_at) / 1000.0;
    if (delta < -kMeterJitterL || delta > 50.0 * kMeterJitterL + kMaxFlowLPerS * elapsed_s) {
      facts.meter_reset = true;  // battery change, reboot, roll-over, replaced meter
    } else if (delta < 0) {
      facts.water_used_l = 0.0;
      return;  // read noise: keep the higher baseline
    } else {
      used = delta;
    }
  }
  if (!facts.meter_reset && previous_ml) facts.water_used_l = used;
  state.set_int(total_key, total_ml);
  state.set_int(at_key, now.mono_ms);

  if (!previous_at || facts.meter_reset) {
    state.erase(flow_key);  // a new baseline: no flow known
    return;
  }
  const double minutes = static_cast<double>(now.mono_ms - *previous_at) / 60'000.0;
  const bool flowing = minutes > 0 && used / minutes >= kFlowingLPerMin;
  if (flowing) {
    if (!state.get(flow_key)) {
      state.set_int(flow_key, *previous_at);
      facts.water_flow_started = true;
    }
  } else {
    state.erase(flow_key);
  }
}

std::optional<std::int64_t> ActivityTracker::last_activity(const RuleState& state) {
  return state.get_int(kLast);
}

bool ActivityTracker::last_was_entrance(const RuleState& state) {
  return state.get(kLastEntrance) == std::optional<std::string_view>("1");
}

std::optional<std::int64_t> ActivityTracker::flowing_since(const RuleState& state,
                                                           const std::string& device_id) {
  return state.get_int(key("meter", device_id, "flowing_since"));
}

void ActivityTracker::mark_activity(Instant now, bool entrance, RuleState& state) {
  state.set_int(kLast, now.mono_ms);
  state.set(kLastEntrance, entrance ? "1" : "0");
}

}  // namespace homesafe::rules
