#include "json_payload.hpp"

#include <array>
#include <cmath>

namespace homesafe::drivers::detail {
namespace {

enum class Type { boolean, number, text };

struct KeySpec {
  std::string_view key;
  Capability capability;
  Type type;
  double min = 0;  // plausible range for numbers
  double max = 0;
};

constexpr std::array<KeySpec, 16> kKeys{{
    {"smoke", Capability::smoke, Type::boolean},
    {"gas", Capability::gas, Type::boolean},
    {"carbon_monoxide", Capability::carbon_monoxide, Type::boolean},
    {"water_leak", Capability::water_leak, Type::boolean},
    {"action", Capability::action, Type::text},
    {"contact", Capability::contact, Type::boolean},
    {"occupancy", Capability::occupancy, Type::boolean},
    {"power", Capability::power, Type::number, -1.0, 100'000.0},
    {"energy", Capability::energy, Type::number, 0.0, 1e9},
    {"water_total_l", Capability::water_total_l, Type::number, 0.0, 1e12},
    {"temperature", Capability::temperature, Type::number, -60.0, 150.0},
    {"humidity", Capability::humidity, Type::number, 0.0, 100.0},
    {"battery", Capability::battery, Type::number, 0.0, 100.0},
    {"battery_low", Capability::battery_low, Type::boolean},
    {"tamper", Capability::tamper, Type::boolean},
    {"test", Capability::self_test, Type::boolean},
}};

}  // namespace

std::optional<nlohmann::json> parse_object(std::string_view payload, DecodeResult& out) {
  auto parsed = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    out.problems.push_back({DecodeError::malformed, {}});
    return std::nullopt;
  }
  return parsed;
}

void read_z2m_keys(const nlohmann::json& object, DecodeResult& out) {
  for (const auto& spec : kKeys) {
    auto it = object.find(spec.key);
    if (it == object.end() || it->is_null()) continue;  // missing is unknown, never "clear"
    switch (spec.type) {
      case Type::boolean:
        if (!it->is_boolean()) {
          out.problems.push_back({DecodeError::wrong_type, std::string(spec.key)});
        } else {
          out.readings.emplace_back(spec.capability,
                                    Value(std::in_place_type<bool>, it->get<bool>()));
        }
        break;
      case Type::number: {
        if (!it->is_number()) {
          out.problems.push_back({DecodeError::wrong_type, std::string(spec.key)});
          break;
        }
        const double value = it->get<double>();
        if (!std::isfinite(value) || value < spec.min || value > spec.max) {
          out.problems.push_back({DecodeError::not_a_number, std::string(spec.key)});
        } else {
          out.readings.emplace_back(spec.capability, Value(std::in_place_type<double>, value));
        }
        break;
      }
      case Type::text:
        if (!it->is_string()) {
          out.problems.push_back({DecodeError::wrong_type, std::string(spec.key)});
        } else if (!it->get_ref<const std::string&>().empty()) {  // empty action: no press
          out.readings.emplace_back(spec.capability,
                                    Value(std::in_place_type<std::string>, it->get<std::string>()));
        }
        break;
    }
  }
}

void read_timestamp(const nlohmann::json& object, DecodeResult& out) {
  auto it = object.find("ts");
  if (it == object.end() || it->is_null()) return;
  if (it->is_number_integer() && it->get<std::int64_t>() > 0) {
    out.device_ts_ms = it->get<std::int64_t>();
  } else if (it->is_number_float() && std::isfinite(it->get<double>()) && it->get<double>() > 0 &&
             it->get<double>() < 1e15) {
    out.device_ts_ms = static_cast<std::int64_t>(it->get<double>());
  } else {
    out.problems.push_back({DecodeError::wrong_type, "ts"});
  }
}

void read_availability(std::string_view payload, DecodeResult& out) {
  std::string_view state = payload;
  std::string from_json;
  if (!payload.empty() && payload.front() == '{') {
    auto parsed = nlohmann::json::parse(payload, nullptr, false);
    if (parsed.is_object() && parsed.contains("state") && parsed["state"].is_string()) {
      from_json = parsed["state"].get<std::string>();
      state = from_json;
    }
  }
  if (state == "online") {
    out.readings.push_back({Capability::availability, true});
  } else if (state == "offline") {
    out.readings.push_back({Capability::availability, false});
  } else {
    out.problems.push_back({DecodeError::malformed, "availability"});
  }
}

}  // namespace homesafe::drivers::detail
