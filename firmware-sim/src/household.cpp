// The household simulator: the installation, incidents (where they go, what they change, their
// ground truth) and the output files. The life model is in household_life.cpp, the devices in
// household_devices.cpp.

#include "homesafe/sim/household.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "homesafe/sim/runner.hpp"
#include "homesafe/sim/time.hpp"
#include "household_internal.hpp"

namespace homesafe::sim {
namespace {

using life::kDay;
using life::kHour;
using life::kMinute;

constexpr std::array kDevices{
    HouseholdDevice{"front-door", "contact", "门厅", false, true, 0},
    HouseholdDevice{"hall-motion", "motion", "门厅", false, false, 0},
    HouseholdDevice{"kitchen-motion", "motion", "厨房", false, false, 0},
    HouseholdDevice{"bathroom-motion", "motion", "卫生间", false, false, 0},
    HouseholdDevice{"bed-sensor", "occupancy", "卧室", false, false, 0},
    HouseholdDevice{"water-meter", "water_meter", "厨房", true, false, 0},
    HouseholdDevice{"kettle-plug", "plug", "厨房", true, false, 0},
    HouseholdDevice{"stove-plug", "plug", "厨房", true, false, 800},
    HouseholdDevice{"tv-plug", "plug", "客厅", true, false, 0},
    HouseholdDevice{"living-temp", "temperature", "客厅", false, false, 0},
    HouseholdDevice{"kitchen-smoke", "smoke", "厨房", false, false, 0},
    HouseholdDevice{"kitchen-gas", "gas", "厨房", true, false, 0},
    HouseholdDevice{"bedroom-sos", "call_button", "卧室", false, false, 0},
};

// Devices a device_dies incident picks from (not the alarms: their silence is another story).
constexpr std::array<std::string_view, 9> kMortalDevices{
    "hall-motion", "kitchen-motion", "bathroom-motion", "front-door", "bed-sensor",
    "water-meter", "kettle-plug",    "tv-plug",         "living-temp"};

constexpr std::array kIncidentTypes{IncidentType::fall,        IncidentType::stove,
                                    IncidentType::wander,      IncidentType::tap,
                                    IncidentType::device_dies, IncidentType::hospital};

constexpr std::array<std::string_view, 4> kPersonKinds{"no_water", "inactivity",
                                                       "routine_deviation", "night_door"};

constexpr std::int64_t kStoveMs = 3 * kHour;
constexpr std::int64_t kWanderMs = 2 * kHour;
constexpr std::int64_t kTapMs = 3 * kHour;
constexpr std::int64_t kHospitalMs = 7 * kDay;
constexpr double kStoveLeftOnW = 1500;
constexpr double kTapLitresPer30s = 2.0;  // 4 L/min

std::string iso(std::int64_t t) {
  return format_iso8601(t, kHouseholdUtcOffsetMinutes);
}

bool valid_household_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return false;
  }
  return true;
}

// What an incident changes after the timeline has been rendered.
struct Overlays {
  std::vector<std::pair<std::int64_t, std::int64_t>> falls;
  std::vector<std::pair<std::int64_t, std::int64_t>> stoves;
  std::vector<std::pair<std::int64_t, std::int64_t>> taps;
  std::vector<std::pair<std::string, std::int64_t>> deaths;
  std::vector<Message> acks;
};

struct Run {
  const HouseholdOptions& options;
  std::int64_t start;
  std::int64_t end;
  life::Timeline timeline;
  Overlays overlays;
  std::vector<Incident> incidents;
};

bool at_home(const life::Timeline& timeline, std::int64_t t) {
  const auto* activity = life::activity_at(timeline, t);
  return activity != nullptr && activity->room != life::Room::outside;
}

