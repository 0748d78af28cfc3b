#pragma once
// Shared payload helpers for the JSON formats that use Zigbee2MQTT's key names (native,
// zigbee2mqtt). One place decides what a `smoke` or a `battery` key means.

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "homesafe/drivers/reading.hpp"

namespace homesafe::drivers::detail {

// Parses a payload that must be a JSON object; on failure records `malformed` and returns
// nullopt. Never throws.
std::optional<nlohmann::json> parse_object(std::string_view payload, DecodeResult& out);

// Reads every Zigbee2MQTT-named key of `object` that this project understands into readings.
// Unknown keys are ignored (linkquality, voltage ...); a known key with a bad value is a problem.
void read_z2m_keys(const nlohmann::json& object, DecodeResult& out);

// Reads the optional `ts` key (Unix milliseconds).
void read_timestamp(const nlohmann::json& object, DecodeResult& out);

// "online" / "offline" as plain text or {"state": "online"} JSON.
void read_availability(std::string_view payload, DecodeResult& out);

}  // namespace homesafe::drivers::detail
