#pragma once
// Transition detection on a persisted boolean condition, shared by the rules that fire on edges.

#include <string_view>

#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

enum class Edge {
  rise,        // false/unknown -> true
  still_true,  // true -> true (a repeated cached value)
  fall,        // true -> false
  still_false  // false/unknown -> false
};

// Compares `value` with the value stored under `key`, stores `value`, returns the transition.
// An unknown previous value counts as false: a first `true` is an alarm.
Edge update_edge(RuleState& state, std::string_view key, bool value);

// Maps an edge to the signal a rule emits for it (nothing for still_false).
std::optional<Signal> signal_for(Edge edge);

}  // namespace homesafe::rules
