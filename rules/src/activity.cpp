#include "homesafe/rules/activity.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
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

// One cumulative counter, kept in the rule state in thousandths of its unit (ml, Wh).
struct Counter {
  std::string_view name;  // for the reset detail
  std::string total_key;
  std::string at_key;
  double jitter;          // a total this much lower than the last is read noise
  double max_jump;        // an increase above this ...
  double max_rate_per_s;  // ... plus this per second since the last reading is no real use
};

struct CounterStep {
  enum Kind { baseline, noise, used, reset } kind = baseline;
  double amount = 0.0;           // used since the previous reading (used)
  std::int64_t previous_at = 0;  // rule-clock ms of the previous reading (noise, used)
};

std::string format_total(double value) {
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%.3f", value);
  return text.data();
}

// Moves the counter to `total`. A drop below the read noise (battery change, reboot, replaced
// meter, roll-over) or an increase faster than any home could use is a reset: a new baseline,
// recorded in `facts`. A small drop is noise: the higher baseline is kept.
CounterStep advance_counter(const Counter& counter, double total, Instant now, RuleState& state,
                            Facts& facts) {
  const auto previous = state.get_int(counter.total_key);
  const auto previous_at = state.get_int(counter.at_key);
  const auto total_milli = std::llround(total * 1000.0);
  CounterStep step;
  if (previous && previous_at) {
    const double delta = static_cast<double>(total_milli - *previous) / 1000.0;
    const double elapsed_s = static_cast<double>(now.mono_ms - *previous_at) / 1000.0;
    if (delta < -counter.jitter ||
        delta > counter.max_jump + counter.max_rate_per_s * std::max(elapsed_s, 0.0)) {
      step.kind = CounterStep::reset;
      facts.meter_reset = true;
      if (!facts.meter_reset_detail.empty()) facts.meter_reset_detail += "; ";
      facts.meter_reset_detail += std::string(counter.name) + " " +
                                  format_total(static_cast<double>(*previous) / 1000.0) + " -> " +
                                  format_total(total);
    } else if (delta < 0) {
      return {CounterStep::noise, 0.0, *previous_at};
    } else {
      step = {CounterStep::used, delta, *previous_at};
    }
  }
  state.set_int(counter.total_key, total_milli);
  state.set_int(counter.at_key, now.mono_ms);
  return step;
}

}  // namespace

Facts ActivityTracker::observe(const drivers::DeviceConfig& device,
                               const drivers::DecodeResult& decoded, Instant now,
                               RuleState& state) const {
  Facts facts;
  facts.previous_activity_mono_ms = last_activity(state);
  facts.previous_was_entrance = last_was_entrance(state);

  if (const double* total = number(decoded, Capability::water_total_l)) {
    observe_water(device, *total, now, state, facts);
  }
  if (const double* total = number(decoded, Capability::energy)) {
    observe_energy(device, *total, now, state, facts);
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

void ActivityTracker::observe_water(const drivers::DeviceConfig& device, double total_l,
                                    Instant now, RuleState& state, Facts& facts) const {
  const Counter counter{"water_total_l",
                        key("meter", device.id, "total_ml"),
                        key("meter", device.id, "at"),
                        kMeterJitterL,
                        50.0 * kMeterJitterL,
                        kMaxFlowLPerS};
  const CounterStep step = advance_counter(counter, total_l, now, state, facts);
  const std::string flow_key = key("meter", device.id, "flowing_since");
  if (step.kind == CounterStep::noise) {
    facts.water_used_l = 0.0;
    return;  // keeps the higher baseline and whatever flow was known
  }
  if (step.kind != CounterStep::used) {
    state.erase(flow_key);  // a new baseline: no flow known
    return;
  }
  facts.water_used_l = step.amount;
  const double minutes = static_cast<double>(now.mono_ms - step.previous_at) / 60'000.0;
  const bool flowing = minutes > 0 && step.amount / minutes >= kFlowingLPerMin;
  if (flowing) {
    if (!state.get(flow_key)) {
      state.set_int(flow_key, step.previous_at);
      facts.water_flow_started = true;
    }
  } else {
    state.erase(flow_key);
  }
}

void ActivityTracker::observe_energy(const drivers::DeviceConfig& device, double total_kwh,
                                     Instant now, RuleState& state, Facts& facts) const {
  const Counter counter{"energy",
                        key("meter", device.id, "energy_wh"),
                        key("meter", device.id, "energy_at"),
                        kEnergyJitterKwh,
                        kMaxEnergyJumpKwh,
                        kMaxPowerKw / 3600.0};
  const CounterStep step = advance_counter(counter, total_kwh, now, state, facts);
  if (step.kind == CounterStep::noise) facts.energy_used_kwh = 0.0;
  if (step.kind == CounterStep::used) facts.energy_used_kwh = step.amount;
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

std::optional<bool> ActivityTracker::occupied(const RuleState& state,
                                              const std::string& device_id) {
  const auto value = state.get(key("activity", device_id, "occupancy"));
  if (!value) return std::nullopt;
  return *value == "1";
}

void ActivityTracker::mark_activity(Instant now, bool entrance, RuleState& state) {
  state.set_int(kLast, now.mono_ms);
  state.set(kLastEntrance, entrance ? "1" : "0");
}

}  // namespace homesafe::rules
