#pragma once
// The one vocabulary of capabilities every driver emits (Zigbee2MQTT's key names plus
// water_total_l), and the result of decoding one MQTT message.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace homesafe::drivers {

enum class Capability : std::uint8_t {
  smoke,            // bool: smoke detected
  gas,              // bool: combustible gas detected
  carbon_monoxide,  // bool: CO detected
  water_leak,       // bool: water on the floor
  action,           // string: button event (sos, single, double, long ...)
  contact,          // bool: true means closed (Zigbee2MQTT convention)
  occupancy,        // bool: motion / presence / bed occupied
  power,            // double: W
  energy,           // double: kWh, cumulative
  water_total_l,    // double: litres, cumulative
  temperature,      // double: °C
  humidity,         // double: %
  battery,          // double: %
  battery_low,      // bool
  tamper,           // bool
  self_test,        // bool: the device reports a self-test (its alarm flags are a test)
  availability,     // bool: true = online
  device_fault,     // bool: the device reports a fault of its own (sensor trouble, meter dry)
};

std::string_view to_string(Capability capability);
std::optional<Capability> capability_from_string(std::string_view text);

using Value = std::variant<bool, double, std::string>;

struct Reading {
  Capability capability;
  Value value;

  bool operator==(const Reading&) const = default;
};

// Why (part of) a message could not be read. Each is counted per device and reason.
enum class DecodeError : std::uint8_t {
  malformed,       // not valid JSON / not the expected shape
  wrong_type,      // a known key with a value of the wrong type
  not_a_number,    // NaN, infinity or out of the plausible range
  oversized,       // payload larger than the gateway accepts
  unknown_topic,   // a topic no configured device uses
  unknown_device,  // a topic that looks like a device topic of an unconfigured device
  empty,           // nothing usable in the message
};

std::string_view to_string(DecodeError error);

struct DecodeProblem {
  DecodeError error;
  std::string key;  // the offending key, when there is one

  bool operator==(const DecodeProblem&) const = default;
};

struct DecodeResult {
  std::vector<Reading> readings;
  std::vector<DecodeProblem> problems;
  std::optional<std::int64_t> device_ts_ms;  // the device's own timestamp, if it sent one

  bool ok() const { return problems.empty(); }
  const Reading* find(Capability capability) const;
};

}  // namespace homesafe::drivers