// Applies one incident to the timeline and overlays and records its ground truth.
void inject(Run& run, IncidentRequest request) {
  if (request.start_ms < run.start || request.start_ms >= run.end) {
    throw std::invalid_argument(fmt::format("{} incident at {} is outside the simulated days",
                                            to_string(request.type), iso(request.start_ms)));
  }
  Incident incident;
  incident.type = request.type;
  std::int64_t t = request.start_ms;
  auto until = [&](std::int64_t duration) { return std::min(t + duration, run.end); };
  switch (request.type) {
    case IncidentType::fall: {
      const auto* activity = life::activity_at(run.timeline, t);
      if (activity != nullptr && activity->room == life::Room::outside) {
        incident.note = fmt::format(
            "asked for {}, when the person was out: moved to 5 minutes "
            "after coming home",
            iso(t));
        t = std::min(activity->end + 5 * kMinute, run.end - kMinute);
        activity = life::activity_at(run.timeline, t);
      }
      incident.end_ms = until(run.options.fall_ms);
      life::Activity fallen;
      fallen.type = life::ActivityType::fallen;
      fallen.room = activity != nullptr ? activity->room : life::Room::living;
      life::cut(run.timeline, t, incident.end_ms, fallen);
      run.overlays.falls.emplace_back(t, incident.end_ms);
      incident.detected_by = {"inactivity", "routine_deviation", "no_water"};
      break;
    }
    case IncidentType::stove:
      incident.end_ms = until(kStoveMs);
      run.overlays.stoves.emplace_back(t, incident.end_ms);
      incident.detected_by = {"power_running"};
      break;
    case IncidentType::wander: {
      incident.end_ms = until(kWanderMs);
      life::Activity out;
      out.type = life::ActivityType::outing;
      out.room = life::Room::outside;
      life::cut(run.timeline, t, incident.end_ms, out);
      incident.detected_by = {"night_door"};
      break;
    }
    case IncidentType::tap:
      incident.end_ms = until(kTapMs);
      run.overlays.taps.emplace_back(t, incident.end_ms);
      incident.detected_by = {"water_running"};
      break;
    case IncidentType::device_dies: {
      if (request.device.empty()) request.device = "hall-motion";
      if (find_household_device(request.device) == nullptr) {
        throw std::invalid_argument(
            fmt::format("device_dies: no device '{}' in the household", request.device));
      }
      incident.end_ms = run.end;
      incident.device = request.device;
      run.overlays.deaths.emplace_back(request.device, t);
      incident.detected_by = {"device_offline"};
      break;
    }
    case IncidentType::hospital: {
      incident.end_ms = until(kHospitalMs);
      life::Activity away;
      away.type = life::ActivityType::away;
      away.room = life::Room::outside;
      life::cut(run.timeline, t, incident.end_ms, away);
      nlohmann::ordered_json ack;
      ack["action"] = "away";
      ack["until"] = iso(incident.end_ms);
      ack["by"] = "li";
      ack["note"] = "住院";
      run.overlays.acks.push_back(
          {t, fmt::format("homesafe/{}/ack", run.options.household), ack.dump(), false});
      incident.expect_none.assign(kPersonKinds.begin(), kPersonKinds.end());
      break;
    }
  }
  incident.start_ms = t;
  run.incidents.push_back(std::move(incident));
}

// The time an incident keeps the household busy, for keeping random incidents apart.
std::pair<std::int64_t, std::int64_t> busy_window(IncidentType type, std::int64_t start,
                                                  std::int64_t fall_ms) {
  constexpr std::int64_t kMargin = 6 * kHour;
  switch (type) {
    case IncidentType::fall:
      return {start - kMargin, start + fall_ms + kMargin};
    case IncidentType::stove:
      return {start - kMargin, start + kStoveMs + kMargin};
    case IncidentType::wander:
      return {start - kMargin, start + kWanderMs + kMargin};
    case IncidentType::tap:
      return {start - kMargin, start + kTapMs + kMargin};
    case IncidentType::device_dies:
      return {start - kMargin, start + 26 * kHour + kMargin};
    case IncidentType::hospital:
      return {start - kMargin, start + kHospitalMs + kDay};
  }
  return {start, start};
}

