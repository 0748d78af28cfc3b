#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homesafe/sim/device.hpp"
#include "homesafe/sim/time.hpp"

namespace homesafe::sim {

struct ScenarioDevice {
  std::string id;
  DeviceType type = DeviceType::smoke_detector;
  PowerSource power = PowerSource::battery;
  std::string topic;                   // base topic
  std::optional<Millis> report_every;  // periodic `report` while online
};

struct ScenarioEvent {
  Millis at{0};  // from the scenario start
  std::string device;
  std::string event;
  EventArgs args;
};

// A household story in virtual time (see firmware-sim/README.md for the file format).
struct Scenario {
  std::string household;
  std::optional<WallTime> start;  // none: the moment the run starts, in local time
  std::optional<Millis> end;      // periodic reports stop here; none: at the last event
  std::vector<ScenarioDevice> devices;
  std::vector<ScenarioEvent> events;  // in file order

  const ScenarioDevice* find_device(std::string_view id) const;
};

// A problem in a scenario file, at a 1-based line and column.
struct ScenarioError {
  std::string file;
  int line = 1;
  int column = 1;
  std::string message;

  // "file:line:column: message"
  std::string to_string() const;
};

struct ScenarioParse {
  std::optional<Scenario> scenario;  // set only when there are no errors
  std::vector<ScenarioError> errors;
};

// Parses scenario YAML; `file_name` is used in error messages. Reports every error it finds.
ScenarioParse parse_scenario(std::string_view yaml, const std::string& file_name);
ScenarioParse load_scenario(const std::filesystem::path& path);

}  // namespace homesafe::sim
