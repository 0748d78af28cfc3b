#pragma once
// The JSON form of an alert state, shared by the retained MQTT message and replay output.

#include <nlohmann/json.hpp>
#include <string_view>

#include "homesafe/gateway/alert.hpp"
#include "homesafe/rules/time_zone.hpp"

namespace homesafe::gateway {

// {"type":"alert","ts",...} with times in the household's local time (ISO 8601 with offset).
nlohmann::ordered_json alert_to_json(const AlertRecord& alert, std::string_view event,
                                     std::string_view household_id, const rules::TimeZone& zone);

}  // namespace homesafe::gateway