// A candidate time for `type`, or std::nullopt when the run is too short for it.
std::optional<IncidentRequest> propose(const Run& run, PortableRng& rng, IncidentType type) {
  const int days = run.options.days;
  auto local = [&](std::int64_t day, double minute) {
    return run.start + day * kDay + std::llround(minute * 60) * 1000;
  };
  IncidentRequest request;
  request.type = type;
  switch (type) {
    case IncidentType::fall: {
      // After two weeks of history, 07:00-20:00, with its 36 h inside the run when possible.
      const std::int64_t low = days >= 17 ? 15 : days / 2;
      const std::int64_t high = days >= 17 ? days - 2 : days - 1;
      request.start_ms = local(rng.uniform_int(low, high), rng.uniform(7 * 60, 20 * 60));
      break;
    }
    case IncidentType::stove:
      request.start_ms = local(rng.uniform_int(0, days - 1), rng.uniform(8 * 60, 19 * 60));
      break;
    case IncidentType::wander:
      if (days < 2) return std::nullopt;
      request.start_ms = local(rng.uniform_int(1, days - 1), rng.uniform(23 * 60, 28 * 60));
      break;
    case IncidentType::tap:
      request.start_ms = local(rng.uniform_int(0, days - 1), rng.uniform(7 * 60, 21 * 60));
      break;
    case IncidentType::device_dies: {
      if (days < 3) return std::nullopt;
      const std::int64_t latest = (days - 1) * kDay - 27 * kHour;
      request.start_ms = run.start + kDay + rng.uniform_int(0, latest / 1000) * 1000;
      request.device = kMortalDevices[static_cast<std::size_t>(
          rng.uniform_int(0, static_cast<std::int64_t>(kMortalDevices.size()) - 1))];
      break;
    }
    case IncidentType::hospital:
      if (days < 9) return std::nullopt;
      request.start_ms = local(rng.uniform_int(1, days - 8), rng.uniform(9 * 60, 16 * 60));
      break;
  }
  return request;
}

bool fits(const Run& run, const IncidentRequest& request,
          const std::vector<std::pair<std::int64_t, std::int64_t>>& busy) {
  if (request.start_ms < run.start || request.start_ms >= run.end) return false;
  const auto window = busy_window(request.type, request.start_ms, run.options.fall_ms);
  for (const auto& [from, to] : busy) {
    if (window.first < to && from < window.second) return false;
  }
  switch (request.type) {
    case IncidentType::wander: {
      const auto* activity = life::activity_at(run.timeline, request.start_ms);
      return activity != nullptr && activity->type == life::ActivityType::sleep &&
             request.start_ms + kWanderMs < run.end;
    }
    case IncidentType::stove:
    case IncidentType::tap:
      return at_home(run.timeline, request.start_ms) && request.start_ms + 3 * kHour < run.end;
    case IncidentType::fall:
    case IncidentType::hospital:
      return at_home(run.timeline, request.start_ms);
    case IncidentType::device_dies:
      return true;
  }
  return true;
}

// `count` incidents placed by the seed: a fall first, then other types, apart from each other.
std::vector<IncidentRequest> random_requests(const Run& run, PortableRng& rng, int count) {
  std::vector<std::pair<std::int64_t, std::int64_t>> busy;
  for (const auto& incident : run.incidents) {
    busy.push_back(busy_window(incident.type, incident.start_ms, run.options.fall_ms));
  }
  std::vector<IncidentRequest> requests;
  for (int k = 0; k < count; ++k) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      const IncidentType type =
          k == 0 ? IncidentType::fall
                 : kIncidentTypes[static_cast<std::size_t>(rng.uniform_int(1, 5))];
      auto request = propose(run, rng, type);
      if (!request || !fits(run, *request, busy)) continue;
      busy.push_back(busy_window(request->type, request->start_ms, run.options.fall_ms));
      requests.push_back(*request);
      break;
    }
  }
  return requests;
}

// What incidents change in what the devices sense.
void apply_overlays(const Run& run, std::vector<life::Sensed>& sensed, std::uint64_t seed) {
  using life::Sensed;
  using life::Target;
  const auto& overlays = run.overlays;
  // A fall: nothing the person does between its start and end.
  for (const auto& [from, to] : overlays.falls) {
    std::erase_if(sensed, [&](const Sensed& s) { return s.t > from && s.t < to; });
    // Found: the television, left as it was, is switched off unless it is watched now.
    const std::int64_t off = to + 2 * kMinute;
    const auto* next = life::activity_at(run.timeline, off);
    if (off < run.end && (next == nullptr || next->type != life::ActivityType::tv)) {
      sensed.push_back({off, Target::tv, 1});
    }
  }
  PortableRng rng(mix_seed(seed, 3));
  for (const auto& [from, to] : overlays.stoves) {
    // The hob is left on at about 1500 W; whatever cooking was planned then is absorbed by it.
    double planned = 0;
    for (const auto& s : sensed) {
      if (s.target == Target::stove && s.t <= to) planned = s.value;
    }
    std::erase_if(sensed, [&](const Sensed& s) {
      return s.target == Target::stove && s.t >= from && s.t <= to;
    });
    for (std::int64_t t = from; t < to; t += rng.uniform_int(5, 10) * kMinute) {
      sensed.push_back({t, Target::stove, std::round(rng.uniform(1480, 1530))});
    }
    sensed.push_back({to, Target::stove, planned});
  }
  for (const auto& [from, to] : overlays.taps) {
    for (std::int64_t t = from; t < to; t += 30 * life::kSecond) {
      sensed.push_back({t, Target::water, kTapLitresPer30s});
    }
  }
  std::stable_sort(sensed.begin(), sensed.end(),
                   [](const Sensed& a, const Sensed& b) { return a.t < b.t; });
}

}  // namespace

