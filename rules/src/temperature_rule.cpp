#include "homesafe/rules/temperature_rule.hpp"

#include <string>
#include <variant>

namespace homesafe::rules {
namespace {

std::string key(const std::string& device, std::string_view name) {
  std::string k = "temperature/";
  k += device;
  k += '/';
  k += name;
  return k;
}

bool is_sensor(const drivers::DeviceConfig& device) {
  return device.kind == drivers::DeviceKind::temperature;
}

}  // namespace

void TemperatureRule::on_message(const Observation& observation, RuleState& state,
                                 std::vector<RuleEvent>& out) {
  const auto& settings = household_->settings.temperature;
  const auto& device = observation.device.id;
  if (!settings.enabled || !is_sensor(observation.device)) return;
  const auto* reading = observation.decoded.find(drivers::Capability::temperature);
  if (reading == nullptr) return;  // no news: the last known value stands
  const double celsius = std::get<double>(reading->value);
  const std::int64_t now = observation.now.mono_ms;

  std::string_view side_now;
  if (celsius < settings.low_c) side_now = "low";
  if (celsius > settings.high_c) side_now = "high";

  const std::string since_key = key(device, "out_since");
  const std::string side_key = key(device, "side");
  const std::string raised_key = key(device, "raised");
  if (const auto since = state.get_int(since_key)) {
    const std::string side(state.get(side_key).value_or(""));
    const bool raised = state.get(raised_key).has_value();
    bool back = side_now != side;  // before the alert: back inside ends the excursion
    if (raised) {
      back = side == "low" ? celsius >= settings.low_c + settings.hysteresis_c
                           : celsius <= settings.high_c - settings.hysteresis_c;
    }
    if (back) {
      if (raised) {
        state.erase(raised_key);
        state.set_int(key(device, "cleared_at"), now);
        out.push_back({Signal::clear, AlertKind::temperature, device, side});
      } else if (now - *since < settings.after_ms) {
        out.push_back({Signal::suppressed, AlertKind::temperature, device, "too_short"});
      }
      state.erase(since_key);
      state.erase(side_key);
    }
  }
  if (!state.get(since_key) && !side_now.empty()) {
    state.set_int(since_key, now);
    state.set(side_key, side_now);
  }
  evaluate(device, now, state, out);
  update_deadline(state);
}

void TemperatureRule::on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  if (household_->settings.temperature.enabled) {
    for (const auto& device : household_->devices) {
      if (is_sensor(device)) evaluate(device.id, now.mono_ms, state, out);
    }
  }
  update_deadline(state);
}

void TemperatureRule::on_away_ended(Instant /*now*/, RuleState& /*state*/) {
  // Not person-related: nothing was paused while away (a cold house is a hazard to the pipes
  // and to whoever comes back).
}

void TemperatureRule::evaluate(const std::string& device, std::int64_t now_ms, RuleState& state,
                               std::vector<RuleEvent>& out) const {
  const auto since = state.get_int(key(device, "out_since"));
  if (!since || state.get(key(device, "raised"))) return;
  const auto cleared_at = state.get_int(key(device, "cleared_at"));
  const bool returned = cleared_at && now_ms - *cleared_at < household_->settings.clear_hold_ms;
  if (!returned && now_ms < *since + household_->settings.temperature.after_ms) return;
  state.set(key(device, "raised"), "1");
  state.erase(key(device, "cleared_at"));
  out.push_back({Signal::raise, AlertKind::temperature, device,
                 std::string(state.get(key(device, "side")).value_or(""))});
}

void TemperatureRule::update_deadline(const RuleState& state) {
  deadline_.reset();
  const auto& settings = household_->settings.temperature;
  if (!settings.enabled) return;
  for (const auto& device : household_->devices) {
    if (!is_sensor(device) || state.get(key(device.id, "raised"))) continue;
    const auto since = state.get_int(key(device.id, "out_since"));
    if (!since) continue;
    const std::int64_t at = *since + settings.after_ms;
    if (!deadline_ || at < *deadline_) deadline_ = at;
  }
}

}  // namespace homesafe::rules
