#include "homesafe/rules/device_fault_rule.hpp"

#include <charconv>
#include <string>
#include <variant>

#include "homesafe/rules/edge.hpp"

namespace homesafe::rules {

void DeviceFaultRule::on_message(const Observation& observation, RuleState& state,
                                 std::vector<RuleEvent>& out) {
  const auto& device = observation.device;
  // A fault the device reports itself (a smoke sensor's `trouble`, a meter's ERROR status).
  if (const auto* reported = observation.decoded.find(drivers::Capability::device_fault)) {
    const Edge edge = update_edge(state, "device_fault/" + device.id + "/reported",
                                  std::get<bool>(reported->value));
    if (auto signal = signal_for(edge)) {
      out.push_back({*signal, AlertKind::device_fault, device.id, "reported by the device"});
    }
  }
  if (!drivers::is_alarm_class(device.kind)) return;

  const std::string key = "device_fault/" + device.id + "/bad_in_a_row";
  int bad = 0;
  if (auto stored = state.get(key)) {
    std::from_chars(stored->data(), stored->data() + stored->size(), bad);
  }

  const auto& problems = observation.decoded.problems;
  if (problems.empty()) {
    if (bad >= kBadMessagesForFault)
      out.push_back({Signal::clear, AlertKind::device_fault, device.id, {}});
    if (bad != 0) state.erase(key);
    return;
  }

  ++bad;
  state.set(key, std::to_string(bad));
  std::string detail(drivers::to_string(problems.front().error));
  if (!problems.front().key.empty()) detail += ":" + problems.front().key;
  if (bad == kBadMessagesForFault) {
    out.push_back({Signal::raise, AlertKind::device_fault, device.id, detail});
  } else if (bad > kBadMessagesForFault) {
    out.push_back({Signal::repeat, AlertKind::device_fault, device.id, detail});
  }
}

}  // namespace homesafe::rules