std::span<const IncidentType> all_incident_types() {
  return kIncidentTypes;
}

std::string_view to_string(IncidentType type) {
  switch (type) {
    case IncidentType::fall:
      return "fall";
    case IncidentType::stove:
      return "stove";
    case IncidentType::wander:
      return "wander";
    case IncidentType::tap:
      return "tap";
    case IncidentType::device_dies:
      return "device_dies";
    case IncidentType::hospital:
      return "hospital";
  }
  return "?";
}

std::optional<IncidentType> parse_incident_type(std::string_view name) {
  for (auto type : kIncidentTypes) {
    if (to_string(type) == name) return type;
  }
  return std::nullopt;
}

std::optional<IncidentRequest> parse_incident_request(std::string_view text, std::string& error) {
  const auto at = text.find('@');
  if (at == std::string_view::npos) {
    error = fmt::format("incident '{}' needs TYPE@TIME, e.g. fall@2026-11-18T09:30", text);
    return std::nullopt;
  }
  std::string_view name = text.substr(0, at);
  std::string device;
  if (const auto colon = name.find(':'); colon != std::string_view::npos) {
    device = name.substr(colon + 1);
    name = name.substr(0, colon);
  }
  const auto type = parse_incident_type(name);
  if (!type) {
    error = fmt::format(
        "unknown incident type '{}' (expected fall, stove, wander, tap, device_dies, hospital)",
        name);
    return std::nullopt;
  }
  if (!device.empty() && *type != IncidentType::device_dies) {
    error = fmt::format("only device_dies takes a device ('{}')", text);
    return std::nullopt;
  }
  if (!device.empty() && find_household_device(device) == nullptr) {
    error = fmt::format("device_dies: no device '{}' in the household", device);
    return std::nullopt;
  }
  std::string when(text.substr(at + 1));
  auto parsed = parse_iso8601(when);
  if (!parsed && when.size() == 16) parsed = parse_iso8601(when + ":00+08:00");
  if (!parsed && when.size() == 19) parsed = parse_iso8601(when + "+08:00");
  if (!parsed) {
    error = fmt::format("incident time '{}' is not YYYY-MM-DDTHH:MM[:SS][+08:00]", when);
    return std::nullopt;
  }
  return IncidentRequest{*type, parsed->unix_ms, device};
}

std::span<const std::string_view> person_alert_kinds() {
  return kPersonKinds;
}

std::span<const HouseholdDevice> household_devices() {
  return kDevices;
}

const HouseholdDevice* find_household_device(std::string_view id) {
  for (const auto& device : kDevices) {
    if (device.id == id) return &device;
  }
  return nullptr;
}

HouseholdRun simulate_household(const HouseholdOptions& options) {
  if (options.days < 1 || options.days > 3660) {
    throw std::invalid_argument("days must be between 1 and 3660");
  }
  if (!valid_household_id(options.household)) {
    throw std::invalid_argument(fmt::format(
        "household id '{}' must be 1 to 32 characters from a-z, 0-9, _ and -", options.household));
  }
  if (options.fall_ms < kMinute) throw std::invalid_argument("a fall lasts at least a minute");
  if (options.random_incidents < 0) throw std::invalid_argument("negative incident count");

  PortableRng life_rng(mix_seed(options.seed, 1));
  const life::Profile profile = life::draw_profile(life_rng);
  Run run{options,
          options.start_ms,
          options.start_ms + options.days * kDay,
          life::plan_life(profile, life_rng, options.start_ms, options.days),
          {},
          {}};

  auto requests = options.incidents;
  std::stable_sort(requests.begin(), requests.end(),
                   [](const auto& a, const auto& b) { return a.start_ms < b.start_ms; });
  for (const auto& request : requests) inject(run, request);
  PortableRng incident_rng(mix_seed(options.seed, 2));
  for (const auto& request : random_requests(run, incident_rng, options.random_incidents)) {
    inject(run, request);
  }

  auto sensed = life::render(run.timeline);
  apply_overlays(run, sensed, options.seed);

  HouseholdRun result;
  result.start_ms = run.start;
  result.end_ms = run.end;
  auto messages =
      life::device_messages(options.household, profile, options.seed, run.start, run.end, sensed);
  for (const auto& [device, from] : run.overlays.deaths) {
    const std::string prefix = fmt::format("homesafe/{}/dev/{}/", options.household, device);
    std::erase_if(messages,
                  [&](const Message& m) { return m.ts_ms >= from && m.topic.starts_with(prefix); });
  }
  result.messages = std::move(run.overlays.acks);
  result.messages.insert(result.messages.end(), std::make_move_iterator(messages.begin()),
                         std::make_move_iterator(messages.end()));
  std::stable_sort(result.messages.begin(), result.messages.end(),
                   [](const Message& a, const Message& b) { return a.ts_ms < b.ts_ms; });
  result.incidents = std::move(run.incidents);
  std::stable_sort(result.incidents.begin(), result.incidents.end(),
                   [](const auto& a, const auto& b) { return a.start_ms < b.start_ms; });
  return result;
}

