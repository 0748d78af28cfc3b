#pragma once
// Drives one rule with hand-made messages and a fake clock.

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
