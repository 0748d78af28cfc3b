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

bool DeviceSilenceRule::catch_up(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  if (started_) {
    bool gap = false;
    if (seen_ && now.mono_ms - *seen_ > kResumeGapMs && !hub_raised_) {
      // Not running (or not hearing) during the gap: that was no silence of the devices.
      const std::int64_t moved_by = now.mono_ms - *seen_;
      for (auto& w : watches_) {
        if (w.raised) continue;
        std::int64_t moved = w.last + moved_by;
        if (w.limit > 0) {
          moved = std::max(moved, now.mono_ms - w.limit + std::min(w.limit, kResumeGraceMs));
        }
        write_last(w, std::min(moved, now.mono_ms), state);
      }
      gap = true;
    }
    if (!seen_ || now.mono_ms - *seen_ >= kSeenWriteMs) {
      state.set_int(kSeen, now.mono_ms);
      seen_ = now.mono_ms;
      for (auto& w : watches_) {
        if (w.written != w.last) write_last(w, w.last, state);
      }
    }
    return gap;
  }

  // The first call of this instance (a start, a restart, new settings): from the state.
  started_ = true;
  const auto& devices = household_->devices;
  const auto seen = state.get_int(kSeen);
  if (seen && now.mono_ms - *seen > kResumeGapMs && !state.get(kHub)) {
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
    if (!state.get_int(key(device.id, "last"))) state.set_int(key(device.id, "last"), now.mono_ms);
  }

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
  load(state);
  return true;
}

void DeviceSilenceRule::load(RuleState& state) {
  const auto& devices = household_->devices;
  watches_.clear();
  watches_.reserve(devices.size());
  index_.clear();
  for (const auto& device : devices) {
    Watch w;
    w.last_key = key(device.id, "last");
    w.last = state.get_int(w.last_key).value_or(0);  // catch_up wrote every one
    w.written = w.last;
    w.limit = limit_of(device);
    w.offline = state.get(key(device.id, "offline")).has_value();
    w.raised = state.get(key(device.id, "raised")).has_value();
    index_.emplace(device.id, watches_.size());
    watches_.push_back(std::move(w));
  }
  seen_ = state.get_int(kSeen);
  hub_raised_ = state.get(kHub).has_value();
}

void DeviceSilenceRule::write_last(Watch& w, std::int64_t value, RuleState& state) {
  w.last = value;
  w.written = value;
  state.set_int(w.last_key, value);
}

void DeviceSilenceRule::evaluate(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  const auto& devices = household_->devices;
  std::int64_t last_any = 0;
  bool all_down = true;
  for (std::size_t i = 0; i < watches_.size(); ++i) {
    const Watch& w = watches_[i];
    last_any = i == 0 ? w.last : std::max(last_any, w.last);
    all_down = all_down && (w.offline || w.overdue(now.mono_ms));
  }

  const auto& settings = household_->settings.device_silence;
  const bool hub_down =
      all_down && static_cast<std::int64_t>(watches_.size()) >= settings.all_silent_min_devices;
  if (hub_down && !hub_raised_) {
    out.push_back({Signal::raise,
                   AlertKind::hub_offline,
                   {},
                   "all " + std::to_string(watches_.size()) + " devices silent"});
    state.set(kHub, "1");
    hub_raised_ = true;
  } else if (!hub_down && hub_raised_) {
    out.push_back({Signal::clear, AlertKind::hub_offline, {}, {}});
    state.erase(kHub);
    hub_raised_ = false;
    // The bridge is back: the others report again one by one, each gets a fresh limit.
    for (auto& w : watches_) {
      if (!w.overdue(now.mono_ms) || w.raised) continue;
      write_last(w, now.mono_ms, state);
    }
  }

  deadline_ = now.mono_ms + kHeartbeatMs;
  held_ = false;
  for (std::size_t i = 0; i < watches_.size(); ++i) {
    Watch& w = watches_[i];
    const std::string& id = devices[i].id;
    const bool down = w.offline || w.overdue(now.mono_ms);
    if (w.raised && !down) {
      out.push_back({Signal::clear, AlertKind::device_offline, id, {}});
      state.erase(key(id, "raised"));
      w.raised = false;
    } else if (!w.raised && down && !hub_down) {
      if (w.offline) {
        out.push_back({Signal::raise, AlertKind::device_offline, id, "offline"});
        state.set(key(id, "raised"), "1");
        w.raised = true;
      } else if (all_down || last_any > w.last + w.limit) {
        out.push_back({Signal::raise, AlertKind::device_offline, id, "silent"});
        state.set(key(id, "raised"), "1");
        w.raised = true;
      } else {
        held_ = true;  // nobody spoke since this device fell silent, the bridge may be down
      }
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
  const std::int64_t now = observation.now.mono_ms;
  bool full = catch_up(observation.now, state, out);
  if (auto it = index_.find(observation.device.id); it != index_.end()) {
    Watch& w = watches_[it->second];
    const std::string& id = household_->devices[it->second].id;
    // A device that was down (or had an alert) changes what every other one means.
    full = full || w.raised || w.offline || w.overdue(now);
    w.last = now;
    if (w.limit > 0 && now - w.written >= w.limit / kLastWriteFraction) {
      write_last(w, now, state);
    }
    if (const auto* reading = observation.decoded.find(drivers::Capability::availability)) {
      if (const bool* online = std::get_if<bool>(&reading->value)) {
        if (*online && w.offline) {
          state.erase(key(id, "offline"));
          w.offline = false;
          full = true;
        } else if (!*online && !w.offline) {
          state.set(key(id, "offline"), "1");
          w.offline = true;
          full = true;
        }
      }
    }
  }
  // Otherwise nothing but this device changed, and it was and is up: no other device can fall
  // silent before deadline_ (the earliest limit), and the household-wide state cannot change.
  if (full || held_ || hub_raised_ || !deadline_ || now >= *deadline_) {
    evaluate(observation.now, state, out);
  }
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
