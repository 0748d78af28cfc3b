#include "homesafe/rules/maintenance_rule.hpp"

#include <string>
#include <variant>

#include "homesafe/rules/edge.hpp"

namespace homesafe::rules {
namespace {

using drivers::Capability;

void emit_edge(RuleState& state, const std::string& device, std::string_view name, bool on,
               AlertKind kind, std::vector<RuleEvent>& out) {
  const std::string key = "maintenance/" + device + "/" + std::string(name);
  if (auto signal = signal_for(update_edge(state, key, on))) {
    out.push_back({*signal, kind, device, {}});
  }
}

}  // namespace

void MaintenanceRule::on_message(const Observation& observation, RuleState& state,
                                 std::vector<RuleEvent>& out) {
  const auto& device = observation.device;
  const auto& decoded = observation.decoded;

  if (device.power == drivers::PowerSource::battery) {
    std::optional<bool> low;
    if (const auto* flag = decoded.find(Capability::battery_low)) {
      low = std::get<bool>(flag->value);
    }
    if (const auto* percent = decoded.find(Capability::battery)) {
      const double value = std::get<double>(percent->value);
      if (value <= kLowBatteryPercent) {
        low = true;
      } else if (!low && value >= kOkBatteryPercent) {
        low = false;
      }  // between the thresholds: no opinion, the last state stands (hysteresis)
    }
    if (low) emit_edge(state, device.id, "battery_low", *low, AlertKind::low_battery, out);
  }

  if (const auto* tamper = decoded.find(Capability::tamper)) {
    emit_edge(state, device.id, "tamper", std::get<bool>(tamper->value), AlertKind::tamper, out);
  }
}

}  // namespace homesafe::rules
