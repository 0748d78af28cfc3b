#include "homesafe/sim/scenario.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace homesafe::sim {
namespace {

constexpr std::string_view kDurationHint = "expected e.g. 0s, 90s, 5m, 2h, 1d, 1h30m";

bool valid_topic_segment(std::string_view text) {
  return !text.empty() && text.find_first_of("/+#") == std::string_view::npos;
}

bool valid_topic(std::string_view text) {
  return !text.empty() && text.find_first_of("+#") == std::string_view::npos && text.back() != '/';
}

// A YAML scalar as JSON: quoted scalars are strings; plain ones are booleans, null, integers or
// floats when they read as such, else strings.
nlohmann::json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text == "null" || text == "Null" || text == "NULL" || text == "~") return nullptr;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  std::int64_t integer = 0;
  if (auto [ptr, ec] = std::from_chars(begin, end, integer); ec == std::errc{} && ptr == end) {
    return integer;
  }
  double number = 0;
  if (auto [ptr, ec] = std::from_chars(begin, end, number);
      ec == std::errc{} && ptr == end && std::isfinite(number)) {
    return number;
  }
  return text;
}

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  ScenarioParse parse(std::string_view yaml);

 private:
  void error(const YAML::Mark& mark, std::string message) {
    ScenarioError item{file_, 1, 1, std::move(message)};
    if (mark.line >= 0 && mark.column >= 0) {
      item.line = mark.line + 1;
      item.column = mark.column + 1;
    }
    errors_.push_back(std::move(item));
  }

  // Checks that `node` is a map whose keys are scalars, each at most once, and all in `known`
  // (unless `known` is empty). Returns false if `node` is not a map.
  bool check_map(const YAML::Node& node, std::string_view what,
                 std::initializer_list<std::string_view> known, bool allow_others = false);
  std::optional<std::string> text(const YAML::Node& node, std::string_view key);
  std::optional<Millis> duration(const YAML::Node& node, std::string_view key);
  void parse_device(const YAML::Node& node, Scenario& scenario);
  void parse_event(const YAML::Node& node, Scenario& scenario);
  void parse_overrides(const YAML::Node& node, EventArgs& args);

  std::string file_;
  std::vector<ScenarioError> errors_;
  std::set<std::string, std::less<>> broken_devices_;
};

bool Parser::check_map(const YAML::Node& node, std::string_view what,
                       std::initializer_list<std::string_view> known, bool allow_others) {
  if (!node.IsMap()) {
    error(node.Mark(), fmt::format("{} must be a map", what));
    return false;
  }
  std::set<std::string, std::less<>> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      error(entry.first.Mark(), "keys must be plain names");
      continue;
    }
    const std::string& key = entry.first.Scalar();
    if (!seen.insert(key).second) error(entry.first.Mark(), fmt::format("duplicate key '{}'", key));
    if (!allow_others && std::find(known.begin(), known.end(), key) == known.end()) {
      error(entry.first.Mark(), fmt::format("unknown key '{}' in {}", key, what));
    }
  }
  return true;
}

