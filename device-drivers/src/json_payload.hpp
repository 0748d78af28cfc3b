#pragma once
// Shared payload helpers for every driver. One place decides what a `smoke` or a `battery` key
// means, which numbers are plausible, how readings from several keys merge, and how deep a JSON
// payload may nest.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "flat_json.hpp"
#include "homesafe/drivers/device.hpp"
#include "homesafe/drivers/reading.hpp"

namespace homesafe::drivers::detail {

// What a format exposes for each group of device kinds (the driver's constant "exposes" table).
struct ExposesTable {
  std::span<const Capability> hazard;  // smoke, gas, co, water_leak
  std::span<const Capability> button;
  std::span<const Capability> contact;
  std::span<const Capability> motion;  // motion, occupancy
  std::span<const Capability> plug;
  std::span<const Capability> water;
  std::span<const Capability> temperature;

  std::span<const Capability> by_kind(DeviceKind kind) const;
};

// JSON payloads nesting deeper than this are rejected before parsing, so that no later
// operation on the parsed tree (copy, compare, destroy) recurses deeper than this.
inline constexpr int kMaxJsonDepth = 20;

// True when no array/object in `payload` nests deeper than `max_depth`. Linear, no allocation;
// brackets inside strings are skipped.
bool nesting_within(std::string_view payload, int max_depth);

// Parses a payload that must be a JSON object; on failure records `malformed` (key "depth"
// when it nests too deeply) and returns nullopt. Never throws.
std::optional<nlohmann::json> parse_object(std::string_view payload, DecodeResult& out);

// Read-only access to the members of a JSON object, whichever parser read it: a flat scan of
// the payload or nlohmann's tree (implicit, so that a nested object of a tree reads the same).
class ObjectView {
 public:
  ObjectView(const nlohmann::json& tree) : tree_(&tree) {}
  ObjectView(const FlatObject& flat) : flat_(&flat) {}

  // The value of `key`; kind `absent` when the object has none (or is no object).
  Scalar at(std::string_view key) const;
  bool empty() const;

 private:
  const nlohmann::json* tree_ = nullptr;
  const FlatObject* flat_ = nullptr;
};

// A device's state message as an object: scanned in place when it is a plain flat object (the
// common case, no tree built), else parsed by nlohmann. Holds the payload's views: the payload
// must outlive it.
class StateObject {
 public:
  explicit StateObject(FlatObject flat) : object_(std::move(flat)) {}
  explicit StateObject(nlohmann::json tree) : object_(std::move(tree)) {}
  ObjectView view() const;
  // True when the flat scan read it (for tests).
  bool scanned() const { return std::holds_alternative<FlatObject>(object_); }

 private:
  std::variant<FlatObject, nlohmann::json> object_;
};

// Like parse_object, for drivers that read the object only through ObjectView.
std::optional<StateObject> parse_state_object(std::string_view payload, DecodeResult& out);

// The value as an ObjectView reports it (number: `integer` set for an integer, as nlohmann's
// get<std::int64_t> gives it).
Scalar scalar_of(const nlohmann::json& value);

// Reads every Zigbee2MQTT-named key of `object` that this project understands into readings.
// Unknown keys are ignored (linkquality, voltage ...); a known key with a bad value is a problem.
void read_z2m_keys(const ObjectView& object, DecodeResult& out);

// Reads the optional `ts` key (Unix milliseconds).
void read_timestamp(const ObjectView& object, DecodeResult& out);

// "online" / "offline" as plain text or {"state": "online"} JSON (case-insensitive, so that
// Tasmota's "Online"/"Offline" LWT reads too).
void read_availability(std::string_view payload, DecodeResult& out);

// --- merging readings ----------------------------------------------------------------------
// A message may say the same thing under several keys (Tuya `smoke` and `smoke_state`, IAS
// `battery_low` and `battery_defect`). Each capability appears at most once in a result.

// Adds a boolean; if the capability is already there, the result is true when either is true
// (an alarm under any key is an alarm).
void put_flag(DecodeResult& out, Capability capability, bool value);
// Adds a number unless the capability is already there (the first key wins).
void put_number(DecodeResult& out, Capability capability, double value);
// Adds a text value unless the capability is already there.
void put_text(DecodeResult& out, Capability capability, std::string value);
// Removes the capability's reading, if any.
void drop(DecodeResult& out, Capability capability);

void add_problem(DecodeResult& out, DecodeError error, std::string_view key = {});

// --- typed access ---------------------------------------------------------------------------

struct Range {
  double min;
  double max;
};
// The plausible range of a numeric capability (power in W, energy in kWh, litres, °C, %).
Range plausible_range(Capability capability);

// The number at `key` of `object`: nullopt when missing or null; a non-number is `wrong_type`,
// a non-finite value or one outside [range.min, range.max] is `not_a_number` (problems are
// recorded under `problem_key`, default `key`).
std::optional<double> number_at(const ObjectView& object, std::string_view key, Range range,
                                DecodeResult& out, std::string_view problem_key = {});
// The boolean at `key`: nullopt when missing or null; anything else is `wrong_type`.
std::optional<bool> bool_at(const ObjectView& object, std::string_view key, DecodeResult& out,
                            std::string_view problem_key = {});
// The string at `key`: nullopt when missing or null; a non-string is `wrong_type`. The view is
// into the object's payload or tree.
std::optional<std::string_view> string_at(const ObjectView& object, std::string_view key,
                                          DecodeResult& out, std::string_view problem_key = {});

// A JSON number as a plain number (nullopt for anything else or a non-finite value).
std::optional<double> as_number(const nlohmann::json& value);

// --- text -----------------------------------------------------------------------------------

bool starts_with(std::string_view text, std::string_view prefix);
bool ends_with(std::string_view text, std::string_view suffix);
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view text);
// Strictly a decimal number (optional sign, digits, fraction, exponent) with nothing else.
// "nan", "inf", "" and "12abc" give nullopt.
std::optional<double> parse_decimal(std::string_view text);

// Unix milliseconds of an ISO 8601 date-time with a zone ("2026-11-01T07:00:00+08:00",
// "2026-10-31T23:00:00.123Z"). Without a zone the instant is unknown: nullopt.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

}  // namespace homesafe::drivers::detail
