#pragma once

// homesafe's native device format, written independently of device-drivers/ so that tests which
// feed simulator output to the gateway check the decoder against a second implementation.
//   BASE/state         {"<action>"?, <whole state in Zigbee2MQTT key names>..., "ts": unix_ms}
//   BASE/availability  online | offline   (retained)

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace homesafe::sim {

std::string state_topic(std::string_view base_topic);
std::string availability_topic(std::string_view base_topic);

// The payload of one state message: `action` first when not empty (it is part of the press
// message only), then every key of `state` in order, then "ts". `overrides` replace keys in
// place or are added before "ts" (an override of "ts" or "action" replaces those).
std::string encode_state(const nlohmann::ordered_json& state, std::string_view action,
                         const nlohmann::ordered_json& overrides, std::int64_t ts_ms);

// A JSON number: an integer when `value` is whole, else rounded to 3 decimals (stable output).
nlohmann::ordered_json json_number(double value);

}  // namespace homesafe::sim
