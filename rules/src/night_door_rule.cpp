#include "homesafe/rules/night_door_rule.hpp"

#include <algorithm>
#include <variant>

namespace homesafe::rules {
namespace {

constexpr std::string_view kPhaseOpen = "open";
constexpr std::string_view kPhaseClosed = "closed";

std::string key(const std::string& door, std::string_view name) {
  std::string k = "night_door/";
  k += door;
  k += '/';
  k += name;
  return k;
}

bool is_door(const drivers::DeviceConfig& device) {
  return device.entrance && device.kind == drivers::DeviceKind::contact;
}

void end_watch(const std::string& door, RuleState& state) {
  state.erase(key(door, "phase"));
  state.erase(key(door, "since"));
}

}  // namespace

NightDoorRule::NightDoorRule(HouseholdPtr household) : household_(std::move(household)) {
  for (const auto& device : household_->devices) {
    if (is_door(device)) {
      doors_.push_back(device.id);
    } else if (!device.entrance && is_activity_source(device)) {
      has_indoor_source_ = true;
    }
  }
}

void NightDoorRule::on_open(const std::string& door, Instant now, RuleState& state,
                            std::vector<RuleEvent>& out) const {
  if (state.get(key(door, "raised"))) return;  // the alert stands until the person is back
  if (!state.get(key(door, "phase"))) {
    if (!household_->night(now.wall_ms)) return;
    if (!now.wall_synced) {
      out.push_back({Signal::suppressed, AlertKind::night_door, door, "clock_unsynced"});
      return;
    }
  }
  // A night opening, or the door opening again during a watch (coming back in).
  state.set(key(door, "phase"), kPhaseOpen);
  state.set_int(key(door, "since"), now.mono_ms);
}

void NightDoorRule::on_close(const std::string& door, Instant now, RuleState& state,
                             std::vector<RuleEvent>& out) const {
  if (state.get(key(door, "raised"))) {
    if (!has_indoor_source_) {
      out.push_back({Signal::clear, AlertKind::night_door, door, "closed"});
      state.erase(key(door, "raised"));
    }
    return;
  }
  if (!state.get(key(door, "phase"))) return;
  if (!has_indoor_source_) {
    // Whether the person went out or stayed in cannot be told.
    out.push_back({Signal::suppressed, AlertKind::night_door, door, "no_indoor_source"});
    end_watch(door, state);
    return;
  }
  state.set(key(door, "phase"), kPhaseClosed);
  state.set_int(key(door, "since"), now.mono_ms);
}

void NightDoorRule::on_inside_activity(RuleState& state, std::vector<RuleEvent>& out) const {
  for (const auto& door : doors_) {
    const bool closed = state.get(key(door, "closed")) != std::optional<std::string_view>("0");
    if (!closed) continue;  // still open: the person may be on the way out
    if (state.get(key(door, "raised"))) {
      out.push_back({Signal::clear, AlertKind::night_door, door, "activity"});
      state.erase(key(door, "raised"));
    } else if (state.get(key(door, "phase")) == std::optional<std::string_view>(kPhaseClosed)) {
      // Someone is inside after the door closed: the cat went out, not the person.
      out.push_back({Signal::suppressed, AlertKind::night_door, door, "activity_inside"});
      end_watch(door, state);
    }
  }
}

void NightDoorRule::on_message(const Observation& observation, RuleState& state,
                               std::vector<RuleEvent>& out) {
  if (!household_->settings.night_door.enabled || doors_.empty()) {
    deadline_.reset();
    return;
  }
  const auto& device = observation.device;
  if (is_door(device)) {
    const auto* reading = observation.decoded.find(drivers::Capability::contact);
    const bool* closed = reading == nullptr ? nullptr : std::get_if<bool>(&reading->value);
    if (closed != nullptr) {
      const std::string closed_key = key(device.id, "closed");
      // Read before the write: RuleState::get returns a view of the stored value.
      const auto before = state.get(closed_key);
      const bool was_closed = before == std::optional<std::string_view>("1");
      const bool was_open = before == std::optional<std::string_view>("0");
      state.set(closed_key, *closed ? "1" : "0");
      // The first value ever seen is a state, not a door event.
      if (was_closed && !*closed) {
        on_open(device.id, observation.now, state, out);
      } else if (was_open && *closed) {
        on_close(device.id, observation.now, state, out);
      }
    }
  } else if (observation.facts.activity && !observation.facts.entrance) {
    on_inside_activity(state, out);
  }
  check(observation.now, state, out);
}

void NightDoorRule::on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  if (!household_->settings.night_door.enabled || doors_.empty()) {
    deadline_.reset();
    return;
  }
  check(now, state, out);
}

void NightDoorRule::check(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  const bool first_call = !started_;
  started_ = true;
  deadline_.reset();
  const auto& settings = household_->settings.night_door;
  for (const auto& door : doors_) {
    const auto phase = state.get(key(door, "phase"));
    const auto since = state.get_int(key(door, "since"));
    if (!phase || !since) {
      end_watch(door, state);
      continue;
    }
    const bool open = *phase == kPhaseOpen;
    const std::int64_t limit = open ? settings.open_ms : settings.no_return_ms;
    std::int64_t due = *since + limit;
    if (due <= now.mono_ms && first_call) {
      // Ran out while the gateway was down: give the devices a moment to report first.
      due = now.mono_ms + kResumeGraceMs;
      state.set_int(key(door, "since"), due - limit);
    } else if (due <= now.mono_ms) {
      const std::string_view detail = open ? "open" : "no_return";
      out.push_back({Signal::raise, AlertKind::night_door, door, std::string(detail)});
      state.set(key(door, "raised"), detail);
      end_watch(door, state);
      continue;
    }
    if (!deadline_ || due < *deadline_) deadline_ = due;
  }
}

void NightDoorRule::on_away_ended(Instant /*now*/, RuleState& state) {
  // Watches and alerts of the away time were dropped by the engine: start afresh.
  for (const auto& door : doors_) {
    end_watch(door, state);
    state.erase(key(door, "raised"));
  }
  deadline_.reset();
}

}  // namespace homesafe::rules