std::string hub_yaml(const HouseholdOptions& options) {
  const std::string& h = options.household;
  std::string yaml = fmt::format(
      "# Hub config of the simulated household {} (homesafe-sim household, seed {}).\n"
      "household: {{id: {}, name: \"模拟住户 {}\", timezone: Asia/Shanghai}}\n"
      "broker: {{url: \"tcp://127.0.0.1:1883\", client_id: homesafe-{}}}\n"
      "storage: {{path: \":memory:\"}}\n"
      "devices:\n",
      h, options.seed, h, h, h);
  for (const auto& device : kDevices) {
    yaml += fmt::format(
        "  - id: {}\n    kind: {}\n    format: native\n    topic: homesafe/{}/dev/{}\n"
        "    location: {}\n    power: {}\n",
        device.id, device.kind, h, device.id, device.location, device.mains ? "mains" : "battery");
    if (options.plain_config) continue;
    if (device.entrance) yaml += "    entrance: true\n";
    if (device.high_power_w > 0) yaml += fmt::format("    high_power_w: {}\n", device.high_power_w);
  }
  yaml +=
      "contacts:\n"
      "  - id: li\n    name: 李阿姨\n    role: caregiver\n    channels: [{type: mqtt}]\n"
      "  - id: township\n    name: 值班台\n    role: duty_desk\n    channels: [{type: mqtt}]\n";
  if (!options.plain_config) {
    // What the simulated devices are built for: battery sensors check in about hourly, mains
    // devices every 5 minutes.
    yaml += "rules:\n  device_silence: {battery: 25h, mains: 10m}\n";
  }
  return yaml;
}

std::string incidents_json(const HouseholdOptions& options, const HouseholdRun& run) {
  nlohmann::ordered_json root;
  root["household"] = options.household;
  root["seed"] = options.seed;
  root["start"] = iso(run.start_ms);
  root["end"] = iso(run.end_ms);
  root["incidents"] = nlohmann::ordered_json::array();
  for (const auto& incident : run.incidents) {
    nlohmann::ordered_json item;
    item["type"] = to_string(incident.type);
    item["start"] = iso(incident.start_ms);
    item["end"] = iso(incident.end_ms);
    item["detected_by"] = incident.detected_by;
    if (!incident.expect_none.empty()) item["expect_none"] = incident.expect_none;
    if (!incident.device.empty()) item["device"] = incident.device;
    if (!incident.note.empty()) item["note"] = incident.note;
    root["incidents"].push_back(std::move(item));
  }
  return root.dump(2) + "\n";
}

void write_household(const HouseholdOptions& options, const HouseholdRun& run,
                     const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  auto write = [&](const std::string& name, auto&& fill) {
    const auto path = dir / name;
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (file) fill(file);
    file.close();
    if (!file) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
  };
  write("messages.jsonl", [&](std::ostream& out) {
    std::string buffer;
    for (const auto& message : run.messages) {
      buffer += to_jsonl(message, kHouseholdUtcOffsetMinutes);
      buffer += '\n';
      if (buffer.size() > (1U << 20)) {
        out << buffer;
        buffer.clear();
      }
    }
    out << buffer;
  });
  write("hub.yaml", [&](std::ostream& out) { out << hub_yaml(options); });
  write("incidents.json", [&](std::ostream& out) { out << incidents_json(options, run); });
}

}  // namespace homesafe::sim
