#include "homesafe/rules/device_silence_rule.hpp"

#include <algorithm>
#include <string>
#include <variant>

namespace homesafe::rules {
namespace {

constexpr std::string_view kPrefix = "device_silence/";
constexpr std::string_view kSeen = "device_silence//seen";
constexpr std::string_view kHub = "device_silence//hub";

std::string key(const std::string& device, std::string_view name) {
  std::string k(kPrefix);
  k += device;
  k += '/';
  k += name;
  return k;
}

struct Watched {
  const drivers::DeviceConfig* device;
  std::int64_t last;
  std::int64_t limit;  // 0: none
  bool offline;
  bool raised;
  bool overdue;
};

}  // namespace

bool DeviceSilenceRule::active() const {
  return household_->settings.device_silence.enabled && !household_->devices.empty();
}

std::int64_t DeviceSilenceRule::limit_of(const drivers::DeviceConfig& device) const {
  const auto& settings = household_->settings.device_silence;
  const std::int64_t limit = device.silence_ms.value_or(
      device.power == drivers::PowerSource::battery ? settings.battery_ms : settings.mains_ms);
  return std::max<std::int64_t>(limit, 0);
}

void DeviceSilenceRule::catch_up(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  const bool first_call = !started_;
  started_ = true;
  const auto& devices = household_->devices;

  const auto seen = state.get_int(kSeen);
  if (seen && now.mono_ms - *seen > kResumeGapMs && !state.get(kHub)) {
    // Not running (or not hearing) during the gap: that was no silence of the devices.
    const std::int64_t gap = now.mono_ms - *seen;
    for (const auto& device : devices) {
      if (state.get(key(device.id, "raised"))) continue;
      const auto last = state.get_int(key(device.id, "last"));
      if (!last) continue;
      std::int64_t moved = *last + gap;
      if (const std::int64_t limit = limit_of(device); limit > 0) {
        moved = std::max(moved, now.mono_ms - limit + std::min(limit, kResumeGraceMs));
      }
      state.set_int(key(device.id, "last"), std::min(moved, now.mono_ms));
    }
  }
  if (!seen || now.mono_ms - *seen >= kSeenWriteMs) state.set_int(kSeen, now.mono_ms);

  for (const auto& device : devices) {
    if (!state.get(key(device.id, "last"))) state.set_int(key(device.id, "last"), now.mono_ms);
  }

  if (!first_call) return;
  // Devices removed from the configuration: forget them, close what they left open.
  for (const auto& [k, value] : state.with_prefix(kPrefix)) {
    const std::string rest = k.substr(kPrefix.size());
    const auto slash = rest.find('/');
    const std::string id = rest.substr(0, slash);
    if (id.empty() || slash == std::string::npos) continue;  // household-wide
    const bool configured = std::any_of(devices.begin(), devices.end(),
                                        [&](const drivers::DeviceConfig& d) { return d.id == id; });
    if (configured) continue;
    if (rest.substr(slash + 1) == "raised") {
      out.push_back({Signal::clear, AlertKind::device_offline, id, "removed"});
    }
    state.erase(k);
  }
}

void DeviceSilenceRule::evaluate(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  std::vector<Watched> watched;
  std::int64_t last_any = 0;
  bool all_down = true;
  for (const auto& device : household_->devices) {
    Watched w{&device,
              state.get_int(key(device.id, "last")).value_or(now.mono_ms),
              limit_of(device),
              state.get(key(device.id, "offline")).has_value(),
              state.get(key(device.id, "raised")).has_value(),
              false};
    w.overdue = w.limit > 0 && now.mono_ms - w.last >= w.limit;
    last_any = watched.empty() ? w.last : std::max(last_any, w.last);
    all_down = all_down && (w.offline || w.overdue);
    watched.push_back(w);
  }

  const auto& settings = household_->settings.device_silence;
  const bool hub_down =
      all_down && static_cast<std::int64_t>(watched.size()) >= settings.all_silent_min_devices;
  const bool hub_raised = state.get(kHub).has_value();
  if (hub_down && !hub_raised) {
    out.push_back({Signal::raise,
                   AlertKind::hub_offline,
                   {},
                   "all " + std::to_string(watched.size()) + " devices silent"});
    state.set(kHub, "1");
  } else if (!hub_down && hub_raised) {
    out.push_back({Signal::clear, AlertKind::hub_offline, {}, {}});
    state.erase(kHub);
    // The bridge is back: the others report again one by one, each gets a fresh limit.
    for (auto& w : watched) {
      if (!w.overdue || w.raised) continue;
      w.last = now.mono_ms;
      w.overdue = false;
      state.set_int(key(w.device->id, "last"), now.mono_ms);
    }
  }

  deadline_ = now.mono_ms + kHeartbeatMs;
  for (const auto& w : watched) {
    const std::string& id = w.device->id;
    const bool down = w.offline || w.overdue;
    if (w.raised && !down) {
      out.push_back({Signal::clear, AlertKind::device_offline, id, {}});
      state.erase(key(id, "raised"));
    } else if (!w.raised && down && !hub_down) {
      if (w.offline) {
        out.push_back({Signal::raise, AlertKind::device_offline, id, "offline"});
        state.set(key(id, "raised"), "1");
      } else if (all_down || last_any > w.last + w.limit) {
        out.push_back({Signal::raise, AlertKind::device_offline, id, "silent"});
        state.set(key(id, "raised"), "1");
      }
      // else held: nobody spoke since this device fell silent, the bridge may be down.
    }
    if (!down && w.limit > 0) deadline_ = std::min(*deadline_, w.last + w.limit);
  }
}

void DeviceSilenceRule::on_message(const Observation& observation, RuleState& state,
                                   std::vector<RuleEvent>& out) {
  if (!active()) {
    deadline_.reset();
    return;
  }
  const Instant now = observation.now;
  catch_up(now, state, out);
  const auto& device = observation.device;
  const auto& devices = household_->devices;
  const bool configured =
      std::any_of(devices.begin(), devices.end(),
                  [&](const drivers::DeviceConfig& d) { return d.id == device.id; });
  if (configured) {
    state.set_int(key(device.id, "last"), now.mono_ms);
    if (const auto* reading = observation.decoded.find(drivers::Capability::availability)) {
      if (const bool* online = std::get_if<bool>(&reading->value)) {
        if (*online) {
          state.erase(key(device.id, "offline"));
        } else {
          state.set(key(device.id, "offline"), "1");
        }
      }
    }
  }
  evaluate(now, state, out);
}

void DeviceSilenceRule::on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  if (!active()) {
    deadline_.reset();
    return;
  }
  catch_up(now, state, out);
  evaluate(now, state, out);
}

void DeviceSilenceRule::on_away_ended(Instant /*now*/, RuleState& /*state*/) {}

}  // namespace homesafe::rules
