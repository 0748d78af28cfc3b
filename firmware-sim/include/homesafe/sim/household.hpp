#pragma once
// A seeded household simulator: days in the life of one elderly person living alone, as the
// devices of a typical homesafe installation publish them (native format), with injected
// incidents (a fall, a stove left on, ...) and their ground truth. See firmware-sim/README.md.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "homesafe/sim/message.hpp"

namespace homesafe::sim {

// Every household lives in Asia/Shanghai: UTC+08:00, no daylight saving time.
inline constexpr int kHouseholdUtcOffsetMinutes = 8 * 60;

// Random numbers that are the same on every platform: std::mt19937_64's output is fixed by the
// standard, the std::*_distribution classes are not, so the distributions are written here
// (plain arithmetic only; the "normal" is an Irwin-Hall sum of 12 uniforms, bounded at ±6 sd).
class PortableRng {
 public:
  explicit PortableRng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next() { return engine_(); }
  double uniform();                                               // [0, 1), 53 random bits
  double uniform(double low, double high);                        // [low, high)
  std::int64_t uniform_int(std::int64_t low, std::int64_t high);  // [low, high], unbiased
  bool chance(double probability) { return uniform() < probability; }
  double normal(double mean, double sd);
  // Picks an index with probability proportional to its weight.
  std::size_t pick(std::span<const double> weights);

 private:
  std::mt19937_64 engine_;
};

// A 64-bit seed for the independent stream `stream` of `seed` (SplitMix64).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream);

enum class IncidentType { fall, stove, wander, tap, device_dies, hospital };

std::span<const IncidentType> all_incident_types();
std::string_view to_string(IncidentType type);
std::optional<IncidentType> parse_incident_type(std::string_view name);

// An incident the caller asks for.
struct IncidentRequest {
  IncidentType type = IncidentType::fall;
  std::int64_t start_ms = 0;  // Unix ms
  std::string device;         // device_dies: the device (default hall-motion)
};

// "fall@2026-11-18T09:30", "device_dies:kitchen-motion@2026-11-20T10:00"; the time is household
// local time unless it carries an offset; seconds are optional. std::nullopt and `error` if bad.
std::optional<IncidentRequest> parse_incident_request(std::string_view text, std::string& error);

// The ground truth of one injected incident.
struct Incident {
  IncidentType type = IncidentType::fall;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::vector<std::string> detected_by;  // alert kinds that count as detecting it
  std::vector<std::string> expect_none;  // alert kinds that must not open in [start, end]
  std::string device;  // when set, only an alert for this device counts (device_dies)
  std::string note;    // how it was placed, e.g. moved because the person was out
};

// The alert kinds about the person (not about a device): unmatched, they are false alerts.
std::span<const std::string_view> person_alert_kinds();

struct HouseholdOptions {
  std::uint64_t seed = 1;
  std::int64_t start_ms = 0;  // Unix ms of local midnight of the first day
  int days = 30;
  std::string household = "h001";
  std::vector<IncidentRequest> incidents;
  int random_incidents = 0;  // placed by the seed: a fall first, then other types
  std::int64_t fall_ms = 36LL * 3'600'000;
  // Leave out the config keys the gateway may not accept yet (entrance, high_power_w, rules).
  bool plain_config = false;
};

// One device of the simulated installation.
struct HouseholdDevice {
  std::string_view id;
  std::string_view kind;      // the hub config's device kind
  std::string_view location;  // zh-CN room name
  bool mains = false;
  bool entrance = false;
  double high_power_w = 0;  // 0: none in the config
};

// The installation, in config order.
std::span<const HouseholdDevice> household_devices();
const HouseholdDevice* find_household_device(std::string_view id);

struct HouseholdRun {
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;        // exclusive
  std::vector<Message> messages;  // in time order (ties: a fixed device order)
  std::vector<Incident> incidents;
};

// Throws std::invalid_argument for bad options (days < 1, unknown device in device_dies, ...).
HouseholdRun simulate_household(const HouseholdOptions& options);

// The hub config for this household (YAML).
std::string hub_yaml(const HouseholdOptions& options);
// The ground truth (JSON, with a trailing newline).
std::string incidents_json(const HouseholdOptions& options, const HouseholdRun& run);
// DIR/messages.jsonl, DIR/hub.yaml and DIR/incidents.json (DIR is created). Throws
// std::runtime_error when a file cannot be written.
void write_household(const HouseholdOptions& options, const HouseholdRun& run,
                     const std::filesystem::path& dir);

}  // namespace homesafe::sim
