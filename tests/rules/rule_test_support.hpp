#pragma once
// Drives one rule with hand-made messages and a fake clock.

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "homesafe/rules/rule.hpp"

namespace homesafe::rules::test {

inline drivers::DeviceConfig device(std::string id, drivers::DeviceKind kind,
                                    drivers::PowerSource power = drivers::PowerSource::battery) {
  drivers::DeviceConfig d;
  d.id = std::move(id);
  d.kind = kind;
  d.topic = "homesafe/h/dev/" + d.id;
  d.location = "厨房";
  d.power = power;
  return d;
}

class RuleHarness {
 public:
  explicit RuleHarness(std::unique_ptr<Rule> rule) : rule_(std::move(rule)) {}

  std::vector<RuleEvent> send(const drivers::DeviceConfig& d,
                              std::vector<drivers::Reading> readings,
                              std::vector<drivers::DecodeProblem> problems = {}) {
    drivers::DecodeResult decoded;
    decoded.readings = std::move(readings);
    decoded.problems = std::move(problems);
    std::vector<RuleEvent> out;
    rule_->on_message({d, decoded, now_}, state_, out);
    return out;
  }
  void advance_ms(std::int64_t ms) {
    now_.wall_ms += ms;
    now_.mono_ms += ms;
  }
  void jump_wall_ms(std::int64_t ms) { now_.wall_ms += ms; }
  RuleState& state() { return state_; }
  // A fresh rule instance with the persisted state (as after a gateway restart).
  void restart(std::unique_ptr<Rule> rule) {
    rule_ = std::move(rule);
    RuleState reloaded;
    for (auto& [key, value] : state_.take_changes()) {
      if (value)
        persisted_[key] = *value;
      else
        persisted_.erase(key);
    }
    for (const auto& [key, value] : persisted_) reloaded.load(key, value);
    state_ = std::move(reloaded);
  }

 private:
  std::unique_ptr<Rule> rule_;
  RuleState state_;
  std::map<std::string, std::string> persisted_;
  Instant now_{1'761'951'600'000, 1'000'000, true};
};

inline drivers::Reading flag(drivers::Capability c, bool v) {
  return {c, v};
}
inline drivers::Reading number(drivers::Capability c, double v) {
  return {c, v};
}
inline drivers::Reading text(drivers::Capability c, std::string v) {
  return {c, std::move(v)};
}

}  // namespace homesafe::rules::test

#include "homesafe/rules/engine.hpp"

namespace homesafe::rules::test {

// 2026-11-02 00:00:00 +08:00 (a Monday), as Unix ms.
inline constexpr std::int64_t kMidnightShanghai = 1'793'548'800'000;

// Drives one rule (or several) through the real RuleEngine, so that the shared facts (activity,
// water use, meter resets), away mode, flap damping and the rule clock are the real ones. Time
// only moves with advance_*; every deadline on the way fires in order, as in replay.
class EngineHarness {
 public:
  // `make` builds the rules under test from the household (e.g. one rule).
  template <typename Make>
  EngineHarness(Household household, Make make)
      : household_(std::make_shared<const Household>(std::move(household))),
        make_(std::move(make)),
        engine_(std::make_unique<RuleEngine>(household_, make_(household_))) {
    engine_->resume(now_);
  }

  static Household shanghai(std::vector<drivers::DeviceConfig> devices) {
    Household h;
    h.zone = TimeZone::fixed("Asia/Shanghai", 8 * 3600);
    h.devices = std::move(devices);
    return h;
  }

  // Sends one message; returns what the engine signalled (timers that fell due before it are
  // collected in ticked()).
  std::vector<RuleEvent> send(const drivers::DeviceConfig& d,
                              std::vector<drivers::Reading> readings) {
    drivers::DecodeResult decoded;
    decoded.readings = std::move(readings);
    auto out = engine_->on_message({d, decoded, now_});
    record(out);
    return out;
  }

  // Moves time on, firing every deadline on the way; returns the events of those ticks.
  std::vector<RuleEvent> advance_ms(std::int64_t ms) {
    const std::int64_t target = now_.mono_ms + ms;
    std::vector<RuleEvent> out;
    for (int guard = 0; guard < 100'000; ++guard) {
      auto deadline = engine_->next_deadline_mono_ms();
      if (!deadline || *deadline > target) break;
      if (*deadline > now_.mono_ms) move(*deadline - now_.mono_ms);
      auto events = engine_->on_tick(now_);
      out.insert(out.end(), events.begin(), events.end());
      if (engine_->next_deadline_mono_ms() == deadline) break;  // a rule that does not move on
    }
    move(target - now_.mono_ms);
    auto events = engine_->on_tick(now_);
    out.insert(out.end(), events.begin(), events.end());
    record(out);
    return out;
  }
  std::vector<RuleEvent> advance_minutes(double minutes) {
    return advance_ms(static_cast<std::int64_t>(minutes * 60'000));
  }
  // Moves to a local time of day (HH*60+MM minutes), today or tomorrow.
  std::vector<RuleEvent> advance_to_local_minute(int minute_of_day) {
    const std::int64_t now_minute = household_->local_minute(now_.wall_ms);
    std::int64_t delta = minute_of_day - now_minute;
    if (delta <= 0) delta += 24 * 60;
    const std::int64_t into_minute = household_->zone.local_ms_of_day(now_.wall_ms) % 60'000;
    return advance_ms(delta * 60'000 - into_minute);
  }

  // A gateway restart: a new engine and rules with the persisted state, `down_ms` later.
  std::vector<RuleEvent> restart(std::int64_t down_ms = 0, bool wall_synced = true) {
    RuleState reloaded;
    for (auto& [key, value] : engine_->state().take_changes()) {
      if (value)
        persisted_[key] = *value;
      else
        persisted_.erase(key);
    }
    for (const auto& [key, value] : persisted_) reloaded.load(key, value);
    engine_ = std::make_unique<RuleEngine>(household_, make_(household_));
    engine_->state() = std::move(reloaded);
    now_.wall_ms += down_ms;
    now_.mono_ms = 5'000;  // a new boot
    now_.wall_synced = wall_synced;
    auto out = engine_->resume(now_);
    record(out);
    return out;
  }

  RuleEngine& engine() { return *engine_; }
  const Household& household() const { return *household_; }
  Instant now() const { return now_; }
  // Every event signalled so far, in order.
  const std::vector<RuleEvent>& history() const { return history_; }
  std::size_t count(AlertKind kind, Signal signal) const {
    std::size_t n = 0;
    for (const auto& e : history_) n += (e.kind == kind && e.signal == signal) ? 1 : 0;
    return n;
  }

 private:
  void move(std::int64_t ms) {
    now_.wall_ms += ms;
    now_.mono_ms += ms;
  }
  void record(const std::vector<RuleEvent>& events) {
    history_.insert(history_.end(), events.begin(), events.end());
  }

  HouseholdPtr household_;
  std::function<std::vector<std::unique_ptr<Rule>>(const HouseholdPtr&)> make_;
  std::unique_ptr<RuleEngine> engine_;
  Instant now_{kMidnightShanghai + 8 * 3'600'000, 1'000'000, true};  // 08:00 local
  std::map<std::string, std::string> persisted_;
  std::vector<RuleEvent> history_;
};

// Builds a single rule of type R for the harness.
template <typename R>
auto only() {
  return [](const HouseholdPtr& household) {
    std::vector<std::unique_ptr<Rule>> rules;
    rules.push_back(std::make_unique<R>(household));
    return rules;
  };
}

}  // namespace homesafe::rules::test