std::optional<std::string> Parser::text(const YAML::Node& node, std::string_view key) {
  if (!node.IsScalar() || node.Scalar().empty()) {
    error(node.Mark(), fmt::format("`{}` must be a non-empty string", key));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<Millis> Parser::duration(const YAML::Node& node, std::string_view key) {
  if (node.IsScalar()) {
    if (auto value = parse_duration(node.Scalar())) return value;
    error(node.Mark(),
          fmt::format("bad duration '{}' for `{}` ({})", node.Scalar(), key, kDurationHint));
  } else {
    error(node.Mark(), fmt::format("`{}` must be a duration ({})", key, kDurationHint));
  }
  return std::nullopt;
}

ScenarioParse Parser::parse(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& failure) {
    error(failure.mark, failure.msg);
    return {std::nullopt, std::move(errors_)};
  }

  Scenario scenario;
  if (!check_map(root, "the scenario",
                 {"household", "start", "end", "devices", "events", "description"})) {
    return {std::nullopt, std::move(errors_)};
  }
  if (const auto node = root["household"]) {
    if (auto household = text(node, "household")) {
      if (valid_topic_segment(*household)) {
        scenario.household = *household;
      } else {
        error(node.Mark(), "`household` must not contain '/', '+' or '#'");
      }
    }
  }
  if (const auto node = root["start"]) {
    if (auto value = text(node, "start")) {
      scenario.start = parse_iso8601(*value);
      if (!scenario.start) {
        error(node.Mark(), fmt::format("bad start time '{}' (expected ISO 8601 with a UTC offset, "
                                       "e.g. 2026-11-01T07:00:00+08:00)",
                                       *value));
      }
    }
  }
  if (const auto node = root["end"]) scenario.end = duration(node, "end");

  const auto devices = root["devices"];
  if (!devices) {
    error(root.Mark(), "the scenario needs `devices`");
  } else if (!devices.IsSequence()) {
    error(devices.Mark(), "`devices` must be a list");
  } else {
    for (const auto& device : devices) parse_device(device, scenario);
  }

  const auto events = root["events"];
  if (events && !events.IsSequence()) {
    error(events.Mark(), "`events` must be a list");
  } else if (events) {
    for (const auto& event : events) parse_event(event, scenario);
  }

  if (!errors_.empty()) {
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    return {std::nullopt, std::move(errors_)};
  }
  return {std::move(scenario), {}};
}

void Parser::parse_device(const YAML::Node& node, Scenario& scenario) {
  if (!check_map(node, "a device", {"id", "type", "topic", "power", "report_every"})) return;
  ScenarioDevice device;
  bool ok = true;

  const auto id_node = node["id"];
  std::optional<std::string> id;
  if (!id_node) {
    error(node.Mark(), "a device needs `id`");
  } else if ((id = text(id_node, "id"))) {
    if (!valid_topic_segment(*id)) {
      error(id_node.Mark(), "`id` must not contain '/', '+' or '#'");
      id.reset();
    } else if (scenario.find_device(*id) != nullptr || broken_devices_.contains(*id)) {
      error(id_node.Mark(), fmt::format("duplicate device id '{}'", *id));
      id.reset();
    }
  }
  ok = ok && id.has_value();
  if (id) device.id = *id;

  const auto type_node = node["type"];
  if (!type_node) {
    error(node.Mark(), "a device needs `type`");
    ok = false;
  } else if (auto name = text(type_node, "type")) {
    if (auto type = parse_device_type(*name)) {
      device.type = *type;
    } else {
      std::string known;
      for (auto candidate : all_device_types()) {
        known += known.empty() ? "" : ", ";
        known += to_string(candidate);
      }
      error(type_node.Mark(),
            fmt::format("unknown device type '{}' (expected one of: {})", *name, known));
      ok = false;
    }
  } else {
    ok = false;
  }

  device.power = default_power(device.type);
  if (const auto power_node = node["power"]) {
    auto name = text(power_node, "power");
    auto power = name ? parse_power_source(*name) : std::nullopt;
    if (power) {
      device.power = *power;
    } else {
      if (name)
        error(power_node.Mark(), fmt::format("unknown power '{}' (battery | mains)", *name));
      ok = false;
    }
  }

  if (const auto topic_node = node["topic"]) {
    auto topic = text(topic_node, "topic");
    if (topic && valid_topic(*topic)) {
      device.topic = *topic;
    } else {
      if (topic) error(topic_node.Mark(), "`topic` must not contain '+' or '#' nor end with '/'");
      ok = false;
    }
  } else if (!scenario.household.empty() && id) {
    device.topic = fmt::format("homesafe/{}/dev/{}", scenario.household, *id);
  } else if (id) {
    error(node.Mark(), fmt::format("device '{}' needs `topic` (or set `household`)", *id));
    ok = false;
  }

  if (const auto every = node["report_every"]) {
    device.report_every = duration(every, "report_every");
    if (device.report_every && device.report_every->count() == 0) {
      error(every.Mark(), "`report_every` must be more than 0s");
      device.report_every.reset();
    }
    ok = ok && device.report_every.has_value();
  }

  if (ok) {
    scenario.devices.push_back(std::move(device));
  } else if (id) {
    broken_devices_.insert(*id);  // its events are not checked against a half-read device
  }
}

void Parser::parse_overrides(const YAML::Node& node, EventArgs& args) {
  if (!check_map(node, "`set`", {}, /*allow_others=*/true)) return;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) continue;
    if (!entry.second.IsScalar() && !entry.second.IsNull()) {
      error(entry.second.Mark(),
            fmt::format("`set` value for '{}' must be a scalar", entry.first.Scalar()));
      continue;
    }
    args.overrides[entry.first.Scalar()] =
        entry.second.IsNull() ? nlohmann::json(nullptr) : scalar_to_json(entry.second);
  }
}

