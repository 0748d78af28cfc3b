#include "homesafe/sim/encoder.hpp"

#include <cmath>

namespace homesafe::sim {

std::string state_topic(std::string_view base_topic) {
  return std::string(base_topic) + "/state";
}

std::string availability_topic(std::string_view base_topic) {
  return std::string(base_topic) + "/availability";
}

std::string encode_state(const nlohmann::ordered_json& state, std::string_view action,
                         const nlohmann::ordered_json& overrides, std::int64_t ts_ms) {
  nlohmann::ordered_json payload = nlohmann::ordered_json::object();
  if (!action.empty()) payload["action"] = action;
  for (const auto& [key, value] : state.items()) payload[key] = value;
  payload["ts"] = ts_ms;
  // ordered_json keeps the position of a replaced key; new keys go last, so "ts" is re-added.
  bool added = false;
  for (const auto& [key, value] : overrides.items()) {
    added = added || !payload.contains(key);
    payload[key] = value;
  }
  if (added && !overrides.contains("ts")) {
    payload.erase("ts");
    payload["ts"] = ts_ms;
  }
  return payload.dump();
}

nlohmann::ordered_json json_number(double value) {
  constexpr double kExactLimit = 9e15;  // doubles are exact integers up to 2^53
  if (std::isfinite(value) && std::fabs(value) < kExactLimit && std::trunc(value) == value) {
    return static_cast<std::int64_t>(value);
  }
  const double rounded = std::round(value * 1000.0) / 1000.0;
  if (std::isfinite(rounded) && std::fabs(rounded) < kExactLimit &&
      std::trunc(rounded) == rounded) {
    return static_cast<std::int64_t>(rounded);
  }
  return rounded;
}

}  // namespace homesafe::sim
