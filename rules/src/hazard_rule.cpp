#include "homesafe/rules/hazard_rule.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <variant>

#include "homesafe/rules/edge.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;

struct HazardCapability {
  Capability capability;
  AlertKind kind;
};

constexpr std::array<HazardCapability, 4> kHazards{{
    {Capability::smoke, AlertKind::smoke},
    {Capability::gas, AlertKind::gas},
    {Capability::carbon_monoxide, AlertKind::co},
    {Capability::water_leak, AlertKind::water_leak},
}};

std::string key_for(const std::string& device, std::string_view name) {
  std::string key = "hazard/";
  key += device;
  key += '/';
  key += name;
  return key;
}

// Tracks the device's `test` flag and tells whether this message is part of a self-test.
bool in_self_test(const Observation& observation, RuleState& state) {
  const auto* test = observation.decoded.find(Capability::self_test);
  const std::string key = key_for(observation.device.id, "test_since");
  if (test == nullptr) return false;
  if (!std::get<bool>(test->value)) {
    state.erase(key);
    return false;
  }
  const std::int64_t now = observation.now.wall_ms;
  std::int64_t since = now;
  if (auto stored = state.get(key)) {
    std::from_chars(stored->data(), stored->data() + stored->size(), since);
  } else {
    state.set(key, std::to_string(now));
  }
  const std::int64_t elapsed = now - since;
  return elapsed >= 0 && elapsed <= HazardRule::kSelfTestWindowMs;
}

}  // namespace

void HazardRule::on_message(const Observation& observation, RuleState& state,
                            std::vector<RuleEvent>& out) {
  const auto& device = observation.device;
  const auto& decoded = observation.decoded;

  const bool self_test = in_self_test(observation, state);
  for (const auto& hazard : kHazards) {
    const auto* reading = decoded.find(hazard.capability);
    if (reading == nullptr) continue;  // missing means unknown, never "clear"
    const bool on = std::get<bool>(reading->value);
    if (self_test) {
      // Recorded, never escalated; the condition's state is left as it was.
      if (on) out.push_back({Signal::record, hazard.kind, device.id, "self_test"});
      continue;
    }
    const Edge edge = update_edge(state, key_for(device.id, to_string(hazard.capability)), on);
    if (auto signal = signal_for(edge)) out.push_back({*signal, hazard.kind, device.id, {}});
  }

  if (device.kind == drivers::DeviceKind::call_button) {
    if (const auto* action = decoded.find(Capability::action)) {
      const auto& value = std::get<std::string>(action->value);
      const auto& calls = drivers::call_actions_of(device);
      if (std::find(calls.begin(), calls.end(), value) != calls.end()) {
        out.push_back({Signal::raise, AlertKind::call, device.id, "action=" + value});
      }
    }
  }
}

}  // namespace homesafe::rules