void Parser::parse_event(const YAML::Node& node, Scenario& scenario) {
  if (!check_map(node, "an event", {}, /*allow_others=*/true)) return;
  ScenarioEvent event;
  bool ok = true;

  const auto at = node["at"];
  if (!at) {
    error(node.Mark(), "an event needs `at`");
    ok = false;
  } else if (auto value = duration(at, "at")) {
    event.at = *value;
  } else {
    ok = false;
  }

  const ScenarioDevice* device = nullptr;
  const auto device_node = node["device"];
  if (!device_node) {
    error(node.Mark(), "an event needs `device`");
    ok = false;
  } else if (auto id = text(device_node, "device")) {
    device = scenario.find_device(*id);
    if (broken_devices_.contains(*id)) {
      ok = false;
    } else if (device == nullptr) {
      error(device_node.Mark(), fmt::format("unknown device '{}'", *id));
      ok = false;
    } else {
      event.device = *id;
    }
  } else {
    ok = false;
  }

  const EventSpec* spec = nullptr;
  const auto event_node = node["event"];
  if (!event_node) {
    error(node.Mark(), "an event needs `event`");
    ok = false;
  } else if (auto name = text(event_node, "event")) {
    event.event = *name;
    if (device != nullptr) {
      spec = find_event(device->type, device->power, *name);
      if (spec == nullptr) {
        error(event_node.Mark(),
              validate_event(device->type, device->power, *name, EventArgs{}).front());
        ok = false;
      }
    }
  } else {
    ok = false;
  }

  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) continue;
    const std::string& key = entry.first.Scalar();
    if (key == "at" || key == "device" || key == "event") continue;
    if (key == "set") {
      parse_overrides(entry.second, event.args);
      if (spec != nullptr && !spec->publishes_state) {
        error(entry.first.Mark(),
              fmt::format("event '{}' publishes no state to `set`", spec->name));
        ok = false;
      }
      continue;
    }
    const ParamSpec* param = spec != nullptr ? find_param(*spec, key) : nullptr;
    if (param == nullptr) {
      if (!is_any_param(key)) {
        error(entry.first.Mark(), fmt::format("unknown key '{}' in an event", key));
        ok = false;
      } else if (spec != nullptr) {
        error(entry.first.Mark(), fmt::format("event '{}' of {} takes no `{}`", spec->name,
                                              to_string(device->type), key));
        ok = false;
      }
      continue;
    }
    if (!entry.second.IsScalar()) {
      error(entry.second.Mark(), fmt::format("`{}` must be a scalar", key));
      ok = false;
      continue;
    }
    auto value = scalar_to_json(entry.second);
    if (auto why = check_param(*param, value)) {
      error(entry.second.Mark(), *why);
      ok = false;
      continue;
    }
    event.args.params[key] = std::move(value);
  }
  if (spec != nullptr) {
    for (const auto& param : spec->params) {
      if (param.required && !event.args.params.contains(param.name) &&
          !node[std::string(param.name)]) {
        error(node.Mark(), fmt::format("event '{}' needs `{}`", spec->name, param.name));
        ok = false;
      }
    }
  }
  if (ok) scenario.events.push_back(std::move(event));
}

}  // namespace

const ScenarioDevice* Scenario::find_device(std::string_view id) const {
  for (const auto& device : devices) {
    if (device.id == id) return &device;
  }
  return nullptr;
}

std::string ScenarioError::to_string() const {
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

ScenarioParse parse_scenario(std::string_view yaml, const std::string& file_name) {
  return Parser(file_name).parse(yaml);
}

ScenarioParse load_scenario(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return {std::nullopt, {{path.string(), 1, 1, "cannot read the scenario file"}}};
  }
  std::ostringstream content;
  content << in.rdbuf();
  return parse_scenario(content.str(), path.string());
}

}  // namespace homesafe::sim
